"""Tiny fixtures built in code: safetensors bytes from a dict, models saved by transformers."""

from __future__ import annotations

import json
import struct
from pathlib import Path
from typing import Any

TINY = {"vocab_size": 100, "hidden_size": 16, "num_hidden_layers": 2, "num_attention_heads": 2,
        "intermediate_size": 32, "max_position_embeddings": 64}


def make_safetensors(path: Path, header: dict[str, Any], data: bytes | None = None) -> Path:
    """A safetensors file with exactly this header; data of the size the offsets need unless given."""
    raw = json.dumps(header).encode()
    if data is None:
        ends = [v["data_offsets"][1] for k, v in header.items() if k != "__metadata__" and isinstance(v, dict)
                and isinstance(v.get("data_offsets"), list) and len(v["data_offsets"]) == 2
                and isinstance(v["data_offsets"][1], int)]
        data = bytes(max(ends, default=0))
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


def save_model(folder: Path, model_class: str, config: dict[str, Any] | None = None, **save: Any):
    """A real transformers model with random weights saved by save_pretrained (safetensors)."""
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = transformers.BertConfig(**(config or TINY))
    model = getattr(transformers, model_class)(cfg)
    model.save_pretrained(folder, **save)
    return model
