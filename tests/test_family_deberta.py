"""DeBERTa-v2/v3: every preset and class, random configurations and checkpoints, tensor by tensor
against transformers building the model on the meta device."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import ConfigError
from paramscope.families import FAMILIES
from paramscope.families.deberta import MODEL_CLASSES, PRESETS
from paramscope.inventory import Kind

from . import exactness, oracle

PRESET = {p.name: p for p in PRESETS}


@pytest.mark.parametrize("name", sorted(PRESET))
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_preset_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(dict(PRESET[name].config), model_class)


@pytest.mark.parametrize("legacy", [True, False])
@pytest.mark.parametrize("tie", [True, False])
def test_both_mlm_heads(legacy: bool, tie: bool) -> None:
    exactness.assert_matches({**PRESET["microsoft/deberta-v3-small"].config, "legacy": legacy,
                              "tie_word_embeddings": tie}, "DebertaV2ForMaskedLM")


def test_preset_figures() -> None:
    """Exact totals of DebertaV2Model, against the model cards' backbone + embedding figures."""
    exact = {name: paramscope.inspect(name) for name in PRESET}
    assert {n: a.parameters for n, a in exact.items()} == {
        "microsoft/deberta-v3-base": 183_831_552,  # card: 86M backbone + 98M embedding
        "microsoft/deberta-v3-large": 434_012_160,  # 304M + 131M
        "microsoft/deberta-v3-small": 141_304_320,  # 44M + 98M
        "microsoft/deberta-v3-xsmall": 70_682_112,  # 22M + 48M
        "microsoft/mdeberta-v3-base": 277_529_088,
        "microsoft/deberta-v2-xlarge": 884_593_152,  # 900M
        "microsoft/deberta-v2-xxlarge": 1_564_549_632,  # 1.5B
    }
    base = exact["microsoft/deberta-v3-base"]
    assert base.groups["embeddings"] == 128100 * 768 + 2 * 768
    assert base.roles["embedding"] == 128100 * 768 + 2 * 256 * 768  # word table + relative table
    assert base.totals["buffers"] == 512 and base.totals["unclassified"] == 0
    assert paramscope.inspect("deberta-v3-base").parameters == base.parameters  # alias
    xl = exact["microsoft/deberta-v2-xlarge"]
    assert xl.roles["other"] == 1536 * 1536 * 3 + 1536  # the convolution beside layer 0


def test_formula_reads_in_letters() -> None:
    a = paramscope.inspect("microsoft/deberta-v3-base")
    order = a.family.order
    assert a.total_formula.render(order=order) == "VH + 2H + L·(4H² + 2HI + 9H + I) + 2KH + 2H"
    assert [s[0] for s in a.used_symbols] == ["V", "K", "H", "I", "L"]
    assert any("share_att_key is true" in n for n in a.formula_notes)


def test_what_if_and_fields() -> None:
    a = paramscope.inspect("microsoft/deberta-v3-base", overrides={"share_att_key": False})
    # each of 12 layers gains pos_key_proj and pos_query_proj (p2c|c2p)
    assert a.parameters - a.baseline.parameters == 12 * 2 * (768 * 768 + 768)
    with pytest.raises(ConfigError, match="not a field that changes the count"):
        paramscope.inspect("microsoft/deberta-v3-base", overrides={"hidden_act": "relu"})


# -- random configurations -------------------------------------------------------------------------------

POS_ATT = [None, "p2c|c2p", "c2p|p2c", "c2p", "P2C", " p2c | c2p ", ["p2c", "c2p"], ["c2p"], ["p2c"], [], ["C2P"],
           ["p2p"]]


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 4))
    hidden = heads * draw(st.integers(1, 12))
    cfg: dict[str, Any] = {
        "model_type": "deberta-v2",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_hidden_layers": draw(st.integers(0, 4)),
        "intermediate_size": draw(st.integers(1, 64)),
        "max_position_embeddings": draw(st.integers(1, 128)),
        "type_vocab_size": draw(st.integers(0, 2)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    maybe = lambda key, strategy: cfg.__setitem__(key, draw(strategy)) if draw(st.booleans()) else None  # noqa: E731
    maybe("relative_attention", st.booleans())
    maybe("position_buckets", st.sampled_from([-1, 0, 1, 2, 5, 16]))
    maybe("max_relative_positions", st.sampled_from([-1, 0, 1, 3, 40]))
    maybe("share_att_key", st.booleans())
    maybe("pos_att_type", st.sampled_from(POS_ATT))
    maybe("position_biased_input", st.booleans())
    maybe("norm_rel_ebd", st.sampled_from(["none", "layer_norm", "LAYER_NORM|none"]))
    maybe("legacy", st.booleans())
    maybe("embedding_size", st.integers(1, 24))
    maybe("attention_head_size", st.integers(1, 8))
    maybe("pooler_hidden_size", st.integers(1, 24))
    if draw(st.booleans()):
        cfg["conv_kernel_size"] = draw(st.integers(-1, 4))
        if draw(st.booleans()):
            cfg["conv_groups"] = draw(st.sampled_from([g for g in range(1, hidden + 1) if hidden % g == 0]))
    cfg["pad_token_id"] = draw(st.one_of(st.none(), st.integers(0, cfg["vocab_size"] - 1)))
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(1, 6))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 6)))}
    return cfg, draw(st.sampled_from(MODEL_CLASSES))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


# -- refusals --------------------------------------------------------------------------------------------

TINY = {"model_type": "deberta-v2", "vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 32, "max_position_embeddings": 64}


@pytest.mark.parametrize("bad, words", [
    ({"hidden_size": 18, "num_attention_heads": 4}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
    ({"conv_kernel_size": 3, "conv_groups": 3}, "not divisible by conv_groups 3"),
    ({"relative_attention": 1}, "relative_attention must be true or false"),
    ({"max_relative_positions": None}, "max_relative_positions must be an integer"),
    ({"pos_att_type": 5}, "pos_att_type must be a string"),
    ({"pos_att_type": ["c2p", 2]}, "pos_att_type must be a string"),
    ({"norm_rel_ebd": True}, "norm_rel_ebd must be a string"),
    ({"embedding_size": None}, "embedding_size must be an integer"),
    ({"conv_kernel_size": 2.5}, "conv_kernel_size must be an integer"),
    ({"relative_attention": True, "position_buckets": 2.5}, "position_buckets must be an integer"),
    ({"pad_token_id": 100}, "pad_token_id 100 is not a token"),
    ({"legacy": None}, "legacy must be true or false"),
])
def test_refuses_what_transformers_refuses(bad: dict[str, Any], words: str) -> None:
    cfg = {**TINY, **bad}
    with pytest.raises(Exception):
        oracle.build(cfg, "DebertaV2ForMaskedLM")
    with pytest.raises(ConfigError, match=words) as err:
        paramscope.inspect(cfg, model_class="DebertaV2ForMaskedLM")
    assert "\n" not in str(err.value) and str(err.value).startswith("<dict>: ")


# -- checkpoints -----------------------------------------------------------------------------------------

# v3-like (shared keys, buckets, no absolute positions) and v2-like with everything optional switched on.
CKPT_CONFIGS = {
    "v3": {**TINY, "relative_attention": True, "position_buckets": 8, "norm_rel_ebd": "layer_norm",
           "share_att_key": True, "pos_att_type": "p2c|c2p", "position_biased_input": False, "num_labels": 3},
    "v2": {**TINY, "relative_attention": True, "max_relative_positions": 6, "pos_att_type": ["c2p", "p2c"],
           "conv_kernel_size": 3, "type_vocab_size": 2, "legacy": False, "embedding_size": 8, "num_labels": 4},
}


def _save(folder: Path, model_class: str, config: dict[str, Any], fmt: str):
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(oracle.make_config(config))
    model.save_pretrained(folder)
    if fmt == "bin":  # as older transformers saved: a pickled state_dict next to config.json
        (folder / "model.safetensors").unlink()
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
    return model


@pytest.mark.parametrize("fmt", ["safetensors", "bin"])
@pytest.mark.parametrize("variant", sorted(CKPT_CONFIGS))
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_checkpoints(tmp_path: Path, model_class: str, variant: str, fmt: str) -> None:
    model = _save(tmp_path, model_class, CKPT_CONFIGS[variant], fmt)
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.inventory.family == "deberta-v2" and a.model_class == model_class
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json the sizes and class come from the names and shapes alone; a bare DebertaV2Model
    # (no "deberta." prefix) also has names BERT's inference accepts, but DeBERTa's rules classify more.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.inventory.family == "deberta-v2" and b.model_class == model_class
    assert b.parameters == a.parameters
    assert b.totals["unclassified"] == 0
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation
    assert b.expected is not None and b.expected.parameters == a.parameters


def test_tied_decoder_in_a_bin(tmp_path: Path) -> None:
    """torch.save keeps the tied decoder under its own name, sharing storage: an alias, counted once."""
    model = _save(tmp_path, "DebertaV2ForMaskedLM", CKPT_CONFIGS["v3"], "bin")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters()) == 6_772
    assert {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)} == {
        "cls.predictions.decoder.weight": "deberta.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias"}


def test_inference_notes_and_values(tmp_path: Path) -> None:
    _save(tmp_path, "DebertaV2ForSequenceClassification", CKPT_CONFIGS["v3"], "safetensors")
    saved = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").unlink()
    fam = FAMILIES["deberta-v2"]
    from paramscope.sources import checkpoint

    shapes = {fam.canonical(t.name): t.shape for t in checkpoint.read(tmp_path).tensors}
    cfg, cls, notes = fam.infer(shapes)
    assert cls == "DebertaV2ForSequenceClassification"
    for key in ("vocab_size", "hidden_size", "num_hidden_layers", "intermediate_size", "type_vocab_size",
                "position_buckets", "share_att_key", "position_biased_input", "norm_rel_ebd", "num_labels"):
        assert cfg[key] == saved.get(key, len(saved.get("id2label", {}))), key
    assert any("share_att_key" in n for n in notes)
    # A BERT checkpoint is not a DeBERTa one, nor is DeBERTa v1 (in_proj).
    assert fam.infer({"embeddings.word_embeddings.weight": (10, 4), "embeddings.LayerNorm.weight": (4,),
                      "encoder.layer.0.attention.self.query.weight": (4, 4)}) is None
    assert fam.infer({"embeddings.word_embeddings.weight": (10, 4), "embeddings.LayerNorm.weight": (4,),
                      "encoder.rel_embeddings.weight": (8, 4),
                      "encoder.layer.0.attention.self.in_proj.weight": (12, 4)}) is None
