"""Keras-parity regressions found by running keras.io examples under deepnet (issue 14, helper
KX5: knowledge_distillation, timeseries_anomaly_detection, vit_small)."""

from __future__ import annotations

import numpy as np
import pytest

import deepnet as dn
from deepnet.utils import set_random_seed


@pytest.fixture(autouse=True)
def _seed():
    set_random_seed(0)


def _distiller_class(framework, calls):
    """knowledge_distillation's pattern: ``compute_loss`` overridden with Keras 3's older
    signature (``allow_empty``, no ``training``), the teacher called inside it."""

    class Distiller(framework.Model):
        def __init__(self, student, teacher):
            super().__init__()
            self.student, self.teacher = student, teacher

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
            calls.append(allow_empty)
            teacher_pred = self.teacher(x, training=False)
            soft = framework.losses.KLDivergence()(framework.ops.softmax(teacher_pred / 3.0, axis=1),
                                                   framework.ops.softmax(y_pred / 3.0, axis=1))
            hard = framework.losses.SparseCategoricalCrossentropy(from_logits=True)(y, y_pred)
            return 0.1 * hard + 0.9 * soft * 9.0

        def call(self, x):
            return self.student(x)

    return Distiller


def _mlp(framework, units):
    return framework.Sequential([framework.Input((4,)), framework.layers.Dense(units, activation="relu"),
                                 framework.layers.Dense(3)])


def _fit_distiller(framework, calls):
    x = np.random.default_rng(0).random((32, 4)).astype("float32")
    y = (x.sum(axis=1) > 2).astype("int64")
    distiller = _distiller_class(framework, calls)(_mlp(framework, 5), _mlp(framework, 16))
    distiller.compile(optimizer=framework.optimizers.Adam(), metrics=["accuracy"])
    history = distiller.fit(x, y, epochs=2, batch_size=8, verbose=0)
    distiller.evaluate(x, y, verbose=0)
    return distiller, history


def test_compute_loss_override_without_training_argument_is_called():
    calls: list = []
    distiller, history = _fit_distiller(dn, calls)
    assert calls and all(flag is False for flag in calls)  # called without `training`
    assert len(calls) == 2 * 4 + 1  # 2 epochs of 4 batches, then one evaluation batch of 32
    assert len(history.history["loss"]) == 2
    assert distiller.count_params() == _mlp(dn, 5).count_params() + _mlp(dn, 16).count_params()


def test_compute_loss_override_matches_keras_call_count():
    keras = pytest.importorskip("keras")
    keras_calls: list = []
    _fit_distiller(keras, keras_calls)
    ours: list = []
    _fit_distiller(dn, ours)
    assert len(ours) == len(keras_calls)


def test_compute_loss_override_with_training_argument_receives_it():
    seen: list = []

    class WithTraining(dn.Model):
        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            seen.append(training)
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)

    inputs = dn.Input((2,))
    model = WithTraining(inputs, dn.layers.Dense(1)(inputs))
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((8, 2), "float32"), np.ones((8, 1), "float32")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    model.evaluate(x, y, verbose=0)
    assert seen == [True, False]
