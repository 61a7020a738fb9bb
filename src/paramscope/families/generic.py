"""Checkpoints of no known family: counted exactly, grouped by generic name patterns.

The group comes from the structure of the name (a numbered block is a layer: encoder when the name says
so, else decoder, as in most unknown models today), the role from keywords; a name matching no pattern
is unclassified, never dropped. There is no formula: the sizes are not known.
"""

from __future__ import annotations

import re

from .base import Family, Group, Role, Rule, Sub

_BLOCK = re.compile(r"(^|[./])(layers?|h|blocks?|block)[./]\d+[./]")
_EMBED = r"(embed|wte|wpe|word_embeddings|position_embeddings|tok_embeddings|shared\.weight)"
_NORM = r"(norm|ln_?\w*|layernorm|LayerNorm)"
_HEAD = r"(lm_head|classifier|score|qa_outputs|(^|[./])head|^output\.weight)"


_STRUCTURE = re.compile(r"(layers?|h|blocks?|block|encoder|decoder|lm_head|head|norm|ln_f|embed\w*|wte|wpe)$")


def canonical(name: str) -> str:
    """Prefix the name with its structural group, so that rules can say group and role together.

    A base-model prefix (``model.``, ``transformer.``, ``gpt_neox.``) is dropped from the path.
    """
    parts = name.replace("/", ".").split(".")
    if len(parts) >= 3 and not _STRUCTURE.match(parts[0]):
        name = ".".join(parts[1:])
    lowered = name.lower()
    if _BLOCK.search(name):
        group = "encoder" if "encoder" in lowered else "decoder"
    elif re.search(_EMBED, name):
        group = "embeddings"
    elif re.search(_HEAD, name):
        group = "heads"
    elif re.search(_NORM, name, re.I):
        group = "final_norm"
    else:
        return name.replace("/", ".")  # no group: unclassified, shown by its own name
    return f"{group}.{name.replace('/', '.')}"


def _layer_rules(group: Group) -> list[Rule]:
    g = str(group)
    return [
        Rule(rf"{g}\..*experts?\..*", group, Role.FFN, Sub.EXPERTS),
        Rule(rf"{g}\..*(router|block_sparse_moe\.gate|moe\.gate|mlp\.gate)\..*", group, Role.FFN, Sub.ROUTER),
        Rule(rf"{g}\..*(?i:norm|ln_?\d|ln_\w+).*", group, Role.NORM),
        Rule(rf"{g}\..*(attn|attention|q_proj|k_proj|v_proj|o_proj|qkv|query|key|value|wq|wk|wv)\b.*", group,
             Role.ATTENTION),
        Rule(rf"{g}\..*(mlp|ffn|feed_forward|fc1|fc2|fc_in|fc_out|gate_proj|up_proj|down_proj|w1|w2|w3|"
             rf"intermediate|dense_h_to_4h|dense_4h_to_h|wi|wo)\b.*", group, Role.FFN),
    ]


RULES = (
    Rule(r"embeddings\..*(?i:norm).*", Group.EMBEDDINGS, Role.NORM),
    Rule(r"embeddings\..*", Group.EMBEDDINGS, Role.EMBEDDING),
    *_layer_rules(Group.ENCODER),
    *_layer_rules(Group.DECODER),
    Rule(r"final_norm\..*", Group.FINAL_NORM, Role.NORM),
    Rule(r"heads\..*", Group.HEADS, Role.HEAD),
)

GENERIC = Family(
    name="unknown",
    fields=(),
    symbols=(),
    model_classes=(),
    default_class="unknown",
    rules=RULES,
    repeats={"*": ""},  # any numbered container collapses into runs of identical blocks
    resolve=lambda raw, source: dict(raw),
    tensors=lambda cfg, cls, options: [],
    canonical=canonical,
)
