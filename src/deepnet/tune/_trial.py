"""One trial: build the model from ``hp``, train it with a pruning callback, report the objective."""

from __future__ import annotations

import math
import os
import socket
from typing import Any

from ..training import Callback
from ..utils import clear_session, set_random_seed
from ._hyperparameters import HyperParameters

__all__ = ["ObjectiveMissingError", "PruningCallback", "build_and_fit", "worker_id"]


class ObjectiveMissingError(ValueError):
    """The objective is not among the metrics ``fit`` logs (every trial would fail alike).

    >>> print(ObjectiveMissingError("val_acc", ["loss", "val_loss"]))
    The objective `val_acc` is not among the logged metrics. Logged metrics are: loss, val_loss. help: pass objective= one of them (val_* metrics need validation_split= or validation_data= in search()).
    """

    def __init__(self, objective: str, logged: list[str]):
        super().__init__(
            f"The objective `{objective}` is not among the logged metrics. Logged metrics are: "
            f"{', '.join(logged) or 'none'}. help: pass objective= one of them (val_* metrics need "
            "validation_split= or validation_data= in search()).")


class PruningCallback(Callback):
    """Reports the per-epoch objective to an Optuna trial and stops training when the pruner
    says so (``pruned`` is then True; never at the last epoch, which completes the trial).
    ``value`` is the objective of the last epoch.

    >>> class Trial:  # a stand-in for optuna.trial.Trial
    ...     def report(self, value, step): pass
    ...     def should_prune(self): return True
    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> callback = PruningCallback(Trial(), "loss")
    >>> _ = model.fit(np.ones((4, 2)), np.ones(4), epochs=5, callbacks=[callback], verbose=0)
    >>> callback.pruned, callback.epochs
    (True, 1)
    """

    def __init__(self, trial: Any, objective: str):
        super().__init__()
        self.trial = trial
        self.objective = objective
        self.on_train_begin()

    def on_train_begin(self, logs=None):
        self.pruned = False
        self.value: float | None = None
        self.epochs = 0
        self.logged: list[str] = []  # the metric names fit logged

    def on_epoch_end(self, epoch, logs=None):
        logs = dict(logs or {})
        self.epochs = epoch + 1
        self.logged = list(dict.fromkeys([*self.logged, *logs]))
        if self.objective not in logs:
            # A val_* objective is absent on the epochs validation_freq skips; fail only when
            # the metric can never appear.
            if self.objective.startswith("val_") and any(k.startswith("val_") for k in logs):
                return
            raise ObjectiveMissingError(self.objective, list(logs))
        self.value = float(logs[self.objective])
        if not math.isfinite(self.value):
            self.model.stop_training = True
            return
        self.trial.report(self.value, epoch + 1)  # the resource: epochs trained (1-based)
        last_epoch = self.epochs >= self.params.get("epochs", math.inf)  # nothing left to save
        if not last_epoch and self.trial.should_prune():
            self.pruned = True
            self.model.stop_training = True


def worker_id() -> str:
    """``host:pid`` of this process (recorded with each trial to recover interrupted ones).

    >>> worker_id().count(":")
    1
    """
    return f"{socket.gethostname()}:{os.getpid()}"


def _split_build_result(built: Any) -> tuple[Any, dict]:
    """``build`` returns a compiled model, or ``(model, fit_kwargs)``."""
    model, extra = built, {}
    if isinstance(built, tuple) and len(built) == 2 and isinstance(built[1], dict):
        model, extra = built
    if not hasattr(model, "fit") or not getattr(model, "compiled", False):
        raise TypeError(
            "The build function must return a compiled deepnet model, or (model, fit_kwargs). "
            f"Received: {type(model).__name__}. help: call model.compile(...) in build and return it.")
    return model, extra


def build_and_fit(build, hp: HyperParameters, x, y, fit_kwargs: dict, callback: Callback | list,
                  seed: int | None, number: int):
    """Build the trial's model (fresh layer names, seeded with ``seed + number``) and fit it with
    ``callback`` (one, or a list) after the user's callbacks.

    Returns the trained model. ``fit`` runs with ``verbose=0`` unless ``fit_kwargs`` says
    otherwise; fit arguments returned by ``build`` override those given to ``search``.

    >>> def build(hp):
    ...     model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(hp.Int("units", 1, 4))])
    ...     model.compile(optimizer="sgd", loss="mse")
    ...     return model, {"epochs": hp.Fixed("epochs", 2)}
    >>> class Trial:
    ...     def report(self, value, step): pass
    ...     def should_prune(self): return False
    >>> callback = PruningCallback(Trial(), "loss")
    >>> model = build_and_fit(build, dn.tune.HyperParameters(), np.ones((4, 2)), np.ones(4), {},
    ...                       callback, seed=0, number=0)
    >>> callback.epochs
    2
    """
    clear_session()
    if seed is not None:
        set_random_seed(seed + number)
    model, extra = _split_build_result(build(hp))
    kwargs = {"verbose": 0, **fit_kwargs, **extra}
    user_callbacks = kwargs.get("callbacks") or []
    if not isinstance(user_callbacks, (list, tuple)):
        user_callbacks = [user_callbacks]
    kwargs["callbacks"] = [*user_callbacks, *(callback if isinstance(callback, list) else [callback])]
    model.fit(x, y, **kwargs)
    return model
