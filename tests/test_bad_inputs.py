"""Bad inputs a new user tries, from the new-user probe of issue 15: each must raise a clear error.

One table: (id, call, expected exception type, regex the message must match). The message must
name the argument (or file) and what was received; torch's internal messages ("mat1 and mat2
shapes cannot be multiplied", "Target 5 is out of bounds") must never reach the user.
"""

from __future__ import annotations

import re

import numpy as np
import pytest

import deepnet as dn

L = dn.layers
_RNG = np.random.default_rng(0)
X = _RNG.random((32, 4), dtype=np.float32)
X5 = _RNG.random((32, 5), dtype=np.float32)
Y = _RNG.integers(0, 3, 32)


def _model(compile: bool = True):
    model = dn.Sequential([dn.Input((4,)), L.Dense(8, activation="relu"), L.Dense(3, activation="softmax")])
    if compile:
        model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    return model


CASES = [
    ("gradients_x_shape", lambda: dn.diagnose.gradients(_model(), X5, Y), ValueError,
     r"gradients\(\).*`x` has shape \(32, 5\)"),
    ("gradients_x_shape_explicit_loss",
     lambda: dn.diagnose.gradients(_model(compile=False), X5, Y, loss="sparse_categorical_crossentropy"),
     ValueError, r"gradients\(\).*expects input of shape \(None, 4\)"),
    ("gradients_label_range", lambda: dn.diagnose.gradients(_model(), X, Y + 5), ValueError,
     r"gradients\(\): invalid labels in `y`.*out of range"),
    ("gradients_label_range_explicit_loss",
     lambda: dn.diagnose.gradients(_model(compile=False), X, Y + 5, loss="sparse_categorical_crossentropy"),
     ValueError, r"invalid labels in `y`.*out of range"),
    ("gradients_y_none", lambda: dn.diagnose.gradients(_model(), X, None), ValueError, r"gradients\(\): `y` is None"),
    ("gradients_x_strings", lambda: dn.diagnose.gradients(_model(), X.astype(str), Y), TypeError,
     r"gradients\(\): `x` holds values of dtype <U"),
    ("latency_input_shape", lambda: dn.diagnose.latency(_model(), input_shape=(5,)), ValueError,
     r"`input_shape`.*expects per-sample input shape \(4,\).*input_shape=\(5,\)"),
    ("memory_input_shape", lambda: dn.diagnose.memory(_model(), input_shape=(4, 2)), ValueError,
     r"`input_shape`.*expects per-sample input shape \(4,\)"),
    ("report_model_type", lambda: dn.diagnose.report("unused.html", model="m"), TypeError,
     r"report\(\): `model` must be a deepnet model.*received str"),
]



def test_learning_curves_validation_freq_is_not_reported_as_nan():
    """A history of fit(validation_freq=2) records val_loss every other epoch: not NaN values."""
    r = dn.diagnose.learning_curves({"loss": [1.0, 0.8, 0.7, 0.6], "val_loss": [0.9, 0.7]})
    assert not any("NaN" in note for note in r.notes), r.notes
    r = dn.diagnose.learning_curves({"loss": [1.0, 0.8, 0.7, 0.6], "val_loss": [0.9, float("nan"), 0.7, 0.6]})
    assert any("NaN/inf at some epochs" in note for note in r.notes), r.notes


@pytest.mark.parametrize("call, error, pattern", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_raises_clear_error(call, error, pattern):
    with pytest.raises(error) as info:
        call()
    assert re.search(pattern, str(info.value), re.S), str(info.value)
    for internal in ("mat1 and mat2", "out of bounds", "has no len()"):
        assert internal not in str(info.value)
