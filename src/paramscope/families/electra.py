"""ELECTRA: config fields, the exact tensor list of every Electra* class, and name patterns.

Source of truth: transformers ``models/electra/modeling_electra.py`` and ``configuration_electra.py`` (v5).
Every shape below is the one ``named_parameters()`` reports for a model built on the meta device; tests
compare them name by name.

ELECTRA's encoder is BERT's, layer for layer. What differs is before and after it: the embeddings are
``embedding_size`` (E) wide, and when E differs from ``hidden_size`` (H) a linear ``embeddings_project``
maps them up to H; there is no pooler; the pre-training heads are the discriminator's (one logit per
token: original or replaced) and the generator's (a small masked language model).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError
from ..inventory import Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol
from .spec import declare
from .common import (BERT_BUFFERS, BERT_EMBEDDING_RULES, BERT_FLAGS, BERT_LAYER_RULES, FEED_FORWARD, HIDDEN, LABELS,
                     LABEL_AND_DTYPE_FIELDS, LAYERS, POSITIONS, TOKEN_TYPES, VOCAB, bert_embeddings,
                     bert_encoder_layer, check_bert_fields, check_cross_attention, check_heads_divide,
                     check_model_class, check_pad_token, config_dtype, decoder_note, id_buffers, infer_bert_layers,
                     infer_embedding_tables, linear, norm, num_labels, position_embedding_note, tied_projection,
                     with_defaults)

SYMBOLS = (VOCAB, POSITIONS, TOKEN_TYPES, Symbol("E", "embedding_size", "embedding size"), HIDDEN, FEED_FORWARD,
           LAYERS, LABELS)

# transformers' ElectraConfig defaults (v5): the ELECTRA-Small discriminator.
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 30522,
    "embedding_size": 128,
    "hidden_size": 256,
    "num_hidden_layers": 12,
    "num_attention_heads": 4,
    "intermediate_size": 1024,
    "max_position_embeddings": 512,
    "type_vocab_size": 2,
    "summary_type": "first",
    "summary_use_proj": True,
    "pad_token_id": 0,
    "is_decoder": False,
    "add_cross_attention": False,
    "tie_word_embeddings": True,
}

BASE = "ElectraModel"
PREFIX = "electra."
MODEL_CLASSES = (
    "ElectraModel",
    "ElectraForPreTraining",
    "ElectraForMaskedLM",
    "ElectraForCausalLM",
    "ElectraForSequenceClassification",
    "ElectraForTokenClassification",
    "ElectraForQuestionAnswering",
    "ElectraForMultipleChoice",
)
GENERATOR_CLASSES = {"ElectraForMaskedLM", "ElectraForCausalLM"}

# Canonical names (``electra.`` removed) to group and role; first match wins.
RULES = (
    *BERT_EMBEDDING_RULES,
    # The E -> H projection sits between the embeddings and the first layer (ElectraModel applies it to the
    # embeddings' output). It is counted with the embeddings, role embedding: without it the factorised
    # embedding would not reach the encoder's width, and it exists only because E != H. So "non-embedding"
    # parameters are the encoder's and the heads', as for BERT.
    Rule(r"embeddings_project\.(weight|bias)", Group.EMBEDDINGS, Role.EMBEDDING),
    *BERT_LAYER_RULES,
    # Heads: everything in them has the head role, the generator's own LayerNorm included.
    Rule(r"discriminator_predictions\.(dense|dense_prediction)\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"generator_predictions\.(dense|LayerNorm)\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"generator_lm_head\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"classifier\.((dense|out_proj)\.)?(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"(qa_outputs|sequence_summary\.summary)\.(weight|bias)", Group.HEADS, Role.HEAD),
)


def canonical(name: str) -> str:
    """``electra.encoder.layer.0...`` -> ``encoder.layer.0...``."""
    return name[len(PREFIX):] if name.startswith(PREFIX) else name


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults and check every field the count depends on."""
    cfg = with_defaults(DEFAULTS, raw)
    check_bert_fields(cfg, source, sizes=("vocab_size", "embedding_size", "hidden_size", "num_attention_heads",
                                          "intermediate_size", "max_position_embeddings"),
                      flags=(*BERT_FLAGS, "summary_use_proj"))
    cfg["num_labels"] = num_labels(raw, source)
    # transformers skips its own check for ELECTRA (the config has embedding_size) and builds query, key
    # and value A·⌊H/A⌋ wide, which the attention output (H) cannot take: forward fails.
    check_heads_divide(cfg["hidden_size"], cfg["num_attention_heads"], source,
                       why=" (the model would fail in forward)")
    check_pad_token(cfg, source)
    check_cross_attention(cfg, source)
    if cfg["summary_type"] == "attn":
        raise ConfigError(
            f"{source}: summary_type 'attn' is not implemented by transformers (ElectraForMultipleChoice raises); "
            "use 'first', 'last', 'mean' or 'cls_index'"
        )
    cfg["dtype"] = config_dtype(raw)
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    E, H, I, C = (Poly.sym(s) for s in "EHIC")
    one = Poly.const(1)
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else PREFIX

    e = f"{prefix}embeddings"
    out = bert_embeddings(e, E, dt)
    if cfg["embedding_size"] != cfg["hidden_size"]:
        out += linear(f"{prefix}embeddings_project", H, E, dt)
    for i in range(cfg["num_hidden_layers"]):
        out += bert_encoder_layer(f"{prefix}encoder.layer.{i}", H, I, dt, cross_attention=cfg["add_cross_attention"])
    if model_class == "ElectraForPreTraining":  # the discriminator
        out += linear("discriminator_predictions.dense", H, H, dt)
        out += linear("discriminator_predictions.dense_prediction", one, H, dt)
    if model_class in GENERATOR_CLASSES:
        # ElectraGeneratorPredictions registers its LayerNorm before its dense layer.
        out += norm("generator_predictions.LayerNorm", E, dt)
        out += linear("generator_predictions.dense", E, H, dt)
        # _tied_weights_keys: the output matrix is the word-embedding matrix; the bias is its own.
        out += tied_projection("generator_lm_head", E, dt, tied=cfg["tie_word_embeddings"],
                               word=f"{e}.word_embeddings.weight")
    if model_class == "ElectraForSequenceClassification":
        out += linear("classifier.dense", H, H, dt)
        out += linear("classifier.out_proj", C, H, dt)
    if model_class == "ElectraForTokenClassification":
        out += linear("classifier", C, H, dt)
    if model_class == "ElectraForQuestionAnswering":
        out += linear("qa_outputs", C, H, dt)
    if model_class == "ElectraForMultipleChoice":
        if cfg["summary_use_proj"]:
            # ElectraSequenceSummary projects H to num_labels when summary_proj_to_labels (not an ElectraConfig
            # field: read with hasattr, taken as true or false like any Python value) and num_labels > 0, else to H.
            to_labels = bool(cfg.get("summary_proj_to_labels")) and cfg["num_labels"] > 0
            out += linear("sequence_summary.summary", C if to_labels else H, H, dt)
        out += linear("classifier", one, H, dt)
    # Non-persistent buffers: transformers 5 leaves them out of state_dict; older checkpoints may store them.
    out += id_buffers(e, "position_ids", "token_type_ids")
    return out


# Names only ELECTRA has (canonical): a checkpoint needs one of them to be taken for an ELECTRA ...
_OWN = ("embeddings_project.", "discriminator_predictions.", "generator_predictions.", "generator_lm_head.",
        "sequence_summary.", "classifier.out_proj.")
# ... or a task head at the top level beside the base model's names: the head classes keep the base model
# under ``electra.``, so a bare ``embeddings.*`` next to ``classifier.*`` or ``qa_outputs.*`` had that prefix.
_HEADS = ("classifier.weight", "qa_outputs.weight")


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not an ELECTRA.

    ELECTRA-only names are required (``embeddings_project``, a discriminator or generator head, the
    multiple-choice summary, the two-layer classification head) or a token or span classifier beside the
    prefixed base model. An ElectraModel saved on its own with E = H has exactly the names of a BertModel
    without its pooler and is not told apart. The head count does not change the count, so it is taken as
    H/64 when that divides.
    """
    word = shapes.get("embeddings.word_embeddings.weight")
    if word is None or len(word) != 2 or "embeddings.token_type_embeddings.weight" not in shapes:
        return None
    if not any(n.startswith(_OWN) for n in shapes) and not any(n in shapes for n in _HEADS):
        return None
    if any(n.startswith("pooler.") for n in shapes):
        return None
    V, E = word
    cfg: dict[str, Any] = {"model_type": "electra", "vocab_size": V, "embedding_size": E}
    notes: list[str] = []
    infer_embedding_tables(shapes, cfg)
    project = shapes.get("embeddings_project.weight")
    query = shapes.get("encoder.layer.0.attention.self.query.weight")
    H = project[0] if project and len(project) == 2 else query[0] if query else E
    cfg["hidden_size"] = H
    infer_bert_layers(shapes, cfg, notes, H)
    labels: tuple[int, ...] | None = None
    if any(n.startswith("discriminator_predictions.") for n in shapes):
        cls = "ElectraForPreTraining"
    elif any(n.startswith(("generator_predictions.", "generator_lm_head.")) for n in shapes):
        cls = "ElectraForCausalLM" if cfg.get("is_decoder") else "ElectraForMaskedLM"
        if "generator_lm_head.weight" in shapes:
            cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
    elif any(n.startswith("sequence_summary.") for n in shapes):
        cls = "ElectraForMultipleChoice"
        summary = shapes.get("sequence_summary.summary.weight")
        if summary is not None and len(summary) == 2 and summary[0] != H:
            cfg["summary_proj_to_labels"] = True
            labels = summary
    elif "classifier.out_proj.weight" in shapes:
        cls = "ElectraForSequenceClassification"
        labels = shapes["classifier.out_proj.weight"]
    elif "qa_outputs.weight" in shapes:
        cls = "ElectraForQuestionAnswering"
        labels = shapes["qa_outputs.weight"]
    elif "classifier.weight" in shapes:
        cls = "ElectraForTokenClassification"
        labels = shapes["classifier.weight"]
    else:
        cls = BASE
    if labels is not None and len(labels) == 2:
        cfg["num_labels"] = labels[0]
    return cfg, cls, notes


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = position_embedding_note(cfg)
    if model_class == "ElectraForCausalLM" and not cfg["is_decoder"]:
        out.append(decoder_note(model_class))
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """ELECTRA against the BERT count people know, in plain words."""
    prefix = "" if model_class == BASE else PREFIX
    out = []
    if f"{prefix}embeddings_project.weight" in names:
        width = "narrower than" if cfg["embedding_size"] < cfg["hidden_size"] else "wider than"
        out.append(
            f"embeddings: the tables are E = embedding_size wide, {width} the hidden size H, so they cost "
            "(V + P + T + 2)·E where BERT's cost (V + P + T + 2)·H; embeddings_project (EH + H) maps them to H "
            "before the first layer, and is counted with the embeddings"
        )
    else:
        out.append(
            "embeddings: embedding_size equals hidden_size (E = H), so there is no embeddings_project and the "
            "embeddings are BERT's, (V + P + T + 2)·E"
        )
    out.append(
        "per layer: the BERT layer, 4H² + 4H for Q, K, V and the attention output, HI + I and IH + H the "
        "feed-forward, 2H + 2H the two LayerNorms"
    )
    out.append("no pooler: ELECTRA has none (BERT-base's H² + H)")
    if "discriminator_predictions.dense.weight" in names:
        out.append(
            "the discriminator head (ElectraForPreTraining, the released model): dense (H² + H) and "
            "dense_prediction (H + 1), one logit per token saying whether it was replaced"
        )
    if "generator_lm_head.bias" in names:
        if cfg["tie_word_embeddings"]:
            tied = ("whose V×E weight is the word-embedding matrix itself (tied, adds nothing), so it adds only "
                    "its bias (V)")
        else:
            tied = "with its own V×E matrix (tie_word_embeddings is false) and V bias"
        out.append(
            "the generator head (a masked language model): generator_predictions maps H to E (EH + E) "
            f"and normalises (2E); generator_lm_head, {tied}"
        )
    if "discriminator_predictions.dense.weight" in names or "generator_lm_head.bias" in names:
        out.append(
            "generator and discriminator are two models, released as two checkpoints that each store their own "
            "embeddings; in pre-training the two shared their token embeddings (google-research/electra: "
            "untied_generator_embeddings is false by default)"
        )
    out.append(
        "position_ids and token_type_ids (1×P each, int64) are buffers, not parameters; a loop over "
        "state_dict() counts them wherever a checkpoint stores them"
    )
    return out


def _electra(embedding: int, hidden: int, layers: int, heads: int, inter: int) -> dict[str, Any]:
    return {
        "model_type": "electra",
        "vocab_size": 30522,
        "embedding_size": embedding,
        "hidden_size": hidden,
        "num_hidden_layers": layers,
        "num_attention_heads": heads,
        "intermediate_size": inter,
        "max_position_embeddings": 512,
        "type_vocab_size": 2,
        "pad_token_id": 0,
    }


_HUB = "google-research/electra README (Params); config.json of {} on the Hugging Face Hub"
# The class of each preset is the one its config.json names in architectures, the released model:
# ElectraForPreTraining for the discriminators (the model the README's 14M and 110M count, head included:
# 13,549,057 and 109,483,009; ElectraModel alone is 13,483,008 and 108,891,648) and ElectraForMaskedLM for the
# generator. The small generator has the discriminator's sizes: the README says ELECTRA-Small "did not use a
# small generator" (generator_hidden_size 1.0), and its model card calls the two "similar in size".
PRESETS = (
    Preset("google/electra-small-discriminator", _electra(128, 256, 12, 4, 1024), "14M",
           _HUB.format("google/electra-small-discriminator"), aliases=("electra-small-discriminator",),
           nickname="ELECTRA-Small", model_class="ElectraForPreTraining"),
    Preset("google/electra-base-discriminator", _electra(768, 768, 12, 12, 3072), "110M",
           _HUB.format("google/electra-base-discriminator"), aliases=("electra-base-discriminator",),
           nickname="ELECTRA-Base", model_class="ElectraForPreTraining"),
    Preset("google/electra-small-generator", _electra(128, 256, 12, 4, 1024), None,
           "config.json of google/electra-small-generator on the Hugging Face Hub; google-research/electra README "
           "(no separate figure for the generator)", aliases=("electra-small-generator",),
           nickname="ELECTRA-Small generator", model_class="ElectraForMaskedLM"),
)


FAMILY = declare(
    globals(),
    name="electra",
    summary="embedding_size with a projection; discriminator and generator heads",
    fields=(*DEFAULTS, "summary_proj_to_labels", *LABEL_AND_DTYPE_FIELDS),
    repeats={"encoder.layer": "L"},
    buffers=BERT_BUFFERS,
)
