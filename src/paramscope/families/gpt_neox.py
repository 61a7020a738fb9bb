"""GPT-NeoX (Pythia): a fused query_key_value, two LayerNorms per layer, embed_in and an untied head.

Source of truth: transformers ``models/gpt_neox/{configuration,modeling}_gpt_neox.py`` (v5). Module order
and shapes as ``named_parameters()`` reports them:

* ``gpt_neox.embed_in`` (V×H, no padding_idx); per layer ``input_layernorm`` and ``post_attention_layernorm``
  (LayerNorm, weight and bias), ``attention.query_key_value`` (3H×H) and ``attention.dense`` (H×H), both
  with a bias unless ``attention_bias`` is false, ``mlp.dense_h_to_4h`` (I×H) and ``mlp.dense_4h_to_h``
  (H×I) with biases; ``final_layer_norm``; ``rotary_emb`` holds buffers only;
* ``use_parallel_residual`` changes the wiring, not the count; ``hidden_size`` must be a multiple of
  ``num_attention_heads`` (``validate_architecture``);
* the rotary embedding rotates ``int(D · rotary_pct)`` channels (``rotary_pct`` default 0.25, read into
  ``rope_parameters["partial_rotary_factor"]``; a factor in rope_parameters or rope_scaling wins);
* heads: GPTNeoXForCausalLM's ``lm_head`` (no bias; tied to embed_in only when ``tie_word_embeddings``,
  false by default) -- Pythia's files call it ``embed_out``, which transformers renames on loading;
  ``score`` (no bias), ``classifier`` (bias), ``qa_outputs`` (bias). Files written by older transformers
  store each layer's causal mask ``attention.bias``, ``attention.masked_bias`` and
  ``attention.rotary_emb.inv_freq``: buffers, not parameters.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError
from ..inventory import Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Group, Role, Rule, Symbol
from .common import (FEED_FORWARD, HIDDEN, LABELS, LAYERS, VOCAB, check_heads_divide, check_model_class,
                     config_dtype, count_layers, guess_heads, heads_note, linear, norm, num_labels, tensor)
from .spec import ConfigFields, declare

SYMBOLS = (VOCAB, HIDDEN, FEED_FORWARD, LAYERS, LABELS)
FIELDS = ConfigFields(
    "GPTNeoXConfig",
    {"vocab_size": 50432, "hidden_size": 6144, "num_hidden_layers": 44, "num_attention_heads": 64,
     "intermediate_size": 24576, "pad_token_id": None, "tie_word_embeddings": False, "use_parallel_residual": True,
     "attention_bias": True},
    frozenset({"pad_token_id"}),
    {"vocab_size": 1, "hidden_size": 1, "num_hidden_layers": 0, "num_attention_heads": 1, "intermediate_size": 1},
    ("tie_word_embeddings", "use_parallel_residual", "attention_bias"))

BASE = "GPTNeoXModel"
MODEL_CLASSES = (BASE, "GPTNeoXForCausalLM", "GPTNeoXForSequenceClassification",
                 "GPTNeoXForTokenClassification", "GPTNeoXForQuestionAnswering")

_L = r"decoder\.layers\.\d+"
BUFFERS = (rf"{_L}\.attention\.(bias|masked_bias|rotary_emb\.inv_freq)"
           r"|decoder\.rotary_emb\.(inv_freq|original_inv_freq)")
RULES = (
    Rule(r"embeddings\.embed_in\.weight", Group.EMBEDDINGS, Role.EMBEDDING),
    Rule(rf"{_L}\.attention\.(query_key_value|dense)\.(weight|bias)", Group.DECODER, Role.ATTENTION),
    Rule(rf"{_L}\.mlp\.(dense_h_to_4h|dense_4h_to_h)\.(weight|bias)", Group.DECODER, Role.FFN),
    Rule(rf"{_L}\.(input_layernorm|post_attention_layernorm)\.(weight|bias)", Group.DECODER, Role.NORM),
    Rule(BUFFERS, Group.DECODER, Role.OTHER),
    Rule(r"final_norm\.final_layer_norm\.(weight|bias)", Group.FINAL_NORM, Role.NORM),
    Rule(r"heads\.(lm_head\.weight|score\.weight|(classifier|qa_outputs)\.(weight|bias))", Group.HEADS, Role.HEAD),
)
_TOP = {"embed_in": "embeddings", "layers": "decoder", "rotary_emb": "decoder", "final_layer_norm": "final_norm",
        "lm_head": "heads", "embed_out": "heads", "score": "heads", "classifier": "heads", "qa_outputs": "heads"}


def canonical(name: str) -> str:
    """``gpt_neox.layers.3.attention.dense.weight`` -> ``decoder.layers.3.attention.dense.weight``; Pythia's
    ``embed_out.weight`` -> ``heads.lm_head.weight`` (transformers' own renaming)."""
    parts = name.split(".")
    if parts[0] in ("embeddings", "decoder", "final_norm", "heads"):
        return name
    rest = parts[1:] if parts[0] == "gpt_neox" and len(parts) > 1 else parts
    group = _TOP.get(rest[0])
    if group is None or (group == "heads" and rest is not parts):
        return name
    if rest[0] == "embed_out":
        rest = ["lm_head", *rest[1:]]
    return ".".join([group, *rest])


def rotary_factor(raw: Mapping[str, Any], source: str) -> float:
    params = raw.get("rope_scaling") or raw.get("rope_parameters") or {}
    factor = params.get("partial_rotary_factor") if isinstance(params, Mapping) else None
    if factor is None:
        factor = raw.get("rotary_pct", 0.25)
    if isinstance(factor, bool) or not isinstance(factor, (int, float)):
        raise ConfigError(f"{source}: rotary_pct must be a number, got {factor!r}; write it as 0.25")
    return float(factor)


def resolve(raw: Mapping[str, Any], source: str) -> dict[str, Any]:
    cfg = FIELDS.fill(raw, source)
    check_heads_divide(cfg["hidden_size"], cfg["num_attention_heads"], source,
                       why=", which GPTNeoXConfig refuses")
    cfg["num_labels"] = num_labels(raw, source)
    cfg["dtype"] = config_dtype(raw)
    # The rotary embedding reads head_dim when config.json has it (the attention never does).
    d = raw.get("head_dim") or cfg["hidden_size"] // cfg["num_attention_heads"]
    cfg["rotary_dim"] = int(d * rotary_factor(raw, source))
    return cfg


def tensors(cfg: Mapping[str, Any], model_class: str, options: Mapping[str, Any]) -> list[Tensor]:
    check_model_class(model_class, MODEL_CLASSES)
    V, H, I, C = (Poly.sym(s) for s in "VHIC")
    dt, bias = cfg["dtype"], cfg["attention_bias"]
    base = "" if model_class == BASE else "gpt_neox."
    out = [tensor(f"{base}embed_in.weight", (V, H), dt)]
    for i in range(cfg["num_hidden_layers"]):
        p = f"{base}layers.{i}"
        out += norm(f"{p}.input_layernorm", H, dt) + norm(f"{p}.post_attention_layernorm", H, dt)
        out += linear(f"{p}.attention.query_key_value", H * 3, H, dt, bias=bias)
        out += linear(f"{p}.attention.dense", H, H, dt, bias=bias)
        out += linear(f"{p}.mlp.dense_h_to_4h", I, H, dt) + linear(f"{p}.mlp.dense_4h_to_h", H, I, dt)
    out += norm(f"{base}final_layer_norm", H, dt)
    rotary = Poly.const((cfg["rotary_dim"] + 1) // 2)
    out += [tensor(f"{base}rotary_emb.{n}", (rotary,), "float32", Kind.BUFFER) for n in ("inv_freq", "original_inv_freq")]
    if model_class == "GPTNeoXForCausalLM":
        tied = f"{base}embed_in.weight" if cfg["tie_word_embeddings"] else None
        out.append(tensor("lm_head.weight", (V, H), dt, Kind.ALIAS if tied else Kind.PARAMETER, tied))
    elif model_class == "GPTNeoXForSequenceClassification":
        out += linear("score", C, H, dt, bias=False)
    elif model_class == "GPTNeoXForTokenClassification":
        out += linear("classifier", C, H, dt)
    elif model_class == "GPTNeoXForQuestionAnswering":
        out += linear("qa_outputs", Poly.const(2), H, dt)
    return out


def formula_notes(cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
    out = ["attention: query_key_value is one 3H×H matrix (q, k and v of every head), dense H×H"
           + (", both with biases (4H)" if cfg["attention_bias"] else ", no biases (attention_bias false)"),
           "the MLP is dense_h_to_4h (I×H) and dense_4h_to_h (H×I) with biases: 2HI + I + H per layer",
           "two LayerNorms per layer (4H) and final_layer_norm (2H); use_parallel_residual changes the wiring only",
           f"rotary embeddings rotate {cfg['rotary_dim']} channels of each head: inv_freq and original_inv_freq "
           f"({(cfg['rotary_dim'] + 1) // 2} each) are non-persistent buffers"]
    if "lm_head.weight" in names:
        out.append("lm_head (Pythia's embed_out) is tied to embed_in: counted once" if cfg["tie_word_embeddings"]
                   else "lm_head (Pythia's embed_out) has its own V×H matrix (tie_word_embeddings false)")
    return out


def infer(shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
    embed = shapes.get("embeddings.embed_in.weight")
    qkv = shapes.get("decoder.layers.0.attention.query_key_value.weight")
    up = shapes.get("decoder.layers.0.mlp.dense_h_to_4h.weight")
    if not (embed and qkv and up) or len(embed) != 2 or len(up) != 2:
        return None
    v, h = embed
    heads = guess_heads(h)
    cfg: dict[str, Any] = {"model_type": "gpt_neox", "vocab_size": v, "hidden_size": h, "intermediate_size": up[0],
                           "num_attention_heads": heads,
                           "num_hidden_layers": count_layers(shapes, r"decoder\.layers\.(\d+)\."),
                           "attention_bias": "decoder.layers.0.attention.query_key_value.bias" in shapes}
    notes = [heads_note("num_attention_heads", heads) + "; with rotary_pct it sizes only the rotary buffers"]
    if "heads.lm_head.weight" in shapes:
        return cfg, "GPTNeoXForCausalLM", notes
    for name, cls in (("score", "GPTNeoXForSequenceClassification"), ("classifier", "GPTNeoXForTokenClassification")):
        if (w := shapes.get(f"heads.{name}.weight")) and len(w) == 2:
            cfg["num_labels"] = w[0]
            return cfg, cls, notes
    if "heads.qa_outputs.weight" in shapes:
        return cfg, "GPTNeoXForQuestionAnswering", notes
    return cfg, BASE, notes


_HUB = ("config.json of {} on the Hugging Face Hub; {} total parameters ({} non-embedding) from the Pythia "
        "model card (its table of total and non-embedding parameters)")
_PYTHIA = {"architectures": ["GPTNeoXForCausalLM"], "bos_token_id": 0, "eos_token_id": 0, "hidden_act": "gelu",
           "initializer_range": 0.02, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048,
           "model_type": "gpt_neox", "rotary_emb_base": 10000, "rotary_pct": 0.25, "tie_word_embeddings": False,
           "torch_dtype": "float16", "use_cache": True, "use_parallel_residual": True}


def _pythia(name: str, hidden: int, layers: int, heads: int, vocab: int, published: str, total: str,
            non_embedding: str) -> Preset:
    return Preset(
        f"EleutherAI/{name}",
        {**_PYTHIA, "hidden_size": hidden, "intermediate_size": 4 * hidden, "num_attention_heads": heads,
         "num_hidden_layers": layers, "vocab_size": vocab},
        published, _HUB.format(f"EleutherAI/{name}", total, non_embedding),
        aliases=(name,), nickname=name.replace("pythia", "Pythia"), model_class="GPTNeoXForCausalLM",
        notes=(f"the total matches the card's total ({total}); its non-embedding figure ({non_embedding}) "
               "leaves out embed_in and embed_out (lm_head) both",
               f"embed_in and embed_out have {vocab:,} rows: the tokenizer's 50,277 ids padded for the GPU"))


PRESETS = (
    _pythia("pythia-160m", 768, 12, 12, 50304, "162M", "162,322,944", "85,056,000"),
    _pythia("pythia-1.4b", 2048, 24, 16, 50304, "1.4B", "1,414,647,808", "1,208,602,624"),
    _pythia("pythia-6.9b", 4096, 32, 32, 50432, "6.9B", "6,857,302,016", "6,444,163,072"),
)

FAMILY = declare(
    globals(), name="gpt_neox",
    summary="fused query_key_value (3H), dense_h_to_4h/dense_4h_to_h with biases, two LayerNorms per layer, "
            "partial rotary (rotary_pct), untied embed_out",
    fields=(*FIELDS.defaults, "rotary_pct", "rope_scaling", "rope_parameters", "head_dim", "num_labels", "id2label",
            "dtype", "torch_dtype"),
    repeats={"decoder.layers": "L"}, buffers=BUFFERS)
