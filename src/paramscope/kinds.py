"""Kinds a tensor has by its name alone, whatever the family: optimizer state, bookkeeping, buffers.

Applied to what a checkpoint reader reports as a parameter; a reader that knows better (a nested
``optimizer`` dict, a TF object graph) has already set the kind.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Iterable

from .inventory import Kind, Tensor

# Optimizer state and training counters:
#   google-research/bert (TF1 AdamWeightDecay): <var>/adam_m, <var>/adam_v, global_step
#   TF1 tf.train.AdamOptimizer: <var>/Adam, <var>/Adam_1, beta1_power, beta2_power
#   TF2 tf.train.Checkpoint: <path>/.OPTIMIZER_SLOT/<opt>/<slot>/..., optimizer/..., opt/..., step/...
OPTIMIZER_STATE = re.compile(
    r"(^|.*/)(global_step|adam_m|adam_v|Adam|Adam_1|Momentum|beta1_power|beta2_power)$"
    r"|.*/\.OPTIMIZER_SLOT/.*"
    r"|(^|.*/)(optimizer|opt)/.*"
    r"|^(step|iteration|iterations)/\.ATTRIBUTES/VARIABLE_VALUE$"
)
# Checkpoint bookkeeping that is not a tensor of the model.
OTHER = re.compile(r"^_CHECKPOINTABLE_OBJECT_GRAPH$|^save_counter/\.ATTRIBUTES/VARIABLE_VALUE$")
# Buffers by name in any family (running statistics, rotary frequencies, position indices).
BUFFERS = re.compile(r"(^|.*\.)(position_ids|num_batches_tracked|running_mean|running_var|inv_freq)$")


def classify(tensors: Iterable[Tensor]) -> list[Tensor]:
    out = []
    for t in tensors:
        if t.kind == Kind.PARAMETER:
            if t.dtype == "string" or OTHER.match(t.name):
                t = dataclasses.replace(t, kind=Kind.OTHER)
            elif OPTIMIZER_STATE.match(t.name):
                t = dataclasses.replace(t, kind=Kind.OPTIMIZER_STATE)
            elif BUFFERS.match(t.name):
                t = dataclasses.replace(t, kind=Kind.BUFFER)
        out.append(t)
    return out
