"""Mixtral against transformers, tensor by tensor: the preset, every class, random configs with 1-4
experts, active parameters by hand, and checkpoints in both expert layouts."""

from __future__ import annotations

import copy
import dataclasses
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.anatomy import Anatomy
from paramscope.errors import ConfigError
from paramscope.families import llama, mixtral
from paramscope.families.base import Group, Role, Sub
from paramscope.reconcile import reconcile

from . import exactness, oracle

PRESET = mixtral.PRESETS[0]


def preset_config() -> dict[str, Any]:
    return copy.deepcopy(dict(PRESET.config))


def test_preset() -> None:
    exactness.assert_matches(preset_config(), "MixtralForCausalLM")


def test_mixtral_8x7b_by_hand() -> None:
    V, H, I, L, E, k, K, D = 32000, 4096, 14336, 32, 8, 2, 8, 128
    attention = 2 * H * H + 2 * H * K * D
    experts = E * 3 * H * I  # gate_up_proj E·2I·H and down_proj E·H·I
    router = E * H
    per_layer = attention + experts + router + 2 * H
    total = V * H + L * per_layer + H + V * H
    active = total - L * (E - k) * 3 * H * I
    a = paramscope.inspect("mistralai/Mixtral-8x7B-v0.1")
    assert a.parameters == total == 46_702_792_704  # "46.7B"
    assert a.totals["active_parameters"] == active == 12_879_925_248  # "12.9B active"
    assert a.ffn_split == {"dense": 0, "experts": L * experts, "router": L * router}
    assert round(a.parameters / 1e9, 1) == 46.7 and round(active / 1e9, 1) == 12.9
    assert PRESET.published == "46.7B"


@pytest.mark.parametrize("head", llama.HEADS)
def test_every_class(head: str) -> None:
    cfg = {"model_type": "mixtral", "vocab_size": 50, "hidden_size": 16, "intermediate_size": 24,
           "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 3,
           "num_labels": 4}
    exactness.assert_matches(cfg, "Mixtral" + head)


def test_names_groups_and_roles() -> None:
    assert mixtral.canonical("model.layers.3.block_sparse_moe.experts.7.w1.weight") \
        == "decoder.layers.3.mlp.experts.7.w1.weight"
    assert mixtral.canonical("model.layers.3.mlp.experts.gate_up_proj") == "decoder.layers.3.mlp.experts.gate_up_proj"
    a = paramscope.inspect("mixtral-8x7b")
    gate = a.placements["model.layers.0.mlp.gate.weight"]
    experts = a.placements["model.layers.0.mlp.experts.down_proj"]
    assert (gate.group, gate.role, gate.sub) == (Group.DECODER, Role.FFN, Sub.ROUTER)
    assert (experts.group, experts.role, experts.sub) == (Group.DECODER, Role.FFN, Sub.EXPERTS)
    assert a.total_formula.render(order=a.family.order) == "VH + L·(3EHI + 2HKD + EH + 2H² + 2H) + H + VH"
    assert any("active parameters per token" in n for n in a.formula_notes)


def test_what_if_experts() -> None:
    a = paramscope.inspect("mixtral-8x7b", overrides={"num_experts_per_tok": 1, "num_local_experts": 4,
                                                      "num_hidden_layers": 2})
    truth = oracle.build(preset_config() | {"num_local_experts": 4, "num_hidden_layers": 2}, "MixtralForCausalLM")
    assert a.parameters == truth.total
    assert a.totals["active_parameters"] == a.parameters - 2 * 3 * 3 * 4096 * 14336


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 4))
    heads = kv * draw(st.integers(1, 3))
    experts = draw(st.integers(1, 4))
    cfg: dict[str, Any] = {
        "model_type": "mixtral",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": heads * draw(st.sampled_from([1, 2, 3, 4, 6, 8, 10, 12])),
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 48)),
        "num_local_experts": experts,
        "num_experts_per_tok": draw(st.integers(1, experts)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    if draw(st.booleans()):
        cfg["head_dim"] = 2 * draw(st.integers(1, 8))
    if draw(st.booleans()):
        cfg["num_experts"] = cfg.pop("num_local_experts")  # MixtralConfig.attribute_map
    if draw(st.booleans()):
        cfg["num_labels"] = draw(st.integers(1, 7))
    return cfg, "Mixtral" + draw(st.sampled_from(llama.HEADS))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)
    a = paramscope.inspect(cfg, model_class=model_class)
    e = cfg.get("num_local_experts", cfg.get("num_experts"))
    k, h, i, n = cfg["num_experts_per_tok"], cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
    if n:
        assert a.ffn_split["experts"] == n * e * 3 * h * i and a.ffn_split["router"] == n * e * h
        assert a.totals["active_parameters"] == a.parameters - n * (e - k) * 3 * h * i


def test_refusals() -> None:
    base = {"model_type": "mixtral", "vocab_size": 50, "hidden_size": 16, "intermediate_size": 8,
            "num_hidden_layers": 1, "num_attention_heads": 4}
    with pytest.raises(ConfigError, match="num_experts_per_tok 5 is more than num_local_experts 3"):
        paramscope.inspect(base | {"num_local_experts": 3, "num_experts_per_tok": 5})
    with pytest.raises(ConfigError, match="num_local_experts must be a positive integer, got 0"):
        paramscope.inspect(base | {"num_local_experts": 0})
    with pytest.raises(ConfigError, match="num_key_value_heads is null, which MixtralConfig refuses"):
        paramscope.inspect(base | {"num_key_value_heads": None})
    # head_dim 0 or null: the modules use hidden_size // num_attention_heads.
    exactness.assert_matches(base | {"head_dim": 0}, "MixtralModel")


# -- checkpoints -------------------------------------------------------------------------------------

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "num_local_experts": 4, "num_experts_per_tok": 2}


def save(folder: Path, how: str, model_class: str = "MixtralForCausalLM", **extra: Any):
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.MixtralConfig(**TINY, **extra))
    if how == "safetensors":
        model.save_pretrained(folder)  # converts back to block_sparse_moe.experts.J.w1/w2/w3
    else:
        model.config.architectures = [model_class]
        model.config.save_pretrained(folder)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")  # the fused module layout
    return model


def active_by_hand(model: Any) -> int:
    n = sum(p.numel() for p in model.parameters())
    return n - TINY["num_hidden_layers"] * (TINY["num_local_experts"] - TINY["num_experts_per_tok"]) * 3 * 32 * 48


@pytest.mark.parametrize("how", ["safetensors", "bin"])
def test_checkpoint_counts_and_classification(tmp_path: Path, how: str) -> None:
    model = save(tmp_path, how)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == "MixtralForCausalLM" and a.inventory.family == "mixtral"
    assert a.totals["unclassified"] == 0
    assert a.ffn_split["experts"] == 2 * 4 * 3 * 32 * 48 and a.ffn_split["router"] == 2 * 4 * 32
    assert a.totals["active_parameters"] == active_by_hand(model)
    names = {t.name for t in a.inventory.tensors}
    if how == "safetensors":
        assert "model.layers.0.block_sparse_moe.experts.3.w2.weight" in names
        # Each layer's experts collapse into one run counted by E, like the layers by L.
        layers = a.tree.children[1].children[0]
        mlp = next(c for c in layers.children if c.name == "mlp")
        run = next(c for c in mlp.children if c.first is not None)
        assert (run.repeat, run.numel_each, [c.name for c in run.children]) == (4, 3 * 32 * 48, ["w1", "w2", "w3"])
    else:
        assert "model.layers.0.mlp.experts.gate_up_proj" in names
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.model_class == "MixtralForCausalLM" and b.totals["unclassified"] == 0
    cfg = b.inventory.config
    assert (cfg["num_local_experts"], cfg["intermediate_size"], cfg["num_experts_per_tok"]) == (4, 48, 2)
    assert b.totals["active_parameters"] == active_by_hand(model)


def test_fused_checkpoint_reconciles(tmp_path: Path) -> None:
    save(tmp_path, "bin", "MixtralForSequenceClassification", num_labels=3)
    a = paramscope.inspect(tmp_path)
    assert a.reconciliation is not None and a.reconciliation.agrees and not a.reconciliation.findings
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.model_class == "MixtralForSequenceClassification" and b.inventory.config["num_labels"] == 3
    assert b.reconciliation is not None and b.reconciliation.agrees


def test_per_expert_checkpoint_reconciles_in_the_model_layout(tmp_path: Path) -> None:
    """save_pretrained writes one w1/w2/w3 per expert; merged as transformers merges them on load, they are
    exactly the formula's fused tensors."""
    save(tmp_path, "safetensors")
    a = paramscope.inspect(tmp_path)
    merged = mixtral.to_model_layout(list(a.inventory.tensors))
    assert [(t.name, t.shape) for t in merged if ".experts." in t.name] == [
        (f"model.layers.{i}.mlp.experts.{w}", shape) for i in range(2)
        for w, shape in (("gate_up_proj", (4, 96, 32)), ("down_proj", (4, 32, 48)))]
    as_loaded = Anatomy(dataclasses.replace(a.inventory, tensors=tuple(merged)), a.family)
    assert as_loaded.parameters == a.parameters
    assert a.expected is not None
    r = reconcile(a.expected, as_loaded)
    assert r.agrees and not r.findings and r.matched == 21


def test_per_expert_checkpoint_reconciles(tmp_path: Path) -> None:
    save(tmp_path, "safetensors")
    a = paramscope.inspect(tmp_path)
    assert a.reconciliation is not None and a.reconciliation.agrees


def test_rendered() -> None:
    from paramscope import cli

    out = cli.run(["mixtral-8x7b", "--color", "never"])
    assert "active per token 12,879,925,248 (12.9B; experts 45,097,156,608, router 1,048,576)" in out
    formula = cli.run(["show", "mixtral-8x7b", "--formula", "--color", "never"])
    assert "E = num_local_experts = 8  (experts per layer)" in formula and "= 46,702,792,704" in formula
