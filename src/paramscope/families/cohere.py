"""Cohere (Command R): attention and the MLP side by side on one LayerNorm, declared on the decoder builder.

Source of truth: transformers ``models/cohere/{configuration,modeling}_cohere.py`` (v5). Against Llama:

* a layer has one norm, ``input_layernorm``, whose output feeds attention and the MLP in parallel (their
  outputs are added to the residual together); ``CohereLayerNorm`` is a LayerNorm with a weight and no bias;
* ``use_qk_norm`` (``bool | None``, null is false; Command R+ sets it) adds ``q_norm`` and ``k_norm``
  LayerNorms with a weight per head: [A, D] and [K, D];
* ``tie_word_embeddings`` defaults to true; ``logit_scale`` multiplies the logits (a float, no parameter);
* ``head_dim`` is not a config field (the attention reads it when config.json has it, else H // A);
  ``num_key_value_heads`` null means the head count; ``attention_bias`` gives all four projections a bias;
* the classes are CohereModel and CohereForCausalLM.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..presets import Preset
from .decoder import Bias, Decoder, DecoderFamily, HeadDim, NormKind, Norms, QkNorm, standard_heads


def _logit_scale(cfg: Mapping[str, Any]) -> list[str]:
    return [f"logit_scale {cfg['logit_scale']} multiplies the logits: a float, not a parameter"] \
        if cfg.get("logit_scale") is not None else []


COHERE = Decoder(
    "cohere", "Cohere", "CohereConfig",
    {"vocab_size": 256000, "hidden_size": 8192, "intermediate_size": 22528, "num_hidden_layers": 40,
     "num_attention_heads": 64, "num_key_value_heads": None, "pad_token_id": 0, "tie_word_embeddings": True,
     "attention_bias": False, "use_qk_norm": False, "logit_scale": 0.0625},
    frozenset({"num_key_value_heads", "pad_token_id", "use_qk_norm", "logit_scale"}), HeadDim.ATTR,
    attention_bias=Bias.CONFIG, qk_norm=QkNorm.HEADS, qk_norm_flag="use_qk_norm", norms=Norms.PARALLEL,
    norm=NormKind.WEIGHT, heads=standard_heads()[:2], notes=_logit_scale)


class CohereFamily(DecoderFamily):
    extra_fields = ("use_qk_norm", "logit_scale")


_HUB = "config.json of {} on the Hugging Face Hub; {}"
_COMMON = {"architectures": ["CohereForCausalLM"], "attention_bias": False, "attention_dropout": 0.0,
           "bos_token_id": 5, "eos_token_id": 255001, "hidden_act": "silu", "initializer_range": 0.02,
           "layer_norm_eps": 1e-05, "max_position_embeddings": 8192, "model_type": "cohere", "pad_token_id": 0,
           "torch_dtype": "float16", "use_cache": True, "vocab_size": 256000}

PRESETS = (
    Preset(
        "CohereForAI/c4ai-command-r-v01",
        {**_COMMON, "hidden_size": 8192, "intermediate_size": 22528, "logit_scale": 0.0625,
         "num_attention_heads": 64, "num_hidden_layers": 40, "num_key_value_heads": 64, "rope_theta": 8000000.0,
         "use_qk_norm": False},
        "35B", _HUB.format("CohereForAI/c4ai-command-r-v01", "35B from the model card"),
        aliases=("c4ai-command-r-v01", "command-r"), nickname="Command R", model_class="CohereForCausalLM"),
    Preset(
        "CohereForAI/c4ai-command-r-plus",
        {**_COMMON, "hidden_size": 12288, "intermediate_size": 33792, "logit_scale": 0.8333333333333334,
         "num_attention_heads": 96, "num_hidden_layers": 64, "num_key_value_heads": 8, "rope_theta": 75000000.0,
         "use_qk_norm": True},
        "104B", _HUB.format("CohereForAI/c4ai-command-r-plus", "104B from the model card"),
        aliases=("c4ai-command-r-plus", "command-r-plus"), nickname="Command R+", model_class="CohereForCausalLM"),
)

SPEC = CohereFamily("cohere", (COHERE,), presets=PRESETS,
                    summary="attention and MLP in parallel on one LayerNorm without bias (H per layer), optional "
                            "q/k norms per head (A·D + K·D), tied lm_head")
FAMILY = SPEC.family()
