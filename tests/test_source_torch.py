"""The torch.save reader: names, shapes, dtypes and ties equal torch.load's; hostile and broken files give a
one-line FormatError and run nothing. Tests may import torch (as the oracle); the reader may not."""

from __future__ import annotations

import builtins
import collections
import io
import json
import os
import pickle
import struct
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramscope.errors import FormatError
from paramscope.inventory import Kind
from paramscope.sources import torch_pickle
from paramscope.sources.torch_pickle import TorchCheckpoint, looks_like, read

DATA = Path(__file__).parent / "data" / "torch"
BIN = DATA / "pytorch_model.bin"
LEGACY = DATA / "legacy_nonzip.pt"
TRAINING = DATA / "training_ckpt.pt"
FIX = "re-download the file or re-save it with torch.save"

TINY_BERT = dict(vocab_size=100, hidden_size=16, num_hidden_layers=2, num_attention_heads=2,
                 intermediate_size=32, max_position_embeddings=64, type_vocab_size=2)
ALIASES = {
    "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
    "cls.predictions.decoder.bias": "cls.predictions.bias",
}


# ----------------------------------------------------------------------------------------------------
# The oracle: what torch.load gives.


def dtype_name(t: torch.Tensor) -> str:
    return str(t.dtype).removeprefix("torch.")


def torch_flat(obj: object, prefix: tuple[str, ...] = ()) -> list[tuple[str, tuple[int, ...], str]]:
    """Every tensor torch.load returns, in order, named by its dotted path."""
    if isinstance(obj, torch.Tensor):
        return [(".".join(prefix) or "tensor", tuple(obj.shape), dtype_name(obj))]
    out = []
    if isinstance(obj, dict):
        for k, v in obj.items():
            out += torch_flat(v, prefix + (str(k),))
    elif isinstance(obj, (list, tuple)):
        for i, v in enumerate(obj):
            out += torch_flat(v, prefix + (str(i),))
    return out


def torch_aliases(sd: dict[str, torch.Tensor]) -> dict[str, str]:
    """Later names of tensors that are the same view of the same storage as an earlier one."""
    first: dict[tuple, str] = {}
    out = {}
    for name, t in sd.items():
        key = (t.untyped_storage().data_ptr(), t.storage_offset(), tuple(t.shape), t.stride(), t.dtype)
        if key in first:
            out[name] = first[key]
        else:
            first[key] = name
    return out


def mine(ck: TorchCheckpoint) -> list[tuple[str, tuple[int, ...], str]]:
    return [(t.name, t.shape, t.dtype) for t in ck.tensors]


def of_kind(ck: TorchCheckpoint, kind: Kind) -> list[str]:
    return [t.name for t in ck.tensors if t.kind == kind]


def tiny_bert() -> torch.nn.Module:
    import transformers

    transformers.logging.set_verbosity_error()
    torch.manual_seed(0)
    return transformers.BertForPreTraining(transformers.BertConfig(**TINY_BERT))


# ----------------------------------------------------------------------------------------------------
# The fixtures written by torch itself.


@pytest.mark.parametrize("path", [BIN, LEGACY], ids=["zip", "legacy"])
def test_fixture_state_dict_matches_torch_load(path: Path) -> None:
    ck = read(path)
    sd = torch.load(path, weights_only=True)
    assert len(ck.tensors) == 48
    assert mine(ck) == torch_flat(sd)
    assert {t.name: t.tied_to for t in ck.tensors if t.kind == Kind.ALIAS} == ALIASES == torch_aliases(sd)
    assert [t.kind for t in ck.tensors].count(Kind.PARAMETER) == 46
    assert sum(t.numel for t in ck.tensors if t.kind == Kind.PARAMETER) == 7846
    assert {t.dtype for t in ck.tensors} == {"float32"}
    by_name = {t.name: t for t in ck.tensors}
    assert by_name["bert.embeddings.word_embeddings.weight"].shape == (100, 16)
    assert by_name["cls.predictions.decoder.weight"].shape == (100, 16)
    assert by_name["cls.seq_relationship.weight"].shape == (2, 16)
    assert ck.metadata == {}
    assert ck.notes == []


def test_fixture_training_checkpoint() -> None:
    ck = read(TRAINING)
    full = torch.load(TRAINING, weights_only=True)
    assert list(full) == ["model", "epoch", "optimizer"]
    assert mine(ck) == torch_flat(full["model"])  # model tensors named without the 'model.' prefix
    assert {t.name: t.tied_to for t in ck.tensors if t.kind == Kind.ALIAS} == ALIASES
    assert sum(t.numel for t in ck.tensors if t.kind == Kind.PARAMETER) == 7846
    # this fixture's optimizer never stepped: its state is empty, its param_groups are metadata
    assert of_kind(ck, Kind.OPTIMIZER_STATE) == [] and of_kind(ck, Kind.OTHER) == []
    assert ck.metadata["epoch"] == 3
    assert ck.metadata["optimizer.state"] == {}
    assert ck.metadata["optimizer.param_groups.0.lr"] == 0.001
    assert ck.metadata["optimizer.param_groups.0.betas"] == (0.9, 0.999)
    assert ck.metadata["optimizer.param_groups.0.params"] == list(range(46))
    assert ck.notes == ["model state_dict found under 'model'; its tensors are named without the prefix"]


@pytest.mark.parametrize("path", [BIN, LEGACY, TRAINING], ids=["zip", "legacy", "training"])
def test_looks_like_fixtures(path: Path) -> None:
    assert looks_like(path)
    assert looks_like(str(path))


def test_looks_like_other_files(tmp_path: Path) -> None:
    plain = tmp_path / "plain.pkl"
    plain.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as z:
        z.writestr("folder/readme.txt", "hi")
    text = tmp_path / "config.json"
    text.write_text("{}")
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    for p in (plain, other_zip, text, empty, tmp_path, tmp_path / "missing.bin"):
        assert looks_like(p) is False, p


# ----------------------------------------------------------------------------------------------------
# Checkpoints built with torch in the test.


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_bert_for_pretraining_built_here(tmp_path: Path, zip_format: bool) -> None:
    model = tiny_bert()
    path = tmp_path / "bert.pt"
    torch.save(model.state_dict(), path, _use_new_zipfile_serialization=zip_format)
    ck = read(path)
    sd = model.state_dict()
    assert [(n, s) for n, s, _ in mine(ck)] == [(n, tuple(t.shape)) for n, t in sd.items()]
    assert {t.name: t.tied_to for t in ck.tensors if t.kind == Kind.ALIAS} == ALIASES == torch_aliases(sd)
    assert sum(t.numel for t in ck.tensors if t.kind == Kind.PARAMETER) == sum(p.numel() for p in model.parameters())
    assert sum(p.numel() for p in model.parameters()) == 7846


def test_state_dict_key_and_metadata(tmp_path: Path) -> None:
    model = tiny_bert()
    path = tmp_path / "lightning.ckpt"
    torch.save({"epoch": 1, "global_step": 10, "state_dict": model.state_dict(), "hparams": {"lr": 3e-4}}, path)
    ck = read(path)
    assert mine(ck) == torch_flat(model.state_dict())
    assert of_kind(ck, Kind.ALIAS) == list(ALIASES)
    assert ck.metadata == {"epoch": 1, "global_step": 10, "hparams.lr": 3e-4}
    assert ck.notes == ["model state_dict found under 'state_dict'; its tensors are named without the prefix"]


def test_training_checkpoint_with_optimizer_state(tmp_path: Path) -> None:
    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Linear(4, 3), torch.nn.ReLU(), torch.nn.Linear(3, 2))
    opt = torch.optim.Adam(net.parameters(), lr=0.01)
    net(torch.randn(5, 4)).sum().backward()
    opt.step()
    ema = {"0.weight": net[0].weight.detach().clone()}
    path = tmp_path / "ckpt.pt"
    saved = {"model_state_dict": net.state_dict(), "optimizer_state_dict": opt.state_dict(), "epoch": 7,
             "loss": 0.25, "tag": "run-1", "ema": ema}
    torch.save(saved, path)
    ck = read(path)
    loaded = torch.load(path, weights_only=True)
    model = [(n, s, d) for n, s, d in mine(ck) if n in net.state_dict()]
    assert model == torch_flat(loaded["model_state_dict"])
    assert of_kind(ck, Kind.PARAMETER) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    opt_state = [(n, s, d) for (n, s, d), t in zip(mine(ck), ck.tensors) if t.kind == Kind.OPTIMIZER_STATE]
    assert opt_state == torch_flat(loaded["optimizer_state_dict"], ("optimizer_state_dict",))
    assert opt_state[:3] == [
        ("optimizer_state_dict.state.0.step", (), "float32"),
        ("optimizer_state_dict.state.0.exp_avg", (3, 4), "float32"),
        ("optimizer_state_dict.state.0.exp_avg_sq", (3, 4), "float32"),
    ]
    assert len(opt_state) == 12
    assert of_kind(ck, Kind.OTHER) == ["ema.0.weight"]  # a copy, not the same storage: no tie
    assert ck.metadata["epoch"] == 7 and ck.metadata["loss"] == 0.25 and ck.metadata["tag"] == "run-1"
    assert ck.metadata["optimizer_state_dict.param_groups.0.lr"] == 0.01
    assert not any(isinstance(v, torch.Tensor) for v in ck.metadata.values())


def test_module_prefix_is_noted(tmp_path: Path) -> None:
    model = tiny_bert()
    sd = {f"module.{k}": v for k, v in model.state_dict().items()}
    path = tmp_path / "ddp.pt"
    torch.save(sd, path)
    ck = read(path)
    assert [t.name for t in ck.tensors] == list(sd)
    assert {t.name: t.tied_to for t in ck.tensors if t.kind == Kind.ALIAS} == {
        f"module.{k}": f"module.{v}" for k, v in ALIASES.items()}
    assert ck.notes == ["every model tensor name starts with 'module.' (saved from a "
                        "DataParallel/DistributedDataParallel wrapper); names are kept as stored"]


def test_model_under_module_key(tmp_path: Path) -> None:
    path = tmp_path / "ds.pt"
    torch.save({"module": {"w": torch.ones(2, 3)}, "global_steps": 5}, path)
    ck = read(path)
    assert mine(ck) == [("w", (2, 3), "float32")]
    assert ck.metadata == {"global_steps": 5}


def test_unique_dict_of_tensors_is_the_model(tmp_path: Path) -> None:
    path = tmp_path / "w.pt"
    torch.save({"weights": {"a": torch.ones(3)}, "optim": {"state": {0: {"m": torch.zeros(3)}}}, "step": 2}, path)
    ck = read(path)
    assert [(t.name, t.kind) for t in ck.tensors] == [("a", Kind.PARAMETER), ("optim.state.0.m", Kind.OPTIMIZER_STATE)]
    assert ck.notes == ["model state_dict found under 'weights'; its tensors are named without the prefix"]


def test_two_dicts_of_tensors_without_model_key_are_other(tmp_path: Path) -> None:
    path = tmp_path / "gan.pt"
    torch.save({"generator": {"w": torch.ones(2)}, "discriminator": {"w": torch.ones(3)}, "epoch": 1}, path)
    ck = read(path)
    assert [(t.name, t.kind) for t in ck.tensors] == [("generator.w", Kind.OTHER), ("discriminator.w", Kind.OTHER)]
    assert ck.notes == ["no model-like key and 2 dicts of tensors ('generator', 'discriminator'); all their "
                        "tensors are reported as other"]


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_dtypes_scalars_and_views(tmp_path: Path, zip_format: bool) -> None:
    base = torch.arange(12, dtype=torch.float32).reshape(3, 4)
    sd = {
        "bf16": torch.ones(2, 3, dtype=torch.bfloat16),
        "f16": torch.ones(5, dtype=torch.float16),
        "f64": torch.ones(1, 1, dtype=torch.float64),
        "i64": torch.tensor(7),  # a scalar: shape ()
        "i32": torch.ones(2, dtype=torch.int32),
        "i8": torch.ones(2, dtype=torch.int8),
        "u8": torch.ones(2, dtype=torch.uint8),
        "b": torch.ones(2, dtype=torch.bool),
        "c64": torch.ones(2, dtype=torch.complex64),
        "empty": torch.ones(0, 4),
        "base": base,
        "transposed": base.t(),  # non-contiguous view of the same storage
        "row": base[1],
        "cols": base[:, 1:3],
        "same": base,  # the same tensor again: a tie
        "param": torch.nn.Parameter(torch.ones(3)),
    }
    if zip_format:  # dtypes saved through _rebuild_tensor_v3 on an UntypedStorage (zip format only)
        sd["f8"] = torch.ones(4, dtype=torch.float8_e4m3fn)
        sd["u16"] = torch.ones(2, 2, dtype=torch.uint16)
    path = tmp_path / "dtypes.pt"
    torch.save(sd, path, _use_new_zipfile_serialization=zip_format)
    ck = read(path)
    assert mine(ck) == torch_flat(torch.load(path, weights_only=True))
    by_name = {t.name: t for t in ck.tensors}
    assert by_name["bf16"].dtype == "bfloat16" and by_name["i64"].shape == () and by_name["i64"].dtype == "int64"
    assert by_name["transposed"].shape == (4, 3) and by_name["cols"].shape == (3, 2)
    assert {t.name: t.tied_to for t in ck.tensors if t.kind == Kind.ALIAS} == {"same": "base"} == torch_aliases(sd)
    key = "10" if zip_format else ck.notes[0].split("'")[1]  # legacy keys are memory addresses
    assert ck.notes == [f"4 different views share storage '{key}' ('base', 'transposed', 'row'); each is counted "
                        "on its own, not as a tie"]
    if zip_format:
        assert by_name["f8"].dtype == "float8_e4m3fn" and by_name["u16"].dtype == "uint16"


@pytest.mark.parametrize("zip_format", [True, False], ids=["zip", "legacy"])
def test_pickle_protocol_4(tmp_path: Path, zip_format: bool) -> None:
    model = tiny_bert()
    path = tmp_path / "p4.pt"
    torch.save({"model": model.state_dict(), "blob": b"\x00\xffab", "s": {1, 2}}, path, pickle_protocol=4,
               _use_new_zipfile_serialization=zip_format)
    assert looks_like(path)
    ck = read(path)
    assert mine(ck) == torch_flat(model.state_dict())
    assert of_kind(ck, Kind.ALIAS) == list(ALIASES)
    assert ck.metadata == {"blob": "b'\\x00\\xffab'", "s": [1, 2]}  # JSON-safe: bytes as their repr, sets as lists


def test_protocol_2_bytes_set_complex_device(tmp_path: Path) -> None:
    path = tmp_path / "meta.pt"
    torch.save({"w": torch.ones(2), "blob": b"\x00\xffab", "s": {1, 2}, "c": 1 + 2j, "dev": torch.device("cuda", 1),
                "dt": torch.bfloat16, "size": torch.Size([2, 3]), "m": torch.empty(2, 3, device="meta")}, path)
    ck = read(path)
    assert mine(ck) == [("w", (2,), "float32"), ("m", (2, 3), "float32")]
    assert ck.metadata == {"blob": "b'\\x00\\xffab'", "s": [1, 2], "c": "(1+2j)", "dev": "cuda:1",
                           "dt": "torch.bfloat16", "size": (2, 3)}
    json.dumps(ck.metadata)  # every value is JSON data
    assert ck.notes == ["tensors stored at the top level, next to other values, are taken as the model's"]


def test_single_tensor_and_list(tmp_path: Path) -> None:
    path = tmp_path / "t.pt"
    torch.save(torch.ones(3, 2), path)
    ck = read(path)
    assert mine(ck) == [("tensor", (3, 2), "float32")]
    assert ck.notes == ["the file holds a single tensor, not a state_dict; it is named 'tensor'"]
    torch.save([torch.ones(1), torch.ones(2)], path)
    assert mine(read(path)) == [("0", (1,), "float32"), ("1", (2,), "float32")]
    torch.save({}, path)
    assert read(path) == TorchCheckpoint([], {}, ["the file holds an empty dict, no tensors"])


# ----------------------------------------------------------------------------------------------------
# Hand-made pickles in torch's layouts.


class FakeStorage:
    def __init__(self, key: str, numel: int, kind: str = "FloatStorage") -> None:
        self.key, self.numel, self.kind = key, numel, kind


class FakeTensor:
    """Pickles as torch does (``_rebuild_tensor_v2`` on a persistent storage id), with any values."""

    def __init__(self, storage: FakeStorage, offset: object, shape: object, stride: object) -> None:
        self.storage, self.offset, self.shape, self.stride = storage, offset, shape, stride

    def __reduce__(self) -> tuple:
        return (torch._utils._rebuild_tensor_v2,
                (self.storage, self.offset, self.shape, self.stride, False, collections.OrderedDict()))


class TorchLikePickler(pickle.Pickler):
    def persistent_id(self, obj: object) -> object:
        if isinstance(obj, FakeStorage):
            return ("storage", getattr(torch, obj.kind), obj.key, "cpu", obj.numel)
        return None


def torch_like_pickle(obj: object, protocol: int = 2) -> bytes:
    buf = io.BytesIO()
    TorchLikePickler(buf, protocol=protocol).dump(obj)
    return buf.getvalue()


def write_zip(path: Path, pkl: bytes, storages: dict[str, int] | None = None, stem: str = "archive") -> str:
    with zipfile.ZipFile(path, "w") as z:
        z.writestr(f"{stem}/data.pkl", pkl)
        for key, nbytes in (storages or {}).items():
            z.writestr(f"{stem}/data/{key}", bytes(nbytes))
    return str(path)


def write_legacy(path: Path, pkl: bytes, tail: bytes = b"", keys: list[str] | None = None) -> str:
    sys_info = {"protocol_version": 1001, "little_endian": True, "type_sizes": {"short": 2, "int": 4, "long": 4}}
    parts = [pickle.dumps(v, protocol=2) for v in (0x1950A86A20F9469CFC6C, 1001, sys_info)]
    path.write_bytes(b"".join(parts) + pkl + pickle.dumps(keys or [], protocol=2) + tail)
    return str(path)


def rezip(src: Path, dst: Path, *, drop: tuple[str, ...] = (), replace: dict[str, bytes] | None = None) -> str:
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w") as zout:
        for info in zin.infolist():
            if info.filename not in drop:
                zout.writestr(info.filename, (replace or {}).get(info.filename, zin.read(info.filename)))
    return str(dst)


def test_hand_made_pickle_reads(tmp_path: Path) -> None:
    s = FakeStorage("0", 10)
    sd = collections.OrderedDict(a=FakeTensor(s, 2, (2, 4), (4, 1)), b=FakeTensor(s, 0, (10,), (1,)))
    pkl = torch_like_pickle(sd)
    ck = read(write_zip(tmp_path / "ok.pt", pkl, {"0": 40}))
    assert mine(ck) == [("a", (2, 4), "float32"), ("b", (10,), "float32")]
    assert [t.kind for t in ck.tensors] == [Kind.PARAMETER, Kind.PARAMETER]


class SystemCall:
    def __init__(self, cmd: str) -> None:
        self.cmd = cmd

    def __reduce__(self) -> tuple:
        return (os.system, (self.cmd,))


class EvalCall:
    def __init__(self, code: str) -> None:
        self.code = code

    def __reduce__(self) -> tuple:
        return (builtins.eval, (self.code,))


class PopenCall:
    def __init__(self, argv: list[str]) -> None:
        self.argv = argv

    def __reduce__(self) -> tuple:
        return (subprocess.Popen, (self.argv,))


def refusal(path: str, qualname: str) -> str:
    return (f"{path}: refuses to load global '{qualname}' from the pickle (only tensor and container types are "
            "allowed); this file may be malicious")


PAYLOADS = [
    # (make the payload from a marker path, protocol, the global as the pickle names it)
    (lambda m: SystemCall(f"touch {m}"), 2, "posix.system"),
    (lambda m: EvalCall(f"open({str(m)!r}, 'w').close()"), 2, "builtins.eval"),  # written as __builtin__.eval
    (lambda m: EvalCall(f"open({str(m)!r}, 'w').close()"), 4, "builtins.eval"),
    (lambda m: PopenCall(["touch", str(m)]), 2, "subprocess.Popen"),  # written as commands.Popen
]


def test_payloads_are_live(tmp_path: Path) -> None:
    """The payloads below really run code under plain pickle: the refusals are not vacuous."""
    for i, (make, protocol, _) in enumerate(PAYLOADS):
        marker = tmp_path / f"control{i}"
        result = pickle.loads(pickle.dumps(make(marker), protocol=protocol))
        if isinstance(result, subprocess.Popen):
            result.wait()
        assert marker.exists()


@pytest.mark.parametrize("layout", ["zip", "legacy", "torch.save", "torch.save-legacy"])
@pytest.mark.parametrize("index", range(len(PAYLOADS)), ids=[f"{p[2]}-{p[1]}" for p in PAYLOADS])
def test_malicious_globals_are_refused_and_not_run(tmp_path: Path, layout: str, index: int) -> None:
    make, protocol, qualname = PAYLOADS[index]
    marker = tmp_path / "pwned"
    payload = {"weight": FakeTensor(FakeStorage("0", 2), 0, (2,), (1,)), "x": make(marker)}
    path = tmp_path / "evil.pt"
    if layout == "zip":
        write_zip(path, torch_like_pickle(payload, protocol), {"0": 8})
    elif layout == "legacy":
        write_legacy(path, torch_like_pickle(payload, protocol), keys=["0"], tail=struct.pack("<q", 2) + bytes(8))
    else:  # torch.save itself wraps the payload next to a real tensor
        torch.save({"weight": torch.ones(2), "x": make(marker)}, path, pickle_protocol=protocol,
                   _use_new_zipfile_serialization=layout == "torch.save")
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == refusal(str(path), qualname)
    assert not marker.exists()
    assert looks_like(path)  # it looks like a checkpoint; reading it refuses


def test_python2_style_exec_global(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    pkl = b"\x80\x02c__builtin__\nexec\nX" + struct.pack("<I", len(f"open({str(marker)!r},'w')")) + \
        f"open({str(marker)!r},'w')".encode() + b"\x85R."
    path = write_zip(tmp_path / "evil.pt", pkl)
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == refusal(path, "builtins.exec")  # named as plain pickle would load it
    assert not marker.exists()


def test_unsupported_torch_global_is_refused_with_its_own_message(tmp_path: Path) -> None:
    path = tmp_path / "sparse.pt"
    torch.save({"s": torch.eye(3).to_sparse()}, path)
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (
        f"{path}: refuses to load global 'torch._utils._rebuild_sparse_tensor' from the pickle: it rebuilds a tensor "
        "type paramscope does not read (only dense tensors); save a state_dict of dense tensors")


def test_allow_list_is_a_data_only_subset_of_torchs() -> None:
    from torch._weights_only_unpickler import _get_allowed_globals

    allowed = set(torch_pickle.ALLOWED_GLOBALS)
    assert allowed <= set(_get_allowed_globals())
    assert {g for g in allowed if g.startswith(("builtins.", "_codecs.", "collections."))} == {
        "builtins.bytearray", "builtins.set", "builtins.complex", "_codecs.encode",
        "collections.OrderedDict", "collections.Counter"}
    assert "torch._utils._rebuild_device_tensor_from_numpy" not in allowed
    assert not any(g.split(".")[0] in {"os", "posix", "nt", "sys", "subprocess", "numpy"} for g in allowed)


def test_stand_ins_refuse_dangerous_arguments(tmp_path: Path) -> None:
    # bytearray(n) would allocate n bytes; _codecs.encode with another codec is not data
    cases = {
        b"\x80\x02c__builtin__\nbytearray\nJ\x00\x00\x00\x7f\x85R.":
            "builtins.bytearray is only allowed to copy bytes or a latin-1 string",
        b"\x80\x02c_codecs\nencode\nX\x01\x00\x00\x00aX\x04\x00\x00\x00zlib\x86R.":
            "_codecs.encode is only allowed to turn a string into bytes with latin-1, ascii or utf-8",
    }
    for i, (pkl, detail) in enumerate(cases.items()):
        path = write_zip(tmp_path / f"c{i}.pt", pkl)
        with pytest.raises(FormatError) as e:
            read(path)
        assert str(e.value) == f"{path}: 'archive/data.pkl' is not a valid checkpoint pickle: {detail}; {FIX}"


# ----------------------------------------------------------------------------------------------------
# Pickle bombs: they end quickly with a FormatError (or a harmless result), never a crash.


def bad_pickle(path: str, detail: str) -> str:
    return f"{path}: 'archive/data.pkl' is not a valid checkpoint pickle: {detail}; {FIX}"


def test_memo_index_bomb(tmp_path: Path) -> None:
    # LONG_BINPUT 0x40000000: the C unpickler fills 16 GB for this 10-byte pickle
    path = write_zip(tmp_path / "memo.pt", b"\x80\x02Nr\x00\x00\x00\x40.")
    start = time.perf_counter()
    assert read(path) == TorchCheckpoint([], {"value": None}, ["the file holds None, not tensors"])
    assert time.perf_counter() - start < 2


def test_deeply_nested_tuple_as_dict_key(tmp_path: Path) -> None:
    # hashing a million nested tuples overflows the C stack under pickle.loads (a segfault); any depth is refused
    path = write_zip(tmp_path / "deep.pt", b"\x80\x02}(" + b")" + b"\x85" * 200_000 + b"K\x01u.")
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == bad_pickle(path, "a dict key or set element is a tuple; only strings, numbers and short "
                                            "tuples are allowed")


def test_deeply_nested_lists(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "deep.pt", b"\x80\x02" + b"]" * 200_000 + b"a" * 199_999 + b".")
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == f"{path}: the checkpoint's object is nested more than 100 levels deep; {FIX}"


def test_shared_containers_bomb(tmp_path: Path) -> None:
    # 64 levels of lists holding the previous level twice: 2**64 paths to walk
    pkl = b"\x80\x02]q\x000" + b"(h\x00h\x00lq\x000" * 64 + b"h\x00."
    path = write_zip(tmp_path / "laughs.pt", pkl)
    start = time.perf_counter()
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: the checkpoint's object (a shared container counts once per path to it) holds "
                            "more than 101,170 values (the limit MAX_WALK: 100,000 plus 2 per byte of its 585 bytes, "
                            "at most 10,000,000); if a real file needs more, set PARAMSCOPE_MAX_WALK=202340")
    assert time.perf_counter() - start < 2


def test_huge_length_fields(tmp_path: Path) -> None:
    path = write_zip(tmp_path / "len.pt", b"\x80\x02X\xff\xff\xff\xff.")
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == bad_pickle(path, "it ends at byte 8 in the middle of an opcode")


# ----------------------------------------------------------------------------------------------------
# Broken files: exact one-line messages.


def test_truncated_zip(tmp_path: Path) -> None:
    data = BIN.read_bytes()
    path = tmp_path / "cut.bin"
    path.write_bytes(data[: len(data) // 2])
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == f"{path}: the zip archive is truncated or damaged (its directory cannot be read); {FIX}"


def test_zip_without_data_pkl(tmp_path: Path) -> None:
    path = tmp_path / "nodata.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("archive/data/0", bytes(8))
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: zip archive has no '<folder>/data.pkl', so it is not a torch.save checkpoint; "
                            "pass a file written by torch.save")


def test_storage_entry_missing(tmp_path: Path) -> None:
    path = rezip(BIN, tmp_path / "missing.bin", drop=("pytorch_model/data/3",))
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (
        f"{path}: tensor 'bert.embeddings.LayerNorm.weight' refers to storage 'pytorch_model/data/3', which is "
        f"missing from the zip archive; the file is truncated or damaged, {FIX}")


def test_storage_entry_too_small(tmp_path: Path) -> None:
    path = rezip(BIN, tmp_path / "short.bin", replace={"pytorch_model/data/3": bytes(32)})
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (
        f"{path}: tensor 'bert.embeddings.LayerNorm.weight' refers to storage 'pytorch_model/data/3', which should "
        f"hold 64 bytes (16 x float32) but its zip entry has 32; the file is truncated or damaged, {FIX}")


def test_storage_not_used_by_any_tensor_is_checked_too(tmp_path: Path) -> None:
    # the storage's persistent id is loaded, then popped: no tensor reaches it
    pkl = torch_like_pickle(FakeStorage("5", 4))[:-1] + b"0}."
    path = write_zip(tmp_path / "orphan.pt", pkl)
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: the pickle names storage 'archive/data/5', which is missing from the zip "
                            f"archive; the file is truncated or damaged, {FIX}")


def test_storage_offset_beyond_storage(tmp_path: Path) -> None:
    pkl = torch_like_pickle({"w": FakeTensor(FakeStorage("0", 10), 8, (4,), (1,))})
    path = write_zip(tmp_path / "offset.pt", pkl, {"0": 40})
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: tensor 'w' (storage offset 8, shape [4], stride [1], float32) needs 48 bytes "
                            f"of storage '0', which holds 40; the file is damaged, {FIX}")


@pytest.mark.parametrize(("tensor", "detail"), [
    (FakeTensor(FakeStorage("0", 10), 0, (-1, 4), (4, 1)), "tensor shape has a negative dimension -1"),
    (FakeTensor(FakeStorage("0", 10), 0, [2, 5], (5, 1)), "tensor shape is a list, not a tuple"),
    (FakeTensor(FakeStorage("0", 10), 0, (2, 5), (5,)), "tensor shape [2, 5] and stride [5] differ in length"),
    (FakeTensor(FakeStorage("0", 10), -1, (2,), (1,)), "tensor storage offset is -1, outside [0, 4611686018427387904)"),
    (FakeTensor(FakeStorage("0", 10), 0, (2, "5"), (5, 1)), "tensor shape holds a str, not an integer"),
    (FakeTensor(FakeStorage("0", 10), 0, (2**62, 2), (2, 1)), "tensor shape has a dimension of 4611686018427387904 "
                                                               "(at most 2**62 - 1)"),
    (FakeTensor(FakeStorage("0", -3), 0, (2,), (1,)),
     "the size of storage '0' is -3, outside [0, 4611686018427387904)"),
    (FakeTensor("not a storage", 0, (2,), (1,)), "_rebuild_tensor_v2 gets a str where a storage belongs"),
], ids=["negative-dim", "list-shape", "stride-length", "negative-offset", "str-dim", "huge-dim", "negative-numel",
        "no-storage"])
def test_malformed_tensor_records(tmp_path: Path, tensor: FakeTensor, detail: str) -> None:
    path = write_zip(tmp_path / "bad.pt", torch_like_pickle({"w": tensor}), {"0": 40})
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == bad_pickle(path, detail)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "random.bin"
    path.write_bytes(bytes(range(256)) * 4)
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: not a PyTorch checkpoint (neither a zip archive nor a legacy torch.save "
                            "pickle); pass a file written by torch.save")


def test_empty_missing_folder(tmp_path: Path) -> None:
    empty = tmp_path / "empty.pt"
    empty.write_bytes(b"")
    cases = {
        empty: f"{empty}: not a PyTorch checkpoint (an empty file); pass a file written by torch.save",
        tmp_path / "nope.pt": f"{tmp_path / 'nope.pt'}: no such file; check the path",
        tmp_path: f"{tmp_path}: is a folder; pass the checkpoint file inside it",
    }
    for path, message in cases.items():
        with pytest.raises(FormatError) as e:
            read(path)
        assert str(e.value) == message


def test_plain_pickle_is_not_a_checkpoint(tmp_path: Path) -> None:
    path = tmp_path / "plain.pkl"
    path.write_bytes(pickle.dumps({"a": 1}, protocol=2))
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: a plain pickle, not a torch.save checkpoint (it does not start with torch's "
                            "magic number); pass a file written by torch.save")


def test_legacy_truncated_in_storages(tmp_path: Path) -> None:
    data = LEGACY.read_bytes()
    path = tmp_path / "cut.pt"
    path.write_bytes(data[:-100])
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: the 46 storages after the pickles need 31,752 bytes but the file has 31,652 "
                            f"there; the file is truncated, {FIX}")


def test_legacy_truncated_in_pickle(tmp_path: Path) -> None:
    path = tmp_path / "cut.pt"
    path.write_bytes(LEGACY.read_bytes()[:500])
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: the object pickle is not a valid checkpoint pickle: it ends at byte 500 in the "
                            f"middle of an opcode; {FIX}")


def test_legacy_storage_not_listed(tmp_path: Path) -> None:
    pkl = torch_like_pickle({"w": FakeTensor(FakeStorage("7", 2), 0, (2,), (1,))})
    path = write_legacy(tmp_path / "l.pt", pkl, keys=[])
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: tensor 'w' refers to storage '7', which is not in the file's list of storages; "
                            f"the file is damaged, {FIX}")


def test_damaged_data_pkl_crc(tmp_path: Path) -> None:
    data = bytearray(BIN.read_bytes())
    at = data.index(b"bert.embeddings.word_embeddings.weight")
    data[at] ^= 0x20  # inside data.pkl: the zip's CRC no longer matches
    path = tmp_path / "crc.bin"
    path.write_bytes(bytes(data))
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: cannot read 'pytorch_model/data.pkl' from the zip archive (it is damaged); "
                            f"{FIX}")


def test_torchscript_archive(tmp_path: Path) -> None:
    path = tmp_path / "scripted.pt"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("scripted/data.pkl", b"\x80\x02}.")
        z.writestr("scripted/code/__torch__.py", "def forward(self): ...")
        z.writestr("scripted/constants.pkl", b"\x80\x02).")
    with pytest.raises(FormatError) as e:
        read(path)
    assert str(e.value) == (f"{path}: this is a TorchScript archive (torch.jit.save), whose pickles name code; "
                            "paramscope reads torch.save checkpoints: save the model's state_dict() with torch.save")


def test_control_characters_in_names_are_escaped(tmp_path: Path) -> None:
    pkl = torch_like_pickle({"evil\nname\x1b[2J": FakeTensor(FakeStorage("0", 10), 9, (4,), (1,))})
    path = write_zip(tmp_path / "ctl.pt", pkl, {"0": 40})
    with pytest.raises(FormatError) as e:
        read(path)
    assert "\n" not in str(e.value) and "\x1b" not in str(e.value)
    assert "tensor 'evil\\nname\\x1b[2J'" in str(e.value)


# ----------------------------------------------------------------------------------------------------
# Fuzz: any bytes give a result or a FormatError, nothing else.

_SEEDS = [BIN.read_bytes(), LEGACY.read_bytes(), TRAINING.read_bytes()]
with zipfile.ZipFile(BIN) as _z:
    _BIN_PKL = _z.read("pytorch_model/data.pkl")
_LEGACY_PKL_END = 10283  # the legacy fixture's pickles end here; raw storages follow


def _read_bytes(data: bytes) -> None:
    fd, name = tempfile.mkstemp(suffix=".pt")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        try:
            ck = read(name)
        except FormatError as e:
            assert "\n" not in str(e)
        else:
            assert isinstance(ck, TorchCheckpoint)
        looks_like(name)  # never raises
    finally:
        os.unlink(name)


def _mutate(data: bytes, edits: list[tuple[int, int]], cut: int | None, region: int | None = None) -> bytes:
    out = bytearray(data)
    span = region or len(out)
    for pos, value in edits:
        out[pos % span] = value
    if cut is not None:
        out = out[: cut % (len(out) + 1)]
    return bytes(out)


EDITS = st.lists(st.tuples(st.integers(0, 1 << 20), st.integers(0, 255)), max_size=8)
CUT = st.none() | st.integers(0, 1 << 20)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(seed=st.sampled_from(range(len(_SEEDS))), edits=EDITS, cut=CUT)
def test_fuzz_mutated_files(seed: int, edits: list[tuple[int, int]], cut: int | None) -> None:
    region = _LEGACY_PKL_END if seed == 1 else None  # the legacy pickles, where edits matter most
    _read_bytes(_mutate(_SEEDS[seed], edits, cut, region))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(edits=EDITS, cut=CUT)
def test_fuzz_mutated_data_pkl(edits: list[tuple[int, int]], cut: int | None) -> None:
    """Mutations inside data.pkl with a valid zip around them (past the CRC check, into the unpickler)."""
    pkl = _mutate(_BIN_PKL, edits, cut)
    buf = io.BytesIO()
    with zipfile.ZipFile(BIN) as zin, zipfile.ZipFile(buf, "w") as zout:
        for info in zin.infolist():
            zout.writestr(info.filename, pkl if info.filename.endswith("data.pkl") else zin.read(info.filename))
    _read_bytes(buf.getvalue())


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(prefix=st.sampled_from([b"", b"PK\x03\x04", b"\x80\x02", b"\x80\x02\x8a\x0a" + (0x1950A86A20F9469CFC6C)
                               .to_bytes(10, "little") + b"."]), body=st.binary(max_size=2048))
def test_fuzz_random_bytes(prefix: bytes, body: bytes) -> None:
    _read_bytes(prefix + body)


# ----------------------------------------------------------------------------------------------------
# The reader never imports torch.


def test_reader_does_not_import_torch() -> None:
    code = (
        "import sys\n"
        "import paramscope.sources.torch_pickle as tp\n"
        f"ck = tp.read({str(BIN)!r})\n"
        f"tp.read({str(LEGACY)!r})\n"
        f"assert tp.looks_like({str(TRAINING)!r})\n"
        "assert len(ck.tensors) == 48\n"
        "print(sorted(m for m in sys.modules if m == 'torch' or m.startswith('torch.')))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
