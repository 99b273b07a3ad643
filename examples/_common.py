"""Shared by the MNIST-1D examples: the data split and one training recipe.

MNIST-1D (Greydanus 2020) is generated offline by ``deepnet.datasets.load_mnist1d``:
4000 training and 1000 test signals of length 40, in 10 classes. Each example trains on
3600 of the training signals, validates on the other 400 and reports accuracy on the test set.
"""

import time

import numpy as np

import deepnet


def mnist1d_splits(seed=0, validation=0.1):
    """``(x_train, y_train), (x_val, y_val), (x_test, y_test)``; ``x`` is float32 ``(n, 40)``."""
    (x, y), (x_test, y_test) = deepnet.datasets.load_mnist1d()
    order = np.random.default_rng(seed).permutation(len(x))
    n_val = int(len(x) * validation)
    val, train = order[:n_val], order[n_val:]
    return (x[train], y[train]), (x[val], y[val]), (x_test, y_test)


def one_cycle(peak, total_steps, warmup=0.1):
    """Linear warmup from peak/25 to ``peak`` over the first 10% of steps, then cosine decay to 0."""
    warmup_steps = int(total_steps * warmup)
    return deepnet.optimizers.schedules.CosineDecay(
        peak / 25, total_steps - warmup_steps, warmup_target=peak, warmup_steps=warmup_steps)


def train_and_evaluate(name, model, epochs, batch_size, learning_rate, weight_decay=0.01,
                       label_smoothing=0.0):
    """Compile with AdamW and a one-cycle schedule, fit, then print and return the test accuracy."""
    (x_train, y_train), validation, (x_test, y_test) = mnist1d_splits()
    steps_per_epoch = -(-len(x_train) // batch_size)
    model.compile(
        optimizer=deepnet.optimizers.AdamW(one_cycle(learning_rate, epochs * steps_per_epoch),
                                           weight_decay=weight_decay),
        loss=deepnet.losses.SparseCategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing),
        metrics=["accuracy"],
    )
    start = time.perf_counter()
    model.fit(x_train, y_train, batch_size=batch_size, epochs=epochs, validation_data=validation, verbose=2)
    seconds = time.perf_counter() - start
    _, accuracy = model.evaluate(x_test, y_test, batch_size=512, verbose=0)
    print(f"{name}: test accuracy {accuracy:.4f} ({model.count_params():,} parameters, "
          f"{epochs} epochs, training {seconds:.1f} s)")
    return accuracy
