"""GPT-2: config fields, the exact tensor list of every GPT2 class, and name patterns.

Source of truth: transformers ``models/gpt2/modeling_gpt2.py`` and ``configuration_gpt2.py`` (v5.24). Every
shape below is the one ``named_parameters()`` reports. GPT-2's projections are ``Conv1D``, whose weight is
stored ``[in, out]`` (the transpose of ``nn.Linear``): ``c_attn.weight`` is ``[H, 3H]``. The heads
(``lm_head``, ``score``, ``classifier``, ``qa_outputs``, ``multiple_choice_head.summary``) are ``nn.Linear``,
``[out, in]``. transformers 5 registers no buffers for GPT-2; checkpoints written by older versions store
each layer's causal mask ``attn.bias`` (``[1, 1, P, P]``) and ``attn.masked_bias`` (a scalar), which are
buffers, not parameters.

Canonical names put the group first so the tree drops it: ``transformer.h.3.attn.c_attn.weight`` and
GPT2Model's ``h.3.attn.c_attn.weight`` are both ``decoder.h.3.attn.c_attn.weight``; ``wte``/``wpe`` are
``embeddings.*``, ``ln_f`` is ``final_norm.ln_f.*``, the heads are ``heads.*``. OpenAI's original TensorFlow
checkpoints (``model/h0/attn/c_attn/w`` ``[1, H, 3H]``, ``model/wte``, ``model/ln_f/g``) map to the same
names, as transformers' ``load_tf_weights_in_gpt2`` maps them.
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
from .common import (LABELS, LABEL_AND_DTYPE_FIELDS, VOCAB, check_heads_divide, check_model_class, config_dtype,
                     guess_heads, heads_note, linear, norm, num_labels, tensor)

SYMBOLS = (
    VOCAB,
    Symbol("P", "n_positions", "positions"),
    Symbol("H", "n_embd", "hidden size"),
    Symbol("I", "n_inner", "feed-forward size"),
    Symbol("L", "n_layer", "layers"),
    LABELS,
)

# transformers' GPT2Config defaults (v5.24), for the fields that change the count or its validity.
DEFAULTS: Mapping[str, Any] = {
    "vocab_size": 50257,
    "n_positions": 1024,
    "n_embd": 768,
    "n_layer": 12,
    "n_head": 12,
    "n_inner": None,  # None: 4 * n_embd
    "add_cross_attention": False,
    "tie_word_embeddings": True,
    # GPT2DoubleHeadsModel's multiple-choice head (GPT2SequenceSummary).
    "summary_type": "cls_index",
    "summary_use_proj": True,
    "summary_proj_to_labels": True,
}

# GPT2Config.attribute_map: the common name -> GPT-2's own field. When a config gives both, the common
# name wins (transformers sets it last, whatever the order in config.json).
ALIASES: Mapping[str, str] = {
    "hidden_size": "n_embd",
    "max_position_embeddings": "n_positions",
    "num_attention_heads": "n_head",
    "num_hidden_layers": "n_layer",
}

BASE = "GPT2Model"
MODEL_CLASSES = (
    "GPT2Model",
    "GPT2LMHeadModel",
    "GPT2DoubleHeadsModel",
    "GPT2ForSequenceClassification",
    "GPT2ForTokenClassification",
    "GPT2ForQuestionAnswering",
)
LM_CLASSES = {"GPT2LMHeadModel", "GPT2DoubleHeadsModel"}

# Classification is data: canonical names to group and role; first match wins.
RULES = (
    Rule(r"embeddings\.(wte|wpe)\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(r"decoder\.h\.\d+\.(attn|crossattention)\.(c_attn|q_attn|c_proj)\.(weight|bias)", Group.DECODER,
         Role.ATTENTION),
    Rule(r"decoder\.h\.\d+\.mlp\.(c_fc|c_proj)\.(weight|bias)", Group.DECODER, Role.FFN),
    Rule(r"decoder\.h\.\d+\.(ln_1|ln_2|ln_cross_attn)\.(weight|bias)", Group.DECODER, Role.NORM),
    # Buffers older transformers saved (the causal mask and its fill value): they count zero.
    Rule(r"decoder\.h\.\d+\.(attn|crossattention)\.(bias|masked_bias)", Group.DECODER, Role.OTHER),
    Rule(r"final_norm\.ln_f\.(weight|bias)", Group.FINAL_NORM, Role.NORM),
    Rule(r"heads\.(lm_head\.weight|score\.weight|(classifier|qa_outputs|multiple_choice_head\.summary)\.(weight|bias))",
         Group.HEADS, Role.HEAD),
)
BUFFERS = r"decoder\.h\.\d+\.(attn|crossattention)\.(bias|masked_bias)"

# First module of a name -> the group it belongs to (the canonical prefix).
_TOP = {"wte": "embeddings", "wpe": "embeddings", "h": "decoder", "ln_f": "final_norm",
        "lm_head": "heads", "score": "heads", "classifier": "heads", "qa_outputs": "heads",
        "multiple_choice_head": "heads"}
_GROUPS = frozenset(_TOP.values())
# OpenAI's TensorFlow leaves: w (Conv1D kernel, [1, in, out]), b, g (LayerNorm gain); wte/wpe have no leaf.
_TF_LEAF = {"w": "weight", "g": "weight", "b": "bias"}


def canonical(name: str) -> str:
    """``transformer.h.3.attn.c_attn.weight``, ``h.3.attn.c_attn.weight`` and ``model/h3/attn/c_attn/w``
    -> ``decoder.h.3.attn.c_attn.weight``; ``transformer.wte.weight`` -> ``embeddings.wte.weight``."""
    if "/" in name:
        parts = name.split("/")
        if parts[0] == "model":
            parts = parts[1:]
        out: list[str] = []
        for p in parts:
            m = re.fullmatch(r"h(\d+)", p)
            out += ["h", m.group(1)] if m else [p]
        if out in (["wte"], ["wpe"]):
            out.append("weight")
        elif out and out[-1] in _TF_LEAF:
            out[-1] = _TF_LEAF[out[-1]]
        name = ".".join(out)
    elif name.startswith("transformer."):
        name = name[len("transformer."):]
    first = name.split(".", 1)[0]
    if first in _GROUPS:
        return name  # already canonical
    group = _TOP.get(first)
    return f"{group}.{name}" if group else name


def hf_shape(name: str, shape: tuple[int, ...]) -> tuple[int, ...]:
    """OpenAI's TF Conv1D kernels are ``[1, in, out]``; transformers squeezes them to ``[in, out]``."""
    if "/" in name and name.endswith("/w") and len(shape) == 3 and shape[0] == 1:
        return shape[1:]
    return shape


# What a GPT-2 layer may hold, below ``decoder.h.N.`` (parameters, and the buffers older versions saved).
_LAYER_LEAVES = frozenset(
    [f"{m}.{p}" for m in ("ln_1", "ln_2", "ln_cross_attn") for p in ("weight", "bias")]
    + [f"attn.{m}.{p}" for m in ("c_attn", "c_proj") for p in ("weight", "bias")]
    + [f"crossattention.{m}.{p}" for m in ("c_attn", "q_attn", "c_proj") for p in ("weight", "bias")]
    + [f"mlp.{m}.{p}" for m in ("c_fc", "c_proj") for p in ("weight", "bias")]
    + [f"{a}.{b}" for a in ("attn", "crossattention") for b in ("bias", "masked_bias")]
)


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    """Sizes and class from a checkpoint's canonical names and shapes; None if it is not a GPT-2.

    A GPT-2 has ``wte`` and either layers whose every tensor is a GPT-2 one, the first ``c_attn`` being a
    Conv1D ``[H, 3H]`` (GPT-BigCode uses the same names with nn.Linear ``[3H, H]``), or, without layers,
    ``wpe`` and ``ln_f``. The head count does not change the count: it is taken as H/64 (GPT-2's head size).
    """
    wte = shapes.get("embeddings.wte.weight")
    if wte is None or len(wte) != 2:
        return None
    V, H = wte
    layers: dict[int, set[str]] = {}
    for n in shapes:
        m = re.fullmatch(r"decoder\.h\.(\d+)\.(.+)", n)
        if m:
            if m.group(2) not in _LAYER_LEAVES:
                return None
            layers.setdefault(int(m.group(1)), set()).add(m.group(2))
    if layers:
        first = next((i for i in sorted(layers) if "attn.c_attn.weight" in layers[i]), None)
        if first is None or shapes[f"decoder.h.{first}.attn.c_attn.weight"] != (H, 3 * H):
            return None
        if "ln_1.weight" in layers[first] and "ln_1.bias" not in layers[first]:
            return None  # ImageGPT: the same names, LayerNorms without a bias
    elif "embeddings.wpe.weight" not in shapes or "final_norm.ln_f.weight" not in shapes:
        return None
    cfg: dict[str, Any] = {"model_type": "gpt2", "vocab_size": V, "n_embd": H,
                           "n_layer": max(layers) + 1 if layers else 0}
    notes: list[str] = []
    wpe = shapes.get("embeddings.wpe.weight")
    if wpe is not None and len(wpe) == 2:
        cfg["n_positions"] = wpe[0]
    fc = next((shapes[f"decoder.h.{i}.mlp.c_fc.weight"] for i in sorted(layers)
               if "mlp.c_fc.weight" in layers[i]), None)
    if fc is not None and len(fc) == 2 and fc[1] != 4 * H:
        cfg["n_inner"] = fc[1]
    heads = guess_heads(H)
    cfg["n_head"] = heads
    notes.append(heads_note("n_head", heads))
    if any(leaf.startswith("crossattention.") for leaves in layers.values() for leaf in leaves):
        cfg["add_cross_attention"] = True
    summary = shapes.get("heads.multiple_choice_head.summary.weight")
    if "heads.lm_head.weight" in shapes:
        cfg["tie_word_embeddings"] = False  # stored as a tensor of its own (a tied copy is an alias)
        notes.append("lm_head.weight is stored as a tensor of its own: counted untied (tie_word_embeddings=false)")
    if summary is not None or any(n.startswith("heads.multiple_choice_head.") for n in shapes):
        cls = "GPT2DoubleHeadsModel"
        if summary is not None and len(summary) == 2 and summary[0] != 1:
            cfg["summary_proj_to_labels"] = False  # projects to H, not to the one label
    elif "heads.score.weight" in shapes:
        cls = "GPT2ForSequenceClassification"
    elif "heads.classifier.weight" in shapes:
        cls = "GPT2ForTokenClassification"
    elif "heads.qa_outputs.weight" in shapes:
        cls = "GPT2ForQuestionAnswering"
    else:
        cls = "GPT2LMHeadModel"
        if "heads.lm_head.weight" not in shapes:
            notes.append("lm_head is not stored as a tensor of its own: taken as GPT2LMHeadModel, its lm_head "
                         "tied to wte (GPT2Model has the same count)")
    head = shapes.get("heads.score.weight") or shapes.get("heads.classifier.weight")
    if head is not None and len(head) == 2 and cls != "GPT2DoubleHeadsModel":
        cfg["num_labels"] = head[0]
    return cfg, cls, notes


def _need_present(cfg: Mapping[str, Any], key: str, source: str, given_as: str) -> None:
    if cfg[key] is None:
        raise ConfigError(f"{source}: {given_as} is null, which GPT2Config refuses; "
                          f"write a number or leave {given_as} out for the default")


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    """Fill transformers' GPT2Config defaults, apply its attribute_map and check every field the count needs."""
    cfg: dict[str, Any] = dict(DEFAULTS)
    given_as = {k: k for k in DEFAULTS}
    for key in DEFAULTS:
        if key in raw:
            cfg[key] = raw[key]
    for alias, key in ALIASES.items():
        if alias in raw:  # the alias wins, even over GPT-2's own name (transformers sets it last)
            cfg[key] = raw[alias]
            given_as[key] = alias
    for key in ("vocab_size", "n_positions", "n_embd", "n_head", "n_layer"):
        _need_present(cfg, key, source, given_as[key])
        need_int(cfg, key, source, minimum=0 if key == "n_layer" else 1)
    for key in ("add_cross_attention", "tie_word_embeddings", "summary_use_proj", "summary_proj_to_labels"):
        need_bool(cfg, key, source)
    if not isinstance(cfg["summary_type"], str):
        raise ConfigError(f"{source}: summary_type must be a string such as \"cls_index\", "
                          f"got {cfg['summary_type']!r}")
    h, a = cfg["n_embd"], cfg["n_head"]
    if cfg["n_inner"] is None:
        cfg["n_inner"] = 4 * h  # GPT2Block: inner_dim = n_inner if n_inner is not None else 4 * hidden_size
    else:
        need_int(cfg, "n_inner", source, minimum=1)
    # GPT2Attention refuses it; with no layers there is no attention to refuse it.
    if cfg["n_layer"] > 0:
        check_heads_divide(h, a, source, hidden=given_as["n_embd"], heads=given_as["n_head"])
    cfg["num_labels"] = num_labels(raw, source)
    cfg["dtype"] = config_dtype(raw)
    # Fields in the file that transformers does not use for the model, kept for the notes: a GPT-2 name the
    # alias overrides, and n_ctx (GPT2Config no longer reads it) when it differs from n_positions.
    ignored = {key: raw[key] for alias, key in ALIASES.items()
               if alias in raw and key in raw and raw[key] != raw[alias]}
    if "n_ctx" in raw and raw["n_ctx"] != cfg["n_positions"]:
        ignored["n_ctx"] = raw["n_ctx"]
    if ignored:
        cfg["ignored"] = ignored
    return cfg


def _conv1d(name: str, in_dim: Poly, out_dim: Poly, dtype: str) -> list[Tensor]:
    """transformers' Conv1D(nf=out, nx=in): weight [in, out], bias [out]."""
    return [tensor(f"{name}.weight", (in_dim, out_dim), dtype), tensor(f"{name}.bias", (out_dim,), dtype)]


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    """Every parameter and tied alias of ``model_class`` in module order (``named_parameters``)."""
    check_model_class(model_class, MODEL_CLASSES)
    if model_class == "GPT2DoubleHeadsModel" and cfg["summary_type"] == "attn":
        raise ConfigError(
            "GPT2DoubleHeadsModel: summary_type \"attn\" is not implemented by transformers (GPT2SequenceSummary "
            "raises NotImplementedError); use \"cls_index\", \"last\", \"first\" or \"mean\""
        )
    V, P, H, I, C = (Poly.sym(s) for s in "VPHIC")
    one = Poly.const(1)
    dt = cfg["dtype"]
    prefix = "" if model_class == BASE else "transformer."

    out: list[Tensor] = [tensor(f"{prefix}wte.weight", (V, H), dt), tensor(f"{prefix}wpe.weight", (P, H), dt)]
    for i in range(cfg["n_layer"]):
        block = f"{prefix}h.{i}"
        # GPT2Block registers ln_1, attn, ln_2, then crossattention and ln_cross_attn, then mlp.
        out += norm(f"{block}.ln_1", H, dt)
        out += _conv1d(f"{block}.attn.c_attn", H, 3 * H, dt)  # Q, K, V fused
        out += _conv1d(f"{block}.attn.c_proj", H, H, dt)
        out += norm(f"{block}.ln_2", H, dt)
        if cfg["add_cross_attention"]:
            out += _conv1d(f"{block}.crossattention.c_attn", H, 2 * H, dt)  # K, V of the encoder states
            out += _conv1d(f"{block}.crossattention.q_attn", H, H, dt)
            out += _conv1d(f"{block}.crossattention.c_proj", H, H, dt)
            out += norm(f"{block}.ln_cross_attn", H, dt)
        out += _conv1d(f"{block}.mlp.c_fc", H, I, dt)
        out += _conv1d(f"{block}.mlp.c_proj", I, H, dt)
    out += norm(f"{prefix}ln_f", H, dt)
    if model_class in LM_CLASSES:
        if cfg["tie_word_embeddings"]:
            out.append(tensor("lm_head.weight", (V, H), dt, Kind.ALIAS, "transformer.wte.weight"))
        else:
            out += linear("lm_head", V, H, dt, bias=False)
    if model_class == "GPT2DoubleHeadsModel" and cfg["summary_use_proj"]:
        # The model sets num_labels = 1 itself; the summary projects to it, or to H without proj_to_labels.
        out += linear("multiple_choice_head.summary", one if cfg["summary_proj_to_labels"] else H, H, dt)
    if model_class == "GPT2ForSequenceClassification":
        out += linear("score", C, H, dt, bias=False)
    if model_class == "GPT2ForTokenClassification":
        out += linear("classifier", C, H, dt)
    if model_class == "GPT2ForQuestionAnswering":
        out += linear("qa_outputs", Poly.const(2), H, dt)
    return out


def notes(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[str]:
    out: list[str] = []
    ignored = cfg.get("ignored", {})
    for alias, key in ALIASES.items():
        if key in ignored:
            out.append(f"{alias} {cfg[key]!r} overrides {key} {ignored[key]!r}: GPT2Config maps {alias} onto {key}, "
                       "and the alias wins")
    if "n_ctx" in ignored:
        out.append(f"n_ctx {ignored['n_ctx']!r} is not read by transformers 5; positions come from n_positions "
                   f"({cfg['n_positions']})")
    if cfg["n_embd"] % cfg["n_head"]:
        out.append(f"n_embd {cfg['n_embd']} is not a multiple of n_head {cfg['n_head']}: transformers builds it "
                   "only because there are no layers")
    if model_class == "GPT2DoubleHeadsModel" and cfg["num_labels"] != 1:
        out.append(f"GPT2DoubleHeadsModel sets num_labels to 1 itself (one score per choice); "
                   f"num_labels {cfg['num_labels']} is not used")
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    """GPT-2's layout in plain words, said where it applies."""
    canon = {canonical(n) for n in names}
    h, i = cfg["n_embd"], cfg["n_inner"]
    out = [
        "embeddings: wte (V×H) and wpe (P×H), a learned table of positions, not sinusoids; GPT-2 has no "
        "token-type embeddings and no LayerNorm on its embeddings",
        "c_attn is Q, K and V fused in one Conv1D: a [H, 3H] weight and a 3H bias, so 3H² + 3H; c_proj, the "
        "attention output, is H² + H",
        "Conv1D stores its weight [in, out], the transpose of nn.Linear: attn.c_attn.weight is H×3H, "
        "mlp.c_fc.weight H×I, mlp.c_proj.weight I×H; the count is the same either way",
        "per layer: 4H² + 4H attention, 2HI + I + H the MLP (c_fc and c_proj with biases), 4H the two "
        "LayerNorms (ln_1 before attention, ln_2 before the MLP): 4H² + 2HI + 9H + I",
    ]
    if i == 4 * h:
        out.append(f"I = 4H = {i}: GPT2Block's feed-forward size when n_inner is null, as in OpenAI's GPT-2 configs")
    if cfg["add_cross_attention"]:
        out.append("add_cross_attention: each layer adds crossattention (c_attn H×2H for K and V of the encoder "
                   "states, q_attn H×H, c_proj H×H, with biases) and ln_cross_attn: 4H² + 6H")
    out.append("final_norm: ln_f (2H) normalises the last layer's output (GPT-2 puts its LayerNorms before each "
               "sub-layer, so one more closes the stack)")
    if "heads.lm_head.weight" in canon:
        if cfg["tie_word_embeddings"]:
            out.append("lm_head (V×H, no bias) is wte itself, tied, so it adds nothing: the total equals "
                       "GPT2Model's")
        else:
            out.append("tie_word_embeddings is false: lm_head has its own V×H matrix")
    else:
        out.append(f"{model_class} has no lm_head; GPT2LMHeadModel's is tied to wte and adds nothing")
    if "heads.score.weight" in canon:
        out.append("score is C×H without a bias: it scores the last non-padding token")
    if "heads.multiple_choice_head.summary.weight" in canon:
        out.append("multiple_choice_head.summary projects the hidden state of the classification token to one "
                   "score per choice (num_labels is forced to 1), or to H without summary_proj_to_labels")
    out.append(
        "no buffers in transformers 5; checkpoints saved by older versions (the Hub's GPT-2 files among them) "
        "store each layer's causal mask attn.bias (1×1×P×P), some also attn.masked_bias: buffers, not "
        "parameters, yet a count of every stored tensor includes them "
        f"(L·P² = {cfg['n_layer'] * cfg['n_positions'] ** 2:,} here)"
    )
    return out


# The four sizes OpenAI released, with the config.json each has on the Hugging Face Hub (count fields
# only; the rest are GPT2Config's defaults). Published figures are the Hugging Face model cards' (124M,
# 355M, 774M, 1.5B), which match the exact counts; the GPT-2 paper's Table 2 says 117M, 345M, 762M and
# 1542M, figures OpenAI later corrected for the two smaller models (its gpt-2 repository names the
# checkpoints 124M, 355M, 774M, 1558M).
def _gpt2(n_embd: int, n_layer: int, n_head: int) -> dict[str, Any]:
    return {
        "model_type": "gpt2",
        "architectures": ["GPT2LMHeadModel"],
        "vocab_size": 50257,
        "n_positions": 1024,
        "n_ctx": 1024,
        "n_embd": n_embd,
        "n_layer": n_layer,
        "n_head": n_head,
        "summary_type": "cls_index",
        "summary_use_proj": True,
        "summary_proj_to_labels": True,
    }


_ORIGIN = ("config.json of openai-community/{0} on the Hugging Face Hub; published figure from its model card "
           "(\"{1}\"); the GPT-2 paper says {2}")

PRESETS = (
    Preset("gpt2", _gpt2(768, 12, 12), "124M", _ORIGIN.format("gpt2", "124M parameters", "117M"),
           aliases=("openai-community/gpt2", "gpt2-small"), nickname="GPT-2 Small",
           model_class="GPT2LMHeadModel"),
    Preset("gpt2-medium", _gpt2(1024, 24, 16), "355M", _ORIGIN.format("gpt2-medium", "355M parameter", "345M"),
           aliases=("openai-community/gpt2-medium",), nickname="GPT-2 Medium", model_class="GPT2LMHeadModel"),
    Preset("gpt2-large", _gpt2(1280, 36, 20), "774M", _ORIGIN.format("gpt2-large", "774M parameter", "762M"),
           aliases=("openai-community/gpt2-large",), nickname="GPT-2 Large", model_class="GPT2LMHeadModel"),
    Preset("gpt2-xl", _gpt2(1600, 48, 25), "1.5B", _ORIGIN.format("gpt2-xl", "1.5B parameter", "1542M"),
           aliases=("openai-community/gpt2-xl",), nickname="GPT-2 XL", model_class="GPT2LMHeadModel"),
)


FAMILY = declare(
    globals(),
    name="gpt2",
    summary="fused c_attn, Conv1D weights [in, out], lm_head tied to wte",
    fields=(*DEFAULTS, *ALIASES, *LABEL_AND_DTYPE_FIELDS),
    repeats={"decoder.h": "L"},
    buffers=BUFFERS,
)
