"""Regressions found by probing deepnet as a Keras user would (issue 14): one test per
discrepancy, Keras 3 (torch backend) as the oracle where it is importable."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")


def test_gaussian_blur_non_square_kernel_keeps_size_and_orientation():
    # Keras' documented semantics: kernel_size and sigma are (height, width); the image keeps its
    # size (Keras' torch backend pads by kernel_size[0] // 2 on both axes and changes it).
    x = torch.rand(2, 8, 9, 3)
    for size in ((3, 5), (5, 3), (4, 4), (1, 2)):
        out = dn.ops.image.gaussian_blur(x, size, (1.0, 2.0), data_format="channels_last")
        assert out.shape == x.shape
    impulse = torch.zeros(1, 7, 7, 1)
    impulse[0, 3, 3, 0] = 1.0
    out = dn.ops.image.gaussian_blur(impulse, (1, 5), data_format="channels_last")[0, :, :, 0]
    assert out[3].sum().item() == pytest.approx(1.0)  # blurred along the width only
    assert out[2].abs().sum().item() == 0.0
    square = keras.ops.image.gaussian_blur(x, (3, 3), (1.5, 1.5), data_format="channels_last")
    np.testing.assert_allclose(
        dn.ops.image.gaussian_blur(x, (3, 3), (1.5, 1.5), data_format="channels_last"),
        np.asarray(square), atol=1e-6)


def _names_paths(layer):
    return [(w.name, w.path, tuple(np.asarray(w).shape)) for w in layer.weights]


def test_conv_kernels_are_keras_variables():
    x = np.random.RandomState(0).normal(size=(1, 6, 6, 3)).astype("float32")
    for name in ("Conv2D", "SeparableConv2D", "Conv2DTranspose", "DepthwiseConv2D"):
        kwargs = {"kernel_size": 3} if name == "DepthwiseConv2D" else {"filters": 2, "kernel_size": 3}
        kwargs["name"] = f"probe_{name.lower()}"  # both libraries' automatic names depend on earlier tests
        ours, theirs = getattr(dn.layers, name)(**kwargs), getattr(keras.layers, name)(**kwargs)
        ours(x), theirs(x)
        assert [(w.name, w.path) for w in ours.weights] == [(w.name, w.path) for w in theirs.weights]
        assert all(hasattr(w, "assign") for w in ours.weights)
        if name in ("Conv2D", "Conv2DTranspose"):  # stored as a permutation: Keras' layout back
            assert _names_paths(ours) == _names_paths(theirs)


def test_numpy_arrays_in_every_call_argument():
    x = np.random.RandomState(0).normal(size=(2, 5, 4)).astype("float32")
    ours, theirs = dn.layers.MultiHeadAttention(2, 3), keras.layers.MultiHeadAttention(2, 3)
    ours(x, x), theirs(x, x)
    ours.set_weights(theirs.get_weights())
    mask = np.tril(np.ones((2, 5, 5), bool))
    np.testing.assert_allclose(ours(x, x, attention_mask=mask).detach(),
                               theirs(x, x, attention_mask=mask).detach(), atol=1e-5)
    a = np.ones((2, 3), "float32")
    assert tuple(dn.layers.Concatenate()([a, a]).shape) == (2, 6)
    assert tuple(dn.layers.Add()([a, a]).shape) == (2, 3)


def test_normalization_mean_and_variance_attributes():
    x = np.random.RandomState(0).normal(size=(10, 4)).astype("float32")
    for kwargs in ({}, {"mean": 2.0, "variance": 4.0}):
        ours, theirs = dn.layers.Normalization(**kwargs), keras.layers.Normalization(**kwargs)
        if not kwargs:
            ours.adapt(x), theirs.adapt(x)
        ours(x), theirs(x)
        for attr in ("mean", "variance"):
            np.testing.assert_allclose(np.asarray(getattr(ours, attr)),
                                       np.asarray(getattr(theirs, attr)), rtol=1e-5)


def test_shape_dtype_and_convert_on_keras_tensors():
    for K in (dn, keras):
        x = K.Input((6, 4))
        assert K.ops.shape(x) == (None, 6, 4)
        assert K.ops.dtype(x) == "float32"
        assert K.ops.convert_to_tensor(x).shape == (None, 6, 4)
    x = dn.Input((6, 4))
    half = dn.ops.convert_to_tensor(x, "float16")
    assert half.shape == (None, 6, 4) and dn.ops.dtype(half) == "float16"
    _, steps, feats = dn.ops.shape(x)
    model = dn.Model(x, dn.ops.reshape(x, (-1, steps * feats)))
    assert tuple(model(torch.ones(2, 6, 4)).shape) == (2, 24)
