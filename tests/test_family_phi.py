"""Phi (phi-2) against transformers, tensor by tensor: the preset in every class, random configs over the
options (GQA, head_dim, partial rotary, qk_layernorm, tie), refusals, and checkpoints saved by transformers
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
from paramscope.families import llama, phi
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in phi.PRESETS}
CLASSES = phi.PHI.classes


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESETS[name].config)), model_class)


def test_published_figure_and_hand_count() -> None:
    a = paramscope.inspect("microsoft/phi-2")
    V, H, I, L = 51200, 2560, 10240, 32
    layer = 4 * (H * H + H) + (I * H + I) + (H * I + H) + 2 * H  # q, k, v, dense; fc1, fc2; input_layernorm
    assert a.parameters == 2 * V * H + V + L * layer + 2 * H == 2_779_683_840  # "2.7 billion" (truncated)
    assert a.total_formula.render(order=a.family.order) == "VH + L·(4H² + 2HI + 7H + I) + 2H + VH + V"
    assert a.placements["model.layers.0.self_attn.dense.weight"].role == Role.ATTENTION
    assert a.placements["model.layers.0.mlp.fc1.bias"].role == Role.FFN
    final = a.placements["model.final_layernorm.bias"]
    assert (final.group, final.role) == (Group.FINAL_NORM, Role.NORM)
    assert a.placements["lm_head.bias"].role == Role.HEAD
    assert any("one, before attention and the MLP, which run side by side" in n for n in a.formula_notes)
    # inv_freq: int(80 · 0.4) = 32 rotated channels, 16 frequencies.
    assert [t.shape for t in a.inventory.tensors if t.name.endswith("inv_freq")] == [(16,), (16,)]


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 4))
    heads = kv * draw(st.integers(1, 4))
    cfg: dict[str, Any] = {
        "model_type": "phi",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": heads * draw(st.sampled_from([2, 4, 6, 8])),
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 64)),
        "tie_word_embeddings": draw(st.booleans()),
        "qk_layernorm": draw(st.booleans()),
    }
    if draw(st.booleans()):
        cfg["head_dim"] = draw(st.sampled_from([2, 4, 6, 8, 16]))  # read by the attention, not the config
    if draw(st.booleans()):
        cfg["num_key_value_heads"] = None  # the head count
    if draw(st.booleans()):
        cfg["pad_token_id"] = draw(st.integers(0, cfg["vocab_size"] - 1))
    rope = draw(st.sampled_from(["default", "top", "dict"]))  # PhiConfig's 0.5, a top-level factor, in the dict
    factor = draw(st.sampled_from([0.25, 0.4, 0.5, 1.0]))
    if rope == "top":
        cfg["partial_rotary_factor"] = factor
    elif rope == "dict":
        cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": 1e4, "partial_rotary_factor": factor}
    labels = draw(st.sampled_from(["default", "num_labels", "id2label"]))
    if labels == "num_labels":
        cfg["num_labels"] = draw(st.integers(1, 7))
    elif labels == "id2label":
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 7)))}
    return cfg, draw(st.sampled_from(CLASSES))


@settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


BASE = {"model_type": "phi", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
        "num_hidden_layers": 1, "intermediate_size": 8}


@pytest.mark.parametrize(("extra", "words"), [
    ({"head_dim": None}, "head_dim is null"),
    ({"pad_token_id": 50}, "pad_token_id 50 is not a token of the vocabulary"),
    ({"hidden_size": None}, "hidden_size is null, which PhiConfig refuses"),
    ({"qk_layernorm": "yes"}, "qk_layernorm must be true or false"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {**BASE, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "PhiModel")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="PhiModel")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4}


@pytest.mark.parametrize(("model_class", "extra", "pickle"), [
    ("PhiForCausalLM", {"qk_layernorm": True}, False),
    ("PhiForCausalLM", {"tie_word_embeddings": True}, True),
    ("PhiForSequenceClassification", {"num_labels": 3, "pad_token_id": 0}, False),
])
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str, extra: dict[str, Any],
                                          pickle: bool) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.PhiConfig(**TINY, **extra))
    if pickle:
        model.config.save_pretrained(tmp_path)
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    else:
        model.save_pretrained(tmp_path)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "phi"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: dense, fc1/fc2 and final_layernorm say Phi.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.inventory.family == "phi"
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    assert b.inventory.config["qk_layernorm"] is extra.get("qk_layernorm", False)


def test_llama_does_not_claim_phi_names() -> None:
    shapes = {"embeddings.embed_tokens.weight": (10, 8), "decoder.layers.0.self_attn.q_proj.weight": (8, 8),
              "decoder.layers.0.self_attn.k_proj.weight": (8, 8), "decoder.layers.0.self_attn.dense.weight": (8, 8),
              "decoder.layers.0.mlp.fc1.weight": (6, 8), "decoder.layers.0.mlp.fc2.weight": (8, 6),
              "decoder.layers.0.input_layernorm.weight": (8,)}
    assert llama.infer(shapes) is None
    found = phi.FAMILY.infer(shapes)
    assert found is not None and found[0]["intermediate_size"] == 6
