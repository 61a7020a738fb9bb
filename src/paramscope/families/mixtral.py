"""Mixtral: Mistral's attention with a sparse mixture-of-experts feed-forward, and name patterns.

Source of truth: transformers ``models/mixtral/modeling_mixtral.py`` (v5). Each layer's ``mlp`` is a
``MixtralSparseMoeBlock``: a router ``gate`` (``weight`` [E, H], no bias) and ``experts``, whose weights
transformers 5 keeps fused in two 3-D parameters, ``gate_up_proj`` [E, 2I, H] and ``down_proj`` [E, H, I]
(expert j's gate is rows 0..I-1 of ``gate_up_proj[j]``, its up projection rows I..2I-1).

Checkpoints keep the older layout: ``save_pretrained`` converts back to ``block_sparse_moe.gate`` and
``block_sparse_moe.experts.J.w1/w2/w3.weight`` (gate [I, H], down [H, I], up [I, H]), as the Hub files of
mistralai/Mixtral-8x7B-v0.1 are. Both layouts are recognised and classified; ``block_sparse_moe`` reads as
``mlp``, the rename transformers applies on load.
"""

from __future__ import annotations

import dataclasses
import re
from typing import Any, Iterator, Mapping

from ..errors import ConfigError
from ..inventory import Tensor
from ..presets import Preset
from ..symbolic import Poly
from .base import Group, Role, Rule, Sub, Symbol
from .common import tensor
from .decoder import COMMON_DEFAULTS, SYMBOLS as DECODER_SYMBOLS, Decoder, DecoderFamily, HeadDim

MIXTRAL = Decoder(
    "mixtral", "Mixtral", "MixtralConfig",
    {**COMMON_DEFAULTS, "intermediate_size": 14336, "num_key_value_heads": 8, "head_dim": None,
     "num_local_experts": 8, "num_experts_per_tok": 2},
    frozenset({"head_dim", "pad_token_id"}), HeadDim.OR)
MODEL_CLASSES = MIXTRAL.classes
_LAYER = r"decoder\.layers\.\d+"


class _Repeats(Mapping[str, str]):
    """``decoder.layers`` counted by L and, in a per-expert checkpoint, each layer's ``mlp.experts`` by E
    (``experts ×8`` rather than eight rows of w1, w2, w3). The tree looks a container up by its path, which
    carries the layer's number, hence a pattern rather than a fixed key."""

    _EXPERTS = re.compile(r"decoder\.layers\.\d+\.mlp\.experts")

    def __getitem__(self, key: str) -> str:
        if key == "decoder.layers":
            return "L"
        if self._EXPERTS.fullmatch(key):
            return "E"
        raise KeyError(key)

    def __iter__(self) -> Iterator[str]:
        return iter(("decoder.layers",))

    def __len__(self) -> int:
        return 1


class Mixtral(DecoderFamily):
    """The decoder with MixtralSparseMoeBlock as its MLP: router, fused experts, active parameters."""

    # E before H so that the experts read 3EHI and the router EH.
    symbols = DECODER_SYMBOLS[:1] + (Symbol("E", "num_local_experts", "experts per layer"),) + DECODER_SYMBOLS[1:]
    extra_ints = (("num_local_experts", 1), ("num_experts_per_tok", 1))
    extra_fields = ("num_local_experts", "num_experts", "num_experts_per_tok")
    repeats = _Repeats()

    def mlp_rules(self) -> tuple[Rule, ...]:
        return (
            Rule(rf"{_LAYER}\.mlp\.gate\.weight", Group.DECODER, Role.FFN, Sub.ROUTER),
            Rule(rf"{_LAYER}\.mlp\.experts\.(gate_up_proj|down_proj)", Group.DECODER, Role.FFN, Sub.EXPERTS),
            # The checkpoint layout: one w1 (gate), w2 (down), w3 (up) per expert.
            Rule(rf"{_LAYER}\.mlp\.experts\.\d+\.w[123]\.weight", Group.DECODER, Role.FFN, Sub.EXPERTS),
        )

    def canonical(self, name: str) -> str:
        """As Llama's, with ``block_sparse_moe`` (the checkpoint name) read as ``mlp`` (the module's)."""
        name = super().canonical(name)
        if name.startswith("decoder.layers."):
            name = re.sub(r"^(decoder\.layers\.\d+)\.block_sparse_moe\.", r"\1.mlp.", name)
        return name

    def resolve(self, raw: Mapping[str, Any], source: str) -> dict[str, Any]:
        raw = dict(raw)
        # MixtralConfig.attribute_map: num_experts is num_local_experts.
        if "num_experts" in raw and "num_local_experts" not in raw:
            raw["num_local_experts"] = raw.pop("num_experts")
        cfg = super().resolve(raw, source)
        k, e = cfg["num_experts_per_tok"], cfg["num_local_experts"]
        if k > e:
            raise ConfigError(
                f"{source}: num_experts_per_tok {k} is more than num_local_experts {e}; the router's top-k "
                f"would fail on the first token; set num_experts_per_tok to at most {e}"
            )
        return cfg

    def mlp(self, name: str, cfg: Mapping[str, Any], mt: Decoder) -> list[Tensor]:
        """MixtralSparseMoeBlock: gate (the router) first, then the fused experts."""
        E, H, I = (Poly.sym(s) for s in "EHI")
        dt = cfg["dtype"]
        return [tensor(f"{name}.gate.weight", (E, H), dt),
                tensor(f"{name}.experts.gate_up_proj", (E, I * 2, H), dt),
                tensor(f"{name}.experts.down_proj", (E, H, I), dt)]

    def active_experts(self, cfg: Mapping[str, Any]) -> tuple[int, int]:
        return cfg["num_experts_per_tok"], cfg["num_local_experts"]

    def mlp_words(self, cfg: Mapping[str, Any], names: frozenset[str]) -> list[str]:
        k, e = cfg["num_experts_per_tok"], cfg["num_local_experts"]
        h, i, n = cfg["hidden_size"], cfg["intermediate_size"], cfg["num_hidden_layers"]
        idle = n * (e - k) * 3 * h * i
        return [
            f"the MLP is a mixture of E = {e} experts, each a SwiGLU of 3HI (gate, up and down, no biases), kept "
            "fused: experts.gate_up_proj (E×2I×H) and experts.down_proj (E×H×I), 3EHI per layer",
            "the router mlp.gate (E×H, no bias) scores the experts for each token; "
            f"num_experts_per_tok = {k} of them run",
            f"active parameters per token: all but the {e - k} idle experts of each layer, the total less "
            f"L·(E - {k})·3HI = {idle:,}; the router, attention, norms and embeddings all count",
        ]

    def infer(self, shapes: Mapping[str, tuple[int, ...]]) -> tuple[dict[str, Any], str, list[str]] | None:
        """Sizes and class from a checkpoint: the router gives E; the experts (fused or one per expert) I."""
        router = shapes.get("decoder.layers.0.mlp.gate.weight")
        fused = shapes.get("decoder.layers.0.mlp.experts.gate_up_proj")
        w1 = shapes.get("decoder.layers.0.mlp.experts.0.w1.weight")
        if router is None or len(router) != 2:
            return None
        if fused is not None and len(fused) == 3:
            inter = fused[1] // 2
        elif w1 is not None and len(w1) == 2:
            inter = w1[0]
        else:
            return None
        found = self.infer_attention(shapes)
        if found is None:
            return None
        cfg, mt, notes = found
        e = router[0]
        cfg.update(intermediate_size=inter, num_local_experts=e, num_experts_per_tok=min(2, e))
        notes.append(f"num_experts_per_tok is not in the weights; taken as {min(2, e)} (MixtralConfig's default): "
                     "it changes the active count, not the total")
        return cfg, self.infer_head(shapes, cfg, mt, notes), notes

    @staticmethod
    def to_model_layout(tensors: list[Tensor]) -> list[Tensor]:
        return to_model_layout(tensors)


_LEGACY = re.compile(r"^(?P<layer>(?:.*\.)?layers\.\d+)\.block_sparse_moe\.(?:(?P<gate>gate\.weight)|"
                     r"experts\.(?P<j>\d+)\.(?P<w>w[123])\.weight)$")


def to_model_layout(tensors: list[Tensor]) -> list[Tensor]:
    """A checkpoint's tensors as the model holds them after loading: per-expert ``w1``/``w3`` merged into
    ``mlp.experts.gate_up_proj`` [E, 2I, H], ``w2`` into ``mlp.experts.down_proj`` [E, H, I], and
    ``block_sparse_moe.gate`` renamed ``mlp.gate`` (transformers' conversion mapping for mixtral).

    A layer whose experts are not all there (0..E-1, each w1, w2, w3, consistent shapes) is left as stored.
    The pipeline applies it (``Family.to_model_layout``) before reconciling.
    """
    layers: dict[str, dict[tuple[int, str], Tensor]] = {}
    for tensor in tensors:
        m = _LEGACY.match(tensor.name)
        if m and m.group("j") is not None:
            layers.setdefault(m.group("layer"), {})[(int(m.group("j")), m.group("w"))] = tensor
    merged: dict[str, list[Tensor]] = {}
    for layer, parts in layers.items():
        e = 1 + max(j for j, _ in parts)
        if len(parts) != 3 * e or any((j, w) not in parts for j in range(e) for w in ("w1", "w2", "w3")):
            continue
        w1, w2 = parts[(0, "w1")].shape, parts[(0, "w2")].shape
        if len(w1) != 2 or w2 != (w1[1], w1[0]) or any(
                parts[(j, w)].shape != (w2 if w == "w2" else w1) for j in range(e) for w in ("w1", "w2", "w3")):
            continue
        i, h = w1
        first = parts[(0, "w1")]
        merged[layer] = [dataclasses.replace(first, name=f"{layer}.mlp.experts.gate_up_proj", shape=(e, 2 * i, h)),
                         dataclasses.replace(first, name=f"{layer}.mlp.experts.down_proj", shape=(e, h, i))]
    out: list[Tensor] = []
    for tensor in tensors:
        m = _LEGACY.match(tensor.name)
        if m is None:
            out.append(tensor)
        elif m.group("gate"):
            out.append(dataclasses.replace(tensor, name=f"{m.group('layer')}.mlp.gate.weight"))
        elif m.group("layer") not in merged:
            out.append(tensor)
        elif (int(m.group("j")), m.group("w")) == (0, "w1"):
            out += merged[m.group("layer")]
    return out


PRESETS = (
    Preset(
        "mistralai/Mixtral-8x7B-v0.1",
        {"architectures": ["MixtralForCausalLM"], "attention_dropout": 0.0, "bos_token_id": 1, "eos_token_id": 2,
         "hidden_act": "silu", "hidden_size": 4096, "initializer_range": 0.02, "intermediate_size": 14336,
         "max_position_embeddings": 32768, "model_type": "mixtral", "num_attention_heads": 32,
         "num_experts_per_tok": 2, "num_hidden_layers": 32, "num_key_value_heads": 8, "num_local_experts": 8,
         "output_router_logits": False, "rms_norm_eps": 1e-05, "rope_theta": 1000000.0,
         "router_aux_loss_coef": 0.02, "sliding_window": None, "tie_word_embeddings": False,
         "torch_dtype": "bfloat16", "use_cache": True, "vocab_size": 32000},
        "46.7B",
        "config.json of mistralai/Mixtral-8x7B-v0.1 on the Hugging Face Hub; 46.7B total, 12.9B active per "
        "token from Mistral AI's announcement (Mixtral of experts)",
        aliases=("Mixtral-8x7B-v0.1", "mixtral-8x7b"), nickname="Mixtral 8x7B", model_class="MixtralForCausalLM",
        notes=("12.9B active parameters per token (2 of 8 experts)",)),
)

SPEC = Mixtral("mixtral", (MIXTRAL,), presets=PRESETS,
               summary="experts and router; `totals.active_parameters` per token")
FAMILY = SPEC.family()
canonical = SPEC.canonical
