"""Regression tests for the second round of outside-in probes against Keras 3 (issue 14):
optimizer numerics (epsilon placement, global clipping, learning rate 0), lookups
(``losses.get``, ``metrics.get``, ``activations.get``) and Variable layouts."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import deepnet as dn

keras = pytest.importorskip("keras")

SHAPES = [(3, 4), (5,), (2, 3, 2)]


def _trajectories(name, kwargs, steps=20, seed=0):
    """Largest weight difference between Keras' and deepnet's optimizer after ``steps`` updates
    with the same random weights and gradients, relative to ``1 + |weight|`` (float32 rounding)."""
    rng = np.random.default_rng(seed)
    init = [rng.normal(size=s).astype("float32") for s in SHAPES]
    grads = [[rng.normal(size=s).astype("float32") for s in SHAPES] for _ in range(steps)]
    keras_vars = [keras.Variable(w) for w in init]
    keras_opt = getattr(keras.optimizers, name)(**kwargs)
    ours = [torch.nn.Parameter(torch.tensor(w)) for w in init]
    opt = getattr(dn.optimizers, name)(**kwargs)
    for g in grads:
        keras_opt.apply([torch.tensor(x) for x in g], keras_vars)
        opt.apply([torch.tensor(x) for x in g], ours)
    return max(float((np.abs(k.numpy() - p.detach().numpy()) / (1 + np.abs(k.numpy()))).max())
               for k, p in zip(keras_vars, ours))


OPTIMIZER_CASES = [
    ("Adam", {"learning_rate": 0.01}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.1, "amsgrad": True}),
    ("Adam", {"learning_rate": 0.01, "epsilon": 0.1, "weight_decay": 0.1}),
    ("AdamW", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("Nadam", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("Adamax", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("Lion", {"learning_rate": 0.01}),
    ("RMSprop", {"learning_rate": 0.01, "epsilon": 0.1}),
    ("RMSprop", {"learning_rate": 0.01, "epsilon": 0.1, "centered": True, "momentum": 0.5}),
    ("Adagrad", {"learning_rate": 0.1, "epsilon": 0.1}),
    ("Adagrad", {"learning_rate": 0.1, "initial_accumulator_value": 0.0}),
    ("Adadelta", {"learning_rate": 1.0, "epsilon": 0.1}),
    ("SGD", {"learning_rate": 0.1, "momentum": 0.9, "nesterov": True}),
    ("Adam", {"learning_rate": 0.01, "global_clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "global_clipnorm": 50.0}),
    ("SGD", {"learning_rate": 0.1, "clipnorm": 0.5}),
    ("SGD", {"learning_rate": 0.1, "clipvalue": 0.5}),
]


@pytest.mark.parametrize("name, kwargs", OPTIMIZER_CASES, ids=[f"{n}-{k}" for n, k in OPTIMIZER_CASES])
def test_optimizer_weights_equal_keras_over_20_steps(name, kwargs):
    assert _trajectories(name, kwargs) <= 1e-6


def test_global_clipnorm_is_keras_formula_without_epsilon():
    # Tiny gradients: torch's clip_grad_norm_ (max_norm / (norm + 1e-6)) would scale them visibly.
    w = torch.nn.Parameter(torch.zeros(2))
    opt = dn.optimizers.SGD(learning_rate=1.0, global_clipnorm=1e-6)
    opt.apply([torch.tensor([3e-6, 4e-6])], [w])
    torch.testing.assert_close(w.detach(), -torch.tensor([0.6e-6, 0.8e-6]), rtol=1e-6, atol=0)


def test_global_clipnorm_of_non_finite_gradients_gives_nan_like_keras():
    w = torch.nn.Parameter(torch.zeros(2))
    opt = dn.optimizers.SGD(learning_rate=1.0, global_clipnorm=1.0)
    opt.apply([torch.tensor([float("inf"), 1.0])], [w])
    assert torch.isnan(w).all()


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Adadelta", "Adamax",
                                  "Nadam", "Lion"])
def test_learning_rate_zero_is_accepted_and_leaves_weights_unchanged(name):
    opt = getattr(dn.optimizers, name)(learning_rate=0.0)
    assert opt.learning_rate == 0.0
    w = torch.nn.Parameter(torch.ones(3))
    opt.apply([torch.ones(3)], [w])
    assert torch.equal(w.detach(), torch.ones(3))
    getattr(keras.optimizers, name)(learning_rate=0.0)  # Keras accepts it too
