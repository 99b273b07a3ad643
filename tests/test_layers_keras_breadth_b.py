"""Harness rows (tests/harness.py) for the Keras-breadth layers of part B: 3-D convolutions,
pooling, padding, cropping, upsampling and spatial dropout, adaptive pooling, the generic RNN
with its cells, and ConvLSTM1D/2D/3D. ``CASES`` is also part of the table of
tests/test_layer_harness.py (its meta-test sees these layers covered)."""

from __future__ import annotations

import pytest
import torch

import deepnet.layers as L
from deepnet.utils import registry
from harness import LayerCase

CF = {"data_format": "channels_first"}


def case(cls, kwargs, input_shape, output_shape, trainable=None, non_trainable=0, **extra) -> LayerCase:
    return LayerCase(cls, kwargs, input_shape, output_shape, trainable, non_trainable, **extra)


# --------------------------------------------------------------------------- 3-D layers

VOL = (4, 5, 6, 2)  # depth, height, width, channels
VOL_CF = (2, 4, 5, 6)

THREE_D = [
    case(L.Conv3D, {"filters": 3, "kernel_size": 2}, VOL, (None, 3, 4, 5, 3), 2 * 2 * 2 * 2 * 3 + 3),
    case(L.Conv3D, {"filters": 4, "kernel_size": (1, 2, 3), "strides": 2, "padding": "same", "groups": 2,
                    "activation": "relu", "kernel_regularizer": "l2"}, VOL, (None, 2, 3, 3, 4), 1 * 2 * 3 * 1 * 4 + 4),
    case(L.Conv3D, {"filters": 3, "kernel_size": 2, "dilation_rate": 2, "use_bias": False, **CF}, VOL_CF,
         (None, 3, 2, 3, 4), 2 * 2 * 2 * 2 * 3),
    case(L.Conv3DTranspose, {"filters": 3, "kernel_size": 2, "strides": 2}, VOL, (None, 8, 10, 12, 3),
         2 * 2 * 2 * 3 * 2 + 3),
    case(L.Conv3DTranspose, {"filters": 2, "kernel_size": 3, "strides": (1, 2, 2), "padding": "same",
                             "output_padding": (0, 1, 1), **CF}, VOL_CF, (None, 2, 4, 10, 12), 27 * 2 * 2 + 2),
    case(L.MaxPooling3D, {}, VOL, (None, 2, 2, 3, 2), 0),
    case(L.MaxPooling3D, {"pool_size": 3, "strides": 2, "padding": "same", **CF}, VOL_CF, (None, 2, 2, 3, 3), 0),
    case(L.AveragePooling3D, {"pool_size": (2, 2, 3), "padding": "same"}, VOL, (None, 2, 3, 2, 2), 0),
    case(L.AveragePooling3D, {"pool_size": 2, "strides": 1, **CF}, VOL_CF, (None, 2, 3, 4, 5), 0),
    case(L.GlobalMaxPooling3D, {}, VOL, (None, 2), 0),
    case(L.GlobalMaxPooling3D, {"keepdims": True, **CF}, VOL_CF, (None, 2, 1, 1, 1), 0),
    case(L.GlobalAveragePooling3D, {}, VOL, (None, 2), 0),
    case(L.GlobalAveragePooling3D, {"keepdims": True}, VOL, (None, 1, 1, 1, 2), 0),
    case(L.ZeroPadding3D, {}, VOL, (None, 6, 7, 8, 2), 0),
    case(L.ZeroPadding3D, {"padding": ((0, 1), (2, 0), (1, 1)), **CF}, VOL_CF, (None, 2, 5, 7, 8), 0),
    case(L.Cropping3D, {}, VOL, (None, 2, 3, 4, 2), 0),
    case(L.Cropping3D, {"cropping": (0, 1, 2), **CF}, VOL_CF, (None, 2, 4, 3, 2), 0),
    case(L.UpSampling3D, {}, VOL, (None, 8, 10, 12, 2), 0),
    case(L.UpSampling3D, {"size": (1, 2, 3), **CF}, VOL_CF, (None, 2, 4, 10, 18), 0),
    case(L.SpatialDropout3D, {"rate": 0.5, "seed": 1}, VOL, (None, *VOL), 0),
    case(L.SpatialDropout3D, {"rate": 0.3, **CF}, VOL_CF, (None, *VOL_CF), 0),
]

# --------------------------------------------------------------------------- adaptive pooling

ADAPTIVE = [
    case(L.AdaptiveAveragePooling1D, {"output_size": 3}, (7, 2), (None, 3, 2), 0),
    case(L.AdaptiveMaxPooling1D, {"output_size": 2, **CF}, (2, 7), (None, 2, 2), 0),
    case(L.AdaptiveAveragePooling2D, {"output_size": (2, 3)}, (5, 7, 2), (None, 2, 3, 2), 0),
    case(L.AdaptiveMaxPooling2D, {"output_size": 2, **CF}, (2, 5, 7), (None, 2, 2, 2), 0),
    case(L.AdaptiveAveragePooling3D, {"output_size": 2}, VOL, (None, 2, 2, 2, 2), 0),
    case(L.AdaptiveMaxPooling3D, {"output_size": (1, 2, 3), **CF}, VOL_CF, (None, 2, 1, 2, 3), 0),
]

# --------------------------------------------------------------------------- RNN and cells

T, F_, U = 5, 3, 4
SEQ, LAST, STATE = (None, T, U), (None, U), (None, U)
P_RNN, P_LSTM, P_GRU = U * (F_ + U + 1), 4 * U * (F_ + U + 1), 3 * U * (F_ + U + 2)
CELL_DTYPE = {"float64": "the cell keeps its own dtype (set it on the cell, as in Keras)"}


@registry.register_serializable(package="BreadthB")
class MinimalRNNCell(L.Layer):
    """The custom cell of Keras' RNN documentation: ``state_size`` + ``call(inputs, states)``."""

    def __init__(self, units, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.state_size = units

    def build(self, input_shape):
        self.kernel = self.add_weight(shape=(input_shape[-1], self.units), initializer="uniform", name="kernel")
        self.recurrent_kernel = self.add_weight(shape=(self.units, self.units), initializer="uniform",
                                                name="recurrent_kernel")

    def call(self, inputs, states):
        output = inputs @ self.kernel + states[0] @ self.recurrent_kernel
        return output, [output]

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def _step(layer, xs, **kwargs):
    """A cell on one step: inputs, then its states; the harness checks the output."""
    return layer(xs[0], xs[1:], **kwargs)[0]


def rnn(cell, kwargs, output_shape, trainable, **extra) -> LayerCase:
    return case(L.RNN, {"cell": cell, **kwargs}, (T, F_), output_shape, trainable,
                skip={**CELL_DTYPE, **extra.pop("skip", {})}, **extra)


RNN_CASES = [
    rnn(L.SimpleRNNCell(U), {}, LAST, P_RNN),
    rnn(L.LSTMCell(U, dropout=0.2, recurrent_dropout=0.3, seed=1), {"return_sequences": True}, SEQ, P_LSTM),
    rnn(L.GRUCell(U, kernel_regularizer="l2"), {"return_state": True, "go_backwards": True}, [LAST, STATE], P_GRU),
    rnn(L.GRUCell(U, reset_after=False), {"return_sequences": True, "zero_output_for_mask": True}, SEQ,
        P_GRU - 3 * U),
    rnn([L.LSTMCell(U), L.SimpleRNNCell(2)], {"return_sequences": True}, (None, T, 2), P_LSTM + 2 * (U + 2 + 1)),
    rnn(L.StackedRNNCells([L.GRUCell(U), L.SimpleRNNCell(2)]), {"return_state": True},
        [(None, 2), STATE, (None, 2)], P_GRU + 2 * (U + 2 + 1)),
    rnn(MinimalRNNCell(U), {"return_sequences": True}, SEQ, U * (F_ + U)),
    case(L.SimpleRNNCell, {"units": U, "dropout": 0.3, "seed": 2}, [(F_,), (U,)], LAST, P_RNN, call=_step),
    case(L.LSTMCell, {"units": U, "recurrent_dropout": 0.3}, [(F_,), (U,), (U,)], LAST, P_LSTM, call=_step),
    case(L.GRUCell, {"units": U, "reset_after": False, "use_bias": False}, [(F_,), (U,)], LAST,
         3 * U * (F_ + U), call=_step),
    case(L.StackedRNNCells, {"cells": [L.GRUCell(U), L.SimpleRNNCell(2)]}, [(F_,), (U,), (2,)], (None, 2),
         P_GRU + 2 * (U + 2 + 1), call=lambda layer, xs, **kw: layer(xs[0], xs[1:], **kw)[0],
         skip=CELL_DTYPE),
    case(L.Bidirectional, {"layer": L.RNN(L.LSTMCell(U), return_sequences=True)}, (T, F_), (None, T, 2 * U),
         2 * P_LSTM, skip={"float64": "the wrapped layers keep their own dtype"}),
]

# --------------------------------------------------------------------------- ConvLSTM


def conv_lstm_params(rank, channels, filters, k):
    return 4 * filters * (k ** rank * (channels + filters) + 1)


CONV_LSTM = [
    case(L.ConvLSTM1D, {"filters": 3, "kernel_size": 3}, (T, 8, 2), (None, 6, 3), conv_lstm_params(1, 2, 3, 3)),
    case(L.ConvLSTM1D, {"filters": 2, "kernel_size": 3, "padding": "same", "return_sequences": True,
                        "dropout": 0.2, "recurrent_dropout": 0.2, "seed": 1, **CF}, (T, 2, 8), (None, T, 2, 8),
         conv_lstm_params(1, 2, 2, 3)),
    case(L.ConvLSTM2D, {"filters": 2, "kernel_size": 3, "padding": "same", "return_sequences": True,
                        "kernel_regularizer": "l2"}, (T, 5, 6, 2), (None, T, 5, 6, 2), conv_lstm_params(2, 2, 2, 3)),
    case(L.ConvLSTM2D, {"filters": 2, "kernel_size": 2, "strides": 2, "return_state": True, "go_backwards": True},
         (T, 5, 6, 3), [(None, 2, 3, 2)] * 3, conv_lstm_params(2, 3, 2, 2)),
    case(L.ConvLSTM3D, {"filters": 2, "kernel_size": 2, "use_bias": False}, (3, 4, 4, 4, 1), (None, 3, 3, 3, 2),
         conv_lstm_params(3, 1, 2, 2) - 8),
]

CASES = [*THREE_D, *ADAPTIVE, *RNN_CASES, *CONV_LSTM]


def _ids(cases):
    seen: dict[str, int] = {}
    out = []
    for c in cases:
        n = c.cls.__name__
        out.append(f"{n}-{seen.get(n, 0)}")
        seen[n] = seen.get(n, 0) + 1
    return out


@pytest.mark.parametrize("layer_case", CASES, ids=_ids(CASES))
def test_layer(layer_case):
    layer_case.run()


# --------------------------------------------------------------------------- behaviour


def test_spatial_dropout3d_drops_whole_channels():
    layer = L.SpatialDropout3D(0.5, seed=3)
    y = layer(torch.ones(4, 2, 3, 2, 8), training=True)
    per_channel = y.reshape(4, -1, 8)
    assert torch.all(per_channel == per_channel[:, :1])  # one value per sample and channel
    assert set(per_channel.unique().tolist()) <= {0.0, 2.0}
    assert torch.equal(layer(torch.ones(1, 2, 2, 2, 3), training=False), torch.ones(1, 2, 2, 2, 3))


def test_volume_layers_reject_wrong_ranks_and_sizes():
    with pytest.raises(ValueError, match=r"Conv3D .* expects input of rank 5 \(batch, depth, height, width, "
                                         r"channels\).*Reshape\(\(8, 8, 8, 1\)\)"):
        L.Conv3D(2, 3)(torch.ones(2, 8, 8, 8))
    with pytest.raises(ValueError, match=r"Cropping3D .* cannot crop 4 slices from the depth"):
        L.Cropping3D(2)(torch.ones(1, 4, 6, 6, 1))
    with pytest.raises(ValueError, match="`cropping`"):
        L.Cropping3D(((1, 2), (3, 4)))
    with pytest.raises(ValueError, match="`output_size`"):
        L.AdaptiveMaxPooling2D((2, 0))


def test_stateful_rnn_carries_states_between_batches():
    x = torch.randn(2, T, F_)
    layer = L.RNN(L.LSTMCell(U), stateful=True, return_state=True)
    plain = L.RNN(L.LSTMCell(U), return_state=True)
    layer(x)
    plain(x)
    plain.set_weights(layer.get_weights())
    layer.reset_states()
    first = layer(x)
    second = layer(x)  # starts from the final states of the first batch
    expected = plain(x, initial_state=list(plain(x)[1:]))
    for got, want in zip(second, expected):
        torch.testing.assert_close(got, want)
    layer.reset_states()
    torch.testing.assert_close(layer(x)[0], first[0])
    with pytest.raises(ValueError, match=r"stateful with states for batches of 2; received a batch of 3"):
        layer(torch.randn(3, T, F_))
    assert L.RNN.from_config(layer.get_config()).stateful


def test_rnn_stacked_states_are_nested_like_keras():
    layer = L.RNN([L.LSTMCell(U), L.GRUCell(2)], return_state=True)
    out, lstm_states, gru_state = layer(torch.randn(2, T, F_))
    assert out.shape == (2, 2) and [s.shape for s in lstm_states] == [(2, U), (2, U)] and gru_state.shape == (2, 2)
    assert layer.compute_output_shape((None, T, F_)) == ((None, 2), [(None, U), (None, U)], (None, 2))
    assert layer.state_size == [[U, U], 2]


def test_rnn_rejects_what_is_not_a_cell():
    with pytest.raises(TypeError, match=r"`cell` of RNN"):
        L.RNN(L.Dense(3))
    with pytest.raises(ValueError, match=r"initial_state.*1 state"):
        L.RNN(L.GRUCell(U))(torch.randn(2, T, F_), initial_state=[torch.zeros(2, U)] * 2)
    with pytest.raises(ValueError, match=r"LSTMCell .* expects input of rank 2 .*RNN\(cell\)"):
        L.LSTMCell(U)(torch.randn(2, T, F_), [torch.zeros(2, U)] * 2)


def test_cell_dropout_masks_are_drawn_once_per_sequence():
    cell = L.SimpleRNNCell(U, dropout=0.5, seed=3)
    layer = L.RNN(cell, return_sequences=True)
    layer.train()
    x = torch.ones(2, T, F_)
    layer(x)
    assert not cell._masks  # RNN resets the masks after each sequence
    h = torch.zeros(2, U)
    cell(x[:, 0], [h], training=True)
    mask = cell.get_dropout_mask(x[:, 0])
    cell(x[:, 1], [h], training=True)
    assert cell.get_dropout_mask(x[:, 0]) is mask
