"""ALBERT: exactness against transformers (every preset, every class, random configurations), the shared
layer group in the tree, unshared_parameters by hand, config checks, and checkpoints end to end."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope import cli
from paramscope.errors import ConfigError
from paramscope.families import FAMILIES
from paramscope.families.albert import FAMILY, MODEL_CLASSES, PRESETS
from paramscope.inventory import Kind

from . import exactness, oracle

PRESET_NAMES = [p.name for p in PRESETS]
BY_NAME = {p.name: p for p in PRESETS}

TINY = {"model_type": "albert", "vocab_size": 100, "embedding_size": 8, "hidden_size": 16,
        "num_attention_heads": 2, "intermediate_size": 32, "num_hidden_layers": 4, "num_hidden_groups": 2,
        "inner_group_num": 1, "max_position_embeddings": 64}


def test_family_is_discovered() -> None:
    assert FAMILIES["albert"] is FAMILY
    assert paramscope.inspect("albert/albert-base-v2").inventory.family == "albert"


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_preset_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(dict(BY_NAME[name].config), model_class)


def test_albertmodel_without_pooler() -> None:
    exactness.assert_matches(dict(BY_NAME["albert-base-v2"].config), "AlbertModel", add_pooling_layer=False)


def test_preset_totals() -> None:
    # Exact totals of the released sizes as AlbertModel; the model cards say 11M, 17M, 58M, 223M.
    assert {n: paramscope.inspect(n).parameters for n in PRESET_NAMES} == {
        "albert-base-v2": 11_683_584,
        "albert-large-v2": 17_683_968,
        "albert-xlarge-v2": 58_724_864,
        "albert-xxlarge-v2": 222_595_584,
    }


def _layer(h: int, i: int) -> int:
    """One AlbertLayer by hand: full_layer_layer_norm, Q, K, V, attention dense, attention LayerNorm,
    ffn, ffn_output."""
    return 2 * h + 4 * (h * h + h) + 2 * h + (h * i + i) + (i * h + h)


def test_unshared_parameters_by_hand() -> None:
    a = paramscope.inspect("albert-base-v2")
    v, p, t, e, h, i, layers = 30000, 512, 2, 128, 768, 3072, 12
    embeddings = v * e + p * e + t * e + 2 * e
    mapping = e * h + h
    pooler = h * h + h
    layer = _layer(h, i)
    assert layer == 7_087_872
    assert a.parameters == embeddings + mapping + layer + pooler == 11_683_584
    # Each of the 12 layers with its own weights: embeddings, projection and pooler unchanged.
    assert a.totals["unshared_parameters"] == embeddings + mapping + layers * layer + pooler == 89_650_176
    # With heads, the heads are added to both.
    b = paramscope.inspect("albert-base-v2", model_class="AlbertForPreTraining")
    heads = v + 2 * e + (h * e + e) + (2 * h + 2)
    assert b.parameters == a.parameters + heads
    assert b.totals["unshared_parameters"] == a.totals["unshared_parameters"] + heads


def test_unshared_with_groups_and_inner_layers() -> None:
    # G = 2 groups of N = 2 layers run for L = 3 steps: 4 stored layers, 3 · 2 = 6 unshared.
    cfg = {**TINY, "num_hidden_layers": 3, "num_hidden_groups": 2, "inner_group_num": 2}
    a = paramscope.inspect(cfg)
    layer = _layer(16, 32)
    assert a.parameters == oracle.build(cfg, "AlbertModel").total
    assert a.totals["unshared_parameters"] == a.parameters - 4 * layer + 6 * layer


def _noted(a: paramscope.Anatomy) -> list[tuple[str, str]]:
    return [(".".join(node.path), node.note) for _, node in a.tree.walk() if node.note]


def test_tree_shows_the_shared_group_once_with_a_note() -> None:
    a = paramscope.inspect("albert-base-v2")
    assert _noted(a) == [("encoder.albert_layer_groups.0.albert_layers.0", "shared: used by all 12 layers")]
    encoder = next(c for c in a.tree.children if c.name == "encoder")
    assert [(c.name, c.numel) for c in encoder.children] == [("albert_layer_groups.0.albert_layers.0", 7_087_872)]
    out = cli.run(["show", "albert-base-v2", "--color", "never"])
    assert "albert_layer_groups.0.albert_layers.0 (shared: used by all 12 layers)" in out
    assert "unshared, each layer its own: 89,650,176" in out


def test_tree_notes_every_group() -> None:
    # L = 3 over G = 5 groups: transformers runs groups int(i / 0.6) = 0, 1, 3; groups 2 and 4 never run.
    a = paramscope.inspect({**TINY, "num_hidden_layers": 3, "num_hidden_groups": 5})
    assert _noted(a) == [
        ("encoder.albert_layer_groups.0.albert_layers.0", "used by layer 0 only"),
        ("encoder.albert_layer_groups.1.albert_layers.0", "used by layer 1 only"),
        ("encoder.albert_layer_groups.2.albert_layers.0", "unused: no layer runs this group"),
        ("encoder.albert_layer_groups.3.albert_layers.0", "used by layer 2 only"),
        ("encoder.albert_layer_groups.4.albert_layers.0", "unused: no layer runs this group"),
    ]
    assert any("layer groups 2, 4 never run" in n for n in a.inventory.notes)
    b = paramscope.inspect({**TINY, "num_hidden_layers": 12, "num_hidden_groups": 2, "inner_group_num": 2})
    assert _noted(b) == [
        ("encoder.albert_layer_groups.0.albert_layers", "shared: used by layers 0-5 (6 of 12)"),
        ("encoder.albert_layer_groups.1.albert_layers", "shared: used by layers 6-11 (6 of 12)"),
    ]


def test_projection_is_embedding() -> None:
    a = paramscope.inspect("albert-base-v2")
    place = a.placements["encoder.embedding_hidden_mapping_in.weight"]
    assert (str(place.group), str(place.role)) == ("embeddings", "embedding")
    assert a.groups["embeddings"] == (30000 + 512 + 2 + 2) * 128 + 128 * 768 + 768  # tables, LayerNorm, projection
    # Non-embedding: the shared layer, the pooler and the embeddings' LayerNorm (role norm).
    assert a.totals["non_embedding_parameters"] == 7_087_872 + 590_592 + 2 * 128


def test_formula_reads_well() -> None:
    out = cli.run(["show", "albert-base-v2", "--formula", "--color", "never"])
    assert "E = embedding_size = 128" in out
    assert "encoder.embedding_hidden_mapping_in                          EH + H" in out
    assert "= 11,683,584" in out
    assert "the number of layers is not in the count" in out


@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 4))
    hidden = heads * draw(st.integers(1, 12))
    embedding = draw(st.integers(1, 24).filter(lambda e: e != hidden))
    layers = draw(st.integers(0, 4))
    # transformers accepts any number of groups: dividing L or not, more groups than layers (never run),
    # and none at all when there are no layers.
    groups = draw(st.integers(0 if layers == 0 else 1, 5))
    cfg: dict[str, Any] = {
        "model_type": "albert",
        "vocab_size": draw(st.integers(1, 400)),
        "embedding_size": embedding,
        "hidden_size": hidden,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "num_hidden_groups": groups,
        "inner_group_num": draw(st.integers(1, 2)),
        "intermediate_size": draw(st.integers(1, 64)),
        "max_position_embeddings": draw(st.integers(1, 80)),
        "type_vocab_size": draw(st.integers(0, 3)),
        "tie_word_embeddings": draw(st.booleans()),
    }
    cfg["pad_token_id"] = draw(st.one_of(st.none(), st.integers(0, cfg["vocab_size"] - 1)))
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(1, 7))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 7)))}
    return cfg, draw(st.sampled_from(MODEL_CLASSES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)
    a = paramscope.inspect(cfg, model_class=model_class)
    # Unshared: the stored G·N layers replaced by L·N.
    layer = _layer(cfg["hidden_size"], cfg["intermediate_size"])
    n = cfg["inner_group_num"]
    assert a.totals["unshared_parameters"] == (
        a.parameters - cfg["num_hidden_groups"] * n * layer + cfg["num_hidden_layers"] * n * layer)


def test_empty_groups_and_no_groups_match_transformers() -> None:
    exactness.assert_matches({**TINY, "inner_group_num": 0}, "AlbertForMaskedLM")
    exactness.assert_matches({**TINY, "num_hidden_layers": 0, "num_hidden_groups": 0}, "AlbertForPreTraining")


@pytest.mark.parametrize(("edit", "words"), [
    ({"hidden_size": 10, "num_attention_heads": 3},
     "hidden_size 10 is not a multiple of num_attention_heads 3; set hidden_size to a multiple of 3 (e.g. 9)"),
    ({"hidden_size": 2, "num_attention_heads": 3}, "hidden_size 2 is not a multiple of num_attention_heads 3"),
    ({"num_hidden_groups": 0}, "num_hidden_groups is 0 with 4 layers"),
    ({"num_hidden_groups": -1}, "num_hidden_groups must be at least 0, got -1"),
    ({"embedding_size": 1.5}, "embedding_size must be an integer, got 1.5"),
    ({"embedding_size": 0}, "embedding_size must be a positive integer, got 0"),
    ({"inner_group_num": True}, "inner_group_num must be an integer, got True"),
    ({"pad_token_id": 100}, "pad_token_id 100 is not a token of the vocabulary (vocab_size 100)"),
    ({"tie_word_embeddings": "yes"}, "tie_word_embeddings must be true or false"),
])
def test_refused_configs(edit: dict[str, Any], words: str) -> None:
    with pytest.raises(ConfigError) as err:
        paramscope.inspect({**TINY, **edit})
    assert words in str(err.value) and str(err.value).startswith("<dict>: ")
    assert "\n" not in str(err.value)


def test_set_accepts_albert_fields() -> None:
    a = paramscope.inspect("albert-base-v2", overrides={"embedding_size": 256, "num_hidden_groups": 2})
    assert a.parameters == oracle.build({**BY_NAME["albert-base-v2"].config, "embedding_size": 256,
                                         "num_hidden_groups": 2}, "AlbertModel").total
    assert a.baseline is not None and a.baseline.parameters == 11_683_584


def test_infer_refuses_other_families() -> None:
    bert_like = {"embeddings.word_embeddings.weight": (100, 16), "encoder.layer.0.output.dense.weight": (16, 32)}
    assert FAMILY.infer(bert_like) is None


# -- checkpoints ------------------------------------------------------------------------------------------

def _build(config: dict[str, Any], model_class: str):
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = oracle.make_config(config)
    return getattr(transformers, model_class)(cfg)


def _check_folder(folder: Path, model, model_class: str) -> None:
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(folder)
    assert a.inventory.family == "albert" and a.model_class == model_class
    assert a.parameters == n
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json the family, class and sizes come from the names and shapes.
    (folder / "config.json").unlink()
    b = paramscope.inspect(folder)
    assert b.inventory.family == "albert" and b.model_class == model_class
    assert b.parameters == n
    assert b.expected is not None and b.expected.parameters == n
    assert b.totals["unclassified"] == 0
    assert b.reconciliation is not None and b.reconciliation.agrees, b.reconciliation


@pytest.mark.parametrize("model_class", ["AlbertForPreTraining", "AlbertForMaskedLM",
                                         "AlbertForSequenceClassification"])
def test_saved_by_transformers(tmp_path: Path, model_class: str) -> None:
    model = _build({**TINY, "num_labels": 3}, model_class)
    model.save_pretrained(tmp_path)
    _check_folder(tmp_path, model, model_class)


def test_saved_with_torch_save(tmp_path: Path) -> None:
    import torch

    model = _build(TINY, "AlbertForPreTraining")
    model.save_pretrained(tmp_path / "ref")
    folder = tmp_path / "bin"
    folder.mkdir()
    torch.save(model.state_dict(), folder / "pytorch_model.bin")
    shutil.copy(tmp_path / "ref" / "config.json", folder / "config.json")
    a = paramscope.inspect(folder)
    assert a.format == "pytorch zip"
    # state_dict keeps the tied decoder under its own names, sharing storage: aliases, counted once.
    assert {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)} == {
        "predictions.decoder.weight": "albert.embeddings.word_embeddings.weight",
        "predictions.decoder.bias": "predictions.bias"}
    _check_folder(folder, model, "AlbertForPreTraining")


def test_inferred_sizes(tmp_path: Path) -> None:
    model = _build({**TINY, "inner_group_num": 2, "tie_word_embeddings": False}, "AlbertForMaskedLM")
    model.save_pretrained(tmp_path)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    cfg = a.inventory.config
    assert {k: cfg[k] for k in ("vocab_size", "embedding_size", "hidden_size", "intermediate_size",
                                "num_hidden_groups", "inner_group_num", "max_position_embeddings",
                                "type_vocab_size", "tie_word_embeddings")} == {
        "vocab_size": 100, "embedding_size": 8, "hidden_size": 16, "intermediate_size": 32,
        "num_hidden_groups": 2, "inner_group_num": 2, "max_position_embeddings": 64, "type_vocab_size": 2,
        "tie_word_embeddings": False}
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert any("num_hidden_layers is not in the weights" in n for n in a.inventory.notes)


def test_checkpoint_as_base_class(tmp_path: Path) -> None:
    """A pretraining checkpoint read as AlbertModel: the heads are extra, the rest matches."""
    model = _build(TINY, "AlbertForPreTraining")
    model.save_pretrained(tmp_path)
    config = json.loads((tmp_path / "config.json").read_text())
    a = paramscope.inspect(tmp_path, model_class="AlbertModel")
    assert config["model_type"] == "albert"
    assert a.reconciliation is not None and a.reconciliation.agrees
    assert a.expected is not None
    assert a.expected.parameters == sum(p.numel() for p in model.albert.parameters())


def test_transformers_config_object_and_live_module() -> None:
    import torch
    import transformers

    cfg = transformers.AlbertConfig(vocab_size=100, embedding_size=8, hidden_size=16, num_attention_heads=2,
                                    intermediate_size=32, num_hidden_layers=3, num_hidden_groups=2, num_labels=4)
    a = paramscope.inspect(cfg, model_class="AlbertForSequenceClassification")
    assert a.inventory.family == "albert"
    assert a.parameters == oracle.build(cfg.to_dict() | {"num_labels": 4}, "AlbertForSequenceClassification").total
    with torch.device("meta"):
        model = transformers.AlbertForMaskedLM(cfg)
    b = paramscope.inspect(model)
    assert b.parameters == sum(p.numel() for p in model.parameters())
    assert b.model_class == "AlbertForMaskedLM" and b.totals["unclassified"] == 0
    assert b.reconciliation is not None and b.reconciliation.agrees


def test_albertmodel_checkpoint_without_config(tmp_path: Path) -> None:
    model = _build(TINY, "AlbertModel")
    model.save_pretrained(tmp_path)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.inventory.family == "albert" and a.model_class == "AlbertModel"
    assert a.totals["unclassified"] == 0
