"""Phi (phi-1, phi-1.5, phi-2): a parallel block with one LayerNorm, biases everywhere, on the decoder builder.

Source of truth: transformers ``models/phi/{configuration,modeling}_phi.py`` (v5). What changes the count
or the tensor list, against Llama:

* ``PhiDecoderLayer`` has one ``input_layernorm`` (an ``nn.LayerNorm``, weight and bias) feeding attention
  and the MLP side by side; the model ends in ``final_layernorm`` (LayerNorm too);
* ``PhiAttention``: ``q_proj``, ``k_proj``, ``v_proj`` and the output ``dense`` always have biases;
  ``qk_layernorm`` adds ``q_layernorm`` and ``k_layernorm``, LayerNorms of ``hidden_size //
  num_attention_heads`` (not ``head_dim``), after ``dense`` in module order;
* ``PhiMLP`` is ``fc1`` (I×H) and ``fc2`` (H×I), both with biases; ``lm_head`` has a bias (which a tie
  leaves a parameter of its own);
* ``head_dim`` is not a config field (the attention reads it when config.json has it); the default RoPE
  rotates ``int(D · partial_rotary_factor)``, and ``PhiConfig`` sets that factor to 0.5 when the config
  gives none; there is no PhiForQuestionAnswering.
"""

from __future__ import annotations

from typing import Any, Mapping

from ..inventory import Kind, Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Group, Role, Rule, need_bool
from .common import linear, tensor
from .decoder import _LAYER, Bias, Decoder, DecoderFamily, HeadDim, Mlp, NormKind, Norms, standard_heads
from .spec import Head


def _lm_head(cfg: Mapping[str, Any], base: str) -> list[Tensor]:
    """PhiForCausalLM's lm_head: nn.Linear(H, V, bias=True); a tie shares the weight, not the bias."""
    V, H = Poly.sym("V"), Poly.sym("H")
    if cfg["tie_word_embeddings"]:
        weight = tensor("lm_head.weight", (V, H), cfg["dtype"], Kind.ALIAS, f"{base}embed_tokens.weight")
    else:
        weight = tensor("lm_head.weight", (V, H), cfg["dtype"])
    return [weight, tensor("lm_head.bias", (V,), cfg["dtype"])]


_STANDARD = standard_heads()
PHI = Decoder(
    "phi", "Phi", "PhiConfig",
    {"vocab_size": 51200, "hidden_size": 2048, "intermediate_size": 8192, "num_hidden_layers": 24,
     "num_attention_heads": 32, "num_key_value_heads": None, "pad_token_id": None, "tie_word_embeddings": False,
     "qk_layernorm": False},
    frozenset({"num_key_value_heads", "pad_token_id"}), HeadDim.ATTR,
    attention_bias=Bias.ALL, mlp_bias=Bias.ALL, mlp=Mlp.PLAIN, mlp_names=("fc1", "fc2"), norms=Norms.PARALLEL,
    norm=NormKind.LAYER, heads=(_STANDARD[0], Head("ForCausalLM", "model", _lm_head), *_STANDARD[2:4]),
    names={"o_proj": "dense", "norm": "final_layernorm"}, rotary_partial=True, partial_rotary_factor=0.5)


class PhiFamily(DecoderFamily):
    """The builder's layout plus the optional q_layernorm and k_layernorm."""

    extra_fields = ("qk_layernorm",)

    def resolve(self, raw: Mapping[str, Any], source: str) -> dict[str, Any]:
        cfg = super().resolve(raw, source)
        need_bool(cfg, "qk_layernorm", source)
        return cfg

    def attention(self, name: str, cfg: Mapping[str, Any], mt: Decoder) -> list[Tensor]:
        out = super().attention(name, cfg, mt)
        if cfg["qk_layernorm"]:
            h, a = cfg["hidden_size"], cfg["num_attention_heads"]
            width = Poly.sym("D") if cfg["head_dim"] == h // a else Poly.const(h // a)
            out += self.norm(f"{name}.q_layernorm", width, cfg, mt) + self.norm(f"{name}.k_layernorm", width, cfg, mt)
        return out

    def common_rules(self) -> tuple[Rule, ...]:
        return super().common_rules() + (
            Rule(rf"{_LAYER}\.self_attn\.(q|k)_layernorm\.(weight|bias)", Group.DECODER, Role.NORM),)

    def attention_words(self, cfg: Mapping[str, Any], names: frozenset[str]) -> list[str]:
        out = super().attention_words(cfg, names)
        if cfg["qk_layernorm"]:
            out.append("qk_layernorm: q_layernorm and k_layernorm (LayerNorms of H // A, weight and bias) on each "
                       "head's queries and keys, 4·(H // A) per layer")
        return out

    def head_words(self, cfg: Mapping[str, Any], model_class: str, names: frozenset[str]) -> list[str]:
        out = super().head_words(cfg, model_class, names)
        if "lm_head.bias" in names:
            out.append("lm_head has a bias of V, a parameter of its own even when the weight is tied")
        return out

    def infer(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
        found = super().infer(shapes)
        if found is not None:
            cfg = found[0]
            qn = shapes.get("decoder.layers.0.self_attn.q_layernorm.weight")
            cfg["qk_layernorm"] = qn is not None
            if qn and len(qn) == 1 and qn[0] and cfg["hidden_size"] % qn[0] == 0:
                # q_layernorm's width is H // A: it fixes the head count the count of the norms needs.
                q_rows, kv_rows = cfg["num_attention_heads"] * cfg["head_dim"], cfg["num_key_value_heads"] * cfg["head_dim"]
                a = cfg["hidden_size"] // qn[0]
                if q_rows % a == 0 and kv_rows % (q_rows // a) == 0:
                    cfg.update(num_attention_heads=a, head_dim=q_rows // a, num_key_value_heads=kv_rows // (q_rows // a))
            found[0]["partial_rotary_factor"] = 0.5
            found[2].append("partial_rotary_factor is not in the weights (it changes only the rotary buffers)")
        return found


PRESETS = (
    Preset(
        "microsoft/phi-2",
        {"architectures": ["PhiForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 50256, "embd_pdrop": 0.0,
         "eos_token_id": 50256, "hidden_act": "gelu_new", "hidden_size": 2560, "initializer_range": 0.02,
         "intermediate_size": 10240, "layer_norm_eps": 1e-05, "max_position_embeddings": 2048, "model_type": "phi",
         "num_attention_heads": 32, "num_hidden_layers": 32, "num_key_value_heads": 32,
         "partial_rotary_factor": 0.4, "qk_layernorm": False, "resid_pdrop": 0.1, "rope_scaling": None,
         "rope_theta": 10000.0, "tie_word_embeddings": False, "torch_dtype": "float16", "use_cache": True,
         "vocab_size": 51200},
        "2.7B", "config.json of microsoft/phi-2 on the Hugging Face Hub; 2.7 billion from its model card",
        aliases=("phi-2",), nickname="Phi-2", model_class="PhiForCausalLM",
        notes=("2.78B: the card's 2.7 billion truncates rather than rounds",)),
)

SPEC = PhiFamily("phi", (PHI,), presets=PRESETS,
                 summary="parallel attention and MLP after one LayerNorm, biases everywhere (dense, fc1/fc2, "
                         "lm_head), partial rotary")
FAMILY = SPEC.family()
