"""What several family modules share: tensor builders, config checks, checkpoint reading, the BERT layer.

Only logic that is the same in every family using it lives here. Where families differ in a way that
shows (an error's wording, module order, a default), the difference is an explicit parameter or stays in
the family module. Comments that cite transformers' source stay with the family that needs them.

This module defines no ``FAMILY``: ``families/__init__.py`` skips it.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence

from ..errors import ConfigError, UnknownArchitecture
from ..inventory import DTYPE_BYTES, Kind, Tensor
from ..symbolic import Poly
from .base import Group, Role, Rule, Symbol, need_bool, need_int

# -- symbols: the ones several families spell alike (letter, field and meaning) ------------------------

VOCAB = Symbol("V", "vocab_size", "vocabulary size")
POSITIONS = Symbol("P", "max_position_embeddings", "positions")
TOKEN_TYPES = Symbol("T", "type_vocab_size", "token types")
HIDDEN = Symbol("H", "hidden_size", "hidden size")
FEED_FORWARD = Symbol("I", "intermediate_size", "feed-forward size")
LAYERS = Symbol("L", "num_hidden_layers", "layers")
LABELS = Symbol("C", "num_labels", "labels of a classification head")

# The config fields ``num_labels`` and ``config_dtype`` read, for ``Family.fields``.
LABEL_AND_DTYPE_FIELDS = ("num_labels", "id2label", "dtype", "torch_dtype")


# -- name rules: BERT's embeddings and ``bert_encoder_layer`` (canonical names, base-model prefix removed) --

BERT_EMBEDDING_RULES = (
    Rule(r"embeddings\.(word|position|token_type)_embeddings\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"embeddings\.LayerNorm\.(weight|bias)", Group.EMBEDDINGS, Role.NORM),
    Rule(r"embeddings\.(position_ids|token_type_ids)", Group.EMBEDDINGS, Role.OTHER),  # buffers
)
_BLOCK = r"encoder\.layer\.\d+\.(attention|crossattention)"
BERT_LAYER_RULES = (
    Rule(_BLOCK + r"\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
    Rule(_BLOCK + r"\.(self\.(query|key|value)|output\.dense)\.(weight|bias)", Group.ENCODER, Role.ATTENTION),
    Rule(r"encoder\.layer\.\d+\.(intermediate|output)\.dense\.(weight|bias)", Group.ENCODER, Role.FFN),
    Rule(r"encoder\.layer\.\d+\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
)
# ``Family.buffers`` of the families whose embeddings carry both index buffers (``id_buffers``).
BERT_BUFFERS = r"embeddings\.(position_ids|token_type_ids)"


# -- tensors -------------------------------------------------------------------------------------------


def tensor(name: str, expr: tuple[Poly, ...], dtype: str, kind: Kind = Kind.PARAMETER,
           tied_to: str | None = None) -> Tensor:
    """One tensor of symbolic shape ``expr``; the config source fills in ``shape`` once the symbols have values."""
    return Tensor(name=name, shape=(), dtype=dtype, kind=kind, tied_to=tied_to, expr=expr)


def linear(name: str, out_dim: Poly, in_dim: Poly, dtype: str, *, bias: bool = True) -> list[Tensor]:
    """An ``nn.Linear``: weight ``[out, in]``, then (unless ``bias`` is false) bias ``[out]``."""
    out = [tensor(f"{name}.weight", (out_dim, in_dim), dtype)]
    return out + [tensor(f"{name}.bias", (out_dim,), dtype)] if bias else out


def norm(name: str, dim: Poly, dtype: str) -> list[Tensor]:
    """An ``nn.LayerNorm``: weight and bias, ``[dim]`` each."""
    return [tensor(f"{name}.weight", (dim,), dtype), tensor(f"{name}.bias", (dim,), dtype)]


def id_buffers(embeddings: str, *names: str) -> list[Tensor]:
    """The embeddings' index buffers (``position_ids``, ``token_type_ids``): ``1×P``, int64, not parameters."""
    return [tensor(f"{embeddings}.{n}", (Poly.const(1), Poly.sym("P")), "int64", Kind.BUFFER) for n in names]


def bert_embeddings(embeddings: str, width: Poly, dtype: str) -> list[Tensor]:
    """BERT's embeddings in module order: word (V), position (P) and token-type (T) tables of ``width``,
    then their LayerNorm."""
    V, P, T = (Poly.sym(s) for s in "VPT")
    return [tensor(f"{embeddings}.word_embeddings.weight", (V, width), dtype),
            tensor(f"{embeddings}.position_embeddings.weight", (P, width), dtype),
            tensor(f"{embeddings}.token_type_embeddings.weight", (T, width), dtype),
            *norm(f"{embeddings}.LayerNorm", width, dtype)]


def bert_encoder_layer(prefix: str, H: Poly, I: Poly, dtype: str, *, cross_attention: bool) -> list[Tensor]:
    """One BERT-style encoder layer at ``prefix`` (``encoder.layer.N``) in module order: attention (and, with
    ``cross_attention``, crossattention), each ``self.query/key/value`` and ``output.dense/LayerNorm``;
    then ``intermediate.dense`` (H -> I) and ``output.dense`` (I -> H) with ``output.LayerNorm``."""
    out: list[Tensor] = []
    for block in ["attention"] + (["crossattention"] if cross_attention else []):
        for proj in ("query", "key", "value"):
            out += linear(f"{prefix}.{block}.self.{proj}", H, H, dtype)
        out += linear(f"{prefix}.{block}.output.dense", H, H, dtype)
        out += norm(f"{prefix}.{block}.output.LayerNorm", H, dtype)
    out += linear(f"{prefix}.intermediate.dense", I, H, dtype)
    out += linear(f"{prefix}.output.dense", H, I, dtype)
    out += norm(f"{prefix}.output.LayerNorm", H, dtype)
    return out


def bert_lm_head(prefix: str, width: Poly, dtype: str, *, tied: bool, word: str) -> list[Tensor]:
    """BERT's masked-LM head at ``prefix`` (``cls.predictions``): its own ``bias`` (V) first, then
    ``transform.dense`` (H -> width), ``transform.LayerNorm`` and the decoder (width -> V). With ``tied`` the
    decoder's weight is the word-embedding matrix ``word`` and its bias that same ``bias``: aliases."""
    V, H = Poly.sym("V"), Poly.sym("H")
    out = [tensor(f"{prefix}.bias", (V,), dtype)]
    out += linear(f"{prefix}.transform.dense", width, H, dtype)
    out += norm(f"{prefix}.transform.LayerNorm", width, dtype)
    if tied:
        out.append(tensor(f"{prefix}.decoder.weight", (V, width), dtype, Kind.ALIAS, word))
        out.append(tensor(f"{prefix}.decoder.bias", (V,), dtype, Kind.ALIAS, f"{prefix}.bias"))
    else:
        out += linear(f"{prefix}.decoder", V, width, dtype)
    return out


def tied_projection(name: str, width: Poly, dtype: str, *, tied: bool, word: str) -> list[Tensor]:
    """An output layer ``name`` from ``width`` to the vocabulary (V). With ``tied`` its weight is the
    word-embedding matrix ``word`` (an alias) and its bias (V) its own; else an ordinary ``nn.Linear``."""
    V = Poly.sym("V")
    if tied:
        return [tensor(f"{name}.weight", (V, width), dtype, Kind.ALIAS, word), tensor(f"{name}.bias", (V,), dtype)]
    return linear(name, V, width, dtype)


def bert_task_head(task: str, H: Poly, dtype: str) -> list[Tensor]:
    """The task heads BERT-style classes share, by the class name after ``...For``: a ``classifier`` (C×H)
    for SequenceClassification and TokenClassification, ``qa_outputs`` (C×H) for QuestionAnswering, a
    ``classifier`` with one output (1×H) for MultipleChoice; nothing for any other class."""
    C = Poly.sym("C")
    if task in ("SequenceClassification", "TokenClassification"):
        return linear("classifier", C, H, dtype)
    if task == "QuestionAnswering":
        return linear("qa_outputs", C, H, dtype)
    if task == "MultipleChoice":
        return linear("classifier", Poly.const(1), H, dtype)
    return []


def unknown_class(model_class: str, classes: Sequence[str]) -> UnknownArchitecture:
    return UnknownArchitecture(f"no formula for model class {model_class!r}; supported: {', '.join(classes)}")


def check_model_class(model_class: str, classes: Sequence[str]) -> None:
    if model_class not in classes:
        raise unknown_class(model_class, classes)


# -- config --------------------------------------------------------------------------------------------

BERT_SIZES = ("vocab_size", "hidden_size", "num_attention_heads", "intermediate_size", "max_position_embeddings")
BERT_FLAGS = ("is_decoder", "add_cross_attention", "tie_word_embeddings")


def with_defaults(defaults: Mapping[str, Any], raw: Mapping[str, Any]) -> dict[str, Any]:
    """``defaults`` overridden by ``raw``; a null keeps the default, except pad_token_id (null: no padding)."""
    return {**defaults, **{k: v for k, v in raw.items() if v is not None or k == "pad_token_id"}}


def check_bert_fields(cfg: Mapping[str, Any], source: str, *, sizes: Sequence[str] = BERT_SIZES,
                      flags: Sequence[str] = BERT_FLAGS) -> None:
    """A BERT-style config's fields, in this order: ``sizes`` positive, num_hidden_layers and type_vocab_size
    at least 0, ``flags`` true or false."""
    for key in sizes:
        need_int(cfg, key, source, minimum=1)
    need_int(cfg, "num_hidden_layers", source, minimum=0)
    need_int(cfg, "type_vocab_size", source, minimum=0)
    for key in flags:
        need_bool(cfg, key, source)


def num_labels(raw: Mapping[str, Any], source: str) -> int:
    """transformers 5: an explicit num_labels wins over the length of id2label; the default is 2."""
    if raw.get("num_labels") is not None:
        value = raw["num_labels"]
    elif isinstance(raw.get("id2label"), Mapping):
        value = len(raw["id2label"])
    else:
        value = 2
    return need_int({"num_labels": value}, "num_labels", source, minimum=0)


def config_dtype(raw: Mapping[str, Any]) -> str:
    """config.json says "dtype" since transformers 5, "torch_dtype" before; bytes follow it (float32 when
    neither says, or says something unknown)."""
    dtype = str(raw.get("dtype") or raw.get("torch_dtype") or "float32").removeprefix("torch.")
    return dtype if dtype in DTYPE_BYTES else "float32"


def check_heads_divide(h: int, a: int, source: str, *, hidden: str = "hidden_size",
                       heads: str = "num_attention_heads", why: str = "") -> None:
    """The hidden size must be a multiple of the head count; ``hidden``/``heads`` are the fields' names as the
    config gives them, ``why`` what the family says after the problem (e.g. who refuses it)."""
    if h % a:
        lower = h - h % a
        raise ConfigError(
            f"{source}: {hidden} {h} is not a multiple of {heads} {a}{why}; "
            f"set {hidden} to a multiple of {a} (e.g. {lower or a}) or change {heads}"
        )


def check_pad_token(cfg: Mapping[str, Any], source: str, *, why: str = "",
                    fix: str = "set pad_token_id below vocab_size") -> None:
    """pad_token_id, unless null, must be a token of the vocabulary (it is the word table's padding_idx)."""
    pad, vocab = cfg.get("pad_token_id"), cfg["vocab_size"]
    if pad is not None:
        if isinstance(pad, bool) or not isinstance(pad, int) or not -vocab <= pad < vocab:
            raise ConfigError(
                f"{source}: pad_token_id {pad!r} is not a token of the vocabulary (vocab_size {vocab}){why}; {fix}"
            )


def check_cross_attention(cfg: Mapping[str, Any], source: str) -> None:
    if cfg["add_cross_attention"] and not cfg["is_decoder"]:
        raise ConfigError(
            f"{source}: add_cross_attention needs is_decoder; set is_decoder=true or add_cross_attention=false"
        )


# -- notes ---------------------------------------------------------------------------------------------


def position_embedding_note(cfg: Mapping[str, Any]) -> list[str]:
    """BERT-style configs may ask for relative position embeddings, which transformers 5 no longer builds."""
    pet = cfg.get("position_embedding_type")
    if pet in (None, "absolute"):
        return []
    return [f"position_embedding_type {pet!r} is ignored by transformers 5 (no distance embeddings); "
            "counted as absolute"]


def decoder_note(model_class: str) -> str:
    return f"{model_class} is meant as a decoder: transformers warns unless is_decoder=true"


# -- checkpoints ---------------------------------------------------------------------------------------


def guess_heads(width: int) -> int:
    """A head count for a checkpoint, which does not store it: width/64 (the usual head size) when that
    divides, else 1. It does not change the count."""
    return width // 64 if width % 64 == 0 and width >= 64 else 1


def heads_note(field: str, heads: int) -> str:
    return f"{field} is not in the weights; taken as {heads} (it does not change the count)"


def count_layers(shapes: Mapping[str, tuple[int, ...]], pattern: str) -> int:
    """1 + the highest layer number in the names (``pattern``'s first group), 0 without layers."""
    found = {int(m.group(1)) for n in shapes if (m := re.match(pattern, n))}
    return max(found) + 1 if found else 0


def infer_embedding_tables(shapes: Mapping[str, tuple[int, ...]], cfg: dict[str, Any]) -> None:
    """max_position_embeddings and type_vocab_size from the rows of BERT-style position and token-type tables."""
    for key, name in (("max_position_embeddings", "embeddings.position_embeddings.weight"),
                      ("type_vocab_size", "embeddings.token_type_embeddings.weight")):
        if name in shapes and len(shapes[name]) == 2:
            cfg[key] = shapes[name][0]


def infer_bert_layers(shapes: Mapping[str, tuple[int, ...]], cfg: dict[str, Any], notes: list[str], H: int) -> None:
    """From BERT-style ``encoder.layer.N`` names: the layers, the feed-forward size, a head count (with a
    note) and, when a crossattention is stored, is_decoder and add_cross_attention."""
    cfg["num_hidden_layers"] = count_layers(shapes, r"encoder\.layer\.(\d+)\.")
    inter = shapes.get("encoder.layer.0.intermediate.dense.weight")
    if inter and len(inter) == 2:
        cfg["intermediate_size"] = inter[0]
    heads = guess_heads(H)
    cfg["num_attention_heads"] = heads
    notes.append(heads_note("num_attention_heads", heads))
    if any(".crossattention." in n for n in shapes):
        cfg["is_decoder"] = cfg["add_cross_attention"] = True
