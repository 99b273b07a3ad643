"""Custom-training leftovers of issue 14: predict_step with callbacks and progress,
steps_per_execution in the custom loop, subclassed models built by evaluate/train_on_batch/
test_on_batch, Keras-style metrics (Mean, Sum, a Metric subclass with add_variable), summary
after fit."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import layers, ops

RNG = np.random.default_rng(0)
X = RNG.normal(size=(32, 4)).astype("float32")
Y = (X[:, :1] * 2).astype("float32")


class Sub(dn.Model):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.hidden = layers.Dense(8, activation="relu")
        self.out = layers.Dense(1)

    def call(self, x):
        return self.out(self.hidden(x))


class Recorder(dn.callbacks.Callback):
    def __init__(self):
        super().__init__()
        self.events = []

    def on_predict_begin(self, logs=None):
        self.events.append("predict_begin")

    def on_predict_batch_end(self, batch, logs=None):
        self.events.append(("predict_batch", batch, tuple(logs["outputs"].shape)))

    def on_predict_end(self, logs=None):
        self.events.append("predict_end")

    def on_train_batch_begin(self, batch, logs=None):
        self.events.append(("train_begin", batch))

    def on_train_batch_end(self, batch, logs=None):
        self.events.append(("train_end", batch))


class TimesTen(Sub):
    def predict_step(self, data):
        x = data[0] if isinstance(data, tuple) else data
        return self(x) * 10.0


def test_predict_step_runs_callbacks_and_progress(capsys):
    model = TimesTen()
    recorder = Recorder()
    out = model.predict(X, batch_size=8, verbose=1, callbacks=[recorder])
    np.testing.assert_allclose(out, model(torch.as_tensor(X)).detach().numpy() * 10.0, rtol=1e-5, atol=1e-6)
    assert recorder.events[0] == "predict_begin" and recorder.events[-1] == "predict_end"
    assert [e[1] for e in recorder.events[1:-1]] == [0, 1, 2, 3]
    assert "Predict" in capsys.readouterr().out
    model.predict(X, batch_size=8, verbose=0)
    assert "Predict" not in capsys.readouterr().out


class ManualStep(Sub):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.calls = 0
        self.loss_tracker = dn.metrics.Mean(name="loss")

    def train_step(self, data):
        x, y = data
        self.calls += 1
        self.zero_grad()
        loss = ops.mean((self(x) - y) ** 2)
        loss.backward()
        self.optimizer.apply([v.value.grad for v in self.trainable_weights], self.trainable_weights)
        self.loss_tracker.update_state(loss)
        return {"loss": self.loss_tracker.result()}

    @property
    def metrics(self):
        return [self.loss_tracker]


def test_steps_per_execution_groups_batch_hooks_in_custom_loop():
    model = ManualStep()
    model.compile(optimizer="adam", steps_per_execution=3)
    recorder = Recorder()
    model.fit(X, Y, batch_size=4, epochs=1, verbose=0, callbacks=[recorder])
    assert model.calls == 8  # every batch is trained
    assert [e for e in recorder.events if e[0] == "train_begin"] == [("train_begin", b) for b in (0, 3, 6)]
    assert [e for e in recorder.events if e[0] == "train_end"] == [("train_end", b) for b in (2, 5, 7)]


@pytest.mark.parametrize("call", ["evaluate", "train_on_batch", "test_on_batch", "predict"])
def test_unbuilt_subclassed_model_is_built_on_first_batch(call):
    model = Sub()
    model.compile(optimizer="adam", loss="mse")
    if call == "predict":
        assert model.predict(X, verbose=0).shape == (32, 1)
    elif call == "evaluate":
        assert np.isfinite(model.evaluate(X, Y, verbose=0))
    else:
        assert np.isfinite(getattr(model, call)(X, Y))
    assert model.built and model.count_params() == 4 * 8 + 8 + 8 + 1


class TruePositives(dn.metrics.Metric):  # the keras.io "custom metric" pattern
    def __init__(self, name="true_positives", **kwargs):
        super().__init__(name=name, **kwargs)
        self.true_positives = self.add_variable(shape=(), initializer="zeros", name="true_positives")

    def update_state(self, y_true, y_pred, sample_weight=None):
        y_pred = ops.reshape(ops.argmax(y_pred, axis=1), (-1, 1))
        values = ops.cast(ops.equal(ops.cast(y_true, "int32"), ops.cast(y_pred, "int32")), "float32")
        if sample_weight is not None:
            values = ops.multiply(values, ops.cast(sample_weight, "float32"))
        self.true_positives.assign_add(ops.sum(values))

    def result(self):
        return self.true_positives

    def reset_state(self):
        self.true_positives.assign(0.0)


def test_keras_style_metrics():
    mean, total = dn.metrics.Mean(), dn.metrics.Sum()
    mean.update_state([1.0, 3.0])
    total.update_state([1.0, 2.0])
    assert float(mean.result()) == 2.0 and float(total.result()) == 3.0
    metric = TruePositives()
    metric.update_state(np.array([[0], [1]]), np.array([[0.9, 0.1], [0.2, 0.8]]))
    assert float(metric.result()) == 2.0
    metric.reset_state()
    assert float(metric.result()) == 0.0
    model = dn.Sequential([dn.Input((4,)), layers.Dense(3)])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=[TruePositives()])
    history = model.fit(X, np.zeros((32, 1)), epochs=1, verbose=0)
    assert 0.0 <= history.history["true_positives"][0] <= 32.0


def test_summary_of_subclassed_model_after_fit(capsys):
    model = ManualStep()
    model.compile(optimizer="adam")
    model.fit(X, Y, batch_size=8, epochs=1, verbose=0)
    model.summary()
    text = capsys.readouterr().out
    assert "Total params: 49" in text and "Dense" in text


def test_variable_dtype_is_a_torch_dtype():
    v = dn.Variable(1.0)
    assert v.dtype == torch.float32 and dn.utils.standardize_dtype(v.dtype) == "float32"
