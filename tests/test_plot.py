"""``paramscope plot``: PNG, SVG and PDF files with the right magic bytes, labels that do not overlap
at the default size, names from files that stay text, and one-line errors."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import paramscope
from paramscope import cli
from paramscope.render import plot

TINY_BERT = Path(__file__).parent / "data" / "safetensors" / "tiny_bert"
MAGIC = {"png": b"\x89PNG\r\n\x1a\n", "pdf": b"%PDF-", "svg": b"<?xml"}


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("fmt", ["png", "svg", "pdf"])
@pytest.mark.parametrize("models", [["bert-base-uncased"], ["bert-base-uncased", "bert-base-chinese", "gpt2"]],
                         ids=["one", "several"])
def test_plot_writes_each_format(capsys, tmp_path: Path, fmt: str, models: list[str]) -> None:
    path = tmp_path / f"chart.{fmt.upper() if fmt == 'pdf' else fmt}"  # the suffix is read case-blind
    code, out, err = run_main(capsys, "plot", *models, "-o", str(path))
    assert (code, err) == (0, "")
    data = path.read_bytes()
    assert out.startswith(f"wrote {path} (") and len(data) > 5_000
    assert data.startswith(MAGIC[fmt])
    if fmt == "svg":
        assert b"<svg" in data[:1000] and data.rstrip().endswith(b"</svg>")
    if fmt == "pdf":
        assert data.rstrip().endswith(b"%%EOF")


def _drawn_texts(fig) -> list:
    """Every piece of text matplotlib draws: tick labels inside the axis' view, bar labels, titles,
    legends; the tick objects it keeps beyond the view are not drawn and are left out."""
    from matplotlib.text import Text

    ticks = {}
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            pad = (hi - lo) * 1e-9
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                for lab in (tick.label1, tick.label2):
                    ticks[id(lab)] = lo - pad <= tick.get_loc() <= hi + pad and tick.get_visible()
    out = []
    for t in fig.findobj(Text):
        if not t.get_visible() or not t.get_text().strip() or not ticks.get(id(t), True):
            continue
        out.append(t)
    return out


def assert_no_overlap(fig) -> None:
    renderer = fig.canvas.get_renderer()
    texts = _drawn_texts(fig)
    boxes = [(t.get_text(), t.get_window_extent(renderer).expanded(1.0, 1.0)) for t in texts]
    page = fig.bbox
    for text, box in boxes:
        assert page.x0 - 1 <= box.x0 and box.x1 <= page.x1 + 1 and page.y0 - 1 <= box.y0 and box.y1 <= page.y1 + 1, \
            f"{text!r} is outside the figure"
    for i, (a, box_a) in enumerate(boxes):
        for b, box_b in boxes[i + 1:]:
            w = min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0)
            h = min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0)
            assert w <= 0.5 or h <= 0.5, f"{a!r} overlaps {b!r}"
    assert len(texts) > 10


CASES = [
    ["bert-base-uncased"],
    ["t5-small"],
    ["mistralai/Mixtral-8x7B-v0.1"],
    ["albert-base-v2"],
    ["bert-base-uncased", "bert-base-chinese", "bert-large-cased"],
    ["bert-tiny", "gpt2", "t5-small", "mistralai/Mixtral-8x7B-v0.1", "microsoft/deberta-v3-base",
     "bert-base-multilingual-uncased"],
]


@pytest.mark.parametrize("specs", CASES, ids=["+".join(c) for c in CASES])
def test_labels_do_not_overlap(specs: list[str]) -> None:
    fig = plot.figure([paramscope.inspect(s) for s in specs])
    assert_no_overlap(fig)


def test_names_from_files_stay_text(tmp_path: Path) -> None:
    """A folder called ``$x^2$ <b>`` is no formula for mathtext and no markup: it reads as it is."""
    folder = tmp_path / "we$x^2$ <b>\x1b[31m"
    shutil.copytree(TINY_BERT, folder)
    a = paramscope.inspect(str(folder))
    fig = plot.figure([a])
    assert_no_overlap(fig)
    title = fig.get_suptitle()
    assert r"we\$x^2\$ <b>\x1b[31m" in title  # '$' escaped for matplotlib, control characters shown
    png = plot.to_bytes([a, paramscope.inspect("bert-tiny")], fmt="png")
    assert png.startswith(MAGIC["png"])


PLOT_ERRORS = [
    (["plot", "bert-base-uncased", "-o", "bert.jpg"],
     "error: -o bert.jpg: the chart must end in .png, .svg or .pdf, got '.jpg'; e.g. -o model.png"),
    (["plot", "bert-base-uncased", "-o", "bert.html"],
     "error: -o bert.html: the chart must end in .png, .svg or .pdf, got '.html'; e.g. -o model.png"),
    (["plot", "bert-base-uncased", "-o", "/nonexistent/x/bert.png"],
     "error: -o /nonexistent/x/bert.png: the folder /nonexistent/x does not exist; create it first"),
    (["plot", "bert-base-uncased"],
     "error: the following arguments are required: -o/--output (see 'paramscope plot --help')"),
    (["plot", "-o", "x.png"],
     "error: the following arguments are required: MODEL (see 'paramscope plot --help')"),
]


@pytest.mark.parametrize(("argv", "message"), PLOT_ERRORS, ids=[" ".join(a) for a, _ in PLOT_ERRORS])
def test_plot_errors(capsys, argv: list[str], message: str) -> None:
    assert run_main(capsys, *argv) == (2, "", message + "\n")


def test_plot_into_a_folder(capsys, tmp_path: Path) -> None:
    target = tmp_path / "x.png"
    target.mkdir()  # a folder where the file should go
    code, out, err = run_main(capsys, "plot", "bert-tiny", "-o", str(target))
    assert (code, out) == (2, "")
    assert err == f"error: -o {target}: is a folder; give a file name such as {target}/model.png\n"


def test_plot_unwritable(capsys) -> None:
    """The folder exists but takes no new file (even for root): the OS's reason, one line."""
    code, out, err = run_main(capsys, "plot", "bert-tiny", "-o", "/proc/paramscope.png")
    assert (code, out) == (2, "")
    assert err.startswith("error: cannot write /proc/paramscope.png: ") and err.endswith("; choose another path\n")
    assert err.count("\n") == 1


def test_plot_without_matplotlib(capsys, monkeypatch, tmp_path: Path) -> None:
    for name in ("matplotlib", "matplotlib.figure", "matplotlib.backends.backend_agg"):
        monkeypatch.setitem(sys.modules, name, None)
    code, out, err = run_main(capsys, "plot", "bert-tiny", "-o", str(tmp_path / "x.png"))
    assert (code, out) == (2, "")
    assert err == ("error: the chart needs matplotlib, which is not installed; install paramscope[plot] "
                   "(pip install 'paramscope[plot]')\n")
    assert not (tmp_path / "x.png").exists()


def test_plot_leaves_pyplot_alone(tmp_path: Path) -> None:
    """No pyplot, no backend switch: a notebook's matplotlib state is not touched."""
    code = ("import sys, paramscope.cli as c; "
            f"print(c.run(['plot', 'bert-tiny', '-o', {str(tmp_path / 'x.svg')!r}]).split(' (')[0]); "
            "print('matplotlib.pyplot' in sys.modules)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [f"wrote {tmp_path / 'x.svg'}", "False"]


def test_overlap_check_sees_an_overlap() -> None:
    """The check above is not vacuous: a label put on top of another is caught."""
    fig = plot.figure([paramscope.inspect("bert-base-uncased")])
    ax = fig.axes[0]
    from matplotlib.transforms import IdentityTransform

    box = next(t for t in ax.texts if t.get_text()).get_window_extent(fig.canvas.get_renderer())
    fig.text(box.x0 + 2, box.y0 + 2, "on top of it", fontsize=9, transform=IdentityTransform())
    fig.canvas.draw()
    with pytest.raises(AssertionError, match="overlaps"):
        assert_no_overlap(fig)
