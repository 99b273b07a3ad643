"""ProgbarLogger, RemoteMonitor and SwapEMAWeights: Keras 3's progress-bar, HTTP-logging and
moving-average callbacks."""

from __future__ import annotations

import json
import numbers
import urllib.error
import urllib.parse
import urllib.request
import warnings

from ..utils.progbar import Progbar
from ..utils.validation import Boolean, Interval, Real, String, validate_params
from .callback_base import Callback

__all__ = ["ProgbarLogger", "RemoteMonitor", "SwapEMAWeights"]


def _plain(value):
    """A JSON-able Python scalar from a float, a one-element tensor or a NumPy scalar/array."""
    if value is None or isinstance(value, (str, bool, int, float)) and not hasattr(value, "item"):
        return value
    if hasattr(value, "item") and (getattr(value, "size", None) == 1 or _numel(value) == 1):
        return value.item()
    return value.tolist() if hasattr(value, "tolist") else value


def _numel(value) -> int | None:
    numel = getattr(value, "numel", None)
    return numel() if callable(numel) else None


class ProgbarLogger(Callback):
    """Prints a :class:`~deepnet.utils.Progbar` per epoch (and per evaluate/predict run) with the
    batch logs, at the ``verbose`` level of the ``fit`` call (Keras 3).

    ``fit`` draws its own progress output for ``verbose=1``/``2``: pass a ProgbarLogger where a
    Keras program does, and expect one bar from each.

    >>> import io, contextlib
    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> out = io.StringIO()
    >>> with contextlib.redirect_stdout(out):
    ...     _ = model.fit(np.zeros((4, 2)), np.zeros((4, 1)), batch_size=2, verbose=2,
    ...                   callbacks=[dn.callbacks.ProgbarLogger()])
    >>> "2/2" in out.getvalue()
    True
    """

    def __init__(self):
        super().__init__()
        self.verbose = 1
        self.epochs = 1
        self.progbar = None
        self._training = False

    def set_params(self, params: dict) -> None:
        super().set_params(params)
        verbose = params.get("verbose", 1)
        self.verbose = 1 if verbose == "auto" else int(verbose)
        self.epochs = params.get("epochs", 1)

    def _new_bar(self):
        self.progbar = Progbar(self.params.get("steps"), verbose=self.verbose, unit_name="step")

    def on_train_begin(self, logs=None):
        self._training = True

    def on_train_end(self, logs=None):
        self._training = False

    def on_epoch_begin(self, epoch, logs=None):
        self._new_bar()
        if self.verbose and self.epochs > 1:
            print(f"Epoch {epoch + 1}/{self.epochs}")

    def on_train_batch_end(self, batch, logs=None):
        self._update(batch, logs)

    def on_test_begin(self, logs=None):
        if not self._training:
            self._new_bar()

    def on_test_batch_end(self, batch, logs=None):
        if not self._training:
            self._update(batch, logs)

    def on_predict_begin(self, logs=None):
        self._new_bar()

    def on_predict_batch_end(self, batch, logs=None):
        self._update(batch, None)

    def on_epoch_end(self, epoch, logs=None):
        self._finish(logs)

    def on_test_end(self, logs=None):
        if not self._training:
            self._finish(logs)

    def on_predict_end(self, logs=None):
        self._finish(None)

    def _update(self, batch, logs):
        if self.progbar is not None:
            values = [(k, _plain(v)) for k, v in (logs or {}).items() if isinstance(_plain(v), numbers.Number)]
            self.progbar.update(batch + 1, values, finalize=False)

    def _finish(self, logs):
        if self.progbar is None:
            return
        values = [(k, _plain(v)) for k, v in (logs or {}).items() if isinstance(_plain(v), numbers.Number)]
        self.progbar.update(max(self.progbar._seen_so_far, 1) if self.progbar.target is None
                            else self.progbar.target, values, finalize=True)
        self.progbar = None


class RemoteMonitor(Callback):
    """POSTs the epoch's logs to an HTTP server at the end of each epoch (Keras 3), with the
    standard library (no ``requests`` needed).

    The payload is ``{"epoch": epoch, **logs}``: as JSON when ``send_as_json``, else form-encoded
    as ``field=<json>``. An unreachable server gives a warning, not an error. ``timeout``
    (seconds, deepnet's addition) bounds each request.

    >>> cb = dn.callbacks.RemoteMonitor(root="http://localhost:9000", send_as_json=True)
    >>> cb.root + cb.path
    'http://localhost:9000/publish/epoch/end/'
    """

    @validate_params({"root": String(), "path": String(), "field": String(), "headers": None,
                      "send_as_json": None,
                      "timeout": Interval(Real, 0, None, closed="neither")})
    def __init__(self, root="http://localhost:9000", path="/publish/epoch/end/", field="data", headers=None,
                 send_as_json=False, timeout=10.0):
        super().__init__()
        if headers is not None and not (isinstance(headers, dict) and all(
                isinstance(k, str) and isinstance(v, str) for k, v in headers.items())):
            raise TypeError("Received an invalid value for `headers` of RemoteMonitor, expected a dict of "
                            f"str to str or None. Received: headers={headers!r}")
        self.root = root
        self.path = path
        self.field = field
        self.headers = headers
        self.send_as_json = bool(send_as_json)
        self.timeout = timeout

    def _request(self, payload: dict) -> urllib.request.Request:
        headers = dict(self.headers or {})
        if self.send_as_json:
            body = json.dumps(payload).encode()
            headers.setdefault("Content-Type", "application/json")
        else:
            body = urllib.parse.urlencode({self.field: json.dumps(payload)}).encode()
            headers.setdefault("Content-Type", "application/x-www-form-urlencoded")
        return urllib.request.Request(self.root + self.path, data=body, headers=headers, method="POST")

    def on_epoch_end(self, epoch, logs=None):
        payload = {"epoch": epoch, **{k: _plain(v) for k, v in (logs or {}).items()}}
        try:
            with urllib.request.urlopen(self._request(payload), timeout=self.timeout) as response:
                response.read()
        except (urllib.error.URLError, OSError) as error:
            warnings.warn(f"Could not reach RemoteMonitor root server at {self.root} ({error}).", stacklevel=2)


class SwapEMAWeights(Callback):
    """Evaluate and predict with the optimizer's moving average of the weights (Keras 3).

    The model's optimizer must be created with ``use_ema=True``. Before ``evaluate``/``predict``
    the weights are exchanged in place with their moving averages, and exchanged back after.
    With ``swap_on_epoch=True`` the averages are also in the model from each ``on_epoch_end`` to
    the next ``on_epoch_begin``, so callbacks listed after this one (e.g. ``ModelCheckpoint``)
    see them; after the last epoch the averages stay in the model.

    >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer=dn.optimizers.SGD(0.1, use_ema=True), loss="mse")
    >>> swap = dn.callbacks.SwapEMAWeights()
    >>> _ = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=2, verbose=0, callbacks=[swap])
    >>> _ = model.evaluate(np.ones((4, 2)), np.ones((4, 1)), verbose=0, callbacks=[swap])
    """

    @validate_params({"swap_on_epoch": Boolean()})
    def __init__(self, swap_on_epoch=False):
        super().__init__()
        self.swap_on_epoch = swap_on_epoch
        self._ema_in_model = False

    def _set(self, ema_in_model: bool) -> None:
        if ema_in_model != self._ema_in_model:
            self.model.optimizer.swap_ema_weights()
            self._ema_in_model = ema_in_model

    def on_epoch_begin(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._set(False)

    def on_epoch_end(self, epoch, logs=None):
        if self.swap_on_epoch:
            self._set(True)
            if epoch == self.params.get("epochs", 0) - 1:
                self.model.optimizer.reset_ema_weights()  # fit ends with the averages in the model

    def on_test_begin(self, logs=None):
        self._set(True)

    def on_test_end(self, logs=None):
        self._set(False)

    def on_predict_begin(self, logs=None):
        self._set(True)

    def on_predict_end(self, logs=None):
        self._set(False)
