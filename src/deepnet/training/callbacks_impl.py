"""Built-in callbacks with Keras 3 names, arguments and semantics."""

from __future__ import annotations

import csv
import math
import os
import sys
import warnings
from collections.abc import Callable

from ..utils.validation import (
    AnyOf,
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    NoneOr,
    Options,
    Real,
    validate_params,
)
from ..utils.validation import Callable as CallableArg
from .callback_base import Callback

__all__ = [
    "CSVLogger", "EarlyStopping", "LambdaCallback", "LearningRateScheduler", "ModelCheckpoint",
    "ReduceLROnPlateau", "TensorBoard", "TerminateOnNaN",
]

_VERBOSE = Options([0, 1, 2])
_MODE = Options(["auto", "min", "max"])
_NON_NEGATIVE_INT = Interval(Integral, 0, None)
_FINITE = Interval(Real, None, None)
_SAVE_FREQ = AnyOf(Options(["epoch"]), Interval(Integral, 1, None))
_MONITOR = InstanceOf(str, description="the name of a logged metric (a str such as 'val_loss')")
_PATH = InstanceOf(str, os.PathLike, description="a file or folder path (str or os.PathLike)")
_MAX_HINTS = ("acc", "auc", "precision", "recall", "f1", "r2", "fmeasure", "iou")


def _say(text: str) -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


class _Monitor:
    """Shared logic of callbacks watching a metric: direction and improvement test."""

    def _init_monitor(self, monitor: str, mode: str, min_delta: float) -> None:
        if mode == "auto":
            name = monitor.removeprefix("val_")
            mode = "max" if any(h in name for h in _MAX_HINTS) and not name.endswith("loss") else "min"
        self.monitor = monitor
        self.mode = mode
        self.min_delta = abs(float(min_delta))

    def _initial_best(self) -> float:
        return math.inf if self.mode == "min" else -math.inf

    def _is_improvement(self, current: float, reference: float) -> bool:
        if self.mode == "min":
            return current < reference - self.min_delta
        return current > reference + self.min_delta

    def _current(self, logs) -> float | None:
        logs = logs or {}
        value = logs.get(self.monitor)
        if value is None:
            warnings.warn(
                f"{type(self).__name__} is watching `{self.monitor}`, which is not in the logs. Available metrics are: "
                f"{', '.join(logs) or 'none'}. help: pass monitor= one of them (val_* needs validation data).",
                stacklevel=3,
            )
            return None
        return float(value)


def _snapshot(model) -> dict:
    return {k: v.detach().clone() for k, v in model.state_dict().items()}


class EarlyStopping(_Monitor, Callback):
    """Stop when ``monitor`` has not improved by ``min_delta`` for ``patience`` epochs.

    ``restore_best_weights=True`` puts back the weights of the best epoch when training ends;
    epochs before ``start_from_epoch`` are ignored; ``baseline`` requires reaching a value.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> stop = dn.callbacks.EarlyStopping(monitor="loss", min_delta=10.0, patience=1)
    >>> len(model.fit(x, y, epochs=10, callbacks=[stop], verbose=0).epoch)
    2
    """

    @validate_params({"monitor": _MONITOR, "min_delta": _FINITE, "patience": _NON_NEGATIVE_INT, "verbose": _VERBOSE,
                      "mode": _MODE, "baseline": NoneOr(_FINITE), "restore_best_weights": Boolean(),
                      "start_from_epoch": _NON_NEGATIVE_INT})
    def __init__(self, monitor="val_loss", min_delta=0, patience=0, verbose=0, mode="auto", baseline=None,
                 restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        self._init_monitor(monitor, mode, min_delta)
        self.patience = patience
        self.verbose = verbose
        self.baseline = baseline
        self.restore_best_weights = restore_best_weights
        self.start_from_epoch = start_from_epoch
        self._reset()

    def _reset(self):
        self.wait = 0
        self.stopped_epoch = 0
        self.best = self._initial_best()
        self.best_weights = None
        self.best_epoch = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        current = self._current(logs)
        if current is None or epoch < self.start_from_epoch:
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = _snapshot(self.model)
            self.best_epoch = epoch
        self.wait += 1
        if self._is_improvement(current, self.best):
            self.best = current
            self.best_epoch = epoch
            if self.restore_best_weights:
                self.best_weights = _snapshot(self.model)
            if self.baseline is None or self._is_improvement(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            _say(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                _say(f"Restoring model weights from the end of the best epoch: {self.best_epoch + 1}.")
            self.model.load_state_dict(self.best_weights)

    def get_state(self):
        # best_weights (restore_best_weights=True) travel too, so a resumed run restores the
        # same epoch's weights as an uninterrupted one
        # (in state_dict order, not by name: a resumed process may number its layers differently)
        best = None if self.best_weights is None else list(self.best_weights.values())
        return {"wait": self.wait, "stopped_epoch": self.stopped_epoch, "best": self.best, "best_epoch": self.best_epoch,
                "best_weights": best}

    def set_state(self, state):
        self.wait, self.stopped_epoch = state["wait"], state["stopped_epoch"]
        self.best, self.best_epoch = state["best"], state["best_epoch"]
        best = state.get("best_weights")
        if best is None:
            self.best_weights = None
            return
        current = self.model.state_dict()
        if len(best) != len(current) or any(tuple(v.shape) != tuple(c.shape) for v, c in zip(best, current.values())):
            raise ValueError("the saved best weights do not match the model's weights (different architecture?)")
        self.best_weights = dict(zip(current.keys(), best))


class ReduceLROnPlateau(_Monitor, Callback):
    """Multiply the learning rate by ``factor`` after ``patience`` epochs without improvement.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> plateau = dn.callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, min_delta=10.0)
    >>> _ = model.fit(x, y, epochs=3, callbacks=[plateau], verbose=0)
    >>> round(float(model.optimizer.learning_rate), 6)
    0.0025
    """

    @validate_params({"monitor": _MONITOR, "factor": Interval(Real, 0, 1, closed="neither"),
                      "patience": _NON_NEGATIVE_INT, "verbose": _VERBOSE, "mode": _MODE, "min_delta": _FINITE,
                      "cooldown": _NON_NEGATIVE_INT, "min_lr": Interval(Real, 0, None)})
    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto", min_delta=1e-4,
                 cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if "epsilon" in kwargs:
            min_delta = kwargs.pop("epsilon")
        if kwargs:
            raise TypeError(f"ReduceLROnPlateau got unexpected arguments {sorted(kwargs)}.")
        self._init_monitor(monitor, mode, min_delta)
        self.factor, self.patience, self.verbose = factor, patience, verbose
        self.cooldown, self.min_lr = cooldown, min_lr
        self._reset()

    def _reset(self):
        self.best = self._initial_best()
        self.cooldown_counter = 0
        self.wait = 0

    def on_train_begin(self, logs=None):
        self._reset()

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        optimizer = self.model.optimizer
        logs["learning_rate"] = float(optimizer.learning_rate)
        current = self._current(logs)
        if current is None:
            return
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.wait = 0
        if self._is_improvement(current, self.best):
            self.best = current
            self.wait = 0
        elif self.cooldown_counter <= 0:
            self.wait += 1
            if self.wait >= self.patience:
                old_lr = float(optimizer.learning_rate)
                if old_lr > self.min_lr:
                    new_lr = max(old_lr * self.factor, self.min_lr)
                    schedule = getattr(optimizer, "learning_rate_schedule", None)
                    if schedule is not None:  # Keras raises here; deepnet replaces it, but says so
                        warnings.warn(f"ReduceLROnPlateau replaces the learning-rate schedule {schedule!r} by the "
                                      f"constant rate {new_lr:g}. help: compile with a float learning_rate to use "
                                      "ReduceLROnPlateau, or drop it to keep the schedule.", stacklevel=2)
                    optimizer.learning_rate = new_lr
                    if self.verbose > 0:
                        _say(f"Epoch {epoch + 1}: ReduceLROnPlateau reducing learning rate to {new_lr}.")
                    self.cooldown_counter = self.cooldown
                    self.wait = 0

    def get_state(self):
        return {"best": self.best, "cooldown_counter": self.cooldown_counter, "wait": self.wait}

    def set_state(self, state):
        self.best, self.cooldown_counter, self.wait = state["best"], state["cooldown_counter"], state["wait"]


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch: ``schedule(epoch, lr) -> new lr``
    (a one-argument ``schedule(epoch)`` works too).

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> schedule = dn.callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    >>> model.fit(x, y, epochs=2, callbacks=[schedule], verbose=0).history["learning_rate"]
    [0.1, 0.05]
    """

    @validate_params({"schedule": CallableArg(), "verbose": _VERBOSE})
    def __init__(self, schedule: Callable, verbose=0):
        super().__init__()
        self.schedule = schedule
        self.verbose = verbose

    def on_epoch_begin(self, epoch, logs=None):
        optimizer = self.model.optimizer
        lr = float(optimizer.learning_rate)
        try:
            new_lr = self.schedule(epoch, lr)
        except TypeError:
            new_lr = self.schedule(epoch)
        if not isinstance(new_lr, (int, float)) or isinstance(new_lr, bool) or not math.isfinite(float(new_lr)):
            raise ValueError(
                f"LearningRateScheduler: the schedule must return a finite float; it returned {new_lr!r} at epoch {epoch}."
            )
        optimizer.learning_rate = float(new_lr)
        if self.verbose > 0:
            _say(f"Epoch {epoch + 1}: LearningRateScheduler setting learning rate to {float(new_lr)}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Stop training as soon as the batch loss is NaN or infinite.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> len(model.fit(x, y, epochs=2, callbacks=[dn.callbacks.TerminateOnNaN()], verbose=0).epoch)
    2
    """

    def on_train_batch_end(self, batch, logs=None):
        loss = (logs or {}).get("loss")
        if loss is not None and not math.isfinite(float(loss)):
            _say(f"Batch {batch}: Invalid loss, terminating training")
            self.model.stop_training = True


class CSVLogger(Callback):
    """Append one row per epoch (epoch, then the logs) to a CSV file, flushed every epoch.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "log.csv")
    >>> _ = model.fit(x, y, epochs=2, callbacks=[dn.callbacks.CSVLogger(path)], verbose=0)
    >>> open(path).read().splitlines()[0]
    'epoch,loss'
    """

    @validate_params({"filename": _PATH, "separator": InstanceOf(str), "append": Boolean()})
    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename = os.fspath(filename)
        self.sep = separator
        self.append = append
        self._file = None
        self._writer = None
        self.keys = None

    def on_train_begin(self, logs=None):
        exists = os.path.exists(self.filename) and os.path.getsize(self.filename) > 0
        self._header_needed = not (self.append and exists)
        parent = os.path.dirname(os.path.abspath(self.filename))
        os.makedirs(parent, exist_ok=True)
        self._file = open(self.filename, "a" if self.append else "w", newline="", encoding="utf-8")
        self._writer = None
        self.keys = None

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        if self.keys is None:
            self.keys = sorted(logs)
            self._writer = csv.DictWriter(self._file, fieldnames=["epoch", *self.keys], delimiter=self.sep)
            if self._header_needed:
                self._writer.writeheader()
        row = {"epoch": epoch, **{k: logs.get(k, "NA") for k in self.keys}}
        self._writer.writerow(row)
        self._file.flush()
        os.fsync(self._file.fileno())

    def on_train_end(self, logs=None):
        if self._file is not None:
            self._file.close()
            self._file = None


class LambdaCallback(Callback):
    """Callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> seen = []
    >>> cb = dn.callbacks.LambdaCallback(on_epoch_end=lambda epoch, logs: seen.append(epoch))
    >>> _ = model.fit(x, y, epochs=2, callbacks=[cb], verbose=0)
    >>> seen
    [0, 1]
    """

    _HOOKS = (
        "on_epoch_begin", "on_epoch_end", "on_train_begin", "on_train_end", "on_train_batch_begin",
        "on_train_batch_end", "on_batch_begin", "on_batch_end", "on_test_begin", "on_test_end",
        "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
        "on_predict_batch_begin", "on_predict_batch_end",
    )

    def __init__(self, **hooks):
        super().__init__()
        unknown = sorted(set(hooks) - set(self._HOOKS))
        if unknown:
            raise TypeError(f"LambdaCallback got unknown hooks {unknown}; valid hooks are {list(self._HOOKS)}.")
        for name, fn in hooks.items():
            if fn is not None:
                if not callable(fn):
                    raise TypeError(f"LambdaCallback: `{name}` must be callable; received {fn!r}.")
                setattr(self, name, fn)


class TensorBoard(Callback):
    """Write epoch logs (and optional weight histograms) for TensorBoard under
    ``log_dir/train`` and ``log_dir/validation`` (needs the ``tensorboard`` package).

    >>> import tempfile
    >>> dn.callbacks.TensorBoard(log_dir=tempfile.mkdtemp(), histogram_freq=1).histogram_freq
    1
    """

    @validate_params({"log_dir": _PATH, "histogram_freq": _NON_NEGATIVE_INT, "write_graph": Boolean(),
                      "update_freq": _SAVE_FREQ})
    def __init__(self, log_dir="logs", histogram_freq=0, write_graph=False, update_freq="epoch", **kwargs):
        super().__init__()
        self.log_dir = os.fspath(log_dir)
        self.histogram_freq = histogram_freq
        self.write_graph = write_graph
        self.update_freq = update_freq
        self._writers = {}

    def _writer(self, kind: str):
        if kind not in self._writers:
            try:
                from torch.utils.tensorboard import SummaryWriter
            except ImportError as e:
                raise ImportError(
                    "The TensorBoard callback needs the `tensorboard` package. help: pip install tensorboard"
                ) from e
            self._writers[kind] = SummaryWriter(os.path.join(self.log_dir, kind))
        return self._writers[kind]

    def on_train_begin(self, logs=None):
        self._writer("train")

    def on_epoch_end(self, epoch, logs=None):
        for key, value in (logs or {}).items():
            kind, name = ("validation", key[4:]) if key.startswith("val_") else ("train", key)
            self._writer(kind).add_scalar(f"epoch_{name}", float(value), epoch)
        if self.histogram_freq and epoch % self.histogram_freq == 0:
            writer = self._writer("train")
            for name, param in self.model.named_parameters():
                writer.add_histogram(name, param.detach().cpu(), epoch)
        for w in self._writers.values():
            w.flush()

    def on_train_end(self, logs=None):
        for w in self._writers.values():
            w.close()
        self._writers = {}


class ModelCheckpoint(_Monitor, Callback):
    """Save the model (or only its weights) after every epoch, or only when ``monitor``
    improves (``save_best_only``). ``filepath`` may hold ``{epoch:02d}`` and log keys such as
    ``{val_loss:.3f}``. Weights go to ``.safetensors`` (or Keras' HDF5 ``.weights.h5``); whole
    models to ``.deepnet`` (or a Keras 3 ``.keras`` archive).

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> import os, tempfile
    >>> folder = tempfile.mkdtemp()
    >>> ckpt = dn.callbacks.ModelCheckpoint(os.path.join(folder, "w{epoch:02d}.weights.safetensors"), save_weights_only=True)
    >>> _ = model.fit(x, y, epochs=2, callbacks=[ckpt], verbose=0)
    >>> sorted(os.listdir(folder))
    ['w01.weights.safetensors', 'w02.weights.safetensors']
    """

    @validate_params({"filepath": _PATH, "monitor": _MONITOR, "verbose": _VERBOSE, "save_best_only": Boolean(),
                      "save_weights_only": Boolean(), "mode": _MODE, "save_freq": _SAVE_FREQ,
                      "initial_value_threshold": NoneOr(_FINITE)})
    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False, save_weights_only=False,
                 mode="auto", save_freq="epoch", initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self._init_monitor(monitor, mode, 0.0)
        self.verbose = verbose
        self.save_best_only = save_best_only
        self.save_weights_only = save_weights_only
        self.save_freq = save_freq
        suffixes = (".safetensors", ".weights.h5") if save_weights_only else (".deepnet", ".keras")
        if not self.filepath.endswith(suffixes):
            raise ValueError(
                f"ModelCheckpoint: with save_weights_only={save_weights_only} the filepath must end in "
                f"{' or '.join(map(repr, suffixes))}; received {self.filepath!r}."
            )
        self.initial_value_threshold = initial_value_threshold
        self.best = initial_value_threshold if initial_value_threshold is not None else self._initial_best()
        self._batches = 0
        self._epoch = 0

    def on_train_begin(self, logs=None):
        self._batches = 0

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_end(self, batch, logs=None):
        if self.save_freq != "epoch":
            self._batches += 1
            if self._batches % self.save_freq == 0:
                self._save(self._epoch, dict(logs or {}), batch=batch)

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, dict(logs or {}))

    def _save(self, epoch: int, logs: dict, batch: int | None = None) -> None:
        try:
            path = self.filepath.format(epoch=epoch + 1, batch=batch, **logs)
        except KeyError as e:
            raise KeyError(
                f"ModelCheckpoint: filepath {self.filepath!r} refers to {e}, which is not in the logs "
                f"({', '.join(logs) or 'none'})."
            ) from None
        if self.save_best_only:
            current = self._current(logs)
            if current is None:
                return
            if not self._is_improvement(current, self.best):
                if self.verbose > 0:
                    _say(f"Epoch {epoch + 1}: {self.monitor} did not improve from {self.best:.5f}")
                return
            if self.verbose > 0:
                _say(f"Epoch {epoch + 1}: {self.monitor} improved from {self.best:.5f} to {current:.5f}, saving model to {path}")
            self.best = current
        elif self.verbose > 0:
            _say(f"Epoch {epoch + 1}: saving model to {path}")
        if self.save_weights_only:  # `.weights.h5` writes Keras' HDF5 layout (deepnet.saving)
            self.model.save_weights(path)
        else:
            self.model.save(path)

    def get_state(self):
        return {"best": self.best}

    def set_state(self, state):
        self.best = state["best"]
