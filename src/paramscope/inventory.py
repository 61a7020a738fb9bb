"""The one record that flows between stages: a tensor's name, shape, dtype, kind and what it is tied to.

Sources (a config's formula today, checkpoint readers next) produce an :class:`Inventory`;
classification and the component tree only read it. Counts, bytes and shares are derived, never stored.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Iterable, Mapping

from .symbolic import Poly


class Kind(StrEnum):
    PARAMETER = "parameter"
    BUFFER = "buffer"
    ALIAS = "alias"  # a tied duplicate: same storage as ``tied_to``, counted once
    OPTIMIZER_STATE = "optimizer_state"
    OTHER = "other"


# Bits per element by dtype name (torch spelling; safetensors/numpy names map onto these). Bits, not bytes,
# so that sub-byte types (F4: 4 bits, F6: 6) stay integer arithmetic: no float can overflow or round.
DTYPE_BITS: Mapping[str, int] = {
    "float64": 64, "float32": 32, "float16": 16, "bfloat16": 16, "float8_e4m3fn": 8, "float8_e5m2": 8,
    "int64": 64, "int32": 32, "int16": 16, "int8": 8, "uint8": 8, "bool": 8,
    "uint16": 16, "uint32": 32, "uint64": 64, "complex64": 64, "complex128": 128, "float8_e8m0fnu": 8,
    "float4_e2m1fn_x2": 4, "float6_e2m3": 6, "float6_e3m2": 6, "string": 0,
}
# Bytes per element, for readers that think in bytes (sub-byte types as fractions).
DTYPE_BYTES: Mapping[str, float] = {k: v / 8 for k, v in DTYPE_BITS.items()}


@dataclass(frozen=True, slots=True)  # slots: a checkpoint may hold 100,000 of them (DeepSeek-V3: 91,991)
class Tensor:
    """One named tensor. ``expr`` is the symbolic shape when the tensor comes from a formula."""

    name: str
    shape: tuple[int, ...]
    dtype: str = "float32"
    kind: Kind = Kind.PARAMETER
    tied_to: str | None = None
    expr: tuple[Poly, ...] | None = field(default=None, compare=False)
    trainable: bool | None = None  # known for a live module (requires_grad), not for files

    @property
    def numel(self) -> int:
        return math.prod(self.shape)

    @property
    def nbytes(self) -> int:
        """Exact bytes of the data, rounded up to a whole byte (an unknown dtype counts 4 bytes)."""
        return -(-self.numel * DTYPE_BITS.get(self.dtype, 32) // 8)

    @property
    def numel_expr(self) -> Poly | None:
        if self.expr is None:
            return None
        out = Poly.const(1)
        for dim in self.expr:
            out = out * dim
        return out


@dataclass(frozen=True)
class Inventory:
    """Every tensor of one model, in module order, plus where it came from."""

    tensors: tuple[Tensor, ...]
    source: str
    family: str
    model_class: str
    config: Mapping[str, Any] = field(default_factory=dict, compare=False)
    notes: tuple[str, ...] = ()
    overrides: Mapping[str, Any] = field(default_factory=dict, compare=False)  # what-if edits (--set)

    def of_kind(self, kind: Kind) -> list[Tensor]:
        return [t for t in self.tensors if t.kind == kind]

    @functools.cached_property
    def _by_kind_dtype(self) -> dict[tuple[Kind, str], tuple[int, int]]:
        """(elements, bytes) by kind and dtype, in order of first appearance: one pass over the tensors for
        every total (``numel``, ``nbytes``, ``dtypes``), whatever the number of tensors."""
        out: dict[tuple[Kind, str], tuple[int, int]] = {}
        prod = math.prod
        for t in self.tensors:
            key = (t.kind, t.dtype)
            n = prod(t.shape)  # t.numel, without a property call per tensor
            elements, nbytes = out.get(key, (0, 0))
            out[key] = (elements + n, nbytes - (-n * DTYPE_BITS.get(t.dtype, 32) // 8))  # as Tensor.nbytes
        return out

    def numel(self, kind: Kind = Kind.PARAMETER) -> int:
        return sum(n for (k, _), (n, _) in self._by_kind_dtype.items() if k == kind)

    def nbytes(self, kind: Kind = Kind.PARAMETER) -> int:
        return sum(b for (k, _), (_, b) in self._by_kind_dtype.items() if k == kind)

    def dtypes(self, kind: Kind = Kind.PARAMETER) -> dict[str, int]:
        """Element counts by dtype, e.g. ``{"float32": 109482240}``."""
        return {dtype: n for (k, dtype), (n, _) in self._by_kind_dtype.items() if k == kind}


def check_unique(tensors: Iterable[Tensor], source: str) -> None:
    from .errors import FormatError

    seen: set[str] = set()
    for t in tensors:
        if t.name in seen:
            raise FormatError(f"{source}: tensor name {t.name!r} appears twice; each name must be unique")
        seen.add(t.name)
