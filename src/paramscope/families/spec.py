"""A family as a declaration: a base class with defaults that makes the ``Family`` record the pipeline reads.

``Family`` (``base.py``) is what anatomy, tree and renderers consume: a record of values and functions. A
family module need not write it field by field: it declares a ``Spec`` (a subclass fills in the hooks it
has; ``decoder.DecoderFamily`` fills all of them for the Llama-like zoo from options) and sets
``FAMILY = spec.family()``. What a spec declares as data:

* ``ConfigFields``: a transformers config class's defaults, nullable fields, integer minima and strict
  booleans, checked the way the config class checks them (``fill``);
* ``Head``: a table row per head class: the class-name suffix, the attribute that holds the base model, and
  the head's tensors;
* symbols, the fields ``--set`` accepts, name rules, presets, and a one-line ``summary`` (the README's
  families table and ``scripts/update_registry.py`` read it).

This module defines no ``FAMILY``: ``families/__init__.py`` skips it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigError
from ..inventory import Tensor
from .base import Family, Rule, Symbol, need_bool, need_int


@dataclass(frozen=True)
class ConfigFields:
    """The fields of a transformers config class that a count reads.

    ``defaults`` are the class's defaults; ``optional`` the fields it declares ``X | None`` (a null in
    config.json is kept; any other declared field refuses null); ``ints`` integer fields with their minimum,
    checked in order; ``bools`` fields that must be true or false.
    """

    config_class: str  # for messages: "LlamaConfig"
    defaults: Mapping[str, Any]
    optional: frozenset[str] = frozenset()
    ints: Mapping[str, int] = field(default_factory=dict)
    bools: tuple[str, ...] = ()

    def fill(self, raw: Mapping[str, Any], source: str, *, declared: Sequence[str] = ()) -> dict[str, Any]:
        """``raw`` over the defaults, after refusing a null the class refuses; then ints and bools checked.

        ``declared`` are further fields of the class (without a default here) whose null is refused too.
        """
        known = set(self.defaults) | set(declared)
        for key, value in raw.items():
            if value is None and key in known and key not in self.optional:
                raise ConfigError(
                    f"{source}: {key} is null, which {self.config_class} refuses; give it a value or leave it "
                    f"out (default {self.defaults.get(key)!r})"
                )
        cfg = {**self.defaults, **{k: v for k, v in raw.items() if v is not None or k in self.optional}}
        for key, minimum in self.ints.items():
            need_int(cfg, key, source, minimum=minimum)
        for key in self.bools:
            need_bool(cfg, key, source)
        return cfg


@dataclass(frozen=True)
class Head:
    """One row of a heads table: the class ``{prefix}{suffix}`` holds the base model at ``base`` (None: the
    class is the base model) and adds ``tensors(cfg, base_prefix)`` after it, in module order."""

    suffix: str
    base: str | None
    tensors: Callable[[Mapping[str, Any], str], list[Tensor]] = field(default=lambda cfg, prefix: [])
    # The base model comes from ``AutoModel.from_config`` (transformers' Generic*For* heads), which builds
    # it in the config's dtype: buffers made from Python numbers take that dtype rather than float32.
    auto_base: bool = False

    def prefix(self) -> str:
        return "" if self.base is None else self.base + "."


class Spec:
    """The base of a declared family: attributes and hooks with defaults, and ``family()`` to make the record.

    A subclass sets the class attributes (``name``, ``symbols``, ``fields``, ...) or properties of the same
    names, and overrides ``resolve``, ``tensors`` and ``canonical``; every other hook has a default (no
    notes, no checkpoint inference, no buffers, dense, no extra totals).
    """

    name: str
    summary: str = ""  # one line for the README's families table: what the formula shows
    symbols: Sequence[Symbol] = ()
    fields: Sequence[str] = ()
    model_types: Sequence[str] = ()
    model_classes: Sequence[str] = ()
    default_class: str = ""
    rules: Sequence[Rule] = ()
    repeats: Mapping[str, str] = {"decoder.layers": "L"}
    buffers: str | None = None
    presets: Sequence[Any] = ()

    def resolve(self, raw: Mapping[str, Any], source: str) -> dict[str, Any]:
        raise NotImplementedError

    def tensors(self, cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
        raise NotImplementedError

    def canonical(self, name: str) -> str:
        return name

    def notes(self, cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
        return []

    def formula_notes(self, cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
        return []

    # Optional hooks: None means the family has no such behaviour.
    infer: Callable[[Mapping[str, tuple[int, ...]]], tuple[dict[str, Any], str, list[str]] | None] | None = None
    default_class_for: Callable[[Mapping[str, Any]], str] | None = None
    active_experts: Callable[[Mapping[str, Any]], tuple[int, int]] | None = None
    to_model_layout: Callable[[list[Tensor]], list[Tensor]] | None = None

    def family(self) -> Family:
        """The record anatomy, tree and the renderers read."""
        return Family(
            name=self.name,
            fields=tuple(self.fields),
            symbols=tuple(self.symbols),
            model_classes=tuple(self.model_classes),
            default_class=self.default_class,
            rules=tuple(self.rules),
            repeats=self.repeats,
            resolve=self.resolve,
            tensors=self.tensors,
            canonical=self.canonical,
            notes=self.notes,
            formula_notes=self.formula_notes,
            buffers=self.buffers,
            infer=self.infer,
            default_class_for=self.default_class_for,
            model_types=tuple(self.model_types) or (self.name,),
            presets=tuple(self.presets),
            active_experts=self.active_experts,
            to_model_layout=self.to_model_layout,
            summary=self.summary,
        )


# Hooks a family module defines under these names are its family's, by convention (``declare``).
_HOOKS = ("resolve", "tensors", "canonical", "notes", "formula_notes", "infer", "hf_shape", "default_class_for",
          "active_experts", "extra_totals", "to_model_layout", "tree_notes")


def declare(namespace: Mapping[str, Any], *, name: str, summary: str, fields: Sequence[str], repeats: Mapping[str, str],
            **declared: Any) -> Family:
    """The ``Family`` of a module written by hand, registered by convention rather than field by field.

    ``FAMILY = declare(globals(), name=..., summary=..., fields=..., repeats=...)`` takes ``SYMBOLS``,
    ``MODEL_CLASSES``, ``RULES``, ``PRESETS`` and ``BASE`` (the default class) from the module, and each hook
    of ``_HOOKS`` the module itself defines (an imported helper of the same name is not taken); keyword
    arguments add or override anything else (``buffers``, ``model_types``, a lambda for ``default_class_for``).
    """
    module = namespace["__name__"]
    hooks = {hook: namespace[hook] for hook in _HOOKS
             if callable(namespace.get(hook)) and getattr(namespace[hook], "__module__", None) == module}
    record: dict[str, Any] = dict(
        name=name, summary=summary, fields=tuple(fields), repeats=repeats, symbols=tuple(namespace["SYMBOLS"]),
        model_classes=tuple(namespace["MODEL_CLASSES"]), default_class=namespace["BASE"],
        rules=tuple(namespace["RULES"]), presets=tuple(namespace.get("PRESETS", ())), model_types=(name,),
    )
    return Family(**{**record, **hooks, **declared})
