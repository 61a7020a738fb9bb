"""StarCoder2: Llama's layout with LayerNorms, a plain MLP and one bias switch, on the decoder builder.

Source of truth: transformers ``models/starcoder2/{configuration,modeling}_starcoder2.py`` (v5). What
changes the count or the tensor list, against Llama:

* ``use_bias`` (default true) gives every projection a bias: q/k/v/o_proj and the MLP's ``c_fc`` (I×H) and
  ``c_proj`` (H×I); there is no gate;
* the norms (``input_layernorm``, ``post_attention_layernorm``, the final ``norm``) are ``nn.LayerNorm``:
  weight and bias;
* ``tie_word_embeddings`` defaults to true, ``num_key_value_heads`` to 2 (never null); ``head_dim`` is not a
  config field, read as ``getattr(config, "head_dim", None) or H // A``; ``sliding_window`` changes the
  attention, not the count; there is no Starcoder2ForQuestionAnswering.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..presets import Preset
from .decoder import Bias, Decoder, DecoderFamily, HeadDim, Mlp, NormKind, standard_heads


def _notes(cfg: Mapping[str, Any]) -> list[str]:
    window = cfg.get("sliding_window")
    return [f"sliding_window {window}: each token attends to the last {window} positions, which changes no "
            "parameter"] if window else []


STARCODER2 = Decoder(
    "starcoder2", "Starcoder2", "Starcoder2Config",
    {"vocab_size": 49152, "hidden_size": 3072, "intermediate_size": 12288, "num_hidden_layers": 30,
     "num_attention_heads": 24, "num_key_value_heads": 2, "pad_token_id": None, "tie_word_embeddings": True,
     "use_bias": True},
    frozenset({"pad_token_id"}), HeadDim.OR,
    attention_bias=Bias.CONFIG, mlp_bias=Bias.CONFIG, bias_field="use_bias", mlp=Mlp.PLAIN,
    mlp_names=("c_fc", "c_proj"), norm=NormKind.LAYER, heads=standard_heads()[:4], notes=_notes)

_HUB = "config.json of {} on the Hugging Face Hub; {} from its model card"
_COMMON = {"architectures": ["Starcoder2ForCausalLM"], "attention_dropout": 0.1, "bos_token_id": 0,
           "embedding_dropout": 0.1, "eos_token_id": 0, "hidden_act": "gelu_pytorch_tanh",
           "initializer_range": 0.018042, "layer_norm_epsilon": 1e-05, "max_position_embeddings": 16384,
           "mlp_type": "default", "model_type": "starcoder2", "norm_type": "layer_norm", "residual_dropout": 0.1,
           "sliding_window": 4096, "torch_dtype": "float32", "use_bias": True, "use_cache": True,
           "vocab_size": 49152}

PRESETS = (
    Preset(
        "bigcode/starcoder2-3b",
        {**_COMMON, "hidden_size": 3072, "intermediate_size": 12288, "num_attention_heads": 24,
         "num_hidden_layers": 30, "num_key_value_heads": 2, "rope_theta": 999999.4420358813},
        "3B", _HUB.format("bigcode/starcoder2-3b", "3B"),
        aliases=("starcoder2-3b",), nickname="StarCoder2 3B", model_class="Starcoder2ForCausalLM",
        notes=("3.03B, the card's 3B; lm_head is tied to the embeddings",)),
    Preset(
        "bigcode/starcoder2-7b",
        {**_COMMON, "hidden_size": 4608, "intermediate_size": 18432, "num_attention_heads": 36,
         "num_hidden_layers": 32, "num_key_value_heads": 4, "rope_theta": 1000000},
        "7B", _HUB.format("bigcode/starcoder2-7b", "7B"),
        aliases=("starcoder2-7b",), nickname="StarCoder2 7B", model_class="Starcoder2ForCausalLM",
        notes=("7.17B, the card's 7B; lm_head is tied to the embeddings",)),
)

SPEC = DecoderFamily("starcoder2", (STARCODER2,), presets=PRESETS,
                     summary="LayerNorms, biases on every projection (use_bias), plain MLP c_fc/c_proj, "
                             "grouped-query attention, tied lm_head")
FAMILY = SPEC.family()
