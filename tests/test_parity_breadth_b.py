"""Keras parity (same weights -> same outputs, same parameter counts) of the Keras-breadth
layers of part B: 3-D layers, adaptive pooling, RNN with cells, ConvLSTM1D/2D/3D."""

from __future__ import annotations

import numpy as np
import pytest
import torch

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


# --------------------------------------------------------------------------- RNN with cells

T, F_, U = 6, 3, 4
X_SEQ = RNG.standard_normal((3, T, F_)).astype("float32")
MASK = np.array([[1, 1, 1, 1, 0, 0], [1, 1, 1, 1, 1, 1], [1, 0, 1, 0, 0, 1]], dtype=bool)


def _cells(lib, spec):
    """``spec``: a (name, kwargs) pair or a list of them -> the cell(s) of ``lib``."""
    if isinstance(spec, list):
        return [_cells(lib, s) for s in spec]
    name, kwargs = spec
    return getattr(lib.layers, name)(**kwargs)


CELL_CASES = {
    "simple": (("SimpleRNNCell", {"units": U}), {}),
    "simple_relu_seq_back": (("SimpleRNNCell", {"units": U, "activation": "relu"}),
                             {"return_sequences": True, "go_backwards": True}),
    "lstm": (("LSTMCell", {"units": U}), {"return_sequences": True}),
    "lstm_no_forget_bias": (("LSTMCell", {"units": U, "unit_forget_bias": False, "recurrent_activation": "hard_sigmoid"}),
                            {}),
    "gru": (("GRUCell", {"units": U}), {"return_sequences": True}),
    "gru_reset_before": (("GRUCell", {"units": U, "reset_after": False}), {"go_backwards": True}),
    "gru_no_bias": (("GRUCell", {"units": U, "use_bias": False}), {}),
    "stacked_list": ([("LSTMCell", {"units": 5}), ("GRUCell", {"units": U}), ("SimpleRNNCell", {"units": 2})],
                     {"return_sequences": True}),
}


def _rnn_models(cell_spec, rnn_kwargs, stacked_class=False, mask=False):
    d_in, k_in = dn.Input(shape=(T, F_)), keras.Input(shape=(T, F_))
    d_cell, k_cell = _cells(dn, cell_spec), _cells(keras, cell_spec)
    if stacked_class:
        d_cell, k_cell = dn.layers.StackedRNNCells(d_cell), keras.layers.StackedRNNCells(k_cell)
    d_rnn, k_rnn = dn.layers.RNN(d_cell, **rnn_kwargs), keras.layers.RNN(k_cell, **rnn_kwargs)
    if mask:
        d_x, k_x = dn.layers.Masking(0.0)(d_in), keras.layers.Masking(0.0)(k_in)
    else:
        d_x, k_x = d_in, k_in
    d_out, k_out = d_rnn(d_x), k_rnn(k_x)
    d_out = list(d_out) if isinstance(d_out, (list, tuple)) else d_out
    k_out = list(k_out) if isinstance(k_out, (list, tuple)) else k_out
    return dn.Model(d_in, d_out), keras.Model(k_in, k_out)


@pytest.mark.parametrize("case", list(CELL_CASES))
def test_rnn_cell_parity(case):
    cell_spec, rnn_kwargs = CELL_CASES[case]
    assert_parity(*_rnn_models(cell_spec, rnn_kwargs), X_SEQ)


@pytest.mark.parametrize("name", ["SimpleRNNCell", "LSTMCell", "GRUCell"])
def test_rnn_cell_return_state_parity(name):
    assert_parity(*_rnn_models((name, {"units": U}), {"return_state": True, "go_backwards": True}), X_SEQ)


def test_stacked_rnn_cells_parity():
    spec = [("LSTMCell", {"units": 5}), ("GRUCell", {"units": U})]
    assert_parity(*_rnn_models(spec, {"return_sequences": True}, stacked_class=True), X_SEQ)


@pytest.mark.parametrize("zero_output", [False, True])
@pytest.mark.parametrize("spec", [("LSTMCell", {"units": U}), [("GRUCell", {"units": U}), ("SimpleRNNCell", {"units": 3})]],
                         ids=["lstm", "stacked"])
def test_rnn_masked_parity(spec, zero_output):
    x = X_SEQ * MASK[..., None]  # Masking(0.0) masks the zeroed steps
    kwargs = {"return_sequences": True, "zero_output_for_mask": zero_output}
    assert_parity(*_rnn_models(spec, kwargs, mask=True), x)


@pytest.mark.parametrize("name, kwargs", [("SimpleRNN", {}), ("LSTM", {}), ("GRU", {}), ("GRU", {"reset_after": False})])
def test_cell_in_rnn_equals_its_layer(name, kwargs):
    """RNN(XCell(n)) and X(n) compute the same with the same weights (deepnet only)."""
    layer = getattr(dn.layers, name)(U, return_sequences=True, **kwargs)
    rnn = dn.layers.RNN(getattr(dn.layers, name + "Cell")(U, **kwargs), return_sequences=True)
    x = torch.as_tensor(X_SEQ)
    layer(x), rnn(x)
    rnn.set_weights(layer.get_weights())
    torch.testing.assert_close(rnn(x), layer(x), atol=1e-6, rtol=1e-6)


def _minimal_cell(base, matmul):
    """Keras' documented custom cell, written once for each library."""

    class MinimalRNNCell(base):
        def __init__(self, units, **kwargs):
            super().__init__(**kwargs)
            self.units = units
            self.state_size = units

        def build(self, input_shape):
            self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
            self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                    name="recurrent_kernel")

        def call(self, inputs, states):
            output = matmul(inputs, self.kernel) + matmul(states[0], self.recurrent_kernel)
            return output, [output]

    return MinimalRNNCell


@pytest.mark.parametrize("stacked", [False, True])
def test_custom_cell_parity(stacked):
    d_cls, k_cls = _minimal_cell(dn.layers.Layer, torch.matmul), _minimal_cell(keras.layers.Layer, keras.ops.matmul)
    d_cell = [d_cls(U), d_cls(2)] if stacked else d_cls(U)
    k_cell = [k_cls(U), k_cls(2)] if stacked else k_cls(U)
    d_in, k_in = dn.Input(shape=(T, F_)), keras.Input(shape=(T, F_))
    d_out = dn.layers.RNN(d_cell, return_sequences=True, return_state=True)(d_in)
    k_out = keras.layers.RNN(k_cell, return_sequences=True, return_state=True)(k_in)
    assert_parity(dn.Model(d_in, list(d_out)), keras.Model(k_in, list(k_out)), X_SEQ)


# --------------------------------------------------------------------------- ConvLSTM

CONV_LSTM = [
    ("ConvLSTM1D", {"filters": 3, "kernel_size": 3}, (4, 9, 2)),
    ("ConvLSTM1D", {"filters": 2, "kernel_size": 2, "padding": "same", "strides": 2, "return_sequences": True},
     (4, 9, 2)),
    ("ConvLSTM2D", {"filters": 3, "kernel_size": 3, "padding": "same", "return_sequences": True}, (4, 6, 7, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": (2, 3), "go_backwards": True, "return_state": True,
                    "unit_forget_bias": False}, (3, 6, 7, 2)),
    ("ConvLSTM2D", {"filters": 2, "kernel_size": 2, "dilation_rate": 2, "use_bias": False,
                    "recurrent_activation": "hard_sigmoid", **CF}, (3, 2, 6, 7)),
    ("ConvLSTM3D", {"filters": 2, "kernel_size": 2, "padding": "same", "return_sequences": True}, (3, 4, 5, 4, 2)),
]


@pytest.mark.parametrize("name, kwargs, shape", CONV_LSTM, ids=[f"{c[0]}-{i}" for i, c in enumerate(CONV_LSTM)])
def test_conv_lstm_parity(name, kwargs, shape):
    d_in, k_in = dn.Input(shape=shape), keras.Input(shape=shape)
    d_out = getattr(dn.layers, name)(**kwargs)(d_in)
    k_out = getattr(keras.layers, name)(**kwargs)(k_in)
    as_list = lambda o: list(o) if isinstance(o, (list, tuple)) else o  # noqa: E731
    x = RNG.standard_normal((2, *shape)).astype("float32")
    assert_parity(dn.Model(d_in, as_list(d_out)), keras.Model(k_in, as_list(k_out)), x, atol=2e-5)


@pytest.mark.parametrize("go_backwards", [False, True])
def test_conv_lstm_masked_parity(go_backwards):
    kwargs = {"filters": 2, "kernel_size": 3, "padding": "same", "return_sequences": True,
              "go_backwards": go_backwards}
    d_layer, k_layer = dn.layers.ConvLSTM1D(**kwargs), keras.layers.ConvLSTM1D(**kwargs)
    x = RNG.standard_normal((3, 6, 5, 2)).astype("float32")
    k_layer(x)
    d_layer(torch.as_tensor(x))
    d_layer.set_weights([np.asarray(w) for w in k_layer.get_weights()])
    k_out = k_layer(x, mask=MASK)
    with torch.no_grad():
        d_out = d_layer(torch.as_tensor(x), mask=torch.as_tensor(MASK))
    np.testing.assert_allclose(d_out.numpy(), np.asarray(k_out.detach().cpu()), atol=2e-5, rtol=1e-5)
