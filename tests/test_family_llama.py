"""Llama, Mistral and Qwen2 against transformers, tensor by tensor: presets, every class, random configs,
refusals, and checkpoints saved by transformers."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import llama
from paramscope.families.base import Group, Role
from paramscope.inventory import Kind

from . import exactness, oracle

PRESETS = {p.name: p for p in llama.PRESETS}
HEADS = llama.HEADS
PREFIX = {"llama": "Llama", "mistral": "Mistral", "qwen2": "Qwen2"}


def config_of(name: str) -> dict[str, Any]:
    # transformers writes into nested dicts (rope_scaling) of the config it is given: never hand it a preset's.
    return copy.deepcopy(dict(PRESETS[name].config))


@pytest.mark.parametrize("name", sorted(PRESETS))
def test_every_preset(name: str) -> None:
    preset = PRESETS[name]
    exactness.assert_matches(config_of(name), preset.model_class)


@pytest.mark.parametrize("head", HEADS)
def test_every_class_of_a_preset(head: str) -> None:
    exactness.assert_matches(config_of("Qwen/Qwen2.5-0.5B"), "Qwen2" + head)


def test_published_figures() -> None:
    exact = {name: paramscope.inspect(name).parameters for name in PRESETS}
    assert exact == {
        "meta-llama/Llama-2-7b-hf": 6_738_415_616,  # "7B"
        "meta-llama/Llama-3.2-1B": 1_235_814_400,  # "1.23B"
        "mistralai/Mistral-7B-v0.1": 7_241_732_096,  # "7.3B"
        "Qwen/Qwen2.5-0.5B": 494_032_768,  # "0.49B"
    }
    # The Qwen2.5 model card: 0.49B, of which 0.36B non-embedding (its lm_head is tied).
    qwen = paramscope.inspect("Qwen/Qwen2.5-0.5B")
    assert qwen.totals["non_embedding_parameters"] == 357_898_112
    assert qwen.totals["tied_aliases"] == 151_936 * 896
    for name, preset in PRESETS.items():
        assert preset.published is not None and preset.origin
        stated = float(preset.published[:-1]) * 1e9
        assert abs(exact[name] - stated) / stated < 0.04, name


def test_hand_computed_llama2_7b() -> None:
    V, H, I, L = 32000, 4096, 11008, 32
    assert paramscope.inspect("llama-2-7b").parameters == 2 * V * H + L * (4 * H * H + 3 * H * I + 2 * H) + H


def test_names_groups_and_roles() -> None:
    assert llama.canonical("model.layers.3.self_attn.q_proj.weight") == "decoder.layers.3.self_attn.q_proj.weight"
    assert llama.canonical("model.embed_tokens.weight") == "embeddings.embed_tokens.weight"
    assert llama.canonical("model.norm.weight") == "final_norm.norm.weight"
    assert llama.canonical("transformer.layers.0.mlp.up_proj.weight") == "decoder.layers.0.mlp.up_proj.weight"
    assert llama.canonical("layers.0.mlp.up_proj.weight") == "decoder.layers.0.mlp.up_proj.weight"
    assert llama.canonical("lm_head.weight") == "heads.lm_head.weight"
    assert llama.canonical("decoder.layers.0.mlp.up_proj.weight") == "decoder.layers.0.mlp.up_proj.weight"
    a = paramscope.inspect("meta-llama/Llama-3.2-1B")
    place = a.placements
    k_proj = place["model.layers.0.self_attn.k_proj.weight"]
    assert (k_proj.group, k_proj.role) == (Group.DECODER, Role.ATTENTION)
    assert place["model.layers.15.mlp.down_proj.weight"].role == Role.FFN
    assert place["model.norm.weight"].group == Group.FINAL_NORM
    assert place["lm_head.weight"].group == Group.HEADS
    assert [c.name for c in a.tree.children] == ["embeddings", "decoder", "final_norm", "heads"]
    layers = a.tree.children[1].children[0]
    assert (layers.repeat, layers.numel_each) == (16, 60_821_504)
    assert a.groups == {"embeddings": 262_668_288, "encoder": 0, "decoder": 973_144_064, "final_norm": 2048,
                        "pooler": 0, "heads": 0}


def test_formula_reads_well() -> None:
    a = paramscope.inspect("meta-llama/Llama-2-7b-hf")
    assert a.total_formula.render(order=a.family.order) == "VH + L·(4H² + 3HI + 2H) + H + VH"
    b = paramscope.inspect("meta-llama/Llama-3.2-1B")
    assert b.total_formula.render(order=b.family.order) == "VH + L·(2HKD + 2H² + 3HI + 2H) + H"
    q = paramscope.inspect("Qwen/Qwen2.5-0.5B")
    assert q.total_formula.render(order=q.family.order) == "VH + L·(2HKD + 2H² + 3HI + 2KD + 3H) + H"
    assert any("Qwen2: q_proj, k_proj and v_proj carry biases" in n for n in q.formula_notes)
    assert any("grouped-query attention" in n for n in b.formula_notes)
    assert any("tie_word_embeddings" in n for n in b.formula_notes)


def test_what_if_matches_transformers() -> None:
    a = paramscope.inspect("meta-llama/Llama-2-7b-hf", overrides={"num_key_value_heads": 8, "num_hidden_layers": 2})
    cfg = config_of("meta-llama/Llama-2-7b-hf") | {"num_key_value_heads": 8, "num_hidden_layers": 2}
    assert a.parameters == oracle.build(cfg, "LlamaForCausalLM").total
    assert a.baseline is not None and a.baseline.parameters == 6_738_415_616


def test_buffers_follow_the_rotary_dimension() -> None:
    base = {"model_type": "llama", "vocab_size": 50, "hidden_size": 40, "num_attention_heads": 4,
            "num_hidden_layers": 1, "intermediate_size": 8}
    for extra in ({}, {"partial_rotary_factor": 0.5},
                  {"rope_scaling": {"rope_type": "linear", "factor": 2.0}, "partial_rotary_factor": 0.5},
                  {"rope_parameters": {"rope_type": "dynamic", "factor": 2.0, "rope_theta": 1e4,
                                       "partial_rotary_factor": 0.3}}):
        exactness.assert_matches(copy.deepcopy(base | extra), "LlamaModel")


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    model_type = draw(st.sampled_from(sorted(PREFIX)))
    kv = draw(st.integers(1, 4))
    heads = kv * draw(st.integers(1, 3))
    cfg: dict[str, Any] = {
        "model_type": model_type,
        "vocab_size": draw(st.integers(1, 300)),
        # hidden_size / heads is the head size unless head_dim is given: even, or at most 4 (RoPE refuses
        # an odd rotary dimension above 4).
        "hidden_size": heads * draw(st.sampled_from([1, 2, 3, 4, 6, 8, 10, 12])),
        "num_attention_heads": heads,
        "num_key_value_heads": kv,
        "num_hidden_layers": draw(st.integers(0, 3)),
        "intermediate_size": draw(st.integers(1, 64)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    if draw(st.booleans()):
        cfg["head_dim"] = 2 * draw(st.integers(1, 8))  # RoPE needs an even rotary dimension
    if draw(st.booleans()):
        del cfg["num_key_value_heads"]  # Llama: the head count; Mistral: 8; Qwen2: 32
    if draw(st.booleans()):
        cfg["attention_bias"] = draw(st.booleans())  # read by Llama only
        cfg["mlp_bias"] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["pad_token_id"] = draw(st.integers(0, cfg["vocab_size"] - 1))
    if draw(st.booleans()):
        cfg["rope_scaling"] = {"rope_type": "linear", "factor": 2.0}
        cfg["partial_rotary_factor"] = draw(st.sampled_from([0.25, 0.5, 1.0]))
    labels = draw(st.sampled_from(["default", "num_labels", "id2label"]))
    if labels == "num_labels":
        cfg["num_labels"] = draw(st.integers(1, 7))
    elif labels == "id2label":
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 7)))}
    return cfg, PREFIX[model_type] + draw(st.sampled_from(HEADS))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


BASE = {"vocab_size": 50, "hidden_size": 16, "num_attention_heads": 4, "num_hidden_layers": 1,
        "intermediate_size": 8}


@pytest.mark.parametrize(("model_type", "extra", "words"), [
    ("llama", {"hidden_size": 18}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
    ("llama", {"hidden_size": 18, "head_dim": 4}, "even with head_dim set"),
    ("llama", {"head_dim": 7}, "head_dim 7 is odd"),
    ("llama", {"hidden_size": 16.0}, "hidden_size must be an integer"),
    ("llama", {"attention_bias": "yes"}, "attention_bias must be true or false"),
    ("llama", {"pad_token_id": 50}, "pad_token_id 50 is not a token of the vocabulary"),
    ("llama", {"head_dim": 0}, "head_dim must be a positive integer"),
    ("mistral", {"num_key_value_heads": None}, "num_key_value_heads is null"),
    ("qwen2", {"head_dim": None}, "head_dim is null"),
    ("qwen2", {"head_dim": 9, "hidden_size": 36}, "head_dim 9 is odd"),
])
def test_refused_like_transformers(model_type: str, extra: dict[str, Any], words: str) -> None:
    cfg = {"model_type": model_type, **BASE, **extra}
    with pytest.raises(Exception):  # transformers refuses to build it
        oracle.build(cfg, PREFIX[model_type] + "Model")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class=PREFIX[model_type] + "Model")
    message = str(err.value)
    assert words in message and message.startswith("<dict>: ") and "\n" not in message


@pytest.mark.parametrize(("model_type", "extra"), [
    ("mistral", {"hidden_size": 18}),  # no multiple check: head_dim = 18 // 4
    ("mistral", {"head_dim": 0}),  # falsy: hidden_size // num_attention_heads
    ("qwen2", {"hidden_size": 18}),
    ("qwen2", {"hidden_size": 36}),  # head_dim 9, odd, but Qwen2Config has no head_dim to check
    ("qwen2", {"num_attention_heads": 2, "hidden_size": 16}),  # num_key_value_heads defaults to 32
    ("llama", {"num_key_value_heads": 3}),  # builds; GQA could not run it (a note says so)
    ("mistral", {"attention_bias": True, "mlp_bias": True}),  # not read
])
def test_accepted_like_transformers(model_type: str, extra: dict[str, Any]) -> None:
    exactness.assert_matches({"model_type": model_type, **BASE, **extra}, PREFIX[model_type] + "ForCausalLM")


def test_notes_for_ignored_fields() -> None:
    a = paramscope.inspect({"model_type": "mistral", **BASE, "attention_bias": True}, model_class="MistralModel")
    assert "attention_bias is not read by Mistral models: no projection has a bias" in a.inventory.notes
    b = paramscope.inspect({"model_type": "llama", **BASE, "num_key_value_heads": 3}, model_class="LlamaModel")
    assert any("grouped-query attention cannot run it" in n for n in b.inventory.notes)


def test_class_must_fit_the_model_type() -> None:
    with pytest.raises(ConfigError, match="pass --model-class MistralForCausalLM"):
        paramscope.inspect("mistralai/Mistral-7B-v0.1", model_class="LlamaForCausalLM")
    # Without architectures or model_type the class comes from the default; with architectures, from them.
    cfg = {"architectures": ["Qwen2ForCausalLM"], **BASE}
    assert paramscope.inspect(cfg).inventory.config["model_type"] == "qwen2"


# -- checkpoints -------------------------------------------------------------------------------------

TINY = {"vocab_size": 64, "hidden_size": 32, "intermediate_size": 48, "num_hidden_layers": 2,
        "num_attention_heads": 4, "num_key_value_heads": 2}
CASES = [
    ("LlamaConfig", "LlamaForCausalLM", {}),
    ("LlamaConfig", "LlamaForCausalLM", {"tie_word_embeddings": True, "attention_bias": True, "mlp_bias": True}),
    ("LlamaConfig", "LlamaForTokenClassification", {"num_labels": 3}),
    ("LlamaConfig", "LlamaForQuestionAnswering", {}),
    ("MistralConfig", "MistralForSequenceClassification", {"num_labels": 5}),
    ("Qwen2Config", "Qwen2ForCausalLM", {"tie_word_embeddings": True}),
]


def save(folder: Path, config_class: str, model_class: str, extra: dict[str, Any], how: str):
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(getattr(transformers, config_class)(**TINY, **extra))
    if how == "safetensors":
        model.save_pretrained(folder)
    else:  # as older transformers wrote it: config.json (with architectures) and a pickled state_dict
        model.config.architectures = [model_class]
        model.config.save_pretrained(folder)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model


@pytest.mark.parametrize("how", ["safetensors", "bin"])
@pytest.mark.parametrize(("config_class", "model_class", "extra"), CASES)
def test_checkpoint_saved_by_transformers(tmp_path: Path, config_class: str, model_class: str,
                                          extra: dict[str, Any], how: str) -> None:
    model = save(tmp_path, config_class, model_class, extra, how)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n
    assert a.model_class == model_class and a.inventory.family == "llama"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json the sizes and the class come from the names and shapes.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n and b.totals["unclassified"] == 0
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    # Mistral cannot be told from Llama by its names: read as llama, same count.
    assert b.model_class == model_class.replace("Mistral", "Llama")
    assert b.inventory.config["model_type"] == {"Qwen2Config": "qwen2"}.get(config_class, "llama")


def test_inferred_sizes(tmp_path: Path) -> None:
    save(tmp_path, "Qwen2Config", "Qwen2ForCausalLM", {"tie_word_embeddings": True}, "safetensors")
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    cfg = a.inventory.config
    sizes = (cfg["vocab_size"], cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"])
    assert sizes == (64, 32, 48, 2)
    assert cfg["num_attention_heads"] * cfg["head_dim"] == 32 and cfg["num_key_value_heads"] * cfg["head_dim"] == 16
    assert cfg["tie_word_embeddings"] is True
    assert any("no lm_head in the weights" in n for n in a.inventory.notes)
    assert {t.name: t.tied_to for t in a.expected.inventory.of_kind(Kind.ALIAS)} == {
        "lm_head.weight": "model.embed_tokens.weight"}


def test_unknown_layer_names_are_not_llama() -> None:
    shapes = {"embeddings.embed_tokens.weight": (10, 8), "decoder.layers.0.self_attn.q_proj.weight": (8, 8),
              "decoder.layers.0.self_attn.k_proj.weight": (8, 8), "decoder.layers.0.mlp.gate_proj.weight": (4, 8),
              # the layer's norms: which of them a layer has tells the layouts apart (OLMo has none)
              "decoder.layers.0.input_layernorm.weight": (8,), "decoder.layers.0.post_attention_layernorm.weight": (8,)}
    assert llama.infer(shapes) is not None
    # Qwen3-style q_norm: another architecture, left to its own family (or the generic one).
    assert llama.infer(shapes | {"decoder.layers.0.self_attn.q_norm.weight": (8,)}) is None


def test_rendered() -> None:
    from paramscope import cli

    tree = cli.run(["show", "meta-llama/Llama-3.2-1B", "--depth", "0", "--color", "never"])
    assert "layers ×16 (60,821,504 each)" in tree and "lm_head (tied)" in tree
    formula = cli.run(["show", "Qwen/Qwen2.5-0.5B", "--formula", "--color", "never"])
    assert "K = num_key_value_heads = 2  (key/value heads)" in formula and "= 494,032,768" in formula
    assert "self_attn.k_proj          HKD + KD" in formula
