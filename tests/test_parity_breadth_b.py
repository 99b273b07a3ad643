"""Keras parity (same weights -> same outputs, same parameter counts) of the Keras-breadth
layers of part B: 3-D layers, adaptive pooling, RNN with cells, ConvLSTM1D/2D/3D."""

from __future__ import annotations

import numpy as np
import pytest

import deepnet as dn
from parity import assert_parity, keras

RNG = np.random.default_rng(0)
VOL = (5, 6, 7, 3)
VOL_CF = (3, 5, 6, 7)
CF = {"data_format": "channels_first"}


def _pair(name, kwargs, input_shape, x=None, atol=1e-5):
    d_in, k_in = dn.Input(shape=input_shape), keras.Input(shape=input_shape)
    d_model = dn.Model(d_in, getattr(dn.layers, name)(**kwargs)(d_in))
    k_model = keras.Model(k_in, getattr(keras.layers, name)(**kwargs)(k_in))
    if x is None:
        x = RNG.standard_normal((2, *input_shape)).astype("float32")
    assert_parity(d_model, k_model, x, atol=atol)


THREE_D = [
    ("Conv3D", {"filters": 4, "kernel_size": 3}, VOL),
    ("Conv3D", {"filters": 6, "kernel_size": (2, 3, 2), "strides": 2, "padding": "same", "groups": 3}, VOL),
    ("Conv3D", {"filters": 2, "kernel_size": 2, "dilation_rate": (1, 2, 2), "activation": "relu", **CF}, VOL_CF),
    ("Conv3DTranspose", {"filters": 4, "kernel_size": 3, "strides": 2}, VOL),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": (2, 3, 3), "strides": (1, 2, 3), "padding": "same"}, VOL),
    ("Conv3DTranspose", {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same", "output_padding": 1,
                         **CF}, VOL_CF),
    ("MaxPooling3D", {}, VOL),
    ("MaxPooling3D", {"pool_size": 3, "strides": 2, "padding": "same"}, VOL),
    ("MaxPooling3D", {"pool_size": 2, "strides": 1, "padding": "same", **CF}, VOL_CF),
    ("AveragePooling3D", {"pool_size": 2}, VOL),
    ("AveragePooling3D", {"pool_size": (3, 2, 3), "strides": 2, "padding": "same"}, VOL),
    ("AveragePooling3D", {"pool_size": 2, "strides": 1, "padding": "same", **CF}, VOL_CF),
    ("GlobalMaxPooling3D", {}, VOL),
    ("GlobalAveragePooling3D", {"keepdims": True, **CF}, VOL_CF),
    ("ZeroPadding3D", {"padding": ((1, 0), (0, 2), (1, 1))}, VOL),
    ("ZeroPadding3D", {"padding": 2, **CF}, VOL_CF),
    ("Cropping3D", {"cropping": ((1, 0), (0, 2), (1, 1))}, VOL),
    ("Cropping3D", {"cropping": (1, 2, 0), **CF}, VOL_CF),
    ("UpSampling3D", {"size": (1, 2, 3)}, VOL),
    ("UpSampling3D", {"size": 2, **CF}, VOL_CF),
    ("SpatialDropout3D", {"rate": 0.4}, VOL),
]


@pytest.mark.parametrize("name, kwargs, shape", THREE_D, ids=[f"{c[0]}-{i}" for i, c in enumerate(THREE_D)])
def test_three_d_parity(name, kwargs, shape):
    _pair(name, kwargs, shape)


ADAPTIVE = [
    (f"Adaptive{kind}Pooling{rank}D", {"output_size": size, **fmt}, shape)
    for kind in ("Average", "Max")
    for rank, size, shape in ((1, 3, (10, 2)), (2, (3, 4), (7, 9, 2)), (3, (2, 3, 2), (5, 7, 6, 2)))
    for fmt in ({}, CF)
]


@pytest.mark.parametrize("name, kwargs, shape", ADAPTIVE, ids=[f"{c[0]}-{i}" for i, c in enumerate(ADAPTIVE)])
def test_adaptive_pooling_parity(name, kwargs, shape):
    _pair(name, kwargs, shape)
