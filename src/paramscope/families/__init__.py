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
        if info.name in ("base", "bert", "common", "generic"):
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
    """The family that recognises a checkpoint; ``shapes_of(family)`` gives its canonical names -> shapes.

    Several families may recognise the same names (an un-prefixed RobertaModel reads as BERT); the one
    whose rules classify the most tensors wins, BERT on a tie.
    """
    best: tuple[int, Family, tuple[dict[str, Any], str, list[str]]] | None = None
    for fam in FAMILIES.values():
        if fam.infer is None:
            continue
        shapes = shapes_of(fam)
        found = fam.infer(shapes)
        if found is None:
            continue
        known = sum(1 for name in shapes if any(rule.matches(name) for rule in fam.rules))
        if best is None or known > best[0]:
            best = (known, fam, found)
    if best is None:
        return GENERIC, None
    return best[1], best[2]


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
