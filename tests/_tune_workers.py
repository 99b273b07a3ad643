"""Build functions and a search script for tests/test_tune_parallel.py (importable by spawned
workers: the build function of a parallel search must live at a module's top level).

``python tests/_tune_workers.py DIRECTORY MAX_TRIALS [STORAGE STUDY_NAME]`` runs one search process."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import numpy as np

import deepnet as dn

#: Set by a test: every process records its pid there and waits (at its first trial) until
#: WAIT_FOR processes have joined, so each worker surely runs trials.
SYNC_ENV = "DEEPNET_TEST_TUNE_SYNC"
WAIT_FOR = 2


def _join_and_wait() -> None:
    folder = os.environ.get(SYNC_ENV)
    if not folder:
        return
    Path(folder).mkdir(parents=True, exist_ok=True)
    mine = Path(folder) / str(os.getpid())
    if mine.exists():
        return
    mine.touch()
    deadline = time.monotonic() + 120
    while len(list(Path(folder).iterdir())) < WAIT_FOR and time.monotonic() < deadline:
        time.sleep(0.05)


def build(hp):
    _join_and_wait()
    model = dn.Sequential([dn.layers.Input((8,)),
                           dn.layers.Dense(hp.Int("units", 2, 64), activation=hp.Choice("act", ["relu", "tanh"])),
                           dn.layers.Dense(1)])
    model.compile(optimizer=dn.optimizers.Adam(hp.Float("lr", 1e-4, 1e-1, log=True)), loss="mse")
    time.sleep(0.1)  # a trial long enough for the workers to interleave
    return model


def data():
    x = np.random.default_rng(0).normal(size=(64, 8)).astype("float32")
    return x, x.sum(axis=1)


def tuner(directory, max_trials, storage=None, **kwargs):
    kwargs.setdefault("seed", 0)
    kwargs.setdefault("sampler", "random")
    kwargs.setdefault("pruner", "none")
    kwargs.setdefault("verbose", 0)
    return dn.tune.Tuner(build, objective="loss", max_trials=max_trials, directory=directory,
                         storage=storage, **kwargs)


if __name__ == "__main__":
    x, y = data()
    storage, study_name = (sys.argv[3], sys.argv[4]) if len(sys.argv) > 4 else (None, "deepnet")
    tuner(sys.argv[1], int(sys.argv[2]), storage, study_name=study_name).search(x, y, epochs=1)
