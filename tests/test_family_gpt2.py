"""GPT-2: exactness against transformers tensor by tensor, config handling, and checkpoints end to end."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import paramscope
from paramscope import cli
from paramscope.errors import ConfigError
from paramscope.families.gpt2 import MODEL_CLASSES, PRESETS, canonical
from paramscope.inventory import Kind

from . import exactness, oracle
from .builders import make_safetensors

PRESET_NAMES = [p.name for p in PRESETS]
CONFIGS = {p.name: dict(p.config) for p in PRESETS}
TINY = {"model_type": "gpt2", "vocab_size": 100, "n_positions": 32, "n_embd": 16, "n_layer": 2, "n_head": 2}


@pytest.mark.parametrize("name", PRESET_NAMES)
@pytest.mark.parametrize("model_class", MODEL_CLASSES)
def test_every_preset_every_class(name: str, model_class: str) -> None:
    exactness.assert_matches(CONFIGS[name], model_class)


def test_preset_totals() -> None:
    # The LM head is tied to wte: GPT2LMHeadModel counts exactly what GPT2Model counts.
    expected = {"gpt2": 124_439_808, "gpt2-medium": 354_823_168, "gpt2-large": 774_030_080,
                "gpt2-xl": 1_557_611_200}
    for name, total in expected.items():
        a = paramscope.inspect(name)
        assert (a.parameters, a.model_class, a.inventory.family) == (total, "GPT2LMHeadModel", "gpt2")
        assert paramscope.inspect(name, model_class="GPT2Model").parameters == total
        assert a.totals["tied_aliases"] == 50257 * a.values["H"]
    assert paramscope.inspect("openai-community/gpt2-xl").parameters == 1_557_611_200
    assert {p.name: p.published for p in PRESETS} == {"gpt2": "124M", "gpt2-medium": "355M", "gpt2-large": "774M",
                                                      "gpt2-xl": "1.5B"}


def test_groups_roles_and_formula_of_gpt2() -> None:
    a = paramscope.inspect("gpt2")
    assert a.groups == {"embeddings": 39_383_808, "encoder": 0, "decoder": 85_054_464, "final_norm": 1_536,
                        "pooler": 0, "heads": 0}
    assert a.roles["attention"] == 12 * (4 * 768**2 + 4 * 768)
    assert a.roles["ffn"] == 12 * (2 * 768 * 3072 + 3072 + 768)
    assert a.total_formula is not None
    assert a.total_formula.render(order=a.family.order) == "VH + PH + L·(4H² + 2HI + 9H + I) + 2H"
    assert a.values == {"V": 50257, "P": 1024, "H": 768, "I": 3072, "L": 12, "C": 2}
    layer = next(c for c in a.tree.walk() if c[1].first is not None)[1]
    assert (layer.repeat, layer.numel_each) == (12, 7_087_872)


def test_canonical_names() -> None:
    assert canonical("transformer.h.3.attn.c_attn.weight") == "decoder.h.3.attn.c_attn.weight"
    assert canonical("h.3.attn.c_attn.weight") == "decoder.h.3.attn.c_attn.weight"
    assert canonical("model/h3/attn/c_attn/w") == "decoder.h.3.attn.c_attn.weight"
    assert canonical("transformer.wte.weight") == canonical("wte.weight") == canonical("model/wte") == \
        "embeddings.wte.weight"
    assert canonical("transformer.ln_f.bias") == canonical("model/ln_f/b") == "final_norm.ln_f.bias"
    assert canonical("model/ln_f/g") == "final_norm.ln_f.weight"
    assert canonical("lm_head.weight") == "heads.lm_head.weight"
    assert canonical("decoder.h.3.attn.c_attn.weight") == "decoder.h.3.attn.c_attn.weight"  # idempotent


def test_cli_show_and_formula(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["show", "gpt2", "--depth", "0", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "h ×12 (7,087,872 each)" in out and "lm_head (tied)" in out and "124,439,808 parameters" in out
    assert cli.main(["show", "gpt2", "--formula", "--color", "never"]) == 0
    out = capsys.readouterr().out
    assert "attn.c_attn  3H² + 3H" in out and "= 124,439,808" in out
    assert "tied to transformer.wte.weight" in out and "c_attn is Q, K and V fused in one Conv1D" in out


# -- random configurations ----------------------------------------------------------------------------

@st.composite
def configs(draw: st.DrawFn) -> tuple[dict[str, Any], str]:
    heads = draw(st.integers(1, 4))
    layers = draw(st.integers(0, 4))
    sizes = {"n_embd": heads * draw(st.integers(1, 8)), "n_head": heads, "n_layer": layers,
             "n_positions": draw(st.integers(1, 64))}
    if draw(st.booleans()):  # GPT2Config's attribute_map names instead of GPT-2's own
        sizes = {{"n_embd": "hidden_size", "n_head": "num_attention_heads", "n_layer": "num_hidden_layers",
                  "n_positions": "max_position_embeddings"}[k]: v for k, v in sizes.items()}
    cfg: dict[str, Any] = {
        "model_type": "gpt2",
        "vocab_size": draw(st.integers(1, 300)),
        **sizes,
        "n_inner": draw(st.one_of(st.none(), st.integers(1, 64))),
        "add_cross_attention": draw(st.booleans()),
        "tie_word_embeddings": draw(st.booleans()),
        "summary_use_proj": draw(st.booleans()),
        "summary_proj_to_labels": draw(st.booleans()),
    }
    labels = draw(st.sampled_from(["default", "num_labels", "id2label", "both"]))
    if labels in ("num_labels", "both"):
        cfg["num_labels"] = draw(st.integers(1, 12))
    if labels in ("id2label", "both"):
        cfg["id2label"] = {str(i): f"L{i}" for i in range(draw(st.integers(1, 12)))}
    return cfg, draw(st.sampled_from(MODEL_CLASSES))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(configs())
def test_random_configurations(case: tuple[dict[str, Any], str]) -> None:
    cfg, model_class = case
    exactness.assert_matches(cfg, model_class)


def test_alias_wins_over_gpt2_name() -> None:
    cfg = {**TINY, "hidden_size": 32, "n_embd": 16}
    exactness.assert_matches(cfg, "GPT2LMHeadModel")
    a = paramscope.inspect(cfg)
    assert a.values["H"] == 32
    assert "hidden_size 32 overrides n_embd 16: GPT2Config maps hidden_size onto n_embd, and the alias wins" \
        in a.inventory.notes


def test_no_layers_accepts_any_head_count() -> None:
    # GPT2Attention is what refuses n_embd % n_head; without layers transformers builds the model.
    exactness.assert_matches({**TINY, "n_layer": 0, "n_embd": 10, "n_head": 3}, "GPT2LMHeadModel")


def test_double_heads_forces_one_label() -> None:
    cfg = {**TINY, "num_labels": 5}
    exactness.assert_matches(cfg, "GPT2DoubleHeadsModel")
    a = paramscope.inspect(cfg, model_class="GPT2DoubleHeadsModel")
    assert [(t.name, t.shape) for t in a.inventory.tensors if "summary" in t.name] == [
        ("multiple_choice_head.summary.weight", (1, 16)), ("multiple_choice_head.summary.bias", (1,))]


REFUSED = [
    ({"n_embd": 10, "n_head": 3}, "n_embd 10 is not a multiple of n_head 3; set n_embd to a multiple of 3"),
    ({"hidden_size": 10, "num_attention_heads": 4},
     "hidden_size 10 is not a multiple of num_attention_heads 4"),
    ({"vocab_size": None}, "vocab_size is null, which GPT2Config refuses"),
    ({"hidden_size": None}, "hidden_size is null, which GPT2Config refuses"),
    ({"n_embd": "16"}, "n_embd must be an integer, got '16'"),
    ({"n_layer": 2.0}, "n_layer must be an integer, got 2.0"),
    ({"n_inner": 3.5}, "n_inner must be an integer, got 3.5"),
    ({"n_inner": -1}, "n_inner must be a positive integer, got -1"),
    ({"n_head": 0}, "n_head must be a positive integer, got 0"),
    ({"tie_word_embeddings": None}, "tie_word_embeddings must be true or false, got None"),
    ({"add_cross_attention": 1}, "add_cross_attention must be true or false, got 1"),
    ({"summary_use_proj": "yes"}, "summary_use_proj must be true or false, got 'yes'"),
]


@pytest.mark.parametrize("change,message", REFUSED)
def test_what_transformers_refuses_is_refused(change: dict[str, Any], message: str) -> None:
    cfg = {**TINY, **change}
    with pytest.raises(Exception):
        oracle.build(cfg, "GPT2LMHeadModel")
    with pytest.raises(ConfigError) as err:
        paramscope.inspect(cfg, model_class="GPT2LMHeadModel")
    assert str(err.value).startswith(f"<dict>: {message}")
    assert "\n" not in str(err.value)


def test_summary_attn_is_refused_for_double_heads_only() -> None:
    cfg = {**TINY, "summary_type": "attn"}
    with pytest.raises(NotImplementedError):
        oracle.build(cfg, "GPT2DoubleHeadsModel")
    with pytest.raises(ConfigError, match="summary_type \"attn\" is not implemented"):
        paramscope.inspect(cfg, model_class="GPT2DoubleHeadsModel")
    exactness.assert_matches(cfg, "GPT2LMHeadModel")


def test_set_fields(capsys: pytest.CaptureFixture[str]) -> None:
    a = paramscope.inspect("gpt2", overrides={"n_layer": 24, "n_embd": 1024, "n_head": 16})
    assert a.parameters == 354_823_168 and a.baseline is not None and a.baseline.parameters == 124_439_808
    longer = paramscope.inspect("gpt2", overrides={"n_positions": 2048})
    assert longer.parameters == 124_439_808 + 1024 * 768
    assert "n_ctx 1024 is not read by transformers 5; positions come from n_positions (2048)" in longer.inventory.notes
    assert cli.main(["gpt2", "--set", "n_positionz=2"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --set n_positionz: not a field that changes the count of a gpt2 model")


# -- checkpoints --------------------------------------------------------------------------------------

def _tiny_lm(**extra: Any):
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = transformers.GPT2Config(**{k: v for k, v in TINY.items() if k != "model_type"}, **extra)
    return transformers.GPT2LMHeadModel(cfg)


def _codes(a: paramscope.Anatomy) -> dict[str, str]:
    assert a.reconciliation is not None
    return {f.code: str(f.severity) for f in a.reconciliation.findings}


@pytest.mark.parametrize("how", ["save_pretrained", "torch.save"])
def test_tiny_lm_checkpoint(tmp_path: Path, how: str) -> None:
    import torch

    model = _tiny_lm()
    n = sum(p.numel() for p in model.parameters())
    assert n == 8_704
    if how == "save_pretrained":
        model.save_pretrained(tmp_path)
        expect_codes = {"tied_dropped": "ok"}  # the file keeps wte only; lm_head is re-tied on load
    else:
        torch.save(model.state_dict(), tmp_path / "pytorch_model.bin")
        (tmp_path / "config.json").write_text(model.config.to_json_string())
        expect_codes = {}  # lm_head.weight is stored, sharing wte's storage: a tied alias
    a = paramscope.inspect(tmp_path)
    assert a.parameters == n
    assert a.model_class == "GPT2LMHeadModel" and a.inventory.family == "gpt2"
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees, a.reconciliation
    assert _codes(a) == expect_codes
    if how == "torch.save":
        assert {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)} == {
            "lm_head.weight": "transformer.wte.weight"}
    # Without config.json the sizes and class come from the names and shapes.
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    assert b.parameters == n
    assert b.model_class == "GPT2LMHeadModel" and b.inventory.family == "gpt2"
    assert b.totals["unclassified"] == 0
    assert b.reconciliation is not None and b.reconciliation.agrees
    assert b.expected is not None and b.expected.parameters == n


@pytest.mark.parametrize("model_class,extra", [
    ("GPT2Model", {}),
    ("GPT2LMHeadModel", {"tie_word_embeddings": False}),
    ("GPT2LMHeadModel", {"add_cross_attention": True, "n_inner": 40}),
    ("GPT2DoubleHeadsModel", {"summary_proj_to_labels": False}),
    ("GPT2ForSequenceClassification", {"num_labels": 5}),
    ("GPT2ForTokenClassification", {"num_labels": 7}),
    ("GPT2ForQuestionAnswering", {}),
])
def test_every_class_saved_and_inferred(tmp_path: Path, model_class: str, extra: dict[str, Any]) -> None:
    import torch
    import transformers

    torch.manual_seed(0)
    cfg = transformers.GPT2Config(**{k: v for k, v in TINY.items() if k != "model_type"}, **extra)
    model = getattr(transformers, model_class)(cfg)
    model.save_pretrained(tmp_path)
    n = sum(p.numel() for p in model.parameters())
    a = paramscope.inspect(tmp_path)
    assert (a.parameters, a.model_class, a.totals["unclassified"]) == (n, model_class, 0)
    assert a.reconciliation is not None and a.reconciliation.agrees
    (tmp_path / "config.json").unlink()
    b = paramscope.inspect(tmp_path)
    # GPT2Model's file looks like GPT2LMHeadModel's with the tied lm_head left out: the same count.
    assert b.model_class == {"GPT2Model": "GPT2LMHeadModel"}.get(model_class, model_class)
    assert b.parameters == n and b.reconciliation is not None and b.reconciliation.agrees


def _header(shapes: dict[str, tuple[int, ...]]) -> dict[str, Any]:
    out, offset = {}, 0
    for name, shape in shapes.items():
        size = 4 * math.prod(shape)
        out[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + size]}
        offset += size
    return out


def _hub_layout(H: int = 16, P: int = 32, V: int = 100, L: int = 2, c_attn: tuple[int, int] | None = None):
    """The names the Hub's GPT-2 files use: no ``transformer.`` prefix, no lm_head, causal masks stored."""
    shapes: dict[str, tuple[int, ...]] = {"wte.weight": (V, H), "wpe.weight": (P, H)}
    for i in range(L):
        shapes |= {f"h.{i}.ln_1.weight": (H,), f"h.{i}.ln_1.bias": (H,), f"h.{i}.attn.bias": (1, 1, P, P),
                   f"h.{i}.attn.masked_bias": (), f"h.{i}.attn.c_attn.weight": c_attn or (H, 3 * H),
                   f"h.{i}.attn.c_attn.bias": (3 * H,), f"h.{i}.attn.c_proj.weight": (H, H),
                   f"h.{i}.attn.c_proj.bias": (H,), f"h.{i}.ln_2.weight": (H,), f"h.{i}.ln_2.bias": (H,),
                   f"h.{i}.mlp.c_fc.weight": (H, 4 * H), f"h.{i}.mlp.c_fc.bias": (4 * H,),
                   f"h.{i}.mlp.c_proj.weight": (4 * H, H), f"h.{i}.mlp.c_proj.bias": (H,)}
    return shapes | {"ln_f.weight": (H,), "ln_f.bias": (H,)}


def test_hub_layout_with_stored_causal_masks(tmp_path: Path) -> None:
    make_safetensors(tmp_path / "model.safetensors", _header(_hub_layout()))
    a = paramscope.inspect(tmp_path)
    assert (a.inventory.family, a.model_class, a.parameters) == ("gpt2", "GPT2LMHeadModel", 8_704)
    assert a.totals["buffers"] == 2 * (32 * 32 + 1) and a.totals["unclassified"] == 0
    assert _codes(a) == {"tied_dropped": "ok", "buffers_stored": "ok"}
    (tmp_path / "config.json").write_text(json.dumps({**TINY, "architectures": ["GPT2LMHeadModel"], "n_ctx": 32}))
    b = paramscope.inspect(tmp_path)
    assert b.parameters == 8_704 and b.reconciliation is not None and b.reconciliation.agrees
    assert _codes(b) == {"tied_dropped": "ok", "buffers_stored": "ok"}


def test_same_names_as_linear_are_not_gpt2(tmp_path: Path) -> None:
    """GPT-BigCode names its tensors as GPT-2 does, with nn.Linear weights: c_attn [3H, H]."""
    make_safetensors(tmp_path / "model.safetensors", _header(_hub_layout(c_attn=(48, 16))))
    assert paramscope.inspect(tmp_path).inventory.family != "gpt2"


def test_openai_tf_checkpoint(tmp_path: Path) -> None:
    """OpenAI's original release: model/h0/attn/c_attn/w [1, H, 3H], model/ln_f/g, model/wte."""
    from .test_source_tf import TF_DTYPE, entry_proto, write_checkpoint

    H, P, V = 16, 32, 100
    shapes: dict[str, tuple[int, ...]] = {"model/wte": (V, H), "model/wpe": (P, H), "model/ln_f/g": (H,),
                                          "model/ln_f/b": (H,)}
    for i in range(2):
        h = f"model/h{i}"
        shapes |= {f"{h}/ln_1/g": (H,), f"{h}/ln_1/b": (H,), f"{h}/attn/c_attn/w": (1, H, 3 * H),
                   f"{h}/attn/c_attn/b": (3 * H,), f"{h}/attn/c_proj/w": (1, H, H), f"{h}/attn/c_proj/b": (H,),
                   f"{h}/ln_2/g": (H,), f"{h}/ln_2/b": (H,), f"{h}/mlp/c_fc/w": (1, H, 4 * H),
                   f"{h}/mlp/c_fc/b": (4 * H,), f"{h}/mlp/c_proj/w": (1, 4 * H, H), f"{h}/mlp/c_proj/b": (H,)}
    entries, offset = {}, 0
    for name, shape in shapes.items():
        size = 4 * math.prod(shape)
        entries[name.encode()] = entry_proto(TF_DTYPE["float32"], shape, offset, size)
        offset += size
    prefix = write_checkpoint(tmp_path / "124M" / "model.ckpt", entries, data_size=offset)
    a = paramscope.inspect(prefix)
    assert (a.inventory.family, a.model_class, a.parameters) == ("gpt2", "GPT2LMHeadModel", 8_704)
    assert a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees and _codes(a) == {"tied_dropped": "ok"}
    kernel = next(t for t in a.inventory.tensors if t.name == "model/h0/mlp/c_fc/w")
    assert str(a.placements[kernel.name].role) == "ffn"


def test_live_module() -> None:
    import torch
    import transformers

    with torch.device("meta"):
        model = transformers.GPT2DoubleHeadsModel(transformers.GPT2Config(
            **{k: v for k, v in TINY.items() if k != "model_type"}))
    a = paramscope.inspect(model)
    assert a.parameters == sum(p.numel() for p in model.parameters()) == 8_721
    assert {t.name: t.tied_to for t in a.inventory.of_kind(Kind.ALIAS)} == {"lm_head.weight": "transformer.wte.weight"}
    assert a.model_class == "GPT2DoubleHeadsModel" and a.totals["unclassified"] == 0
    assert a.reconciliation is not None and a.reconciliation.agrees
