"""What can be read is counted: unknown model types and classes, configs without model_type, names that look
like a family whose formula cannot produce them (issue 8, part 1).

Checkpoints are saved by transformers itself (save_pretrained, torch.save of the state dict) from tiny random
models, then read back in a subprocess that must not import torch.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import paramscope
from paramscope import cli
from paramscope.families import MODULES
from paramscope.inventory import Kind

from .builders import TINY, save_model

# Tiny configurations of model types with no paramscope family (transformers' main class of each).
UNKNOWN_TYPES: dict[str, tuple[str, dict[str, Any]]] = {
    "gemma": ("GemmaForCausalLM", dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=1, head_dim=16)),
    "qwen3": ("Qwen3ForCausalLM", dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                       num_attention_heads=4, num_key_value_heads=2, head_dim=16,
                                       tie_word_embeddings=False)),
    "phi3": ("Phi3ForCausalLM", dict(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                     num_attention_heads=4, num_key_value_heads=2, pad_token_id=0)),
    "qwen2_moe": ("Qwen2MoeForCausalLM", dict(vocab_size=256, hidden_size=64, intermediate_size=128,
                                              moe_intermediate_size=32, shared_expert_intermediate_size=64,
                                              num_experts=4, num_experts_per_tok=2, num_hidden_layers=2,
                                              num_attention_heads=4, num_key_value_heads=2)),
    "opt": ("OPTForCausalLM", dict(vocab_size=256, hidden_size=64, ffn_dim=128, num_hidden_layers=2,
                                   num_attention_heads=4, max_position_embeddings=64, word_embed_proj_dim=64)),
    "bart": ("BartForConditionalGeneration", dict(vocab_size=256, d_model=64, encoder_layers=2, decoder_layers=2,
                                                  encoder_attention_heads=4, decoder_attention_heads=4,
                                                  encoder_ffn_dim=128, decoder_ffn_dim=128,
                                                  max_position_embeddings=64)),
    "modernbert": ("ModernBertForMaskedLM", dict(vocab_size=256, hidden_size=64, intermediate_size=128,
                                                 num_hidden_layers=3, num_attention_heads=4,
                                                 max_position_embeddings=64, pad_token_id=0, bos_token_id=1,
                                                 eos_token_id=2, cls_token_id=1, sep_token_id=2)),
    "vit": ("ViTForImageClassification", dict(hidden_size=64, num_hidden_layers=2, num_attention_heads=4,
                                              intermediate_size=128, image_size=32, patch_size=8, num_labels=3)),
}


def _build(model_type: str) -> Any:
    import torch
    import transformers

    transformers.logging.set_verbosity_error()
    cls, kwargs = UNKNOWN_TYPES[model_type]
    torch.manual_seed(0)
    cfg = transformers.AutoConfig.for_model(model_type, **kwargs)
    cfg.architectures = [cls]
    return getattr(transformers, cls)(cfg)


def _read_without_torch(path: Path) -> dict[str, Any]:
    """``paramscope.inspect(path)`` in a fresh interpreter: totals, family, notes, and whether torch loaded."""
    code = (
        "import json, sys, paramscope\n"
        f"a = paramscope.inspect({str(path)!r})\n"
        "print(json.dumps({'parameters': a.parameters, 'family': a.inventory.family, 'class': a.model_class,\n"
        "  'unclassified': a.totals['unclassified'], 'buffers': a.totals['buffers'],\n"
        "  'notes': list(a.inventory.notes), 'torch': 'torch' in sys.modules,\n"
        "  'transformers': 'transformers' in sys.modules, 'reconciled': a.reconciliation is not None,\n"
        "  'agrees': a.reconciliation is not None and a.reconciliation.agrees}))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


@pytest.mark.parametrize("how", ["save_pretrained", "torch.save"])
@pytest.mark.parametrize("model_type", sorted(UNKNOWN_TYPES))
def test_unknown_model_types_are_counted_exactly_without_torch(tmp_path: Path, model_type: str, how: str) -> None:
    import torch

    model = _build(model_type)
    truth = sum(p.numel() for p in model.parameters())
    if how == "save_pretrained":
        model.save_pretrained(tmp_path)
    else:
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
        (tmp_path / "config.json").write_text(model.config.to_json_string())
    got = _read_without_torch(tmp_path)
    assert not got["torch"] and not got["transformers"]
    assert got["parameters"] == truth, got
    assert got["family"] == model_type and got["class"] == UNKNOWN_TYPES[model_type][0]
    if model_type in MODULES:  # a family with a formula: reconciled
        assert got["reconciled"] and got["agrees"], got
    else:
        assert not got["reconciled"]
        assert any(f"model_type '{model_type}' has no formula in paramscope yet" in n for n in got["notes"])
    assert got["unclassified"] <= truth // 100, got


def test_cli_shows_an_unknown_type_and_check_says_why_it_cannot(tmp_path: Path, capsys) -> None:
    model = _build("opt")
    model.save_pretrained(tmp_path)
    n = sum(p.numel() for p in model.parameters())
    capsys.readouterr()
    assert cli.main([str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"{tmp_path}: opt · OPTForCausalLM\n")
    assert "model_type 'opt' has no formula in paramscope yet" in out
    assert cli.main(["check", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err == (f"error: {tmp_path}: cannot check: model_type 'opt' has no formula in paramscope yet "
                   f"({n:,} parameters read); 'paramscope show {tmp_path}' counts and groups them\n")


@pytest.mark.parametrize("model_type", ["phi3", "vit"])
def test_live_modules_of_unknown_types(model_type: str) -> None:
    import torch

    with torch.device("meta"):
        model = _build(model_type)
    a = paramscope.inspect(model)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.inventory.family == model_type and a.model_class == type(model).__name__
    if model_type in MODULES:  # a family with a formula now (phi3): reconciled
        assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    else:
        assert a.reconciliation is None


@pytest.mark.parametrize("model_type", ["helium", "arcee", "mt5", "big_bird"])
def test_configs_that_look_like_a_family_after_the_meta_build(tmp_path: Path, model_type: str) -> None:
    """These were recognised as llama / t5 / bert after the meta-device build, then refused by class."""
    import transformers

    cfg = transformers.AutoConfig.for_model(model_type).to_dict()
    small = {"vocab_size": 128, "hidden_size": 32, "d_model": 32, "intermediate_size": 64, "d_ff": 64,
             "num_hidden_layers": 1, "num_layers": 1, "num_decoder_layers": 1, "num_attention_heads": 2,
             "num_heads": 2, "num_key_value_heads": 2, "head_dim": 16, "d_kv": 16}
    cfg.update({k: v for k, v in small.items() if k in cfg})
    path = tmp_path / "config.json"
    path.write_text(json.dumps(cfg))
    a = paramscope.inspect(path)
    assert a.format == "transformers on the meta device"
    assert a.inventory.family == model_type
    assert a.parameters > 0


def test_mpnet_without_config_is_not_bert(tmp_path: Path) -> None:
    """MPNet's embeddings and feed-forward look like BERT's, its attention does not: BERT's formula would
    explain 72% of the weights, so it is not read as BERT and check reports no false mismatch."""
    import transformers

    cfg = transformers.MPNetConfig(vocab_size=256, hidden_size=64, intermediate_size=128, num_hidden_layers=2,
                                   num_attention_heads=4)
    model = transformers.MPNetModel(cfg)
    model.save_pretrained(tmp_path)
    (tmp_path / "config.json").unlink()
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.inventory.family == "unknown" and a.reconciliation is None
    assert any(n.startswith("the names look like bert, but its formula explains only 72%") for n in a.inventory.notes)


def test_a_custom_class_of_a_known_type_is_reconciled_as_the_class_its_weights_show(tmp_path: Path) -> None:
    """AntiBERTy: model_type bert, architectures a custom class; the weights are a BertForMaskedLM."""
    model = save_model(tmp_path, "BertForMaskedLM")
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "architectures": ["AntiBERTy"]}))
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert a.model_class == "BertForMaskedLM"
    assert a.reconciliation is not None and a.reconciliation.agrees
    assert ("architectures names AntiBERTy, which has no formula in the bert family: reconciled as "
            "BertForMaskedLM, the class its weights show") in a.inventory.notes
    assert cli.main(["check", str(tmp_path)]) == 0


def test_a_config_that_cannot_be_used_still_counts_the_weights(tmp_path: Path) -> None:
    save_model(tmp_path, "BertModel")
    config = json.loads((tmp_path / "config.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps({**config, "hidden_size": 17}))
    a = paramscope.inspect(tmp_path)
    assert a.inventory.family == "bert" and a.reconciliation is None
    assert a.parameters == paramscope.inspect(tmp_path / "model.safetensors").parameters
    assert any(n.startswith(f"no formula: {tmp_path / 'config.json'}: hidden_size 17 is not a multiple")
               for n in a.inventory.notes)
    for bad, said in (({"model_type": ["bert"]}, "model_type must be a string, got list"),
                      ({"architectures": 5}, "architectures must be a list of class names, got int"),
                      ({"architectures": [{"x": 1}]}, "architectures must be a list of class names, got list")):
        (tmp_path / "config.json").write_text(json.dumps({**config, **bad}))
        b = paramscope.inspect(tmp_path)  # the weights are still read, and told BERT by their names
        assert b.parameters == a.parameters and b.inventory.family == "bert"
        assert b.reconciliation is not None and b.reconciliation.agrees
        assert f"the config cannot be used ({tmp_path / 'config.json'}: {said}): the family is told from the " \
               "tensor names" in b.inventory.notes
        (tmp_path / "c.json").write_text(json.dumps({**config, **bad}))
        with pytest.raises(paramscope.ConfigError, match=f"c.json: {said}; fix the config"):
            paramscope.inspect(tmp_path / "c.json")


# -- configs without model_type -------------------------------------------------------------------------

LLAMA_SIZED = {"vocab_size": 32000, "hidden_size": 4096, "intermediate_size": 11008, "num_hidden_layers": 32,
               "num_attention_heads": 32, "num_key_value_heads": 8, "rms_norm_eps": 1e-5,
               "max_position_embeddings": 4096, "rope_theta": 10000.0, "tie_word_embeddings": False}
GOOGLE_BERT = {"attention_probs_dropout_prob": 0.1, "hidden_act": "gelu", "hidden_dropout_prob": 0.1,
               "hidden_size": 768, "initializer_range": 0.02, "intermediate_size": 3072,
               "max_position_embeddings": 512, "num_attention_heads": 12, "num_hidden_layers": 12,
               "type_vocab_size": 2, "vocab_size": 30522}


def test_an_empty_config_is_an_error_that_names_the_file_and_the_fix(tmp_path: Path, capsys) -> None:
    path = tmp_path / "config.json"
    path.write_text("{}")
    assert cli.main([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}: the config names no model_type, and its fields fit no family; add "
                          "model_type, or pass --family with one of ")
    assert err.count("\n") == 1 and "transformers" not in err
    assert cli.main([str(path), "--family", "bert"]) == 0


@pytest.mark.parametrize(("config", "family", "parameters"), [
    (LLAMA_SIZED, "llama", 5_933_109_248),
    (GOOGLE_BERT, "bert", 109_482_240),
    ({"n_embd": 768, "n_layer": 12, "n_head": 12, "vocab_size": 50257, "n_positions": 1024}, "gpt2", 124_439_808),
])
def test_a_config_without_model_type_is_read_by_its_fields_and_says_so(
        tmp_path: Path, config: dict[str, Any], family: str, parameters: int) -> None:
    path = tmp_path / "config.json"
    path.write_text(json.dumps(config))
    a = paramscope.inspect(path)
    assert (a.inventory.family, a.parameters) == (family, parameters)
    assert any(n.startswith(f"the config names no model_type: read as {family}, whose fields it has")
               for n in a.inventory.notes)


def test_the_field_fit_can_fail() -> None:
    """The fit is not BERT by default: a Llama-sized config is not BERT, and sizes alone fit nothing."""
    from paramscope.families import fit_by_fields

    assert fit_by_fields({"vocab_size": 10, "hidden_size": 8}) is None
    fitted = fit_by_fields(LLAMA_SIZED)
    assert fitted is not None and fitted[0].name == "llama"
    fitted = fit_by_fields(GOOGLE_BERT)
    assert fitted is not None and fitted[0].name == "bert" and "roberta" in fitted[1]


def test_errors_about_a_folder_config_name_the_file(tmp_path: Path, capsys) -> None:
    save_model(tmp_path, "BertModel", TINY)
    capsys.readouterr()
    assert cli.main(["check", str(tmp_path), "--model-class", "NoSuchClass"]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {tmp_path / 'config.json'}: ") and "<dict>" not in err


def test_aliases_and_buffers_of_an_unknown_type(tmp_path: Path) -> None:
    """BART stores final_logits_bias, a registered buffer: not a parameter, whatever the family."""
    model = _build("bart")
    model.save_pretrained(tmp_path)
    a = paramscope.inspect(tmp_path)
    assert a.parameters == sum(p.numel() for p in model.parameters())
    assert [t.name for t in a.inventory.of_kind(Kind.BUFFER)] == ["final_logits_bias"]
