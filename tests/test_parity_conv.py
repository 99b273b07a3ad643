"""Keras 3 parity for the convolution and pooling layers: parameter counts, weight shapes and
order, outputs (after copying Keras' weights) and gradients, for every layer and for small
1-D and 2-D CNNs, including strided, dilated, grouped, "same"/"valid"/"causal" and
channels_first variants."""

import itertools

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet.layers import convolutional as C
from deepnet.layers import pooling as P
from deepnet.layers.convolutional import same_padding
from deepnet.layers.core import Dense, Flatten
from parity import assert_parity, keras

pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning", "ignore::UserWarning")

RNG = np.random.default_rng(0)
CF = {"data_format": "channels_first"}


def _randn(*shape):
    return RNG.normal(size=shape).astype("float32")


def _randomize_keras(k_model):
    """Random kernels and (non-zero) biases so every weight is exercised."""
    k_model.set_weights([_randn(*np.shape(w)) * 0.5 for w in k_model.get_weights()])


def _layer_pair(name, kwargs):
    dn_cls = getattr(C, name, None) or getattr(P, name)
    return dn_cls(**kwargs), getattr(keras.layers, name)(**kwargs)


# --------------------------------------------------------------------------- single layers

CASES = [
    # keras/deepnet class name, kwargs, input shape (no batch)
    ("Conv1D", {"filters": 4, "kernel_size": 3}, (11, 5)),
    ("Conv1D", {"filters": 4, "kernel_size": 4, "strides": 2, "padding": "same"}, (10, 5)),
    ("Conv1D", {"filters": 3, "kernel_size": 3, "padding": "causal", "dilation_rate": 2}, (10, 4)),
    ("Conv1D", {"filters": 6, "kernel_size": 3, "groups": 2, "padding": "same", "activation": "tanh"}, (9, 4)),
    ("Conv1D", {"filters": 4, "kernel_size": 3, "strides": 2, **CF}, (5, 11)),
    ("Conv1D", {"filters": 4, "kernel_size": 2, "padding": "causal", **CF}, (5, 9)),
    ("Conv2D", {"filters": 4, "kernel_size": 3}, (7, 8, 3)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same"}, (8, 8, 3)),  # asymmetric pad
    ("Conv2D", {"filters": 4, "kernel_size": 2, "padding": "same", "use_bias": False}, (6, 7, 3)),  # even kernel
    ("Conv2D", {"filters": 4, "kernel_size": (3, 2), "strides": (2, 1), "padding": "valid"}, (9, 7, 2)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "dilation_rate": (2, 1), "padding": "same"}, (8, 8, 2)),
    ("Conv2D", {"filters": 6, "kernel_size": 3, "groups": 3, "activation": "relu"}, (6, 6, 6)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", **CF}, (3, 8, 7)),
    ("Conv2D", {"filters": 4, "kernel_size": 3, "groups": 2, "dilation_rate": 2, **CF}, (4, 8, 8)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2}, (5, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (5, 4)),
    ("Conv1DTranspose", {"filters": 3, "kernel_size": 4, "strides": 3, "output_padding": 1, "padding": "same"}, (5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "padding": "same"}, (4, 5, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 4, "strides": 2, "padding": "same"}, (4, 4, 4)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 2, "strides": 3}, (4, 4, 2)),  # kernel < stride
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "strides": 2, "output_padding": 1}, (4, 4, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": 3, "dilation_rate": 2, "padding": "same"}, (5, 5, 2)),
    ("Conv2DTranspose", {"filters": 3, "kernel_size": (3, 2), "strides": (2, 1), "padding": "same", **CF}, (2, 4, 5)),
    ("DepthwiseConv1D", {"kernel_size": 3, "depth_multiplier": 2, "padding": "same"}, (9, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3}, (6, 6, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"}, (8, 7, 3)),
    ("DepthwiseConv2D", {"kernel_size": 3, "dilation_rate": 2, "activation": "relu"}, (8, 8, 2)),
    ("DepthwiseConv2D", {"kernel_size": 3, "depth_multiplier": 2, **CF}, (3, 6, 6)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, "depth_multiplier": 2, "strides": 2, "padding": "same"}, (10, 3)),
    ("SeparableConv1D", {"filters": 4, "kernel_size": 3, **CF}, (3, 10)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3}, (6, 6, 3)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "depth_multiplier": 2, "dilation_rate": 2, "padding": "same"},
     (7, 7, 3)),
    ("SeparableConv2D", {"filters": 5, "kernel_size": 3, "strides": 2, "padding": "same", **CF}, (3, 8, 8)),
    ("MaxPooling1D", {}, (9, 3)),
    ("MaxPooling1D", {"pool_size": 3, "strides": 1, "padding": "same"}, (9, 3)),
    ("MaxPooling1D", {"pool_size": 2, "strides": 2, "padding": "same"}, (9, 3)),  # asymmetric
    ("MaxPooling2D", {}, (6, 7, 3)),
    ("MaxPooling2D", {"pool_size": (3, 2), "padding": "same"}, (7, 7, 2)),
    ("MaxPooling2D", {"pool_size": 2, "strides": (1, 2), "padding": "same"}, (6, 7, 2)),  # stride-1 even window
    ("MaxPooling2D", {"pool_size": 3, "strides": 2, **CF}, (2, 7, 7)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 2}, (10, 3)),
    ("AveragePooling1D", {"pool_size": 3, "strides": 1, "padding": "same", **CF}, (3, 8)),
    ("AveragePooling2D", {"pool_size": 2}, (6, 7, 3)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 1, "padding": "same"}, (6, 6, 2)),
    ("AveragePooling2D", {"pool_size": 3, "strides": 2, "padding": "same"}, (7, 7, 2)),  # symmetric total pad
    ("AveragePooling2D", {"pool_size": (2, 3), "strides": (2, 1), **CF}, (2, 6, 6)),
    ("GlobalAveragePooling1D", {}, (7, 3)),
    ("GlobalAveragePooling1D", {"keepdims": True, **CF}, (3, 7)),
    ("GlobalAveragePooling2D", {}, (4, 5, 3)),
    ("GlobalAveragePooling2D", {"keepdims": True, **CF}, (3, 4, 5)),
    ("GlobalMaxPooling1D", {"keepdims": True}, (7, 3)),
    ("GlobalMaxPooling2D", {}, (4, 5, 3)),
    ("GlobalMaxPooling2D", CF, (3, 4, 5)),
]


@pytest.mark.parametrize("name, kwargs, input_shape", CASES,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(CASES)])
def test_layer_parity(name, kwargs, input_shape):
    d_layer, k_layer = _layer_pair(name, kwargs)
    d = dn.Sequential([dn.Input(shape=input_shape), d_layer])
    k = keras.Sequential([keras.Input(shape=input_shape), k_layer])
    _randomize_keras(k)
    assert d.output_shape == k.output_shape
    assert_parity(d, k, _randn(3, *input_shape))


def test_global_average_pooling1d_mask_parity():
    x = _randn(3, 6, 4)
    mask = np.array([[1, 1, 1, 0, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 1, 0, 1, 0]], dtype=bool)
    for kwargs, xin, in [({}, x), (CF, np.ascontiguousarray(x.transpose(0, 2, 1)))]:
        k = keras.layers.GlobalAveragePooling1D(**kwargs)(xin, mask=mask)
        d = P.GlobalAveragePooling1D(**kwargs)(torch.as_tensor(xin), mask=torch.as_tensor(mask))
        np.testing.assert_allclose(d.numpy(), np.asarray(k.detach()), atol=1e-6)


def _exclusive_average_pool(x, pool, strides):
    """Reference "same" average pooling (channels_last, padding excluded from each mean)."""
    spatial = x.shape[1:-1]
    starts = [[i * s - same_padding(n, k, s)[0] for i in range((n - 1) // s + 1)]
              for n, k, s in zip(spatial, pool, strides)]
    out = np.zeros((x.shape[0], *[len(s) for s in starts], x.shape[-1]))
    for idx in itertools.product(*[range(len(s)) for s in starts]):
        win = tuple(slice(max(st[i], 0), min(st[i] + k, n)) for st, i, k, n in zip(starts, idx, pool, spatial))
        out[(slice(None), *idx, slice(None))] = x[(slice(None), *win, slice(None))].mean(axis=(1, 2)[:len(spatial)])
    return out


@pytest.mark.parametrize("pool, strides, shape", [((2, 2), (2, 2), (5, 7)), ((4, 3), (1, 3), (6, 7)), ((3,), (2,), (8,))])
def test_asymmetric_same_average_pooling_matches_keras_semantics(pool, strides, shape):
    """Keras' documented "same" average pooling (TensorFlow/JAX backends) excludes the
    padding; Keras' torch backend instead replicates edge values when the padding is
    asymmetric, so this case is checked against a reference instead."""
    x = _randn(2, *shape, 3)
    cls = P.AveragePooling2D if len(shape) == 2 else P.AveragePooling1D
    y = cls(pool_size=pool, strides=strides, padding="same")(torch.as_tensor(x)).numpy()
    np.testing.assert_allclose(y, _exclusive_average_pool(x, pool, strides), atol=1e-5)


# --------------------------------------------------------------------------- small CNNs


def _cnn_2d(L):
    return [
        L["Conv2D"](6, 3, activation="relu"),
        L["MaxPooling2D"](2, 2),
        L["Conv2D"](8, 3, strides=2, padding="same", activation="relu"),
        L["GlobalAveragePooling2D"](),
        L["Dense"](5),
    ]


def _cnn_1d(L):
    return [
        L["Conv1D"](6, 5, padding="causal", activation="relu"),
        L["MaxPooling1D"](),
        L["Conv1D"](8, 3, strides=2, padding="same", dilation_rate=1, groups=2, activation="relu"),
        L["AveragePooling1D"](2, padding="same"),
        L["GlobalMaxPooling1D"](),
        L["Dense"](3),
    ]


def _cnn_channels_first(L):
    return [
        L["Conv2D"](6, 3, padding="same", activation="relu", **CF),
        L["AveragePooling2D"](2, **CF),
        L["SeparableConv2D"](4, 3, depth_multiplier=2, **CF),
        L["MaxPooling2D"](2, padding="same", **CF),
        L["Flatten"](**CF),
        L["Dense"](3),
    ]


def _encoder_decoder(L):
    return [
        L["Conv2D"](6, 3, strides=2, padding="same", activation="relu"),
        L["DepthwiseConv2D"](3, depth_multiplier=2, padding="same"),
        L["Conv2DTranspose"](4, 3, strides=2, padding="same", activation="relu"),
        L["Conv2D"](2, 1),
    ]


def _dn_namespace():
    ns = {n: getattr(C, n) for n in C.__all__}
    ns.update({n: getattr(P, n) for n in P.__all__})
    ns.update(Dense=Dense, Flatten=Flatten)
    return ns


def _keras_namespace():
    return {n: getattr(keras.layers, n) for n in list(_dn_namespace())}


MODELS = [
    ("cnn_2d", _cnn_2d, (12, 12, 3)),
    ("cnn_1d", _cnn_1d, (40, 2)),
    ("cnn_channels_first", _cnn_channels_first, (3, 12, 12)),
    ("encoder_decoder", _encoder_decoder, (8, 8, 3)),
]


@pytest.mark.parametrize("name, factory, input_shape", MODELS, ids=[m[0] for m in MODELS])
def test_model_parity_outputs_and_gradients(name, factory, input_shape):
    d = dn.Sequential([dn.Input(shape=input_shape), *factory(_dn_namespace())])
    k = keras.Sequential([keras.Input(shape=input_shape), *factory(_keras_namespace())])
    _randomize_keras(k)
    x = _randn(4, *input_shape)
    assert_parity(d, k, x, atol=1e-5)

    # gradients of the same loss agree weight by weight (Keras' order and layout)
    d.train()
    d_out = d(torch.as_tensor(x))
    d_out.square().mean().backward()
    k_out = k(torch.as_tensor(x), training=True)
    k_out.square().mean().backward()
    d_grads = [g for g in _grads_in_keras_layout(d)]
    k_grads = [w.value.grad.detach().cpu().numpy() for w in k.trainable_weights]
    assert len(d_grads) == len(k_grads)
    for dg, kg in zip(d_grads, k_grads):
        np.testing.assert_allclose(dg, kg, atol=1e-5, rtol=1e-4)


def _grads_in_keras_layout(model):
    grads = []
    for layer in model.layers:
        for t, spec in layer._weight_entries():
            grads.append(spec.to_keras(t.grad).detach().numpy())
    return grads
