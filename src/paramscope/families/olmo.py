"""OLMo and OLMo 2: Llama's layout with other norms, declared on the decoder builder.

Source of truth: transformers ``models/olmo/{configuration,modeling}_olmo.py`` and
``models/olmo2/{configuration,modeling}_olmo2.py`` (v5). Against Llama:

* OLMo's ``OlmoLayerNorm`` is a LayerNorm with no weight and no bias: the layers' two norms and the final
  norm have no parameters at all, so a layer is its attention and its MLP; ``clip_qkv`` clamps q, k and v
  (no parameter);
* OLMo 2 normalises after attention and after the MLP (``post_attention_layernorm``,
  ``post_feedforward_layernorm``, RMSNorms of H; no norm before them), and its ``q_norm`` and ``k_norm``
  are RMSNorms over all query (A·D) and key (K·D) channels;
* ``head_dim`` is not a config field (the attention reads it when config.json has it, else H // A);
  ``num_key_value_heads`` null means the head count; ``attention_bias`` gives all four projections a bias;
* the classes are Model, ForCausalLM and ForSequenceClassification.

A checkpoint without config.json tells itself apart by its norms: none at all (OLMo), two after
(OLMo 2), against Llama's two before.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..presets import Preset
from .decoder import COMMON_DEFAULTS, Bias, Decoder, DecoderFamily, HeadDim, NormKind, Norms, QkNorm, standard_heads


def _clip(cfg: Mapping[str, Any]) -> list[str]:
    if cfg.get("clip_qkv") is None:
        return []
    return [f"clip_qkv {cfg['clip_qkv']} clamps queries, keys and values: no parameter"]


_DEFAULTS = {**COMMON_DEFAULTS, "vocab_size": 50304, "intermediate_size": 11008, "num_key_value_heads": None,
             "pad_token_id": 1, "attention_bias": False}
OLMO = Decoder(
    "olmo", "Olmo", "OlmoConfig", _DEFAULTS, frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.ATTR,
    attention_bias=Bias.CONFIG, norm=NormKind.NONE, heads=standard_heads()[:3], notes=_clip)
OLMO2 = Decoder(
    "olmo2", "Olmo2", "Olmo2Config", _DEFAULTS, frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.ATTR,
    attention_bias=Bias.CONFIG, qk_norm=QkNorm.FULL, norms=Norms.POST, heads=standard_heads()[:3])

_HUB = "config.json of {} on the Hugging Face Hub; {}"
_OLMO2 = {"architectures": ["Olmo2ForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
          "eos_token_id": 100257, "hidden_act": "silu", "initializer_range": 0.02, "max_position_embeddings": 4096,
          "model_type": "olmo2", "pad_token_id": 100277, "rms_norm_eps": 1e-06, "rope_scaling": None,
          "rope_theta": 500000, "tie_word_embeddings": False, "torch_dtype": "float32", "use_cache": True,
          "vocab_size": 100352}

PRESETS = (
    Preset(
        "allenai/OLMo-7B-hf",
        {"architectures": ["OlmoForCausalLM"], "attention_bias": False, "attention_dropout": 0.0, "clip_qkv": None,
         "eos_token_id": 50279, "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02,
         "intermediate_size": 11008, "max_position_embeddings": 2048, "model_type": "olmo",
         "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32, "pad_token_id": 1,
         "rope_scaling": None, "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float32",
         "use_cache": True, "vocab_size": 50304},
        "7B", _HUB.format("allenai/OLMo-7B-hf", "7B from the model card (OLMo 7B)"),
        aliases=("OLMo-7B-hf", "olmo-7b"), nickname="OLMo 7B", model_class="OlmoForCausalLM",
        notes=("6.89B: the card's 7B rounds up; the norms have no parameters",)),
    Preset(
        "allenai/OLMo-2-1124-7B",
        {**_OLMO2, "hidden_size": 4096, "intermediate_size": 11008, "num_attention_heads": 32,
         "num_hidden_layers": 32, "num_key_value_heads": 32},
        "7B", _HUB.format("allenai/OLMo-2-1124-7B", "7B from the model card (OLMo 2 7B)"),
        aliases=("OLMo-2-1124-7B", "olmo-2-7b"), nickname="OLMo 2 7B", model_class="Olmo2ForCausalLM",
        notes=("7.30B: the card's 7B rounds down; the untied lm_head adds 0.41B",)),
    Preset(
        "allenai/OLMo-2-1124-13B",
        {**_OLMO2, "hidden_size": 5120, "intermediate_size": 13824, "num_attention_heads": 40,
         "num_hidden_layers": 40, "num_key_value_heads": 40},
        "13B", _HUB.format("allenai/OLMo-2-1124-13B", "13B from the model card (OLMo 2 13B)"),
        aliases=("OLMo-2-1124-13B", "olmo-2-13b"), nickname="OLMo 2 13B", model_class="Olmo2ForCausalLM",
        notes=("13.7B: the card's 13B rounds down",)),
)

SPEC = DecoderFamily("olmo", (OLMO, OLMO2), presets=PRESETS,
                     summary="OLMo: LayerNorms without parameters; OLMo 2: RMSNorms after attention and the MLP, "
                             "q_norm/k_norm over all channels (A·D + K·D per layer)")
FAMILY = SPEC.family()
