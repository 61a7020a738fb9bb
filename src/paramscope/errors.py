"""Typed errors. The CLI prints ``error: <message>`` on one line and exits 2 for any of them."""

from __future__ import annotations


class ParamscopeError(Exception):
    """Base class: bad input a user can fix. Messages name the input, what is wrong and a fix."""


class ConfigError(ParamscopeError):
    """A configuration that transformers would refuse, or that cannot be read."""


class UnknownPreset(ParamscopeError):
    """A name that is neither a built-in preset nor an existing path."""


class UnknownArchitecture(ParamscopeError):
    """A model type or class paramscope has no formula for."""


class UnsupportedFamily(UnknownArchitecture):
    """A model type paramscope has no family module for."""


class FormatError(ParamscopeError):
    """A file whose bytes are not what its format promises."""


class MissingDependency(ParamscopeError):
    """An optional dependency needed for this input is not installed."""
