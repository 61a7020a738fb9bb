"""The TensorFlow checkpoint reader against real checkpoints written by tensorflow-cpu 2.21.

``tests/data/tf`` holds copies of the shared fixtures and, in ``expected.json``, what TensorFlow's own
``tf.train.list_variables`` reports for each. Synthetic indexes are built here with a small, independent
table writer (its CRC-32C is checked against the real files' block checksums).
"""

from __future__ import annotations

import json
import shutil
import struct
import time
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from paramscope.errors import FormatError
from paramscope.inventory import Kind
from paramscope.sources import tf_checkpoint as tfc

DATA = Path(__file__).parent / "data" / "tf"
EXPECTED: dict[str, dict[str, dict]] = json.loads((DATA / "expected.json").read_text())["checkpoints"]
CHECKPOINTS = sorted(EXPECTED)  # "tf1_bert/bert_model.ckpt", ...
BERT = "tf1_bert/bert_model.ckpt"
MAGIC_BYTES = struct.pack("<Q", 0xDB4775248B80FB57)


def listing(tensors) -> dict[str, dict]:
    return {t.name: {"shape": list(t.shape), "dtype": t.dtype} for t in tensors}


def copy_checkpoint(tmp_path: Path, ckpt: str = BERT) -> Path:
    """A writable copy of one fixture's folder; returns the checkpoint prefix inside it."""
    folder = ckpt.split("/")[0]
    shutil.copytree(DATA / folder, tmp_path / folder, copy_function=shutil.copyfile)
    return tmp_path / ckpt


def index_of(prefix: Path) -> Path:
    return prefix.with_name(prefix.name + ".index")


def shard_of(prefix: Path, i: int = 0, n: int = 1) -> Path:
    return prefix.with_name(f"{prefix.name}.data-{i:05d}-of-{n:05d}")


def read_error(path) -> str:
    with pytest.raises(FormatError) as info:
        tfc.read(path)
    return str(info.value)


# ------------------------------------------------------------------------------------------------
# A tiny, independent table writer (LevelDB layout, as TensorFlow writes it)


def crc32c(data: bytes) -> int:
    crc = 0xFFFFFFFF
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ (0x82F63B78 & -(crc & 1))
    return crc ^ 0xFFFFFFFF


def masked(crc: int) -> int:
    return ((((crc >> 15) | (crc << 17)) & 0xFFFFFFFF) + 0xA282EAD8) & 0xFFFFFFFF


def trailer(block: bytes, kind: int = 0) -> bytes:
    return bytes([kind]) + struct.pack("<I", masked(crc32c(block + bytes([kind]))))


def varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values are written as ten-byte two's complement
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def pb_int(field: int, value: int) -> bytes:
    return varint(field << 3) + varint(value)


def pb_bytes(field: int, value: bytes) -> bytes:
    return varint(field << 3 | 2) + varint(len(value)) + value


def header_proto(num_shards: int = 1) -> bytes:
    return pb_int(1, num_shards) + pb_bytes(3, pb_int(1, 1))


def entry_proto(dtype: int, shape, offset: int = 0, size: int = 0, shard: int = 0, slices=()) -> bytes:
    out = pb_int(1, dtype) + pb_bytes(2, b"".join(pb_bytes(2, pb_int(1, d)) for d in shape))
    if shard:
        out += pb_int(3, shard)
    out += pb_int(4, offset) + pb_int(5, size) + varint(6 << 3 | 5) + b"\x01\x02\x03\x04"
    for extents in slices:
        out += pb_bytes(7, b"".join(pb_bytes(1, pb_int(1, s) + pb_int(2, n)) for s, n in extents))
    return out


def block(items, restart_interval: int = 16) -> bytes:
    out, restarts, prev = bytearray(), [], b""
    for i, (key, value) in enumerate(items):
        shared = 0
        if i % restart_interval == 0:
            restarts.append(len(out))
        else:
            while shared < min(len(prev), len(key)) and prev[shared] == key[shared]:
                shared += 1
        out += varint(shared) + varint(len(key) - shared) + varint(len(value)) + key[shared:] + value
        prev = key
    restarts = restarts or [0]
    out += b"".join(struct.pack("<I", r) for r in restarts) + struct.pack("<I", len(restarts))
    return bytes(out)


def table(items, per_block: int = 1000, restart_interval: int = 16) -> bytes:
    out, index_items = bytearray(), []
    for start in range(0, len(items), per_block):
        chunk = items[start:start + per_block]
        body = block(chunk, restart_interval)
        index_items.append((chunk[-1][0], varint(len(out)) + varint(len(body))))
        out += body + trailer(body)
    meta = block([])
    meta_at = len(out)
    out += meta + trailer(meta)
    index = block(index_items, 1)
    index_at = len(out)
    out += index + trailer(index)
    handles = varint(meta_at) + varint(len(meta)) + varint(index_at) + varint(len(index))
    return bytes(out) + handles.ljust(40, b"\0") + MAGIC_BYTES


def write_checkpoint(prefix: Path, entries: dict[bytes, bytes], data_size: int = 1000, num_shards: int = 1,
                     **layout) -> Path:
    prefix.parent.mkdir(parents=True, exist_ok=True)
    items = [(b"", header_proto(num_shards))] + sorted(entries.items())
    index_of(prefix).write_bytes(table(items, **layout))
    for i in range(num_shards):
        shard_of(prefix, i, num_shards).write_bytes(b"\0" * data_size)
    return prefix


TF_DTYPE = {"float32": 1, "float64": 2, "int32": 3, "string": 7, "int64": 9, "float16": 19}
ITEMSIZE = {"float32": 4, "float64": 8, "int32": 4, "string": 16, "int64": 8, "float16": 2}


def synthetic_from_expected(prefix: Path, ckpt: str, **layout) -> Path:
    """A checkpoint whose index says exactly what expected.json says, written by the writer above."""
    entries, offset = {}, 0
    for name, info in EXPECTED[ckpt].items():
        size = ITEMSIZE[info["dtype"]]
        for d in info["shape"]:
            size *= d
        entries[name.encode()] = entry_proto(TF_DTYPE[info["dtype"]], info["shape"], offset, size)
        offset += size
    return write_checkpoint(prefix, entries, data_size=offset, **layout)


def test_writer_crc_matches_the_real_files():
    assert crc32c(b"123456789") == 0xE3069283 == tfc.crc32c(b"123456789")
    data = (DATA / "tf1_bert/bert_model.ckpt.index").read_bytes()
    # data block (0, 1719), metaindex (1724, 8), index (1737, 15): each followed by type 0 and a masked CRC
    for offset, size in [(0, 1719), (1724, 8), (1737, 15)]:
        assert data[offset + size:offset + size + 5] == trailer(data[offset:offset + size])


# ------------------------------------------------------------------------------------------------
# What TensorFlow lists


@pytest.mark.parametrize("ckpt", CHECKPOINTS)
def test_names_shapes_dtypes_match_tensorflow(ckpt):
    tensors = tfc.read(DATA / ckpt)
    assert listing(tensors) == EXPECTED[ckpt]
    assert [t.name for t in tensors] == sorted(EXPECTED[ckpt])  # tf.train.list_variables order


def test_bert_details():
    tensors = {t.name: t for t in tfc.read(str(DATA / BERT))}
    assert len(tensors) == 45
    assert tensors["bert/encoder/layer_0/intermediate/dense/kernel"].shape == (16, 32)  # [in, out], as stored
    assert tensors["bert/encoder/layer_0/output/dense/kernel"].shape == (32, 16)
    assert tensors["cls/seq_relationship/output_weights"].shape == (2, 16)
    assert tensors["bert/extra_fp16_example"].dtype == "float16"
    assert (tensors["global_step"].shape, tensors["global_step"].dtype) == ((), "int64")
    # The README says "no cls/predictions/transform/*"; the index (and TensorFlow) has this one kernel.
    transform = [n for n in tensors if n.startswith("cls/predictions/transform/")]
    assert transform == ["cls/predictions/transform/dense/kernel"]
    # 7,846 of the torch BertForPreTraining, less transform bias and LayerNorm (48), plus the fp16 3x5 (15)
    assert sum(t.numel for t in tensors.values() if t.kind == Kind.PARAMETER) == 7813


KINDS = {
    BERT: {**{name: Kind.PARAMETER for name in EXPECTED[BERT]}, "global_step": Kind.OPTIMIZER_STATE},
    "tf1_partitioned/model.ckpt": {"part/w": Kind.PARAMETER, "vocab_str": Kind.OTHER},
    "tf2_obj/ckpt": {
        "_CHECKPOINTABLE_OBJECT_GRAPH": Kind.OTHER,
        "model/dense/_kernel/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/dense/bias/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/emb/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/opt/_iterations/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE,
        "model/opt/_learning_rate/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE,
        "model/opt/_variables/2/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE,
        "model/opt/_variables/3/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE,
        "step/.ATTRIBUTES/VARIABLE_VALUE": Kind.OTHER,
    },
    "tf2_keras/ckpt": {
        "_CHECKPOINTABLE_OBJECT_GRAPH": Kind.OTHER,
        "model/_functional/_operations/1/_kernel/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/_functional/_operations/1/bias/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/_functional/_operations/2/_kernel/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/_functional/_operations/2/bias/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "step/.ATTRIBUTES/VARIABLE_VALUE": Kind.OTHER,
    },
    "tf2_tfkeras/ckpt": {
        "_CHECKPOINTABLE_OBJECT_GRAPH": Kind.OTHER,
        "model/layer_with_weights-0/bias/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/layer_with_weights-0/kernel/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/layer_with_weights-1/bias/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        "model/layer_with_weights-1/kernel/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
        **{f"model/optimizer/{n}/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE
           for n in ["_iterations", "_learning_rate"] + [f"_variables/{i}" for i in range(1, 9)]},
    },
}


@pytest.mark.parametrize("ckpt", CHECKPOINTS)
def test_kinds(ckpt):
    assert {t.name: t.kind for t in tfc.read(DATA / ckpt)} == KINDS[ckpt]


def test_parameter_counts():
    def params(ckpt):
        return sum(t.numel for t in tfc.read(DATA / ckpt) if t.kind == Kind.PARAMETER)
    assert params("tf2_obj/ckpt") == 4 * 8 + 8 + 10 * 4
    assert params("tf2_keras/ckpt") == params("tf2_tfkeras/ckpt") == 4 * 8 + 8 + 8 * 2 + 2  # 58


def test_partitioned_variable_listed_once_at_full_shape():
    tensors = tfc.read(DATA / "tf1_partitioned/model.ckpt")
    assert [(t.name, t.shape, t.dtype) for t in tensors] == [("part/w", (10, 4), "float32"),
                                                              ("vocab_str", (2,), "string")]


def test_slice_keys_are_the_ones_tensorflow_writes():
    data = (DATA / "tf1_partitioned/model.ckpt.index").read_bytes()
    first = tfc.slice_key(b"part/w", ((0, 5), (0, 4)))
    second = tfc.slice_key(b"part/w", ((5, 5), (0, 4)))
    assert first == b"\x00part/w\x00\x01\x01\x02\x80\x85\x80\x84"
    assert second == b"\x00part/w\x00\x01\x01\x02\x85\x85\x80\x84"
    assert data[12:27] == first  # the first entry after the header (9 bytes) and its 3-byte entry head
    assert data[46:53] == b"\x0b\x04\x15" + second[11:]  # shares 11 bytes, adds 4, value of 21 bytes
    # a whole dimension is length -1; bytes 0x00/0xff in names are escaped; larger numbers take more bytes
    assert tfc.slice_key(b"a\x00\xff", ((64, -1),)) == b"\x00a\x00\xff\xff\x00\x00\x01\x01\x01\xc0\x40\x7f"


@given(st.integers(-(2**63), 2**63 - 1), st.integers(-(2**63), 2**63 - 1))
def test_slice_key_numbers_keep_their_order(a, b):
    ka, kb = tfc.slice_key(b"v", ((a, 1),)), tfc.slice_key(b"v", ((b, 1),))
    assert (ka < kb) == (a < b) and (ka == kb) == (a == b)


def test_partitioned_variable_with_a_missing_slice(tmp_path):
    value = entry_proto(1, [10, 4], slices=[((0, 5), (0, 4)), ((5, 5), (0, 4))])
    prefix = write_checkpoint(tmp_path / "p" / "model.ckpt", {
        b"part/w": value,
        tfc.slice_key(b"part/w", ((0, 5), (0, 4))): entry_proto(1, [5, 4], 0, 80),
    })
    assert read_error(prefix) == (f"{index_of(prefix)}: partitioned variable 'part/w' lists a slice that has no "
                                  "entry; the index is corrupt, copy it again")


# ------------------------------------------------------------------------------------------------
# Ways of naming a checkpoint


@pytest.mark.parametrize("how", ["prefix", "prefix-str", "index", "data-shard", "folder-with-checkpoint-file"])
def test_ways_of_naming_the_checkpoint(how):
    prefix = DATA / BERT
    path = {"prefix": prefix, "prefix-str": str(prefix), "index": index_of(prefix), "data-shard": shard_of(prefix),
            "folder-with-checkpoint-file": prefix.parent}[how]
    assert listing(tfc.read(path)) == EXPECTED[BERT]
    assert tfc.looks_like(path) is True


def test_folder_with_one_index_and_no_checkpoint_file():
    assert not (DATA / "tf2_obj" / "checkpoint").exists()
    assert listing(tfc.read(DATA / "tf2_obj")) == EXPECTED["tf2_obj/ckpt"]


def test_checkpoint_file_with_absolute_path_from_another_machine(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    (prefix.parent / "checkpoint").write_text('model_checkpoint_path: "/home/someone/run/bert_model.ckpt"\n')
    assert listing(tfc.read(prefix.parent)) == EXPECTED[BERT]


def test_looks_like_false(tmp_path):
    other = tmp_path / "model.safetensors"
    other.write_bytes(b"\x10\x00\x00\x00\x00\x00\x00\x00{}" + b" " * 60)
    bad = tmp_path / "bad.index"
    bad.write_bytes(b"\0" * 100)
    short = tmp_path / "short.index"
    short.write_bytes(MAGIC_BYTES)
    (tmp_path / "empty").mkdir()
    for path in [other, bad, short, tmp_path / "empty", tmp_path / "nothing", tmp_path / "bad"]:
        assert tfc.looks_like(path) is False, path
    assert tfc.looks_like(tmp_path / "short") is False


# ------------------------------------------------------------------------------------------------
# Errors: exact one-line messages


@pytest.mark.parametrize("keep", [0, 1, 24, 47], ids=["empty", "one-byte", "half-footer", "47-bytes"])
def test_truncated_index(tmp_path, keep):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    index.write_bytes(index.read_bytes()[:keep])
    assert read_error(prefix) == (f"{index}: truncated ({keep} bytes, a table needs at least 48); "
                                  "copy the complete .index file")


# Cut at 48 bytes, the "magic" is bytes 40..47 of the first entry; one byte short, it is the magic shifted
# by one (00 57 fb 80 8b 24 75 47, read little-endian).
@pytest.mark.parametrize("keep,magic", [(48, "0x0212041201086174"), (1804, "0x4775248b80fb5700")],
                         ids=["first-48-bytes", "last-byte-missing"])
def test_truncated_index_loses_its_magic(tmp_path, keep, magic):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    index.write_bytes(index.read_bytes()[:keep])
    assert read_error(index) == (f"{index}: not a TensorFlow checkpoint index (bad magic {magic}); "
                                 "pass the .index of a TF checkpoint")


def test_truncated_middle_keeps_footer(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    data = index.read_bytes()
    index.write_bytes(data[:1000] + data[-48:])
    assert read_error(prefix) == (f"{index}: index block (offset 1737, size 15) lies outside the file (1048 bytes); "
                                  "the index is truncated or corrupt, copy it again")


def test_bad_magic(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    index.write_bytes(index.read_bytes()[:-8] + bytes(range(0, 0x88, 0x11)))
    assert read_error(prefix) == (f"{index}: not a TensorFlow checkpoint index (bad magic 0x7766554433221100); "
                                  "pass the .index of a TF checkpoint")


def test_compressed_data_block(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    data = bytearray(index.read_bytes())
    data[1719:1724] = trailer(bytes(data[:1719]), kind=1)  # a snappy block with a valid checksum
    index.write_bytes(bytes(data))
    assert read_error(prefix) == (f"{index}: block at offset 0 is compressed (type 1), which this reader does not "
                                  "support; TensorFlow writes checkpoint indexes uncompressed, so re-save the "
                                  "checkpoint with TensorFlow")


def test_compressed_index_block_flag(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    data = bytearray(index.read_bytes())
    data[1737 + 15] = 4  # type checked before the checksum
    index.write_bytes(bytes(data))
    assert read_error(prefix).startswith(f"{index}: block at offset 1737 is compressed (type 4), which this reader")


def test_checksum_mismatch(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    data = bytearray(index.read_bytes())
    assert data[0x0C:0x10] == b"bert"
    data[0x0C] = ord("B")
    index.write_bytes(bytes(data))
    assert read_error(prefix) == (f"{index}: block at offset 0 fails its checksum (stored 0xdeadcb3b, computed "
                                  f"0x{crc32c(bytes(data[:1720])):08x}); the index is corrupt, copy it again")


def test_restart_count_beyond_block(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index = index_of(prefix)
    data = bytearray(index.read_bytes())
    data[1715:1719] = struct.pack("<I", 0xFFFF)
    data[1719:1724] = trailer(bytes(data[:1719]))
    index.write_bytes(bytes(data))
    assert read_error(prefix) == (f"{index}: block at offset 0 is malformed (restart count 65535 does not fit in a "
                                  "1719-byte block); the index is corrupt, copy it again")


def test_missing_shard(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    shard_of(prefix).unlink()
    assert read_error(prefix) == (f"{prefix}: missing shard bert_model.ckpt.data-00000-of-00001; "
                                  "copy every file of the checkpoint")


def test_missing_second_shard_named_by_header(tmp_path):
    prefix = synthetic_from_expected(tmp_path / "two" / "model.ckpt", "tf2_obj/ckpt", num_shards=2)
    shard_of(prefix, 1, 2).unlink()
    assert read_error(prefix) == (f"{prefix}: missing shard model.ckpt.data-00001-of-00002; "
                                  "copy every file of the checkpoint")


def test_missing_index(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    index_of(prefix).unlink()
    assert read_error(prefix) == f"{prefix}: missing index bert_model.ckpt.index; copy every file of the checkpoint"
    assert read_error(prefix.parent) == (f"{prefix.parent / 'checkpoint'}: names checkpoint 'bert_model.ckpt' but "
                                         "bert_model.ckpt.index does not exist; copy every file of the checkpoint, "
                                         "or pass its prefix directly")
    assert tfc.looks_like(prefix) is False


def test_no_checkpoint_at_all(tmp_path):
    path = tmp_path / "model.ckpt"
    assert read_error(path) == (f"{path}: no TensorFlow checkpoint here (model.ckpt.index does not exist); "
                                "pass the checkpoint prefix (e.g. model.ckpt), its .index file or its folder")


def test_offset_beyond_data_file(tmp_path):
    prefix = copy_checkpoint(tmp_path)
    shard = shard_of(prefix)
    content = shard.read_bytes()
    assert len(content) == 31230
    shard.write_bytes(content[:100])
    assert read_error(prefix) == (f"{shard}: entry 'bert/embeddings/LayerNorm/gamma' needs bytes 64..128 but the "
                                  "file has 100 bytes; the data file is truncated, copy every file of the checkpoint")
    shard.write_bytes(content[:-1])
    assert read_error(prefix) == (f"{shard}: entry 'global_step' needs bytes 31222..31230 but the file has 31229 "
                                  "bytes; the data file is truncated, copy every file of the checkpoint")


def test_folder_without_checkpoint(tmp_path):
    assert read_error(tmp_path) == (f"{tmp_path}: no 'checkpoint' file and no *.index file in this folder; "
                                    "pass a TensorFlow checkpoint's prefix, its .index file or its folder")
    (tmp_path / "a.index").write_bytes(b"")
    (tmp_path / "b.index").write_bytes(b"")
    assert read_error(tmp_path) == (f"{tmp_path}: no 'checkpoint' file and 2 *.index files (a.index, b.index); "
                                    "pass the prefix or .index of the one to read")


def test_checkpoint_file_without_path(tmp_path):
    (tmp_path / "checkpoint").write_text('all_model_checkpoint_paths: "x"\n')
    assert read_error(tmp_path) == (f"{tmp_path / 'checkpoint'}: no model_checkpoint_path line; "
                                    "pass the checkpoint prefix or its .index file")


BAD_ENTRIES = [
    ("varint-11-bytes", b"\x08" + b"\xff" * 10 + b"\x01", "a varint is longer than 10 bytes"),
    ("length-beyond", pb_int(1, 1) + b"\x12\x7f\x12", "field 2 claims 127 bytes but only 1 remain"),
    ("negative-dim", entry_proto(1, [3, -1]), "dimension 1 is -1"),
    ("absurd-dims", entry_proto(1, [2**31, 2**31, 2**31]), "the shape [2147483648, 2147483648, 2147483648] has "
                                                           "more than 2**62 elements"),
    ("unknown-rank", pb_int(1, 1) + pb_bytes(2, pb_int(3, 1)), "the shape has unknown rank"),
    ("group-wire-type", pb_int(1, 1) + b"\x1b", "field 3 has unsupported wire type 3"),
    ("field-zero", b"\x00\x01", "field number 0 is invalid"),
]


@pytest.mark.parametrize("value,detail", [(v, d) for _, v, d in BAD_ENTRIES], ids=[i for i, _, _ in BAD_ENTRIES])
def test_unreadable_entry(tmp_path, value, detail):
    prefix = write_checkpoint(tmp_path / "x" / "model.ckpt", {b"w": value})
    assert read_error(prefix) == (f"{index_of(prefix)}: entry 'w' is not readable ({detail}); "
                                  "the index is corrupt, copy it again")


def test_entry_in_a_shard_the_header_does_not_have(tmp_path):
    prefix = write_checkpoint(tmp_path / "x" / "model.ckpt", {b"w": entry_proto(1, [2], 0, 8, shard=3)})
    assert read_error(prefix) == (f"{index_of(prefix)}: entry 'w' is in shard 3 but the header says there are 1; "
                                  "the index is corrupt, copy it again")


def test_keys_out_of_order(tmp_path):
    prefix = tmp_path / "x" / "model.ckpt"
    write_checkpoint(prefix, {})
    items = [(b"", header_proto()), (b"b", entry_proto(1, [1], 0, 4)), (b"a", entry_proto(1, [1], 4, 4))]
    index_of(prefix).write_bytes(table(items))
    assert read_error(prefix) == (f"{index_of(prefix)}: key 'a' is out of order (after 'b'); "
                                  "the index is corrupt, copy it again")


# ------------------------------------------------------------------------------------------------
# Synthetic indexes: many blocks, every dtype


@pytest.mark.parametrize("ckpt", CHECKPOINTS)
@pytest.mark.parametrize("per_block,restart_interval", [(1, 1), (3, 2), (1000, 16)])
def test_synthetic_multi_block_layouts(tmp_path, ckpt, per_block, restart_interval):
    prefix = synthetic_from_expected(tmp_path / "s" / "model.ckpt", ckpt, per_block=per_block,
                                     restart_interval=restart_interval)
    tensors = tfc.read(prefix)
    assert listing(tensors) == EXPECTED[ckpt]
    if ckpt != "tf1_partitioned/model.ckpt":  # synthetic part/w has no slices; kinds do not depend on them
        assert {t.name: t.kind for t in tensors} == KINDS[ckpt]


def test_dtypes(tmp_path):
    enums = {1: "float32", 2: "float64", 3: "int32", 4: "uint8", 5: "int16", 6: "int8", 7: "string", 8: "complex64",
             9: "int64", 10: "bool", 14: "bfloat16", 17: "uint16", 18: "complex128", 19: "float16", 22: "uint32",
             23: "uint64", 24: "float8_e5m2", 25: "float8_e4m3fn", 101: "float32", 99: "tf_dtype_99",
             -5: "tf_dtype_-5"}
    entries = {f"v{n:+04d}".encode(): entry_proto(n, [2, 3]) for n in enums}
    prefix = write_checkpoint(tmp_path / "d" / "model.ckpt", entries)
    assert {t.name: t.dtype for t in tfc.read(prefix)} == {f"v{n:+04d}": name for n, name in enums.items()}


def test_tf1_and_tf2_optimizer_names(tmp_path):
    names = {
        b"layer/kernel": Kind.PARAMETER, b"layer/kernel/adam_m": Kind.OPTIMIZER_STATE,
        b"layer/kernel/adam_v": Kind.OPTIMIZER_STATE, b"layer/kernel/Adam_1": Kind.OPTIMIZER_STATE,
        b"beta1_power": Kind.OPTIMIZER_STATE, b"global_step": Kind.OPTIMIZER_STATE,
        b"save_counter/.ATTRIBUTES/VARIABLE_VALUE": Kind.OTHER,
        b"optimizer/iter/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE,
        b"net/k/.OPTIMIZER_SLOT/optimizer/m/.ATTRIBUTES/VARIABLE_VALUE": Kind.OPTIMIZER_STATE,
        b"net/k/.ATTRIBUTES/VARIABLE_VALUE": Kind.PARAMETER,
    }
    entries = {n: entry_proto(9 if n.startswith((b"save", b"optimizer/iter", b"global")) else 1, [])
               for n in names}
    prefix = write_checkpoint(tmp_path / "k" / "model.ckpt", entries)
    assert {t.name: t.kind for t in tfc.read(prefix)} == {n.decode(): k for n, k in names.items()}


# ------------------------------------------------------------------------------------------------
# Fuzz: whatever the bytes, read() returns a list or raises FormatError, quickly

FUZZ_SOURCES = {ckpt: index_of(DATA / ckpt).read_bytes() for ckpt in CHECKPOINTS}


def block_layout(data: bytes) -> list[tuple[int, int]]:
    """(offset, size) of every block of a pristine fixture: the data blocks, metaindex and index."""
    footer = data[-48:]
    pos, handles = 0, []
    for _ in range(4):
        value, shift = 0, 0
        while True:
            byte = footer[pos]
            pos += 1
            value |= (byte & 0x7F) << shift
            shift += 7
            if byte < 0x80:
                break
        handles.append(value)
    meta, index = (handles[0], handles[1]), (handles[2], handles[3])
    return [(0, meta[0] - 5), meta, index]  # each fixture has a single data block at offset 0


LAYOUTS = {ckpt: block_layout(data) for ckpt, data in FUZZ_SOURCES.items()}


def refresh_checksums(data: bytearray, layout) -> None:
    for offset, size in layout:
        end = offset + size
        if end + 5 <= len(data):  # keep whatever type byte is there, make the checksum match it
            data[end + 1:end + 5] = struct.pack("<I", masked(crc32c(bytes(data[offset:end + 1]))))


@st.composite
def fuzzed_index(draw) -> tuple[str, bytes]:
    ckpt = draw(st.sampled_from(CHECKPOINTS))
    data = bytearray(FUZZ_SOURCES[ckpt])
    how = draw(st.sampled_from(["mutate", "mutate+crc", "truncate", "extend", "splice", "random", "random+footer"]))
    if how.startswith("mutate"):
        for _ in range(draw(st.integers(1, 8))):
            data[draw(st.integers(0, len(data) - 1))] = draw(st.integers(0, 255))
        if how == "mutate+crc":  # get past the checksums into the entry and protobuf decoders
            refresh_checksums(data, LAYOUTS[ckpt])
    elif how == "truncate":
        data = data[:draw(st.integers(0, len(data)))]
    elif how == "extend":
        data = data + draw(st.binary(min_size=1, max_size=64))
    elif how == "splice":
        start = draw(st.integers(0, len(data)))
        end = draw(st.integers(start, len(data)))
        data = data[:start] + draw(st.binary(max_size=32)) + data[end:]
    elif how == "random":
        data = bytearray(draw(st.binary(max_size=512)))
    else:
        data = bytearray(draw(st.binary(max_size=512))) + MAGIC_BYTES
    return ckpt, bytes(data)


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("tf_fuzz")
    for ckpt in CHECKPOINTS:
        copy_checkpoint(root, ckpt)
    return root


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(case=fuzzed_index())
def test_fuzz_index_bytes(fuzz_dir, case):
    ckpt, data = case
    prefix = fuzz_dir / ckpt
    index_of(prefix).write_bytes(data)
    started = time.perf_counter()
    try:
        result = tfc.read(prefix)
    except FormatError as e:
        assert "\n" not in str(e) and str(e).startswith(str(fuzz_dir))
    else:
        assert isinstance(result, list)
    assert time.perf_counter() - started < 2.0


@st.composite
def fuzzed_entries(draw) -> dict[bytes, bytes]:
    """Well-formed tables whose keys and values are arbitrary: exercises the protobuf decoder directly."""
    real = [entry_proto(1, [4, 8], 0, 128), entry_proto(7, [], 0, 10),
            entry_proto(1, [10, 4], slices=[((0, 5), (0, 4))])]
    values = st.one_of(st.binary(max_size=40), st.sampled_from(real),
                       st.tuples(st.sampled_from(real), st.integers(0, 40), st.binary(min_size=1, max_size=3)).map(
                           lambda t: t[0][:t[1]] + t[2] + t[0][t[1] + len(t[2]):]))
    return draw(st.dictionaries(st.binary(min_size=1, max_size=12), values, max_size=12))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(entries=fuzzed_entries(), per_block=st.integers(1, 5))
def test_fuzz_entries(fuzz_dir, entries, per_block):
    prefix = fuzz_dir / "entries" / "model.ckpt"
    write_checkpoint(prefix, entries, data_size=200, per_block=per_block, restart_interval=2)
    try:
        result = tfc.read(prefix)
    except FormatError as e:
        assert "\n" not in str(e)
    else:
        assert isinstance(result, list) and len(result) <= len(entries)
