"""Keras-3 behaviours found by running keras.io's masking and RNN guides under deepnet (issue 14, KX2).

Each test compares with Keras 3 (torch backend) where it can.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import ops

keras = pytest.importorskip("keras")


def _split_layer(framework):
    """A layer splitting time in two, with the mask split alike (compute_mask overridden only)."""

    class TemporalSplit(framework.layers.Layer):
        def call(self, inputs):
            return framework.ops.split(inputs, 2, axis=1)

        def compute_mask(self, inputs, mask=None):
            return None if mask is None else framework.ops.split(mask, 2, axis=1)

    return TemporalSplit()


def test_overridden_compute_mask_sees_the_input_mask_and_masks_pair_with_outputs():
    x = np.array([[1, 2, 0, 0], [3, 0, 0, 0]], dtype="float32")[..., None].repeat(3, axis=-1)
    ours = _split_layer(dn)(dn.layers.Masking()(torch.tensor(x)))
    theirs = _split_layer(keras)(keras.layers.Masking()(x))
    for a, b in zip(ours, theirs):
        np.testing.assert_array_equal(a._keras_mask.numpy(), b._keras_mask.cpu().numpy())


def test_symbolic_tensors_carry_the_mask_keras_shows():
    class PassMask(dn.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.supports_masking = True

        def call(self, inputs):
            return ops.relu(inputs)

    inputs = dn.Input(shape=(None,), dtype="int32")
    x = dn.layers.Embedding(50, 4, mask_zero=True)(inputs)
    assert dn.layers.Embedding(50, 4)(inputs)._keras_mask is None
    mask = PassMask()(x)._keras_mask
    assert (mask.shape, mask.dtype) == ((None, None), torch.bool)
    assert dn.layers.Dense(2)(x)._keras_mask.shape == (None, None)  # Dense passes masks on (Keras 3)
    assert dn.layers.Flatten()(x)._keras_mask is None
    k_inputs = keras.Input(shape=(None,), dtype="int32")
    k_mask = keras.layers.Embedding(50, 4, mask_zero=True)(k_inputs)._keras_mask
    assert tuple(k_mask.shape) == mask.shape


def test_symbolic_call_of_a_mask_consumer_gets_the_mask():
    class TemporalSoftmax(dn.layers.Layer):
        def call(self, inputs, mask=None):
            if mask is None:
                raise AssertionError("no mask")
            m = ops.expand_dims(ops.cast(mask, "float32"), -1)
            e = ops.exp(inputs) * m
            return e / ops.sum(e * m, axis=-1, keepdims=True)

    inputs = dn.Input(shape=(None,), dtype="int32")
    x = dn.layers.Dense(1)(dn.layers.Embedding(10, 8, mask_zero=True)(inputs))
    model = dn.Model(inputs, TemporalSoftmax()(x))
    out = model(np.array([[1, 2, 0], [3, 0, 0]]))
    assert out.shape == (2, 3, 1)
    assert float(out[0, 0, 0].detach()) == pytest.approx(1.0)
    assert torch.isnan(out[1, 2, 0])  # 0 / 0 at masked steps, as under Keras


@pytest.mark.parametrize("kind", ["SimpleRNN", "LSTM", "GRU"])
def test_stateful_rnn_layers_carry_states_as_keras(kind):
    rng = np.random.default_rng(0)
    parts = [rng.random((3, 4, 5)).astype("float32") for _ in range(3)]
    ours, theirs = getattr(dn.layers, kind)(6, stateful=True), getattr(keras.layers, kind)(6, stateful=True)
    ours(parts[0])
    theirs(parts[0])
    theirs.set_weights(ours.get_weights())
    ours.reset_states()
    theirs.reset_states()
    for p in parts:
        np.testing.assert_allclose(ours(p).detach().numpy(), theirs(p).cpu().detach().numpy(), atol=1e-5)
    assert len(ours.states) == len(theirs.states)
    ours.reset_states()
    theirs.reset_states()
    np.testing.assert_allclose(ours(parts[0]).detach().numpy(), theirs(parts[0]).cpu().detach().numpy(), atol=1e-5)
    # the states seed a new layer (keras.io "RNN state reuse"), and a wrong batch size is refused
    fresh = getattr(dn.layers, kind)(6)
    fresh(parts[1])
    assert fresh(parts[2], initial_state=ours.states).shape == (3, 6)
    with pytest.raises(ValueError, match="stateful with states for batches of 3; received a batch of 2"):
        ours(parts[0][:2])


def test_lstm_weights_move_into_rnn_of_lstmcell():
    """keras.io working_with_rnns: ``RNN(LSTMCell(n)).set_weights(LSTM(n).get_weights())`` gives the
    same model (Sequential with ``input_shape=`` on the first layer, as the guide writes it)."""
    def build(fused):
        first = (dn.layers.LSTM(8, input_shape=(None, 5)) if fused
                 else dn.layers.RNN(dn.layers.LSTMCell(8), input_shape=(None, 5)))
        return dn.models.Sequential([first, dn.layers.BatchNormalization(), dn.layers.Dense(3)])

    fused, generic = build(True), build(False)
    generic.set_weights(fused.get_weights())
    x = np.random.default_rng(1).random((4, 6, 5)).astype("float32")
    np.testing.assert_allclose(fused.predict_on_batch(x), generic.predict_on_batch(x), atol=1e-5)
