"""Gemma 2 and Gemma 3 (text) against transformers, tensor by tensor: every preset in every class, random
configs over the options (GQA, head_dim, sliding windows, layer types, RoPE per layer type, ties, biases),
refusals, and checkpoints saved by transformers read back with and without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import gemma2, llama, qwen3
from paramscope.families.base import Group, Role
from paramscope.inventory import Kind

from . import exactness, oracle

PRESETS = {p.name: p for p in gemma2.PRESETS}
CLASSES = {"gemma2": gemma2.GEMMA2.classes, "gemma3_text": gemma2.GEMMA3_TEXT.classes}
CASES = [(name, cls) for name, p in sorted(PRESETS.items()) for cls in CLASSES[p.config["model_type"]]]


def config_of(name: str) -> dict[str, Any]:
    return copy.deepcopy(dict(PRESETS[name].config))


def test_the_classes_transformers_exports() -> None:
    import transformers

    assert CLASSES["gemma2"] == ("Gemma2Model", "Gemma2ForCausalLM", "Gemma2ForSequenceClassification",
                                 "Gemma2ForTokenClassification")
    assert CLASSES["gemma3_text"] == ("Gemma3TextModel", "Gemma3ForCausalLM", "Gemma3TextForSequenceClassification")
    for cls in (*CLASSES["gemma2"], *CLASSES["gemma3_text"]):
        assert hasattr(transformers, cls)
    assert not hasattr(transformers, "Gemma2ForQuestionAnswering")


@pytest.mark.parametrize(("name", "model_class"), CASES)
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(config_of(name), model_class)


def test_published_figures() -> None:
    # The report's non-embedding figures, exactly; totals within the cards' rounding.
    got = {n: paramscope.inspect(n) for n in PRESETS}
    assert {n: a.parameters for n, a in got.items()} == {
        "google/gemma-2-2b": 2_614_341_888, "google/gemma-2-9b": 9_241_705_984,
        "google/gemma-2-27b": 27_227_128_320, "google/gemma-3-1b-pt": 999_885_952}
    assert [got[f"google/gemma-2-{s}"].totals["non_embedding_parameters"] for s in ("2b", "9b", "27b")] == [
        2_024_517_888, 8_324_201_984, 26_047_480_320]
    assert round(got["google/gemma-3-1b-pt"].totals["non_embedding_parameters"] / 1e6) == 698
    for name, a in got.items():
        stated = float(PRESETS[name].published[:-1]) * 1e9
        assert abs(a.parameters - stated) / stated < 0.03, name  # 9.24B is the card's "9B"


def test_hand_computed_gemma_2_2b() -> None:
    V, H, I, L, A, K, D = 256_000, 2304, 9216, 26, 8, 4, 256
    layer = 2 * H * A * D + 2 * H * K * D + 3 * H * I + 4 * H  # q, o; k, v; MLP; four norms
    assert paramscope.inspect("gemma-2-2b").parameters == V * H + L * layer + H


def test_names_roles_buffers_and_notes() -> None:
    a = paramscope.inspect("gemma-3-1b")
    for name in ("model.layers.0.pre_feedforward_layernorm.weight", "model.layers.5.self_attn.k_norm.weight"):
        assert (a.placements[name].group, a.placements[name].role) == (Group.DECODER, Role.NORM)
    buffers = [(t.name, t.shape) for t in a.inventory.of_kind(Kind.BUFFER)]
    assert buffers == [("model.embed_tokens.embed_scale", ()),
                       ("model.rotary_emb.full_attention_inv_freq", (128,)),
                       ("model.rotary_emb.full_attention_original_inv_freq", (128,)),
                       ("model.rotary_emb.sliding_attention_inv_freq", (128,)),
                       ("model.rotary_emb.sliding_attention_original_inv_freq", (128,))]
    assert "22 of 26 layers attend within a sliding window of 512 tokens" in a.inventory.notes[0]
    assert a.total_formula.render(order=a.family.order) == "VH + L·(2HAD + 2HKD + 3HI + 4H + 2D) + H"
    assert any("a RoPE per layer type" in n for n in a.formula_notes)
    b = paramscope.inspect("gemma-2-2b")
    assert "13 of 26 layers attend within a sliding window of 4096 tokens" in b.inventory.notes[0]


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    model_type = draw(st.sampled_from(["gemma2", "gemma3_text"]))
    kv = draw(st.integers(1, 3))
    heads = kv * draw(st.integers(1, 4))
    layers = draw(st.integers(0, 4))
    cfg: dict[str, Any] = {
        "model_type": model_type, "vocab_size": draw(st.integers(2, 300)),
        "hidden_size": heads * draw(st.integers(1, 8)),  # a multiple of the heads: the config checks it
        "num_attention_heads": heads, "num_key_value_heads": kv, "num_hidden_layers": layers,
        "intermediate_size": draw(st.integers(1, 48)), "head_dim": draw(st.sampled_from([2, 4, 6, 8, 16])),
        "pad_token_id": 0,
    }
    for key in ("tie_word_embeddings", "attention_bias"):
        if draw(st.booleans()):
            cfg[key] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["sliding_window"] = draw(st.sampled_from([None, 4, 512]))
    if layers and draw(st.booleans()):
        cfg["layer_types"] = draw(st.lists(st.sampled_from(["sliding_attention", "full_attention"]),
                                           min_size=layers, max_size=layers))
    elif model_type == "gemma3_text" and draw(st.booleans()):
        cfg["sliding_window_pattern"] = draw(st.integers(1, 4))
    if model_type == "gemma3_text" and draw(st.booleans()):
        rope = draw(st.sampled_from([
            {"rope_scaling": {"rope_type": "linear", "factor": 8.0}},
            {"rope_parameters": {"full_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e6,
                                                    "partial_rotary_factor": 0.5},
                                 "sliding_attention": {"rope_type": "default", "rope_theta": 1e4}}},
        ]))
        cfg.update(copy.deepcopy(rope))
    if draw(st.booleans()):
        cfg["num_labels"] = draw(st.integers(1, 7))
    return cfg, draw(st.sampled_from(CLASSES[model_type]))


@settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    exactness.assert_matches(*case)


BASE = {"vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 2,
        "intermediate_size": 8, "head_dim": 8}


@pytest.mark.parametrize(("model_type", "extra", "words"), [
    ("gemma2", {"num_key_value_heads": None}, "num_key_value_heads is null, which Gemma2Config refuses"),
    ("gemma2", {"head_dim": None}, "head_dim is null, which Gemma2Config refuses"),
    ("gemma2", {"hidden_size": 18}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
    ("gemma2", {"layer_types": ["full_attention"]}, "layer_types must be a list of num_hidden_layers (2)"),
    ("gemma3_text", {"head_dim": 9}, "head_dim 9 is odd"),
    ("gemma3_text", {"hidden_size": 18}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
    ("gemma3_text", {"sliding_window_pattern": 0}, "sliding_window_pattern must be a positive integer"),
    ("gemma3_text", {"layer_types": ["full_attention", "chunked_attention"]}, "have no RoPE in Gemma 3"),
    ("gemma3_text", {"use_bidirectional_attention": True, "sliding_window": None}, "halves sliding_window"),
])
def test_refused_like_transformers(model_type: str, extra: dict[str, Any], words: str) -> None:
    cfg = {"model_type": model_type, **BASE, **extra}
    cls = CLASSES[model_type][0]
    with pytest.raises(Exception):
        oracle.build(cfg, cls)
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class=cls)
    assert words in str(err.value) and str(err.value).startswith("<dict>: ")


# -- checkpoints -------------------------------------------------------------------------------------

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 3,
        "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 12}


@pytest.mark.parametrize(("config_class", "model_class", "extra", "fmt"), [
    ("Gemma2Config", "Gemma2ForCausalLM", {}, "safetensors"),
    ("Gemma2Config", "Gemma2ForTokenClassification", {"num_labels": 3}, "bin"),
    ("Gemma3TextConfig", "Gemma3ForCausalLM", {"tie_word_embeddings": False}, "safetensors"),
    ("Gemma3TextConfig", "Gemma3TextForSequenceClassification", {"num_labels": 2, "attention_bias": True}, "bin"),
])
def test_checkpoint_saved_by_transformers(tmp_path: Path, config_class: str, model_class: str,
                                          extra: dict[str, Any], fmt: str) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(getattr(transformers, config_class)(**TINY, **extra))
    n = sum(p.numel() for p in model.parameters())
    if fmt == "safetensors":
        model.save_pretrained(tmp_path)
    else:
        model.config.save_pretrained(tmp_path)
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    model_type = model.config.model_type
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "gemma2"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: the four norms say Gemma 2, a q_norm Gemma 3 (whose size is head_dim).
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.inventory.family == "gemma2" and b.inventory.config["model_type"] == model_type
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    if model_type == "gemma3_text":
        assert b.inventory.config["head_dim"] == 12


def test_other_families_do_not_claim_gemma_names() -> None:
    layer = "decoder.layers.0."
    shapes = {"embeddings.embed_tokens.weight": (10, 8), f"{layer}self_attn.q_proj.weight": (8, 8),
              f"{layer}self_attn.k_proj.weight": (4, 8), f"{layer}mlp.gate_proj.weight": (4, 8),
              **{f"{layer}{n}.weight": (8,) for n in ("input_layernorm", "post_attention_layernorm",
                                                      "pre_feedforward_layernorm", "post_feedforward_layernorm")}}
    assert llama.infer(shapes) is None
    found = gemma2.FAMILY.infer(shapes)
    assert found is not None and found[0]["model_type"] == "gemma2"
    with_norm = shapes | {f"{layer}self_attn.{n}_norm.weight": (4,) for n in "qk"}
    assert qwen3.FAMILY.infer(with_norm) is None
    found = gemma2.FAMILY.infer(with_norm)
    assert found is not None and found[0]["model_type"] == "gemma3_text" and found[0]["head_dim"] == 4
