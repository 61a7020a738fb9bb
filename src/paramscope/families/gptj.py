"""GPT-J: GPT-2's names and parallel block with rotary attention, separate q/k/v and no attention biases.

Source of truth: transformers ``models/gptj/{configuration,modeling}_gptj.py`` (v5). Module order and shapes
as ``named_parameters()`` reports them:

* ``transformer.wte`` (V×H, no padding_idx); per block ``h.N``: one ``ln_1`` (LayerNorm, weight and bias)
  feeding attention and the MLP side by side, ``attn.k_proj``, ``v_proj``, ``q_proj``, ``out_proj`` (H×H
  each, in that order, no biases), ``mlp.fc_in`` (I×H) and ``fc_out`` (H×I) with biases; ``ln_f``;
* ``n_inner`` null means I = 4H; H must be a multiple of ``n_head`` (the attention refuses otherwise);
  ``rotary_dim`` (64; never null) is the rotated channels, ``rotary_emb.embed_positions`` a
  non-persistent float32 buffer of ``n_positions × (rotary_dim or H)``;
* heads: GPTJForCausalLM's ``lm_head`` has a bias (a tie shares the weight only; untied by default),
  ``score`` (no bias) and ``qa_outputs`` (bias); the config's common names (``hidden_size``, ...) win over
  ``n_embd``, as ``attribute_map`` makes them. Older files store each layer's ``attn.bias`` causal mask and
  ``attn.masked_bias``: buffers, not parameters.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..inventory import Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Group, Role, Rule, Symbol
from .common import (LABELS, VOCAB, check_heads_divide, check_model_class, config_dtype, count_layers, guess_heads,
                     heads_note, linear, norm, num_labels, tensor)
from .spec import ConfigFields, declare

SYMBOLS = (VOCAB, Symbol("H", "n_embd", "hidden size"), Symbol("I", "n_inner", "feed-forward size"),
           Symbol("L", "n_layer", "layers"), Symbol("P", "n_positions", "positions"), LABELS)
FIELDS = ConfigFields(
    "GPTJConfig",
    {"vocab_size": 50400, "n_positions": 2048, "n_embd": 4096, "n_layer": 28, "n_head": 16, "rotary_dim": 64,
     "n_inner": None, "pad_token_id": None, "tie_word_embeddings": False},
    frozenset({"n_inner", "pad_token_id"}),
    {"vocab_size": 1, "n_positions": 0, "n_embd": 1, "n_layer": 0, "n_head": 1, "rotary_dim": 0},
    ("tie_word_embeddings",))
ALIASES = {"hidden_size": "n_embd", "max_position_embeddings": "n_positions", "num_attention_heads": "n_head",
           "num_hidden_layers": "n_layer"}

BASE = "GPTJModel"
MODEL_CLASSES = (BASE, "GPTJForCausalLM", "GPTJForSequenceClassification", "GPTJForQuestionAnswering")

_H = r"decoder\.h\.\d+"
BUFFERS = rf"{_H}\.attn\.(bias|masked_bias|embed_positions)|decoder\.rotary_emb\.embed_positions"
RULES = (
    Rule(r"embeddings\.wte\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(rf"{_H}\.attn\.(q|k|v|out)_proj\.weight", Group.DECODER, Role.ATTENTION),
    Rule(rf"{_H}\.mlp\.(fc_in|fc_out)\.(weight|bias)", Group.DECODER, Role.FFN),
    Rule(rf"{_H}\.ln_1\.(weight|bias)", Group.DECODER, Role.NORM),
    Rule(BUFFERS, Group.DECODER, Role.OTHER),
    Rule(r"final_norm\.ln_f\.(weight|bias)", Group.FINAL_NORM, Role.NORM),
    Rule(r"heads\.(lm_head\.(weight|bias)|score\.weight|qa_outputs\.(weight|bias))", Group.HEADS, Role.HEAD),
)
_TOP = {"wte": "embeddings", "h": "decoder", "rotary_emb": "decoder", "ln_f": "final_norm", "lm_head": "heads",
        "score": "heads", "qa_outputs": "heads"}


def canonical(name: str) -> str:
    """``transformer.h.3.attn.q_proj.weight`` -> ``decoder.h.3.attn.q_proj.weight``."""
    parts = name.split(".")
    if parts[0] in ("embeddings", "decoder", "final_norm", "heads"):
        return name
    rest = parts[1:] if parts[0] == "transformer" and len(parts) > 1 else parts
    group = _TOP.get(rest[0])
    if group is None or (group == "heads" and rest is not parts):
        return name
    return ".".join([group, *rest])


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    merged = {**raw, **{own: raw[common] for common, own in ALIASES.items() if raw.get(common) is not None}}
    cfg = FIELDS.fill(merged, source)
    check_heads_divide(cfg["n_embd"], cfg["n_head"], source, hidden="n_embd", heads="n_head",
                       why=", which GPTJAttention refuses")
    if cfg["n_inner"] is None:
        cfg["n_inner"] = 4 * cfg["n_embd"]
    cfg["num_labels"] = num_labels(raw, source)
    cfg["dtype"] = config_dtype(raw)
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    check_model_class(model_class, MODEL_CLASSES)
    V, H, I, P, C = (Poly.sym(s) for s in "VHIPC")
    dt = cfg["dtype"]
    base = "" if model_class == BASE else "transformer."
    out = [tensor(f"{base}wte.weight", (V, H), dt)]
    for i in range(cfg["n_layer"]):
        p = f"{base}h.{i}"
        out += norm(f"{p}.ln_1", H, dt)
        out += [t for proj in ("k", "v", "q", "out") for t in linear(f"{p}.attn.{proj}_proj", H, H, dt, bias=False)]
        out += linear(f"{p}.mlp.fc_in", I, H, dt) + linear(f"{p}.mlp.fc_out", H, I, dt)
    out += norm(f"{base}ln_f", H, dt)
    # sin and cos of arange(0, dim, 2): 2·⌈dim / 2⌉ columns, dim = rotary_dim or H.
    dim = cfg["rotary_dim"] or cfg["n_embd"]
    rotary = H if not cfg["rotary_dim"] and dim % 2 == 0 else Poly.const(2 * ((dim + 1) // 2))
    out.append(tensor(f"{base}rotary_emb.embed_positions", (P, rotary), "float32", Kind.BUFFER))
    if model_class == "GPTJForCausalLM":
        tied = f"{base}wte.weight" if cfg["tie_word_embeddings"] else None
        out += [tensor("lm_head.weight", (V, H), dt, Kind.ALIAS if tied else Kind.PARAMETER, tied),
                tensor("lm_head.bias", (V,), dt)]
    elif model_class == "GPTJForSequenceClassification":
        out += linear("score", C, H, dt, bias=False)
    elif model_class == "GPTJForQuestionAnswering":
        out += linear("qa_outputs", Poly.const(2), H, dt)
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    out = ["attention: q_proj, k_proj, v_proj and out_proj are H×H each with no biases, so 4H² per layer",
           "the MLP is fc_in (I×H) and fc_out (H×I) with biases, 2HI + I + H per layer, beside the attention "
           "after one ln_1 (2H)",
           f"rotary embeddings rotate {cfg['rotary_dim'] or cfg['n_embd']} channels of each head; embed_positions "
           "is a non-persistent buffer, not a parameter"]
    if "lm_head.bias" in names:
        out.append("lm_head: " + ("its weight is wte (tied), its bias of V its own" if cfg["tie_word_embeddings"]
                                  else "a V×H matrix of its own and a bias of V"))
    return out


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    embed = shapes.get("embeddings.wte.weight")
    q = shapes.get("decoder.h.0.attn.q_proj.weight")
    up = shapes.get("decoder.h.0.mlp.fc_in.weight")
    if not (embed and q and up) or len(embed) != 2 or len(up) != 2:
        return None
    v, h = embed
    heads = guess_heads(h)
    cfg: dict[str, Any] = {"model_type": "gptj", "vocab_size": v, "n_embd": h, "n_inner": up[0], "n_head": heads,
                           "n_layer": count_layers(shapes, r"decoder\.h\.(\d+)\.")}
    notes = [heads_note("n_head", heads)]
    if (rotary := shapes.get("decoder.rotary_emb.embed_positions")) and len(rotary) == 2:
        cfg["n_positions"], cfg["rotary_dim"] = rotary
    if "heads.lm_head.bias" in shapes:
        cfg["tie_word_embeddings"] = "heads.lm_head.weight" not in shapes
        return cfg, "GPTJForCausalLM", notes
    if (w := shapes.get("heads.score.weight")) and len(w) == 2:
        cfg["num_labels"] = w[0]
        return cfg, "GPTJForSequenceClassification", notes
    if "heads.qa_outputs.weight" in shapes:
        return cfg, "GPTJForQuestionAnswering", notes
    return cfg, BASE, notes


PRESETS = (
    Preset(
        "EleutherAI/gpt-j-6b",
        {"activation_function": "gelu_new", "architectures": ["GPTJForCausalLM"], "attn_pdrop": 0.0,
         "bos_token_id": 50256, "embd_pdrop": 0.0, "eos_token_id": 50256, "initializer_range": 0.02,
         "layer_norm_epsilon": 1e-05, "model_type": "gptj", "n_embd": 4096, "n_head": 16, "n_inner": None,
         "n_layer": 28, "n_positions": 2048, "resid_pdrop": 0.0, "rotary": True, "rotary_dim": 64,
         "scale_attn_weights": True, "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True,
         "vocab_size": 50400},
        "6B", "config.json of EleutherAI/gpt-j-6b on the Hugging Face Hub; 6,053,381,344 from its model card's "
        "hyperparameter table",
        aliases=("gpt-j-6b", "gpt-j-6B"), nickname="GPT-J 6B", model_class="GPTJForCausalLM",
        notes=("6,050,882,784 in transformers, the card's 6B; the card's table says 6,053,381,344 (2,498,560 more), "
               "a count of the original Mesh Transformer JAX model whose difference is not explained here",)),
)

FAMILY = declare(
    globals(), name="gptj",
    summary="GPT-2 names with rotary attention: q/k/v/out_proj without biases, fc_in/fc_out, one ln_1 per "
            "block, lm_head with a bias",
    fields=(*FIELDS.defaults, *ALIASES, "num_labels", "id2label", "dtype", "torch_dtype"),
    repeats={"decoder.h": "L"}, buffers=BUFFERS)
