"""Source: a live ``torch.nn.Module`` (Python API only). Torch is already imported by whoever built it.

Ties are found by identity of the Parameter object, or on a real device by shared storage (same data
pointer, offset, shape and stride); buffers keep their persistence; ``requires_grad`` tells trainable
from frozen.
"""

from __future__ import annotations

from typing import Any

from ..inventory import Kind, Tensor


def _key(p: Any) -> Any:
    try:
        if p.device.type != "meta" and p.untyped_storage().data_ptr():
            return ("storage", p.untyped_storage().data_ptr(), p.storage_offset(), tuple(p.shape), p.stride())
    except (RuntimeError, NotImplementedError):  # tensor subclasses without a plain storage
        pass
    return ("object", id(p))


def read(module: Any) -> tuple[list[Tensor], dict[str, Any] | None, list[str]]:
    """Parameters (aliases for tied duplicates), then buffers, in module order; and the HF config if any."""
    tensors: list[Tensor] = []
    first: dict[Any, str] = {}
    for name, p in module.named_parameters(remove_duplicate=False):
        key = _key(p)
        dtype = str(p.dtype).removeprefix("torch.")
        shape = tuple(int(d) for d in p.shape)
        if key in first:
            tensors.append(Tensor(name, shape, dtype, Kind.ALIAS, first[key], trainable=bool(p.requires_grad)))
        else:
            first[key] = name
            tensors.append(Tensor(name, shape, dtype, Kind.PARAMETER, trainable=bool(p.requires_grad)))
    notes: list[str] = []
    non_persistent = []
    for mod_name, mod in module.named_modules():
        for b in getattr(mod, "_non_persistent_buffers_set", ()):
            non_persistent.append(f"{mod_name}.{b}" if mod_name else b)
    for name, b in module.named_buffers():
        tensors.append(Tensor(name, tuple(int(d) for d in b.shape), str(b.dtype).removeprefix("torch."), Kind.BUFFER))
    if non_persistent:
        notes.append(f"non-persistent buffers (not saved in state_dict): {', '.join(sorted(non_persistent))}")
    config = getattr(module, "config", None)
    raw = None
    if config is not None and callable(getattr(config, "to_dict", None)):
        raw = config.to_dict()
        if getattr(config, "num_labels", None) is not None:
            raw["num_labels"] = config.num_labels
    return tensors, raw, notes
