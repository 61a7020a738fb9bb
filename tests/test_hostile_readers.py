"""Hostile files for the torch.save and TensorFlow readers, made here by code: each is refused with exit 2 and
one ``error:`` line naming the file, no traceback, within time and memory bounds measured in a subprocess
under an address-space limit; and hypothesis-made pickle opcode streams and TF table blocks, from which only
paramscope errors escape.

The bounds are bounds, not timings: the promise is "any input of up to 1 MB answers or errs within 1 s and
200 MB"; the child is allowed ``SECONDS`` (a generous multiple, for a busy machine) for ``main()`` alone.
"""

from __future__ import annotations

import json
import os
import resource
import struct
import subprocess
import sys
import tempfile
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramscope import limits
from paramscope.errors import ParamscopeError
from paramscope.sources import tf_checkpoint as tfc
from paramscope.sources import torch_pickle

from .test_source_tf import MAGIC_BYTES, block, entry_proto, header_proto, table, trailer, varint

SRC = Path(__file__).resolve().parents[1] / "src"
ADDRESS_SPACE = 1 << 30  # Python and paramscope's imports need ~150 MB of address space; hostile files get the rest
MEGABYTES = 200  # peak resident memory of the child
SECONDS = 5.0  # main() alone; the promise is 1 s on an idle machine

# ----------------------------------------------------------------------------------------------------
# Running the CLI in a child under a memory limit.

CHILD = """
import json, resource, sys, time
from paramscope.cli import main
start = time.perf_counter()
code = main(sys.argv[1:])
seconds = time.perf_counter() - start
# VmHWM: this process's own peak; ru_maxrss would include the forking parent's (pytest's) memory before exec
try:
    with open("/proc/self/status") as f:
        peak = next(int(line.split()[1]) for line in f if line.startswith("VmHWM:")) / 1024
except (OSError, StopIteration):
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
sys.stdout.write("\\n" + json.dumps({"code": code, "seconds": seconds, "megabytes": peak}) + "\\n")
"""


def _limit_memory() -> None:
    resource.setrlimit(resource.RLIMIT_AS, (ADDRESS_SPACE, ADDRESS_SPACE))


@dataclass
class Outcome:
    code: int
    seconds: float
    megabytes: float
    stdout: str
    stderr: str


def run_cli(*args: str, env: dict[str, str] | None = None) -> Outcome:
    environ = {**os.environ, "PYTHONPATH": f"{SRC}{os.pathsep}{os.environ.get('PYTHONPATH', '')}", **(env or {})}
    proc = subprocess.run([sys.executable, "-c", CHILD, *args], capture_output=True, encoding="utf-8",
                          errors="backslashreplace", timeout=120, preexec_fn=_limit_memory, env=environ)
    *out, stats = proc.stdout.rstrip("\n").rsplit("\n", 1) if proc.stdout.strip() else ("", "{}")
    try:
        found = json.loads(stats)
    except json.JSONDecodeError:
        found = {}
    return Outcome(found.get("code", proc.returncode), found.get("seconds", float("inf")),
                   found.get("megabytes", float("inf")), "".join(out), proc.stderr)


def assert_refused(out: Outcome, shown: str, *fragments: str) -> str:
    """Exit 2, exactly one ``error:`` line naming ``shown``, every fragment in it, within the bounds."""
    assert "Traceback" not in out.stderr, out.stderr[-2000:]
    lines = out.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), out.stderr[:2000]
    line = lines[0]
    assert out.code == 2, line
    assert f"error: {shown}" in line, line
    for fragment in fragments:
        assert fragment in line, line
    assert not any(c in line for c in "\x1b\x07\x9b\u202e"), line
    assert out.seconds < SECONDS, (out.seconds, line)
    assert out.megabytes < MEGABYTES, (out.megabytes, line)
    return line


# ----------------------------------------------------------------------------------------------------
# A tiny pickle assembler for torch.save zip files.

PROTO = b"\x80\x02"
# _rebuild_tensor_v2(('storage', torch.FloatStorage, '0', 'cpu', 1), 0, (1,), (1,), False, OrderedDict())
TENSOR = (b"ctorch._utils\n_rebuild_tensor_v2\n(("
          b"X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x01tQ"
          b"K\x00K\x01\x85K\x01\x85\x89ccollections\nOrderedDict\n)RtR")


def put(i: int) -> bytes:  # LONG_BINPUT i, leaving the value on the stack
    return b"r" + struct.pack("<I", i)


def get(i: int) -> bytes:  # LONG_BINGET i
    return b"j" + struct.pack("<I", i)


def key(i: int) -> bytes:  # BININT i, a distinct dict key
    return b"J" + struct.pack("<i", i)


def write_zip(path: Path, pkl: bytes, *, deflate: bool = False, storages: dict[str, int] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED) as z:
        z.writestr("archive/data.pkl", pkl)
        for name, size in (storages if storages is not None else {"0": 4}).items():
            z.writestr(f"archive/data/{name}", bytes(size))
    return path


def shared_memo_bomb(inner: int, outer: int) -> bytes:
    """{k: D for k < outer} where D = {i: T for i < inner} is one dict shared through the memo: inner*outer names."""
    body = PROTO + b"}" + TENSOR + put(0) + b"0}(" + b"".join(key(i) + get(0) for i in range(inner)) + b"u" + put(1)
    return body + b"0(" + b"".join(key(i) + get(1) for i in range(outer)) + b"u."  # into the first dict


def doubling_lists(levels: int) -> bytes:
    """Each list holds the previous one twice: 2**levels paths to walk."""
    return PROTO + b"]q\x000" + b"(h\x00h\x00lq\x000" * levels + b"h\x00."


def long_key_on_every_level(key_bytes: int, levels: int, tensors: int) -> bytes:
    """One long key string, memoized, used on every level: names of levels * key_bytes characters each."""
    inner = b"}(" + b"".join(key(i) + get(1) for i in range(tensors)) + b"u"
    body = PROTO + b"X" + struct.pack("<I", key_bytes) + b"k" * key_bytes + put(0) + b"0" + TENSOR + put(1) + b"0"
    body += inner
    for _ in range(levels):  # {K: <previous>}
        body += put(2) + b"0}" + get(0) + get(2) + b"s"
    return body + b"."


def shared_bytes_metadata(size: int, copies: int) -> bytes:
    """A bytes value of ``size`` shown under ``copies`` keys: JSON would repeat its repr ``copies`` times."""
    body = PROTO + b"}" + b"B" + struct.pack("<I", size) + b"\x00" * size + put(0) + b"0("
    return body + b"".join(key(i) + get(0) for i in range(copies)) + b"u."


def zip_bytes_of(pkl: bytes) -> bytes:
    with tempfile.TemporaryDirectory() as d:
        return write_zip(Path(d) / "x.pt", pkl).read_bytes()


# ----------------------------------------------------------------------------------------------------
# The torch corpus: (builder of the file, fragments of the expected error).

Builder = Callable[[Path], Path]


def _zip(name: str, pkl: Callable[[], bytes], **kw) -> Builder:
    return lambda d: write_zip(d / name, pkl(), **kw)


def _truncated_zip(d: Path) -> Path:
    full = zip_bytes_of(PROTO + b"}X\x01\x00\x00\x00w" + TENSOR + b"s.")
    (d / "truncated.pt").write_bytes(full[: len(full) // 2])
    return d / "truncated.pt"


def _legacy_truncated(d: Path) -> Path:
    import pickle

    head = b"".join(pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, {"little_endian": True}))
    (d / "legacy.pt").write_bytes(head + PROTO + b"}X\x01\x00\x00\x00w" + TENSOR[:40])
    return d / "legacy.pt"


TORCH_CASES: dict[str, tuple[Builder, tuple[str, ...]]] = {
    # 20 kB whose shared dicts expand to 1,000,000 names (27.6 s and 576 MB before); 8,000,000 in 60 kB
    "shared-memo-1M": (_zip("memo1m.pt", lambda: shared_memo_bomb(1000, 1000)), ("MAX_WALK", "PARAMSCOPE_MAX_WALK=")),
    "shared-memo-8M": (_zip("memo8m.pt", lambda: shared_memo_bomb(2000, 4000)), ("MAX_WALK",)),
    "doubling-lists": (_zip("laughs.pt", lambda: doubling_lists(64)), ("MAX_WALK",)),
    "long-key-every-level": (_zip("names.pt", lambda: long_key_on_every_level(100_000, 90, 1000)), ("MAX_NAME_CHARS",)),
    "shared-bytes-metadata": (_zip("blob.pt", lambda: shared_bytes_metadata(400_000, 5000)), ("MAX_NAME_CHARS",)),
    # ~20 kB deflated data.pkl of 20 M opcodes (1.4-1.9 GB before): refused from the zip directory
    "deflate-EMPTY_SET": (_zip("set.pt", lambda: PROTO + b"\x8f" * 20_000_000 + b".", deflate=True),
                          ("MAX_DEFLATE_RATIO", "PARAMSCOPE_MAX_DEFLATE_RATIO=")),
    "deflate-EMPTY_LIST": (_zip("list.pt", lambda: PROTO + b"]" * 20_000_000 + b".", deflate=True),
                           ("MAX_DEFLATE_RATIO",)),
    "deflate-MEMOIZE": (_zip("memoize.pt", lambda: PROTO + b"N" + b"\x94" * 20_000_000 + b".", deflate=True),
                        ("MAX_DEFLATE_RATIO",)),
    # 1 MB stored floods: objects built, memo entries, and the slowest opcodes that build nothing
    "flood-EMPTY_SET": (_zip("fset.pt", lambda: PROTO + b"\x8f" * 1_000_000 + b"."), ("MAX_PICKLE_OBJECTS",)),
    "flood-MARK": (_zip("fmark.pt", lambda: PROTO + b"(" * 1_000_000 + b"."), ("MAX_PICKLE_OBJECTS",)),
    "flood-MEMOIZE": (_zip("fmemo.pt", lambda: PROTO + b"N" + b"\x94" * 1_000_000 + b"."), ("MAX_PICKLE_MEMO",)),
    "flood-DUP-POP": (_zip("fdup.pt", lambda: PROTO + b"N" + b"20" * 500_000), ("middle of an opcode",)),
    "flood-TUPLE1": (_zip("ftuple.pt", lambda: PROTO + b"N" + b"\x85" * 1_000_000 + b"."), ("MAX_PICKLE_OBJECTS",)),
    # text arguments: an endless line, an integer of 5,000 digits (over Python's 4,300-digit limit)
    "long-line": (_zip("line.pt", lambda: PROTO + b"c" + b"a" * 1_050_000), ("longer than 1,048,576 bytes",)),
    "int-5000-digits": (_zip("int.pt", lambda: PROTO + b"I" + b"9" * 5000 + b"\n."), ("malformed argument",)),
    "long-5000-digits": (_zip("long.pt", lambda: PROTO + b"L" + b"9" * 5000 + b"L\n."), ("malformed argument",)),
    # huge declared lengths
    "BINUNICODE8-2**63": (_zip("len8.pt", lambda: PROTO + b"\x8d" + struct.pack("<Q", 1 << 63) + b"."),
                          ("middle of an opcode",)),
    "BINBYTES-4GB": (_zip("bytes4g.pt", lambda: PROTO + b"B\xff\xff\xff\xff."), ("middle of an opcode",)),
    "storage-numel-2**62": (_zip("numel.pt", lambda: PROTO + TENSOR.replace(
        b"K\x01tQ", b"\x8a\x08" + (1 << 62).to_bytes(8, "little") + b"tQ") + b"."), ("outside [0",)),
    # deep nesting
    "nested-lists": (_zip("deep.pt", lambda: PROTO + b"]" * 200_000 + b"a" * 199_999 + b"."),
                     ("nested more than 100",)),
    "nested-tuple-key": (_zip("tkey.pt", lambda: PROTO + b"}(" + b")" + b"\x85" * 200_000 + b"K\x01u."),
                         ("dict key or set element is a tuple",)),
    "truncated-zip": (_truncated_zip, ("truncated or damaged",)),
    "truncated-legacy": (_legacy_truncated, ("middle of an opcode",)),
    "refused-global": (_zip("evil.pt", lambda: PROTO + b"cos\nsystem\nX\x02\x00\x00\x00idt\x85R."), ("os.system",)),
}


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hostile")


@pytest.mark.parametrize("case", list(TORCH_CASES))
def test_hostile_torch_file(corpus: Path, case: str) -> None:
    build, fragments = TORCH_CASES[case]
    folder = corpus / case
    folder.mkdir()
    path = build(folder)
    assert path.stat().st_size <= 1_100_000  # up to about 1 MB: the promise is 1 s and 200 MB
    assert_refused(run_cli(str(path)), str(path), *fragments)


def test_budget_is_raised_by_its_environment_variable(corpus: Path) -> None:
    path = write_zip(corpus / "tiny.pt", PROTO + b"}(" + b"".join(key(i) + b"N" for i in range(20)) + b"u.")
    line = assert_refused(run_cli(str(path), env={"PARAMSCOPE_MAX_PICKLE_OPS": "30"}), str(path), "MAX_PICKLE_OPS")
    assert line.endswith("more than 30 opcodes (the limit MAX_PICKLE_OPS = 30 opcodes); if a real file needs more, "
                         "set PARAMSCOPE_MAX_PICKLE_OPS=60")
    out = run_cli(str(path), env={"PARAMSCOPE_MAX_PICKLE_OPS": "thirty"})  # not a positive integer: ignored
    assert "MAX_PICKLE_OPS" not in out.stderr


def test_tensor_budget(corpus: Path) -> None:
    pkl = PROTO + b"}" + TENSOR + put(0) + b"0(" + b"".join(key(i) + get(0) for i in range(5)) + b"u."
    path = write_zip(corpus / "five.pt", pkl)
    line = assert_refused(run_cli(str(path), env={"PARAMSCOPE_MAX_TENSORS": "4"}), str(path))
    assert line == (f"error: {path}: the checkpoint holds more than 4 tensors (the limit MAX_TENSORS = 4 tensors); "
                    "if a real file needs more, set PARAMSCOPE_MAX_TENSORS=8")


def test_metadata_of_any_type_is_json(tmp_path: Path) -> None:
    """bytes, complex, sets, huge integers and dtypes in a torch file's metadata: --format json writes JSON."""
    huge = (10**5000).to_bytes(((10**5000).bit_length() + 8) // 8, "little", signed=True)
    pkl = (PROTO + b"}(" + b"X\x01\x00\x00\x00w" + TENSOR
           + b"X\x04\x00\x00\x00blobC\x03\x00\xff\x1b"
           + b"X\x01\x00\x00\x00ccbuiltins\ncomplex\nG?\xf0\x00\x00\x00\x00\x00\x00G@\x00\x00\x00\x00\x00\x00\x00\x86R"
           + b"X\x01\x00\x00\x00s\x8f(K\x02K\x01\x90"
           + b"X\x03\x00\x00\x00big\x8b" + struct.pack("<i", len(huge)) + huge
           + b"X\x02\x00\x00\x00dtctorch\nbfloat16\n"
           + b"X\x01\x00\x00\x00l(C\x01\x00K\x01l"
           + b"u.")
    path = write_zip(tmp_path / "meta.pt", pkl)
    out = run_cli(str(path), "--format", "json")
    assert out.code == 0, out.stderr
    meta = json.loads(out.stdout)["metadata"]
    assert meta["blob"] == "b'\\x00\\xff\\x1b'" and meta["c"] == "(1+2j)" and meta["s"] == [1, 2]
    assert meta["big"] == "<an integer of about 5,000 digits>" and meta["dt"] == "torch.bfloat16"
    assert meta["l"] == ["b'\\x00'", 1]


# ----------------------------------------------------------------------------------------------------
# The TensorFlow corpus.


def write_tf(prefix: Path, entries: dict[bytes, bytes], data_size: int = 64) -> Path:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    items = [(b"", header_proto(1))] + sorted(entries.items())
    Path(f"{prefix}.index").write_bytes(table(items))
    Path(f"{prefix}.data-00000-of-00001").write_bytes(bytes(data_size))
    return prefix


def _tf_newlines(d: Path) -> Path:
    write_tf(d / "model.ckpt", {b"w": entry_proto(1, [2], 0, 8)})
    (d / "checkpoint").write_bytes(b"\n" * 200_000 + b" " * 1000)  # 27 s before
    return d


def _tf_long_line(d: Path) -> Path:
    write_tf(d / "model.ckpt", {b"w": entry_proto(1, [2], 0, 8)})
    (d / "checkpoint").write_bytes(b'model_checkpoint_path: "' + b"a" * 100_000 + b'"\n')
    return d


def _tf_target_with_escapes(d: Path) -> Path:
    (d / "checkpoint").write_text('model_checkpoint_path: "evil\\033]0;pwned\\007\u202e"\n', encoding="utf-8")
    (d / "other.index").write_bytes(b"")
    return d


def _tf_index_named_with_escapes(d: Path) -> Path:
    (d / "x\x1b[2J\x07.index").write_bytes(bytes(100))
    return d


def _tf_key_in_error_with_escapes(d: Path) -> Path:
    prefix = write_tf(d / "model.ckpt", {b"evil\x1b[2J\x07": entry_proto(1, [1000], 0, 4000)})
    return Path(f"{prefix}.index")


def _tf_huge_block_handle(d: Path) -> Path:
    footer = (varint(0) + varint(1) + varint(1 << 62) + varint(1 << 62)).ljust(40, b"\0") + MAGIC_BYTES
    (d / "h.index").write_bytes(footer)
    return d / "h.index"


def _tf_key_growth(d: Path) -> Path:
    # every key shares all of the previous one and adds 1,000 bytes: quadratic growth without the key budget
    header = header_proto(1)
    out, prev = bytearray(varint(0) + varint(0) + varint(len(header)) + header), b""
    for i in range(400):
        k = prev + bytes([65 + i % 26]) * 1000
        out += varint(len(prev)) + varint(1000) + varint(0) + k[len(prev):]
        prev = k
    body = bytes(out) + struct.pack("<I", 0) + struct.pack("<I", 1)
    index = block([(b"\xff", varint(0) + varint(len(body)))], 1)
    data = body + trailer(body) + index + trailer(index)
    handles = varint(0) + varint(0) + varint(len(body) + 5) + varint(len(index))
    (d / "g.index").write_bytes(data + handles.ljust(40, b"\0") + MAGIC_BYTES)
    return d / "g.index"


def _tf_restarts(d: Path) -> Path:
    body = struct.pack("<I", 0xFFFFFFFF)
    index = block([(b"\xff", varint(0) + varint(len(body)))], 1)
    handles = varint(0) + varint(0) + varint(len(body) + 5) + varint(len(index))
    (d / "r.index").write_bytes(body + trailer(body) + index + trailer(index) + handles.ljust(40, b"\0") + MAGIC_BYTES)
    return d / "r.index"


def _tf_truncated(d: Path) -> Path:
    prefix = write_tf(d / "model.ckpt", {b"w": entry_proto(1, [2], 0, 8)})
    data = Path(f"{prefix}.index").read_bytes()
    Path(f"{prefix}.index").write_bytes(data[: len(data) // 2] + data[-48:])
    return Path(f"{prefix}.index")


TF_CASES: dict[str, tuple[Builder, Callable[[Path], str], tuple[str, ...]]] = {
    "checkpoint-file-of-newlines": (_tf_newlines, lambda p: f"{p}/checkpoint", ("no model_checkpoint_path line",)),
    "checkpoint-file-long-line": (_tf_long_line, lambda p: f"{p}/checkpoint", ("MAX_REGEX_TEXT",)),
    "checkpoint-target-escapes": (_tf_target_with_escapes, lambda p: f"{p}/checkpoint",
                                  ("evil\\x1b]0;pwned\\x07\\u202e",)),
    "index-name-escapes": (_tf_index_named_with_escapes, lambda p: f"{p}/x\\x1b[2J\\x07.index", ("bad magic",)),
    "key-escapes": (_tf_key_in_error_with_escapes, lambda p: str(p).replace(".index", ".data-00000-of-00001"),
                    ("entry 'evil\\x1b[2J\\x07' needs bytes 0..4000",)),
    "huge-block-handle": (_tf_huge_block_handle, str, ("lies outside the file",)),
    "key-growth": (_tf_key_growth, str, ("MAX_TF_KEY_BYTES",)),
    "restart-count": (_tf_restarts, str, ("restart count",)),
    "truncated-index": (_tf_truncated, str, ("truncated or corrupt",)),
}


@pytest.mark.parametrize("case", list(TF_CASES))
def test_hostile_tf_checkpoint(corpus: Path, case: str) -> None:
    build, shown, fragments = TF_CASES[case]
    folder = corpus / f"tf-{case}"
    folder.mkdir()
    path = build(folder)
    assert_refused(run_cli(str(path)), shown(path), *fragments)


def test_tf_tensor_budget(corpus: Path) -> None:
    prefix = write_tf(corpus / "tf-many" / "model.ckpt", {b"a%d" % i: entry_proto(1, [1], 0, 4) for i in range(5)})
    line = assert_refused(run_cli(f"{prefix}.index", env={"PARAMSCOPE_MAX_TENSORS": "3"}), f"{prefix}.index")
    assert "the index holds more than 3 tensors (the limit MAX_TENSORS = 3 tensors)" in line


# ----------------------------------------------------------------------------------------------------
# Files that are not regular files, and paths the OS refuses: the readers never block and never leak OSError.

NOT_REGULAR = """
import sys
from paramscope.errors import FormatError
from paramscope.sources import tf_checkpoint, torch_pickle
for read, path in zip([torch_pickle.read, tf_checkpoint.read, tf_checkpoint.read], sys.argv[1:]):
    try:
        read(path)
    except FormatError as e:
        print(e)
"""


def test_named_pipes_do_not_block(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pytorch_model.bin")
    os.mkfifo(tmp_path / "x.index")
    (tmp_path / "folder").mkdir()
    os.mkfifo(tmp_path / "folder" / "checkpoint")
    (tmp_path / "folder" / "y.index").write_bytes(b"")
    env = {**os.environ, "PYTHONPATH": str(SRC)}
    proc = subprocess.run([sys.executable, "-c", NOT_REGULAR, str(tmp_path / "pytorch_model.bin"),
                           str(tmp_path / "x.index"), str(tmp_path / "folder")], capture_output=True, text=True,
                          timeout=30, env=env)
    assert proc.stderr == ""
    assert proc.stdout.splitlines() == [
        f"{tmp_path}/pytorch_model.bin: not a regular file (a named pipe, device or socket); pass a file",
        f"{tmp_path}/x.index: not a regular file (a named pipe, device, socket or broken link); pass a TensorFlow "
        "checkpoint's prefix, its .index file or its folder",
        f"{tmp_path}/folder/checkpoint: not a regular file (a named pipe, device or socket); pass a file",
    ]


@pytest.mark.parametrize("read", [torch_pickle.read, tfc.read], ids=["torch", "tf"])
@pytest.mark.parametrize("name", ["a" * 5000 + ".pt", "a" * 300 + "/b.index", "nul\0.index", "dir/"],
                         ids=["ENAMETOOLONG", "long-component", "NUL", "folder"])
def test_os_errors_are_format_errors(tmp_path: Path, read, name: str) -> None:
    (tmp_path / "dir").mkdir()
    with pytest.raises(ParamscopeError) as e:
        read(str(tmp_path / name))
    assert "\n" not in str(e.value) and str(e.value).startswith(str(tmp_path))


# ----------------------------------------------------------------------------------------------------
# Hypothesis: pickle opcode streams and TF table blocks; only paramscope errors escape, metadata is JSON.

_GLOBALS = [b"ctorch._utils\n_rebuild_tensor_v2\n", b"ccollections\nOrderedDict\n", b"ctorch\nFloatStorage\n",
            b"cbuiltins\nset\n", b"cbuiltins\ncomplex\n", b"cbuiltins\nbytearray\n", b"c_codecs\nencode\n",
            b"ctorch\nfloat16\n", b"ctorch\nSize\n", b"ctorch\ndevice\n", b"cos\nsystem\n", b"c__builtin__\neval\n"]
_BARE = [bytes([c]) for c in b"()]}\x8fNt\x88\x89ldusae\x85\x86\x87012\x94\x90\x91RbQ\x81\x92\x93.l"]


def _unicode(s: str) -> bytes:
    raw = s.encode("utf-8", "surrogatepass")
    return b"X" + struct.pack("<I", len(raw)) + raw


OPCODE = st.one_of(
    st.sampled_from(_BARE),
    st.sampled_from(_GLOBALS),
    st.just(TENSOR),
    st.integers(0, 255).map(lambda i: b"K" + bytes([i])),
    st.integers(0, 255).map(lambda i: b"q" + bytes([i])),
    st.integers(0, 255).map(lambda i: b"h" + bytes([i])),
    st.integers(0, 8).map(lambda i: put(i)) | st.integers(0, 8).map(lambda i: get(i)),
    st.integers(-(2**31), 2**31 - 1).map(key),
    st.integers(-(2**70), 2**70).map(lambda n: b"\x8a\x0a" + n.to_bytes(10, "little", signed=True)),
    st.floats(allow_nan=True).map(lambda x: b"G" + struct.pack(">d", x)),
    st.text(max_size=6).map(_unicode),
    st.binary(max_size=6).map(lambda b: b"C" + bytes([len(b)]) + b),
    st.text(alphabet="0123456789-+L ", max_size=8).map(lambda s: b"I" + s.encode() + b"\n"),
    st.text(alphabet="0123456789-+L ", max_size=8).map(lambda s: b"L" + s.encode() + b"\n"),
    st.binary(min_size=1, max_size=3),
)
STREAM = st.tuples(st.sampled_from([b"\x80\x02", b"\x80\x04", b""]), st.lists(OPCODE, max_size=40),
                   st.booleans()).map(lambda t: t[0] + b"".join(t[1]) + (b"." if t[2] else b""))


def _read_zip(data: bytes, folder: Path) -> None:
    path = folder / "fuzz.pt"
    write_zip(path, data)
    try:
        ck = torch_pickle.read(path)
    except ParamscopeError as e:
        assert "\n" not in str(e)
    else:
        json.dumps(ck.metadata, allow_nan=True)  # every metadata value is JSON data


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("fuzz")


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(pkl=STREAM)
def test_fuzz_pickle_opcode_streams(scratch: Path, pkl: bytes) -> None:
    _read_zip(pkl, scratch)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(items=st.lists(st.tuples(st.text(max_size=4), OPCODE), max_size=12))
def test_fuzz_state_dict_values(scratch: Path, items: list[tuple[str, bytes]]) -> None:
    """A dict whose values are single opcodes' values: exercises the walk and the metadata more than the stack."""
    _read_zip(PROTO + b"}(" + b"".join(_unicode(k) + v for k, v in items) + b"u.", scratch)


VARINT = st.integers(0, 1 << 35) | st.integers(0, 40)


@st.composite
def raw_block(draw) -> bytes:
    """A data block entry by entry, lengths as drawn (not as the bytes say), then a restart array."""
    out = bytearray()
    if draw(st.booleans()):
        header = header_proto(draw(st.integers(-2, 3)))
        out += varint(0) + varint(0) + varint(len(header)) + header
    for _ in range(draw(st.integers(0, 6))):
        shared, unshared = draw(VARINT), draw(st.integers(0, 12) | VARINT)
        value = draw(st.sampled_from([entry_proto(1, [2, 3], 0, 24), entry_proto(7, [], 0, 5),
                                      entry_proto(1, [4], slices=[((0, 2),)])]) | st.binary(max_size=16))
        out += varint(shared) + varint(unshared) + varint(draw(st.integers(0, len(value) + 2) | VARINT))
        out += draw(st.binary(min_size=0, max_size=12)) + value
    restarts = draw(st.lists(st.integers(0, len(out) + 4), max_size=3))
    out += b"".join(struct.pack("<I", r) for r in restarts)
    out += struct.pack("<I", draw(st.sampled_from([len(restarts), 0, 0xFFFFFFFF]) | st.integers(0, 8)))
    return bytes(out)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow,
                                                                   HealthCheck.function_scoped_fixture])
@given(body=raw_block(), separator=st.binary(max_size=4))
def test_fuzz_tf_table_blocks(scratch: Path, body: bytes, separator: bytes) -> None:
    index = block([(separator or b"\xff", varint(0) + varint(len(body)))], 1)
    handles = varint(0) + varint(0) + varint(len(body) + 5) + varint(len(index))
    data = body + trailer(body) + index + trailer(index) + handles.ljust(40, b"\0") + MAGIC_BYTES
    (scratch / "t.index").write_bytes(data)
    (scratch / "t.data-00000-of-00001").write_bytes(bytes(64))
    try:
        tensors = tfc.read(scratch / "t")
    except ParamscopeError as e:
        assert "\n" not in str(e)
    else:
        assert len(tensors) <= 6


@settings(max_examples=200, deadline=None)
@given(text=st.binary(max_size=300))
def test_fuzz_checkpoint_state_file(scratch: Path, text: bytes) -> None:
    folder = scratch / "state"
    folder.mkdir(exist_ok=True)
    (folder / "checkpoint").write_bytes(text)
    try:
        tfc.read(folder)
    except ParamscopeError as e:
        assert "\n" not in str(e) and "\x1b" not in str(e)


# ----------------------------------------------------------------------------------------------------
# The budgets themselves.


def test_every_budget_is_in_limits() -> None:
    """No reader defines its own cap: every ``MAX_* = <number>`` lives in paramscope.limits."""
    import re

    for path in (SRC / "paramscope" / "sources").glob("*.py"):
        for line in path.read_text(encoding="utf-8").splitlines():
            m = re.match(r"(MAX_\w+) = (.+)", line)
            if m and path.name in ("torch_pickle.py", "tf_checkpoint.py", "config.py", "safetensors.py"):
                assert m.group(2).startswith("limits.") or m.group(1) in ("MAX_RANK", "MAX_ELEMENTS"), (path, line)


def test_exceeded_message() -> None:
    e = limits.exceeded("model.pt", limits.PICKLE_OBJECTS, "'archive/data.pkl' builds", nbytes=200_000)
    if not limits.PICKLE_OBJECTS.overridden:
        assert str(e) == ("model.pt: 'archive/data.pkl' builds more than 200,000 objects (the limit "
                          "MAX_PICKLE_OBJECTS: 100,000 plus 0.5 per byte of its 200,000 bytes, at most 32,000,000); "
                          "if a real file needs more, set PARAMSCOPE_MAX_PICKLE_OBJECTS=400000")
    e = limits.exceeded("config.json", limits.LAYERS, "num_hidden_layers", 10**5000)
    assert "a number of about 5,001 digits" in str(e) and len(str(e)) < 300
