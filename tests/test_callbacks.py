"""Callbacks: Keras hook names and semantics, observed through fit()."""

import csv
import math

import numpy as np
import pytest
import torch

import deepnet as dn
from deepnet import callbacks as C
from deepnet import layers as L


def _data(n=96, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, (n, 4)).astype("float32")
    y = (x @ np.array([1.0, -2.0, 0.5, 0.0], dtype="float32"))[:, None]
    return x, y


def _model(lr=0.05):
    model = dn.Sequential([L.Input((4,)), L.Dense(8, activation="tanh"), L.Dense(1)])
    model.compile(optimizer=dn.optimizers.SGD(learning_rate=lr), loss="mse")
    return model


class _Scripted(C.Callback):
    """Feeds a fixed sequence of monitored values into the logs."""

    def __init__(self, key, values):
        super().__init__()
        self.key, self.values = key, values

    def on_epoch_end(self, epoch, logs=None):
        logs[self.key] = self.values[epoch]


def test_hooks_called_in_keras_order():
    calls = []
    names = ["on_train_begin", "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_epoch_end",
             "on_train_end", "on_test_begin", "on_test_end"]
    cb = C.LambdaCallback(**{n: (lambda *a, _n=n: calls.append(_n)) for n in names})
    x, y = _data(32)
    model = _model()
    model.fit(x, y, batch_size=16, epochs=2, verbose=0, callbacks=[cb])
    assert calls == ["on_train_begin",
                     "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_train_batch_begin",
                     "on_train_batch_end", "on_epoch_end"] * 1 + [
                     "on_epoch_begin", "on_train_batch_begin", "on_train_batch_end", "on_train_batch_begin",
                     "on_train_batch_end", "on_epoch_end", "on_train_end"]
    calls.clear()
    model.evaluate(x, y, verbose=0, callbacks=[cb])
    assert calls == ["on_test_begin", "on_test_end"]


def test_batch_logs_hold_running_loss():
    seen = []
    cb = C.LambdaCallback(on_train_batch_end=lambda batch, logs: seen.append(logs["loss"]))
    x, y = _data(64)
    _model().fit(x, y, batch_size=16, epochs=1, verbose=0, callbacks=[cb])
    assert len(seen) == 4 and all(math.isfinite(v) for v in seen)


def test_early_stopping_patience_and_restore_best_weights():
    x, y = _data()
    model = _model()
    snapshots = []
    record = C.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.get_weights()))
    # monitored values: best at epoch 1, then three worse epochs -> stop at epoch 4 (patience 3)
    values = [5.0, 1.0, 2.0, 3.0, 4.0, 0.5, 0.1]
    es = C.EarlyStopping(monitor="score", patience=3, restore_best_weights=True)
    history = model.fit(x, y, epochs=7, verbose=0, callbacks=[record, _Scripted("score", values), es])
    assert len(history.history["loss"]) == 5
    assert es.stopped_epoch == 4 and es.best_epoch == 1 and es.best == 1.0
    for restored, best in zip(model.get_weights(), snapshots[1]):
        np.testing.assert_array_equal(restored, best)


def test_early_stopping_min_delta_mode_baseline_and_start_from_epoch():
    x, y = _data(32)
    es = C.EarlyStopping(monitor="val_accuracy", patience=1)
    assert es.mode == "max"
    es = C.EarlyStopping(monitor="score", min_delta=0.5, patience=1, mode="min")
    h = _model().fit(x, y, epochs=6, verbose=0, callbacks=[_Scripted("score", [3.0, 2.8, 2.6, 2.4, 2.2, 2.0]), es])
    assert len(h.history["loss"]) == 2  # improvements smaller than min_delta do not count
    plateau = [3.0, 2.0, 2.0, 2.0, 2.0, 2.0]
    es = C.EarlyStopping(monitor="score", patience=2)
    h = _model().fit(x, y, epochs=6, verbose=0, callbacks=[_Scripted("score", plateau), es])
    assert len(h.history["loss"]) == 4
    es = C.EarlyStopping(monitor="score", patience=2, baseline=0.5)
    h = _model().fit(x, y, epochs=6, verbose=0, callbacks=[_Scripted("score", plateau), es])
    assert len(h.history["loss"]) == 3  # improvements that miss the baseline do not reset the wait
    es = C.EarlyStopping(monitor="score", patience=1, start_from_epoch=3)
    h = _model().fit(x, y, epochs=6, verbose=0, callbacks=[_Scripted("score", [1.0, 2.0, 3.0, 4.0, 5.0, 6.0]), es])
    assert len(h.history["loss"]) == 5


def test_early_stopping_missing_monitor_lists_available_metrics():
    x, y = _data(32)
    with pytest.warns(UserWarning, match="Available metrics are: loss"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[C.EarlyStopping(monitor="val_loss")])


def test_early_stopping_reusable_across_fits():
    x, y = _data(32)
    es = C.EarlyStopping(monitor="score", patience=0)
    model = _model()
    model.fit(x, y, epochs=3, verbose=0, callbacks=[_Scripted("score", [1.0, 2.0, 3.0]), es])
    assert es.stopped_epoch == 1
    h = model.fit(x, y, epochs=3, verbose=0, callbacks=[_Scripted("score", [3.0, 2.0, 1.0]), es])
    assert len(h.history["loss"]) == 3 and es.stopped_epoch == 0


def test_model_checkpoint_keeps_the_best(tmp_path):
    x, y = _data()
    model = _model()
    path = tmp_path / "best.safetensors"
    snapshots = []
    record = C.LambdaCallback(on_epoch_end=lambda e, logs: snapshots.append(model.get_weights()))
    values = [3.0, 1.0, 2.0, 0.5, 4.0]
    ckpt = C.ModelCheckpoint(str(path), monitor="score", save_best_only=True, save_weights_only=True, mode="min")
    model.fit(x, y, epochs=5, verbose=0, callbacks=[record, _Scripted("score", values), ckpt])
    fresh = _model()
    fresh.load_weights(str(path))
    for got, want in zip(fresh.get_weights(), snapshots[3]):
        np.testing.assert_array_equal(got, want)
    assert ckpt.best == 0.5


def test_model_checkpoint_formats_filenames(tmp_path):
    x, y = _data(32)
    pattern = str(tmp_path / "w-{epoch:02d}-{loss:.2f}.safetensors")
    _model().fit(x, y, epochs=2, verbose=0, callbacks=[C.ModelCheckpoint(pattern, save_weights_only=True)])
    names = sorted(p.name for p in tmp_path.iterdir())
    assert len(names) == 2 and names[0].startswith("w-01-") and names[1].startswith("w-02-")
    with pytest.raises(ValueError, match=".safetensors"):
        C.ModelCheckpoint(str(tmp_path / "x.h5"), save_weights_only=True)


def test_reduce_lr_on_plateau_lowers_the_learning_rate():
    x, y = _data(32)
    model = _model(lr=0.1)
    cb = C.ReduceLROnPlateau(monitor="score", factor=0.5, patience=2, min_lr=0.02, cooldown=1)
    history = model.fit(x, y, epochs=8, verbose=0, callbacks=[_Scripted("score", [1.0] * 8), cb])
    # logged before the reduction of that epoch: patience 2, then one cooldown epoch, floor 0.02
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.1, 0.1, 0.05, 0.05, 0.025, 0.025, 0.02])
    assert model.optimizer.learning_rate == pytest.approx(0.02)


def test_learning_rate_scheduler_sets_each_epoch():
    x, y = _data(32)
    model = _model(lr=0.1)
    cb = C.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = model.fit(x, y, epochs=3, verbose=0, callbacks=[cb])
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3], rtol=1e-6)
    with pytest.raises(ValueError, match="finite float"):
        model.fit(x, y, epochs=1, verbose=0, callbacks=[C.LearningRateScheduler(lambda e: float("nan"))])


def test_csv_logger_writes_one_row_per_epoch(tmp_path):
    x, y = _data(32)
    path = tmp_path / "log.csv"
    _model().fit(x, y, epochs=3, validation_split=0.25, verbose=0, callbacks=[C.CSVLogger(str(path))])
    rows = list(csv.DictReader(path.open()))
    assert [r["epoch"] for r in rows] == ["0", "1", "2"]
    assert set(rows[0]) == {"epoch", "loss", "val_loss"}
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[C.CSVLogger(str(path), append=True)])
    assert len(list(csv.DictReader(path.open()))) == 4


def test_terminate_on_nan_and_stop_training_flag():
    x, y = _data(64)
    model = _model()

    class StopAfterTwo(C.Callback):
        def on_train_batch_end(self, batch, logs=None):
            if batch == 1:
                self.model.stop_training = True

    history = model.fit(x, y, batch_size=8, epochs=5, verbose=0, callbacks=[StopAfterTwo()])
    assert len(history.history["loss"]) == 1

    class PoisonLoss(C.Callback):
        def on_train_batch_end(self, batch, logs=None):
            pass

    cb = C.TerminateOnNaN()
    logs = {"loss": float("nan")}
    cb.set_model(model)
    model.stop_training = False
    cb.on_train_batch_end(0, logs)
    assert model.stop_training


def test_callback_type_error_is_clear():
    x, y = _data(16)
    with pytest.raises(TypeError, match="LambdaCallback"):
        _model().fit(x, y, epochs=1, verbose=0, callbacks=[object()])


def test_tensorboard_needs_the_package_or_writes_events(tmp_path):
    x, y = _data(16)
    try:
        import tensorboard  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="pip install tensorboard"):
            _model().fit(x, y, epochs=1, verbose=0, callbacks=[C.TensorBoard(str(tmp_path))])
        return
    _model().fit(x, y, epochs=1, verbose=0, callbacks=[C.TensorBoard(str(tmp_path))])
    assert any((tmp_path / "train").iterdir())


def test_history_is_attached_to_the_model():
    x, y = _data(16)
    model = _model()
    history = model.fit(x, y, epochs=2, verbose=0)
    assert model.history is history and history.epoch == [0, 1]
    assert isinstance(history.history["loss"][0], float)
    assert torch.is_tensor(model.layers[0].kernel)
