"""DistilBERT: config fields, the exact tensor list of every DistilBert* class, and name patterns.

Source of truth: transformers ``models/distilbert/modeling_distilbert.py`` and ``configuration_distilbert.py``
(v5). Every shape below is the one ``named_parameters()`` reports for a model built on the meta device;
tests compare them name by name.

DistilBERT is BERT-base with half the layers (6), no token-type embeddings and no pooler. Its config has
names of its own (``dim``, ``hidden_dim``, ``n_layers``, ``n_heads``) and reads the BERT names
(``hidden_size``, ``num_attention_heads``, ``num_hidden_layers``) through ``attribute_map``.
"""

from __future__ import annotations

import re
from typing import Any, Mapping

from ..errors import ConfigError
from ..inventory import Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol, need_bool, need_int
from .spec import declare
from .common import (LABELS, LABEL_AND_DTYPE_FIELDS, POSITIONS, VOCAB, check_heads_divide, check_model_class,
                     check_pad_token, config_dtype, count_layers, guess_heads, heads_note, id_buffers,
                     infer_embedding_tables, linear, norm, num_labels, tensor, tied_projection, with_defaults)

SYMBOLS = (
    VOCAB,
    POSITIONS,
    Symbol("H", "dim", "hidden size"),
    Symbol("I", "hidden_dim", "feed-forward size"),
    Symbol("L", "n_layers", "layers"),
    LABELS,
)

# transformers' DistilBertConfig defaults (v5). hidden_dim is 3072 whatever dim is (the default is the
# constant 4 * 768, not 4 * dim).
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 30522,
    "max_position_embeddings": 512,
    "sinusoidal_pos_embds": False,
    "n_layers": 6,
    "n_heads": 12,
    "dim": 768,
    "hidden_dim": 3072,
    "pad_token_id": 0,
    "tie_word_embeddings": True,
}

# DistilBertConfig.attribute_map: the BERT name -> DistilBERT's own field. When a config gives both, the
# BERT name wins (transformers sets it after the dataclass fields).
ALIASES: Mapping[str, str] = {
    "hidden_size": "dim",
    "num_attention_heads": "n_heads",
    "num_hidden_layers": "n_layers",
}

BASE = "DistilBertModel"
PREFIX = "distilbert."
MODEL_CLASSES = (
    "DistilBertModel",
    "DistilBertForMaskedLM",
    "DistilBertForSequenceClassification",
    "DistilBertForMultipleChoice",
    "DistilBertForTokenClassification",
    "DistilBertForQuestionAnswering",
)

# Canonical names (see ``canonical``) to group and role; first match wins.
_LAYER = r"encoder\.layer\.\d+"
RULES = (
    Rule(r"embeddings\.(word|position)_embeddings\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"embeddings\.LayerNorm\.(weight|bias)", Group.EMBEDDINGS, Role.NORM),
    Rule(r"embeddings\.position_ids", Group.EMBEDDINGS, Role.OTHER),  # a buffer
    Rule(_LAYER + r"\.attention\.(q|k|v|out)_lin\.(weight|bias)", Group.ENCODER, Role.ATTENTION),
    Rule(_LAYER + r"\.ffn\.lin[12]\.(weight|bias)", Group.ENCODER, Role.FFN),
    Rule(_LAYER + r"\.(sa|output)_layer_norm\.(weight|bias)", Group.ENCODER, Role.NORM),
    # Heads: everything in them has the head role, the MLM head's own LayerNorm included.
    Rule(r"vocab_(transform|layer_norm|projector)\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"(pre_classifier|classifier|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)


def canonical(name: str) -> str:
    """``distilbert.transformer.layer.0...`` -> ``encoder.layer.0...``; ``distilbert.embeddings...`` ->
    ``embeddings...``.

    Beyond the base-model prefix, the module ``transformer`` (DistilBERT's encoder, ``Transformer``) is named
    by its group, as BERT's ``encoder`` is: the run of layers then sits directly under the encoder group, so
    the tree and the formula read ``layer ×6`` with one layer's parts, as for BERT. Tensor names shown are
    always the real ones.
    """
    name = name[len(PREFIX):] if name.startswith(PREFIX) else name
    return "encoder." + name[len("transformer."):] if name.startswith("transformer.") else name


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults, apply the attribute_map aliases and check every field the count uses."""
    cfg = with_defaults(DEFAULTS, raw)
    for alias, own in ALIASES.items():
        if raw.get(alias) is not None:
            cfg[own] = raw[alias]
    for key in ("vocab_size", "dim", "n_heads", "hidden_dim", "max_position_embeddings"):
        need_int(cfg, key, source, minimum=1)
    need_int(cfg, "n_layers", source, minimum=0)
    for key in ("sinusoidal_pos_embds", "tie_word_embeddings"):
        need_bool(cfg, key, source)
    # Read back through attribute_map, as transformers does: config.hidden_size is config.dim.
    for alias, own in ALIASES.items():
        cfg[alias] = cfg[own]
    cfg["num_labels"] = num_labels(raw, source)
    check_heads_divide(cfg["dim"], cfg["n_heads"], source, hidden="dim", heads="n_heads",
                       why=" (DistilBERT refuses it)")
    check_pad_token(cfg, source)
    cfg["dtype"] = config_dtype(raw)
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    if model_class == "DistilBertForQuestionAnswering" and cfg["num_labels"] != 2:
        raise ConfigError(
            f"DistilBertForQuestionAnswering: num_labels must be 2 (start and end logits), got {cfg['num_labels']} "
            "(transformers refuses it); set num_labels=2"
        )
    V, P, H, I, C = (Poly.sym(s) for s in "VPHIC")
    one = Poly.const(1)
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else PREFIX

    out: list[Tensor] = []
    e = f"{prefix}embeddings"
    # sinusoidal_pos_embds only changes how position_embeddings is initialised: it is a P×H parameter either way.
    out += [tensor(f"{e}.word_embeddings.weight", (V, H), dt),
            tensor(f"{e}.position_embeddings.weight", (P, H), dt)]
    out += norm(f"{e}.LayerNorm", H, dt)
    for i in range(cfg["n_layers"]):
        layer = f"{prefix}transformer.layer.{i}"
        for proj in ("q_lin", "k_lin", "v_lin", "out_lin"):
            out += linear(f"{layer}.attention.{proj}", H, H, dt)
        out += norm(f"{layer}.sa_layer_norm", H, dt)
        out += linear(f"{layer}.ffn.lin1", I, H, dt)
        out += linear(f"{layer}.ffn.lin2", H, I, dt)
        out += norm(f"{layer}.output_layer_norm", H, dt)
    if model_class == "DistilBertForMaskedLM":
        out += linear("vocab_transform", H, H, dt)
        out += norm("vocab_layer_norm", H, dt)
        # _tied_weights_keys: vocab_projector.weight is the word-embedding matrix; its bias is its own.
        out += tied_projection("vocab_projector", H, dt, tied=cfg["tie_word_embeddings"],
                               word=f"{e}.word_embeddings.weight")
    if model_class == "DistilBertForSequenceClassification":
        out += linear("pre_classifier", H, H, dt)
        out += linear("classifier", C, H, dt)
    if model_class == "DistilBertForMultipleChoice":
        out += linear("pre_classifier", H, H, dt)
        out += linear("classifier", one, H, dt)
    if model_class == "DistilBertForTokenClassification":
        out += linear("classifier", C, H, dt)
    if model_class == "DistilBertForQuestionAnswering":
        out += linear("qa_outputs", C, H, dt)
    # A non-persistent buffer: transformers 5 leaves it out of state_dict; older checkpoints may store it.
    out += id_buffers(e, "position_ids")
    return out


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not a DistilBERT.

    DistilBERT-only names are required: ``transformer.layer.N.attention.q_lin`` (canonical
    ``encoder.layer.N.attention.q_lin``) or one of its heads
    (``vocab_transform``, ``vocab_projector``, ``pre_classifier``). The head count does not change the
    count, so it is taken as H/64 when that divides.
    """
    word = shapes.get("embeddings.word_embeddings.weight")
    if word is None or len(word) != 2:
        return None
    own = any(re.match(r"encoder\.layer\.\d+\.attention\.q_lin\.", n) for n in shapes)
    heads = any(n.startswith(("vocab_transform.", "vocab_projector.", "pre_classifier.")) for n in shapes)
    if not (own or heads) or "embeddings.token_type_embeddings.weight" in shapes:
        return None
    V, H = word
    cfg: dict[str, Any] = {"model_type": "distilbert", "vocab_size": V, "dim": H}
    notes: list[str] = []
    infer_embedding_tables(shapes, cfg)  # the position table's rows (there is no token-type table)
    cfg["n_layers"] = count_layers(shapes, r"encoder\.layer\.(\d+)\.")
    lin1 = shapes.get("encoder.layer.0.ffn.lin1.weight")
    if lin1 and len(lin1) == 2:
        cfg["hidden_dim"] = lin1[0]
    n_heads = guess_heads(H)
    # Given under its attribute_map name, which reconciliation knows is not in the weights.
    cfg["num_attention_heads"] = n_heads
    notes.append(heads_note("n_heads", n_heads))
    classifier = shapes.get("classifier.weight")
    if any(n.startswith(("vocab_transform.", "vocab_layer_norm.", "vocab_projector.")) for n in shapes):
        cls = "DistilBertForMaskedLM"
        if "vocab_projector.weight" in shapes:
            cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
    elif "qa_outputs.weight" in shapes:
        cls = "DistilBertForQuestionAnswering"
        classifier = shapes["qa_outputs.weight"]
    elif "pre_classifier.weight" in shapes:
        multiple = classifier is not None and classifier[0] == 1
        cls = "DistilBertForMultipleChoice" if multiple else "DistilBertForSequenceClassification"
    elif classifier is not None:
        cls = "DistilBertForTokenClassification"
    else:
        cls = BASE
    if classifier is not None and len(classifier) == 2 and cls != "DistilBertForMultipleChoice":
        cfg["num_labels"] = classifier[0]
    return cfg, cls, notes


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = []
    inter = cfg.get("intermediate_size")
    if inter is not None and inter != cfg["hidden_dim"]:
        out.append(
            f"intermediate_size {inter!r} is not a DistilBERT field and transformers ignores it; "
            f"the feed-forward size is hidden_dim ({cfg['hidden_dim']})"
        )
    if cfg.get("type_vocab_size") not in (None, 0):
        out.append("type_vocab_size is ignored: DistilBERT has no token-type embeddings")
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """DistilBERT against the BERT count people know, in plain words."""
    out = [
        "embeddings: word and position tables and a LayerNorm, (V + P + 2)·H; DistilBERT has no token-type "
        "table (BERT's T·H)",
        "per layer: 4H² + 4H are q_lin, k_lin, v_lin and out_lin, HI + I and IH + H the feed-forward "
        "(ffn.lin1, ffn.lin2), 2H + 2H sa_layer_norm and output_layer_norm: the same block as a BERT layer",
    ]
    if cfg["n_layers"] == 6:
        out.append("L = 6: half of BERT-base's 12 layers")
    out.append(
        "no pooler: DistilBertModel ends at the last layer; the sequence-classification head's pre_classifier "
        "(H² + H) takes the pooler's place"
    )
    if "vocab_projector.bias" in names:
        if cfg["tie_word_embeddings"]:
            out.append(
                "the MLM head: vocab_transform (H² + H), vocab_layer_norm (2H), and vocab_projector, whose V×H "
                "weight is the word-embedding matrix itself (tied, adds nothing), so it adds only its bias (V)"
            )
        else:
            out.append("tie_word_embeddings is false: vocab_projector has its own V×H matrix beside its V bias")
    if cfg["sinusoidal_pos_embds"]:
        out.append(
            "sinusoidal_pos_embds: the position table is filled with fixed sines and cosines, but in "
            "transformers 5 it is still a P×H parameter (trainable), so it counts"
        )
    out.append(
        "position_ids (1×P, int64) is a buffer, not a parameter; a loop over state_dict() counts it wherever "
        "a checkpoint stores it"
    )
    return out


# distilbert/distilbert-base-uncased on the Hugging Face Hub, config.json: dim 768, hidden_dim 3072,
# n_layers 6, n_heads 12, vocab_size 30522, max_position_embeddings 512, sinusoidal_pos_embds false,
# pad_token_id 0, architectures DistilBertForMaskedLM.
PRESETS = (
    # The class is DistilBertModel: the paper's "66M" is the encoder (66,362,880); the hub checkpoint's
    # DistilBertForMaskedLM adds the MLM head (66,985,530).
    Preset(
        "distilbert-base-uncased",
        {
            "model_type": "distilbert",
            "vocab_size": 30522,
            "dim": 768,
            "hidden_dim": 3072,
            "n_layers": 6,
            "n_heads": 12,
            "max_position_embeddings": 512,
            "sinusoidal_pos_embds": False,
            "pad_token_id": 0,
        },
        "66M",
        "DistilBERT paper (Sanh et al. 2019, Table 3: 66M parameters); config.json of "
        "distilbert/distilbert-base-uncased on the Hugging Face Hub",
        aliases=("distilbert/distilbert-base-uncased",),
        nickname="DistilBERT base uncased",
        model_class=BASE,
    ),
)


FAMILY = declare(
    globals(),
    name="distilbert",
    summary="no token types, no pooler, its own config names",
    fields=(*DEFAULTS, *ALIASES, *LABEL_AND_DTYPE_FIELDS),
    repeats={"encoder.layer": "L"},
    buffers=r"embeddings\.position_ids",
)
