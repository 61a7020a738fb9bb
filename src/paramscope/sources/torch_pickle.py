"""Source: a PyTorch checkpoint (``torch.save``) -> tensor names, shapes, dtypes; never the weights.

Neither torch is imported nor anything from the file executed. Two layouts exist:

* zip (torch >= 1.6, the default): ``<folder>/data.pkl`` holds the structure, ``<folder>/data/<key>``
  the raw bytes of each storage. Only ``data.pkl`` and the zip's directory are read; a storage is checked
  against its entry's size from the directory, never read.
* legacy (``_use_new_zipfile_serialization=False``): pickles in a row (magic number, protocol
  version, sys_info, the object, the list of storage keys), then raw storages. Only the pickles are read;
  the storages are checked against the file size.

The pickles are run by :class:`_Unpickler`, a small interpreter of the pickle opcodes written here rather
than a ``pickle.Unpickler`` subclass: the C unpickler grows its memo to the largest ``LONG_BINPUT`` index
(a 10-byte pickle made it fill 16 GB for 34 s here) and hashes dict keys of any nesting depth (a 1 MB pickle of nested
tuples used as a key overflows the C stack: a segfault, not an exception). Here the memo is a dict, dict
keys and set elements are limited to flat hashable values, and the only globals are
:data:`ALLOWED_GLOBALS`: local stand-ins that build records, never torch objects.

>>> ck = read(os.path.join(os.path.dirname(__file__), "../../../tests/data/torch/pytorch_model.bin"))
>>> len(ck.tensors), sum(t.numel for t in ck.tensors if t.kind == "parameter")
(48, 7846)
>>> [(t.name, t.tied_to) for t in ck.tensors if t.kind == "alias"]  # doctest: +NORMALIZE_WHITESPACE
[('cls.predictions.decoder.weight', 'bert.embeddings.word_embeddings.weight'),
 ('cls.predictions.decoder.bias', 'cls.predictions.bias')]
"""

from __future__ import annotations

import _compat_pickle
import codecs
import io
import math
import os
import pickletools
import struct
import zipfile
from dataclasses import dataclass
from typing import Any, Callable

from .. import limits
from ..errors import FormatError
from ..inventory import Kind, Tensor, check_unique
from ..limits import MAX_DEPTH, MAX_DIM, MAX_LINE, MAX_NDIM, MAX_PICKLE_BYTES, MAX_TENSORS
from ..units import safe
from .files import open_regular

__all__ = ["ALLOWED_GLOBALS", "TorchCheckpoint", "looks_like", "read"]

# Every cap on the work a pickle can cause (bytes, opcodes, objects built, memo entries, inflation, values
# walked through shared references, characters of names, nesting, tensors) is in paramscope.limits, with why.
# The relative ones are shares of the bytes the file spends on the pickle, so the work is linear in the file.
DEFLATED_ALLOWANCE = 1 << 20  # bytes any deflated data.pkl may inflate to, whatever its stored size

# torch.serialization.MAGIC_NUMBER and PROTOCOL_VERSION, the first two pickles of a legacy file.
LEGACY_MAGIC = 0x1950A86A20F9469CFC6C
LEGACY_PROTOCOL = 1001

_FIX = "re-download the file or re-save it with torch.save"


@dataclass(frozen=True)
class TorchCheckpoint:
    """What a checkpoint holds: tensors in file order, non-tensor values by dotted path, and notes."""

    tensors: list[Tensor]
    metadata: dict[str, object]
    notes: list[str]


# --------------------------------------------------------------------------------------------------
# Records the stand-ins build.


@dataclass(frozen=True)
class _DType:
    name: str  # torch spelling without "torch."
    itemsize: int

    def __str__(self) -> str:
        return f"torch.{self.name}"


@dataclass(frozen=True)
class _StorageType:
    name: str  # e.g. "FloatStorage"
    dtype: _DType


@dataclass(frozen=True)
class _Storage:
    key: str
    dtype: _DType
    location: str
    numel: int  # elements of dtype in the root storage
    view_offset: int = 0  # legacy storage views: where the view starts (elements) ...
    view_numel: int | None = None  # ... and how long it is

    @property
    def nbytes(self) -> int:
        return self.numel * self.dtype.itemsize

    @property
    def visible_bytes(self) -> int:
        n = self.numel if self.view_numel is None else self.view_numel
        return n * self.dtype.itemsize


@dataclass(frozen=True)
class _TensorRef:
    storage: _Storage | None  # None: a meta tensor saved without storage
    offset: int
    shape: tuple[int, ...]
    stride: tuple[int, ...]
    dtype: _DType

    def needed_bytes(self) -> int:
        """Bytes of the (view of the) storage the tensor reaches, from the view's start."""
        if 0 in self.shape:
            return 0
        last = self.offset + sum((d - 1) * s for d, s in zip(self.shape, self.stride))
        return (last + 1) * self.dtype.itemsize

    def view_key(self) -> tuple[object, ...]:
        assert self.storage is not None
        return (self.storage.key, self.storage.view_offset, self.offset, self.shape, self.stride, self.dtype.name)


_KIND_NAMES = {"_ODict": "OrderedDict", "_TensorRef": "tensor", "_Storage": "storage", "_Global": "function",
               "_DType": "dtype", "_StorageType": "storage type", "NoneType": "None"}


def _an(v: object) -> str:
    """``an int``, ``a tensor``: the kind of a value read from a file, for messages."""
    name = _KIND_NAMES.get(type(v).__name__, type(v).__name__)
    return name if name == "None" else f"{'an' if name[0] in 'aeiouAEIOU' else 'a'} {name}"


class _Bad(Exception):
    """A problem inside a pickle; :func:`read` turns it into a FormatError naming the file."""


class _OverBudget(Exception):
    """A budget of :mod:`paramscope.limits` spent: ``what`` (a verb phrase) went past ``limit``."""

    def __init__(self, limit: limits.Limit, what: str, nbytes: int, value: int | None = None) -> None:
        super().__init__(what)
        self.limit, self.what, self.nbytes, self.value = limit, what, nbytes, value


class _Refused(Exception):
    """A global outside the allow-list."""

    def __init__(self, qualname: str, known_torch: bool) -> None:
        super().__init__(qualname)
        self.qualname = qualname
        self.known_torch = known_torch


# --------------------------------------------------------------------------------------------------
# The allow-list. Taken from torch/_weights_only_unpickler.py (_get_allowed_globals, torch 2.13), keeping
# what describes dense tensors and plain data; each entry maps to a stand-in that validates its arguments.

# dtype name -> bytes per element (torch's dtype.itemsize; sub-byte and packed types take a byte).
_DTYPE_ITEMSIZE = {
    "float64": 8, "float32": 4, "float16": 2, "bfloat16": 2,
    "complex32": 4, "complex64": 8, "complex128": 16,
    "int64": 8, "int32": 4, "int16": 2, "int8": 1,
    "uint64": 8, "uint32": 4, "uint16": 2, "uint8": 1, "bool": 1,
    "float8_e5m2": 1, "float8_e4m3fn": 1, "float8_e5m2fnuz": 1, "float8_e4m3fnuz": 1, "float8_e8m0fnu": 1,
    "float4_e2m1fn_x2": 1, "bits8": 1, "bits16": 2, "bits1x8": 1, "bits2x4": 1, "bits4x2": 1,
    "qint8": 1, "quint8": 1, "qint32": 4, "quint4x2": 1, "quint2x4": 1,
    **{f"int{i}": 1 for i in range(1, 8)}, **{f"uint{i}": 1 for i in range(1, 8)},
}
_DTYPES = {name: _DType(name, size) for name, size in _DTYPE_ITEMSIZE.items()}

# torch.storage._dtype_to_storage_type_map(): the typed storages torch pickles (``torch.FloatStorage``).
# Dtypes not in it (float8, uint16, ...) are saved on an UntypedStorage counted in bytes, with the dtype
# given to _rebuild_tensor_v3.
_STORAGE_DTYPE = {
    "DoubleStorage": "float64", "FloatStorage": "float32", "HalfStorage": "float16",
    "BFloat16Storage": "bfloat16", "LongStorage": "int64", "IntStorage": "int32", "ShortStorage": "int16",
    "CharStorage": "int8", "ByteStorage": "uint8", "BoolStorage": "bool",
    "ComplexDoubleStorage": "complex128", "ComplexFloatStorage": "complex64",
    "QInt8Storage": "qint8", "QInt32Storage": "qint32", "QUInt8Storage": "quint8",
    "QUInt4x2Storage": "quint4x2", "QUInt2x4Storage": "quint2x4",
}

_QSCHEMES = ("per_tensor_affine", "per_tensor_symmetric", "per_channel_affine", "per_channel_symmetric",
             "per_channel_affine_float_qparams")


class _Global:
    """A callable global from the allow-list: ``fn`` gets REDUCE's argument tuple."""

    __slots__ = ("qualname", "fn")

    def __init__(self, qualname: str, fn: Callable[[tuple], object] | None) -> None:
        self.qualname = qualname
        self.fn = fn

    def __call__(self, args: tuple) -> object:
        if self.fn is None:
            raise _Bad(f"calls {self.qualname}, which only names a type in a checkpoint")
        return self.fn(args)

    def __repr__(self) -> str:
        return self.qualname


class _ODict(dict):  # collections.OrderedDict's stand-in; plain dicts keep insertion order too
    __slots__ = ()


def _arity(args: tuple, lo: int, hi: int, what: str) -> None:
    if not lo <= len(args) <= hi:
        want = str(lo) if lo == hi else f"{lo} to {hi}"
        raise _Bad(f"{what} gets {len(args)} arguments instead of {want}")


def _int(v: object, what: str, lo: int = 0, hi: int = MAX_DIM) -> int:
    if type(v) is not int:
        raise _Bad(f"{what} is {_an(v)}, not an integer")
    if not lo <= v < hi:
        raise _Bad(f"{what} is {_show_int(v)}, outside [{lo}, {hi})")
    return v


def _show_int(v: int) -> str:
    return str(v) if abs(v) < 10**30 else ("-" if v < 0 else "") + "a huge number"


def _dims(v: object, what: str) -> tuple[int, ...]:
    if type(v) is not tuple:
        raise _Bad(f"tensor {what} is {_an(v)}, not a tuple")
    if len(v) > MAX_NDIM:
        raise _Bad(f"tensor {what} has {len(v)} dimensions (more than {MAX_NDIM})")
    for d in v:
        if type(d) is not int:
            raise _Bad(f"tensor {what} holds {_an(d)}, not an integer")
        if d < 0:
            raise _Bad(f"tensor {what} has a negative dimension {_show_int(d)}")
        if d >= MAX_DIM:
            raise _Bad(f"tensor {what} has a dimension of {_show_int(d)} (at most 2**62 - 1)")
    return v


def _make_tensor(storage: object, offset: object, size: object, stride: object,
                 dtype: _DType | None, what: str) -> _TensorRef:
    if type(storage) is not _Storage:
        raise _Bad(f"{what} gets {_an(storage)} where a storage belongs")
    off = _int(offset, "tensor storage offset")
    shape = _dims(size, "shape")
    strides = _dims(stride, "stride")
    if len(strides) != len(shape):
        raise _Bad(f"tensor shape {list(shape)} and stride {list(strides)} differ in length")
    if math.prod(shape) >= MAX_DIM:
        raise _Bad(f"tensor shape {list(shape)} has more than 2**62 elements")
    return _TensorRef(storage, off, shape, strides, dtype or storage.dtype)


def _rebuild_tensor(args: tuple) -> _TensorRef:
    _arity(args, 4, 4, "_rebuild_tensor")
    return _make_tensor(*args, None, "_rebuild_tensor")


def _rebuild_tensor_v2(args: tuple) -> _TensorRef:
    # (storage, storage_offset, size, stride, requires_grad, backward_hooks, metadata=None)
    _arity(args, 6, 7, "_rebuild_tensor_v2")
    return _make_tensor(*args[:4], None, "_rebuild_tensor_v2")


def _rebuild_tensor_v3(args: tuple) -> _TensorRef:
    # (storage, storage_offset, size, stride, requires_grad, backward_hooks, dtype, metadata=None)
    _arity(args, 7, 8, "_rebuild_tensor_v3")
    if type(args[6]) is not _DType:
        raise _Bad(f"_rebuild_tensor_v3 gets {_an(args[6])} where a dtype belongs")
    return _make_tensor(*args[:4], args[6], "_rebuild_tensor_v3")


def _rebuild_qtensor(args: tuple) -> _TensorRef:
    # (storage, storage_offset, size, stride, quantizer_params, requires_grad, backward_hooks)
    _arity(args, 7, 7, "_rebuild_qtensor")
    return _make_tensor(*args[:4], None, "_rebuild_qtensor")


def _rebuild_meta_tensor_no_storage(args: tuple) -> _TensorRef:
    # (dtype, size, stride, requires_grad): a tensor on the meta device, saved without data
    _arity(args, 4, 4, "_rebuild_meta_tensor_no_storage")
    dtype = args[0]
    if type(dtype) is not _DType:
        raise _Bad(f"_rebuild_meta_tensor_no_storage gets {_an(dtype)} where a dtype belongs")
    shape, stride = _dims(args[1], "shape"), _dims(args[2], "stride")
    if len(stride) != len(shape):
        raise _Bad(f"tensor shape {list(shape)} and stride {list(stride)} differ in length")
    return _TensorRef(None, 0, shape, stride, dtype)


def _rebuild_parameter(args: tuple) -> _TensorRef:
    # (data, requires_grad, backward_hooks) and, with state, (data, requires_grad, backward_hooks, state)
    _arity(args, 3, 4, "_rebuild_parameter")
    if type(args[0]) is not _TensorRef:
        raise _Bad(f"_rebuild_parameter gets {_an(args[0])} where a tensor belongs")
    return args[0]


_REBUILDERS = {
    "torch._utils._rebuild_tensor": _rebuild_tensor,
    "torch._utils._rebuild_tensor_v2": _rebuild_tensor_v2,
    "torch._utils._rebuild_tensor_v3": _rebuild_tensor_v3,
    "torch._utils._rebuild_qtensor": _rebuild_qtensor,
    "torch._utils._rebuild_meta_tensor_no_storage": _rebuild_meta_tensor_no_storage,
    "torch._utils._rebuild_parameter": _rebuild_parameter,
    "torch._utils._rebuild_parameter_with_state": _rebuild_parameter,
}


def _rebuild_from_type_v2(args: tuple) -> object:
    # (func, new_type, args, state): a tensor with Python attributes or of a subclass; the state is dropped
    _arity(args, 4, 4, "_rebuild_from_type_v2")
    func, new_type, inner = args[0], args[1], args[2]
    if type(func) is not _Global or func.qualname not in _REBUILDERS:
        raise _Bad("_rebuild_from_type_v2 gets something other than a tensor rebuild function")
    if type(new_type) is not _Global or new_type.qualname not in ("torch.Tensor", "torch.nn.parameter.Parameter"):
        raise _Bad("_rebuild_from_type_v2 gets something other than torch.Tensor or torch.nn.Parameter")
    if type(inner) is not tuple:
        raise _Bad(f"_rebuild_from_type_v2 gets {_an(inner)} where an argument tuple belongs")
    return func(inner)


def _parameter(args: tuple) -> _TensorRef:
    _arity(args, 1, 2, "torch.nn.Parameter")
    if type(args[0]) is not _TensorRef:
        raise _Bad(f"torch.nn.Parameter gets {_an(args[0])} where a tensor belongs")
    return args[0]


def _ordered_dict(args: tuple) -> _ODict:
    _arity(args, 0, 1, "collections.OrderedDict")
    out = _ODict()
    if args:
        _fill_pairs(out, args[0], "collections.OrderedDict")
    return out


def _counter(args: tuple) -> dict:
    _arity(args, 0, 1, "collections.Counter")
    out: dict = {}
    if args:
        if type(args[0]) not in (dict, _ODict):
            raise _Bad(f"collections.Counter gets {_an(args[0])} instead of a dict")
        out.update(args[0])
    return out


def _fill_pairs(out: dict, items: object, what: str) -> None:
    if type(items) not in (list, tuple):
        raise _Bad(f"{what} gets {_an(items)} instead of a list of pairs")
    for pair in items:
        if type(pair) not in (list, tuple) or len(pair) != 2:
            raise _Bad(f"{what} gets an item that is not a (key, value) pair")
        _check_key(pair[0])
        out[pair[0]] = pair[1]


def _size(args: tuple) -> tuple[int, ...]:
    _arity(args, 0, 1, "torch.Size")
    if not args:
        return ()
    if type(args[0]) not in (list, tuple):
        raise _Bad(f"torch.Size gets {_an(args[0])} instead of a tuple of integers")
    for d in args[0]:
        if type(d) is not int:
            raise _Bad(f"torch.Size holds {_an(d)}, not an integer")
    return tuple(args[0])


def _device(args: tuple) -> str:
    _arity(args, 1, 2, "torch.device")
    kind = args[0]
    if type(kind) is not str or len(kind) > 64:
        raise _Bad("torch.device gets something other than a short device name")
    if len(args) == 2 and args[1] is not None:
        return f"{kind}:{_int(args[1], 'torch.device index', 0, 1 << 16)}"
    return kind


def _get_layout(args: tuple) -> str:
    _arity(args, 1, 1, "torch.serialization._get_layout")
    if type(args[0]) is not str or len(args[0]) > 64:
        raise _Bad("torch.serialization._get_layout gets something other than a layout name")
    return args[0]


_LATIN1 = {"latin1", "latin-1", "iso-8859-1", "iso8859-1", "l1", "ascii", "utf-8", "utf8"}


def _codecs_encode(args: tuple) -> bytes:
    # Protocol-2 pickles write bytes as _codecs.encode(str, 'latin1'); no other codec is allowed.
    _arity(args, 1, 2, "_codecs.encode")
    text, enc = args[0], args[1] if len(args) == 2 else "utf-8"
    if type(text) is not str or type(enc) is not str or enc.lower() not in _LATIN1:
        raise _Bad("_codecs.encode is only allowed to turn a string into bytes with latin-1, ascii or utf-8")
    try:
        return text.encode(enc)
    except UnicodeEncodeError as e:
        raise _Bad(f"_codecs.encode cannot encode its string with {enc}") from e


def _bytearray(args: tuple) -> bytearray:
    # bytearray(n) would allocate n bytes: only a copy of bytes or of a latin-1 string is accepted.
    _arity(args, 0, 2, "builtins.bytearray")
    if not args:
        return bytearray()
    if len(args) == 1 and type(args[0]) is bytes:
        return bytearray(args[0])
    if len(args) == 2 and type(args[0]) is str:
        return bytearray(_codecs_encode(args))
    raise _Bad("builtins.bytearray is only allowed to copy bytes or a latin-1 string")


def _set(args: tuple) -> set:
    _arity(args, 0, 1, "builtins.set")
    out: set = set()
    if args:
        if type(args[0]) not in (list, tuple, set, frozenset):
            raise _Bad(f"builtins.set gets {_an(args[0])} instead of a list")
        for item in args[0]:
            _check_key(item)
            out.add(item)
    return out


def _complex(args: tuple) -> complex:
    _arity(args, 1, 2, "builtins.complex")
    parts = []
    for v in args:
        if type(v) not in (int, float):
            raise _Bad(f"builtins.complex gets {_an(v)}, not a number")
        try:
            parts.append(float(v))
        except OverflowError as e:
            raise _Bad("builtins.complex gets a number too large for a float") from e
    return complex(*parts)


def _build_allowed() -> dict[str, object]:
    out: dict[str, object] = {}
    for qualname, fn in _REBUILDERS.items():
        out[qualname] = _Global(qualname, fn)
    out["torch._tensor._rebuild_from_type_v2"] = _Global("torch._tensor._rebuild_from_type_v2",
                                                          _rebuild_from_type_v2)
    out["torch.nn.parameter.Parameter"] = _Global("torch.nn.parameter.Parameter", _parameter)
    out["torch.Tensor"] = _Global("torch.Tensor", None)
    out["collections.OrderedDict"] = _Global("collections.OrderedDict", _ordered_dict)
    out["collections.Counter"] = _Global("collections.Counter", _counter)
    out["torch.Size"] = _Global("torch.Size", _size)
    out["torch.device"] = _Global("torch.device", _device)
    out["torch.serialization._get_layout"] = _Global("torch.serialization._get_layout", _get_layout)
    out["_codecs.encode"] = _Global("_codecs.encode", _codecs_encode)
    out["builtins.bytearray"] = _Global("builtins.bytearray", _bytearray)
    out["builtins.set"] = _Global("builtins.set", _set)
    out["builtins.complex"] = _Global("builtins.complex", _complex)
    for name, dtype in _DTYPES.items():
        out[f"torch.{name}"] = dtype
    for storage, dtype_name in _STORAGE_DTYPE.items():
        st = _StorageType(storage, _DTYPES[dtype_name])
        out[f"torch.{storage}"] = st
        if not storage.startswith("Q"):
            out[f"torch.cuda.{storage}"] = st  # written by old torch for tensors saved on a GPU
    out["torch.storage.UntypedStorage"] = _StorageType("UntypedStorage", _DTYPES["uint8"])
    for q in _QSCHEMES:
        out[f"torch.{q}"] = f"torch.{q}"
    return out


#: Every global a checkpoint's pickle may name, mapped to its harmless stand-in.
ALLOWED_GLOBALS: dict[str, object] = _build_allowed()

# Globals torch writes for tensors this reader does not describe (sparse, nested, subclasses, numpy-backed):
# refused with their own message, since they are not a sign of a hostile file.
_KNOWN_UNSUPPORTED = {
    "torch._utils._rebuild_sparse_tensor", "torch._utils._rebuild_nested_tensor",
    "torch._utils._rebuild_wrapper_subclass", "torch._utils._rebuild_device_tensor_from_numpy",
    "torch._utils._rebuild_device_tensor_from_cpu_tensor", "torch._utils._rebuild_xla_tensor",
    "torch._utils._rebuild_mlc_tensor", "torch._utils._rebuild_sparse_csr_tensor",
    "torch.storage.TypedStorage",
}

def _find_class(module: str, name: str) -> object:
    # Python 2 names (``__builtin__.eval``, ``commands.Popen``) are mapped as pickle's fix_imports would, so the
    # allow-list and the refusal speak of what plain pickle would really load.
    if (module, name) in _compat_pickle.NAME_MAPPING:
        module, name = _compat_pickle.NAME_MAPPING[(module, name)]
    else:
        module = _compat_pickle.IMPORT_MAPPING.get(module, module)
    qualname = f"{module}.{name}"
    if qualname in ALLOWED_GLOBALS:
        return ALLOWED_GLOBALS[qualname]
    raise _Refused(qualname, qualname in _KNOWN_UNSUPPORTED)


# Dict keys and set elements get hashed: only flat values whose hashing is cheap and collision-safe
# (str/bytes hashes are randomized; ints below 2**61 - 1 hash to themselves).
_KEY_ATOMS = (str, bytes, bool, type(None))


def _check_key(k: object, depth: int = 0) -> None:
    t = type(k)
    if t in _KEY_ATOMS or t is _DType:
        return
    if t is int:
        if -(1 << 60) < k < (1 << 60):  # type: ignore[operator]
            return
        raise _Bad("a dict key or set element is an integer of 2**60 or more")
    if t is tuple and depth < 3 and len(k) <= 16:  # type: ignore[arg-type]
        for item in k:  # type: ignore[attr-defined]
            if type(item) is int and not -(1 << 16) < item < (1 << 16):
                raise _Bad("a dict key or set element is a tuple holding a large integer")
            _check_key(item, depth + 1)
        return
    raise _Bad(f"a dict key or set element is {_an(k)}; only strings, numbers and short tuples are allowed")


# --------------------------------------------------------------------------------------------------
# Reading bytes and running pickles.


class _Reader:
    """Bytes from a file, read forward in chunks, never more than ``limit`` bytes from ``start``."""

    def __init__(self, f: Any, start: int, limit: int, *, capped: bool) -> None:
        self._f = f
        self._capped = capped  # limit is a cap on a longer file, not the end of the data
        self._buf = b""
        self._i = 0
        self._base = start  # file offset of _buf[0]
        self._end = start + limit
        self._eof = False

    @classmethod
    def of(cls, data: bytes) -> _Reader:
        """All of a pickle already in memory (a zip's data.pkl)."""
        reader = cls(io.BytesIO(b""), 0, len(data), capped=False)
        reader._buf, reader._eof = data, True
        return reader

    def tell(self) -> int:
        return self._base + self._i

    def _fill(self, n: int) -> bool:
        avail = len(self._buf) - self._i
        while avail < n and not self._eof:
            top = self._base + len(self._buf)
            want = min(max(n - avail, 1 << 16), self._end - top)
            chunk = self._f.read(want) if want > 0 else b""
            if not chunk:
                self._eof = True
                break
            self._base += self._i
            self._buf = self._buf[self._i:] + chunk
            self._i = 0
            avail = len(self._buf)
        return avail >= n

    def _short(self) -> _Bad:
        top = self._base + len(self._buf)
        if self._capped and top >= self._end:
            return _Bad(f"it runs past {MAX_PICKLE_BYTES:,} bytes without ending")
        return _Bad(f"it ends at byte {top} in the middle of an opcode")

    def read(self, n: int) -> bytes:
        i = self._i
        j = i + n
        if j > len(self._buf):
            if not self._fill(n):
                raise self._short()
            i = self._i
            j = i + n
        self._i = j
        return self._buf[i:j]

    def readline(self) -> bytes:
        while True:
            j = self._buf.find(b"\n", self._i)
            if j >= 0:
                out = self._buf[self._i:j]
                self._i = j + 1
                return out
            have = len(self._buf) - self._i
            if have > MAX_LINE:
                raise _Bad(f"a text argument at byte {self.tell()} is longer than {MAX_LINE:,} bytes")
            if not self._fill(have + 1):
                raise self._short()


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise _Bad(f"{what} is not UTF-8") from e


def _py2_str(raw: bytes) -> str:
    # Python 2 str values; torch.load decodes them as UTF-8, falling back here to latin-1.
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


_CONTAINERS = (dict, _ODict)


class _Unpickler:
    """Runs one pickle: the data opcodes of protocols 0-5, globals only from the allow-list.

    Not supported (never written by torch.save for data): INST, OBJ, EXT1/2/4, NEXT_BUFFER,
    READONLY_BUFFER; they stop the load with a message.
    """

    def __init__(self, reader: _Reader, persistent_load: Callable[[object], object] | None, nbytes: int) -> None:
        """``nbytes``: what the file spends on this pickle (its stored size), the base of the budgets."""
        self.r = reader
        self.persistent_load = persistent_load
        self.nbytes = nbytes

    def _over(self, limit: limits.Limit, what: str) -> _OverBudget:
        return _OverBudget(limit, what, self.nbytes)

    def load(self) -> object:
        r = self.r
        read, readline = r.read, r.readline
        stack: list = []
        metastack: list[list] = []
        memo: dict[int, object] = {}
        # Budgets (paramscope.limits), relative to the stored size: an opcode is at least a byte, but a deflated
        # pickle has more opcodes than stored bytes; objects built (containers, MARK frames, records) bound the
        # memory (an empty set costs 216 bytes for one opcode byte), and so do memo entries.
        nbytes = self.nbytes
        max_ops = limits.budget(limits.PICKLE_OPS, nbytes)
        max_built = limits.budget(limits.PICKLE_OBJECTS, nbytes)
        max_memo = limits.budget(limits.PICKLE_MEMO, nbytes)
        ops = built = 0

        while True:  # branches in order of how often torch.save writes each opcode
            pos = r._base + r._i
            op = read(1)[0]
            ops += 1
            if ops > max_ops:
                raise self._over(limits.PICKLE_OPS, "runs")
            if len(memo) > max_memo:
                raise self._over(limits.PICKLE_MEMO, "stores")
            if built > max_built:
                raise self._over(limits.PICKLE_OBJECTS, "builds")
            try:
                if op == 0x71:  # BINPUT
                    memo[read(1)[0]] = stack[-1]
                elif op == 0x68:  # BINGET
                    idx = read(1)[0]
                    if idx not in memo:
                        raise _Bad(f"memo entry {idx} read at byte {pos} was never stored")
                    stack.append(memo[idx])
                elif op in (0x6A, 0x67):  # LONG_BINGET, GET
                    idx = struct.unpack("<I", read(4))[0] if op == 0x6A else int(readline())
                    if idx not in memo:
                        raise _Bad(f"memo entry {idx} read at byte {pos} was never stored")
                    stack.append(memo[idx])
                elif op in (0x72, 0x70):  # LONG_BINPUT, PUT
                    idx = struct.unpack("<I", read(4))[0] if op == 0x72 else int(readline())
                    if idx < 0:
                        raise _Bad(f"negative memo index at byte {pos}")
                    memo[idx] = stack[-1]
                elif op == 0x28:  # MARK
                    metastack.append(stack)
                    stack = []
                    built += 1
                elif op == 0x4B:  # BININT1
                    stack.append(read(1)[0])
                elif op == 0x74:  # TUPLE
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    stack.append(tuple(items))
                    built += 1
                elif op == 0x52:  # REDUCE
                    args = stack.pop()
                    stack[-1] = self._call(stack[-1], args, pos)
                    built += 1
                elif op == 0x58:  # BINUNICODE
                    n = struct.unpack("<I", read(4))[0]
                    stack.append(str(read(n), "utf-8", "surrogatepass"))
                elif op == 0x29:  # EMPTY_TUPLE
                    stack.append(())
                elif op == 0x86:  # TUPLE2
                    b = stack.pop()
                    stack[-1] = (stack[-1], b)
                    built += 1
                elif op == 0x89:  # NEWFALSE
                    stack.append(False)
                elif op == 0x51:  # BINPERSID
                    pid = stack.pop()
                    stack.append(self._persistent(pid, pos))
                    built += 1
                elif op == 0x85:  # TUPLE1
                    stack[-1] = (stack[-1],)
                    built += 1
                elif op == 0x4D:  # BININT2
                    stack.append(struct.unpack("<H", read(2))[0])
                elif op == 0x63:  # GLOBAL
                    module = _text(readline(), "a global's module name")
                    name = _text(readline(), "a global's name")
                    stack.append(_find_class(module, name))
                elif op == 0x75:  # SETITEMS
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    self._set_items(self._dict(stack[-1], pos), items, pos)
                elif op == 0x4A:  # BININT
                    stack.append(struct.unpack("<i", read(4))[0])
                elif op == 0x80:  # PROTO
                    proto = read(1)[0]
                    if proto > 5:
                        raise _Bad(f"pickle protocol {proto} is newer than 5")
                elif op == 0x95:  # FRAME: a read-ahead hint
                    read(8)
                elif op == 0x2E:  # STOP
                    if len(stack) != 1 or metastack:
                        raise _Bad(f"STOP at byte {pos} leaves {len(stack)} values on the stack")
                    return stack[0]
                elif op == 0x30:  # POP
                    if stack:
                        stack.pop()
                    else:
                        stack = metastack.pop()
                elif op == 0x31:  # POP_MARK
                    stack = metastack.pop()
                elif op == 0x32:  # DUP
                    stack.append(stack[-1])
                elif op == 0x4E:  # NONE
                    stack.append(None)
                elif op == 0x88:  # NEWTRUE
                    stack.append(True)
                elif op == 0x8A:  # LONG1
                    n = read(1)[0]
                    stack.append(int.from_bytes(read(n), "little", signed=True))
                elif op == 0x8B:  # LONG4
                    n = struct.unpack("<i", read(4))[0]
                    if n < 0:
                        raise _Bad(f"LONG4 at byte {pos} has a negative length")
                    stack.append(int.from_bytes(read(n), "little", signed=True))
                elif op == 0x49:  # INT (text); "00"/"01" are False/True
                    line = readline()
                    stack.append(False if line == b"00" else True if line == b"01" else int(line))
                elif op == 0x4C:  # LONG (text)
                    line = readline()
                    stack.append(int(line[:-1] if line.endswith(b"L") else line))
                elif op == 0x47:  # BINFLOAT
                    stack.append(struct.unpack(">d", read(8))[0])
                elif op == 0x46:  # FLOAT (text)
                    stack.append(float(readline()))
                elif op == 0x8C:  # SHORT_BINUNICODE
                    n = read(1)[0]
                    stack.append(str(read(n), "utf-8", "surrogatepass"))
                elif op == 0x8D:  # BINUNICODE8
                    n = struct.unpack("<Q", read(8))[0]
                    stack.append(str(read(n), "utf-8", "surrogatepass"))
                elif op == 0x56:  # UNICODE (text)
                    stack.append(str(readline(), "raw-unicode-escape"))
                elif op == 0x55:  # SHORT_BINSTRING
                    n = read(1)[0]
                    stack.append(_py2_str(read(n)))
                elif op == 0x54:  # BINSTRING
                    n = struct.unpack("<i", read(4))[0]
                    if n < 0:
                        raise _Bad(f"BINSTRING at byte {pos} has a negative length")
                    stack.append(_py2_str(read(n)))
                elif op == 0x53:  # STRING (text, quoted)
                    line = readline()
                    if len(line) < 2 or line[0] != line[-1] or line[:1] not in (b"'", b'"'):
                        raise _Bad(f"STRING at byte {pos} is not quoted")
                    stack.append(_py2_str(codecs.escape_decode(line[1:-1])[0]))
                elif op == 0x43:  # SHORT_BINBYTES
                    stack.append(read(read(1)[0]))
                elif op == 0x42:  # BINBYTES
                    stack.append(read(struct.unpack("<I", read(4))[0]))
                elif op == 0x8E:  # BINBYTES8
                    stack.append(read(struct.unpack("<Q", read(8))[0]))
                elif op == 0x96:  # BYTEARRAY8
                    stack.append(bytearray(read(struct.unpack("<Q", read(8))[0])))
                elif op == 0x5D:  # EMPTY_LIST
                    stack.append([])
                    built += 1
                elif op == 0x7D:  # EMPTY_DICT
                    stack.append({})
                    built += 1
                elif op == 0x8F:  # EMPTY_SET
                    stack.append(set())
                    built += 4  # 216 bytes, where a list takes 56
                elif op == 0x6C:  # LIST
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    stack.append(items)
                elif op == 0x87:  # TUPLE3
                    c = stack.pop()
                    b = stack.pop()
                    stack[-1] = (stack[-1], b, c)
                    built += 1
                elif op == 0x64:  # DICT
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    d: dict = {}
                    self._set_items(d, items, pos)
                    stack.append(d)
                    built += 1
                elif op == 0x91:  # FROZENSET
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    for item in items:
                        _check_key(item)
                    stack.append(frozenset(items))
                    built += 4
                elif op == 0x61:  # APPEND
                    item = stack.pop()
                    self._list(stack[-1], pos).append(item)
                elif op == 0x65:  # APPENDS
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    self._list(stack[-1], pos).extend(items)
                elif op == 0x73:  # SETITEM
                    v = stack.pop()
                    k = stack.pop()
                    self._set_items(self._dict(stack[-1], pos), [k, v], pos)
                elif op == 0x90:  # ADDITEMS
                    items, stack = stack, metastack.pop()  # IndexError: no MARK
                    target = stack[-1]
                    if type(target) is not set:
                        raise _Bad(f"ADDITEMS at byte {pos} adds to {_an(target)}, not a set")
                    for item in items:
                        _check_key(item)
                    target.update(items)
                elif op == 0x94:  # MEMOIZE
                    memo[len(memo)] = stack[-1]
                elif op == 0x93:  # STACK_GLOBAL
                    name = stack.pop()
                    module = stack.pop()
                    if type(module) is not str or type(name) is not str:
                        raise _Bad(f"STACK_GLOBAL at byte {pos} gets a non-string name")
                    stack.append(_find_class(module, name))
                elif op == 0x81:  # NEWOBJ
                    args = stack.pop()
                    cls = stack.pop()
                    stack.append(self._call(cls, args, pos))
                    built += 1
                elif op == 0x92:  # NEWOBJ_EX
                    kwargs = stack.pop()
                    args = stack.pop()
                    cls = stack.pop()
                    if kwargs:
                        raise _Bad(f"NEWOBJ_EX at byte {pos} passes keyword arguments")
                    stack.append(self._call(cls, args, pos))
                    built += 1
                elif op == 0x62:  # BUILD
                    stack.pop()
                    inst = stack[-1]
                    # An OrderedDict's state is the state_dict's _metadata (module versions); a tensor's
                    # is Python attributes. Neither changes names, shapes or dtypes: both are dropped.
                    if type(inst) not in (_ODict, _TensorRef):
                        raise _Bad(f"BUILD at byte {pos} sets the state of {_an(inst)}")
                elif op == 0x50:  # PERSID
                    stack.append(self._persistent(_text(readline(), "a persistent id"), pos))
                else:
                    name = _OPCODE_NAMES.get(op)
                    what = f"opcode {name}" if name else f"byte 0x{op:02x}, which is not a pickle opcode,"
                    raise _Bad(f"{what} at byte {pos} is not allowed in a checkpoint")
            except IndexError as e:
                raise _Bad(f"opcode {_OPCODE_NAMES.get(op)} at byte {pos} finds the stack empty (or no MARK)") from e
            except (ValueError, OverflowError, UnicodeDecodeError) as e:
                raise _Bad(f"opcode {_OPCODE_NAMES.get(op)} at byte {pos} has a malformed argument") from e

    @staticmethod
    def _list(target: object, pos: int) -> list:
        if type(target) is not list:
            raise _Bad(f"APPEND at byte {pos} adds to {_an(target)}, not a list")
        return target

    @staticmethod
    def _dict(target: object, pos: int) -> dict:
        if type(target) not in _CONTAINERS:
            raise _Bad(f"SETITEM at byte {pos} sets an item of {_an(target)}, not a dict")
        return target  # type: ignore[return-value]

    @staticmethod
    def _set_items(d: dict, items: list, pos: int) -> None:
        if len(items) % 2:
            raise _Bad(f"dict items at byte {pos} are not in key, value pairs")
        for i in range(0, len(items), 2):
            _check_key(items[i])
            d[items[i]] = items[i + 1]

    @staticmethod
    def _call(func: object, args: object, pos: int) -> object:
        if type(func) is not _Global:
            raise _Bad(f"byte {pos} calls {_an(func)}, which is not an allowed function")
        if type(args) is not tuple:
            raise _Bad(f"byte {pos} calls {func.qualname} with {_an(args)} instead of a tuple")
        return func(args)

    def _persistent(self, pid: object, pos: int) -> object:
        if self.persistent_load is None:
            raise _Bad(f"persistent id at byte {pos} where none belongs")
        return self.persistent_load(pid)


_OPCODE_NAMES = {op.code.encode("latin-1")[0]: op.name for op in pickletools.opcodes}


class _Storages:
    """persistent_load for both layouts: ``('storage', type, key, location, numel[, view_metadata])``."""

    def __init__(self) -> None:
        self.roots: dict[str, _Storage] = {}
        self.views: dict[tuple[str, str], _Storage] = {}

    def __call__(self, pid: object) -> _Storage:
        if type(pid) is not tuple or not pid or pid[0] not in ("storage", b"storage"):
            what = _an(pid)
            raise _Bad(f"a persistent id is {what} that does not name a storage")
        if len(pid) not in (5, 6):
            raise _Bad(f"a storage's persistent id has {len(pid)} fields instead of 5 or 6")
        stype, key, location, numel = pid[1:5]
        view = pid[5] if len(pid) == 6 else None
        if type(stype) is not _StorageType:
            raise _Bad(f"a storage's type is {_an(stype)}, not a torch storage class")
        key = self._name(key, "storage key")
        location = self._name(location, "storage location")
        numel = _int(numel, f"the size of storage {_show(key)}")
        root = self.roots.get(key)
        if root is None:
            root = self.roots[key] = _Storage(key, stype.dtype, location, numel)
        elif root.dtype != stype.dtype or root.numel != numel:
            raise _Bad(f"storage {_show(key)} is described twice with different types or sizes")
        if view is None:
            return root
        if type(view) is not tuple or len(view) != 3:
            raise _Bad(f"storage {_show(key)} has a malformed view description")
        view_key = self._name(view[0], "storage view key")
        offset = _int(view[1], "a storage view's offset")
        size = _int(view[2], "a storage view's size")
        if offset + size > numel:
            raise _Bad(f"a view of storage {_show(key)} ends at element {offset + size}, past its {numel}")
        out = self.views.get((key, view_key))
        if out is None:
            out = self.views[(key, view_key)] = _Storage(key, stype.dtype, location, numel, offset, size)
        return out

    @staticmethod
    def _name(v: object, what: str) -> str:
        if type(v) is bytes:
            v = v.decode("latin-1")
        if type(v) is int:
            v = str(v)
        if type(v) is not str or len(v) > 4096:
            raise _Bad(f"a {what} is {_an(v)}, not a short string")
        return v


def _show(text: str, limit: int = 120) -> str:
    """Quote a name read from a file for a one-line message: control characters escaped, length capped."""
    out = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text[:limit])
    return f"'{out}{'...' if len(text) > limit else ''}'"


# --------------------------------------------------------------------------------------------------
# The two layouts.


def _run(path: str, reader: _Reader, where: str, storages: _Storages | None, nbytes: int) -> object:
    try:
        return _Unpickler(reader, storages, nbytes).load()
    except _OverBudget as e:
        raise limits.exceeded(path, e.limit, f"{where} {e.what}", e.value, nbytes=e.nbytes) from None
    except _Refused as e:
        if e.known_torch:
            raise FormatError(
                f"{path}: refuses to load global {_show(e.qualname)} from the pickle: it rebuilds a tensor "
                "type paramscope does not read (only dense tensors); save a state_dict of dense tensors"
            ) from None
        raise FormatError(
            f"{path}: refuses to load global {_show(e.qualname)} from the pickle (only tensor and container "
            "types are allowed); this file may be malicious"
        ) from None
    except _Bad as e:
        raise FormatError(f"{path}: {where} is not a valid checkpoint pickle: {e}; {_FIX}") from None
    except (RecursionError, MemoryError) as e:
        raise FormatError(f"{path}: {where} is too large or nested too deeply to read ({type(e).__name__}); "
                          f"{_FIX}") from None


@dataclass
class _Loaded:
    root: object
    check: Callable[[list[tuple[str, _TensorRef]]], None]
    notes: list[str]
    nbytes: int  # what the file spends on the pickles: the base of the walk's budgets


def _open_zip(path: str, f: Any) -> tuple[zipfile.ZipFile, dict[str, zipfile.ZipInfo]]:
    try:
        zf = zipfile.ZipFile(f)
        entries = {info.filename: info for info in zf.infolist()}
    except Exception as e:  # zipfile raises many types for damaged directories
        raise FormatError(
            f"{path}: the zip archive is truncated or damaged (its directory cannot be read); {_FIX}"
        ) from e
    return zf, entries


def _data_pkl(entries: dict[str, zipfile.ZipInfo], order: list[str]) -> list[str]:
    found = [n for n in entries if n.endswith("/data.pkl") and n.count("/") == 1]
    if len(found) > 1 and order:
        # torch reads the folder of the archive's first entry
        first = order[0].split("/", 1)[0]
        found = [n for n in found if n.split("/", 1)[0] == first] or found
    return found


def _load_zip(path: str, f: Any) -> _Loaded:
    zf, entries = _open_zip(path, f)
    names = list(entries)
    found = _data_pkl(entries, [i.filename for i in zf.infolist()])
    if not found:
        raise FormatError(
            f"{path}: zip archive has no '<folder>/data.pkl', so it is not a torch.save checkpoint; "
            "pass a file written by torch.save"
        )
    if len(found) > 1:
        raise FormatError(f"{path}: zip archive has {len(found)} data.pkl files ({', '.join(map(_show, found[:3]))}); "
                          "pass a file written by torch.save")
    pkl = found[0]
    stem = pkl.split("/", 1)[0]
    if f"{stem}/constants.pkl" in entries or any(n.startswith(f"{stem}/code/") for n in names):
        raise FormatError(
            f"{path}: this is a TorchScript archive (torch.jit.save), whose pickles name code; paramscope reads "
            "torch.save checkpoints: save the model's state_dict() with torch.save"
        )
    info = entries[pkl]
    if info.file_size > MAX_PICKLE_BYTES:
        raise limits.exceeded(path, limits.PICKLE_BYTES, f"{_show(pkl)}'s size", info.file_size)
    # torch.save stores entries uncompressed; a re-zipped checkpoint's data.pkl may be deflated, but a
    # deflate bomb (20 kB inflating to 20 MB of EMPTY_SET) is refused from the directory, before inflating,
    # and again if the entry inflates past what the directory says.
    stored = info.compress_size if info.compress_type != zipfile.ZIP_STORED else info.file_size
    cap = MAX_PICKLE_BYTES
    if info.compress_type != zipfile.ZIP_STORED:
        cap = min(cap, DEFLATED_ALLOWANCE + limits.MAX_DEFLATE_RATIO * stored)
        if info.file_size > cap:
            raise limits.exceeded(path, limits.DEFLATE_RATIO, f"{_show(pkl)} is compressed and inflates from "
                                  f"{stored:,} to {info.file_size:,} bytes: its ratio",
                                  info.file_size // max(stored, 1))
    try:
        with zf.open(info) as fh:
            data = fh.read(cap + 1)
    except Exception as e:  # bad CRC, bad local header, unsupported compression, encryption ...
        raise FormatError(f"{path}: cannot read {_show(pkl)} from the zip archive (it is damaged); {_FIX}") from e
    if len(data) > cap or len(data) != info.file_size:
        raise FormatError(f"{path}: {_show(pkl)} unpacks to {'more than ' if len(data) > cap else ''}"
                          f"{min(len(data), cap):,} bytes where the zip directory says {info.file_size:,}; the file "
                          f"is damaged, {_FIX}")
    storages = _Storages()
    root = _run(path, _Reader.of(data), _show(pkl), storages, stored)

    def check(tensors: list[tuple[str, _TensorRef]]) -> None:
        # Every storage the pickle names, first through the tensors that use it (to name one in the message),
        # then any the object does not reach. Sizes come from the zip directory; no storage is read.
        users = [(name, ref.storage) for name, ref in tensors if ref.storage is not None]
        users += [(None, st) for st in storages.roots.values()]
        seen: set[str] = set()
        for name, st in users:
            if st.key in seen:
                continue
            seen.add(st.key)
            entry = f"{stem}/data/{st.key}"
            whose = f"tensor {_show(name)} refers to storage {_show(entry)}" if name is not None else \
                f"the pickle names storage {_show(entry)}"
            if entry not in entries:
                raise FormatError(f"{path}: {whose}, which is missing from the zip archive; the file is truncated "
                                  f"or damaged, {_FIX}")
            have = entries[entry].file_size
            if st.nbytes > have:
                raise FormatError(
                    f"{path}: {whose}, which should hold {st.nbytes:,} bytes ({st.numel:,} x {st.dtype.name}) but "
                    f"its zip entry has {have:,}; the file is truncated or damaged, {_FIX}"
                )

    return _Loaded(root, check, [], stored)


def _load_legacy(path: str, f: Any, size: int) -> _Loaded:
    reader = _Reader(f, 0, MAX_PICKLE_BYTES, capped=True)
    magic = _run(path, reader, "the first pickle", None, size)
    if type(magic) is not int or magic != LEGACY_MAGIC:
        raise FormatError(f"{path}: a plain pickle, not a torch.save checkpoint (it does not start with torch's magic "
                          "number); pass a file written by torch.save")
    version = _run(path, reader, "the protocol version pickle", None, size)
    if type(version) is not int or version != LEGACY_PROTOCOL:
        shown = _show_int(version) if type(version) is int else f"{_an(version)}"
        raise FormatError(f"{path}: legacy torch.save protocol version is {shown}, not {LEGACY_PROTOCOL}; "
                          "re-save the file with a recent torch.save")
    sys_info = _run(path, reader, "the sys_info pickle", None, size)
    notes = []
    if type(sys_info) is dict and sys_info.get("little_endian") is False:
        notes.append("saved on a big-endian machine")
    storages = _Storages()
    root = _run(path, reader, "the object pickle", storages, size)
    keys = _run(path, reader, "the storage-key pickle", None, size)
    if type(keys) is not list or not all(type(k) is str for k in keys):
        raise FormatError(f"{path}: the list of storage keys after the object is not a list of strings; {_FIX}")
    end = reader.tell()

    def check(tensors: list[tuple[str, _TensorRef]]) -> None:
        listed = set(keys)
        for name, ref in tensors:
            if ref.storage is not None and ref.storage.key not in listed:
                raise FormatError(
                    f"{path}: tensor {_show(name)} refers to storage {_show(ref.storage.key)}, which is not in the "
                    f"file's list of storages; the file is damaged, {_FIX}"
                )
        need = 0
        for key in keys:
            st = storages.roots.get(key)
            if st is None:
                raise FormatError(f"{path}: the file's list of storages names {_show(key)}, which no tensor "
                                  f"describes, so its size is unknown; the file is damaged, {_FIX}")
            need += 8 + st.nbytes  # torch writes each storage as an int64 element count, then its bytes
        have = size - end
        if need > have:
            raise FormatError(
                f"{path}: the {len(keys)} storages after the pickles need {need:,} bytes but the file has {have:,} "
                f"there; the file is truncated, {_FIX}"
            )
        if need < have:
            notes.append(f"{have - need:,} bytes after the last storage are not part of the checkpoint")

    return _Loaded(root, check, notes, size)


# --------------------------------------------------------------------------------------------------
# From the unpickled object to tensors.

_MODEL_KEYS = ("state_dict", "model_state_dict", "model", "module", "net", "network", "model_state")
_OPTIMIZER_KEYS = {
    "optimizer", "optimizers", "optimizer_state_dict", "optimizer_states", "optimizer_state", "optim",
    "optim_state", "optim_state_dict", "opt", "opt_state", "scaler", "grad_scaler", "scaler_state_dict",
    "amp", "lr_scheduler", "lr_schedulers", "scheduler", "schedulers", "scheduler_state_dict",
}


def _is_optimizer_key(key: str) -> bool:
    k = key.lower()
    return k in _OPTIMIZER_KEYS or "optim" in k or "scheduler" in k or "scaler" in k


def _is_tensor(v: object) -> bool:
    return type(v) in (_TensorRef, _Storage)


def _key_str(k: object) -> str:
    if type(k) is str:
        return k
    if type(k) is bytes:
        return k.decode("latin-1")
    if type(k) is tuple:
        return ".".join(_key_str(x) for x in k)
    return str(k)


def _json_safe(v: object) -> object:
    """A metadata value as plain JSON data, so that every renderer (``--format json`` too) can write it.

    Bytes, complex numbers, integers too long to print, dtypes and other records become repr-like strings
    (``"b'\\x00ab'"``, ``"(1+2j)"``, ``"torch.float16"``); sets become sorted lists;
    dicts reaching here are empty (the walk goes into the others) and get string keys.
    """
    t = type(v)
    if v is None or t is bool or t is str or t is float:
        return v
    if t is int:
        return v if v.bit_length() <= 3_000 else f"<an integer of about {int(v.bit_length() * 0.30103):,} digits>"
    if t is bytes or t is bytearray:
        return repr(bytes(v))  # type: ignore[arg-type]
    if t is complex:
        return repr(v)
    if t is _StorageType:
        return f"torch.{v.name}"  # type: ignore[union-attr]
    if t is _DType or t is _Global:
        return str(v)
    if t is list:
        return [_json_safe(x) for x in v]  # type: ignore[union-attr]
    if t is tuple:
        return tuple(_json_safe(x) for x in v)  # type: ignore[union-attr]
    if t is set or t is frozenset:
        return sorted((_json_safe(x) for x in v), key=repr)  # type: ignore[union-attr]
    if t in _CONTAINERS:
        return {_key_str(k): _json_safe(x) for k, x in v.items()}  # type: ignore[union-attr]
    return f"<{_an(v)}>"


def _text_size(v: object) -> int:
    """About how many characters ``_json_safe(v)`` writes, found without writing them (bytes: 4 per byte)."""
    t = type(v)
    if t is str:
        return len(v) + 2  # type: ignore[arg-type]
    if t is bytes or t is bytearray:
        return 4 * len(v) + 3  # type: ignore[arg-type]
    if t is int:
        return min(v.bit_length(), 3_001) // 3 + 1  # type: ignore[union-attr]
    if t in (list, tuple, set, frozenset):
        return 2 + sum(_text_size(x) + 2 for x in v)  # type: ignore[union-attr]
    return 8


_ATOMS = (str, bytes, int, float, bool, complex, type(None))


class _Walker:
    """Tensors and metadata of the unpickled object, by dotted path, within the budgets of the file's size.

    A container reached through several references is walked once per path (that is what its names are),
    so every value visited is charged to ``limits.WALK`` and every character of a name, a metadata key or
    a metadata string to ``limits.NAME_CHARS`` *before* it is built: a 20 kB pickle whose shared dicts
    would expand to a million names, or whose one long key repeats on 100 levels, stops at its budget.
    """

    def __init__(self, path: str, nbytes: int) -> None:
        self.path = path
        self.nbytes = nbytes
        self.tensors: list[tuple[str, _TensorRef, Kind]] = []
        self.metadata: dict[str, object] = {}
        self.notes: list[str] = []
        self.budget = limits.budget(limits.WALK, nbytes)
        self.chars = limits.budget(limits.NAME_CHARS, nbytes)
        self.cycles = 0

    def spend(self, n: int) -> None:
        self.budget -= n
        if self.budget < 0:
            raise _too_many(self.path, self.nbytes)

    def spend_chars(self, n: int) -> None:
        self.chars -= n
        if self.chars < 0:
            raise limits.exceeded(self.path, limits.NAME_CHARS, "the checkpoint's tensor names and metadata come to",
                                  nbytes=self.nbytes)

    def meta(self, plen: int, parts: list[str], value: object) -> None:
        self.spend_chars(plen + _text_size(value))
        self.metadata[".".join(parts) or "value"] = _json_safe(value)

    def walk(self, obj: object, parts: list[str], plen: int, base: int, kind: Kind, on_path: set[int]) -> None:
        """Tensors are named by ``parts[base:]``, metadata by all of ``parts`` (``plen`` characters joined)."""
        self.spend(1)
        t = type(obj)
        if t is _TensorRef or t is _Storage:
            if len(self.tensors) >= MAX_TENSORS:
                raise limits.exceeded(self.path, limits.TENSORS, "the checkpoint holds")
            self.spend_chars(plen)
            ref = obj if t is _TensorRef else _storage_as_tensor(obj)  # type: ignore[arg-type]
            name = ".".join(parts[base:]) or (parts[-1] if parts else "tensor")
            self.tensors.append((name, ref, kind))  # type: ignore[arg-type]
            return
        if t in _CONTAINERS or t is list or t is tuple:
            if len(parts) >= MAX_DEPTH:
                raise _too_deep(self.path)
            if id(obj) in on_path:
                self.cycles += 1
                return
            items = list(obj.items()) if t in _CONTAINERS else list(enumerate(obj))  # type: ignore[union-attr]
            if not items or (t is list or t is tuple) and all(type(v) in _ATOMS for _, v in items):
                self.spend(len(items))
                self.meta(plen, parts, obj)
                return
            on_path.add(id(obj))
            sep = 1 if parts else 0
            for k, v in items:
                key = _key_str(k)
                self.walk(v, parts + [key], plen + sep + len(key), base, kind, on_path)
            on_path.discard(id(obj))
            return
        if t in (set, frozenset):
            self.spend(len(obj))  # type: ignore[arg-type]
        self.meta(plen, parts, obj)


def _too_deep(path: str) -> FormatError:
    return FormatError(f"{path}: the checkpoint's object is nested more than {MAX_DEPTH} levels deep; {_FIX}")


def _too_many(path: str, nbytes: int) -> Exception:
    return limits.exceeded(path, limits.WALK, "the checkpoint's object (a shared container counts once per path "
                           "to it) holds", nbytes=nbytes)


def _check_size(path: str, root: object, nbytes: int) -> None:
    """Refuse an object whose walk (a shared container is walked once per path) would be too long or deep.

    Sizes are computed once per container (iteratively, post-order), so a pickle of 64 lists that each
    hold the previous one twice (2**64 paths) is refused at once instead of walked.
    """
    cap = limits.budget(limits.WALK, nbytes)
    sizes: dict[int, int] = {}
    on_path: set[int] = set()
    todo: list[tuple[object, int, bool]] = [(root, 0, False)]
    while todo:
        obj, depth, done = todo.pop()
        t = type(obj)
        kids = obj.values() if t in _CONTAINERS else obj if t is list or t is tuple else None  # type: ignore
        if kids is None:
            continue
        if done:
            total = 1
            for v in kids:
                total += sizes.get(id(v), 1)
            sizes[id(obj)] = min(total, cap + 1)
            on_path.discard(id(obj))
            continue
        if id(obj) in sizes or id(obj) in on_path:
            continue
        if depth >= MAX_DEPTH:
            raise _too_deep(path)
        on_path.add(id(obj))
        todo.append((obj, depth, True))
        todo.extend((v, depth + 1, False) for v in kids if type(v) in _CONTAINERS or type(v) in (list, tuple))
    if sizes.get(id(root), 1) > cap:
        raise _too_many(path, nbytes)


def _storage_as_tensor(st: _Storage) -> _TensorRef:
    n = st.numel if st.view_numel is None else st.view_numel
    return _TensorRef(st, 0, (n,), (1,), st.dtype)


def _has_tensor(obj: object, budget: list[int]) -> bool:
    todo, seen = [obj], set()
    while todo:
        v = todo.pop()
        budget[0] -= 1
        if budget[0] < 0:
            return False
        if _is_tensor(v):
            return True
        if type(v) in _CONTAINERS or type(v) in (list, tuple):
            if id(v) in seen:
                continue
            seen.add(id(v))
            todo.extend(v.values() if type(v) in _CONTAINERS else v)  # type: ignore[union-attr]
    return False


def _flat_state_dict(v: object) -> bool:
    return type(v) in _CONTAINERS and bool(v) and all(_is_tensor(x) for x in v.values())  # type: ignore[union-attr]


def _walk_root(path: str, root: object, nbytes: int) -> _Walker:
    _check_size(path, root, nbytes)
    w = _Walker(path, nbytes)
    if type(root) not in _CONTAINERS:
        w.walk(root, [], 0, 0, Kind.PARAMETER, set())
        if _is_tensor(root):
            w.notes.append("the file holds a single tensor, not a state_dict; it is named 'tensor'")
        elif w.tensors:
            w.notes.append(f"the file holds {_an(root)}, not a state_dict; tensors are named by position")
        else:
            w.notes.append(f"the file holds {_an(root)}, not tensors")
        return w
    items = list(root.items())  # type: ignore[union-attr]
    if not items:
        w.notes.append("the file holds an empty dict, no tensors")
        return w
    if _flat_state_dict(root):
        w.walk(root, [], 0, 0, Kind.PARAMETER, set())
        return w
    keys = [_key_str(k) for k, _ in items]
    budget = [w.budget]
    model: int | None = None
    for i, (k, v) in enumerate(items):
        if keys[i].lower() in _MODEL_KEYS and _has_tensor(v, budget):
            model = i
            break
    if model is None:
        candidates = [i for i, (k, v) in enumerate(items) if not _is_optimizer_key(keys[i]) and _flat_state_dict(v)]
        if len(candidates) == 1:
            model = candidates[0]
        elif len(candidates) > 1:
            w.notes.append(
                f"no model-like key and {len(candidates)} dicts of tensors "
                f"({', '.join(_show(keys[i]) for i in candidates[:4])}); all their tensors are reported as other"
            )
    top_level = model is None and any(_is_tensor(v) for _, v in items)
    if model is not None:
        w.notes.append(f"model state_dict found under {_show(keys[model])}; its tensors are named without the prefix")
    elif top_level:
        w.notes.append("tensors stored at the top level, next to other values, are taken as the model's")
    elif not w.notes and any(_has_tensor(v, budget) for i, (_, v) in enumerate(items)
                             if not _is_optimizer_key(keys[i])):
        w.notes.append("no model state_dict found; tensors are reported as other, named by their path")
    for i, (k, v) in enumerate(items):
        parts = [keys[i]]
        if i == model:
            w.walk(v, parts, len(parts[0]), 1, Kind.PARAMETER, set())
        elif _is_optimizer_key(keys[i]):
            w.walk(v, parts, len(parts[0]), 0, Kind.OPTIMIZER_STATE, set())
        elif top_level and _is_tensor(v):
            w.walk(v, parts, len(parts[0]), 0, Kind.PARAMETER, set())
        else:
            w.walk(v, parts, len(parts[0]), 0, Kind.OTHER, set())
    return w


def _assemble(path: str, loaded: _Loaded) -> TorchCheckpoint:
    w = _walk_root(path, loaded.root, loaded.nbytes)
    refs = [(name, ref) for name, ref, _ in w.tensors]
    checked: set[int] = set()  # a tensor reached under several names is checked once
    for name, ref in refs:  # every tensor lies inside its storage (or storage view)
        if id(ref) in checked:
            continue
        checked.add(id(ref))
        if ref.storage is not None and ref.needed_bytes() > ref.storage.visible_bytes:
            raise FormatError(
                f"{path}: tensor {_show(name)} (storage offset {ref.offset:,}, shape {list(ref.shape)}, stride "
                f"{list(ref.stride)}, {ref.dtype.name}) needs {ref.needed_bytes():,} bytes of storage "
                f"{_show(ref.storage.key)}, which holds {ref.storage.visible_bytes:,}; the file is damaged, {_FIX}"
            )
    loaded.check(refs)
    notes = list(loaded.notes) + w.notes
    tensors: list[Tensor] = []
    first: dict[tuple[object, ...], str] = {}
    views: dict[str, set[tuple[object, ...]]] = {}
    view_names: dict[str, list[str]] = {}
    keys: dict[int, tuple[object, ...]] = {}
    for name, ref, kind in w.tensors:
        tied_to = None
        if ref.storage is not None:
            vk = keys.get(id(ref))
            if vk is None:
                vk = keys[id(ref)] = ref.view_key()
            if vk in first:
                tied_to = first[vk]
                kind = Kind.ALIAS
            else:
                first[vk] = name
                views.setdefault(ref.storage.key, set()).add(vk)
                view_names.setdefault(ref.storage.key, []).append(name)
        tensors.append(Tensor(name=name, shape=ref.shape, dtype=ref.dtype.name, kind=kind, tied_to=tied_to))
    shared = [key for key, vs in views.items() if len(vs) > 1]
    for key in shared[:5]:
        shown = ", ".join(_show(n) for n in view_names[key][:3])
        notes.append(f"{len(views[key])} different views share storage {_show(key)} ({shown}); each is counted "
                     "on its own, not as a tie")
    if len(shared) > 5:
        notes.append(f"{len(shared) - 5} more storages are shared by different views")
    model_names = [t.name for t in tensors if t.kind in (Kind.PARAMETER, Kind.ALIAS)]
    for prefix, why in (("module.", "DataParallel/DistributedDataParallel"), ("_orig_mod.", "torch.compile")):
        if model_names and all(n.startswith(prefix) for n in model_names):
            notes.append(f"every model tensor name starts with {prefix!r} (saved from a {why} wrapper); "
                         "names are kept as stored")
    if w.cycles:
        notes.append(f"{w.cycles} reference cycles in the checkpoint's object were skipped")
    check_unique(tensors, path)
    return TorchCheckpoint(tensors=tensors, metadata=w.metadata, notes=notes)


# --------------------------------------------------------------------------------------------------
# Public entry points.


def read(path: str | os.PathLike[str]) -> TorchCheckpoint:
    """Names, shapes and dtypes of every tensor in a ``torch.save`` file, without reading any weights.

    Raises :class:`~paramscope.errors.FormatError` for anything that is not a readable checkpoint.
    """
    try:
        p = os.fspath(path)
    except TypeError:
        raise FormatError(f"{path!r}: not a file path; pass the path of a torch.save file") from None
    shown = safe(p if isinstance(p, str) else p.decode("utf-8", "replace"))
    f = open_regular(p, shown, "pass the checkpoint file inside it")
    try:
        with f:
            try:
                size = os.fstat(f.fileno()).st_size
                head = f.read(8)
                f.seek(0)
            except OSError as e:
                raise FormatError(f"{shown}: cannot read ({e.strerror}); check the file") from None
            if head.startswith(b"PK\x03\x04"):
                loaded = _load_zip(shown, f)
            elif head[:1] == b"\x80":
                loaded = _load_legacy(shown, f, size)
            else:
                if size >= 262:
                    f.seek(257)
                    if f.read(5) == b"ustar":
                        raise FormatError(f"{shown}: a tar-format checkpoint from torch before 1.0, which paramscope "
                                          "does not read; load it with an old torch and re-save it with torch.save")
                what = "an empty file" if size == 0 else "neither a zip archive nor a legacy torch.save pickle"
                raise FormatError(f"{shown}: not a PyTorch checkpoint ({what}); pass a file written by torch.save")
            return _assemble(shown, loaded)
    except FormatError:
        raise
    except (RecursionError, MemoryError) as e:
        raise FormatError(f"{shown}: the checkpoint is too large or nested too deeply to read "
                          f"({type(e).__name__}); {_FIX}") from None
    except Exception as e:  # the contract: any input bytes give a FormatError, never another exception
        detail = " ".join(str(e).split())[:200]
        raise FormatError(f"{shown}: cannot read the checkpoint ({type(e).__name__}: {detail}); {_FIX}") from e


def looks_like(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a torch.save file: a zip with ``<folder>/data.pkl`` or a legacy magic-number pickle.

    Reads the zip directory or the first few bytes only; never raises.
    """
    try:
        with open_regular(path, "", "") as f:
            head = f.read(4)
            f.seek(0)
            if head == b"PK\x03\x04":
                with zipfile.ZipFile(f) as zf:
                    entries = {i.filename: i for i in zf.infolist()}
                return bool(_data_pkl(entries, list(entries)))
            if head[:1] != b"\x80":
                return False
            # The magic number pickle is 16 bytes in protocol 2 (PROTO, LONG1 of 10 bytes, STOP).
            return _Unpickler(_Reader(f, 0, 64, capped=True), None, 64).load() == LEGACY_MAGIC
    except Exception:
        return False
