"""Source: safetensors files, single or sharded, read header-only.

Format (huggingface/safetensors docs): 8-byte little-endian header length N, N bytes of JSON
``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``, then the data,
offsets relative to its start. The header length is checked against the file size and a cap *before*
anything is allocated; only the header is read. Tied duplicates are not stored (``save_pretrained`` drops
them), so this reader never reports aliases; reconciliation with the formula names them.
"""

from __future__ import annotations

import json
import math
import os
import re
import struct
from pathlib import Path

from ..errors import FormatError
from ..inventory import Tensor

from ..limits import MAX_HEADER_BYTES, MAX_INDEX_BYTES  # the official reader's cap; see limits.py

# safetensors dtype -> (torch spelling, bytes per element; None for sub-byte types).
DTYPES: dict[str, tuple[str, float]] = {
    "F64": ("float64", 8), "F32": ("float32", 4), "F16": ("float16", 2), "BF16": ("bfloat16", 2),
    "F8_E4M3": ("float8_e4m3fn", 1), "F8_E5M2": ("float8_e5m2", 1), "F8_E8M0": ("float8_e8m0fnu", 1),
    "I64": ("int64", 8), "I32": ("int32", 4), "I16": ("int16", 2), "I8": ("int8", 1),
    "U64": ("uint64", 8), "U32": ("uint32", 4), "U16": ("uint16", 2), "U8": ("uint8", 1),
    "BOOL": ("bool", 1), "C64": ("complex64", 8), "F4": ("float4_e2m1fn_x2", 0.5), "F6_E2M3": ("float6_e2m3", 0.75),
    "F6_E3M2": ("float6_e3m2", 0.75),
}

MAGIC_HINT = b"{"


def looks_like(head: bytes, size: int) -> bool:
    """The first bytes of a file: a plausible header length, then the JSON object's ``{``."""
    if len(head) < 9:
        return False
    (n,) = struct.unpack("<Q", head[:8])
    return head[8:9] == MAGIC_HINT and 2 <= n <= size - 8


def read(path: str | os.PathLike[str]) -> tuple[list[Tensor], dict[str, str]]:
    """Tensors of one safetensors file in data order, and its ``__metadata__``."""
    p = str(path)
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            prefix = f.read(8)
            if len(prefix) < 8:
                raise FormatError(f"{p}: truncated ({size} bytes; a safetensors file starts with an 8-byte header "
                                  "length); the file is incomplete, download or save it again")
            (n,) = struct.unpack("<Q", prefix)
            if n > MAX_HEADER_BYTES:
                raise FormatError(f"{p}: header length {n:,} is over the {MAX_HEADER_BYTES:,}-byte cap; "
                                  "this is not a safetensors file or it is corrupt")
            if 8 + n > size:
                raise FormatError(f"{p}: header length {n:,} runs past the end of the file ({size:,} bytes); "
                                  "the file is truncated or not safetensors")
            raw = f.read(n)
    except OSError as e:
        raise FormatError(f"{p}: cannot read ({e.strerror}); check the path and its permissions") from e
    try:
        header = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise FormatError(f"{p}: header is not valid JSON ({e}); the file is corrupt or not safetensors") from e
    if not isinstance(header, dict):
        raise FormatError(f"{p}: header is a JSON {type(header).__name__}, not an object; the file is corrupt")
    data_size = size - 8 - n
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise FormatError(f"{p}: __metadata__ is not an object; the file is corrupt")
    tensors = _fast(header, data_size)
    if tensors is None:  # something is unusual: every entry checked again, and the first problem said
        tensors = _checked(p, header, data_size)
    return tensors, {str(k): str(v) for k, v in meta.items()}


def _fast(header: dict[str, object], data_size: int) -> list[Tensor] | None:
    """The tensors of a well-formed header in data order, in one pass; None at anything unusual (an
    invalid entry, offsets out of order or overlapping), for :func:`_checked` to say what.

    Offsets checked as they come: each tensor beginning at or after the end of the one before means the
    header is sorted by (begin, end) and nothing overlaps, which is what :func:`_checked` checks after
    sorting. Writers keep the header in data order; DeepSeek-V3's 163 headers list 91,991 tensors."""
    tensors: list[Tensor] = []
    append, prod, ceil = tensors.append, math.prod, math.ceil
    shapes: dict[tuple[int, ...], tuple[int, ...]] = {}  # one tuple per distinct shape: they repeat
    end_prev = 0
    for name, info in header.items():
        try:
            shape, (begin, end) = info["shape"], info["data_offsets"]  # type: ignore[index]
            torch_dtype, itemsize = DTYPES[info["dtype"]]  # type: ignore[index]
        except (TypeError, KeyError, ValueError):
            return None
        if type(shape) is not list or type(begin) is not int or type(end) is not int:
            return None
        if len(shape) == 2:  # most tensors: checked without a generator
            rows, cols = shape
            if type(rows) is not int or type(cols) is not int or not (0 <= rows < 2**53 and 0 <= cols < 2**53):
                return None
            numel = rows * cols
        elif all(type(d) is int and 0 <= d < 2**53 for d in shape):
            numel = prod(shape)
        else:
            return None
        if not (end_prev <= begin <= end <= data_size and end - begin == ceil(numel * itemsize)):
            return None
        end_prev = end
        t = tuple(shape)
        append(Tensor(name, shapes.setdefault(t, t), torch_dtype))
    return tensors


def _checked(p: str, header: dict[str, object], data_size: int) -> list[Tensor]:
    """Every entry checked and the tensors sorted by their offsets; raises at the first problem."""
    entries = [_entry(p, name, info, data_size) for name, info in header.items()]
    entries.sort(key=_offsets)
    end_prev, name_prev = 0, ""
    for begin, end, t in entries:
        if begin < end_prev:
            raise FormatError(f"{p}: tensor {t.name!r} (bytes {begin}-{end}) overlaps {name_prev!r} "
                              f"(ending at {end_prev}); the file is corrupt")
        end_prev, name_prev = max(end_prev, end), t.name
    return [t for _, _, t in entries]


def _offsets(entry: tuple[int, int, Tensor]) -> tuple[int, int]:
    return entry[0], entry[1]


def _entry(p: str, name: str, info: object, data_size: int) -> tuple[int, int, Tensor]:
    if not isinstance(info, dict):
        raise FormatError(f"{p}: entry {name!r} is not an object; the file is corrupt")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if not isinstance(dtype, str) or dtype not in DTYPES:
        raise FormatError(f"{p}: tensor {name!r} has unknown dtype {dtype!r}; known: {', '.join(DTYPES)}")
    if not isinstance(shape, list) or not all(type(d) is int and 0 <= d < 2**53 for d in shape):
        raise FormatError(f"{p}: tensor {name!r} has shape {shape!r}; a shape is a list of non-negative integers")
    if (not isinstance(offsets, list) or len(offsets) != 2 or not all(type(o) is int for o in offsets)
            or not 0 <= offsets[0] <= offsets[1]):
        raise FormatError(f"{p}: tensor {name!r} has data_offsets {offsets!r}; expected [begin, end] with "
                          "0 <= begin <= end")
    begin, end = offsets
    if end > data_size:
        raise FormatError(f"{p}: tensor {name!r} ends at byte {end:,} of the data, past its end ({data_size:,}); "
                          "the file is truncated or corrupt")
    torch_dtype, itemsize = DTYPES[dtype]
    expected = math.ceil(math.prod(shape) * itemsize)
    if end - begin != expected:
        raise FormatError(f"{p}: tensor {name!r} has {end - begin:,} bytes for shape {shape} of {dtype} "
                          f"({expected:,} expected); the file is corrupt")
    return begin, end, Tensor(name=name, shape=tuple(shape), dtype=torch_dtype)


def _natural(name: str) -> list[object]:
    """Sort key: numbers by value (``shard-2`` before ``shard-10``), the rest as text."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", name)]


def load_index(path: str | os.PathLike[str]) -> dict[str, str]:
    """The ``weight_map`` {tensor name: shard file} of a ``*.index.json``, checked; with its ``metadata``."""
    p = Path(path)
    try:
        if p.stat().st_size > MAX_INDEX_BYTES:
            raise FormatError(f"{p}: too large for a shard index (limit {MAX_INDEX_BYTES:,} bytes)")
        index = json.loads(p.read_bytes())
    except OSError as e:
        raise FormatError(f"{p}: cannot read ({e.strerror}); check the path") from e
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise FormatError(f"{p}: not valid JSON ({e}); the index is corrupt") from e
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise FormatError(f"{p}: no weight_map of tensor name -> shard file; this is not a shard index")
    return index


def read_index(
    path: str | os.PathLike[str], reader, index: dict[str, object] | None = None
) -> tuple[list[Tensor], dict[str, object], list[str]]:
    """A sharded checkpoint: ``*.index.json`` with ``weight_map`` {name: shard}; each shard read by ``reader``.

    Every name the index lists must be in its shard, and every shard must exist. ``index`` is the index
    already parsed by :func:`load_index`, if the caller has it. One pass over the names, whatever the number
    of shards: the names are grouped by shard once (DeepSeek-V3 lists 91,991 names in 163 shards).
    """
    p = Path(path)
    if index is None:
        index = load_index(p)
    weight_map: dict[str, str] = index["weight_map"]  # type: ignore[assignment]
    listed: dict[str, list[str]] = {}
    for name, shard in weight_map.items():
        names = listed.get(shard)
        if names is None:
            listed[shard] = [name]
        else:
            names.append(name)
    tensors: list[Tensor] = []
    notes: list[str] = []
    # Shards in file order (model-00001-of-00163, model-00002-...), which is the order of the model's modules,
    # not in the order the weight_map first names them: Hugging Face sorts it by tensor name, which puts
    # lm_head's shard first and reads a layer split over two shards back to front.
    for shard in sorted(listed, key=_natural):
        names = listed[shard]
        shard_path = p.parent / shard
        if os.sep in shard or "/" in shard or shard in ("", ".", ".."):
            raise FormatError(f"{p}: shard name {shard!r} is not a file name in the index's folder")
        if not shard_path.is_file():
            raise FormatError(f"{p}: missing shard {shard}; copy every shard the index lists into {p.parent}")
        found = reader(shard_path)
        held = {t.name for t in found}
        if not held.issuperset(names):
            absent = [n for n in names if n not in held]
            raise FormatError(f"{p}: {len(absent)} tensor(s) the index puts in {shard} are not there "
                              f"(first: {absent[0]!r}); the index and shards do not belong together")
        if len(held) > len(names):  # every listed name is held, so the rest are extra
            extra = held.difference(names)
            notes.append(f"{shard} holds {len(extra)} tensor(s) the index does not list (first: {sorted(extra)[0]!r})")
        tensors += found
    meta = index.get("metadata") if isinstance(index.get("metadata"), dict) else {}
    return tensors, {"shards": len(listed), **meta}, notes
