"""JSON output, schema version 1: exact integers, deterministic order (module order for tensors).

The schema lives here, with the renderer: ``to_dict`` is the contract (keys documented in the README;
more may be added, none renamed).
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, Sequence

from .. import tree as tree_mod

if TYPE_CHECKING:
    from ..anatomy import Anatomy

SCHEMA_VERSION = 1


def to_dict(a: Anatomy) -> dict[str, Any]:
    """JSON schema version 1 (keys documented in README; more may be added, none renamed)."""
    order = a.family.order
    formula: dict[str, Any] | None = None
    if a.total_formula is not None:
        formula = {
            "symbols": {l: {"field": f, "value": v} for l, f, _, v in a.used_symbols},
            "total": a.total_formula.render(order=order),
            "total_substituted": a.total_formula.render(order=order, values=a.values),
            "groups": {
                r.label: {"formula": r.formula.render(order=order), "value": r.value}
                for r in a.formula_rows if r.depth == 0
            },
        }
    return {
        "schema_version": SCHEMA_VERSION,
        "source": a.source,
        "family": a.inventory.family,
        "model_class": a.model_class,
        "totals": a.totals,
        "groups": a.groups,
        "roles": a.roles,
        "ffn_split": a.ffn_split,
        "tensors": [
            {
                "name": t.name,
                "shape": list(t.shape),
                "dtype": t.dtype,
                "numel": t.numel,
                "kind": str(t.kind),
                "group": str(a.placements[t.name].group),
                "role": str(a.placements[t.name].role),
                "tied_to": t.tied_to,
            }
            for t in a.inventory.tensors
        ],
        "tree": _tree_dict(a.tree),
        "formula": formula,
        "config": {k: v for k, v in a.inventory.config.items() if _jsonable(v)},
        "notes": list(a.inventory.notes),
        "overrides": dict(a.inventory.overrides),
        "format": a.format,
        "metadata": {str(k): v for k, v in a.metadata.items() if _jsonable(v)},
        "expected": None if a.expected is None else {
            "source": a.expected.source,
            "model_class": a.expected.model_class,
            "parameters": a.expected.parameters,
        },
        "reconciliation": None if a.reconciliation is None else a.reconciliation.to_dict(),
        "baseline": None if a.baseline is None else {
            "parameters": a.baseline.parameters,
            "groups": a.baseline.groups,
            "roles": a.baseline.roles,
        },
    }


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


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def show(a: Anatomy) -> str:
    return dumps(to_dict(a))


def compare(models: Sequence[Anatomy]) -> str:
    return dumps({"schema_version": SCHEMA_VERSION, "models": [to_dict(m) for m in models]})
