"""Checkpoints of no known family: counted exactly, grouped by the name table of ``families/names.py``.

Where a name alone cannot say its group (is ``model.layers.3`` an encoder's layer or a decoder's? is
``vision_model`` a tower or the whole model?), the whole checkpoint decides: the pipeline calls
``family_for_names(names, model_type)`` once per inventory and uses the family it returns. ``GENERIC``
itself places one name at a time (an unnamed stack is then a decoder, as in most unknown models). A name
matching no pattern is unclassified, never dropped. There is no formula: the sizes are not known.

The table module is imported on first use, so that counting a known family does not pay for it.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Iterable, Mapping

from .base import Family, Placement


def _canonical(placement: Placement) -> str:
    return ".".join((str(placement.group), *placement.path, placement.leaf))


def canonical(name: str) -> str:
    """The name prefixed with its group, path as placed: ``model.layers.0.mlp.up_proj.weight`` ->
    ``decoder.layers.0.mlp.up_proj.weight``; an unclassified name keeps its own (``unclassified.stray``)."""
    from . import names

    return _canonical(names.place_alone(name))


@dataclass(frozen=True)
class GenericFamily(Family):
    """The fallback family; ``for_names`` gives one that knows a checkpoint's whole set of names."""

    placements: Mapping[str, Placement] = field(default_factory=dict, compare=False, hash=False, repr=False)
    model_type: str | None = None

    def place(self, name: str) -> Placement:
        found = self.placements.get(name)
        if found is not None:
            return found
        from . import names

        return names.place_alone(name, self.model_type)

    def place_all(self, names: Iterable[str]) -> dict[str, Placement]:
        """``{name: self.place(name)}``; the checkpoint's own names, in their order, are a copy of
        ``placements``."""
        names = list(names)
        known = self.placements
        if len(names) == len(known) and names == list(known):
            return dict(known)
        return {name: self.place(name) for name in names}

    def for_names(self, tensor_names: Iterable[str], model_type: str | None = None) -> GenericFamily:
        """This family, with every name of one checkpoint placed by the name table in one pass."""
        from . import names

        placements = names.classify(tensor_names, model_type)

        def canonical_name(name: str) -> str:
            found = placements.get(name)
            return _canonical(found) if found is not None else canonical(name)

        return dataclasses.replace(self, placements=placements, model_type=model_type, canonical=canonical_name)


GENERIC = GenericFamily(
    name="unknown",
    fields=(),
    symbols=(),
    model_classes=(),
    default_class="unknown",
    rules=(),  # placement is the name table's (``place``), not a list of rules
    repeats={"*": ""},  # any numbered container collapses into runs of identical blocks
    resolve=lambda raw, source: dict(raw),
    tensors=lambda cfg, cls, options: [],
    canonical=canonical,
)


def family_for_names(tensor_names: Iterable[str], model_type: str | None = None) -> GenericFamily:
    """The generic family for one checkpoint: ``family_for_names(names, config.get("model_type"))``.

    >>> fam = family_for_names(["model.layers.0.self_attn.q_proj.weight", "model.embeddings.norm.weight"],
    ...                        "modernbert")
    >>> str(fam.place("model.layers.0.self_attn.q_proj.weight").group)
    'encoder'
    """
    return GENERIC.for_names(tensor_names, model_type)
