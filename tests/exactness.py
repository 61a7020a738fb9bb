"""The one exactness check every family's tests use: paramscope's formula against the oracle."""

from __future__ import annotations

from typing import Any

import paramscope
from paramscope.inventory import Kind

from . import oracle


def assert_matches(config: dict[str, Any], model_class: str, *, buffers: bool = True, **kwargs: Any) -> None:
    """Tensor by tensor: names, shapes and order of parameters, tied aliases, buffers; every total."""
    truth = oracle.build(config, model_class, **kwargs)
    a = paramscope.inspect(config, model_class=model_class, add_pooling_layer=kwargs.get("add_pooling_layer", True))
    inv = a.inventory
    assert [(t.name, t.shape) for t in inv.of_kind(Kind.PARAMETER)] == truth.parameters
    assert {t.name: t.tied_to for t in inv.of_kind(Kind.ALIAS)} == truth.aliases
    if buffers:
        assert [(t.name, t.shape, t.dtype) for t in inv.of_kind(Kind.BUFFER)] == truth.buffers
    assert a.parameters == truth.total
    # The tree, the groups, the roles and the formula each add up to the same total.
    assert a.tree.numel == truth.total
    assert sum(a.groups.values()) == truth.total
    assert sum(a.roles.values()) == truth.total
    assert a.total_formula is not None and a.total_formula.evaluate(a.values) == truth.total
    assert a.totals["unclassified"] == 0
