"""The independent oracle: transformers builds the model on the meta device (which ties weights) and
reports its parameters, tied duplicates and buffers. Only tests import this module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
import transformers

transformers.logging.set_verbosity_error()


@dataclass(frozen=True)
class Truth:
    parameters: list[tuple[str, tuple[int, ...]]]  # named_parameters(), module order, duplicates removed
    aliases: dict[str, str]  # a tied duplicate's name -> the name it shares storage with
    buffers: list[tuple[str, tuple[int, ...], str]]
    total: int  # sum(p.numel() for p in model.parameters())


def make_config(config: Mapping[str, Any]) -> transformers.PretrainedConfig:
    """A transformers config from a dict with ``model_type`` (BERT when it has none)."""
    cfg = dict(config)
    model_type = cfg.pop("model_type", "bert")
    return transformers.AutoConfig.for_model(model_type, **cfg)


def build(config: Mapping[str, Any], model_class: str, **kwargs: Any) -> Truth:
    cfg = make_config(config)
    with torch.device("meta"):
        model = getattr(transformers, model_class)(cfg, **kwargs)
    return truth(model)


def truth(model: torch.nn.Module) -> Truth:
    first: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in first:
            aliases[name] = first[id(p)]
        else:
            first[id(p)] = name
    return Truth(
        parameters=[(n, tuple(p.shape)) for n, p in model.named_parameters()],
        aliases=aliases,
        buffers=[(n, tuple(b.shape), str(b.dtype).removeprefix("torch.")) for n, b in model.named_buffers()],
        total=sum(p.numel() for p in model.parameters()),
    )
