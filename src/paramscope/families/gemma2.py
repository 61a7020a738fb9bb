"""Gemma 2 and Gemma 3 (text): Gemma's layout with four norms per layer, declared on the decoder builder.

Source of truth: transformers ``models/gemma2/{configuration,modeling}_gemma2.py`` and
``models/gemma3/{configuration,modeling}_gemma3.py`` (``Gemma3TextConfig``, v5). Against Gemma:

* each layer has four RMSNorms of H, "sandwich": ``input_layernorm`` and ``post_attention_layernorm``
  around attention, ``pre_feedforward_layernorm`` and ``post_feedforward_layernorm`` around the MLP;
* ``hidden_size`` must be a multiple of ``num_attention_heads`` (``validate_architecture``), even though
  ``head_dim`` is a field of its own (256 by default, never null); so must the key/value heads be given;
* local (sliding-window) and global layers alternate by ``layer_types``: no parameter differs;
* Gemma 3 adds ``q_norm`` and ``k_norm`` of ``head_dim`` per layer, and keeps one rotary pair of buffers per
  layer type (``full_attention_inv_freq``, ``sliding_attention_inv_freq``, ...), each with its own RoPE;
  its text-only classes are ``Gemma3TextModel``, ``Gemma3ForCausalLM`` and
  ``Gemma3TextForSequenceClassification`` (``model_type`` ``gemma3`` is the multimodal model, not this).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, Mapping

from ..errors import ConfigError
from ..presets import Preset
from .decoder import Bias, Decoder, DecoderFamily, HeadDim, Norms, QkNorm, rotary_size, standard_heads

_KINDS = ("sliding_attention", "full_attention")


def _layer_types(cfg: dict[str, Any], source: str, pattern: int) -> list[str]:
    """``layer_types`` as the config class has it: given (as many as layers), else every ``pattern``-th
    layer global and the others local (Gemma 2: every 2nd; Gemma 3: ``sliding_window_pattern``, 6)."""
    given, n = cfg.get("layer_types"), cfg["num_hidden_layers"]
    if given is None:
        return ["full_attention" if (i + 1) % pattern == 0 else "sliding_attention" for i in range(n)]
    if not isinstance(given, list) or not all(isinstance(t, str) for t in given) or len(given) != n:
        raise ConfigError(f"{source}: layer_types must be a list of num_hidden_layers ({n}) layer types, got "
                          f"{given!r}; fix it or leave it out")
    return given


def _validate_gemma2(cfg: dict[str, Any], source: str) -> None:
    cfg["layer_types"] = _layer_types(cfg, source, 2)


def _validate_gemma3(cfg: dict[str, Any], source: str) -> None:
    pattern = cfg.get("sliding_window_pattern", 6)  # read from config.json, not a declared field
    if cfg["num_hidden_layers"] and cfg.get("layer_types") is None and (
            isinstance(pattern, bool) or not isinstance(pattern, int) or pattern < 1):
        raise ConfigError(f"{source}: sliding_window_pattern must be a positive integer, got {pattern!r}")
    if cfg.get("use_bidirectional_attention") and not isinstance(cfg.get("sliding_window"), int):
        raise ConfigError(f"{source}: use_bidirectional_attention halves sliding_window, which is "
                          f"{cfg.get('sliding_window')!r}; give sliding_window an integer")
    cfg["layer_types"] = types = _layer_types(cfg, source, pattern)
    if set(types) - set(_KINDS):
        raise ConfigError(f"{source}: layer_types {sorted(set(types) - set(_KINDS))} have no RoPE in Gemma 3, "
                          "whose layers are sliding_attention or full_attention; fix layer_types")


def _gemma3_rotary(cfg: Mapping[str, Any]) -> list[tuple[str, int]]:
    """One (inv_freq, original_inv_freq) pair per layer type present, in sorted order; a legacy
    rope_scaling applies to the global layers only (Gemma3TextConfig.convert_rope_params_to_dict)."""
    params = cfg.get("rope_parameters") if isinstance(cfg.get("rope_parameters"), Mapping) else {}
    out = []
    for kind in sorted(set(cfg["layer_types"])):
        own = dict(params.get(kind) or {})
        if kind == "full_attention" and isinstance(cfg.get("rope_scaling"), Mapping):
            own.update(cfg["rope_scaling"])
        own.setdefault("rope_type", "default")
        sized = {"head_dim": cfg["head_dim"], "rope_parameters": own,
                 "partial_rotary_factor": cfg.get("partial_rotary_factor")}
        out.append((f"{kind}_", rotary_size(sized)))
    return out


def _windows(cfg: Mapping[str, Any]) -> list[str]:
    local = sum(t == "sliding_attention" for t in cfg["layer_types"])
    if not local:
        return []
    return [f"{local} of {cfg['num_hidden_layers']} layers attend within a sliding window of "
            f"{cfg.get('sliding_window')} tokens, the others globally (layer_types): no parameter differs"]


_DEFAULTS = {"vocab_size": 256000, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26,
             "num_attention_heads": 8, "num_key_value_heads": 4, "head_dim": 256, "pad_token_id": 0,
             "tie_word_embeddings": True, "attention_bias": False}
GEMMA2 = Decoder(
    "gemma2", "Gemma2", "Gemma2Config", _DEFAULTS, frozenset({"pad_token_id"}), HeadDim.CONFIG,
    attention_bias=Bias.CONFIG, norms=Norms.SANDWICH, heads=standard_heads()[:4], hidden_multiple=True,
    scaled_embedding=True, notes=_windows, validate=_validate_gemma2)
_TEXT = standard_heads()
GEMMA3_TEXT = Decoder(
    "gemma3_text", "Gemma3", "Gemma3TextConfig", {**_DEFAULTS, "vocab_size": 262208}, frozenset({"pad_token_id"}),
    HeadDim.CONFIG, attention_bias=Bias.CONFIG, qk_norm=QkNorm.HEAD, norms=Norms.SANDWICH,
    heads=(replace(_TEXT[0], suffix="TextModel"), _TEXT[1], replace(_TEXT[2], suffix="TextForSequenceClassification")),
    hidden_multiple=True, scaled_embedding=True, notes=_windows, validate=_validate_gemma3, rotary=_gemma3_rotary)

_HUB = "config.json of {} on the Hugging Face Hub; {}"
_G2 = {"architectures": ["Gemma2ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
       "attn_logit_softcapping": 50.0, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1,
       "final_logit_softcapping": 30.0, "hidden_act": "gelu_pytorch_tanh", "hidden_activation": "gelu_pytorch_tanh",
       "initializer_range": 0.02, "max_position_embeddings": 8192, "model_type": "gemma2", "pad_token_id": 0,
       "rms_norm_eps": 1e-06, "rope_theta": 10000.0, "sliding_window": 4096, "torch_dtype": "float32",
       "use_cache": True, "vocab_size": 256000}
# The Gemma 2 report (Gemma Team 2024, table 2) counts with a 256,128-token vocabulary (the checkpoints
# store 256,000 rows): its non-embedding figures equal these presets' exactly, its embedding ones are
# 128·H larger.
_REPORT = "{} from the model card; {} non-embedding from the Gemma 2 report (table 2)"

PRESETS = (
    Preset(
        "google/gemma-2-2b",
        {**_G2, "head_dim": 256, "hidden_size": 2304, "intermediate_size": 9216, "num_attention_heads": 8,
         "num_hidden_layers": 26, "num_key_value_heads": 4, "query_pre_attn_scalar": 256},
        "2.6B", _HUB.format("google/gemma-2-2b", _REPORT.format("2.6B", "2,024,517,888")),
        aliases=("gemma-2-2b",), nickname="Gemma 2 2B", model_class="Gemma2ForCausalLM"),
    Preset(
        "google/gemma-2-9b",
        {**_G2, "head_dim": 256, "hidden_size": 3584, "intermediate_size": 14336, "num_attention_heads": 16,
         "num_hidden_layers": 42, "num_key_value_heads": 8, "query_pre_attn_scalar": 256},
        "9B", _HUB.format("google/gemma-2-9b", _REPORT.format("9B", "8,324,201,984")),
        aliases=("gemma-2-9b",), nickname="Gemma 2 9B", model_class="Gemma2ForCausalLM",
        notes=("9.24B: the card's 9B rounds down",)),
    Preset(
        "google/gemma-2-27b",
        {**_G2, "head_dim": 128, "hidden_size": 4608, "intermediate_size": 36864, "num_attention_heads": 32,
         "num_hidden_layers": 46, "num_key_value_heads": 16, "query_pre_attn_scalar": 144},
        "27B", _HUB.format("google/gemma-2-27b", _REPORT.format("27B", "26,047,480,320")),
        aliases=("gemma-2-27b",), nickname="Gemma 2 27B", model_class="Gemma2ForCausalLM"),
    Preset(
        "google/gemma-3-1b-pt",
        {"architectures": ["Gemma3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
         "attn_logit_softcapping": None, "bos_token_id": 2, "cache_implementation": "hybrid", "eos_token_id": 1,
         "final_logit_softcapping": None, "head_dim": 256, "hidden_activation": "gelu_pytorch_tanh",
         "hidden_size": 1152, "initializer_range": 0.02, "intermediate_size": 6912,
         "max_position_embeddings": 32768, "model_type": "gemma3_text", "num_attention_heads": 4,
         "num_hidden_layers": 26, "num_key_value_heads": 1, "pad_token_id": 0, "query_pre_attn_scalar": 256,
         "rms_norm_eps": 1e-06, "rope_local_base_freq": 10000, "rope_scaling": None, "rope_theta": 1000000,
         "sliding_window": 512, "sliding_window_pattern": 6, "torch_dtype": "bfloat16", "use_cache": True,
         "vocab_size": 262144},
        "1B", _HUB.format("google/gemma-3-1b-pt", "1B from the model card; 302M embedding and 698M non-embedding "
                          "from the Gemma 3 report (table 1)"),
        aliases=("gemma-3-1b-pt", "gemma-3-1b"), nickname="Gemma 3 1B", model_class="Gemma3ForCausalLM",
        notes=("gemma-3-4b, 12b and 27b are model_type gemma3 (with a vision tower), not gemma3_text",)),
)

SPEC = DecoderFamily("gemma2", (GEMMA2, GEMMA3_TEXT), presets=PRESETS,
                     summary="four RMSNorms per layer (sandwich), head_dim 256, embedding scaled by √H (a buffer), "
                             "tied lm_head; Gemma 3: q_norm/k_norm per head and a RoPE per layer type")
FAMILY = SPEC.family()
