"""Llama, Mistral and Qwen2: config fields, the exact tensor list of every class, and name patterns.

Source of truth: transformers ``models/{llama,mistral,qwen2}/modeling_*.py`` and their configuration
classes (v5). The three share one layout: ``model.embed_tokens``, ``model.layers.N`` (``self_attn`` with
``q/k/v/o_proj``, a SwiGLU ``mlp`` with ``gate/up/down_proj``, two RMSNorms), ``model.norm``,
``model.rotary_emb`` (buffers only) and a head. They differ in biases and in config defaults:

* Llama: ``attention_bias`` (all four projections) and ``mlp_bias`` are config fields, off by default;
  ``hidden_size`` must be a multiple of ``num_attention_heads`` even when ``head_dim`` is given.
* Mistral: no bias anywhere, whatever the config says; ``num_key_value_heads`` defaults to 8.
* Qwen2: q, k and v always have a bias, o_proj and the MLP never; ``head_dim`` is not a Qwen2Config
  field, but the attention reads it when a config.json carries it; ``num_key_value_heads`` defaults to 32.

``mixtral.py`` reuses the helpers here for the attention, norms, rotary buffers and heads.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigError
from ..inventory import Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Family, Group, Role, Rule, Symbol, need_bool, need_int
from .common import (FEED_FORWARD, HIDDEN, LABELS, LAYERS, VOCAB, check_heads_divide, check_pad_token, config_dtype,
                     count_layers, linear, num_labels, tensor, unknown_class)

SYMBOLS = (
    VOCAB,
    HIDDEN,
    FEED_FORWARD,
    LAYERS,
    Symbol("A", "num_attention_heads", "query heads"),
    Symbol("K", "num_key_value_heads", "key/value heads"),
    Symbol("D", "head_dim", "size of one head"),
    LABELS,
)

HEADS = ("Model", "ForCausalLM", "ForSequenceClassification", "ForTokenClassification", "ForQuestionAnswering")


@dataclass(frozen=True)
class ModelType:
    """What one ``model_type`` reads from a config and how its modules are built."""

    name: str  # model_type
    prefix: str  # class names: {prefix}Model, {prefix}ForCausalLM, ...
    config: str  # the transformers config class, for messages
    defaults: Mapping[str, Any]  # the config class's defaults for the fields read here
    optional: frozenset[str]  # fields the config class declares as ``int | None``
    # How head_dim is read: "config" (Llama: None -> H // A), "post" (Mistral: 0 or None -> H // A in the
    # modules, None -> H // A in the config), "or" (Mixtral: as "post" but the config keeps None), "attr"
    # (Qwen2: not a field; used when config.json has it).
    head_dim: str
    biases: str  # "config" (attention_bias, mlp_bias), "none", "qkv" (q, k, v only)
    qa_prefix: str = "model"  # base_model_prefix of {prefix}ForQuestionAnswering
    hidden_multiple: bool = False  # hidden_size % num_attention_heads checked by the config class
    strict_bools: tuple[str, ...] = ("tie_word_embeddings",)  # declared bool fields read here

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.prefix + h for h in HEADS)


_COMMON = {"vocab_size": 32000, "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
           "pad_token_id": None, "tie_word_embeddings": False}

TYPES: dict[str, ModelType] = {
    "llama": ModelType(
        "llama", "Llama", "LlamaConfig",
        {**_COMMON, "intermediate_size": 11008, "num_key_value_heads": None, "head_dim": None,
         "attention_bias": False, "mlp_bias": False},
        frozenset({"num_key_value_heads", "head_dim", "pad_token_id"}), "config", "config", "transformer",
        hidden_multiple=True, strict_bools=("tie_word_embeddings", "attention_bias", "mlp_bias")),
    "mistral": ModelType(
        "mistral", "Mistral", "MistralConfig",
        {**_COMMON, "intermediate_size": 14336, "num_key_value_heads": 8, "head_dim": None},
        frozenset({"head_dim", "pad_token_id"}), "post", "none"),
    "qwen2": ModelType(
        "qwen2", "Qwen2", "Qwen2Config",
        {**_COMMON, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32},
        frozenset({"num_key_value_heads", "pad_token_id"}), "attr", "qkv", "transformer"),
}

MODEL_CLASSES = tuple(c for t in TYPES.values() for c in t.classes)

# Canonical names (base prefix replaced by the group) -> group and role; first match wins.
_LAYER = r"decoder\.layers\.\d+"
ROTARY = r"decoder\.(layers\.\d+\.self_attn\.)?rotary_emb\.(inv_freq|original_inv_freq)"
COMMON_RULES = (
    Rule(r"embeddings\.embed_tokens\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(rf"{_LAYER}\.self_attn\.[qkvo]_proj\.(weight|bias)", Group.DECODER, Role.ATTENTION),
    Rule(rf"{_LAYER}\.(input_layernorm|post_attention_layernorm)\.weight", Group.DECODER, Role.NORM),
    # Buffers: the model's rotary_emb; older transformers kept one per layer and saved it.
    Rule(ROTARY, Group.DECODER, Role.OTHER),
    Rule(r"final_norm\.norm\.weight", Group.FINAL_NORM, Role.NORM),
    Rule(r"heads\.(lm_head|score|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
)
RULES = COMMON_RULES + (
    Rule(rf"{_LAYER}\.mlp\.(gate|up|down)_proj\.(weight|bias)", Group.DECODER, Role.FFN),
)

_GROUPS = ("embeddings", "decoder", "final_norm", "heads")
_TOP = {"embed_tokens": "embeddings", "layers": "decoder", "rotary_emb": "decoder", "norm": "final_norm",
        "lm_head": "heads", "score": "heads", "qa_outputs": "heads"}


def canonical(name: str) -> str:
    """``model.layers.3.self_attn.q_proj.weight`` -> ``decoder.layers.3.self_attn.q_proj.weight``.

    The base prefix (``model.``, or ``transformer.`` in the QA classes, none in ``LlamaModel``) is
    replaced by the group; ``lm_head``, ``score`` and ``qa_outputs`` go under ``heads``. Idempotent;
    a name of no known module is returned unchanged (and stays unclassified).
    """
    parts = name.split(".")
    if parts[0] in _GROUPS:
        return name
    rest = parts[1:] if parts[0] in ("model", "transformer") and len(parts) > 1 and parts[1] in _TOP else parts
    group = _TOP.get(rest[0])
    if group is None or (group == "heads" and rest is not parts):
        return name
    return ".".join([group, *rest])


# -- config ------------------------------------------------------------------------------------------

def _model_type(raw: Mapping[str, Any], types: Mapping[str, ModelType], default: str, source: str) -> ModelType:
    """``model_type``, else the prefix of ``architectures[0]``, else the family's default."""
    name = raw.get("model_type")
    if name is None:
        archs = raw.get("architectures") or []
        for t in types.values():
            if archs and isinstance(archs[0], str) and archs[0] in t.classes:
                return t
        return types[default]
    if name not in types:
        raise ConfigError(
            f"{source}: model_type {name!r} is not one this family reads ({', '.join(types)}); "
            "drop --family or fix model_type"
        )
    return types[name]


def _rope(raw: Mapping[str, Any]) -> tuple[str, float]:
    """(rope_type, partial_rotary_factor) as transformers standardises them: a non-empty rope_scaling
    replaces rope_parameters; a factor inside the dict wins over a top-level one."""
    params = raw.get("rope_scaling") or raw.get("rope_parameters") or {}
    if not isinstance(params, Mapping):
        params = {}
    rope_type = params.get("rope_type", params.get("type", "default"))
    factor = params.get("partial_rotary_factor", raw.get("partial_rotary_factor"))
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        factor = 1.0
    return str(rope_type), float(factor)


def rotary_size(cfg: Mapping[str, Any]) -> int:
    """Length of inv_freq, ``arange(0, dim, 2)``: the default RoPE rotates all of head_dim, the scaled ones
    (linear, dynamic, llama3, yarn, ...) ``int(head_dim · partial_rotary_factor)``."""
    rope_type, factor = _rope(cfg)
    d = cfg["head_dim"]
    rotated = d if rope_type == "default" else int(d * factor)
    return (rotated + 1) // 2


def resolve_common(raw: Mapping[str, Any], source: str, types: Mapping[str, ModelType], default: str,
                   extra_ints: Sequence[tuple[str, int]] = ()) -> tuple[dict[str, Any], ModelType]:
    """Fill the config class's defaults and check every field the count depends on, as transformers does.

    ``extra_ints`` are further declared integer fields with their minimum (Mixtral's experts).
    """
    mt = _model_type(raw, types, default, source)
    declared = set(mt.defaults) | {k for k, _ in extra_ints}
    for key, value in raw.items():
        if value is None and key in declared and key not in mt.optional:
            raise ConfigError(
                f"{source}: {key} is null, which {mt.config} refuses; give it a value or leave it out "
                f"(default {mt.defaults.get(key)!r})"
            )
    cfg = {**mt.defaults, **{k: v for k, v in raw.items() if v is not None or k in mt.optional}}
    cfg["model_type"] = mt.name
    for key in ("vocab_size", "hidden_size", "num_attention_heads", "intermediate_size"):
        need_int(cfg, key, source, minimum=1)
    need_int(cfg, "num_hidden_layers", source, minimum=0)
    for key, minimum in extra_ints:
        need_int(cfg, key, source, minimum=minimum)
    for key in mt.strict_bools:
        need_bool(cfg, key, source)
    h, a = cfg["hidden_size"], cfg["num_attention_heads"]
    if cfg.get("num_key_value_heads") is None:
        cfg["num_key_value_heads"] = a
    need_int(cfg, "num_key_value_heads", source, minimum=1)
    if mt.hidden_multiple:
        check_heads_divide(h, a, source, why=f", which {mt.config} refuses (even with head_dim set)")
    # head_dim: D is the size the attention and the rotary embedding use; ``kept`` is the value the config
    # object holds, which transformers checks for an odd rotary dimension.
    if mt.head_dim == "attr":  # Qwen2: not a config field; the attention reads it if config.json has it
        if "head_dim" in raw:
            if raw["head_dim"] is None:
                raise ConfigError(f"{source}: head_dim is null, and Qwen2's attention reads it as given; "
                                  "give it a value or leave it out (hidden_size // num_attention_heads)")
            need_int(raw, "head_dim", source, minimum=1)
        kept = raw.get("head_dim")
        d = kept or h // a
    elif mt.head_dim == "config":  # Llama: None -> H // A in __post_init__
        if cfg.get("head_dim") is not None:
            need_int(cfg, "head_dim", source, minimum=1)
        d = kept = cfg.get("head_dim") or h // a
    else:  # Mistral ("post": None -> H // A in __post_init__) and Mixtral ("or": kept as given)
        if cfg.get("head_dim") is not None:
            need_int(cfg, "head_dim", source, minimum=0)
        given = cfg.get("head_dim")
        kept = h // a if given is None and mt.head_dim == "post" else given
        d = given or h // a  # the modules read ``head_dim or hidden_size // num_attention_heads``
    if d < 1:
        raise ConfigError(
            f"{source}: head_dim comes out as 0 (hidden_size {h} // num_attention_heads {a}); "
            "set head_dim, or hidden_size at least num_attention_heads"
        )
    cfg["head_dim"] = d
    _, factor = _rope(raw)
    if kept is not None and kept > 4 and kept % 2 and int(kept * factor) == kept:
        raise ConfigError(
            f"{source}: head_dim {kept} is odd, and transformers' RoPE validation refuses an odd rotary "
            "dimension; use an even head_dim (or hidden_size / num_attention_heads)"
        )
    check_pad_token(cfg, source, why=", and nn.Embedding refuses it as padding_idx",
                    fix="set pad_token_id below vocab_size or null")
    cfg["num_labels"] = num_labels(raw, source)
    # GenericForTokenClassification: nn.Linear(..., bias=getattr(config, "token_classification_bias", True)).
    tcb = raw.get("token_classification_bias", True)
    if tcb is not None and not isinstance(tcb, bool):
        raise ConfigError(f"{source}: token_classification_bias must be true or false, got {tcb!r}")
    cfg["token_classification_bias"] = bool(tcb)
    cfg["dtype"] = config_dtype(raw)
    if mt.biases == "config":
        cfg["attention_bias"], cfg["mlp_bias"] = bool(cfg["attention_bias"]), bool(cfg["mlp_bias"])
    return cfg, mt


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    return resolve_common(raw, source, TYPES, "llama")[0]


# -- tensors -----------------------------------------------------------------------------------------

def attention_dims(cfg: Mapping[str, Any]) -> tuple[Poly, Poly]:
    """(q rows, k/v rows): written H when they equal the hidden size by construction (head_dim = H/A, and
    K = A for k and v), else A·D and K·D, so that the usual cases read 4H² per layer."""
    H, A, K, D = (Poly.sym(s) for s in "HAKD")
    plain = cfg["num_attention_heads"] * cfg["head_dim"] == cfg["hidden_size"]
    q = H if plain else A * D
    kv = H if plain and cfg["num_key_value_heads"] == cfg["num_attention_heads"] else K * D
    return q, kv


def class_type(cls: str, mt: ModelType, types: Mapping[str, ModelType]) -> str:
    """The head of ``cls`` (``ForCausalLM``, ...); the class must be one of the config's model_type."""
    for other in types.values():
        if cls in other.classes:
            if other is not mt:
                raise ConfigError(
                    f"{cls} is a class of model_type {other.name}, not of {mt.name}; "
                    f"pass --model-class {mt.prefix}{cls[len(other.prefix):]}"
                )
            return cls[len(mt.prefix):]
    raise unknown_class(cls, [c for o in types.values() for c in o.classes])


def build(cfg: Mapping[str, Any], cls: str, mt: ModelType, types: Mapping[str, ModelType],
          mlp: Callable[[str, Mapping[str, Any]], list[Tensor]]) -> list[Tensor]:
    """Every parameter, tied alias and buffer of ``cls`` in module order; ``mlp`` gives a layer's MLP."""
    head = class_type(cls, mt, types)
    V, H, C = (Poly.sym(s) for s in "VHC")
    dt = cfg["dtype"]
    base = "" if head == "Model" else (mt.qa_prefix + "." if head == "ForQuestionAnswering" else "model.")
    q, kv = attention_dims(cfg)
    if mt.biases == "config":
        qkv_bias = o_bias = cfg["attention_bias"]
    else:
        qkv_bias, o_bias = mt.biases == "qkv", False
    out = [tensor(f"{base}embed_tokens.weight", (V, H), dt)]
    for i in range(cfg["num_hidden_layers"]):
        layer = f"{base}layers.{i}"
        out += linear(f"{layer}.self_attn.q_proj", q, H, dt, bias=qkv_bias)
        out += linear(f"{layer}.self_attn.k_proj", kv, H, dt, bias=qkv_bias)
        out += linear(f"{layer}.self_attn.v_proj", kv, H, dt, bias=qkv_bias)
        out += linear(f"{layer}.self_attn.o_proj", H, q, dt, bias=o_bias)
        out += mlp(f"{layer}.mlp", cfg)
        out += [tensor(f"{layer}.input_layernorm.weight", (H,), dt),
                tensor(f"{layer}.post_attention_layernorm.weight", (H,), dt)]
    out.append(tensor(f"{base}norm.weight", (H,), dt))
    # Non-persistent buffers: never in a checkpoint saved by transformers 5, not parameters.
    rotary = Poly.const(rotary_size(cfg))
    out += [tensor(f"{base}rotary_emb.inv_freq", (rotary,), "float32", Kind.BUFFER),
            tensor(f"{base}rotary_emb.original_inv_freq", (rotary,), "float32", Kind.BUFFER)]
    if head == "ForCausalLM":
        if cfg["tie_word_embeddings"]:
            out.append(tensor("lm_head.weight", (V, H), dt, Kind.ALIAS, f"{base}embed_tokens.weight"))
        else:
            out.append(tensor("lm_head.weight", (V, H), dt))
    elif head == "ForSequenceClassification":
        out.append(tensor("score.weight", (C, H), dt))
    elif head == "ForTokenClassification":
        out += linear("score", C, H, dt, bias=cfg["token_classification_bias"])
    elif head == "ForQuestionAnswering":
        out += linear("qa_outputs", Poly.const(2), H, dt)
    return out


def _dense_mlp(mt: ModelType) -> Callable[[str, Mapping[str, Any]], list[Tensor]]:
    def mlp(name: str, cfg: Mapping[str, Any]) -> list[Tensor]:
        H, I = Poly.sym("H"), Poly.sym("I")
        bias = bool(cfg["mlp_bias"]) if mt.biases == "config" else False
        dt = cfg["dtype"]
        return (linear(f"{name}.gate_proj", I, H, dt, bias=bias) + linear(f"{name}.up_proj", I, H, dt, bias=bias)
                + linear(f"{name}.down_proj", H, I, dt, bias=bias))
    return mlp


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    mt = TYPES[cfg["model_type"]]
    return build(cfg, model_class, mt, TYPES, _dense_mlp(mt))


# -- notes -------------------------------------------------------------------------------------------

def common_notes(cfg: Mapping[str, Any], mt: ModelType) -> list[str]:
    out = []
    a, k = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    if a % k:
        out.append(f"num_attention_heads {a} is not a multiple of num_key_value_heads {k}: transformers builds "
                   "the model, but grouped-query attention cannot run it")
    if mt.biases != "config":
        said = [key for key in ("attention_bias", "mlp_bias") if cfg.get(key)]
        if said:
            what = ("q_proj, k_proj and v_proj always have a bias, o_proj and the MLP never" if mt.biases == "qkv"
                    else "no projection has a bias")
            out.append(f"{' and '.join(said)} is not read by {mt.prefix} models: {what}")
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    mt = TYPES[cfg["model_type"]]
    out = common_notes(cfg, mt)
    if mt.name == "qwen2" and cfg["num_key_value_heads"] > cfg["num_attention_heads"]:
        out.append(f"num_key_value_heads is {cfg['num_key_value_heads']}, more than the "
                   f"{cfg['num_attention_heads']} query heads (Qwen2Config's default is 32, not the head count)")
    return out


def attention_words(cfg: Mapping[str, Any], mt: ModelType, names: frozenset[str]) -> list[str]:
    q, kv = attention_dims(cfg)
    H = Poly.sym("H")
    a, k, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
    out = []
    if kv == H:
        out.append(f"attention: q_proj, k_proj, v_proj and o_proj are H×H each (A = {a} heads of D = {d}, "
                   "as many key/value heads as query heads), so 4H² per layer")
    else:
        qs = "H×H" if q == H else "A·D×H"
        out.append(f"grouped-query attention: {a} query heads share {k} key/value heads of D = {d}, so q_proj "
                   f"and o_proj are {qs} but k_proj and v_proj only K·D×H ({k * d} rows) each")
    if mt.biases == "qkv":
        out.append("Qwen2: q_proj, k_proj and v_proj carry biases (A·D + 2K·D per layer); o_proj and the MLP "
                   "have none")
    elif mt.biases == "config" and cfg["attention_bias"]:
        out.append("attention_bias: all four projections carry a bias")
    out.append("norms are RMSNorm: a weight of H and no bias, 2H per layer (before attention and before the "
               "MLP) plus H for the final norm")
    return out


def head_words(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    out = []
    if "lm_head.weight" in names:
        if cfg["tie_word_embeddings"]:
            out.append("lm_head (V×H) is embed_tokens itself (tie_word_embeddings): counted once, adds nothing")
        else:
            out.append("lm_head has its own V×H matrix (tie_word_embeddings false), as large as the embeddings")
    elif model_class.endswith("Model"):
        out.append(f"{model_class} has no lm_head; the ForCausalLM class adds V×H unless the embeddings are tied")
    out.append("rotary position embeddings have no parameters: inv_freq and original_inv_freq "
               f"({rotary_size(cfg)} each, float32) are non-persistent buffers")
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    mt = TYPES[cfg["model_type"]]
    out = attention_words(cfg, mt, names)
    bias = mt.biases == "config" and cfg["mlp_bias"]
    out.append("the MLP is SwiGLU: gate_proj and up_proj (I×H each) feed down_proj (H×I), so 3HI per layer"
               + (" plus biases (2I + H)" if bias else ", no biases"))
    return out + head_words(cfg, model_class, names)


# -- inference from a checkpoint ---------------------------------------------------------------------

_PREFERRED_HEAD_DIMS = (128, 64, 256, 96, 80, 160, 32, 16, 8)


def infer_heads(h: int, q_rows: int, kv_rows: int, *, hidden_multiple: bool) -> tuple[int, int, int] | None:
    """(A, K, D) with A·D = q_rows and K·D = kv_rows: a usual head size first, A a multiple of K, and
    (for Llama) H a multiple of A. The count depends on A·D and K·D only."""
    def gcd(x: int, y: int) -> int:
        while y:
            x, y = y, x % y
        return x

    g = gcd(q_rows, kv_rows)
    if g == 0:
        return None
    candidates = [d for d in _PREFERRED_HEAD_DIMS if g % d == 0] + [d for d in range(g, 0, -1) if g % d == 0]
    for strict in (True, False):
        for d in candidates:
            a, k = q_rows // d, kv_rows // d
            if (not hidden_multiple or h % a == 0) and (not strict or a % k == 0):
                return a, k, d
    return None


def infer_attention(shapes: Mapping[str, tuple[int, ...]], types: Mapping[str, ModelType],
                    rules: Sequence[Rule], default: str) -> tuple[dict[str, Any], ModelType, list[str]] | None:
    """Sizes and model type from the embeddings and the first layer's attention; None when the names are
    not this layout (every name inside a layer must be one of ``rules``)."""
    embed = shapes.get("embeddings.embed_tokens.weight")
    q = shapes.get("decoder.layers.0.self_attn.q_proj.weight")
    k = shapes.get("decoder.layers.0.self_attn.k_proj.weight")
    if not (embed and q and k) or len(embed) != 2 or len(q) != 2 or len(k) != 2:
        return None
    if any(n.startswith("decoder.layers.") and not any(r.matches(n) for r in rules) for n in shapes):
        return None
    v, h = embed
    notes: list[str] = []
    q_bias = "decoder.layers.0.self_attn.q_proj.bias" in shapes
    o_bias = "decoder.layers.0.self_attn.o_proj.bias" in shapes
    mt = types["qwen2"] if q_bias and not o_bias and "qwen2" in types else types[default]
    cfg: dict[str, Any] = {"model_type": mt.name, "vocab_size": v, "hidden_size": h,
                           "num_hidden_layers": count_layers(shapes, r"decoder\.layers\.(\d+)\.")}
    heads = infer_heads(h, q[0], k[0], hidden_multiple=mt.hidden_multiple)
    if heads is None and mt.hidden_multiple and not q_bias and "mistral" in types:
        mt = types["mistral"]
        cfg["model_type"] = mt.name
        heads = infer_heads(h, q[0], k[0], hidden_multiple=False)
    if heads is None:
        return None
    a, kv, d = heads
    cfg.update(num_attention_heads=a, num_key_value_heads=kv, head_dim=d)
    notes.append(f"num_attention_heads, num_key_value_heads and head_dim are not in the weights; taken as {a}, "
                 f"{kv} and {d} (the count depends only on A·D = {q[0]} and K·D = {k[0]})")
    if mt.biases == "config":
        cfg["attention_bias"] = q_bias
    return cfg, mt, notes


def infer_head(shapes: Mapping[str, tuple[int, ...]], cfg: dict[str, Any], mt: ModelType, notes: list[str]) -> str:
    """The class from the head's names; a checkpoint without a head is a ForCausalLM with tied embeddings."""
    if "heads.lm_head.weight" in shapes:
        cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
        return mt.prefix + "ForCausalLM"
    score = shapes.get("heads.score.weight")
    if score is not None and len(score) == 2:
        cfg["num_labels"] = score[0]
        if "heads.score.bias" in shapes:
            return mt.prefix + "ForTokenClassification"
        return mt.prefix + "ForSequenceClassification"
    if "heads.qa_outputs.weight" in shapes:
        return mt.prefix + "ForQuestionAnswering"
    cfg["tie_word_embeddings"] = True
    notes.append(f"no lm_head in the weights: taken as {mt.prefix}ForCausalLM with tied embeddings (transformers "
                 f"saves a tied lm_head once); a bare {mt.prefix}Model has the same count")
    return mt.prefix + "ForCausalLM"


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not this layout.

    Needs the first layer's q_proj and a dense mlp.gate_proj (a Mixtral has experts instead). Qwen2 is told
    by q_proj's bias without one on o_proj; Llama and Mistral have the same names and shapes, so a model
    without biases is read as llama.
    """
    gate = shapes.get("decoder.layers.0.mlp.gate_proj.weight")
    if gate is None or len(gate) != 2:
        return None
    found = infer_attention(shapes, TYPES, RULES, "llama")
    if found is None:
        return None
    cfg, mt, notes = found
    cfg["intermediate_size"] = gate[0]
    if mt.biases == "config":
        cfg["mlp_bias"] = "decoder.layers.0.mlp.gate_proj.bias" in shapes
        notes.append("Llama and Mistral checkpoints have the same names and shapes: read as llama "
                     "(the count is the same)")
    cls = infer_head(shapes, cfg, mt, notes)
    return cfg, cls, notes


# -- presets -----------------------------------------------------------------------------------------

_HUB = "config.json of {} on the Hugging Face Hub; {}"

PRESETS = (
    Preset(
        "meta-llama/Llama-2-7b-hf",
        {"architectures": ["LlamaForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
         "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 11008,
         "max_position_embeddings": 4096, "model_type": "llama", "num_attention_heads": 32,
         "num_hidden_layers": 32, "num_key_value_heads": 32, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": None, "tie_word_embeddings": False, "torch_dtype": "float16", "use_cache": True,
         "vocab_size": 32000},
        "7B", _HUB.format("meta-llama/Llama-2-7b-hf", "7B from the Llama 2 model card"),
        aliases=("Llama-2-7b-hf", "llama-2-7b"), nickname="Llama 2 7B", model_class="LlamaForCausalLM"),
    Preset(
        "meta-llama/Llama-3.2-1B",
        {"architectures": ["LlamaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
         "bos_token_id": 128000, "eos_token_id": 128001, "head_dim": 64, "hidden_act": "silu",
         "hidden_size": 2048, "initializer_range": 0.02, "intermediate_size": 8192,
         "max_position_embeddings": 131072, "mlp_bias": False, "model_type": "llama", "num_attention_heads": 32,
         "num_hidden_layers": 16, "num_key_value_heads": 8, "pretraining_tp": 1, "rms_norm_eps": 1e-05,
         "rope_scaling": {"factor": 32.0, "high_freq_factor": 4.0, "low_freq_factor": 1.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "rope_theta": 500000.0, "tie_word_embeddings": True, "torch_dtype": "bfloat16", "use_cache": True,
         "vocab_size": 128256},
        "1.23B", _HUB.format("meta-llama/Llama-3.2-1B", "1.23B from the Llama 3.2 model card"),
        aliases=("Llama-3.2-1B", "llama-3.2-1b"), nickname="Llama 3.2 1B", model_class="LlamaForCausalLM"),
    Preset(
        "mistralai/Mistral-7B-v0.1",
        {"architectures": ["MistralForCausalLM"], "bos_token_id": 1, "eos_token_id": 2, "hidden_act": "silu",
         "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
         "max_position_embeddings": 32768, "model_type": "mistral", "num_attention_heads": 32,
         "num_hidden_layers": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-05, "rope_theta": 10000.0,
         "sliding_window": 4096, "tie_word_embeddings": False, "torch_dtype": "bfloat16", "use_cache": True,
         "vocab_size": 32000},
        "7.3B", _HUB.format("mistralai/Mistral-7B-v0.1", "7.3B from Mistral AI's announcement and the paper"),
        aliases=("Mistral-7B-v0.1", "mistral-7b"), nickname="Mistral 7B", model_class="MistralForCausalLM"),
    Preset(
        "Qwen/Qwen2.5-0.5B",
        {"architectures": ["Qwen2ForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 151643,
         "eos_token_id": 151643, "hidden_act": "silu", "hidden_size": 896, "initializer_range": 0.02,
         "intermediate_size": 4864, "max_position_embeddings": 32768, "max_window_layers": 24,
         "model_type": "qwen2", "num_attention_heads": 14, "num_hidden_layers": 24, "num_key_value_heads": 2,
         "rms_norm_eps": 1e-06, "rope_theta": 1000000.0, "sliding_window": 32768, "tie_word_embeddings": True,
         "torch_dtype": "bfloat16", "use_cache": True, "use_mrope": False, "use_sliding_window": False,
         "vocab_size": 151936},
        "0.49B", _HUB.format("Qwen/Qwen2.5-0.5B", "0.49B (0.36B non-embedding) from its model card"),
        aliases=("Qwen2.5-0.5B",), nickname="Qwen2.5 0.5B", model_class="Qwen2ForCausalLM"),
)

FIELDS = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
          "num_key_value_heads", "head_dim", "attention_bias", "mlp_bias", "tie_word_embeddings", "pad_token_id",
          "num_labels", "id2label", "token_classification_bias", "rope_scaling", "rope_parameters",
          "partial_rotary_factor", "dtype", "torch_dtype")

FAMILY = Family(
    name="llama",
    fields=FIELDS,
    symbols=SYMBOLS,
    model_classes=MODEL_CLASSES,
    default_class="LlamaForCausalLM",
    rules=RULES,
    repeats={"decoder.layers": "L"},
    resolve=resolve,
    tensors=tensors,
    canonical=canonical,
    notes=notes,
    formula_notes=formula_notes,
    buffers=ROTARY,
    infer=infer,
    model_types=tuple(TYPES),
    presets=PRESETS,
    default_class_for=lambda cfg: f"{TYPES[cfg['model_type']].prefix}ForCausalLM",
)
