"""Source: any checkpoint path -> the tensors it holds, read header-only.

The format is told by magic bytes and names, not by the extension alone:
safetensors (header length + ``{``), PyTorch zip (``PK\\x03\\x04`` with ``data.pkl``), PyTorch legacy
(a pickle opening with torch's magic number), TensorFlow (an ``.index`` table ending in its magic),
shard indexes (``*.index.json``) and Hugging Face folders (config.json + weights).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..errors import FormatError
from ..inventory import Tensor
from . import safetensors

# Weights a Hugging Face folder may hold, in the order transformers prefers them.
FOLDER_WEIGHTS = (
    "model.safetensors.index.json",
    "model.safetensors",
    "pytorch_model.bin.index.json",
    "pytorch_model.bin",
)
CONFIG_NAMES = ("config.json", "bert_config.json")  # bert_config.json: Google's BERT releases


@dataclass(frozen=True)
class Checkpoint:
    tensors: list[Tensor]
    path: str
    format: str
    config: dict[str, Any] | None = None
    config_path: str | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)


def is_checkpoint(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` names weights (a file or a folder with weights) rather than a config alone."""
    p = Path(path)
    if p.is_dir():
        return _folder_weights(p) is not None
    if p.is_file():
        return not (p.suffix == ".json" and not p.name.endswith(".index.json"))
    return Path(str(p) + ".index").is_file()  # a TF checkpoint prefix


def read(path: str | os.PathLike[str]) -> Checkpoint:
    p = Path(path)
    if p.is_dir():
        weights = _folder_weights(p)
        if weights is None:
            raise FormatError(f"{p}: folder has no weights (looked for {', '.join(FOLDER_WEIGHTS)}, *.safetensors, "
                              "a TF checkpoint); pass the checkpoint file itself")
        ckpt = _tf(p) if weights == p else read(weights)
        config, config_path = _folder_config(p)
        return Checkpoint(ckpt.tensors, str(p), ckpt.format, config, config_path, ckpt.metadata, ckpt.notes)
    if not p.exists():
        if Path(str(p) + ".index").is_file():
            return _tf(p)
        raise FormatError(f"{p}: no such file or folder; check the path")
    if p.name.endswith(".index.json"):
        return _sharded(p)
    try:
        with open(p, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(16)
    except OSError as e:
        raise FormatError(f"{p}: cannot read ({e.strerror}); check the path and its permissions") from e
    if size == 0:
        raise FormatError(f"{p}: empty file; it is not a checkpoint")
    if safetensors.looks_like(head, size):
        tensors, meta = safetensors.read(p)
        return Checkpoint(tensors, str(p), "safetensors", metadata=dict(meta))
    if head.startswith(b"PK\x03\x04") or head.startswith(b"\x80") and p.suffix != ".index":
        return _torch(p)
    if p.suffix == ".index" or _tf_magic(p, size):
        return _tf(p)
    if head.startswith(b"\x89HDF"):
        raise FormatError(f"{p}: an HDF5 (Keras .h5) file, which paramscope does not read yet; "
                          "save the model as safetensors")
    if head.startswith(b"GGUF"):
        raise FormatError(f"{p}: a GGUF file, which paramscope does not read yet")
    if head.lstrip()[:1] == b"{":
        raise FormatError(f"{p}: a JSON file, not weights; pass it as a config, or pass the weights file")
    raise FormatError(f"{p}: not a checkpoint paramscope knows (first bytes {head[:8].hex(' ')}); "
                      "pass a .safetensors, .bin/.pt, TF .index file or a model folder")


def _tf_magic(p: Path, size: int) -> bool:
    from . import tf_checkpoint

    return size >= 48 and tf_checkpoint.looks_like(p)


def _folder_weights(p: Path) -> Path | None:
    for name in FOLDER_WEIGHTS:
        if (p / name).is_file():
            return p / name
    singles = sorted(p.glob("*.safetensors"))
    if len(singles) == 1:
        return singles[0]
    if (p / "checkpoint").is_file() or sorted(p.glob("*.index")):
        return p
    return None


def _folder_config(p: Path) -> tuple[dict[str, Any] | None, str | None]:
    for name in CONFIG_NAMES:
        path = p / name
        if path.is_file():
            from .config import _read_json

            return _read_json(path, text=str(path)).raw, str(path)
    return None, None


def _torch(p: Path) -> Checkpoint:
    from . import torch_pickle

    found = torch_pickle.read(p)
    fmt = "pytorch zip" if _is_zip(p) else "pytorch legacy"
    return Checkpoint(list(found.tensors), str(p), fmt, metadata=dict(found.metadata), notes=list(found.notes))


def _is_zip(p: Path) -> bool:
    with open(p, "rb") as f:
        return f.read(4) == b"PK\x03\x04"


def _tf(p: Path) -> Checkpoint:
    from . import tf_checkpoint

    return Checkpoint(tf_checkpoint.read(p), str(p), "tensorflow")


def _sharded(p: Path) -> Checkpoint:
    index = safetensors.load_index(p)  # parsed once (8.9 MB for DeepSeek-V3), then handed to read_index
    shards = set(index["weight_map"].values())
    if shards and all(s.endswith(".safetensors") for s in shards):
        tensors, meta, notes = safetensors.read_index(p, lambda shard: safetensors.read(shard)[0], index)
        fmt = "safetensors"
    else:
        from . import torch_pickle

        tensors, meta, notes = safetensors.read_index(p, lambda shard: list(torch_pickle.read(shard).tensors), index)
        fmt = "pytorch"
    return Checkpoint(tensors, str(p), f"{fmt} ({meta.get('shards')} shards)", metadata=meta, notes=notes)
