"""Tiny configs of 44 popular model types, built by transformers on the meta device.

``ZOO[model_type] = (model class, config fields)``: a few layers and small widths, so that all 44 build in a
few seconds. ``build(model_type)`` returns the module (cached); ``names(model_type)`` its parameter names
and sizes. Only tests and ``scripts/zoo.py`` import this module (it needs torch and transformers).
"""

from __future__ import annotations

import functools
from typing import Any

_TEXT: dict[str, Any] = dict(vocab_size=128, hidden_size=32, intermediate_size=64, num_hidden_layers=2,
                             num_attention_heads=4, max_position_embeddings=64)
_GQA: dict[str, Any] = dict(_TEXT, num_key_value_heads=2, head_dim=8)
_BERT: dict[str, Any] = dict(_TEXT, type_vocab_size=2)
_SEQ2SEQ: dict[str, Any] = dict(vocab_size=128, d_model=32, encoder_layers=2, decoder_layers=2,
                                encoder_attention_heads=4, decoder_attention_heads=4, encoder_ffn_dim=64,
                                decoder_ffn_dim=64, max_position_embeddings=64)
_VISION: dict[str, Any] = dict(hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
                               image_size=32, patch_size=8)
_MOE: dict[str, Any] = dict(num_experts=4, num_experts_per_tok=2, moe_intermediate_size=16)

# model_type -> (class, config fields). Classes are the ones published checkpoints name in `architectures`.
ZOO: dict[str, tuple[str, dict[str, Any]]] = {
    "llama": ("LlamaForCausalLM", _GQA),
    "gemma": ("GemmaForCausalLM", _GQA),
    "gemma2": ("Gemma2ForCausalLM", _GQA),
    "gemma3_text": ("Gemma3ForCausalLM", _GQA),
    "phi": ("PhiForCausalLM", _TEXT),
    "phi3": ("Phi3ForCausalLM", dict(_GQA, pad_token_id=0)),
    "qwen3": ("Qwen3ForCausalLM", _GQA),
    "qwen2_moe": ("Qwen2MoeForCausalLM", dict(_GQA, **_MOE, shared_expert_intermediate_size=32)),
    "qwen3_moe": ("Qwen3MoeForCausalLM", dict(_GQA, **_MOE)),
    "qwen3_next": ("Qwen3NextForCausalLM", dict(_GQA, **_MOE, num_hidden_layers=4, full_attention_interval=2,
                                                shared_expert_intermediate_size=32, linear_num_value_heads=4,
                                                linear_num_key_heads=2, linear_key_head_dim=8,
                                                linear_value_head_dim=8)),
    "deepseek_v2": ("DeepseekV2ForCausalLM", dict(_TEXT, n_routed_experts=4, num_experts_per_tok=2,
                                                  moe_intermediate_size=16, n_shared_experts=1,
                                                  first_k_dense_replace=1, q_lora_rank=16, kv_lora_rank=16,
                                                  qk_rope_head_dim=4, qk_nope_head_dim=4, v_head_dim=8,
                                                  n_group=1, topk_group=1)),
    "deepseek_v3": ("DeepseekV3ForCausalLM", dict(_TEXT, n_routed_experts=4, num_experts_per_tok=2,
                                                  moe_intermediate_size=16, n_shared_experts=1,
                                                  first_k_dense_replace=1, q_lora_rank=16, kv_lora_rank=16,
                                                  qk_rope_head_dim=4, qk_nope_head_dim=4, v_head_dim=8,
                                                  n_group=1, topk_group=1)),
    "gpt_oss": ("GptOssForCausalLM", dict(_GQA, num_local_experts=4, num_experts_per_tok=2)),
    "falcon": ("FalconForCausalLM", dict(vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4)),
    "gpt_neox": ("GPTNeoXForCausalLM", _TEXT),
    "gptj": ("GPTJForCausalLM", dict(vocab_size=128, n_embd=32, n_layer=2, n_head=4, n_positions=64, rotary_dim=4)),
    "opt": ("OPTForCausalLM", dict(vocab_size=128, hidden_size=32, word_embed_proj_dim=32, ffn_dim=64,
                                   num_hidden_layers=2, num_attention_heads=4, max_position_embeddings=64)),
    "bloom": ("BloomForCausalLM", dict(vocab_size=128, hidden_size=32, n_layer=2, n_head=4)),
    "olmo": ("OlmoForCausalLM", _GQA),
    "olmo2": ("Olmo2ForCausalLM", _GQA),
    "starcoder2": ("Starcoder2ForCausalLM", _GQA),
    "cohere": ("CohereForCausalLM", _GQA),
    "granite": ("GraniteForCausalLM", _GQA),
    "mamba": ("MambaForCausalLM", dict(vocab_size=128, hidden_size=32, state_size=4, num_hidden_layers=2,
                                       expand=2, conv_kernel=4)),
    "jamba": ("JambaForCausalLM", dict(_GQA, num_hidden_layers=4, attn_layer_period=2, attn_layer_offset=1,
                                       expert_layer_period=2, expert_layer_offset=1, num_experts=4,
                                       num_experts_per_tok=2, mamba_d_state=4, mamba_d_conv=4, mamba_expand=2,
                                       mamba_dt_rank=4, use_mamba_kernels=False)),
    "bart": ("BartForConditionalGeneration", _SEQ2SEQ),
    "mbart": ("MBartForConditionalGeneration", _SEQ2SEQ),
    "mt5": ("MT5ForConditionalGeneration", dict(vocab_size=128, d_model=32, d_kv=8, d_ff=64, num_layers=2,
                                               num_decoder_layers=2, num_heads=4)),
    "modernbert": ("ModernBertForMaskedLM", dict(_TEXT, num_hidden_layers=3, global_attn_every_n_layers=3,
                                                            pad_token_id=0, bos_token_id=1, eos_token_id=2,
                                                            cls_token_id=1, sep_token_id=2)),
    "xlm": ("XLMWithLMHeadModel", dict(vocab_size=128, emb_dim=32, n_layers=2, n_heads=4, max_position_embeddings=64)),
    "longformer": ("LongformerForMaskedLM", dict(_BERT, attention_window=8)),
    "big_bird": ("BigBirdForPreTraining", dict(_BERT, attention_type="original_full")),
    "funnel": ("FunnelForMaskedLM", dict(vocab_size=128, d_model=32, n_head=4, d_head=8, d_inner=64,
                                         block_sizes=[1, 1], num_decoder_layers=1)),
    "mpnet": ("MPNetForMaskedLM", _TEXT),
    "nomic_bert": ("NomicBertModel", _BERT),
    "vit": ("ViTForImageClassification", dict(_VISION, num_labels=10)),
    "dinov2": ("Dinov2Model", _VISION),
    "clip": ("CLIPModel", dict(text_config=dict(vocab_size=128, hidden_size=32, intermediate_size=64,
                                                num_hidden_layers=2, num_attention_heads=4,
                                                max_position_embeddings=16),
                               vision_config=_VISION, projection_dim=16)),
    "siglip": ("SiglipModel", dict(text_config=dict(vocab_size=128, hidden_size=32, intermediate_size=64,
                                                    num_hidden_layers=2, num_attention_heads=4,
                                                    max_position_embeddings=16),
                                   vision_config=_VISION)),
    "whisper": ("WhisperForConditionalGeneration", dict(_SEQ2SEQ, num_mel_bins=8, max_source_positions=16,
                                                        max_target_positions=16, pad_token_id=0,
                                                        bos_token_id=1, eos_token_id=2,
                                                        decoder_start_token_id=1)),
    "wav2vec2": ("Wav2Vec2ForCTC", dict(_TEXT, conv_dim=(16, 16), conv_stride=(5, 2), conv_kernel=(10, 3),
                                        num_conv_pos_embeddings=8, num_conv_pos_embedding_groups=4)),
    "llava": ("LlavaForConditionalGeneration", dict(text_config=dict(_GQA, model_type="llama"),
                                                    vision_config=dict(_VISION, model_type="clip_vision_model"),
                                                    image_token_index=100)),
    "qwen2_5_vl": ("Qwen2_5_VLForConditionalGeneration",
                   dict(text_config=dict(_GQA, rope_scaling={"type": "mrope", "mrope_section": [1, 1, 2]}),
                        vision_config=dict(depth=2, hidden_size=32, intermediate_size=64, num_heads=4,
                                           out_hidden_size=32, fullatt_block_indexes=[1], window_size=16,
                                           patch_size=4, spatial_merge_size=2, temporal_patch_size=2),
                        image_token_id=100, video_token_id=101, vision_start_token_id=102)),
    "gemma3": ("Gemma3ForConditionalGeneration", dict(text_config=dict(_GQA), vision_config=dict(_VISION),
                                                      mm_tokens_per_image=4, image_token_index=100)),
}


@functools.cache
def build(model_type: str) -> Any:
    """The model of ``ZOO[model_type]`` on the meta device (built once per process)."""
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    cls, fields = ZOO[model_type]
    cfg = transformers.AutoConfig.for_model(model_type, **fields)
    with torch.device("meta"):
        return getattr(transformers, cls)(cfg)


def names(model_type: str) -> list[tuple[str, int]]:
    """``named_parameters()`` of the built model: (name, numel), tied duplicates removed."""
    return [(n, p.numel()) for n, p in build(model_type).named_parameters()]


def state_dict_names(model_type: str) -> list[tuple[str, int]]:
    """``state_dict()`` keys as ``save_pretrained`` writes them: tied copies kept, persistent buffers too."""
    return [(n, t.numel()) for n, t in build(model_type).state_dict().items()]
