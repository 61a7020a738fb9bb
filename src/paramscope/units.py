"""Human units, in one place: 110.1M parameters, 437.9 MB (1 MB = 10^6 bytes), 21.8%.

Only human formats use these; JSON keeps exact integers.
"""

from __future__ import annotations

import re

# Bytes per parameter for the memory view; int8 ignores quantisation scales.
PRECISIONS = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


def count(n: int) -> str:
    """``109482240`` -> ``109,482,240``."""
    return f"{n:,}"


def short(n: int) -> str:
    """``109482240`` -> ``109.5M``; ``4385920`` -> ``4.4M``; ``950`` -> ``950``."""
    for size, suffix in ((10**12, "T"), (10**9, "B"), (10**6, "M"), (10**3, "k")):
        if abs(n) >= size:
            return f"{n / size:.1f}{suffix}"
    return str(n)


def many(n: int, word: str, plural: str | None = None) -> str:
    """``many(1, "tensor")`` -> ``1 tensor``; ``many(1234, "element")`` -> ``1,234 elements``."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def nbytes(n: int) -> str:
    """``437928960`` -> ``437.9 MB`` (decimal units)."""
    for size, suffix in ((10**12, "TB"), (10**9, "GB"), (10**6, "MB"), (10**3, "kB")):
        if n >= size:
            return f"{n / size:.1f} {suffix}"
    return f"{n} B"


def share(part: int, whole: int) -> str:
    """``21.8%``; a non-zero part too small to show as 0.1% reads ``<0.1%``."""
    if whole <= 0:
        return "-"
    value = 100 * part / whole
    if part and value < 0.05:
        return "<0.1%"
    return f"{value:.1f}%"


# Characters that must never reach a terminal, a spreadsheet or a page as they are: C0 controls, DEL, C1
# controls; bidi marks, embeddings, overrides and isolates (U+061C, U+200E-200F, U+202A-202E, U+2066-2069:
# "Trojan Source", CVE-2021-42574); zero-width characters and the BOM (U+200B-200D, U+2060, U+FEFF); the
# line and paragraph separators U+2028-2029; lone surrogates (U+D800-DFFF, which no encoder can write).
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060\u2066-\u2069\ufeff\ud800-\udfff]")


def _visible(m: re.Match[str]) -> str:
    code = ord(m.group())
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def safe(text: str) -> str:
    """Text from a file or a command line, shown: every unsafe character as a visible escape.

    The one escaping policy: tables, error lines, notes, CSV, Markdown and the HTML report all go through
    it (JSON has its own escaping). ``safe("a\x1b[2Jb\u202e")`` -> ``a\\x1b[2Jb\\u202e``.
    """
    return _UNSAFE.sub(_visible, text)


def shorten(text: str, limit: int) -> str:
    """A foreign message (e.g. transformers' exception text) cut to ``limit`` characters, escaped."""
    text = safe(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def shorten_middle(text: str, limit: int) -> str:
    """Keep the start and the end (where a message says its fix), drop the middle."""
    if len(text) <= limit:
        return text
    head = limit * 2 // 3
    return text[:head] + " … " + text[-(limit - head - 3):]
