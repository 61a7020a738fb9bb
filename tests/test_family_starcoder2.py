"""StarCoder2 against transformers, tensor by tensor: every preset in every class, random configs over the
options (GQA, head_dim, use_bias, tie), refusals, and checkpoints saved by transformers read back with and
without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import llama, phi, starcoder2
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in starcoder2.PRESETS}
CLASSES = starcoder2.STARCODER2.classes


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESETS[name].config)), model_class)


def test_published_figures_and_hand_count() -> None:
    got = {name: paramscope.inspect(name).parameters for name in PRESETS}
    assert got == {"bigcode/starcoder2-3b": 3_030_371_328, "bigcode/starcoder2-7b": 7_173_923_840}  # "3B", "7B"
    V, H, I, L, K, D = 49152, 4608, 18432, 32, 4, 128
    attention = 2 * (H * H + H) + 2 * (H * K * D + K * D)
    layer = attention + (H * I + I) + (I * H + H) + 4 * H
    assert got["bigcode/starcoder2-7b"] == V * H + L * layer + 2 * H  # lm_head tied


def test_names_roles_and_notes() -> None:
    a = paramscope.inspect("bigcode/starcoder2-7b")
    assert a.placements["model.layers.0.mlp.c_fc.bias"].role == Role.FFN
    norm = a.placements["model.norm.bias"]
    assert (norm.group, norm.role) == (Group.FINAL_NORM, Role.NORM)
    assert any(n.startswith("sliding_window 4096") for n in a.inventory.notes)
    assert any("use_bias: all four projections carry a bias" in n for n in a.formula_notes)
    b = paramscope.inspect({**PRESETS["bigcode/starcoder2-7b"].config, "attention_bias": True})
    assert any("attention_bias is not read by Starcoder2 models: use_bias decides" in n for n in b.inventory.notes)


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 4))
    heads = kv * draw(st.integers(1, 4))
    cfg: dict[str, Any] = {
        "model_type": "starcoder2",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": heads * draw(st.sampled_from([2, 4, 6, 8])),
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 64)),
        "use_bias": draw(st.booleans()),
        "sliding_window": draw(st.sampled_from([None, 16])),
    }
    if draw(st.booleans()):
        cfg["tie_word_embeddings"] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["head_dim"] = draw(st.sampled_from([0, 2, 4, 6, 8, 16]))  # 0: H // A, as the attention reads it
    if draw(st.booleans()):
        del cfg["num_key_value_heads"]  # Starcoder2Config: 2
        cfg["num_attention_heads"] = 2 * draw(st.integers(1, 3))
        cfg["hidden_size"] = cfg["num_attention_heads"] * 4
    if draw(st.booleans()):
        cfg["pad_token_id"] = draw(st.integers(0, cfg["vocab_size"] - 1))
    if draw(st.booleans()):
        cfg["rope_parameters"] = {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e5}
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


BASE = {"model_type": "starcoder2", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
        "num_hidden_layers": 1, "intermediate_size": 8}


@pytest.mark.parametrize(("extra", "words"), [
    ({"num_key_value_heads": None}, "num_key_value_heads is null, which Starcoder2Config refuses"),
    ({"use_bias": "yes"}, "use_bias must be true or false"),
    ({"pad_token_id": 50}, "pad_token_id 50 is not a token of the vocabulary"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {**BASE, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "Starcoder2Model")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="Starcoder2Model")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}


@pytest.mark.parametrize(("model_class", "extra", "pickle"), [
    ("Starcoder2ForCausalLM", {}, False),
    ("Starcoder2ForCausalLM", {"tie_word_embeddings": False, "use_bias": False}, True),
    ("Starcoder2ForTokenClassification", {"num_labels": 3}, False),
])
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str, extra: dict[str, Any],
                                          pickle: bool) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.Starcoder2Config(**TINY, **extra))
    if pickle:
        model.config.save_pretrained(tmp_path)
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    else:
        model.save_pretrained(tmp_path)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "starcoder2"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: c_fc/c_proj say StarCoder2, the biases say use_bias.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.inventory.family == "starcoder2"
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    assert b.inventory.config["use_bias"] is extra.get("use_bias", True)


def test_other_families_do_not_claim_starcoder2_names() -> None:
    shapes = {"embeddings.embed_tokens.weight": (10, 8), "decoder.layers.0.self_attn.q_proj.weight": (8, 8),
              "decoder.layers.0.self_attn.k_proj.weight": (4, 8), "decoder.layers.0.self_attn.o_proj.weight": (8, 8),
              "decoder.layers.0.mlp.c_fc.weight": (6, 8), "decoder.layers.0.mlp.c_proj.weight": (8, 6),
              "decoder.layers.0.input_layernorm.weight": (8,), "decoder.layers.0.post_attention_layernorm.weight": (8,)}
    assert llama.infer(shapes) is None and phi.FAMILY.infer(shapes) is None
    found = starcoder2.FAMILY.infer(shapes)
    assert found is not None and found[0]["intermediate_size"] == 6 and found[0]["use_bias"] is False
