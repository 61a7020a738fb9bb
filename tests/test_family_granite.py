"""Granite against transformers, tensor by tensor: the preset in every class, random configs (GQA, head_dim,
biases, ties, multipliers), refusals, and checkpoints saved by transformers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import granite

from . import exactness, oracle

PRESET = granite.PRESETS[0]
CLASSES = granite.GRANITE.classes


def test_the_classes_transformers_exports() -> None:
    import transformers

    assert CLASSES == ("GraniteModel", "GraniteForCausalLM")
    assert not hasattr(transformers, "GraniteForSequenceClassification")


@pytest.mark.parametrize("model_class", CLASSES)
def test_preset_in_every_class(model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESET.config)), model_class)


def test_published_figure_and_notes() -> None:
    a = paramscope.inspect("granite-3.0-8b-base")
    V, H, I, L, A, K, D = 49155, 4096, 12800, 40, 32, 8, 128
    assert a.parameters == V * H + L * (2 * H * A * D + 2 * H * K * D + 3 * H * I + 2 * H) + H == 8_170_848_256
    assert abs(a.parameters - 8e9) / 8e9 < 0.03  # the card's "8B"
    assert any("residual_multiplier 0.22" in n and "no parameters" in n for n in a.inventory.notes)


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 3))
    heads = kv * draw(st.integers(1, 4))
    cfg: dict[str, Any] = {
        "model_type": "granite", "vocab_size": draw(st.integers(2, 300)), "hidden_size": draw(st.integers(heads, 40)),
        "num_attention_heads": heads, "num_key_value_heads": kv, "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 48)),
    }
    if draw(st.booleans()):
        cfg["head_dim"] = draw(st.sampled_from([2, 4, 6, 8, 16]))
    if draw(st.booleans()):
        cfg["num_key_value_heads"] = None
    for key in ("tie_word_embeddings", "attention_bias", "mlp_bias"):
        if draw(st.booleans()):
            cfg[key] = draw(st.booleans())
    if draw(st.booleans()):
        cfg.update(embedding_multiplier=12.0, residual_multiplier=0.22, logits_scaling=8.0)
    if draw(st.booleans()):
        cfg["rope_parameters"] = {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4,
                                  "partial_rotary_factor": draw(st.sampled_from([0.25, 0.5, 1.0]))}
    return cfg, draw(st.sampled_from(CLASSES))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    exactness.assert_matches(*case)


@pytest.mark.parametrize(("extra", "words"), [
    ({"head_dim": None}, "head_dim is null"),
    ({"mlp_bias": "no"}, "mlp_bias must be true or false"),
    ({"hidden_size": None}, "hidden_size is null, which GraniteConfig refuses"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {"model_type": "granite", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
           "num_hidden_layers": 1, "intermediate_size": 8, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "GraniteModel")
    with pytest.raises(ConfigError, match=words):
        paramscope.inspect(cfg, model_class="GraniteModel")


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
def test_checkpoint_saved_by_transformers(tmp_path: Path, fmt: str) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = transformers.GraniteConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, mlp_bias=True,
                                     embedding_multiplier=12.0)
    model = transformers.GraniteForCausalLM(cfg)
    if fmt == "safetensors":
        model.save_pretrained(tmp_path)
    else:
        model.config.save_pretrained(tmp_path)
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.inventory.family == "granite" and a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json the names are Llama's: read as llama, the same count.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.inventory.family == "llama" and b.parameters == a.parameters
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
