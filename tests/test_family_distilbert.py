"""DistilBERT against transformers, tensor by tensor: the preset, every class, random configurations,
checkpoints saved by transformers, and the configurations transformers refuses."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What transformers 5 raises for a field of the wrong type (its configs are strict dataclasses).
from huggingface_hub.errors import StrictDataclassFieldValidationError as STRICT

import paramscope
from paramscope import cli
from paramscope.families.distilbert import MODEL_CLASSES, PRESETS
from paramscope.inventory import Kind

from . import exactness, oracle

TINY = {"vocab_size": 100, "dim": 16, "n_heads": 2, "n_layers": 2, "hidden_dim": 32, "max_position_embeddings": 64}


def distil(**fields: Any) -> dict[str, Any]:
    return {"model_type": "distilbert", **TINY, **fields}


@pytest.mark.parametrize("name", [p.name for p in PRESETS])
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_preset_every_class(name: str, model_class: str) -> None:
    preset = next(p for p in PRESETS if p.name == name)
    exactness.assert_matches(dict(preset.config), model_class)


def test_published_figure() -> None:
    a = paramscope.inspect("distilbert-base-uncased")
    assert (a.model_class, a.parameters) == ("DistilBertModel", 66_362_880)  # the paper's "66M"
    assert paramscope.inspect("distilbert/distilbert-base-uncased", model_class="DistilBertForMaskedLM").parameters \
        == 66_985_530  # the hub checkpoint's class: + vocab_transform, vocab_layer_norm, vocab_projector.bias
    assert a.groups == {"embeddings": 23_835_648, "encoder": 42_527_232, "decoder": 0, "final_norm": 0,
                        "pooler": 0, "heads": 0}
    assert a.totals["buffers"] == 512
    assert [(t.name, t.shape, t.dtype) for t in a.inventory.of_kind(Kind.BUFFER)] == [
        ("embeddings.position_ids", (1, 512), "int64")]
    assert next(p for p in PRESETS).published == "66M"


def test_variants_that_change_the_count() -> None:
    for fields in ({"tie_word_embeddings": False}, {"sinusoidal_pos_embds": True}, {"n_layers": 0},
                   {"n_layers": 1}, {"hidden_size": 32, "n_heads": 4}, {"id2label": {"0": "a", "1": "b", "2": "c"}},
                   {"num_labels": 5, "id2label": {"0": "a"}}, {"dtype": "bfloat16"}):
        for model_class in MODEL_CLASSES:
            cfg = distil(**fields)
            if model_class == "DistilBertForQuestionAnswering" and ("id2label" in fields or "num_labels" in fields):
                continue
            exactness.assert_matches(cfg, model_class)


def test_bert_names_win_over_distilbert_names() -> None:
    """DistilBertConfig.attribute_map: hidden_size, num_attention_heads, num_hidden_layers set dim, n_heads,
    n_layers, and win when a config has both."""
    cfg = distil(hidden_size=24, num_attention_heads=3, num_hidden_layers=3, dim=8, n_heads=1, n_layers=1)
    made = oracle.make_config(cfg)
    assert (made.dim, made.n_heads, made.n_layers) == (24, 3, 3)
    a = paramscope.inspect(cfg)
    assert {k: a.inventory.config[k] for k in ("dim", "n_heads", "n_layers", "hidden_size")} == {
        "dim": 24, "n_heads": 3, "n_layers": 3, "hidden_size": 24}
    exactness.assert_matches(cfg, "DistilBertForSequenceClassification")


def test_hidden_dim_default_is_not_4_dim() -> None:
    cfg = {"model_type": "distilbert", "dim": 64, "n_heads": 4, "n_layers": 1, "intermediate_size": 256}
    a = paramscope.inspect(cfg)
    assert a.values["I"] == 3072 == oracle.make_config(cfg).hidden_dim
    assert ("intermediate_size 256 is not a DistilBERT field and transformers ignores it; the feed-forward size is "
            "hidden_dim (3072)") in a.inventory.notes
    exactness.assert_matches(cfg, "DistilBertModel")


def test_what_if_on_the_preset() -> None:
    a = paramscope.inspect("distilbert-base-uncased", overrides={"n_layers": 12})
    assert a.parameters == 66_362_880 + 6 * 7_087_872
    assert a.baseline is not None and a.baseline.parameters == 66_362_880
    b = paramscope.inspect("distilbert-base-uncased", overrides={"num_hidden_layers": 3})
    assert b.parameters == 66_362_880 - 3 * 7_087_872


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 4))
    dim = heads * draw(st.integers(1, 12))
    layers = draw(st.integers(0, 4))
    cfg: dict[str, Any] = {
        "model_type": "distilbert",
        "vocab_size": draw(st.integers(1, 300)),
        "max_position_embeddings": draw(st.integers(1, 64)),
        "hidden_dim": draw(st.integers(1, 64)),
        "sinusoidal_pos_embds": draw(st.booleans()),
        "tie_word_embeddings": draw(st.booleans()),
    }
    names = draw(st.sampled_from(["distilbert", "bert", "both"]))
    if names in ("distilbert", "both"):
        cfg.update(dim=dim, n_heads=heads, n_layers=layers)
    if names in ("bert", "both"):
        cfg.update(hidden_size=dim, num_attention_heads=heads, num_hidden_layers=layers)
    if names == "both":  # the BERT names win: the own names are decoys
        cfg.update(dim=dim + 1, n_heads=heads + 1, n_layers=layers + 1)
    cfg["pad_token_id"] = draw(st.one_of(st.none(), st.integers(0, cfg["vocab_size"] - 1)))
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(0, 12))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 12)))}
    return cfg, draw(st.sampled_from(MODEL_CLASSES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    labels = cfg.get("num_labels", len(cfg.get("id2label", {})) or 2)
    if model_class == "DistilBertForQuestionAnswering" and labels != 2:
        # transformers refuses it; so does paramscope, in one line naming the fix.
        with pytest.raises(ValueError, match="num_labels should be 2"):
            oracle.build(cfg, model_class)
        with pytest.raises(paramscope.ConfigError, match="set num_labels=2"):
            paramscope.inspect(cfg, model_class=model_class)
        return
    exactness.assert_matches(cfg, model_class)


# -- configurations transformers refuses --------------------------------------------------------------------

REFUSED = [
    (distil(dim=30, n_heads=4), "DistilBertModel", ValueError,
     "<dict>: dim 30 is not a multiple of n_heads 4 (DistilBERT refuses it); set dim to a multiple of 4 (e.g. 28) "
     "or change n_heads"),
    (distil(hidden_size=30, num_attention_heads=4), "DistilBertModel", ValueError,
     "<dict>: dim 30 is not a multiple of n_heads 4 (DistilBERT refuses it); set dim to a multiple of 4 (e.g. 28) "
     "or change n_heads"),
    (distil(vocab_size=1.5), "DistilBertModel", STRICT,
     "<dict>: vocab_size must be an integer, got 1.5; write it as a whole number"),
    (distil(hidden_dim=True), "DistilBertModel", STRICT,
     "<dict>: hidden_dim must be an integer, got True; write it as a whole number"),
    (distil(sinusoidal_pos_embds=1), "DistilBertModel", STRICT,
     "<dict>: sinusoidal_pos_embds must be true or false, got 1"),
    (distil(pad_token_id=100), "DistilBertModel", Exception,
     "<dict>: pad_token_id 100 is not a token of the vocabulary (vocab_size 100); set pad_token_id below vocab_size"),
    (distil(num_labels=3), "DistilBertForQuestionAnswering", ValueError,
     "DistilBertForQuestionAnswering: num_labels must be 2 (start and end logits), got 3 (transformers refuses "
     "it); set num_labels=2"),
]


@pytest.mark.parametrize("cfg, model_class, refusal, message", REFUSED)
def test_refused_as_transformers_refuses(cfg: dict[str, Any], model_class: str, refusal: type, message: str) -> None:
    with pytest.raises(refusal):
        oracle.build(cfg, model_class)
    with pytest.raises(paramscope.ConfigError) as err:
        paramscope.inspect(cfg, model_class=model_class)
    assert str(err.value) == message and "\n" not in message


# -- checkpoints ---------------------------------------------------------------------------------------------

def save_model(folder: Path, model_class: str, **fields: Any):
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.DistilBertConfig(**{**TINY, **fields}))
    model.save_pretrained(folder)
    return model


def assert_checkpoint(a: paramscope.Anatomy, n: int, model_class: str) -> None:
    assert a.inventory.family == "distilbert"
    assert a.parameters == n
    assert a.model_class == model_class
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation


@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str) -> None:
    import torch

    model = save_model(tmp_path / "st", model_class)
    n = sum(p.numel() for p in model.parameters())
    assert_checkpoint(paramscope.inspect(tmp_path / "st"), n, model_class)
    # The same weights as torch.save(state_dict) wrote them: tied tensors share storage, buffers absent.
    (tmp_path / "bin").mkdir()
    torch.save(model.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    (tmp_path / "bin" / "config.json").write_text((tmp_path / "st" / "config.json").read_text())
    assert_checkpoint(paramscope.inspect(tmp_path / "bin"), n, model_class)
    # Without config.json the sizes and the class are inferred from the names and shapes.
    for folder in ("st", "bin"):
        (tmp_path / folder / "config.json").unlink()
    for path in (tmp_path / "st", tmp_path / "bin", tmp_path / "bin" / "pytorch_model.bin"):
        b = paramscope.inspect(path)
        assert_checkpoint(b, n, model_class)
        assert "config inferred from the tensor names and shapes" in b.inventory.notes


def test_inferred_sizes(tmp_path: Path) -> None:
    save_model(tmp_path, "DistilBertForMaskedLM", tie_word_embeddings=False, n_layers=3, hidden_dim=40)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.values == {"V": 100, "P": 64, "H": 16, "I": 40, "L": 3, "C": 2}
    assert not a.inventory.of_kind(Kind.ALIAS)  # untied: vocab_projector.weight is a parameter of its own
    assert a.inventory.config["tie_word_embeddings"] is False


def test_saved_config_json_reads_back(tmp_path: Path) -> None:
    save_model(tmp_path, "DistilBertForSequenceClassification", n_layers=1, num_labels=4)
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["model_type"] == "distilbert" and "dim" in saved
    a = paramscope.inspect(tmp_path / "config.json")
    assert (a.model_class, a.values["C"], a.values["L"]) == ("DistilBertForSequenceClassification", 4, 1)


# -- output --------------------------------------------------------------------------------------------------

def test_formula_reads_like_bert() -> None:
    out = cli.run(["show", "distilbert-base-uncased", "--formula", "--model-class", "DistilBertForMaskedLM",
                   "--color", "never"])
    assert "H = dim = 768  (hidden size)" in out and "I = hidden_dim = 3,072  (feed-forward size)" in out
    assert "(V + P + 2)·H" in out
    assert "L·(4H² + 2HI + 9H + I)" in out
    assert "layer ×6" in out and "attention.q_lin" in out and "7,087,872 each" in out
    assert "= 66,985,530" in out
    assert "L = 6: half of BERT-base's 12 layers" in out
    assert "no token-type table" in out and "no pooler" in out
    tree = cli.run(["distilbert-base-uncased", "--color", "never"])
    assert "layer ×6 (7,087,872 each)" in tree
