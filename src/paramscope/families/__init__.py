"""One module per architecture family: config fields, tensor formulas and name patterns.

Family modules are imported when needed, so that counting a BERT config does not pay for importing
every family: ``MODULES`` says which module reads each ``model_type`` (a test keeps it in step with the
modules), and ``FAMILIES`` (all of them, by name) is built on first use.
"""

from __future__ import annotations

import functools
import importlib
import pkgutil
from typing import Any, Mapping, Sequence

from ..errors import UnsupportedFamily
from .base import Family
from .bert import FAMILY as BERT
from .generic import GENERIC

# model_type (and family name) -> the module in this package that reads it.
MODULES: dict[str, str] = {
    "bert": "bert",
    "albert": "albert",
    "deberta-v2": "deberta",
    "distilbert": "distilbert",
    "electra": "electra",
    "gpt2": "gpt2",
    "llama": "llama", "mistral": "llama", "qwen2": "llama",
    "mixtral": "mixtral",
    "roberta": "roberta", "xlm-roberta": "roberta", "camembert": "roberta",
    "t5": "t5",
}
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


# A checkpoint of more names than PROBE_NAMES is probed first: a family is tried on every name only if its
# rules match at least PROBE_MATCHES (1 in 16) of a spread of PROBE_NAMES names (see ``detect``).
PROBE_NAMES, PROBE_MATCHES = 256, 16


def detect(
    shapes_of, names: Sequence[str] = ()
) -> tuple[Family, tuple[dict[str, Any], str, list[str]] | None]:
    """The family that recognises a checkpoint; ``shapes_of(family)`` gives its canonical names -> shapes.

    Several families may recognise the same names (an un-prefixed RobertaModel reads as BERT); the one
    whose rules classify the most tensors wins, BERT on a tie. Trying a family costs a pass over every
    name (91,991 for DeepSeek-V3), so with more than ``PROBE_NAMES`` ``names`` (the tensor names), a
    family is tried only if its rules match 1 in 16 of a spread of them (:func:`_probe`). A family's
    rules match nearly every name of its own checkpoints; DeepSeek-V3 shares one name in 256 with Llama
    (``self_attn.o_proj``), and Llama's formula could not explain it.
    """
    tried = [fam for fam in all_families().values() if fam.infer is not None]
    if len(names) > PROBE_NAMES:
        probe = _probe(names)
        tried = [fam for fam in tried
                 if sum(1 for n in probe if fam.first_rule(fam.canonical(n)) is not None) >= PROBE_MATCHES]
    best: tuple[int, Family, tuple[dict[str, Any], str, list[str]]] | None = None
    for fam in tried:
        shapes = shapes_of(fam)
        found = fam.infer(shapes)
        if found is None:
            continue
        first = fam.first_rule
        known = sum(1 for name in shapes if first(name) is not None)
        if best is None or known > best[0]:
            best = (known, fam, found)
    if best is None:
        return GENERIC, None
    return best[1], best[2]


def _probe(names: Sequence[str]) -> list[str]:
    """``PROBE_NAMES`` names at golden-ratio steps through the list: spread over the layers, which hold all
    but a few of a large checkpoint's names, with no stride that a period of the layout could alias."""
    n = len(names)
    return [names[int(n * ((i * 0.6180339887498949) % 1.0))] for i in range(PROBE_NAMES)]


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
