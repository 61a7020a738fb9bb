"""DeBERTa-v2 and DeBERTa-v3 (model_type ``deberta-v2``): config fields, every DebertaV2* class, name patterns.

Source of truth: transformers ``models/deberta_v2/{configuration,modeling}_deberta_v2.py`` (v5). Every
shape below is the one ``named_parameters()`` reports for a model built on the meta device, in module
order; tests compare them name by name.

What differs from BERT, and where it lives:

- attention is *disentangled*: each layer's ``attention.self`` has ``query_proj``, ``key_proj`` and
  ``value_proj`` (no ``query``/``key``/``value``), and, with ``relative_attention``, positions enter through
  one table of relative-distance vectors, ``encoder.rel_embeddings`` (2K rows with K ``position_buckets``,
  else 2R with R ``max_relative_positions``, else 2P), shared by every layer. With ``share_att_key`` (v3) the
  layers project those vectors with their own ``key_proj``/``query_proj``; without it each layer has its
  own ``pos_key_proj`` (for ``c2p`` in ``pos_att_type``) and ``pos_query_proj`` (for ``p2c``).
- absolute positions are optional: ``position_biased_input`` false (every released v2/v3 config) means no
  ``position_embeddings`` table; ``position_ids`` stays as a buffer.
- ``type_vocab_size`` defaults to 0: no token-type table.
- the encoder, not a layer, may hold ``LayerNorm`` (for the relative table, ``norm_rel_ebd``) and ``conv``
  (``conv_kernel_size`` > 0, v2 xlarge/xxlarge): a 1-D convolution applied once, beside layer 0. Layer 0
  itself is like every other layer, so the layers stay one run of L.
- ``DebertaV2Model`` has no pooler; the ContextPooler (``pooler.dense``) belongs to the sequence
  classification and multiple choice classes, outside ``deberta.``.
- ``DebertaV2ForMaskedLM`` builds the legacy head ``cls.predictions`` (decoder tied to the word embeddings)
  when ``legacy`` is true (the default), else the original DeBERTa head ``lm_predictions.lm_head``, which has
  no decoder module at all: it multiplies by the word embedding matrix at run time.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

from ..errors import ConfigError
from ..inventory import Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol, need_bool, need_int
from .spec import declare
from .common import (FEED_FORWARD, HIDDEN, LABELS, LABEL_AND_DTYPE_FIELDS, LAYERS, POSITIONS, TOKEN_TYPES, VOCAB,
                     bert_lm_head, bert_task_head, check_bert_fields, check_heads_divide, check_model_class,
                     check_pad_token, config_dtype, count_layers, guess_heads, heads_note, id_buffers, linear, norm,
                     num_labels, tensor)

# Letters as BERT's where the meaning is the same. A symbol only appears in a formula when a shape uses it:
# E, D, J and Q only when they differ from H (embedding_size, attention_head_size, conv_groups,
# pooler_hidden_size are rarely set), K or R or P for the relative table, whichever sets its size.
SYMBOLS = (
    VOCAB,
    POSITIONS,
    TOKEN_TYPES,
    Symbol("K", "position_buckets", "relative position buckets each way: the relative table has 2K rows"),
    Symbol("R", "max_relative_positions", "relative distances each way, without buckets: 2R rows"),
    Symbol("E", "embedding_size", "embedding width, projected to H by embed_proj"),
    HIDDEN,
    Symbol("A", "num_attention_heads", "attention heads"),
    Symbol("D", "attention_head_size", "width of one head; A·D is the attention width"),
    FEED_FORWARD,
    LAYERS,
    Symbol("W", "conv_kernel_size", "kernel width of the convolution beside layer 0"),
    Symbol("J", "conv_group_width", "input channels per convolution group: hidden_size / conv_groups"),
    Symbol("Q", "pooler_hidden_size", "width of the ContextPooler"),
    LABELS,
)

# transformers' DebertaV2Config defaults (v5) for the fields it declares...
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 128100,
    "hidden_size": 1536,
    "num_hidden_layers": 24,
    "num_attention_heads": 24,
    "intermediate_size": 6144,
    "max_position_embeddings": 512,
    "type_vocab_size": 0,
    "relative_attention": False,
    "max_relative_positions": -1,
    "pad_token_id": 0,
    "position_biased_input": True,
    "pos_att_type": None,
    "legacy": True,
    "tie_word_embeddings": True,
    # ...and the ones the modeling code reads with getattr(config, name, default): not declared, but
    # every v3 config.json sets the first three.
    "position_buckets": -1,
    "share_att_key": False,
    "norm_rel_ebd": "none",
    "conv_kernel_size": 0,
    "conv_groups": 1,
}
# Also read with getattr, defaulting to another field: embedding_size and attention_head_size (hidden_size
# and hidden_size / heads), pooler_hidden_size (hidden_size; DebertaV2Config.__post_init__).
DERIVED = ("embedding_size", "attention_head_size", "pooler_hidden_size")

BASE = "DebertaV2Model"
MODEL_CLASSES = (
    "DebertaV2Model",
    "DebertaV2ForMaskedLM",
    "DebertaV2ForSequenceClassification",
    "DebertaV2ForTokenClassification",
    "DebertaV2ForQuestionAnswering",
    "DebertaV2ForMultipleChoice",
)
POOLER_CLASSES = {"DebertaV2ForSequenceClassification", "DebertaV2ForMultipleChoice"}

# Canonical names (``deberta.`` removed) to group and role; first match wins.
RULES = (
    Rule(r"embeddings\.(word|position|token_type)_embeddings\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    # E -> H projection when embedding_size differs: part of the factorised embedding (V·E + E·H), as the
    # ALBERT paper counts its own, so embedding role.
    Rule(r"embeddings\.embed_proj\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"embeddings\.LayerNorm\.(weight|bias)", Group.EMBEDDINGS, Role.NORM),
    Rule(r"embeddings\.position_ids", Group.EMBEDDINGS, Role.OTHER),  # buffer
    Rule(r"encoder\.layer\.\d+\.attention\.self\.(query|key|value|pos_key|pos_query)_proj\.(weight|bias)",
         Group.ENCODER, Role.ATTENTION),
    Rule(r"encoder\.layer\.\d+\.attention\.output\.dense\.(weight|bias)", Group.ENCODER, Role.ATTENTION),
    Rule(r"encoder\.layer\.\d+\.attention\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
    Rule(r"encoder\.layer\.\d+\.(intermediate|output)\.dense\.(weight|bias)", Group.ENCODER, Role.FFN),
    Rule(r"encoder\.layer\.\d+\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
    # Encoder-level modules stay in the encoder group (the encoder owns them and every layer uses the
    # table). The relative position table is a lookup table of distance vectors, the relative
    # counterpart of position_embeddings: embedding role, so non-embedding parameters leave it out.
    Rule(r"encoder\.rel_embeddings\.weight", Group.ENCODER, Role.EMBEDDING),
    Rule(r"encoder\.(conv\.)?LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
    # The convolution mixes each token with its neighbours once, beside layer 0: not attention (no query,
    # key or softmax) and not the position-wise feed-forward, so other; attention and ffn keep meaning
    # exactly the per-layer projections.
    Rule(r"encoder\.conv\.conv\.(weight|bias)", Group.ENCODER, Role.OTHER),
    Rule(r"pooler\.dense\.(weight|bias)", Group.POOLER, Role.POOLER),
    # Heads, their own LayerNorms included. mask_predictions.* is a pre-training head of Microsoft's code
    # that no transformers class builds: DebertaV2ForMaskedLM lists it in _keys_to_ignore_on_load_unexpected,
    # so checkpoints may carry it; it is a head, not unclassified.
    Rule(r"cls\.predictions\.(bias|(transform\.(dense|LayerNorm)|decoder)\.(weight|bias))", Group.HEADS, Role.HEAD),
    Rule(r"lm_predictions\.lm_head\.(bias|(dense|LayerNorm)\.(weight|bias))", Group.HEADS, Role.HEAD),
    Rule(r"mask_predictions\.[\w.]+", Group.HEADS, Role.HEAD),
    Rule(r"(classifier|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)


def canonical(name: str) -> str:
    """``deberta.encoder.layer.0...`` -> ``encoder.layer.0...``."""
    return name[len("deberta."):] if name.startswith("deberta.") else name


# -- configuration -------------------------------------------------------------------------------------


def _pos_att_type(value: Any, source: str) -> list[str]:
    """As DebertaV2Config keeps it: a string "p2c|c2p" is lower-cased and split, a list is taken as is."""
    if value is None:
        return []
    if isinstance(value, str):
        return [x.strip() for x in value.lower().split("|")]
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return list(value)
    raise ConfigError(
        f"{source}: pos_att_type must be a string like \"p2c|c2p\" or a list of strings, got {value!r}; "
        'write e.g. ["p2c", "c2p"]'
    )


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults and check every field the count depends on, as transformers would."""
    cfg = {**DEFAULTS, **raw}
    # DebertaV2Config declares these int: None or a float is refused (strict dataclass); sizes must be
    # positive to make a tensor (transformers builds empty tables from 0; so does no real model).
    check_bert_fields(cfg, source, flags=())
    need_int(cfg, "max_relative_positions", source, minimum=-(2**63))  # < 1 means max_position_embeddings
    for key in ("relative_attention", "position_biased_input", "legacy", "tie_word_embeddings"):
        need_bool(cfg, key, source)
    # Read with getattr: share_att_key is used for its truth (null is false), the rest are compared with
    # 0 or used as sizes, where null or a float fails inside transformers.
    if cfg["share_att_key"] is None:
        cfg["share_att_key"] = False
    need_bool(cfg, "share_att_key", source)
    need_int(cfg, "position_buckets", source, minimum=-(2**63))  # <= 0 means no buckets
    need_int(cfg, "conv_kernel_size", source, minimum=-(2**63))  # <= 0 means no convolution
    if not isinstance(cfg["norm_rel_ebd"], str):
        raise ConfigError(
            f"{source}: norm_rel_ebd must be a string (\"layer_norm\" or \"none\"), got {cfg['norm_rel_ebd']!r}; "
            "transformers calls .lower() on it"
        )
    cfg["pos_att_type"] = _pos_att_type(cfg["pos_att_type"], source)
    h, a = cfg["hidden_size"], cfg["num_attention_heads"]
    check_heads_divide(h, a, source)
    for key, default in (("embedding_size", h), ("attention_head_size", h // a), ("pooler_hidden_size", h)):
        if key not in raw:
            cfg[key] = default
        need_int(cfg, key, source, minimum=1)
    if cfg["conv_kernel_size"] > 0:
        g = cfg["conv_groups"]
        need_int(cfg, "conv_groups", source, minimum=1)
        if h % g:
            raise ConfigError(
                f"{source}: hidden_size {h} is not divisible by conv_groups {g} (nn.Conv1d refuses it); "
                "set conv_groups to a divisor of hidden_size, e.g. 1"
            )
        cfg["conv_group_width"] = h // g
    cfg["num_labels"] = num_labels(raw, source)
    check_pad_token(cfg, source)
    cfg["dtype"] = config_dtype(raw)
    return cfg


def _relative(cfg: Mapping[str, Any]) -> tuple[str, int] | None:
    """The relative table's half-size as (symbol, value): K buckets, else R distances, else P; None without."""
    if not cfg["relative_attention"]:
        return None
    if cfg["position_buckets"] > 0:
        return "K", cfg["position_buckets"]
    if cfg["max_relative_positions"] >= 1:
        return "R", cfg["max_relative_positions"]
    return "P", cfg["max_position_embeddings"]


def _pos_projections(cfg: Mapping[str, Any]) -> list[str]:
    """The per-layer position projections DisentangledSelfAttention builds, in its order."""
    if not cfg["relative_attention"] or cfg["share_att_key"]:
        return []
    return [name for name, kind in (("pos_key_proj", "c2p"), ("pos_query_proj", "p2c"))
            if kind in cfg["pos_att_type"]]


# -- tensors -------------------------------------------------------------------------------------------


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    V, P, T, H, I, C = (Poly.sym(s) for s in "VPTHIC")
    h = cfg["hidden_size"]
    # A width that equals H is written H, so that the formulas of every released model read in H alone.
    E = H if cfg["embedding_size"] == h else Poly.sym("E")
    AD = H if cfg["num_attention_heads"] * cfg["attention_head_size"] == h else Poly.sym("A") * Poly.sym("D")
    Q = H if cfg["pooler_hidden_size"] == h else Poly.sym("Q")
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else "deberta."

    out: list[Tensor] = []
    e = f"{prefix}embeddings"
    out.append(tensor(f"{e}.word_embeddings.weight", (V, E), dt))
    if cfg["position_biased_input"]:
        out.append(tensor(f"{e}.position_embeddings.weight", (P, E), dt))
    if cfg["type_vocab_size"] > 0:
        out.append(tensor(f"{e}.token_type_embeddings.weight", (T, E), dt))
    if cfg["embedding_size"] != h:
        out += linear(f"{e}.embed_proj", H, E, dt, bias=False)
    out += norm(f"{e}.LayerNorm", H, dt)

    projections = ["query_proj", "key_proj", "value_proj"] + _pos_projections(cfg)
    enc = f"{prefix}encoder"
    for i in range(cfg["num_hidden_layers"]):
        layer = f"{enc}.layer.{i}"
        for proj in projections:
            out += linear(f"{layer}.attention.self.{proj}", AD, H, dt)
        out += linear(f"{layer}.attention.output.dense", H, H, dt)
        out += norm(f"{layer}.attention.output.LayerNorm", H, dt)
        out += linear(f"{layer}.intermediate.dense", I, H, dt)
        out += linear(f"{layer}.output.dense", H, I, dt)
        out += norm(f"{layer}.output.LayerNorm", H, dt)
    span = _relative(cfg)
    if span is not None:
        out.append(tensor(f"{enc}.rel_embeddings.weight", (2 * Poly.sym(span[0]), H), dt))
    # Built whenever norm_rel_ebd asks for it, relative attention or not (DebertaV2Encoder.__init__).
    if "layer_norm" in [x.strip() for x in cfg["norm_rel_ebd"].lower().split("|")]:
        out += norm(f"{enc}.LayerNorm", H, dt)
    if cfg["conv_kernel_size"] > 0:
        per_group = H if cfg["conv_groups"] == 1 else Poly.sym("J")
        out.append(tensor(f"{enc}.conv.conv.weight", (H, per_group, Poly.sym("W")), dt))
        out.append(tensor(f"{enc}.conv.conv.bias", (H,), dt))
        out += norm(f"{enc}.conv.LayerNorm", H, dt)

    if model_class == "DebertaV2ForMaskedLM":
        if cfg["legacy"]:
            # LegacyDebertaV2LMPredictionHead registers its own ``bias`` first; the decoder's weight is the
            # word embedding matrix and its bias that same ``bias`` when tie_word_embeddings (the default).
            out += bert_lm_head("cls.predictions", E, dt, tied=cfg["tie_word_embeddings"],
                                word=f"{e}.word_embeddings.weight")
        else:
            p = "lm_predictions.lm_head"
            out.append(tensor(f"{p}.bias", (V,), dt))
            out += linear(f"{p}.dense", H, H, dt)
            out += norm(f"{p}.LayerNorm", H, dt)
    if model_class in POOLER_CLASSES:
        out += linear("pooler.dense", Q, Q, dt)
    # The classifier reads ContextPooler.output_dim, which is hidden_size.
    out += bert_task_head(model_class.removeprefix("DebertaV2For"), H, dt)
    # Non-persistent: current transformers leaves it out of state_dict; older checkpoints stored it.
    out += id_buffers(e, "position_ids")
    return out


# -- words -----------------------------------------------------------------------------------------------


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    """What builds but deserves a word: options with no effect, shapes that would fail in forward."""
    out = []
    h = cfg["hidden_size"]
    kinds = cfg["pos_att_type"]
    unknown = [k for k in kinds if k not in ("c2p", "p2c")]
    if unknown:
        out.append(f"pos_att_type {', '.join(map(repr, unknown))} is not read by DeBERTa-v2 (only c2p and p2c are)")
    if not cfg["relative_attention"] and (kinds or cfg["position_buckets"] > 0):
        out.append("relative_attention is false: pos_att_type and position_buckets change nothing "
                   "(no relative table, no position projections)")
    if cfg["num_attention_heads"] * cfg["attention_head_size"] != h:
        out.append(f"num_attention_heads × attention_head_size = "
                   f"{cfg['num_attention_heads'] * cfg['attention_head_size']} is not hidden_size {h}: "
                   "transformers builds the projections, but attention.output.dense expects hidden_size inputs")
    if model_class in POOLER_CLASSES and cfg["pooler_hidden_size"] != h:
        out.append(f"pooler_hidden_size {cfg['pooler_hidden_size']} is not hidden_size {h}: transformers builds "
                   "the pooler that wide, but it reads hidden_size vectors and the classifier takes hidden_size")
    if model_class == "DebertaV2ForMaskedLM":
        if cfg["legacy"]:
            out.append("legacy is true (the default): the head is cls.predictions; Microsoft's pretrained "
                       "checkpoints store their MLM head as lm_predictions.lm_head.*, which only legacy=false loads")
        elif cfg["embedding_size"] != h:
            out.append("legacy=false with embedding_size ≠ hidden_size: lm_head multiplies hidden_size vectors "
                       "by the embedding_size-wide word embeddings, which fails in forward")
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """The formula in plain words: what DeBERTa adds to BERT's count and what it leaves out."""
    prefix = "" if model_class == BASE else "deberta."
    h = cfg["hidden_size"]
    pos = _pos_projections(cfg)
    out = []
    emb = ["word_embeddings"]
    if cfg["position_biased_input"]:
        emb.append("position_embeddings (absolute positions added to the input)")
    if cfg["type_vocab_size"] > 0:
        emb.append("token_type_embeddings")
    absent = []
    if not cfg["position_biased_input"]:
        absent.append("no P×H absolute position table (position_biased_input is false, as in every released "
                      "v2 and v3 config; transformers' own default is true)")
    if cfg["type_vocab_size"] == 0:
        absent.append("no token-type table (type_vocab_size 0, the default)")
    out.append("embeddings: " + ", ".join(emb) + " and a LayerNorm (2H)" + ("; " + "; ".join(absent) if absent else ""))
    if cfg["embedding_size"] != h:
        out.append("embedding_size E differs from H: the tables are E wide and embed_proj (E·H, no bias) "
                   "lifts them to H before the LayerNorm")
    attn = ("per layer, disentangled attention: query_proj, key_proj, value_proj and the attention output "
            "(4H² + 4H), the same size as BERT's Q, K, V and output")
    if cfg["num_attention_heads"] * cfg["attention_head_size"] != h:
        attn = ("per layer, disentangled attention: query_proj, key_proj, value_proj are A·D wide "
                "(attention_head_size D), the attention output H² + H")
    out.append(attn + "; then the feed-forward (HI + I and IH + H) and two LayerNorms (2H each)")
    span = _relative(cfg)
    if span is None:
        out.append("relative_attention is false: no relative position table and no position projections, "
                   "so this attention sees positions only through position_embeddings")
    else:
        letter, _ = span
        size = {"K": "K = position_buckets: distances are log-bucketed into K buckets each way",
                "R": "R = max_relative_positions distances each way, no buckets",
                "P": "max_relative_positions < 1 and no buckets: P = max_position_embeddings each way"}[letter]
        out.append(f"relative positions: encoder.rel_embeddings has 2{letter} rows, one table shared by every "
                   f"layer ({size})")
        if cfg["share_att_key"]:
            out.append("share_att_key is true: each layer projects the relative vectors with its own key_proj "
                       "and query_proj (c2p and p2c), so positions add no per-layer parameters")
        elif pos:
            out.append(f"share_att_key is false: each layer adds {' and '.join(pos)} (each the size of key_proj) for "
                       f"{' and '.join('c2p' if p == 'pos_key_proj' else 'p2c' for p in pos)} attention")
        else:
            out.append("share_att_key is false and pos_att_type names neither c2p nor p2c: no position "
                       "projections, the relative table is built but unused by attention")
    if f"{prefix}encoder.LayerNorm.weight" in names:
        out.append("the encoder's own LayerNorm (2H) normalises the relative table (norm_rel_ebd = layer_norm)")
    if cfg["conv_kernel_size"] > 0:
        groups = "" if cfg["conv_groups"] == 1 else f", {cfg['conv_groups']} groups of J input channels"
        out.append(f"conv: a 1-D convolution over neighbouring tokens, kernel width W = {cfg['conv_kernel_size']}"
                   f"{groups} (H²W + H when ungrouped) and its LayerNorm (2H), applied once beside layer 0 "
                   "at encoder level, so it is not repeated L times")
    if model_class == "DebertaV2ForMaskedLM":
        if cfg["legacy"]:
            if cfg["tie_word_embeddings"]:
                out.append("legacy MLM head cls.predictions: a transform (dense and LayerNorm) and a V bias; its "
                           "decoder is the word embedding matrix itself (tied) and its bias that same V bias")
            else:
                out.append("legacy MLM head with tie_word_embeddings false: the decoder has its own V×E matrix "
                           "and V bias")
        else:
            out.append("lm_predictions.lm_head (legacy=false, DeBERTa's own head): dense H² + H, LayerNorm 2H "
                       "and a V bias; it multiplies by the word embeddings at run time, so no decoder tensor")
    if model_class in POOLER_CLASSES:
        out.append("pooler.dense is the ContextPooler (dense over the first token, gelu) that the head class "
                   "builds; DebertaV2Model itself has no pooler, unlike BertModel")
    elif model_class == BASE:
        out.append("DebertaV2Model has no pooler: only the sequence classification and multiple choice "
                   "classes build one (H² + H)")
    out.append("position_ids (1×P, int64) is a buffer, not a parameter; older checkpoints store it")
    return out


def tree_notes(cfg: Mapping[str, Any]) -> dict[str, str]:
    layers = cfg["num_hidden_layers"]
    out = {"encoder.rel_embeddings": f"shared by all {layers} layers"}
    if cfg["conv_kernel_size"] > 0:
        out["encoder.conv"] = "once, beside layer 0"
    return out


# -- checkpoints -----------------------------------------------------------------------------------------


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not a DeBERTa-v2.

    Needs a name only DeBERTa-v2 has: attention.self.query_proj (v1 has in_proj), or with no layers the
    relative table or the convolution, and no v1 attention.
    """
    word = shapes.get("embeddings.word_embeddings.weight")
    norm = shapes.get("embeddings.LayerNorm.weight")
    if word is None or len(word) != 2 or norm is None or len(norm) != 1:
        return None
    if any(".attention.self.in_proj." in n for n in shapes):
        return None  # DeBERTa v1
    query = shapes.get("encoder.layer.0.attention.self.query_proj.weight")
    if query is None and not ("encoder.rel_embeddings.weight" in shapes or "encoder.conv.conv.weight" in shapes):
        return None
    V, E = word
    (H,) = norm
    cfg: dict[str, Any] = {"model_type": "deberta-v2", "vocab_size": V, "hidden_size": H}
    notes: list[str] = []
    if E != H:
        cfg["embedding_size"] = E
    position = shapes.get("embeddings.position_embeddings.weight")
    ids = shapes.get("embeddings.position_ids")
    if position is not None and len(position) == 2:
        cfg["max_position_embeddings"] = position[0]
    else:
        cfg["position_biased_input"] = False
        if ids is not None and len(ids) == 2:
            cfg["max_position_embeddings"] = ids[1]
        else:
            cfg["max_position_embeddings"] = 512
            notes.append("max_position_embeddings is not in the weights (no absolute position table); taken as "
                         "512 (it changes only the position_ids buffer)")
    token_type = shapes.get("embeddings.token_type_embeddings.weight")
    cfg["type_vocab_size"] = token_type[0] if token_type is not None and len(token_type) == 2 else 0
    cfg["num_hidden_layers"] = count_layers(shapes, r"encoder\.layer\.(\d+)\.")
    inter = shapes.get("encoder.layer.0.intermediate.dense.weight")
    if inter is not None and len(inter) == 2:
        cfg["intermediate_size"] = inter[0]
    width = query[0] if query is not None and len(query) == 2 else H
    if width == H:
        heads = guess_heads(H)
        notes.append(heads_note("num_attention_heads", heads))
    else:
        heads = math.gcd(H, width)
        cfg["attention_head_size"] = width // heads
        notes.append(f"the projections are {width} wide, not hidden_size {H}: taken as {heads} heads of "
                     f"{width // heads} (any split with the same product gives the same tensors)")
    cfg["num_attention_heads"] = heads
    rel = shapes.get("encoder.rel_embeddings.weight")
    if rel is not None and len(rel) == 2:
        cfg["relative_attention"] = True
        cfg["position_buckets"] = rel[0] // 2
        cfg["max_relative_positions"] = -1
        notes.append(f"the relative table has {rel[0]} rows: taken as position_buckets {rel[0] // 2} "
                     "(max_relative_positions of that size gives the same tensors)")
        pos = [kind for kind, proj in (("c2p", "pos_key_proj"), ("p2c", "pos_query_proj"))
               if f"encoder.layer.0.attention.self.{proj}.weight" in shapes]
        if pos:
            cfg["share_att_key"] = False
            cfg["pos_att_type"] = pos
        else:
            cfg["share_att_key"] = True
            cfg["pos_att_type"] = ["p2c", "c2p"]
            notes.append("no pos_key_proj or pos_query_proj: taken as share_att_key true with pos_att_type "
                         "p2c|c2p as in v3 (the tensors are the same whatever pos_att_type is then)")
    if "encoder.LayerNorm.weight" in shapes:
        cfg["norm_rel_ebd"] = "layer_norm"
    conv = shapes.get("encoder.conv.conv.weight")
    if conv is not None and len(conv) == 3 and conv[1] > 0 and H % conv[1] == 0:
        cfg["conv_kernel_size"] = conv[2]
        cfg["conv_groups"] = H // conv[1]
    pooler = shapes.get("pooler.dense.weight")
    if pooler is not None and len(pooler) == 2 and pooler[0] != H:
        cfg["pooler_hidden_size"] = pooler[0]
    classifier = shapes.get("classifier.weight")
    if any(n.startswith("lm_predictions.lm_head.") for n in shapes):
        cls = "DebertaV2ForMaskedLM"
        cfg["legacy"] = False
    elif any(n.startswith("cls.predictions.") for n in shapes):
        cls = "DebertaV2ForMaskedLM"
        if "cls.predictions.decoder.weight" in shapes:
            cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
    elif "qa_outputs.weight" in shapes:
        cls = "DebertaV2ForQuestionAnswering"
        cfg["num_labels"] = shapes["qa_outputs.weight"][0]
    elif classifier is not None and len(classifier) == 2:
        if pooler is None:
            cls = "DebertaV2ForTokenClassification"
        elif classifier[0] == 1:
            cls = "DebertaV2ForMultipleChoice"  # one row; a one-label sequence classifier looks the same
        else:
            cls = "DebertaV2ForSequenceClassification"
        if cls != "DebertaV2ForMultipleChoice":
            cfg["num_labels"] = classifier[0]
    else:
        cls = BASE
    return cfg, cls, notes


# -- presets ---------------------------------------------------------------------------------------------


def _v3(hidden: int, layers: int, heads: int, inter: int, vocab: int = 128100) -> dict[str, Any]:
    """The fields of microsoft/deberta-v3-*'s config.json (all four share one template)."""
    return {
        "model_type": "deberta-v2",
        "hidden_size": hidden,
        "intermediate_size": inter,
        "max_position_embeddings": 512,
        "relative_attention": True,
        "position_buckets": 256,
        "norm_rel_ebd": "layer_norm",
        "share_att_key": True,
        "pos_att_type": "p2c|c2p",
        "max_relative_positions": -1,
        "position_biased_input": False,
        "num_attention_heads": heads,
        "num_hidden_layers": layers,
        "type_vocab_size": 0,
        "vocab_size": vocab,
    }


def _v2(layers: int) -> dict[str, Any]:
    """microsoft/deberta-v2-xlarge and -xxlarge: v3's template plus the convolution and attention_head_size."""
    return {**_v3(1536, layers, 24, 6144), "conv_kernel_size": 3, "conv_act": "gelu", "attention_head_size": 64}


_HUB = "config.json of microsoft/{} on the Hugging Face Hub"
_CARD = "; figure from the model card (README.md) of microsoft/{}"
_SPLIT = ("the model card states {} backbone parameters and {} in the embedding layer (the V×H word embeddings "
          "of the 128K-token vocabulary); published is their sum, compare non-embedding parameters with the "
          "backbone figure")

PRESETS = (
    Preset("microsoft/deberta-v3-base", _v3(768, 12, 12, 3072), "184M",
           _HUB.format("deberta-v3-base") + _CARD.format("deberta-v3-base"),
           aliases=("deberta-v3-base",), nickname="DeBERTa-v3-base", model_class=BASE,
           notes=(_SPLIT.format("86M", "98M"),
                  "the first README (commit 5f32929) said: total parameters is 183M, embedding layer about 98M")),
    Preset("microsoft/deberta-v3-large", _v3(1024, 24, 16, 4096), "435M",
           _HUB.format("deberta-v3-large") + _CARD.format("deberta-v3-large"),
           aliases=("deberta-v3-large",), nickname="DeBERTa-v3-large", model_class=BASE,
           notes=(_SPLIT.format("304M", "131M"),
                  "the first README (commit ff3ef10) said: total parameters is 418M, embedding layer about 131M")),
    Preset("microsoft/deberta-v3-small", _v3(768, 6, 12, 3072), "142M",
           _HUB.format("deberta-v3-small") + _CARD.format("deberta-v3-small"),
           aliases=("deberta-v3-small",), nickname="DeBERTa-v3-small", model_class=BASE,
           notes=(_SPLIT.format("44M", "98M"),
                  "an earlier README said: total parameters is 143M, embedding layer about 98M")),
    Preset("microsoft/deberta-v3-xsmall", _v3(384, 12, 6, 1536), "70M",
           _HUB.format("deberta-v3-xsmall") + _CARD.format("deberta-v3-xsmall"),
           aliases=("deberta-v3-xsmall",), nickname="DeBERTa-v3-xsmall", model_class=BASE,
           notes=(_SPLIT.format("22M", "48M"),)),
    Preset("microsoft/mdeberta-v3-base", _v3(768, 12, 12, 3072, vocab=250102), None,
           _HUB.format("mdeberta-v3-base") + " (vocab_size as its fine-tuned descendants' configs repeat it)",
           aliases=("mdeberta-v3-base",), nickname="mDeBERTa-v3-base", model_class=BASE),
    Preset("microsoft/deberta-v2-xlarge", _v2(24), "900M",
           _HUB.format("deberta-v2-xlarge") + _CARD.format("deberta-v2-xlarge"),
           aliases=("deberta-v2-xlarge",), nickname="DeBERTa-v2-xlarge", model_class=BASE,
           notes=("the model card: 24 layers, 1536 hidden size, total parameters 900M",)),
    Preset("microsoft/deberta-v2-xxlarge", _v2(48), "1.5B",
           _HUB.format("deberta-v2-xxlarge") + _CARD.format("deberta-v2-xxlarge"),
           aliases=("deberta-v2-xxlarge",), nickname="DeBERTa-v2-xxlarge", model_class=BASE,
           notes=("the model card: 48 layers, 1536 hidden size, total parameters 1.5B",)),
)


FAMILY = declare(
    globals(),
    name="deberta-v2",
    summary="relative positions (buckets, shared keys), optional absolute positions, ConvLayer",
    fields=(*DEFAULTS, *DERIVED, *LABEL_AND_DTYPE_FIELDS),
    repeats={"encoder.layer": "L"},
    buffers=r"embeddings\.position_ids",
)
