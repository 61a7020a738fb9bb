"""One module per architecture family: config fields, tensor formulas and name patterns."""

from __future__ import annotations

from typing import Any, Mapping

import importlib
import pkgutil

from ..errors import UnsupportedFamily
from .base import Family
from .bert import FAMILY as BERT
from .generic import GENERIC


def _discover() -> dict[str, Family]:
    """Every module in this package that defines ``FAMILY``; BERT first, the rest by name."""
    found = [BERT]
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in ("base", "bert", "generic"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        fam = getattr(module, "FAMILY", None)
        if isinstance(fam, Family):
            found.append(fam)
    return {f.name: f for f in found}


FAMILIES: dict[str, Family] = _discover()
# model_type -> family, e.g. "xlm-roberta" -> the roberta family.
MODEL_TYPES: dict[str, Family] = {t: f for f in FAMILIES.values() for t in (f.model_types or (f.name,))}

def detect(shapes_of) -> tuple[Family, tuple[dict[str, Any], str, list[str]] | None]:
    """The family whose ``infer`` recognises a checkpoint; ``shapes_of(family)`` gives canonical shapes."""
    for fam in FAMILIES.values():
        if fam.infer is not None:
            found = fam.infer(shapes_of(fam))
            if found is not None:
                return fam, found
    return GENERIC, None


def family_for(config: Mapping[str, Any], source: str, *, override: str | None = None) -> Family:
    """The family from ``--family``, else ``model_type``, else ``architectures``; BERT when neither says."""
    name = override or config.get("model_type")
    if name is None:
        archs = config.get("architectures") or []
        for fam in FAMILIES.values():
            if any(a in fam.model_classes for a in archs):
                return fam
        if archs:
            raise UnsupportedFamily(
                f"{source}: architecture {archs[0]!r} is not supported yet; "
                f"supported families: {', '.join(sorted(FAMILIES))} (pass --family to choose one)"
            )
        return BERT
    fam = FAMILIES.get(name) or MODEL_TYPES.get(name)
    if fam is None:
        raise UnsupportedFamily(
            f"{source}: model_type {name!r} is not supported yet; supported: {', '.join(sorted(MODEL_TYPES))}"
        )
    return fam
