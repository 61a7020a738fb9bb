"""Views: an Anatomy (or several) -> a Document. Formatting only: every number is read, none computed
beyond a share of two counts the Anatomy gives."""

from __future__ import annotations

from typing import TYPE_CHECKING, Sequence

from .. import tree as tree_mod
from .. import units
from ..inventory import Kind
from ..presets import Preset
from .document import Column, Document, Section, Table

if TYPE_CHECKING:
    from ..anatomy import Anatomy


def heading(a: Anatomy) -> str:
    edits = ", ".join(f"{k}={v}" for k, v in a.inventory.overrides.items())
    what_if = f" (what-if: {units.safe(edits)})" if edits else ""
    return f"{units.safe(a.source)}{what_if}: {a.inventory.family} · {a.model_class}"


def summary_lines(a: Anatomy) -> list[str]:
    t = a.totals
    lines = [
        f"{units.count(t['parameters'])} parameters ({units.short(t['parameters'])}), "
        f"non-embedding {units.count(t['non_embedding_parameters'])}"
    ]
    if a.baseline is not None:
        before = a.baseline.parameters
        diff = t["parameters"] - before
        lines.append(f"what-if: {units.count(before)} before the edits, {diff:+,} ({units.share(abs(diff), before)} "
                     f"{'more' if diff >= 0 else 'fewer'})")
    extra = []
    aliases = a.inventory.of_kind(Kind.ALIAS)
    if aliases:
        n = len(aliases)
        extra.append(f"{units.many(n, 'tied alias', 'tied aliases')} "
                     f"({units.many(t['tied_aliases'], 'element')}, counted once)")
    if t["buffers"]:
        extra.append(f"buffers {units.many(t['buffers'], 'element')} (not parameters)")
    if t["optimizer_state"]:
        extra.append(f"optimizer state {units.many(t['optimizer_state'], 'element')} (set aside)")
    if "active_parameters" in t:
        extra.append(f"active per token {units.count(t['active_parameters'])} "
                     f"({units.short(t['active_parameters'])}; experts {units.count(a.ffn_split['experts'])}, "
                     f"router {units.count(a.ffn_split['router'])})")
    if "unshared_parameters" in t:
        extra.append(f"unshared, each layer its own: {units.count(t['unshared_parameters'])}")
    if "frozen_parameters" in t:
        extra.append(f"trainable {units.count(t['trainable_parameters'])}, frozen {units.count(t['frozen_parameters'])}")
    if t["unclassified"]:
        extra.append(f"unclassified {units.count(t['unclassified'])}")
    if extra:
        lines.append("; ".join(extra))
    lines += [f"  {units.safe(t.name)} is {units.safe(t.tied_to or '?')}" for t in aliases[:4]]
    return lines


def component_table(a: Anatomy, *, depth: int) -> Table:
    total = a.parameters
    table = Table([Column("component"), Column("parameters", ">"), Column("share", ">")])
    for level, node in a.tree.walk():
        if level == 0 or (depth and level > depth):
            continue
        own = [t for t in node.tensors if t.kind in (Kind.PARAMETER, Kind.ALIAS)]
        if not node.children and own and all(t.kind == Kind.ALIAS for t in own):
            table.add([f"{units.safe(tree_mod.label(node))} (tied)", "0", "-"], level=level - 1)
            continue
        if not any(t.kind in (Kind.PARAMETER, Kind.ALIAS) for t in node.all_tensors()):
            continue  # a module holding only buffers
        name = tree_mod.label(node)
        if node.repeat > 1:
            name += f" ({units.count(node.numel_each)} each)"
        if node.note:
            name += f" ({node.note})"
        frac = node.numel / total if total else 0.0
        table.add(
            [units.safe(name), units.count(node.numel), units.share(node.numel, total)],
            level=level - 1, strong=level == 1, bar=frac,
        )
    table.add(["total", units.count(total), units.share(total, total)], strong=True)
    return table


def role_table(a: Anatomy) -> Table:
    total = a.parameters
    table = Table([Column("role"), Column("parameters", ">"), Column("share", ">")])
    for role, n in a.roles.items():
        table.add([role, units.count(n), units.share(n, total)], bar=n / total if total else 0.0)
    return table


def memory_table(a: Anatomy) -> Table:
    b = a.totals["bytes"]
    table = Table([Column("precision"), Column("bytes", ">"), Column("exact", ">")])
    table.add(["fp32", units.nbytes(b["fp32"]), units.count(b["fp32"])])
    table.add(["fp16/bf16", units.nbytes(b["fp16"]), units.count(b["fp16"])])
    table.add(["int8", units.nbytes(b["int8"]), units.count(b["int8"])])
    stored = ", ".join(f"{d}" for d in a.totals["dtypes"])
    if stored and a.totals["bytes"]["stored"] not in (b[k] for k in units.PRECISIONS):
        table.add([f"as stored ({stored})", units.nbytes(b["stored"]), units.count(b["stored"])])
    return table


def source_lines(a: Anatomy) -> list[str]:
    if a.format == "config":
        return []
    if a.format == "transformers on the meta device":
        lines = ["built with transformers on the meta device: no formula for this model type"]
    else:
        lines = [f"read from {a.format}, names, shapes and dtypes only"]
    if a.expected is not None:
        lines.append(f"formula from {units.safe(a.expected.source)} as {a.expected.model_class}: "
                     f"{units.count(a.expected.parameters)} parameters")
    return lines


def findings(a: Anatomy) -> Section | None:
    r = a.reconciliation
    if r is None:
        return None
    verdict = "agrees" if r.agrees else "does not agree"
    head = (f"the checkpoint {verdict} with the formula ({r.matched} tensors match"
            f"{'' if r.agrees else '; a mismatch means from_pretrained would not load it as it is'})")
    return Section("reconciliation", lines=[head], bullets=[f"[{f.severity}] {f.message}" for f in r.findings])


def show(a: Anatomy, *, depth: int = 2) -> Document:
    doc = Document(heading(a))
    doc.sections.append(Section(lines=source_lines(a) + summary_lines(a)))
    doc.sections.append(Section("by component", table=component_table(a, depth=depth)))
    doc.sections.append(Section("by role", table=role_table(a)))
    doc.sections.append(Section("memory of the parameters (weights only)", table=memory_table(a)))
    found = findings(a)
    if found is not None:
        doc.sections.append(found)
    if a.inventory.notes:
        doc.sections.append(Section("notes", bullets=[units.safe(n) for n in a.inventory.notes]))
    return doc


def tensors(a: Anatomy) -> Document:
    doc = Document(heading(a))
    doc.sections.append(Section(lines=summary_lines(a)))
    table = Table([Column("name"), Column("shape"), Column("dtype"), Column("count", ">"), Column("kind"),
                   Column("group"), Column("role"), Column("tied to")])
    for t in a.inventory.tensors:
        p = a.placements[t.name]
        table.add([
            units.safe(t.name), "×".join(map(str, t.shape)) or "scalar", t.dtype, units.count(t.numel),
            str(t.kind), str(p.group), str(p.role), units.safe(t.tied_to or ""),
        ])
    doc.sections.append(Section("tensors", table=table))
    return doc


def formula(a: Anatomy) -> Document:
    doc = Document(heading(a))
    order = a.family.order
    total_formula = a.total_formula
    if total_formula is None or not a.formula_rows:
        doc.sections.append(Section(lines=["no formula: this inventory has no symbolic shapes"]))
        return doc
    doc.sections.append(Section("symbols", lines=[
        f"{letter} = {field} = {units.count(value)}  ({meaning})" for letter, field, meaning, value in a.used_symbols
    ]))
    table = Table([Column("part"), Column("formula"), Column("with numbers"), Column("parameters", ">")])
    for row in a.formula_rows:
        value = units.count(row.value) + (" each" if row.each else "")
        symbolic = row.formula.render(order=order)
        numbers = row.formula.render(order=order, values=a.values)
        if row.note and not row.formula.expand().terms:  # only tied aliases: nothing new
            symbolic, numbers = "0", units.safe(row.note)
        elif row.note:
            numbers += f"  ({units.safe(row.note)})"
        table.add([units.safe(row.label), symbolic, numbers, value], level=row.depth, strong=row.depth == 0)
    doc.sections.append(Section("by part", table=table))
    doc.sections.append(Section("total", lines=[
        total_formula.render(order=order),
        "= " + total_formula.render(order=order, values=a.values),
        "= " + units.count(a.parameters),
    ]))
    doc.sections.append(Section("notes", bullets=a.formula_notes + [units.safe(n) for n in a.inventory.notes]))
    return doc


def compare(models: Sequence[Anatomy]) -> Document:
    doc = Document("compare: " + ", ".join(units.safe(m.source) for m in models))
    cols = [Column("")]
    for m in models:
        cols += [Column(units.safe(m.source), ">"), Column("share", ">")]
    table = Table(cols)

    def row(label: str, values: list[int], *, strong: bool = False, level: int = 0, shares: bool = True) -> None:
        cells = [label]
        for m, v in zip(models, values):
            cells += [units.count(v), units.share(v, m.parameters) if shares else ""]
        table.add(cells, strong=strong, level=level)

    table.add(["class"] + [c for m in models for c in (m.model_class, "")])
    row("parameters", [m.parameters for m in models], strong=True)
    # Every model has the same group keys; a group no model has (a decoder among encoders) is left out.
    always = ("embeddings", "encoder", "pooler", "heads")
    groups = [g for g in dict.fromkeys(g for m in models for g in m.groups)
              if g in always or any(m.groups.get(g) for m in models)]
    table.add(["by group"] + [""] * (len(cols) - 1), strong=True)
    for g in groups:
        row(g, [m.groups.get(g, 0) for m in models], level=1)
    table.add(["by role"] + [""] * (len(cols) - 1), strong=True)
    for r in models[0].roles:
        row(r, [m.roles[r] for m in models], level=1)
    row("non-embedding", [m.totals["non_embedding_parameters"] for m in models])
    row("tied aliases", [m.totals["tied_aliases"] for m in models], shares=False)
    row("buffers", [m.totals["buffers"] for m in models], shares=False)
    fp32 = ["fp32 bytes"] + [c for m in models for c in (units.nbytes(m.totals["bytes"]["fp32"]), "")]
    table.add(fp32)
    doc.sections.append(Section(table=table))
    return doc


def presets(rows: Sequence[tuple[Preset, Anatomy]]) -> Document:
    """Each preset with its exact total (default class) beside the figure its release states."""
    doc = Document("built-in presets (exact totals for the class shown; published figures as released)")
    table = Table([Column("preset"), Column("nickname"), Column("family"), Column("class"), Column("sizes"),
                   Column("parameters", ">"), Column("published", ">"), Column("off by", ">")])
    for preset, a in rows:
        sizes = " ".join(f"{letter}={a.values[letter]}" for letter in SIZE_SYMBOLS if letter in a.values)
        table.add([
            preset.name, preset.nickname or "", a.inventory.family, a.model_class, sizes,
            units.count(a.parameters), preset.published or "-", _off_by(a.parameters, preset.published),
        ])
    doc.sections.append(Section(table=table))
    doc.sections.append(Section(bullets=[
        "aliases: the Hugging Face Hub names (google-bert/NAME, openai-community/gpt2, ...); "
        "bert-tiny, bert-mini, bert-small, bert-medium for Google's small BERTs",
        "sizes: L layers, H hidden size, I feed-forward size, V vocabulary (see --formula for each family's symbols)",
        "off by: the exact count against the published round figure",
    ]))
    return doc


# The sizes the presets table shows, where a family has them.
SIZE_SYMBOLS = ("L", "H", "I", "V")


def _off_by(exact: int, published: str | None) -> str:
    if not published:
        return ""
    scale = {"k": 10**3, "M": 10**6, "B": 10**9}[published[-1]]
    stated = float(published[:-1]) * scale
    return f"{100 * (exact - stated) / stated:+.1f}%"


def check(a: Anatomy) -> Document:
    doc = Document(heading(a))
    doc.sections.append(Section(lines=source_lines(a) + summary_lines(a)))
    found = findings(a)
    doc.sections.append(found if found is not None else Section(lines=["no formula to compare with"]))
    return doc
