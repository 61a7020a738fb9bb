"""Rendered tables add up: the printed group rows sum to the printed total, and so do the roles."""

from __future__ import annotations

import pytest

import paramscope
from paramscope.render import views
from paramscope.tree import label


def _count(cell: str) -> int:
    return int(cell.replace(",", ""))


@pytest.mark.parametrize("spec,cls", [("bert-base-uncased", None), ("bert-large-cased", "BertForPreTraining"),
                                      ("bert-tiny", "BertForQuestionAnswering")])
def test_printed_rows_add_up(spec: str, cls: str | None) -> None:
    a = paramscope.inspect(spec, model_class=cls)
    table = views.component_table(a, depth=0)
    top = [_count(r[1]) for r, lvl in zip(table.rows[:-1], table.levels[:-1]) if lvl == 0]
    assert sum(top) == _count(table.rows[-1][1]) == a.parameters
    roles = views.role_table(a)
    assert sum(_count(r[1]) for r in roles.rows) == a.parameters


def test_layers_collapse_into_one_run() -> None:
    a = paramscope.inspect("bert-base-uncased")
    encoder = next(g for g in a.tree.children if g.name == "encoder")
    assert [label(c) for c in encoder.children] == ["layer ×12"]
    assert encoder.children[0].numel_each == 7_087_872


def test_a_changed_layer_breaks_the_run() -> None:
    # A checkpoint-like inventory where layer 1 differs: runs are "layer 0", "layer 1", "layer 2-3 ×2".
    import dataclasses

    a = paramscope.inspect("bert-tiny", overrides={"num_hidden_layers": 4})
    tensors = [dataclasses.replace(t, shape=(t.shape[0] + 1, *t.shape[1:]))
               if t.name == "encoder.layer.1.intermediate.dense.bias" else t for t in a.inventory.tensors]
    b = paramscope.Anatomy(dataclasses.replace(a.inventory, tensors=tuple(tensors)), a.family)
    encoder = next(g for g in b.tree.children if g.name == "encoder")
    assert [label(c) for c in encoder.children] == ["layer 0", "layer 1", "layer 2-3 ×2"]
    assert b.tree.numel == a.parameters + 1
