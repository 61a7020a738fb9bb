#!/usr/bin/env python
"""Fuzz every reader: only paramscope errors may escape, and no input may take long or grow memory much.

Not run by CI. Each target reads bytes from a file (a temporary one) the way paramscope does:

==============  ==========================================================================================
safetensors     ``sources.safetensors.read`` on a ``model.safetensors``
torch-zip       ``sources.torch_pickle.read`` on a torch.save zip (mutations go into ``data.pkl`` or the zip)
torch-legacy    ``sources.torch_pickle.read`` on a legacy (non-zip) torch.save file
tf-index        ``sources.tf_checkpoint.read`` on ``model.ckpt.index`` (+ a data shard)
tf-state        ``sources.tf_checkpoint.read`` on a folder whose ``checkpoint`` file is fuzzed
config          ``sources.config.build`` on a ``config.json`` (reading, validation, the family's formula)
==============  ==========================================================================================

Engines:

* ``mutate`` (standard library; the default): byte flips, interesting integers, inserted, deleted and
  duplicated chunks, truncation and splicing of a seed corpus made in code below.
* ``hypothesis``: structure-aware values for the JSON readers (safetensors header, config) and opcode
  streams for the pickle readers (``tests/test_hostile_readers.py``'s strategies).
* ``atheris`` (coverage-guided libFuzzer, if ``pip install atheris`` worked): each target in its own process
  for ``--seconds``; it stops at the first finding, which it prints.

Budget: ``--seconds`` per target (default 60) or ``--runs`` executions per target, whichever ends first.
Inputs of ``config`` (and all, with ``--pipeline``) run in a forked child each (``--isolate``), since a layer
count in a config can ask for unbounded work until MAX_LAYERS is enforced everywhere.
A finding is any exception other than ``ParamscopeError`` (a crash), any execution over ``--slow`` seconds
(default 1.0) and any growth of peak memory over ``--memory`` MB (default 200); each is saved under
``--out`` with the traceback. With ``--pipeline``, every input the reader accepts is also rendered
(``show`` in every format), to find crashes past the readers.

    python scripts/fuzz.py                               # every target, 60 s each, mutation
    python scripts/fuzz.py --seconds 300 torch-zip tf-index
    python scripts/fuzz.py --engine atheris --seconds 120
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pickle
import random
import resource
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback
import zipfile
from pathlib import Path
from typing import Callable

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))

TARGETS = ("safetensors", "torch-zip", "torch-legacy", "tf-index", "tf-state", "config")

# --------------------------------------------------------------------------------------------------
# Seeds, made in code.

PROTO = b"\x80\x02"
TENSOR = (b"ctorch._utils\n_rebuild_tensor_v2\n(("
          b"X\x07\x00\x00\x00storagectorch\nFloatStorage\nX\x01\x00\x00\x000X\x03\x00\x00\x00cpuK\x06tQ"
          b"K\x00K\x02K\x03\x86K\x03K\x01\x86\x89ccollections\nOrderedDict\n)RtR")


def _u(text: str) -> bytes:  # BINUNICODE
    raw = text.encode()
    return b"X" + struct.pack("<I", len(raw)) + raw


def _state_dict_pickle() -> bytes:
    """{'bert.embeddings.word_embeddings.weight': T, 'cls.predictions.decoder.weight': T (tied), 'epoch': 3, ...}."""
    return (PROTO + b"}q\x00(" + _u("bert.embeddings.word_embeddings.weight") + b"q\x01" + TENSOR + b"q\x02"
            + _u("cls.predictions.decoder.weight") + b"h\x02" + _u("epoch") + b"K\x03"
            + _u("meta") + b"C\x02\x00\xff" + _u("s") + b"\x8f(K\x01\x90" + b"u.")


def _zip(pkl: bytes) -> bytes:
    path = Path(tempfile.mkdtemp()) / "seed.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data.pkl", pkl)
        z.writestr("archive/data/0", bytes(24))
        z.writestr("archive/version", b"3\n")
    data = path.read_bytes()
    path.unlink()
    path.parent.rmdir()
    return data


def _legacy(pkl: bytes) -> bytes:
    head = b"".join(pickle.dumps(v, protocol=2) for v in
                    (0x1950A86A20F9469CFC6C, 1001, {"protocol_version": 1001, "little_endian": True}))
    return head + pkl + pickle.dumps(["0"], protocol=2) + struct.pack("<q", 6) + bytes(24)


def _safetensors(header: dict) -> bytes:
    raw = json.dumps(header).encode()
    return struct.pack("<Q", len(raw)) + raw + bytes(64)


def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _tf_index(names: list[bytes]) -> bytes:
    """A TensorFlow .index (LevelDB table) with one float32 [2, 3] entry per name."""
    from paramscope.sources.tf_checkpoint import MAGIC, crc32c

    def masked(data: bytes) -> bytes:
        crc = crc32c(data + b"\0")
        return b"\0" + struct.pack("<I", ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF)

    def block(items: list[tuple[bytes, bytes]]) -> bytes:
        out, prev = bytearray(), b""
        for k, v in items:
            shared = 0
            while shared < min(len(k), len(prev)) and k[shared] == prev[shared]:
                shared += 1
            out += _varint(shared) + _varint(len(k) - shared) + _varint(len(v)) + k[shared:] + v
            prev = k
        return bytes(out) + struct.pack("<II", 0, 1)

    def field(n: int, v: int) -> bytes:
        return _varint(n << 3) + _varint(v)

    def sub(n: int, b: bytes) -> bytes:
        return _varint(n << 3 | 2) + _varint(len(b)) + b

    header = field(1, 1) + sub(3, field(1, 1))
    entry = field(1, 1) + sub(2, sub(2, field(1, 2)) + sub(2, field(1, 3))) + field(4, 0) + field(5, 24)
    items = [(b"", header)] + [(name, entry) for name in sorted(names)]
    data = block(items)
    meta = block([])
    index = block([(b"\xff", _varint(0) + _varint(len(data)))])
    out = data + masked(data) + meta + masked(meta)
    index_at = len(out)
    out += index + masked(index)
    handles = _varint(len(data) + 5) + _varint(len(meta)) + _varint(index_at) + _varint(len(index))
    return out + handles.ljust(40, b"\0") + struct.pack("<Q", MAGIC)


BERT_CONFIG = {"model_type": "bert", "architectures": ["BertForMaskedLM"], "vocab_size": 100, "hidden_size": 16,
               "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 32,
               "max_position_embeddings": 64, "type_vocab_size": 2}
LLAMA_CONFIG = {"model_type": "llama", "vocab_size": 128, "hidden_size": 16, "num_hidden_layers": 2,
                "num_attention_heads": 4, "num_key_value_heads": 2, "intermediate_size": 40,
                "tie_word_embeddings": False}


def seeds(target: str) -> list[bytes]:
    if target == "safetensors":
        return [_safetensors({"w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]},
                              "b": {"dtype": "BF16", "shape": [3], "data_offsets": [24, 30]},
                              "__metadata__": {"format": "pt"}})]
    if target == "torch-zip":
        return [_zip(_state_dict_pickle()), _zip(PROTO + TENSOR + b".")]
    if target == "torch-legacy":
        return [_legacy(_state_dict_pickle())]
    if target == "tf-index":
        return [_tf_index([b"bert/embeddings/word_embeddings", b"global_step",
                           b"layer_0/kernel/.ATTRIBUTES/VARIABLE_VALUE"])]
    if target == "tf-state":
        return [b'model_checkpoint_path: "model.ckpt"\nall_model_checkpoint_paths: "model.ckpt"\n',
                b'model_checkpoint_path: "/other/machine/model.ckpt"\n']
    if target == "config":
        return [json.dumps(BERT_CONFIG).encode(), json.dumps(LLAMA_CONFIG).encode()]
    raise ValueError(target)


# --------------------------------------------------------------------------------------------------
# Running one input.


class Target:
    """Writes an input where the reader looks for it, and calls the reader."""

    def __init__(self, name: str, folder: Path) -> None:
        self.name = name
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        if name == "tf-index" or name == "tf-state":
            (folder / "model.ckpt.data-00000-of-00001").write_bytes(bytes(4096))
        if name == "tf-state":
            (folder / "model.ckpt.index").write_bytes(seeds("tf-index")[0])
        file = {"safetensors": "model.safetensors", "torch-zip": "model.pt", "torch-legacy": "model.pt",
                "tf-index": "model.ckpt.index", "tf-state": "checkpoint", "config": "config.json"}[name]
        self.path = folder / file
        self.arg = folder if name == "tf-state" else self.path

    def __call__(self, data: bytes) -> object:
        from paramscope.sources import config, safetensors, tf_checkpoint, torch_pickle

        self.path.write_bytes(data)
        if self.name == "safetensors":
            return safetensors.read(self.path)
        if self.name.startswith("torch"):
            return torch_pickle.read(self.path)
        if self.name.startswith("tf"):
            return tf_checkpoint.read(self.arg)
        return config.build(str(self.path))

    def render(self) -> None:
        from paramscope import cli

        for fmt in ("text", "json", "csv", "markdown"):
            try:
                cli.run([str(self.arg), "--format", fmt])
            except Exception as e:  # noqa: BLE001 - sorted below
                from paramscope.errors import ParamscopeError

                if not isinstance(e, ParamscopeError):
                    raise


# --------------------------------------------------------------------------------------------------
# Mutation engine.

INTERESTING = [0, 1, 0x7F, 0x80, 0xFF, 0x100, 0x7FFF, 0xFFFF, 0x7FFFFFFF, 0xFFFFFFFF, 1 << 31, 1 << 32, 1 << 62,
               (1 << 63) - 1, (1 << 64) - 1]


def mutate(rng: random.Random, data: bytes, corpus: list[bytes]) -> bytes:
    out = bytearray(data)
    for _ in range(rng.choice((1, 1, 2, 3, 5, 8))):
        how = rng.randrange(9)
        pos = rng.randrange(len(out) + 1)
        if how == 0 and out:
            out[pos % len(out)] ^= 1 << rng.randrange(8)
        elif how == 1 and out:
            out[pos % len(out)] = rng.randrange(256)
        elif how == 2:
            width = rng.choice((1, 2, 4, 8))
            value = rng.choice(INTERESTING) & ((1 << 8 * width) - 1)
            out[pos:pos + width] = value.to_bytes(width, rng.choice(("little", "big")))
        elif how == 3:
            out[pos:pos] = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 16)))
        elif how == 4:
            del out[pos:pos + rng.randrange(1, 64)]
        elif how == 5 and out:  # duplicate a chunk (repeats opcodes, entries, JSON members)
            start = rng.randrange(len(out))
            chunk = out[start:start + rng.randrange(1, 64)]
            out[pos:pos] = chunk * rng.choice((1, 2, 16, 256))
        elif how == 6:
            out = out[:pos]
        elif how == 7:
            other = rng.choice(corpus)
            cut = rng.randrange(len(other) + 1)
            out = out[:pos] + other[cut:]
        else:
            out[pos:pos] = rng.choice([b"\x1b[2J", b"\ud800".decode("utf-8", "surrogatepass").encode(
                "utf-8", "surrogatepass"), b"\xe2\x80\xae", b"9" * 5000, b"[" * 3000, b"\x00", b"\n" * 1000])
    return bytes(out)


def _in_data_pkl(rng: random.Random, seed: bytes, corpus: list[bytes]) -> bytes:
    """torch-zip: half the time, mutate data.pkl inside a valid zip (the CRC check would stop most others)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(seed)) as z:
            pkl = z.read("archive/data.pkl")
    except Exception:  # noqa: BLE001 - a kept mutant that is no longer a zip
        return mutate(rng, seed, corpus)
    return _zip(mutate(rng, pkl, [pkl]))


# --------------------------------------------------------------------------------------------------
# The loop: findings, executions, time and memory.


class Findings:
    def __init__(self, out: Path, slow: float, memory_mb: float) -> None:
        self.out = out
        self.slow = slow
        self.memory_kb = memory_mb * 1024
        self.seen: dict[str, int] = {}

    def record(self, target: str, kind: str, data: bytes, detail: str, where: str = "") -> None:
        """``where`` (an exception type and the line that raised it) tells findings apart; else ``detail``."""
        where = where or (detail.strip().splitlines()[-1][:200] if detail.strip() else kind)
        sig = f"{target}:{kind}:{where}"
        self.seen[sig] = self.seen.get(sig, 0) + 1
        if self.seen[sig] == 1:
            digest = hashlib.sha1(data).hexdigest()[:12]
            folder = self.out / target
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{kind}-{digest}.bin").write_bytes(data)
            (folder / f"{kind}-{digest}.txt").write_text(detail)
            print(f"  finding [{kind}] {where}  ({len(data):,} bytes, saved {folder}/{kind}-{digest}.bin)")


def run_one(target: Target, data: bytes, findings: Findings, pipeline: bool) -> None:
    from paramscope.errors import ParamscopeError

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    start = time.perf_counter()
    try:
        target(data)
        if pipeline:
            target.render()
    except ParamscopeError as e:
        if "\n" in str(e):
            findings.record(target.name, "multiline-error", data, str(e))
    except Exception as e:  # noqa: BLE001 - this is what we look for
        frame = traceback.extract_tb(e.__traceback__)[-1]
        where = f"{type(e).__name__} at {Path(frame.filename).name}:{frame.lineno} ({frame.name})"
        findings.record(target.name, "crash", data, traceback.format_exc(), where)
    seconds = time.perf_counter() - start
    if seconds > findings.slow:
        findings.record(target.name, "slow", data, f"{seconds:.2f} s", f"over {findings.slow:g} s")
    grown = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
    if grown > findings.memory_kb:
        findings.record(target.name, "memory", data, f"peak memory grew {grown / 1024:.0f} MB")


def run_isolated(target: Target, data: bytes, findings: Findings, pipeline: bool) -> None:
    """``run_one`` in a forked child with its own memory limit and an alarm, for targets whose work a hostile
    input can make unbounded (so the fuzzer survives it and reports it)."""
    read_end, write_end = os.pipe()
    start = time.perf_counter()
    pid = os.fork()
    if pid == 0:  # the child: report through the pipe, never return
        os.close(read_end)
        code = 0
        try:
            resource.setrlimit(resource.RLIMIT_AS, (ISOLATED_BYTES, ISOLATED_BYTES))
            signal.alarm(max(1, int(findings.slow * 10)))
            from paramscope.errors import ParamscopeError

            try:
                target(data)
                if pipeline:
                    target.render()
            except ParamscopeError:
                pass
        except BaseException as e:  # noqa: BLE001
            frame = traceback.extract_tb(e.__traceback__)[-1] if e.__traceback__ else None
            where = f"{type(e).__name__} at {Path(frame.filename).name}:{frame.lineno} ({frame.name})" if frame else \
                type(e).__name__
            os.write(write_end, (where + "\n" + traceback.format_exc()).encode("utf-8", "backslashreplace")[:65536])
            code = 3
        os._exit(code)
    os.close(write_end)
    with os.fdopen(read_end, "rb") as pipe:
        report = pipe.read().decode("utf-8", "replace")
    _, status = os.waitpid(pid, 0)
    seconds = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        kind = "slow" if os.WTERMSIG(status) == signal.SIGALRM else "signal"
        findings.record(target.name, kind, data, f"killed by signal {os.WTERMSIG(status)} after {seconds:.1f} s",
                        f"killed by signal {os.WTERMSIG(status)}")
    elif report:
        where, _, detail = report.partition("\n")
        kind = "memory" if where.startswith("MemoryError") else "crash"
        findings.record(target.name, kind, data, detail, where)
    elif seconds > findings.slow:
        findings.record(target.name, "slow", data, f"{seconds:.2f} s", f"over {findings.slow:g} s")


ISOLATED_BYTES = 2 << 30


def fuzz_mutate(name: str, seconds: float, runs: int, findings: Findings, pipeline: bool, seed: int,
                runner: Callable[..., None] = run_one) -> int:
    rng = random.Random(seed)
    target = Target(name, Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-")))
    corpus = seeds(name)
    done, deadline = 0, time.monotonic() + seconds
    for data in corpus:
        runner(target, data, findings, pipeline)
    while done < runs and time.monotonic() < deadline:
        base = rng.choice(corpus)
        if name == "torch-zip" and rng.random() < 0.5:
            data = _in_data_pkl(rng, base, corpus)
        else:
            data = mutate(rng, base, corpus)
        runner(target, data, findings, pipeline)
        done += 1
        if done % 500 == 0 and len(corpus) < 64 and len(data) < 1 << 20:
            corpus.append(data)  # keep some mutants: mutations of mutations go deeper
    return done


def fuzz_hypothesis(name: str, seconds: float, runs: int, findings: Findings, pipeline: bool, seed: int,
                    runner: Callable[..., None] = run_one) -> int:
    from hypothesis import HealthCheck, given, settings
    from hypothesis import strategies as st

    sys.path.insert(0, str(ROOT))
    target = Target(name, Path(tempfile.mkdtemp(prefix=f"fuzz-{name}-")))
    leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12)
    value = st.recursive(leaf, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(max_size=8), kids,
                                                                                           max_size=4), max_leaves=12)
    if name == "safetensors":
        info = st.fixed_dictionaries({"dtype": st.sampled_from(["F32", "BF16", "F4", "F6_E2M3", "I8", "X"]) | value,
                                      "shape": st.lists(st.integers(0, 1 << 40), max_size=4) | value,
                                      "data_offsets": st.lists(st.integers(-1, 1 << 65), max_size=3) | value})
        header = st.dictionaries(st.text(max_size=12), info | value, max_size=5)
        inputs = header.map(lambda h: _safetensors(h))
    elif name == "config":
        fields = st.sampled_from(list(BERT_CONFIG) + list(LLAMA_CONFIG) + ["n_layer", "num_layers", "n_head"])
        inputs = st.tuples(st.sampled_from([BERT_CONFIG, LLAMA_CONFIG]),
                           st.dictionaries(fields, value | st.integers(0, 1 << 70), max_size=4)).map(
            lambda t: json.dumps({**t[0], **t[1]}).encode())
    elif name.startswith("torch"):
        from tests.test_hostile_readers import STREAM

        inputs = STREAM.map(_zip if name == "torch-zip" else _legacy)
    else:
        from tests.test_hostile_readers import raw_block  # noqa: F401 - TF blocks: see the tests
        inputs = st.binary(max_size=512).map(lambda b: b + seeds("tf-index")[0][-48:]) if name == "tf-index" else \
            st.binary(max_size=300)
    count = [0]
    deadline = time.monotonic() + seconds

    def one(data: bytes) -> None:
        runner(target, data, findings, pipeline)
        count[0] += 1

    while count[0] < runs and time.monotonic() < deadline:  # batches: hypothesis itself has no time budget
        batch = settings(max_examples=min(20, runs - count[0]), deadline=None, database=None,
                         suppress_health_check=list(HealthCheck))(given(data=inputs)(one))
        batch()
    return count[0]


# --------------------------------------------------------------------------------------------------
# atheris: one process per target.

ATHERIS_CHILD = """
import sys, atheris
sys.path[:0] = [{src!r}, {scripts!r}]
with atheris.instrument_imports():
    import fuzz
    from paramscope.errors import ParamscopeError
    from paramscope.sources import config, safetensors, tf_checkpoint, torch_pickle
target = fuzz.Target({name!r}, fuzz.Path({folder!r}))
def one(data):
    try:
        target(data)
    except ParamscopeError:
        pass
atheris.Setup(sys.argv, one)
atheris.Fuzz()
"""


def fuzz_atheris(name: str, seconds: float, runs: int, findings: Findings, seed: int) -> int:
    folder = Path(tempfile.mkdtemp(prefix=f"atheris-{name}-"))
    corpus = folder / "corpus"
    corpus.mkdir()
    for i, data in enumerate(seeds(name)):
        (corpus / f"seed{i}").write_bytes(data)
    code = ATHERIS_CHILD.format(src=str(ROOT / "src"), scripts=str(ROOT / "scripts"), name=name,
                                folder=str(folder / "work"))
    artifacts = findings.out / name
    artifacts.mkdir(parents=True, exist_ok=True)
    proc = subprocess.run([sys.executable, "-c", code, f"-max_total_time={int(seconds)}", f"-runs={runs}",
                           f"-seed={seed}", "-timeout=5", "-rss_limit_mb=1024", "-max_len=65536",
                           f"-artifact_prefix={artifacts}/", str(corpus)], capture_output=True, text=True,
                          errors="backslashreplace")
    done = 0
    for line in proc.stderr.splitlines():
        if line.startswith("Done ") and " runs in " in line:
            done = int(line.split()[1])
        elif line.startswith("#") and "\t" in line:
            try:
                done = int(line[1:].split("\t", 1)[0])
            except ValueError:
                pass
    if proc.returncode not in (0,):
        tail = "\n".join(proc.stderr.splitlines()[-40:])
        findings.record(name, "atheris", b"", tail)
    return done


# --------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("targets", nargs="*", metavar="TARGET", help=f"some of {', '.join(TARGETS)} (default: all)")
    parser.add_argument("--engine", choices=("mutate", "hypothesis", "atheris"), default="mutate")
    parser.add_argument("--seconds", type=float, default=60.0, help="per target (default 60)")
    parser.add_argument("--runs", type=int, default=10**9, help="executions per target (default: no limit)")
    parser.add_argument("--slow", type=float, default=1.0, help="an execution longer than this is a finding")
    parser.add_argument("--memory", type=float, default=200.0, help="peak memory growth (MB) that is a finding")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--pipeline", action="store_true", help="also render every accepted input")
    parser.add_argument("--isolate", choices=("auto", "always", "never"), default="auto",
                        help="run each input in a forked child with its own memory limit and alarm (auto: for "
                             "config and --pipeline, whose work a number in the input can make unbounded)")
    parser.add_argument("--out", type=Path, default=Path(tempfile.gettempdir()) / "paramscope-fuzz")
    args = parser.parse_args(argv)
    targets = args.targets or list(TARGETS)
    unknown = [t for t in targets if t not in TARGETS]
    if unknown:
        parser.error(f"unknown target {unknown[0]!r}; choose from {', '.join(TARGETS)}")
    findings = Findings(args.out, args.slow, args.memory)
    resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))  # a runaway input fails, not the machine
    total = 0
    print(f"engine {args.engine}, {args.seconds:g} s per target, findings saved under {args.out}")
    for name in targets:
        start = time.monotonic()
        print(f"{name}:")
        if args.engine == "atheris":
            done = fuzz_atheris(name, args.seconds, args.runs, findings, args.seed)
        else:
            isolate = args.isolate == "always" or args.isolate == "auto" and (name == "config" or args.pipeline)
            engine = fuzz_hypothesis if args.engine == "hypothesis" else fuzz_mutate
            done = engine(name, args.seconds, args.runs, findings, args.pipeline, args.seed,
                          run_isolated if isolate else run_one)
        total += done
        mine = sum(1 for sig in findings.seen if sig.startswith(f"{name}:"))
        print(f"  {done:,} executions in {time.monotonic() - start:.0f} s, {mine} distinct findings")
    print(f"total: {total:,} executions, {len(findings.seen)} distinct findings")
    for sig, n in sorted(findings.seen.items()):
        print(f"  {n:>6,} x {sig}")
    return 1 if findings.seen else 0


if __name__ == "__main__":
    sys.exit(main())
