"""lr_find's suggestion against a grid of fixed learning rates (issue 10, "Done when").

The W1 MLP of the design notes (40 -> Dense 256 relu -> Dense 256 relu -> Dense 10) is trained
on MNIST-1D (4000 train / 1000 test) with the optimizer's default settings, batch 128, for a few
epochs, once with lr_find's suggestion and once with each learning rate in
{1e-4, 3e-4, 1e-3, 3e-3, 1e-2}; the suggestion must reach a test accuracy within 1 point of the
best fixed rate. Everything is seeded (weights and shuffling identical across runs).
"""

from __future__ import annotations

import pytest

pytest.importorskip("mnist1d")

import deepnet as dn  # noqa: E402

FIXED_LRS = (1e-4, 3e-4, 1e-3, 3e-3, 1e-2)
EPOCHS = 10


@pytest.fixture(scope="module")
def mnist1d():
    return dn.datasets.load_mnist1d()


def _w1(optimizer: str):
    dn.utils.set_random_seed(0)
    model = dn.Sequential([dn.layers.Input((40,)), dn.layers.Dense(256, activation="relu"),
                           dn.layers.Dense(256, activation="relu"), dn.layers.Dense(10)])
    model.compile(optimizer=optimizer, loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    return model


def _test_accuracy(optimizer: str, lr: float, data) -> float:
    (x, y), (x_test, y_test) = data
    model = _w1(optimizer)
    model.optimizer.learning_rate = lr
    dn.utils.set_random_seed(0)
    model.fit(x, y, batch_size=128, epochs=EPOCHS, verbose=0)
    return model.evaluate(x_test, y_test, verbose=0, return_dict=True)["accuracy"]


@pytest.mark.parametrize("optimizer", ["adam"])
def test_lr_find_suggestion_trains_w1_within_one_point_of_the_best_fixed_lr(optimizer, mnist1d):
    (x, y), _ = mnist1d
    result = dn.tune.lr_find(_w1(optimizer), x, y)
    assert result.suggestion is not None
    fixed = {lr: _test_accuracy(optimizer, lr, mnist1d) for lr in FIXED_LRS}
    suggested = _test_accuracy(optimizer, result.suggestion, mnist1d)
    best_lr = max(fixed, key=fixed.get)
    assert suggested >= fixed[best_lr] - 0.01, (
        f"lr_find suggested {result.suggestion:.3g}: test accuracy {suggested:.4f}; best fixed lr {best_lr:g}: "
        f"{fixed[best_lr]:.4f}; all fixed: {fixed}")
