"""The pipeline: any input -> sources -> inventory -> family and classification -> :class:`Anatomy`.

``inspect`` is the one entry point; it imports the checkpoint, module and reconciliation code only for
inputs that need them, so a preset's start-up pays for none of it.
"""

from __future__ import annotations

import dataclasses
import os
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

    if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
        raise UnsupportedFamily(f"{error}; or install torch and transformers to count it by building it "
                                "on the meta device") from error
    import torch
    import transformers

    loaded = config_source.load(spec)
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
        raise UnsupportedFamily(f"{error}; transformers could not build it either ({type(e).__name__}: "
                                f"{str(e).splitlines()[0] if str(e) else ''})") from e
    tensors, _, notes = module_source.read(model)
    notes = [f"model_type {model_type!r} has no formula in paramscope: counted exactly by building "
             f"{type(model).__name__} with transformers {transformers.__version__} on the meta device"] + notes
    a = _assemble(tensors, loaded.source, "transformers on the meta device", None, None, {}, notes, None,
                  {**options, "model_class": type(model).__name__})
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
    """A checkpoint's (or module's) tensors -> kinds, family, the expected formula, reconciliation."""
    from . import families, kinds
    from .reconcile import reconcile
    from .sources import config as config_source

    tensors = kinds.classify(tensors)
    if config_spec is not None:
        loaded = config_source.load(config_spec)
        raw_config, config_path = loaded.raw, loaded.source

    def shapes_of(fam: Family) -> dict[str, tuple[int, ...]]:
        return {fam.canonical(t.name): fam.hf_shape(t.name, t.shape)
                for t in tensors if t.kind in (Kind.PARAMETER, Kind.BUFFER)}  # an alias is not a tensor of its own

    if options["family"] or (raw_config and (raw_config.get("model_type") or raw_config.get("architectures"))):
        fam = families.family_for(raw_config or {}, config_path or source, override=options["family"])
        inferred = fam.infer(shapes_of(fam)) if fam.infer else None
    else:
        names = [t.name for t in tensors if t.kind in (Kind.PARAMETER, Kind.BUFFER)]
        fam, inferred = families.detect(shapes_of, names)  # names: a cheap first probe
    tensors = [dataclasses.replace(t, kind=Kind.BUFFER) if t.kind == Kind.PARAMETER and fam.is_buffer(t.name)
               else t for t in tensors]
    notes = list(notes)
    expected: Anatomy | None = None
    cls = options["model_class"] or "unknown"
    resolved: dict[str, Any] = {}
    if fam is not families.GENERIC and (raw_config or inferred):
        if raw_config:
            cfg_spec, label = dict(raw_config), config_path or "<config>"
            archs = raw_config.get("architectures") or []
            cls = options["model_class"] or (archs[0] if archs else None) or (inferred[1] if inferred else None)
        else:
            assert inferred is not None
            cfg_spec, label = inferred[0], "<inferred from the checkpoint>"
            cls = options["model_class"] or inferred[1]
            notes += ["config inferred from the tensor names and shapes"] + inferred[2]
        expected = inspect(cfg_spec, model_class=cls, overrides=options["overrides"], family=fam.name,
                           add_pooling_layer=options["add_pooling_layer"])
        expected.inventory = dataclasses.replace(expected.inventory, source=label)
        cls, resolved = expected.model_class, dict(expected.inventory.config)
    elif fam is families.GENERIC:
        notes.append("family not recognised from the names: every tensor is counted and grouped by generic "
                     "name patterns, with no formula (pass --family, or add config.json)")
    if expected is not None:
        tensors, relabelled = _ties_from_config(tensors, expected, fam)
        notes += [f"{units.safe(n)} is stored as a copy of its own; the config ties it to "
                  f"{units.safe(to or '?')}, so it counts once" for n, to in relabelled]
    if expected is not None:  # show a checkpoint in module order, whatever order the file keeps
        rank = {fam.canonical(t.name): i for i, t in enumerate(expected.inventory.tensors)}
        tensors.sort(key=lambda t: rank.get(fam.canonical(t.name), len(rank)))
    inv = Inventory(tuple(tensors), source, fam.name, cls, resolved, tuple(notes))
    a = Anatomy(inv, fam, expected=expected, format=fmt, metadata=dict(metadata))
    if expected is not None:
        loaded = a
        if fam.to_model_layout is not None:  # compare with the model's layout, keep the file's in the inventory
            loaded = Anatomy(dataclasses.replace(inv, tensors=tuple(fam.to_model_layout(list(inv.tensors)))), fam)
        a.reconciliation = reconcile(expected, loaded)
    return a
