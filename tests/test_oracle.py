"""Exactness against transformers, tensor by tensor: every preset, every class, random configurations."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.families.bert import MODEL_CLASSES
from paramscope.inventory import Kind
from paramscope.presets import PRESETS

from . import exactness, oracle


def assert_matches(config: dict[str, Any], model_class: str, *, add_pooling_layer: bool = True) -> None:
    kwargs = {} if add_pooling_layer else {"add_pooling_layer": False}
    exactness.assert_matches(config, model_class, **kwargs)


ARTICLE_FIVE = ["bert-base-uncased", "bert-large-uncased", "bert-base-cased", "bert-large-cased", "bert-base-chinese"]


@pytest.mark.parametrize("name", sorted(PRESETS))
@pytest.mark.parametrize("model_class", ["BertModel", "BertForPreTraining"])
def test_every_preset(name: str, model_class: str) -> None:
    assert_matches(dict(PRESETS[name].config), model_class)


@pytest.mark.parametrize("name", ARTICLE_FIVE)
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_article_models_every_class(name: str, model_class: str) -> None:
    assert_matches(dict(PRESETS[name].config), model_class)


def test_bertmodel_without_pooler() -> None:
    assert_matches(dict(PRESETS["bert-base-uncased"].config), "BertModel", add_pooling_layer=False)


def test_issue_figures() -> None:
    assert paramscope.inspect("bert-base-uncased").parameters == 109_482_240
    assert paramscope.inspect("bert-base-uncased", model_class="BertForPreTraining").parameters == 110_106_428


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 8))
    cfg: dict[str, Any] = {
        "vocab_size": draw(st.integers(1, 130_000)),
        "hidden_size": heads * draw(st.integers(1, 96)),
        "num_attention_heads": heads,
        "num_hidden_layers": draw(st.integers(0, 4)),
        "intermediate_size": draw(st.integers(1, 5000)),
        "max_position_embeddings": draw(st.integers(1, 4096)),
        "type_vocab_size": draw(st.integers(0, 4)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    cfg["pad_token_id"] = draw(st.one_of(st.none(), st.integers(0, cfg["vocab_size"] - 1)))
    model_class = draw(st.sampled_from(MODEL_CLASSES))
    if draw(st.booleans()):
        cfg["is_decoder"] = True
        cfg["add_cross_attention"] = draw(st.booleans())
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(1, 12))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 12)))}
    return cfg, model_class


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    assert_matches(cfg, model_class)


def test_transformers_config_object_is_accepted() -> None:
    import transformers

    cfg = transformers.BertConfig(vocab_size=1000, hidden_size=64, num_attention_heads=4, num_hidden_layers=2,
                                  intermediate_size=128, num_labels=5)
    a = paramscope.inspect(cfg, model_class="BertForSequenceClassification")
    truth = oracle.build(cfg.to_dict() | {"num_labels": 5}, "BertForSequenceClassification")
    assert a.parameters == truth.total
    assert [(t.name, t.shape) for t in a.inventory.of_kind(Kind.PARAMETER)] == truth.parameters
