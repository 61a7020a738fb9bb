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
    entries: list[tuple[int, int, Tensor]] = []
    for name, info in header.items():
        entries.append(_entry(p, name, info, data_size))
    entries.sort(key=lambda e: (e[0], e[1]))
    end_prev, name_prev = 0, ""
    for begin, end, t in entries:
        if begin < end_prev:
            raise FormatError(f"{p}: tensor {t.name!r} (bytes {begin}-{end}) overlaps {name_prev!r} "
                              f"(ending at {end_prev}); the file is corrupt")
        end_prev, name_prev = max(end_prev, end), t.name
    return [t for _, _, t in entries], {str(k): str(v) for k, v in meta.items()}


def _entry(p: str, name: str, info: object, data_size: int) -> tuple[int, int, Tensor]:
    if not isinstance(info, dict):
        raise FormatError(f"{p}: entry {name!r} is not an object; the file is corrupt")
    dtype, shape, offsets = info.get("dtype"), info.get("shape"), info.get("data_offsets")
    if dtype not in DTYPES:
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


def read_index(path: str | os.PathLike[str], reader) -> tuple[list[Tensor], dict[str, object], list[str]]:
    """A sharded checkpoint: ``*.index.json`` with ``weight_map`` {name: shard}; each shard read by ``reader``.

    Every name the index lists must be in its shard, and every shard must exist.
    """
    p = Path(path)
    try:
        if p.stat().st_size > MAX_INDEX_BYTES:
            raise FormatError(f"{p}: too large for a shard index (limit {MAX_INDEX_BYTES:,} bytes)")
        index = json.loads(p.read_text(encoding="utf-8"))
    except OSError as e:
        raise FormatError(f"{p}: cannot read ({e.strerror}); check the path") from e
    except (UnicodeDecodeError, json.JSONDecodeError, RecursionError) as e:
        raise FormatError(f"{p}: not valid JSON ({e}); the index is corrupt") from e
    weight_map = index.get("weight_map") if isinstance(index, dict) else None
    if not isinstance(weight_map, dict) or not all(isinstance(v, str) for v in weight_map.values()):
        raise FormatError(f"{p}: no weight_map of tensor name -> shard file; this is not a shard index")
    shards = list(dict.fromkeys(weight_map.values()))
    tensors: list[Tensor] = []
    notes: list[str] = []
    for shard in shards:
        shard_path = p.parent / shard
        if os.sep in shard or "/" in shard or shard in ("", ".", ".."):
            raise FormatError(f"{p}: shard name {shard!r} is not a file name in the index's folder")
        if not shard_path.is_file():
            raise FormatError(f"{p}: missing shard {shard}; copy every shard the index lists into {p.parent}")
        found = reader(shard_path)
        names = {t.name for t in found}
        listed = [n for n, s in weight_map.items() if s == shard]
        absent = [n for n in listed if n not in names]
        if absent:
            raise FormatError(f"{p}: {len(absent)} tensor(s) the index puts in {shard} are not there "
                              f"(first: {absent[0]!r}); the index and shards do not belong together")
        extra = names - set(listed)
        if extra:
            notes.append(f"{shard} holds {len(extra)} tensor(s) the index does not list (first: {sorted(extra)[0]!r})")
        tensors += found
    meta = index.get("metadata") if isinstance(index.get("metadata"), dict) else {}
    return tensors, {"shards": len(shards), **meta}, notes
