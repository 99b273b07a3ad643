"""Convolution and pooling layers: bad-input table, the no-copy channels-last fast path, causal
padding, float64 gradient checks of the padded/cropped paths and the tutorial CNN (their harness
rows, with shapes and exact parameter counts, live in tests/test_layer_harness.py)."""

import re

import numpy as np
import pytest
import torch
from torch.utils._python_dispatch import TorchDispatchMode

import deepnet as dn
from deepnet import Input, Sequential
from deepnet.layers.convolutional import (
    Conv1D,
    Conv2D,
    Conv2DTranspose,
    DepthwiseConv2D,
    SeparableConv1D,
    SeparableConv2D,
)
from deepnet.layers.core import Dense, Flatten
from deepnet.layers.pooling import (
    AveragePooling1D,
    AveragePooling2D,
    GlobalAveragePooling1D,
    GlobalAveragePooling2D,
    GlobalMaxPooling1D,
    MaxPooling1D,
    MaxPooling2D,
)

CF = {"data_format": "channels_first"}


def test_keras_positional_order():
    pool = MaxPooling2D(2, 2)
    assert pool.pool_size == (2, 2) and pool.strides == (2, 2)
    assert MaxPooling2D(3).strides == (3, 3)
    conv = Conv2D(16, 3, 2, "same")
    assert (conv.kernel_size, conv.strides, conv.padding) == ((3, 3), (2, 2), "same")
    assert Conv2D(4, 3, padding="SAME").padding == "same"


# --------------------------------------------------------------------------- bad inputs

RANK_MSG = ("Conv2D 'conv2d' expects input of rank 4 (batch, height, width, channels); received shape "
            "(None, 784). Add Reshape((28, 28, 1)) before it.")

BAD = [
    # cls, kwargs, input shape (None: fails at construction), exception, message regex
    (Conv2D, {"filters": 0, "kernel_size": 3}, None, ValueError, r"`filters` of Conv2D.*filters=0"),
    (Conv2D, {"filters": 2.5, "kernel_size": 3}, None, ValueError, r"`filters` of Conv2D.*filters=2.5"),
    (Conv2D, {"filters": 4, "kernel_size": 0}, None, ValueError, r"`kernel_size` of Conv2D.*kernel_size=0"),
    (Conv2D, {"filters": 4, "kernel_size": (3,)}, None, ValueError, r"`kernel_size` of Conv2D.*tuple of 2.*\(3,\)"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "strides": 0}, None, ValueError, r"`strides` of Conv2D.*strides=0"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "dilation_rate": (1, 0)}, None, ValueError, r"`dilation_rate`.*\(1, 0\)"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "padding": "full"}, None, ValueError, r"`padding` of Conv2D.*padding='full'"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "padding": "causal"}, None, ValueError, r"`padding` of Conv2D.*'causal'"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "groups": 3}, None, ValueError, r"`groups` of Conv2D.*groups=3"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "groups": 0}, None, ValueError, r"`groups` of Conv2D.*groups=0"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "data_format": "nhwc"}, None, ValueError, r"`data_format`.*'nhwc'"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "dilation_rate": 2}, None, ValueError,
     r"Conv2D.*strides.*dilation_rate"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "activation": "nope"}, None, ValueError, r"nope"),
    (Conv2D, {"filters": 4, "kernel_size": 3}, (784,), ValueError, re.escape(RANK_MSG)),
    (Conv2D, {"filters": 4, "kernel_size": 3}, (28, 28), ValueError,
     re.escape("received shape (None, 28, 28). Add Reshape((28, 28, 1)) before it")),
    (Conv2D, {"filters": 4, "kernel_size": 3, **CF}, (28, 28), ValueError,
     re.escape("(batch, channels, height, width); received shape (None, 28, 28). Add Reshape((1, 28, 28))")),
    (Conv2D, {"filters": 4, "kernel_size": 5}, (3, 3, 1), ValueError,
     re.escape("Conv2D 'conv2d': kernel_size=(5, 5) is larger than its input of shape (None, 3, 3, 1)")),
    (Conv2D, {"filters": 4, "kernel_size": 3, "dilation_rate": 3}, (6, 6, 1), ValueError,
     r"kernel_size=\(3, 3\) with dilation_rate=\(3, 3\) is larger"),
    (Conv2D, {"filters": 6, "kernel_size": 3, "groups": 2}, (5, 5, 3), ValueError,
     r"Conv2D 'conv2d'.*3 input channels.*not divisible by groups=2"),
    (Conv2D, {"filters": 4, "kernel_size": 3}, (5, 5, None), ValueError, r"Conv2D 'conv2d' needs the channels axis"),
    (Conv1D, {"filters": 4, "kernel_size": 3}, (10,), ValueError,
     re.escape("Conv1D 'conv1d' expects input of rank 3 (batch, steps, channels); received shape (None, 10). "
               "Add Reshape((10, 1)) before it.")),
    (Conv1D, {"filters": 4, "kernel_size": 3}, (2, 6), ValueError, r"Conv1D 'conv1d': kernel_size=\(3,\) is larger"),
    (Conv1D, {"filters": 4, "kernel_size": 3, "padding": "zeros"}, None, ValueError, r"`padding` of Conv1D.*'causal'"),
    (Conv2DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2, "output_padding": 2}, None, ValueError,
     r"`output_padding` of Conv2DTranspose.*strictly less than strides"),
    (Conv2DTranspose, {"filters": 4, "kernel_size": 3, "padding": "causal"}, None, ValueError, r"`padding`"),
    (Conv2DTranspose, {"filters": 4, "kernel_size": 3}, (5, 5), ValueError, r"Conv2DTranspose .* expects input of rank 4"),
    (DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 0}, None, ValueError, r"`depth_multiplier`.*=0"),
    (DepthwiseConv2D, {"kernel_size": 4}, (3, 3, 2), ValueError, r"DepthwiseConv2D .*kernel_size=\(4, 4\) is larger"),
    (SeparableConv2D, {"filters": 0, "kernel_size": 3}, None, ValueError, r"`filters` of SeparableConv2D"),
    (SeparableConv1D, {"filters": 2, "kernel_size": 3}, (4, 4, 4), ValueError, r"SeparableConv1D .* rank 3"),
    (MaxPooling2D, {"pool_size": 0}, None, ValueError, r"`pool_size` of MaxPooling2D.*pool_size=0"),
    (MaxPooling2D, {"strides": (2, 0)}, None, ValueError, r"`strides` of MaxPooling2D"),
    (MaxPooling2D, {"padding": "causal"}, None, ValueError, r"`padding` of MaxPooling2D"),
    (MaxPooling2D, {"pool_size": 3}, (2, 2, 1), ValueError, re.escape("MaxPooling2D 'max_pooling2d': pool_size=(3, 3) is larger")),
    (MaxPooling2D, {}, (28, 28), ValueError,
     re.escape("MaxPooling2D 'max_pooling2d' expects input of rank 4 (batch, height, width, channels); received shape "
               "(None, 28, 28). Add Reshape((28, 28, 1)) before it")),
    (AveragePooling1D, {"pool_size": 2, "data_format": "channels_middle"}, None, ValueError, r"`data_format`"),
    (MaxPooling1D, {}, (8,), ValueError, r"MaxPooling1D .* rank 3 \(batch, steps, channels\)"),
    (GlobalAveragePooling2D, {"data_format": "x"}, None, ValueError, r"`data_format` of GlobalAveragePooling2D"),
    (GlobalAveragePooling2D, {}, (5,), ValueError, r"GlobalAveragePooling2D .* rank 4"),
    (GlobalMaxPooling1D, {}, (4, 4, 4), ValueError, r"GlobalMaxPooling1D .* rank 3"),
    (Conv2D, {"filters": 4, "kernel_size": 3, "unknown_arg": 1}, None, TypeError, r"unknown_arg"),
]


@pytest.mark.parametrize("cls, kwargs, input_shape, exc, pattern", BAD,
                         ids=[f"{b[0].__name__}-{i}" for i, b in enumerate(BAD)])
def test_bad_inputs(cls, kwargs, input_shape, exc, pattern):
    with pytest.raises(exc, match=pattern):
        layer = cls(**kwargs)
        if input_shape is None:
            pytest.fail("construction should have failed")
        layer(Input(shape=input_shape))


# --------------------------------------------------------------------------- no-copy fast path

COPY_OPS = {"clone", "copy_", "contiguous", "_to_copy", "constant_pad_nd", "pad", "empty_like"}


class _OpLog(TorchDispatchMode):
    def __init__(self):
        super().__init__()
        self.ops = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.ops.append(func.overloadpacket.__name__)
        return func(*args, **(kwargs or {}))


NO_COPY = [
    (Conv2D, {"filters": 5, "kernel_size": 3}, (9, 8, 3)),
    (Conv2D, {"filters": 5, "kernel_size": 3, "padding": "same", "activation": "relu"}, (9, 8, 3)),
    (Conv2D, {"filters": 4, "kernel_size": 3, "strides": 2, "padding": "same", "groups": 2}, (9, 9, 4)),
    (Conv1D, {"filters": 5, "kernel_size": 3, "padding": "same"}, (12, 3)),
    (Conv1D, {"filters": 5, "kernel_size": 1}, (12, 1)),
    (DepthwiseConv2D, {"kernel_size": 3, "depth_multiplier": 2}, (8, 8, 3)),
    (SeparableConv2D, {"filters": 6, "kernel_size": 3, "padding": "same"}, (8, 8, 3)),
    (SeparableConv1D, {"filters": 6, "kernel_size": 3}, (8, 3)),
    (Conv2DTranspose, {"filters": 4, "kernel_size": 4, "strides": 2, "padding": "same"}, (5, 5, 3)),
    (Conv2DTranspose, {"filters": 4, "kernel_size": 3, "strides": 2}, (5, 5, 3)),
    (MaxPooling2D, {}, (8, 8, 3)),
    (MaxPooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 8, 3)),
    (AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (8, 8, 3)),
    (MaxPooling1D, {}, (8, 3)),
    (AveragePooling1D, {"pool_size": 3, "strides": 1, "padding": "same"}, (8, 3)),
    (GlobalAveragePooling2D, {}, (4, 4, 3)),
]


@pytest.mark.parametrize("cls, kwargs, shape", NO_COPY, ids=[f"{c[0].__name__}-{i}" for i, c in enumerate(NO_COPY)])
def test_channels_last_fast_path_makes_no_copies(cls, kwargs, shape):
    layer = cls(**kwargs)
    x = torch.randn(2, *shape)
    layer(x)  # build
    if hasattr(layer, "_to4d"):
        view = layer._to4d(x)
        assert view.is_contiguous(memory_format=torch.channels_last)
        assert view.data_ptr() == x.data_ptr()
    for name in ("kernel", "depthwise_kernel"):
        w = getattr(layer, name, None)
        if w is not None:
            assert w.is_contiguous(memory_format=torch.channels_last)
    with torch.no_grad(), _OpLog() as log:
        y = layer(x)
    assert log.ops, "the dispatch log recorded nothing"
    assert not COPY_OPS & set(log.ops), f"copying ops in call: {log.ops}"
    assert y.is_contiguous(), f"output strides {y.stride()} for shape {tuple(y.shape)}"


def test_chained_convolutions_stay_contiguous():
    model = Sequential([
        Input(shape=(12, 12, 3)),
        Conv2D(8, 3, padding="same", activation="relu"),
        MaxPooling2D(),
        Conv2D(8, 3, activation="relu"),
        DepthwiseConv2D(3, padding="same"),
        SeparableConv2D(4, 1),
        GlobalAveragePooling2D(),
    ])
    x = torch.randn(2, 12, 12, 3)
    with torch.no_grad(), _OpLog() as log:
        y = model(x)
    assert not COPY_OPS & set(log.ops), log.ops
    assert y.shape == (2, 4)


def test_channels_first_weight_is_standard_contiguous():
    layer = Conv2D(4, 3, data_format="channels_first")
    y = layer(torch.randn(2, 3, 6, 6))
    assert layer.kernel.is_contiguous() and y.is_contiguous()


def test_weight_layout_round_trip_and_constraints():
    layer = Conv1D(3, 2, kernel_constraint="non_neg")
    layer(torch.randn(1, 5, 4))
    kernel = np.arange(2 * 4 * 3, dtype="float32").reshape(2, 4, 3) - 10
    layer.set_weights([kernel, np.zeros(3, "float32")])
    np.testing.assert_array_equal(layer.get_weights()[0], kernel)
    assert layer.kernel.is_contiguous(memory_format=torch.channels_last)
    layer.apply_constraints()
    np.testing.assert_array_equal(layer.get_weights()[0], np.maximum(kernel, 0))
    assert layer.kernel.is_contiguous(memory_format=torch.channels_last)


def test_regularizer_losses():
    layer = SeparableConv2D(2, 3, depthwise_regularizer="l2", pointwise_regularizer="l1",
                            activity_regularizer="l2")
    layer(torch.randn(2, 5, 5, 3))
    assert len(layer.losses) == 3
    w = layer.get_weights()
    losses = [float(t.detach()) for t in layer.losses]
    np.testing.assert_allclose(losses[0], 0.01 * np.square(w[0]).sum(), rtol=1e-5)
    np.testing.assert_allclose(losses[1], 0.01 * np.abs(w[1]).sum(), rtol=1e-5)


# --------------------------------------------------------------------------- semantics


def test_causal_conv1d_sees_only_the_past():
    layer = Conv1D(2, 3, padding="causal", dilation_rate=2)
    x = torch.randn(1, 10, 3)
    y = layer(x)
    x2 = x.clone()
    x2[:, 6:] += 1.0
    y2 = layer(x2)
    torch.testing.assert_close(y[:, :6], y2[:, :6])
    assert not torch.allclose(y[:, 6:], y2[:, 6:])


def test_depthwise_output_channel_order():
    """Output channel c * depth_multiplier + m uses input channel c and Keras kernel[..., c, m]."""
    layer = DepthwiseConv2D(1, depth_multiplier=2, use_bias=False)
    layer(torch.zeros(1, 2, 2, 3))
    kernel = np.arange(6, dtype="float32").reshape(1, 1, 3, 2) + 1
    layer.set_weights([kernel])
    x = torch.tensor([1.0, 10.0, 100.0]).expand(1, 2, 2, 3)
    y = layer(x)[0, 0, 0]
    torch.testing.assert_close(y, torch.tensor([1.0, 2.0, 30.0, 40.0, 500.0, 600.0]))


def test_same_average_pooling_excludes_padding():
    x = torch.arange(1.0, 6.0).reshape(1, 5, 1)
    y = AveragePooling1D(pool_size=2, strides=2, padding="same")(x)
    torch.testing.assert_close(y.flatten(), torch.tensor([1.5, 3.5, 5.0]))
    y = AveragePooling1D(pool_size=4, strides=1, padding="same")(x)  # pads 1 before, 2 after
    torch.testing.assert_close(y.flatten(), torch.tensor([2.0, 2.5, 3.5, 4.0, 4.5]))


def test_global_average_pooling1d_mask():
    x = torch.tensor([[[1.0], [3.0], [float("nan")]]])
    mask = torch.tensor([[True, True, False]])
    y = GlobalAveragePooling1D()(x, mask=mask)
    torch.testing.assert_close(y, torch.tensor([[2.0]]))


def test_gradcheck_padded_and_cropped_paths():
    cases = [
        (Conv2D, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (6, 6, 2)),
        (Conv1D, {"filters": 2, "kernel_size": 3, "padding": "causal"}, (5, 2)),
        (Conv2DTranspose, {"filters": 2, "kernel_size": 3, "strides": 2, "padding": "same"}, (3, 3, 2)),
        (SeparableConv1D, {"filters": 2, "kernel_size": 2, "depth_multiplier": 2, "padding": "same"}, (5, 2)),
        (AveragePooling2D, {"pool_size": 2, "strides": 1, "padding": "same"}, (4, 4, 2)),
        (AveragePooling2D, {"pool_size": 3, "strides": 2, "padding": "same"}, (4, 4, 2)),
    ]
    for cls, kwargs, shape in cases:
        layer = cls(dtype="float64", **kwargs)
        x = torch.randn(2, *shape, dtype=torch.float64, requires_grad=True)
        layer(x)
        params = tuple(layer.trainable_weights)
        assert torch.autograd.gradcheck(lambda inp, *ws, f=layer: f(inp), (x, *params), eps=1e-6, atol=1e-5)


# --------------------------------------------------------------------------- tutorial CNN


def _tutorial_model(size, filters=(256, 128, 64)):
    return Sequential([
        Input(shape=(size, size, 3)),
        Conv2D(filters[0], (3, 3), activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        Conv2D(filters[1], (3, 3), activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        Conv2D(filters[2], (3, 3), activation="relu", padding="same"),
        MaxPooling2D(2, 2),
        Flatten(),
        Dense(64, activation="relu"),
        Dense(10),
    ])


def test_tutorial_cnn_parameter_count_and_summary():
    model = _tutorial_model(256)
    assert model.count_params() == 4_571_018  # what Keras 3 prints for the same model
    lines = []
    model.summary(print_fn=lines.append)
    text = "\n".join(lines)
    assert "4,571,018" in text and "(None, 32, 32, 64)" in text and "(None, 65536)" in text


def test_tutorial_cnn_trains_small():
    model = _tutorial_model(16, filters=(8, 8, 4))
    x, target = torch.randn(4, 16, 16, 3), torch.randn(4, 10)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    loss0 = None
    for _ in range(5):
        opt.zero_grad()
        loss = torch.nn.functional.mse_loss(model(x), target)
        loss.backward()
        opt.step()
        loss0 = loss0 if loss0 is not None else loss.item()
    assert loss.item() < loss0
    assert dn.Sequential is Sequential
