"""deepnet.ops covers keras.ops: at least 95% of the names of every Keras ops namespace, and
every missing name is listed with its reason in docs/_compat_ops.py (which generates the ops
table of docs/keras_compat.md)."""

from __future__ import annotations

import importlib
import sys
from pathlib import Path

import pytest

pytest.importorskip("keras")

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _compat_ops():
    sys.path.insert(0, str(DOCS))
    try:
        return importlib.import_module("_compat_ops")
    finally:
        sys.path.remove(str(DOCS))


compat = _compat_ops()
ROWS = compat.ops_coverage()


@pytest.mark.parametrize("row", ROWS, ids=[row["keras"] for row in ROWS])
def test_coverage_at_least_95_percent_and_every_gap_has_a_reason(row):
    assert row["coverage"] >= 0.95, f"{row['deepnet']} covers {row['coverage']:.1%} of {row['keras']}"
    unexplained = [name for name in row["missing"] if (row["keras"], name) not in compat.MISSING]
    assert not unexplained, f"{row['keras']} names missing from {row['deepnet']} without a reason: {unexplained}"


def test_reasons_are_only_given_for_names_that_are_missing():
    missing = {(row["keras"], name) for row in ROWS for name in row["missing"]}
    stale = sorted(set(compat.MISSING) - missing)
    assert not stale, f"docs/_compat_ops.py MISSING lists names deepnet now has: {stale}"


def test_top_level_ops_are_the_submodules_ops():
    from deepnet import ops

    for sub in (ops.numpy, ops.nn, ops.image, ops.linalg):
        for name in sub.__all__:
            assert getattr(ops, name) is getattr(sub, name), f"deepnet.ops.{name} is not {sub.__name__}.{name}"


def test_section_renders():
    text = compat.ops_section()
    assert "| `keras.ops.numpy` | `deepnet.ops.numpy` | 220 | 220 | 100.0% |" in text
