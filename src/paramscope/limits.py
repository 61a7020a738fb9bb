"""Budgets: every cap on the work an input can cause, in one place, each with why it is far above real files.

A few bytes of input can ask for unbounded work: a layer count of 10**12 in a config, a tensor named
``layer.999999999``, a 20 kB pickle whose shared dicts expand to a million names, a deflated entry that
inflates a thousandfold. Each budget below is checked *before* the work it bounds (or while counting it,
stopping at the budget), and a file over one gets a one-line error saying which limit, the value, and how
to raise it::

    error: model.pt: 'archive/data.pkl' builds more than 200,000 objects (the limit MAX_PICKLE_OBJECTS:
    100,000 plus 0.5 per byte of its 200,000 bytes, at most 32,000,000); if a real file needs more, set
    PARAMSCOPE_MAX_PICKLE_OBJECTS=400000

Two kinds of budget:

* absolute (``MAX_LAYERS``): one number, far above the largest real model;
* relative to the input's size (``budget(PICKLE_OBJECTS, nbytes)``): an allowance plus a share of the bytes
  the file spends on the structure, capped by an absolute maximum. Work then scales with the size of the
  input, never with a number written inside it: any input of up to 1 MB is answered within about a second.

Every limit can be raised for a real file that needs more with the environment variable
``PARAMSCOPE_MAX_<NAME>`` (read once, at import): for a relative budget it replaces the formula.

Reference points (2025): the deepest production transformers have 61-126 layers (DeepSeek-V3 61, Llama 3.1
405B 126); research models reach 1,000 (DeepNet). The checkpoint with the most tensors we know is
DeepSeek-V3's (about 92,000 names with its FP8 scales); a BERT-base ``data.pkl`` is 35 kB, about
180 bytes and 40 pickle opcodes per tensor.
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from .errors import FormatError, ParamscopeError

__all__ = [
    "Limit", "budget", "exceeded", "number",
    "LAYERS", "TENSORS", "NAME_CHARS", "REGEX_TEXT", "CONFIG_BYTES", "HEADER_BYTES", "INDEX_BYTES",
    "TF_INDEX_BYTES", "TF_KEY_BYTES", "TF_STATE_BYTES", "PICKLE_BYTES", "PICKLE_OPS", "PICKLE_OBJECTS",
    "PICKLE_MEMO", "DEFLATE_RATIO", "WALK", "DEPTH", "NDIM", "DIM", "LINE",
    "MAX_LAYERS", "MAX_TENSORS", "MAX_NAME_CHARS", "MAX_REGEX_TEXT", "MAX_CONFIG_BYTES", "MAX_HEADER_BYTES",
    "MAX_INDEX_BYTES", "MAX_TF_INDEX_BYTES", "MAX_TF_KEY_BYTES", "MAX_TF_STATE_BYTES", "MAX_PICKLE_BYTES",
    "MAX_PICKLE_OPS", "MAX_PICKLE_OBJECTS", "MAX_PICKLE_MEMO",
    "MAX_DEFLATE_RATIO", "MAX_WALK", "MAX_DEPTH", "MAX_NDIM", "MAX_DIM", "MAX_LINE",
]

ENV_PREFIX = "PARAMSCOPE_MAX_"


@dataclass(frozen=True)
class Limit:
    """One budget: ``value`` is the absolute cap; ``allowance`` and ``per_byte`` make it relative to a size.

    A relative budget for an input of ``n`` bytes is ``min(value, allowance + int(n * per_byte))``.
    """

    name: str  # MAX_<name> in this module, PARAMSCOPE_MAX_<name> in the environment
    value: int
    unit: str  # what is counted, for messages: "layers", "objects"
    allowance: int = 0
    per_byte: float = 0  # 0: absolute
    overridden: bool = False  # set from the environment

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.name


def _limit(name: str, default: int, unit: str, *, allowance: int = 0, per_byte: float = 0) -> Limit:
    """A budget, raised (or lowered) by ``PARAMSCOPE_MAX_<name>`` when that holds a positive integer."""
    raw = os.environ.get(ENV_PREFIX + name, "").strip().replace("_", "")
    if raw.isdigit() and len(raw) <= 30 and int(raw) > 0:
        return Limit(name, int(raw), unit, int(raw), 0, overridden=True)
    return Limit(name, default, unit, allowance, per_byte)


# --------------------------------------------------------------------------------------------------
# Counts that drive construction and output.

# Layer counts (config fields such as num_hidden_layers, layer numbers inferred from tensor names, --set):
# each layer is built as rows, formulas and tree nodes. 2,048 is twice the deepest research model (DeepNet,
# 1,000 layers) and 16x the deepest production one (126); building it takes about a second here once the
# tree's child lookup is linear.
LAYERS = _limit("LAYERS", 2_048, "layers")
# Tensors per checkpoint (or per shard index): 10x the most we know of (DeepSeek-V3, ~92,000).
TENSORS = _limit("TENSORS", 1_000_000, "tensors")
# Characters of all tensor names and metadata keys and strings a pickle's paths expand to (names are the
# dotted path of keys, and a shared key can be repeated on every level and every path). Real names are
# written once, at most ~300 characters each: a few times the pickle's size is far above them.
NAME_CHARS = _limit("NAME_CHARS", 1 << 30, "characters of names", allowance=4_000_000, per_byte=8)
# Any text parsed with a regular expression (a line of a TF "checkpoint" file, a path): a path is at most
# 4,096 bytes (PATH_MAX), 16x with C escapes.
REGEX_TEXT = _limit("REGEX_TEXT", 65_536, "characters")

# --------------------------------------------------------------------------------------------------
# Sizes of files read into memory.

# A config.json is a few kB; anything this large is not one, and is not read into memory.
CONFIG_BYTES = _limit("CONFIG_BYTES", 16 * 1024 * 1024, "bytes")
# The official safetensors reader refuses headers above 100,000,000 bytes; so do we.
HEADER_BYTES = _limit("HEADER_BYTES", 100_000_000, "bytes")
# A shard index (model.safetensors.index.json) of 1,000,000 names is about 80 MB; real ones are < 10 MB.
INDEX_BYTES = _limit("INDEX_BYTES", 64 * 1024 * 1024, "bytes")

# --------------------------------------------------------------------------------------------------
# TensorFlow checkpoints.

# A BERT-base .index is about 20 kB (100 bytes per variable): 256 MiB is millions of variables.
TF_INDEX_BYTES = _limit("TF_INDEX_BYTES", 256 * 1024 * 1024, "bytes")
# Prefix compression lets keys grow faster than the file (1-3x in real indexes): the bytes of all keys
# rebuilt are held to 8 per byte of the index plus 1 MiB, so work and memory stay linear in the file.
TF_KEY_BYTES = _limit("TF_KEY_BYTES", 1 << 34, "bytes of keys", allowance=1 << 20, per_byte=8)
# The "checkpoint" text file names a few paths (a few hundred bytes).
TF_STATE_BYTES = _limit("TF_STATE_BYTES", 1024 * 1024, "bytes")

# --------------------------------------------------------------------------------------------------
# Pickles (torch.save). The relative ones are shares of the bytes the file spends on the pickle (its
# stored, possibly compressed, size), so a pickle's work is linear in the file whatever it says.

# The structure of a checkpoint is ~180 bytes per tensor: 256 MiB is 1.4M tensors.
PICKLE_BYTES = _limit("PICKLE_BYTES", 256 * 1024 * 1024, "bytes")
# Opcodes run per pickle: torch.save spends ~4.5 bytes per opcode, so an uncompressed pickle never meets the
# relative part (each opcode takes at least a byte); a deflated one is held to 2 per stored byte
# (real deflated pickles: ~0.8).
PICKLE_OPS = _limit("PICKLE_OPS", 64_000_000, "opcodes", allowance=1_000_000, per_byte=2)
# Objects the interpreter builds (containers, argument tuples, MARK frames): torch.save builds ~1 per 20
# bytes (1 per 6 stored bytes when deflated). Bounds memory: an empty set costs 216 bytes for 1 opcode.
PICKLE_OBJECTS = _limit("PICKLE_OBJECTS", 32_000_000, "objects", allowance=100_000, per_byte=0.5)
# Memo entries (PUT, BINPUT, MEMOIZE): torch.save memoizes ~1 value per 17 bytes (1 per 5 stored bytes).
PICKLE_MEMO = _limit("PICKLE_MEMO", 32_000_000, "memo entries", allowance=100_000, per_byte=0.5)
# Inflated size of a deflated data.pkl per stored byte. torch.save stores entries uncompressed; a pickle
# deflates 3-4x (names and opcodes repeat), so 16x is room for any re-zipped checkpoint.
DEFLATE_RATIO = _limit("DEFLATE_RATIO", 16, "times its stored size")
# Values visited while walking the unpickled object, a shared container once per path that reaches it:
# without sharing, at most a few per opcode; sharing is what expands, and this is where it stops.
WALK = _limit("WALK", 10_000_000, "values", allowance=100_000, per_byte=2)
# Containers nested deeper than this are not a checkpoint's structure (a state_dict nests 2-4 levels).
DEPTH = _limit("DEPTH", 100, "levels")
# Dimensions of a tensor (torch allows 64) and the size of one (2**62 elements is beyond any memory).
NDIM = _limit("NDIM", 64, "dimensions")
DIM = _limit("DIM", 1 << 62, "elements")
# A text opcode's argument line (GLOBAL names, text ints): a qualified name is < 200 bytes.
LINE = _limit("LINE", 1 << 20, "bytes")

MAX_LAYERS = LAYERS.value
MAX_TENSORS = TENSORS.value
MAX_NAME_CHARS = NAME_CHARS.value
MAX_REGEX_TEXT = REGEX_TEXT.value
MAX_CONFIG_BYTES = CONFIG_BYTES.value
MAX_HEADER_BYTES = HEADER_BYTES.value
MAX_INDEX_BYTES = INDEX_BYTES.value
MAX_TF_INDEX_BYTES = TF_INDEX_BYTES.value
MAX_TF_KEY_BYTES = TF_KEY_BYTES.value
MAX_TF_STATE_BYTES = TF_STATE_BYTES.value
MAX_PICKLE_BYTES = PICKLE_BYTES.value
MAX_PICKLE_OPS = PICKLE_OPS.value
MAX_PICKLE_OBJECTS = PICKLE_OBJECTS.value
MAX_PICKLE_MEMO = PICKLE_MEMO.value
MAX_DEFLATE_RATIO = DEFLATE_RATIO.value
MAX_WALK = WALK.value
MAX_DEPTH = DEPTH.value
MAX_NDIM = NDIM.value
MAX_DIM = DIM.value
MAX_LINE = LINE.value


def budget(limit: Limit, nbytes: int = 0) -> int:
    """The budget of ``limit`` for an input of ``nbytes`` bytes (the absolute cap when not relative).

    >>> budget(PICKLE_OBJECTS, 200_000) if not PICKLE_OBJECTS.overridden else 200_000
    200000
    """
    if not limit.per_byte:
        return limit.value
    return min(limit.value, limit.allowance + int(max(nbytes, 0) * limit.per_byte))


def number(v: object) -> str:
    """A value for a message: ``1,000,000``; an integer too long to print in full says its size instead."""
    if type(v) is int:
        if v.bit_length() > 200:
            return f"{'-' if v < 0 else ''}a number of about {int(v.bit_length() * 0.30103) + 1:,} digits"
        return f"{v:,}"
    return str(v)


def exceeded(where: str, limit: Limit, what: str, value: object = None, *, nbytes: int = 0,
             error: type[ParamscopeError] = FormatError) -> ParamscopeError:
    """The one-line error for ``what`` over ``limit``: which limit, the value, and how to raise it.

    ``where`` is the file (or option) at fault, already escaped for display; ``value`` the count found, or
    None when counting stopped at the budget.

    >>> str(exceeded("config.json", LAYERS, "num_hidden_layers", 10**12)) if not LAYERS.overridden else ''
    'config.json: num_hidden_layers is 1,000,000,000,000, over the limit MAX_LAYERS = 2,048 layers; if a real \
file needs more, set PARAMSCOPE_MAX_LAYERS=1000000000000'
    """
    cap = budget(limit, nbytes)
    if limit.per_byte:
        rule = (f"the limit MAX_{limit.name}: {limit.allowance:,} plus {limit.per_byte:g} per byte of its "
                f"{nbytes:,} bytes, at most {limit.value:,}")
    else:
        rule = f"the limit MAX_{limit.name} = {cap:,} {limit.unit}"
    if value is None:
        head = f"{where}: {what} more than {cap:,} {limit.unit} ({rule})"
        suggest = cap * 2 if cap < 1 << 60 else cap
    else:
        head = f"{where}: {what} is {number(value)}, over {rule}"
        suggest = value if type(value) is int and 0 < value.bit_length() <= 200 and value > cap else cap * 2
    return error(f"{head}; if a real file needs more, set {limit.env}={suggest}")
