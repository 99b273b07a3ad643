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


# ------------------------------------------------------------------------------ losses.get
LOSS_NAMES = ["mse", "MSE", "mae", "mape", "msle", "kld", "bce", "mean_squared_error", "huber",
              "log_cosh", "poisson", "hinge", "squared_hinge", "categorical_hinge",
              "kl_divergence", "binary_crossentropy", "categorical_crossentropy",
              "sparse_categorical_crossentropy", "binary_focal_crossentropy",
              "categorical_focal_crossentropy", "cosine_similarity"]


@pytest.mark.parametrize("name", LOSS_NAMES)
def test_losses_get_of_a_function_name_is_the_function_like_keras(name):
    theirs, ours = keras.losses.get(name), dn.losses.get(name)
    assert callable(ours) and not isinstance(ours, dn.losses.Loss)
    assert ours.__name__ == theirs.__name__
    rng = np.random.default_rng(0)
    y_pred = rng.uniform(0.05, 0.95, (4, 3)).astype("float32")
    y_true = rng.integers(0, 3, (4,)) if name.startswith("sparse") else (
        rng.uniform(size=(4, 3)) > 0.5).astype("float32")
    per_sample = ours(torch.tensor(y_true), torch.tensor(y_pred))
    expected = keras.ops.convert_to_numpy(theirs(y_true, y_pred))
    assert per_sample.shape == (4,)
    np.testing.assert_allclose(per_sample.numpy(), expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("identifier", ["MeanSquaredError", "Huber",
                                        {"class_name": "Huber", "config": {"delta": 2.0}}])
def test_losses_get_of_a_class_name_or_config_is_an_instance_like_keras(identifier):
    assert type(dn.losses.get(identifier)).__name__ == type(keras.losses.get(identifier)).__name__


def test_losses_get_passes_callables_through_and_compile_still_takes_names():
    def my_loss(y_true, y_pred):
        return (y_true - y_pred).abs().mean(-1)

    assert dn.losses.get(my_loss) is my_loss and dn.losses.get(None) is None
    assert type(dn.losses.as_loss("mse")) is dn.losses.MeanSquaredError
    model = dn.Sequential([dn.layers.Input((3,)), dn.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((8, 3), "float32"), np.ones((8, 1), "float32"), epochs=1, verbose=0)
    assert np.isfinite(history.history["loss"][0])


# ------------------------------------------------------------------------------ metrics.get
@pytest.mark.parametrize("name", ["accuracy", "Accuracy", "mse", "mae", "binary_accuracy", "auc",
                                  "sparse_categorical_accuracy", "categorical_crossentropy"])
def test_metrics_get_gives_keras_classes(name):
    assert type(dn.metrics.get(name)).__name__ == type(keras.metrics.get(name)).__name__


def test_metrics_get_accuracy_is_keras_accuracy_and_compile_still_picks_by_loss():
    metric = dn.metrics.get("accuracy")
    metric.update_state(torch.tensor([1.0, 2.0, 3.0]), torch.tensor([1.0, 2.0, 0.0]))
    assert float(metric.result()) == pytest.approx(2 / 3)
    chosen = dn.metrics.get("accuracy", loss="sparse_categorical_crossentropy")
    assert type(chosen) is dn.metrics.SparseCategoricalAccuracy


# ------------------------------------------------------------------------------ activations
@pytest.mark.parametrize("name", sorted(dn.activations.names()))
def test_activations_take_numpy_arrays_like_keras(name):
    x = np.linspace(-2.0, 2.0, 6, dtype="float32").reshape(2, 3)
    ours = dn.activations.get(name)(x)
    theirs = keras.ops.convert_to_numpy(keras.activations.get(name)(x))
    assert isinstance(ours, torch.Tensor) and ours.dtype == torch.float32
    np.testing.assert_allclose(ours.numpy(), theirs, rtol=1e-5, atol=1e-6)


def test_activations_take_python_numbers_with_keras_dtypes():
    assert dn.activations.relu(3.0).dtype == torch.float32
    assert dn.activations.relu([-1.0, 2.0]).tolist() == [0.0, 2.0]
    assert dn.activations.relu(np.array([-1.0, 2.0])).dtype == torch.float64  # NumPy keeps its dtype


# ------------------------------------------------------------------------------ Variable layout
@pytest.mark.parametrize("layer, shape", [
    (lambda: dn.layers.Conv1D(4, 3), (2, 8, 5)),
    (lambda: dn.layers.DepthwiseConv2D(3), (2, 8, 8, 5)),
    (lambda: dn.layers.SeparableConv2D(4, 3), (2, 8, 8, 5)),
    (lambda: dn.layers.Conv2D(4, 3), (2, 8, 8, 5)),
])
def test_reshaped_kernels_numpy_and_assign_use_keras_layout_like_get_weights(layer, shape):
    layer = layer()
    layer(torch.zeros(shape))
    for w, array in zip(layer.weights, layer.get_weights()):
        np.testing.assert_array_equal(w.numpy(), array)
        np.testing.assert_array_equal(np.asarray(w), array)
        w.assign(array * 2)
    for w, array in zip(layer.weights, layer.get_weights()):
        np.testing.assert_array_equal(w.numpy(), array)
