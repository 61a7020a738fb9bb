"""Granite (IBM Granite 3): Llama's layout with µP multipliers, declared on the decoder builder.

Source of truth: transformers ``models/granite/{configuration,modeling}_granite.py`` (v5). The tensors are
Llama's; ``embedding_multiplier``, ``attention_multiplier``, ``residual_multiplier`` and ``logits_scaling``
scale activations and have no parameters. Against LlamaConfig: ``head_dim`` is not a config field (the
attention reads it when config.json has it, else H // A), and ``hidden_size`` need not be a multiple of
the heads; ``attention_bias`` and ``mlp_bias`` as Llama's. The classes are GraniteModel and
GraniteForCausalLM. A checkpoint's names are Llama's: without config.json it is read as llama (the same
count).
"""

from __future__ import annotations

from typing import Any, Mapping

from ..presets import Preset
from .decoder import COMMON_DEFAULTS, Bias, Decoder, DecoderFamily, HeadDim, standard_heads

_MULTIPLIERS = ("embedding_multiplier", "attention_multiplier", "residual_multiplier", "logits_scaling")


def _multipliers(cfg: Mapping[str, Any]) -> list[str]:
    said = [f"{k} {cfg[k]}" for k in _MULTIPLIERS if k in cfg and cfg[k] != 1.0]
    return [f"{', '.join(said)}: scale activations (µP), no parameters"] if said else []


GRANITE = Decoder(
    "granite", "Granite", "GraniteConfig",
    {**COMMON_DEFAULTS, "intermediate_size": 11008, "num_key_value_heads": None, "attention_bias": False,
     "mlp_bias": False},
    frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.ATTR,
    attention_bias=Bias.CONFIG, mlp_bias=Bias.CONFIG, heads=standard_heads()[:2], notes=_multipliers)

PRESETS = (
    Preset(
        "ibm-granite/granite-3.0-8b-base",
        {"architectures": ["GraniteForCausalLM"], "attention_bias": False, "attention_dropout": 0.1,
         "attention_multiplier": 0.0078125, "bos_token_id": 0, "embedding_multiplier": 12.0, "eos_token_id": 0,
         "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 12800,
         "logits_scaling": 16.0, "max_position_embeddings": 4096, "mlp_bias": False, "model_type": "granite",
         "num_attention_heads": 32, "num_hidden_layers": 40, "num_key_value_heads": 8, "pad_token_id": 0,
         "residual_multiplier": 0.22, "rms_norm_eps": 1e-05, "rope_scaling": None, "rope_theta": 10000.0,
         "tie_word_embeddings": True, "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": 49155},
        "8B", "config.json of ibm-granite/granite-3.0-8b-base on the Hugging Face Hub; 8B from the model card",
        aliases=("granite-3.0-8b-base", "granite-3-8b"), nickname="Granite 3.0 8B", model_class="GraniteForCausalLM",
        notes=("8.17B: the card's 8B rounds down",)),
)

# Granite's checkpoint names and shapes are Llama's: without config.json, read as llama (the same count).
SPEC = DecoderFamily("granite", (GRANITE,), presets=PRESETS, from_names=False,
                     summary="Llama's tensors (GQA, SwiGLU, RMSNorm, tied lm_head in Granite 3); the µP "
                             "multipliers have no parameters")
FAMILY = SPEC.family()
