"""One escaping policy for text that came from a file or a command line (issue 9, part 3).

Tensor names with terminal escapes, bidi overrides, zero-width characters, line separators, lone surrogates,
spreadsheet formulas and Markdown links are written into a real safetensors file; every output shows them
as visible escapes and none of them as it is.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from paramscope import cli, units

from .builders import make_safetensors

HOSTILE = {
    "esc": "layer.\x1b]0;pwned\x07\x1b[2J.weight",
    "c1": "a.\x9b31m.weight",
    "bidi": "a.\u202eexe.txt\u2066.weight",
    "zero_width": "a.\u200bb\ufeff.weight",
    "separator": "a.\u2028b\u2029.weight",
    "surrogate": "a.\ud800.weight",
    "cr": "a.\rb.weight",
    "formula": "=HYPERLINK(\"https://x\")",
    "plus": "+1+cmd|' /C calc'!A0",
    "at": "@SUM(1)",
    "minus": "-2+3",
    "link": "[click](javascript:alert(1))",
    "image": "![x](https://example.com/x.png)",
    "autolink": "<https://example.com>",
    "html": "<script>alert(1)</script>",
}
RAW = ["\x1b", "\x07", "\x9b", "\u202e", "\u2066", "\u200b", "\ufeff", "\u2028", "\u2029", "\ud800", "\r"]


@pytest.fixture
def hostile_file(tmp_path: Path) -> Path:
    header = {}
    offset = 0
    for name in HOSTILE.values():
        header[name] = {"dtype": "F32", "shape": [2], "data_offsets": [offset, offset + 8]}
        offset += 8
    return make_safetensors(tmp_path / "model.safetensors", header)


@pytest.mark.parametrize(("text", "shown"), [
    ("\x1b[2J", "\\x1b[2J"),
    ("\x00\x7f\x85\x9f", "\\x00\\x7f\\x85\\x9f"),
    ("\u202a\u202e\u2066\u2069\u200e\u200f\u061c", "\\u202a\\u202e\\u2066\\u2069\\u200e\\u200f\\u061c"),
    ("\u200b\u200c\u200d\u2060\ufeff", "\\u200b\\u200c\\u200d\\u2060\\ufeff"),
    ("\u2028\u2029", "\\u2028\\u2029"),
    ("\ud800\udfff", "\\ud800\\udfff"),
    ("bert.encoder.layer.0 · ×²", "bert.encoder.layer.0 · ×²"),  # ordinary non-ASCII stays
])
def test_safe(text: str, shown: str) -> None:
    assert units.safe(text) == shown
    assert units.safe(units.safe(text)) == shown  # idempotent: escaping twice changes nothing


def _run(capsys, *argv: str) -> str:
    assert cli.main(list(argv)) == 0
    out = capsys.readouterr().out
    out.encode("utf-8")  # a lone surrogate would make this raise
    return out


@pytest.mark.parametrize("args", [[], ["--tensors"], ["--format", "markdown"], ["--format", "csv"],
                                  ["--format", "markdown", "--tensors"]])
def test_no_raw_character_reaches_any_output(capsys, hostile_file: Path, args: list[str]) -> None:
    out = _run(capsys, str(hostile_file), "--depth", "0", *args)
    for ch in RAW:
        assert ch not in out, repr(ch)
    if "--format" not in args or "csv" not in args:
        assert "\\x1b]0;pwned\\x07\\x1b[2J" in out or "\\\\x1b" in out


def test_csv_parses_and_neutralises_formulas(capsys, hostile_file: Path) -> None:
    out = _run(capsys, str(hostile_file), "--format", "csv")
    rows = list(csv.reader(io.StringIO(out)))
    assert rows[0][0] == "name" and len(rows) == 1 + len(HOSTILE)
    assert all(len(r) == len(rows[0]) for r in rows)  # no bare CR broke a row
    names = [r[0] for r in rows[1:]]
    for key in ("formula", "plus", "at", "minus"):
        assert "'" + HOSTILE[key] in names, key
    assert not any(n.startswith(("=", "+", "-", "@")) for n in names)
    assert "a.\\x0db.weight" in names


def test_markdown_renders_no_link_image_or_html(capsys, hostile_file: Path) -> None:
    out = _run(capsys, str(hostile_file), "--format", "markdown", "--tensors")
    assert "](" not in out.replace("\\](", "")
    assert "[click]" not in out and "![x]" not in out
    assert "<script>" not in out and "<https://" not in out
    assert "\\[click\\](javascript:alert(1))" in out
    assert "&lt;script&gt;" in out


def test_error_lines_escape_and_stay_one_line(capsys, tmp_path: Path) -> None:
    name = tmp_path / "bad\x1b]0;x\x07\u202e\u2028.safetensors"
    name.write_bytes(b"\x00" * 4)
    assert cli.main([str(name)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("error: ")
    for ch in RAW:
        assert ch not in err
    assert "bad\\x1b]0;x\\x07\\u202e\\u2028.safetensors" in err


def test_set_keys_from_the_command_line_are_escaped(capsys) -> None:
    assert cli.main(["bert-tiny", "--set", "\x1b[2Jfoo=1"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b[2Jfoo" in err and err.count("\n") == 1


def test_long_messages_are_shortened_in_the_middle() -> None:
    text = "a" * 5000 + "; the fix"
    short = units.shorten_middle(text, 2000)
    assert len(short) == 2000 and short.endswith("; the fix")
