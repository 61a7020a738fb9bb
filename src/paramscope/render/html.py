"""Anatomy -> one self-contained HTML report: totals, charts, formulas, the tensor table, reconciliation.

Formatting only, like every renderer: counts, formulas and shares come from the Anatomy, its tree and
the views' tables; this module turns them into markup and chart data. The charts are drawn by plotly.js,
read from the installed ``plotly`` package (the ``report`` extra) and inlined, so the file works offline
from disk and asks no network address for anything. A Content-Security-Policy allows only the page's own
scripts (by hash) and no connections at all.

Names come from files and are untrusted: every string is HTML-escaped where it becomes markup; strings
for plotly (which reads a few tags in labels) are entity-escaped too; the chart data sits in a
``<script type="application/json">`` block with ``<``, ``>``, ``&``, U+2028 and U+2029 escaped, so a
tensor called ``</script><script>...`` stays a string.

    paramscope report bert-base-uncased -o bert.html
    paramscope report bert-base-uncased bert-base-chinese -o compare.html
"""

from __future__ import annotations

import base64
import hashlib
import html as html_mod
import json
from typing import Any, Sequence

from .. import __version__, units
from .. import tree as tree_mod
from ..anatomy import Anatomy
from ..errors import MissingDependency
from ..inventory import Kind
from ..symbolic import Formula, Term
from . import views
from .document import Column, Table

# Tableau 10: distinct on white and on near-black, the same colour for a group or role in every chart.
PALETTE = ("#4e79a7", "#f28e2b", "#e15759", "#76b7b2", "#59a14f", "#edc948", "#b07aa1", "#ff9da7", "#9c755f",
           "#bab0ac")
GROUP_COLORS = {"embeddings": PALETTE[0], "encoder": PALETTE[1], "decoder": PALETTE[2], "final_norm": PALETTE[3],
                "pooler": PALETTE[4], "heads": PALETTE[5], "unclassified": PALETTE[6], "vision_tower": PALETTE[7],
                "audio_tower": PALETTE[8], "projector": "#d37295"}
ROLE_COLORS = {"embedding": PALETTE[0], "attention": PALETTE[1], "ffn": PALETTE[2], "norm": PALETTE[3],
               "pooler": PALETTE[4], "head": PALETTE[5], "other": PALETTE[6]}
# Past this many sectors only the first layer of a run is opened down to its tensors (a 60-layer MoE
# would otherwise need tens of thousands); the tensor table still lists every tensor.
SUNBURST_BUDGET = 6000
_NUM, _STRONG = ' class="num"', ' class="strong"'
INSTALL_HINT = "install paramscope[report] (pip install 'paramscope[report]')"


# -- escaping -------------------------------------------------------------------------------------------
def esc(text: object) -> str:
    """Text -> HTML text or attribute value; control characters shown escaped as in the terminal."""
    return html_mod.escape(units.safe(str(text)), quote=True)


def label(text: object) -> str:
    """Text -> a plotly label: plotly reads <b>, <br>, <a> ... in labels, so a name's markup is escaped."""
    return html_mod.escape(units.safe(str(text)), quote=False)


def script_json(data: Any) -> str:
    """JSON that is safe inside <script>: no '<', '>' or '&' (so no '</script>' or '<!--'), no U+2028/9.

    >>> script_json({"name": "</script><b>&"})
    '{"name":"\\\\u003c/script\\\\u003e\\\\u003cb\\\\u003e\\\\u0026"}'
    """
    text = json.dumps(data, ensure_ascii=True, separators=(",", ":"))
    for raw, escaped in (("<", "\\u003c"), (">", "\\u003e"), ("&", "\\u0026"), ("\u2028", "\\u2028"),
                         ("\u2029", "\\u2029")):
        text = text.replace(raw, escaped)
    return text


# -- the page -------------------------------------------------------------------------------------------
def report(models: Sequence[Anatomy]) -> str:
    """One model: its anatomy; several: a comparison. Returns the whole HTML document.

    Needs plotly (the ``report`` extra) for its plotly.min.js; raises MissingDependency without it.
    """
    plotly_js = _plotly_js()
    if len(models) == 1:
        a = models[0]
        title = f"paramscope: {units.safe(a.source)}"
        body, data = _one(a)
    else:
        title = "paramscope: compare " + ", ".join(units.safe(m.source) for m in models)
        body, data = _compare(models)
    return _page(title, body, data, plotly_js)


def _plotly_js() -> str:
    try:
        from plotly.offline import get_plotlyjs
    except ImportError as e:
        raise MissingDependency(f"the HTML report needs plotly, which is not installed; {INSTALL_HINT}") from e
    js = get_plotlyjs()
    # Inlined as it is: it must not be able to end its own <script> element.
    if "</script" in js.lower() or "<!--" in js:
        js = js.replace("</script", "<\\/script").replace("</SCRIPT", "<\\/SCRIPT").replace("<!--", "<\\!--")
    return js


def _csp_hash(script: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(script.encode()).digest()).decode() + "'"


def _page(title: str, body: str, data: dict[str, Any], plotly_js: str) -> str:
    scripts = ["window.PlotlyConfig = {MathJaxConfig: 'local'};", plotly_js, APP_JS]
    # No network, no plugins, no other script than these three (an injected one would not run either).
    csp = ("default-src 'none'; script-src " + " ".join(_csp_hash(s) for s in scripts) +
           "; style-src 'unsafe-inline'; img-src data: blob:; font-src data:; connect-src 'none'; "
           "base-uri 'none'; form-action 'none'")
    return "\n".join([
        "<!doctype html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="color-scheme" content="light dark">',
        f'<meta name="generator" content="paramscope {__version__}">',
        '<link rel="icon" href="data:,">',
        f"<title>{esc(title)}</title>",
        f"<style>{CSS}</style>",
        "</head>",
        "<body>",
        body,
        f'<footer>paramscope {esc(__version__)} · counts are exact, read from names, shapes and dtypes; '
        "charts by plotly.js (MIT), inlined: this file needs no network.</footer>",
        f'<script type="application/json" id="paramscope-data">{script_json(data)}</script>',
        *(f"<script>{s}</script>" for s in scripts),
        "</body>",
        "</html>",
        "",
    ])


# -- one model ------------------------------------------------------------------------------------------
def _one(a: Anatomy) -> tuple[str, dict[str, Any]]:
    edits = ", ".join(f"{k}={v}" for k, v in a.inventory.overrides.items())
    parts = [f'<header><h1>{esc(a.source)}{esc(f" (what-if: {edits})") if edits else ""}</h1>'
             f'<p class="sub">{esc(a.inventory.family)} · '
             f"{esc(a.model_class)}{' · ' + esc(a.format) if a.format != 'config' else ''}</p>"]
    nav = [("totals", "Totals"), ("where", "Where"), ("roles", "Roles"), ("layers", "Layers")]
    if a.reconciliation is not None:
        nav.append(("reconciliation", "Reconciliation"))
    nav += [("formulas", "Formulas"), ("tensors", "Tensors")]
    parts.append("<nav>" + "".join(f'<a href="#{k}">{v}</a>' for k, v in nav) + "</nav></header>")
    parts.append("<main>")
    parts.append(_totals_section(a))
    parts.append(
        '<section id="where"><h2>Where the parameters live</h2>'
        '<p class="hint">From the whole model to groups, layers and single tensors. Hover a segment for its '
        "count, share and formula; click it to zoom in, click the centre to zoom out.</p>"
        '<div class="split"><div class="chart sunburst" id="chart-sunburst" role="img" '
        'aria-label="sunburst chart of parameters by component"></div>'
        f'<div class="scroll">{_table(views.component_table(a, depth=2), cls="components")}</div></div></section>')
    parts.append(_roles_section(a))
    layers = _layers(a)
    parts.append('<section id="layers"><h2>Per layer</h2>' + (
        '<p class="hint">One bar per numbered layer; a layer that differs from its neighbours, or one shared by '
        'several, stands out.</p><div class="chart bars" id="chart-layers" role="img" '
        'aria-label="bar chart of parameters per layer"></div>'
        if layers["traces"] else "<p>No numbered layers in this model.</p>") + "</section>")
    if a.reconciliation is not None:
        parts.append(_reconciliation_section(a))
    parts.append(_formula_section(a.expected if a.expected is not None else a))
    parts.append(_tensor_section(a))
    notes = [units.safe(n) for n in a.inventory.notes]
    if notes:
        parts.append('<section id="notes"><h2>Notes</h2><ul>' + "".join(f"<li>{esc(n)}</li>" for n in notes)
                     + "</ul></section>")
    parts.append("</main>")
    data = {"kind": "one", "sunburst": _sunburst(a), "roles": _roles(a), "layers": layers}
    return "\n".join(parts), data


def _cards(a: Anatomy) -> list[tuple[str, str, str]]:
    """(title, big number, small print) for the parameter totals the Anatomy reports."""
    t = a.totals
    cards = [("parameters", units.count(t["parameters"]), units.short(t["parameters"])),
             ("non-embedding", units.count(t["non_embedding_parameters"]),
              units.share(t["non_embedding_parameters"], t["parameters"]) + " of the parameters")]
    for key, title in (("active_parameters", "active per token"), ("trainable_parameters", "trainable"),
                       ("frozen_parameters", "frozen"), ("unshared_parameters", "unshared (each layer its own)")):
        if key in t:
            cards.append((title, units.count(t[key]), units.short(t[key])))
    cards.append(("fp32 bytes", units.nbytes(t["bytes"]["fp32"]), "of the parameters, weights only"))
    return cards


def _kinds_table(a: Anatomy) -> Table:
    """What is in the inventory but is not a parameter, by kind (and the parameters no rule places)."""
    t = a.totals
    aliases = a.inventory.of_kind(Kind.ALIAS)
    table = Table([Column("kind"), Column("elements", ">"), Column("what it is")])
    table.add(["buffers", units.count(t["buffers"]), "state such as position_ids: not parameters"])
    table.add(["tied aliases", units.count(t["tied_aliases"]),
               f"{units.many(len(aliases), 'tensor')} sharing another's storage: counted once"])
    table.add(["optimizer state", units.count(t["optimizer_state"]), "Adam moments, steps: set aside"])
    table.add(["other", units.count(t["other"]), "not model tensors (object graphs, strings)"])
    table.add(["unclassified parameters", units.count(t["unclassified"]), "counted, in no known component"])
    return table


def _totals_section(a: Anatomy) -> str:
    t = a.totals
    # The what-if line and the tied pairs; the other summary lines are the cards and tables below.
    lines = views.source_lines(a) + [line for line in views.summary_lines(a)[1:]
                                     if line.startswith(("what-if", "  "))]
    cards = "".join(f'<div class="card"><div class="k">{esc(k)}</div><div class="v">{esc(v)}</div>'
                    f'<div class="s">{esc(s)}</div></div>' for k, v, s in _cards(a))
    dtypes = Table([Column("dtype"), Column("elements", ">"), Column("share", ">")])
    for dtype, n in t["dtypes"].items():
        dtypes.add([dtype, units.count(n), units.share(n, t["parameters"])])
    return ('<section id="totals"><h2>Totals</h2>'
            + "".join(f"<p>{esc(line)}</p>" for line in lines)
            + f'<div class="cards">{cards}</div>'
            + '<div class="grid2"><div><h3>Not parameters, by kind</h3>'
            + f'<div class="scroll">{_table(_kinds_table(a), cls="kinds")}</div></div>'
            + '<div class="pair"><div><h3>Bytes of the parameters</h3>'
            + f'<div class="scroll">{_table(views.memory_table(a))}</div></div>'
            + f'<div><h3>Parameters by dtype</h3><div class="scroll">{_table(dtypes)}</div>'
            + f'<p class="hint">as stored: {esc(units.nbytes(t["bytes"]["stored"]))} '
            + f'({esc(units.count(t["bytes"]["stored"]))} bytes)</p></div></div></div></section>')


def _roles_section(a: Anatomy) -> str:
    split = ""
    if a.ffn_split.get("experts") or a.ffn_split.get("router"):
        split = ("<p>ffn: " + ", ".join(f"{esc(k)} {esc(units.count(v))}" for k, v in a.ffn_split.items())
                 + "</p>")
    return ('<section id="roles"><h2>By role</h2><div class="split">'
            '<div class="chart bars-h" id="chart-roles" role="img" aria-label="bar chart of parameters by role">'
            f'</div><div class="scroll">{_table(views.role_table(a))}{split}</div></div></section>')


def _reconciliation_section(a: Anatomy) -> str:
    r = a.reconciliation
    assert r is not None
    section = views.findings(a)
    assert section is not None
    verdict = "agrees" if r.agrees else "disagrees"
    items = "".join(
        f'<li><span class="badge {esc(f.severity)}">{esc(f.severity)}</span> {esc(f.message)}</li>'
        for f in r.findings)
    return (f'<section id="reconciliation"><h2>Reconciliation</h2>'
            f'<p class="verdict {verdict}">{esc(section.lines[0])}</p>'
            + "".join(f"<p>{esc(line)}</p>" for line in views.source_lines(a)[1:])
            + f'<ul class="findings">{items}</ul></section>')


def _formula_section(a: Anatomy) -> str:
    doc = views.formula(a)
    out = ['<section id="formulas"><h2>Formulas</h2>']
    for section in doc.sections:
        if section.title:
            out.append(f"<h3>{esc(section.title)}</h3>")
        if section.title == "symbols":
            symbols = Table([Column("symbol"), Column("config field"), Column("value", ">"), Column("meaning")])
            for letter, field, meaning, value in a.used_symbols:
                symbols.add([letter, field, units.count(value), meaning])
            out.append(f'<div class="scroll">{_table(symbols, cls="symbols")}</div>')
            continue
        if section.title == "total":
            out.append('<pre class="formula">' + "\n".join(esc(line) for line in section.lines) + "</pre>")
        elif section.lines:
            out += [f"<p>{esc(line)}</p>" for line in section.lines]
        if section.table is not None:
            out.append(f'<div class="scroll">{_table(section.table, cls="formula-table")}</div>')
        if section.bullets:
            out.append("<ul>" + "".join(f"<li>{esc(b)}</li>" for b in section.bullets) + "</ul>")
    out.append("</section>")
    return "".join(out)


def _tensor_section(a: Anatomy) -> str:
    total = a.parameters
    head = ("name", "shape", "dtype", "count", "share", "kind", "group", "role", "tied to")
    numeric = {"count", "share"}
    rows = []
    for t in a.inventory.tensors:
        p = a.placements[t.name]
        share = units.share(t.numel, total) if t.kind == Kind.PARAMETER else "-"
        cells = [
            (units.safe(t.name), None), ("×".join(map(str, t.shape)) or "scalar", t.numel),
            (t.dtype, None), (units.count(t.numel), t.numel),
            (share, t.numel if t.kind == Kind.PARAMETER else -1), (str(t.kind), None), (str(p.group), None),
            (str(p.role), None), (units.safe(t.tied_to or ""), None),
        ]
        tds = "".join(
            (f'<td data-v="{v}"' if v is not None else "<td") + (' class="num"' if h in numeric else "") +
            f">{esc(text)}</td>" for (text, v), h in zip(cells, head))
        rows.append(f"<tr>{tds}</tr>")
    ths = "".join(
        f'<th scope="col"{_NUM if h in numeric else ""}><button type="button" data-col="{i}">'
        f"{esc(h)}</button></th>" for i, h in enumerate(head))
    n = len(a.inventory.tensors)
    return ('<section id="tensors"><h2>Tensors</h2>'
            '<div class="filter"><label for="tensor-filter">Filter</label> '
            '<input id="tensor-filter" type="search" placeholder="name, kind, group, role, dtype ..." '
            'autocomplete="off" spellcheck="false">'
            f'<span id="tensor-count" aria-live="polite">{n} of {n} tensors</span></div>'
            '<p class="hint">Words must all match (e.g. <code>layer.3 attention</code>). Click a column to sort.</p>'
            f'<div class="scroll tall"><table id="tensor-table" class="tensors"><thead><tr>{ths}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table></div></section>')


def _table(table: Table, *, cls: str = "") -> str:
    """A views Table as HTML: indentation levels, strong rows, share bars drawn with CSS."""
    has_bars = any(b is not None for b in table.bars)
    head = "".join(f'<th scope="col"{_NUM if c.align == ">" else ""}>{esc(c.name)}</th>'
                   for c in table.columns)
    if has_bars:
        head += '<th scope="col" class="barcol"><span class="sr">share bar</span></th>'
    rows = []
    for i, cells in enumerate(table.rows):
        tds = []
        for j, (cell, col) in enumerate(zip(cells, table.columns)):
            attrs = ' class="num"' if col.align == ">" else ""
            if j == 0 and table.levels[i]:
                attrs = f' style="padding-left:{0.4 + 1.1 * table.levels[i]:.1f}em"'
            tds.append(f"<td{attrs}>{esc(cell)}</td>")
        if has_bars:
            frac = table.bars[i]
            width = f"{100 * max(0.0, min(1.0, frac)):.2f}" if frac is not None else "0"
            tds.append(f'<td class="barcol"><span class="bar" style="width:{width}%"></span></td>')
        rows.append(f'<tr{_STRONG if table.strong[i] else ""}>{"".join(tds)}</tr>')
    return f'<table class="{esc(cls)}"><thead><tr>{head}</tr></thead><tbody>{"".join(rows)}</tbody></table>'


# -- chart data (one model) -----------------------------------------------------------------------------
def _formula_text(a: Anatomy, f: Formula | None) -> str:
    if f is None or not f.expand().terms:
        return ""
    order = a.family.order
    return f"{f.render(order=order)} = {f.render(order=order, values=a.values)}"


def _poly_formula(poly: Any) -> Formula | None:
    return None if poly is None else Formula((Term(poly),))


def _blend(color: str, depth: int) -> str:
    """A group's colour, lighter with each ring, so neighbouring rings stay apart."""
    r, g, b = (int(color[i:i + 2], 16) for i in (1, 3, 5))
    k = min(0.6, 0.16 * max(0, depth - 1))
    r, g, b = (round(c + (255 - c) * k) for c in (r, g, b))
    return f"#{r:02x}{g:02x}{b:02x}"


def _sunburst(a: Anatomy) -> dict[str, Any]:
    """Root -> groups -> modules -> a run's layers one by one -> single tensors (parameters only)."""
    total = a.parameters
    out: dict[str, list[Any]] = {"ids": [], "parents": [], "labels": [], "values": [], "hover": [], "colors": []}
    by_place = {(str(p.group), p.path, p.leaf): name for name, p in a.placements.items()}
    tensors = {t.name: t for t in a.inventory.tensors}

    def add(text: str, value: int, parent: str, hover: list[str], color: str) -> str:
        ident = f"s{len(out['ids'])}"
        out["ids"].append(ident)
        out["parents"].append(parent)
        out["labels"].append(label(text))
        out["values"].append(value)
        out["hover"].append("<br>".join(hover))
        out["colors"].append(color)
        return ident

    def count_line(n: int, what: str = "parameters") -> str:
        return f"{label(units.count(n))} {what} · {label(units.share(n, total))} of the model"

    def formula_line(f: Formula | None) -> list[str]:
        text = _formula_text(a, f)
        return [f"formula {label(text)}"] if text else []

    def size(node: tree_mod.Node) -> int:
        n = 1 + sum(1 for t in node.tensors if t.kind == Kind.PARAMETER and t.numel)
        for c in node.children:
            n += size(c) * (c.repeat + 1 if c.repeat > 1 else 1)
        return n

    budget = [SUNBURST_BUDGET]

    def real(name: str, subs: list[tuple[int, str]]) -> str:
        """The name of the same tensor in layer k of a run (the tree keeps the first layer's tensors)."""
        if not subs:
            return name
        p = a.placements[name]
        path = list(p.path)
        for pos, k in subs:
            if 0 <= pos - 1 < len(path):
                path[pos - 1] = k
        return by_place.get((str(p.group), tuple(path), p.leaf), name)

    def visit(node: tree_mod.Node, parent: str, depth: int, color: str, subs: list[tuple[int, str]],
              shallow: bool) -> None:
        if node.numel == 0:
            return
        title = tree_mod.label(node)
        path = ".".join(node.path[1:]) if len(node.path) > 1 else node.path[0] if node.path else ""
        note = [label(node.note)] if node.note else []
        if node.first is not None and node.repeat > 1:
            hover = [f"<b>{label(title)}</b>", count_line(node.numel),
                     f"{label(units.count(node.numel_each))} each × {node.repeat}", *note,
                     *formula_line(node.formula())]
            run = add(title, node.numel, parent, hover, _blend(color, depth))
            pos = len(node.path) - 1
            base = node.path[-2] if len(node.path) >= 2 else "block"
            each = size(_one_block(node))
            for i, k in enumerate(range(node.first, node.first + node.repeat)):
                hover = [f"<b>{label(base)} {k}</b>", count_line(node.numel_each),
                         f"one of {node.repeat} identical layers ({label(title)})",
                         *formula_line(_poly_formula(node.poly_each()))]
                layer = add(f"{base} {k}", node.numel_each, run, hover, _blend(color, depth + 1))
                opened = not shallow and (i == 0 or budget[0] >= each)
                if opened:
                    budget[0] -= each
                for child in node.children:
                    if opened:
                        visit(child, layer, depth + 2, color, subs + [(pos, str(k))], shallow)
            return
        if node.first is not None:  # a single numbered block: its own number is already in the tree
            subs = subs + [(len(node.path) - 1, str(node.first))]
        shown = module_name(node, subs) or real_path(node, subs) or path
        hover = [f"<b>{label(title)}</b>", label(shown), count_line(node.numel), *note,
                 *formula_line(node.formula())]
        here = add(title, node.numel, parent, hover, _blend(color, depth))
        for t in node.tensors:
            if t.kind != Kind.PARAMETER or not t.numel:
                continue
            name = real(t.name, subs)
            real_t = tensors.get(name, t)
            hover = [f"<b>{label(name)}</b>", count_line(real_t.numel),
                     f"shape {label('×'.join(map(str, real_t.shape)) or 'scalar')} · {label(real_t.dtype)} · "
                     f"role {label(a.placements[name].role)}",
                     *formula_line(_poly_formula(t.numel_expr))]
            add(name.rsplit(".", 1)[-1], real_t.numel, here, hover, _blend(color, depth + 1))
        for child in node.children:
            visit(child, here, depth + 1, color, subs, shallow)

    def module_name(node: tree_mod.Node, subs: list[tuple[int, str]]) -> str:
        """The module's name as the file spells it: a tensor's name without its leaf (``.weight``)."""
        for t in node.tensors:
            name, leaf = real(t.name, subs), a.placements[t.name].leaf
            for sep in (".", "/"):
                if leaf and name.endswith(sep + leaf):
                    return name[: -len(leaf) - 1]
        return ""

    def real_path(node: tree_mod.Node, subs: list[tuple[int, str]]) -> str:
        path = list(node.path[1:])
        for pos, k in subs:
            if 0 <= pos - 1 < len(path):
                path[pos - 1] = k
        return ".".join(path)

    root = add(a.source.rstrip("/").rsplit("/", 1)[-1] or a.source, total, "",
               [f"<b>{label(a.source)}</b>", f"{label(units.count(total))} parameters (100%)",
                *formula_line(a.total_formula)], "rgba(127,127,127,0.18)")
    shallow = size(a.tree) > SUNBURST_BUDGET * 4
    for group in a.tree.children:
        visit(group, root, 1, GROUP_COLORS.get(group.name, PALETTE[9]), [], shallow)
    return out


def _one_block(node: tree_mod.Node) -> tree_mod.Node:
    return tree_mod.Node(node.name, node.path, node.children, node.tensors)


def _roles(a: Anatomy) -> dict[str, Any]:
    total = a.parameters
    names = list(a.roles)
    return {
        "labels": [label(r) for r in names],
        "values": [a.roles[r] for r in names],
        "text": [label(units.share(a.roles[r], total)) for r in names],
        "hover": [f"<b>{label(r)}</b><br>{label(units.count(a.roles[r]))} parameters · "
                  f"{label(units.share(a.roles[r], total))}" for r in names],
        "colors": [ROLE_COLORS.get(r, PALETTE[9]) for r in names],
    }


def _layers(a: Anatomy) -> dict[str, Any]:
    """A bar per numbered layer (a run of identical layers gives one bar each), one trace per run."""
    total = a.parameters
    def collect(node: tree_mod.Node) -> list[tree_mod.Node]:  # the outermost numbered or shared blocks
        if node.first is not None or node.note:
            return [node]
        return [n for c in node.children for n in collect(c)]

    runs = [(group, node) for group in a.tree.children for node in collect(group)]
    groups_with_runs = {g.name for g, _ in runs}
    traces = []
    for i, (group, node) in enumerate(runs):
        prefix = f"{group.name} " if len(groups_with_runs) > 1 else ""
        title = tree_mod.label(node)
        if node.first is None:  # shared by several layers (ALBERT), or a module the family notes
            xs, each = [f"{prefix}{title}"], node.numel
        else:
            base = node.path[-2] if len(node.path) >= 2 else "block"
            xs, each = [f"{prefix}{base} {k}" for k in range(node.first, node.first + node.repeat)], node.numel_each
        note = f" · {node.note}" if node.note else ""
        hover = [f"<b>{label(x)}</b><br>{label(units.count(each))} parameters · {label(units.share(each, total))} "
                 f"of the model<br>{label(group.name)} · {label(title)}{label(note)}" for x in xs]
        formula = _formula_text(a, _poly_formula(node.poly_each()))
        if formula:
            hover = [h + f"<br>formula {label(formula)}" for h in hover]
        traces.append({"name": label(f"{group.name} · {title}{note}"), "x": [label(x) for x in xs],
                       "y": [each] * len(xs), "hover": hover,
                       "color": PALETTE[(i + 1) % len(PALETTE)] if node.first is not None else PALETTE[6]})
    return {"traces": traces}


# -- several models -------------------------------------------------------------------------------------
def _names(models: Sequence[Anatomy]) -> list[str]:
    """Display names, unique (the same model twice with different options stays two rows)."""
    seen: dict[str, int] = {}
    out = []
    for m in models:
        name = units.safe(m.source)
        if m.inventory.overrides:
            name += " (" + ", ".join(f"{k}={v}" for k, v in m.inventory.overrides.items()) + ")"
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name} ({seen[name]})")
    return out


def _compare(models: Sequence[Anatomy]) -> tuple[str, dict[str, Any]]:
    names = _names(models)
    always = ("embeddings", "encoder", "pooler", "heads")
    groups = [g for g in dict.fromkeys(g for m in models for g in m.groups)
              if g in always or any(m.groups.get(g) for m in models)]
    roles = list(models[0].roles)
    parts = ["<header><h1>Compare " + esc(", ".join(names)) + "</h1>",
             f'<p class="sub">{len(models)} models · groups and roles side by side</p>',
             '<nav><a href="#summary">Summary</a><a href="#groups">Groups</a><a href="#roles">Roles</a>'
             '<a href="#differences">Differences</a>'
             + ('<a href="#reconciliation">Reconciliation</a>' if any(m.reconciliation for m in models) else "")
             + "</nav></header><main>"]

    summary = Table([Column("model"), Column("family"), Column("class"),
                     Column("parameters", ">"), Column("short", ">"), Column("non-embedding", ">"),
                     Column("fp32 bytes", ">")])
    for name, m in zip(names, models):
        t = m.totals
        summary.add([name, m.inventory.family, m.model_class, units.count(t["parameters"]),
                     units.short(t["parameters"]), units.count(t["non_embedding_parameters"]),
                     units.nbytes(t["bytes"]["fp32"])])
    parts.append(f'<section id="summary"><h2>Summary</h2><div class="scroll">{_table(summary)}</div></section>')
    for key, title in (("groups", "By group"), ("roles", "By role")):
        parts.append(
            f'<section id="{key}"><h2>{title}</h2><div class="grid2">'
            f'<div><h3>Parameters</h3><div class="chart stack" id="chart-{key}-abs" role="img" '
            f'aria-label="stacked bars of parameters {title.lower()}"></div></div>'
            f'<div><h3>Share of each model</h3><div class="chart stack" id="chart-{key}-share" role="img" '
            f'aria-label="stacked bars of shares {title.lower()}"></div></div></div></section>')
    parts.append(_differences(models, names, groups, roles))
    recs = [(n, m) for n, m in zip(names, models) if m.reconciliation is not None]
    if recs:
        parts.append('<section id="reconciliation"><h2>Reconciliation</h2>')
        for n, m in recs:
            section = views.findings(m)
            assert section is not None and m.reconciliation is not None
            verdict = "agrees" if m.reconciliation.agrees else "disagrees"
            items = "".join(f'<li><span class="badge {esc(f.severity)}">{esc(f.severity)}</span> {esc(f.message)}'
                            "</li>" for f in m.reconciliation.findings)
            parts.append(f'<h3>{esc(n)}</h3><p class="verdict {verdict}">{esc(section.lines[0])}</p>'
                         f'<ul class="findings">{items}</ul>')
        parts.append("</section>")
    parts.append("</main>")

    def stacks(keys: list[str], values: Any, colors: dict[str, str]) -> dict[str, Any]:
        traces = []
        for k in keys:
            counts = [values(m).get(k, 0) for m in models]
            if not any(counts):
                continue
            shares = [100 * c / m.parameters if m.parameters else 0 for c, m in zip(counts, models)]
            traces.append({
                "name": label(k), "color": colors.get(k, PALETTE[9]), "counts": counts, "shares": shares,
                "share_text": [label(units.share(c, m.parameters)) for c, m in zip(counts, models)],
                "hover": [f"<b>{label(k)}</b> in {label(n)}<br>{label(units.count(c))} parameters · "
                          f"{label(units.share(c, m.parameters))} of the model"
                          for c, m, n in zip(counts, models, names)],
            })
        return {"traces": traces}

    data = {"kind": "compare", "models": [label(n) for n in names],
            "groups": stacks(groups, lambda m: m.groups, GROUP_COLORS),
            "roles": stacks(roles, lambda m: m.roles, ROLE_COLORS)}
    return "\n".join(parts), data


def _differences(models: Sequence[Anatomy], names: list[str], groups: list[str], roles: list[str]) -> str:
    """Each count of each model, and beside it the difference from the first model."""
    base = models[0]
    cols = [Column("")] + [Column(names[0], ">")]
    for n in names[1:]:
        cols += [Column(n, ">"), Column(f"Δ vs {names[0]}", ">")]
    table = Table(cols)

    def row(title: str, get: Any, *, level: int = 0, strong: bool = False, fmt: Any = units.count) -> None:
        first = get(base)
        cells = [title, fmt(first)]
        for m in models[1:]:
            v = get(m)
            diff = v - first
            rel = f" ({'+' if diff > 0 else '-'}{units.share(abs(diff), first)})" if diff and first else ""
            cells += [fmt(v), ("0" if not diff else ("+" if diff > 0 else "-") + fmt(abs(diff))) + rel]
        table.add(cells, level=level, strong=strong)

    row("parameters", lambda m: m.parameters, strong=True)
    row("non-embedding", lambda m: m.totals["non_embedding_parameters"])
    table.add(["by group"] + [""] * (len(cols) - 1), strong=True)
    for g in groups:
        row(g, lambda m, g=g: m.groups.get(g, 0), level=1)
    table.add(["by role"] + [""] * (len(cols) - 1), strong=True)
    for r in roles:
        row(r, lambda m, r=r: m.roles.get(r, 0), level=1)
    row("tied aliases (elements)", lambda m: m.totals["tied_aliases"])
    row("buffers (elements)", lambda m: m.totals["buffers"])
    row("fp32 bytes", lambda m: m.totals["bytes"]["fp32"], fmt=units.nbytes)
    return ('<section id="differences"><h2>Differences</h2><p class="hint">Each count, and its difference from '
            f'{esc(names[0])}.</p><div class="scroll">{_table(table, cls="diff")}</div></section>')


# -- Jupyter --------------------------------------------------------------------------------------------
def fragment(a: Anatomy) -> str:
    """The notebook view of an Anatomy: the tables with share bars and, with matplotlib, the chart.

    A fragment, not a page: no script (notebooks may not run one) and no 5 MB plotly.js per output; the
    chart is a PNG drawn by :mod:`paramscope.render.plot` when matplotlib is installed.
    """
    chart = ""
    try:
        from . import plot

        png = plot.to_bytes([a], fmt="png")
        chart = (f'<img alt="parameters by group and by role" style="max-width:100%;height:auto" '
                 f'src="data:image/png;base64,{base64.b64encode(png).decode()}">')
    except MissingDependency:
        pass
    lines = "".join(f"<div>{esc(line)}</div>" for line in views.source_lines(a) + views.summary_lines(a))
    style = ("<style>.paramscope table{border-collapse:collapse;margin:.4em 0}.paramscope td,.paramscope th"
             "{padding:.1em .6em;text-align:left}.paramscope .num{text-align:right;font-variant-numeric:"
             "tabular-nums}.paramscope .strong td{font-weight:600}.paramscope .barcol{width:8em}.paramscope "
             ".bar{display:block;height:.7em;background:#4e79a7;border-radius:2px}.paramscope .sr{display:none}"
             "</style>")
    return (f'<div class="paramscope">{style}<strong>{esc(views.heading(a))}</strong>{lines}'
            f"{_table(views.component_table(a, depth=2))}{_table(views.role_table(a))}{chart}</div>")


CSS = """
:root{--bg:#ffffff;--fg:#1f2328;--muted:#59636e;--border:#d1d9e0;--card:#f6f8fa;--accent:#0969da;
--ok:#1a7f37;--note:#9a6700;--bad:#cf222e;--bar:#4e79a7;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--border:#3d444d;
--card:#151b23;--accent:#4493f8;--ok:#3fb950;--note:#d29922;--bad:#f85149;--bar:#6b9bd1}}
*{box-sizing:border-box}
html{-webkit-text-size-adjust:100%}
body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,
"Helvetica Neue",Arial,sans-serif;overflow-wrap:anywhere}
header,main,footer{max-width:1180px;margin:0 auto;padding:0 16px}
header{padding-top:20px}
h1{font-size:1.6em;margin:0 0 .1em;line-height:1.25}
h2{font-size:1.25em;margin:1.6em 0 .5em;padding-bottom:.2em;border-bottom:1px solid var(--border)}
h3{font-size:1.02em;margin:1em 0 .4em}
p{margin:.35em 0}
.sub,.hint,footer{color:var(--muted)}
.hint{font-size:.9em}
nav{display:flex;flex-wrap:wrap;gap:.3em .9em;margin:.6em 0 0;font-size:.95em}
a{color:var(--accent)}
footer{font-size:.85em;padding-top:24px;padding-bottom:32px}
code,pre,.formula-table td,.tensors td{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.cards{display:grid;grid-template-columns:repeat(auto-fill,minmax(min(100%,170px),1fr));gap:10px;margin:.8em 0}
.card{background:var(--card);border:1px solid var(--border);border-radius:8px;padding:8px 12px}
.card .k{color:var(--muted);font-size:.85em}
.card .v{font-size:1.3em;font-weight:600;font-variant-numeric:tabular-nums}
.card .s{color:var(--muted);font-size:.8em}
.grid2{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(100%,440px),1fr));gap:0 24px}
.pair{display:flex;flex-wrap:wrap;gap:0 24px}
.split{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:16px;align-items:start}
.components td:first-child,.kinds td:first-child,.symbols td,.formula-table td{white-space:nowrap}
.kinds td:last-child{color:var(--muted)}
.scroll.tall{max-height:75vh;overflow:auto;border:1px solid var(--border);border-radius:6px}
.scroll.tall table{margin:0}
.scroll.tall thead th{position:sticky;top:0;background:var(--bg);z-index:1;box-shadow:0 1px 0 var(--border)}
@media (max-width:900px){.split{grid-template-columns:minmax(0,1fr)}}
.chart{width:100%;min-width:0}
.sunburst{height:min(620px,94vw)}
.bars{height:340px}
.bars-h{height:320px}
.stack{height:calc(120px + var(--rows,3) * 56px)}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;font-size:.9em;font-variant-numeric:tabular-nums;margin:.3em 0}
th,td{padding:3px 10px;text-align:left;vertical-align:top;border-bottom:1px solid var(--border)}
th{font-weight:600;color:var(--muted);white-space:nowrap}
td.num,th.num{text-align:right;white-space:nowrap}
tr.strong td{font-weight:600}
.barcol{width:90px;min-width:40px}
.bar{display:block;height:.75em;margin-top:.35em;background:var(--bar);border-radius:2px;min-width:0}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
pre.formula{background:var(--card);border:1px solid var(--border);border-radius:6px;padding:10px 12px;
white-space:pre-wrap;margin:.4em 0}
.formula-table td:first-child{white-space:nowrap}
.filter{display:flex;flex-wrap:wrap;align-items:center;gap:8px;margin:.4em 0}
.filter input{flex:1 1 240px;min-width:0;font:inherit;padding:6px 10px;color:var(--fg);background:var(--bg);
border:1px solid var(--border);border-radius:6px}
#tensor-count{color:var(--muted);font-size:.9em}
.tensors th button{all:unset;cursor:pointer;color:var(--fg);font-weight:600}
.tensors th button:focus-visible{outline:2px solid var(--accent)}
.tensors th[aria-sort=ascending] button::after{content:" \\25B2"}
.tensors th[aria-sort=descending] button::after{content:" \\25BC"}
.tensors td{white-space:nowrap}
.tensors td:first-child{white-space:normal;word-break:break-all;min-width:14em}
.findings{padding-left:1.2em}
.findings li{margin:.3em 0}
.badge{display:inline-block;font-size:.78em;font-weight:600;padding:0 .5em;border-radius:1em;
border:1px solid currentColor}
.badge.ok{color:var(--ok)}.badge.note{color:var(--note)}.badge.mismatch{color:var(--bad)}
.verdict{font-weight:600}.verdict.agrees{color:var(--ok)}.verdict.disagrees{color:var(--bad)}
.diff td:first-child{white-space:nowrap}
@media (max-width:600px){body{font-size:14px}header,main,footer{padding:0 10px}h1{font-size:1.3em}
th,td{padding:3px 6px}}
""".strip()


APP_JS = r"""
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("paramscope-data").textContent);
  var charts = [];

  function css(name) {
    return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
  }
  function theme() {
    var fg = css("--fg"), muted = css("--muted"), border = css("--border"), card = css("--card");
    return {
      paper_bgcolor: "rgba(0,0,0,0)", plot_bgcolor: "rgba(0,0,0,0)",
      font: {family: 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif', color: fg, size: 12},
      hoverlabel: {bgcolor: card, bordercolor: border, font: {color: fg, size: 12}, align: "left"},
      "xaxis.gridcolor": border, "yaxis.gridcolor": border, "xaxis.linecolor": muted, "yaxis.linecolor": muted,
      "xaxis.zerolinecolor": muted, "yaxis.zerolinecolor": muted, "legend.font.color": fg
    };
  }
  function layout(extra) {
    var t = theme(), out = {
      paper_bgcolor: t.paper_bgcolor, plot_bgcolor: t.plot_bgcolor, font: t.font, hoverlabel: t.hoverlabel,
      margin: {l: 8, r: 8, t: 8, b: 8}, autosize: true,
      xaxis: {gridcolor: t["xaxis.gridcolor"], linecolor: t["xaxis.linecolor"], zerolinecolor: t["xaxis.zerolinecolor"],
              automargin: true},
      yaxis: {gridcolor: t["yaxis.gridcolor"], linecolor: t["yaxis.linecolor"], zerolinecolor: t["yaxis.zerolinecolor"],
              automargin: true}
    };
    for (var k in extra) {
      if (typeof extra[k] === "object" && out[k] && !Array.isArray(extra[k])) {
        for (var j in extra[k]) { out[k][j] = extra[k][j]; }
      } else { out[k] = extra[k]; }
    }
    return out;
  }
  // No mode bar: on touch screens it stays up and covers the chart; 'paramscope plot' makes images.
  var config = {responsive: true, displaylogo: false, displayModeBar: false};
  function draw(id, traces, extra) {
    var el = document.getElementById(id);
    if (!el) { return; }
    Plotly.newPlot(el, traces, layout(extra), config);
    charts.push(el);
  }

  if (data.kind === "one") {
    var s = data.sunburst;
    draw("chart-sunburst", [{
      type: "sunburst", ids: s.ids, parents: s.parents, labels: s.labels, values: s.values,
      branchvalues: "total", hovertext: s.hover, hoverinfo: "text", textinfo: "label",
      marker: {colors: s.colors, line: {color: css("--bg"), width: 1}},
      maxdepth: 4, insidetextorientation: "radial", sort: false
    }], {margin: {l: 4, r: 4, t: 4, b: 4}, uniformtext: {minsize: 10, mode: "hide"}});

    var r = data.roles;
    draw("chart-roles", [{
      type: "bar", orientation: "h", y: r.labels, x: r.values, text: r.text, textposition: "auto",
      hovertext: r.hover, hovertemplate: "%{hovertext}<extra></extra>", marker: {color: r.colors},
      cliponaxis: false
    }], {yaxis: {autorange: "reversed", automargin: true}, xaxis: {title: {text: "parameters"}, automargin: true},
         margin: {l: 8, r: 16, t: 8, b: 8}, showlegend: false});

    var traces = data.layers.traces.map(function (t) {
      return {type: "bar", name: t.name, x: t.x, y: t.y, hovertext: t.hover,
              hovertemplate: "%{hovertext}<extra></extra>", marker: {color: t.color}};
    });
    if (traces.length) {
      var bars = traces.reduce(function (n, t) { return n + t.x.length; }, 0);
      draw("chart-layers", traces, {
        barmode: "group", bargap: bars < 6 ? 0.6 : 0.15, showlegend: true,
        legend: {orientation: "h", y: 1.02, x: 0, yanchor: "bottom"},
        xaxis: {type: "category", automargin: true}, yaxis: {title: {text: "parameters"}},
        margin: {l: 8, r: 8, t: 8, b: 8}
      });
    }
  } else {
    ["groups", "roles"].forEach(function (key) {
      var rows = data.models.length;
      ["abs", "share"].forEach(function (mode) {
        var el = document.getElementById("chart-" + key + "-" + mode);
        if (el) { el.style.setProperty("--rows", rows); }
        var traces = data[key].traces.map(function (t) {
          return {type: "bar", orientation: "h", name: t.name, y: data.models,
                  x: mode === "abs" ? t.counts : t.shares, text: mode === "abs" ? null : t.share_text,
                  textposition: "inside", insidetextanchor: "middle", hovertext: t.hover,
                  hovertemplate: "%{hovertext}<extra></extra>", marker: {color: t.color}};
        });
        draw("chart-" + key + "-" + mode, traces, {
          barmode: "stack", showlegend: true,
          legend: {orientation: "h", y: 1.02, x: 0, yanchor: "bottom", traceorder: "normal"},
          yaxis: {autorange: "reversed", automargin: true},
          xaxis: {automargin: true, range: mode === "abs" ? null : [0, 100], ticksuffix: mode === "abs" ? "" : "%"},
          uniformtext: {minsize: 9, mode: "hide"}, margin: {l: 8, r: 12, t: 8, b: 8}
        });
      });
    });
  }

  // Follow the page between light and dark.
  var scheme = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  function retheme() {
    var t = theme();
    charts.forEach(function (el) {
      Plotly.relayout(el, t);
      if (el.id === "chart-sunburst") { Plotly.restyle(el, {"marker.line.color": css("--bg")}); }
    });
  }
  if (scheme && scheme.addEventListener) { scheme.addEventListener("change", retheme); }

  // The tensor table: filter by words, sort by a column.
  var table = document.getElementById("tensor-table");
  if (table) {
    var body = table.tBodies[0], rows = Array.prototype.slice.call(body.rows),
        input = document.getElementById("tensor-filter"),
        counter = document.getElementById("tensor-count"), texts = rows.map(function (row) {
          return row.textContent.toLowerCase();
        });
    function filter() {
      var words = input.value.toLowerCase().split(/\s+/).filter(Boolean), shown = 0;
      rows.forEach(function (row, i) {
        var ok = words.every(function (w) { return texts[i].indexOf(w) !== -1; });
        row.hidden = !ok;
        if (ok) { shown += 1; }
      });
      counter.textContent = shown + " of " + rows.length + " tensors";
    }
    input.addEventListener("input", filter);
    var order = rows.map(function (row, i) { return i; }), sorted = {col: -1, dir: 1};
    Array.prototype.forEach.call(table.tHead.querySelectorAll("button"), function (button) {
      button.addEventListener("click", function () {
        var col = Number(button.getAttribute("data-col"));
        var dir = sorted.col === col ? -sorted.dir : (button.parentNode.classList.contains("num") ? -1 : 1);
        sorted = {col: col, dir: dir};
        var keyed = rows.map(function (row, i) {
          var cell = row.cells[col], v = cell.getAttribute("data-v");
          return {row: row, i: i, v: v !== null ? Number(v) : cell.textContent.toLowerCase()};
        });
        keyed.sort(function (a, b) {
          if (a.v < b.v) { return -dir; }
          if (a.v > b.v) { return dir; }
          return a.i - b.i;
        });
        keyed.forEach(function (k) { body.appendChild(k.row); });
        Array.prototype.forEach.call(table.tHead.querySelectorAll("th"), function (th) {
          th.removeAttribute("aria-sort");
        });
        button.parentNode.setAttribute("aria-sort", dir === 1 ? "ascending" : "descending");
      });
    });
  }
})();
""".strip()
