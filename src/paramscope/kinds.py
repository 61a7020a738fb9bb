"""Kinds a tensor has by its name alone, whatever the source: buffers that checkpoints store.

Applied to what a reader reports as a parameter. Readers that know better have already set the kind:
the TensorFlow reader marks optimizer slots and counters, the PyTorch reader what sits under an
``optimizer`` key; a family adds its own buffer names (``Family.buffers``).
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable

from .inventory import Kind, Tensor

# Buffers by name in any family: position indices, BatchNorm statistics, rotary frequencies, and BART's
# (mBART's, Marian's, PEGASUS's) final_logits_bias, a registered buffer that checkpoints store.
BUFFER_NAMES = ("position_ids", "num_batches_tracked", "running_mean", "running_var", "inv_freq", "final_logits_bias")
BUFFERS = re.compile(rf"(^|.*\.)({'|'.join(BUFFER_NAMES)})$")
# A name can match BUFFERS only if its last dotted part is one of BUFFER_NAMES (``$`` allows a trailing
# newline): a set lookup rules out nearly every name before the regex decides.
_MAYBE = frozenset(BUFFER_NAMES) | frozenset(f"{n}\n" for n in BUFFER_NAMES)


def classify(tensors: Iterable[Tensor]) -> list[Tensor]:
    out = []
    for t in tensors:
        if t.kind == Kind.PARAMETER:
            if t.dtype == "string":
                t = dataclasses.replace(t, kind=Kind.OTHER)
            elif t.name.rpartition(".")[2] in _MAYBE and BUFFERS.match(t.name):
                t = dataclasses.replace(t, kind=Kind.BUFFER)
        out.append(t)
    return out
