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


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def safe(text: str) -> str:
    """Names come from files: show control characters escaped, never sent to the terminal."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)


def shorten(text: str, limit: int) -> str:
    """A foreign message (e.g. transformers' exception text) cut to ``limit`` characters, escaped."""
    text = safe(text)
    return text if len(text) <= limit else text[: limit - 1] + "…"
