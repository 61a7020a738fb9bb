"""Document -> plain text for a terminal: aligned columns, optional bars and colour.

Colour only when asked (the CLI asks when stdout is a terminal and NO_COLOR is unset); bars are drawn
with block characters in both cases, so piped output stays greppable and aligned.
"""

from __future__ import annotations

from ..units import safe
from .document import Document, Table

BAR_WIDTH = 20
_EIGHTHS = " ▏▎▍▌▋▊▉"


def bar(fraction: float, width: int = BAR_WIDTH) -> str:
    """``0.218`` -> ``████▍`` (eighths of a cell)."""
    cells = max(0.0, min(1.0, fraction)) * width
    full = int(cells)
    rest = int(round((cells - full) * 8))
    if rest == 8:
        full, rest = full + 1, 0
    return ("█" * full + (_EIGHTHS[rest] if rest else "")).rstrip()


class _Style:
    def __init__(self, color: bool) -> None:
        self.color = color

    def _wrap(self, code: str, text: str) -> str:
        return f"\x1b[{code}m{text}\x1b[0m" if self.color and text else text

    def bold(self, text: str) -> str:
        return self._wrap("1", text)

    def dim(self, text: str) -> str:
        return self._wrap("2", text)

    def bar(self, text: str) -> str:
        return self._wrap("36", text)


def render(doc: Document, *, color: bool = False, bars: bool = True) -> str:
    """Every text is escaped here once more (``units.safe`` is idempotent): whatever a view forgot, no
    control, bidi or zero-width character from a file reaches the terminal; colour codes are added after."""
    style = _Style(color)
    out = [style.bold(safe(doc.heading))]
    for section in doc.sections:
        out.append("")
        if section.title:
            out.append(style.bold(safe(section.title)))
        out += [safe(line) for line in section.lines]
        if section.table is not None:
            out += _table(section.table, style, bars=bars)
        out += [f"- {safe(b)}" for b in section.bullets]
    return "\n".join(out) + "\n"


def _table(table: Table, style: _Style, *, bars: bool) -> list[str]:
    rows = [[("  " * table.levels[i] + safe(r[0])), *map(safe, r[1:])] for i, r in enumerate(table.rows)]
    widths = [max([len(c.name)] + [len(r[j]) for r in rows]) for j, c in enumerate(table.columns)]

    def fmt(cells: list[str]) -> str:
        parts = [f"{cell:{col.align}{w}}" for cell, col, w in zip(cells, table.columns, widths)]
        return "  ".join(parts).rstrip()

    lines = [style.dim(fmt([c.name for c in table.columns]))]
    for i, cells in enumerate(rows):
        line = fmt(cells)
        if table.strong[i]:
            line = style.bold(line)
        fraction = table.bars[i]
        if bars and fraction is not None:
            drawn = bar(fraction)
            if drawn:
                line = f"{line}  {style.bar(drawn)}"
        lines.append(line)
    return lines
