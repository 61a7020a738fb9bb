"""Qwen3: Qwen2's layout with q_norm and k_norm per head, declared on the decoder builder.

Source of truth: transformers ``models/qwen3/{configuration,modeling}_qwen3.py`` (v5). Differences from
Qwen2 that change the count:

* ``Qwen3Attention`` adds ``q_norm`` and ``k_norm``: an RMSNorm of ``head_dim`` each (one weight shared by
  all heads), after ``o_proj`` in module order;
* ``attention_bias`` (default false) gives all four projections a bias; the MLP never has one;
* ``head_dim`` is a field (``int``, default 128, so not ``hidden_size / num_attention_heads``); a null is
  refused, and an odd value above 4 fails RoPE validation; ``num_key_value_heads`` defaults to 32, null
  meaning the head count.
"""

from __future__ import annotations

from ..presets import Preset
from .decoder import COMMON_DEFAULTS, Bias, Decoder, DecoderFamily, HeadDim, QkNorm, standard_heads

QWEN3 = Decoder(
    "qwen3", "Qwen3", "Qwen3Config",
    {**COMMON_DEFAULTS, "vocab_size": 151936, "intermediate_size": 22016, "num_key_value_heads": 32,
     "head_dim": 128, "attention_bias": False},
    frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.CONFIG,
    attention_bias=Bias.CONFIG, qk_norm=QkNorm.HEAD, heads=standard_heads(qa_base="transformer"))

_HUB = "config.json of {} on the Hugging Face Hub; {} from its model card"
_COMMON = {"architectures": ["Qwen3ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
           "bos_token_id": 151643, "eos_token_id": 151645, "head_dim": 128, "hidden_act": "silu",
           "initializer_range": 0.02, "max_position_embeddings": 40960, "model_type": "qwen3",
           "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 1000000, "sliding_window": None,
           "torch_dtype": "bfloat16", "use_cache": True, "use_sliding_window": False, "vocab_size": 151936}

PRESETS = (
    Preset(
        "Qwen/Qwen3-0.6B",
        {**_COMMON, "hidden_size": 1024, "intermediate_size": 3072, "max_window_layers": 28,
         "num_attention_heads": 16, "num_hidden_layers": 28, "num_key_value_heads": 8,
         "tie_word_embeddings": True},
        "0.6B", _HUB.format("Qwen/Qwen3-0.6B", "0.6B (0.44B non-embedding)"),
        aliases=("Qwen3-0.6B", "qwen3-0.6b"), nickname="Qwen3 0.6B", model_class="Qwen3ForCausalLM"),
    Preset(
        "Qwen/Qwen3-8B",
        {**_COMMON, "hidden_size": 4096, "intermediate_size": 12288, "max_window_layers": 36,
         "num_attention_heads": 32, "num_hidden_layers": 36, "num_key_value_heads": 8,
         "tie_word_embeddings": False},
        "8.2B", _HUB.format("Qwen/Qwen3-8B", "8.2B (6.95B non-embedding)"),
        aliases=("Qwen3-8B", "qwen3-8b"), nickname="Qwen3 8B", model_class="Qwen3ForCausalLM"),
)

SPEC = DecoderFamily("qwen3", (QWEN3,), presets=PRESETS,
                     summary="q_norm and k_norm per head (2D per layer), head_dim 128 by default, "
                             "grouped-query attention, optional attention biases")
FAMILY = SPEC.family()
