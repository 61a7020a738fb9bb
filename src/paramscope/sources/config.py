"""Source: a configuration (preset name, config.json, folder, dict or transformers config) -> inventory.

The count comes from the family's closed-form tensor list; neither torch nor transformers is imported.
"""

from __future__ import annotations

import dataclasses
import json
import os
import stat
from pathlib import Path
from typing import Any, Mapping

from .. import presets
from ..errors import ConfigError, UnknownArchitecture
from ..families import choose
from ..families.base import Family
from ..inventory import Inventory, check_unique

from ..limits import MAX_CONFIG_BYTES  # a config.json is a few kB; see limits.py


@dataclasses.dataclass(frozen=True)
class LoadedConfig:
    raw: dict[str, Any]
    source: str
    default_class: str | None  # a preset's class; None means "from architectures, else the family's"
    preset: presets.Preset | None = None


def load(spec: Any, *, source: str | None = None) -> LoadedConfig:
    """Read a config from any of the accepted inputs, without validating its values yet; ``source`` names
    a dict in messages (the file it came from)."""
    if isinstance(spec, Mapping):
        return LoadedConfig(dict(spec), source or "<dict>", None)
    if hasattr(spec, "to_dict") and callable(spec.to_dict):  # a transformers PretrainedConfig
        raw = spec.to_dict()
        # to_dict() stores id2label, never num_labels; keep both spellings consistent.
        if getattr(spec, "num_labels", None) is not None:
            raw["num_labels"] = spec.num_labels
        return LoadedConfig(raw, f"<{type(spec).__name__}>", None)
    if isinstance(spec, os.PathLike) or isinstance(spec, str):
        text = os.fspath(spec)
        path = Path(text)
        if path.is_dir():
            path = path / "config.json"
            if not path.is_file():
                raise ConfigError(f"{text}: folder has neither weights nor a config.json; "
                                  "pass a checkpoint, a config.json or a preset name")
            return _read_json(path, text=str(path))
        if path.is_file():
            return _read_json(path, text=text)
        if path.exists():  # a FIFO, socket or device: never opened (it could block forever)
            raise ConfigError(f"{text}: not a regular file; pass a config.json, a checkpoint or a preset name")
        if text.endswith(".json"):
            raise ConfigError(f"{text}: no such file; check the path")
        preset = presets.require(text)
        return LoadedConfig(dict(preset.config), preset.name, preset.model_class, preset)
    raise ConfigError(f"cannot read a configuration from a {type(spec).__name__}; pass a preset name, path or dict")


def _read_json(path: Path, *, text: str) -> LoadedConfig:
    try:
        info = path.stat()
        if not stat.S_ISREG(info.st_mode):  # a FIFO or device would block or never end
            raise ConfigError(f"{text}: not a regular file; pass a config.json")
        size = info.st_size
        if size > MAX_CONFIG_BYTES:
            raise ConfigError(
                f"{text}: {size:,} bytes is too large for a config.json (limit {MAX_CONFIG_BYTES:,}); "
                "pass the model's config.json"
            )
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{text}: cannot read ({e.strerror}); check the path and its permissions") from e
    try:
        raw = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError as e:
        raise ConfigError(f"{text}: not a JSON text (byte {e.start} is not UTF-8); pass a config.json") from e
    except RecursionError as e:
        raise ConfigError(f"{text}: JSON nested too deeply to be a config; pass a config.json") from e
    except json.JSONDecodeError as e:
        raise ConfigError(
            f"{text}: invalid JSON at line {e.lineno}, column {e.colno}: {e.msg}; fix the file"
        ) from e
    except ValueError as e:  # an integer of more digits than Python converts (sys.get_int_max_str_digits)
        raise ConfigError(f"{text}: a number in it has more digits than any config needs "
                          f"({_first_line(e)}); fix the file") from e
    if not isinstance(raw, dict):
        raise ConfigError(f"{text}: expected a JSON object of config fields, got {type(raw).__name__}")
    return LoadedConfig(raw, text, None)


def parse_assignment(text: str) -> tuple[str, Any]:
    """``vocab_size=21128`` -> ``("vocab_size", 21128)``; values are JSON, else plain strings."""
    key, sep, value = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {text!r}: expected FIELD=VALUE, e.g. --set vocab_size=21128")
    try:
        parsed = json.loads(value)
    except json.JSONDecodeError:
        parsed = value
    except RecursionError as e:
        raise ConfigError(f"--set {key}: the value is nested too deeply; give a number, a string or a small "
                          "JSON value") from e
    except ValueError as e:  # more digits than Python converts
        raise ConfigError(f"--set {key}: the value has more digits than any config needs ({_first_line(e)})") from e
    return key, parsed


def _first_line(e: BaseException) -> str:
    return str(e).split(";")[0].splitlines()[0][:120] if str(e) else type(e).__name__


def build(
    spec: Any,
    *,
    model_class: str | None = None,
    overrides: Mapping[str, Any] | None = None,
    family: str | None = None,
    add_pooling_layer: bool = True,
    source: str | None = None,
) -> tuple[Inventory, Family, dict[str, Any]]:
    """The inventory of the model ``spec`` describes, with its family and resolved config."""
    loaded = load(spec, source=source)
    raw = dict(loaded.raw)
    if overrides:
        if "num_labels" in overrides or "id2label" in overrides:
            raw.pop("id2label", None)
            raw.pop("label2id", None)
        raw.update(overrides)
    fam, chosen = choose(raw, loaded.source, override=family, model_class=model_class)
    for key in overrides or {}:
        if key not in fam.fields:
            raise ConfigError(
                f"--set {key}: not a field that changes the count of a {fam.name} model; "
                f"fields that do: {', '.join(fam.fields)}"
            )
    _check_layer_budget(raw, loaded.source)
    cfg = fam.resolve(raw, loaded.source)
    archs = raw.get("architectures") or []
    fallback = fam.default_class_for(cfg) if fam.default_class_for else fam.default_class
    cls = model_class or loaded.default_class or (archs[0] if archs else fallback)
    if cls not in fam.model_classes:
        raise UnknownArchitecture(
            f"{loaded.source}: no formula for model class {cls!r}; "
            f"pass --model-class with one of {', '.join(fam.model_classes)}"
        )
    options = {"add_pooling_layer": add_pooling_layer}
    values = fam.values(cfg)
    tensors = []
    for t in fam.tensors(cfg, cls, options):
        assert t.expr is not None  # a family's tensors always carry their formula
        tensors.append(dataclasses.replace(t, shape=tuple(d.evaluate(values) for d in t.expr)))
    check_unique(tensors, loaded.source)
    notes = chosen + list(fam.notes(cfg, cls, options))
    if not add_pooling_layer:
        notes.append("built with add_pooling_layer=False: no pooler" if cls == fam.default_class
                     else f"--no-pooler applies to {fam.default_class} only; {cls} decides for itself")
    inv = Inventory(
        tensors=tuple(tensors),
        source=loaded.source,
        family=fam.name,
        model_class=cls,
        config=cfg,
        notes=tuple(notes),
        overrides=dict(overrides or {}),
    )
    return inv, fam, cfg


# Config fields that set how many blocks a formula builds (issue 9: a 1 kB config must answer within a second).
LAYER_FIELDS = ("num_hidden_layers", "n_layer", "num_layers", "num_decoder_layers", "encoder_layers",
                "decoder_layers", "num_hidden_groups", "inner_group_num", "n_layers")


def _check_layer_budget(raw: Mapping[str, Any], source: str) -> None:
    from .. import limits

    for key in LAYER_FIELDS:
        value = raw.get(key)
        if isinstance(value, int) and not isinstance(value, bool) and value > limits.LAYERS.value:
            raise limits.exceeded(source, limits.LAYERS, key, value, error=ConfigError)
