"""OLMo and OLMo 2 against transformers, tensor by tensor: every preset in every class, random configs over
the options (GQA, head_dim, q/k norms over all channels, norms without parameters, ties, biases), refusals,
and checkpoints saved by transformers read back with and without config.json."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import gemma2, llama, olmo, qwen3
from paramscope.families.base import Group, Role

from . import exactness, oracle

PRESETS = {p.name: p for p in olmo.PRESETS}
CLASSES = {"olmo": olmo.OLMO.classes, "olmo2": olmo.OLMO2.classes}
CASES = [(name, cls) for name, p in sorted(PRESETS.items()) for cls in CLASSES[p.config["model_type"]]]


def test_the_classes_transformers_exports() -> None:
    import transformers

    assert CLASSES == {"olmo": ("OlmoModel", "OlmoForCausalLM", "OlmoForSequenceClassification"),
                       "olmo2": ("Olmo2Model", "Olmo2ForCausalLM", "Olmo2ForSequenceClassification")}
    for prefix in ("Olmo", "Olmo2"):
        assert not hasattr(transformers, f"{prefix}ForTokenClassification")
        assert not hasattr(transformers, f"{prefix}ForQuestionAnswering")


@pytest.mark.parametrize(("name", "model_class"), CASES)
def test_every_preset_in_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(copy.deepcopy(dict(PRESETS[name].config)), model_class)


def test_published_figures() -> None:
    got = {n: paramscope.inspect(n).parameters for n in PRESETS}
    assert got == {"allenai/OLMo-7B-hf": 6_888_095_744, "allenai/OLMo-2-1124-7B": 7_298_617_344,
                   "allenai/OLMo-2-1124-13B": 13_716_198_400}
    for name, n in got.items():  # "7B", "7B", "13B": the cards round to the billion
        assert abs(n - float(PRESETS[name].published[:-1]) * 1e9) < 0.75e9, name


def test_hand_computed() -> None:
    V, H, I, L = 50304, 4096, 11008, 32
    assert paramscope.inspect("OLMo-7B-hf").parameters == 2 * V * H + L * (4 * H * H + 3 * H * I)  # no norms
    V = 100352
    layer = 4 * H * H + 2 * H + 3 * H * I + 2 * H  # q/k/v/o; q_norm, k_norm of A·D = K·D = H; MLP; two norms
    assert paramscope.inspect("olmo-2-7b").parameters == 2 * V * H + L * layer + H


def test_names_roles_and_notes() -> None:
    a = paramscope.inspect("olmo-2-7b")
    for name in ("model.layers.0.post_feedforward_layernorm.weight", "model.layers.3.self_attn.q_norm.weight"):
        assert (a.placements[name].group, a.placements[name].role) == (Group.DECODER, Role.NORM)
    assert a.inventory.tensors[5].name == "model.layers.0.self_attn.q_norm.weight"
    assert a.inventory.tensors[5].shape == (4096,)
    b = paramscope.inspect({**PRESETS["allenai/OLMo-7B-hf"].config, "clip_qkv": 8.0})
    assert not any("norm" in t.name for t in b.inventory.tensors)
    assert any(n.startswith("clip_qkv 8.0 clamps") for n in b.inventory.notes)
    assert any("LayerNorm without a weight or a bias" in n for n in b.formula_notes)


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    model_type = draw(st.sampled_from(["olmo", "olmo2"]))
    kv = draw(st.integers(1, 3))
    heads = kv * draw(st.integers(1, 4))
    cfg: dict[str, Any] = {
        "model_type": model_type, "vocab_size": draw(st.integers(2, 300)),
        "hidden_size": draw(st.integers(heads, 40)), "num_attention_heads": heads, "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)), "intermediate_size": draw(st.integers(1, 48)),
        "pad_token_id": 0,
    }
    if draw(st.booleans()):
        cfg["head_dim"] = draw(st.sampled_from([2, 4, 6, 8, 16]))
    if draw(st.booleans()):
        cfg["num_key_value_heads"] = None
    for key in ("tie_word_embeddings", "attention_bias"):
        if draw(st.booleans()):
            cfg[key] = draw(st.booleans())
    if model_type == "olmo" and draw(st.booleans()):
        cfg["clip_qkv"] = 8.0
    if draw(st.booleans()):
        cfg["rope_parameters"] = {"rope_type": "linear", "factor": 2.0, "rope_theta": 1e4,
                                  "partial_rotary_factor": draw(st.sampled_from([0.25, 0.5, 1.0]))}
    if draw(st.booleans()):
        cfg["num_labels"] = draw(st.integers(1, 7))
    return cfg, draw(st.sampled_from(CLASSES[model_type]))


@settings(max_examples=110, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    exactness.assert_matches(*case)


@pytest.mark.parametrize(("model_type", "extra", "words"), [
    ("olmo", {"head_dim": None}, "head_dim is null"),
    ("olmo2", {"head_dim": None}, "head_dim is null"),
    ("olmo", {"attention_bias": "yes"}, "attention_bias must be true or false"),
    ("olmo2", {"num_attention_heads": None}, "num_attention_heads is null, which Olmo2Config refuses"),
    ("olmo2", {"pad_token_id": 50}, "pad_token_id 50 is not a token of the vocabulary"),
])
def test_refused_like_transformers(model_type: str, extra: dict[str, Any], words: str) -> None:
    cfg = {"model_type": model_type, "vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4,
           "num_hidden_layers": 1, "intermediate_size": 8, **extra}
    cls = CLASSES[model_type][0]
    with pytest.raises(Exception):
        oracle.build(cfg, cls)
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class=cls)
    assert words in str(err.value) and str(err.value).startswith("<dict>: ")


# -- checkpoints -------------------------------------------------------------------------------------

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}


@pytest.mark.parametrize(("config_class", "model_class", "extra", "fmt"), [
    ("OlmoConfig", "OlmoForCausalLM", {}, "safetensors"),
    ("OlmoConfig", "OlmoForSequenceClassification", {"num_labels": 3, "attention_bias": True}, "bin"),
    ("Olmo2Config", "Olmo2ForCausalLM", {"tie_word_embeddings": True}, "bin"),
    ("Olmo2Config", "Olmo2ForCausalLM", {"attention_bias": True}, "safetensors"),
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
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.model_class == model_class and a.inventory.family == "olmo"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json: no norms at all say OLMo, norms after attention and the MLP OLMo 2 (not Llama).
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0 and b.model_class == model_class
    assert b.inventory.family == "olmo" and b.inventory.config["model_type"] == model.config.model_type
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    assert b.inventory.config["attention_bias"] is extra.get("attention_bias", False)


def test_other_families_do_not_claim_olmo_names() -> None:
    layer = "decoder.layers.0."
    bare = {"embeddings.embed_tokens.weight": (10, 8), f"{layer}self_attn.q_proj.weight": (8, 8),
            f"{layer}self_attn.k_proj.weight": (4, 8), f"{layer}mlp.gate_proj.weight": (4, 8)}
    assert llama.infer(bare) is None  # Llama has norms
    found = olmo.FAMILY.infer(bare)
    assert found is not None and found[0]["model_type"] == "olmo"
    post = bare | {f"{layer}{n}.weight": (8,) for n in ("post_attention_layernorm", "post_feedforward_layernorm")} \
        | {f"{layer}self_attn.q_norm.weight": (8,), f"{layer}self_attn.k_norm.weight": (4,)}
    assert llama.infer(post) is None and qwen3.FAMILY.infer(post) is None and gemma2.FAMILY.infer(post) is None
    found = olmo.FAMILY.infer(post)
    assert found is not None and found[0]["model_type"] == "olmo2"
    # Gemma 3's names have OLMo 2's and two norms more: not OLMo 2.
    sandwich = post | {f"{layer}{n}.weight": (8,) for n in ("input_layernorm", "pre_feedforward_layernorm")}
    assert olmo.FAMILY.infer(sandwich) is None
