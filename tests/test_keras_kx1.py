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
