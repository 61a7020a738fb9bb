from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from paramscope.symbolic import Formula, Poly, Term

H, I, V, L = (Poly.sym(s) for s in "HIVL")
ORDER = "VPTHIL"


def test_render_symbolic_and_substituted() -> None:
    layer = 4 * H * H + 2 * H * I + 9 * H + I
    assert layer.render(order=ORDER) == "4H² + 2HI + 9H + I"
    assert layer.render(order=ORDER, values={"H": 768, "I": 3072}) == "4·768² + 2·768·3072 + 9·768 + 3072"
    assert layer.evaluate({"H": 768, "I": 3072}) == 7_087_872


def test_formula_keeps_repeats_factored_and_factors_long_sums() -> None:
    emb = V * H + Poly.sym("P") * H + Poly.sym("T") * H + 2 * H
    layer = 4 * H * H + 2 * H * I + 9 * H + I
    f = Formula((Term(emb), Term(layer, "L"), Term(H * H + H)))
    assert f.render(order=ORDER) == "(V + P + T + 2)·H + L·(4H² + 2HI + 9H + I) + H² + H"
    values = {"V": 30522, "P": 512, "T": 2, "H": 768, "I": 3072, "L": 12}
    assert f.render(order=ORDER, values=values) == (
        "(30522 + 512 + 2 + 2)·768 + 12·(4·768² + 2·768·3072 + 9·768 + 3072) + 768² + 768")
    assert f.evaluate(values) == 109_482_240
    assert f.expand().evaluate(values) == 109_482_240


def test_the_articles_arithmetic_is_our_total() -> None:
    # The article's three parts, exactly as it writes them.
    article = 30522 * 768 + 512 * 768 + 4 * 768 \
        + ((768 * 768 + 768) * 4 + (768 * 2) + (3072 * 768 * 2 + 3072) + 768 * 3) * 12 + 768 * 768 + 768
    import paramscope

    assert article == paramscope.inspect("bert-base-uncased").parameters == 109_482_240


def test_empty_and_negative() -> None:
    assert Poly().render() == "0"
    assert (H - 1).render(order=ORDER) == "H - 1"
    assert (H - 1).render(order=ORDER, values={"H": 5}) == "5 - 1"


small = st.integers(-5, 5)


@st.composite
def polys(draw: st.DrawFn) -> Poly:
    out = Poly()
    for _ in range(draw(st.integers(0, 4))):
        term = Poly.const(draw(small))
        for s in draw(st.lists(st.sampled_from("HIV"), max_size=3)):
            term = term * Poly.sym(s)
        out = out + term
    return out


@given(polys(), polys(), st.integers(0, 50), st.integers(0, 50), st.integers(0, 50))
def test_arithmetic_agrees_with_evaluation(a: Poly, b: Poly, h: int, i: int, v: int) -> None:
    values = {"H": h, "I": i, "V": v}
    assert (a + b).evaluate(values) == a.evaluate(values) + b.evaluate(values)
    assert (a * b).evaluate(values) == a.evaluate(values) * b.evaluate(values)
    # What is printed with numbers evaluates to the same value.
    printed = a.render(order=ORDER, values=values).replace("·", "*").replace("²", "**2").replace("³", "**3")
    assert eval(printed) == a.evaluate(values)  # noqa: S307 - our own rendered arithmetic
