"""The generic name table (families/names.py) on 44 model types as transformers builds them, and on
fairseq, PyTorch nn.Transformer and timm names: at most 1% unclassified, and the groups make sense."""

from __future__ import annotations

import time

import pytest

from paramscope.anatomy import Anatomy
from paramscope.families import generic, names
from paramscope.families.base import Group, Role, Sub
from paramscope.inventory import Inventory, Tensor

from . import zoo

SSM, CONV = names.as_role(names.SSM), names.as_role(names.CONV)
DECODER_ONLY = ("llama", "gemma", "gemma2", "gemma3_text", "phi", "phi3", "qwen3", "qwen2_moe", "qwen3_moe",
                "qwen3_next", "deepseek_v2", "deepseek_v3", "gpt_oss", "falcon", "gpt_neox", "gptj", "opt", "bloom",
                "olmo", "olmo2", "starcoder2", "cohere", "granite", "mamba", "jamba")
ENCODER_ONLY = ("modernbert", "xlm", "longformer", "big_bird", "mpnet", "nomic_bert", "vit", "dinov2", "wav2vec2")
MULTIMODAL = ("clip", "siglip", "llava", "qwen2_5_vl", "gemma3")


def placements(model_type: str, *, saved: bool = False) -> tuple[dict, list[tuple[str, int]]]:
    params = zoo.state_dict_names(model_type) if saved else zoo.names(model_type)
    fam = generic.family_for_names([n for n, _ in params], model_type)
    return {n: fam.place(n) for n, _ in params}, params


def test_the_zoo_is_the_issue_s_44_types() -> None:
    assert len(zoo.ZOO) == 44
    assert set(DECODER_ONLY) | set(ENCODER_ONLY) | set(MULTIMODAL) | {"bart", "mbart", "mt5", "funnel", "whisper"} \
        == set(zoo.ZOO)


@pytest.mark.parametrize("model_type", list(zoo.ZOO))
@pytest.mark.parametrize("saved", [False, True], ids=["named_parameters", "state_dict"])
def test_at_most_one_percent_unclassified(model_type: str, saved: bool) -> None:
    placed, params = placements(model_type, saved=saved)
    total = sum(n for _, n in params)
    if not saved:
        assert total == sum(p.numel() for p in zoo.build(model_type).parameters())
    lost = [name for name, _ in params if placed[name].group is Group.UNCLASSIFIED]
    assert sum(n for name, n in params if name in set(lost)) <= total / 100, lost


@pytest.mark.parametrize("model_type", list(zoo.ZOO))
def test_structure(model_type: str) -> None:
    """Per-layer norms are never final_norm; decoder-only models have no encoder, encoder-only no decoder;
    only multimodal models have towers."""
    placed, _ = placements(model_type, saved=True)
    groups = {p.group for p in placed.values()}
    for name, p in placed.items():
        if p.group is Group.FINAL_NORM:
            assert not any(part.isdigit() for part in name.split(".")), name
            assert p.role is Role.NORM, name
    if model_type in DECODER_ONLY:
        assert Group.DECODER in groups and Group.ENCODER not in groups
    if model_type in ENCODER_ONLY:
        assert Group.ENCODER in groups and Group.DECODER not in groups
    towers = {Group.VISION, Group.AUDIO, Group.PROJECTOR}
    assert bool(groups & towers) == (model_type in MULTIMODAL)


# name -> (group, role, sub) for tensors that tell the structure apart.
EXPECT: dict[str, dict[str, tuple[Group, Role] | tuple[Group, Role, Sub | None]]] = {
    "llama": {"model.layers.0.self_attn.q_proj.weight": (Group.DECODER, Role.ATTENTION),
              "model.layers.1.mlp.down_proj.weight": (Group.DECODER, Role.FFN),
              "model.layers.0.input_layernorm.weight": (Group.DECODER, Role.NORM),
              "model.norm.weight": (Group.FINAL_NORM, Role.NORM),
              "model.embed_tokens.weight": (Group.EMBEDDINGS, Role.EMBEDDING),
              "lm_head.weight": (Group.HEADS, Role.HEAD)},
    "bart": {"model.decoder.layers.0.encoder_attn.q_proj.weight": (Group.DECODER, Role.ATTENTION),
             "model.decoder.layers.1.encoder_attn_layer_norm.weight": (Group.DECODER, Role.NORM),
             "model.encoder.layers.0.fc1.weight": (Group.ENCODER, Role.FFN),
             "model.encoder.layers.0.final_layer_norm.weight": (Group.ENCODER, Role.NORM),
             "model.encoder.layernorm_embedding.weight": (Group.EMBEDDINGS, Role.NORM),
             "model.shared.weight": (Group.EMBEDDINGS, Role.EMBEDDING),
             "final_logits_bias": (Group.HEADS, Role.HEAD)},
    "mbart": {"model.decoder.layers.0.encoder_attn.out_proj.weight": (Group.DECODER, Role.ATTENTION),
              "model.encoder.layer_norm.weight": (Group.FINAL_NORM, Role.NORM)},
    "whisper": {"model.decoder.layers.0.encoder_attn.k_proj.weight": (Group.DECODER, Role.ATTENTION),
                "model.encoder.layers.0.self_attn.k_proj.weight": (Group.ENCODER, Role.ATTENTION),
                "model.encoder.conv1.weight": (Group.EMBEDDINGS, CONV),
                "model.encoder.conv2.bias": (Group.EMBEDDINGS, CONV),
                "proj_out.weight": (Group.HEADS, Role.HEAD)},
    "wav2vec2": {"wav2vec2.feature_extractor.conv_layers.0.conv.weight": (Group.EMBEDDINGS, CONV),
                 "wav2vec2.feature_extractor.conv_layers.0.layer_norm.weight": (Group.EMBEDDINGS, Role.NORM),
                 "wav2vec2.encoder.layers.0.feed_forward.output_dense.weight": (Group.ENCODER, Role.FFN),
                 "wav2vec2.masked_spec_embed": (Group.EMBEDDINGS, Role.EMBEDDING)},
    "mt5": {"decoder.block.0.layer.1.EncDecAttention.q.weight": (Group.DECODER, Role.ATTENTION),
            "decoder.block.0.layer.2.DenseReluDense.wi_0.weight": (Group.DECODER, Role.FFN),
            "encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight": (Group.ENCODER, Role.ATTENTION),
            "encoder.final_layer_norm.weight": (Group.FINAL_NORM, Role.NORM)},
    "modernbert": {"model.layers.0.attn.Wqkv.weight": (Group.ENCODER, Role.ATTENTION),
                   "model.layers.2.mlp.Wo.weight": (Group.ENCODER, Role.FFN),
                   "model.layers.1.attn_norm.weight": (Group.ENCODER, Role.NORM),
                   "model.final_norm.weight": (Group.FINAL_NORM, Role.NORM),
                   "head.dense.weight": (Group.HEADS, Role.HEAD),
                   "decoder.weight": (Group.HEADS, Role.HEAD)},
    "nomic_bert": {"layers.0.self_attn.q_proj.weight": (Group.ENCODER, Role.ATTENTION),
                   "layers.1.post_mlp_layernorm.weight": (Group.ENCODER, Role.NORM)},
    "vit": {"vit.layers.0.attention.q_proj.weight": (Group.ENCODER, Role.ATTENTION),
            "vit.layers.0.layernorm_before.weight": (Group.ENCODER, Role.NORM),
            "vit.embeddings.cls_token": (Group.EMBEDDINGS, Role.EMBEDDING),
            "vit.embeddings.patch_embeddings.projection.weight": (Group.EMBEDDINGS, Role.EMBEDDING),
            "vit.layernorm.weight": (Group.FINAL_NORM, Role.NORM),
            "classifier.weight": (Group.HEADS, Role.HEAD)},
    "dinov2": {"encoder.layer.0.layer_scale1.lambda1": (Group.ENCODER, Role.OTHER),
               "encoder.layer.1.mlp.fc2.weight": (Group.ENCODER, Role.FFN)},
    "longformer": {"longformer.encoder.layer.0.output.dense.weight": (Group.ENCODER, Role.FFN),
                   "longformer.encoder.layer.0.attention.output.dense.weight": (Group.ENCODER, Role.ATTENTION),
                   "longformer.encoder.layer.0.attention.self.key_global.weight": (Group.ENCODER, Role.ATTENTION),
                   "lm_head.decoder.weight": (Group.HEADS, Role.HEAD)},
    "mpnet": {"mpnet.encoder.layer.0.output.dense.weight": (Group.ENCODER, Role.FFN),
              "mpnet.encoder.layer.0.attention.attn.q.weight": (Group.ENCODER, Role.ATTENTION),
              "mpnet.encoder.relative_attention_bias.weight": (Group.ENCODER, Role.ATTENTION)},
    "xlm": {"transformer.attentions.0.q_lin.weight": (Group.ENCODER, Role.ATTENTION),
            "transformer.ffns.1.lin2.weight": (Group.ENCODER, Role.FFN),
            "transformer.layer_norm1.0.weight": (Group.ENCODER, Role.NORM),
            "transformer.layer_norm_emb.weight": (Group.EMBEDDINGS, Role.NORM),
            "pred_layer.proj.weight": (Group.HEADS, Role.HEAD)},
    "big_bird": {"bert.pooler.weight": (Group.POOLER, Role.POOLER),
                 "cls.predictions.transform.dense.weight": (Group.HEADS, Role.HEAD)},
    "funnel": {"funnel.encoder.blocks.1.0.attention.r_kernel": (Group.ENCODER, Role.ATTENTION),
               "funnel.encoder.blocks.0.0.ffn.linear_1.weight": (Group.ENCODER, Role.FFN)},
    "qwen2_moe": {"model.layers.0.mlp.experts.gate_up_proj": (Group.DECODER, Role.FFN, Sub.EXPERTS),
                  "model.layers.0.mlp.gate.weight": (Group.DECODER, Role.FFN, Sub.ROUTER),
                  "model.layers.0.mlp.shared_expert.up_proj.weight": (Group.DECODER, Role.FFN, None),
                  "model.layers.0.mlp.shared_expert_gate.weight": (Group.DECODER, Role.FFN, Sub.ROUTER)},
    "deepseek_v3": {"model.layers.1.mlp.experts.down_proj": (Group.DECODER, Role.FFN, Sub.EXPERTS),
                    "model.layers.1.mlp.gate.e_score_correction_bias": (Group.DECODER, Role.FFN, Sub.ROUTER),
                    "model.layers.1.mlp.shared_experts.down_proj.weight": (Group.DECODER, Role.FFN, None),
                    "model.layers.0.mlp.gate_proj.weight": (Group.DECODER, Role.FFN, None),
                    "model.layers.0.self_attn.kv_a_layernorm.weight": (Group.DECODER, Role.NORM),
                    "model.layers.0.self_attn.kv_b_proj.weight": (Group.DECODER, Role.ATTENTION)},
    "gpt_oss": {"model.layers.0.mlp.router.weight": (Group.DECODER, Role.FFN, Sub.ROUTER),
                "model.layers.0.mlp.experts.gate_up_proj_bias": (Group.DECODER, Role.FFN, Sub.EXPERTS),
                "model.layers.0.self_attn.sinks": (Group.DECODER, Role.ATTENTION)},
    "jamba": {"model.layers.0.mamba.in_proj.weight": (Group.DECODER, SSM),
              "model.layers.0.mamba.dt_layernorm.weight": (Group.DECODER, Role.NORM),
              "model.layers.1.feed_forward.router.weight": (Group.DECODER, Role.FFN, Sub.ROUTER),
              "model.layers.1.feed_forward.experts.down_proj": (Group.DECODER, Role.FFN, Sub.EXPERTS),
              "model.layers.0.feed_forward.up_proj.weight": (Group.DECODER, Role.FFN, None)},
    "mamba": {"backbone.layers.0.mixer.A_log": (Group.DECODER, SSM),
              "backbone.layers.1.mixer.out_proj.weight": (Group.DECODER, SSM),
              "backbone.norm_f.weight": (Group.FINAL_NORM, Role.NORM),
              "backbone.embeddings.weight": (Group.EMBEDDINGS, Role.EMBEDDING)},
    "qwen3_next": {"model.layers.0.linear_attn.in_proj_qkvz.weight": (Group.DECODER, SSM),
                   "model.layers.1.self_attn.q_norm.weight": (Group.DECODER, Role.NORM)},
    "falcon": {"transformer.h.0.self_attention.query_key_value.weight": (Group.DECODER, Role.ATTENTION),
               "transformer.ln_f.weight": (Group.FINAL_NORM, Role.NORM)},
    "bloom": {"transformer.word_embeddings_layernorm.weight": (Group.EMBEDDINGS, Role.NORM)},
    "gpt_neox": {"gpt_neox.layers.0.attention.query_key_value.weight": (Group.DECODER, Role.ATTENTION),
                 "gpt_neox.final_layer_norm.weight": (Group.FINAL_NORM, Role.NORM),
                 "gpt_neox.embed_in.weight": (Group.EMBEDDINGS, Role.EMBEDDING)},
    "opt": {"model.decoder.final_layer_norm.weight": (Group.FINAL_NORM, Role.NORM),
            "model.decoder.layers.0.final_layer_norm.weight": (Group.DECODER, Role.NORM)},
    "clip": {"vision_model.encoder.layers.0.mlp.fc1.weight": (Group.VISION, Role.FFN),
             "vision_model.embeddings.class_embedding": (Group.VISION, Role.EMBEDDING),
             "vision_model.pre_layrnorm.weight": (Group.VISION, Role.NORM),
             "text_model.encoder.layers.0.self_attn.q_proj.weight": (Group.ENCODER, Role.ATTENTION),
             "text_model.embeddings.token_embedding.weight": (Group.EMBEDDINGS, Role.EMBEDDING),
             "logit_scale": (Group.HEADS, Role.HEAD),
             "visual_projection.weight": (Group.HEADS, Role.HEAD)},
    "siglip": {"vision_model.head.attention.in_proj_weight": (Group.VISION, Role.POOLER),
               "text_model.head.weight": (Group.HEADS, Role.HEAD)},
    "llava": {"model.vision_tower.encoder.layers.0.self_attn.q_proj.weight": (Group.VISION, Role.ATTENTION),
              "model.vision_tower.post_layernorm.weight": (Group.VISION, Role.NORM),
              "model.multi_modal_projector.linear_1.weight": (Group.PROJECTOR, Role.OTHER),
              "model.language_model.layers.0.mlp.up_proj.weight": (Group.DECODER, Role.FFN),
              "model.language_model.embed_tokens.weight": (Group.EMBEDDINGS, Role.EMBEDDING),
              "model.language_model.norm.weight": (Group.FINAL_NORM, Role.NORM),
              "lm_head.weight": (Group.HEADS, Role.HEAD)},
    "qwen2_5_vl": {"model.visual.blocks.0.attn.qkv.weight": (Group.VISION, Role.ATTENTION),
                   "model.visual.patch_embed.proj.weight": (Group.VISION, Role.EMBEDDING),
                   "model.visual.merger.mlp.0.weight": (Group.PROJECTOR, Role.OTHER),
                   "model.visual.merger.ln_q.weight": (Group.PROJECTOR, Role.NORM),
                   "model.language_model.layers.1.self_attn.q_proj.bias": (Group.DECODER, Role.ATTENTION)},
    "gemma3": {"model.vision_tower.encoder.layers.1.layer_norm2.weight": (Group.VISION, Role.NORM),
               "model.multi_modal_projector.mm_input_projection_weight": (Group.PROJECTOR, Role.OTHER),
               "model.multi_modal_projector.mm_soft_emb_norm.weight": (Group.PROJECTOR, Role.NORM),
               "model.language_model.layers.0.self_attn.k_norm.weight": (Group.DECODER, Role.NORM)},
}


@pytest.mark.parametrize("model_type", list(EXPECT))
def test_groups_and_roles(model_type: str) -> None:
    placed, _ = placements(model_type, saved=True)
    for name, want in EXPECT[model_type].items():
        p = placed[name]
        got = (p.group, p.role, p.sub) if len(want) == 3 else (p.group, p.role)
        assert got == want, name


def test_tower_paths_keep_their_own_structure() -> None:
    placed, _ = placements("llava")
    p = placed["model.vision_tower.encoder.layers.1.self_attn.q_proj.weight"]
    assert (p.path, p.leaf) == (("encoder", "layers", "1", "self_attn", "q_proj"), "weight")
    p = placed["model.language_model.layers.1.self_attn.q_proj.weight"]
    assert (p.group, p.path) == (Group.DECODER, ("layers", "1", "self_attn", "q_proj"))


def test_the_anatomy_of_a_multimodal_checkpoint() -> None:
    """The family from family_for_names plugs into the tree: towers first, numbered layers collapsed."""
    params = zoo.names("llava")
    inv = Inventory(tuple(Tensor(n, tuple(p.shape)) for n, p in zoo.build("llava").named_parameters()),
                    "<llava>", "unknown", "LlavaForConditionalGeneration")
    a = Anatomy(inv, generic.family_for_names([n for n, _ in params], "llava"))
    assert a.tree.numel == a.parameters == sum(n for _, n in params)
    assert [g.name for g in a.tree.children] == ["vision_tower", "projector", "embeddings", "decoder",
                                                 "final_norm", "heads"]
    decoder = next(g for g in a.tree.children if g.name == "decoder")
    assert [n.repeat for _, n in decoder.walk() if n.first is not None] == [2]
    assert a.totals["unclassified"] == 0


# --- Names of other frameworks ---------------------------------------------------------------------------

def _table(names_: list[str], model_type: str | None = None) -> dict[str, tuple[Group, Role]]:
    return {n: (p.group, p.role) for n, p in names.classify(names_, model_type).items()}


@pytest.mark.filterwarnings("ignore:enable_nested_tensor")
def test_pytorch_nn_transformer() -> None:
    import torch

    with torch.device("meta"):
        full = torch.nn.Transformer(d_model=16, nhead=2, num_encoder_layers=2, num_decoder_layers=2,
                                    dim_feedforward=32)
        layer = torch.nn.TransformerEncoderLayer(16, 2, 32)
        stack = torch.nn.TransformerEncoder(torch.nn.TransformerEncoderLayer(16, 2, 32), 2,
                                            enable_nested_tensor=False)
    got = _table([n for n, _ in full.named_parameters()])
    assert got["encoder.layers.0.self_attn.in_proj_weight"] == (Group.ENCODER, Role.ATTENTION)
    assert got["encoder.layers.1.linear1.weight"] == (Group.ENCODER, Role.FFN)
    assert got["encoder.layers.0.norm1.weight"] == (Group.ENCODER, Role.NORM)
    assert got["decoder.layers.0.multihead_attn.out_proj.weight"] == (Group.DECODER, Role.ATTENTION)
    assert got["decoder.layers.1.norm3.bias"] == (Group.DECODER, Role.NORM)
    assert got["encoder.norm.weight"] == got["decoder.norm.weight"] == (Group.FINAL_NORM, Role.NORM)
    for module in (layer, stack):  # an encoder layer alone, or a stack of them with no prefix
        got = _table([n for n, _ in module.named_parameters()])
        assert {g for g, _ in got.values()} == {Group.ENCODER}, got
        assert got[next(n for n in got if n.endswith("norm1.weight"))][1] is Role.NORM


FAIRSEQ_ROBERTA = [
    "encoder.sentence_encoder.embed_tokens.weight", "encoder.sentence_encoder.embed_positions.weight",
    "encoder.sentence_encoder.layernorm_embedding.weight", "encoder.sentence_encoder.layernorm_embedding.bias",
    *(f"encoder.sentence_encoder.layers.{i}.{m}.{w}" for i in range(2) for w in ("weight", "bias")
      for m in ("self_attn.k_proj", "self_attn.v_proj", "self_attn.q_proj", "self_attn.out_proj",
                "self_attn_layer_norm", "fc1", "fc2", "final_layer_norm")),
    "encoder.lm_head.weight", "encoder.lm_head.bias", "encoder.lm_head.dense.weight", "encoder.lm_head.dense.bias",
    "encoder.lm_head.layer_norm.weight", "encoder.lm_head.layer_norm.bias",
]
FAIRSEQ_TRANSLATION = [
    "encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "decoder.output_projection.weight",
    *(f"{s}.layers.{i}.{m}.weight" for s in ("encoder", "decoder") for i in range(2)
      for m in ("self_attn.k_proj", "self_attn.out_proj", "self_attn_layer_norm", "fc1", "fc2", "final_layer_norm")),
    *(f"decoder.layers.{i}.{m}.weight" for i in range(2)
      for m in ("encoder_attn.k_proj", "encoder_attn.q_proj", "encoder_attn_layer_norm")),
    "encoder.layer_norm.weight", "decoder.layer_norm.weight",
]


def test_fairseq_names() -> None:
    got = _table(FAIRSEQ_ROBERTA)
    assert got["encoder.sentence_encoder.layers.1.self_attn.q_proj.weight"] == (Group.ENCODER, Role.ATTENTION)
    assert got["encoder.sentence_encoder.layers.0.fc2.bias"] == (Group.ENCODER, Role.FFN)
    assert got["encoder.sentence_encoder.layernorm_embedding.weight"] == (Group.EMBEDDINGS, Role.NORM)
    assert got["encoder.lm_head.dense.weight"] == got["encoder.lm_head.bias"] == (Group.HEADS, Role.HEAD)
    assert Group.UNCLASSIFIED not in {g for g, _ in got.values()}
    got = _table(FAIRSEQ_TRANSLATION)
    assert got["decoder.layers.1.encoder_attn.k_proj.weight"] == (Group.DECODER, Role.ATTENTION)
    assert got["encoder.layers.0.fc1.weight"] == (Group.ENCODER, Role.FFN)
    assert got["decoder.output_projection.weight"] == (Group.HEADS, Role.HEAD)
    assert got["encoder.layer_norm.weight"] == (Group.FINAL_NORM, Role.NORM)
    assert Group.UNCLASSIFIED not in {g for g, _ in got.values()}


TIMM_VIT = ["cls_token", "pos_embed", "patch_embed.proj.weight", "patch_embed.proj.bias",
            *(f"blocks.{i}.{m}" for i in range(3) for m in (
                "norm1.weight", "attn.qkv.weight", "attn.qkv.bias", "attn.proj.weight", "ls1.gamma", "norm2.weight",
                "mlp.fc1.weight", "mlp.fc2.weight", "ls2.gamma")),
            "norm.weight", "norm.bias", "head.weight", "head.bias"]


def test_timm_vit_names() -> None:
    got = _table(TIMM_VIT)
    assert got["cls_token"] == got["pos_embed"] == got["patch_embed.proj.weight"] == (Group.EMBEDDINGS,
                                                                                     Role.EMBEDDING)
    assert got["blocks.2.attn.qkv.weight"] == got["blocks.0.attn.proj.weight"] == (Group.ENCODER, Role.ATTENTION)
    assert got["blocks.1.mlp.fc1.weight"] == (Group.ENCODER, Role.FFN)
    assert got["blocks.1.norm2.weight"] == (Group.ENCODER, Role.NORM)
    assert got["blocks.1.ls1.gamma"] == (Group.ENCODER, Role.OTHER)
    assert got["norm.weight"] == (Group.FINAL_NORM, Role.NORM)
    assert got["head.weight"] == (Group.HEADS, Role.HEAD)


def test_nomic_bert_remote_code_names() -> None:
    """nomic-embed-text as published (trust_remote_code), before transformers renames it."""
    got = _table(["embeddings.word_embeddings.weight", "embeddings.token_type_embeddings.weight", "emb_ln.weight",
                  "emb_ln.bias", *(f"encoder.layers.{i}.{m}.weight" for i in range(2) for m in (
                      "attn.Wqkv", "attn.out_proj", "mlp.fc11", "mlp.fc12", "mlp.fc2", "norm1", "norm2"))])
    assert got["emb_ln.weight"] == (Group.EMBEDDINGS, Role.NORM)
    assert got["encoder.layers.1.attn.Wqkv.weight"] == got["encoder.layers.1.attn.out_proj.weight"] == (
        Group.ENCODER, Role.ATTENTION)
    assert got["encoder.layers.0.mlp.fc12.weight"] == (Group.ENCODER, Role.FFN)
    assert got["encoder.layers.0.norm2.weight"] == (Group.ENCODER, Role.NORM)


def test_hub_checkpoint_names_before_transformers_5_renamed_them() -> None:
    """Folders on the Hub keep the names of their day: ViT's attention.attention.query, llava's
    language_model.model.layers; gemma3's vision_tower.vision_model."""
    got = _table(["vit.embeddings.cls_token", "vit.encoder.layer.0.attention.attention.query.weight",
                  "vit.encoder.layer.0.attention.output.dense.weight", "vit.encoder.layer.0.intermediate.dense.weight",
                  "vit.encoder.layer.0.output.dense.weight", "vit.encoder.layer.0.layernorm_before.weight",
                  "vit.layernorm.weight", "vit.pooler.dense.weight", "classifier.weight"])
    assert got["vit.encoder.layer.0.attention.output.dense.weight"] == (Group.ENCODER, Role.ATTENTION)
    assert got["vit.encoder.layer.0.output.dense.weight"] == (Group.ENCODER, Role.FFN)
    assert got["vit.pooler.dense.weight"] == (Group.POOLER, Role.POOLER)
    got = _table(["language_model.model.embed_tokens.weight", "language_model.model.layers.0.mlp.up_proj.weight",
                  "language_model.model.norm.weight", "language_model.lm_head.weight",
                  "vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight",
                  "vision_tower.vision_model.post_layernorm.weight", "multi_modal_projector.linear_1.weight"])
    assert got["language_model.model.layers.0.mlp.up_proj.weight"] == (Group.DECODER, Role.FFN)
    assert got["language_model.lm_head.weight"] == (Group.HEADS, Role.HEAD)
    assert got["vision_tower.vision_model.encoder.layers.0.self_attn.q_proj.weight"] == (Group.VISION,
                                                                                         Role.ATTENTION)
    assert got["multi_modal_projector.linear_1.weight"][0] is Group.PROJECTOR


def test_structure_decides_encoder_or_decoder() -> None:
    # A BERT used as a decoder: its stack is called encoder, but its blocks cross-attend.
    got = _table(["bert.embeddings.word_embeddings.weight", "bert.encoder.layer.0.attention.self.query.weight",
                  "bert.encoder.layer.0.crossattention.self.query.weight", "cls.predictions.transform.dense.weight"])
    assert got["bert.encoder.layer.0.attention.self.query.weight"][0] is Group.DECODER
    # The same unnamed stack is a decoder beside a causal-LM head, an encoder beside token types...
    layers = ["model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight", "model.norm.weight"]
    assert _table([*layers, "lm_head.weight"])["model.layers.0.self_attn.q_proj.weight"][0] is Group.DECODER
    assert _table([*layers, "model.embeddings.token_type_embeddings.weight"])[
        "model.layers.0.self_attn.q_proj.weight"][0] is Group.ENCODER
    # ...or when config.json says so; with nothing to go by, a decoder (as most unknown models are).
    assert _table(layers, "nomic_bert")["model.layers.0.self_attn.q_proj.weight"][0] is Group.ENCODER
    assert _table(layers)["model.layers.0.self_attn.q_proj.weight"][0] is Group.DECODER
    # A vision model alone is the model, not a tower.
    alone = _table(["vision_model.embeddings.patch_embedding.weight",
                    "vision_model.encoder.layers.0.self_attn.q_proj.weight", "vision_model.post_layernorm.weight"])
    assert [g for g, _ in alone.values()] == [Group.EMBEDDINGS, Group.ENCODER, Group.FINAL_NORM]


def test_one_name_at_a_time() -> None:
    """GENERIC.place without the rest of the checkpoint: an unnamed stack is a decoder."""
    place = generic.GENERIC.place
    assert (place("model.layers.3.mlp.up_proj.weight").group, place("model.norm.weight").group) == (
        Group.DECODER, Group.FINAL_NORM)
    assert place("stray").group is Group.UNCLASSIFIED
    assert generic.GENERIC.canonical("model.layers.3.mlp.up_proj.weight") == "decoder.layers.3.mlp.up_proj.weight"


def _deepseek_v3_names() -> list[str]:
    """The tensor names of DeepSeek-V3's FP8 checkpoint: 61 layers (3 dense), 256 experts, MTP layer 61."""
    out = ["model.embed_tokens.weight", "model.norm.weight", "lm_head.weight"]
    for i in range(62):
        p = f"model.layers.{i}."
        out += [p + n for n in ("input_layernorm.weight", "post_attention_layernorm.weight",
                                "self_attn.q_a_layernorm.weight", "self_attn.kv_a_layernorm.weight")]
        out += [p + f"self_attn.{m}.{w}" for m in ("q_a_proj", "q_b_proj", "kv_a_proj_with_mqa", "kv_b_proj", "o_proj")
                for w in ("weight", "weight_scale_inv")]
        if i < 3:
            out += [p + f"mlp.{m}_proj.{w}" for m in ("gate", "up", "down") for w in ("weight", "weight_scale_inv")]
            continue
        out += [p + "mlp.gate.weight", p + "mlp.gate.e_score_correction_bias"]
        out += [p + f"mlp.shared_experts.{m}_proj.{w}" for m in ("gate", "up", "down")
                for w in ("weight", "weight_scale_inv")]
        out += [p + f"mlp.experts.{e}.{m}_proj.{w}" for e in range(256) for m in ("gate", "up", "down")
                for w in ("weight", "weight_scale_inv")]
    out += [f"model.layers.61.{n}.weight" for n in ("enorm", "hnorm", "eh_proj", "embed_tokens", "shared_head.head",
                                                     "shared_head.norm")]
    return out


def test_linear_at_deepseek_v3_scale() -> None:
    all_names = _deepseek_v3_names()
    assert len(all_names) > 90_000
    names.classify(all_names[:100])  # compile the tables
    start = time.process_time()
    placed = names.classify(all_names, "deepseek_v3")
    elapsed = time.process_time() - start
    assert not [n for n, p in placed.items() if p.group is Group.UNCLASSIFIED]
    experts = sum(1 for p in placed.values() if p.sub is Sub.EXPERTS)
    assert experts == 59 * 256 * 6  # layers 3-61 (61 is the multi-token-prediction layer)
    assert elapsed < 1.5, elapsed  # about 0.2 s on an idle core; the floor is making 90,000 records
