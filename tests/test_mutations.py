"""The exactness check can fail: each mutation of a family (its rule table or its tensor list) must make
``exactness.assert_matches`` raise, through the real code path (``paramscope.inspect`` -> ``family_for`` ->
``families.load``, which reads the module's ``FAMILY``).

Role and group mutations leave every name, shape and total intact, so before the oracle read placements
from the module tree the suite passed with them; the ``match`` says which check catches each mutation.
"""

from __future__ import annotations

import dataclasses
import importlib
import re
from typing import Any, Callable

import pytest

from paramscope import families
from paramscope.families.base import Family, Group, Role, Rule, Sub
from paramscope.inventory import Kind

from . import exactness

LLAMA = {"model_type": "llama", "vocab_size": 64, "hidden_size": 16, "intermediate_size": 40,
         "num_hidden_layers": 2, "num_attention_heads": 4, "num_key_value_heads": 2}
MIXTRAL = {**LLAMA, "model_type": "mixtral", "num_local_experts": 4, "num_experts_per_tok": 2}
BERT = {"model_type": "bert", "vocab_size": 64, "hidden_size": 16, "num_hidden_layers": 2,
        "num_attention_heads": 2, "intermediate_size": 40, "max_position_embeddings": 32}
DISTILBERT = {"model_type": "distilbert", "vocab_size": 64, "dim": 16, "hidden_dim": 40, "n_layers": 2,
              "n_heads": 2, "max_position_embeddings": 32}
T5 = {"model_type": "t5", "vocab_size": 64, "d_model": 16, "d_kv": 4, "num_heads": 4, "d_ff": 40,
      "num_layers": 2, "num_decoder_layers": 1}
GPT2 = {"model_type": "gpt2", "vocab_size": 64, "n_embd": 16, "n_head": 4, "n_layer": 2, "n_positions": 32}
ROBERTA = {"model_type": "xlm-roberta", "vocab_size": 64, "hidden_size": 16, "num_hidden_layers": 1,
           "num_attention_heads": 2, "intermediate_size": 40, "max_position_embeddings": 34}

Mutation = Callable[[Family], Family]


# -- mutations of the rule table ------------------------------------------------------------------------


def remap(field: str, mapping: dict[Any, Any]) -> Mutation:
    """Every rule's ``field`` (role, group or sub) mapped through ``mapping``: a swap when it maps both ways."""
    def mutate(fam: Family) -> Family:
        rules = tuple(dataclasses.replace(r, **{field: mapping.get(getattr(r, field), getattr(r, field))})
                      for r in fam.rules)
        assert rules != tuple(fam.rules), "the mutation changes nothing"
        return dataclasses.replace(fam, rules=rules)
    return mutate


def prepend(rule: Rule) -> Mutation:
    """A rule placed first, so it wins over the family's own for the names it matches."""
    return lambda fam: dataclasses.replace(fam, rules=(rule, *fam.rules))


def retag(role: Role, to: Role, group: Group) -> Mutation:
    """Rules of ``role`` in ``group`` get role ``to`` (the others stay)."""
    def mutate(fam: Family) -> Family:
        rules = tuple(dataclasses.replace(r, role=to) if r.role == role and r.group == group else r
                      for r in fam.rules)
        assert rules != tuple(fam.rules), "the mutation changes nothing"
        return dataclasses.replace(fam, rules=rules)
    return mutate


# -- mutations of the tensor list -----------------------------------------------------------------------


def edit_tensors(pattern: str, edit: Callable[[Any], Any | None]) -> Mutation:
    """The first tensor whose name matches ``pattern`` replaced by ``edit(tensor)`` (dropped when None)."""
    def mutate(fam: Family) -> Family:
        def tensors(cfg: Any, model_class: str, options: Any) -> list[Any]:
            out = list(fam.tensors(cfg, model_class, options))
            i = next(i for i, t in enumerate(out) if re.search(pattern, t.name))
            new = edit(out[i])
            return out[:i] + ([new] if new is not None else []) + out[i + 1:]
        return dataclasses.replace(fam, tensors=tensors)
    return mutate


def transpose(t: Any) -> Any:
    return dataclasses.replace(t, expr=tuple(reversed(t.expr)))


def untie(t: Any) -> Any:
    assert t.kind == Kind.ALIAS
    return dataclasses.replace(t, kind=Kind.PARAMETER, tied_to=None)


def buffer_to_parameter(t: Any) -> Any:
    assert t.kind == Kind.BUFFER
    return dataclasses.replace(t, kind=Kind.PARAMETER)


def swap(a: Any, b: Any) -> dict[Any, Any]:
    return {a: b, b: a}


PLACED = "placed differently"
# (id, family module, config, model class, mutation, the check that must catch it)
MUTATIONS = [
    # role swaps and moves
    ("llama: attention <-> ffn", "llama", LLAMA, "LlamaForCausalLM", remap("role", swap(Role.ATTENTION, Role.FFN)),
     PLACED),
    ("mistral: attention <-> ffn", "llama", {**LLAMA, "model_type": "mistral"}, "MistralForCausalLM",
     remap("role", swap(Role.ATTENTION, Role.FFN)), PLACED),
    ("bert: encoder norms -> ffn", "bert", BERT, "BertForPreTraining", retag(Role.NORM, Role.FFN, Group.ENCODER),
     PLACED),
    ("bert: MLM head's LayerNorm -> norm", "bert", BERT, "BertForMaskedLM",
     prepend(Rule(r"cls\.predictions\.transform\.LayerNorm\.(weight|bias)", Group.HEADS, Role.NORM)), PLACED),
    ("bert: embeddings' LayerNorm -> embedding", "bert", BERT, "BertModel",
     prepend(Rule(r"embeddings\.LayerNorm\.(weight|bias)", Group.EMBEDDINGS, Role.EMBEDDING)), PLACED),
    ("t5: relative_attention_bias -> embedding", "t5", T5, "T5Model",
     prepend(Rule(r".*relative_attention_bias\.weight", Group.ENCODER, Role.EMBEDDING)), PLACED),
    ("distilbert: attention -> other", "distilbert", DISTILBERT, "DistilBertModel",
     retag(Role.ATTENTION, Role.OTHER, Group.ENCODER), PLACED),
    ("xlm-roberta: tied lm_head.decoder.weight -> embeddings group", "roberta", ROBERTA, "XLMRobertaForMaskedLM",
     prepend(Rule(r"lm_head\.decoder\.weight", Group.EMBEDDINGS, Role.HEAD)), PLACED),
    # group swaps
    ("t5: encoder <-> decoder", "t5", T5, "T5ForConditionalGeneration",
     remap("group", swap(Group.ENCODER, Group.DECODER)), PLACED),
    ("bert: pooler <-> heads", "bert", BERT, "BertForSequenceClassification",
     remap("group", swap(Group.POOLER, Group.HEADS)), PLACED),
    ("gpt2: final_norm -> decoder", "gpt2", GPT2, "GPT2LMHeadModel",
     remap("group", {Group.FINAL_NORM: Group.DECODER}), PLACED),
    # mixture-of-experts sub-roles
    ("mixtral: experts <-> router", "mixtral", MIXTRAL, "MixtralForCausalLM",
     remap("sub", swap(Sub.EXPERTS, Sub.ROUTER)), PLACED),
    ("mixtral: router -> dense ffn", "mixtral", MIXTRAL, "MixtralForCausalLM", remap("sub", {Sub.ROUTER: None}),
     PLACED),
    # the tensor list
    ("bert: a tensor dropped", "bert", BERT, "BertModel", edit_tensors(r"intermediate\.dense\.bias$", lambda t: None),
     "parameters differ"),
    ("mixtral: a tensor dropped", "mixtral", MIXTRAL, "MixtralForCausalLM",
     edit_tensors(r"mlp\.gate\.weight$", lambda t: None), "parameters differ"),
    ("llama: a wrong shape", "llama", LLAMA, "LlamaForCausalLM", edit_tensors(r"mlp\.gate_proj\.weight$", transpose),
     "parameters differ"),
    ("t5: a wrong shape", "t5", T5, "T5Model", edit_tensors(r"DenseReluDense\.wi\.weight$", transpose),
     "parameters differ"),
    ("gpt2: tie removed", "gpt2", GPT2, "GPT2LMHeadModel", edit_tensors(r"^lm_head\.weight$", untie),
     "parameters differ"),
    ("bert: tie removed", "bert", BERT, "BertForMaskedLM", edit_tensors(r"decoder\.weight$", untie),
     "parameters differ"),
    ("bert: buffer turned parameter", "bert", BERT, "BertModel", edit_tensors(r"position_ids$", buffer_to_parameter),
     "parameters differ"),
    ("llama: buffer turned parameter", "llama", LLAMA, "LlamaForCausalLM",
     edit_tensors(r"rotary_emb\.inv_freq$", buffer_to_parameter), "parameters differ"),
]


@pytest.fixture
def patch_family(monkeypatch: pytest.MonkeyPatch):
    """Replace ``paramscope.families.<module>.FAMILY`` (and ``families.BERT``, which ``family_for`` returns
    for configs without a model type) by a mutated copy; the cache of all families is cleared around it."""
    def patch(module: str, mutate: Mutation) -> None:
        mod = importlib.import_module(f"paramscope.families.{module}")
        fam = mutate(mod.FAMILY)
        monkeypatch.setattr(mod, "FAMILY", fam)
        if module == "bert":
            monkeypatch.setattr(families, "BERT", fam)
        families.all_families.cache_clear()

    yield patch
    families.all_families.cache_clear()


@pytest.mark.parametrize(("module", "config", "model_class", "mutate", "caught_by"),
                         [m[1:] for m in MUTATIONS], ids=[m[0] for m in MUTATIONS])
def test_mutation_is_caught(patch_family, module: str, config: dict[str, Any], model_class: str,
                            mutate: Mutation, caught_by: str) -> None:
    exactness.assert_matches(config, model_class)  # the family as it is passes
    patch_family(module, mutate)
    with pytest.raises(AssertionError, match=caught_by):
        exactness.assert_matches(config, model_class)


def test_every_kind_of_mutation_is_listed() -> None:
    ids = " ".join(m[0] for m in MUTATIONS)
    for kind in ("attention <-> ffn", "-> ffn", "encoder <-> decoder", "pooler <-> heads", "experts <-> router",
                 "dropped", "wrong shape", "tie removed", "buffer turned parameter"):
        assert kind in ids, kind


def test_patch_reaches_inspect(patch_family) -> None:
    """The monkeypatch is on the path inspect takes: a patched family's placement shows in the result."""
    import paramscope

    patch_family("llama", remap("role", swap(Role.ATTENTION, Role.FFN)))
    a = paramscope.inspect(LLAMA, model_class="LlamaForCausalLM")
    assert a.placements["model.layers.0.self_attn.q_proj.weight"].role == Role.FFN
    assert a.placements["model.layers.0.mlp.up_proj.weight"].role == Role.ATTENTION


def test_known_wrong_is_strict(monkeypatch) -> None:
    """exactness.KNOWN_WRONG works like xfail(strict=True): an entry whose placement paramscope no longer
    gives fails the check until it is removed. The untied RoBERTa LM decoder was such an entry (role
    embedding by name); Anatomy.placements now gives it the head role, so listing it again must fail."""
    untied = {**ROBERTA, "model_type": "roberta", "tie_word_embeddings": False}
    exactness.assert_matches(untied, "RobertaForMaskedLM")
    monkeypatch.setattr(exactness, "KNOWN_WRONG", [
        ("roberta", "lm_head.decoder.weight", ("heads", "head", None), ("heads", "embedding", None), "was wrong")])
    with pytest.raises(AssertionError, match="KNOWN_WRONG placement changed"):
        exactness.assert_matches(untied, "RobertaForMaskedLM")


def test_oracle_reads_no_paramscope_table() -> None:
    """The oracle's placements come from transformers' module tree: it imports nothing from paramscope."""
    from pathlib import Path

    source = (Path(__file__).parent / "oracle.py").read_text()
    assert "paramscope" not in "\n".join(line for line in source.splitlines()
                                         if line.lstrip().startswith(("import ", "from ")))
