"""Source: TensorFlow checkpoints (the V2 "tensor bundle" format), read header-only, without TensorFlow.

A checkpoint ``<prefix>`` is ``<prefix>.index`` plus data shards ``<prefix>.data-00000-of-00001`` ...
Only the ``.index`` is read; the shards are checked with ``os.stat`` (they exist, and every entry's
``offset + size`` fits in its shard), never opened.

Format facts this module relies on (TensorFlow's ``tensor_bundle`` and ``lib/io/table``; checked
byte by byte against checkpoints written by tensorflow-cpu 2.21):

* The ``.index`` is a LevelDB-style table. Its last 48 bytes are the footer: two BlockHandles
  (metaindex, index; each a varint64 offset and a varint64 size) padded with zeros to 40 bytes, then the
  magic ``0xdb4775248b80fb57`` as a little-endian uint64.
* Every block is followed by a 5-byte trailer: a compression type (0 = none; TensorFlow never compresses
  bundles) and the *masked* CRC-32C of the block plus that type byte; TensorFlow verifies it, so do we.
* A block is a run of prefix-compressed entries (varint32 ``shared``, ``non_shared``, ``value_length``,
  then ``non_shared`` key bytes and the value), then the restart array (uint32 each) and its uint32
  count. The index block maps a separator key to the BlockHandle of each data block, in key order.
* The first key is empty; its value is a ``BundleHeaderProto`` (num_shards=1, endianness=2, version=3).
  Every other value is a ``BundleEntryProto`` (dtype=1, shape=2, shard_id=3, offset=4, size=5,
  crc32c=6, slices=7). Shard files are named ``<prefix>.data-%05d-of-%05d``.
* A partitioned variable has one entry at its full shape whose ``slices`` list its pieces; each piece
  is its own entry under the key ``EncodeTensorNameSlice(name, slice)`` (OrderedCode, starting with a
  zero byte). ``tf.train.list_variables`` hides exactly those keys, and so does :func:`read`.

Everything read from the file is bounded before use (varint lengths, block handles, restart counts, key
growth, shape ranks and sizes), and every problem raises :class:`~paramscope.errors.FormatError`.
"""

from __future__ import annotations

import glob
import os
import re
import stat
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator

from .. import limits
from ..errors import FormatError
from ..inventory import Kind, Tensor
from ..limits import MAX_REGEX_TEXT, MAX_TENSORS
from ..units import safe
from .files import open_regular

MAGIC = 0xDB4775248B80FB57
FOOTER_SIZE = 48
BLOCK_TRAILER_SIZE = 5
# Caps on what a file can make us read or rebuild are in paramscope.limits (TF_INDEX_BYTES, TF_KEY_BYTES,
# TF_STATE_BYTES, TENSORS, REGEX_TEXT); MAX_RANK and MAX_ELEMENTS are facts of the format.
MAX_INDEX_BYTES = limits.MAX_TF_INDEX_BYTES
MAX_CHECKPOINT_FILE_BYTES = limits.MAX_TF_STATE_BYTES
MAX_RANK = 254  # TensorShape::MaxDimensions()
MAX_ELEMENTS = 2**62
_FOLDER_FIX = "pass the checkpoint prefix, its .index file or its folder"
OBJECT_GRAPH_KEY = "_CHECKPOINTABLE_OBJECT_GRAPH"
TF2_VALUE_SUFFIX = "/.ATTRIBUTES/VARIABLE_VALUE"

# tensorflow/core/framework/types.proto DataType -> torch spelling (TF's own name where torch has none).
DTYPES: dict[int, str] = {
    1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string",
    8: "complex64", 9: "int64", 10: "bool", 11: "qint8", 12: "quint8", 13: "qint32", 14: "bfloat16",
    15: "qint16", 16: "quint16", 17: "uint16", 18: "complex128", 19: "float16", 20: "resource",
    21: "variant", 22: "uint32", 23: "uint64", 24: "float8_e5m2", 25: "float8_e4m3fn",
    26: "float8_e4m3fnuz", 27: "float8_e4m3b11fnuz", 28: "float8_e5m2fnuz", 29: "int4", 30: "uint4",
    31: "int2", 32: "uint2",
}
# The *_REF enums (101..132) name the same element types; a checkpoint should never store them.
DTYPES.update({n + 100: name for n, name in list(DTYPES.items())})
INTEGER_DTYPES = frozenset({"int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"})

# TF1 optimizer variables: slot names of tf.compat.v1.train optimizers and google-research/bert's
# AdamWeightDecayOptimizer (``adam_m``/``adam_v``), as the last name component; and whole names.
TF1_OPTIMIZER_SLOTS = frozenset({
    "adam_m", "adam_v", "Adam", "Adam_1", "Momentum", "Adagrad", "AdagradDA", "AdagradDA_1", "Adadelta",
    "Adadelta_1", "RMSProp", "RMSProp_1", "Ftrl", "Ftrl_1",
})
TF1_OPTIMIZER_NAMES = frozenset({"global_step", "beta1_power", "beta2_power"})


def _dtype_name(enum: int) -> str:
    return DTYPES.get(enum, f"tf_dtype_{enum}")


# --------------------------------------------------------------------------------------------------
# Locating the files


def _resolve(path: str | os.PathLike[str]) -> tuple[str, str]:
    """(prefix, index path) for a prefix, an ``.index``, a ``.data-*`` shard or a folder."""
    text = os.fspath(path)
    p = Path(text)
    if p.is_dir():
        return _resolve_folder(p)
    if text.endswith(".index"):
        prefix = text[: -len(".index")]
    else:  # <prefix>.data-00000-of-00001; the regular expression only sees the short tail
        head, sep, tail = text.rpartition(".data-")
        shard = sep and head and len(tail) <= 64 and re.fullmatch(r"\d{5,}-of-\d{5,}", tail)
        prefix = head if shard else text
    index = prefix + ".index"
    if not os.path.isfile(index):
        if os.path.lexists(index) and not os.path.isdir(index):
            raise FormatError(f"{safe(index)}: not a regular file (a named pipe, device, socket or broken link); "
                              "pass a TensorFlow checkpoint's prefix, its .index file or its folder")
        if any(p.parent.glob(glob.escape(Path(prefix).name) + ".data-*")):
            raise FormatError(f"{safe(text)}: missing index {safe(Path(index).name)}; copy every file of the "
                              "checkpoint")
        raise FormatError(f"{safe(text)}: no TensorFlow checkpoint here ({safe(Path(index).name)} does not exist); "
                          "pass the checkpoint prefix (e.g. model.ckpt), its .index file or its folder")
    return prefix, index


def _resolve_folder(folder: Path) -> tuple[str, str]:
    state = folder / "checkpoint"
    if state.exists() and not state.is_dir():  # a named pipe too: refused, never opened blocking
        target = _checkpoint_file_target(state)
        candidates = [target if os.path.isabs(target) else str(folder / target)]
        if os.path.isabs(target):  # written on another machine: look next to the checkpoint file too
            candidates.append(str(folder / os.path.basename(target)))
        for prefix in candidates:
            if os.path.isfile(prefix + ".index"):
                return prefix, prefix + ".index"
        raise FormatError(f"{safe(str(state))}: names checkpoint {safe(repr(target))} but "
                          f"{safe(Path(candidates[0]).name)}.index does not exist; copy every file of the "
                          "checkpoint, or pass its prefix directly")
    indexes = sorted(q.name for q in folder.glob("*.index") if q.is_file())
    if len(indexes) == 1:
        index = str(folder / indexes[0])
        return index[: -len(".index")], index
    if not indexes:
        raise FormatError(f"{safe(str(folder))}: no 'checkpoint' file and no *.index file in this folder; "
                          "pass a TensorFlow checkpoint's prefix, its .index file or its folder")
    shown = ", ".join(safe(name) for name in indexes[:5]) + (", ..." if len(indexes) > 5 else "")
    raise FormatError(f"{safe(str(folder))}: no 'checkpoint' file and {len(indexes)} *.index files "
                      f"({shown}); pass the prefix or .index of the one to read")


# One line of a text-format CheckpointState proto: ``model_checkpoint_path: "<C-escaped string>"``. Matched
# line by line (a multiline search over a file of 200 kB of newlines took 27 s, trying every line start
# against every following whitespace); each line is at most MAX_REGEX_TEXT characters.
_STATE_LINE = re.compile(rb'[ \t\r\f\v]*model_checkpoint_path[ \t\r\f\v]*:[ \t\r\f\v]*"((?:[^"\\]|\\.)*)"')


def _checkpoint_file_target(state: Path) -> str:
    """``model_checkpoint_path`` of a ``checkpoint`` file (a text-format CheckpointState proto)."""
    shown = safe(str(state))
    try:
        with open_regular(state, shown, _FOLDER_FIX) as f:
            raw = f.read(MAX_CHECKPOINT_FILE_BYTES + 1)
    except OSError as e:
        raise FormatError(f"{shown}: cannot read ({e.strerror}); check the path and its permissions") from e
    if len(raw) > MAX_CHECKPOINT_FILE_BYTES:
        raise FormatError(f"{shown}: larger than {MAX_CHECKPOINT_FILE_BYTES} bytes, so not a TensorFlow "
                          "'checkpoint' file; pass the checkpoint prefix or its .index file")
    match = None
    for line in raw.split(b"\n"):
        if b"model_checkpoint_path" not in line or line.lstrip()[:1] == b"#":
            continue
        if len(line) > MAX_REGEX_TEXT:
            raise limits.exceeded(shown, limits.REGEX_TEXT, "a model_checkpoint_path line's length", len(line))
        match = _STATE_LINE.match(line)
        if match is not None:
            break
    if match is None:
        raise FormatError(f"{shown}: no model_checkpoint_path line; pass the checkpoint prefix or its .index file")
    try:
        target = _c_unescape(match.group(1)).decode("utf-8")
    except UnicodeDecodeError as e:
        raise FormatError(f"{shown}: model_checkpoint_path is not UTF-8; pass the checkpoint prefix "
                          "or its .index file") from e
    if not target or "\x00" in target:
        raise FormatError(f"{shown}: model_checkpoint_path {safe(repr(target))} is not a path; pass the checkpoint "
                          "prefix or its .index file")
    return target


_C_ESCAPES = {b"n": b"\n", b"t": b"\t", b"r": b"\r", b'"': b'"', b"'": b"'", b"\\": b"\\", b"a": b"\a",
              b"b": b"\b", b"f": b"\f", b"v": b"\v", b"?": b"?"}


def _c_unescape(raw: bytes) -> bytes:
    """Undo the C escapes text-format protos use in strings (``\\"``, ``\\\\``, ``\\NNN`` octal, ``\\xHH``)."""
    def one(m: re.Match[bytes]) -> bytes:
        body = m.group(1)
        if re.fullmatch(rb"[0-7]+", body):
            return bytes([int(body, 8) & 0xFF])
        if body[:1] == b"x":
            return bytes([int(body[1:], 16)])
        return _C_ESCAPES.get(body, body)
    return re.sub(rb"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)", one, raw, flags=re.DOTALL)


def looks_like(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` names a TensorFlow checkpoint (prefix, ``.index``, folder) whose index ends in the magic."""
    try:
        _, index = _resolve(path)
        with open_regular(index, "", "") as f:
            size = os.fstat(f.fileno()).st_size
            if size < FOOTER_SIZE:
                return False
            f.seek(size - 8)
            return f.read(8) == struct.pack("<Q", MAGIC)
    except Exception:  # never raises
        return False


# --------------------------------------------------------------------------------------------------
# CRC-32C (Castagnoli), as LevelDB masks it


def _crc32c_table() -> tuple[int, ...]:
    table = []
    for n in range(256):
        c = n
        for _ in range(8):
            c = (c >> 1) ^ 0x82F63B78 if c & 1 else c >> 1
        table.append(c)
    return tuple(table)


_CRC_TABLE = _crc32c_table()


def crc32c(data: bytes) -> int:
    """CRC-32C of ``data`` (standard check value: ``crc32c(b"123456789") == 0xE3069283``)."""
    crc = 0xFFFFFFFF
    table = _CRC_TABLE
    for byte in data:
        crc = table[(crc ^ byte) & 0xFF] ^ (crc >> 8)
    return crc ^ 0xFFFFFFFF


def _unmask(masked: int) -> int:
    rot = (masked - 0xA282EAD8) & 0xFFFFFFFF
    return ((rot >> 17) | (rot << 15)) & 0xFFFFFFFF


# --------------------------------------------------------------------------------------------------
# The table (SSTable) reader


class _Corrupt(ValueError):
    """A low-level decoding problem; the caller turns it into a FormatError naming the file."""


def _varint(buf: bytes, pos: int, end: int, bits: int = 64) -> tuple[int, int]:
    """A little-endian base-128 varint in ``buf[pos:end]`` -> (value, next position).

    At most ``ceil(bits / 7)`` bytes (10 for varint64, 5 for varint32) and the value must fit in ``bits``.
    """
    if pos < end and buf[pos] < 0x80:  # the common one-byte case
        return buf[pos], pos + 1
    result = 0
    for i in range((bits + 6) // 7):
        if pos >= end:
            raise _Corrupt("a varint runs past the end of its field")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << (7 * i)
        if not byte & 0x80:
            if result >> bits:
                raise _Corrupt(f"a varint overflows {bits} bits")
            return result, pos
    raise _Corrupt(f"a varint is longer than {(bits + 6) // 7} bytes")


@dataclass(frozen=True)
class _Handle:
    offset: int
    size: int


def _decode_handle(buf: bytes, pos: int, end: int) -> tuple[_Handle, int]:
    offset, pos = _varint(buf, pos, end)
    size, pos = _varint(buf, pos, end)
    return _Handle(offset, size), pos


class _Table:
    """Iterate the (key, value) pairs of an in-memory LevelDB-style table, checking everything."""

    def __init__(self, data: bytes, where: str) -> None:
        self.data = data
        self.where = where  # the .index path, for messages
        n = len(data)
        if n < FOOTER_SIZE:
            raise FormatError(f"{where}: truncated ({n} bytes, a table needs at least {FOOTER_SIZE}); "
                              "copy the complete .index file")
        (magic,) = struct.unpack_from("<Q", data, n - 8)
        if magic != MAGIC:
            raise FormatError(f"{where}: not a TensorFlow checkpoint index (bad magic 0x{magic:016x}); "
                              "pass the .index of a TF checkpoint")
        footer = n - FOOTER_SIZE
        try:
            _meta, pos = _decode_handle(data, footer, footer + 40)
            self.index_handle, _ = _decode_handle(data, pos, footer + 40)
        except _Corrupt as e:
            raise FormatError(f"{where}: the footer's block handles are unreadable ({e}); "
                              "the index is corrupt, copy it again") from e
        self.blocks_end = footer  # blocks (and their trailers) lie before the footer
        # Every key rebuilt (index and data blocks) draws on this, so work and memory stay linear.
        self.key_budget = limits.budget(limits.TF_KEY_BYTES, n)

    def _block(self, handle: _Handle, what: str) -> bytes:
        """The contents of one block, after checking its place, compression type and checksum."""
        where, data = self.where, self.data
        if handle.offset + handle.size + BLOCK_TRAILER_SIZE > self.blocks_end:
            raise FormatError(f"{where}: {what} block (offset {handle.offset}, size {handle.size}) lies outside the "
                              f"file ({len(data)} bytes); the index is truncated or corrupt, copy it again")
        start, end = handle.offset, handle.offset + handle.size
        kind = data[end]
        if kind != 0:
            raise FormatError(f"{where}: block at offset {start} is compressed (type {kind}), which this reader "
                              "does not support; TensorFlow writes checkpoint indexes uncompressed, so re-save "
                              "the checkpoint with TensorFlow")
        (stored,) = struct.unpack_from("<I", data, end + 1)
        actual = crc32c(data[start:end + 1])
        if _unmask(stored) != actual:
            raise FormatError(f"{where}: block at offset {start} fails its checksum (stored 0x{_unmask(stored):08x}, "
                              f"computed 0x{actual:08x}); the index is corrupt, copy it again")
        return data[start:end]

    def _entries(self, block: bytes, offset: int) -> Iterator[tuple[bytes, bytes]]:
        """Decode one block's prefix-compressed entries in order."""
        try:
            size = len(block)
            if size < 4:
                raise _Corrupt(f"{size} bytes cannot hold the restart count")
            (restarts,) = struct.unpack_from("<I", block, size - 4)
            if restarts > (size - 4) // 4:
                raise _Corrupt(f"restart count {restarts} does not fit in a {size}-byte block")
            limit = size - 4 - 4 * restarts  # entries end where the restart array begins
            for i in range(restarts):
                (point,) = struct.unpack_from("<I", block, limit + 4 * i)
                if point >= max(limit, 1):
                    raise _Corrupt(f"restart point {point} lies beyond the entries ({limit} bytes)")
            pos, key = 0, b""
            while pos < limit:
                shared, pos = _varint(block, pos, limit, 32)
                unshared, pos = _varint(block, pos, limit, 32)
                value_len, pos = _varint(block, pos, limit, 32)
                if shared > len(key):
                    raise _Corrupt(f"an entry shares {shared} bytes with a {len(key)}-byte previous key")
                if unshared + value_len > limit - pos:
                    raise _Corrupt("an entry runs past the end of its block")
                self.key_budget -= shared + unshared
                if self.key_budget < 0:
                    raise limits.exceeded(self.where, limits.TF_KEY_BYTES, "the keys rebuilt from the index come to",
                                          nbytes=len(self.data))
                key = key[:shared] + block[pos:pos + unshared]
                pos += unshared
                yield key, block[pos:pos + value_len]
                pos += value_len
        except _Corrupt as e:
            raise FormatError(f"{self.where}: block at offset {offset} is malformed ({e}); "
                              "the index is corrupt, copy it again") from e

    def items(self) -> Iterator[tuple[bytes, bytes]]:
        """Every (key, value) of every data block, checked to be in strictly increasing key order."""
        index_block = self._block(self.index_handle, "index")
        previous: bytes | None = None
        next_free = 0  # data blocks are consecutive and never overlap; so we read each byte once
        for _separator, value in self._entries(index_block, self.index_handle.offset):
            try:
                handle, end = _decode_handle(value, 0, len(value))
            except _Corrupt as e:
                raise FormatError(f"{self.where}: the index block holds an unreadable block handle ({e}); "
                                  "the index is corrupt, copy it again") from e
            if handle.offset < next_free:
                raise FormatError(f"{self.where}: data block at offset {handle.offset} overlaps the previous one; "
                                  "the index is corrupt, copy it again")
            block = self._block(handle, "data")
            next_free = handle.offset + handle.size + BLOCK_TRAILER_SIZE
            for key, entry in self._entries(block, handle.offset):
                if previous is not None and key <= previous:
                    raise FormatError(f"{self.where}: key {_show(key)} is out of order (after {_show(previous)}); "
                                      "the index is corrupt, copy it again")
                previous = key
                yield key, entry


def _show(key: bytes) -> str:
    text = key.decode("utf-8", "backslashreplace")
    return repr(text if len(text) <= 80 else text[:77] + "...")


# --------------------------------------------------------------------------------------------------
# A small protobuf decoder and the three messages we need


def _fields(buf: bytes) -> Iterator[tuple[int, int, int | bytes]]:
    """(field number, wire type, value) of a serialized message; values are ints or bytes.

    Wire types: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32. Groups (3, 4) are not used by
    these proto3 messages and are rejected, as are wire types 6 and 7 and field number 0.
    """
    pos, end = 0, len(buf)
    while pos < end:
        tag, pos = _varint(buf, pos, end)
        number, wire = tag >> 3, tag & 7
        if number == 0 or number >= 1 << 29:
            raise _Corrupt(f"field number {number} is invalid")
        if wire == 0:
            value, pos = _varint(buf, pos, end)
        elif wire == 1 or wire == 5:
            width = 8 if wire == 1 else 4
            if end - pos < width:
                raise _Corrupt(f"field {number} runs past the end of its message")
            value = int.from_bytes(buf[pos:pos + width], "little")
            pos += width
        elif wire == 2:
            length, pos = _varint(buf, pos, end)
            if length > end - pos:
                raise _Corrupt(f"field {number} claims {length} bytes but only {end - pos} remain")
            value = buf[pos:pos + length]
            pos += length
        else:
            raise _Corrupt(f"field {number} has unsupported wire type {wire}")
        yield number, wire, value


def _int64(v: int) -> int:
    return v - (1 << 64) if v >= 1 << 63 else v


def _int32(v: int) -> int:
    v &= 0xFFFFFFFF  # protobuf truncates int32 varints to their low 32 bits
    return v - (1 << 32) if v >= 1 << 31 else v


@dataclass
class _Entry:
    """BundleEntryProto: where one tensor lives and what it is (unknown fields skipped)."""

    dtype: int = 0
    shape: tuple[int, ...] = ()
    shard_id: int = 0
    offset: int = 0
    size: int = 0
    slices: list[tuple[tuple[int, int], ...]] = field(default_factory=list)  # (start, length|-1) per dim


def _parse_header(buf: bytes) -> int:
    """BundleHeaderProto -> num_shards (field 1); endianness (2) and version (3) are not needed here."""
    num_shards = 0
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 0:
            num_shards = _int32(value)  # type: ignore[arg-type]
    return num_shards


def _parse_shape(buf: bytes) -> tuple[int, ...]:
    """TensorShapeProto: dim=2 (Dim: size=1, name=2), unknown_rank=3. A checkpoint's shape is fully known."""
    dims: list[int] = []
    for number, wire, value in _fields(buf):
        if number == 2 and wire == 2:
            if len(dims) == MAX_RANK:
                raise _Corrupt(f"the shape has more than {MAX_RANK} dimensions")
            size = 0
            for n2, w2, v2 in _fields(value):  # type: ignore[arg-type]
                if n2 == 1 and w2 == 0:
                    size = _int64(v2)  # type: ignore[arg-type]
            if size < 0:
                raise _Corrupt(f"dimension {len(dims)} is {size}")
            dims.append(size)
        elif number == 3 and wire == 0 and value:
            raise _Corrupt("the shape has unknown rank")
    elements = 1
    for d in dims:
        elements *= d
        if elements > MAX_ELEMENTS:
            raise _Corrupt(f"the shape {dims} has more than 2**62 elements")
    return tuple(dims)


def _parse_slice(buf: bytes) -> tuple[tuple[int, int], ...]:
    """TensorSliceProto: extent=1 (Extent: start=1, length=2; no length means the whole dimension, -1)."""
    extents = []
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 2:
            if len(extents) == MAX_RANK:
                raise _Corrupt(f"a slice has more than {MAX_RANK} dimensions")
            start, length = 0, -1
            for n2, w2, v2 in _fields(value):  # type: ignore[arg-type]
                if n2 == 1 and w2 == 0:
                    start = _int64(v2)  # type: ignore[arg-type]
                elif n2 == 2 and w2 == 0:
                    length = _int64(v2)  # type: ignore[arg-type]
            extents.append((start, length))
    return tuple(extents)


def _parse_entry(buf: bytes) -> _Entry:
    """BundleEntryProto: dtype=1, shape=2, shard_id=3, offset=4, size=5, crc32c=6 (fixed32), slices=7."""
    entry = _Entry()
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 0:
            entry.dtype = _int32(value)  # type: ignore[arg-type]
        elif number == 2 and wire == 2:
            entry.shape = _parse_shape(value)  # type: ignore[arg-type]
        elif number == 3 and wire == 0:
            entry.shard_id = _int32(value)  # type: ignore[arg-type]
        elif number == 4 and wire == 0:
            entry.offset = _int64(value)  # type: ignore[arg-type]
        elif number == 5 and wire == 0:
            entry.size = _int64(value)  # type: ignore[arg-type]
        elif number == 7 and wire == 2:
            entry.slices.append(_parse_slice(value))  # type: ignore[arg-type]
    return entry


# --------------------------------------------------------------------------------------------------
# Slice keys: tensorflow/core/util/saved_tensor_slice_util EncodeTensorNameSlice, via OrderedCode

_HEADER_BITS = ((0, 0), (0x80, 0), (0xC0, 0), (0xE0, 0), (0xF0, 0), (0xF8, 0), (0xFC, 0), (0xFE, 0), (0xFF, 0),
                (0xFF, 0x80), (0xFF, 0xC0))


def _ordered_num(n: int) -> bytes:
    """OrderedCode::WriteNumIncreasing: a length byte, then the big-endian bytes (none for 0)."""
    raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
    return bytes([len(raw)]) + raw


def _ordered_string(s: bytes) -> bytes:
    """OrderedCode::WriteString: 0x00 -> 00 ff, 0xff -> ff 00, then the terminator 00 01."""
    return re.sub(rb"[\x00\xff]", lambda m: b"\x00\xff" if m.group() == b"\x00" else b"\xff\x00", s) + b"\x00\x01"


def _ordered_signed(v: int) -> bytes:
    """OrderedCode::WriteSignedNumIncreasing: 1..10 bytes whose leading bits give the length."""
    x = ~v if v < 0 else v
    length = x.bit_length() // 7 + 1
    raw = bytearray(v.to_bytes(10, "big", signed=True)[10 - length:])
    raw[0] ^= _HEADER_BITS[length][0]
    if length > 1:
        raw[1] ^= _HEADER_BITS[length][1]
    return bytes(raw)


def slice_key(name: bytes, extents: tuple[tuple[int, int], ...]) -> bytes:
    """The key TensorFlow stores one slice of a partitioned variable under."""
    parts = [_ordered_num(0), _ordered_string(name), _ordered_num(len(extents))]
    for start, length in extents:
        parts += [_ordered_signed(start), _ordered_signed(length)]
    return b"".join(parts)


# --------------------------------------------------------------------------------------------------
# Kinds


def _kinds(entries: dict[str, tuple[str, tuple[int, ...]]]) -> dict[str, Kind]:
    """Parameter, optimizer state or other, from TF1 names or TF2 object paths.

    TF2 names are object paths ending in ``/.ATTRIBUTES/VARIABLE_VALUE``. Optimizer variables are slots
    (``/.OPTIMIZER_SLOT/``), anything under an object named ``optimizer``, and anything under an object
    that holds an integer scalar ``_iterations`` (Keras 3, tf_keras) or ``iter`` (tf_keras OptimizerV2),
    whatever the attribute is called. Integer scalars at the root (``save_counter``, ``step``) are
    counters (other). TF1 optimizer variables are known slot names and ``global_step``.
    """
    optimizer_roots: set[str] = set()  # object paths ending in "/"
    for name, (dtype, shape) in entries.items():
        for marker in ("_iterations", "iter"):
            if name.endswith(f"{marker}{TF2_VALUE_SUFFIX}") and dtype in INTEGER_DTYPES and shape == ():
                root = name[: -len(marker + TF2_VALUE_SUFFIX)]
                if root.endswith("/"):  # a nested object; a root-level counter is handled below
                    optimizer_roots.add(root)
    kinds = {}
    for name, (dtype, shape) in entries.items():
        tf2 = name.endswith(TF2_VALUE_SUFFIX) or "/.OPTIMIZER_SLOT/" in name
        path = name[: -len(TF2_VALUE_SUFFIX)] if name.endswith(TF2_VALUE_SUFFIX) else name
        if dtype == "string" or name == OBJECT_GRAPH_KEY:
            kind = Kind.OTHER
        elif tf2 and ("/.OPTIMIZER_SLOT/" in name or "optimizer" in path.split("/")
                      or (optimizer_roots and _under_any(path, optimizer_roots))):
            kind = Kind.OPTIMIZER_STATE
        elif tf2 and "/" not in path and dtype in INTEGER_DTYPES and shape == ():
            kind = Kind.OTHER  # save_counter, a user's step counter
        elif not tf2 and (name in TF1_OPTIMIZER_NAMES or name.rsplit("/", 1)[-1] in TF1_OPTIMIZER_SLOTS):
            kind = Kind.OPTIMIZER_STATE
        else:
            kind = Kind.PARAMETER
        kinds[name] = kind
    return kinds


def _under_any(path: str, roots: set[str]) -> bool:
    """Whether some prefix of ``path`` ending in "/" is one of ``roots`` (one set lookup per component)."""
    slash = path.find("/")
    while slash != -1:
        if path[: slash + 1] in roots:
            return True
        slash = path.find("/", slash + 1)
    return False


# --------------------------------------------------------------------------------------------------
# read()


def _load_index(index: str, shown: str) -> bytes:
    try:
        with open_regular(index, shown, _FOLDER_FIX) as f:
            size = os.fstat(f.fileno()).st_size
            if size > MAX_INDEX_BYTES:
                raise FormatError(f"{shown}: {size:,} bytes is over the {MAX_INDEX_BYTES:,}-byte cap for an index; "
                                  "this is not a TensorFlow checkpoint index or it is corrupt")
            data = f.read(MAX_INDEX_BYTES + 1)
    except OSError as e:
        raise FormatError(f"{shown}: cannot read ({e.strerror}); check the path and its permissions") from e
    if len(data) > MAX_INDEX_BYTES:
        raise FormatError(f"{shown}: grew past the {MAX_INDEX_BYTES:,}-byte cap while being read; "
                          "wait until the checkpoint is fully written")
    return data


def _shard_sizes(prefix: str, num_shards: int) -> list[int]:
    sizes = []
    for i in range(num_shards):
        shard = f"{prefix}.data-{i:05d}-of-{num_shards:05d}"
        try:
            st = os.stat(shard)
        except FileNotFoundError as e:
            raise FormatError(f"{safe(prefix)}: missing shard {safe(Path(shard).name)}; copy every file of the "
                              "checkpoint") from e
        except OSError as e:
            raise FormatError(f"{safe(shard)}: cannot read ({e.strerror}); check the path and its permissions") from e
        if not stat.S_ISREG(st.st_mode):
            raise FormatError(f"{safe(shard)}: not a regular file (a folder, named pipe, device or socket); copy "
                              "every file of the checkpoint")
        sizes.append(st.st_size)
    return sizes


def read(path: str | os.PathLike[str]) -> list[Tensor]:
    """One :class:`Tensor` per variable of a TensorFlow checkpoint, sorted by name as TensorFlow lists them.

    ``path`` is the checkpoint prefix (``.../bert_model.ckpt``), its ``.index`` file, one of its
    ``.data-*`` shards, or a folder with a ``checkpoint`` file (or exactly one ``*.index``). Shapes are
    as stored (TF dense kernels are [in, out]); dtypes use torch spelling, ``string`` for DT_STRING.
    """
    try:
        text = os.fspath(path)
    except TypeError:
        raise FormatError(f"{safe(repr(path))}: not a file path; pass a TensorFlow checkpoint's prefix") from None
    shown = safe(text) if isinstance(text, str) else safe(text.decode("utf-8", "replace"))
    try:
        return _read(path)
    except FormatError:
        raise
    except (RecursionError, MemoryError) as e:
        raise FormatError(f"{shown}: the checkpoint is too large or nested too deeply to read "
                          f"({type(e).__name__}); {_FOLDER_FIX}") from e
    except Exception as e:  # the contract: any input gives a FormatError naming it, never another exception
        detail = safe(" ".join(str(e).split())[:200])
        raise FormatError(f"{shown}: cannot read the checkpoint ({type(e).__name__}: {detail}); "
                          f"{_FOLDER_FIX}") from e


def _read(path: str | os.PathLike[str]) -> list[Tensor]:
    prefix, index_path = _resolve(path)
    index = safe(index_path)  # for messages
    data = _load_index(index_path, index)
    table = _Table(data, index)

    num_shards: int | None = None
    entries: dict[bytes, _Entry] = {}
    for key, value in table.items():
        try:
            if num_shards is None:
                if key != b"":
                    raise _Corrupt("the first key is not the empty header key")
                num_shards = _parse_header(value)
                continue
            if len(entries) >= MAX_TENSORS:
                raise limits.exceeded(index, limits.TENSORS, "the index holds")
            entries[key] = _parse_entry(value)
        except _Corrupt as e:
            what = "header" if num_shards is None else f"entry {_show(key)}"
            raise FormatError(f"{index}: {what} is not readable ({e}); the index is corrupt, copy it again") from e
    if num_shards is None:
        raise FormatError(f"{index}: holds no header entry; the index is corrupt, copy it again")
    if num_shards < 1:
        raise FormatError(f"{index}: header says the checkpoint has {num_shards} shards; "
                          "the index is corrupt, copy it again")

    # Hide the slice entries of partitioned variables, as tf.train.list_variables does. Each slice must have
    # its own entry, once (TensorFlow CHECK-fails on a repeated slice); that also bounds the work here.
    hidden: set[bytes] = set()
    for key, entry in entries.items():
        for extents in entry.slices:
            skey = slice_key(key, extents)
            if skey in hidden:
                raise FormatError(f"{index}: partitioned variable {_show(key)} lists the same slice twice; "
                                  "the index is corrupt, copy it again")
            if skey not in entries:
                raise FormatError(f"{index}: partitioned variable {_show(key)} lists a slice that has no entry; "
                                  "the index is corrupt, copy it again")
            hidden.add(skey)

    sizes = _shard_sizes(prefix, num_shards)
    for key, entry in entries.items():
        if not 0 <= entry.shard_id < num_shards:
            raise FormatError(f"{index}: entry {_show(key)} is in shard {entry.shard_id} but the header says "
                              f"there are {num_shards}; the index is corrupt, copy it again")
        shard = safe(f"{prefix}.data-{entry.shard_id:05d}-of-{num_shards:05d}")
        if entry.offset < 0 or entry.size < 0:
            raise FormatError(f"{index}: entry {_show(key)} has offset {entry.offset} and size {entry.size}; "
                              "the index is corrupt, copy it again")
        if entry.offset + entry.size > sizes[entry.shard_id]:
            raise FormatError(f"{shard}: entry {_show(key)} needs bytes {entry.offset}..{entry.offset + entry.size} "
                              f"but the file has {sizes[entry.shard_id]} bytes; the data file is truncated, "
                              "copy every file of the checkpoint")

    listed: dict[str, tuple[str, tuple[int, ...]]] = {}
    for key, entry in entries.items():
        if key not in hidden:
            name = key.decode("utf-8", "backslashreplace")  # TF names are UTF-8; never fail on other bytes
            if name in listed:
                raise FormatError(f"{index}: two keys read as the name {_show(key)}; the index is corrupt, copy it "
                                  "again")
            listed[name] = (_dtype_name(entry.dtype), entry.shape)
    kinds = _kinds(listed)
    return [Tensor(name, shape, dtype, kinds[name]) for name, (dtype, shape) in sorted(listed.items())]


__all__ = ["read", "looks_like", "slice_key", "crc32c", "DTYPES", "MAGIC", "MAX_INDEX_BYTES"]
