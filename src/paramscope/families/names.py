"""Classification as data: tensor-name patterns -> group, role and sub-role, for any checkpoint.

In the spirit of llama.cpp's ``gguf-py/gguf/tensor_mapping.py``: each pattern names one module (a dotted
segment of a tensor name, matched whole and case-insensitively) and the architectures it serves. The
tables are read by ``classify(names, model_type)``, which decides per checkpoint, from the whole set of
names, what a name alone cannot say:

- a stack of numbered blocks is ``decoder`` when its name says ``decoder`` or its blocks hold
  cross-attention (BART, Whisper, T5, a BERT used as a decoder), ``encoder`` when its name says ``encoder``,
  and otherwise (``model.layers.N``, ``blocks.N``, ``h.N``) ``encoder`` only when the checkpoint is an
  encoder-only model (its ``model_type``, or names such as ``token_type_embeddings``, ``cls_token``,
  ``pooler``, a masked-LM head) and no causal-LM head says otherwise; else ``decoder``;
- a multimodal checkpoint (a vision or audio tower beside a text model) shows each tower and its
  projector as groups of their own; a tower alone (``CLIPVisionModel``) is just a model.

Cost is linear in the number of names: numbers are replaced by ``#`` and each distinct template (about a
hundred for DeepSeek-V3's 90,000 tensors) is matched once against a few combined regexes.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass
from typing import Iterable, Sequence

from .base import Group, Placement, Role, Sub

# Roles this table knows that ``Role`` may not list yet: a state-space mixer (Mamba, Jamba's Mamba layers,
# Qwen3-Next's linear attention) and a convolutional front-end (wav2vec2's feature encoder, Whisper's
# conv1/conv2). They are reported as ``Role.OTHER`` until ``Role`` gains members of these names.
SSM, CONV = "ssm", "conv"


@dataclass(frozen=True)
class Pattern:
    """One module name (a regex for a dotted segment, or several joined by ``\\.``), what it is, and whom
    it serves."""

    segment: str
    role: str  # a Role value, or SSM / CONV
    archs: str
    sub: Sub | None = None


# --- Inside a numbered block (a layer) or a tower: the role of a tensor. First match wins. -------------
LAYER: tuple[Pattern, ...] = (
    # Norms first: a q/k norm inside attention or a norm inside a Mamba mixer is still a norm module.
    Pattern(r"\w*norm\w*|ln(_\w+|\d*)|\w+_ln|layrnorm", Role.NORM,
            "all: input_layernorm llama..., LayerNorm bert, ln_1 gpt2/gptj, norm1 timm/nn.Transformer/nomic, "
            "q_norm qwen3/gemma3, q_a_layernorm deepseek, layer_norm1.N xlm, enorm/hnorm deepseek-v3 mtp"),
    # Mixture of experts. A shared expert is a dense ffn (it runs for every token); its gate is a router.
    Pattern(r"(mlp|moe|feed_forward|block_sparse_moe|sparse_moe|ffn)\.(gate|router|gating)|router|"
            r"shared_expert_gate", Role.FFN,
            "qwen2_moe/qwen3_moe/qwen3_next/deepseek mlp.gate, gpt_oss mlp.router, jamba feed_forward.router, "
            "mixtral block_sparse_moe.gate, qwen2_moe shared_expert_gate", Sub.ROUTER),
    Pattern(r"experts", Role.FFN, "mixtral, qwen*_moe, deepseek_v2/v3, gpt_oss, jamba, qwen3_next", Sub.EXPERTS),
    Pattern(r"shared_experts?", Role.FFN, "deepseek shared_experts, qwen2_moe/qwen3_next shared_expert"),
    # State-space mixers.
    Pattern(r"mamba|linear_attn|ssm|mamba_mixer", SSM, "jamba mamba, qwen3_next linear_attn"),
    # Attention modules, self and cross.
    Pattern(r"self_attn|attn|attention|self_attention|selfattention|encoder_attn|encdecattention|"
            r"crossattention|cross_attn|cross_attention|multihead_attn|attentions|inter_attn",
            Role.ATTENTION,
            "self_attn llama/bart/clip/nn.Transformer/fairseq, attn gpt2/gptj/timm/modernbert/nomic, "
            "attention bert/vit/dinov2/wav2vec2/funnel/mpnet/gpt_neox, self_attention falcon/bloom, "
            "SelfAttention/EncDecAttention t5/mt5, encoder_attn bart/mbart/whisper/fairseq, "
            "crossattention gpt2/bert-decoder, multihead_attn nn.TransformerDecoderLayer, attentions.N xlm"),
    # Feed-forward modules.
    Pattern(r"mlp|ffn|ffns|feed_forward|feedforward|intermediate|output|densereludense|mlp_\w+",
            Role.FFN,
            "mlp llama/gpt2/clip/vit/timm/modernbert/nomic, feed_forward jamba/wav2vec2, ffn funnel, ffns.N xlm, "
            "intermediate/output bert-likes (longformer, big_bird, mpnet), DenseReluDense t5/mt5"),
    # Leaf modules named by what they compute, when no container says it.
    Pattern(r"[qkvo]_proj|qkv(_proj)?|wqkv|w[qkvo]|query|key|value|query_key_value|c_attn|[qkv]_lin|out_lin|"
            r"in_proj_(weight|bias)|q_a_proj|q_b_proj|kv_a_proj\w*|kv_b_proj|relative_attention_bias|"
            r"rel_pos\w*|relative_position\w*", Role.ATTENTION,
            "fused or split projections of any of the above; nn.MultiheadAttention in_proj_weight; "
            "mpnet/t5 relative_attention_bias"),
    Pattern(r"fc\d*|fc_in|fc_out|c_fc|gate_proj|up_proj|down_proj|gate_up_proj|dense_h_to_4h|dense_4h_to_h|"
            r"w[123]|wi(_\d)?|wo|linear_?[12]|lin[12]", Role.FFN,
            "fc1/fc2 bart/opt/whisper/fairseq, fc11/fc12 nomic (remote code), fc_in gptj, c_fc starcoder2, "
            "linear1/linear2 nn.TransformerEncoderLayer, lin1/lin2 xlm, w1/w2/w3 llama (meta)/mixtral"),
    Pattern(r"mixer|a_log|d|dt_bias|conv1d|x_proj|dt_proj", SSM, "mamba mixer, nemotron-h/falcon-h1 mixers"),
    Pattern(r"layer_scale\d*|ls\d|gamma_?\d|lambda\d", Role.OTHER, "dinov2 layer_scale1, timm ls1 (layer scale)"),
    Pattern(r"embed_tokens|embed\w*", Role.EMBEDDING, "deepseek-v3 multi-token-prediction layer embed_tokens"),
    Pattern(r"shared_head|head", Role.HEAD, "deepseek-v3 multi-token-prediction shared_head"),
    Pattern(r"eh_proj", Role.OTHER, "deepseek-v3 multi-token-prediction eh_proj"),
)

# --- Outside the blocks of the text model: the group a module alone decides. -------------------------
HEADS = Pattern(
    r"lm_head|head|heads|cls|classifier|classification_head|score|qa_outputs|pred_layer|proj_out|embed_out|"
    r"output_projection|generator_lm_head|discriminator_predictions|lm_loss|seq_relationship|predictions|mlm|"
    r"logit_scale|logit_bias|final_logits_bias|text_projection|visual_projection",
    Role.HEAD,
    "lm_head causal LMs/longformer/mpnet/wav2vec2, cls bert/big_bird, head modernbert/timm/siglip text, "
    "pred_layer xlm, proj_out whisper, embed_out gpt_neox, output_projection fairseq, "
    "classifier vit/bert, score seq-cls, logit_scale/text_projection/visual_projection clip/siglip, "
    "final_logits_bias bart/mbart")
POOLER = Pattern(r"pooler", Role.POOLER, "bert-likes, big_bird (pooler.weight), nomic_bert")
CONV_FRONT = Pattern(
    r"conv\d*|conv_layers|feature_extractor|feature_projection|subsample\w*|conv_module", CONV,
    "whisper encoder.conv1/conv2, wav2vec2 feature_extractor.conv_layers.N/feature_projection")
EMBEDDING = Pattern(
    r"\w*embed\w*|\w*emb|emb_\w+|wte|wpe|shared|cls_token|mask_token|dist_token|reg_token|register_tokens|"
    r"pos_embed|pre_layrnorm|pre_layernorm|ln_pre|norm_pre|word_embeddings_layernorm",
    Role.EMBEDDING,
    "embed_tokens llama..., embed_positions bart/opt/whisper, embeddings bert-likes/vit/mamba, "
    "word_embeddings bloom/falcon, wte/wpe gpt2/gptj, embed_in gpt_neox, shared t5/bart, tok_embeddings "
    "modernbert/llama (meta), emb_ln nomic (remote code), layer_norm_emb xlm, layernorm_embedding bart, "
    "cls_token/pos_embed/patch_embed timm, masked_spec_embed wav2vec2, pre_layrnorm clip, ln_pre openclip")

# Towers of a multimodal model (``model.vision_tower``, ``model.visual``), and what joins them to the text.
PROJECTOR = Pattern(r"\w*projector|merger|connector|aligner", Role.OTHER,
                    "llava/gemma3 multi_modal_projector, qwen2_5_vl visual.merger, mm_projector llava-1.5 (orig)")
VISION = Pattern(r"vision_tower|vision_model|visual|vision_encoder|vision_backbone|image_encoder|vision|vpm",
                 Role.OTHER, "llava/gemma3/paligemma vision_tower, clip/siglip/idefics/mllama vision_model, "
                 "qwen2_5_vl visual")
AUDIO = Pattern(r"audio_tower|audio_model|audio_encoder|audio|speech_encoder|apm", Role.OTHER,
                "qwen2_audio/voxtral audio_tower, gemma3n audio_tower")
_TOWER_WRAPPERS = {"vision_model", "model", "audio_model", "encoder_model"}  # inside a tower: not structure

# Cross-attention inside a stack's blocks makes the stack a decoder, whatever its name.
CROSS_ATTENTION = r"encoder_attn|encdecattention|crossattention|cross_attn|cross_attention|multihead_attn|inter_attn"
# Names that make an unnamed stack (``layers.N`` with no encoder/decoder around it) an encoder.
ENCODER_EVIDENCE = (
    r"token_type_embeddings|pooler|cls_token|class_embedding|patch_embed\w*|mask_token|masked_spec_embed|"
    r"predictions|seq_relationship|emb_ln|layer_norm_emb|in_proj_weight|linear1"
    r"|(embeddings\.(layernorm|norm|layer_norm))|((lm_head|head)\.(dense|transform))")
# Names of a causal-LM head, which make an unnamed stack a decoder whatever else the names say.
CAUSAL_EVIDENCE = r"lm_head\.weight|embed_out\.weight|score\.weight|output\.weight"
# model_type values of encoder-only models (config.json), checked before any name evidence.
ENCODER_TYPES = frozenset({
    "bert", "roberta", "xlm-roberta", "camembert", "albert", "distilbert", "electra", "deberta", "deberta-v2",
    "modernbert", "nomic_bert", "mpnet", "xlm", "longformer", "big_bird", "funnel", "ernie", "nezha", "rembert",
    "roformer", "esm", "mobilebert", "squeezebert", "layoutlm", "canine", "luke", "megatron-bert", "data2vec-text",
    "vit", "dinov2", "deit", "beit", "swin", "clip_vision_model", "siglip_vision_model", "clip_text_model",
    "siglip_text_model", "wav2vec2", "hubert", "wavlm", "data2vec-audio", "xlm-roberta-xl", "jina_bert",
})

# Segments that are structure, not a wrapper to strip (``model.``, ``transformer.``, ``bert.``...).
_STRUCTURE = (r"encoder|decoder|\w*_encoder|\w*_decoder|layers?|h|blocks?|stack|norm\w*|ln_\w+|\w*_norm|final_\w+|"
              r"attentions|ffns|layer_norm\d*")


def _segments(alternatives: str) -> str:
    """A regex matching one of ``alternatives`` as whole dotted segments anywhere in a name."""
    return rf"(?:^|\.)(?:{alternatives})(?=\.|$)"


@functools.cache
def _compiled() -> dict[str, re.Pattern[str]]:
    """The tables as regexes, compiled on first use: ``*_seg`` match one segment (fullmatch), ``*_any`` a
    segment anywhere in a dotted name (search). For the ordered LAYER table, a fullmatch of one alternation
    tries the patterns in table order, and ``lastgroup`` says which one matched."""
    layer = "|".join(rf"(?P<p{i}>(?:.*\.)?(?:{p.segment})(?:\..*)?)" for i, p in enumerate(LAYER))
    out = {"layer": re.compile(layer, re.I),
           "cross_any": re.compile(_segments(CROSS_ATTENTION), re.I),
           "encoder_evidence_any": re.compile(_segments(ENCODER_EVIDENCE), re.I),
           "causal_evidence": re.compile(rf"(?:{CAUSAL_EVIDENCE})", re.I),
           "structure_seg": re.compile("|".join(f"(?:{x})" for x in (
               _STRUCTURE, HEADS.segment, POOLER.segment, EMBEDDING.segment, CONV_FRONT.segment,
               *(p.segment for p in LAYER))), re.I),
           "number": re.compile(r"\.\d+(?=[.\n]|$)"),
           "split": re.compile(r"[./]")}
    for key, table in (("heads", HEADS), ("pooler", POOLER), ("conv", CONV_FRONT), ("embedding", EMBEDDING),
                       ("norm", LAYER[0]), ("projector", PROJECTOR), ("vision", VISION), ("audio", AUDIO)):
        out[f"{key}_seg"] = re.compile(rf"(?:{table.segment})", re.I)
        out[f"{key}_any"] = re.compile(_segments(table.segment), re.I)
    return out


def role_of(local: str) -> tuple[Role, Sub | None] | None:
    """The role a module path inside a layer or tower means, or None: ``self_attn.q_proj.weight`` ->
    (attention, None); ``mlp.experts.gate_up_proj`` -> (ffn, experts)."""
    m = _compiled()["layer"].fullmatch(local)
    if m is None or m.lastgroup is None:
        return None
    p = LAYER[int(m.lastgroup[1:])]
    return as_role(p.role), p.sub


def as_role(value: str) -> Role:
    try:
        return Role(value)
    except ValueError:  # SSM / CONV before Role lists them
        return Role.OTHER


def _is_number(part: str) -> bool:
    return part == "#" or part.isdigit()


@dataclass(frozen=True)
class _Context:
    """What the whole checkpoint says: the group of an unnamed stack, stacks holding cross-attention,
    whether towers are groups of their own, whether any name is in a numbered block."""

    unnamed_stack: Group
    cross_stacks: frozenset[tuple[str, ...]]
    towers: bool
    blockless: bool


@dataclass(frozen=True)
class _Rule:
    """A template's answer: group, role, sub, and where the path below the group starts in the name."""

    group: Group
    role: Role
    sub: Sub | None
    start: int
    drop_group: bool  # drop the first path segment when it repeats the group's name


def _tower_of(parts: Sequence[str]) -> tuple[Group, int] | None:
    """The tower group a name is in and the index where its path starts, or None (the text model)."""
    c = _compiled()
    for i, part in enumerate(parts[:-1]):
        if c["projector_seg"].fullmatch(part):  # the path keeps a merger's own name, not "projector" twice
            return Group.PROJECTOR, i + 1 if "projector" in part.lower() else i
    for i, part in enumerate(parts[:-1]):
        if c["vision_seg"].fullmatch(part):
            return Group.VISION, i + 1
        if c["audio_seg"].fullmatch(part):
            return Group.AUDIO, i + 1
    return None


def _strip(parts: Sequence[str]) -> int:
    """How many leading wrapper segments (``model``, ``transformer``, ``bert``, ``language_model``) to drop."""
    structure = _compiled()["structure_seg"]
    i = 0
    # Down to two segments when the last names a module (``wav2vec2.masked_spec_embed``), else three.
    keep = 2 if parts[-1].lower() not in ("weight", "bias") else 3
    while len(parts) - i >= keep and not structure.fullmatch(parts[i]) and not _is_number(parts[i + 1]):
        i += 1
    return i


def _block(parts: Sequence[str], start: int) -> int | None:
    """Index of the first numbered segment after a container at or after ``start``: a layer's number."""
    for i in range(start + 1, len(parts) - 1):
        if _is_number(parts[i]):
            return i
    return None


def _stack_group(prefix: Sequence[str], ctx: _Context) -> Group:
    if tuple(prefix) in ctx.cross_stacks:
        return Group.DECODER  # a stack whose blocks cross-attend is a decoder, whatever it is called
    for part in reversed(prefix):
        low = part.lower()
        if low == "decoder" or low.endswith("_decoder"):
            return Group.DECODER
        if low == "encoder" or low.endswith("_encoder"):
            return Group.ENCODER
    return ctx.unnamed_stack


def _tower_rule(parts: Sequence[str], group: Group, start: int) -> _Rule:
    """Inside a tower every tensor is the tower's: the role says what it is, ``other`` when no pattern does."""
    c = _compiled()
    while start < len(parts) - 1 and parts[start] in _TOWER_WRAPPERS:
        start += 1
    local = ".".join(parts[start:])
    if group is Group.PROJECTOR:
        return _Rule(group, Role.NORM if c["norm_any"].search(local) else Role.OTHER, None, start, False)
    if c["heads_seg"].fullmatch(parts[start]) and start < len(parts) - 1:
        return _Rule(group, Role.POOLER, None, start, False)  # siglip's attention-pooling head
    outside = ".".join(parts[start:-1]) if _block(parts, start) is None else ""
    if outside and c["embedding_any"].search(local):
        return _Rule(group, Role.NORM if c["norm_any"].search(local) else Role.EMBEDDING, None, start, False)
    found = role_of(local)
    if found is None:
        found = (as_role(CONV), None) if c["conv_any"].search(local) else (Role.OTHER, None)
    return _Rule(group, found[0], found[1], start, False)


def _rule(template: str, ctx: _Context) -> _Rule | None:
    c = _compiled()
    parts = c["split"].split(template)
    if ctx.towers:
        tower = _tower_of(parts)
        if tower is not None:
            return _tower_rule(parts, *tower)
    start = _strip(parts)
    rest = parts[start:]
    k = _block(parts, start)
    upto = k - 1 if k is not None else len(parts) - 1  # segments before the layer container (or the leaf)
    # Heads and pooler, wherever they hang outside a layer (``encoder.lm_head`` in fairseq).
    for i in range(start, upto):
        if c["heads_seg"].fullmatch(parts[i]):
            return _Rule(Group.HEADS, Role.HEAD, None, start, False)
        if c["pooler_seg"].fullmatch(parts[i]):
            return _Rule(Group.POOLER, Role.POOLER, None, start, True)
    if (len(rest) == 1 and c["heads_seg"].fullmatch(rest[0])) or (
            len(rest) == 2 and rest[0].lower() in ("output", "decoder")):
        # logit_scale, final_logits_bias; output.weight (Meta's llama), decoder.weight (modernbert MLM)
        return _Rule(Group.HEADS, Role.HEAD, None, start, False)
    outside = ".".join(parts[start:upto])
    local = ".".join(rest)
    if c["embedding_any"].search(outside if k is not None else local):
        return _Rule(Group.EMBEDDINGS, Role.NORM if c["norm_any"].search(local) else Role.EMBEDDING, None, start,
                     True)
    if c["conv_any"].search(outside if k is not None else local):
        return _Rule(Group.EMBEDDINGS, Role.NORM if c["norm_any"].search(local) else as_role(CONV), None, start,
                     True)
    if k is not None:
        found = role_of(".".join(parts[k - 1:]))
        if found is None:
            return None
        return _Rule(_stack_group(parts[start:k - 1], ctx), found[0], found[1], start, True)
    found = role_of(local)
    if found is None:
        return None
    if ctx.blockless:  # one layer saved alone (an nn.TransformerEncoderLayer): its norms are the layer's
        return _Rule(_stack_group(rest[:-1], ctx), found[0], found[1], start, True)
    if found[0] is Role.NORM:
        return _Rule(Group.FINAL_NORM, Role.NORM, None, start, False)  # model.norm, encoder.layer_norm
    if any(p.lower() in ("encoder", "decoder") for p in rest[:-1]):
        return _Rule(_stack_group(rest[:-1], ctx), found[0], found[1], start, True)  # encoder.relative_attention_bias
    return None


def _context(templates: Iterable[str], model_type: str | None) -> _Context:
    c = _compiled()
    encoder = causal = False
    cross: set[tuple[str, ...]] = set()
    scopes: set[str] = set()
    blockless = True
    for t in templates:
        parts = c["split"].split(t)
        start = _strip(parts)
        k = _block(parts, start)
        if k is not None:
            blockless = False
        tower = _tower_of(parts)
        if tower is not None:
            scopes.add(str(tower[0]))
            continue
        if c["encoder_evidence_any"].search(t):
            encoder = True
        if c["causal_evidence"].fullmatch(".".join(parts[start:])):
            causal = True
        if k is not None and c["cross_any"].search(".".join(parts[k:])):
            cross.add(tuple(parts[start:k - 1]))
        if not any(c["heads_seg"].fullmatch(p) for p in parts[start:]):
            scopes.add("text")
    if model_type is not None and model_type.lower() in ENCODER_TYPES:
        unnamed = Group.ENCODER
    elif encoder and not causal and not cross:
        unnamed = Group.ENCODER
    else:
        unnamed = Group.DECODER
    return _Context(unnamed, frozenset(cross), len(scopes) > 1, blockless)


@functools.lru_cache(maxsize=4096)
def _alone(template: str, model_type: str | None) -> _Rule | None:
    # One name cannot tell that a checkpoint has no layers: ``norm.weight`` alone is a final norm.
    return _rule(template, dataclasses.replace(_context((template,), model_type), blockless=False))


def _template(name: str) -> str:
    """The name with its numbers as ``#``: ``model.layers.3.mlp.experts.17.w1.weight`` ->
    ``model.layers.#.mlp.experts.#.w1.weight``."""
    return _compiled()["number"].sub(".#", "." + name.replace("/", "."))[1:]


def place_alone(name: str, model_type: str | None = None) -> Placement:
    """One name without the rest of its checkpoint: an unnamed stack is a decoder, towers are not split."""
    return _classify_with(name, _alone(_template(name), model_type))


def _classify_with(name: str, rule: _Rule | None) -> Placement:
    parts = name.split(".") if "/" not in name else re.split(r"[./]", name)
    if rule is None:
        return Placement(Group.UNCLASSIFIED, Role.OTHER, tuple(parts[:-1]), parts[-1])
    start = rule.start + 1 if rule.drop_group and parts[rule.start].lower() == rule.group.value else rule.start
    return Placement(rule.group, rule.role, tuple(parts[start:-1]), parts[-1], rule.sub)


_CHUNK = 4096  # names templated at once


def classify(names: Iterable[str], model_type: str | None = None) -> dict[str, Placement]:
    """Every name -> its placement, decided from the whole set of names (and ``model_type`` if known).

    >>> p = classify(["model.decoder.layers.0.encoder_attn.q_proj.weight", "lm_head.weight"])
    >>> q = p["model.decoder.layers.0.encoder_attn.q_proj.weight"]
    >>> str(q.group), str(q.role), ".".join(q.path)
    ('decoder', 'attention', 'layers.0.encoder_attn.q_proj')
    """
    names = list(names)
    if not names:
        return {}
    # One regex pass per chunk of names: layer and expert numbers -> "#". A leading "." lets a name start
    # with a number (``0.weight`` of an nn.Sequential); "/" (TensorFlow) reads as ".". Each template is kept
    # as one shared string (DeepSeek-V3: 43 of them for 91,991 names), so no chunk's strings outlive it.
    number = _compiled()["number"]
    shared: dict[str, str] = {}
    keep = shared.setdefault
    templates: list[str] = []
    for i in range(0, len(names), _CHUNK):
        chunk = names[i:i + _CHUNK]
        joined = "\n." + "\n.".join(chunk)
        if "/" in joined:
            joined = joined.replace("/", ".")
        found = number.sub(".#", joined).split("\n.")[1:]
        if len(found) != len(chunk):  # a name holding a newline: template each name alone
            found = [_template(n) for n in chunk]
        templates += [keep(t, t) for t in found]
    distinct = set(templates)
    ctx = _context(distinct, model_type)
    # Per template: group, role, sub, where the path starts, the segment to skip when it repeats the group's
    # name, and the module paths already cut. Names of one module (``...experts.17.gate_proj.weight`` and
    # ``.weight_scale_inv``) share one path tuple, and every segment is one shared string: the 91,991
    # placements of DeepSeek-V3 hold a few hundred strings, not six new ones per name (about 35 MB).
    rules: dict[str, tuple[Group, Role, Sub | None, int, str | None, dict[str, tuple[str, ...]]] | None] = {}
    for t in distinct:
        r = _rule(t, ctx)
        rules[t] = None if r is None else (r.group, r.role, r.sub, r.start, r.group.value if r.drop_group else None,
                                           {})
    unclassified: dict[str, tuple[str, ...]] = {}
    strings: dict[str, str] = {}
    intern = strings.setdefault
    out: dict[str, Placement] = {}
    for name, template in zip(names, templates):
        rule = rules[template]
        if "/" in name:  # TensorFlow: "/" reads as "."
            out[name] = _classify_with(name, None if rule is None else _Rule(
                rule[0], rule[1], rule[2], rule[3], rule[4] is not None))
            continue
        module, _, leaf = name.rpartition(".")
        leaf = intern(leaf, leaf)
        if rule is None:
            path = unclassified.get(module)
            if path is None:
                path = unclassified[module] = tuple([intern(s, s) for s in module.split(".")]) if module else ()
            out[name] = Placement(Group.UNCLASSIFIED, Role.OTHER, path, leaf)
            continue
        group, role, sub, start, skip, paths = rule
        path = paths.get(module)
        if path is None:
            parts = name.split(".")
            if skip is not None and parts[start].lower() == skip:
                start += 1
            path = tuple([intern(s, s) for s in parts[start:-1]])
            if rule[3] < len(parts) - 1:  # the skip looked at the module, not the leaf: the same for its names
                paths[module] = path
        out[name] = Placement(group, role, path, leaf, sub)
    return out
