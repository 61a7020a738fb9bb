"""The result of an inspection: inventory -> placements -> component tree, with totals and formulas.

Renderers read this object and format it; none of them computes a count of its own.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any, Mapping

from . import tree as tree_mod
from . import units
from .families.base import Family, Group, Placement, Role, Sub
from .inventory import Inventory, Kind, Tensor
from .errors import UnsupportedFamily
from .symbolic import Formula, Term

if TYPE_CHECKING:  # reconcile is imported only when a checkpoint is reconciled
    from .reconcile import Reconciliation

SCHEMA_VERSION = 1
# Bytes per parameter for the memory view; int8 ignores quantisation scales.
PRECISIONS = {"fp32": 4, "fp16": 2, "bf16": 2, "int8": 1}


@dataclass(frozen=True)
class FormulaRow:
    label: str
    depth: int
    formula: Formula
    value: int
    each: bool = False  # the formula is of one repeated block
    note: str = ""


@dataclass
class Anatomy:
    """Where every parameter of one model lives.

    >>> a = inspect("bert-base-chinese")
    >>> a.parameters, a.groups["pooler"], a.totals["buffers"]
    (102267648, 590592, 1024)
    """

    inventory: Inventory
    family: Family
    baseline: "Anatomy | None" = None  # the same model without the what-if edits
    expected: "Anatomy | None" = None  # for a checkpoint: the formula of its config
    format: str = "config"  # "config", "safetensors", "pytorch zip", "tensorflow", ...
    metadata: dict[str, Any] = field(default_factory=dict)
    reconciliation: "Reconciliation | None" = None

    # -- classification ---------------------------------------------------------------------------
    @cached_property
    def placements(self) -> dict[str, Placement]:
        return {t.name: self.family.place(t.name) for t in self.inventory.tensors}

    @cached_property
    def tree(self) -> tree_mod.Node:
        return tree_mod.build(self.inventory, self.family, self.placements)

    # -- counts -----------------------------------------------------------------------------------
    @property
    def source(self) -> str:
        return self.inventory.source

    @property
    def model_class(self) -> str:
        return self.inventory.model_class

    @property
    def parameters(self) -> int:
        return self.inventory.numel(Kind.PARAMETER)

    @cached_property
    def groups(self) -> dict[str, int]:
        out = {str(g): 0 for g in (Group.EMBEDDINGS, Group.ENCODER, Group.DECODER, Group.FINAL_NORM, Group.POOLER,
                                   Group.HEADS)}
        for t in self.inventory.of_kind(Kind.PARAMETER):
            g = str(self.placements[t.name].group)
            out[g] = out.get(g, 0) + t.numel
        return out

    @cached_property
    def roles(self) -> dict[str, int]:
        out = {str(r): 0 for r in Role}
        for t in self.inventory.of_kind(Kind.PARAMETER):
            out[str(self.placements[t.name].role)] += t.numel
        return out

    @cached_property
    def totals(self) -> dict[str, Any]:
        inv = self.inventory
        params = self.parameters
        return {
            "parameters": params,
            "non_embedding_parameters": params - self.roles[Role.EMBEDDING],
            "buffers": inv.numel(Kind.BUFFER),
            "tied_aliases": inv.numel(Kind.ALIAS),
            "optimizer_state": inv.numel(Kind.OPTIMIZER_STATE),
            "other": inv.numel(Kind.OTHER),
            "unclassified": self.groups.get(str(Group.UNCLASSIFIED), 0),
            "bytes": {"stored": inv.nbytes(Kind.PARAMETER), **{k: params * v for k, v in PRECISIONS.items()}},
            "dtypes": inv.dtypes(Kind.PARAMETER),
            **self._trainable(),
            **self._active(),
            **(self.family.extra_totals(self.inventory.config, params) if self.inventory.config else {}),
        }

    @cached_property
    def ffn_split(self) -> dict[str, int]:
        """The ffn role split into dense layers, experts and router (mixture-of-experts models)."""
        out = {"dense": 0, str(Sub.EXPERTS): 0, str(Sub.ROUTER): 0}
        for t in self.inventory.of_kind(Kind.PARAMETER):
            place = self.placements[t.name]
            if place.role == Role.FFN:
                out[str(place.sub) if place.sub else "dense"] += t.numel
        return out

    def _active(self) -> dict[str, int]:
        """Parameters used per token: all but the experts a token is not routed to."""
        experts = self.ffn_split[Sub.EXPERTS]
        if not experts or self.family.active_experts is None or not self.inventory.config:
            return {}
        k, e = self.family.active_experts(self.inventory.config)
        return {"active_parameters": self.parameters - experts + experts * k // e}

    def _trainable(self) -> dict[str, int]:
        params = self.inventory.of_kind(Kind.PARAMETER)
        if not params or any(t.trainable is None for t in params):
            return {}
        trainable = sum(t.numel for t in params if t.trainable)
        return {"trainable_parameters": trainable, "frozen_parameters": self.parameters - trainable}

    # -- formulas ---------------------------------------------------------------------------------
    @cached_property
    def values(self) -> dict[str, int]:
        return self.family.values(self.inventory.config)

    @cached_property
    def formula_rows(self) -> list[FormulaRow]:
        """Each group; under it each module that owns tensors, and for a run of layers, one layer's parts.

        Empty when the inventory has no symbolic shapes (a checkpoint read without a config).
        """
        rows: list[FormulaRow] = []
        for group in self.tree.children:
            f = group.formula()
            if f is None:
                return []
            rows.append(FormulaRow(group.name, 0, f, group.numel))
            for child in group.children:
                depth, each = 1, False
                if child.first is not None:
                    one = child.poly_each()
                    if one is None:
                        return []
                    each = child.repeat > 1
                    rows.append(FormulaRow(tree_mod.label(child), 1, Formula((Term(one),)), child.numel_each, each))
                    depth = 2
                    parts = [(rel.split(".", 1)[1] if "." in rel else rel, n) for rel, n in tree_mod.leaves(child)]
                else:
                    parts = list(tree_mod.leaves(child))
                for rel, node in parts:
                    poly = tree_mod.own_poly(node)
                    if poly is None:
                        return []
                    own = [t for t in node.tensors if t.kind in (Kind.PARAMETER, Kind.ALIAS)]
                    if node.children and own:
                        rel = f"{rel}.{'+'.join(t.name.rsplit('.', 1)[-1] for t in own)}"
                    aliases = [t.tied_to for t in own if t.kind == Kind.ALIAS]
                    value = poly.evaluate(self.values)
                    note = f"tied to {', '.join(a for a in aliases if a)}" if aliases else ""
                    rows.append(FormulaRow(rel, depth, Formula((Term(poly),)), value, each, note))
        return rows

    @cached_property
    def total_formula(self) -> Formula | None:
        terms: list[Term] = []
        for group in self.tree.children:
            f = group.formula()
            if f is None:
                return None
            terms += f.terms
        return Formula(tuple(terms))

    @cached_property
    def used_symbols(self) -> list[tuple[str, str, str, int]]:
        """(letter, config field, meaning, value) for each symbol the formulas use, in family order."""
        used: set[str] = set()
        if self.total_formula is not None:
            used = set(self.total_formula.symbols)
        return [(s.letter, s.field, s.meaning, self.values[s.letter]) for s in self.family.symbols if s.letter in used]

    @property
    def formula_notes(self) -> list[str]:
        names = frozenset(t.name for t in self.inventory.tensors)
        return list(self.family.formula_notes(self.inventory.config, self.model_class, names))

    # -- output -----------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """JSON schema version 1 (keys documented in README; more may be added, none renamed)."""
        order = self.family.order
        formula: dict[str, Any] | None = None
        if self.total_formula is not None:
            formula = {
                "symbols": {l: {"field": f, "value": v} for l, f, _, v in self.used_symbols},
                "total": self.total_formula.render(order=order),
                "total_substituted": self.total_formula.render(order=order, values=self.values),
                "groups": {
                    r.label: {"formula": r.formula.render(order=order), "value": r.value}
                    for r in self.formula_rows if r.depth == 0
                },
            }
        return {
            "schema_version": SCHEMA_VERSION,
            "source": self.source,
            "family": self.inventory.family,
            "model_class": self.model_class,
            "totals": self.totals,
            "groups": self.groups,
            "roles": self.roles,
            "ffn_split": self.ffn_split,
            "tensors": [
                {
                    "name": t.name,
                    "shape": list(t.shape),
                    "dtype": t.dtype,
                    "numel": t.numel,
                    "kind": str(t.kind),
                    "group": str(self.placements[t.name].group),
                    "role": str(self.placements[t.name].role),
                    "tied_to": t.tied_to,
                }
                for t in self.inventory.tensors
            ],
            "tree": _tree_dict(self.tree),
            "formula": formula,
            "config": {k: v for k, v in self.inventory.config.items() if _jsonable(v)},
            "notes": list(self.inventory.notes),
            "overrides": dict(self.inventory.overrides),
            "format": self.format,
            "metadata": {str(k): v for k, v in self.metadata.items() if _jsonable(v)},
            "expected": None if self.expected is None else {
                "source": self.expected.source,
                "model_class": self.expected.model_class,
                "parameters": self.expected.parameters,
            },
            "reconciliation": None if self.reconciliation is None else self.reconciliation.to_dict(),
            "baseline": None if self.baseline is None else {
                "parameters": self.baseline.parameters,
                "groups": self.baseline.groups,
                "roles": self.baseline.roles,
            },
        }

    def __str__(self) -> str:
        from .render import text, views

        return text.render(views.show(self), color=False)

    def _repr_html_(self) -> str:
        """Jupyter: the tables with share bars and, with matplotlib installed, the chart."""
        from .render import html

        return html.fragment(self)


def _tree_dict(node: tree_mod.Node) -> dict[str, Any]:
    out: dict[str, Any] = {"name": tree_mod.label(node), "path": ".".join(node.path), "parameters": node.numel}
    if node.repeat > 1 or node.first is not None:
        out["repeat"] = node.repeat
        out["parameters_each"] = node.numel_each
    if node.children:
        out["children"] = [_tree_dict(c) for c in node.children]
    return out


def _jsonable(value: Any) -> bool:
    return value is None or isinstance(value, (str, int, float, bool, list, dict))


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
        fam, inferred = families.detect(shapes_of)
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
