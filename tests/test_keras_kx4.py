"""Fixes found by running keras.io examples under deepnet (issue 14, tests/keras_examples, helper
KX4): ``Conv.convolution_op`` and Keras' kernel layout for user subclasses of the convolutions
(keras_recipes/subclassing_conv_layers)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")


def _standardized_classes(lib):
    """The two StandardizedConv2D subclasses of the keras.io recipe, for ``lib`` (deepnet or keras)."""
    ops = lib.ops

    class WithOverride(lib.layers.Conv2D):
        def convolution_op(self, inputs, kernel):
            mean, var = ops.moments(kernel, axes=[0, 1, 2], keepdims=True)
            return ops.conv(inputs, (kernel - mean) / ops.sqrt(var + 1e-10), padding="valid",
                            strides=list(self.strides))

    class WithCall(lib.layers.Conv2D):
        def call(self, inputs):
            mean, var = ops.moments(self.kernel, axes=[0, 1, 2], keepdims=True)
            result = self.convolution_op(inputs, (self.kernel - mean) / ops.sqrt(var + 1e-10))
            if self.use_bias:
                result = result + self.bias
            return result

    return WithOverride, WithCall


def _with_keras_weights(ours, theirs, x):
    theirs(x)
    ours(torch.as_tensor(x))
    ours.set_weights([np.asarray(w) for w in theirs.get_weights()])
    return ours


@pytest.mark.parametrize("which", [0, 1])
def test_conv_subclass_sees_keras_kernel_layout(which):
    x = np.random.default_rng(0).normal(size=(2, 9, 9, 3)).astype("float32")
    ours_cls, theirs_cls = _standardized_classes(dn)[which], _standardized_classes(keras)[which]
    theirs = theirs_cls(4, kernel_size=3, strides=2, activation="relu")
    ours = _with_keras_weights(ours_cls(4, kernel_size=3, strides=2, activation="relu"), theirs, x)
    assert tuple(ours.kernel.shape) == (3, 3, 3, 4)  # Keras' layout where the user's code reads it
    expected = np.asarray(theirs(x).detach().cpu())
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_builtin_conv_keeps_its_fast_layout():
    layer = dn.layers.Conv2D(4, 3)
    layer.build((None, 8, 8, 2))
    assert tuple(layer.kernel.shape) == (4, 2, 3, 3) and not layer._keras_kernel


@pytest.mark.parametrize("padding", ["causal", "same"])
def test_convolution_op_matches_keras_conv1d(padding):
    x = np.random.default_rng(1).normal(size=(2, 7, 3)).astype("float32")
    kernel = np.random.default_rng(2).normal(size=(3, 3, 5)).astype("float32")
    theirs = keras.layers.Conv1D(5, 3, padding=padding, dilation_rate=2)
    theirs.build((None, 7, 3))
    ours = dn.layers.Conv1D(5, 3, padding=padding, dilation_rate=2)
    ours.build((None, 7, 3))
    expected = np.asarray(theirs.convolution_op(x, kernel).detach().cpu())
    got = ours.convolution_op(torch.as_tensor(x), torch.as_tensor(kernel)).numpy()
    np.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_conv_subclass_fits_saves_and_loads(tmp_path):
    _, with_call = _standardized_classes(dn)
    dn.saving.register_keras_serializable("kx4")(with_call)
    model = dn.Sequential([dn.layers.Input((10, 10, 1)), with_call(3, 3), dn.layers.Flatten(),
                           dn.layers.Dense(2)])
    model.compile(optimizer="adam", loss="mse")
    x, y = np.random.rand(8, 10, 10, 1).astype("float32"), np.random.rand(8, 2).astype("float32")
    model.fit(x, y, epochs=1, verbose=0)
    assert model.count_params() == 3 * 3 * 1 * 3 + 3 + 8 * 8 * 3 * 2 + 2
    path = str(tmp_path / "m.keras")
    model.save(path)
    again = dn.models.load_model(path)
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0), rtol=1e-5, atol=1e-6)


def test_conv1d_subclass_call_matches_keras_causal():
    class Ours(dn.layers.Conv1D):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    class Theirs(keras.layers.Conv1D):
        def call(self, inputs):
            return super().call(inputs) * 2.0

    x = np.random.default_rng(3).normal(size=(2, 7, 3)).astype("float32")
    theirs = Theirs(4, 3, padding="causal", dilation_rate=2, activation="tanh")
    ours = _with_keras_weights(Ours(4, 3, padding="causal", dilation_rate=2, activation="tanh"), theirs, x)
    expected = np.asarray(theirs(x).detach().cpu())
    np.testing.assert_allclose(ours(torch.as_tensor(x)).detach().numpy(), expected, rtol=1e-5, atol=1e-5)


def test_accuracy_of_boolean_one_hot_targets_matches_keras():
    y_true = np.eye(4, dtype=bool)[[0, 3, 1, 2, 2]]
    y_pred = np.random.default_rng(4).random((5, 4)).astype("float32")
    expected = np.asarray(keras.metrics.categorical_accuracy(y_true, y_pred))
    np.testing.assert_allclose(dn.metrics.categorical_accuracy(y_true, y_pred).numpy(), expected)
    # (Keras' top-k refuses booleans; ours reads them as their float one-hot)
    np.testing.assert_allclose(dn.metrics.top_k_categorical_accuracy(y_true, y_pred, k=2).numpy(),
                               dn.metrics.top_k_categorical_accuracy(y_true.astype("float32"), y_pred, k=2).numpy())


def test_fit_with_boolean_one_hot_targets_and_accuracy():
    # keras.io addition_rnn: np.bool one-hot x and y, loss categorical_crossentropy, "accuracy"
    x = np.eye(3, dtype=bool)[np.random.default_rng(5).integers(0, 3, (16, 4))]
    model = dn.Sequential([dn.layers.Input((4, 3)), dn.layers.LSTM(8, return_sequences=True),
                           dn.layers.Dense(3, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, x, batch_size=8, epochs=1, validation_data=(x, x), verbose=0)
    assert 0.0 <= history.history["accuracy"][0] <= 1.0 and "val_accuracy" in history.history
