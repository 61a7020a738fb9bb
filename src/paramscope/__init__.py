"""paramscope: exactly where a transformer's parameters live.

>>> import paramscope
>>> paramscope.inspect("bert-base-uncased").parameters
109482240
"""

from __future__ import annotations

from .anatomy import Anatomy, inspect
from .errors import (
    ConfigError,
    FormatError,
    MissingDependency,
    ParamscopeError,
    UnknownArchitecture,
    UnknownPreset,
)

__version__ = "0.1.0"
__all__ = [
    "Anatomy",
    "ConfigError",
    "FormatError",
    "MissingDependency",
    "ParamscopeError",
    "UnknownArchitecture",
    "UnknownPreset",
    "inspect",
]
