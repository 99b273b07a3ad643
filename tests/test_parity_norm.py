"""Keras 3 parity for the normalization layers and Embedding: parameter counts, weight
shapes/order, inference outputs, and training-mode outputs, moving statistics and gradients."""

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet.layers.core import Dense
from deepnet.layers.embedding import Embedding
from deepnet.layers.normalization import (
    BatchNormalization,
    GroupNormalization,
    LayerNormalization,
    RMSNormalization,
    UnitNormalization,
)
from parity import assert_parity, keras

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

RNG = np.random.default_rng(0)


def _randn(*shape, scale=2.0, shift=0.5):
    return (RNG.normal(size=shape) * scale + shift).astype("float32")


def _models(dn_layer, keras_layer, input_shape, dtype="float32"):
    d = dn.Sequential([dn.Input(shape=input_shape, dtype=dtype), dn_layer])
    k = keras.Sequential([keras.Input(shape=input_shape, dtype=dtype), keras_layer])
    return d, k


def _randomize_keras(k_model):
    """Non-trivial weights (positive for variances) so the comparison means something."""
    weights = []
    for w in k_model.weights:
        value = np.asarray(keras.ops.convert_to_numpy(w))
        noise = RNG.uniform(0.5, 1.5, size=value.shape) if "variance" in w.path or "stddev" in w.path else RNG.normal(size=value.shape)
        weights.append(noise.astype(value.dtype))
    k_model.set_weights(weights)


# --------------------------------------------------------------------------- inference parity

CASES = [
    # name, deepnet factory, keras factory (same kwargs), input shape
    ("bn_2d", BatchNormalization, "BatchNormalization", {}, (5,)),
    ("bn_3d", BatchNormalization, "BatchNormalization", {"momentum": 0.9}, (4, 5)),
    ("bn_4d", BatchNormalization, "BatchNormalization", {"epsilon": 1e-5}, (3, 3, 4)),
    ("bn_channels_first", BatchNormalization, "BatchNormalization", {"axis": 1}, (4, 3, 3)),
    ("bn_middle_axis", BatchNormalization, "BatchNormalization", {"axis": 2}, (3, 4, 2)),
    ("bn_no_affine", BatchNormalization, "BatchNormalization", {"center": False, "scale": False}, (3, 4)),
    ("bn_renorm", BatchNormalization, "BatchNormalization", {"renorm": True}, (3, 4)),
    ("ln_last", LayerNormalization, "LayerNormalization", {}, (6,)),
    ("ln_last_3d", LayerNormalization, "LayerNormalization", {"epsilon": 1e-6}, (3, 6)),
    ("ln_two_axes", LayerNormalization, "LayerNormalization", {"axis": [1, 2]}, (3, 4)),
    ("ln_three_axes", LayerNormalization, "LayerNormalization", {"axis": [-3, -2, -1]}, (2, 3, 4)),
    ("ln_gapped_axes", LayerNormalization, "LayerNormalization", {"axis": [1, 3]}, (2, 3, 4)),
    ("ln_no_center", LayerNormalization, "LayerNormalization", {"center": False}, (5,)),
    ("ln_rms_scaling", LayerNormalization, "LayerNormalization", {"rms_scaling": True}, (3, 5)),
    ("gn_2d", GroupNormalization, "GroupNormalization", {"groups": 2}, (6,)),
    ("gn_3d", GroupNormalization, "GroupNormalization", {"groups": 3}, (5, 6)),
    ("gn_4d", GroupNormalization, "GroupNormalization", {"groups": 4}, (3, 3, 8)),
    ("gn_5d", GroupNormalization, "GroupNormalization", {"groups": 2}, (2, 2, 3, 4)),
    ("gn_instance", GroupNormalization, "GroupNormalization", {"groups": -1, "scale": False}, (4, 4, 3)),
    ("gn_layer", GroupNormalization, "GroupNormalization", {"groups": 1}, (4, 4, 3)),
    ("gn_channels_first", GroupNormalization, "GroupNormalization", {"groups": 2, "axis": 1}, (4, 3, 3)),
    ("unit", UnitNormalization, "UnitNormalization", {}, (5,)),
    ("unit_axes", UnitNormalization, "UnitNormalization", {"axis": [1, 2]}, (3, 4)),
    ("rms", RMSNormalization, "RMSNormalization", {}, (6,)),
    ("rms_axes", RMSNormalization, "RMSNormalization", {"axis": [-2, -1], "epsilon": 1e-3}, (3, 4)),
]


@pytest.mark.parametrize("name, dn_cls, k_name, kwargs, shape", CASES, ids=[c[0] for c in CASES])
def test_inference_parity(name, dn_cls, k_name, kwargs, shape):
    d, k = _models(dn_cls(**kwargs), getattr(keras.layers, k_name)(**kwargs), shape)
    _randomize_keras(k)
    assert_parity(d, k, _randn(4, *shape))


@pytest.mark.parametrize("kwargs", [{}, {"mask_zero": True}, {"embeddings_initializer": "normal"}])
def test_embedding_parity(kwargs):
    d, k = _models(Embedding(7, 3, **kwargs), keras.layers.Embedding(7, 3, **kwargs), (5,), dtype="int32")
    x = RNG.integers(0, 7, size=(4, 5)).astype("int32")
    assert_parity(d, k, x, atol=0, rtol=0)
    if kwargs.get("mask_zero"):
        k_mask = keras.ops.convert_to_numpy(k.layers[0].compute_mask(x))
        d_mask = d.layers[0](torch.as_tensor(x))._keras_mask
        np.testing.assert_array_equal(d_mask.numpy(), k_mask)


def test_dense_batchnorm_dense_model():
    d = dn.Sequential([dn.Input(shape=(6,)), Dense(8, activation="relu"), BatchNormalization(),
                       Dense(3)])
    k = keras.Sequential([keras.Input(shape=(6,)), keras.layers.Dense(8, activation="relu"),
                          keras.layers.BatchNormalization(), keras.layers.Dense(3)])
    _randomize_keras(k)
    assert_parity(d, k, _randn(5, 6))


def test_embedding_layernorm_dense_model():
    d = dn.Sequential([dn.Input(shape=(4,), dtype="int32"), Embedding(9, 6, mask_zero=True),
                       LayerNormalization(), GroupNormalization(groups=3), Dense(2)])
    k = keras.Sequential([keras.Input(shape=(4,), dtype="int32"), keras.layers.Embedding(9, 6, mask_zero=True),
                          keras.layers.LayerNormalization(), keras.layers.GroupNormalization(groups=3),
                          keras.layers.Dense(2)])
    _randomize_keras(k)
    assert_parity(d, k, RNG.integers(0, 9, size=(3, 4)).astype("int32"))


# --------------------------------------------------------------------------- training-mode parity

TRAIN_CASES = [
    ({"momentum": 0.9}, (4, 5), False),
    ({"momentum": 0.8, "epsilon": 1e-5}, (3, 3, 4), False),
    ({"axis": 1, "momentum": 0.5}, (4, 3, 3), False),
    ({"momentum": 0.7, "scale": False}, (3, 4), True),
    ({"renorm": True, "momentum": 0.6, "renorm_momentum": 0.7}, (3, 4), False),
    ({"renorm": True, "renorm_clipping": {"rmax": 1.2, "rmin": 0.9, "dmax": 0.1}, "momentum": 0.5}, (3, 4), True),
]


@pytest.mark.parametrize("kwargs, shape, masked", TRAIN_CASES)
def test_batchnorm_training_parity(kwargs, shape, masked):
    """Two training steps: same outputs, same moving statistics, same gradients as Keras."""
    k = keras.layers.BatchNormalization(**kwargs)
    d = BatchNormalization(**kwargs)
    k.build((None, *shape))
    d(dn.Input(shape=shape))
    _randomize_keras(k)
    d.set_weights([np.asarray(keras.ops.convert_to_numpy(w)) for w in k.weights])
    for _ in range(2):
        x = _randn(6, *shape, scale=3.0, shift=1.0)
        mask = RNG.uniform(size=(6, *shape[:-1])) > 0.3 if masked else None
        k_x = torch.tensor(x, requires_grad=True)
        d_x = torch.tensor(x, requires_grad=True)
        k_out = k(k_x, training=True, mask=None if mask is None else torch.as_tensor(mask))
        d_out = d(d_x, training=True, mask=None if mask is None else torch.as_tensor(mask))
        torch.testing.assert_close(d_out, k_out, atol=2e-5, rtol=1e-5)
        upstream = torch.as_tensor(_randn(*x.shape))
        k_grads = torch.autograd.grad(k_out, [k_x, *[w.value for w in k.trainable_weights]], upstream)
        d_grads = torch.autograd.grad(d_out, [d_x, *d.trainable_weights], upstream)
        for a, b in zip(d_grads, k_grads):
            torch.testing.assert_close(a, b, atol=5e-5, rtol=1e-4)
        for a, b in zip(d.get_weights(), k.weights):
            np.testing.assert_allclose(a, keras.ops.convert_to_numpy(b), atol=1e-5, rtol=1e-5)


def test_batchnorm_not_trainable_parity():
    k = keras.layers.BatchNormalization(trainable=False)
    d = BatchNormalization(trainable=False)
    k.build((None, 4))
    d(dn.Input(shape=(4,)))
    _randomize_keras(k)
    d.set_weights([np.asarray(keras.ops.convert_to_numpy(w)) for w in k.weights])
    x = _randn(5, 4)
    k_out = keras.ops.convert_to_numpy(k(x, training=True))
    d_out = d(torch.as_tensor(x), training=True).detach().numpy()
    np.testing.assert_allclose(d_out, k_out, atol=1e-5)
    for a, b in zip(d.get_weights(), k.weights):
        np.testing.assert_allclose(a, keras.ops.convert_to_numpy(b))
    assert (d.count_params(), len(d.trainable_weights)) == (k.count_params(), len(k.trainable_weights))


@pytest.mark.parametrize(
    "dn_cls, k_name, kwargs, shape",
    [
        (LayerNormalization, "LayerNormalization", {"axis": [1, 2]}, (3, 4)),
        (GroupNormalization, "GroupNormalization", {"groups": 2}, (3, 4)),
        (RMSNormalization, "RMSNormalization", {}, (5,)),
    ],
)
def test_gradient_parity(dn_cls, k_name, kwargs, shape):
    k = getattr(keras.layers, k_name)(**kwargs)
    d = dn_cls(**kwargs)
    k.build((None, *shape))
    d(dn.Input(shape=shape))
    _randomize_keras(k)
    d.set_weights([np.asarray(keras.ops.convert_to_numpy(w)) for w in k.weights])
    x = _randn(4, *shape)
    k_x, d_x = torch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    k_out, d_out = k(k_x), d(d_x)
    upstream = torch.as_tensor(_randn(*x.shape))
    k_grads = torch.autograd.grad(k_out, [k_x, *[w.value for w in k.trainable_weights]], upstream)
    d_grads = torch.autograd.grad(d_out, [d_x, *d.trainable_weights], upstream)
    for a, b in zip(d_grads, k_grads):
        torch.testing.assert_close(a, b, atol=5e-5, rtol=1e-4)
