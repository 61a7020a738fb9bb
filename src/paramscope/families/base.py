"""What every family module provides: config fields, symbols, tensor formulas and name patterns.

To add a family, write ``families/<name>.py`` defining ``FAMILY = Family(...)`` (``bert.py`` is the
model): it is found by ``families/__init__.py`` without being listed. Its ``tensors`` returns every
parameter, tied alias and buffer of each class in ``named_parameters()`` order with symbolic shapes
(``Poly``); its ``rules`` say which group and role each name has; its ``presets`` are real configs.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Iterable, Mapping, Sequence

from ..errors import ConfigError
from ..inventory import Tensor


class Group(StrEnum):
    EMBEDDINGS = "embeddings"
    ENCODER = "encoder"  # the layers of an encoder (BERT, the encoder of T5)
    DECODER = "decoder"  # the layers of a decoder (GPT-2, Llama, the decoder of T5)
    FINAL_NORM = "final_norm"
    POOLER = "pooler"
    HEADS = "heads"
    UNCLASSIFIED = "unclassified"
    # A multimodal model's towers and the projector joining them to the text model, each with its own
    # embeddings, layers and norms below it (llava, gemma3, qwen2_5_vl, clip).
    VISION = "vision_tower"
    AUDIO = "audio_tower"
    PROJECTOR = "projector"


# Within the ffn role, mixture-of-experts layers split into experts and router (``Rule.sub``).
class Sub(StrEnum):
    EXPERTS = "experts"
    ROUTER = "router"


class Role(StrEnum):
    EMBEDDING = "embedding"
    ATTENTION = "attention"
    FFN = "ffn"
    NORM = "norm"
    POOLER = "pooler"
    HEAD = "head"
    SSM = "ssm"  # a state-space or linear-attention mixer (Mamba, Jamba's Mamba layers, Qwen3-Next's linear attention)
    CONV = "conv"  # a convolutional front-end (wav2vec2's feature encoder, Whisper's conv1/conv2)
    OTHER = "other"


@dataclass(frozen=True)
class Symbol:
    """A size symbol of the closed-form formulas, e.g. ``H = hidden_size``."""

    letter: str
    field: str
    meaning: str


@dataclass(frozen=True)
class Rule:
    """A name pattern (matched against the canonical name) and the group and role it means."""

    pattern: str
    group: Group
    role: Role
    sub: Sub | None = None

    def matches(self, name: str) -> bool:
        return _compiled(self.pattern).fullmatch(name) is not None


@functools.cache
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def first_rule(rules: Sequence[Rule]) -> Callable[[str], Rule | None]:
    """A function: canonical name -> the first of ``rules`` it matches, or None; one regex call per name.

    The rules are joined into one alternation of named groups: a backtracking ``fullmatch`` tries the
    alternatives in order, so the group that matched is the first rule that matches, as a loop over the
    rules would find (checked against that loop in tests/test_scale.py). Patterns that cannot be joined
    (a named group or a global flag of their own) fall back to the loop.
    """
    rules = tuple(rules)

    def loop(name: str) -> Rule | None:
        for rule in rules:
            if rule.matches(name):
                return rule
        return None

    try:
        combined = re.compile("|".join(f"(?P<_r{i}>{rule.pattern})" for i, rule in enumerate(rules)))
    except (re.error, OverflowError, RecursionError):
        return loop
    by_group = {f"_r{i}": rule for i, rule in enumerate(rules)}
    fullmatch = combined.fullmatch

    def first(name: str) -> Rule | None:
        m = fullmatch(name)
        if m is None:
            return None
        rule = by_group.get(m.lastgroup)  # type: ignore[arg-type]
        return rule if rule is not None else loop(name)

    return first if rules else loop


@dataclass(frozen=True, slots=True)
class Placement:
    """Where a tensor lives: group, role and the module path below the group."""

    group: Group
    role: Role
    path: tuple[str, ...]
    leaf: str
    sub: Sub | None = None


@dataclass(frozen=True)
class Family:
    name: str
    fields: Sequence[str]  # config fields the count depends on (what --set accepts)
    symbols: Sequence[Symbol]
    model_classes: Sequence[str]
    default_class: str
    rules: Sequence[Rule]
    # Module paths whose children are numbered copies of one block, with the symbol that counts them.
    repeats: Mapping[str, str]
    resolve: Callable[[Mapping[str, Any], str], dict[str, Any]]
    tensors: Callable[[Mapping[str, Any], str, Mapping[str, Any]], list[Tensor]]
    canonical: Callable[[str], str]
    notes: Callable[[Mapping[str, Any], str, Mapping[str, Any]], list[str]] = field(default=lambda *_: [])
    # Plain-words notes for --formula: (resolved config, model class, tensor names) -> sentences.
    formula_notes: Callable[[Mapping[str, Any], str, frozenset[str]], list[str]] = field(default=lambda *_: [])
    # Canonical names of buffers a checkpoint may store (kind buffer, not parameter).
    buffers: str | None = None
    # Checkpoint names and shapes (canonical names, Hugging Face orientation) -> (config, class, notes),
    # or None when the names are not this family's.
    infer: Callable[[Mapping[str, tuple[int, ...]]], tuple[dict[str, Any], str, list[str]] | None] | None = None
    # A stored shape in Hugging Face orientation (TF kernels are [in, out]).
    hf_shape: Callable[[str, tuple[int, ...]], tuple[int, ...]] = field(default=lambda name, shape: shape)
    # The class when neither --model-class nor architectures names one, by resolved config (a family of
    # several model types: MistralForCausalLM for a mistral config); default: ``default_class``.
    default_class_for: Callable[[Mapping[str, Any]], str] | None = None
    # model_type values of config.json this family reads (default: its name).
    model_types: Sequence[str] = ()
    # Built-in configurations (paramscope.presets.Preset), with where each came from.
    presets: Sequence[Any] = ()
    # Mixture of experts: (experts used per token, experts) from the resolved config, for
    # totals.active_parameters; None for dense models.
    active_experts: Callable[[Mapping[str, Any]], tuple[int, int]] | None = None
    # Family-specific totals, e.g. ALBERT's unshared_parameters: (resolved config, parameters) -> {key: n}.
    extra_totals: Callable[[Mapping[str, Any], int], dict[str, int]] = field(default=lambda cfg, n: {})
    # A checkpoint's tensors as the model holds them after loading, for reconciliation only (Mixtral files
    # store one tensor per expert, the model fuses them); the inventory keeps what the file holds.
    to_model_layout: Callable[[list[Tensor]], list[Tensor]] | None = None
    # Notes on tree nodes by module path (e.g. a shared layer group): (resolved config) -> {path: note}.
    tree_notes: Callable[[Mapping[str, Any]], dict[str, str]] = field(default=lambda cfg: {})
    # One line for the README's families table and the registry: what the formula shows.
    summary: str = ""

    def is_buffer(self, name: str) -> bool:
        return self.buffers is not None and re.fullmatch(self.buffers, self.canonical(name)) is not None

    def values(self, cfg: Mapping[str, Any]) -> dict[str, int]:
        return {s.letter: cfg[s.field] for s in self.symbols if s.field in cfg}

    @property
    def order(self) -> list[str]:
        return [s.letter for s in self.symbols]

    @functools.cached_property
    def first_rule(self) -> Callable[[str], Rule | None]:
        """Canonical name -> the first rule it matches (see :func:`first_rule`); built once per family."""
        return first_rule(self.rules)

    def place(self, name: str) -> Placement:
        canonical = self.canonical(name)
        parts = canonical.split(".")
        leaf = parts.pop()
        module = tuple(parts)
        rule = self.first_rule(canonical)
        if rule is not None:
            path = module[1:] if module and module[0] == rule.group else module
            return Placement(rule.group, rule.role, path, leaf, rule.sub)
        return Placement(Group.UNCLASSIFIED, Role.OTHER, module, leaf)

    def place_all(self, names: Iterable[str]) -> dict[str, Placement]:
        """``{name: self.place(name)}`` for many names at once, sharing what repeats: each module path is
        split once and its parts interned, so 91,991 placements of DeepSeek-V3 hold a few hundred strings
        and one path tuple per module instead of six strings and a tuple per tensor. A family that places
        names its own way (its own ``place``) is asked name by name."""
        if type(self).place is not Family.place:
            return {name: self.place(name) for name in names}
        canonical, first = self.canonical, self.first_rule
        strings: dict[str, str] = {}
        paths: dict[tuple[str, int], tuple[str, ...]] = {}  # (module, id of the rule) -> path
        out: dict[str, Placement] = {}
        for name in names:
            c = canonical(name)
            module, dot, leaf = c.rpartition(".")
            rule = first(c)
            key = (module, id(rule))
            path = paths.get(key)
            if path is None:
                parts = tuple(strings.setdefault(part, part) for part in module.split(".")) if dot else ()
                if rule is not None and parts and parts[0] == rule.group:
                    parts = parts[1:]
                path = paths[key] = parts
            leaf = strings.setdefault(leaf, leaf)
            if rule is None:
                out[name] = Placement(Group.UNCLASSIFIED, Role.OTHER, path, leaf)
            else:
                out[name] = Placement(rule.group, rule.role, path, leaf, rule.sub)
        return out


def need_int(cfg: Mapping[str, Any], key: str, source: str, *, minimum: int) -> int:
    """A size field as transformers would accept it: an int (not a bool) of at least ``minimum``."""
    value = cfg[key]
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{source}: {key} must be an integer, got {value!r}; write it as a whole number")
    if value < minimum:
        want = "a positive integer" if minimum == 1 else f"at least {minimum}"
        raise ConfigError(f"{source}: {key} must be {want}, got {value}; fix the value")
    return value


def need_bool(cfg: Mapping[str, Any], key: str, source: str) -> bool:
    value = cfg[key]
    if not isinstance(value, bool):
        raise ConfigError(f"{source}: {key} must be true or false, got {value!r}")
    return value
