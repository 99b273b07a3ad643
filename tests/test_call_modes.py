"""Training/inference semantics of direct calls (issue 14): Keras 3's, checked against Keras.

A layer or model called directly infers (`training=None`), also after `fit`; `training=True`
trains for that call and reaches every layer inside; `fit`/`train_on_batch` train and restore
each layer's mode; torch's `model.train()` / `model.eval()` still decide when set explicitly.
"""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

import deepnet as dn

os.environ.setdefault("KERAS_BACKEND", "torch")

L = dn.layers


def _data(n=32, d=4, k=2, seed=0):
    rng = np.random.default_rng(seed)
    return rng.random((n, d), dtype=np.float32), rng.random((n, k), dtype=np.float32)


def _dropout_bn_model():
    inputs = dn.Input((4,))
    x = L.Dense(8)(inputs)
    x = L.BatchNormalization()(x)
    x = L.Dropout(0.5)(x)
    return dn.Model(inputs, L.Dense(2)(x))


def _modes(model):
    return [m.training for m in model.modules()]


def test_direct_call_after_fit_equals_predict_and_keeps_moving_statistics():
    model = _dropout_bn_model()
    model.compile("adam", "mse")
    x, y = _data()
    modes = _modes(model)
    model.fit(x, y, epochs=1, batch_size=8, verbose=0)
    assert _modes(model) == modes  # fit restores each layer's mode
    bn = model.layers[2]
    mean, var = bn.moving_mean.clone(), bn.moving_variance.clone()
    direct = model(torch.from_numpy(x)).detach().numpy()
    np.testing.assert_allclose(direct, model.predict(x, verbose=0), rtol=1e-6, atol=1e-6)
    assert torch.equal(bn.moving_mean, mean) and torch.equal(bn.moving_variance, var)
    np.testing.assert_allclose(model(torch.from_numpy(x)).detach().numpy(), direct)  # deterministic


def test_training_true_trains_for_one_call_only():
    model = _dropout_bn_model()
    x = torch.from_numpy(_data()[0])
    bn = model.layers[2]
    mean = bn.moving_mean.clone()
    inferred = model(x)
    trained = model(x, training=True)
    assert not torch.allclose(trained, inferred)  # Dropout and batch statistics applied
    assert not torch.equal(bn.moving_mean, mean)  # training updates the moving statistics
    assert not any(_modes(model))  # the call's mode does not outlive it
    assert torch.allclose(model(x, training=False), model(x))


def test_train_on_batch_restores_the_mode():
    model = _dropout_bn_model()
    model.compile("sgd", "mse")
    x, y = _data()
    model.train_on_batch(x, y)
    assert not any(_modes(model))


class _Block(dn.Model):
    def __init__(self):
        super().__init__()
        self.dense = L.Dense(4)
        self.drop = L.Dropout(0.5)
        self.torch_drop = torch.nn.Dropout(0.5)  # a plain torch module follows the layer's mode

    def call(self, x, training=None):
        return self.torch_drop(self.drop(self.dense(x), training=training))


def _nested_models():
    inner_in = dn.Input((4,))
    inner = dn.Model(inner_in, L.Dropout(0.5)(L.Dense(4)(inner_in)))
    outer_in = dn.Input((4,))
    functional = dn.Model(outer_in, L.Dense(2)(inner(outer_in)))
    sequential = dn.Sequential([dn.Input((4,)), dn.Sequential([L.Dense(4), L.Dropout(0.5)]), L.Dense(2)])
    seq_in = dn.Input((3, 4))
    wrappers = dn.Model(seq_in, L.Bidirectional(L.LSTM(3, dropout=0.5, return_sequences=True))(
        L.TimeDistributed(L.Dropout(0.5))(seq_in)))
    torch_in = dn.Input((4,))
    wrapped = dn.Model(torch_in, L.TorchModuleWrapper(torch.nn.Dropout(0.5))(torch_in))
    return {"functional": (functional, (4,)), "sequential": (sequential, (4,)), "subclassed": (_Block(), (4,)),
            "wrappers": (wrappers, (3, 4)), "torch_module": (wrapped, (4,))}


@pytest.mark.parametrize("kind", ["functional", "sequential", "subclassed", "wrappers", "torch_module"])
def test_training_flag_reaches_nested_layers(kind):
    torch.manual_seed(0)
    model, shape = _nested_models()[kind]
    x = torch.ones(16, *shape)
    first = model(x)
    assert torch.equal(model(x), first)  # inference: deterministic
    assert torch.equal(model(x, training=False), first)
    assert not torch.equal(model(x, training=True), first)  # dropout inside, however deep
    assert torch.equal(model(x), first) and not any(_modes(model))


def test_torch_train_and_eval_keep_torch_contract():
    model = _dropout_bn_model()
    x = torch.from_numpy(_data()[0])
    inferred = model(x)
    model.train()
    assert not torch.allclose(model(x), inferred)  # torch: train() then model(x) trains
    model.eval()
    assert torch.equal(model(x), model(x))  # inference again (moving statistics moved meanwhile)
    layer = L.Dropout(0.5).train()
    assert not torch.equal(layer(torch.ones(50)), torch.ones(50))


def test_explicit_training_false_of_a_node_holds_during_fit():
    """Keras' fine-tuning pattern: `base(x, training=False)` keeps BatchNormalization in inference."""
    base_in = dn.Input((4,))
    base = dn.Model(base_in, L.BatchNormalization()(L.Dense(4)(base_in)))
    inputs = dn.Input((4,))
    model = dn.Model(inputs, L.Dense(2)(base(inputs, training=False)))
    model.compile("adam", "mse")
    bn = base.layers[-1]
    mean = bn.moving_mean.clone()
    model.fit(*_data(), epochs=1, batch_size=8, verbose=0)
    assert torch.equal(bn.moving_mean, mean)


def test_custom_train_step_runs_in_training_mode():
    seen = []

    class Custom(dn.Model):
        def train_step(self, data):
            seen.append(all(m.training for m in self.modules()))
            return super().train_step(data)

    inputs = dn.Input((4,))
    model = Custom(inputs, L.Dropout(0.5)(L.Dense(2)(inputs)))
    model.compile("sgd", "mse")
    model.fit(*_data(), epochs=1, batch_size=16, verbose=0)
    assert seen and all(seen) and not any(_modes(model))


# ------------------------------------------------------------------------ Keras 3.15 parity


def _keras_and_deepnet():
    keras = pytest.importorskip("keras")
    return [keras, dn]


def _same(a, ref) -> bool:
    a = a.detach().cpu().numpy() if hasattr(a, "detach") else np.asarray(a)
    return bool(np.array_equal(a, ref))


def _direct_call_behaviour(lib) -> list[bool]:
    """Which calls leave the input unchanged, for dropout and augmentation layers."""
    layers = lib.layers
    ones = np.ones((8, 5), np.float32)
    images = np.random.default_rng(1).random((8, 5, 5, 1), dtype=np.float32)
    drop = lib.Sequential([lib.Input((5,)), layers.Dropout(0.5)])
    flips = lib.Sequential([lib.Input((5, 5, 1)), layers.RandomFlip(seed=1)])
    inputs = lib.Input((5, 5, 1))
    graph = lib.Model(inputs, layers.RandomFlip(seed=1)(inputs))
    return [_same(layers.Dropout(0.5)(ones), ones), _same(drop(ones), ones), _same(drop(ones, training=True), ones),
            _same(layers.GaussianNoise(1.0)(ones), ones),
            _same(layers.RandomFlip(seed=1)(images), images),  # Keras' augmentation: call(training=True)
            _same(flips(images), images), _same(flips(images, training=False), images),
            _same(flips.predict(images, verbose=0), images), _same(graph(images), images)]


def test_direct_calls_behave_as_in_keras():
    keras, deepnet = _keras_and_deepnet()
    assert _direct_call_behaviour(deepnet) == _direct_call_behaviour(keras)
