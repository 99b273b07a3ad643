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
from deepnet.training.engine import Trainer

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





@pytest.mark.distributed
@pytest.mark.parametrize("case", ["fit", "dataset", "uninterrupted", "synchronized", "sharded"])
def test_two_processes_equal_one(runs, case):
    """Same weights (SyncBN on; BatchNormalization(synchronized=True); FSDP2 gathered into a
    .deepnet file by model.save) and the same logged loss/metrics as one process."""
    assert _max_diff(_weights(runs["one"], case, 1), _weights(runs["two"], case, 2)) <= TOL
    for key in ("history", "history2"):
        if key in runs["single"][case]:
            _assert_logs_close(runs["single"][case][key], runs["ranks"][0][case][key])
            _assert_logs_close(runs["ranks"][0][case][key], runs["ranks"][1][case][key])


@pytest.mark.distributed
def test_evaluate_reduced(runs):
    for r in (0, 1):
        _assert_logs_close(runs["single"]["fit"]["evaluate"], runs["ranks"][r]["fit"]["evaluate"])


@pytest.mark.distributed
def test_only_rank_zero_writes(runs):
    """CSVLogger, ModelCheckpoint, model.save and save_weights (called on every rank, each
    rank naming its own file): only rank 0's files exist, complete and loadable."""
    two = runs["two"]
    for name in ("log_rank{}.csv", "ckpt_rank{}.deepnet", "model_rank{}.deepnet", "weights_rank{}.safetensors"):
        assert os.path.exists(os.path.join(two, name.format(0))), name
        assert not os.path.exists(os.path.join(two, name.format(1))), name
    model = dn.saving.load_model(os.path.join(two, "model_rank0.deepnet"))
    assert _max_diff([w.detach().numpy() for w in model.weights], _weights(two, "fit", 2)) <= TOL
    dn.saving.load_model(os.path.join(two, "ckpt_rank0.deepnet"))


@pytest.mark.distributed
def test_predict_split_and_gathered(runs):
    """Each rank predicts a part; every rank returns all predictions in order, as one process."""
    single = np.array(runs["single"]["fit"]["predict"])
    assert single.shape == (21, 3)
    for r in (0, 1):
        np.testing.assert_allclose(np.array(runs["ranks"][r]["fit"]["predict"]), single, atol=TOL, rtol=0)


@pytest.mark.distributed
def test_early_stopping_same_epoch(runs):
    epochs = [runs["ranks"][r]["early_stop"]["epochs_run"] for r in (0, 1)]
    assert epochs == [runs["single"]["early_stop"]["epochs_run"]] * 2
    assert epochs[0] < 6


@pytest.mark.distributed
def test_backup_and_restore_resumes_exactly(runs):
    two = runs["two"]
    assert _max_diff(_weights(two, "backup", 2), _weights(two, "uninterrupted", 2)) <= TOL
    assert runs["ranks"][0]["backup"]["history"]["loss"] == pytest.approx(
        runs["ranks"][0]["uninterrupted"]["history"]["loss"], abs=TOL)


@pytest.mark.distributed
def test_gradient_accumulation(runs):
    """k micro-batches (the optimizer's gradient_accumulation_steps=k) == one step on the
    k-times larger batch, in 1 and in 2 processes."""
    big = _weights(runs["one"], "big_batch", 1)
    assert _max_diff(_weights(runs["one"], "accumulate", 1), big) <= TOL
    assert _max_diff(_weights(runs["two"], "accumulate", 2), big) <= TOL


@pytest.mark.distributed
def test_disagreements_name_the_rank(runs):
    for r in (0, 1):
        found = runs["ranks"][r]["failures"]
        assert "structure of model" in found["model"] and "rank 1" in found["model"]
        assert "number of batches" in found["length"] and "rank 0 has 3, rank 1: 4" in found["length"]


@pytest.mark.distributed
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


# ---------------------------------------------------------------------- gradient accumulation argument
def test_gradient_accumulation_argument_round_trips(tmp_path):
    opt = dn.optimizers.Adam(1e-3, gradient_accumulation_steps=3)
    assert opt.get_config()["gradient_accumulation_steps"] == 3
    model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    model.compile(optimizer=opt, loss="mse")
    model.fit(np.ones((6, 2), "float32"), np.ones((6, 1), "float32"), batch_size=2, verbose=0)
    assert model.optimizer.iterations == 1  # three batches, one update
    model.save(tmp_path / "m.deepnet")
    assert dn.saving.load_model(tmp_path / "m.deepnet").optimizer.gradient_accumulation_steps == 3


@pytest.mark.parametrize("value", [0, 2.5, "2", True])
def test_gradient_accumulation_argument_rejected(value):
    with pytest.raises((TypeError, ValueError), match="`gradient_accumulation_steps` of SGD"):
        dn.optimizers.SGD(gradient_accumulation_steps=value)


# ---------------------------------------------------------------------- host synchronisations per step
_SYNCS = ("item", "__float__", "__int__", "__bool__", "__index__", "tolist", "cpu", "numpy")


def _count_syncs(monkeypatch, n: int) -> dict:
    """The tensor-to-host reads of a 2-epoch fit on ``n`` samples (batches of 8)."""
    counts: dict = {}

    def counting(name, original):
        def read(self, *args, **kwargs):
            counts[name] = counts.get(name, 0) + 1
            return original(self, *args, **kwargs)
        return read

    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(n, 6)).astype("float32"), rng.integers(0, 2, n)
    model = dn.Sequential([dn.layers.Input((6,)), dn.layers.Dense(8, activation="relu"),
                           dn.layers.BatchNormalization(), dn.layers.Dense(2, activation="softmax")])
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"], device="cpu")
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)  # first-call checks and set-up
    with monkeypatch.context() as patch:
        for name in _SYNCS:
            patch.setattr(torch.Tensor, name, counting(name, getattr(torch.Tensor, name)))
        model.fit(x, y, batch_size=8, epochs=2, verbose=0)
    return counts


def test_host_syncs_do_not_grow_with_steps(monkeypatch):
    """The device path (CUDA, and every distributed run): the loss and metrics stay on the
    device between log points, so a fit reads the same few values whatever its step count
    (per epoch: the loss total and each metric's result)."""
    monkeypatch.setattr(Trainer, "_sync_each_step", lambda self: False)
    few, many = _count_syncs(monkeypatch, 40), _count_syncs(monkeypatch, 320)
    assert few == many and sum(few.values()) <= 8, (few, many)


def test_cpu_reads_one_loss_per_step(monkeypatch):
    """One CPU process reads each step's loss (a plain read: no device queue to wait for) so
    a NaN stops training before the bad update; nothing else per step."""
    few, many = _count_syncs(monkeypatch, 40), _count_syncs(monkeypatch, 320)
    assert many["item"] - few["item"] == 2 * (320 - 40) // 8
    assert {k: v for k, v in few.items() if k != "item"} == {k: v for k, v in many.items() if k != "item"}
