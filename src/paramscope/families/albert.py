"""ALBERT: factorised embeddings, layers shared across depth, the exact tensor list of every AlbertFor* class.

Source of truth: transformers ``models/albert/modeling_albert.py`` (v5). Every shape below is the one
``named_parameters()`` reports (``nn.Linear`` weights are ``[out, in]``); tests compare them name by name
against the model built on the meta device.

What makes ALBERT different from BERT, and from most counts of it:

* the token tables are ``V × E`` (``embedding_size``, 128 in every release), and a projection
  ``encoder.embedding_hidden_mapping_in`` (``E → H``) lifts them to the hidden size;
* the encoder holds ``G = num_hidden_groups`` groups of ``N = inner_group_num`` layers and runs them for all
  ``L = num_hidden_layers`` steps: step ``i`` runs group ``int(i / (L / G))``, every layer of it. The parameters
  are the ``G·N`` stored layers, whatever ``L`` is; ``totals["unshared_parameters"]`` says what the same model
  would have with a layer of its own at every step.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import ConfigError
from ..inventory import Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol, need_bool, need_int
from .spec import declare
from .common import (BERT_BUFFERS, BERT_EMBEDDING_RULES, FEED_FORWARD, HIDDEN, LABELS, LABEL_AND_DTYPE_FIELDS,
                     POSITIONS, TOKEN_TYPES, VOCAB, bert_embeddings, bert_task_head, check_heads_divide,
                     check_model_class, check_pad_token, config_dtype, guess_heads, heads_note, id_buffers,
                     infer_embedding_tables, linear, norm, num_labels, tensor, with_defaults)

SYMBOLS = (
    VOCAB,
    POSITIONS,
    TOKEN_TYPES,
    Symbol("E", "embedding_size", "embedding size (the token tables' width)"),
    HIDDEN,
    FEED_FORWARD,
    Symbol("L", "num_hidden_layers", "layers run (steps through the shared groups)"),
    Symbol("G", "num_hidden_groups", "layer groups stored (each shared by L/G steps)"),
    Symbol("N", "inner_group_num", "layers in each group"),
    LABELS,
)

# transformers' AlbertConfig defaults (v5, the xxlarge sizes), for fields a config.json leaves out.
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 30000,
    "embedding_size": 128,
    "hidden_size": 4096,
    "num_hidden_layers": 12,
    "num_hidden_groups": 1,
    "num_attention_heads": 64,
    "intermediate_size": 16384,
    "inner_group_num": 1,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "pad_token_id": 0,
    "tie_word_embeddings": True,
}

BASE = "AlbertModel"
MODEL_CLASSES = (
    "AlbertModel",
    "AlbertForPreTraining",
    "AlbertForMaskedLM",
    "AlbertForSequenceClassification",
    "AlbertForTokenClassification",
    "AlbertForQuestionAnswering",
    "AlbertForMultipleChoice",
)
# Classes built on AlbertModel(add_pooling_layer=False): the pooler is absent.
NO_POOLER = {"AlbertForMaskedLM", "AlbertForTokenClassification", "AlbertForQuestionAnswering"}
MLM_CLASSES = {"AlbertForPreTraining", "AlbertForMaskedLM"}

_LAYER = r"encoder\.albert_layer_groups\.\d+\.albert_layers\.\d+\."

# Canonical names (``albert.`` prefix removed) to group and role; first match wins.
RULES = (
    *BERT_EMBEDDING_RULES,
    # The E -> H projection lives in the encoder module but is the second factor of ALBERT's factorised
    # embedding (the paper's V·E + E·H in place of V·H): group embeddings, role embedding, so that
    # non-embedding parameters are the shared layers, pooler and heads. In the tree it shows under the
    # embeddings as ``encoder.embedding_hidden_mapping_in``, its real module path.
    Rule(r"encoder\.embedding_hidden_mapping_in\.(weight|bias)", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(_LAYER + r"attention\.(query|key|value|dense)\.(weight|bias)", Group.ENCODER, Role.ATTENTION),
    Rule(_LAYER + r"(attention\.LayerNorm|full_layer_layer_norm)\.(weight|bias)", Group.ENCODER, Role.NORM),
    Rule(_LAYER + r"(ffn|ffn_output)\.(weight|bias)", Group.ENCODER, Role.FFN),
    Rule(r"pooler\.(weight|bias)", Group.POOLER, Role.POOLER),
    # Heads: everything in them has the head role, the MLM head's own LayerNorm included.
    Rule(r"predictions\.(bias|(LayerNorm|dense|decoder)\.(weight|bias))", Group.HEADS, Role.HEAD),
    Rule(r"sop_classifier\.classifier\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"(classifier|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)

_SOURCE = "config.json of albert/{} on the Hugging Face Hub"
_CARD = "; published figure from its model card (README.md: \"{} parameters\")"


def _albert(hidden: int, layers: int, heads: int, inter: int) -> dict[str, Any]:
    """The fields of the v2 config.json files that the count depends on (all four share the rest)."""
    return {
        "model_type": "albert",
        "vocab_size": 30000,
        "embedding_size": 128,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_hidden_groups": 1,
        "num_attention_heads": heads,
        "intermediate_size": inter,
        "inner_group_num": 1,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "pad_token_id": 0,
    }


PRESETS = (
    Preset("albert-base-v2", _albert(768, 12, 12, 3072), "11M",
           _SOURCE.format("albert-base-v2") + _CARD.format("11M"),
           aliases=("albert/albert-base-v2",), nickname="ALBERT-Base v2", model_class=BASE),
    Preset("albert-large-v2", _albert(1024, 24, 16, 4096), "17M",
           _SOURCE.format("albert-large-v2") + _CARD.format("17M"),
           aliases=("albert/albert-large-v2",), nickname="ALBERT-Large v2", model_class=BASE),
    Preset("albert-xlarge-v2", _albert(2048, 24, 16, 8192), "58M",
           _SOURCE.format("albert-xlarge-v2") + _CARD.format("58M"),
           aliases=("albert/albert-xlarge-v2",), nickname="ALBERT-XLarge v2", model_class=BASE),
    Preset("albert-xxlarge-v2", _albert(4096, 12, 64, 16384), "223M",
           _SOURCE.format("albert-xxlarge-v2") + _CARD.format("223M"),
           aliases=("albert/albert-xxlarge-v2",), nickname="ALBERT-XXLarge v2", model_class=BASE),
)


def canonical(name: str) -> str:
    """``albert.encoder.albert_layer_groups.0...`` -> ``encoder.albert_layer_groups.0...``."""
    return name[len("albert."):] if name.startswith("albert.") else name


def group_of_step(step: int, layers: int, groups: int) -> int:
    """The group transformers runs at step ``step``: ``int(i / (L / G))``, float division as it does."""
    return int(step / (layers / groups))


def steps_by_group(cfg: Mapping[str, Any]) -> list[list[int]]:
    """For each stored group, the steps (0..L-1) that run it; an empty list is a group never run."""
    layers, groups = cfg["num_hidden_layers"], cfg["num_hidden_groups"]
    out: list[list[int]] = [[] for _ in range(groups)]
    for i in range(layers):
        out[group_of_step(i, layers, groups)].append(i)
    return out


def layer_poly() -> Poly:
    """One AlbertLayer: Q, K, V and the attention output with biases (4H² + 4H), two LayerNorms (4H),
    ffn (HI + I) and ffn_output (IH + H)."""
    H, I = Poly.sym("H"), Poly.sym("I")
    return 4 * H * H + 2 * H * I + 9 * H + I


def _layer_params(cfg: Mapping[str, Any]) -> int:
    return layer_poly().evaluate({"H": cfg["hidden_size"], "I": cfg["intermediate_size"]})


def extra_totals(cfg: Mapping[str, Any], parameters: int) -> dict[str, int]:
    """``unshared_parameters``: the same model with a layer group of its own at each of the L steps.

    Precisely: the model's parameters, less the G·N stored layers (groups never run included), plus L·N
    layers (each step runs a whole group of N layers, so L steps unshared hold L·N). Embeddings, the E -> H
    projection, pooler and heads are unchanged. For albert-base-v2 (G = N = 1, L = 12) that is
    11,683,584 - 7,087,872 + 12 · 7,087,872 = 89,650,176, the paper's 89M "not-shared" ALBERT-base.
    """
    keys = ("hidden_size", "intermediate_size", "num_hidden_layers", "num_hidden_groups", "inner_group_num")
    if not all(isinstance(cfg.get(k), int) for k in keys):
        return {}
    layer = _layer_params(cfg)
    stored = cfg["num_hidden_groups"] * cfg["inner_group_num"]
    unshared = cfg["num_hidden_layers"] * cfg["inner_group_num"]
    return {"unshared_parameters": parameters - stored * layer + unshared * layer}


def _steps_text(steps: list[int], layers: int) -> str:
    if not steps:
        return "unused: no layer runs this group"
    if len(steps) == layers:
        return f"shared: used by all {layers} layers" if layers > 1 else "used by the one layer"
    span = f"layer {steps[0]}" if len(steps) == 1 else f"layers {steps[0]}-{steps[-1]}"
    return f"shared: used by {span} ({len(steps)} of {layers})" if len(steps) > 1 else f"used by {span} only"


def tree_notes(cfg: Mapping[str, Any]) -> dict[str, str]:
    """A note on each stored layer group: which of the L layers run it.

    The tree merges single-child chains into one row, so the node of group g is
    ``encoder.albert_layer_groups.g.albert_layers`` (``.0`` more when a group holds one layer); the shorter
    paths are listed too, so that the note lands on whichever node the tree keeps. A group of several
    layers (N > 1) is noted once, on the group, not on its first layer.
    """
    keys = ("num_hidden_layers", "num_hidden_groups", "inner_group_num")
    if not all(isinstance(cfg.get(k), int) for k in keys) or cfg["inner_group_num"] < 1 or cfg["num_hidden_groups"] < 1:
        return {}
    out: dict[str, str] = {}
    for g, steps in enumerate(steps_by_group(cfg)):
        note = _steps_text(steps, cfg["num_hidden_layers"])
        base = f"encoder.albert_layer_groups.{g}"
        out[base] = out[f"{base}.albert_layers"] = note
        if cfg["inner_group_num"] == 1:
            out[f"{base}.albert_layers.0"] = note
    return out


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not an ALBERT.

    The E -> H projection or a layer group is required: BERT-like names alone are not ALBERT's.
    """
    word = shapes.get("embeddings.word_embeddings.weight")
    mapping = shapes.get("encoder.embedding_hidden_mapping_in.weight")
    grouped = [n for n in shapes if n.startswith("encoder.albert_layer_groups.")]
    if word is None or len(word) != 2 or (mapping is None and not grouped):
        return None
    V, E = word
    cfg: dict[str, Any] = {"model_type": "albert", "vocab_size": V, "embedding_size": E}
    notes: list[str] = []
    if mapping is not None and len(mapping) == 2:
        H = mapping[0]
    else:
        q = next((shapes[n] for n in grouped if n.endswith(".attention.query.weight")), None)
        if q is None or len(q) != 2:
            return None
        H = q[1]
    cfg["hidden_size"] = H
    infer_embedding_tables(shapes, cfg)
    found = [m for n in grouped if (m := re.match(r"encoder\.albert_layer_groups\.(\d+)\.albert_layers\.(\d+)\.", n))]
    groups = max((int(m.group(1)) for m in found), default=-1) + 1
    inner = max((int(m.group(2)) for m in found), default=-1) + 1
    cfg["num_hidden_groups"] = max(groups, 1)
    cfg["inner_group_num"] = inner
    # The weights hold the G stored groups, not how many steps run them.
    layers = max(12, cfg["num_hidden_groups"])
    cfg["num_hidden_layers"] = layers
    notes.append(f"num_hidden_layers is not in the weights (the layers are shared); taken as {layers}, "
                 "which does not change the count (it changes unshared_parameters)")
    ffn = next((shapes[n] for n in grouped if n.endswith(".ffn.weight")), None)
    if ffn is not None and len(ffn) == 2:
        cfg["intermediate_size"] = ffn[0]
    heads = guess_heads(H)
    cfg["num_attention_heads"] = heads
    notes.append(heads_note("num_attention_heads", heads))
    pooler = "pooler.weight" in shapes
    mlm = any(n.startswith("predictions.") for n in shapes)
    sop = shapes.get("sop_classifier.classifier.weight")
    if "predictions.decoder.weight" in shapes:
        cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
    classifier = shapes.get("classifier.weight")
    if mlm and sop is not None:
        cls = "AlbertForPreTraining"
    elif mlm:
        cls = "AlbertForMaskedLM"
    elif "qa_outputs.weight" in shapes:
        cls = "AlbertForQuestionAnswering"
        classifier = shapes["qa_outputs.weight"]
    elif classifier is not None:
        if pooler:
            cls = "AlbertForMultipleChoice" if classifier[0] == 1 else "AlbertForSequenceClassification"
        else:
            cls = "AlbertForTokenClassification"
    else:
        cls = BASE
    labels = sop if cls == "AlbertForPreTraining" else classifier
    if labels is not None and len(labels) == 2 and cls != "AlbertForMultipleChoice":
        cfg["num_labels"] = labels[0]
    return cfg, cls, notes


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults and check every field the count depends on."""
    cfg = with_defaults(DEFAULTS, raw)
    for key in ("vocab_size", "embedding_size", "hidden_size", "num_attention_heads", "intermediate_size",
                "max_position_embeddings"):
        need_int(cfg, key, source, minimum=1)
    for key in ("num_hidden_layers", "num_hidden_groups", "inner_group_num", "type_vocab_size"):
        need_int(cfg, key, source, minimum=0)
    need_bool(cfg, "tie_word_embeddings", source)
    cfg["num_labels"] = num_labels(raw, source)
    # AlbertAttention skips BERT's check (an AlbertConfig always has embedding_size), so transformers builds
    # query/key/value of a·(h // a) rows that the attention output (h inputs) cannot take, and fails outright
    # when a > h: refused here.
    check_heads_divide(cfg["hidden_size"], cfg["num_attention_heads"], source)
    layers, groups = cfg["num_hidden_layers"], cfg["num_hidden_groups"]
    if groups == 0 and layers > 0:
        raise ConfigError(
            f"{source}: num_hidden_groups is 0 with {layers} layers; transformers divides the layers among "
            "the groups (and by their number): set num_hidden_groups to at least 1"
        )
    check_pad_token(cfg, source)
    cfg["dtype"] = config_dtype(raw)
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    V, E, H, I, C = (Poly.sym(s) for s in "VEHIC")
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else "albert."
    pooler = model_class not in NO_POOLER and (model_class != BASE or options.get("add_pooling_layer", True))

    e = f"{prefix}embeddings"
    out = bert_embeddings(e, E, dt)
    out += linear(f"{prefix}encoder.embedding_hidden_mapping_in", H, E, dt)
    for g in range(cfg["num_hidden_groups"]):
        for j in range(cfg["inner_group_num"]):
            layer = f"{prefix}encoder.albert_layer_groups.{g}.albert_layers.{j}"
            out += norm(f"{layer}.full_layer_layer_norm", H, dt)
            for proj in ("query", "key", "value", "dense"):
                out += linear(f"{layer}.attention.{proj}", H, H, dt)
            out += norm(f"{layer}.attention.LayerNorm", H, dt)
            out += linear(f"{layer}.ffn", I, H, dt)
            out += linear(f"{layer}.ffn_output", H, I, dt)
    if pooler:
        out += linear(f"{prefix}pooler", H, H, dt)  # an nn.Linear itself: pooler.weight, not pooler.dense
    if model_class in MLM_CLASSES:
        # AlbertMLMHead registers its own ``bias`` first (a module's parameters come before its children's),
        # then LayerNorm (E), dense (H -> E) and the decoder (E -> V), whose weight is the word-embedding
        # matrix and whose bias is that same ``bias`` when tie_word_embeddings (the default).
        p = "predictions"
        out.append(tensor(f"{p}.bias", (V,), dt))
        out += norm(f"{p}.LayerNorm", E, dt)
        out += linear(f"{p}.dense", E, H, dt)
        if cfg["tie_word_embeddings"]:
            out.append(tensor(f"{p}.decoder.weight", (V, E), dt, Kind.ALIAS, f"{e}.word_embeddings.weight"))
            out.append(tensor(f"{p}.decoder.bias", (V,), dt, Kind.ALIAS, f"{p}.bias"))
        else:
            out += linear(f"{p}.decoder", V, E, dt)
    if model_class == "AlbertForPreTraining":
        out += linear("sop_classifier.classifier", C, H, dt)  # sized by num_labels (2 by default)
    out += bert_task_head(model_class.removeprefix("AlbertFor"), H, dt)
    # Non-persistent buffers: not in state_dict, not parameters.
    out += id_buffers(e, "position_ids", "token_type_ids")
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = []
    layers, groups, inner = cfg["num_hidden_layers"], cfg["num_hidden_groups"], cfg["inner_group_num"]
    if groups:
        by_group = steps_by_group(cfg)
        unused = [g for g, steps in enumerate(by_group) if not steps]
        if unused:
            which = ", ".join(str(g) for g in unused)
            subject = f"layer groups {which} never run" if len(unused) > 1 else f"layer group {which} never runs"
            out.append(f"{subject} (num_hidden_groups {groups}, num_hidden_layers {layers}): counted, as "
                       "transformers builds them, but unused")
        elif layers % groups:
            runs = ", ".join(str(len(s)) for s in by_group)
            out.append(f"num_hidden_groups {groups} does not divide num_hidden_layers {layers}: "
                       f"the groups run {runs} layers each (transformers takes group int(i / (L / G)))")
    if inner == 0:
        out.append("inner_group_num is 0: the layer groups are empty and the encoder only projects E to H")
    pet = cfg.get("position_embedding_type")
    if pet not in (None, "absolute"):
        out.append(f"position_embedding_type {pet!r} is ignored by transformers 5; counted as absolute")
    if model_class == "AlbertForPreTraining" and cfg["num_labels"] != 2:
        out.append(f"the sentence-order head is sized by num_labels ({cfg['num_labels']}), not fixed at 2")
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """What each part of the formula is, in plain words."""
    prefix = "" if model_class == BASE else "albert."
    layers, groups, inner = cfg["num_hidden_layers"], cfg["num_hidden_groups"], cfg["inner_group_num"]
    layer = _layer_params(cfg)
    out = [
        "embeddings are factorised: the token tables are V×E, P×E and T×E with E = embedding_size, plus a "
        "LayerNorm (2E); encoder.embedding_hidden_mapping_in (EH + H) lifts E to H, so V·E + E·H replaces "
        "BERT's V·H (it sits in the encoder module, counted here with the embeddings)",
        f"encoder: each stored layer is 4H² + 2HI + 9H + I, as in BERT ({layer:,}); the model stores "
        f"num_hidden_groups × inner_group_num = {groups} × {inner} of them and runs them for all "
        f"{layers} layers (num_hidden_layers), so the number of layers is not in the count",
        f"unshared, with weights of its own for each of the {layers} layers as in BERT, the encoder would hold "
        f"{layers} × {inner} layers = {layers * inner * layer:,} parameters; the summary's 'unshared' figure "
        "is the whole model so",
    ]
    if f"{prefix}pooler.weight" in names:
        out.append("H² + H is the pooler (one dense layer with tanh over the first token), "
                   "an nn.Linear named pooler itself")
    if "predictions.decoder.weight" in names:
        if cfg["tie_word_embeddings"]:
            out.append("the MLM head maps H back to E (dense HE + E, LayerNorm 2E) before the decoder; the decoder "
                       "(V×E) is the word-embedding matrix, tied, and its bias (V) is predictions.bias, counted once")
        else:
            out.append("tie_word_embeddings is false: the MLM decoder has its own V×E matrix and V bias")
    if "sop_classifier.classifier.weight" in names:
        out.append("sop_classifier (CH + C) is the sentence-order head over the pooled vector, C = num_labels")
    out.append("position_ids and token_type_ids (1×P each, int64) are buffers, not parameters")
    return out


FAMILY = declare(
    globals(),
    name="albert",
    summary=("factorised embeddings (E, then E→H), one layer group shared by all L layers, counted once, "
             "with `unshared_parameters`"),
    fields=(*DEFAULTS, *LABEL_AND_DTYPE_FIELDS),
    # No runs: the G groups are distinct weights, each shown with the layers that use it (tree_notes);
    # G = N = 1 in every release, so the encoder is one row, the shared layer.
    repeats={},
    buffers=BERT_BUFFERS,
)
