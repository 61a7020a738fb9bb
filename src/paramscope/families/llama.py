"""Llama, Mistral and Qwen2: three model types of one layout, declared on the decoder builder.

Source of truth: transformers ``models/{llama,mistral,qwen2}/modeling_*.py`` and their configuration
classes (v5). The layout is ``decoder.py``'s; the three differ in biases and in config defaults:

* Llama: ``attention_bias`` (all four projections) and ``mlp_bias`` are config fields, off by default;
  ``hidden_size`` must be a multiple of ``num_attention_heads`` even when ``head_dim`` is given.
* Mistral: no bias anywhere, whatever the config says; ``num_key_value_heads`` defaults to 8.
* Qwen2: q, k and v always have a bias, o_proj and the MLP never; ``head_dim`` is not a Qwen2Config
  field, but the attention reads it when a config.json carries it; ``num_key_value_heads`` defaults to 32.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..presets import Preset
from .decoder import COMMON_DEFAULTS, HEADS, Bias, Decoder, DecoderFamily, HeadDim, standard_heads


def _qwen2_notes(cfg: Mapping[str, Any]) -> list[str]:
    if cfg["num_key_value_heads"] <= cfg["num_attention_heads"]:
        return []
    return [f"num_key_value_heads is {cfg['num_key_value_heads']}, more than the {cfg['num_attention_heads']} "
            "query heads (Qwen2Config's default is 32, not the head count)"]


LLAMA = Decoder(
    "llama", "Llama", "LlamaConfig",
    {**COMMON_DEFAULTS, "intermediate_size": 11008, "num_key_value_heads": None, "head_dim": None,
     "attention_bias": False, "mlp_bias": False},
    frozenset({"num_key_value_heads", "head_dim", "pad_token_id"}), HeadDim.CONFIG,
    attention_bias=Bias.CONFIG, mlp_bias=Bias.CONFIG, heads=standard_heads(qa_base="transformer"),
    hidden_multiple=True)
MISTRAL = Decoder(
    "mistral", "Mistral", "MistralConfig",
    {**COMMON_DEFAULTS, "intermediate_size": 14336, "num_key_value_heads": 8, "head_dim": None},
    frozenset({"head_dim", "pad_token_id"}), HeadDim.POST)
QWEN2 = Decoder(
    "qwen2", "Qwen2", "Qwen2Config",
    {**COMMON_DEFAULTS, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32},
    frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.ATTR,
    attention_bias=Bias.QKV, heads=standard_heads(qa_base="transformer"), notes=_qwen2_notes)

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


SPEC = DecoderFamily(
    "llama", (LLAMA, MISTRAL, QWEN2), presets=PRESETS,
    summary="grouped-query attention (K, D), SwiGLU, RMSNorm, Qwen2's q/k/v biases, tied or untied lm_head")
FAMILY = SPEC.family()
canonical, infer = SPEC.canonical, SPEC.infer
__all__ = ["FAMILY", "HEADS", "PRESETS", "SPEC", "canonical", "infer"]
