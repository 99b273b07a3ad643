"""``BackupAndRestore``: resume a killed ``fit`` exactly where it stopped.

After every epoch the callback writes (atomically, so a crash never leaves a torn file) one
archive in ``backup_dir`` with everything the rest of the run depends on: the weights, the
optimizer state (iterations, so the learning-rate schedule position, and moment estimates),
the loss-scaler state, every random number generator (torch CPU and CUDA, NumPy's global one,
Python's ``random``, and the model's shuffling generator), ``History`` so far and the
``get_state()`` of the other callbacks of the run. When ``fit`` starts and a backup exists, it
restores all of it and makes ``fit`` continue with the next epoch, so a run killed at any point
and restarted with the same code finishes with bitwise the same weights as an uninterrupted one
(on CPU; on GPUs as far as the kernels are deterministic).

Engine contract (two hooks in :mod:`deepnet.training.engine`):

* ``model._fit_callbacks`` holds the list of the run's callbacks while ``fit`` runs, so
  their states can be saved and restored;
* after ``on_train_begin`` the engine pops ``model._initial_epoch`` (set here, as in Keras)
  and, when present, starts the epoch loop there.

Everything else happens inside the callback: the checkpoint of epoch ``N`` is written once the
epoch has fully ended (after every callback's ``on_epoch_end``), at the start of epoch ``N + 1``
before any data of it is drawn; it is restored at exactly the same point of the resumed run.
"""

from __future__ import annotations

import contextlib
import os
import random
import warnings

import numpy as np
import torch

from ..saving.archive import assign_checked, validate_optimizer_state
from ..saving.safe import (
    MiB,
    ModelFileError,
    decode_state,
    dump_json,
    encode_state,
    parse_json,
    read_archive,
    tensors_from_bytes,
    tensors_to_bytes,
    write_archive,
)
from ..saving.weights import weight_tensors
from ..utils.lazy import lazy_import
from ..utils.validation import (
    AnyOf,
    Boolean,
    InstanceOf,
    Integral,
    Interval,
    Options,
    invalid_value,
    validate_params,
)
from .callback_base import Callback, History

_distribution = lazy_import("deepnet.distribution")  # rank 0 alone writes and deletes the backup

__all__ = ["BackupAndRestore"]

_FORMAT = "deepnet-backup"
_VERSION = 1
_LATEST = "latest.deepnet-backup"
_PREVIOUS = "previous.deepnet-backup"
_MEMBERS = {"checkpoint.json", "model.weights.safetensors", "state.safetensors"}
_LIMITS = {"checkpoint.json": 256 * MiB, "model.weights.safetensors": 64 << 30, "state.safetensors": 192 << 30}


class BackupAndRestore(Callback):
    """Back up the training state every epoch and restore it when ``fit`` restarts.

    Args:
        backup_dir: folder for the backup files (created when needed). Use one folder per run.
        save_freq: ``"epoch"`` (default; exact resume), an integer ``n`` (save every ``n``
            batches; the interrupted epoch restarts from its first batch with the weights of
            the last save, like Keras: not bitwise exact) or ``False`` (only restore).
        double_checkpoint: keep the previous backup as well and fall back to it when the latest
            one cannot be read.
        delete_checkpoint: delete the backup files when training ends normally.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> import os, tempfile
    >>> backup = dn.callbacks.BackupAndRestore(tempfile.mkdtemp(), delete_checkpoint=False)
    >>> _ = model.fit(x, y, epochs=2, callbacks=[backup], verbose=0)
    >>> model.fit(x, y, epochs=3, callbacks=[backup], verbose=0).epoch  # trains epoch 2 only
    [0, 1, 2]
    """

    @validate_params({
        "backup_dir": InstanceOf(str, os.PathLike, description="a non-empty folder path"),
        "save_freq": AnyOf(Options(["epoch"]), Interval(Integral, 1, None), Options([False])),
        "double_checkpoint": Boolean(), "delete_checkpoint": Boolean(),
    })
    def __init__(self, backup_dir, save_freq="epoch", double_checkpoint=False, delete_checkpoint=True):
        super().__init__()
        if not os.fspath(backup_dir):
            raise invalid_value(self, "backup_dir", backup_dir, "a non-empty folder path")
        self.backup_dir = os.fspath(backup_dir)
        self.save_freq = save_freq
        self.double_checkpoint = double_checkpoint
        self.delete_checkpoint = delete_checkpoint
        self._reset()

    def _reset(self) -> None:
        self._pending = False  # an epoch ended and is not saved yet
        self._restore = None  # checkpoint read at train begin, applied at the first epoch begin
        self._epoch = 0
        self._completed = 0
        self._batches_since_save = 0
        self._warned = False

    @property
    def _latest(self) -> str:
        return os.path.join(self.backup_dir, _LATEST)

    @property
    def _previous(self) -> str:
        return os.path.join(self.backup_dir, _PREVIOUS)

    # ------------------------------------------------------------------ hooks
    def on_train_begin(self, logs=None):
        self._reset()
        ckpt = self._read()
        if ckpt is None:
            return
        if not self.model.built:
            raise ValueError(
                f"BackupAndRestore: model {self.model.name!r} is not built, so the backup in {self.backup_dir!r} "
                "cannot be restored. help: give the model an Input or build it before fit()."
            )
        self._apply_model_state(ckpt)  # like Keras: weights (and optimizer) right away
        self.model._initial_epoch = ckpt["epoch"]
        self._restore = ckpt
        self._completed = ckpt["epoch"]

    def on_epoch_begin(self, epoch, logs=None):
        if self._restore is not None:
            ckpt, self._restore = self._restore, None
            if epoch != ckpt["epoch"]:
                warnings.warn(
                    f"BackupAndRestore restored the weights of the backup made after epoch {ckpt['epoch']}, but fit "
                    f"started at epoch {epoch + 1}: this training engine does not read `model._initial_epoch`, so "
                    "the run is not resumed exactly.", RuntimeWarning, stacklevel=2)
            else:
                self._apply_model_state(ckpt)  # again: callbacks before this one may have changed it
                self._apply_run_state(ckpt)
        elif self._pending:
            self._save(epoch, exact=True)
        self._pending = False
        self._epoch = epoch

    def on_epoch_end(self, epoch, logs=None):
        self._completed = epoch + 1
        if self.save_freq == "epoch":
            self._pending = True  # saved once every callback has seen this epoch's end

    def on_train_batch_end(self, batch, logs=None):
        if isinstance(self.save_freq, int) and not isinstance(self.save_freq, bool):
            self._batches_since_save += 1
            if self._batches_since_save >= self.save_freq:
                self._batches_since_save = 0
                self._save(self._epoch, exact=False)

    def on_train_end(self, logs=None):
        if self.delete_checkpoint and _distribution.is_main_process():
            for path in (self._latest, self._previous):
                with contextlib.suppress(FileNotFoundError):
                    os.remove(path)
            with contextlib.suppress(OSError):
                os.rmdir(self.backup_dir)  # only when empty: other files are left alone
        elif self._pending:
            self._save(self._completed, exact=True)
        self._pending = False

    # ------------------------------------------------------------------ saving
    def _other_callbacks(self) -> list | None:
        cbs = getattr(self.model, "_fit_callbacks", None)
        if cbs is None:
            if not self._warned:
                self._warned = True
                warnings.warn(
                    "BackupAndRestore: this training engine does not expose the run's callbacks "
                    "(`model._fit_callbacks`), so their state is not backed up.", RuntimeWarning, stacklevel=3)
            return None
        return [cb for cb in cbs if cb is not self and not isinstance(cb, History)]

    def _save(self, next_epoch: int, exact: bool) -> None:
        if not _distribution.is_main_process():
            return
        model = self.model
        tensors: dict[str, torch.Tensor] = {}
        trainer = model._trainer
        optimizer = trainer.optimizer if trainer is not None else None
        scaler = getattr(trainer, "_scaler", None)
        gen = getattr(model, "_shuffle_generator", None)
        np_state = np.random.get_state()
        rng = {
            "torch_cpu": torch.get_rng_state(),
            "torch_cuda": list(torch.cuda.get_rng_state_all()) if torch.cuda.is_available() else None,
            "numpy": {"kind": str(np_state[0]), "keys": [int(k) for k in np_state[1]], "pos": int(np_state[2]),
                      "has_gauss": int(np_state[3]), "cached_gaussian": float(np_state[4])},
            "python": random.getstate(),
            "shuffle": gen.get_state() if gen is not None else None,
        }
        history = model.__dict__.get("history")
        others = self._other_callbacks()
        doc = {
            "format": _FORMAT,
            "format_version": _VERSION,
            "epoch": int(next_epoch),
            "exact": bool(exact),
            "model_name": model.name,
            "optimizer": encode_state(optimizer.state_dict(), tensors, "optimizer") if optimizer is not None else None,
            "scaler": encode_state(scaler.state_dict(), tensors, "scaler") if scaler is not None else None,
            "rng": encode_state(rng, tensors, "rng"),
            "history": encode_state({"epoch": list(history.epoch), "history": history.history}, tensors, "history")
            if isinstance(history, History) else None,
            "callbacks": None if others is None else [
                {"class_name": type(cb).__name__, "state": encode_state(cb.get_state(), tensors, f"callback{i}")}
                for i, cb in enumerate(others)
            ],
        }
        members = [
            ("checkpoint.json", dump_json(doc, indent=None), True),
            ("model.weights.safetensors", tensors_to_bytes(weight_tensors(model)), False),
            ("state.safetensors", tensors_to_bytes(tensors), False),
        ]
        os.makedirs(self.backup_dir, exist_ok=True)
        if self.double_checkpoint and os.path.exists(self._latest):
            os.replace(self._latest, self._previous)
        write_archive(self._latest, members)

    # ------------------------------------------------------------------ restoring
    def _read(self) -> dict | None:
        paths = [self._latest] + ([self._previous] if self.double_checkpoint else [])
        error = None
        for path in paths:
            if not os.path.exists(path):
                continue
            try:
                ckpt = _read_checkpoint(path)
            except ModelFileError as e:
                error = e
                continue
            if error is not None:
                warnings.warn(f"BackupAndRestore: {error} Using the previous backup {path!r}.", RuntimeWarning,
                              stacklevel=3)
            return ckpt
        if error is not None:
            raise error
        return None

    def _apply_model_state(self, ckpt: dict) -> None:
        where = ckpt["where"]
        model = self.model
        assign_checked(model, ckpt["weights"], f"{where} model.weights.safetensors", names=False)
        trainer = model._trainer
        if ckpt["optimizer"] is not None and trainer is not None:
            state = _decode(ckpt, "optimizer")
            params = [p for p in model.parameters() if p.requires_grad]
            validate_optimizer_state(state, params, trainer.optimizer, f"{where} checkpoint.json")
            try:
                trainer.optimizer.load_state_dict(state)
            except (ValueError, TypeError, KeyError, RuntimeError) as e:
                raise ModelFileError(f"{where}: cannot restore the optimizer state: {e}") from None
        if ckpt["scaler"] is not None and getattr(trainer, "_scaler", None) is not None:
            trainer._scaler.load_state_dict(_decode(ckpt, "scaler"))

    def _apply_run_state(self, ckpt: dict) -> None:
        where = ckpt["where"]
        model = self.model
        history = model.__dict__.get("history")
        saved = _decode(ckpt, "history")
        if isinstance(history, History) and isinstance(saved, dict):
            history.epoch = list(saved.get("epoch", []))
            history.history = {k: list(v) for k, v in dict(saved.get("history", {})).items()}
        states = ckpt["callbacks"]
        others = self._other_callbacks()
        if states is not None and others is not None:
            if [s.get("class_name") for s in states] != [type(cb).__name__ for cb in others]:
                warnings.warn(
                    f"BackupAndRestore: the callbacks of this run ({[type(cb).__name__ for cb in others]}) differ "
                    f"from those of the backed-up run ({[s.get('class_name') for s in states]}); their state is not "
                    "restored.", RuntimeWarning, stacklevel=3)
            else:
                for i, cb in enumerate(others):
                    try:
                        cb.set_state(_decode(ckpt, ("callbacks", i)))
                    except (KeyError, TypeError, ValueError) as e:
                        raise ModelFileError(f"{where}: cannot restore the state of {type(cb).__name__}: {e}") from None
        self._set_rng(_decode(ckpt, "rng"), where)

    def _set_rng(self, rng, where: str) -> None:
        try:
            torch.set_rng_state(rng["torch_cpu"])
            cuda = rng.get("torch_cuda")
            if cuda is not None and torch.cuda.is_available():
                if len(cuda) == torch.cuda.device_count():
                    torch.cuda.set_rng_state_all(cuda)
                else:
                    warnings.warn("BackupAndRestore: the number of GPUs changed; CUDA generators are not restored.",
                                  RuntimeWarning, stacklevel=3)
            n = rng["numpy"]
            np.random.set_state((n["kind"], np.asarray(n["keys"], dtype=np.uint32), n["pos"], n["has_gauss"],
                                 n["cached_gaussian"]))
            random.setstate(rng["python"])
            gen = getattr(self.model, "_shuffle_generator", None)
            if rng.get("shuffle") is not None:
                if gen is None:
                    warnings.warn("BackupAndRestore: the model has no shuffling generator to restore.",
                                  RuntimeWarning, stacklevel=3)
                else:
                    gen.set_state(rng["shuffle"])
        except (KeyError, TypeError, ValueError, RuntimeError) as e:
            raise ModelFileError(f"{where}: cannot restore the random number generators: {e}") from None


def _decode(ckpt: dict, key):
    """Decode one part of a checkpoint with fresh tensor copies (a part may be applied twice)."""
    doc = ckpt["doc"]
    part = doc[key] if isinstance(key, str) else doc[key[0]][key[1]]["state"]
    tensors = {k: v.clone() for k, v in ckpt["tensors"].items()}
    return decode_state(part, tensors, f"{ckpt['where']} checkpoint.json")


def _read_checkpoint(path: str) -> dict:
    where = repr(path)
    members = read_archive(path, _MEMBERS, set(), _LIMITS, "deepnet backup")
    doc = parse_json(members["checkpoint.json"], f"{where} checkpoint.json", max_depth=32)
    keys = {"format", "format_version", "epoch", "exact", "model_name", "optimizer", "scaler", "rng", "history",
            "callbacks"}
    if not isinstance(doc, dict) or doc.get("format") != _FORMAT or set(doc) != keys:
        raise ModelFileError(f"{where} is not a deepnet backup (checkpoint.json has the wrong format or keys).")
    version = doc["format_version"]
    if not isinstance(version, int) or isinstance(version, bool) or not 1 <= version <= _VERSION:
        raise ModelFileError(f"{where}: unsupported backup format_version {version!r:.30} (this deepnet reads {_VERSION}).")
    epoch = doc["epoch"]
    if isinstance(epoch, bool) or not isinstance(epoch, int) or epoch < 0:
        raise ModelFileError(f"{where}: invalid epoch {epoch!r:.30} in checkpoint.json.")
    callbacks = doc["callbacks"]
    if callbacks is not None and not (isinstance(callbacks, list) and all(
            isinstance(c, dict) and set(c) == {"class_name", "state"} for c in callbacks)):
        raise ModelFileError(f"{where}: malformed callback states in checkpoint.json.")
    tensors = tensors_from_bytes(members["state.safetensors"], f"{where} state.safetensors")
    # decode once up front so that a malformed state fails before anything is changed
    used: set = set()
    for key in ("optimizer", "scaler", "rng", "history"):
        decode_state(doc[key], tensors, f"{where} checkpoint.json", used)
    for c in callbacks or []:
        decode_state(c["state"], tensors, f"{where} checkpoint.json", used)
    if set(tensors) - used:
        raise ModelFileError(f"{where}: state.safetensors holds unreferenced tensors.")
    if not isinstance(doc["rng"], dict):
        raise ModelFileError(f"{where}: malformed random-generator state in checkpoint.json.")
    weights = tensors_from_bytes(members["model.weights.safetensors"], f"{where} model.weights.safetensors")
    return {"where": where, "doc": doc, "tensors": tensors, "weights": weights, "epoch": epoch,
            "optimizer": doc["optimizer"], "scaler": doc["scaler"], "callbacks": callbacks}
