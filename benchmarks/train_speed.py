"""deepnet ``fit`` against the reference hand-written PyTorch loop on workloads W1-W5.

Method (../shared/DESIGN.md): both run in this one process, interleaved (plain, deepnet,
plain, deepnet, ...), ``--repeats`` times each; the time of a run is the median of its steady
epochs (epochs 2..E); the reported ratio is median(deepnet) / median(plain). The plain loop
pre-makes tensors, draws a random permutation per epoch, slices batches by index and runs
``zero_grad(set_to_none=True)``, forward, cross-entropy, backward, ``Adam(lr=1e-3, eps=1e-8)``.
deepnet trains the same architecture with ``compile(optimizer=Adam(1e-3, epsilon=1e-8),
loss=SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])`` and ``fit``.

Usage: python benchmarks/train_speed.py [--workloads W1,W2] [--repeats 3] [--threads 2]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

import deepnet as dn
from deepnet import layers as L


def mnist1d():
    from mnist1d.data import get_dataset_args, make_dataset

    d = make_dataset(get_dataset_args())
    return (d["x"].astype("float32"), d["y"].astype("int64")), (d["x_test"].astype("float32"), d["y_test"].astype("int64"))


def synthetic_images(n=20000, n_test=2000, seed=0):
    rng = np.random.default_rng(seed)
    y = rng.integers(0, 10, n + n_test)
    x = rng.normal(0, 1, (n + n_test, 28, 28, 1)).astype("float32")
    # a learnable signal: class-dependent bright square
    for c in range(10):
        r, col = divmod(c, 5)
        x[y == c, 4 + 10 * r:10 + 10 * r, 2 + 5 * col:6 + 5 * col, 0] += 1.5
    return (x[:n], y[:n]), (x[n:], y[n:])


# ----------------------------------------------------------------------------- models


class _Last(nn.Module):
    def forward(self, out):
        return out[0][:, -1]


def plain_model(name):
    if name in ("W1", "W2"):
        return nn.Sequential(nn.Linear(40, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(), nn.Linear(256, 10))
    if name == "W3":
        return nn.Sequential(nn.Conv1d(1, 25, 5), nn.ReLU(), nn.Conv1d(25, 25, 3), nn.ReLU(), nn.Conv1d(25, 25, 3),
                             nn.ReLU(), nn.Flatten(), nn.Linear(25 * 32, 10))
    if name == "W4":
        return nn.Sequential(nn.GRU(1, 128, batch_first=True), _Last(), nn.Linear(128, 10))
    if name == "W5":
        return nn.Sequential(nn.Conv2d(1, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(32, 64, 3, padding=1),
                             nn.ReLU(), nn.MaxPool2d(2), nn.Flatten(), nn.Linear(64 * 7 * 7, 128), nn.ReLU(),
                             nn.Linear(128, 10))
    raise ValueError(name)


def deepnet_model(name):
    if name in ("W1", "W2"):
        return dn.Sequential([L.Input((40,)), L.Dense(256, activation="relu"), L.Dense(256, activation="relu"), L.Dense(10)])
    if name == "W3":
        return dn.Sequential([L.Input((40, 1)), L.Conv1D(25, 5, activation="relu"), L.Conv1D(25, 3, activation="relu"),
                              L.Conv1D(25, 3, activation="relu"), L.Flatten(), L.Dense(10)])
    if name == "W4":
        return dn.Sequential([L.Input((40, 1)), L.GRU(128), L.Dense(10)])
    if name == "W5":
        return dn.Sequential([L.Input((28, 28, 1)), L.Conv2D(32, 3, padding="same", activation="relu"), L.MaxPooling2D(2),
                              L.Conv2D(64, 3, padding="same", activation="relu"), L.MaxPooling2D(2), L.Flatten(),
                              L.Dense(128, activation="relu"), L.Dense(10)])
    raise ValueError(name)


SETTINGS = {"W1": (128, 30), "W2": (16, 5), "W3": (100, 30), "W4": (100, 10), "W5": (128, 2)}


def plain_layout(name, x):
    """The plain loop's natural PyTorch layout (channels-first)."""
    if name == "W3":
        return x.reshape(len(x), 1, 40)
    if name == "W4":
        return x.reshape(len(x), 40, 1)
    if name == "W5":
        return np.ascontiguousarray(x.transpose(0, 3, 1, 2))
    return x


def deepnet_layout(name, x):
    if name in ("W3", "W4"):
        return x.reshape(len(x), 40, 1)
    return x


# ----------------------------------------------------------------------------- runs


def run_plain(name, data, seed):
    (x, y), (xt, yt) = data
    batch, epochs = SETTINGS[name]
    torch.manual_seed(seed)
    model = plain_model(name)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-8)
    X = torch.from_numpy(plain_layout(name, x))
    Y = torch.from_numpy(y)
    n = len(X)
    times = []
    model.train()
    for _ in range(epochs):
        t0 = time.perf_counter()
        perm = torch.randperm(n)
        for i in range(0, n, batch):
            idx = perm[i:i + batch]
            xb, yb = X[idx], Y[idx]
            opt.zero_grad(set_to_none=True)
            loss = F.cross_entropy(model(xb), yb)
            loss.backward()
            opt.step()
        times.append(time.perf_counter() - t0)
    model.eval()
    with torch.no_grad():
        acc = (model(torch.from_numpy(plain_layout(name, xt))).argmax(-1) == torch.from_numpy(yt)).float().mean().item()
    return times, acc


class _EpochTimer(dn.callbacks.Callback):
    def on_train_begin(self, logs=None):
        self.times = []

    def on_epoch_begin(self, epoch, logs=None):
        self._t = time.perf_counter()

    def on_epoch_end(self, epoch, logs=None):
        self.times.append(time.perf_counter() - self._t)


def run_deepnet(name, data, seed):
    (x, y), (xt, yt) = data
    batch, epochs = SETTINGS[name]
    dn.utils.set_random_seed(seed)
    model = deepnet_model(name)
    model.compile(optimizer=dn.optimizers.Adam(learning_rate=1e-3, epsilon=1e-8),
                  loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"])
    timer = _EpochTimer()
    model.fit(deepnet_layout(name, x), y, batch_size=batch, epochs=epochs, verbose=0, callbacks=[timer])
    acc = model.evaluate(deepnet_layout(name, xt), yt, verbose=0, return_dict=True)["accuracy"]
    return timer.times, acc


def steady(times):
    return statistics.median(times[1:]) if len(times) > 1 else times[0]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default="W1,W2,W3,W4,W5")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    names = [w.strip() for w in args.workloads.split(",") if w.strip()]
    cache = {}
    rows = []
    for name in names:
        key = "images" if name == "W5" else "mnist1d"
        if key not in cache:
            cache[key] = synthetic_images() if key == "images" else mnist1d()
        data = cache[key]
        plain_t, dn_t, plain_acc, dn_acc = [], [], [], []
        for r in range(args.repeats):
            t, a = run_plain(name, data, seed=r)
            plain_t.append(steady(t))
            plain_acc.append(a)
            t, a = run_deepnet(name, data, seed=r)
            dn_t.append(steady(t))
            dn_acc.append(a)
        p, d = statistics.median(plain_t), statistics.median(dn_t)
        rows.append((name, p, d, d / p, statistics.mean(plain_acc), statistics.mean(dn_acc)))
        print(f"{name}: plain {p * 1000:.1f} ms/epoch, deepnet {d * 1000:.1f} ms/epoch, ratio {d / p:.3f}, "
              f"test acc plain {statistics.mean(plain_acc):.4f} deepnet {statistics.mean(dn_acc):.4f}", flush=True)
    print()
    print("| workload | plain loop (ms/epoch) | deepnet fit (ms/epoch) | ratio | test acc plain | test acc deepnet |")
    print("|---|---|---|---|---|---|")
    for name, p, d, ratio, pa, da in rows:
        print(f"| {name} | {p * 1000:.1f} | {d * 1000:.1f} | {ratio:.3f} | {pa:.4f} | {da:.4f} |")


if __name__ == "__main__":
    main()
