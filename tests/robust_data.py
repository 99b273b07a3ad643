"""Shared set-up of the deepnet.robust tests: sklearn digits scaled to [0, 1], small MLPs."""

from __future__ import annotations

import deepnet as dn


def digits(seed: int = 0):
    """``x_train, x_test, y_train, y_test`` of sklearn digits in [0, 1] (float32), 25% test."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    return train_test_split((x / 16.0).astype("float32"), y, test_size=0.25, random_state=seed, stratify=y)


def mlp(pre=None, units: int = 64, hidden: int = 1):
    """An MLP 64 -> ``hidden`` x ``units`` (ReLU) -> 10 logits, after an optional layer ``pre``."""
    return dn.Sequential([dn.Input((64,)), *([pre] if pre is not None else []),
                          *(dn.layers.Dense(units, activation="relu") for _ in range(hidden)), dn.layers.Dense(10)])


def compile_logits(model, adversarial=None, **kwargs):
    """``model`` compiled with Adam, cross-entropy on logits and accuracy, on the CPU."""
    model.compile(optimizer="adam", loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"], adversarial=adversarial, device="cpu", **kwargs)
    return model
