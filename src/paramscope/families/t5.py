"""T5: config fields, the exact tensor list of every T5 class, and name patterns.

Source of truth: transformers ``models/t5/configuration_t5.py`` and ``modeling_t5.py`` (v5). Every shape
below is the one ``named_parameters()`` reports for the model built on the meta device; tests compare them
name by name.

T5 is an encoder-decoder: one embedding matrix ``shared`` that both stacks read (``encoder.embed_tokens``
and ``decoder.embed_tokens`` are the same Parameter), encoder blocks of self-attention and feed-forward,
decoder blocks with a cross-attention between them, no biases anywhere in the body, RMS-style layer norms
with a weight only, and a relative attention bias (buckets x heads) in the first block of each stack only.
The encoder has ``L = num_layers`` blocks, the decoder ``M = num_decoder_layers`` (M defaults to L), so the
tree prints block 0 and then ``(L - 1)`` or ``(M - 1)`` identical blocks.
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
from .common import (LABELS, LABEL_AND_DTYPE_FIELDS, VOCAB, check_model_class, config_dtype, guess_heads, linear,
                     num_labels, tensor)

SYMBOLS = (
    VOCAB,
    Symbol("H", "d_model", "model width"),
    Symbol("I", "d_ff", "feed-forward size"),
    Symbol("A", "num_heads", "attention heads"),
    Symbol("D", "d_kv", "size of each head"),
    Symbol("B", "relative_attention_num_buckets", "relative-position buckets"),
    Symbol("L", "num_layers", "encoder blocks"),
    Symbol("M", "num_decoder_layers", "decoder blocks"),
    LABELS,
)

# transformers' T5Config defaults (v5), for fields a config.json leaves out. num_decoder_layers None means
# "as many as num_layers".
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 32128,
    "d_model": 512,
    "d_kv": 64,
    "d_ff": 2048,
    "num_layers": 6,
    "num_decoder_layers": None,
    "num_heads": 8,
    "relative_attention_num_buckets": 32,
    "feed_forward_proj": "relu",
    "is_decoder": False,
    "tie_word_embeddings": True,
}

# T5Config.attribute_map: a config may use the generic names; when both spellings are given the generic one
# wins (it is set after the dataclass fields).
ALIASES: Mapping[str, str] = {
    "hidden_size": "d_model",
    "num_attention_heads": "num_heads",
    "num_hidden_layers": "num_layers",
    "head_dim": "d_kv",
}

# transformers.activations.ACT2CLS (v5.24): the activations a T5 feed-forward can look up; any other name
# fails when the model is built (KeyError in ACT2FN).
ACTIVATIONS = frozenset({
    "gelu", "gelu_10", "gelu_accurate", "gelu_fast", "gelu_new", "gelu_python", "gelu_python_tanh",
    "gelu_pytorch_tanh", "hardswish", "laplace", "leaky_relu", "linear", "mish", "prelu", "quick_gelu", "relu",
    "relu2", "relu6", "sigmoid", "silu", "sqrtsoftplus", "swish", "tanh", "xielu",
})

BASE = "T5Model"
GENERATION = "T5ForConditionalGeneration"
LEGACY_GENERATION = "T5WithLMHeadModel"  # transformers 2's name; t5-small's config.json still says it
MODEL_CLASSES = (
    "T5Model",
    "T5ForConditionalGeneration",
    "T5EncoderModel",
    "T5ForSequenceClassification",
    "T5ForTokenClassification",
    "T5ForQuestionAnswering",
    LEGACY_GENERATION,
)
# Classes without a decoder: T5EncoderModel, and T5ForTokenClassification built on it.
ENCODER_ONLY = {"T5EncoderModel", "T5ForTokenClassification"}
# Classes that keep the base model under ``transformer.``.
PREFIXED = {"T5ForSequenceClassification", "T5ForTokenClassification"}
LABEL_CLASSES = {"T5ForSequenceClassification", "T5ForTokenClassification", "T5ForQuestionAnswering"}

_ATTN = r"(SelfAttention|EncDecAttention)\.(q|k|v|o|relative_attention_bias)\.weight"
_FFN = r"DenseReluDense\.(wi|wi_0|wi_1|wo)\.weight"

# Classification is data: canonical names (``transformer.`` removed; shared/embed_tokens under
# ``embeddings.``, the final norms under ``final_norm.``) to group and role; first match wins.
RULES = (
    Rule(r"embeddings\.shared\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"embeddings\.(encoder|decoder)\.embed_tokens\.weight", Group.EMBEDDINGS, Role.EMBEDDING),  # tied
    Rule(rf"encoder\.block\.\d+\.layer_\d+\.{_ATTN}", Group.ENCODER, Role.ATTENTION),
    Rule(rf"encoder\.block\.\d+\.layer_\d+\.{_FFN}", Group.ENCODER, Role.FFN),
    Rule(r"encoder\.block\.\d+\.layer_\d+\.layer_norm\.weight", Group.ENCODER, Role.NORM),
    # Older checkpoints also store decoder.block.0.layer.1.EncDecAttention.relative_attention_bias, which
    # transformers ignores on load: still the decoder's attention.
    Rule(rf"decoder\.block\.\d+\.layer_\d+\.{_ATTN}", Group.DECODER, Role.ATTENTION),
    Rule(rf"decoder\.block\.\d+\.layer_\d+\.{_FFN}", Group.DECODER, Role.FFN),
    Rule(r"decoder\.block\.\d+\.layer_\d+\.layer_norm\.weight", Group.DECODER, Role.NORM),
    Rule(r"final_norm\.(encoder|decoder)\.final_layer_norm\.weight", Group.FINAL_NORM, Role.NORM),
    Rule(r"lm_head\.weight", Group.HEADS, Role.HEAD),
    Rule(r"classification_head\.(dense|out_proj)\.(weight|bias)", Group.HEADS, Role.HEAD),
    Rule(r"(classifier|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)

_EMBED = re.compile(r"(encoder|decoder)\.embed_tokens\.weight")
_FINAL = re.compile(r"(encoder|decoder)\.final_layer_norm\.weight")
_SUBLAYER = re.compile(r"((?:encoder|decoder)\.block\.\d+)\.layer\.(\d+)\.")


def canonical(name: str) -> str:
    """``transformer.encoder.final_layer_norm.weight`` -> ``final_norm.encoder.final_layer_norm.weight``.

    The first component is the group, so the tree reads embeddings / encoder / decoder / final_norm / heads.
    A block's sub-layers ``layer.0``, ``layer.1`` become ``layer_0``, ``layer_1``: a block then has two or
    three children, so the tree keeps block 0 (which alone has the relative attention bias) as "block 0"
    instead of merging it with its one ``layer`` child.
    """
    name = name.removeprefix("transformer.")
    if name == "shared.weight" or _EMBED.fullmatch(name):
        return f"embeddings.{name}"
    if _FINAL.fullmatch(name):
        return f"final_norm.{name}"
    return _SUBLAYER.sub(r"\1.layer_\2.", name, count=1)


def _one_of(cfg: Mapping[str, Any], key: str, source: str) -> str:
    value = cfg[key]
    if not isinstance(value, str):
        raise ConfigError(f"{source}: {key} must be a string such as \"relu\" or \"gated-gelu\", got {value!r}")
    return value


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' defaults, apply T5Config's field handling and check every field the count needs."""
    given = {k: v for k, v in raw.items() if v is not None or k == "num_decoder_layers"}
    cfg = {**DEFAULTS, **given}
    # T5Config.__post_init__ sets num_decoder_layers from num_layers *before* the generic aliases are
    # applied: {"num_hidden_layers": 2} gives a 2-block encoder and a 6-block decoder.
    if cfg["num_decoder_layers"] is None:
        cfg["num_decoder_layers"] = cfg["num_layers"]
    for alias, field in ALIASES.items():
        if alias in cfg:
            cfg[field] = cfg.pop(alias)
    for key in ("vocab_size", "d_model", "d_kv", "d_ff", "num_heads", "relative_attention_num_buckets"):
        need_int(cfg, key, source, minimum=1)
    for key in ("num_layers", "num_decoder_layers"):
        need_int(cfg, key, source, minimum=0)
    need_bool(cfg, "is_decoder", source)

    # feed_forward_proj: "relu" or "gated-<act>" (T5Config.validate_architecture); the activation must be one
    # transformers knows when the model is built.
    proj = _one_of(cfg, "feed_forward_proj", source)
    parts = proj.split("-")
    if (len(parts) > 1 and parts[0] != "gated") or len(parts) > 2:
        raise ConfigError(
            f"{source}: feed_forward_proj {proj!r} is not an activation transformers accepts; "
            "write \"ACT\" or \"gated-ACT\", e.g. \"relu\" (T5) or \"gated-gelu\" (T5 v1.1)"
        )
    gated = parts[0] == "gated"
    act = "gelu_new" if proj == "gated-gelu" else parts[-1]
    # A config saved by transformers stores is_gated_act and dense_act_fn too; set after feed_forward_proj
    # is read, they are what the model is built from.
    if raw.get("is_gated_act") is not None:
        cfg["is_gated_act"] = raw["is_gated_act"]
        need_bool(cfg, "is_gated_act", source)
        gated = cfg["is_gated_act"]
    if raw.get("dense_act_fn") is not None:
        act = _one_of(cfg, "dense_act_fn", source)
    if act not in ACTIVATIONS:
        field = "dense_act_fn" if raw.get("dense_act_fn") is not None else "feed_forward_proj"
        raise ConfigError(
            f"{source}: {field} {cfg[field]!r} names activation {act!r}, which transformers does not have; "
            "use e.g. \"relu\", \"gated-gelu\" or \"gated-silu\""
        )
    cfg["is_gated_act"], cfg["dense_act_fn"] = gated, act

    # T5Config keeps the given tie_word_embeddings only as scale_decoder_outputs and sets it to True: the
    # model built from a config always ties lm_head to shared (see notes()).
    tie = cfg["tie_word_embeddings"]
    if not isinstance(tie, bool):
        raise ConfigError(f"{source}: tie_word_embeddings must be true or false, got {tie!r}")
    scale = raw.get("scale_decoder_outputs")
    cfg["scale_decoder_outputs"] = scale if isinstance(scale, bool) else tie is not False

    cfg["num_labels"] = num_labels(raw, source)
    cfg["dtype"] = config_dtype(raw)
    return cfg


def _stack(prefix: str, blocks: int, cross: bool, cfg: Mapping[str, Any], shared: str) -> list[Tensor]:
    """A T5Stack: embed_tokens (tied to shared), the blocks, the final layer norm."""
    V, H, I, A, D, B = (Poly.sym(s) for s in "VHIADB")
    dt = cfg["dtype"]
    # _keep_in_fp32_modules = ["wo"]: loaded in float16, the feed-forward output stays float32.
    wo_dt = "float32" if dt == "float16" else dt
    inner = A * D
    out = [tensor(f"{prefix}.embed_tokens.weight", (V, H), dt, Kind.ALIAS, shared)]
    for i in range(blocks):
        block = f"{prefix}.block.{i}.layer"
        sub = [("SelfAttention", i == 0)] + ([("EncDecAttention", False)] if cross else [])
        for j, (attn, relative) in enumerate(sub):
            a = f"{block}.{j}.{attn}"
            out += [tensor(f"{a}.q.weight", (inner, H), dt), tensor(f"{a}.k.weight", (inner, H), dt),
                    tensor(f"{a}.v.weight", (inner, H), dt), tensor(f"{a}.o.weight", (H, inner), dt)]
            if relative:
                out.append(tensor(f"{a}.relative_attention_bias.weight", (B, A), dt))
            out.append(tensor(f"{block}.{j}.layer_norm.weight", (H,), dt))
        f = f"{block}.{len(sub)}.DenseReluDense"
        if cfg["is_gated_act"]:
            out += [tensor(f"{f}.wi_0.weight", (I, H), dt), tensor(f"{f}.wi_1.weight", (I, H), dt)]
        else:
            out.append(tensor(f"{f}.wi.weight", (I, H), dt))
        out.append(tensor(f"{f}.wo.weight", (H, I), wo_dt))
        out.append(tensor(f"{block}.{len(sub)}.layer_norm.weight", (H,), dt))
    out.append(tensor(f"{prefix}.final_layer_norm.weight", (H,), dt))
    return out


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter and tied alias of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    V, H, C = (Poly.sym(s) for s in "VHC")
    dt = cfg["dtype"]
    p = "transformer." if model_class in PREFIXED else ""
    shared = f"{p}shared.weight"
    out = [tensor(shared, (V, H), dt)]
    if model_class in ENCODER_ONLY:
        # T5EncoderModel hands its config to the stack as it is: is_decoder=true gives the encoder blocks a
        # cross-attention. T5Model copies the config and sets is_decoder itself.
        out += _stack(f"{p}encoder", cfg["num_layers"], cfg["is_decoder"], cfg, shared)
    else:
        out += _stack(f"{p}encoder", cfg["num_layers"], False, cfg, shared)
        out += _stack(f"{p}decoder", cfg["num_decoder_layers"], True, cfg, shared)
    if model_class in (GENERATION, LEGACY_GENERATION):
        if cfg["tie_word_embeddings"]:
            out.append(tensor("lm_head.weight", (V, H), dt, Kind.ALIAS, shared))
        else:
            # T5 v1.1: tie_word_embeddings false; its checkpoints store their own lm_head and from_pretrained
            # keeps it (transformers 5's T5Config forces the flag to true on construction, so a model built
            # from the config alone ties them; from_pretrained unties them when the checkpoint's two matrices
            # differ). The count is the checkpoint's: V·H more.
            out.append(tensor("lm_head.weight", (V, H), dt))
    elif model_class == "T5ForSequenceClassification":
        out += linear("classification_head.dense", H, H, dt) + linear("classification_head.out_proj", C, H, dt)
    elif model_class == "T5ForTokenClassification":
        out += linear("classifier", C, H, dt)
    elif model_class == "T5ForQuestionAnswering":
        out += linear("qa_outputs", C, H, dt)
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out = []
    if model_class == LEGACY_GENERATION:
        out.append("T5WithLMHeadModel is transformers 2's name for T5ForConditionalGeneration; counted as that")
    if model_class in (GENERATION, LEGACY_GENERATION) and not cfg["tie_word_embeddings"]:
        n = cfg["vocab_size"] * cfg["d_model"]
        out.append(
            f"tie_word_embeddings is false (T5 v1.1): lm_head is a matrix of its own, V·H = {n:,} parameters, as "
            "the checkpoints store it and from_pretrained loads it. transformers 5's T5Config forces the flag to "
            "true on construction (keeping it as scale_decoder_outputs), so T5ForConditionalGeneration(config) "
            "alone ties lm_head to shared and counts V·H less; from_pretrained unties them, with a warning, "
            "when the checkpoint's two matrices differ"
        )
    proj = cfg["feed_forward_proj"]
    if cfg["is_gated_act"] != proj.startswith("gated-"):
        out.append(
            f"is_gated_act {str(cfg['is_gated_act']).lower()} in the config overrides feed_forward_proj {proj!r}: "
            f"the feed-forward is {'gated (wi_0, wi_1)' if cfg['is_gated_act'] else 'plain (wi)'}"
        )
    if cfg["dtype"] == "float16":
        out.append("float16: transformers keeps every DenseReluDense.wo in float32 (_keep_in_fp32_modules)")
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """T5's structure in plain words, said where it applies."""
    p = "transformer." if model_class in PREFIXED else ""
    gated = cfg["is_gated_act"]
    encoder_only = model_class in ENCODER_ONLY
    out = [
        f"{model_class} keeps only the encoder: L blocks and no decoder" if encoder_only else
        "an encoder-decoder: L encoder blocks and M decoder blocks (M is num_decoder_layers, L when unset); "
        "each decoder block has a cross-attention (EncDecAttention) over the encoder's output",
        ("one shared V×H embedding: encoder.embed_tokens is the same matrix (tied)" if encoder_only else
         "one shared V×H embedding: encoder.embed_tokens and decoder.embed_tokens are the same matrix (tied)")
        + ", and no position embeddings at all",
        "positions come from a relative attention bias, B buckets × A heads, only in the first block of each "
        "stack (block 0, SelfAttention); the other blocks reuse it, so they are counted as "
        + ("(L − 1)" if encoder_only else "(L − 1) and (M − 1)"),
        "no biases anywhere in the body: q, k, v are A·D × H (A·D need not equal H), o is H × A·D, so each "
        "attention (self or cross) is 4·H·A·D",
        "layer norms are RMS-style with a weight only (H each): one before every sub-layer, plus a final "
        "layer norm at the end of each stack",
        ("the feed-forward is gated (T5 v1.1, gated-gelu): wi_0 and wi_1 (I×H each) and wo (H×I), 3HI"
         if gated else
         "the feed-forward is wi (I×H) and wo (H×I), 2HI; T5 v1.1 (gated-gelu) has wi_0 and wi_1 instead of "
         "wi, 3HI"),
    ]
    if "lm_head.weight" in names:
        if cfg["tie_word_embeddings"] and cfg["scale_decoder_outputs"]:
            out.append(
                "lm_head is the shared matrix itself (tied, adds nothing); as in T5 v1.0 the decoder output is "
                "scaled by H^-0.5 before it"
            )
        elif cfg["tie_word_embeddings"]:
            out.append(
                "lm_head is the shared matrix itself (tied, adds nothing); scale_decoder_outputs is false, so "
                "there is no H^-0.5 scaling (a T5 v1.1 config saved by transformers 5)"
            )
        else:
            out.append(
                "T5 v1.1 unties lm_head (tie_word_embeddings false, no H^-0.5 scaling): a V×H matrix of its own, "
                "as its checkpoints store it and from_pretrained loads it (a model built from the config alone "
                "by transformers 5 ties it)"
            )
    if "classification_head.out_proj.weight" in names:
        out.append("the classification head is a dense H×H + H and an output C×H + C, over the decoder's "
                   "last (end-of-sequence) state")
    if f"{p}encoder.block.0.layer.1.EncDecAttention.q.weight" in names:
        out.append("is_decoder is true: T5EncoderModel gives its encoder blocks a cross-attention too")
    return out


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not a T5.

    Needs the shared embedding and T5's own block or final-norm names. The heads are exact when the
    relative attention bias is stored (its second size is the head count).
    """
    shared = (shapes.get("embeddings.shared.weight") or shapes.get("embeddings.encoder.embed_tokens.weight")
              or shapes.get("embeddings.decoder.embed_tokens.weight"))
    if shared is None or len(shared) != 2:
        return None
    blocks: dict[str, set[int]] = {"encoder": set(), "decoder": set()}
    for n in shapes:
        m = re.match(r"(encoder|decoder)\.block\.(\d+)\.layer_\d+\.(SelfAttention|EncDecAttention|DenseReluDense"
                     r"|layer_norm)\.", n)
        if m:
            blocks[m.group(1)].add(int(m.group(2)))
    finals = {s for s in ("encoder", "decoder") if f"final_norm.{s}.final_layer_norm.weight" in shapes}
    if not (blocks["encoder"] or blocks["decoder"] or finals):
        return None
    V, H = shared
    cfg: dict[str, Any] = {"model_type": "t5", "vocab_size": V, "d_model": H}
    notes: list[str] = []
    has_decoder = bool(blocks["decoder"]) or "decoder" in finals
    cfg["num_layers"] = max(blocks["encoder"]) + 1 if blocks["encoder"] else 0
    cfg["num_decoder_layers"] = max(blocks["decoder"]) + 1 if blocks["decoder"] else 0
    q = next((shapes[n] for n in shapes if re.fullmatch(r"(encoder|decoder)\.block\.\d+\.layer_0\.SelfAttention"
                                                          r"\.q\.weight", n)), None)
    bias = next((shapes[n] for n in shapes if re.fullmatch(r"(encoder|decoder)\.block\.0\.layer_0\.SelfAttention"
                                                             r"\.relative_attention_bias\.weight", n)), None)
    if bias is not None and len(bias) == 2:
        cfg["relative_attention_num_buckets"], heads = bias
    else:
        heads = None
    if q is not None and len(q) == 2:
        inner = q[0]
        if not heads or inner % heads:
            heads = guess_heads(inner)
            notes.append(f"num_heads is not in the weights (no relative attention bias); taken as {heads} "
                         "(it does not change the count of the projections)")
        cfg["num_heads"], cfg["d_kv"] = heads, inner // heads
    elif heads:
        cfg["num_heads"] = heads
    ffn = next((shapes[n] for n in shapes if re.fullmatch(r"(encoder|decoder)\.block\.\d+\.layer_\d+\.DenseReluDense"
                                                            r"\.(wi|wi_0)\.weight", n)), None)
    if ffn is not None and len(ffn) == 2:
        cfg["d_ff"] = ffn[0]
    if any(".DenseReluDense.wi_0." in n for n in shapes):
        cfg["feed_forward_proj"] = "gated-gelu"
        notes.append("the feed-forward is gated (wi_0, wi_1); its activation is not in the weights, taken as "
                     "gelu (T5 v1.1)")
    if "decoder.block.0.layer_1.EncDecAttention.relative_attention_bias.weight" in shapes:
        notes.append("decoder.block.0.layer.1.EncDecAttention.relative_attention_bias is stored (older "
                     "checkpoints); transformers ignores it on load")
    if "lm_head.weight" in shapes:
        cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
    labels = (shapes.get("classification_head.out_proj.weight") or shapes.get("classifier.weight")
              or shapes.get("qa_outputs.weight"))
    if "classification_head.out_proj.weight" in shapes:
        cls = "T5ForSequenceClassification"
    elif "qa_outputs.weight" in shapes:
        cls = "T5ForQuestionAnswering"
    elif "classifier.weight" in shapes:
        cls = "T5ForTokenClassification"
    elif "lm_head.weight" in shapes:
        cls = GENERATION
    elif has_decoder:
        cls = BASE
    else:
        cls = "T5EncoderModel"
    if cls in ENCODER_ONLY:
        if any(re.match(r"encoder\.block\.\d+\.layer_\d+\.EncDecAttention\.", n) for n in shapes):
            cfg["is_decoder"] = True
    elif not has_decoder:
        notes.append(f"{cls} needs a decoder, but the checkpoint has none")
    if labels is not None and len(labels) == 2:
        cfg["num_labels"] = labels[0]
    return cfg, cls, notes


# Published figures: the T5 paper (Raffel et al. 2020, section 3.7 / table 14) states "about 60 million"
# for Small and "about 220 million" for Base; the T5.1.1 release (released_checkpoints.md) states none.
_T5_ORIGIN = ("T5 paper (Raffel et al., JMLR 2020, section 3.7: Small ~60M, Base ~220M); config.json of "
              "google-t5/{0} on the Hugging Face Hub")
_V11_ORIGIN = ("google-research/text-to-text-transfer-transformer released_checkpoints.md (t5.1.1) and t5x "
               "t5_1_1/{1}.gin; config.json of google/t5-v1_1-{1} on the Hugging Face Hub")


def _config(d_model: int, d_ff: int, heads: int, layers: int, **extra: Any) -> dict[str, Any]:
    return {"model_type": "t5", "vocab_size": 32128, "d_model": d_model, "d_kv": 64, "d_ff": d_ff,
            "num_layers": layers, "num_heads": heads, "relative_attention_num_buckets": 32, **extra}


def _presets() -> list[Preset]:
    v11 = {"feed_forward_proj": "gated-gelu", "tie_word_embeddings": False}
    return [
        Preset("t5-small", _config(512, 2048, 8, 6), "60M", _T5_ORIGIN.format("t5-small"),
               aliases=("google-t5/t5-small",), nickname="T5-Small", model_class=GENERATION),
        Preset("t5-base", _config(768, 3072, 12, 12), "220M", _T5_ORIGIN.format("t5-base"),
               aliases=("google-t5/t5-base",), nickname="T5-Base", model_class=GENERATION),
        Preset("google/t5-v1_1-small", _config(512, 1024, 6, 8, num_decoder_layers=8, **v11), None,
               _V11_ORIGIN.format("t5-v1_1-small", "small"), aliases=("t5-v1_1-small",),
               nickname="T5.1.1-Small", model_class=GENERATION,
               notes=("transformers 5 ties lm_head when it builds the model; from_pretrained keeps the "
                      "checkpoint's own lm_head: 76,961,152",)),
        Preset("google/t5-v1_1-base", _config(768, 2048, 12, 12, num_decoder_layers=12, **v11), None,
               _V11_ORIGIN.format("t5-v1_1-base", "base"), aliases=("t5-v1_1-base",),
               nickname="T5.1.1-Base", model_class=GENERATION,
               notes=("transformers 5 ties lm_head when it builds the model; from_pretrained keeps the "
                      "checkpoint's own lm_head: 247,577,856",)),
    ]


FAMILY = declare(
    globals(),
    name="t5",
    summary="encoder and decoder, shared embedding, relative attention bias in the first block, gated FFN (v1.1)",
    fields=(*DEFAULTS, *ALIASES, "is_gated_act", "dense_act_fn", *LABEL_AND_DTYPE_FIELDS),
    repeats={"encoder.block": "L", "decoder.block": "M"},
    presets=_presets(),
)
