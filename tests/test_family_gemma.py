"""Gemma against transformers, tensor by tensor: the preset in every class, random configs, refusals, and
a checkpoint saved by transformers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import gemma
from paramscope.families.base import Group, Role
from paramscope.inventory import Kind

from . import exactness, oracle

PRESET = gemma.PRESETS[0]
CLASSES = gemma.GEMMA.classes


@pytest.mark.parametrize("model_class", CLASSES)
def test_preset_in_every_class(model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESET.config)), model_class)


def test_published_figures_and_the_scale_buffer() -> None:
    a = paramscope.inspect("gemma-2b")
    V, H, I, L, A, K, D = 256_000, 2048, 16384, 18, 8, 1, 256
    assert a.parameters == V * H + L * (2 * H * A * D + 2 * H * K * D + 3 * H * I + 2 * H) + H == 2_506_172_416
    assert a.totals["non_embedding_parameters"] == 1_981_884_416  # "1.98B non-embedding"
    scale = a.inventory.tensors[1]
    assert (scale.name, scale.shape, scale.kind) == ("model.embed_tokens.embed_scale", (), Kind.BUFFER)
    assert (a.placements[scale.name].group, a.placements[scale.name].role) == (Group.EMBEDDINGS, Role.OTHER)
    assert any("embed_scale is a scalar buffer" in n for n in a.formula_notes)


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 3))
    cfg: dict[str, Any] = {
        "model_type": "gemma", "vocab_size": draw(st.integers(2, 300)), "hidden_size": draw(st.integers(1, 40)),
        "num_attention_heads": kv * draw(st.integers(1, 4)), "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)), "intermediate_size": draw(st.integers(1, 48)),
        "head_dim": draw(st.sampled_from([2, 4, 8, 16])), "pad_token_id": 0,
    }
    for key in ("tie_word_embeddings", "attention_bias"):
        if draw(st.booleans()):
            cfg[key] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["num_labels"] = draw(st.integers(1, 7))
    return cfg, draw(st.sampled_from(CLASSES))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    exactness.assert_matches(*case)


@pytest.mark.parametrize(("extra", "words"), [
    ({"num_key_value_heads": None}, "num_key_value_heads is null, which GemmaConfig refuses"),
    ({"head_dim": None}, "head_dim is null, which GemmaConfig refuses"),
    ({"head_dim": 9}, "head_dim 9 is odd"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {"model_type": "gemma", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
           "num_hidden_layers": 1, "intermediate_size": 8, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "GemmaModel")
    with pytest.raises(ConfigError, match=words):
        paramscope.inspect(cfg, model_class="GemmaModel")


def test_checkpoint_saved_by_transformers(tmp_path: Path) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = transformers.GemmaConfig(vocab_size=64, hidden_size=32, intermediate_size=48, num_hidden_layers=2,
                                   num_attention_heads=4, num_key_value_heads=1, head_dim=8)
    model = transformers.GemmaForCausalLM(cfg)
    model.save_pretrained(tmp_path)
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.inventory.family == "gemma" and a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json the names are Llama's: read as llama, the same count.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.inventory.family == "llama" and b.parameters == a.parameters
