"""deepnet.distribution: data-parallel fit/evaluate on 2 CPU processes (gloo), spawned with
torch.distributed.run in a subprocess; the same cases in one process are the reference.

Two spawned runs in all (tests/_dist_worker.py): one carries every equality check and the
agreed failures, one kills a rank; the file takes well under a minute.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time

import numpy as np
import pytest
import torch

import _dist_worker as worker  # noqa: E402 - tests/ is on sys.path
import deepnet as dn

HERE = os.path.dirname(os.path.abspath(__file__))
TOL = 1e-5


def _torchrun(mode: str, out: str, timeout: float = 150) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "1", "PYTHONPATH": os.path.join(HERE, "..", "src")}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node", "2",
           os.path.join(HERE, "_dist_worker.py"), mode, out]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    out = str(tmp_path_factory.mktemp("dist"))
    two = os.path.join(out, "two")
    proc = _torchrun("main", two)
    lines = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode == 0, "\n".join(line for line in lines if "frame #" not in line)[-8000:]
    one = os.path.join(out, "one")
    os.makedirs(one)
    single = worker.run_cases(one, 1)
    ranks = [json.load(open(os.path.join(two, f"results_rank{r}.json"))) for r in (0, 1)]
    return {"one": one, "two": two, "single": single, "ranks": ranks}


def _weights(folder, name, world):
    with np.load(os.path.join(folder, f"{name}_w{world}.npz")) as f:
        return [f[k] for k in sorted(f.files, key=lambda k: int(k.split("_")[1]))]


def _max_diff(a, b) -> float:
    assert len(a) == len(b)
    return max(float(np.max(np.abs(x - y))) for x, y in zip(a, b))


def _assert_logs_close(a: dict, b: dict):
    assert sorted(a) == sorted(b)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=TOL, rtol=0, err_msg=key)





@pytest.mark.parametrize("case", ["fit", "dataset", "uninterrupted"])
def test_two_processes_equal_one(runs, case):
    """Same weights (SyncBN on) and the same logged loss/metrics as one process."""
    assert _max_diff(_weights(runs["one"], case, 1), _weights(runs["two"], case, 2)) <= TOL
    for key in ("history", "history2"):
        if key in runs["single"][case]:
            _assert_logs_close(runs["single"][case][key], runs["ranks"][0][case][key])
            _assert_logs_close(runs["ranks"][0][case][key], runs["ranks"][1][case][key])


def test_evaluate_reduced(runs):
    for r in (0, 1):
        _assert_logs_close(runs["single"]["fit"]["evaluate"], runs["ranks"][r]["fit"]["evaluate"])


def test_only_rank_zero_writes(runs):
    assert os.path.exists(os.path.join(runs["two"], "log_rank0.csv"))
    assert not os.path.exists(os.path.join(runs["two"], "log_rank1.csv"))


def test_early_stopping_same_epoch(runs):
    epochs = [runs["ranks"][r]["early_stop"]["epochs_run"] for r in (0, 1)]
    assert epochs == [runs["single"]["early_stop"]["epochs_run"]] * 2
    assert epochs[0] < 6


def test_backup_and_restore_resumes_exactly(runs):
    two = runs["two"]
    assert _max_diff(_weights(two, "backup", 2), _weights(two, "uninterrupted", 2)) <= TOL
    assert runs["ranks"][0]["backup"]["history"]["loss"] == pytest.approx(
        runs["ranks"][0]["uninterrupted"]["history"]["loss"], abs=TOL)


def test_gradient_accumulation(runs):
    """k micro-batches == one step on the k-times larger batch, in 1 and in 2 processes."""
    big = _weights(runs["one"], "big_batch", 1)
    assert _max_diff(_weights(runs["one"], "accumulate", 1), big) <= TOL
    assert _max_diff(_weights(runs["two"], "accumulate", 2), big) <= TOL


def test_disagreements_name_the_rank(runs):
    for r in (0, 1):
        found = runs["ranks"][r]["failures"]
        assert "structure of model" in found["model"] and "rank 1" in found["model"]
        assert "number of batches" in found["length"] and "rank 0 has 3, rank 1: 4" in found["length"]


def test_killed_rank_ends_the_job_quickly(tmp_path):
    start = time.perf_counter()
    proc = _torchrun("kill", str(tmp_path), timeout=120)
    elapsed = time.perf_counter() - start
    assert proc.returncode != 0
    assert elapsed < 60
    text = proc.stdout + proc.stderr
    assert "rank 1: exiting on purpose" in text
    assert "exitcode  : 3" in text or "exit code 3" in text or "exitcode: 3" in text, text[-3000:]


# ---------------------------------------------------------------------- one process, no launcher
def test_defaults_without_launcher(monkeypatch):
    for key in ("RANK", "WORLD_SIZE", "LOCAL_RANK"):
        monkeypatch.delenv(key, raising=False)
    assert dn.distribution.distribution() is None
    assert dn.distribution.process_count() == 1 and dn.distribution.is_main_process()
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "1")
    assert isinstance(dn.distribution.distribution(), dn.distribution.DataParallel)


@pytest.mark.parametrize("kwargs, match", [
    ({"sync_batchnorm": "yes"}, "sync_batchnorm"),
    ({"timeout": 0}, "timeout"),
    ({"devices": "cuda:0"}, "devices"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises((ValueError, TypeError), match=match):
        dn.distribution.DataParallel(**kwargs)


def test_set_distribution_rejects_other_objects():
    with pytest.raises(TypeError, match="DataParallel"):
        dn.distribution.set_distribution("ddp")


def test_devices_must_match_the_processes(monkeypatch):
    monkeypatch.setenv("RANK", "0")
    monkeypatch.setenv("WORLD_SIZE", "2")
    monkeypatch.setenv("LOCAL_WORLD_SIZE", "2")
    with pytest.raises(ValueError, match="names 3 devices but this machine runs 2"):
        dn.distribution.DataParallel(devices=["cpu", "cpu", "cpu"]).device_for(torch.device("cpu"))
