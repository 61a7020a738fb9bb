"""The result of an inspection: inventory -> placements -> component tree, with totals and formulas.

The data model only: ``pipeline.inspect`` builds it, renderers read it and format it; none of them
computes a count of its own, and none of them is imported here but inside the display hooks.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

from . import tree as tree_mod
from . import units
from .families.base import Family, Group, Placement, Role, Sub
from .inventory import Inventory, Kind
from .symbolic import Formula, Term

if TYPE_CHECKING:  # reconcile is imported only when a checkpoint is reconciled
    from .reconcile import Reconciliation



# Shown with 0 too, so that every model's tables have the same rows; other groups and roles (towers of a
# multimodal model, state-space mixers) appear only where they have parameters.
ALWAYS_SHOWN_GROUPS = frozenset(str(g) for g in (Group.EMBEDDINGS, Group.ENCODER, Group.DECODER, Group.FINAL_NORM,
                                                 Group.POOLER, Group.HEADS))
ALWAYS_SHOWN_ROLES = frozenset(str(r) for r in (Role.EMBEDDING, Role.ATTENTION, Role.FFN, Role.NORM, Role.POOLER,
                                                Role.HEAD, Role.OTHER))


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

    >>> import paramscope
    >>> a = paramscope.inspect("bert-base-chinese")
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
        """Group and role of every tensor by its name; one matrix tied to an embedding is an embedding.

        A name cannot see a tie: in XLM-R's LM classes transformers names the word table
        ``lm_head.decoder.weight`` (the head is built first) and the embeddings' name is the alias, while
        untied, the same name is a head's own V×H output layer. So a parameter whose alias is placed as an
        embedding takes the embedding role, in the group its own name gives it.
        """
        out = self.family.place_all([t.name for t in self.inventory.tensors])  # all names at once: see there
        for t in self.inventory.tensors:
            if t.kind == Kind.ALIAS and t.tied_to in out and out[t.name].role == Role.EMBEDDING:
                target = out[t.tied_to]
                if target.role != Role.EMBEDDING:
                    out[t.tied_to] = dataclasses.replace(target, role=Role.EMBEDDING, sub=None)
        return out

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
    def _by_placement(self) -> dict[tuple[Group, Role, Sub | None], int]:
        """Parameters by (group, role, sub) in one pass; groups, roles and ffn_split add these up."""
        out: dict[tuple[Group, Role, Sub | None], int] = {}
        placements, prod = self.placements, math.prod
        for t in self.inventory.tensors:
            if t.kind == Kind.PARAMETER:
                p = placements[t.name]
                key = (p.group, p.role, p.sub)
                out[key] = out.get(key, 0) + prod(t.shape)  # t.numel, without a property call per tensor
        return out

    @cached_property
    def groups(self) -> dict[str, int]:
        """Parameters by group: the six common groups always, any other (towers, unclassified) when it has
        parameters, in the tree's order."""
        counts: dict[str, int] = {}
        for (group, _, _), n in self._by_placement.items():
            g = str(group)
            counts[g] = counts.get(g, 0) + n
        order = [str(g) for g in tree_mod.GROUP_ORDER] + sorted(set(counts) - {str(g) for g in tree_mod.GROUP_ORDER})
        return {g: counts.get(g, 0) for g in order if g in ALWAYS_SHOWN_GROUPS or counts.get(g)}

    @cached_property
    def roles(self) -> dict[str, int]:
        """Parameters by role: the seven common roles always, a role added for fewer models (a state-space
        mixer, a convolutional front-end) only when it has parameters; in the order of ``Role``."""
        counts: dict[str, int] = {}
        for (_, role, _), n in self._by_placement.items():
            r = str(role)
            counts[r] = counts.get(r, 0) + n
        return {str(r): counts.get(str(r), 0) for r in Role if r in ALWAYS_SHOWN_ROLES or counts.get(str(r))}

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
            "bytes": {"stored": inv.nbytes(Kind.PARAMETER), **{k: params * v for k, v in units.PRECISIONS.items()}},
            "dtypes": inv.dtypes(Kind.PARAMETER),
            **self._trainable(),
            **self._active(),
            **(self.family.extra_totals(self.inventory.config, params) if self.inventory.config else {}),
        }

    @cached_property
    def ffn_split(self) -> dict[str, int]:
        """The ffn role split into dense layers, experts and router (mixture-of-experts models)."""
        out = {"dense": 0, str(Sub.EXPERTS): 0, str(Sub.ROUTER): 0}
        for (_, role, sub), n in self._by_placement.items():
            if role == Role.FFN:
                out[str(sub) if sub else "dense"] += n
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
        from .render import json as json_render

        return json_render.to_dict(self)

    def __str__(self) -> str:
        from .render import text, views

        return text.render(views.show(self), color=False)

    def _repr_html_(self) -> str:
        """Jupyter: the tables with share bars and, with matplotlib installed, the chart."""
        from .render import html

        return html.fragment(self)
