"""Gemma (the first): Llama's layout with a scaled embedding and a tied head, declared on the decoder builder.

Source of truth: transformers ``models/gemma/{configuration,modeling}_gemma.py`` (v5). What changes the
count or the tensor list, against Llama:

* ``GemmaTextScaledWordEmbedding`` multiplies by √H, kept in ``embed_tokens.embed_scale``: a scalar,
  non-persistent buffer, not a parameter; ``GemmaRMSNorm`` is a weight of H (``1 + weight`` at run time);
* ``tie_word_embeddings`` defaults to true, ``head_dim`` to 256 (a field, never null), the key/value heads
  to 16 (never null), ``pad_token_id`` to 0; ``attention_bias`` gives all four projections a bias;
* there is no GemmaForQuestionAnswering.
"""

from __future__ import annotations

from ..presets import Preset
from .decoder import Bias, Decoder, DecoderFamily, HeadDim, standard_heads

GEMMA = Decoder(
    "gemma", "Gemma", "GemmaConfig",
    {"vocab_size": 256000, "hidden_size": 3072, "intermediate_size": 24576, "num_hidden_layers": 28,
     "num_attention_heads": 16, "num_key_value_heads": 16, "head_dim": 256, "pad_token_id": 0,
     "tie_word_embeddings": True, "attention_bias": False},
    frozenset({"pad_token_id"}), HeadDim.CONFIG,
    attention_bias=Bias.CONFIG, heads=standard_heads()[:4], scaled_embedding=True)

PRESETS = (
    Preset(
        "google/gemma-2b",
        {"architectures": ["GemmaForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
         "bos_token_id": 2, "eos_token_id": 1, "head_dim": 256, "hidden_act": "gelu", "hidden_size": 2048,
         "initializer_range": 0.02, "intermediate_size": 16384, "max_position_embeddings": 8192,
         "model_type": "gemma", "num_attention_heads": 8, "num_hidden_layers": 18, "num_key_value_heads": 1,
         "pad_token_id": 0, "rms_norm_eps": 1e-06, "rope_scaling": None, "rope_theta": 10000.0,
         "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": 256000},
        "2.51B", "config.json of google/gemma-2b on the Hugging Face Hub; 2.51B (0.52B embedding, 1.98B "
        "non-embedding) from the Gemma report (Gemma Team 2024, table 2)",
        aliases=("gemma-2b",), nickname="Gemma 2B", model_class="GemmaForCausalLM"),
)

# Gemma's checkpoint names and shapes are Llama's: without config.json, read as llama (the same count).
SPEC = DecoderFamily("gemma", (GEMMA,), presets=PRESETS, from_names=False,
                     summary="multi-query attention (2B), head_dim 256, embedding scaled by √H (a buffer), "
                             "tied lm_head")
FAMILY = SPEC.family()
