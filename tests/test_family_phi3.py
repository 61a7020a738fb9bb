"""Phi-3 (and Phi-4) against transformers, tensor by tensor: every preset in every class, random configs over
the options (GQA, head_dim, partial rotary, longrope), refusals, and checkpoints saved by transformers read
back with and without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import llama, phi3
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in phi3.PRESETS}
CLASSES = phi3.PHI3.classes


def config_of(name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(PRESETS[name].config))


@pytest.mark.parametrize("model_class", CLASSES)
@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(config_of(name), model_class)


def test_published_figures() -> None:
    got = {name: paramscope.inspect(name).parameters for name in PRESETS}
    assert got == {"microsoft/Phi-3-mini-4k-instruct": 3_821_079_552,  # "3.8B"
                   "microsoft/Phi-3-medium-4k-instruct": 13_960_238_080,  # "14B"
                   "microsoft/phi-4": 14_659_507_200}  # "14.7B"
    for name, n in got.items():
        stated = float(PRESETS[name].published[:-1]) * 1e9
        assert abs(n - stated) / stated < 0.01


def test_hand_computed_phi3_mini() -> None:
    V, H, I, L = 32064, 3072, 8192, 32
    layer = H * 3 * H + H * H + 2 * I * H + H * I + 2 * H  # qkv_proj, o_proj, gate_up_proj, down_proj, norms
    assert paramscope.inspect("phi-3-mini").parameters == 2 * V * H + L * layer + H


def test_names_roles_and_formula() -> None:
    a = paramscope.inspect("microsoft/phi-4")
    qkv = a.placements["model.layers.3.self_attn.qkv_proj.weight"]
    assert (qkv.group, qkv.role) == (Group.DECODER, Role.ATTENTION)
    assert a.placements["model.layers.0.mlp.gate_up_proj.weight"].role == Role.FFN
    assert a.total_formula.render(order=a.family.order) == "VH + L·(2HKD + 2H² + 3HI + 2H) + H + VH"
    assert any("one qkv_proj of (A + 2K)·D = 7680 rows" in n for n in a.formula_notes)
    assert any("gate_up_proj (2I×H)" in n for n in a.formula_notes)
    assert a.inventory.family == "phi3" and a.model_class == "Phi3ForCausalLM"


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    kv = draw(st.integers(1, 4))
    heads = kv * draw(st.integers(1, 4))  # MQA (kv 1), GQA, MHA
    hidden = heads * draw(st.sampled_from([2, 4, 6, 8]))
    cfg: dict[str, Any] = {
        "model_type": "phi3",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 64)),
        "tie_word_embeddings": draw(st.booleans()),
        "pad_token_id": None,
    }
    if draw(st.booleans()):
        cfg["head_dim"] = draw(st.sampled_from([2, 4, 6, 8, 16]))  # read by the attention, not the config
    if draw(st.booleans()):
        cfg["num_key_value_heads"] = None  # the head count
    if draw(st.booleans()):
        cfg["pad_token_id"] = draw(st.integers(0, cfg["vocab_size"] - 1))
    factor = draw(st.sampled_from([0.25, 0.5, 1.0]))
    rope = draw(st.sampled_from(["none", "partial", "longrope"]))
    if rope == "partial":
        cfg["partial_rotary_factor"] = factor
    elif rope == "longrope" and int(hidden // heads * factor) >= 2:
        # Factor lists of int(H // A · factor) // 2 (Phi3Config checks), at least one, and head_dim H // A:
        # otherwise transformers broadcasts them against inv_freq (issue 10's longrope item, buffers only).
        cfg.pop("head_dim", None)
        n = int(hidden // heads * factor) // 2
        cfg["rope_scaling"] = {"rope_type": "longrope", "short_factor": [1.0] * n, "long_factor": [2.0] * n,
                               "partial_rotary_factor": factor}
        cfg["original_max_position_embeddings"] = 64
        cfg["max_position_embeddings"] = 256
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


BASE = {"model_type": "phi3", "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
        "num_hidden_layers": 1, "intermediate_size": 8, "pad_token_id": None}


@pytest.mark.parametrize(("extra", "words"), [
    ({"head_dim": None}, "head_dim is null"),
    ({"pad_token_id": 32000}, "pad_token_id 32000 is not a token of the vocabulary"),
    ({"rope_scaling": {"rope_type": "linear", "factor": 2.0}}, "rope type 'linear' is not one Phi3Config accepts"),
    ({"rope_scaling": {"rope_type": "longrope", "factor": 2.0, "short_factor": [1.0] * 3}},
     "short_factor has 3 numbers, and Phi3Config wants"),
    ({"tie_word_embeddings": "no"}, "tie_word_embeddings must be true or false"),
])
def test_refused_like_transformers(extra: dict[str, Any], words: str) -> None:
    cfg = {**BASE, **extra}
    with pytest.raises(Exception):
        oracle.build(cfg, "Phi3Model")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="Phi3Model")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


# -- checkpoints -------------------------------------------------------------------------------------

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2, "pad_token_id": 0}


@pytest.mark.parametrize(("model_class", "extra", "pickle"), [
    ("Phi3ForCausalLM", {}, False),
    ("Phi3ForCausalLM", {"tie_word_embeddings": True}, True),
    ("Phi3ForTokenClassification", {"num_labels": 3}, False),
])
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str, extra: dict[str, Any],
                                          pickle: bool) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.Phi3Config(**TINY, **extra))
    if pickle:
        model.config.save_pretrained(tmp_path)
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    else:
        model.save_pretrained(tmp_path)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "phi3"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: qkv_proj and gate_up_proj say Phi-3.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    cfg = b.inventory.config
    assert (cfg["model_type"], cfg["intermediate_size"], cfg["num_attention_heads"] * cfg["head_dim"],
            cfg["num_key_value_heads"] * cfg["head_dim"]) == ("phi3", 48, 32, 16)


def test_llama_does_not_claim_phi3_names() -> None:
    shapes = {"embeddings.embed_tokens.weight": (10, 8), "decoder.layers.0.self_attn.qkv_proj.weight": (16, 8),
              "decoder.layers.0.self_attn.o_proj.weight": (8, 8), "decoder.layers.0.mlp.gate_up_proj.weight": (12, 8),
              "decoder.layers.0.mlp.down_proj.weight": (8, 6),
              "decoder.layers.0.input_layernorm.weight": (8,), "decoder.layers.0.post_attention_layernorm.weight": (8,)}
    assert llama.infer(shapes) is None
    found = phi3.FAMILY.infer(shapes)
    assert found is not None and found[0]["intermediate_size"] == 6 and found[0]["num_key_value_heads"] * found[0][
        "head_dim"] == 4
