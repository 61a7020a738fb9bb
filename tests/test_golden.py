"""Golden files of the rendered output at a fixed width, no colour.

Regenerate after an intended change with ``pytest tests/test_golden.py --update-golden`` and read the diff.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from paramscope import cli

GOLDEN = Path(__file__).parent / "golden"

CASES = {
    "show_bert-base-uncased.txt": ["bert-base-uncased"],
    "show_bert-base-uncased_pretraining_depth0.txt": ["bert-base-uncased", "--model-class", "BertForPreTraining",
                                                      "--depth", "0"],
    "show_bert-base-uncased.md": ["bert-base-uncased", "--format", "markdown"],
    "formula_bert-base-chinese.txt": ["show", "bert-base-chinese", "--formula"],
    "formula_bert-large-cased_pretraining.md": ["show", "bert-large-cased", "--formula", "--model-class",
                                                "BertForPreTraining", "--format", "markdown"],
    "formula_bert-base-uncased_seqcls.txt": ["show", "bert-base-uncased", "--formula", "--model-class",
                                             "BertForSequenceClassification", "--set", "num_labels=3"],
    "tensors_bert-tiny_pretraining.txt": ["show", "bert-tiny", "--tensors", "--model-class", "BertForPreTraining"],
    "what-if_bert-base-uncased.txt": ["bert-base-uncased", "--set", "vocab_size=21128", "--set",
                                      "num_hidden_layers=6"],
    "compare_article.txt": ["compare", "bert-base-uncased", "bert-base-cased", "bert-large-uncased",
                            "bert-large-cased", "bert-base-chinese"],
    "compare_article.md": ["compare", "bert-base-uncased", "bert-base-cased", "bert-large-uncased",
                           "bert-large-cased", "bert-base-chinese", "--format", "markdown"],
    "presets.txt": ["presets"],
    "compare_families.txt": ["compare", "bert-base-uncased", "roberta-base", "albert-base-v2",
                             "distilbert-base-uncased", "gpt2", "meta-llama/Llama-2-7b-hf"],
    "compare_families.md": ["compare", "bert-base-uncased", "xlm-roberta-base", "google/electra-base-discriminator",
                            "microsoft/deberta-v3-base", "t5-small", "mistralai/Mixtral-8x7B-v0.1",
                            "Qwen/Qwen2.5-0.5B", "--format", "markdown"],
    "show_gpt2.txt": ["gpt2", "--depth", "3"],
    "show_albert-base-v2.txt": ["albert-base-v2", "--depth", "0"],
    "show_mixtral.txt": ["mistralai/Mixtral-8x7B-v0.1"],
    "formula_t5-small.txt": ["show", "t5-small", "--formula"],
    "formula_llama-3.2-1b.txt": ["show", "meta-llama/Llama-3.2-1B", "--formula"],
    "formula_deberta-v3-base.txt": ["show", "microsoft/deberta-v3-base", "--formula"],
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_golden(name: str, update_golden: bool) -> None:
    output = cli.run(CASES[name] + ["--color", "never"])
    path = GOLDEN / name
    if update_golden:
        GOLDEN.mkdir(exist_ok=True)
        path.write_text(output, encoding="utf-8")
    assert output == path.read_text(encoding="utf-8")
