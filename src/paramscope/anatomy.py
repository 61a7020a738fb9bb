"""The result of an inspection: inventory -> placements -> component tree, with totals and formulas.

Renderers read this object and format it; none of them computes a count of its own.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, Mapping

from . import tree as tree_mod
from .families.base import Family, Group, Placement, Role
from .inventory import Inventory, Kind
from .symbolic import Formula, Term

SCHEMA_VERSION = 1
# Bytes per parameter for the memory view; int8 ignores quantisation scales.
PRECISIONS = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


@dataclass(frozen=True)
class FormulaRow:
    label: str
    depth: int
    formula: Formula
    value: int
    each: bool = False  # the formula is of one repeated block
    note: str = ""


@dataclass
class Anatomy:
    """Where every parameter of one model lives.

    >>> a = inspect("bert-base-chinese")
    >>> a.parameters, a.groups["pooler"], a.totals["buffers"]
    (102267648, 590592, 1024)
    """

    inventory: Inventory
    family: Family
    baseline: "Anatomy | None" = None  # the same model without the what-if edits

    # -- classification ---------------------------------------------------------------------------
    @cached_property
    def placements(self) -> dict[str, Placement]:
        return {t.name: self.family.place(t.name) for t in self.inventory.tensors}

    @cached_property
    def tree(self) -> tree_mod.Node:
        return tree_mod.build(self.inventory, self.family, self.placements)

    # -- counts -----------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self.inventory.source

    @property
    def model_class(self) -> str:
        return self.inventory.model_class

    @property
    def parameters(self) -> int:
        return self.inventory.numel(Kind.PARAMETER)

    @cached_property
    def groups(self) -> dict[str, int]:
        out = {str(g): 0 for g in (Group.EMBEDDINGS, Group.ENCODER, Group.POOLER, Group.HEADS)}
        for t in self.inventory.of_kind(Kind.PARAMETER):
            g = str(self.placements[t.name].group)
            out[g] = out.get(g, 0) + t.numel
        return out

    @cached_property
    def roles(self) -> dict[str, int]:
        out = {str(r): 0 for r in Role}
        for t in self.inventory.of_kind(Kind.PARAMETER):
            out[str(self.placements[t.name].role)] += t.numel
        return out

    @cached_property
    def totals(self) -> dict[str, Any]:
        inv = self.inventory
        params = self.parameters
        return {
            "parameters": params,
            "non_embedding_parameters": params - self.roles[Role.EMBEDDING],
            "buffers": inv.numel(Kind.BUFFER),
            "tied_aliases": inv.numel(Kind.ALIAS),
            "optimizer_state": inv.numel(Kind.OPTIMIZER_STATE),
            "other": inv.numel(Kind.OTHER),
            "unclassified": self.groups.get(str(Group.UNCLASSIFIED), 0),
            "bytes": {"stored": inv.nbytes(Kind.PARAMETER), **{k: params * v for k, v in PRECISIONS.items()}},
            "dtypes": inv.dtypes(Kind.PARAMETER),
        }

    # -- formulas ---------------------------------------------------------------------------------
    @cached_property
    def values(self) -> dict[str, int]:
        return self.family.values(self.inventory.config)

    @cached_property
    def formula_rows(self) -> list[FormulaRow]:
        """Each group; under it each module that owns tensors, and for a run of layers, one layer's parts.

        Empty when the inventory has no symbolic shapes (a checkpoint read without a config).
        """
        rows: list[FormulaRow] = []
        for group in self.tree.children:
            f = group.formula()
            if f is None:
                return []
            rows.append(FormulaRow(group.name, 0, f, group.numel))
            for child in group.children:
                depth, each = 1, False
                if child.first is not None:
                    one = child.poly_each()
                    if one is None:
                        return []
                    rows.append(FormulaRow(tree_mod.label(child), 1, Formula((Term(one),)), child.numel_each, True))
                    depth, each = 2, True
                    parts = [(rel.split(".", 1)[1] if "." in rel else rel, n) for rel, n in tree_mod.leaves(child)]
                else:
                    parts = list(tree_mod.leaves(child))
                for rel, node in parts:
                    poly = tree_mod.own_poly(node)
                    if poly is None:
                        return []
                    own = [t for t in node.tensors if t.kind in (Kind.PARAMETER, Kind.ALIAS)]
                    if node.children and own:
                        rel = f"{rel}.{'+'.join(t.name.rsplit('.', 1)[-1] for t in own)}"
                    aliases = [t.tied_to for t in own if t.kind == Kind.ALIAS]
                    value = poly.evaluate(self.values)
                    note = f"tied to {', '.join(a for a in aliases if a)}" if aliases else ""
                    rows.append(FormulaRow(rel, depth, Formula((Term(poly),)), value, each, note))
        return rows

    @cached_property
    def total_formula(self) -> Formula | None:
        terms: list[Term] = []
        for group in self.tree.children:
            f = group.formula()
            if f is None:
                return None
            terms += f.terms
        return Formula(tuple(terms))

    @cached_property
    def used_symbols(self) -> list[tuple[str, str, str, int]]:
        """(letter, config field, meaning, value) for each symbol the formulas use, in family order."""
        used: set[str] = set()
        if self.total_formula is not None:
            for term in self.total_formula.terms:
                used |= term.body.symbols | ({term.multiplier} if term.multiplier else set())
        return [(s.letter, s.field, s.meaning, self.values[s.letter]) for s in self.family.symbols if s.letter in used]

    @property
    def formula_notes(self) -> list[str]:
        names = frozenset(t.name for t in self.inventory.tensors)
        return list(self.family.formula_notes(self.inventory.config, self.model_class, names))

    # -- output -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON schema version 1 (keys documented in README; more may be added, none renamed)."""
        order = self.family.order
        formula: dict[str, Any] | None = None
        if self.total_formula is not None:
            formula = {
                "symbols": {l: {"field": f, "value": v} for l, f, _, v in self.used_symbols},
                "total": self.total_formula.render(order=order),
                "total_substituted": self.total_formula.render(order=order, values=self.values),
                "groups": {
                    r.label: {"formula": r.formula.render(order=order), "value": r.value}
                    for r in self.formula_rows if r.depth == 0
                },
            }
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "family": self.inventory.family,
            "model_class": self.model_class,
            "totals": self.totals,
            "groups": self.groups,
            "roles": self.roles,
            "tensors": [
                {
                    "name": t.name,
                    "shape": list(t.shape),
                    "dtype": t.dtype,
                    "numel": t.numel,
                    "kind": str(t.kind),
                    "group": str(self.placements[t.name].group),
                    "role": str(self.placements[t.name].role),
                    "tied_to": t.tied_to,
                }
                for t in self.inventory.tensors
            ],
            "tree": _tree_dict(self.tree),
            "formula": formula,
            "config": {k: v for k, v in self.inventory.config.items() if _jsonable(v)},
            "notes": list(self.inventory.notes),
            "overrides": dict(self.inventory.overrides),
            "baseline": None if self.baseline is None else {
                "parameters": self.baseline.parameters,
                "groups": self.baseline.groups,
                "roles": self.baseline.roles,
            },
        }

    def __str__(self) -> str:
        from .render import text, views

        return text.render(views.show(self), color=False)


def _tree_dict(node: tree_mod.Node) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tree_mod.label(node), "path": ".".join(node.path), "parameters": node.numel}
    if node.repeat > 1 or node.first is not None:
        out["repeat"] = node.repeat
        out["parameters_each"] = node.numel_each
    if node.children:
        out["children"] = [_tree_dict(c) for c in node.children]
    return out


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


def inspect(
    spec: Any,
    *,
    model_class: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    family: str | None = None,
    add_pooling_layer: bool = True,
) -> Anatomy:
    """Inspect a preset name, a config.json path or folder, a dict, or a transformers config.

    >>> a = inspect("bert-base-uncased")
    >>> a.parameters, a.groups["embeddings"], a.groups["pooler"]
    (109482240, 23837184, 590592)
    >>> inspect("bert-base-uncased", model_class="BertForPreTraining").parameters
    110106428
    """
    from .sources import config as config_source

    inv, fam, _ = config_source.build(
        spec, model_class=model_class, overrides=overrides, family=family, add_pooling_layer=add_pooling_layer
    )
    baseline = None
    if overrides:
        baseline = inspect(spec, model_class=model_class, family=family, add_pooling_layer=add_pooling_layer)
    return Anatomy(inv, fam, baseline)
