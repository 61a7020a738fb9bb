"""safetensors, single and sharded: real files, exact errors for bad input, a fuzz test."""

from __future__ import annotations

import shutil
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import paramscope
from paramscope.errors import FormatError
from paramscope.sources import safetensors

from .builders import make_safetensors

DATA = Path(__file__).parent / "data" / "safetensors"


def test_transformers_file_header_only() -> None:
    tensors, meta = safetensors.read(DATA / "tiny_bert" / "model.safetensors")
    assert len(tensors) == 46  # save_pretrained drops the two tied duplicates
    assert sum(t.numel for t in tensors) == 7_846
    assert meta == {"format": "pt"}
    word = next(t for t in tensors if t.name == "bert.embeddings.word_embeddings.weight")
    assert (word.shape, word.dtype) == ((100, 16), "float32")


def test_sharded_folder_counts_every_shard() -> None:
    a = paramscope.inspect(DATA / "sharded")
    assert a.parameters == 7_846
    assert a.format == "safetensors (2 shards)"
    assert a.model_class == "BertForPreTraining"  # inferred from the cls.* heads: no config.json here


def test_missing_shard(tmp_path: Path) -> None:
    shutil.copy(DATA / "sharded" / "model.safetensors.index.json", tmp_path)
    shutil.copy(DATA / "sharded" / "model-00001-of-00002.safetensors", tmp_path)
    index = tmp_path / "model.safetensors.index.json"
    with pytest.raises(FormatError) as e:
        paramscope.inspect(tmp_path)
    assert str(e.value) == (f"{index}: missing shard model-00002-of-00002.safetensors; "
                            f"copy every shard the index lists into {tmp_path}")


def _header(**over):
    entry = {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}
    entry.update(over)
    return {"w": entry}


BAD = [
    ("unknown dtype", _header(dtype="F33"),
     "tensor 'w' has unknown dtype 'F33'; known: F64, F32, F16, BF16, F8_E4M3, F8_E5M2, F8_E8M0, I64, I32, I16, I8, "
     "U64, U32, U16, U8, BOOL, C64, F4, F6_E2M3, F6_E3M2"),
    ("negative dim", _header(shape=[-2, 3]),
     "tensor 'w' has shape [-2, 3]; a shape is a list of non-negative integers"),
    ("float dim", _header(shape=[2.0, 3]),
     "tensor 'w' has shape [2.0, 3]; a shape is a list of non-negative integers"),
    ("reversed offsets", _header(data_offsets=[24, 0]),
     "tensor 'w' has data_offsets [24, 0]; expected [begin, end] with 0 <= begin <= end"),
    ("byte count", _header(data_offsets=[0, 20]),
     "tensor 'w' has 20 bytes for shape [2, 3] of F32 (24 expected); the file is corrupt"),
    ("entry not object", {"w": [1, 2]}, "entry 'w' is not an object; the file is corrupt"),
    ("metadata not object", {"__metadata__": [1], **_header()}, "__metadata__ is not an object; the file is corrupt"),
]


@pytest.mark.parametrize(("label", "header", "message"), BAD, ids=[b[0] for b in BAD])
def test_bad_headers(tmp_path: Path, label: str, header: dict, message: str) -> None:
    path = make_safetensors(tmp_path / "m.safetensors", header, data=bytes(24))
    with pytest.raises(FormatError) as e:
        safetensors.read(path)
    assert str(e.value) == f"{path}: {message}"


def test_offsets_outside_and_overlapping(tmp_path: Path) -> None:
    path = make_safetensors(tmp_path / "a.safetensors", _header(), data=bytes(10))
    with pytest.raises(FormatError) as e:
        safetensors.read(path)
    assert str(e.value) == (f"{path}: tensor 'w' ends at byte 24 of the data, past its end (10); "
                            "the file is truncated or corrupt")
    both = {"a": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]},
            "b": {"dtype": "F32", "shape": [4], "data_offsets": [8, 24]}}
    path = make_safetensors(tmp_path / "b.safetensors", both)
    with pytest.raises(FormatError) as e:
        safetensors.read(path)
    assert str(e.value) == f"{path}: tensor 'b' (bytes 8-24) overlaps 'a' (ending at 16); the file is corrupt"


@pytest.mark.parametrize("cut", [0, 3, 7], ids=lambda n: f"{n}-bytes")
def test_truncated_length_prefix(tmp_path: Path, cut: int) -> None:
    path = tmp_path / "t.safetensors"
    path.write_bytes((DATA / "tiny_bert" / "model.safetensors").read_bytes()[:cut])
    with pytest.raises(FormatError) as e:
        safetensors.read(path)
    assert str(e.value) == (f"{path}: truncated ({cut} bytes; a safetensors file starts with an 8-byte header "
                            "length); the file is incomplete, download or save it again")


def test_header_length_is_checked_before_allocating(tmp_path: Path) -> None:
    huge = tmp_path / "huge.safetensors"
    huge.write_bytes(struct.pack("<Q", 2**60) + b"{}")
    with pytest.raises(FormatError) as e:
        safetensors.read(huge)
    assert str(e.value) == (f"{huge}: header length 1,152,921,504,606,846,976 is over the 100,000,000-byte cap; "
                            "this is not a safetensors file or it is corrupt")
    past = tmp_path / "past.safetensors"
    past.write_bytes(struct.pack("<Q", 1000) + b"{}")
    with pytest.raises(FormatError) as e:
        safetensors.read(past)
    assert str(e.value) == (f"{past}: header length 1,000 runs past the end of the file (10 bytes); "
                            "the file is truncated or not safetensors")


def test_header_not_an_object(tmp_path: Path) -> None:
    path = tmp_path / "l.safetensors"
    path.write_bytes(struct.pack("<Q", 2) + b"[]")
    with pytest.raises(FormatError) as e:
        safetensors.read(path)
    assert str(e.value) == f"{path}: header is a JSON list, not an object; the file is corrupt"


REAL = (DATA / "tiny_bert" / "model.safetensors").read_bytes()


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_fuzz_only_format_errors(tmp_path_factory: pytest.TempPathFactory, data: st.DataObject) -> None:
    raw = bytearray(REAL[: 8 + struct.unpack("<Q", REAL[:8])[0] + 64])
    choice = data.draw(st.sampled_from(["flip", "truncate", "random", "length"]))
    if choice == "flip":
        for _ in range(data.draw(st.integers(1, 8))):
            raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    elif choice == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw)))]
    elif choice == "random":
        raw = bytearray(data.draw(st.binary(max_size=200)))
    else:
        raw[:8] = struct.pack("<Q", data.draw(st.integers(0, 2**64 - 1)))
    path = tmp_path_factory.mktemp("fuzz") / "f.safetensors"
    path.write_bytes(bytes(raw))
    try:
        safetensors.read(path)
    except FormatError:
        pass
