"""GPT-J against transformers, tensor by tensor: the preset in every class, random configs (rotary_dim,
n_inner, tie, the common names), refusals, and checkpoints saved by transformers and in the older layout
(stored causal masks) read back with and without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import gpt2, gptj
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESET = gptj.PRESETS[0]
CLASSES = gptj.MODEL_CLASSES


@pytest.mark.parametrize("model_class", CLASSES)
def test_preset_in_every_class(model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESET.config)), model_class)


def test_published_figure_and_hand_count() -> None:
    a = paramscope.inspect("gpt-j-6b")
    V, H, L, I = 50400, 4096, 28, 4 * 4096
    assert a.parameters == 2 * V * H + V + L * (4 * H * H + 2 * H * I + I + 3 * H) + 2 * H == 6_050_882_784
    assert round(a.parameters / 1e9) == 6  # "6B"
    assert a.total_formula.render(order=a.family.order) == "VH + L·(4H² + 2HI + 3H + I) + 2H + VH + V"
    q = a.placements["transformer.h.0.attn.q_proj.weight"]
    assert (q.group, q.role) == (Group.DECODER, Role.ATTENTION)
    assert a.placements["transformer.h.0.ln_1.bias"].role == Role.NORM
    assert a.placements["transformer.ln_f.weight"].group == Group.FINAL_NORM
    assert a.placements["lm_head.bias"].role == Role.HEAD


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 6))
    hidden = heads * draw(st.sampled_from([1, 2, 4, 8]))
    common = draw(st.booleans())  # the common names (attribute_map) or GPT-J's own
    cfg: dict[str, Any] = {
        "model_type": "gptj",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size" if common else "n_embd": hidden,
        "num_attention_heads" if common else "n_head": heads,
        "num_hidden_layers" if common else "n_layer": draw(st.integers(0, 3)),
        "max_position_embeddings" if common else "n_positions": draw(st.integers(1, 40)),
        "rotary_dim": draw(st.sampled_from([0, 2, 4, 8])),
        "tie_word_embeddings": draw(st.booleans()),
    }
    if draw(st.booleans()):
        cfg["n_inner"] = draw(st.integers(1, 64))
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


BASE = {"model_type": "gptj", "vocab_size": 50, "n_embd": 16, "n_head": 4, "n_layer": 1, "n_positions": 8}


@pytest.mark.parametrize(("extra", "words"), [
    ({"rotary_dim": None}, "rotary_dim is null, which GPTJConfig refuses"),
    ({"n_embd": 18}, "n_embd 18 is not a multiple of n_head 4"),
    ({"tie_word_embeddings": "no"}, "tie_word_embeddings must be true or false"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {**BASE, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "GPTJModel")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="GPTJModel")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


TINY = {"vocab_size": 64, "n_embd": 32, "n_layer": 2, "n_head": 4, "n_positions": 16, "rotary_dim": 4}


@pytest.mark.parametrize(("model_class", "extra", "layout"), [
    ("GPTJForCausalLM", {}, "safetensors"),
    ("GPTJForCausalLM", {"tie_word_embeddings": True}, "old"),
    ("GPTJForSequenceClassification", {"num_labels": 3, "pad_token_id": 0}, "safetensors"),
])
def test_checkpoint(tmp_path: Path, model_class: str, extra: dict[str, Any], layout: str) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.GPTJConfig(**TINY, **extra))
    n = sum(p.numel() for p in model.parameters())
    if layout == "safetensors":
        model.save_pretrained(tmp_path)
    else:  # transformers 4.x: each layer's causal mask and its fill value, in a pickle
        model.config.save_pretrained(tmp_path)
        state = dict(model.state_dict())
        for i in range(TINY["n_layer"]):
            state[f"transformer.h.{i}.attn.bias"] = torch.ones(1, 1, 16, 16, dtype=torch.bool)
            state[f"transformer.h.{i}.attn.masked_bias"] = torch.tensor(-1e9)
        torch.save(state, tmp_path / "pytorch_model.bin")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "gptj"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.inventory.family == "gptj"
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation


def test_gpt2_does_not_claim_gptj_names() -> None:
    shapes = {"embeddings.wte.weight": (10, 8), "decoder.h.0.attn.q_proj.weight": (8, 8),
              "decoder.h.0.mlp.fc_in.weight": (32, 8), "decoder.h.0.ln_1.weight": (8,)}
    assert gpt2.FAMILY.infer is None or gpt2.FAMILY.infer(shapes) is None
    found = gptj.FAMILY.infer(shapes)
    assert found is not None and found[0]["n_inner"] == 32 and found[1] == "GPTJModel"
