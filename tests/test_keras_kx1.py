"""Keras parity found by running keras.io's training and callbacks guides under deepnet (issue 14):
each test compares deepnet with Keras 3 (torch backend) on the same small program."""

from __future__ import annotations

import numpy as np
import pytest

import deepnet as dn

keras = pytest.importorskip("keras")

HOOKS = ["on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end", "on_test_begin",
         "on_test_end", "on_predict_begin", "on_predict_end", "on_train_batch_begin",
         "on_train_batch_end", "on_test_batch_begin", "on_test_batch_end",
         "on_predict_batch_begin", "on_predict_batch_end"]


def _recorder(base):
    """A callback class of ``base`` recording (hook, sorted log keys) — ``logs.keys()`` as the
    guide calls it, which fails on ``None``."""

    def make(hook):
        def method(self, *args, logs=None):
            logs = args[-1] if logs is None else logs
            self.seen.append((hook, sorted(logs.keys())))
        return method

    return type("Recorder", (base,), {"seen": None, **{h: make(h) for h in HOOKS}})


def _run(fw):
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(40, 6)).astype("float32"), rng.normal(size=(40, 1)).astype("float32")
    model = fw.Sequential([fw.layers.Input((6,)), fw.layers.Dense(1)])
    model.compile(optimizer="rmsprop", loss="mean_squared_error", metrics=["mean_absolute_error"])
    seen = []
    cls = _recorder(fw.callbacks.Callback)
    for call in (lambda cb: model.fit(x, y, batch_size=16, epochs=1, verbose=0, validation_split=0.5,
                                      callbacks=[cb]),
                 lambda cb: model.evaluate(x, y, batch_size=16, verbose=0, callbacks=[cb]),
                 lambda cb: model.predict(x, batch_size=16, verbose=0, callbacks=[cb])):
        cb = cls()
        cb.seen = seen
        call(cb)
    return seen


def test_callback_hooks_get_a_logs_dict_as_in_keras():
    # writing_your_own_callbacks: every hook calls logs.keys(); deepnet passed None to the *_begin
    # hooks (AttributeError), Keras passes a dict (empty before any result).
    ours = _run(dn)
    assert ours == _run(keras)
    assert ("on_train_begin", []) in ours and ("on_predict_batch_begin", []) in ours


class _EagerLike:
    """A leaf as tf.data yields it: converts through ``__array__`` only; its ``dtype`` is not a
    NumPy dtype (as tf.DType)."""

    def __init__(self, array):
        self._a = np.asarray(array)
        self.shape, self.dtype = self._a.shape, object()

    def __array__(self, dtype=None, copy=None):
        return self._a if dtype is None else self._a.astype(dtype)

    def __len__(self):
        return len(self._a)


class _DatasetLike:
    """What training_with_built_in_methods passes to fit/evaluate as a batched tf.data.Dataset:
    re-iterable each epoch, with a length, yielding tuples (or dicts) of eager tensors."""

    def __init__(self, *parts, batch=16):
        self.parts, self.batch = parts, batch

    def __len__(self):
        return -(-len(np.asarray(self.parts[0] if not isinstance(self.parts[0], dict)
                                 else next(iter(self.parts[0].values())))) // self.batch)

    def _cut(self, p, i):
        if isinstance(p, dict):
            return {k: self._cut(v, i) for k, v in p.items()}
        return _EagerLike(p[i * self.batch:(i + 1) * self.batch])

    def __iter__(self):
        return iter([tuple(self._cut(p, i) for p in self.parts) for i in range(len(self))])


def test_fit_evaluate_on_a_tf_data_like_dataset():
    # The guide's tf.data sections (needing TensorFlow itself) hand fit/evaluate a re-iterable
    # object yielding eager tensors; deepnet takes any such iterable through __array__.
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 8)).astype("float32"), rng.integers(0, 3, 64).astype("float32")
    sw = np.ones(64)
    model = dn.Sequential([dn.layers.Input((8,)), dn.layers.Dense(3, activation="softmax")])
    model.compile(optimizer="rmsprop", loss="sparse_categorical_crossentropy",
                  metrics=["sparse_categorical_accuracy"])
    history = model.fit(_DatasetLike(x, y), epochs=2, verbose=0, validation_data=_DatasetLike(x, y),
                        validation_steps=2)
    assert len(history.history["loss"]) == 2 and "val_loss" in history.history
    model.fit(_DatasetLike(x, y, sw), epochs=1, steps_per_epoch=2, verbose=0)
    loss, acc = model.evaluate(_DatasetLike(x, y), verbose=0)
    assert np.isfinite(loss) and 0.0 <= acc <= 1.0
    assert dict(zip(model.metrics_names, [loss, acc]))


def test_fit_on_a_tf_data_like_dataset_of_dicts():
    inputs = {"a": dn.Input((4,), name="a"), "b": dn.Input((2,), name="b")}
    x = dn.layers.concatenate([inputs["a"], inputs["b"]])
    model = dn.Model(inputs=inputs, outputs=[dn.layers.Dense(1, name="s")(x), dn.layers.Dense(2, name="c")(x)])
    model.compile(optimizer="rmsprop", loss={"s": "mse", "c": "categorical_crossentropy"})
    rng = np.random.default_rng(1)
    data = ({"a": rng.random((32, 4)), "b": rng.random((32, 2))}, {"s": rng.random((32, 1)), "c": rng.random((32, 2))})
    history = model.fit(_DatasetLike(*data), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


def _two_output(fw):
    inputs = fw.Input((4,))
    h = fw.layers.Dense(5, activation="relu")(inputs)
    return fw.Model(inputs, [fw.layers.Dense(1, name="score")(h), fw.layers.Dense(3, name="cls")(h)])


def test_multi_output_logs_hold_each_outputs_unweighted_loss_as_keras():
    # training_with_built_in_methods' multi-output section: Keras logs score_loss/cls_loss
    # (each output's loss without its weight) next to the total loss.
    rng = np.random.default_rng(0)
    x = rng.normal(size=(20, 4)).astype("float32")
    ys = [rng.normal(size=(20, 1)).astype("float32"), rng.random((20, 3)).astype("float32")]
    sw = rng.random(20).astype("float32")
    km, dm = _two_output(keras), _two_output(dn)
    dm.set_weights(km.get_weights())
    results = []
    for fw, model in ((keras, km), (dn, dm)):
        model.compile(optimizer="sgd", loss=[fw.losses.MeanSquaredError(), fw.losses.CategoricalCrossentropy()],
                      loss_weights=[2.0, 1.0], metrics=[["mae"], []])
        results.append(model.evaluate(x, ys, sample_weight=sw, batch_size=8, verbose=0, return_dict=True))
    assert set(results[0]) == set(results[1]) == {"loss", "score_loss", "cls_loss", "score_mae"}
    for key in results[0]:
        assert results[1][key] == pytest.approx(results[0][key], rel=1e-5)
    assert results[1]["loss"] == pytest.approx(2 * results[1]["score_loss"] + results[1]["cls_loss"], rel=1e-5)
    assert set(dm.fit(x, ys, epochs=1, verbose=0).history) == set(km.fit(x, ys, epochs=1, verbose=0).history)
    assert dm.metrics_names[:2] == ["loss", "score_loss"]


def test_one_compiled_loss_logs_no_per_output_loss_as_keras():
    rng = np.random.default_rng(0)
    x, ys = rng.normal(size=(8, 4)), [rng.normal(size=(8, 1)), rng.random((8, 3))]
    keys = []
    for fw in (keras, dn):
        model = _two_output(fw)
        model.compile(optimizer="sgd", loss=[None, "categorical_crossentropy"])
        keys.append(set(model.evaluate(x, ys, verbose=0, return_dict=True)))
    assert keys[0] == keys[1] == {"loss"}


def test_multi_output_evaluate_lists_the_output_losses_before_the_metrics_as_keras():
    """Keras 3's evaluate list: loss, every output's loss, then the metrics in compile order."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(8, 4)).astype("float32")
    ys = [rng.normal(size=(8, 2)).astype("float32"), rng.normal(size=(8, 3)).astype("float32")]
    orders = {}
    for lib in (keras, dn):
        inp = lib.Input((4,))
        model = lib.Model(inp, [lib.layers.Dense(2, name="a")(inp), lib.layers.Dense(3, name="b")(inp)])
        model.compile(optimizer="sgd", loss=["mae", "mse"], metrics=[["mse"], ["mae", "mape"]])
        values = model.evaluate(x, ys, verbose=0)
        named = model.evaluate(x, ys, verbose=0, return_dict=True)
        orders[lib.__name__] = [min(named, key=lambda k, v=v: abs(named[k] - v)) for v in values]
    assert orders["deepnet"] == orders["keras"] == ["loss", "a_loss", "b_loss", "a_mse", "b_mae", "b_mape"]
