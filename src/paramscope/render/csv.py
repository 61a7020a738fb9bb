"""CSV output: one row per tensor for ``show``; one row per (model, section, key) for ``compare``."""

from __future__ import annotations

import csv
import io
from typing import TYPE_CHECKING, Sequence

from .. import units

if TYPE_CHECKING:
    from ..anatomy import Anatomy


TENSOR_FIELDS = ["name", "shape", "dtype", "numel", "kind", "group", "role", "tied_to"]


# A cell a spreadsheet would evaluate as a formula starts with one of these (OWASP "CSV injection"): such a
# text cell gets a leading apostrophe, which spreadsheets show as text and do not display.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\n")


def cell(value: object) -> object:
    """A CSV cell: numbers as they are; text escaped (units.safe: no control characters, so no bare CR)
    and neutralised when a spreadsheet would read it as a formula."""
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    text = units.safe(str(value))
    return "'" + text if text.startswith(_FORMULA_START) else text


def _write(rows: list[list[object]]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows([[cell(v) for v in row] for row in rows])
    return buf.getvalue()


def show(a: Anatomy) -> str:
    rows: list[list[object]] = [TENSOR_FIELDS]
    for t in a.to_dict()["tensors"]:
        rows.append([t["name"], "x".join(map(str, t["shape"])), t["dtype"], t["numel"], t["kind"],
                     t["group"], t["role"], t["tied_to"] or ""])
    return _write(rows)


def compare(models: Sequence[Anatomy]) -> str:
    rows: list[list[object]] = [["source", "model_class", "section", "key", "parameters"]]
    for m in models:
        rows.append([m.source, m.model_class, "total", "parameters", m.parameters])
        rows += [[m.source, m.model_class, "group", g, n] for g, n in m.groups.items()]
        rows += [[m.source, m.model_class, "role", r, n] for r, n in m.roles.items()]
    return _write(rows)


def presets(rows) -> str:
    out: list[list[object]] = [["name", "nickname", "family", "model_class", "parameters", "published"]]
    out += [[p.name, p.nickname or "", a.inventory.family, a.model_class, a.parameters, p.published or ""]
            for p, a in rows]
    return _write(out)
