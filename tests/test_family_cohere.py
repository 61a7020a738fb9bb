"""Cohere against transformers, tensor by tensor: every preset in every class, random configs over the
options (GQA, head_dim, per-head q/k norms, ties, biases), refusals, and checkpoints saved by transformers
read back with and without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import cohere, llama
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in cohere.PRESETS}
CLASSES = cohere.COHERE.classes


def test_the_classes_transformers_exports() -> None:
    import transformers

    assert CLASSES == ("CohereModel", "CohereForCausalLM")
    assert not hasattr(transformers, "CohereForSequenceClassification")


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESETS[name].config)), model_class)


def test_published_figures() -> None:
    r, plus = paramscope.inspect("command-r"), paramscope.inspect("command-r-plus")
    assert (r.parameters, plus.parameters) == (34_980_831_232, 103_810_674_688)  # "35B", "104B"
    V, H, I, L = 256_000, 8192, 22528, 40
    assert r.parameters == V * H + L * (4 * H * H + 3 * H * I + H) + H  # one norm per layer, tied lm_head
    A, K, D = 96, 8, 128
    H, I, L = 12288, 33792, 64
    layer = 2 * H * A * D + 2 * H * K * D + (A + K) * D + 3 * H * I + H
    assert plus.parameters == V * H + L * layer + H
    for a, name in ((r, "CohereForAI/c4ai-command-r-v01"), (plus, "CohereForAI/c4ai-command-r-plus")):
        stated = float(PRESETS[name].published[:-1]) * 1e9
        assert abs(a.parameters - stated) / stated < 0.01


def test_names_roles_and_notes() -> None:
    a = paramscope.inspect("command-r-plus")
    q_norm = a.inventory.tensors[5]
    assert (q_norm.name, q_norm.shape) == ("model.layers.0.self_attn.q_norm.weight", (96, 128))
    for name in ("model.layers.0.self_attn.k_norm.weight", "model.layers.2.input_layernorm.weight"):
        assert (a.placements[name].group, a.placements[name].role) == (Group.DECODER, Role.NORM)
    assert not any("post_attention_layernorm" in t.name for t in a.inventory.tensors)
    assert any("logit_scale" in n and "not a parameter" in n for n in a.inventory.notes)
    assert any("side by side" in n for n in a.formula_notes)
    b = paramscope.inspect("command-r", overrides={"use_qk_norm": True})
    assert b.parameters - paramscope.inspect("command-r").parameters == 40 * (64 + 64) * 128


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 3))
    heads = kv * draw(st.integers(1, 4))
    cfg: dict[str, Any] = {
        "model_type": "cohere", "vocab_size": draw(st.integers(2, 300)), "hidden_size": draw(st.integers(heads, 40)),
        "num_attention_heads": heads, "num_key_value_heads": kv, "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 48)), "pad_token_id": 0,
    }
    if draw(st.booleans()):
        cfg["head_dim"] = draw(st.sampled_from([2, 4, 6, 8, 16]))
    if draw(st.booleans()):
        cfg["num_key_value_heads"] = None
    for key in ("tie_word_embeddings", "attention_bias"):
        if draw(st.booleans()):
            cfg[key] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["use_qk_norm"] = draw(st.sampled_from([True, False, None]))
    if draw(st.booleans()):
        cfg["logit_scale"] = draw(st.sampled_from([None, 0.5]))
    return cfg, draw(st.sampled_from(CLASSES))


@settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    exactness.assert_matches(*case)


@pytest.mark.parametrize(("extra", "words"), [
    ({"head_dim": None}, "head_dim is null"),
    ({"use_qk_norm": "yes"}, "use_qk_norm must be true or false"),
    ({"tie_word_embeddings": None}, "tie_word_embeddings is null, which CohereConfig refuses"),
    ({"pad_token_id": 50}, "pad_token_id 50 is not a token of the vocabulary"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {"model_type": "cohere", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
           "num_hidden_layers": 1, "intermediate_size": 8, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "CohereModel")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="CohereModel")
    assert words in str(err.value) and str(err.value).startswith("<dict>: ")


TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}


@pytest.mark.parametrize(("model_class", "extra", "fmt"), [
    ("CohereForCausalLM", {}, "safetensors"),
    ("CohereForCausalLM", {"use_qk_norm": True, "head_dim": 12}, "bin"),
    ("CohereForCausalLM", {"tie_word_embeddings": False, "attention_bias": True}, "safetensors"),
    ("CohereModel", {"use_qk_norm": True}, "safetensors"),
])
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str, extra: dict[str, Any], fmt: str) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.CohereConfig(**TINY, **extra))
    n = sum(p.numel() for p in model.parameters())
    if fmt == "safetensors":
        model.save_pretrained(tmp_path)
    else:
        model.config.save_pretrained(tmp_path)
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "cohere"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: one norm per layer says Cohere (not Llama); q_norm's [A, D] gives the heads.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.inventory.family == "cohere"
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    cfg = b.inventory.config
    assert cfg["use_qk_norm"] is extra.get("use_qk_norm", False)
    if extra.get("use_qk_norm"):
        assert (cfg["num_attention_heads"], cfg["num_key_value_heads"]) == (4, 2)


def test_llama_does_not_claim_cohere_names() -> None:
    layer = "decoder.layers.0."
    shapes = {"embeddings.embed_tokens.weight": (10, 8), f"{layer}self_attn.q_proj.weight": (8, 8),
              f"{layer}self_attn.k_proj.weight": (4, 8), f"{layer}mlp.gate_proj.weight": (4, 8),
              f"{layer}input_layernorm.weight": (8,), "final_norm.norm.weight": (8,)}
    assert llama.infer(shapes) is None
    found = cohere.FAMILY.infer(shapes)
    assert found is not None and found[1] == "CohereForCausalLM" and found[0]["use_qk_norm"] is False
