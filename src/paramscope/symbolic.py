"""Integer polynomials over a family's size symbols (V, H, L, ...), for closed-form parameter counts.

A tensor's shape is a tuple of polynomials (``(V, H)`` for the word embeddings), so its element count is
their product and a group's count is a sum. The same objects are evaluated for the numbers and printed
for the formulas, so a formula shown can never disagree with the count shown beside it.

>>> H, I = Poly.sym("H"), Poly.sym("I")
>>> layer = 4 * H * H + 2 * H * I + 9 * H + I
>>> layer.render(order="HI")
'4H² + 2HI + 9H + I'
>>> layer.render(order="HI", values={"H": 768, "I": 3072})
'4·768² + 2·768·3072 + 9·768 + 3072'
>>> layer.evaluate({"H": 768, "I": 3072})
7087872
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Iterable, Mapping

_SUPERSCRIPTS = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")

# A monomial is a sorted tuple of symbol names with repetition: ("H", "H", "I") is H²I; () is the constant.
Monomial = tuple[str, ...]


@dataclass(frozen=True)
class Poly:
    """A polynomial with integer coefficients; immutable and hashable."""

    terms: tuple[tuple[Monomial, int], ...] = ()

    @staticmethod
    def of(terms: Mapping[Monomial, int]) -> "Poly":
        return Poly(tuple(sorted((m, c) for m, c in terms.items() if c != 0)))

    @staticmethod
    def sym(name: str) -> "Poly":
        return Poly((((name,), 1),))

    @staticmethod
    def const(value: int) -> "Poly":
        return Poly.of({(): value})

    @staticmethod
    def lift(value: "Poly | int") -> "Poly":
        return value if isinstance(value, Poly) else Poly.const(int(value))

    @staticmethod
    def sum(items: Iterable["Poly"]) -> "Poly":
        acc: Counter[Monomial] = Counter()
        for item in items:
            for m, c in item.terms:
                acc[m] += c
        return Poly.of(acc)

    def __add__(self, other: "Poly | int") -> "Poly":
        return Poly.sum((self, Poly.lift(other)))

    __radd__ = __add__

    def __sub__(self, other: "Poly | int") -> "Poly":
        return self + (-1) * Poly.lift(other)

    def __mul__(self, other: "Poly | int") -> "Poly":
        other = Poly.lift(other)
        acc: Counter[Monomial] = Counter()
        for m1, c1 in self.terms:
            for m2, c2 in other.terms:
                acc[tuple(sorted(m1 + m2))] += c1 * c2
        return Poly.of(acc)

    __rmul__ = __mul__

    @property
    def symbols(self) -> frozenset[str]:
        return frozenset(s for m, _ in self.terms for s in m)

    def evaluate(self, values: Mapping[str, int]) -> int:
        total = 0
        for m, c in self.terms:
            product = c
            for s in m:
                product *= values[s]
            total += product
        return total

    def common_symbol(self) -> str | None:
        """A symbol present in every term, if any (the first in sorted order)."""
        common: set[str] | None = None
        for m, _ in self.terms:
            common = set(m) if common is None else common & set(m)
        return min(common) if common else None

    def divide_by(self, symbol: str) -> "Poly":
        out: dict[Monomial, int] = {}
        for m, c in self.terms:
            rest = list(m)
            rest.remove(symbol)
            out[tuple(rest)] = c
        return Poly.of(out)

    def ordered_terms(self, order: str | Iterable[str]) -> list[tuple[Monomial, int]]:
        """Terms by degree, highest first, then by the family's symbol order (V before H, ...)."""
        rank = {s: i for i, s in enumerate(order)}

        def key(term: tuple[Monomial, int]) -> tuple:
            m = sorted(term[0], key=lambda s: (rank.get(s, len(rank)), s))
            return (-len(m), [(rank.get(s, len(rank)), s) for s in m])

        return sorted(self.terms, key=key)

    def render(self, *, order: str | Iterable[str] = (), values: Mapping[str, int] | None = None) -> str:
        """Symbolic (``4H² + 2HI``) or, with ``values``, substituted (``4·768² + 2·768·3072``)."""
        order = list(order)
        if not self.terms:
            return "0"
        pieces: list[str] = []
        for i, (m, c) in enumerate(self.ordered_terms(order)):
            body = _monomial(m, c, order, values)
            if i == 0:
                pieces.append(body if c > 0 else "-" + body)
            else:
                pieces.append(("+ " if c > 0 else "- ") + body)
        return " ".join(pieces)

    def __str__(self) -> str:
        return self.render()


def _monomial(m: Monomial, coef: int, order: list[str], values: Mapping[str, int] | None) -> str:
    rank = {s: i for i, s in enumerate(order)}
    powers = Counter(m)
    syms = sorted(powers, key=lambda s: (rank.get(s, len(rank)), s))
    magnitude = abs(coef)
    if values is None:
        juxtapose = all(len(s) == 1 for s in syms)
        factors = [s + (str(powers[s]).translate(_SUPERSCRIPTS) if powers[s] > 1 else "") for s in syms]
        body = ("" if juxtapose else "·").join(factors)
        if not syms:
            return str(magnitude)
        if magnitude == 1:
            return body
        return f"{magnitude}{body}" if juxtapose else f"{magnitude}·{body}"
    factors = [str(values[s]) + (str(powers[s]).translate(_SUPERSCRIPTS) if powers[s] > 1 else "") for s in syms]
    if magnitude != 1 or not factors:
        factors.insert(0, str(magnitude))
    return "·".join(factors)


@dataclass(frozen=True)
class Term:
    """``multiplier · (body)``: a block repeated ``L`` or ``L - 1`` times, or a plain polynomial.

    A string multiplier is taken as that symbol.
    """

    body: Poly
    multiplier: Poly | str | None = None

    @property
    def times(self) -> Poly | None:
        return Poly.sym(self.multiplier) if isinstance(self.multiplier, str) else self.multiplier


@dataclass(frozen=True)
class Formula:
    """A sum of terms kept in the shape people read (repeated blocks stay factored)."""

    terms: tuple[Term, ...] = field(default_factory=tuple)

    def evaluate(self, values: Mapping[str, int]) -> int:
        return self.expand().evaluate(values)

    def expand(self) -> Poly:
        return Poly.sum(t.body * (t.times if t.times is not None else 1) for t in self.terms)

    @property
    def symbols(self) -> frozenset[str]:
        out: frozenset[str] = frozenset()
        for t in self.terms:
            out |= t.body.symbols | (t.times.symbols if t.times is not None else frozenset())
        return out

    def render(self, *, order: Iterable[str] = (), values: Mapping[str, int] | None = None) -> str:
        order = list(order)
        parts = [_render_term(t, order, values) for t in self.terms if t.body.terms]
        return " + ".join(parts) if parts else "0"


def _render_term(term: Term, order: list[str], values: Mapping[str, int] | None) -> str:
    body = term.body
    times = term.times
    if times is not None:
        inner = body.render(order=order, values=values)
        mult = times.render(order=order, values=values)
        if len(times.terms) > 1:
            mult = f"({mult})"
        return f"{mult}·({inner})" if len(body.terms) > 1 else f"{mult}·{inner}"
    # Factor a symbol shared by every term when that shortens a long sum: (V + P + T + 2)·H.
    common = body.common_symbol()
    if common and len(body.terms) >= 3:
        inner = body.divide_by(common).render(order=order, values=values)
        factor = str(values[common]) if values else common
        return f"({inner})·{factor}"
    return body.render(order=order, values=values)
