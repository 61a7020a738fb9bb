"""paramscope: exactly where a transformer's parameters live.

>>> import paramscope
>>> paramscope.inspect("bert-base-uncased").parameters
109482240
"""

from __future__ import annotations

from .anatomy import Anatomy
from .pipeline import inspect
from .version import __version__
from .errors import (
    ConfigError,
    FormatError,
    MissingDependency,
    ParamscopeError,
    UnknownArchitecture,
    UnknownPreset,
)

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
