"""The one exactness check every family's tests use: paramscope's formula against the oracle."""

from __future__ import annotations

from typing import Any

import paramscope
from paramscope.inventory import Kind

from . import oracle

# Where paramscope is known to place a parameter wrongly and the fix lies outside the family's rule table,
# each with the fix. Strict, like xfail(strict=True): paramscope must give exactly the wrong placement
# listed; once it gives the module tree's answer the check fails until the entry is removed.
# (family, parameter name, the oracle's placement, paramscope's wrong placement, why)
KNOWN_WRONG: list[tuple[str, str, oracle.Place, oracle.Place, str]] = []


def assert_matches(config: dict[str, Any], model_class: str, *, buffers: bool = True, **kwargs: Any) -> None:
    """Tensor by tensor: names, shapes and order of parameters, tied aliases, buffers; every parameter's
    group, role and sub-role against the module tree transformers built; every total."""
    truth = oracle.build(config, model_class, **kwargs)
    a = paramscope.inspect(config, model_class=model_class, add_pooling_layer=kwargs.get("add_pooling_layer", True))
    inv = a.inventory
    assert [(t.name, t.shape) for t in inv.of_kind(Kind.PARAMETER)] == truth.parameters, "parameters differ"
    assert {t.name: t.tied_to for t in inv.of_kind(Kind.ALIAS)} == truth.aliases, "tied aliases differ"
    if buffers:
        assert [(t.name, t.shape, t.dtype) for t in inv.of_kind(Kind.BUFFER)] == truth.buffers, "buffers differ"
    assert a.parameters == truth.total, "total differs"
    assert_placements(a, truth)
    # The tree, the groups, the roles and the formula each add up to the same total.
    assert a.tree.numel == truth.total
    assert sum(a.groups.values()) == truth.total
    assert sum(a.roles.values()) == truth.total
    assert a.total_formula is not None and a.total_formula.evaluate(a.values) == truth.total
    assert a.totals["unclassified"] == 0


def assert_placements(a: paramscope.Anatomy, truth: oracle.Truth) -> None:
    """Each parameter's (group, role, sub) as paramscope's rules place it equals the oracle's reading of the
    module tree (``oracle.placements``), but for the ``KNOWN_WRONG`` entries, which must still be wrong."""
    known = {(fam, name, want): (bad, why) for fam, name, want, bad, why in KNOWN_WRONG}
    wrong, fixed = [], []
    for name, want in truth.placements.items():
        p = a.placements[name]
        got = (str(p.group), str(p.role), str(p.sub) if p.sub else None)
        if (a.family.name, name, want) in known:
            bad, why = known[(a.family.name, name, want)]
            if got != bad:
                fixed.append(f"{name}: paramscope {got}, listed as {bad} in KNOWN_WRONG ({why})")
        elif got != want:
            wrong.append(f"{name}: paramscope {got}, module tree {want}")
    assert not wrong, f"{len(wrong)} parameters placed differently:\n" + "\n".join(wrong[:20])
    assert not fixed, "a KNOWN_WRONG placement changed; remove its entry if it is now right:\n" + "\n".join(fixed)
