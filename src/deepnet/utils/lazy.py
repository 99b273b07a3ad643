"""Deferred imports of deepnet packages, to keep ``import deepnet`` fast.

``losses = lazy_import("deepnet.losses")`` at module level stands for the module and imports it
on first attribute access. It is an import like any other for the rules of
docs/architecture.md (``tests/test_architecture.py`` reads these calls: the target must be a
lower package and public), only deferred: ``training`` does not load every loss, metric and
optimizer until ``compile`` names one, and ``Model`` does not load ``saving`` until a model is
saved or loaded. Never call it inside a function, and never use it to break a cycle.
"""

from __future__ import annotations

import importlib
import sys
import types
from typing import Any

__all__ = ["lazy_import"]


class _LazyModule(types.ModuleType):
    """A module object whose attributes come from the real module, imported on first use."""

    def __getattr__(self, attr: str) -> Any:
        return getattr(importlib.import_module(self.__name__), attr)

    def __dir__(self) -> list[str]:
        return dir(importlib.import_module(self.__name__))

    def __repr__(self) -> str:
        state = "loaded" if self.__name__ in sys.modules else "not yet imported"
        return f"<lazy module {self.__name__!r} ({state})>"


def lazy_import(name: str) -> types.ModuleType:
    """The module ``name`` if it is imported already, else a stand-in that imports it on first
    attribute access (``name`` is absolute, e.g. ``"deepnet.losses"``).

    >>> from deepnet.utils.lazy import lazy_import
    >>> colorsys = lazy_import("colorsys")
    >>> colorsys.rgb_to_hsv(1.0, 0.0, 0.0)
    (0.0, 1.0, 1.0)
    """
    if not isinstance(name, str) or not name:
        raise TypeError(f"lazy_import expects a module name (str); received name={name!r}.")
    module = sys.modules.get(name)
    return module if module is not None else _LazyModule(name)
