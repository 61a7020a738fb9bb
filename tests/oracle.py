"""The independent oracle: transformers builds the model on the meta device (which ties weights) and
reports its parameters, tied duplicates and buffers, and where each parameter sits in the module tree it
built (``placements``, derived from module classes and positions, never from paramscope's name tables).
Only tests import this module."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

import torch
import transformers
from torch import nn
from transformers.models.auto import modeling_auto

transformers.logging.set_verbosity_error()

# (group, role, sub) of one parameter, in paramscope's vocabulary (README: "Every group and role means the
# same in every family"); sub is "experts" or "router" for a mixture-of-experts feed-forward, else None.
Place = tuple[str, str, "str | None"]


@dataclass(frozen=True)
class Truth:
    parameters: list[tuple[str, tuple[int, ...]]]  # named_parameters(), module order, duplicates removed
    aliases: dict[str, str]  # a tied duplicate's name -> the name it shares storage with
    buffers: list[tuple[str, tuple[int, ...], str]]
    total: int  # sum(p.numel() for p in model.parameters())
    placements: dict[str, Place]  # parameter name -> (group, role, sub), from the module tree


def make_config(config: Mapping[str, Any]) -> transformers.PretrainedConfig:
    """A transformers config from a dict with ``model_type`` (BERT when it has none)."""
    cfg = dict(config)
    model_type = cfg.pop("model_type", "bert")
    return transformers.AutoConfig.for_model(model_type, **cfg)


def build(config: Mapping[str, Any], model_class: str, **kwargs: Any) -> Truth:
    cfg = make_config(config)
    with torch.device("meta"):
        model = getattr(transformers, model_class)(cfg, **kwargs)
        untie_t5_v11(model, config)
    return truth(model)


def untie_t5_v11(model: torch.nn.Module, config: Mapping[str, Any]) -> None:
    """T5 v1.1 as from_pretrained loads it: transformers 5's T5Config forces tie_word_embeddings to true on
    construction, so the model built from a v1.1 config ties lm_head to shared; from_pretrained unties them
    when the checkpoint stores two different matrices, which every v1.1 release does
    (tests/test_family_t5.py::test_from_pretrained_unties_v11 shows it on a real save). The oracle does the
    same explicitly, so that it counts what users load."""
    if (config.get("model_type") == "t5" and config.get("tie_word_embeddings") is False
            and getattr(model, "lm_head", None) is not None and model.lm_head.weight is model.shared.weight):
        model.lm_head.weight = torch.nn.Parameter(torch.empty_like(model.lm_head.weight))


def truth(model: torch.nn.Module) -> Truth:
    first: dict[int, str] = {}
    aliases: dict[str, str] = {}
    for name, p in model.named_parameters(remove_duplicate=False):
        if id(p) in first:
            aliases[name] = first[id(p)]
        else:
            first[id(p)] = name
    return Truth(
        parameters=[(n, tuple(p.shape)) for n, p in model.named_parameters()],
        aliases=aliases,
        buffers=[(n, tuple(b.shape), str(b.dtype).removeprefix("torch.")) for n, b in model.named_buffers()],
        total=sum(p.numel() for p in model.parameters()),
        placements=placements(model),
    )


# -- where each parameter sits: group and role from the module classes and the tree -------------------------
#
# The rule reads only what transformers built: each module's class and its position (the base model, its
# embeddings module, a stack of layers held in an nn.ModuleList, what is outside the base model). Where
# paramscope documents a convention that differs from the plain reading, the rule follows the convention
# and cites it.

_FFN_CLASS_MARKS = ("MLP", "FeedForward", "FFN", "LayerFF", "DenseActDense", "DenseGatedActDense",
                    "Intermediate", "SparseMoeBlock", "Experts", "Router")


def _name(m: nn.Module) -> str:
    return type(m).__name__


def _is_norm(m: nn.Module) -> bool:
    return isinstance(m, (nn.LayerNorm, nn.RMSNorm, nn.GroupNorm)) or _name(m).endswith("Norm")


def _is_attention(m: nn.Module) -> bool:
    return "Attention" in _name(m) or "Attn" in _name(m)


def _is_ffn(m: nn.Module) -> bool:
    # BertOutput / ElectraOutput / DebertaV2Output are the second feed-forward dense; the attention's own
    # output (BertSelfOutput) lies inside an attention module, which is tested first.
    name = _name(m)
    return any(mark in name for mark in _FFN_CLASS_MARKS) or name.endswith("Output")


def _is_stack(m: nn.Module) -> bool:
    """A module that holds its layers in an nn.ModuleList (BertEncoder, AlbertTransformer, T5Stack, ...)."""
    return any(isinstance(c, nn.ModuleList) for c in m.children())


def _is_pooler(m: nn.Module, after: nn.Module | None) -> bool:
    """A pooler class (BertPooler, DeBERTa's ContextPooler), or a dense layer that a tanh follows: ALBERT's
    pooler is a bare nn.Linear with ``pooler_activation = nn.Tanh()`` after it (modeling_albert.AlbertModel),
    which is what BertPooler computes."""
    return "Pooler" in _name(m) or (isinstance(m, nn.Linear) and isinstance(after, nn.Tanh))


def _decoder(model: nn.Module) -> nn.Module | None:
    """What transformers itself calls the model's decoder (``get_decoder``): T5's decoder stack, the base model
    of a decoder-only model (GPT-2, Llama: it holds the layers itself), BertModel for BERT (whose layers are
    in BertEncoder, so they stay an encoder even with is_decoder), None when it cannot say."""
    try:
        return model.get_decoder()
    except Exception:  # exotic models raise; the families tested here all answer
        return None


def _layers_group(decoder: nn.Module | None, stack: nn.Module) -> str:
    """encoder or decoder for the layers that ``stack`` holds in an nn.ModuleList."""
    return "decoder" if stack is decoder else "encoder"


def _in_layer(chain: list[nn.Module], group: str) -> Place:
    """A parameter inside the layers; ``chain`` runs from their nn.ModuleList down to the owner."""
    owner = chain[-1]
    if _is_norm(owner):  # BERT's attention.output.LayerNorm too: a norm (README, Roles)
        return group, "norm", None
    if any(_is_attention(m) for m in chain):  # T5's relative_attention_bias (an nn.Embedding) too
        return group, "attention", None
    if any(_is_ffn(m) for m in chain):
        sub = ("experts" if any("Experts" in _name(m) for m in chain)
               else "router" if any("Router" in _name(m) for m in chain) else None)
        return group, "ffn", sub
    if isinstance(owner, nn.Linear) and len(chain) >= 3 and isinstance(chain[-3], nn.ModuleList):
        # A bare nn.Linear right in a layer block: ALBERT's AlbertLayer holds its feed-forward so (ffn,
        # ffn_output; AlbertLayer.ff_chunk runs them with the activation between).
        return group, "ffn", None
    return group, "other", None


def _in_embeddings(owner: nn.Module) -> Place:
    if isinstance(owner, nn.Embedding):
        return "embeddings", "embedding", None
    if _is_norm(owner):  # the embeddings' LayerNorm: role norm in group embeddings (README, Roles)
        return "embeddings", "norm", None
    # A projection E -> H inside the embeddings (DeBERTa's embed_proj): part of the factorised embedding,
    # role embedding (deberta.py's rule table says so).
    return "embeddings", "embedding", None


def _in_stack(decoder: nn.Module | None, stack: nn.Module, chain: list[nn.Module]) -> Place:
    """A parameter of a stack (or of a base model that holds its layers itself, GPT-2, Llama); ``chain`` runs
    from the stack's child down to the owner."""
    group = _layers_group(decoder, stack)
    first, owner = chain[0], chain[-1]
    if isinstance(first, nn.ModuleList):
        return _in_layer(chain, group)
    if _is_norm(first):
        # DeBERTa-v2's encoder LayerNorm normalises the relative position table (DebertaV2Encoder
        # .get_rel_embedding), not the encoder's output: it stays in the encoder (deberta.py keeps
        # encoder-level modules there). Any other norm beside the layers is the final norm.
        if hasattr(type(stack), "get_rel_embedding"):
            return group, "norm", None
        return "final_norm", "norm", None
    if isinstance(owner, nn.Embedding):
        # DeBERTa's rel_embeddings, a table of relative-distance vectors: role embedding, group encoder
        # (deberta.py). (T5's embed_tokens are the shared table, reported under its first name.)
        return group, "embedding", None
    if isinstance(first, nn.Linear):
        # ALBERT's encoder.embedding_hidden_mapping_in (E -> H), the second factor of the factorised
        # embedding: group embeddings, role embedding (albert.py's rule table documents it).
        return "embeddings", "embedding", None
    # DeBERTa's ConvLayer: its Conv1d is neither attention nor feed-forward (deberta.py), its LayerNorm a norm.
    return group, "norm" if _is_norm(owner) else "other", None


def _in_body(decoder: nn.Module | None, body: nn.Module, chain: list[nn.Module], after: nn.Module | None) -> Place:
    """A parameter of the base model; ``chain`` runs from the base model's child down to the owner,
    ``after`` is that child's next sibling."""
    first, owner = chain[0], chain[-1]
    if _is_pooler(first, after):
        return "pooler", "pooler", None
    if isinstance(first, nn.Embedding) or _name(first).endswith("Embeddings"):
        return _in_embeddings(owner)
    if isinstance(first, nn.ModuleList):  # GPT-2's h, Llama's layers: the base model is the stack
        return _in_stack(decoder, body, chain)
    if _is_stack(first):
        return _in_stack(decoder, first, chain[1:])
    if _is_norm(first):  # GPT-2's ln_f, Llama's norm
        return "final_norm", "norm", None
    if isinstance(first, nn.Linear):
        # ELECTRA's embeddings_project (E -> H) between the embeddings and the encoder: group embeddings,
        # role embedding (electra.py's rule table documents it).
        return "embeddings", "embedding", None
    return "unclassified", "other", None


_BASE_CLASSES = frozenset(c for cs in modeling_auto.MODEL_MAPPING_NAMES.values()
                           for c in ((cs,) if isinstance(cs, str) else cs))


def _base_model(model: nn.Module) -> nn.Module:
    return getattr(model, "base_model", model)


def _heads(model: nn.Module) -> set[str]:
    """Names of the model's top-level children that are heads: everything outside the base model. T5's
    task classes hold the stacks themselves (no ``transformer`` child): there the heads are the children
    that are neither the shared table nor a stack (lm_head, qa_outputs)."""
    base = _base_model(model)
    children = list(model.named_children())
    if base is not model:
        return {n for n, c in children if c is not base}
    if _name(model) in _BASE_CLASSES:
        return set()  # a base model class itself (AutoModel's for some model type): no heads
    return {n for n, c in children if not isinstance(c, nn.Embedding) and not _name(c).endswith("Embeddings")
            and not _is_stack(c)}


def placements(model: nn.Module) -> dict[str, Place]:
    """Every parameter (``named_parameters()`` names) -> (group, role, sub), from the module tree."""
    modules = dict(model.named_modules(remove_duplicate=False))
    embedding_tables = {id(m.weight) for m in modules.values() if isinstance(m, nn.Embedding)}
    base = _base_model(model)
    base_path = next((n for n, m in model.named_children() if m is base), "") if base is not model else ""
    heads = _heads(model)
    decoder = _decoder(model)
    siblings: dict[int, nn.Module | None] = {}  # a module -> the next child of its parent
    for m in modules.values():
        kids = list(m.children())
        for a, b in zip(kids, kids[1:] + [None]):
            siblings.setdefault(id(a), b)
    out: dict[str, Place] = {}
    for name, p in model.named_parameters():
        parts = name.split(".")[:-1]
        chain = [modules[".".join(parts[:i])] for i in range(1, len(parts) + 1)]
        top = parts[0] if parts else ""
        if top in heads and not _is_pooler(chain[0], siblings.get(id(chain[0]))):
            # Everything in a head has role head, its own LayerNorm included (README, Roles) -- except the
            # word-embedding matrix when transformers names it in the head first (XLM-R's and CamemBERT's
            # lm_head.decoder.weight, tied): still the embedding (roberta.py's rule table).
            out[name] = ("heads", "embedding" if id(p) in embedding_tables else "head", None)
        elif top in heads:  # DeBERTa's ContextPooler sits beside the base model
            out[name] = ("pooler", "pooler", None)
        elif base is not model and top == base_path:
            out[name] = (_in_body(decoder, base, chain[1:], siblings.get(id(chain[1]))) if len(chain) > 1
                         else ("unclassified", "other", None))  # a parameter of the base model's own
        elif chain:
            out[name] = _in_body(decoder, model, chain, siblings.get(id(chain[0])))
        else:
            out[name] = ("unclassified", "other", None)
    return out
