"""Cost linear in the number of tensors, checked by counting, never by timing; and the fast paths that make it
so give what the plain ones give.

The count is of lines of paramscope's own code executed (``sys.settrace`` line events, comprehension
iterations included) while ``show --format json`` and the table run on sharded checkpoints of L, 2L and 4L
layers, one shard per layer. A pass over every name per shard, or a scan of a container's children per
tensor, makes the second difference grow four times as fast as the first; linear code makes it twice.
"""

from __future__ import annotations

import dataclasses
import json
import sys
from pathlib import Path

import pytest

import paramscope
from paramscope import cli, families
from paramscope.anatomy import Anatomy
from paramscope.families.base import first_rule
from paramscope.families.generic import GENERIC
from paramscope.render import json as json_render

from .builders import make_safetensors

SRC = str(Path(paramscope.__file__).resolve().parent)


def _sharded(folder: Path, layers: int) -> Path:
    """A Llama-like decoder of ``layers`` layers, one shard per layer, index sorted by name as Hugging Face
    writes it; each layer: attention, a router and four experts of three projections, two norms."""
    folder.mkdir()
    weight_map = {}

    def shard(name: str, tensors: dict[str, list[int]]) -> None:
        header, offset = {}, 0
        for t, shape in tensors.items():
            n = 4 * shape[0] * (shape[1] if len(shape) > 1 else 1)
            header[t] = {"dtype": "F32", "shape": shape, "data_offsets": [offset, offset + n]}
            offset += n
            weight_map[t] = name
        make_safetensors(folder / name, header)

    for i in range(layers):
        p = f"model.layers.{i}"
        tensors = {f"{p}.self_attn.{x}_proj.weight": [4, 4] for x in "qkvo"}
        tensors[f"{p}.mlp.gate.weight"] = [4, 4]
        for e in range(4):
            tensors.update({f"{p}.mlp.experts.{e}.{x}_proj.weight": [4, 4] for x in ("gate", "up", "down")})
        tensors.update({f"{p}.input_layernorm.weight": [4], f"{p}.post_attention_layernorm.weight": [4]})
        shard(f"model-{i + 1:05d}-of-{layers + 2:05d}.safetensors", tensors)
    shard(f"model-{layers + 1:05d}-of-{layers + 2:05d}.safetensors", {"model.embed_tokens.weight": [8, 4]})
    shard(f"model-{layers + 2:05d}-of-{layers + 2:05d}.safetensors",
          {"model.norm.weight": [4], "lm_head.weight": [8, 4]})
    index = folder / "model.safetensors.index.json"
    index.write_text(json.dumps({"metadata": {}, "weight_map": dict(sorted(weight_map.items()))}))
    return index


def _lines(argv: list[str]) -> int:
    """Lines of paramscope's code executed by ``cli.run(argv)``."""
    count = 0

    def local(frame, event, arg):
        nonlocal count
        if event == "line":
            count += 1
        return local

    def calls(frame, event, arg):
        return local if frame.f_code.co_filename.startswith(SRC) else None

    sys.settrace(calls)
    try:
        cli.run(argv)
    finally:
        sys.settrace(None)
    return count


@pytest.mark.parametrize("table", [False, True], ids=["json", "table"])
def test_cost_is_linear_in_the_number_of_tensors(tmp_path, table):
    # 16, 32 and 64 layers of 19 tensors: every size above families.PROBE_NAMES, so each takes the same path.
    sizes = [16, 32, 64]
    assert 19 * sizes[0] > families.PROBE_NAMES
    counts = []
    for layers in sizes:
        index = _sharded(tmp_path / f"l{layers}", layers)
        argv = ["show", str(index)] + ([] if table else ["--format", "json"])
        cli.run(argv)  # the first run imports what the path needs; count the second
        counts.append(_lines(argv))
    first, second = counts[1] - counts[0], counts[2] - counts[1]
    assert first > 0
    # Linear: doubling the layers again adds twice as much (2.000 here); a quadratic term makes the ratio tend
    # to 4 (the code before this test: 2.38, from a pass over every name per shard and a scan of the layers).
    assert second / first < 2.1, counts


def test_read_index_reads_shards_in_file_order(tmp_path):
    """The weight_map is sorted by name (lm_head first); the inventory follows the shards' numbers."""
    index = _sharded(tmp_path / "m", 3)
    names = [t.name for t in paramscope.inspect(str(index)).inventory.tensors]
    assert names[0] == "model.layers.0.self_attn.q_proj.weight"
    assert names[-2:] == ["model.norm.weight", "lm_head.weight"]


def _all_names() -> list[tuple[object, list[str]]]:
    """(family, names) for every family's presets, the test checkpoints, and the generic family on all of them."""
    out = []
    every: list[str] = []
    for fam in families.all_families().values():
        names: list[str] = []
        for preset in list(fam.presets)[:3]:
            names += [t.name for t in paramscope.inspect(preset.name).inventory.tensors]
        out.append((fam, names))
        every += names
    data = Path(__file__).parent / "data"
    for path in ("safetensors/sharded/model.safetensors.index.json", "torch/training_ckpt.pt", "tf/tf2_keras/ckpt"):
        every += [t.name for t in paramscope.inspect(str(data / path)).inventory.tensors]
    out.append((GENERIC, every))
    return out


def test_combined_rules_match_the_first_rule_in_order():
    for fam, names in _all_names():
        combined = first_rule(fam.rules)
        for name in names:
            canonical = fam.canonical(name)
            expected = next((r for r in fam.rules if r.matches(canonical)), None)
            assert combined(canonical) is expected, (fam.name, name)


def test_placements_at_once_equal_one_at_a_time():
    for fam, names in _all_names():
        assert fam.place_all(names) == {n: fam.place(n) for n in names}, fam.name


@pytest.mark.parametrize("spec", ["bert-base-uncased", "t5-small", "gpt2"])
def test_json_text_is_json_dumps_of_to_dict(spec):
    a = paramscope.inspect(spec)
    assert json_render.show(a) == json_render.dumps(json_render.to_dict(a))
    assert json_render.compare([a, a]) == json_render.dumps({"schema_version": 1, "models": [
        json_render.to_dict(a), json_render.to_dict(a)]})


def test_json_text_escapes_names_as_json_dumps_does():
    a = paramscope.inspect("bert-base-uncased")
    odd = ['"quoted"', "back\\slash", "\x01ctl", "new\nline", "é", "\u2028", "tab\t", "tensors\": \"x"]
    tensors = [dataclasses.replace(t, name=t.name + s) for t, s in zip(a.inventory.tensors, odd)]
    tensors.append(dataclasses.replace(a.inventory.tensors[len(odd)], tied_to='a"b'))
    b = Anatomy(dataclasses.replace(a.inventory, tensors=tuple(tensors)), a.family)
    assert json_render.show(b) == json_render.dumps(json_render.to_dict(b))
