"""One module per architecture family: config fields, tensor formulas and name patterns."""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import UnknownArchitecture
from .base import Family
from .bert import FAMILY as BERT

FAMILIES: dict[str, Family] = {f.name: f for f in (BERT,)}


def family_for(config: Mapping[str, Any], source: str, *, override: str | None = None) -> Family:
    """The family from ``--family``, else ``model_type``, else ``architectures``; BERT when neither says."""
    name = override or config.get("model_type")
    if name is None:
        archs = config.get("architectures") or []
        for fam in FAMILIES.values():
            if any(a in fam.model_classes for a in archs):
                return fam
        if archs:
            raise UnknownArchitecture(
                f"{source}: architecture {archs[0]!r} is not supported yet; "
                f"supported families: {', '.join(sorted(FAMILIES))} (pass --family to choose one)"
            )
        return BERT
    if name not in FAMILIES:
        raise UnknownArchitecture(
            f"{source}: model_type {name!r} is not supported yet; supported: {', '.join(sorted(FAMILIES))}"
        )
    return FAMILIES[name]
