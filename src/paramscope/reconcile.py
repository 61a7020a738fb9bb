"""Reconciliation: the formula's tensors against a checkpoint's, every difference said in plain words.

The verdict follows what ``from_pretrained`` would do with the checkpoint for the configured class:
a parameter it would have to initialise randomly (missing) or could not load (shape differs) is a
mismatch; what it ignores (extra heads, optimizer state, stored buffers) or re-creates (tied weights)
is explained and accepted.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

from . import units
from .families.base import Group, Role
from .inventory import Kind, Tensor

if TYPE_CHECKING:
    from .anatomy import Anatomy


class Severity(StrEnum):
    OK = "ok"  # expected and harmless
    NOTE = "note"  # worth knowing, loads fine
    MISMATCH = "mismatch"  # from_pretrained would not load this model from this checkpoint as it is


@dataclass(frozen=True)
class Finding:
    code: str
    severity: Severity
    message: str
    names: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reconciliation:
    expected_source: str
    model_class: str
    matched: int
    findings: tuple[Finding, ...] = field(default_factory=tuple)

    @property
    def agrees(self) -> bool:
        return not any(f.severity == Severity.MISMATCH for f in self.findings)

    def to_dict(self) -> dict:
        return {
            "expected_source": self.expected_source,
            "model_class": self.model_class,
            "agrees": self.agrees,
            "matched": self.matched,
            "findings": [
                {"code": f.code, "severity": str(f.severity), "message": f.message, "names": list(f.names)}
                for f in self.findings
            ],
        }


def _examples(names: list[str], n: int = 3) -> str:
    shown = ", ".join(units.safe(x) for x in names[:n])
    return shown + (f" and {len(names) - n} more" if len(names) > n else "")


def reconcile(expected: "Anatomy", actual: "Anatomy") -> Reconciliation:
    fam = actual.family
    canon = fam.canonical
    exp = {canon(t.name): t for t in expected.inventory.tensors}
    act: dict[str, Tensor] = {}
    for t in actual.inventory.tensors:
        if t.kind in (Kind.PARAMETER, Kind.ALIAS, Kind.BUFFER):
            act.setdefault(canon(t.name), t)
    findings: list[Finding] = []
    matched = 0
    missing: list[str] = []
    shape_diff: list[tuple[str, tuple[int, ...], tuple[int, ...]]] = []
    dropped_ties: list[Tensor] = []
    # Targets of ties whose alias the checkpoint stores: computed once, not per missing tensor.
    stored_as_alias = {canon(t.tied_to or "") for t in exp.values() if t.kind == Kind.ALIAS and canon(t.name) in act}
    for name, e in exp.items():
        a = act.get(name)
        if e.kind == Kind.BUFFER:
            continue  # buffers are reported below, from the checkpoint's side
        if a is None:
            if e.kind == Kind.ALIAS:
                dropped_ties.append(e)
            elif name in stored_as_alias:
                # The tied pair is stored under the alias's name (XLM-R keeps lm_head.decoder.weight).
                matched += 1
            else:
                missing.append(name)
            continue
        shape = fam.hf_shape(a.name, a.shape)
        if shape != e.shape:
            shape_diff.append((name, e.shape, shape))
        else:
            matched += 1
    # A dropped alias whose target is stored under the alias's own name is not dropped at all.
    dropped_ties = [t for t in dropped_ties if canon(t.tied_to or "") in act]
    if dropped_ties:
        pairs = "; ".join(f"{units.safe(t.name)} is {units.safe(t.tied_to or '?')}" for t in dropped_ties)
        findings.append(Finding("tied_dropped", Severity.OK,
                                f"tied weights not stored ({pairs}): the file keeps one copy and "
                                "transformers re-ties them on load", tuple(t.name for t in dropped_ties)))
    if shape_diff:
        shapes = {n: fam.hf_shape(t.name, t.shape) for n, t in act.items()}
        findings += _shape_findings(expected, actual, shapes, shape_diff)
    if missing:
        findings.append(_missing_finding(expected, missing))
    unexpected = [t for n, t in act.items() if n not in exp and t.kind != Kind.BUFFER]
    heads = [t.name for t in unexpected if actual.placements[t.name].group == Group.HEADS]
    others = [t.name for t in unexpected if actual.placements[t.name].group != Group.HEADS]
    if heads:
        findings.append(Finding("extra_heads", Severity.NOTE,
                                f"heads that {expected.model_class} does not have: {_examples(heads)} "
                                f"({units.count(sum(act[canon(h)].numel for h in heads))} parameters); "
                                f"the checkpoint was saved from a class with heads, and loading it as "
                                f"{expected.model_class} ignores them", tuple(heads)))
    if others:
        findings.append(Finding("unexpected", Severity.NOTE,
                                f"{units.many(len(others), 'tensor')} the formula does not have: {_examples(others)}; "
                                "transformers ignores them on load", tuple(others)))
    stored_buffers = [t.name for t in actual.inventory.tensors if t.kind == Kind.BUFFER]
    if stored_buffers:
        findings.append(Finding("buffers_stored", Severity.OK,
                                f"buffers stored in the file ({_examples(stored_buffers)}): not parameters; "
                                "current transformers does not save them and ignores them on load",
                                tuple(stored_buffers)))
    for kind, code, words in ((Kind.OPTIMIZER_STATE, "optimizer_state", "optimizer state"),
                              (Kind.OTHER, "other", "other entries")):
        rest = actual.inventory.of_kind(kind)
        if rest:
            findings.append(Finding(code, Severity.OK,
                                    f"{words} set aside: {units.many(len(rest), 'tensor')}, "
                                    f"{units.many(sum(t.numel for t in rest), 'element')} "
                                    f"({_examples([t.name for t in rest])}); not model parameters",
                                    tuple(t.name for t in rest)))
    order = {Severity.MISMATCH: 0, Severity.NOTE: 1, Severity.OK: 2}
    findings.sort(key=lambda f: order[f.severity])
    return Reconciliation(expected.source, expected.model_class, matched, tuple(findings))


def _shape_findings(
    expected: "Anatomy",
    actual: "Anatomy",
    shapes: dict[str, tuple[int, ...]],
    diffs: list[tuple[str, tuple[int, ...], tuple[int, ...]]],
) -> list[Finding]:
    out: list[Finding] = []
    cfg = expected.inventory.config
    vocab = cfg.get("vocab_size")
    # The token embedding table: an embedding-role tensor with vocab_size rows (any family's name for it).
    place = {fam_name: expected.family.place(fam_name) for fam_name, _, _ in diffs}
    word = next((d for d in diffs if place[d[0]].role == Role.EMBEDDING and d[1] and d[1][0] == vocab), None)
    rest = diffs
    if word is not None and vocab is not None and word[1][1:] == word[2][1:]:
        new_v = word[2][0]
        resized = [d for d in diffs if d[1] and d[1][0] == vocab and d[2][0] == new_v and d[1][1:] == d[2][1:]]
        resized_names = {d[0] for d in resized}
        rest = [d for d in diffs if d[0] not in resized_names]
        out.append(Finding("vocab_resized", Severity.MISMATCH,
                           f"vocabulary resized: the config says vocab_size {vocab}, the checkpoint has {new_v} rows "
                           f"({_examples([d[0] for d in resized])}); transformers refuses the size mismatch: "
                           f"set vocab_size={new_v} in the config (resize_token_embeddings does that when saving)",
                           tuple(d[0] for d in resized)))
    if len(rest) <= 3:
        for name, want, got in rest:
            out.append(Finding("shape", Severity.MISMATCH,
                               f"{units.safe(name)}: the config gives shape {list(want)}, the checkpoint {list(got)}; "
                               "the two do not describe the same model", (name,)))
        return out
    name, want, got = rest[0]
    sizes = ""
    found = actual.family.infer(shapes) if actual.family.infer else None
    if found is not None:
        differ = [f"{k} {cfg[k]} in the config, {v} in the checkpoint" for k, v in found[0].items()
                  if k in cfg and cfg[k] != v and k not in ("model_type", "num_attention_heads")]
        sizes = f"; the sizes differ: {'; '.join(differ)}" if differ else ""
    out.append(Finding("shapes", Severity.MISMATCH,
                       f"{len(rest)} tensors differ in shape (first: {units.safe(name)}, {list(want)} in the config, "
                       f"{list(got)} in the checkpoint){sizes}: this config does not describe this checkpoint",
                       tuple(d[0] for d in rest)))
    return out


def _missing_finding(expected: "Anatomy", missing: list[str]) -> Finding:
    fam = expected.family
    groups = {str(fam.place(n).group) for n in missing}
    missing_names = set(missing)  # once, not once per tensor
    n = sum(t.numel for t in expected.inventory.tensors if fam.canonical(t.name) in missing_names)
    if groups == {"pooler"}:
        hint = ("use --no-pooler, or a class without a pooler" if expected.model_class == fam.default_class
                else "use a class without a pooler")
        return Finding("missing_pooler", Severity.MISMATCH,
                       f"no pooler in the checkpoint ({units.count(n)} parameters): it was saved from a class "
                       f"without one (e.g. a masked-LM class), so {expected.model_class} would initialise "
                       f"the pooler randomly; {hint}", tuple(missing))
    return Finding("missing", Severity.MISMATCH,
                   f"not in the checkpoint: {units.many(len(missing), 'tensor')} of {expected.model_class} "
                   f"({units.many(n, 'parameter')}): {_examples(missing)}; transformers would initialise them "
                   "randomly",
                   tuple(missing))
