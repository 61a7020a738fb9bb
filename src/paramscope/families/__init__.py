"""One module per architecture family: config fields, tensor formulas and name patterns.

Family modules are imported when needed, so that counting a BERT config does not pay for importing
every family: ``MODULES`` says which module reads each ``model_type`` (a test keeps it in step with the
modules), and ``FAMILIES`` (all of them, by name) is built on first use.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Any, Mapping

from ..errors import UnsupportedFamily
from .base import Family
from .bert import FAMILY as BERT
from .generic import GENERIC
# model_type (and family name) -> the module in this package that reads it: generated from the family
# modules by scripts/update_registry.py.
from ._registry import MODULES

_NOT_FAMILIES = ("base", "common", "generic")


def load(module: str) -> Family:
    return importlib.import_module(f"{__name__}.{module}").FAMILY


@functools.cache
def all_families() -> dict[str, Family]:
    """Every module in this package that defines ``FAMILY``; BERT first, the rest by module name."""
    found = [BERT]
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name in ("bert", *_NOT_FAMILIES):
            continue
        fam = getattr(importlib.import_module(f"{__name__}.{info.name}"), "FAMILY", None)
        if isinstance(fam, Family):
            found.append(fam)
    return {f.name: f for f in found}


def __getattr__(name: str) -> Any:  # FAMILIES and MODEL_TYPES, built on first use
    if name == "FAMILIES":
        return all_families()
    if name == "MODEL_TYPES":
        return {t: f for f in all_families().values() for t in (f.model_types or (f.name,))}
    raise AttributeError(name)


def detect(shapes_of) -> tuple[Family, tuple[dict[str, Any], str, list[str]] | None]:
    """The family that recognises a checkpoint; ``shapes_of(family)`` gives its canonical names -> shapes.

    Several families may recognise the same names (an un-prefixed RobertaModel reads as BERT); the one
    whose rules classify the most tensors wins, BERT on a tie.
    """
    best: tuple[int, Family, tuple[dict[str, Any], str, list[str]]] | None = None
    for fam in all_families().values():
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
        if not archs or archs[0] in BERT.model_classes:
            return BERT
        for fam in all_families().values():
            if any(a in fam.model_classes for a in archs):
                return fam
        raise UnsupportedFamily(
            f"{source}: architecture {archs[0]!r} is not supported yet; "
            f"supported families: {', '.join(sorted(all_families()))} (pass --family to choose one)"
        )
    module = MODULES.get(name)
    if module is None:
        raise UnsupportedFamily(
            f"{source}: model_type {name!r} is not supported yet; supported: {', '.join(sorted(MODULES))}"
        )
    return load(module)
