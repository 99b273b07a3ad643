"""BackupAndRestore: a run killed with SIGKILL mid-epoch and restarted with the same code ends
with bitwise the same weights (and History) as an uninterrupted run."""

import json
import os
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from deepnet.training.backup import BackupAndRestore

SCRIPT = textwrap.dedent('''
    import json, os, random, signal, sys
    import numpy as np
    import torch
    torch.set_num_threads(1)
    import deepnet as dn
    from deepnet import layers as L
    from deepnet.callbacks import Callback, EarlyStopping, ReduceLROnPlateau
    from deepnet.training.backup import BackupAndRestore

    backup_dir, out, kill_marker = sys.argv[1], sys.argv[2], sys.argv[3]
    KILL_EPOCH, KILL_BATCH = 3, 2

    class Jitter(Callback):
        """Uses NumPy's and Python's global generators, so their restore matters."""
        def __init__(self):
            super().__init__()
            self.calls = 0
        def on_epoch_begin(self, epoch, logs=None):
            self.calls += 1
            w = self.model.weights[0]
            noise = np.random.normal(scale=1e-3, size=tuple(w.shape)).astype("float32") * random.random()
            with torch.no_grad():
                w.add_(torch.from_numpy(noise))
        def get_state(self):
            return {"calls": self.calls}
        def set_state(self, state):
            self.calls = state["calls"]

    class Killer(Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.epoch = epoch
        def on_train_batch_end(self, batch, logs=None):
            if kill_marker != "-" and self.epoch == KILL_EPOCH and batch == KILL_BATCH and not os.path.exists(kill_marker):
                open(kill_marker, "w").close()
                os.kill(os.getpid(), signal.SIGKILL)

    dn.utils.set_random_seed(1)
    data = np.random.default_rng(0)
    x = data.normal(size=(96, 8)).astype("float32")
    y = (x[:, :3].argmax(1) + (data.random(96) < 0.2)) % 3
    xv = data.normal(size=(32, 8)).astype("float32")
    yv = xv[:, :3].argmax(1)
    model = dn.Sequential([dn.Input(shape=(8,)), L.Dense(16, activation="relu"), L.Dropout(0.3),
                           L.GaussianNoise(0.05), L.Dense(3)])
    schedule = dn.optimizers.schedules.ExponentialDecay(0.02, decay_steps=4, decay_rate=0.9)
    model.compile(optimizer=dn.optimizers.Adam(schedule), metrics=["accuracy"],
                  loss=dn.losses.SparseCategoricalCrossentropy(from_logits=True))
    callbacks = [Killer(), Jitter(), BackupAndRestore(backup_dir),
                 ReduceLROnPlateau(monitor="val_loss", patience=1, factor=0.5, min_delta=1.0),
                 EarlyStopping(monitor="val_loss", patience=20)]
    history = model.fit(x, y, batch_size=16, epochs=7, validation_data=(xv, yv), callbacks=callbacks, verbose=0)
    model.save_weights(out)
    with open(out + ".json", "w") as f:
        json.dump({"history": history.history, "epoch": history.epoch,
                   "iterations": model.optimizer.iterations, "jitter_calls": callbacks[1].calls}, f)
''')


def _start(script, *args):
    env = {**os.environ, "PYTHONHASHSEED": "0", "OMP_NUM_THREADS": "1"}
    return subprocess.Popen([sys.executable, str(script), *map(str, args)], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=env)


def _wait(proc):
    _, err = proc.communicate(timeout=300)
    return proc.returncode, err


def test_sigkill_mid_epoch_resumes_bitwise(tmp_path):
    from safetensors.numpy import load_file

    script = tmp_path / "train.py"
    script.write_text(SCRIPT)
    # the uninterrupted reference run and the run that kills itself go side by side
    ref = _start(script, tmp_path / "backup_ref", tmp_path / "ref.safetensors", "-")
    killed = _start(script, tmp_path / "backup", tmp_path / "out.safetensors", tmp_path / "killed")
    code, err = _wait(killed)
    assert code == -signal.SIGKILL, err[-3000:]
    assert (tmp_path / "killed").exists() and (tmp_path / "backup").is_dir()
    assert not (tmp_path / "out.safetensors").exists()
    resumed = _start(script, tmp_path / "backup", tmp_path / "out.safetensors", tmp_path / "killed")
    code, err = _wait(resumed)
    assert code == 0, err[-3000:]
    code, err = _wait(ref)
    assert code == 0, err[-3000:]
    a, b = load_file(tmp_path / "ref.safetensors"), load_file(tmp_path / "out.safetensors")
    assert list(a) == list(b)
    for key in a:
        assert a[key].tobytes() == b[key].tobytes(), key
    ra = json.loads((tmp_path / "ref.safetensors.json").read_text())
    rb = json.loads((tmp_path / "out.safetensors.json").read_text())
    assert ra == rb
    assert len(ra["epoch"]) == 7
    assert not (tmp_path / "backup").exists()  # delete_checkpoint=True cleans up after a normal end


def test_backup_arguments_are_validated(tmp_path):
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(tmp_path, save_freq=0)
    with pytest.raises(ValueError, match="save_freq"):
        BackupAndRestore(tmp_path, save_freq="batch")
    with pytest.raises(ValueError, match="backup_dir"):
        BackupAndRestore("")
    with pytest.raises(TypeError, match="delete_checkpoint"):
        BackupAndRestore(tmp_path, delete_checkpoint="yes")


def _small_model():
    import deepnet as dn
    from deepnet import layers as L

    model = dn.Sequential([dn.Input(shape=(4,)), L.Dense(3)])
    model.compile(optimizer="adam", loss="mse")
    return model


def test_backup_files_written_atomically_and_kept(tmp_path):
    model = _small_model()
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 3), "float32")
    backup = tmp_path / "b"
    model.fit(x, y, epochs=2, batch_size=4, verbose=0,
              callbacks=[BackupAndRestore(backup, delete_checkpoint=False)])
    assert sorted(os.listdir(backup)) == ["latest.deepnet-backup"]  # no temp files left behind


def test_corrupt_backup_is_a_clear_error(tmp_path):
    from deepnet.saving import ModelFileError

    backup = tmp_path / "b"
    backup.mkdir()
    (backup / "latest.deepnet-backup").write_bytes(b"PK\x03\x04 truncated")
    model = _small_model()
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 3), "float32")
    with pytest.raises(ModelFileError, match="latest.deepnet-backup"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[BackupAndRestore(backup)])


def test_double_checkpoint_falls_back_to_previous(tmp_path):
    model = _small_model()
    x, y = np.ones((8, 4), "float32"), np.zeros((8, 3), "float32")
    backup = tmp_path / "b"
    cb = BackupAndRestore(backup, double_checkpoint=True, delete_checkpoint=False)
    model.fit(x, y, epochs=3, batch_size=4, verbose=0, callbacks=[cb])
    assert sorted(os.listdir(backup)) == ["latest.deepnet-backup", "previous.deepnet-backup"]
    (backup / "latest.deepnet-backup").write_bytes(b"garbage")
    model2 = _small_model()
    with pytest.warns(RuntimeWarning, match="previous backup"):
        model2.fit(x, y, epochs=3, batch_size=4, verbose=0,
                   callbacks=[BackupAndRestore(backup, double_checkpoint=True)])


def test_early_stopping_best_weights_survive_a_resume(tmp_path):
    """restore_best_weights + BackupAndRestore: a run that crashes and resumes ends with the
    same (best-epoch) weights as an uninterrupted run."""
    import deepnet as dn
    from deepnet import layers as L
    from deepnet.callbacks import Callback, EarlyStopping

    rng = np.random.default_rng(0)
    x = rng.normal(size=(64, 4)).astype("float32")
    y = (x @ rng.normal(size=(4, 3))).astype("float32")
    x_val = rng.normal(size=(16, 4)).astype("float32")
    y_val = rng.normal(size=(16, 3)).astype("float32")

    def run(backup, crash_at=None):
        dn.utils.set_random_seed(1)
        model = dn.Sequential([dn.Input(shape=(4,)), L.Dense(16, activation="relu"), L.Dense(3)])
        model.compile(optimizer=dn.optimizers.Adam(0.05), loss="mse")

        class Crash(Callback):
            def on_epoch_end(self, epoch, logs=None):
                if epoch == crash_at:
                    raise KeyboardInterrupt

        # mode="max" on a falling loss: the best epoch is the first one, so restoring matters
        stop = EarlyStopping(monitor="val_loss", mode="max", patience=50, restore_best_weights=True)
        callbacks = [BackupAndRestore(backup), stop, Crash()]
        model.fit(x, y, epochs=12, batch_size=16, validation_data=(x_val, y_val), shuffle=False, verbose=0,
                  callbacks=callbacks)
        return model, stop

    reference, ref_stop = run(tmp_path / "a")
    assert ref_stop.best_epoch < 8
    with pytest.raises(KeyboardInterrupt):
        run(tmp_path / "b", crash_at=ref_stop.best_epoch + 3)
    resumed, stop = run(tmp_path / "b")
    assert stop.best_epoch == ref_stop.best_epoch
    for a, b in zip(reference.get_weights(), resumed.get_weights()):
        np.testing.assert_array_equal(a, b)
