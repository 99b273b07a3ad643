"""Fixes found by running keras.io examples under deepnet (issue 14, tests/keras_examples):
shape inference changes no state, add_loss of a layer called twice, layer names that are
torch/Model attributes, fitting models without trainable weights or call(), deepnet.config's
max_epochs / max_steps_per_epoch."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn


class _Stateful(dn.layers.Layer):
    """A layer whose call updates a metric, adds a loss, draws from a SeedGenerator and runs a
    BatchNormalization (the endpoint-layer pattern of keras.io plus moving statistics)."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.bn = dn.layers.BatchNormalization()
        self.tracker = dn.metrics.Mean()
        self.seed = dn.random.SeedGenerator(1)
        self.v = self.add_weight(shape=(), initializer="zeros", trainable=False)

    def call(self, x):
        self.add_loss(x.abs().sum() + 1.0)
        self.tracker.update_state(x)
        self.v.assign_add(1.0)
        y = self.bn(x)
        return y + 0.0 * dn.random.normal(dn.ops.shape(y), seed=self.seed)


def _state(layer):
    return [t.detach().clone() for t in layer.buffers()]


def test_symbolic_call_changes_no_state():
    layer = _Stateful()
    layer(torch.ones(4, 3))  # built for real: BN, metric, seed and variable moved once
    before = _state(layer)
    out = layer(dn.Input((3,)))  # shape inference on fake tensors
    assert out.shape == (None, 3)
    for a, b in zip(before, _state(layer)):
        torch.testing.assert_close(a, b)
    assert [float(t) for t in layer.losses] == [13.0]  # the real call's term, not a trace's


def test_lazy_sublayer_build_changes_no_state():
    layer = _Stateful()  # sublayers unbuilt: the symbolic call first builds them on zeros
    before = {"count": float(layer.tracker.count), "seed": layer.seed.state.tolist(), "v": float(layer.v)}
    layer(dn.Input((3,)))
    after = {"count": float(layer.tracker.count), "seed": layer.seed.state.tolist(), "v": float(layer.v)}
    assert after == before
    assert float(layer.bn.moving_mean.abs().sum()) == 0.0
    assert layer.losses == []


def test_endpoint_layer_metric_in_functional_model_fits():
    class Endpoint(dn.layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.acc = dn.metrics.BinaryAccuracy()

        def call(self, logits, targets=None):
            if targets is not None:
                self.add_loss(dn.ops.mean((dn.ops.sigmoid(logits) - targets) ** 2))
                self.acc.update_state(targets, dn.ops.sigmoid(logits))
            return dn.ops.sigmoid(logits)

    x_in, t_in = dn.Input((4,), name="inputs"), dn.Input((1,), name="targets")
    layer = Endpoint()
    model = dn.Model([x_in, t_in], layer(dn.layers.Dense(1)(x_in), t_in))
    assert float(layer.acc.count) == 0.0
    model.compile("adam")
    rng = np.random.default_rng(0)
    data = {"inputs": rng.random((16, 4)), "targets": rng.integers(0, 2, (16, 1)).astype("float32")}
    history = model.fit(data, epochs=2, batch_size=8, verbose=0)
    assert len(history.history["loss"]) == 2


def test_subclassed_model_with_dict_inputs_builds_on_first_batch():
    class DictModel(dn.Model):
        def __init__(self):
            super().__init__()
            self.dense = dn.layers.Dense(1)

        def call(self, inputs):
            out = self.dense(inputs["a"])
            self.add_loss(dn.ops.mean((out - inputs["b"]) ** 2))
            return out

    model = DictModel()
    model.compile("sgd")
    data = {"a": np.ones((8, 3), "float32"), "b": np.zeros((8, 1), "float32")}
    history = model.fit(data, epochs=1, batch_size=4, verbose=0)
    assert model.count_params() == 4 and np.isfinite(history.history["loss"][0])


@pytest.mark.parametrize("name", ["half", "float", "train", "eval", "cuda", "state_dict", "forward", "inputs"])
def test_layer_names_that_are_model_attributes(name, tmp_path):
    inp = dn.Input((3,), name="x")
    model = dn.Model(inp, dn.layers.Dense(2, name="out")(dn.layers.Dense(4, name=name)(inp)))
    assert model.get_layer(name).name == name
    assert [layer.name for layer in model.layers] == ["x", name, "out"]
    assert callable(model.eval) and callable(model.half)  # torch's methods stay intact
    model.eval()
    model.train()
    x = np.ones((2, 3), "float32")
    path = str(tmp_path / "m.deepnet")
    model.save(path)
    np.testing.assert_allclose(dn.load_model(path).predict(x, verbose=0), model.predict(x, verbose=0))


def test_automatic_name_of_a_user_class_called_half():
    class Half(dn.layers.Layer):
        def call(self, x):
            return x * 0.5

    inp = dn.Input((3,))
    model = dn.Sequential([inp, Half(), dn.layers.Dense(2)])
    assert model.layers[0].name.startswith("half")
    assert model.get_layer(model.layers[0].name) is model.layers[0]
    model.pop()
    model.pop()
    assert model.layers == [] and callable(model.half)
    functional = dn.Model(inp, Half()(inp))
    np.testing.assert_allclose(functional.predict(np.ones((1, 3)), verbose=0), 0.5)


def test_two_layers_with_one_name_still_refused():
    inp = dn.Input((3,))
    with pytest.raises(ValueError, match="unique"):
        dn.Model(inp, dn.layers.Dense(2, name="train")(dn.layers.Dense(2, name="train")(inp)))


class _SumLoss(dn.layers.Layer):
    def call(self, x):
        self.add_loss(dn.ops.sum(x))
        return x * 2


def test_add_loss_of_a_layer_called_twice_keeps_both_terms():
    class Twice(dn.Model):
        def __init__(self):
            super().__init__()
            self.p = _SumLoss()

        def call(self, x):
            return self.p(self.p(x))

    model = Twice()
    for _ in range(2):  # a new outermost call replaces the terms, never accumulates them
        model(torch.ones(1, 2))
        assert [float(t) for t in model.losses] == [2.0, 4.0]  # Keras 3.15: [2.0, 4.0]
    inp = dn.Input((2,))
    shared = _SumLoss()
    functional = dn.Model(inp, shared(shared(inp)))
    functional(torch.ones(1, 2))
    assert [float(t) for t in functional.losses] == [2.0, 4.0]
    shared(torch.ones(1, 2))  # called on its own: the outermost call again
    assert [float(t) for t in shared.losses] == [2.0]


def test_fit_of_a_model_without_trainable_weights_warns_and_reports_the_loss():
    class Penalty(dn.layers.Layer):
        def call(self, x):
            self.add_loss(1e-2 * dn.ops.sum(x))
            return x

    inp = dn.Input((3,))
    model = dn.Model(inp, Penalty()(inp))
    x, y = np.ones((2, 3), "float32"), np.zeros((2, 3), "float32")
    for loss in ("mse", None):
        model.compile(optimizer="adam", loss=loss)
        with pytest.warns(UserWarning, match="no trainable weights"):
            history = model.fit(x, y, epochs=2, verbose=0)
        expected = 1.06 if loss == "mse" else 0.06  # mse(1, 0) + 0.01 * 6, constant: nothing trains
        np.testing.assert_allclose(history.history["loss"], [expected] * 2, rtol=1e-5)
    assert model.evaluate(x, y, verbose=0) == pytest.approx(0.06)


def test_gan_without_call_fits_through_its_train_step():
    disc = dn.Sequential([dn.Input((4,)), dn.layers.Dense(1)])
    gen = dn.Sequential([dn.Input((2,)), dn.layers.Dense(4)])

    class GAN(dn.Model):  # keras.io custom_train_step_in_torch: no call(), two optimizers
        def __init__(self):
            super().__init__()
            self.d, self.g = disc, gen
            self.d_tracker = dn.metrics.Mean(name="d_loss")
            self.seed_generator = dn.random.SeedGenerator(1)
            self.built = True

        @property
        def metrics(self):
            return [self.d_tracker]

        def compile(self, d_optimizer, g_optimizer, loss_fn):
            super().compile()
            self.d_optimizer, self.g_optimizer, self.loss_fn = d_optimizer, g_optimizer, loss_fn

        def train_step(self, real):
            real = real[0] if isinstance(real, (tuple, list)) else real
            z = dn.random.normal((real.shape[0], 2), seed=self.seed_generator)
            labels = torch.concat([torch.ones((real.shape[0], 1)), torch.zeros((real.shape[0], 1))])
            self.zero_grad()
            d_loss = self.loss_fn(labels, self.d(torch.concat([self.g(z), real])))
            d_loss.backward()
            with torch.no_grad():
                self.d_optimizer.apply([v.value.grad for v in self.d.trainable_weights], self.d.trainable_weights)
            self.zero_grad()
            g_loss = self.loss_fn(torch.zeros((real.shape[0], 1)), self.d(self.g(z)))
            g_loss.backward()
            with torch.no_grad():
                self.g_optimizer.apply([v.value.grad for v in self.g.trainable_weights], self.g.trainable_weights)
            self.d_tracker.update_state(d_loss)
            return {"d_loss": self.d_tracker.result()}

    gan = GAN()
    gan.compile(dn.optimizers.Adam(1e-2), dn.optimizers.Adam(1e-2), dn.losses.BinaryCrossentropy(from_logits=True))
    g_before = gen.get_weights()[0].copy()
    data = torch.utils.data.TensorDataset(torch.randn(16, 4), torch.randn(16, 4))  # (x, y) pairs
    history = gan.fit(torch.utils.data.DataLoader(data, batch_size=8), epochs=2, verbose=0)
    assert list(history.history) == ["d_loss"] and len(history.history["d_loss"]) == 2
    assert not np.allclose(gen.get_weights()[0], g_before)
    history = gan.fit(np.random.default_rng(0).normal(size=(16, 4)).astype("float32"), np.zeros((16, 4)),
                      batch_size=8, verbose=0)
    assert np.isfinite(history.history["d_loss"][0])


def test_config_max_epochs_and_steps_cap_fit():
    model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(1)])
    model.compile("sgd", "mse")
    x, y = np.ones((40, 2), "float32"), np.zeros((40, 1), "float32")
    seen = []
    counter = dn.callbacks.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(batch))
    dn.config.set_max_epochs(2)
    dn.config.set_max_steps_per_epoch(3)
    try:
        with pytest.warns(UserWarning, match="Limiting epochs to 2"):
            history = model.fit(x, y, epochs=5, batch_size=4, callbacks=[counter], verbose=0)
    finally:
        dn.config.set_max_epochs(None)
        dn.config.set_max_steps_per_epoch(None)
    assert len(history.history["loss"]) == 2 and seen == [0, 1, 2, 0, 1, 2]
    seen.clear()
    assert len(model.fit(x, y, epochs=3, batch_size=4, callbacks=[counter], verbose=0).history["loss"]) == 3
    assert len(seen) == 30
