"""RoBERTa, XLM-RoBERTa and CamemBERT: one architecture, three model types, 21 classes.

Source of truth: transformers ``models/{roberta,xlm_roberta,camembert}/modeling_*.py`` (v5). The three share
every tensor and every name (their task classes all call the base model ``roberta``); shapes below are
the ones ``named_parameters()`` reports. What differs is module order, and so which name of a tied pair
transformers reports first:

* ``Roberta*`` task classes build ``self.roberta`` first and the head after it (as BERT does);
* ``XLMRoberta*`` and ``Camembert*`` task classes build the head first (``self.lm_head = ...`` before
  ``self.roberta = ...``), so their heads come first and, in the LM classes, the shared V×H matrix is
  named ``lm_head.decoder.weight`` while ``roberta.embeddings.word_embeddings.weight`` is the alias.

Inside the embeddings the order is word, token type, LayerNorm, then position (``RobertaEmbeddings``
creates the position table last, after its buffers).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError
from ..inventory import Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol
from .spec import declare
from .common import (BERT_BUFFERS, BERT_EMBEDDING_RULES, BERT_LAYER_RULES, FEED_FORWARD, HIDDEN, LABELS,
                     LABEL_AND_DTYPE_FIELDS, LAYERS, TOKEN_TYPES, VOCAB, bert_encoder_layer, check_bert_fields,
                     check_cross_attention, check_heads_divide, check_pad_token, config_dtype, decoder_note,
                     id_buffers, infer_bert_layers, infer_embedding_tables, linear, norm, num_labels,
                     position_embedding_note, tensor, unknown_class, with_defaults)

SYMBOLS = (VOCAB, Symbol("P", "max_position_embeddings", "padded positions"), TOKEN_TYPES, HIDDEN, FEED_FORWARD,
           LAYERS, LABELS)

# transformers' RobertaConfig / XLMRobertaConfig / CamembertConfig defaults (v5). They differ only in
# vocab_size: the XLM-R and CamemBERT configs kept BERT's 30522. All three default to BERT's 512 positions
# and 2 token types, which no released checkpoint uses (they have 514 and 1): a config.json always says.
_COMMON: Mapping[str, Any] = {
    "hidden_size": 768,
    "num_hidden_layers": 12,
    "num_attention_heads": 12,
    "intermediate_size": 3072,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "pad_token_id": 1,
    "is_decoder": False,
    "add_cross_attention": False,
    "tie_word_embeddings": True,
}
DEFAULTS: Mapping[str, Mapping[str, Any]] = {
    "roberta": {"vocab_size": 50265, **_COMMON},
    "xlm-roberta": {"vocab_size": 30522, **_COMMON},
    "camembert": {"vocab_size": 30522, **_COMMON},
}
MODEL_TYPES = tuple(DEFAULTS)
# model_type -> class-name prefix
PREFIX = {"roberta": "Roberta", "xlm-roberta": "XLMRoberta", "camembert": "Camembert"}
KINDS = (
    "Model",
    "ForMaskedLM",
    "ForCausalLM",
    "ForSequenceClassification",
    "ForTokenClassification",
    "ForQuestionAnswering",
    "ForMultipleChoice",
)
MODEL_CLASSES = tuple(f"{p}{k}" for p in PREFIX.values() for k in KINDS)
BASE = "RobertaModel"


def _split(model_class: str) -> tuple[str, str]:
    """``XLMRobertaForMaskedLM`` -> (``XLMRoberta``, ``ForMaskedLM``)."""
    for prefix in sorted(PREFIX.values(), key=len, reverse=True):
        if model_class.startswith(prefix) and model_class[len(prefix):] in KINDS:
            return prefix, model_class[len(prefix):]
    raise unknown_class(model_class, MODEL_CLASSES)


# Classification is data: canonical names (``roberta.`` prefix removed) to group and role; first match wins.
RULES = (
    *BERT_EMBEDDING_RULES,
    *BERT_LAYER_RULES,
    Rule(r"pooler\.dense\.(weight|bias)", Group.POOLER, Role.POOLER),
    # The LM decoder's weight: a head's output layer when untied; tied (every released checkpoint), the
    # XLM-R and CamemBERT LM classes name the word-embedding matrix itself lm_head.decoder.weight (the head
    # is built first), and Anatomy.placements gives it the embedding role through its alias, in the heads
    # group where transformers puts the name: non-embedding counts stay the same for all three model types.
    # Heads: everything in them has the head role, the LM head's own layer_norm included.
    Rule(r"lm_head\.(bias|(dense|layer_norm|decoder)\.(weight|bias))", Group.HEADS, Role.HEAD),
    Rule(r"classifier\.(dense|out_proj)\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"(classifier|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)


def canonical(name: str) -> str:
    """``roberta.encoder.layer.0...`` -> ``encoder.layer.0...``: the base model's prefix goes, heads keep theirs.

    XLM-R and CamemBERT use the same ``roberta.`` prefix (their ``base_model_prefix``).
    """
    return name[len("roberta."):] if name.startswith("roberta.") else name


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not a RoBERTa.

    Family detection tries BERT first, and BERT's names keep a ``roberta.`` prefix, so a checkpoint
    reaches this function during detection only when BERT did not claim it: its names had the
    ``roberta.`` prefix (every task class of the three model types). A bare ``RobertaModel`` saved
    without the prefix has BERT's tensor names and reads as BERT, with the same count. BERT's own heads
    (``cls.``) are refused here. XLM-R, CamemBERT and RoBERTa are the same tensors, so the model type is
    taken as roberta, unless a state_dict shows the head-first order of the XLM-R/CamemBERT LM classes.
    """
    word = shapes.get("embeddings.word_embeddings.weight")
    # A state_dict of an XLM-R or CamemBERT LM class lists lm_head.decoder.weight first; the word table is
    # then a tied alias of it, which is not among the shapes.
    head_first = word is None and "embeddings.position_embeddings.weight" in shapes
    if head_first:
        word = shapes.get("lm_head.decoder.weight")
    if word is None or len(word) != 2 or any(n.startswith("cls.") for n in shapes):
        return None
    V, H = word
    model_type = "xlm-roberta" if head_first else "roberta"
    cfg: dict[str, Any] = {"model_type": model_type, "vocab_size": V, "hidden_size": H}
    notes: list[str] = []
    infer_embedding_tables(shapes, cfg)
    if min(V, cfg.get("max_position_embeddings", 2)) <= 1:
        cfg["pad_token_id"] = None  # padding_idx 1 would not fit a table of one row
    infer_bert_layers(shapes, cfg, notes, H)
    if head_first:
        notes.append("the word embeddings are stored as lm_head.decoder.weight, the order of the XLM-R and CamemBERT "
                     "LM classes (CamemBERT has the same tensors); read as xlm-roberta")
    else:
        notes.append("XLM-RoBERTa, CamemBERT and RoBERTa have the same tensors; the checkpoint is read as roberta")
    pooler = "pooler.dense.weight" in shapes
    lm = any(n.startswith("lm_head.") for n in shapes)
    if lm and "lm_head.decoder.bias" in shapes:
        # Stored as a tensor of its own: with tied weights transformers keeps only lm_head.bias.
        cfg["tie_word_embeddings"] = False
    out_proj = shapes.get("classifier.out_proj.weight")
    linear = shapes.get("classifier.weight")
    qa = shapes.get("qa_outputs.weight")
    labels: tuple[int, ...] | None = None
    if lm:
        cls = "ForCausalLM" if cfg.get("is_decoder") else "ForMaskedLM"
        cls = PREFIX[model_type] + cls
    elif qa is not None:
        cls, labels = "RobertaForQuestionAnswering", qa
    elif out_proj is not None:
        cls, labels = "RobertaForSequenceClassification", out_proj
    elif linear is not None:
        # Multiple choice keeps the pooler and scores each choice with one output.
        if pooler and linear[0] == 1:
            cls, labels = "RobertaForMultipleChoice", None
        else:
            cls, labels = "RobertaForTokenClassification", linear
    else:
        cls = BASE
    if labels is not None and len(labels) == 2:
        cfg["num_labels"] = labels[0]
    return cfg, cls, notes


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults for the model type and check every field the count depends on."""
    model_type = raw.get("model_type")
    if model_type not in DEFAULTS:
        model_type = "roberta"  # --family roberta on a config of another (or no) model type
    cfg = with_defaults(DEFAULTS[model_type], raw)
    cfg["model_type"] = model_type
    check_bert_fields(cfg, source)
    cfg["num_labels"] = num_labels(raw, source)
    # PreTrainedConfig checks problem_type against the labels it sees first: id2label's, else num_labels.
    id2label = raw.get("id2label")
    first = len(id2label) if isinstance(id2label, Mapping) else cfg["num_labels"]
    if raw.get("problem_type") == "single_label_classification" and first == 1:
        raise ConfigError(
            f"{source}: problem_type single_label_classification needs num_labels above 1, got 1; "
            "set num_labels=2 for a binary classifier or problem_type=regression"
        )
    check_heads_divide(cfg["hidden_size"], cfg["num_attention_heads"], source)
    # pad_token_id is the padding_idx of both the word and the position table (nn.Embedding refuses one
    # outside them).
    check_pad_token(cfg, source)
    pad = cfg["pad_token_id"]
    if pad is not None:
        p = cfg["max_position_embeddings"]
        if not -p <= pad < p:
            raise ConfigError(
                f"{source}: pad_token_id {pad} is also the padding row of the position table, which has only "
                f"max_position_embeddings {p} rows; set max_position_embeddings to at least {pad + 1} "
                f"(the released models use 512 + {pad} + 1 = {512 + pad + 1})"
            )
    cfg["dtype"] = config_dtype(raw)
    check_cross_attention(cfg, source)
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    prefix, kind = _split(model_class)
    V, P, T, H, I, C = (Poly.sym(s) for s in "VPTHIC")
    dt = cfg["dtype"]
    base = "" if kind == "Model" else "roberta."
    pooler = kind == "ForMultipleChoice" or (kind == "Model" and options.get("add_pooling_layer", True))
    head_first = prefix != "Roberta"  # XLMRoberta*/Camembert* build the head before self.roberta
    tied = cfg["tie_word_embeddings"]
    word = f"{base}embeddings.word_embeddings.weight"
    lm = kind in ("ForMaskedLM", "ForCausalLM")

    body: list[Tensor] = []
    e = f"{base}embeddings"
    if lm and tied and head_first:
        # The matrix was first reported as lm_head.decoder.weight; this name is the same Parameter.
        body.append(tensor(word, (V, H), dt, Kind.ALIAS, "lm_head.decoder.weight"))
    else:
        body.append(tensor(word, (V, H), dt))
    body.append(tensor(f"{e}.token_type_embeddings.weight", (T, H), dt))
    body += norm(f"{e}.LayerNorm", H, dt)
    body.append(tensor(f"{e}.position_embeddings.weight", (P, H), dt))
    for i in range(cfg["num_hidden_layers"]):
        body += bert_encoder_layer(f"{base}encoder.layer.{i}", H, I, dt, cross_attention=cfg["add_cross_attention"])
    if pooler:
        body += linear(f"{base}pooler.dense", H, H, dt)

    head: list[Tensor] = []
    if lm:
        # RobertaLMHead registers its own ``bias`` (V) first, then dense, layer_norm and decoder. Tied (the
        # default), the decoder's weight is the word-embedding matrix and its bias is that ``bias``.
        head.append(tensor("lm_head.bias", (V,), dt))
        head += linear("lm_head.dense", H, H, dt)
        head += norm("lm_head.layer_norm", H, dt)
        if not tied:
            head += linear("lm_head.decoder", V, H, dt)
        elif head_first:
            head.append(tensor("lm_head.decoder.weight", (V, H), dt))
            head.append(tensor("lm_head.decoder.bias", (V,), dt, Kind.ALIAS, "lm_head.bias"))
        else:
            head.append(tensor("lm_head.decoder.weight", (V, H), dt, Kind.ALIAS, word))
            head.append(tensor("lm_head.decoder.bias", (V,), dt, Kind.ALIAS, "lm_head.bias"))
    elif kind == "ForSequenceClassification":
        # RobertaClassificationHead: dense + tanh over the <s> token, then out_proj; no pooler.
        head += linear("classifier.dense", H, H, dt)
        head += linear("classifier.out_proj", C, H, dt)
    elif kind == "ForTokenClassification":
        head += linear("classifier", C, H, dt)
    elif kind == "ForQuestionAnswering":
        head += linear("qa_outputs", C, H, dt)
    elif kind == "ForMultipleChoice":
        head += linear("classifier", Poly.const(1), H, dt)

    out = head + body if head_first else body + head
    # Non-persistent buffers: not in state_dict, not parameters.
    out += id_buffers(e, "position_ids", "token_type_ids")
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = []
    prefix, kind = _split(model_class)
    expected = PREFIX[cfg["model_type"]]
    if prefix != expected:
        out.append(f"{model_class} is read with a {cfg['model_type']} config ({expected}* classes); "
                   "the tensors are the same, only the module order of the task classes differs")
    out += position_embedding_note(cfg)
    if kind == "ForCausalLM" and not cfg["is_decoder"]:
        out.append(decoder_note(model_class))
    if kind == "ForMaskedLM" and cfg["is_decoder"]:
        out.append(f"{model_class} is meant as a bidirectional encoder: transformers warns when is_decoder=true")
    if prefix != "Roberta" and kind in ("ForMaskedLM", "ForCausalLM") and cfg["tie_word_embeddings"]:
        out.append(
            f"{model_class} builds lm_head before roberta, so transformers names the shared V×H matrix "
            "lm_head.decoder.weight and roberta.embeddings.word_embeddings.weight is its alias: "
            "the matrix is counted under heads (with the embedding role)"
        )
    pad = cfg["pad_token_id"]
    if pad is not None and 0 <= pad and cfg["max_position_embeddings"] <= pad + 1:
        out.append(
            f"max_position_embeddings {cfg['max_position_embeddings']} leaves no position for a token: "
            f"positions start at pad_token_id + 1"
        )
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """What is particular to RoBERTa, in plain words, where it applies."""
    _, kind = _split(model_class)
    pad = cfg.get("pad_token_id")
    out = []
    if pad is not None and cfg["max_position_embeddings"] == 512 + pad + 1:
        out.append(
            f"P = {cfg['max_position_embeddings']} = 512 + {pad} + 1: positions are numbered from pad_token_id + 1 "
            f"= {pad + 1} (row {pad} is the padding row, rows below it are never used), so {512 + pad + 1} rows "
            "hold 512 tokens"
        )
    else:
        out.append(
            "P rows of positions: RoBERTa numbers positions from pad_token_id + 1, so a table of P rows allows "
            f"P - {(pad or 0) + 1} tokens (the released models have 514 = 512 + 1 + 1)"
        )
    if cfg["type_vocab_size"] == 1:
        out.append("T = 1: RoBERTa has no sentence-pair segments; its one token-type row is added to every token")
    out.append(
        "embeddings are V·H words + P·H positions + T·H token types + 2H for their LayerNorm; "
        "each layer is BERT's (4H² + 4H attention, HI + I and IH + H feed-forward, two LayerNorms)"
    )
    if kind in ("ForMaskedLM", "ForCausalLM"):
        if cfg["tie_word_embeddings"]:
            out.append(
                "the LM head is a transform of its own (dense H² + H, layer_norm 2H) and a decoder tied to the "
                "word embeddings (V×H counted once) with its own bias V (lm_head.bias): H² + 3H + V"
            )
        else:
            out.append("tie_word_embeddings is false: the LM decoder has its own V×H matrix and V bias")
    elif kind == "ForSequenceClassification":
        out.append(
            "the classification head is classifier.dense (H² + H) then classifier.out_proj (HC + C) on the <s> "
            "token; it replaces BERT's pooler, which this class does not build"
        )
    elif kind == "Model":
        if any(n.endswith("pooler.dense.weight") for n in names):
            out.append(
                "H² + H is the pooler (dense + tanh over <s>); the released checkpoints were saved from the "
                "MLM class and have no pooler weights, so transformers initialises it randomly"
            )
        out.append(
            "the released checkpoints are RobertaForMaskedLM: their LM head adds H² + 3H + V, its decoder "
            "tied to the word embeddings"
        )
    elif kind == "ForMultipleChoice":
        out.append("multiple choice keeps the pooler (H² + H) and scores each choice with one output (H + 1)")
    out.append(
        "position_ids and token_type_ids (1×P each, int64) are buffers, not parameters"
    )
    return out


def _preset(name: str, model_type: str, vocab: int, hidden: int, layers: int, heads: int, inter: int,
            published: str, origin: str, aliases: tuple[str, ...], nickname: str) -> Preset:
    config = {
        "model_type": model_type,
        "vocab_size": vocab,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": inter,
        "max_position_embeddings": 514,
        "type_vocab_size": 1,
        "pad_token_id": 1,
    }
    return Preset(name, config, published, origin, aliases=aliases, nickname=nickname,
                  model_class=f"{PREFIX[model_type]}Model")


_FAIRSEQ = "facebookresearch/fairseq examples/{}/README.md (# params); config.json of {} on the Hugging Face Hub"
PRESETS = (
    _preset("roberta-base", "roberta", 50265, 768, 12, 12, 3072, "125M",
            _FAIRSEQ.format("roberta", "FacebookAI/roberta-base"),
            ("FacebookAI/roberta-base", "roberta.base"), "RoBERTa-Base"),
    _preset("roberta-large", "roberta", 50265, 1024, 24, 16, 4096, "355M",
            _FAIRSEQ.format("roberta", "FacebookAI/roberta-large"),
            ("FacebookAI/roberta-large", "roberta.large"), "RoBERTa-Large"),
    _preset("xlm-roberta-base", "xlm-roberta", 250002, 768, 12, 12, 3072, "250M",
            _FAIRSEQ.format("xlmr", "FacebookAI/xlm-roberta-base"),
            ("FacebookAI/xlm-roberta-base", "xlmr.base"), "XLM-R Base"),
    _preset("xlm-roberta-large", "xlm-roberta", 250002, 1024, 24, 16, 4096, "560M",
            _FAIRSEQ.format("xlmr", "FacebookAI/xlm-roberta-large"),
            ("FacebookAI/xlm-roberta-large", "xlmr.large"), "XLM-R Large"),
    _preset("camembert-base", "camembert", 32005, 768, 12, 12, 3072, "110M",
            "camembert-model.fr and the fairseq CamemBERT README (# params 110M); "
            "config.json of almanach/camembert-base on the Hugging Face Hub",
            ("almanach/camembert-base", "camembert"), "CamemBERT-Base"),
)


FAMILY = declare(
    globals(),
    name="roberta",
    summary="padded positions (514), one token type, the LM head's own transform",
    fields=(*DEFAULTS["roberta"], *LABEL_AND_DTYPE_FIELDS),
    repeats={"encoder.layer": "L"},
    buffers=BERT_BUFFERS,
    model_types=MODEL_TYPES,
    default_class_for=lambda cfg: f"{PREFIX[cfg['model_type']]}Model",
)
