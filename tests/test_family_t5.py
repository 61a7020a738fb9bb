"""T5 against transformers, tensor by tensor: every preset and class, random configurations, checkpoints."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import FAMILIES
from paramscope.families.t5 import FAMILY, LEGACY_GENERATION, MODEL_CLASSES
from paramscope.inventory import Kind
from paramscope.tree import label

from . import exactness, oracle

CLASSES = [c for c in MODEL_CLASSES if c != LEGACY_GENERATION]  # transformers 5 has no T5WithLMHeadModel
PRESETS = {p.name: p for p in FAMILY.presets}
TINY = {"vocab_size": 100, "d_model": 16, "d_kv": 4, "num_heads": 2, "d_ff": 32, "num_layers": 2,
        "num_decoder_layers": 1, "relative_attention_num_buckets": 8}


def t5(**cfg: Any) -> dict[str, Any]:
    return {"model_type": "t5", **cfg}


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("model_class", CLASSES)
def test_every_preset_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(dict(PRESETS[name].config), model_class)


def test_preset_totals() -> None:
    """Exact totals of the default class (T5ForConditionalGeneration); v1.1 with its own lm_head, as its
    checkpoints store it and from_pretrained loads it."""
    totals = {name: paramscope.inspect(name).parameters for name in PRESETS}
    assert totals == {"t5-small": 60_506_624, "t5-base": 222_903_552,
                      "google/t5-v1_1-small": 76_961_152, "google/t5-v1_1-base": 247_577_856}
    assert {n: p.published for n, p in PRESETS.items()} == {
        "t5-small": "60M", "t5-base": "220M", "google/t5-v1_1-small": None, "google/t5-v1_1-base": None}
    for alias in ("google-t5/t5-small", "t5-v1_1-base"):
        assert paramscope.inspect(alias).inventory.family == "t5"
    # v1.1 unties lm_head in its checkpoints: from_pretrained keeps it, V·H more than the model built from
    # the config alone by transformers 5.
    a = paramscope.inspect("google/t5-v1_1-small")
    assert any("lm_head is a matrix of its own, V·H = 16,449,536 parameters" in n for n in a.inventory.notes)
    assert a.parameters - 32128 * 512 == 60_511_616


def test_from_pretrained_unties_v11(tmp_path: Path) -> None:
    """What the oracle's untie_t5_v11 stands for, on a real save: a v1.1-like checkpoint (tie_word_embeddings
    false, lm_head stored with values of its own) loads untied, and paramscope counts what it loads."""
    import json

    import torch
    import transformers
    from safetensors.torch import save_file

    cfg = transformers.T5Config(vocab_size=100, d_model=16, d_kv=4, d_ff=32, num_layers=1, num_decoder_layers=1,
                                num_heads=4, feed_forward_proj="gated-gelu", tie_word_embeddings=False)
    torch.manual_seed(0)
    built = transformers.T5ForConditionalGeneration(cfg)
    assert built.lm_head.weight is built.shared.weight  # T5Config forced the tie
    state = {k: v.clone().contiguous() for k, v in built.state_dict().items()}
    state["lm_head.weight"] = torch.randn_like(state["lm_head.weight"])
    save_file(state, tmp_path / "model.safetensors", metadata={"format": "pt"})
    raw = {**json.loads(cfg.to_json_string()), "tie_word_embeddings": False}
    raw.pop("scale_decoder_outputs", None)
    (tmp_path / "config.json").write_text(json.dumps(raw))
    transformers.logging.set_verbosity_error()
    loaded = transformers.T5ForConditionalGeneration.from_pretrained(tmp_path)
    assert loaded.lm_head.weight is not loaded.shared.weight
    n = sum(p.numel() for p in loaded.parameters())
    assert n == sum(p.numel() for p in built.parameters()) + 100 * 16
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n and a.reconciliation is not None and a.reconciliation.agrees
    assert paramscope.inspect(tmp_path / "config.json", model_class="T5ForConditionalGeneration").parameters == n


def test_legacy_class_is_conditional_generation() -> None:
    """t5-small's config.json names T5WithLMHeadModel (transformers 2); counted as T5ForConditionalGeneration."""
    cfg = t5(**TINY, architectures=[LEGACY_GENERATION])
    a = paramscope.inspect(cfg)
    truth = oracle.build(t5(**TINY), "T5ForConditionalGeneration")
    assert a.model_class == LEGACY_GENERATION
    assert [(t.name, t.shape) for t in a.inventory.of_kind(Kind.PARAMETER)] == truth.parameters
    assert {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)} == truth.aliases
    assert a.parameters == truth.total


def test_tree_and_formula_read_block_zero_then_the_rest() -> None:
    a = paramscope.inspect("t5-small")
    groups = {g.name: [label(c) for c in g.children] for g in a.tree.children}
    assert groups == {
        "embeddings": ["shared", "encoder.embed_tokens", "decoder.embed_tokens"],
        "encoder": ["block 0", "block 1-5 ×5"],
        "decoder": ["block 0", "block 1-5 ×5"],
        "final_norm": ["encoder.final_layer_norm", "decoder.final_layer_norm"],
        "heads": ["lm_head"],
    }
    order = FAMILY.order
    total = a.total_formula.render(order=order)
    assert total == ("VH + (L - 1)·(4HAD + 2HI + 2H) + 4HAD + 2HI + AB + 2H + "
                     "(M - 1)·(8HAD + 2HI + 3H) + 8HAD + 2HI + AB + 3H + 2H")
    assert [s[0] for s in a.used_symbols] == ["V", "H", "I", "A", "D", "B", "L", "M"]
    assert a.groups == {"embeddings": 16_449_536, "encoder": 18_880_768, "decoder": 25_175_296,
                        "final_norm": 1_024, "pooler": 0, "heads": 0}
    assert a.roles["attention"] == 12 * 4 * 512 * 512 + 6 * 4 * 512 * 512 + 2 * 32 * 8


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    cfg: dict[str, Any] = {
        "vocab_size": draw(st.integers(1, 300)),
        "d_model": draw(st.integers(1, 32)),
        "d_kv": draw(st.integers(1, 8)),  # d_kv · num_heads need not be d_model
        "num_heads": draw(st.integers(1, 4)),
        "d_ff": draw(st.integers(1, 48)),
        "num_layers": draw(st.integers(0, 3)),
        "num_decoder_layers": draw(st.one_of(st.none(), st.integers(0, 3))),
        "relative_attention_num_buckets": draw(st.integers(1, 40)),
        "feed_forward_proj": draw(st.sampled_from(["relu", "gated-gelu", "gated-silu", "gelu_new"])),
        "tie_word_embeddings": draw(st.booleans()),
    }
    if draw(st.booleans()):
        cfg["is_decoder"] = draw(st.booleans())  # gives T5EncoderModel's blocks a cross-attention
    if draw(st.integers(0, 4)) == 0:  # the generic names of T5Config.attribute_map
        cfg["hidden_size"] = cfg.pop("d_model")
        cfg["num_hidden_layers"] = draw(st.integers(0, 3))
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(1, 9))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 9)))}
    return t5(**cfg), draw(st.sampled_from(CLASSES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


@pytest.mark.parametrize("field, value, words", [
    ("feed_forward_proj", "relu-gelu", "feed_forward_proj 'relu-gelu' is not an activation"),
    ("feed_forward_proj", "gated-gelu-new", "feed_forward_proj 'gated-gelu-new' is not an activation"),
    ("feed_forward_proj", "gated-foo", "names activation 'foo', which transformers does not have"),
    ("feed_forward_proj", "gated", "names activation 'gated'"),
    ("feed_forward_proj", 3, "feed_forward_proj must be a string"),
    ("dense_act_fn", "nope", "dense_act_fn 'nope' names activation 'nope'"),
    ("d_model", 0, "d_model must be a positive integer, got 0"),
    ("num_layers", -1, "num_layers must be at least 0, got -1"),
    ("d_kv", 1.5, "d_kv must be an integer"),
    ("num_heads", True, "num_heads must be an integer"),
    ("tie_word_embeddings", "no", "tie_word_embeddings must be true or false"),
])
def test_refused_like_transformers(field: str, value: Any, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(t5(**{**TINY, field: value}))
    message = str(err.value)
    assert message.startswith("<dict>: ") and words in message and "\n" not in message
    if isinstance(value, str) and field in ("feed_forward_proj", "dense_act_fn"):
        # transformers refuses it too: when the config is made (a strict-dataclass validation error) or when
        # the model is built (KeyError from ACT2FN).
        with pytest.raises(Exception):
            oracle.build(t5(**{**TINY, field: value}), "T5Model")


def test_is_gated_act_in_a_saved_config_wins() -> None:
    """A config saved by transformers stores is_gated_act; transformers builds from it, not feed_forward_proj."""
    cfg = t5(**TINY, feed_forward_proj="relu", is_gated_act=True)
    exactness.assert_matches(cfg, "T5Model")
    a = paramscope.inspect(cfg)
    assert any(t.name.endswith("wi_0.weight") for t in a.inventory.tensors)
    assert any("is_gated_act true in the config overrides" in n for n in a.inventory.notes)


def _save(folder: Path, model_class: str, **extra: Any):
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.T5Config(**TINY, **extra))
    model.save_pretrained(folder)
    return model


@pytest.mark.parametrize("extra", [{}, {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}])
def test_checkpoint_saved_by_transformers(tmp_path: Path, extra: dict[str, Any]) -> None:
    import torch

    model = _save(tmp_path / "st", "T5ForConditionalGeneration", **extra)
    n = sum(p.numel() for p in model.parameters())
    torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
    for path in (tmp_path / "st", tmp_path / "pytorch_model.bin"):
        a = paramscope.inspect(path)
        assert a.parameters == n
        assert a.inventory.family == "t5"
        assert a.totals["unclassified"] == 0
        assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # safetensors keeps shared.weight only; the embed_tokens and lm_head ties are re-made on load.
    a = paramscope.inspect(tmp_path / "st")
    assert a.model_class == "T5ForConditionalGeneration"
    assert {f.code for f in a.reconciliation.findings} == {"tied_dropped"}
    assert set(a.reconciliation.findings[0].names) == {
        "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"}
    # The .bin keeps every name, the ties as shared storage: aliases, counted once.
    b = paramscope.inspect(tmp_path / "pytorch_model.bin")
    assert {t.name: t.tied_to for t in b.inventory.of_kind(Kind.ALIAS)} == {
        "encoder.embed_tokens.weight": "shared.weight", "decoder.embed_tokens.weight": "shared.weight",
        "lm_head.weight": "shared.weight"}
    # Without config.json the sizes come from the names and shapes.
    (tmp_path / "st" / "config.json").unlink()
    c = paramscope.inspect(tmp_path / "st")
    assert c.parameters == n and c.totals["unclassified"] == 0
    assert c.reconciliation is not None and c.reconciliation.agrees
    assert c.expected is not None and c.expected.parameters == n
    inferred = c.expected.inventory.config
    assert {k: inferred[k] for k in TINY} == TINY
    assert inferred["is_gated_act"] == ("feed_forward_proj" in extra)


@pytest.mark.parametrize("model_class", CLASSES)
def test_every_class_inferred_without_config(tmp_path: Path, model_class: str) -> None:
    model = _save(tmp_path, model_class, num_labels=3)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees
    # A tied lm_head is not stored, so T5ForConditionalGeneration reads as T5Model (the same count).
    assert a.model_class == {"T5ForConditionalGeneration": "T5Model"}.get(model_class, model_class)


def test_old_checkpoint_with_unused_cross_attention_bias(tmp_path: Path) -> None:
    """Checkpoints of older transformers stored a relative bias in the decoder's first cross-attention too."""
    import torch

    model = _save(tmp_path / "ref", "T5ForConditionalGeneration")
    state = model.state_dict()
    name = "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"
    state[name] = torch.zeros(8, 2)
    torch.save(state, tmp_path / "old.bin")
    a = paramscope.inspect(tmp_path / "old.bin")
    assert a.totals["unclassified"] == 0
    assert str(a.placements[name].group) == "decoder" and str(a.placements[name].role) == "attention"
    assert a.reconciliation is not None and a.reconciliation.agrees
    unexpected = [f for f in a.reconciliation.findings if f.code == "unexpected"]
    assert unexpected and name in unexpected[0].names


def test_infer_needs_t5_names() -> None:
    assert FAMILY.infer({"embeddings.word_embeddings.weight": (100, 16)}) is None
    assert FAMILY.infer({"embeddings.shared.weight": (100, 16)}) is None  # no T5 block or final norm
    cfg, cls, _ = FAMILY.infer({
        "embeddings.shared.weight": (100, 16),
        "encoder.block.0.layer_0.SelfAttention.q.weight": (12, 16),
        "encoder.block.0.layer_0.SelfAttention.relative_attention_bias.weight": (32, 3),
        "encoder.block.0.layer_1.DenseReluDense.wi.weight": (40, 16),
        "final_norm.encoder.final_layer_norm.weight": (16,),
    })
    assert cls == "T5EncoderModel"
    assert cfg == {"model_type": "t5", "vocab_size": 100, "d_model": 16, "num_layers": 1, "num_decoder_layers": 0,
                   "relative_attention_num_buckets": 32, "num_heads": 3, "d_kv": 4, "d_ff": 40}
    # The BERT family does not claim a T5 checkpoint's names.
    bert = FAMILIES["bert"]
    names = ["shared.weight", "encoder.block.0.layer.0.SelfAttention.q.weight", "encoder.final_layer_norm.weight"]
    assert bert.infer({bert.canonical(n): (4, 4) for n in names}) is None


def test_canonical_names() -> None:
    c = FAMILY.canonical
    assert c("shared.weight") == "embeddings.shared.weight"
    assert c("transformer.decoder.embed_tokens.weight") == "embeddings.decoder.embed_tokens.weight"
    assert c("encoder.final_layer_norm.weight") == "final_norm.encoder.final_layer_norm.weight"
    assert c("transformer.encoder.block.3.layer.1.DenseReluDense.wo.weight") == \
        "encoder.block.3.layer_1.DenseReluDense.wo.weight"
    assert c("lm_head.weight") == "lm_head.weight"
