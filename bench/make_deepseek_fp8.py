"""Write a DeepSeek-V3-shaped FP8 checkpoint folder: real safetensors headers, data regions as holes.

Run:  python bench/make_deepseek_fp8.py FOLDER [--no-mtp] [--no-config] [--shards 163]

The folder gets 163 shards ``model-000NN-of-000163.safetensors`` (the release's own spelling, five digits then
six), ``model.safetensors.index.json`` and ``config.json``. Each shard is the 8-byte header length, the JSON header
with correct ``data_offsets``, then a hole (``f.truncate(size)``): about 690 GB of apparent size on about 21 MB of
disk. Standard library only.

The layout follows DeepSeek-V3's config and README_WEIGHTS.md (deepseek-ai/DeepSeek-V3) and transformers'
``deepseek_v3`` modeling:

- 61 decoder layers ``model.layers.0-60``; the first 3 dense (``first_k_dense_replace=3``, MLP intermediate
  18432), the other 58 mixture-of-experts: 256 routed experts and 1 shared expert (intermediate 2048 each), the
  router ``mlp.gate.weight`` [256, 7168] and ``mlp.gate.e_score_correction_bias`` [256];
- MLA attention: ``q_a_proj`` [1536, 7168], ``q_a_layernorm`` [1536], ``q_b_proj`` [128 x (128 + 64), 1536],
  ``kv_a_proj_with_mqa`` [512 + 64, 7168], ``kv_a_layernorm`` [512], ``kv_b_proj`` [128 x (128 + 128), 512],
  ``o_proj`` [7168, 128 x 128];
- ``model.layers.61``, the multi-token-prediction (MTP) module: one more MoE decoder layer plus ``embed_tokens``,
  ``enorm``, ``hnorm``, ``eh_proj`` [7168, 2 x 7168] and ``shared_head.{norm,head}``;
- ``model.embed_tokens`` and ``lm_head`` [129280, 7168], ``model.norm`` [7168].

Dtypes as released: every linear layer's weight of the decoder layers is F8_E4M3 with an F32 ``weight_scale_inv``
of shape [ceil(out/128), ceil(in/128)] (128 x 128 blocks); norms, embeddings, heads, the router and the MTP's
``eh_proj`` are BF16 (vLLM's ``deepseek_mtp`` builds ``eh_proj`` as a plain unquantised ``nn.Linear``); the router's
``e_score_correction_bias`` is F32.

Tensor count: 3 + 3 dense layers x 20 + 58 MoE layers x 1,558 = 90,427 without the MTP module (``--no-mtp``; the
figure issue 8 quotes), 91,991 with it (its MoE layer's 1,558 and 6 more tensors), which is what the release's
index lists.
"""

from __future__ import annotations

import argparse
import json
import math
import struct
import sys
from pathlib import Path

HIDDEN, INTER, MOE_INTER, VOCAB = 7168, 18432, 2048, 129280
Q_LORA, KV_LORA, QK_NOPE, QK_ROPE, V_HEAD, HEADS = 1536, 512, 128, 64, 128, 128
LAYERS, DENSE_LAYERS, EXPERTS, BLOCK = 61, 3, 256, 128
TENSORS_WITHOUT_MTP, TENSORS_WITH_MTP = 90_427, 91_991

BYTES = {"F8_E4M3": 1, "BF16": 2, "F32": 4}

CONFIG = {
    "architectures": ["DeepseekV3ForCausalLM"],
    "model_type": "deepseek_v3",
    "vocab_size": VOCAB,
    "hidden_size": HIDDEN,
    "intermediate_size": INTER,
    "moe_intermediate_size": MOE_INTER,
    "num_hidden_layers": LAYERS,
    "num_nextn_predict_layers": 1,
    "num_attention_heads": HEADS,
    "num_key_value_heads": HEADS,
    "n_shared_experts": 1,
    "n_routed_experts": EXPERTS,
    "num_experts_per_tok": 8,
    "n_group": 8,
    "topk_group": 4,
    "routed_scaling_factor": 2.5,
    "scoring_func": "sigmoid",
    "topk_method": "noaux_tc",
    "norm_topk_prob": True,
    "first_k_dense_replace": DENSE_LAYERS,
    "moe_layer_freq": 1,
    "q_lora_rank": Q_LORA,
    "kv_lora_rank": KV_LORA,
    "qk_nope_head_dim": QK_NOPE,
    "qk_rope_head_dim": QK_ROPE,
    "v_head_dim": V_HEAD,
    "hidden_act": "silu",
    "max_position_embeddings": 163840,
    "rms_norm_eps": 1e-06,
    "tie_word_embeddings": False,
    "torch_dtype": "bfloat16",
    "quantization_config": {
        "quant_method": "fp8",
        "fmt": "e4m3",
        "activation_scheme": "dynamic",
        "weight_block_size": [BLOCK, BLOCK],
    },
}


def _linear_fp8(prefix: str, out: int, inp: int) -> list[tuple[str, str, list[int]]]:
    return [(f"{prefix}.weight", "F8_E4M3", [out, inp]),
            (f"{prefix}.weight_scale_inv", "F32", [math.ceil(out / BLOCK), math.ceil(inp / BLOCK)])]


def _mlp(prefix: str, inter: int) -> list[tuple[str, str, list[int]]]:
    return (_linear_fp8(f"{prefix}.gate_proj", inter, HIDDEN) + _linear_fp8(f"{prefix}.up_proj", inter, HIDDEN)
            + _linear_fp8(f"{prefix}.down_proj", HIDDEN, inter))


def layer(i: int) -> list[tuple[str, str, list[int]]]:
    """One decoder layer's tensors (name, dtype, shape), in transformers' module order."""
    p = f"model.layers.{i}"
    a = f"{p}.self_attn"
    out = [
        *_linear_fp8(f"{a}.q_a_proj", Q_LORA, HIDDEN),
        (f"{a}.q_a_layernorm.weight", "BF16", [Q_LORA]),
        *_linear_fp8(f"{a}.q_b_proj", HEADS * (QK_NOPE + QK_ROPE), Q_LORA),
        *_linear_fp8(f"{a}.kv_a_proj_with_mqa", KV_LORA + QK_ROPE, HIDDEN),
        (f"{a}.kv_a_layernorm.weight", "BF16", [KV_LORA]),
        *_linear_fp8(f"{a}.kv_b_proj", HEADS * (QK_NOPE + V_HEAD), KV_LORA),
        *_linear_fp8(f"{a}.o_proj", HIDDEN, HEADS * V_HEAD),
    ]
    if i < DENSE_LAYERS:
        out += _mlp(f"{p}.mlp", INTER)
    else:
        for e in range(EXPERTS):
            out += _mlp(f"{p}.mlp.experts.{e}", MOE_INTER)
        out += [(f"{p}.mlp.gate.weight", "BF16", [EXPERTS, HIDDEN]),
                (f"{p}.mlp.gate.e_score_correction_bias", "F32", [EXPERTS])]
        out += _mlp(f"{p}.mlp.shared_experts", MOE_INTER)
    out += [(f"{p}.input_layernorm.weight", "BF16", [HIDDEN]),
            (f"{p}.post_attention_layernorm.weight", "BF16", [HIDDEN])]
    return out


def tensors(*, mtp: bool = True) -> list[tuple[str, str, list[int]]]:
    """Every tensor of the checkpoint in the order the shards store them."""
    out = [("model.embed_tokens.weight", "BF16", [VOCAB, HIDDEN])]
    for i in range(LAYERS):
        out += layer(i)
    out += [("model.norm.weight", "BF16", [HIDDEN]), ("lm_head.weight", "BF16", [VOCAB, HIDDEN])]
    if mtp:
        p = f"model.layers.{LAYERS}"
        out += [(f"{p}.embed_tokens.weight", "BF16", [VOCAB, HIDDEN]),
                (f"{p}.enorm.weight", "BF16", [HIDDEN]), (f"{p}.hnorm.weight", "BF16", [HIDDEN]),
                (f"{p}.eh_proj.weight", "BF16", [HIDDEN, 2 * HIDDEN])]
        out += layer(LAYERS)
        out += [(f"{p}.shared_head.norm.weight", "BF16", [HIDDEN]),
                (f"{p}.shared_head.head.weight", "BF16", [VOCAB, HIDDEN])]
    return out


def write(folder: Path, *, shards: int = 163, mtp: bool = True, config: bool = True) -> dict[str, int]:
    """Write the folder; return its figures (tensors, parameters, apparent and header bytes), checked."""
    folder.mkdir(parents=True, exist_ok=True)
    items = tensors(mtp=mtp)
    want = TENSORS_WITH_MTP if mtp else TENSORS_WITHOUT_MTP
    if len(items) != want or len({n for n, _, _ in items}) != want:
        sys.exit(f"error: {len(items):,} tensors, expected {want:,} unique names; the layout above is wrong")
    data_bytes = sum(math.prod(s) * BYTES[d] for _, d, s in items)
    groups: list[list[tuple[str, str, list[int]]]] = [[] for _ in range(shards)]
    start = 0
    for item in items:  # a tensor goes to the shard its first byte falls in (~4.2 GB each)
        groups[start * shards // data_bytes].append(item)
        start += math.prod(item[2]) * BYTES[item[1]]
    if not all(groups):
        sys.exit("error: a shard got no tensor; use fewer shards")
    weight_map: dict[str, str] = {}
    apparent = headers = 0
    for k, group in enumerate(groups, 1):
        fname = f"model-{k:05d}-of-{shards:06d}.safetensors"
        header: dict[str, object] = {"__metadata__": {"format": "pt"}}
        offset = 0
        for name, dtype, shape in group:
            n = math.prod(shape) * BYTES[dtype]
            header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + n]}
            offset += n
            weight_map[name] = fname
        raw = json.dumps(header, separators=(",", ":")).encode()
        raw += b" " * (-len(raw) % 8)  # safetensors pads the header to 8 bytes
        path = folder / fname
        with open(path, "wb") as f:
            f.write(struct.pack("<Q", len(raw)) + raw)
            f.truncate(8 + len(raw) + offset)  # the data: a hole
        apparent += path.stat().st_size
        headers += 8 + len(raw)
    index = {"metadata": {"total_size": data_bytes}, "weight_map": dict(sorted(weight_map.items()))}
    (folder / "model.safetensors.index.json").write_text(json.dumps(index, indent=2) + "\n")
    if config:
        cfg = dict(CONFIG, num_nextn_predict_layers=1 if mtp else 0)
        (folder / "config.json").write_text(json.dumps(cfg, indent=2) + "\n")
    if apparent != headers + data_bytes:
        sys.exit(f"error: sizes do not add up: {apparent=:,} {headers=:,} {data_bytes=:,}")
    return {"tensors": len(items), "parameters": sum(math.prod(s) for _, _, s in items), "apparent": apparent,
            "headers": headers, "shards": shards}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folder", type=Path, help="where to write (created; existing shards are overwritten)")
    ap.add_argument("--shards", type=int, default=163, help="number of shards (default 163, as released)")
    ap.add_argument("--no-mtp", action="store_true", help="leave out model.layers.61, the MTP module (90,427 tensors)")
    ap.add_argument("--no-config", action="store_true", help="write no config.json")
    args = ap.parse_args()
    figures = write(args.folder, shards=args.shards, mtp=not args.no_mtp, config=not args.no_config)
    print(f"{args.folder}: {figures['tensors']:,} tensors, {figures['parameters']:,} parameters, "
          f"{figures['apparent']:,} bytes in {figures['shards']} shards ({figures['headers']:,} of headers)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
