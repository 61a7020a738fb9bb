"""Phi-3 (and Phi-4, model_type phi3): Llama's layout with q, k, v fused and gate, up fused, on the decoder builder.

Source of truth: transformers ``models/phi3/{configuration,modeling}_phi3.py`` (v5). What changes the count
or the tensor list, against Llama:

* ``Phi3Attention.qkv_proj`` is one (A + 2K)·D × H matrix, ``o_proj`` H × A·D, no biases anywhere;
  ``Phi3MLP.gate_up_proj`` is 2I × H before ``down_proj``;
* ``head_dim`` is not a config field: the attention reads ``getattr(config, "head_dim", H // A)`` (a null
  fails there); the default RoPE rotates ``int(D · partial_rotary_factor)`` too;
* ``Phi3Config.validate_rope`` refuses a RoPE type but default and longrope (su and yarn are read as
  longrope) and short/long factor lists of a length other than ``int(H // A · factor) // 2``;
* ``pad_token_id`` defaults to 32000 (a vocabulary smaller than that needs it set); there is no
  Phi3ForQuestionAnswering.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..errors import ConfigError
from ..presets import Preset
from .decoder import COMMON_DEFAULTS, Decoder, DecoderFamily, HeadDim, Mlp, _rope, standard_heads


def _validate(cfg: Mapping[str, Any], source: str) -> None:
    """Phi3Config.validate_rope, for the fields that change the rotary buffers."""
    rope_type, factor = _rope(cfg)
    rope_type = "longrope" if rope_type in ("su", "yarn") else rope_type
    if rope_type not in ("default", "longrope"):
        raise ConfigError(f"{source}: rope type {rope_type!r} is not one Phi3Config accepts; use longrope or "
                          "leave rope_scaling out")
    params = cfg.get("rope_scaling") or cfg.get("rope_parameters") or {}
    want = int(cfg["hidden_size"] // cfg["num_attention_heads"] * factor) // 2
    for key in ("short_factor", "long_factor"):
        value = params.get(key) if isinstance(params, Mapping) else None
        if value is None:
            continue
        if not isinstance(value, list) or not all(isinstance(x, (int, float)) for x in value):
            raise ConfigError(f"{source}: rope_scaling's {key} must be a list of numbers, got {value!r}")
        if len(value) != want:
            raise ConfigError(f"{source}: rope_scaling's {key} has {len(value)} numbers, and Phi3Config wants "
                              f"int(hidden_size // num_attention_heads · partial_rotary_factor) // 2 = {want}; "
                              "fix the list")


PHI3 = Decoder(
    "phi3", "Phi3", "Phi3Config",
    {**COMMON_DEFAULTS, "vocab_size": 32064, "hidden_size": 3072, "intermediate_size": 8192,
     "num_key_value_heads": None, "pad_token_id": 32000},
    frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.ATTR,
    fused_qkv=True, mlp=Mlp.GATE_UP, heads=standard_heads()[:4], rotary_partial=True, validate=_validate)

_HUB = "config.json of {} on the Hugging Face Hub; {} from its model card"
_COMMON = {"architectures": ["Phi3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
           "bos_token_id": 1, "embd_pdrop": 0.0, "eos_token_id": 32000, "hidden_act": "silu",
           "initializer_range": 0.02, "model_type": "phi3", "resid_pdrop": 0.0, "rms_norm_eps": 1e-05,
           "rope_scaling": None, "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
           "use_cache": True, "vocab_size": 32064}

PRESETS = (
    Preset(
        "microsoft/Phi-3-mini-4k-instruct",
        {**_COMMON, "hidden_size": 3072, "intermediate_size": 8192, "max_position_embeddings": 4096,
         "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
         "original_max_position_embeddings": 4096, "pad_token_id": 32000, "sliding_window": 2047},
        "3.8B", _HUB.format("microsoft/Phi-3-mini-4k-instruct", "3.8B"),
        aliases=("Phi-3-mini-4k-instruct", "phi-3-mini"), nickname="Phi-3 mini", model_class="Phi3ForCausalLM"),
    Preset(
        "microsoft/Phi-3-medium-4k-instruct",
        {**_COMMON, "hidden_size": 5120, "intermediate_size": 17920, "max_position_embeddings": 4096,
         "num_attention_heads": 40, "num_hidden_layers": 40, "num_key_value_heads": 10,
         "original_max_position_embeddings": 4096, "sliding_window": 2047},
        "14B", _HUB.format("microsoft/Phi-3-medium-4k-instruct", "14B"),
        aliases=("Phi-3-medium-4k-instruct", "phi-3-medium"), nickname="Phi-3 medium",
        model_class="Phi3ForCausalLM",
        notes=("13.96B: the card rounds to 14B",)),
    Preset(
        "microsoft/phi-4",
        {**_COMMON, "bos_token_id": 100257, "eos_token_id": 100265, "hidden_size": 5120,
         "intermediate_size": 17920, "max_position_embeddings": 16384, "num_attention_heads": 40,
         "num_hidden_layers": 40, "num_key_value_heads": 10, "original_max_position_embeddings": 16384,
         "pad_token_id": 100349, "rope_theta": 250000, "sliding_window": None, "vocab_size": 100352},
        "14.7B", "config.json of microsoft/phi-4 on the Hugging Face Hub; 14B from its model card, 14.7B the "
        "Hub's safetensors count",
        aliases=("phi-4",), nickname="Phi-4", model_class="Phi3ForCausalLM",
        notes=("Phi-3 medium's body (13.63B) with a vocabulary of 100,352 rows (the tokenizer's 100,352 "
               "padded ids, embeddings and an untied lm_head: 1.03B)",)),
)

SPEC = DecoderFamily("phi3", (PHI3,), presets=PRESETS,
                     summary="fused qkv_proj ((A + 2K)·D rows) and gate_up_proj (2I rows), no biases, RMSNorm, "
                             "untied lm_head")
FAMILY = SPEC.family()
