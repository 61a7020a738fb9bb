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

import re
from typing import Any, Mapping

from ..errors import ConfigError, UnknownArchitecture
from ..inventory import DTYPE_BYTES, Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol, need_bool, need_int

SYMBOLS = (
    Symbol("V", "vocab_size", "vocabulary size"),
    Symbol("P", "max_position_embeddings", "positions"),
    Symbol("T", "type_vocab_size", "token types"),
    Symbol("E", "embedding_size", "embedding size"),
    Symbol("H", "hidden_size", "hidden size"),
    Symbol("I", "intermediate_size", "feed-forward size"),
    Symbol("L", "num_hidden_layers", "layers"),
    Symbol("C", "num_labels", "labels of a classification head"),
)

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
_LAYER = r"encoder\.layer\.\d+\.(attention|crossattention)"
RULES = (
    Rule(r"embeddings\.(word|position|token_type)_embeddings\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"embeddings\.LayerNorm\.(weight|bias)", Group.EMBEDDINGS, Role.NORM),
    Rule(r"embeddings\.(position_ids|token_type_ids)", Group.EMBEDDINGS, Role.OTHER),  # buffers
    # The E -> H projection sits between the embeddings and the first layer (ElectraModel applies it to the
    # embeddings' output). It is counted with the embeddings, role embedding: without it the factorised
    # embedding would not reach the encoder's width, and it exists only because E != H. So "non-embedding"
    # parameters are the encoder's and the heads', as for BERT.
    Rule(r"embeddings_project\.(weight|bias)", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(_LAYER + r"\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
    Rule(_LAYER + r"\.(self\.(query|key|value)|output\.dense)\.(weight|bias)", Group.ENCODER, Role.ATTENTION),
    Rule(r"encoder\.layer\.\d+\.(intermediate|output)\.dense\.(weight|bias)", Group.ENCODER, Role.FFN),
    Rule(r"encoder\.layer\.\d+\.output\.LayerNorm\.(weight|bias)", Group.ENCODER, Role.NORM),
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
    cfg = {**DEFAULTS, **{k: v for k, v in raw.items() if v is not None or k == "pad_token_id"}}
    for key in ("vocab_size", "embedding_size", "hidden_size", "num_attention_heads", "intermediate_size",
                "max_position_embeddings"):
        need_int(cfg, key, source, minimum=1)
    need_int(cfg, "num_hidden_layers", source, minimum=0)
    need_int(cfg, "type_vocab_size", source, minimum=0)
    for key in ("is_decoder", "add_cross_attention", "tie_word_embeddings", "summary_use_proj"):
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
        # transformers skips its own check for ELECTRA (the config has embedding_size) and builds query,
        # key and value A·⌊H/A⌋ wide, which the attention output (H) cannot take: forward fails.
        lower = h - h % a
        raise ConfigError(
            f"{source}: hidden_size {h} is not a multiple of num_attention_heads {a} (the model would fail in "
            f"forward); set hidden_size to a multiple of {a} (e.g. {lower or a}) or change num_attention_heads"
        )
    pad = cfg["pad_token_id"]
    if pad is not None:
        if isinstance(pad, bool) or not isinstance(pad, int) or not -cfg["vocab_size"] <= pad < cfg["vocab_size"]:
            raise ConfigError(
                f"{source}: pad_token_id {pad!r} is not a token of the vocabulary (vocab_size {cfg['vocab_size']}); "
                "set pad_token_id below vocab_size"
            )
    if cfg["add_cross_attention"] and not cfg["is_decoder"]:
        raise ConfigError(
            f"{source}: add_cross_attention needs is_decoder; set is_decoder=true or add_cross_attention=false"
        )
    if cfg["summary_type"] == "attn":
        raise ConfigError(
            f"{source}: summary_type 'attn' is not implemented by transformers (ElectraForMultipleChoice raises); "
            "use 'first', 'last', 'mean' or 'cls_index'"
        )
    # config.json says "dtype" since transformers 5, "torch_dtype" before; bytes follow it.
    dtype = str(raw.get("dtype") or raw.get("torch_dtype") or "float32").removeprefix("torch.")
    cfg["dtype"] = dtype if dtype in DTYPE_BYTES else "float32"
    return cfg


def _t(name: str, expr: tuple[Poly, ...], dtype: str, kind: Kind = Kind.PARAMETER,
       tied_to: str | None = None) -> Tensor:
    # Shapes are filled in by the config source once the symbols have values.
    return Tensor(name=name, shape=(), dtype=dtype, kind=kind, tied_to=tied_to, expr=expr)


def _linear(name: str, out_dim: Poly, in_dim: Poly, dtype: str) -> list[Tensor]:
    return [_t(f"{name}.weight", (out_dim, in_dim), dtype), _t(f"{name}.bias", (out_dim,), dtype)]


def _norm(name: str, dim: Poly, dtype: str) -> list[Tensor]:
    return [_t(f"{name}.weight", (dim,), dtype), _t(f"{name}.bias", (dim,), dtype)]


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``model_class`` in module order (``named_parameters``)."""
    if model_class not in MODEL_CLASSES:
        raise UnknownArchitecture(
            f"no formula for model class {model_class!r}; supported: {', '.join(MODEL_CLASSES)}"
        )
    V, P, T, E, H, I, C = (Poly.sym(s) for s in "VPTEHIC")
    one = Poly.const(1)
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else PREFIX

    out: list[Tensor] = []
    e = f"{prefix}embeddings"
    out += [_t(f"{e}.word_embeddings.weight", (V, E), dt),
            _t(f"{e}.position_embeddings.weight", (P, E), dt),
            _t(f"{e}.token_type_embeddings.weight", (T, E), dt)]
    out += _norm(f"{e}.LayerNorm", E, dt)
    if cfg["embedding_size"] != cfg["hidden_size"]:
        out += _linear(f"{prefix}embeddings_project", H, E, dt)
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
    if model_class == "ElectraForPreTraining":  # the discriminator
        out += _linear("discriminator_predictions.dense", H, H, dt)
        out += _linear("discriminator_predictions.dense_prediction", one, H, dt)
    if model_class in GENERATOR_CLASSES:
        # ElectraGeneratorPredictions registers its LayerNorm before its dense layer.
        out += _norm("generator_predictions.LayerNorm", E, dt)
        out += _linear("generator_predictions.dense", E, H, dt)
        if cfg["tie_word_embeddings"]:
            # _tied_weights_keys: the output matrix is the word-embedding matrix; the bias is its own.
            out.append(_t("generator_lm_head.weight", (V, E), dt, Kind.ALIAS, f"{e}.word_embeddings.weight"))
            out.append(_t("generator_lm_head.bias", (V,), dt))
        else:
            out += _linear("generator_lm_head", V, E, dt)
    if model_class == "ElectraForSequenceClassification":
        out += _linear("classifier.dense", H, H, dt)
        out += _linear("classifier.out_proj", C, H, dt)
    if model_class == "ElectraForTokenClassification":
        out += _linear("classifier", C, H, dt)
    if model_class == "ElectraForQuestionAnswering":
        out += _linear("qa_outputs", C, H, dt)
    if model_class == "ElectraForMultipleChoice":
        if cfg["summary_use_proj"]:
            # ElectraSequenceSummary projects H to num_labels when summary_proj_to_labels (not an ElectraConfig
            # field: read with hasattr, taken as true or false like any Python value) and num_labels > 0, else to H.
            to_labels = bool(cfg.get("summary_proj_to_labels")) and cfg["num_labels"] > 0
            out += _linear("sequence_summary.summary", C if to_labels else H, H, dt)
        out += _linear("classifier", one, H, dt)
    # Non-persistent buffers: transformers 5 leaves them out of state_dict; older checkpoints may store them.
    out += [_t(f"{e}.position_ids", (one, P), "int64", Kind.BUFFER),
            _t(f"{e}.token_type_ids", (one, P), "int64", Kind.BUFFER)]
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
    for key, name in (("max_position_embeddings", "embeddings.position_embeddings.weight"),
                      ("type_vocab_size", "embeddings.token_type_embeddings.weight")):
        if name in shapes and len(shapes[name]) == 2:
            cfg[key] = shapes[name][0]
    project = shapes.get("embeddings_project.weight")
    query = shapes.get("encoder.layer.0.attention.self.query.weight")
    H = project[0] if project and len(project) == 2 else query[0] if query else E
    cfg["hidden_size"] = H
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
    out = []
    pet = cfg.get("position_embedding_type")
    if pet not in (None, "absolute"):
        out.append(
            f"position_embedding_type {pet!r} is ignored by transformers 5 (no distance embeddings); "
            "counted as absolute"
        )
    if model_class == "ElectraForCausalLM" and not cfg["is_decoder"]:
        out.append("ElectraForCausalLM is meant as a decoder: transformers warns unless is_decoder=true")
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


FAMILY = Family(
    name="electra",
    fields=(*DEFAULTS, "summary_proj_to_labels", "num_labels", "id2label", "dtype", "torch_dtype"),
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
    model_types=("electra",),
    presets=PRESETS,
)
