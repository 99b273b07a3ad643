"""Keras Variable semantics on deepnet weights and metric state (deepnet.utils.variables):
assign/assign_add/assign_sub, value, numpy() in Keras' layout, trainable, name/path, while the
weights stay torch Parameters / buffers for the engine; stateful Keras-style custom layers and
metrics."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

import deepnet as keras
from deepnet.utils.variables import StateVariable, TrainableVariable, Variable


def _dense():
    layer = keras.layers.Dense(3, name="d")
    layer(torch.zeros(1, 2))
    return layer


def test_dense_weights_are_variables_and_parameters():
    layer = _dense()
    kernel, bias = layer.weights
    assert isinstance(kernel, Variable) and isinstance(kernel, torch.nn.Parameter)
    assert (kernel.name, kernel.path, bias.path) == ("kernel", "d/kernel", "d/bias")
    assert kernel.trainable and kernel.value is kernel
    assert kernel.numpy().shape == (2, 3)  # Keras layout; stored as (3, 2)
    np.testing.assert_array_equal(kernel.numpy(), layer.get_weights()[0])
    assert type(kernel * 2) is torch.Tensor  # plain tensors out: no dispatch cost


def test_assign_family_in_keras_and_stored_layouts():
    layer = _dense()
    kernel = layer.kernel
    value = np.arange(6, dtype="float32").reshape(2, 3)
    assert kernel.assign(value) is kernel
    np.testing.assert_array_equal(kernel.numpy(), value)
    kernel.assign_add(np.ones((2, 3)))
    kernel.assign_sub(2.0)
    np.testing.assert_array_equal(kernel.numpy(), value - 1)
    kernel.assign(kernel * 0.5)  # a torch tensor from the variable itself: stored layout
    np.testing.assert_array_equal(kernel.numpy(), (value - 1) * 0.5)
    assert kernel.requires_grad and kernel.is_leaf


def test_non_trainable_weights_and_their_aliases_follow_the_module():
    class Counter(keras.layers.Layer):
        def build(self, input_shape):
            self.total = self.add_weight(shape=(), initializer="zeros", trainable=False, name="total")

        def call(self, x):
            self.total.assign_add(x.shape[0])
            return x

    layer = Counter()
    layer(torch.zeros(4, 2))
    layer(torch.zeros(3, 2))
    assert isinstance(layer.total, StateVariable) and float(layer.total.numpy()) == 7.0
    assert layer.non_trainable_weights[0] is layer.total and not layer.total.trainable
    layer.to(torch.float64)
    assert isinstance(layer.total, StateVariable) and layer.total is layer.non_trainable_weights[0]
    assert layer.total.dtype == torch.float64 and layer.total.path == "counter/total"
    with pytest.raises(ValueError, match="cannot become trainable"):
        layer.total.trainable = True


def test_trainable_flag_copy_and_state_dict():
    layer = _dense()
    layer.bias.trainable = False
    assert layer.trainable_weights == [layer.kernel]
    clone = copy.deepcopy(layer)
    assert isinstance(clone.kernel, TrainableVariable) and clone.kernel.path == "d/kernel"
    assert all(type(t) is torch.Tensor for t in layer.state_dict().values())


def test_batchnorm_moving_statistics_are_variables_that_assign():
    bn = keras.layers.BatchNormalization()
    bn(torch.zeros(2, 4))
    moving_mean = bn.non_trainable_weights[0]
    assert isinstance(moving_mean, StateVariable)
    moving_mean.assign(np.full(4, 2.0))
    np.testing.assert_array_equal(bn.get_weights()[2], np.full(4, 2.0))


class BinaryTruePositives(keras.metrics.Metric):
    """The keras.io stateful metric example, in Keras 3 style."""

    def __init__(self, name="binary_true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_true = torch.as_tensor(y_true).bool()
        y_pred = torch.as_tensor(y_pred) > 0.5
        values = (y_true & y_pred).float()
        if sample_weight is not None:
            values = values * torch.as_tensor(sample_weight, dtype=torch.float32)
        self.true_positives.assign(self.true_positives + values.sum())

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0)


def test_stateful_custom_metric_in_fit():
    metric = BinaryTruePositives()
    metric.update_state(np.array([1, 1, 0]), np.array([0.9, 0.2, 0.8]))
    assert float(metric.result()) == 1.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    y = (x.sum(axis=1, keepdims=True) > 2).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=[BinaryTruePositives()])
    history = model.fit(x, y, epochs=2, verbose=0)
    assert "binary_true_positives" in history.history


def test_metric_add_weight_and_initializer():
    metric = keras.metrics.Mean()
    v = metric.add_weight(shape=(2,), initializer="ones", name="w")
    assert isinstance(v, StateVariable) and v.numpy().tolist() == [1.0, 1.0]
    metric.reset_state()
    assert v.numpy().tolist() == [0.0, 0.0]


def test_fit_step_runs_builtin_weights_as_exact_parameters_and_restores_them():
    """fit's step turns deepnet's own layers' Variables into exact nn.Parameter objects (torch's
    fast paths) and back; a custom layer, callbacks and the user see Variables throughout."""
    seen = {"dense": set(), "custom": set(), "callback": set(), "steps": []}

    class Scale(keras.layers.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(input_shape[-1],), initializer="ones", name="w")

        def call(self, x):
            seen["custom"].add(type(self.w))
            return x * self.w.value

    class Probe(keras.callbacks.Callback):
        def on_train_batch_begin(self, batch, logs=None):
            seen["dense"].clear()

        def on_train_batch_end(self, batch, logs=None):
            seen["steps"].append(set(seen["dense"]))  # what the step's forward saw
            seen["callback"].add(type(dense.kernel))

    dense = keras.layers.Dense(3)
    dense.register_forward_pre_hook(lambda module, args: seen["dense"].add(type(module.kernel)))
    model = keras.Sequential([keras.layers.Input((4,)), Scale(), dense])
    model.compile(optimizer="adam", loss="mse")
    before = [w.clone() for w in model.trainable_weights]
    model.fit(np.ones((8, 4), "float32"), np.zeros((8, 3), "float32"), batch_size=4, epochs=1, verbose=0,
              callbacks=[Probe()])
    assert seen["steps"] == [{torch.nn.Parameter}] * 2
    assert seen["custom"] == {TrainableVariable}
    assert seen["callback"] == {TrainableVariable}
    assert all(type(w) is TrainableVariable for w in model.trainable_weights)
    assert dense.kernel.path.endswith("/kernel") and dense.kernel.numpy().shape == (4, 3)
    assert all(not torch.equal(a, b) for a, b in zip(before, model.trainable_weights))  # trained


def test_fit_step_restores_variables_when_the_step_raises():
    def bad_loss(y_true, y_pred):
        raise RuntimeError("boom")

    model = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss=bad_loss)
    with pytest.raises(RuntimeError, match="boom"):
        model.fit(np.ones((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert all(type(w) is TrainableVariable for w in model.trainable_weights)


def test_user_optimizer_subclass_keeps_variables_in_the_step():
    seen = set()

    class MySGD(keras.optimizers.SGD):
        def step(self):
            seen.update(type(p) for p in self._params)
            return super().step()

    model = keras.Sequential([keras.layers.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=MySGD(0.1), loss="mse")
    model.fit(np.ones((4, 2), "float32"), np.zeros((4, 1), "float32"), epochs=1, verbose=0)
    assert seen == {TrainableVariable}
