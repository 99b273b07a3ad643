"""Keras 3 parity of the categorical layers that Keras runs without TensorFlow: CategoryEncoding
(all modes, count weights) and Discretization (fixed boundaries and adapt's quantiles)."""

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import deepnet as dn  # noqa: E402

keras = pytest.importorskip("keras")


@pytest.mark.parametrize("mode, data", [
    ("one_hot", [3, 2, 0, 1]), ("one_hot", [[1], [3]]), ("multi_hot", [[0, 1], [0, 0], [1, 2], [3, 1]]),
    ("count", [[0, 1], [0, 0], [1, 2], [3, 1]]),
])
def test_category_encoding(mode, data):
    ours = dn.layers.CategoryEncoding(num_tokens=4, output_mode=mode)(np.array(data)).numpy()
    theirs = np.asarray(keras.layers.CategoryEncoding(num_tokens=4, output_mode=mode)(np.array(data)))
    np.testing.assert_allclose(ours, theirs)


def test_category_encoding_count_weights():
    data, w = np.array([[0, 1], [0, 0], [1, 2], [3, 1]]), np.array([[.1, .2], [.1, .1], [.2, .3], [.4, .2]])
    ours = dn.layers.CategoryEncoding(num_tokens=4, output_mode="count")(data, count_weights=w).numpy()
    theirs = np.asarray(keras.layers.CategoryEncoding(num_tokens=4, output_mode="count")(data, count_weights=w))
    np.testing.assert_allclose(ours, theirs, rtol=1e-6)


@pytest.mark.parametrize("mode", ["int", "one_hot", "multi_hot", "count"])
def test_discretization_fixed(mode):
    x = np.array([[-1.5, 0.0, 0.2], [1.0, 3.0, -0.1]], dtype="float32")
    ours = dn.layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode=mode)(x).numpy()
    theirs = np.asarray(keras.layers.Discretization(bin_boundaries=[-1.0, 0.0, 1.0], output_mode=mode)(x))
    np.testing.assert_array_equal(ours, theirs)


@pytest.mark.parametrize("num_bins, epsilon", [(4, 0.01), (5, 0.1), (3, 0.001)])
def test_discretization_adapt(num_bins, epsilon):
    data = np.random.default_rng(0).normal(size=(500, 1)).astype("float32")
    from keras.src.layers.preprocessing import (
        discretization as k,  # Keras' adapt() itself needs TensorFlow
    )
    ours = dn.layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    ours.adapt(data)
    summary = k.merge_summaries(k.summarize(data, epsilon), np.array([[], []], dtype="float32"), epsilon)
    np.testing.assert_allclose(ours.bin_boundaries, k.get_bin_boundaries(summary, num_bins), rtol=1e-6)
