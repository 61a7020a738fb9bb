"""The pipeline: any input -> sources -> inventory -> family and classification -> :class:`Anatomy`.

``inspect`` is the one entry point; it imports the checkpoint, module and reconciliation code only for
inputs that need them, so a preset's start-up pays for none of it.
"""

from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Mapping

from . import units
from .anatomy import Anatomy
from .errors import UnsupportedFamily
from .families.base import Family
from .inventory import Inventory, Kind, Tensor


def inspect(
    spec: Any,
    *,
    model_class: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    family: str | None = None,
    add_pooling_layer: bool = True,
    config: Any = None,
) -> Anatomy:
    """Inspect a preset name, a config.json, a checkpoint file or folder, a dict, a transformers config,
    or a live ``torch.nn.Module``.

    For a checkpoint, ``config`` (any config spec) is the formula it is reconciled with; by default the
    folder's config.json, else a config inferred from the names and shapes.

    >>> a = inspect("bert-base-uncased")
    >>> a.parameters, a.groups["embeddings"], a.groups["pooler"]
    (109482240, 23837184, 590592)
    >>> inspect("bert-base-uncased", model_class="BertForPreTraining").parameters
    110106428
    """
    from .sources import config as config_source

    options = dict(model_class=model_class, overrides=overrides, family=family, add_pooling_layer=add_pooling_layer)
    # Import the checkpoint and module sources only for inputs that may be one: a preset name never is.
    if not isinstance(spec, (str, os.PathLike, Mapping)) and _is_module(spec):
        from .sources import module as module_source

        tensors, raw, notes = module_source.read(spec)
        cls = model_class or type(spec).__name__
        return _assemble(tensors, f"<{type(spec).__name__}>", "torch.nn.Module", raw, None, {}, notes,
                         config, {**options, "model_class": cls})
    if isinstance(spec, (str, os.PathLike)) and _on_disk(spec):
        from .sources import checkpoint as checkpoint_source

        if checkpoint_source.is_checkpoint(spec):
            ckpt = checkpoint_source.read(spec)
            return _assemble(ckpt.tensors, ckpt.path, ckpt.format, ckpt.config, ckpt.config_path, ckpt.metadata,
                             ckpt.notes, config, options)
    try:
        inv, fam, _ = config_source.build(spec, **options)
    except UnsupportedFamily as e:
        return _built_by_transformers(spec, options, e)
    baseline = None
    if overrides:
        baseline = inspect(spec, model_class=model_class, family=family, add_pooling_layer=add_pooling_layer)
    return Anatomy(inv, fam, baseline)


def _is_module(obj: Any) -> bool:
    return callable(getattr(obj, "named_parameters", None)) and callable(getattr(obj, "named_buffers", None))


def _on_disk(spec: str | os.PathLike[str]) -> bool:
    """A path that exists, or a TF checkpoint prefix (``bert_model.ckpt`` beside ``bert_model.ckpt.index``)."""
    return os.path.exists(spec) or os.path.exists(f"{os.fspath(spec)}.index")


def _built_by_transformers(spec: Any, options: dict[str, Any], error: UnsupportedFamily) -> Anatomy:
    """A config of a model type with no family module, counted exactly by building the model with
    transformers on the meta device (no memory for weights). Only such configs import torch."""
    import importlib.util

    from .sources import config as config_source
    from .sources import module as module_source

    loaded = config_source.load(spec)
    if not isinstance(loaded.raw.get("model_type"), str):  # nothing transformers could build either
        raise error
    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        raise UnsupportedFamily(f"{error}; or install torch and transformers to count it by building it "
                                "on the meta device") from error
    import torch
    import transformers

    raw = {**loaded.raw, **(options["overrides"] or {})}
    model_type = raw.pop("model_type", None)
    archs = raw.get("architectures") or []
    try:
        cfg = transformers.AutoConfig.for_model(model_type, **raw)
        name = options["model_class"] or (archs[0] if archs else None)
        cls = getattr(transformers, name, None) if name else None
        with torch.device("meta"):
            model = cls(cfg) if cls is not None else transformers.AutoModel.from_config(cfg)
    except Exception as e:  # transformers' own validation: any failure is this config's fault
        said = units.shorten(str(e).splitlines()[0] if str(e) else "", 160)
        raise UnsupportedFamily(f"{error}; transformers could not build it either ({type(e).__name__}: "
                                f"{said})") from e
    tensors, _, notes = module_source.read(model)
    notes = [f"model_type {model_type!r} has no formula in paramscope: counted exactly by building "
             f"{type(model).__name__} with transformers {transformers.__version__} on the meta device"] + notes
    a = _assemble(tensors, loaded.source, "transformers on the meta device", {"model_type": model_type}, None,
                  {}, notes, None, {**options, "model_class": type(model).__name__})
    return a


def _ties_from_config(
    tensors: list[Tensor], expected: Anatomy, fam: Family
) -> tuple[list[Tensor], list[tuple[str, str | None]]]:
    """A tensor the config ties (an alias in the formula) but the file stores twice is still one parameter."""
    ties = {fam.canonical(t.name): fam.canonical(t.tied_to or "") for t in expected.inventory.of_kind(Kind.ALIAS)}
    by_canonical = {fam.canonical(t.name): t for t in tensors}
    out, relabelled = [], []
    for t in tensors:
        target = by_canonical.get(ties.get(fam.canonical(t.name), ""))
        if t.kind == Kind.PARAMETER and target is not None and target.shape == t.shape:
            t = dataclasses.replace(t, kind=Kind.ALIAS, tied_to=target.name)
            relabelled.append((t.name, target.name))
        out.append(t)
    return out, relabelled


def _assemble(
    tensors: list[Tensor],
    source: str,
    fmt: str,
    raw_config: Mapping[str, Any] | None,
    config_path: str | None,
    metadata: Mapping[str, Any],
    notes: list[str],
    config_spec: Any,
    options: dict[str, Any],
) -> Anatomy:
    """A checkpoint's (or module's) tensors -> kinds, family, the expected formula, reconciliation.

    What can be read is counted: an unknown model type or class, a config that cannot be used, or names no
    family's formula explains never refuse the weights; they are grouped by name and a note says why.
    """
    from . import kinds
    from .reconcile import reconcile
    from .sources import config as config_source

    tensors = kinds.classify(tensors)
    _check_layer_numbers(tensors, source)
    if config_spec is not None:
        loaded = config_source.load(config_spec)
        raw_config, config_path = loaded.raw, loaded.source
    notes = list(notes)
    fam, expected = _family_and_formula(tensors, raw_config, config_path or source, options, notes)
    tensors = [dataclasses.replace(t, kind=Kind.BUFFER) if t.kind == Kind.PARAMETER and fam.is_buffer(t.name)
               else t for t in tensors]
    cls, resolved, family_name = options["model_class"] or "unknown", {}, fam.name
    if expected is None and raw_config:  # no formula: still say what the config calls the model
        mt, archs = raw_config.get("model_type"), raw_config.get("architectures")
        if isinstance(mt, str) and _is_generic(fam):
            family_name = mt
        if not options["model_class"] and isinstance(archs, list) and archs and isinstance(archs[0], str):
            cls = archs[0]
    if expected is not None:
        cls, resolved = expected.model_class, dict(expected.inventory.config)
        tensors, relabelled = _ties_from_config(tensors, expected, fam)
        notes += [f"{units.safe(n)} is stored as a copy of its own; the config ties it to "
                  f"{units.safe(to or '?')}, so it counts once" for n, to in relabelled]
        rank = {fam.canonical(t.name): i for i, t in enumerate(expected.inventory.tensors)}
        # show a checkpoint in module order, whatever order the file keeps
        tensors.sort(key=lambda t: rank.get(fam.canonical(t.name), len(rank)))
    inv = Inventory(tuple(tensors), source, family_name, cls, resolved, tuple(notes))
    a = Anatomy(inv, fam, expected=expected, format=fmt, metadata=dict(metadata))
    if expected is not None:
        loaded_model = a
        if fam.to_model_layout is not None:  # compare with the model's layout, keep the file's in the inventory
            loaded_model = Anatomy(dataclasses.replace(inv, tensors=tuple(fam.to_model_layout(list(inv.tensors)))),
                                   fam)
        a.reconciliation = reconcile(expected, loaded_model)
    return a


# A family recognised from names alone must explain this share of the parameters with its formula.
EXPLAINED_SHARE = 0.99


def _family_and_formula(
    tensors: list[Tensor], raw: Mapping[str, Any] | None, label: str, options: dict[str, Any], notes: list[str]
) -> tuple[Family, Anatomy | None]:
    """The family that classifies the tensors and the formula they are reconciled with (None: counted only).

    ``--family`` and the config's ``model_type`` or known class decide first; without them the family whose
    formula, from a config inferred from the names and shapes, explains the most parameters (at least
    ``EXPLAINED_SHARE`` of them); else the generic name map. Notes say what could not be done and why.
    """
    from . import families
    from .errors import ConfigError, UnknownArchitecture

    raw = raw or {}
    problem = families.identity_problem(raw)
    if problem is not None:  # the weights are still read: told from their names, as without a config
        notes.append(f"the config cannot be used ({units.safe(label)}: {problem}): the family is told from the "
                     "tensor names")
        raw = {}
    declared = options["family"] is not None or raw.get("model_type") is not None or _known_class(raw)
    if declared:
        try:
            fam, chosen = families.choose(raw, label, override=options["family"])
        except ConfigError as e:  # e.g. model_type not a string: the weights are still read
            if options["family"] is not None:
                raise
            notes.append(f"the config cannot be used ({units.safe(str(e))}): every tensor is counted exactly and "
                         "grouped by name; there is nothing to reconcile with")
            return _generic(tensors, raw), None
        except UnsupportedFamily as e:
            if options["family"] is not None:
                raise
            if any("has no formula in paramscope" in n for n in notes):  # said by the meta-device build
                return _generic(tensors, raw), None
            notes.append(f"model_type {units.safe(repr(raw.get('model_type')))} has no formula in paramscope yet: "
                         "every tensor is counted exactly and grouped by name; there is nothing to reconcile with")
            return _generic(tensors, raw), None
        notes += chosen
        shapes = _shapes(tensors, fam)
        inferred = fam.infer(shapes) if fam.infer else None
        cls = _class(raw, fam, inferred, options, notes)
        try:
            expected = _formula(raw, label, cls, fam, options)
        except (ConfigError, UnknownArchitecture) as e:
            if options["model_class"] and isinstance(e, UnknownArchitecture):
                raise  # --model-class asked for a class the family has no formula for
            notes.append(f"no formula: {units.safe(str(e))}; the weights are counted and grouped by name")
            return fam, None
        return fam, expected
    if raw.get("architectures"):
        notes.append(f"{units.safe(label)} names no model_type and no class paramscope knows "
                     f"({units.safe(str(raw['architectures'][0]))}): the family is told from the tensor names")
    best: tuple[float, Family, Anatomy] | None = None
    rejected: list[tuple[float, Family]] = []
    names = [t.name for t in tensors if t.kind in (Kind.PARAMETER, Kind.BUFFER)]  # a cheap first probe
    for fam, (cfg, cls, inferred_notes) in families.candidates(lambda f: _shapes(tensors, f), names):
        try:
            expected = _formula(cfg, "<inferred from the checkpoint>", options["model_class"] or cls, fam, options)
        except (ConfigError, UnknownArchitecture) as e:
            if "MAX_LAYERS" in str(e):  # a layer number in the names past the budget: the file's fault
                from .errors import FormatError

                raise FormatError(f"{units.safe(label)}: the tensor names number layers up to "
                                  f"{str(e).split(': ', 1)[-1]}") from e
            continue
        share = _explained(tensors, expected, fam)
        if share < EXPLAINED_SHARE:
            rejected.append((share, fam))
        elif best is None or share > best[0]:
            best = (share, fam, expected)
            kept_notes = ["config inferred from the tensor names and shapes", *inferred_notes]
    if best is not None:
        notes += kept_notes
        return best[1], best[2]
    for share, fam in rejected:
        notes.append(f"the names look like {fam.name}, but its formula explains only {share:.0%} of the parameters "
                     "(different modules under similar names): not read as {fam.name}".replace("{fam.name}", fam.name))
    notes.append("family not recognised from the names: every tensor is counted and grouped by generic name "
                 "patterns, with no formula (pass --family, or add config.json)")
    return _generic(tensors, raw), None


def _known_class(raw: Mapping[str, Any]) -> bool:
    from . import families

    archs = raw.get("architectures")
    if not isinstance(archs, list) or not archs or not isinstance(archs[0], str):
        return False
    return any(archs[0] in f.model_classes for f in families.all_families().values())


def _is_generic(fam: Family) -> bool:
    from .families.generic import GenericFamily

    return isinstance(fam, GenericFamily)


def _generic(tensors: list[Tensor], raw: Mapping[str, Any]) -> Family:
    """The generic name map, decided for this checkpoint as a whole (encoder or decoder, towers)."""
    from .families.generic import family_for_names

    model_type = raw.get("model_type")
    return family_for_names([t.name for t in tensors], model_type if isinstance(model_type, str) else None)


def _shapes(tensors: list[Tensor], fam: Family) -> dict[str, tuple[int, ...]]:
    """Canonical names -> shapes in Hugging Face orientation; an alias is not a tensor of its own."""
    return {fam.canonical(t.name): fam.hf_shape(t.name, t.shape)
            for t in tensors if t.kind in (Kind.PARAMETER, Kind.BUFFER)}


def _class(raw: Mapping[str, Any], fam: Family, inferred: tuple[dict[str, Any], str, list[str]] | None,
           options: dict[str, Any], notes: list[str]) -> str | None:
    """``--model-class``, else the config's class when the family has a formula for it, else the class the
    weights show (or the family's default), with a note."""
    if options["model_class"]:
        return options["model_class"]
    archs = raw.get("architectures") or []
    if archs and archs[0] in fam.model_classes:
        return None  # the config's class
    if not archs:
        return inferred[1] if inferred else None  # the weights show the class; else the family's default
    cls = inferred[1] if inferred else (fam.default_class_for(fam.resolve(raw, "<config>"))
                                         if fam.default_class_for else fam.default_class)
    why = "the class its weights show" if inferred else f"the {fam.name} family's default class"
    notes.append(f"architectures names {units.safe(str(archs[0]))}, which has no formula in the {fam.name} family: "
                 f"reconciled as {cls}, {why}")
    return cls


def _formula(cfg: Mapping[str, Any], label: str, cls: str | None, fam: Family, options: dict[str, Any]) -> Anatomy:
    from .sources import config as config_source

    inv, fam, _ = config_source.build(dict(cfg), model_class=cls, overrides=options["overrides"], family=fam.name,
                                      add_pooling_layer=options["add_pooling_layer"], source=label)
    return Anatomy(inv, fam)


def _explained(tensors: list[Tensor], expected: Anatomy, fam: Family) -> float:
    """The share of the checkpoint's parameter elements whose name and shape the formula has."""
    layout = fam.to_model_layout(list(tensors)) if fam.to_model_layout is not None else tensors
    known = {(fam.canonical(t.name), t.shape) for t in expected.inventory.tensors}
    total = explained = 0
    for t in layout:
        if t.kind == Kind.PARAMETER and not fam.is_buffer(t.name):
            total += t.numel
            if (fam.canonical(t.name), fam.hf_shape(t.name, t.shape)) in known:
                explained += t.numel
    return explained / total if total else 1.0


_LAYER_NUMBER = re.compile(r"(?:^|[./])(?:layers?|h|blocks?)[./](\d+)(?:[./]|$)")


def _check_layer_numbers(tensors: list[Tensor], source: str) -> None:
    """A layer number in a name past MAX_LAYERS is the file's fault (a 1 kB file must not stand for 10^9
    layers): one line naming the file, before any layer-driven work."""
    from . import limits

    cap = limits.LAYERS.value
    for t in tensors:
        m = _LAYER_NUMBER.search(t.name)
        if m is not None and len(m.group(1)) >= len(str(cap)) and int(m.group(1)[:12]) > cap:
            raise limits.exceeded(units.safe(source), limits.LAYERS, f"the layer number in {units.safe(t.name)!r}",
                                  int(m.group(1)[:12]))
