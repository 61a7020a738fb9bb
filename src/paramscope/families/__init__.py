"""One module per architecture family: config fields, tensor formulas and name patterns.

Family modules are imported when needed, so that counting a BERT config does not pay for importing
every family: the generated ``_registry`` says which module reads each ``model_type`` (``MODULES``) and
where each family lives (``FAMILIES``); ``all_families()`` imports them all on first use.
"""

from __future__ import annotations

import functools
import importlib
from typing import Any, Mapping, Sequence

from ..errors import ConfigError, UnsupportedFamily
from .base import Family
from .bert import FAMILY as BERT
from .generic import GENERIC
# model_type (and family name) -> the module in this package that reads it: generated from the family
# modules by scripts/update_registry.py.
from ._registry import FAMILIES as FAMILY_MODULES
from ._registry import MODULES


def load(module: str) -> Family:
    return importlib.import_module(f"{__name__}.{module}").FAMILY


@functools.cache
def all_families() -> dict[str, Family]:
    """Every family, from the generated registry: BERT first, the rest by name (the order they are tried)."""
    return {name: load(module) for name, module in FAMILY_MODULES.items()}


def __getattr__(name: str) -> Any:  # FAMILIES and MODEL_TYPES, built on first use
    if name == "FAMILIES":
        return all_families()
    if name == "MODEL_TYPES":
        return {t: f for f in all_families().values() for t in (f.model_types or (f.name,))}
    raise AttributeError(name)


# A checkpoint of more names than PROBE_NAMES is probed first: a family is tried on every name only if its
# rules match at least PROBE_MATCHES (1 in 16) of a spread of PROBE_NAMES names (see ``candidates``).
PROBE_NAMES, PROBE_MATCHES = 256, 16


def candidates(shapes_of, names: Sequence[str] = ()) -> list[tuple[Family, tuple[dict[str, Any], str, list[str]]]]:
    """Families that recognise a checkpoint, with the config and class each infers from it; most names
    classified first (BERT first on a tie). ``shapes_of(family)`` gives its canonical names -> shapes.

    Several families may recognise the same names (an un-prefixed RobertaModel reads as BERT; an MPNet's
    embeddings and feed-forward look like BERT's): the pipeline keeps the one whose formula explains the
    weights. Trying a family costs a pass over every name (91,991 for DeepSeek-V3), so with more than
    ``PROBE_NAMES`` ``names`` (the tensor names), a family is tried only if its rules match 1 in 16 of a
    spread of them (:func:`_probe`). A family's rules match nearly every name of its own checkpoints;
    DeepSeek-V3 shares one name in 256 with Llama (``self_attn.o_proj``), and Llama's formula could not
    explain it.
    """
    tried = [(order, fam) for order, fam in enumerate(all_families().values()) if fam.infer is not None]
    if len(names) > PROBE_NAMES:
        probe = _probe(names)
        tried = [(order, fam) for order, fam in tried
                 if sum(1 for n in probe if fam.first_rule(fam.canonical(n)) is not None) >= PROBE_MATCHES]
    found: list[tuple[int, int, Family, tuple[dict[str, Any], str, list[str]]]] = []
    for order, fam in tried:
        shapes = shapes_of(fam)
        inferred = fam.infer(shapes)
        if inferred is None:
            continue
        first = fam.first_rule
        known = sum(1 for name in shapes if first(name) is not None)
        found.append((-known, order, fam, inferred))
    return [(fam, inferred) for _, _, fam, inferred in sorted(found, key=lambda x: x[:2])]


def _probe(names: Sequence[str]) -> list[str]:
    """``PROBE_NAMES`` names at golden-ratio steps through the list: spread over the layers, which hold all
    but a few of a large checkpoint's names, with no stride that a period of the layout could alias."""
    n = len(names)
    return [names[int(n * ((i * 0.6180339887498949) % 1.0))] for i in range(PROBE_NAMES)]


def choose(config: Mapping[str, Any], source: str, *, override: str | None = None,
           model_class: str | None = None) -> tuple[Family, list[str]]:
    """The family of a config and notes on how it was chosen: ``--family``, else ``model_type``, else the
    class ``--model-class`` or ``architectures`` names, else the config's fields. Never BERT by default: a config that names
    neither and whose fields fit no family is an error that names the file and the fix.
    """
    problem = identity_problem(config)
    if problem is not None:
        raise ConfigError(f"{source}: {problem}; fix the config")
    name = override if override is not None else config.get("model_type")
    if name is not None:
        if not isinstance(name, str):
            raise ConfigError(f"{source}: model_type must be a string, got {type(name).__name__}; fix the config")
        module = MODULES.get(name)
        if module is None:
            what = "--family" if override is not None else "model_type"
            raise UnsupportedFamily(f"{source}: {what} {name!r} is not supported yet; supported: "
                                    f"{', '.join(sorted(MODULES))}")
        return load(module), []
    archs = config.get("architectures") or []
    if model_class is not None:  # --model-class names a class: its family
        archs = [model_class]
    if archs:
        if archs[0] in BERT.model_classes:
            return BERT, []
        for fam in all_families().values():
            if archs[0] in fam.model_classes:
                return fam, []
    fitted = fit_by_fields(config)
    if fitted is None:
        said = f"architecture {archs[0]!r} is not supported yet and the config" if archs else "the config"
        raise UnsupportedFamily(
            f"{source}: {said} names no model_type, and its fields fit no family; add model_type, or pass "
            f"--family with one of {', '.join(sorted(MODULES))} (supported families: "
            f"{', '.join(sorted(all_families()))})"
        )
    fam, others = fitted
    tie = f" (as well as {', '.join(others)}, which read the same fields)" if others else ""
    return fam, [f"the config names no model_type{' and no class paramscope knows' if archs else ''}: read as "
                 f"{fam.name}, whose fields it has{tie}; pass --family to choose another"]


def identity_problem(config: Mapping[str, Any]) -> str | None:
    """What is wrong with the fields that name the model (``model_type``, ``architectures``), or None."""
    model_type = config.get("model_type")
    if model_type is not None and not isinstance(model_type, str):
        return f"model_type must be a string, got {type(model_type).__name__}"
    archs = config.get("architectures")
    if archs is not None and (not isinstance(archs, list) or not all(isinstance(a, str) for a in archs)):
        return f"architectures must be a list of class names, got {type(archs).__name__}"
    return None


def fit_by_fields(config: Mapping[str, Any]) -> tuple[Family, list[str]] | None:
    """The family whose count-changing fields a config has: each field weighs 1/(layouts that read it);
    fields only other families read weigh against. At least the four sizes every family reads must be
    present. Families that tie list each other (``FIT_PREFERENCE`` first, then registry order)."""
    fams = list(all_families().values())
    # A field's weight counts the layouts that read it, not the families: the decoder-builder families
    # (Llama, Gemma, Qwen3, ...) share one layout's symbols, and adding one must not tip BERT over Llama.
    layouts: dict[str, set[tuple[str, ...]]] = {}
    for fam in fams:
        for key in set(fam.fields):
            layouts.setdefault(key, set()).add(tuple(s.letter for s in fam.symbols))
    readers = {key: len(found) for key, found in layouts.items()}
    keys = [k for k in config if k in readers]
    if not {"vocab_size", "hidden_size", "num_hidden_layers"} <= set(keys) and not {"n_embd", "n_layer"} <= set(keys) \
            and not {"d_model", "num_layers"} <= set(keys) and not {"dim", "n_layers"} <= set(keys):
        return None
    scores = []
    for fam in fams:
        fields = set(fam.fields)
        score = sum(1 / readers[k] for k in keys if k in fields) - sum(1 / readers[k] for k in keys if k not in fields)
        scores.append((score, fam))
    best = max(s for s, _ in scores)
    if best <= 0:
        return None
    top = [f for s, f in scores if abs(s - best) < 1e-9]
    top.sort(key=lambda f: FIT_PREFERENCE.index(f.name) if f.name in FIT_PREFERENCE else len(FIT_PREFERENCE))
    return top[0], [f.name for f in top[1:]]


# When several families read exactly the fields a config has (Llama, Gemma, Qwen3 read the same ones), the
# one these list first is taken, and the note names the others: the original of each layout.
FIT_PREFERENCE = ("bert", "llama", "gpt2", "t5")


def family_for(config: Mapping[str, Any], source: str, *, override: str | None = None) -> Family:
    """The family of a config (see :func:`choose`)."""
    return choose(config, source, override=override)[0]
