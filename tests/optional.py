"""Optional test dependencies (Keras, scikit-learn) that skip only the tests that use them.

``keras = optional("keras")`` at module level imports nothing: the first attribute a test
reads imports the module, or skips that test when it is not installed. Tests that never touch
it run either way (a module-level ``pytest.importorskip`` would skip them all).
"""

from __future__ import annotations

import pytest


class optional:  # lower case: it stands in for a module
    def __init__(self, name: str):
        self._name = name

    def __getattr__(self, attr: str):
        if attr.startswith("_"):  # pytest's collection probes (__test__, ...) must not import
            raise AttributeError(attr)
        return getattr(pytest.importorskip(self._name), attr)

    def __repr__(self) -> str:
        return f"<optional module {self._name!r}>"
