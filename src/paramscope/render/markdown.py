"""Document -> GitHub-flavoured Markdown: a heading, then each section as text and a pipe table."""

from __future__ import annotations

import re

from .. import units
from .document import Document, Table


def render(doc: Document) -> str:
    out = [f"## {_escape(doc.heading)}"]
    for section in doc.sections:
        out.append("")
        if section.title:
            out += [f"### {_escape(section.title)}", ""]
        out += [_escape(line) + "  " for line in section.lines] if section.lines else []
        if section.table is not None:
            if section.lines:
                out.append("")
            out += _table(section.table)
        out += [f"- {_escape(b)}" for b in section.bullets]
    return "\n".join(out).replace("\n\n\n", "\n\n") + "\n"


# Markdown syntax that text from a file could use is escaped, so that no name renders as a link, an image,
# emphasis, code, a table cell break or HTML: ``[x](javascript:...)``, ``![](https://...)`` and
# ``<https://...>`` stay text. Lines never start with text from a file, so # + - need no escape.
_MARKDOWN = re.compile(r"([\\`*_\[\]|~])")


def _escape(text: str) -> str:
    text = _MARKDOWN.sub(r"\\\1", units.safe(text))
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _table(table: Table) -> list[str]:
    head = "| " + " | ".join(_escape(c.name) or " " for c in table.columns) + " |"
    rule = "|" + "|".join(("---:" if c.align == ">" else ":---") for c in table.columns) + "|"
    lines = [head, rule]
    for i, row in enumerate(table.rows):
        first = "\u00a0\u00a0" * table.levels[i] + _escape(row[0])
        if table.strong[i] and first.strip():
            first = f"**{first.strip()}**"
        cells = [first] + [_escape(c) for c in row[1:]]
        lines.append("| " + " | ".join(cells) + " |")
    return lines
