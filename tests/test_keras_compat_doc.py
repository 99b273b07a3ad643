"""docs/keras_compat.md is generated from Keras' namespaces by docs/make_keras_compat.py: it must
be current, and every Keras layer class must be in deepnet or listed as absent with a reason."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _generator():
    sys.path.insert(0, str(DOCS))
    try:
        return importlib.import_module("make_keras_compat")
    finally:
        sys.path.remove(str(DOCS))


gen = _generator()


def test_page_is_current():
    assert gen.PAGE.read_text() == gen.render(), (
        "docs/keras_compat.md is out of date: run .venv/bin/python docs/make_keras_compat.py")


def test_every_keras_layer_class_is_present_or_absent_with_a_reason():
    import deepnet.layers

    missing = [name for name in gen.layer_classes() if not hasattr(deepnet.layers, name)
               and ("layers", name) not in gen.ABSENT]
    assert not missing, f"Keras layer classes neither in deepnet.layers nor in ABSENT: {missing}"


def test_other_backend_layers_are_deliberately_absent():
    for name in ("FlaxLayer", "JaxLayer", "TFSMLayer"):
        assert "deliberately absent" in gen.ABSENT[("layers", name)]


def test_absent_reasons_are_only_for_missing_names():
    import deepnet.layers

    stale = [name for ns, name in gen.ABSENT if ns == "layers" and hasattr(deepnet.layers, name)]
    assert not stale, f"make_keras_compat.ABSENT lists layers deepnet now has: {stale}"


def test_page_links_the_hand_written_notes():
    page = (DOCS / "keras_compat.md").read_text()
    assert "(keras_compat_notes.md)" in page and (DOCS / "keras_compat_notes.md").exists()
