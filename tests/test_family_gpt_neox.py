"""GPT-NeoX (Pythia) against transformers, tensor by tensor: every preset in every class, random configs
(rotary_pct, attention_bias, tie, parallel residual, labels), refusals, and checkpoints: saved by
transformers, and Pythia's older layout (embed_out, stored causal masks and inv_freq) with and without
config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import gpt_neox
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in gpt_neox.PRESETS}
CLASSES = gpt_neox.MODEL_CLASSES


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESETS[name].config)), model_class)


def test_published_figures() -> None:
    # The Pythia card's totals, exactly; its non-embedding figures leave out embed_in and embed_out.
    for name, total, non_embedding in (("pythia-160m", 162_322_944, 85_056_000),
                                       ("pythia-1.4b", 1_414_647_808, 1_208_602_624),
                                       ("pythia-6.9b", 6_857_302_016, 6_444_163_072)):
        a = paramscope.inspect(name)
        V, H = a.inventory.config["vocab_size"], a.inventory.config["hidden_size"]
        assert a.parameters == total and total - 2 * V * H == non_embedding
        published = PRESETS[f"EleutherAI/{name}"].published  # the name's figure, within its rounding
        number, unit = published[:-1], {"M": 1e6, "B": 1e9}[published[-1]]
        assert round(total / unit, len(number.partition(".")[2])) == float(number)


def test_names_roles_and_formula() -> None:
    a = paramscope.inspect("pythia-160m")
    assert a.total_formula.render(order=a.family.order) == "VH + L·(4H² + 2HI + 9H + I) + 2H + VH"
    qkv = a.placements["gpt_neox.layers.0.attention.query_key_value.weight"]
    assert (qkv.group, qkv.role) == (Group.DECODER, Role.ATTENTION)
    assert a.placements["gpt_neox.layers.0.mlp.dense_4h_to_h.bias"].role == Role.FFN
    assert a.placements["gpt_neox.final_layer_norm.weight"].group == Group.FINAL_NORM
    assert a.placements["lm_head.weight"].role == Role.HEAD
    # rotary_pct 0.25 of D = 64: 16 channels, 8 frequencies.
    assert [t.shape for t in a.inventory.tensors if t.name.endswith("inv_freq")] == [(8,), (8,)]


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 6))
    cfg: dict[str, Any] = {
        "model_type": "gpt_neox",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": heads * draw(st.sampled_from([1, 2, 4, 6, 8, 12])),
        "num_attention_heads": heads,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 64)),
        "tie_word_embeddings": draw(st.booleans()),
        "use_parallel_residual": draw(st.booleans()),
        "attention_bias": draw(st.booleans()),
    }
    rope = draw(st.sampled_from(["default", "pct", "dict"]))
    factor = draw(st.sampled_from([0.25, 0.5, 1.0]))
    if rope == "pct":
        cfg["rotary_pct"] = factor
    elif rope == "dict":
        cfg["rope_parameters"] = {"rope_type": "default", "rope_theta": 1e4, "partial_rotary_factor": factor}
    if draw(st.booleans()):
        cfg["pad_token_id"] = draw(st.integers(0, 400))  # no padding_idx: never checked
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


BASE = {"model_type": "gpt_neox", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
        "num_hidden_layers": 1, "intermediate_size": 8}


@pytest.mark.parametrize(("extra", "words"), [
    ({"hidden_size": 18}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
    ({"attention_bias": "yes"}, "attention_bias must be true or false"),
    ({"intermediate_size": None}, "intermediate_size is null, which GPTNeoXConfig refuses"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {**BASE, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "GPTNeoXModel")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="GPTNeoXModel")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "max_position_embeddings": 16}


@pytest.mark.parametrize(("model_class", "extra", "layout"), [
    ("GPTNeoXForCausalLM", {}, "safetensors"),
    ("GPTNeoXForCausalLM", {}, "pythia"),
    ("GPTNeoXForTokenClassification", {"num_labels": 3, "attention_bias": False}, "pickle"),
])
def test_checkpoint(tmp_path: Path, model_class: str, extra: dict[str, Any], layout: str) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.GPTNeoXConfig(**TINY, **extra))
    n = sum(p.numel() for p in model.parameters())
    if layout == "safetensors":
        model.save_pretrained(tmp_path)
    else:
        model.config.save_pretrained(tmp_path)
        state = dict(model.state_dict())
        if layout == "pythia":  # transformers 4.x files: embed_out, each layer's causal mask and inv_freq
            state["embed_out.weight"] = state.pop("lm_head.weight")
            for i in range(TINY["num_hidden_layers"]):
                state[f"gpt_neox.layers.{i}.attention.bias"] = torch.ones(1, 1, 16, 16, dtype=torch.bool)
                state[f"gpt_neox.layers.{i}.attention.masked_bias"] = torch.tensor(-1e9)
                state[f"gpt_neox.layers.{i}.attention.rotary_emb.inv_freq"] = torch.ones(1)
        torch.save(state, tmp_path / "pytorch_model.bin")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "gpt_neox"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.inventory.family == "gpt_neox"
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    assert b.inventory.config["attention_bias"] is extra.get("attention_bias", True)
