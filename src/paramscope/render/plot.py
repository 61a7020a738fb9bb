"""Anatomy -> a static chart (PNG, SVG or PDF) with matplotlib, for papers, slides and notebooks.

One model: its parameters by group and by role, each bar labelled with its count and share. Several:
stacked bars, one per model, by group and by role, with each segment's share where it fits. Formatting
only: the counts are the Anatomy's. matplotlib (the ``plot`` extra) is imported inside these functions,
and no pyplot state is touched: a notebook's backend stays as it is.

    paramscope plot bert-base-uncased -o bert.png
    paramscope plot bert-base-uncased bert-large-cased -o sizes.pdf
"""

from __future__ import annotations

import io
import textwrap
from typing import TYPE_CHECKING, Any, Sequence

from .. import units
from ..errors import MissingDependency
from .colors import GROUP_COLORS, PALETTE, ROLE_COLORS

if TYPE_CHECKING:
    from ..anatomy import Anatomy

FORMATS = ("png", "svg", "pdf")
INSTALL_HINT = "install paramscope[plot] (pip install 'paramscope[plot]')"
# Metadata that would make two runs differ byte for byte (dates), per format.
_METADATA = {"png": {"Software": None}, "svg": {"Date": None}, "pdf": {"CreationDate": None}}


def _matplotlib() -> tuple[Any, Any]:
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as e:
        raise MissingDependency(f"the chart needs matplotlib, which is not installed; {INSTALL_HINT}") from e
    return Figure, FigureCanvasAgg


def text(s: str) -> str:
    """A name from a file as matplotlib text: control characters shown escaped, ``$`` not read as math."""
    return units.safe(s).replace("$", r"\$")


def short_name(s: str, width: int = 42) -> str:
    """``/very/long/path/to/model_dir`` -> ``…/to/model_dir`` so an axis label stays readable."""
    s = units.safe(s)
    if len(s) <= width:
        return s
    return "…" + s[-(width - 1):]


def figure(models: Sequence[Anatomy]) -> Any:
    """A drawn matplotlib Figure (labels placed and fitted), for one model or several."""
    Figure, FigureCanvasAgg = _matplotlib()
    if len(models) == 1:
        fig = _one(Figure, models[0])
    else:
        fig = _several(Figure, models)
    FigureCanvasAgg(fig)
    _fit(fig)
    return fig


def to_bytes(models: Sequence[Anatomy], *, fmt: str = "png") -> bytes:
    fig = figure(models)
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt, dpi=150 if fmt == "png" else 100, metadata=_METADATA.get(fmt))
    return buf.getvalue()


def _count_formatter() -> Any:
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda x, _pos: units.short(int(round(x))) if x else "0")


def _style_axes(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_formatter(_count_formatter())
    ax.xaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.grid(axis="x", alpha=0.3)
    ax.set_axisbelow(True)
    ax.tick_params(labelsize=9)


def _one(Figure: Any, a: Anatomy) -> Any:
    total = a.parameters
    groups = {g: n for g, n in a.groups.items() if n}
    roles = {r: n for r, n in a.roles.items() if n}
    rows = max(len(groups), len(roles), 3)
    fig = Figure(figsize=(10, 1.6 + 0.42 * rows), layout="constrained")
    title = (f"{short_name(a.source, 60)}: {a.inventory.family} · {a.model_class} — {units.count(total)} "
             f"parameters ({units.short(total)})")
    fig.suptitle(textwrap.fill(title, 100).replace("$", r"\$"), fontsize=12)
    axes = fig.subplots(1, 2)
    for ax, heading, values, colors in ((axes[0], "by group", groups, GROUP_COLORS),
                                        (axes[1], "by role", roles, ROLE_COLORS)):
        names = list(values)
        bars = ax.barh(range(len(names)), [values[n] for n in names],
                       color=[colors.get(n, PALETTE[9]) for n in names], height=0.65)
        ax.set_yticks(range(len(names)), [text(n) for n in names])
        ax.invert_yaxis()
        ax.set_ylim(rows - 0.5, -0.5)
        ax.bar_label(bars, labels=[f"{units.short(values[n])} · {units.share(values[n], total)}" for n in names],
                     padding=3, fontsize=9, gid="edge")
        ax.set_title(heading, fontsize=11, loc="left")
        ax.set_xlabel("parameters", fontsize=9)
        _style_axes(ax)
    return fig


def _several(Figure: Any, models: Sequence[Anatomy]) -> Any:
    """Rows: by group, by role. Columns: parameters (with each model's total), and shares of each model,
    so that a small model beside a large one still shows its split."""
    from matplotlib.ticker import FuncFormatter, MultipleLocator

    names = _unique([short_name(m.source) for m in models])
    always = ("embeddings", "encoder", "pooler", "heads")
    groups = [g for g in dict.fromkeys(g for m in models for g in m.groups)
              if (g in always or any(m.groups.get(g) for m in models)) and any(m.groups.get(g) for m in models)]
    roles = [r for r in models[0].roles if any(m.roles.get(r) for m in models)]
    per_axes = 0.9 + 0.5 * len(models)
    fig = Figure(figsize=(12, 1.0 + 2 * per_axes), layout="constrained")
    fig.suptitle(f"parameters by group and by role, {len(models)} models", fontsize=12)
    axes = fig.subplots(2, 2, sharey="row")
    ys = list(range(len(models)))
    for row, (heading, keys, get, colors) in enumerate((("by group", groups, lambda m: m.groups, GROUP_COLORS),
                                                        ("by role", roles, lambda m: m.roles, ROLE_COLORS))):
        absolute, shares = axes[row]
        left = [0] * len(models)
        left_share = [0.0] * len(models)
        for key in keys:
            counts = [get(m).get(key, 0) for m in models]
            color = colors.get(key, PALETTE[9])
            absolute.barh(ys, counts, left=left, color=color, height=0.6, label=text(key))
            # A share of two counts the Anatomy gives, as the text views print it.
            fractions = [100 * c / m.parameters if m.parameters else 0.0 for c, m in zip(counts, models)]
            bars = shares.barh(ys, fractions, left=left_share, color=color, height=0.6)
            shares.bar_label(bars, labels=[units.share(c, m.parameters) if c else "" for c, m in zip(counts, models)],
                             label_type="center", fontsize=8, gid="inside")
            left = [x + c for x, c in zip(left, counts)]
            left_share = [x + f for x, f in zip(left_share, fractions)]
        # The last stack's edge carries each model's total.
        absolute.bar_label(absolute.containers[-1], labels=[units.short(m.parameters) for m in models], padding=3,
                           fontsize=9, gid="edge")
        absolute.set_yticks(ys, [text(n) for n in names])
        absolute.invert_yaxis()
        absolute.set_title(f"{heading}: parameters", fontsize=11, loc="left")
        absolute.set_xlabel("parameters", fontsize=9)
        _style_axes(absolute)
        shares.set_title(f"{heading}: share of each model", fontsize=11, loc="left")
        shares.set_xlim(0, 100)
        shares.xaxis.set_major_locator(MultipleLocator(25))
        shares.xaxis.set_major_formatter(FuncFormatter(lambda x, _pos: f"{x:.0f}%"))
        shares.set_xlabel("share", fontsize=9)
        shares.legend(*absolute.get_legend_handles_labels(), loc="center left", bbox_to_anchor=(1.01, 0.5),
                      frameon=False, fontsize=9)
        for side in ("top", "right"):
            shares.spines[side].set_visible(False)
        shares.tick_params(labelsize=9)
    return fig


def _unique(names: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for n in names:
        seen[n] = seen.get(n, 0) + 1
        out.append(n if seen[n] == 1 else f"{n} ({seen[n]})")
    return out


def _fit(fig: Any) -> None:
    """Place labels so none overlaps: widen an axis until the labels at the bars' ends fit inside it,
    and drop a share inside a segment too narrow to hold it (its hover-free medium has no tooltip;
    the total at the bar's end still reads)."""
    for _ in range(3):
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        changed = False
        for ax in fig.axes:
            box = ax.get_window_extent(renderer)
            right = max((t.get_window_extent(renderer).x1 for t in ax.texts
                         if t.get_gid() == "edge" and t.get_text()), default=box.x1)
            if right > box.x1 - 2:
                x0, x1 = ax.get_xlim()
                needed = (right - box.x0 + 8) / max(box.width, 1.0)
                ax.set_xlim(x0, x0 + (x1 - x0) * needed)
                changed = True
        if not changed:
            break
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        inside = [t for t in ax.texts if t.get_gid() == "inside" and t.get_text()]
        bars = [p for c in ax.containers for p in c.patches]
        for t in inside:
            tb = t.get_window_extent(renderer)
            cx, cy = (tb.x0 + tb.x1) / 2, (tb.y0 + tb.y1) / 2
            home = next((p for p in bars if p.get_window_extent(renderer).contains(cx, cy)), None)
            pb = home.get_window_extent(renderer) if home is not None else None
            if pb is None or tb.width > pb.width - 4 or tb.height > pb.height:
                t.set_visible(False)
    fig.canvas.draw()
