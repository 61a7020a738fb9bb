"""Built-in configurations of published checkpoints, so that the common models need no network.

Each config keeps the fields of the checkpoint's ``config.json`` on the Hugging Face Hub that change the
count (the rest take BertConfig's defaults). The hub configs name ``BertForMaskedLM`` or
``BertForPreTraining`` in ``architectures``; a preset describes the released encoder, so its default class
is ``BertModel`` (the article's count) and ``--model-class`` picks a head.

Published figures are the ones the releasing README states (google-research/bert README.md and
multilingual.md: "110M parameters", "340M parameters"); the 24 small BERTs were published without one.
"""

from __future__ import annotations

import difflib
import functools
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import UnknownPreset


@dataclass(frozen=True)
class Preset:
    name: str
    config: Mapping[str, Any]
    published: str | None = None  # the figure the release states, as written
    origin: str = ""
    aliases: tuple[str, ...] = ()
    nickname: str | None = None
    model_class: str = "BertModel"
    notes: tuple[str, ...] = field(default=())


def _bert(vocab: int, hidden: int, layers: int, heads: int, inter: int) -> dict[str, Any]:
    return {
        "model_type": "bert",
        "vocab_size": vocab,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": inter,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "pad_token_id": 0,
    }


_GOOGLE = "google-research/bert README; config.json of google-bert/{} on the Hugging Face Hub"
_MULTI = "google-research/bert multilingual.md; config.json of google-bert/{} on the Hugging Face Hub"

_PRESETS: list[Preset] = [
    Preset("bert-base-uncased", _bert(30522, 768, 12, 12, 3072), "110M", _GOOGLE.format("bert-base-uncased"),
           aliases=("google-bert/bert-base-uncased",), nickname="BERT-Base, Uncased"),
    Preset("bert-large-uncased", _bert(30522, 1024, 24, 16, 4096), "340M", _GOOGLE.format("bert-large-uncased"),
           aliases=("google-bert/bert-large-uncased",), nickname="BERT-Large, Uncased"),
    Preset("bert-base-cased", _bert(28996, 768, 12, 12, 3072), "110M", _GOOGLE.format("bert-base-cased"),
           aliases=("google-bert/bert-base-cased",), nickname="BERT-Base, Cased"),
    Preset("bert-large-cased", _bert(28996, 1024, 24, 16, 4096), "340M", _GOOGLE.format("bert-large-cased"),
           aliases=("google-bert/bert-large-cased",), nickname="BERT-Large, Cased"),
    Preset("bert-base-chinese", _bert(21128, 768, 12, 12, 3072), "110M", _GOOGLE.format("bert-base-chinese"),
           aliases=("google-bert/bert-base-chinese",), nickname="BERT-Base, Chinese"),
    Preset("bert-base-multilingual-cased", _bert(119547, 768, 12, 12, 3072), "110M",
           _MULTI.format("bert-base-multilingual-cased"),
           aliases=("google-bert/bert-base-multilingual-cased",), nickname="BERT-Base, Multilingual Cased"),
    Preset("bert-base-multilingual-uncased", _bert(105879, 768, 12, 12, 3072), "110M",
           _MULTI.format("bert-base-multilingual-uncased"),
           aliases=("google-bert/bert-base-multilingual-uncased",), nickname="BERT-Base, Multilingual Uncased"),
]

# Google's 24 smaller BERTs ("Well-Read Students Learn Better", Turc et al. 2019): A = H/64, I = 4H.
_NICKNAMES = {(2, 128): "Tiny", (4, 256): "Mini", (4, 512): "Small", (8, 512): "Medium"}
for _layers in (2, 4, 6, 8, 10, 12):
    for _hidden in (128, 256, 512, 768):
        _name = f"google/bert_uncased_L-{_layers}_H-{_hidden}_A-{_hidden // 64}"
        _nick = _NICKNAMES.get((_layers, _hidden))
        _PRESETS.append(Preset(
            _name, _bert(30522, _hidden, _layers, _hidden // 64, 4 * _hidden),
            "110M" if (_layers, _hidden) == (12, 768) else None,
            "google-research/bert README (smaller BERT models); config.json of " + _name,
            aliases=(_name.removeprefix("google/"),) + ((f"bert-{_nick.lower()}",) if _nick else ()),
            nickname=f"BERT-{_nick}" if _nick else None,
        ))

PRESETS: dict[str, Preset] = {p.name: p for p in _PRESETS}  # BERT's; catalogue() has every family's


@functools.cache
def catalogue() -> dict[str, Preset]:
    """Every built-in preset: BERT's here, then each family module's ``presets``."""
    from .families import all_families

    out = dict(PRESETS)
    for fam in all_families().values():
        for p in fam.presets:
            out[p.name] = p
    return out


@functools.cache
def _lookup() -> dict[str, Preset]:
    return {key.lower(): p for p in catalogue().values() for key in (p.name, *p.aliases)}


_BERT_LOOKUP = {key.lower(): p for p in _PRESETS for key in (p.name, *p.aliases)}


def find(name: str) -> Preset | None:
    """A preset by name or alias; BERT's are found without importing the other families."""
    return _BERT_LOOKUP.get(name.lower()) or _lookup().get(name.lower())


def suggest(name: str, *, n: int = 3) -> list[str]:
    """The closest preset names to a misspelt one."""
    names = {key: p.name for key, p in _lookup().items()}
    hits = difflib.get_close_matches(name.lower(), list(names), n=n * 2, cutoff=0.6)
    out: list[str] = []
    for hit in hits:
        if names[hit] not in out:
            out.append(names[hit])
    return out[:n]


def require(name: str) -> Preset:
    preset = find(name)
    if preset is None:
        close = suggest(name)
        hint = f"did you mean {', '.join(close)}? " if close else ""
        raise UnknownPreset(
            f"{name!r} is neither a preset nor an existing file or folder; {hint}"
            "'paramscope presets' lists the presets"
        )
    return preset
