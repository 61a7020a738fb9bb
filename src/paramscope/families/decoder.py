"""The Llama-like decoder zoo by options: one builder for every family laid out as Llama is.

Source of truth: transformers ``models/{llama,mistral,qwen2,qwen3,mixtral,gemma2,olmo2,phi3}/modeling_*.py``
and their configuration classes (v5). The shared layout: ``model.embed_tokens``, ``model.layers.N``
(``self_attn`` with ``q/k/v/o_proj``, an ``mlp``, the layer's norms), ``model.norm``, ``model.rotary_emb``
(buffers only) and a head. A ``Decoder`` says how one ``model_type`` differs from that layout:

* attention: biases per projection (``Bias``: none, q/k/v only, all, or the config's ``attention_bias``),
  q/k norms (``QkNorm``: per head of D as Qwen3 and Gemma 3, over all channels as OLMo 2), a fused
  ``qkv_proj`` (Phi-3); grouped-query and multi-query attention come from ``num_key_value_heads``;
* ``head_dim``: how the config class and the modules read it (``HeadDim``);
* MLP (``Mlp``): SwiGLU ``gate/up/down_proj``, a fused ``gate_up_proj`` (Phi-3), or two plain projections
  with an activation; its bias (``mlp_bias``);
* norms: placement (``Norms``: pre, Gemma 2's sandwich, OLMo 2's post) and kind (RMSNorm or LayerNorm);
* the heads table (``Head`` rows, with each class's base-model attribute) and the config class's defaults.

``DecoderFamily`` turns one or more ``Decoder`` into a family: config checks as transformers does them,
the exact tensor list of every class, name rules, notes, plain-words formula notes, and reading sizes back
from a checkpoint. Hooks for what a family adds (Mixtral's experts) are methods to override: ``mlp``,
``mlp_rules``, ``infer_mlp``, ``mlp_words``. Multi-head latent attention (DeepSeek) is not here yet: it
would be another ``attention`` method with its own options.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Callable, Mapping, Sequence

from ..errors import ConfigError
from ..inventory import Kind, Tensor
from ..symbolic import Poly
from .base import Group, Role, Rule, Symbol, need_int
from .common import (FEED_FORWARD, HIDDEN, LABELS, LAYERS, VOCAB, check_heads_divide, check_pad_token, config_dtype,
                     count_layers, linear, num_labels, tensor, unknown_class)
from .spec import ConfigFields, Head, Spec


class Bias(StrEnum):
    NONE = "none"  # no projection has one (Mistral)
    QKV = "qkv"  # q, k and v always, o_proj never (Qwen2); for an MLP: not used
    ALL = "all"  # every projection always
    CONFIG = "config"  # every projection when the config's field says (Llama's attention_bias, mlp_bias)


class HeadDim(StrEnum):
    CONFIG = "config"  # a config field; None -> H // A in the config (Llama; Qwen3 refuses None)
    POST = "post"  # 0 or None -> H // A in the modules, None -> H // A in the config (Mistral)
    OR = "or"  # as POST, but the config keeps None (Mixtral)
    ATTR = "attr"  # not a config field; the attention reads it when config.json has it (Qwen2)


class Norms(StrEnum):
    PRE = "pre"  # input_layernorm, post_attention_layernorm: before attention and before the MLP (Llama)
    SANDWICH = "sandwich"  # before and after each (Gemma 2, Gemma 3)
    POST = "post"  # after each: post_attention_layernorm, post_feedforward_layernorm (OLMo 2)
    PARALLEL = "parallel"  # one input_layernorm feeding attention and the MLP side by side (Cohere, Phi)


class NormKind(StrEnum):
    RMS = "rms"  # a weight of the width
    LAYER = "layer"  # nn.LayerNorm: weight and bias
    WEIGHT = "weight"  # a LayerNorm with a weight and no bias (Cohere)
    NONE = "none"  # a LayerNorm with no parameters at all (OLMo)


class QkNorm(StrEnum):
    NONE = "none"
    HEAD = "head"  # an RMSNorm of D on each head's queries and keys (Qwen3, Gemma 3)
    FULL = "full"  # over all query (A·D) and key (K·D) channels (OLMo 2)
    HEADS = "heads"  # a weight per head: [A, D] for queries, [K, D] for keys (Cohere)


class Mlp(StrEnum):
    SWIGLU = "swiglu"  # gate_proj, up_proj, down_proj
    GATE_UP = "gate_up"  # gate_up_proj (2I rows), down_proj (Phi-3)
    PLAIN = "plain"  # two projections with an activation between (names in Decoder.mlp_names)


LAYER_NORMS = {
    Norms.PRE: ("input_layernorm", "post_attention_layernorm"),
    Norms.SANDWICH: ("input_layernorm", "post_attention_layernorm", "pre_feedforward_layernorm",
                     "post_feedforward_layernorm"),
    Norms.POST: ("post_attention_layernorm", "post_feedforward_layernorm"),
    Norms.PARALLEL: ("input_layernorm",),
}
_NORM_WORDS = {Norms.PRE: "before attention and before the MLP",
               Norms.SANDWICH: "before and after attention, before and after the MLP",
               Norms.POST: "after attention and after the MLP",
               Norms.PARALLEL: "one, before attention and the MLP, which run side by side"}
_MLP_NAMES = {Mlp.SWIGLU: ("gate_proj", "up_proj", "down_proj"), Mlp.GATE_UP: ("gate_up_proj", "down_proj"),
              Mlp.PLAIN: ("up_proj", "down_proj")}

SYMBOLS = (VOCAB, HIDDEN, FEED_FORWARD, LAYERS, Symbol("A", "num_attention_heads", "query heads"),
           Symbol("K", "num_key_value_heads", "key/value heads"), Symbol("D", "head_dim", "size of one head"),
           LABELS)

# The config classes' shared defaults (LlamaConfig's); a Decoder lists its class's differences.
COMMON_DEFAULTS = {"vocab_size": 32000, "hidden_size": 4096, "num_hidden_layers": 32, "num_attention_heads": 32,
                   "pad_token_id": None, "tie_word_embeddings": False}


# -- heads -------------------------------------------------------------------------------------------

def _lm_head(cfg: Mapping[str, Any], base: str) -> list[Tensor]:
    V, H = Poly.sym("V"), Poly.sym("H")
    if cfg["tie_word_embeddings"]:
        return [tensor("lm_head.weight", (V, H), cfg["dtype"], Kind.ALIAS, f"{base}embed_tokens.weight")]
    return [tensor("lm_head.weight", (V, H), cfg["dtype"])]


def standard_heads(*, qa_base: str = "model") -> tuple[Head, ...]:
    """The usual heads: the base model, causal LM (lm_head, tied or not), sequence classification (score,
    no bias), token classification (score, bias unless ``token_classification_bias`` is false: transformers'
    GenericForTokenClassification) and extractive QA (qa_outputs, 2 outputs), whose base model sits at
    ``qa_base`` (``transformer`` in Llama's, Qwen2's and Qwen3's, for backward compatibility)."""
    C, H = Poly.sym("C"), Poly.sym("H")
    return (
        Head("Model", None),
        Head("ForCausalLM", "model", _lm_head),
        Head("ForSequenceClassification", "model", lambda cfg, b: [tensor("score.weight", (C, H), cfg["dtype"])],
             auto_base=True),
        Head("ForTokenClassification", "model",
             lambda cfg, b: linear("score", C, H, cfg["dtype"], bias=cfg["token_classification_bias"]), auto_base=True),
        Head("ForQuestionAnswering", qa_base, lambda cfg, b: linear("qa_outputs", Poly.const(2), H, cfg["dtype"]),
             auto_base=True),
    )


HEADS = tuple(h.suffix for h in standard_heads())


# -- one model type ----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Decoder:
    """One ``model_type``: its class prefix, config class and defaults, and the options of its layout."""

    model_type: str
    prefix: str  # class names: {prefix}Model, {prefix}ForCausalLM, ...
    config: str  # the transformers config class, for messages
    defaults: Mapping[str, Any]  # the config class's defaults for the fields read here
    optional: frozenset[str] = frozenset({"pad_token_id"})  # fields declared ``int | None``
    head_dim: HeadDim = HeadDim.CONFIG
    attention_bias: Bias = Bias.NONE
    mlp_bias: Bias = Bias.NONE
    qk_norm: QkNorm = QkNorm.NONE
    fused_qkv: bool = False
    mlp: Mlp = Mlp.SWIGLU
    mlp_names: tuple[str, ...] = ()  # default: by ``mlp``
    norms: Norms = Norms.PRE
    norm: NormKind = NormKind.RMS
    heads: tuple[Head, ...] = standard_heads()
    hidden_multiple: bool = False  # hidden_size % num_attention_heads checked by the config class
    # Gemma: embed_tokens multiplies by √H, held in a scalar non-persistent buffer ``embed_scale``.
    scaled_embedding: bool = False
    # Module names other than Llama's, by Llama's name: {"o_proj": "dense", "norm": "final_layernorm"} (Phi).
    names: Mapping[str, str] = field(default_factory=dict)
    # One config field that decides every Bias.CONFIG projection's bias (StarCoder2's use_bias).
    bias_field: str | None = None
    # The default RoPE rotates int(D · partial_rotary_factor) as well (Phi-3, Phi), and the factor when
    # neither rope_parameters nor the config gives one (PhiConfig: 0.5).
    rotary_partial: bool = False
    partial_rotary_factor: float = 1.0
    # Further notes and checks: (resolved config) -> notes; (resolved config, source) -> None or raise.
    notes: Callable[[Mapping[str, Any]], list[str]] = field(default=lambda cfg: [])
    validate: Callable[[dict[str, Any], str], None] = field(default=lambda cfg, source: None)
    # A config field (``bool | None``, null meaning false) that decides whether the q/k norms exist (Cohere's
    # use_qk_norm); empty: ``qk_norm`` alone decides.
    qk_norm_flag: str = ""
    # The rotary embedding's buffers as (name prefix, length) pairs when not one inv_freq of
    # ``rotary_size``: Gemma 3 keeps a pair per layer type ("full_attention_", "sliding_attention_").
    rotary: Callable[[Mapping[str, Any]], list[tuple[str, int]]] | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        return tuple(self.prefix + h.suffix for h in self.heads)

    def named(self, suffix: str) -> str:
        """The class of the heads-table row whose suffix ends with ``suffix`` (Gemma 3's text-only classes
        are ``Gemma3TextModel`` and ``Gemma3TextForSequenceClassification`` but ``Gemma3ForCausalLM``)."""
        return next((self.prefix + h.suffix for h in self.heads if h.suffix.endswith(suffix)), self.prefix + suffix)

    def has_qk_norm(self, cfg: Mapping[str, Any]) -> bool:
        return self.qk_norm != QkNorm.NONE and (not self.qk_norm_flag or bool(cfg[self.qk_norm_flag]))

    def n(self, name: str) -> str:
        """This type's name for the module Llama calls ``name``."""
        return self.names.get(name, name)

    @property
    def mlp_parts(self) -> tuple[str, ...]:
        return self.mlp_names or _MLP_NAMES[self.mlp]

    @property
    def bools(self) -> tuple[str, ...]:
        """Declared bool fields read here: tie_word_embeddings and the bias fields the config decides."""
        return ("tie_word_embeddings",) + tuple(dict.fromkeys(
            self.bias_field or key for key, bias in (("attention_bias", self.attention_bias),
                                                     ("mlp_bias", self.mlp_bias))
            if bias == Bias.CONFIG))

    def bias(self, cfg: Mapping[str, Any], which: str) -> tuple[bool, bool]:
        """(q/k/v or MLP bias, o_proj bias) for ``which`` in attention_bias, mlp_bias."""
        mode = self.attention_bias if which == "attention_bias" else self.mlp_bias
        if mode == Bias.CONFIG:
            key = self.bias_field or which
            return bool(cfg[key]), bool(cfg[key])
        return mode in (Bias.QKV, Bias.ALL), mode == Bias.ALL


def attention_dims(cfg: Mapping[str, Any]) -> tuple[Poly, Poly]:
    """(q rows, k/v rows): written H when they equal the hidden size by construction (head_dim = H/A, and
    K = A for k and v), else A·D and K·D, so that the usual cases read 4H² per layer."""
    H, A, K, D = (Poly.sym(s) for s in "HAKD")
    plain = cfg["num_attention_heads"] * cfg["head_dim"] == cfg["hidden_size"]
    q = H if plain else A * D
    kv = H if plain and cfg["num_key_value_heads"] == cfg["num_attention_heads"] else K * D
    return q, kv


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


def rotary_size(cfg: Mapping[str, Any], *, partial: bool = False) -> int:
    """Length of inv_freq, ``arange(0, dim, 2)``: the default RoPE rotates all of head_dim (``partial``: as
    the others, Phi-3's and Phi's), the scaled ones (linear, dynamic, llama3, yarn, ...)
    ``int(head_dim · partial_rotary_factor)``."""
    rope_type, factor = _rope(cfg)
    d = cfg["head_dim"]
    rotated = d if rope_type == "default" and not partial else int(d * factor)
    size = (rotated + 1) // 2
    if rope_type == "longrope" and size == 1:
        # inv_freq = 1 / (short_factor · base ** (arange(0, dim, 2) / dim)): the factor list broadcasts against
        # one frequency, so n factors give n (transformers only warns that the list should have dim // 2).
        params = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
        short = params.get("short_factor") if isinstance(params, Mapping) else None
        if isinstance(short, list):
            size = len(short)
    return size


def _alt(names: Sequence[str]) -> str:
    """A regex alternation, with a shared ``_proj`` suffix factored out: ``(gate|up|down)_proj``."""
    names = list(dict.fromkeys(names))
    if all(n.endswith("_proj") for n in names):
        return "(" + "|".join(n[:-5] for n in names) + ")_proj"
    return "(" + "|".join(names) + ")"


_LAYER = r"decoder\.layers\.\d+"
ROTARY = r"decoder\.(layers\.\d+\.self_attn\.)?rotary_emb\.([a-z]+_attention_)?(inv_freq|original_inv_freq)"
_GROUPS = ("embeddings", "decoder", "final_norm", "heads")
_TOP = {"embed_tokens": "embeddings", "layers": "decoder", "rotary_emb": "decoder", "norm": "final_norm",
        "lm_head": "heads", "score": "heads", "qa_outputs": "heads"}
EMBED_SCALE = r"embeddings\.embed_tokens\.embed_scale"
_PREFERRED_HEAD_DIMS = (128, 64, 256, 96, 80, 160, 32, 16, 8)


def infer_heads(h: int, q_rows: int, kv_rows: int, *, hidden_multiple: bool,
                head_dim: int | None = None) -> tuple[int, int, int] | None:
    """(A, K, D) with A·D = q_rows and K·D = kv_rows: ``head_dim`` when known (a q_norm's size), else a usual
    head size first, A a multiple of K, and (for Llama) H a multiple of A. The count depends on A·D and K·D
    only."""
    def gcd(x: int, y: int) -> int:
        while y:
            x, y = y, x % y
        return x

    g = gcd(q_rows, kv_rows)
    if g == 0:
        return None
    if head_dim is not None:
        candidates = [head_dim] if head_dim > 0 and g % head_dim == 0 else []
    else:
        candidates = [d for d in _PREFERRED_HEAD_DIMS if g % d == 0] + [d for d in range(g, 0, -1) if g % d == 0]
    for strict in (True, False):
        for d in candidates:
            a, k = q_rows // d, kv_rows // d
            if (not hidden_multiple or h % a == 0) and (not strict or a % k == 0):
                return a, k, d
    return None


# -- the family --------------------------------------------------------------------------------------

class DecoderFamily(Spec):
    """A family of one or more ``Decoder`` model types; the first is the default."""

    symbols = SYMBOLS
    buffers = ROTARY
    extra_ints: tuple[tuple[str, int], ...] = ()  # further declared integer fields with their minimum
    extra_fields: tuple[str, ...] = ()

    def __init__(self, name: str, types: Sequence[Decoder], *, presets: Sequence[Any] = (), summary: str = "",
                 from_names: bool = True):
        """``from_names`` false: the names are another family's too (Gemma's are Llama's), so a checkpoint
        without config.json is left to that family (same count) rather than claimed."""
        self.name, self.presets, self.summary = name, tuple(presets), summary
        if not from_names:
            self.infer = None  # type: ignore[assignment]
        self.types = {t.model_type: t for t in types}
        self.default = types[0]
        self.model_types = tuple(self.types)
        self.model_classes = tuple(c for t in types for c in t.classes)
        self.default_class = self.default.prefix + "ForCausalLM"
        # attention_bias and mlp_bias even where not read: --set says so in a note rather than refusing.
        self.fields = ("vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
                       "num_key_value_heads", "head_dim", "attention_bias", "mlp_bias", "tie_word_embeddings",
                       "pad_token_id",
                       "num_labels", "id2label", "token_classification_bias", "rope_scaling", "rope_parameters",
                       "partial_rotary_factor", "dtype", "torch_dtype", *self.extra_fields,
                       *dict.fromkeys(t.bias_field for t in types if t.bias_field))
        # Top-level module names (canonical): Llama's and each type's own (Phi's final_layernorm).
        self.top = {**_TOP, **{t.n(k): g for t in types for k, g in _TOP.items()}}
        self.rules = self.common_rules() + self.mlp_rules()
        if any(t.scaled_embedding for t in types):
            self.buffers = f"{ROTARY}|{EMBED_SCALE}"

    def default_class_for(self, cfg: Mapping[str, Any]) -> str:
        return self.types[cfg["model_type"]].prefix + "ForCausalLM"

    # -- names ---------------------------------------------------------------------------------------

    def common_rules(self) -> tuple[Rule, ...]:
        """Canonical names (base prefix replaced by the group) -> group and role, but for the MLP."""
        types = self.types.values()
        projections = [p for t in types for p in (("qkv_proj", t.n("o_proj")) if t.fused_qkv else ())]
        projections += [p for t in types if not t.fused_qkv for p in ("q_proj", "k_proj", "v_proj", t.n("o_proj"))]
        projections = list(dict.fromkeys(projections))
        attn = "[qkvo]_proj" if projections == ["q_proj", "k_proj", "v_proj", "o_proj"] else _alt(projections)
        norms = _alt([n for t in types if t.norm != NormKind.NONE for n in LAYER_NORMS[t.norms]] or ["norm"])
        weight = r"\.(weight|bias)" if any(t.norm == NormKind.LAYER for t in types) else r"\.weight"
        out = [Rule(r"embeddings\.embed_tokens\.weight", Group.EMBEDDINGS, Role.EMBEDDING)]
        if any(t.scaled_embedding for t in types):
            out.append(Rule(EMBED_SCALE, Group.EMBEDDINGS, Role.OTHER))  # a buffer
        out.append(Rule(rf"{_LAYER}\.self_attn\.{attn}\.(weight|bias)", Group.DECODER, Role.ATTENTION))
        if any(t.qk_norm != QkNorm.NONE for t in types):
            out.append(Rule(rf"{_LAYER}\.self_attn\.(q_norm|k_norm){weight}", Group.DECODER, Role.NORM))
        out += [
            Rule(rf"{_LAYER}\.{norms}{weight}", Group.DECODER, Role.NORM),
            # Buffers: the model's rotary_emb; older transformers kept one per layer and saved it.
            Rule(ROTARY, Group.DECODER, Role.OTHER),
            Rule(rf"final_norm\.{_alt([t.n('norm') for t in types])}{weight}", Group.FINAL_NORM, Role.NORM),
            Rule(r"heads\.(lm_head|score|qa_outputs)\.(weight|bias)", Group.HEADS, Role.HEAD),
        ]
        return tuple(out)

    def mlp_rules(self) -> tuple[Rule, ...]:
        parts = _alt([p for t in self.types.values() for p in t.mlp_parts])
        return (Rule(rf"{_LAYER}\.mlp\.{parts}\.(weight|bias)", Group.DECODER, Role.FFN),)

    def canonical(self, name: str) -> str:
        """``model.layers.3.self_attn.q_proj.weight`` -> ``decoder.layers.3.self_attn.q_proj.weight``.

        The base prefix (``model.``, or ``transformer.`` in the QA classes, none in ``LlamaModel``) is
        replaced by the group; ``lm_head``, ``score`` and ``qa_outputs`` go under ``heads``. Idempotent;
        a name of no known module is returned unchanged (and stays unclassified).
        """
        parts = name.split(".")
        if parts[0] in _GROUPS:
            return name
        rest = parts[1:] if parts[0] in ("model", "transformer") and len(parts) > 1 and parts[1] in self.top else parts
        group = self.top.get(rest[0])
        if group is None or (group == "heads" and rest is not parts):
            return name
        return ".".join([group, *rest])

    # -- config --------------------------------------------------------------------------------------

    def model_type(self, raw: Mapping[str, Any], source: str) -> Decoder:
        """``model_type``, else the prefix of ``architectures[0]``, else the family's default."""
        name = raw.get("model_type")
        if name is None:
            archs = raw.get("architectures") or []
            for t in self.types.values():
                if archs and isinstance(archs[0], str) and archs[0] in t.classes:
                    return t
            return self.default
        if name not in self.types:
            raise ConfigError(
                f"{source}: model_type {name!r} is not one this family reads ({', '.join(self.types)}); "
                "drop --family or fix model_type"
            )
        return self.types[name]

    def resolve(self, raw: Mapping[str, Any], source: str) -> dict[str, Any]:
        """Fill the config class's defaults and check every field the count depends on, as transformers does."""
        mt = self.model_type(raw, source)
        ints = {"vocab_size": 1, "hidden_size": 1, "num_attention_heads": 1, "intermediate_size": 1,
                "num_hidden_layers": 0, **dict(self.extra_ints)}
        fields = ConfigFields(mt.config, mt.defaults, mt.optional, ints, mt.bools)
        cfg = fields.fill(raw, source, declared=[k for k, _ in self.extra_ints])
        cfg["model_type"] = mt.model_type
        h, a = cfg["hidden_size"], cfg["num_attention_heads"]
        if cfg.get("num_key_value_heads") is None:
            cfg["num_key_value_heads"] = a
        need_int(cfg, "num_key_value_heads", source, minimum=1)
        if mt.hidden_multiple:
            check_heads_divide(h, a, source, why=f", which {mt.config} refuses (even with head_dim set)")
        cfg["head_dim"] = self.resolve_head_dim(raw, cfg, mt, source)
        check_pad_token(cfg, source, why=", and nn.Embedding refuses it as padding_idx",
                        fix="set pad_token_id below vocab_size or null")
        cfg["num_labels"] = num_labels(raw, source)
        # GenericForTokenClassification: nn.Linear(..., bias=getattr(config, "token_classification_bias", True)).
        tcb = raw.get("token_classification_bias", True)
        if tcb is not None and not isinstance(tcb, bool):
            raise ConfigError(f"{source}: token_classification_bias must be true or false, got {tcb!r}")
        cfg["token_classification_bias"] = bool(tcb)
        cfg["dtype"] = config_dtype(raw)
        if "partial_rotary_factor" not in raw and mt.partial_rotary_factor != 1.0:
            cfg["partial_rotary_factor"] = mt.partial_rotary_factor  # the config class's default
        for key in mt.bools[1:]:
            cfg[key] = bool(cfg[key])
        if mt.qk_norm_flag:  # declared ``bool | None``: null is false
            flag = cfg.get(mt.qk_norm_flag)
            if flag is not None and not isinstance(flag, bool):
                raise ConfigError(f"{source}: {mt.qk_norm_flag} must be true or false, got {flag!r}")
            cfg[mt.qk_norm_flag] = bool(flag)
        mt.validate(cfg, source)
        return cfg

    def resolve_head_dim(self, raw: Mapping[str, Any], cfg: Mapping[str, Any], mt: Decoder, source: str) -> int:
        """D, the size the attention and the rotary embedding use. ``kept`` is the value the config object
        holds, which transformers checks for an odd rotary dimension."""
        h, a = cfg["hidden_size"], cfg["num_attention_heads"]
        if mt.head_dim == HeadDim.ATTR:  # Qwen2: not a config field; the attention reads it if config.json has it
            if "head_dim" in raw:
                if raw["head_dim"] is None:
                    raise ConfigError(f"{source}: head_dim is null, and {mt.prefix}'s attention reads it as given; "
                                      "give it a value or leave it out (hidden_size // num_attention_heads)")
                need_int(raw, "head_dim", source, minimum=1)
            kept = raw.get("head_dim")
            d = kept or h // a
        elif mt.head_dim == HeadDim.CONFIG:  # Llama: None -> H // A in __post_init__
            if cfg.get("head_dim") is not None:
                need_int(cfg, "head_dim", source, minimum=1)
            d = kept = cfg.get("head_dim") or h // a
        else:  # Mistral ("post": None -> H // A in __post_init__) and Mixtral ("or": kept as given)
            if cfg.get("head_dim") is not None:
                need_int(cfg, "head_dim", source, minimum=0)
            given = cfg.get("head_dim")
            kept = h // a if given is None and mt.head_dim == HeadDim.POST else given
            d = given or h // a  # the modules read ``head_dim or hidden_size // num_attention_heads``
        if d < 1:
            raise ConfigError(
                f"{source}: head_dim comes out as 0 (hidden_size {h} // num_attention_heads {a}); "
                "set head_dim, or hidden_size at least num_attention_heads"
            )
        _, factor = _rope(raw)
        if kept is not None and kept > 4 and kept % 2 and int(kept * factor) == kept:
            raise ConfigError(
                f"{source}: head_dim {kept} is odd, and transformers' RoPE validation refuses an odd rotary "
                "dimension; use an even head_dim (or hidden_size / num_attention_heads)"
            )
        return d

    # -- tensors -------------------------------------------------------------------------------------

    def head(self, cls: str, mt: Decoder) -> Head:
        """The heads-table row of ``cls``; the class must be one of the config's model_type."""
        for other in self.types.values():
            for row in other.heads:
                if cls == other.prefix + row.suffix:
                    if other is not mt:
                        raise ConfigError(
                            f"{cls} is a class of model_type {other.model_type}, not of {mt.model_type}; "
                            f"pass --model-class {mt.prefix}{row.suffix}"
                        )
                    return row
        raise unknown_class(cls, self.model_classes)

    def norm(self, name: str, width: Poly | tuple[Poly, ...], cfg: Mapping[str, Any], mt: Decoder) -> list[Tensor]:
        """A norm's parameters: none (OLMo's LayerNorm), a weight, or a weight and a bias; ``width`` is a size
        or a shape (Cohere's per-head q/k norms are [A, D])."""
        if mt.norm == NormKind.NONE:
            return []
        shape = width if isinstance(width, tuple) else (width,)
        out = [tensor(f"{name}.weight", shape, cfg["dtype"])]
        return out + [tensor(f"{name}.bias", shape, cfg["dtype"])] if mt.norm == NormKind.LAYER else out

    def attention(self, name: str, cfg: Mapping[str, Any], mt: Decoder) -> list[Tensor]:
        H, D = Poly.sym("H"), Poly.sym("D")
        dt = cfg["dtype"]
        q, kv = attention_dims(cfg)
        qkv_bias, o_bias = mt.bias(cfg, "attention_bias")
        o = linear(f"{name}.{mt.n('o_proj')}", H, q, dt, bias=o_bias)
        if mt.fused_qkv:  # Phi3Attention defines o_proj before qkv_proj
            out = o + linear(f"{name}.qkv_proj", q + kv * 2, H, dt, bias=qkv_bias)
        else:
            out = [t for proj, rows in (("q_proj", q), ("k_proj", kv), ("v_proj", kv))
                   for t in linear(f"{name}.{proj}", rows, H, dt, bias=qkv_bias)] + o
        if mt.has_qk_norm(cfg):
            qn, kn = {QkNorm.HEAD: (D, D), QkNorm.FULL: (q, kv),
                      QkNorm.HEADS: ((Poly.sym("A"), D), (Poly.sym("K"), D))}[mt.qk_norm]
            out += self.norm(f"{name}.q_norm", qn, cfg, mt) + self.norm(f"{name}.k_norm", kn, cfg, mt)
        return out

    def mlp(self, name: str, cfg: Mapping[str, Any], mt: Decoder) -> list[Tensor]:
        H, I = Poly.sym("H"), Poly.sym("I")
        bias, _ = mt.bias(cfg, "mlp_bias")
        dt = cfg["dtype"]
        parts = mt.mlp_parts
        if mt.mlp == Mlp.GATE_UP:
            gate_up, down = parts
            return linear(f"{name}.{gate_up}", I * 2, H, dt, bias=bias) + linear(f"{name}.{down}", H, I, dt, bias=bias)
        ins = [linear(f"{name}.{p}", I, H, dt, bias=bias) for p in parts[:-1]]
        return [t for part in ins for t in part] + linear(f"{name}.{parts[-1]}", H, I, dt, bias=bias)

    def layer(self, name: str, cfg: Mapping[str, Any], mt: Decoder) -> list[Tensor]:
        """One decoder layer in module order: self_attn, mlp, then its norms."""
        out = self.attention(f"{name}.self_attn", cfg, mt) + self.mlp(f"{name}.mlp", cfg, mt)
        for n in LAYER_NORMS[mt.norms]:
            out += self.norm(f"{name}.{n}", Poly.sym("H"), cfg, mt)
        return out

    def tensors(self, cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
        """Every parameter, tied alias and buffer of ``model_class`` in module order."""
        mt = self.types[cfg["model_type"]]
        row = self.head(model_class, mt)
        base = row.prefix()
        V, H = Poly.sym("V"), Poly.sym("H")
        out = [tensor(f"{base}embed_tokens.weight", (V, H), cfg["dtype"])]
        if mt.scaled_embedding:
            dtype = cfg["dtype"] if row.auto_base else "float32"  # torch.tensor(√H) in the default dtype
            out.append(tensor(f"{base}embed_tokens.embed_scale", (), dtype, Kind.BUFFER))
        for i in range(cfg["num_hidden_layers"]):
            out += self.layer(f"{base}layers.{i}", cfg, mt)
        out += self.norm(f"{base}{mt.n('norm')}", H, cfg, mt)
        # Non-persistent buffers: never in a checkpoint saved by transformers 5, not parameters.
        default = [("", rotary_size(cfg, partial=mt.rotary_partial))]
        for prefix, size in mt.rotary(cfg) if mt.rotary else default:
            out += [tensor(f"{base}rotary_emb.{prefix}{which}", (Poly.const(size),), "float32", Kind.BUFFER)
                    for which in ("inv_freq", "original_inv_freq")]
        return out + row.tensors(cfg, base)

    # -- notes ---------------------------------------------------------------------------------------

    def notes(self, cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
        mt = self.types[cfg["model_type"]]
        out = []
        a, k = cfg["num_attention_heads"], cfg["num_key_value_heads"]
        if a % k:
            out.append(f"num_attention_heads {a} is not a multiple of num_key_value_heads {k}: transformers builds "
                       "the model, but grouped-query attention cannot run it")
        said = [key for key in ("attention_bias", "mlp_bias") if key not in mt.bools and cfg.get(key)]
        if said:
            out.append(f"{' and '.join(said)} is not read by {mt.prefix} models: {self.bias_fact(mt)}")
        return out + mt.notes(cfg)

    @staticmethod
    def bias_fact(mt: Decoder) -> str:
        """Which projections have a bias, for a field the model type does not read."""
        pair = (mt.attention_bias, mt.mlp_bias)
        if pair == (Bias.NONE, Bias.NONE):
            return "no projection has a bias"
        if pair == (Bias.QKV, Bias.NONE):
            return "q_proj, k_proj and v_proj always have a bias, o_proj and the MLP never"
        attention = {Bias.NONE: "the attention projections never have a bias",
                     Bias.QKV: "q_proj, k_proj and v_proj always have a bias, o_proj never",
                     Bias.ALL: "every attention projection has a bias",
                     Bias.CONFIG: f"{mt.bias_field or 'attention_bias'} decides the attention projections' biases"
                     }[mt.attention_bias]
        mlp = {Bias.ALL: "the MLP always has them", Bias.CONFIG: f"{mt.bias_field or 'mlp_bias'} decides the MLP's"}.get(
            mt.mlp_bias, "the MLP has none")
        return f"{attention}; {mlp}"

    def attention_words(self, cfg: Mapping[str, Any], names: frozenset[str]) -> list[str]:
        mt = self.types[cfg["model_type"]]
        q, kv = attention_dims(cfg)
        H = Poly.sym("H")
        a, k, d = cfg["num_attention_heads"], cfg["num_key_value_heads"], cfg["head_dim"]
        out = []
        if mt.fused_qkv:
            out.append(f"q, k and v are one qkv_proj of (A + 2K)·D = {(a + 2 * k) * d} rows (A = {a} query heads, "
                       f"K = {k} key/value heads of D = {d}); o_proj is H×A·D")
        elif kv == H:
            out.append(f"attention: q_proj, k_proj, v_proj and {mt.n('o_proj')} are H×H each (A = {a} heads of D = {d}, "
                       "as many key/value heads as query heads), so 4H² per layer")
        else:
            qs = "H×H" if q == H else "A·D×H"
            out.append(f"grouped-query attention: {a} query heads share {k} key/value heads of D = {d}, so q_proj "
                       f"and o_proj are {qs} but k_proj and v_proj only K·D×H ({k * d} rows) each")
        qkv_bias, o_bias = mt.bias(cfg, "attention_bias")
        if mt.attention_bias == Bias.QKV:
            rest = "o_proj and the MLP have none" if mt.mlp_bias == Bias.NONE else "o_proj has none"
            out.append(f"{mt.prefix}: q_proj, k_proj and v_proj carry biases (A·D + 2K·D per layer); {rest}")
        elif mt.attention_bias == Bias.CONFIG and qkv_bias:
            out.append(f"{mt.bias_field or 'attention_bias'}: all four projections carry a bias")
        elif mt.attention_bias == Bias.ALL:
            out.append("every attention projection carries a bias")
        if mt.norm == NormKind.NONE:
            out.append(f"norms are LayerNorm without a weight or a bias ({_NORM_WORDS[mt.norms]}, and the final "
                       "norm): no parameters")
        else:
            kind = {NormKind.RMS: "RMSNorm: a weight of H and no bias", NormKind.LAYER: "LayerNorm: a weight and a "
                    "bias of H", NormKind.WEIGHT: "LayerNorm without a bias: a weight of H"}[mt.norm]
            per = len(LAYER_NORMS[mt.norms]) * (2 if mt.norm == NormKind.LAYER else 1)
            final = "2H" if mt.norm == NormKind.LAYER else "H"
            out.append(f"norms are {kind}, {'' if per == 1 else per}H per layer ({_NORM_WORDS[mt.norms]}) plus "
                       f"{final} for the final norm")
        if not mt.has_qk_norm(cfg):
            if mt.qk_norm_flag:
                out.append(f"{mt.qk_norm_flag} is false: no q_norm or k_norm")
        elif mt.qk_norm == QkNorm.HEADS:
            said = f"{mt.qk_norm_flag}: " if mt.qk_norm_flag else ""
            out.append(f"{said}q_norm and k_norm have a weight per head, A×D and K×D ({a}×{d} and "
                       f"{k}×{d}), so (A + K)·D per layer")
        elif mt.qk_norm == QkNorm.HEAD:
            out.append(f"q_norm and k_norm normalise each head's queries and keys: one weight of D = {d} each, "
                       "shared by all heads, 2D per layer")
        elif mt.qk_norm == QkNorm.FULL:
            out.append("q_norm and k_norm normalise all query (A·D) and key (K·D) channels: A·D + K·D per layer")
        return out

    def mlp_words(self, cfg: Mapping[str, Any], names: frozenset[str]) -> list[str]:
        mt = self.types[cfg["model_type"]]
        bias, _ = mt.bias(cfg, "mlp_bias")
        if mt.mlp == Mlp.SWIGLU:
            return ["the MLP is SwiGLU: gate_proj and up_proj (I×H each) feed down_proj (H×I), so 3HI per layer"
                    + (" plus biases (2I + H)" if bias else ", no biases")]
        if mt.mlp == Mlp.GATE_UP:
            return ["the MLP is SwiGLU with gate and up fused: gate_up_proj (2I×H) feeds down_proj (H×I), so 3HI "
                    "per layer" + (" plus biases (2I + H)" if bias else ", no biases")]
        up, down = mt.mlp_parts
        return [f"the MLP is {up} (I×H), an activation, then {down} (H×I), so 2HI per layer"
                + (" plus biases (I + H)" if bias else ", no biases")]

    def head_words(self, cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
        out = []
        if "lm_head.weight" in names:
            if cfg["tie_word_embeddings"]:
                out.append("lm_head (V×H) is embed_tokens itself (tie_word_embeddings): counted once, adds nothing")
            else:
                out.append("lm_head has its own V×H matrix (tie_word_embeddings false), as large as the embeddings")
        elif model_class.endswith("Model"):
            out.append(f"{model_class} has no lm_head; the ForCausalLM class adds V×H unless the embeddings are tied")
        mt = self.types[cfg["model_type"]]
        if mt.rotary:
            pairs = ", ".join(f"{p}inv_freq ({n})" for p, n in mt.rotary(cfg))
            out.append(f"rotary position embeddings have no parameters: a RoPE per layer type, {pairs or 'none'}, "
                       "each with its original_inv_freq, float32 non-persistent buffers")
        else:
            out.append("rotary position embeddings have no parameters: inv_freq and original_inv_freq "
                       f"({rotary_size(cfg, partial=mt.rotary_partial)} each, float32) are non-persistent buffers")
        if self.types[cfg["model_type"]].scaled_embedding:
            out.append("embed_tokens scales its output by √H: embed_scale is a scalar buffer, not a parameter")
        return out

    def formula_notes(self, cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
        return (self.attention_words(cfg, names) + self.mlp_words(cfg, names)
                + self.head_words(cfg, model_class, names))

    # -- inference from a checkpoint -----------------------------------------------------------------

    @staticmethod
    def _fits(mt: Decoder, shapes: Mapping[str, tuple[int, ...]]) -> tuple[bool, bool]:
        """(the names can be this type's, its bias pattern fits the stored biases)."""
        layer = "decoder.layers.0."
        marks = [f"{layer}self_attn.qkv_proj.weight" if mt.fused_qkv else f"{layer}self_attn.q_proj.weight"]
        if mt.qk_norm != QkNorm.NONE and not mt.qk_norm_flag:
            marks.append(f"{layer}self_attn.q_norm.weight")
        # The layer's norms tell the layouts apart: Cohere has input_layernorm only, OLMo none at all,
        # Gemma 2 four; a q_norm where the type has none is another type's.
        norms = {n.split(".")[3] for n in shapes if n.startswith(layer) and n.split(".")[3].endswith("layernorm")}
        if norms != (set() if mt.norm == NormKind.NONE else set(LAYER_NORMS[mt.norms])):
            return False, False
        if mt.qk_norm == QkNorm.NONE and f"{layer}self_attn.q_norm.weight" in shapes:
            return False, False
        proj = "qkv_proj" if mt.fused_qkv else "q_proj"
        q_bias, o_bias = f"{layer}self_attn.{proj}.bias" in shapes, f"{layer}self_attn.{mt.n('o_proj')}.bias" in shapes
        bias = {Bias.NONE: not q_bias and not o_bias, Bias.QKV: q_bias and not o_bias, Bias.ALL: q_bias and o_bias,
                Bias.CONFIG: q_bias == o_bias}[mt.attention_bias]
        return all(m in shapes for m in marks), bias

    def candidates(self, shapes: Mapping[str, tuple[int, ...]]) -> list[Decoder]:
        """The model types whose names and biases fit, in the family's order; when none fits by its biases,
        the first whose names do."""
        fits = {t.model_type: self._fits(t, shapes) for t in self.types.values()}
        named = [t for t in self.types.values() if fits[t.model_type][0]]
        return [t for t in named if fits[t.model_type][1]] or named[:1]

    def infer_attention(self, shapes: Mapping[str, tuple[int, ...]]
                        ) -> tuple[dict[str, Any], Decoder, list[str]] | None:
        """Sizes and model type from the embeddings and the first layer's attention; None when the names are
        not this layout (every name inside a layer must be one of ``rules``). Of the ``candidates``, the
        first whose head sizes work is taken."""
        embed = shapes.get("embeddings.embed_tokens.weight")
        if not embed or len(embed) != 2:
            return None
        if any(n.startswith("decoder.layers.") and not any(r.matches(n) for r in self.rules) for n in shapes):
            return None
        candidates = self.candidates(shapes)
        v, h = embed
        layer = "decoder.layers.0.self_attn."
        for mt in candidates:
            if mt.fused_qkv:
                qkv = shapes.get(layer + "qkv_proj.weight")
                o = shapes.get(layer + mt.n("o_proj") + ".weight")
                if not (qkv and o) or len(qkv) != 2 or len(o) != 2:
                    continue
                q_rows, kv_rows = o[1], (qkv[0] - o[1]) // 2
            else:
                q, k = shapes.get(layer + "q_proj.weight"), shapes.get(layer + "k_proj.weight")
                if not (q and k) or len(q) != 2 or len(k) != 2:
                    continue
                q_rows, kv_rows = q[0], k[0]
            qn = shapes.get(layer + "q_norm.weight")
            known = qn[0] if mt.qk_norm == QkNorm.HEAD and qn and len(qn) == 1 else None
            if mt.qk_norm == QkNorm.HEADS and qn and len(qn) == 2:
                known = qn[1]
            found = infer_heads(h, q_rows, kv_rows, hidden_multiple=mt.hidden_multiple, head_dim=known)
            if found is not None:
                break
        else:
            return None
        a, kv, d = found
        cfg: dict[str, Any] = {"model_type": mt.model_type, "vocab_size": v, "hidden_size": h,
                               "num_hidden_layers": count_layers(shapes, r"decoder\.layers\.(\d+)\."),
                               "num_attention_heads": a, "num_key_value_heads": kv, "head_dim": d,
                               "pad_token_id": None}  # not in the weights; Phi3Config's default 32000 may not fit
        if known:
            notes = [f"num_attention_heads and num_key_value_heads are not in the weights; taken as {a} and {kv} "
                     f"from head_dim {d} (q_norm's size)"]
        else:
            notes = [f"num_attention_heads, num_key_value_heads and head_dim are not in the weights; taken as {a}, "
                     f"{kv} and {d} (the count depends only on A·D = {q_rows} and K·D = {kv_rows})"]
        if mt.attention_bias == Bias.CONFIG:
            cfg[mt.bias_field or "attention_bias"] = (layer + ("qkv_proj" if mt.fused_qkv else "q_proj") + ".bias") in shapes
        if mt.qk_norm_flag:
            cfg[mt.qk_norm_flag] = layer + "q_norm.weight" in shapes
        return cfg, mt, notes

    def infer_mlp(self, shapes: Mapping[str, tuple[int, ...]], cfg: dict[str, Any], mt: Decoder,
                  notes: list[str]) -> bool:
        """intermediate_size (and mlp_bias) from the first layer's MLP; False when it is not there."""
        first = shapes.get(f"decoder.layers.0.mlp.{mt.mlp_parts[0]}.weight")
        if first is None or len(first) != 2:
            return False
        cfg["intermediate_size"] = first[0] // 2 if mt.mlp == Mlp.GATE_UP else first[0]
        if mt.mlp_bias == Bias.CONFIG and not mt.bias_field:
            cfg["mlp_bias"] = f"decoder.layers.0.mlp.{mt.mlp_parts[0]}.bias" in shapes
        return True

    def infer_head(self, shapes: Mapping[str, tuple[int, ...]], cfg: dict[str, Any], mt: Decoder,
                   notes: list[str]) -> str:
        """The class from the head's names; a checkpoint without a head is a ForCausalLM with tied embeddings."""
        if "heads.lm_head.weight" in shapes:
            cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
            return mt.named("ForCausalLM")
        score = shapes.get("heads.score.weight")
        if score is not None and len(score) == 2:
            cfg["num_labels"] = score[0]
            if "heads.score.bias" in shapes:
                return mt.named("ForTokenClassification")
            return mt.named("ForSequenceClassification")
        if "heads.qa_outputs.weight" in shapes:
            return mt.named("ForQuestionAnswering")
        cfg["tie_word_embeddings"] = True
        notes.append(f"no lm_head in the weights: taken as {mt.prefix}ForCausalLM with tied embeddings (transformers "
                     f"saves a tied lm_head once); a bare {mt.prefix}Model has the same count")
        return mt.named("ForCausalLM")

    def infer(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
        """Sizes and class from a checkpoint's canonical names and shapes; None if it is not this layout.

        Needs the first layer's attention and MLP. Model types of one family whose names and biases are
        alike (Llama and Mistral) cannot be told apart: the first is taken, and a note says so.
        """
        if not any(shapes.get(f"decoder.layers.0.mlp.{t.mlp_parts[0]}.weight") for t in self.types.values()):
            return None
        found = self.infer_attention(shapes)
        if found is None:
            return None
        cfg, mt, notes = found
        if not self.infer_mlp(shapes, cfg, mt, notes):
            return None
        candidates = self.candidates(shapes)
        alike = [t for t in candidates if t.mlp_parts == mt.mlp_parts] if mt is candidates[0] else []
        if len(alike) > 1:
            notes.append(f"{' and '.join(t.prefix for t in alike)} checkpoints have the same names and shapes: "
                         f"read as {mt.model_type} (the count is the same)")
        cls = self.infer_head(shapes, cfg, mt, notes)
        return cfg, cls, notes
