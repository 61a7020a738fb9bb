"""Qwen3 against transformers, tensor by tensor: every preset in every class, random configs over the
builder's options, refusals, and checkpoints saved by transformers read back with and without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError, UnknownArchitecture
from paramscope.families import llama, qwen3
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in qwen3.PRESETS}
CLASSES = qwen3.QWEN3.classes


def config_of(name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(PRESETS[name].config))


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(config_of(name), model_class)


def test_published_figures() -> None:
    small, large = paramscope.inspect("Qwen/Qwen3-0.6B"), paramscope.inspect("qwen3-8b")
    assert (small.parameters, large.parameters) == (596_049_920, 8_190_735_360)  # "0.6B", "8.2B"
    # Model cards: 0.44B non-embedding (tied lm_head); 6.95B for the 8B, which leaves out lm_head as well.
    assert small.totals["non_embedding_parameters"] == 440_467_456
    assert large.totals["non_embedding_parameters"] - 151_936 * 4096 == 6_946_075_648
    assert small.totals["tied_aliases"] == 151_936 * 1024
    for a, preset in ((small, PRESETS["Qwen/Qwen3-0.6B"]), (large, PRESETS["Qwen/Qwen3-8B"])):
        stated = float(preset.published[:-1]) * 1e9
        assert abs(a.parameters - stated) / stated < 0.01


def test_hand_computed_qwen3_8b() -> None:
    V, H, I, L, A, K, D = 151_936, 4096, 12288, 36, 32, 8, 128
    attention = H * A * D + 2 * H * K * D + A * D * H + 2 * D  # q, k, v, o; q_norm and k_norm
    assert paramscope.inspect("Qwen/Qwen3-8B").parameters == 2 * V * H + L * (attention + 3 * H * I + 2 * H) + H


def test_names_roles_and_formula() -> None:
    a = paramscope.inspect("Qwen/Qwen3-0.6B")
    q_norm = a.placements["model.layers.3.self_attn.q_norm.weight"]
    assert (q_norm.group, q_norm.role) == (Group.DECODER, Role.NORM)
    assert a.placements["model.layers.0.self_attn.k_proj.weight"].role == Role.ATTENTION
    assert a.placements["model.layers.0.mlp.up_proj.weight"].role == Role.FFN
    assert a.total_formula.render(order=a.family.order) == "VH + L·(2HAD + 2HKD + 3HI + 2H + 2D) + H"
    assert any("q_norm and k_norm normalise each head's queries and keys" in n for n in a.formula_notes)
    assert a.inventory.family == "qwen3" and a.model_class == "Qwen3ForCausalLM"


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 4))
    heads = kv * draw(st.integers(1, 4))  # MQA (kv 1), GQA, MHA
    cfg: dict[str, Any] = {
        "model_type": "qwen3",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": draw(st.integers(1, 48)),  # no multiple of the heads needed: head_dim is its own field
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 64)),
        "head_dim": draw(st.sampled_from([1, 2, 3, 4, 6, 8, 16])),  # odd only up to 4 (RoPE)
        "tie_word_embeddings": draw(st.booleans()),
    }
    if draw(st.booleans()):
        cfg["attention_bias"] = draw(st.booleans())
    if draw(st.booleans()):
        del cfg["num_key_value_heads"]  # Qwen3Config: 32
    if draw(st.booleans()):
        cfg["num_key_value_heads"] = None  # the head count
    if draw(st.booleans()):
        cfg["pad_token_id"] = draw(st.integers(0, cfg["vocab_size"] - 1))
    if draw(st.booleans()):
        cfg["rope_parameters"] = {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6,
                                  "partial_rotary_factor": draw(st.sampled_from([0.25, 0.5, 1.0]))}
    labels = draw(st.sampled_from(["default", "num_labels", "id2label"]))
    if labels == "num_labels":
        cfg["num_labels"] = draw(st.integers(1, 7))
    elif labels == "id2label":
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 7)))}
    return cfg, draw(st.sampled_from(CLASSES))


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


BASE = {"model_type": "qwen3", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
        "num_hidden_layers": 1, "intermediate_size": 8}


@pytest.mark.parametrize(("extra", "words"), [
    ({"head_dim": None}, "head_dim is null, which Qwen3Config refuses"),
    ({"head_dim": 7}, "head_dim 7 is odd"),
    ({"head_dim": 0}, "head_dim must be a positive integer"),
    ({"attention_bias": "yes"}, "attention_bias must be true or false"),
    ({"pad_token_id": 50}, "pad_token_id 50 is not a token of the vocabulary"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {**BASE, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "Qwen3Model")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="Qwen3Model")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


def test_unread_field_and_wrong_class() -> None:
    a = paramscope.inspect({**BASE, "mlp_bias": True}, model_class="Qwen3Model")
    assert any(n.startswith("mlp_bias is not read by Qwen3 models") for n in a.inventory.notes)
    with pytest.raises(UnknownArchitecture, match="pass --model-class with one of Qwen3Model, Qwen3ForCausalLM"):
        paramscope.inspect({**BASE}, model_class="LlamaForCausalLM", family="qwen3")


# -- checkpoints -------------------------------------------------------------------------------------

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12}


@pytest.mark.parametrize(("model_class", "extra"), [
    ("Qwen3ForCausalLM", {"tie_word_embeddings": True}),
    ("Qwen3ForCausalLM", {"attention_bias": True}),
    ("Qwen3ForTokenClassification", {"num_labels": 3}),
    ("Qwen3ForQuestionAnswering", {}),
])
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str, extra: dict[str, Any]) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.Qwen3Config(**TINY, **extra))
    model.save_pretrained(tmp_path)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "qwen3"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: the names say Qwen3 (q_norm), q_norm's size says head_dim.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    cfg = b.inventory.config
    assert (cfg["model_type"], cfg["head_dim"], cfg["num_attention_heads"], cfg["num_key_value_heads"]) == (
        "qwen3", 12, 4, 2)
    assert cfg["attention_bias"] is extra.get("attention_bias", False)


def test_llama_does_not_claim_qwen3_names() -> None:
    shapes = {"embeddings.embed_tokens.weight": (10, 8), "decoder.layers.0.self_attn.q_proj.weight": (8, 8),
              "decoder.layers.0.self_attn.k_proj.weight": (8, 8), "decoder.layers.0.mlp.gate_proj.weight": (4, 8)}
    assert qwen3.FAMILY.infer(shapes) is None  # no q_norm: not Qwen3
    with_norm = shapes | {f"decoder.layers.0.self_attn.{n}_norm.weight": (4,) for n in "qk"}
    assert llama.infer(with_norm) is None
    found = qwen3.FAMILY.infer(with_norm)
    assert found is not None and found[0]["head_dim"] == 4 and found[0]["num_attention_heads"] == 2
