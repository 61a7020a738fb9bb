"""Registration comes from the family modules: the generated registry and the README's families table
are current."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from paramscope import families

ROOT = Path(__file__).resolve().parent.parent


def script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_registry_is_generated_from_the_families() -> None:
    registry = script("update_registry")
    assert registry.TARGET.read_text(encoding="utf-8") == registry.render(), "run scripts/update_registry.py"
    assert list(families._registry.FAMILIES) == list(families.all_families())
    for fam in families.all_families().values():
        for model_type in fam.model_types or (fam.name,):
            assert families.load(families.MODULES[model_type]) is fam
