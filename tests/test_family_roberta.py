"""RoBERTa, XLM-RoBERTa, CamemBERT: exactness against transformers, presets, checkpoints, inference."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope import cli
from paramscope.errors import ConfigError
from paramscope.families import FAMILIES, MODEL_TYPES, family_for
from paramscope.families.roberta import FAMILY, KINDS, MODEL_CLASSES, PREFIX, PRESETS, infer
from paramscope.inventory import Kind
from paramscope.presets import find

from . import exactness, oracle

TINY = {"vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 32, "max_position_embeddings": 66, "type_vocab_size": 1}
MODEL_TYPE = {prefix: model_type for model_type, prefix in PREFIX.items()}


def prefix_of(model_class: str) -> str:
    return next(p for p in sorted(MODEL_TYPE, key=len, reverse=True) if model_class.startswith(p))


def test_discovered_for_every_model_type() -> None:
    assert FAMILIES["roberta"] is FAMILY
    assert {t: MODEL_TYPES[t].name for t in ("roberta", "xlm-roberta", "camembert")} == dict.fromkeys(
        ("roberta", "xlm-roberta", "camembert"), "roberta")
    assert family_for({"architectures": ["CamembertForMaskedLM"]}, "<dict>") is FAMILY
    assert len(MODEL_CLASSES) == 21


# -- exactness: every preset, every class of its model type -------------------------------------------

@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("name", [p.name for p in PRESETS])
def test_every_preset_every_class(name: str, kind: str) -> None:
    preset = find(name)
    assert preset is not None
    exactness.assert_matches(dict(preset.config), PREFIX[preset.config["model_type"]] + kind)


def test_roberta_model_without_pooler() -> None:
    exactness.assert_matches(dict(find("roberta-base").config), "RobertaModel", add_pooling_layer=False)
    exactness.assert_matches(dict(find("xlm-roberta-base").config), "XLMRobertaModel", add_pooling_layer=False)


# The exact counts; published figures as the releases state them.
TOTALS = {
    "roberta-base": ("RobertaModel", 124_645_632, 124_697_433, 124_647_170, "125M"),
    "roberta-large": ("RobertaModel", 355_359_744, 355_412_057, 355_361_794, "355M"),
    "xlm-roberta-base": ("XLMRobertaModel", 278_043_648, 278_295_186, 278_045_186, "250M"),
    "xlm-roberta-large": ("XLMRobertaModel", 559_890_432, 560_142_482, 559_892_482, "560M"),
    "camembert-base": ("CamembertModel", 110_621_952, 110_655_493, 110_623_490, "110M"),
}


@pytest.mark.parametrize("name", sorted(TOTALS))
def test_preset_totals(name: str) -> None:
    cls, base, mlm, seq, published = TOTALS[name]
    preset = find(name)
    assert (preset.model_class, preset.published) == (cls, published)
    prefix = cls.removesuffix("Model")
    assert paramscope.inspect(name).parameters == base
    assert paramscope.inspect(name, model_class=f"{prefix}ForMaskedLM").parameters == mlm
    assert paramscope.inspect(name, model_class=f"{prefix}ForSequenceClassification").parameters == seq
    # The released checkpoints have 514 padded positions and a single token type.
    assert (preset.config["max_position_embeddings"], preset.config["type_vocab_size"]) == (514, 1)


def test_preset_aliases() -> None:
    assert find("FacebookAI/roberta-base").name == "roberta-base"
    assert find("FacebookAI/xlm-roberta-large").name == "xlm-roberta-large"
    assert find("almanach/camembert-base").name == "camembert-base"


def test_groups_of_the_classification_head() -> None:
    a = paramscope.inspect("roberta-base", model_class="RobertaForSequenceClassification")
    H = 768
    assert a.groups["pooler"] == 0
    assert a.groups["heads"] == (H * H + H) + (2 * H + 2)
    assert a.groups["embeddings"] == (50265 + 514 + 1 + 2) * H
    assert {t.name for t in a.inventory.tensors if a.placements[t.name].group == "heads"} == {
        "classifier.dense.weight", "classifier.dense.bias", "classifier.out_proj.weight", "classifier.out_proj.bias"}


def test_xlm_lm_head_owns_the_tied_matrix() -> None:
    """XLM-R builds lm_head first: the V×H matrix is named lm_head.decoder.weight, the word table is the alias."""
    a = paramscope.inspect("xlm-roberta-base", model_class="XLMRobertaForMaskedLM")
    aliases = {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)}
    assert aliases == {"roberta.embeddings.word_embeddings.weight": "lm_head.decoder.weight",
                       "lm_head.decoder.bias": "lm_head.bias"}
    assert a.inventory.tensors[0].name == "lm_head.bias"
    # Non-embedding stays what it is for RoBERTa's own order: the shared matrix keeps the embedding role.
    b = paramscope.inspect("xlm-roberta-base", model_class="XLMRobertaModel", add_pooling_layer=False)
    assert a.totals["non_embedding_parameters"] == b.totals["non_embedding_parameters"] + 768 * 768 + 3 * 768 + 250002
    assert a.roles["embedding"] == (250002 + 514 + 1) * 768


def test_resolve_defaults_per_model_type() -> None:
    """XLM-R and CamemBERT configs default to BERT's 30522 words; RoBERTa's to 50265; all to 512 and 2."""
    for model_type, vocab in (("roberta", 50265), ("xlm-roberta", 30522), ("camembert", 30522)):
        cfg = FAMILY.resolve({"model_type": model_type}, "<dict>")
        assert (cfg["vocab_size"], cfg["max_position_embeddings"], cfg["type_vocab_size"], cfg["pad_token_id"]) == (
            vocab, 512, 2, 1)
        exactness.assert_matches({"model_type": model_type, "num_hidden_layers": 1}, PREFIX[model_type] + "Model")


# -- random configurations ------------------------------------------------------------------------------

@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 4))
    model_class = draw(st.sampled_from(MODEL_CLASSES))
    # Mostly the class's own model type; sometimes another (the tensors are the same).
    model_type = draw(st.one_of(st.just(MODEL_TYPE[prefix_of(model_class)]), st.sampled_from(sorted(PREFIX))))
    cfg: dict[str, Any] = {
        "model_type": model_type,
        "vocab_size": draw(st.integers(2, 3000)),
        "hidden_size": heads * draw(st.integers(1, 16)),
        "num_attention_heads": heads,
        "num_hidden_layers": draw(st.integers(0, 4)),
        "intermediate_size": draw(st.integers(1, 200)),
        "max_position_embeddings": draw(st.integers(2, 600)),
        "type_vocab_size": draw(st.integers(0, 3)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    pad = draw(st.sampled_from(["default", "none", "value"]))
    if pad == "none":
        cfg["pad_token_id"] = None
    elif pad == "value":
        cfg["pad_token_id"] = draw(st.integers(0, min(cfg["vocab_size"], cfg["max_position_embeddings"]) - 1))
    if draw(st.booleans()):
        cfg["is_decoder"] = True
        cfg["add_cross_attention"] = draw(st.booleans())
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(1, 9))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 9)))}
    return cfg, model_class


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


# -- what transformers refuses, paramscope refuses in one line -------------------------------------------

REFUSED = [
    ({"max_position_embeddings": 1}, "pad_token_id 1 is also the padding row of the position table"),
    ({"pad_token_id": 100}, "pad_token_id 100 is not a token of the vocabulary"),
    ({"hidden_size": 18, "num_attention_heads": 4}, "hidden_size 18 is not a multiple of num_attention_heads 4"),
    ({"add_cross_attention": True}, "add_cross_attention needs is_decoder"),
    ({"problem_type": "single_label_classification", "num_labels": 1}, "problem_type single_label_classification"),
    ({"vocab_size": 100.0}, "vocab_size must be an integer"),
    ({"tie_word_embeddings": 1}, "tie_word_embeddings must be true or false"),
]


@pytest.mark.parametrize(("change", "message"), REFUSED)
def test_refused_like_transformers(change: dict[str, Any], message: str) -> None:
    cfg = {"model_type": "xlm-roberta", **TINY, **change}
    with pytest.raises(Exception):
        oracle.build(cfg, "XLMRobertaForSequenceClassification")
    with pytest.raises(ConfigError) as e:
        paramscope.inspect(cfg, model_class="XLMRobertaForSequenceClassification")
    assert message in str(e.value) and "\n" not in str(e.value)
    assert str(e.value).startswith("<dict>: ")


def test_padding_row_that_fits_is_accepted() -> None:
    exactness.assert_matches({"model_type": "roberta", **TINY, "max_position_embeddings": 2}, "RobertaModel")
    exactness.assert_matches({"model_type": "roberta", **TINY, "max_position_embeddings": 1, "pad_token_id": None},
                             "RobertaForMaskedLM")


# -- checkpoints saved by transformers --------------------------------------------------------------------

def save(folder: Path, model_class: str, **extra: Any):
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    config_class = getattr(transformers, f"{prefix_of(model_class)}Config")
    model = getattr(transformers, model_class)(config_class(**{**TINY, **extra}))
    model.save_pretrained(folder)
    torch.save(model.state_dict(), folder / "x.bin")
    return model


def codes(a: paramscope.Anatomy) -> dict[str, str]:
    assert a.reconciliation is not None
    return {f.code: str(f.severity) for f in a.reconciliation.findings}


# XLM-R and CamemBERT LM classes, tied: save_pretrained keeps roberta.embeddings.word_embeddings.weight and
# drops lm_head.decoder.weight, the name transformers reports first; reconcile.py treats the dropped
# first name as missing (see test_xlm_lm_folder_reconciles below).
HEAD_FIRST_LM = {c for c in MODEL_CLASSES if not c.startswith("Roberta") and c.endswith("LM")}
# What inference can tell apart without a config (the class's model type is not in the weights).
INFERRED = {"Model": "BertModel", "ForCausalLM": "RobertaForMaskedLM"}


@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_class_saved_by_transformers(tmp_path: Path, model_class: str) -> None:
    model = save(tmp_path, model_class)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n
    assert (a.model_class, a.inventory.family) == (model_class, "roberta")
    assert a.totals["unclassified"] == 0
    if model_class not in HEAD_FIRST_LM:
        assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # The state_dict itself (both names of each tied pair, sharing storage), with the folder's config.
    b = paramscope.inspect(tmp_path / "x.bin", config=tmp_path / "config.json")
    assert (b.parameters, b.totals["unclassified"]) == (n, 0)
    assert b.reconciliation is not None and b.reconciliation.agrees and codes(b) == {}
    # Without a config: the sizes and the class inferred from the names and shapes.
    kind = model_class[len(prefix_of(model_class)):]
    expected = INFERRED.get(kind, f"Roberta{kind}")
    if model_class in HEAD_FIRST_LM:
        expected = "XLMRobertaForMaskedLM"  # the head-first order shows in the state_dict
    c = paramscope.inspect(tmp_path / "x.bin")
    assert (c.parameters, c.model_class, c.totals["unclassified"]) == (n, expected, 0)
    assert c.reconciliation is not None and c.reconciliation.agrees
    (tmp_path / "config.json").unlink()
    d = paramscope.inspect(tmp_path)
    assert (d.parameters, d.totals["unclassified"]) == (n, 0)
    assert d.model_class == INFERRED.get(kind, f"Roberta{kind}")
    assert d.reconciliation is not None and d.reconciliation.agrees
    # A bare base model has BERT's names: read as BERT, with the same count.
    assert d.inventory.family == ("bert" if kind == "Model" else "roberta")


def test_xlm_lm_folder_reconciles(tmp_path: Path) -> None:
    save(tmp_path, "XLMRobertaForMaskedLM")
    a = paramscope.inspect(tmp_path)
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation


def test_untied_lm_head_inferred(tmp_path: Path) -> None:
    model = save(tmp_path, "RobertaForMaskedLM", tie_word_embeddings=False)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters()) == 7556 + 100 * 16 + 100
    assert a.inventory.config["tie_word_embeddings"] is False
    assert a.reconciliation.agrees and codes(a) == {}


def test_folder_of_an_mlm_with_its_tie_dropped(tmp_path: Path) -> None:
    save(tmp_path, "RobertaForMaskedLM")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == 7556
    assert codes(a) == {"tied_dropped": "ok"}
    assert a.reconciliation.findings[0].names == ("lm_head.decoder.weight", "lm_head.decoder.bias")


def test_token_classification_with_labels(tmp_path: Path) -> None:
    save(tmp_path, "CamembertForTokenClassification", num_labels=7)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.inventory.config["num_labels"] == 7
    assert a.groups["heads"] == 7 * 16 + 7


def test_live_module() -> None:
    import torch
    import transformers

    with torch.device("meta"):
        model = transformers.XLMRobertaForMaskedLM(transformers.XLMRobertaConfig(**TINY))
    a = paramscope.inspect(model)
    assert a.parameters == sum(p.numel() for p in model.parameters()) == 7556
    assert a.inventory.family == "roberta" and a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees


# -- inference on names alone -----------------------------------------------------------------------------

def test_infer_refuses_what_is_not_roberta() -> None:
    assert infer({"encoder.layer.0.intermediate.dense.weight": (32, 16)}) is None
    assert infer({"embeddings.word_embeddings.weight": (100, 16), "cls.predictions.bias": (100,)}) is None
    assert infer({"lm_head.decoder.weight": (100, 16)}) is None  # no embeddings at all


def test_infer_sizes() -> None:
    shapes = {"embeddings.word_embeddings.weight": (500, 128), "embeddings.position_embeddings.weight": (258, 128),
              "embeddings.token_type_embeddings.weight": (1, 128),
              "encoder.layer.2.intermediate.dense.weight": (512, 128),
              "encoder.layer.0.intermediate.dense.weight": (512, 128),
              "classifier.dense.weight": (128, 128), "classifier.out_proj.weight": (3, 128),
              "encoder.layer.1.crossattention.self.query.weight": (128, 128)}
    cfg, cls, notes = infer(shapes)
    assert cls == "RobertaForSequenceClassification"
    assert cfg == {"model_type": "roberta", "vocab_size": 500, "hidden_size": 128, "max_position_embeddings": 258,
                   "type_vocab_size": 1, "num_hidden_layers": 3, "intermediate_size": 512,
                   "num_attention_heads": 2, "is_decoder": True, "add_cross_attention": True, "num_labels": 3}
    assert notes[0] == "num_attention_heads is not in the weights; taken as 2 (it does not change the count)"


def test_canonical_strips_the_base_prefix_only() -> None:
    assert FAMILY.canonical("roberta.encoder.layer.3.output.dense.weight") == "encoder.layer.3.output.dense.weight"
    assert FAMILY.canonical("lm_head.dense.weight") == "lm_head.dense.weight"
    assert FAMILY.place("roberta.encoder.layer.3.output.dense.weight").path == ("layer", "3", "output", "dense")
    assert str(FAMILY.place("lm_head.layer_norm.weight").role) == "head"
    assert str(FAMILY.place("roberta.embeddings.LayerNorm.bias").role) == "norm"


# -- what a person sees -------------------------------------------------------------------------------------

def test_show_depth0(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "roberta-base", "--depth", "0", "--color", "never",
                     "--model-class", "RobertaForSequenceClassification"]) == 0
    out = capsys.readouterr().out
    assert out.startswith("roberta-base: roberta · RobertaForSequenceClassification\n")
    assert "124,647,170 parameters" in out
    assert "  layer ×12 (7,087,872 each)" in out and "roberta." not in out
    assert "  classifier " in out and "pooler   " not in out.split("by role")[0]


def test_formula_notes(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "roberta-base", "--formula", "--color", "never", "--model-class",
                     "RobertaForMaskedLM"]) == 0
    out = capsys.readouterr().out
    assert "(V + P + T + 2)·H + L·(4H² + 2HI + 9H + I) + H² + V + 3H" in out
    assert "= 124,697,433" in out
    assert "P = 514 = 512 + 1 + 1" in out and "T = 1" in out
    assert "decoder tied to the word embeddings" in out
    assert cli.main(["show", "camembert-base", "--formula", "--color", "never", "--model-class",
                     "CamembertForSequenceClassification", "--set", "num_labels=5"]) == 0
    out = capsys.readouterr().out
    assert "classifier.out_proj (HC + C) on the <s> token" in out and "C = num_labels = 5" in out


def test_what_if_fields() -> None:
    a = paramscope.inspect("roberta-base", overrides={"type_vocab_size": 2, "max_position_embeddings": 1026})
    assert a.parameters == 124_645_632 + 768 + 512 * 768
    with pytest.raises(ConfigError):
        paramscope.inspect("roberta-base", overrides={"layer_norm_eps": 1e-5})
