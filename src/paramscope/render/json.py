"""JSON output, schema version 1: exact integers, deterministic order (module order for tensors).

The schema lives here, with the renderer: ``to_dict`` is the contract (keys documented in the README;
more may be added, none renamed).

The text is ``json.dumps(to_dict(a), indent=2, ensure_ascii=False)`` byte for byte, but written faster:
with ``indent`` the standard library uses its pure-Python encoder (6.7 s for DeepSeek-V3's 91,991
tensors), so the ``tensors`` list, which is all but a few kB of a large model's document, is written from
a template per tensor (:func:`_tensors_text`), and only the rest goes through ``json.dumps``.
"""

from __future__ import annotations

import json
import os
import re
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, Sequence

from .. import tree as tree_mod

if TYPE_CHECKING:
    from ..anatomy import Anatomy

SCHEMA_VERSION = 1
# What json.dumps(ensure_ascii=False) escapes in a string: a name without any of these is written as it is.
_UNSAFE = re.compile(r'["\\\x00-\x1f]')


def to_dict(a: Anatomy) -> dict[str, Any]:
    """JSON schema version 1 (keys documented in README; more may be added, none renamed)."""
    return _document(a, _tensor_dicts(a))


def _tensor_dicts(a: Anatomy) -> list[dict[str, Any]]:
    placements = a.placements
    out = []
    for t in a.inventory.tensors:
        place = placements[t.name]
        out.append({
            "name": t.name,
            "shape": list(t.shape),
            "dtype": t.dtype,
            "numel": t.numel,
            "kind": str(t.kind),
            "group": str(place.group),
            "role": str(place.role),
            "tied_to": t.tied_to,
        })
    return out


def _document(a: Anatomy, tensors: Any) -> dict[str, Any]:
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
        "tensors": tensors,
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


def _tensors_text(a: Anatomy, indent: str) -> list[str]:
    """The ``tensors`` list as ``json.dumps(..., indent=2, ensure_ascii=False)`` writes it on a line indented
    by ``indent``, in pieces to join: per tensor the text before its name, the name (escaped only if it has
    to be), and everything after it (shape, dtype, numel, kind, group, role, tied_to: a few hundred distinct
    texts for the 91,991 tensors of DeepSeek-V3, each encoded once)."""
    tensors = a.inventory.tensors
    if not tensors:
        return ["[]"]
    item, key, dim = indent + "  ", indent + "    ", indent + "      "
    placements = a.placements
    afters: dict[tuple, str] = {}
    head = f"{item}{{\n{key}\"name\": \""
    between = f"\n{item}}},\n{head}"  # the end of one tensor, the start of the next
    out = ["[\n"]
    append = out.append
    unsafe = _UNSAFE.search
    before = head
    for t in tensors:
        place = placements[t.name]
        k = (t.shape, t.dtype, t.kind, place.group, place.role, t.tied_to is None)
        after = afters.get(k)
        if after is None:
            shape = (f"[\n{dim}" + f",\n{dim}".join(map(str, t.shape)) + f"\n{key}]") if t.shape else "[]"
            after = afters[k] = (
                f"\",\n{key}\"shape\": {shape},\n{key}\"dtype\": {encode_basestring(t.dtype)},"
                f"\n{key}\"numel\": {t.numel},\n{key}\"kind\": {encode_basestring(str(t.kind))},"
                f"\n{key}\"group\": {encode_basestring(str(place.group))},"
                f"\n{key}\"role\": {encode_basestring(str(place.role))},\n{key}\"tied_to\": "
                + ("null" if t.tied_to is None else ""))
        append(before)
        append(encode_basestring(t.name)[1:-1] if unsafe(t.name) else t.name)
        append(after)
        if t.tied_to is not None:
            append(encode_basestring(t.tied_to))
        before = between
    append(f"\n{item}}}\n{indent}]")
    return out


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


def _dumps_with_tensors(data: Any, models: Sequence[tuple[dict[str, Any], Anatomy]]) -> str:
    """``dumps(data)`` where each model's document in ``data`` has its ``tensors`` still to be written: a
    placeholder there is replaced by :func:`_tensors_text` at the placeholder's indentation."""
    marks = []
    for document, _ in models:
        mark = f"@paramscope-tensors-{os.urandom(8).hex()}@"  # no input can know it
        document["tensors"] = mark
        marks.append(mark)
    text = dumps(data)
    pieces: list[str] = []
    start = 0
    for mark, (_, a) in zip(marks, models):
        # Inside a JSON string every quote is escaped, so this key-value sequence occurs only as the key itself.
        at = text.index(f'"tensors": "{mark}"', start)
        line_start = text.rindex("\n", 0, at) + 1
        pieces.append(text[start:at + len('"tensors": ')])
        pieces += _tensors_text(a, text[line_start:at])
        start = at + len(f'"tensors": "{mark}"')
    pieces.append(text[start:])
    del text
    return "".join(pieces)


def show(a: Anatomy) -> str:
    document = _document(a, None)
    return _dumps_with_tensors(document, [(document, a)])


def compare(models: Sequence[Anatomy]) -> str:
    documents = [(_document(m, None), m) for m in models]
    return _dumps_with_tensors({"schema_version": SCHEMA_VERSION, "models": [d for d, _ in documents]}, documents)
