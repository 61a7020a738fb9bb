"""The command line: the exact one-line errors a user sees, exit codes, help texts, default command."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from paramscope import cli


def run_main(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = cli.main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def write(tmp_path: Path, name: str, text: str | bytes) -> str:
    path = tmp_path / name
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    return str(path)


ERRORS = [
    (["bert-base-uncase"],
     "error: 'bert-base-uncase' is neither a preset nor an existing file or folder; did you mean "
     "bert-base-uncased, bert-base-cased, bert-large-uncased? 'paramscope presets' lists the presets"),
    (["google-bert/bert-large-cassed"],
     "error: 'google-bert/bert-large-cassed' is neither a preset nor an existing file or folder; did you mean "
     "bert-large-cased, bert-large-uncased, bert-base-cased? 'paramscope presets' lists the presets"),
    (["xyzzy"], "error: 'xyzzy' is neither a preset nor an existing file or folder; "
                "'paramscope presets' lists the presets"),
    (["bert-base-uncased", "--set", "vocab_size"],
     "error: --set 'vocab_size': expected FIELD=VALUE, e.g. --set vocab_size=21128"),
    (["bert-base-uncased", "--set", "vocab_sise=3"],
     "error: --set vocab_sise: not a field that changes the count of a bert model; fields that do: vocab_size, "
     "hidden_size, num_hidden_layers, num_attention_heads, intermediate_size, max_position_embeddings, "
     "type_vocab_size, pad_token_id, is_decoder, add_cross_attention, tie_word_embeddings, num_labels, id2label, "
     "dtype, torch_dtype"),
    (["bert-base-uncased", "--set", "vocab_size=abc"],
     "error: bert-base-uncased: vocab_size must be an integer, got 'abc'; write it as a whole number"),
    (["bert-base-uncased", "--set", "num_hidden_layers=-1"],
     "error: bert-base-uncased: num_hidden_layers must be at least 0, got -1; fix the value"),
    (["bert-base-uncased", "--model-class", "BertForFoo"],
     "error: bert-base-uncased: no formula for model class 'BertForFoo'; pass --model-class with one of BertModel, "
     "BertForPreTraining, BertForMaskedLM, BertLMHeadModel, BertForNextSentencePrediction, "
     "BertForSequenceClassification, BertForTokenClassification, BertForQuestionAnswering, BertForMultipleChoice"),
    (["bert-base-uncased", "--format", "xml"],
     "error: argument --format: invalid choice: 'xml' (choose from 'table', 'json', 'markdown', 'csv') "
     "(see 'paramscope show --help')"),
    (["bert-base-uncased", "--depth", "-1"], "error: --depth must be 0 or more, got -1"),
    (["compare"], "error: the following arguments are required: models (see 'paramscope compare --help')"),
]


@pytest.mark.parametrize(("argv", "message"), ERRORS, ids=[" ".join(a) for a, _ in ERRORS])
def test_usage_errors(capsys: pytest.CaptureFixture[str], argv: list[str], message: str) -> None:
    assert run_main(capsys, *argv) == (2, "", message + "\n")


CONFIG_ERRORS = [
    ("h.json", '{"model_type": "bert", "hidden_size": 770}',
     "hidden_size 770 is not a multiple of num_attention_heads 12; set hidden_size to a multiple of 12 (e.g. 768) "
     "or change num_attention_heads"),
    ("n.json", '{"model_type": "bert", "hidden_size": -768}', "hidden_size must be a positive integer, got -768; fix the value"),
    ("f.json", '{"model_type": "bert", "hidden_size": 76.8}', "hidden_size must be an integer, got 76.8; write it as a whole number"),
    ("b.json", '{"model_type": "bert", "num_hidden_layers": true}',
     "num_hidden_layers must be an integer, got True; write it as a whole number"),
    ("t.json", '{"model_type": "bert", "tie_word_embeddings": "yes"}', "tie_word_embeddings must be true or false, got 'yes'"),
    ("bad.json", '{"hidden_size": 768,\n',
     "invalid JSON at line 2, column 1: Expecting property name enclosed in double quotes; fix the file"),
    ("list.json", "[1, 2]", "expected a JSON object of config fields, got list"),
    ("bin.json", b"\xff\xfe{}", "not a JSON text (byte 0 is not UTF-8); pass a config.json"),
    ("x.json", '{"model_type": "bert", "add_cross_attention": true}',
     "add_cross_attention needs is_decoder; set is_decoder=true or add_cross_attention=false"),
    ("p.json", '{"model_type": "bert", "vocab_size": 10, "pad_token_id": 10}',
     "pad_token_id 10 is not a token of the vocabulary (vocab_size 10); set pad_token_id below vocab_size"),
]


@pytest.mark.parametrize(("name", "text", "message"), CONFIG_ERRORS, ids=[c[0] for c in CONFIG_ERRORS])
def test_config_errors(capsys, tmp_path: Path, name: str, text: str, message: str) -> None:
    path = write(tmp_path, name, text)
    assert run_main(capsys, path) == (2, "", f"error: {path}: {message}\n")


def test_missing_file_and_empty_folder(capsys, tmp_path: Path) -> None:
    missing = str(tmp_path / "missing.json")
    assert run_main(capsys, missing) == (2, "", f"error: {missing}: no such file; check the path\n")
    assert run_main(capsys, str(tmp_path)) == (
        2, "", f"error: {tmp_path}: folder has neither weights nor a config.json; "
               "pass a checkpoint, a config.json or a preset name\n")


def test_oversized_config_is_refused_without_reading(capsys, tmp_path: Path) -> None:
    path = tmp_path / "config.json"
    with open(path, "wb") as f:
        f.truncate(64 * 1024 * 1024)  # sparse: no memory or disk is spent
    code, out, err = run_main(capsys, str(path))
    assert (code, out) == (2, "")
    assert err == (f"error: {path}: 67,108,864 bytes is too large for a config.json (limit 16,777,216); "
                   "pass the model's config.json\n")


def test_folder_with_config(capsys, tmp_path: Path) -> None:
    write(tmp_path, "config.json", json.dumps({"model_type": "bert", "vocab_size": 21128,
                                               "architectures": ["BertForMaskedLM"]}))
    code, out, err = run_main(capsys, "show", str(tmp_path), "--format", "json")
    data = json.loads(out)
    assert (code, err) == (0, "")
    # architectures[0] picks the class for a config file; BertForMaskedLM has no pooler.
    assert data["model_class"] == "BertForMaskedLM"
    assert data["groups"]["pooler"] == 0
    assert data["source"] == str(tmp_path / "config.json")


def test_default_command_is_show(capsys) -> None:
    a = run_main(capsys, "bert-base-uncased", "--color", "never")
    b = run_main(capsys, "show", "bert-base-uncased", "--color", "never")
    assert a == b and a[0] == 0 and "109,482,240 parameters" in a[1]


def test_no_arguments_prints_help(capsys) -> None:
    code, out, err = run_main(capsys)
    assert code == 0 and out.startswith("usage: paramscope") and err == ""


def test_every_command_and_option_has_help() -> None:
    parser = cli.build_parser()
    subparsers = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(subparsers.choices) == set(cli.COMMANDS)
    helps = {a.dest: a.help for a in subparsers._choices_actions}
    for name, sub in subparsers.choices.items():
        assert helps[name], name
        assert sub.description, name
        for action in sub._actions:
            assert action.help, f"{name} {action.option_strings or action.dest}"


def test_json_schema_keys(capsys) -> None:
    code, out, _ = run_main(capsys, "bert-base-uncased", "--model-class", "BertForPreTraining", "--format", "json")
    data = json.loads(out)
    assert data["schema_version"] == 1
    assert {"source", "family", "model_class", "totals", "groups", "roles", "tensors"} <= set(data)
    assert {"parameters", "buffers", "tied_aliases", "optimizer_state", "bytes"} <= set(data["totals"])
    assert set(data["groups"]) == {"embeddings", "encoder", "decoder", "final_norm", "pooler", "heads"}
    assert set(data["roles"]) == {"embedding", "attention", "ffn", "norm", "pooler", "head", "other"}
    assert data["totals"]["parameters"] == 110_106_428
    decoder = next(t for t in data["tensors"] if t["name"] == "cls.predictions.decoder.weight")
    assert decoder == {"name": "cls.predictions.decoder.weight", "shape": [30522, 768], "dtype": "float32",
                       "numel": 23440896, "kind": "alias", "group": "heads", "role": "head",
                       "tied_to": "bert.embeddings.word_embeddings.weight"}
    assert sum(t["numel"] for t in data["tensors"] if t["kind"] == "parameter") == data["totals"]["parameters"]


def test_compare_json(capsys) -> None:
    code, out, _ = run_main(capsys, "compare", "bert-base-uncased", "bert-base-chinese", "--format", "json")
    data = json.loads(out)
    assert data["schema_version"] == 1
    assert [m["totals"]["parameters"] for m in data["models"]] == [109_482_240, 102_267_648]


def test_what_if(capsys) -> None:
    code, out, _ = run_main(capsys, "bert-base-uncased", "--set", "vocab_size=21128", "--format", "json")
    data = json.loads(out)
    assert data["totals"]["parameters"] == 102_267_648  # what bert-base-chinese has
    assert data["overrides"] == {"vocab_size": 21128}
    assert data["baseline"]["parameters"] == 109_482_240


def test_what_if_num_labels_replaces_id2label(tmp_path: Path) -> None:
    import paramscope

    path = write(tmp_path, "config.json", json.dumps({"id2label": {"0": "a", "1": "b", "2": "c"}}))
    a = paramscope.inspect(path, model_class="BertForSequenceClassification", overrides={"num_labels": 7})
    assert a.groups["heads"] == 7 * 768 + 7


def test_csv(capsys) -> None:
    code, out, _ = run_main(capsys, "bert-tiny", "--format", "csv")
    lines = out.splitlines()
    assert lines[0] == "name,shape,dtype,numel,kind,group,role,tied_to"
    assert lines[1] == "embeddings.word_embeddings.weight,30522x128,float32,3906816,parameter,embeddings,embedding,"


def test_color_only_when_asked(capsys) -> None:
    _, plain, _ = run_main(capsys, "bert-tiny", "--color", "never")
    _, colored, _ = run_main(capsys, "bert-tiny", "--color", "always")
    assert "\x1b[" not in plain and "\x1b[" in colored


def _subprocess(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], capture_output=True, text=True, timeout=120, env=env)


def test_cli_does_not_import_frameworks() -> None:
    code = ("import sys, paramscope.cli as c; c.run(['bert-base-uncased']); c.run(['show', 'bert-base-chinese', "
            "'--formula']); print(sorted(m for m in ('torch', 'transformers', 'tensorflow', 'numpy') "
            "if m in sys.modules))")
    result = _subprocess("-c", code)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_console_entry_point_and_no_traceback(tmp_path: Path) -> None:
    ok = _subprocess("-m", "paramscope.cli", "bert-base-uncased", "--format", "json")
    assert ok.returncode == 0 and json.loads(ok.stdout)["totals"]["parameters"] == 109_482_240
    bad = _subprocess("-m", "paramscope.cli", write(tmp_path, "c.json", "{"))
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.count("\n") == 1 and "Traceback" not in bad.stderr


def test_family_modules_are_indexed_and_loaded_only_when_needed() -> None:
    from paramscope import families

    for fam in families.all_families().values():
        for model_type in fam.model_types or (fam.name,):
            assert families.load(families.MODULES[model_type]) is fam, model_type
    code = ("import sys, paramscope.cli as c; c.run(['bert-base-uncased']); "
            "print(sorted(m for m in sys.modules if m.startswith('paramscope.families.')))\n"
            "print(sorted(m for m in ('paramscope.reconcile', 'paramscope.sources.checkpoint', "
            "'paramscope.sources.module', 'paramscope.render.html') if m in sys.modules))")
    result = _subprocess("-c", code)
    # _registry is the generated model_type -> module table (data only); spec holds ``declare``.
    assert result.stdout.split("\n")[:2] == ["['paramscope.families._registry', 'paramscope.families.base', "
                                             "'paramscope.families.bert', 'paramscope.families.common', "
                                             "'paramscope.families.generic', 'paramscope.families.spec']", "[]"]
