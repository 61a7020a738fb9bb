"""ELECTRA against transformers, tensor by tensor: the presets, every class, random configurations,
checkpoints saved by transformers, and the configurations transformers refuses."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

# What transformers 5 raises for a field of the wrong type (its configs are strict dataclasses).
from huggingface_hub.errors import StrictDataclassFieldValidationError as STRICT

import paramscope
from paramscope import cli
from paramscope.families.electra import MODEL_CLASSES, PRESETS
from paramscope.inventory import Kind

from . import exactness, oracle

# embedding_size < hidden_size, as in ELECTRA-Small: every class has embeddings_project.
TINY = {"vocab_size": 100, "embedding_size": 8, "hidden_size": 16, "num_attention_heads": 2, "num_hidden_layers": 2,
        "intermediate_size": 32, "max_position_embeddings": 64}
PRESET = {p.name: p for p in PRESETS}


def electra(**fields: Any) -> dict[str, Any]:
    return {"model_type": "electra", **TINY, **fields}


@pytest.mark.parametrize("name", sorted(PRESET))
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_preset_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(dict(PRESET[name].config), model_class)


def test_published_figures() -> None:
    # The README's figures (14M, 110M) count the released discriminator, head included.
    small = paramscope.inspect("google/electra-small-discriminator")
    assert (small.model_class, small.parameters, PRESET[small.source].published) == (
        "ElectraForPreTraining", 13_549_057, "14M")
    base = paramscope.inspect("electra-base-discriminator")
    assert (base.model_class, base.parameters, PRESET[base.source].published) == (
        "ElectraForPreTraining", 109_483_009, "110M")
    assert paramscope.inspect("google/electra-small-discriminator", model_class="ElectraModel").parameters \
        == 13_483_008
    assert paramscope.inspect("google/electra-base-discriminator", model_class="ElectraModel").parameters \
        == 108_891_648  # BertModel's bert-base-uncased less its pooler: the same encoder
    gen = paramscope.inspect("google/electra-small-generator")
    assert (gen.model_class, gen.parameters, PRESET[gen.source].published) == (
        "ElectraForMaskedLM", 13_546_682, None)
    assert {t.name: t.tied_to for t in gen.inventory.of_kind(Kind.ALIAS)} == {
        "generator_lm_head.weight": "electra.embeddings.word_embeddings.weight"}
    assert small.groups["embeddings"] == 30522 * 128 + 512 * 128 + 2 * 128 + 2 * 128 + 128 * 256 + 256
    assert small.roles["embedding"] == 30522 * 128 + 512 * 128 + 2 * 128 + 128 * 256 + 256  # projection included
    assert small.totals["buffers"] == 1024


def test_variants_that_change_the_count() -> None:
    for fields in ({"tie_word_embeddings": False}, {"embedding_size": 16}, {"embedding_size": 32},
                   {"summary_use_proj": False}, {"summary_proj_to_labels": True, "num_labels": 3},
                   {"summary_proj_to_labels": True, "num_labels": 0}, {"is_decoder": True, "add_cross_attention": True},
                   {"num_hidden_layers": 0}, {"num_hidden_layers": 1}, {"type_vocab_size": 0},
                   {"id2label": {"0": "a", "1": "b", "2": "c"}}, {"dtype": "float16"}):
        for model_class in MODEL_CLASSES:
            exactness.assert_matches(electra(**fields), model_class)


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 4))
    hidden = heads * draw(st.integers(1, 12))
    cfg: dict[str, Any] = {
        "model_type": "electra",
        "vocab_size": draw(st.integers(1, 300)),
        "hidden_size": hidden,
        "embedding_size": draw(st.one_of(st.just(hidden), st.integers(1, 48))),
        "num_attention_heads": heads,
        "num_hidden_layers": draw(st.integers(0, 4)),
        "intermediate_size": draw(st.integers(1, 64)),
        "max_position_embeddings": draw(st.integers(1, 64)),
        "type_vocab_size": draw(st.integers(0, 3)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    cfg["pad_token_id"] = draw(st.one_of(st.none(), st.integers(0, cfg["vocab_size"] - 1)))
    if draw(st.booleans()):
        cfg["is_decoder"] = True
        cfg["add_cross_attention"] = draw(st.booleans())
    if draw(st.booleans()):
        cfg["summary_use_proj"] = draw(st.booleans())
        cfg["summary_proj_to_labels"] = draw(st.booleans())
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
    exactness.assert_matches(cfg, model_class)


# -- configurations transformers refuses --------------------------------------------------------------------

REFUSED = [
    (electra(add_cross_attention=True), "ElectraModel", ValueError,
     "<dict>: add_cross_attention needs is_decoder; set is_decoder=true or add_cross_attention=false"),
    (electra(embedding_size=2.5), "ElectraModel", STRICT,
     "<dict>: embedding_size must be an integer, got 2.5; write it as a whole number"),
    (electra(summary_use_proj="yes"), "ElectraModel", STRICT,
     "<dict>: summary_use_proj must be true or false, got 'yes'"),
    (electra(pad_token_id=-101), "ElectraModel", Exception,
     "<dict>: pad_token_id -101 is not a token of the vocabulary (vocab_size 100); set pad_token_id below vocab_size"),
    (electra(summary_type="attn"), "ElectraForMultipleChoice", NotImplementedError,
     "<dict>: summary_type 'attn' is not implemented by transformers (ElectraForMultipleChoice raises); use "
     "'first', 'last', 'mean' or 'cls_index'"),
]


@pytest.mark.parametrize("cfg, model_class, refusal, message", REFUSED)
def test_refused_as_transformers_refuses(cfg: dict[str, Any], model_class: str, refusal: type, message: str) -> None:
    with pytest.raises(refusal):
        oracle.build(cfg, model_class)
    with pytest.raises(paramscope.ConfigError) as err:
        paramscope.inspect(cfg, model_class=model_class)
    assert str(err.value) == message and "\n" not in message


def test_heads_not_dividing_hidden_is_refused() -> None:
    """transformers skips its divisibility check for ELECTRA (the config has embedding_size) and builds a
    model whose query is A·⌊H/A⌋ wide: it cannot run. paramscope refuses the config."""
    import torch
    import transformers

    cfg = electra(hidden_size=18, num_attention_heads=4, embedding_size=18, num_hidden_layers=1)
    model = transformers.ElectraModel(oracle.make_config(cfg))
    assert model.encoder.layer[0].attention.self.query.weight.shape == (16, 18)
    with pytest.raises(RuntimeError):
        model(input_ids=torch.tensor([[1, 2, 3]]))
    with pytest.raises(paramscope.ConfigError) as err:
        paramscope.inspect(cfg)
    assert str(err.value) == ("<dict>: hidden_size 18 is not a multiple of num_attention_heads 4 (the model would "
                              "fail in forward); set hidden_size to a multiple of 4 (e.g. 16) or change "
                              "num_attention_heads")


# -- checkpoints ---------------------------------------------------------------------------------------------

def save_model(folder: Path, model_class: str, **fields: Any):
    import torch
    import transformers

    torch.manual_seed(0)
    model = getattr(transformers, model_class)(transformers.ElectraConfig(**{**TINY, **fields}))
    model.save_pretrained(folder)
    return model


def assert_checkpoint(a: paramscope.Anatomy, n: int, model_class: str) -> None:
    assert a.inventory.family == "electra"
    assert a.parameters == n
    assert a.model_class == model_class
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation


@pytest.mark.parametrize("embedding_size", [8, 16])  # with and without embeddings_project
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_checkpoint_saved_by_transformers(tmp_path: Path, model_class: str, embedding_size: int) -> None:
    import torch

    model = save_model(tmp_path / "st", model_class, embedding_size=embedding_size)
    n = sum(p.numel() for p in model.parameters())
    assert_checkpoint(paramscope.inspect(tmp_path / "st"), n, model_class)
    # The same weights as torch.save(state_dict) wrote them: tied tensors share storage, buffers absent.
    (tmp_path / "bin").mkdir()
    torch.save(model.state_dict(), tmp_path / "bin" / "pytorch_model.bin")
    (tmp_path / "bin" / "config.json").write_text((tmp_path / "st" / "config.json").read_text())
    assert_checkpoint(paramscope.inspect(tmp_path / "bin"), n, model_class)
    # Without config.json the sizes and the class are inferred from the names and shapes (a causal LM
    # stores what a masked LM stores).
    inferred = {"ElectraForCausalLM": "ElectraForMaskedLM"}.get(model_class, model_class)
    for folder in ("st", "bin"):
        (tmp_path / folder / "config.json").unlink()
    for path in (tmp_path / "st", tmp_path / "bin", tmp_path / "bin" / "pytorch_model.bin"):
        b = paramscope.inspect(path)
        if model_class == "ElectraModel" and embedding_size == TINY["hidden_size"]:
            # Saved on its own with E = H, ElectraModel has exactly the names and shapes of a BertModel
            # without its pooler: nothing tells them apart, and it is read as that. Same count.
            assert (b.inventory.family, b.parameters) == ("bert", n)
            continue
        assert_checkpoint(b, n, inferred)
        assert "config inferred from the tensor names and shapes" in b.inventory.notes


def test_inferred_sizes(tmp_path: Path) -> None:
    save_model(tmp_path, "ElectraForMultipleChoice", summary_proj_to_labels=True, num_labels=3, type_vocab_size=3,
               num_hidden_layers=3, intermediate_size=40)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.model_class == "ElectraForMultipleChoice"
    assert a.values == {"V": 100, "P": 64, "T": 3, "E": 8, "H": 16, "I": 40, "L": 3, "C": 3}
    assert a.inventory.config["summary_proj_to_labels"] is True
    save_model(tmp_path / "untied", "ElectraForMaskedLM", tie_word_embeddings=False)
    (tmp_path / "untied" / "config.json").unlink()
    b = paramscope.inspect(tmp_path / "untied")
    assert b.inventory.config["tie_word_embeddings"] is False and not b.inventory.of_kind(Kind.ALIAS)


def test_bert_checkpoint_is_not_taken_for_electra(tmp_path: Path) -> None:
    from .builders import save_model as save_bert

    save_bert(tmp_path, "BertForTokenClassification")
    (tmp_path / "config.json").unlink()
    assert paramscope.inspect(tmp_path).inventory.family == "bert"


# -- output --------------------------------------------------------------------------------------------------

def test_formula_shows_the_factorised_embeddings() -> None:
    out = cli.run(["show", "google/electra-small-discriminator", "--formula", "--color", "never"])
    assert "E = embedding_size = 128  (embedding size)" in out and "H = hidden_size = 256  (hidden size)" in out
    assert "embeddings_project" in out and "EH + H" in out
    assert "layer ×12" in out and "L·(4H² + 2HI + 9H + I)" in out
    assert "discriminator_predictions.dense_prediction" in out and "H + 1" in out
    assert "= 13,549,057" in out
    gen = cli.run(["show", "google/electra-small-generator", "--formula", "--color", "never"])
    assert "generator_predictions.dense" in gen and "EH + E" in gen and "= 13,546,682" in gen
    base = cli.run(["show", "google/electra-base-discriminator", "--formula", "--color", "never"])
    assert "(V + P + T + 2)·E" in base and "no embeddings_project" in base
