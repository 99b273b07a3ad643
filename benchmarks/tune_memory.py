"""Resident memory across the trials of a search (issue 10: <= 50 MB growth from trial 5 to 50).

A tiny MLP on 512 random samples, ``--trials`` trials (default 50) of 1 epoch, no pruning; the
resident set size (``/proc/self/statm``, Linux) is read at the start of every trial. Prints the
RSS at trials 1, 5, 10, 25 and the last, and the growth from trial 5 to the last.

    python benchmarks/tune_memory.py             # 50 trials, about half a minute
    python benchmarks/tune_memory.py --trials 200
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import numpy as np

import deepnet as dn

RSS: list[float] = []


def rss_mb() -> float:
    with open("/proc/self/statm") as handle:
        return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def build(hp):
    RSS.append(rss_mb())
    model = dn.Sequential([dn.layers.Input((32,))])
    for i in range(hp.Int("layers", 1, 3)):
        model.add(dn.layers.Dense(hp.Int(f"units_{i}", 16, 256, log=True), activation="relu"))
        model.add(dn.layers.Dropout(hp.Float("dropout", 0.0, 0.5)))
    model.add(dn.layers.Dense(10, activation="softmax"))
    optimizer = dn.optimizers.get(hp.Choice("optimizer", ["adam", "adamw", "sgd"]))
    optimizer.learning_rate = hp.Float("learning_rate", 1e-4, 1e-1, log=True)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    return model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=50)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    x = rng.normal(size=(512, 32)).astype("float32")
    y = rng.integers(0, 10, size=512)
    start = time.perf_counter()
    with tempfile.TemporaryDirectory() as directory:
        tuner = dn.tune.Tuner(build, objective="val_accuracy", max_trials=args.trials, directory=directory,
                              seed=0, pruner="none", verbose=0)
        tuner.search(x, y, epochs=1, validation_split=0.2, batch_size=64)
    seconds = time.perf_counter() - start
    marks = sorted({1, 5, 10, 25, len(RSS)} & set(range(1, len(RSS) + 1)))
    print(f"{len(RSS)} trials in {seconds:.0f} s; resident memory at the start of trial:")
    for n in marks:
        print(f"  trial {n:>4}: {RSS[n - 1]:7.1f} MB")
    growth = RSS[-1] - RSS[min(4, len(RSS) - 1)]
    verdict = "OK" if growth <= 50 else "FAIL"
    print(f"growth from trial 5 to trial {len(RSS)}: {growth:+.1f} MB (target <= 50 MB: {verdict})")


if __name__ == "__main__":
    main()
