"""JSON output, schema version 1: exact integers, deterministic order (module order for tensors)."""

from __future__ import annotations

import json
from typing import Any, Sequence

from ..anatomy import SCHEMA_VERSION, Anatomy


def dumps(data: Any) -> str:
    return json.dumps(data, indent=2, ensure_ascii=False) + "\n"


def show(a: Anatomy) -> str:
    return dumps(a.to_dict())


def compare(models: Sequence[Anatomy]) -> str:
    return dumps({"schema_version": SCHEMA_VERSION, "models": [m.to_dict() for m in models]})
