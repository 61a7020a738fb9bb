"""BERT: config fields, the exact tensor list of every BertFor* class, and name patterns.

Source of truth: transformers ``models/bert/modeling_bert.py`` (v5). Every shape below is the one
``named_parameters()`` reports (``nn.Linear`` weights are ``[out, in]``); tests compare them name by name
against the model built on the meta device.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..inventory import Tensor
from ..symbolic import Poly
from .base import Family, Group, Role, Rule
from .spec import declare
from .common import (BERT_BUFFERS, BERT_EMBEDDING_RULES, BERT_LAYER_RULES, FEED_FORWARD, HIDDEN, LABELS,
                     LABEL_AND_DTYPE_FIELDS, LAYERS, POSITIONS, TOKEN_TYPES, VOCAB, bert_embeddings,
                     bert_encoder_layer, bert_lm_head, bert_task_head, check_bert_fields, check_cross_attention,
                     check_heads_divide, check_model_class, check_pad_token, config_dtype, decoder_note, id_buffers,
                     infer_bert_layers, infer_embedding_tables, linear, num_labels, position_embedding_note,
                     with_defaults)

# V, P, T, H, I, L, C
SYMBOLS = (VOCAB, POSITIONS, TOKEN_TYPES, HIDDEN, FEED_FORWARD, LAYERS, LABELS)

# transformers' BertConfig defaults (v5), for fields a config.json leaves out.
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 30522,
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "pad_token_id": 0,
    "is_decoder": False,
    "add_cross_attention": False,
    "tie_word_embeddings": True,
}

BASE = "BertModel"
# Classes built on BertModel(add_pooling_layer=False): the pooler is absent.
NO_POOLER = {"BertForMaskedLM", "BertLMHeadModel", "BertForTokenClassification", "BertForQuestionAnswering"}
MODEL_CLASSES = (
    "BertModel",
    "BertForPreTraining",
    "BertForMaskedLM",
    "BertLMHeadModel",
    "BertForNextSentencePrediction",
    "BertForSequenceClassification",
    "BertForTokenClassification",
    "BertForQuestionAnswering",
    "BertForMultipleChoice",
)
MLM_CLASSES = {"BertForPreTraining", "BertForMaskedLM", "BertLMHeadModel"}
NSP_CLASSES = {"BertForPreTraining", "BertForNextSentencePrediction"}
LABEL_CLASSES = {"BertForSequenceClassification", "BertForTokenClassification", "BertForQuestionAnswering"}

# Classification is data: canonical names (``bert.`` prefix removed) to group and role; first match wins.
RULES = (
    # Embeddings and encoder layers (common.py): google-research/bert and transformers name them alike.
    *BERT_EMBEDDING_RULES,
    *BERT_LAYER_RULES,
    Rule(r"pooler\.dense\.(weight|bias)", Group.POOLER, Role.POOLER),
    # Heads: everything in them has the head role, their own LayerNorm included.
    Rule(r"cls\.predictions\.(bias|(transform\.(dense|LayerNorm)|decoder)\.(weight|bias))", Group.HEADS, Role.HEAD),
    Rule(r"cls\.seq_relationship\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"(classifier|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)


# google-research/bert (TF1) variable names -> Hugging Face names, as transformers' conversion script maps
# them: layer_N -> layer.N, kernel/gamma/output_weights -> weight, beta/output_bias -> bias, and the
# embedding tables, which have no suffix in TF, get ``.weight``.
_TF_LEAF = {"kernel": "weight", "gamma": "weight", "beta": "bias", "output_weights": "weight",
            "output_bias": "bias"}
_TF_TABLES = re.compile(r"embeddings\.(word|position|token_type)_embeddings")


def canonical(name: str) -> str:
    """``bert.encoder.layer.0...`` and ``bert/encoder/layer_0/.../kernel`` -> ``encoder.layer.0....weight``."""
    if "/" in name:
        parts = name.split("/")
        if parts[0] == "bert":
            parts = parts[1:]
        parts = [f"layer.{p[6:]}" if re.fullmatch(r"layer_\d+", p) else p for p in parts]
        if parts and parts[-1] in _TF_LEAF:
            parts[-1] = _TF_LEAF[parts[-1]]
        name = ".".join(parts)
        if _TF_TABLES.fullmatch(name):
            name += ".weight"
        return name
    return name[len("bert."):] if name.startswith("bert.") else name


def hf_shape(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """TF dense kernels are stored [in, out]; nn.Linear weights are [out, in]."""
    if "/" in name and name.endswith("/kernel") and len(shape) == 2:
        return (shape[1], shape[0])
    return shape


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not a BERT.

    The head count does not change the count, so it is taken as H/64 (BERT's head size) when that divides.
    """
    word = shapes.get("embeddings.word_embeddings.weight")
    if word is None or len(word) != 2:
        return None
    V, H = word
    cfg: dict[str, Any] = {"model_type": "bert", "vocab_size": V, "hidden_size": H}
    notes: list[str] = []
    infer_embedding_tables(shapes, cfg)
    infer_bert_layers(shapes, cfg, notes, H)
    pooler = "pooler.dense.weight" in shapes
    mlm = any(n.startswith("cls.predictions.") for n in shapes)
    nsp = any(n.startswith("cls.seq_relationship.") for n in shapes)
    if "cls.predictions.decoder.weight" in shapes:
        cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
    classifier = shapes.get("classifier.weight") or shapes.get("qa_outputs.weight")
    if mlm and nsp:
        cls = "BertForPreTraining"
    elif mlm:
        cls = "BertLMHeadModel" if cfg.get("is_decoder") else "BertForMaskedLM"
    elif nsp:
        cls = "BertForNextSentencePrediction"
    elif "qa_outputs.weight" in shapes:
        cls = "BertForQuestionAnswering"
    elif classifier is not None:
        if pooler:
            cls = "BertForMultipleChoice" if classifier[0] == 1 else "BertForSequenceClassification"
        else:
            cls = "BertForTokenClassification"
    else:
        cls = BASE
    if classifier is not None and cls != "BertForMultipleChoice":
        cfg["num_labels"] = classifier[0]
    return cfg, cls, notes


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults and check every field the count depends on."""
    cfg = with_defaults(DEFAULTS, raw)
    check_bert_fields(cfg, source)
    cfg["num_labels"] = num_labels(raw, source)
    check_heads_divide(cfg["hidden_size"], cfg["num_attention_heads"], source)
    check_pad_token(cfg, source)
    cfg["dtype"] = config_dtype(raw)
    check_cross_attention(cfg, source)
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    H, I = Poly.sym("H"), Poly.sym("I")
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else "bert."
    pooler = model_class not in NO_POOLER and (model_class != BASE or options.get("add_pooling_layer", True))

    e = f"{prefix}embeddings"
    out = bert_embeddings(e, H, dt)
    for i in range(cfg["num_hidden_layers"]):
        out += bert_encoder_layer(f"{prefix}encoder.layer.{i}", H, I, dt, cross_attention=cfg["add_cross_attention"])
    if pooler:
        out += linear(f"{prefix}pooler.dense", H, H, dt)
    if model_class in MLM_CLASSES:
        # BertLMPredictionHead registers its own ``bias`` first; the decoder's weight is the word
        # embedding matrix and its bias is that same ``bias`` when tie_word_embeddings (the default).
        out += bert_lm_head("cls.predictions", H, dt, tied=cfg["tie_word_embeddings"],
                            word=f"{e}.word_embeddings.weight")
    if model_class in NSP_CLASSES:
        out += linear("cls.seq_relationship", Poly.const(2), H, dt)
    out += bert_task_head(model_class.removeprefix("BertFor"), H, dt)
    # Non-persistent buffers: current transformers leaves them out of state_dict, older versions saved
    # position_ids (all-MiniLM-L6-v2 has it). They are not parameters.
    out += id_buffers(e, "position_ids", "token_type_ids")
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = position_embedding_note(cfg)
    if model_class == "BertLMHeadModel" and not cfg["is_decoder"]:
        out.append(decoder_note(model_class))
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """What the article got wrong, said where it applies."""
    prefix = "" if model_class == BASE else "bert."
    out = [
        "embeddings: the final 2H is the embeddings' LayerNorm (weight and bias); "
        "the article writes T·H + 2H as 4·768 because T = 2",
        "per layer: 4H² + 4H are Q, K, V and the attention output (weights and biases), HI + I and IH + H "
        "the feed-forward, 2H + 2H the two LayerNorms; the article's 768*3 is the output bias plus a LayerNorm",
    ]
    if f"{prefix}pooler.dense.weight" in names:
        out.append(
            "H² + H is the pooler (a dense layer with tanh over the [CLS] vector), "
            "not the MLM output layer the article names"
        )
    if "cls.predictions.decoder.weight" in names:
        if cfg["tie_word_embeddings"]:
            out.append(
                "the MLM decoder (V×H) is the word-embedding matrix itself, tied, so it adds nothing; "
                "its bias (V) is cls.predictions.bias, counted once"
            )
        else:
            out.append("tie_word_embeddings is false: the MLM decoder has its own V×H matrix and V bias")
    else:
        out.append(
            f"{model_class} has no MLM head; where there is one (BertForMaskedLM, BertForPreTraining), its decoder "
            "is tied to the word embeddings and adds only a transform (H² + 3H) and a bias (V)"
        )
    out.append(
        "position_ids and token_type_ids (1×P each, int64) are buffers, not parameters; a loop over "
        "state_dict() counts position_ids wherever a checkpoint stores it"
    )
    return out


FAMILY = declare(
    globals(),
    name="bert",
    summary="the article's three parts, corrected; tied MLM decoder; cross-attention; BertModel's pooler optional",
    fields=(*DEFAULTS, *LABEL_AND_DTYPE_FIELDS),
    repeats={"encoder.layer": "L"},
    buffers=BERT_BUFFERS,
)
