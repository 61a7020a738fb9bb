"""A config of a model type with no family: counted exactly by transformers on the meta device."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import paramscope
from paramscope import cli

from . import oracle

# GPT-Neo: a model type with no family (gpt_neox, the example before, has one now).
NEO = {"model_type": "gpt_neo", "vocab_size": 1000, "hidden_size": 64, "num_layers": 2, "num_heads": 4,
       "attention_types": [[["global", "local"], 1]], "intermediate_size": 256, "max_position_embeddings": 64,
       "architectures": ["GPTNeoForCausalLM"]}


def test_counted_on_the_meta_device_and_said_so(tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(NEO))
    a = paramscope.inspect(path)
    truth = oracle.build(NEO, "GPTNeoForCausalLM")
    assert a.parameters == truth.total
    assert [(t.name, t.shape) for t in a.inventory.of_kind(paramscope.inventory.Kind.PARAMETER)] == truth.parameters
    assert a.format == "transformers on the meta device"
    assert a.inventory.notes[0].startswith(
        "model_type 'gpt_neo' has no formula in paramscope: counted exactly by building GPTNeoForCausalLM "
        "with transformers")
    assert a.totals["unclassified"] == 0  # grouped by the generic name patterns


def test_without_torch_the_error_says_what_to_install(tmp_path: Path, monkeypatch, capsys) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(NEO))
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "torch" else real(name, *a))
    assert cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: model_type 'gpt_neo' is not supported yet; supported: ")
    assert err.endswith("; or install torch and transformers to count it by building it on the meta device\n")


def test_a_model_type_transformers_does_not_know(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "no-such-model"}))
    assert cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: model_type 'no-such-model' is not supported yet; supported: ")
    assert "transformers could not build it either (ValueError:" in err and err.count("\n") == 1


def test_an_architecture_no_family_knows(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"architectures": ["FooForBar"]}))
    assert cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: architecture 'FooForBar' is not supported yet and the config names no "
                          "model_type, and its fields fit no family; add model_type, or pass --family with one of ")
    assert "bert" in err.split("supported families: ")[1].rstrip(")\n").split(", ")
    assert err.count("\n") == 1


def test_an_encoder_decoder_is_grouped_by_its_structure(tmp_path: Path) -> None:
    """BART built on the meta device: the decoder's cross-attention is the decoder's (the old generic
    patterns put it in the encoder), every tensor classified."""
    from .zoo import ZOO

    cls, fields = ZOO["bart"]
    path = tmp_path / "config.json"
    path.write_text(json.dumps({"model_type": "bart", "architectures": [cls], **fields}))
    a = paramscope.inspect(path)
    assert a.parameters == oracle.build({"model_type": "bart", **fields}, cls).total
    place = a.placements["model.decoder.layers.1.encoder_attn.q_proj.weight"]
    assert (str(place.group), str(place.role)) == ("decoder", "attention")
    assert str(a.placements["model.encoder.layers.1.fc1.weight"].group) == "encoder"
    assert a.totals["unclassified"] == 0
