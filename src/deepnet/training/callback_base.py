"""Callback base class, the callback list the trainer drives, and ``History``.

Hook names and meaning follow Keras. Batch-level ``logs`` are computed lazily: reading a value
synchronises with the device, so callbacks that do not read them cost nothing.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["Callback", "CallbackList", "History", "LazyLogs"]


class Callback:
    """Base class: override any of the ``on_*`` hooks. ``self.model`` is set by ``fit``.

    Stop training by setting ``self.model.stop_training = True``. Reset per-run state in
    ``on_train_begin`` so one instance can be reused across ``fit`` calls.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> class CountEpochs(dn.callbacks.Callback):
    ...     def on_train_begin(self, logs=None):
    ...         self.epochs = 0
    ...     def on_epoch_end(self, epoch, logs=None):
    ...         self.epochs += 1
    >>> counter = CountEpochs()
    >>> _ = model.fit(x, y, epochs=3, callbacks=[counter], verbose=0)
    >>> counter.epochs
    3
    """

    def __init__(self):
        self.model = None
        self.params: dict = {}

    def set_model(self, model) -> None:
        self.model = model

    def set_params(self, params: dict) -> None:
        self.params = params

    # training
    def on_train_begin(self, logs=None): ...
    def on_train_end(self, logs=None): ...
    def on_epoch_begin(self, epoch, logs=None): ...
    def on_epoch_end(self, epoch, logs=None): ...
    def on_train_batch_begin(self, batch, logs=None): ...
    def on_train_batch_end(self, batch, logs=None): ...
    # evaluation
    def on_test_begin(self, logs=None): ...
    def on_test_end(self, logs=None): ...
    def on_test_batch_begin(self, batch, logs=None): ...
    def on_test_batch_end(self, batch, logs=None): ...
    # prediction
    def on_predict_begin(self, logs=None): ...
    def on_predict_end(self, logs=None): ...
    def on_predict_batch_begin(self, batch, logs=None): ...
    def on_predict_batch_end(self, batch, logs=None): ...

    # Keras 2 aliases
    def on_batch_begin(self, batch, logs=None): ...
    def on_batch_end(self, batch, logs=None): ...

    # state for exact resume (BackupAndRestore); subclasses with counters override
    def get_state(self) -> dict:
        return {}

    def set_state(self, state: dict) -> None:
        pass


def _overrides(cb: Callback, hook: str) -> bool:
    """True when ``cb`` defines ``hook`` itself (in its class or as an instance attribute)."""
    return hook in vars(cb) or getattr(type(cb), hook, None) is not getattr(Callback, hook)


class LazyLogs(Mapping):
    """A read-only mapping whose values are produced on first access (no device sync otherwise).

    >>> logs = dn.callbacks.LazyLogs(lambda: {"loss": 0.5})
    >>> logs["loss"], list(logs)
    (0.5, ['loss'])
    """

    def __init__(self, compute: Callable[[], dict]):
        self._compute = compute
        self._values: dict | None = None

    def _get(self) -> dict:
        if self._values is None:
            self._values = self._compute()
        return self._values

    def __getitem__(self, key):
        return self._get()[key]

    def __iter__(self):
        return iter(self._get())

    def __len__(self):
        return len(self._get())

    def __repr__(self):
        return repr(self._get())


class CallbackList:
    """Dispatches hooks; batch hooks run only if some callback overrides them.

    >>> cbs = dn.callbacks.CallbackList([dn.callbacks.History()], model=None, params={})
    >>> cbs.wants_batch_hooks("train")
    False
    """

    def __init__(self, callbacks, model, params: dict):
        self.callbacks: list[Callback] = self.normalize(callbacks)
        for cb in self.callbacks:
            if not isinstance(cb, Callback):
                raise TypeError(
                    f"callbacks must be deepnet.callbacks.Callback instances; received {type(cb).__name__}. "
                    "help: subclass deepnet.callbacks.Callback or use LambdaCallback."
                )
            cb.set_model(model)
            cb.set_params(params)
        self._batch_cbs = {
            kind: [cb for cb in self.callbacks if any(_overrides(cb, h) for h in hooks)]
            for kind, hooks in {
                "train": ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end"),
                "test": ("on_test_batch_begin", "on_test_batch_end"),
                "predict": ("on_predict_batch_begin", "on_predict_batch_end"),
            }.items()
        }

    @staticmethod
    def normalize(callbacks) -> list:
        """``callbacks`` as a list: ``None`` is empty, a single callback a list of one (as in
        Keras); anything else must be a list or tuple.

        >>> CallbackList.normalize(History())
        [<History epochs=0 keys=[]>]
        """
        if callbacks is None:
            return []
        if isinstance(callbacks, Callback):
            return [callbacks]
        if not isinstance(callbacks, (list, tuple)):
            raise TypeError(
                f"Received an invalid value for `callbacks`, expected a list of deepnet.callbacks.Callback instances. "
                f"Received: callbacks={callbacks!r:.80}\nhelp: wrap it in a list, e.g. callbacks=[EarlyStopping()]."
            )
        return list(callbacks)

    def wants_batch_hooks(self, kind: str) -> bool:
        return bool(self._batch_cbs[kind])

    def call(self, hook: str, *args) -> None:
        if args and args[-1] is None:  # Keras hands every hook a dict, never None
            args = (*args[:-1], {})
        for cb in self.callbacks:
            getattr(cb, hook)(*args)

    def batch_begin(self, kind: str, batch: int, logs=None) -> None:
        logs = {} if logs is None else logs
        for cb in self._batch_cbs[kind]:
            getattr(cb, f"on_{kind}_batch_begin")(batch, logs)
            if kind == "train":
                cb.on_batch_begin(batch, logs)

    def batch_end(self, kind: str, batch: int, logs: Any = None) -> None:
        for cb in self._batch_cbs[kind]:
            getattr(cb, f"on_{kind}_batch_end")(batch, logs)
            if kind == "train":
                cb.on_batch_end(batch, logs)


class History(Callback):
    """Records epoch logs: ``history.history == {"loss": [...], "val_loss": [...], ...}``.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> x, y = np.ones((8, 2)), np.ones(8)
    >>> history = model.fit(x, y, epochs=2, verbose=0)
    >>> history.epoch, sorted(history.history)
    ([0, 1], ['loss'])
    """

    def __init__(self):
        super().__init__()
        self.history: dict[str, list] = {}
        self.epoch: list[int] = []

    def on_train_begin(self, logs=None):
        self.epoch = []
        self.history = {}

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        keys = ", ".join(self.history)
        return f"<History epochs={len(self.epoch)} keys=[{keys}]>"
