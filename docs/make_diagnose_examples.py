"""Regenerate the pictures of docs/diagnose.md (docs/images/diagnose_*.png).

    python docs/make_diagnose_examples.py            # all pictures, prints every report
    python docs/make_diagnose_examples.py curves     # only the learning-curve pictures

Every example is a small real training run (seconds on one CPU thread) built to show one
verdict; the printed reports are the ones quoted in the documentation.
"""

from __future__ import annotations

import os
import sys

import numpy as np
import torch

import deepnet as dn
from deepnet import diagnose, initializers
from deepnet.layers import Activation, BatchNormalization, Dense, Input

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = os.path.join(HERE, "images")
LOSS = "sparse_categorical_crossentropy"


def fresh(seed: int = 0) -> None:
    """Fresh layer names (dense, dense_1, ...) and a fixed seed for each example."""
    dn.utils.clear_session()
    dn.utils.set_random_seed(seed)


def save(result, name: str) -> None:
    path = os.path.join(OUT, f"diagnose_{name}.png")
    result.plot(path)
    print(f"\n===== {name} -> {os.path.relpath(path, os.path.dirname(HERE))}\n{result}")


# ----------------------------------------------------------------------------- data


def blobs(n, d, k, spread=1.0, flip=0.0, seed=0):
    rng = np.random.default_rng(seed)
    centers = rng.normal(size=(k, d))
    y = rng.integers(0, k, n)
    x = (centers[y] + spread * rng.normal(size=(n, d))).astype("float32")
    if flip:
        f = rng.random(n) < flip
        y[f] = rng.integers(0, k, f.sum())
    return x, y


def circles(n=600, seed=0):
    rng = np.random.default_rng(seed)
    radius = np.where(rng.random(n) < 0.5, 0.5, 1.0)
    angle = rng.uniform(0, 2 * np.pi, n)
    x = np.stack([radius * np.cos(angle), radius * np.sin(angle)], 1) + rng.normal(0, 0.05, (n, 2))
    return x.astype("float32"), (radius < 0.75).astype("float32")


def mlp(d, hidden, k, out="softmax"):
    return dn.Sequential([Input((d,)), *[Dense(h, activation="relu") for h in hidden], Dense(k, activation=out)])


# ----------------------------------------------------------------------------- learning curves


def curves() -> None:
    # overfitting: 60 noisy samples, a 2x128 MLP
    fresh()
    x, y = blobs(400, 20, 4, spread=1.5, flip=0.3)
    m = mlp(20, [128, 128], 4)
    m.compile(optimizer=dn.optimizers.Adam(3e-3), loss=LOSS, metrics=["accuracy"])
    h = m.fit(x[:60], y[:60], validation_data=(x[200:], y[200:]), epochs=20, batch_size=16, verbose=0)
    save(diagnose.learning_curves(h), "curves_overfitting")

    # underfitting: a linear model (one Dense) on two concentric rings
    fresh()
    x, y = circles()
    m = dn.Sequential([Input((2,)), Dense(1, activation="sigmoid")])
    m.compile(optimizer=dn.optimizers.Adam(1e-2), loss="binary_crossentropy", metrics=["accuracy"])
    h = m.fit(x[:400], y[:400], validation_data=(x[400:], y[400:]), epochs=15, batch_size=32, verbose=0)
    save(diagnose.learning_curves(h), "curves_underfitting")

    x, y = blobs(1500, 32, 10)
    # unstable: SGD with momentum 0.9 and learning rate 0.5
    fresh()
    m = mlp(32, [32], 10)
    m.compile(optimizer=dn.optimizers.SGD(0.5, momentum=0.9), loss=LOSS, metrics=["accuracy"])
    h = m.fit(x[:600], y[:600], validation_data=(x[1000:1300], y[1000:1300]), epochs=15, batch_size=32, verbose=0)
    save(diagnose.learning_curves(h), "curves_unstable")

    # not converged: Adam(3e-4) for 5 epochs
    fresh()
    m = mlp(32, [32], 10)
    m.compile(optimizer=dn.optimizers.Adam(3e-4), loss=LOSS, metrics=["accuracy"])
    h = m.fit(x[:600], y[:600], validation_data=(x[1000:1300], y[1000:1300]), epochs=5, batch_size=32, verbose=0)
    save(diagnose.learning_curves(h), "curves_not_converged")

    # good fit
    fresh()
    m = mlp(32, [32], 10)
    m.compile(optimizer=dn.optimizers.Adam(1e-2), loss=LOSS, metrics=["accuracy"])
    h = m.fit(x[:1000], y[:1000], validation_data=(x[1000:1500], y[1000:1500]), epochs=20, batch_size=64, verbose=0)
    save(diagnose.learning_curves(h), "curves_good_fit")


# ----------------------------------------------------------------------------- gradients


def deep_mlp(activation, init="glorot_uniform", batchnorm=False, depth=20, width=32, d=16, k=4):
    layers = [Input((d,))]
    for _ in range(depth):
        if batchnorm:
            layers += [Dense(width, kernel_initializer=init), BatchNormalization(), Activation(activation)]
        else:
            layers.append(Dense(width, activation=activation, kernel_initializer=init))
    layers.append(Dense(k, activation="softmax"))
    return dn.Sequential(layers)


def grads() -> None:
    x, y = blobs(512, 16, 4)
    for name, build in [
        ("gradients_vanishing", lambda: deep_mlp("sigmoid")),
        ("gradients_relu_he", lambda: deep_mlp("relu", "he_normal", width=64)),
        ("gradients_batchnorm", lambda: deep_mlp("sigmoid", batchnorm=True)),
    ]:
        fresh()
        model = build()
        model.compile(optimizer=dn.optimizers.Adam(1e-3), loss=LOSS)
        monitor = diagnose.GradientMonitor()
        model.fit(x, y, epochs=5, batch_size=64, verbose=0, callbacks=[monitor])
        save(monitor.result(), name)

    # exploding: a 10-layer linear net with N(0, 1) kernels (one batch, no training)
    rng = np.random.default_rng(0)
    xr = rng.normal(size=(128, 16)).astype("float32")
    yr = rng.normal(size=(128, 1)).astype("float32")
    big = initializers.RandomNormal(stddev=1.0)
    fresh()
    m = dn.Sequential([Input((16,)), *[Dense(32, kernel_initializer=big) for _ in range(10)], Dense(1)])
    save(diagnose.gradients(m, xr, yr, loss="mse"), "gradients_exploding")

    # dead ReLUs: a bias initializer of -10 switches the first layer off
    fresh()
    m = dn.Sequential([Input((16,)), Dense(64, activation="relu", bias_initializer=initializers.Constant(-10.0)),
                       Dense(64, activation="relu"), Dense(4, activation="softmax")])
    m.compile(optimizer=dn.optimizers.Adam(1e-3), loss=LOSS)
    monitor = diagnose.GradientMonitor()
    m.fit(x, y, epochs=4, batch_size=64, verbose=0, callbacks=[monitor])
    save(monitor.result(), "gradients_dead_relus")


# ----------------------------------------------------------------------------- data


def data_checks() -> None:
    rng = np.random.default_rng(0)
    n = 600
    x = np.c_[rng.normal(size=(n, 4)), rng.normal(50_000, 15_000, n), rng.normal(1990, 8, n), np.ones(n)]
    x[[12, 80, 81], 1] = np.nan
    y = np.r_[np.zeros(480, int), np.ones(90, int), np.full(30, 2)]
    x[101] = x[100]
    y[100], y[101] = 0, 2
    xv = np.r_[x[200:215], rng.normal(size=(85, 7))]
    save(diagnose.data(x, y, validation_data=(xv, np.zeros(100, int))), "data")

    # label errors planted into the digits data, found by a briefly trained MLP
    from sklearn.datasets import load_digits

    fresh()
    xd, yd = load_digits(return_X_y=True)
    xd = (xd / 16).astype("float32")
    planted = rng.choice(len(yd), 40, replace=False)
    noisy = yd.copy()
    noisy[planted] = (yd[planted] + rng.integers(1, 10, 40)) % 10
    m = mlp(64, [64], 10)
    m.compile(optimizer=dn.optimizers.Adam(1e-2), loss=LOSS)
    m.fit(xd, noisy, epochs=8, batch_size=64, verbose=0)
    r = diagnose.data(xd, noisy, model=m)
    found = [d["index"] for d in r.label_issues]
    print(f"\nplanted 40 label errors; flagged {len(found)}, of which {len(set(found) & set(planted.tolist()))} planted")
    print(r)
    label_grid(xd, r.label_issues[:12], os.path.join(OUT, "diagnose_label_errors.png"))


def label_grid(x, issues, path) -> None:
    from deepnet.diagnose._result import new_figure, save_figure

    fig, axes = new_figure(ncols=6, nrows=2, width=1.5, height=1.75)
    for ax, issue in zip(axes, issues):
        ax.imshow(x[issue["index"]].reshape(8, 8), cmap="gray_r")
        ax.set_title(f"#{issue['index']}: label {issue['given']}\nmodel: {issue['predicted']} "
                     f"({issue['p_predicted']:.0%})", fontsize=8)
        ax.axis("off")
    for ax in axes[len(issues):]:
        ax.axis("off")
    fig.suptitle("Suspected label errors (data(x, y, model=m).label_issues, most confident first)", fontsize=10)
    save_figure(fig, path)
    print(f"\n===== label grid -> {path}")


if __name__ == "__main__":
    torch.set_num_threads(1)
    os.makedirs(OUT, exist_ok=True)
    which = sys.argv[1:] or ["curves", "grads", "data"]
    for part in which:
        {"curves": curves, "grads": grads, "data": data_checks}[part]()
