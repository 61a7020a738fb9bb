"""BERT: config fields, the exact tensor list of every BertFor* class, and name patterns.

Source of truth: transformers ``models/bert/modeling_bert.py`` (v5). Every shape below is the one
``named_parameters()`` reports (``nn.Linear`` weights are ``[out, in]``); tests compare them name by name
against the model built on the meta device.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import ConfigError, UnknownArchitecture
from ..inventory import DTYPE_BYTES, Kind, Tensor
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol, need_bool, need_int

SYMBOLS = (
    Symbol("V", "vocab_size", "vocabulary size"),
    Symbol("P", "max_position_embeddings", "positions"),
    Symbol("T", "type_vocab_size", "token types"),
    Symbol("H", "hidden_size", "hidden size"),
    Symbol("I", "intermediate_size", "feed-forward size"),
    Symbol("L", "num_hidden_layers", "layers"),
    Symbol("C", "num_labels", "labels of a classification head"),
)

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
    # google-research/bert and transformers: embeddings.{word,position,token_type}_embeddings
    Rule(r"embeddings\.(word|position|token_type)_embeddings\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"embeddings\.LayerNorm\.(weight|bias)", Group.EMBEDDINGS, Role.NORM),
    Rule(r"embeddings\.(position_ids|token_type_ids)", Group.EMBEDDINGS, Role.OTHER),  # buffers
    Rule(r"encoder\.layer\.\d+\.(attention|crossattention)\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
    Rule(r"encoder\.layer\.\d+\.(attention|crossattention)\.(self\.(query|key|value)|output\.dense)\.(weight|bias)", Group.ENCODER, Role.ATTENTION),
    Rule(r"encoder\.layer\.\d+\.(intermediate|output)\.dense\.(weight|bias)", Group.ENCODER, Role.FFN),
    Rule(r"encoder\.layer\.\d+\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
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
    for key, name in (("max_position_embeddings", "embeddings.position_embeddings.weight"),
                      ("type_vocab_size", "embeddings.token_type_embeddings.weight")):
        if name in shapes and len(shapes[name]) == 2:
            cfg[key] = shapes[name][0]
    layers = {int(m.group(1)) for n in shapes if (m := re.match(r"encoder\.layer\.(\d+)\.", n))}
    cfg["num_hidden_layers"] = max(layers) + 1 if layers else 0
    inter = shapes.get("encoder.layer.0.intermediate.dense.weight")
    if inter and len(inter) == 2:
        cfg["intermediate_size"] = inter[0]
    heads = H // 64 if H % 64 == 0 and H >= 64 else 1
    cfg["num_attention_heads"] = heads
    notes.append(f"num_attention_heads is not in the weights; taken as {heads} (it does not change the count)")
    if any(".crossattention." in n for n in shapes):
        cfg["is_decoder"] = cfg["add_cross_attention"] = True
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
    cfg = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None or k == "pad_token_id"}}
    for key in ("vocab_size", "hidden_size", "num_attention_heads", "intermediate_size", "max_position_embeddings"):
        need_int(cfg, key, source, minimum=1)
    need_int(cfg, "num_hidden_layers", source, minimum=0)
    need_int(cfg, "type_vocab_size", source, minimum=0)
    for key in ("is_decoder", "add_cross_attention", "tie_word_embeddings"):
        need_bool(cfg, key, source)
    # transformers 5: an explicit num_labels wins over the length of id2label; the default is 2.
    if raw.get("num_labels") is not None:
        cfg["num_labels"] = raw["num_labels"]
    elif isinstance(raw.get("id2label"), Mapping):
        cfg["num_labels"] = len(raw["id2label"])
    else:
        cfg["num_labels"] = 2
    need_int(cfg, "num_labels", source, minimum=0)
    h, a = cfg["hidden_size"], cfg["num_attention_heads"]
    if h % a:
        lower = h - h % a
        hint = f"e.g. {lower or a}" if lower else f"e.g. {a}"
        raise ConfigError(
            f"{source}: hidden_size {h} is not a multiple of num_attention_heads {a}; "
            f"set hidden_size to a multiple of {a} ({hint}) or change num_attention_heads"
        )
    pad = cfg["pad_token_id"]
    if pad is not None:
        if isinstance(pad, bool) or not isinstance(pad, int) or not -cfg["vocab_size"] <= pad < cfg["vocab_size"]:
            raise ConfigError(
                f"{source}: pad_token_id {pad!r} is not a token of the vocabulary (vocab_size {cfg['vocab_size']}); "
                "set pad_token_id below vocab_size"
            )
    # config.json says "dtype" since transformers 5, "torch_dtype" before; bytes follow it.
    dtype = str(raw.get("dtype") or raw.get("torch_dtype") or "float32").removeprefix("torch.")
    cfg["dtype"] = dtype if dtype in DTYPE_BYTES else "float32"
    if cfg["add_cross_attention"] and not cfg["is_decoder"]:
        raise ConfigError(
            f"{source}: add_cross_attention needs is_decoder; set is_decoder=true or add_cross_attention=false"
        )
    return cfg


def _linear(name: str, out_dim: Poly, in_dim: Poly, dtype: str) -> list[Tensor]:
    return [_t(f"{name}.weight", (out_dim, in_dim), dtype), _t(f"{name}.bias", (out_dim,), dtype)]


def _norm(name: str, dim: Poly, dtype: str) -> list[Tensor]:
    return [_t(f"{name}.weight", (dim,), dtype), _t(f"{name}.bias", (dim,), dtype)]


def _t(name: str, expr: tuple[Poly, ...], dtype: str, kind: Kind = Kind.PARAMETER, tied_to: str | None = None) -> Tensor:
    # Shapes are filled in by ``tensors`` once the symbols have values.
    return Tensor(name=name, shape=(), dtype=dtype, kind=kind, tied_to=tied_to, expr=expr)


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    if model_class not in MODEL_CLASSES:
        raise UnknownArchitecture(
            f"no formula for model class {model_class!r}; supported: {', '.join(MODEL_CLASSES)}"
        )
    V, P, T, H, I, C = (Poly.sym(s) for s in "VPTHIC")
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else "bert."
    pooler = model_class not in NO_POOLER and (model_class != BASE or options.get("add_pooling_layer", True))

    out: list[Tensor] = []
    e = f"{prefix}embeddings"
    out += [_t(f"{e}.word_embeddings.weight", (V, H), dt),
            _t(f"{e}.position_embeddings.weight", (P, H), dt),
            _t(f"{e}.token_type_embeddings.weight", (T, H), dt)]
    out += _norm(f"{e}.LayerNorm", H, dt)
    for i in range(cfg["num_hidden_layers"]):
        layer = f"{prefix}encoder.layer.{i}"
        blocks = ["attention"] + (["crossattention"] if cfg["add_cross_attention"] else [])
        for block in blocks:
            for proj in ("query", "key", "value"):
                out += _linear(f"{layer}.{block}.self.{proj}", H, H, dt)
            out += _linear(f"{layer}.{block}.output.dense", H, H, dt)
            out += _norm(f"{layer}.{block}.output.LayerNorm", H, dt)
        out += _linear(f"{layer}.intermediate.dense", I, H, dt)
        out += _linear(f"{layer}.output.dense", H, I, dt)
        out += _norm(f"{layer}.output.LayerNorm", H, dt)
    if pooler:
        out += _linear(f"{prefix}pooler.dense", H, H, dt)
    if model_class in MLM_CLASSES:
        # BertLMPredictionHead registers its own ``bias`` first; the decoder's weight is the word
        # embedding matrix and its bias is that same ``bias`` when tie_word_embeddings (the default).
        tied = cfg["tie_word_embeddings"]
        p = "cls.predictions"
        out.append(_t(f"{p}.bias", (V,), dt))
        out += _linear(f"{p}.transform.dense", H, H, dt)
        out += _norm(f"{p}.transform.LayerNorm", H, dt)
        if tied:
            out.append(_t(f"{p}.decoder.weight", (V, H), dt, Kind.ALIAS, f"{e}.word_embeddings.weight"))
            out.append(_t(f"{p}.decoder.bias", (V,), dt, Kind.ALIAS, f"{p}.bias"))
        else:
            out += _linear(f"{p}.decoder", V, H, dt)
    if model_class in NSP_CLASSES:
        out += _linear("cls.seq_relationship", Poly.const(2), H, dt)
    if model_class in {"BertForSequenceClassification", "BertForTokenClassification"}:
        out += _linear("classifier", C, H, dt)
    if model_class == "BertForQuestionAnswering":
        out += _linear("qa_outputs", C, H, dt)
    if model_class == "BertForMultipleChoice":
        out += _linear("classifier", Poly.const(1), H, dt)
    # Non-persistent buffers: current transformers leaves them out of state_dict, older versions saved
    # position_ids (all-MiniLM-L6-v2 has it). They are not parameters.
    out += [_t(f"{e}.position_ids", (Poly.const(1), P), "int64", Kind.BUFFER),
            _t(f"{e}.token_type_ids", (Poly.const(1), P), "int64", Kind.BUFFER)]
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = []
    pet = cfg.get("position_embedding_type")
    if pet not in (None, "absolute"):
        out.append(
            f"position_embedding_type {pet!r} is ignored by transformers 5 (no distance embeddings); "
            "counted as absolute"
        )
    if model_class == "BertLMHeadModel" and not cfg["is_decoder"]:
        out.append("BertLMHeadModel is meant as a decoder: transformers warns unless is_decoder=true")
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


FAMILY = Family(
    name="bert",
    fields=(*DEFAULTS, "num_labels", "id2label", "dtype", "torch_dtype"),
    symbols=SYMBOLS,
    model_classes=MODEL_CLASSES,
    default_class=BASE,
    rules=RULES,
    repeats={"encoder.layer": "L"},
    resolve=resolve,
    tensors=tensors,
    canonical=canonical,
    notes=notes,
    formula_notes=formula_notes,
    buffers=r"embeddings\.(position_ids|token_type_ids)",
    infer=infer,
    hf_shape=hf_shape,
)
