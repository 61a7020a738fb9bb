"""A renderer-neutral document: titled sections of lines and tables. Views build it, formats draw it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Column:
    name: str
    align: str = "<"  # "<" or ">"


@dataclass
class Table:
    columns: list[Column]
    rows: list[list[str]] = field(default_factory=list)
    # Per row: indentation level of the first cell, emphasis, and a bar fraction (0..1) or None.
    levels: list[int] = field(default_factory=list)
    strong: list[bool] = field(default_factory=list)
    bars: list[float | None] = field(default_factory=list)

    def add(self, cells: list[str], *, level: int = 0, strong: bool = False, bar: float | None = None) -> None:
        self.rows.append(cells)
        self.levels.append(level)
        self.strong.append(strong)
        self.bars.append(bar)


@dataclass
class Section:
    title: str | None = None
    lines: list[str] = field(default_factory=list)
    table: Table | None = None
    bullets: list[str] = field(default_factory=list)


@dataclass
class Document:
    heading: str
    sections: list[Section] = field(default_factory=list)
