"""Gradient health: per-layer gradient norms, update-to-weight ratios and dead ReLU units.

Two entry points return the same :class:`GradientDiagnosis`:

* :class:`GradientMonitor` - a callback for ``fit(callbacks=[...])`` that samples training
  steps (by default the first batch of every epoch; ``every=N`` for every N-th step). On a
  sampled step it copies the weights before the update, reads the gradients after it and,
  through forward hooks attached for that step only, measures which ReLU units are silent for
  the whole batch. Unsampled steps cost one integer comparison; a model without the monitor
  pays nothing.
* :func:`gradients` - one forward/backward pass on one batch, without changing the weights,
  the gradients already stored or the normalization statistics.

Verdict rules (in this order; thresholds in :data:`THRESHOLDS`, overridable per call). The
"depth ratio" is the gradient norm of the first weight layer (one holding a >= 2-D kernel)
divided by that of the last, the median over the sampled steps:

1. **exploding_gradients** - a gradient is NaN/inf; or the global gradient norm exceeds
   ``exploding_norm`` (1e3); or the depth ratio exceeds ``exploding_ratio`` (1e3, gradients
   grow towards the input); or the global norm grew more than ``exploding_growth`` (1e2) times
   between the first and the last sampled step and ends above 1.
2. **dead_relus** - in some ReLU layer more than ``dead_fraction`` (50%) of the units output
   zero for every sample of a batch (latest epoch's average).
3. **vanishing_gradients** - the depth ratio is below ``vanishing_ratio`` (1e-3), or the first
   weight layer's gradient is below ``vanishing_relative`` (1e-7) times its weight norm.
4. **healthy** - none of the above. Update-to-weight ratios above ``update_high`` (0.1 per
   step) or below ``update_low`` (1e-7) add notes and remedies (learning rate too high/low).
"""

from __future__ import annotations

import math
from numbers import Integral

import numpy as np
import torch
from torch import nn

from .. import losses
from ..training.callback_base import Callback
from ..utils import nest
from ..utils.formatting import format_shape
from ..utils.validation import Interval, check
from ._gradients_analysis import analyse
from ._gradients_probe import DeadProbe, Group, layer_groups, measure, relu_modules
from ._gradients_result import GradientDiagnosis
from ._result import check_thresholds

__all__ = ["GradientDiagnosis", "GradientMonitor", "THRESHOLDS", "gradients"]

THRESHOLDS: dict[str, float] = {
    "vanishing_ratio": 1e-3,
    "vanishing_relative": 1e-7,
    "exploding_norm": 1e3,
    "exploding_ratio": 1e3,
    "exploding_growth": 1e2,
    "dead_fraction": 0.5,
    "update_high": 1e-1,
    "update_low": 1e-7,
}


# ----------------------------------------------------------------------------- callback


class GradientMonitor(Callback):
    """Records gradient health during ``fit``; ``result()`` returns a :class:`GradientDiagnosis`.

    Args:
        every: ``"epoch"`` (default: the first batch of every epoch) or an int N (every N-th
            training step, counted across epochs).
        track_updates: also measure ||weights after - weights before|| / ||weights|| on sampled
            steps (copies the trainable weights once per sampled step).
        track_dead: measure dead ReLU units with forward hooks attached for sampled steps only
            (skipped with ``jit_compile=True``: hooks would force a recompilation).
        dead_every: measure dead units on every ``dead_every``-th sampled step (default 1).
        thresholds: overrides for :data:`THRESHOLDS`.
        verbose: 1 prints the verdict when training ends.

    >>> model = dn.Sequential([dn.Input(shape=(4,)), dn.layers.Dense(8, activation="relu"),
    ...                        dn.layers.Dense(2)])
    >>> model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    >>> monitor = dn.diagnose.GradientMonitor()
    >>> _ = model.fit(np.random.rand(32, 4), np.arange(32) % 2, epochs=2, verbose=0, callbacks=[monitor])
    >>> result = monitor.result()
    >>> result.evidence["sampled_steps"], result.verdict
    (2, 'healthy')
    """

    def __init__(self, every="epoch", track_updates=True, track_dead=True, dead_every=1, thresholds=None, verbose=0):
        super().__init__()
        if every != "epoch" and (isinstance(every, bool) or not isinstance(every, int) or every < 1):
            raise ValueError(
                f"Received an invalid value for `every` of GradientMonitor, expected 'epoch' or a positive int "
                f"(steps). Received: every={every!r}"
            )
        if isinstance(dead_every, bool) or not isinstance(dead_every, int) or dead_every < 1:
            raise ValueError(
                f"Received an invalid value for `dead_every` of GradientMonitor, expected a positive int. "
                f"Received: dead_every={dead_every!r}"
            )
        self.every = every
        self.track_updates = bool(track_updates)
        self.track_dead = bool(track_dead)
        self.dead_every = dead_every
        self.thresholds = check_thresholds("GradientMonitor", THRESHOLDS, thresholds)
        self.verbose = verbose
        self._reset()

    def _reset(self) -> None:
        self.records: list[dict] = []
        self._groups: list[Group] = []
        self._relus: list = []
        self._step = 0
        self._epoch = 0
        self._sampled = False
        self._before = None
        self._probe = None
        self._notes: list[str] = []

    def on_train_begin(self, logs=None):
        self._reset()
        self._groups = layer_groups(self.model)
        self._relus = relu_modules(self.model) if self.track_dead else []
        trainer = getattr(self.model, "_trainer", None)
        if self._relus and trainer is not None and getattr(trainer, "jit_compile", False):
            self._relus = []
            self._notes.append("jit_compile=True: dead ReLU units were not measured (hooks would force recompiles).")
        if trainer is not None and getattr(trainer, "_scaler", None) is not None:
            self._notes.append("float16 loss scaling is active: gradient norms may include the loss scale.")

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def on_train_batch_begin(self, batch, logs=None):
        if self.every == "epoch":
            self._sampled = batch == 0
        else:
            self._sampled = self._step % self.every == 0
        if not self._sampled:
            return
        if self.track_updates:
            with torch.no_grad():
                self._before = [p.detach().clone() for g in self._groups for p in g.params]
        if self._relus and len(self.records) % self.dead_every == 0:
            self._probe = DeadProbe(self._relus)

    def on_train_batch_end(self, batch, logs=None):
        self._step += 1
        if not self._sampled:
            return
        self._sampled = False
        dead = self._probe.remove() if self._probe is not None else {}
        self._probe = None
        rec = measure(self._groups, self._before)
        self._before = None
        rec.update({"epoch": self._epoch + 1, "step": self._step, "dead": dead})
        self.records.append(rec)

    def on_train_end(self, logs=None):
        if self._probe is not None:  # training stopped inside a sampled step
            self._probe.remove()
            self._probe = None
        if self.verbose and self.records:
            print(self.result())

    def result(self) -> GradientDiagnosis:
        """The diagnosis of everything recorded so far."""
        return analyse(self._groups, self.records, [n for n, _, _ in self._relus], self.thresholds,
                        f"GradientMonitor(every={self.every!r})", list(self._notes))

    report = result


# ----------------------------------------------------------------------------- one-shot


def _to_tensor(a, dtype: torch.dtype, device, name: str) -> torch.Tensor:
    if not isinstance(a, torch.Tensor):
        a = np.asarray(a)
        if a.dtype.kind not in "biuf":
            raise TypeError(f"gradients(): `{name}` holds values of dtype {a.dtype}; expected numbers (floats, "
                            "ints or bools). help: encode text or categories as integer ids first.")
    t = a if isinstance(a, torch.Tensor) else torch.as_tensor(a)
    if t.is_floating_point():
        t = t.to(dtype)
    elif t.dtype in (torch.int32, torch.int16, torch.int8, torch.uint8):
        t = t.long()
    return t.to(device)


def _resolve_loss(loss, yb, y_pred):
    if isinstance(loss, (str, dict)) or isinstance(loss, type):
        return losses.as_loss(loss, y_true_shape=tuple(nest.flatten(yb)[0].shape),
                           y_pred_shape=tuple(nest.flatten(y_pred)[0].shape))
    if callable(loss):
        return loss
    raise TypeError(f"gradients(): `loss` must be a loss name, a deepnet.losses object or a callable "
                    f"f(y_true, y_pred); received {type(loss).__name__}.")


def _check_inputs(model, xb) -> None:
    """``x`` has the per-sample shape of the model's Input(s), as ``fit`` checks (a clear
    ValueError instead of torch's "mat1 and mat2 shapes cannot be multiplied")."""
    specs = getattr(model, "inputs", None) if not isinstance(xb, dict) else None
    if not specs:
        return
    leaves = nest.flatten(xb)
    if len(leaves) != len(specs):
        raise ValueError(f"gradients(): the model has {len(specs)} input(s); `x` holds {len(leaves)} array(s). "
                         "help: pass a list with one array per input.")
    for spec, t in zip(specs, leaves):
        e, g = tuple(spec.shape), tuple(t.shape)
        if len(e) != len(g) or any(a is not None and a != b for a, b in zip(e[1:], g[1:])):
            raise ValueError(f"gradients(): the model expects input of shape {format_shape(e)}; `x` has shape "
                             f"{g} (per sample {g[1:]} vs expected {e[1:]}). help: reshape the data or change "
                             "the Input shape.")


def _check_labels(loss, trainer, yb, y_pred) -> None:
    """Labels fit the loss and the predictions (label range, one-hot vs sparse), as ``fit`` checks."""
    loss_list = [loss] if loss is not None else list(getattr(trainer, "losses", None) or [])
    ys, preds = nest.flatten(yb), nest.flatten(y_pred)
    if not loss_list or len(loss_list) != len(ys) or len(ys) != len(preds):
        return
    for fn, y, p in zip(loss_list, ys, preds):
        if fn is None or not (isinstance(fn, (str, dict, losses.Loss)) or isinstance(fn, type)):
            continue
        try:
            losses.check_targets(fn, tuple(y.shape), tuple(p.shape), y)
        except ValueError as e:
            raise ValueError(f"gradients(): invalid labels in `y`: {e}") from e


def _one_step(model, xb, yb, loss, trainer, training: bool):
    """Forward and backward on one batch; (groups, ReLU layers, record, loss value). The stored
    gradients, normalization statistics and training flag are restored afterwards."""
    was_training = model.training
    buffers = {name: b.detach().clone() for name, b in model.named_buffers()}
    all_params = list(model.parameters())
    saved_grads = [p.grad for p in all_params]
    for p in all_params:
        p.grad = None
    probe = None
    try:
        model.train(training)
        if not getattr(model, "built", True):  # build lazily-built layers before walking them
            with torch.no_grad():
                model(xb)
        groups = layer_groups(model)
        if not groups:
            raise ValueError(f"gradients(): {type(model).__name__} has no trainable weights.")
        relus = relu_modules(model)
        probe = DeadProbe(relus)
        y_pred = model(xb)
        _check_labels(loss, trainer, yb, y_pred)
        value = trainer.compute_loss(yb, y_pred, None) if loss is None else _resolve_loss(loss, yb, y_pred)(yb, y_pred)
        if value.dim() > 0:
            value = value.mean()
        value.backward()
        dead = probe.remove()
        probe = None
        rec = measure(groups, None)
        rec.update({"epoch": 1, "step": 1, "dead": dead})
        return groups, relus, rec, float(value.detach())
    finally:
        if probe is not None:
            probe.remove()
        for p, g in zip(all_params, saved_grads):
            p.grad = g
        with torch.no_grad():
            named = dict(model.named_buffers())
            for name, b in buffers.items():
                if name in named:
                    named[name].copy_(b)
        model.train(was_training)


def gradients(model, x, y, loss=None, batch_size: int = 128, *, training: bool = True,
              thresholds: dict | None = None) -> GradientDiagnosis:
    """One forward/backward pass on the first ``batch_size`` samples; a :class:`GradientDiagnosis`.

    Args:
        model: a deepnet model (or any ``torch.nn.Module``).
        x, y: inputs and targets (NumPy arrays or tensors; lists/dicts for several inputs).
        loss: loss name, :mod:`deepnet.losses` object or callable ``f(y_true, y_pred)``; default:
            the compiled loss (with its regularization terms).
        batch_size: how many samples to use.
        training: run the forward pass in training mode (dropout on, batch statistics), as
            during ``fit``. Moving statistics and stored gradients are restored afterwards.
        thresholds: overrides for :data:`THRESHOLDS`.

    >>> model = dn.Sequential([dn.Input(shape=(4,)), dn.layers.Dense(8, activation="relu"),
    ...                        dn.layers.Dense(2)])
    >>> r = dn.diagnose.gradients(model, np.random.rand(16, 4), np.arange(16) % 2,
    ...                           loss="sparse_categorical_crossentropy")
    >>> r.verdict
    'healthy'
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"gradients() expects a deepnet model or torch.nn.Module; received {type(model).__name__}.")
    batch_size = check("gradients()", "batch_size", batch_size, Interval(Integral, 1, None))
    th = check_thresholds("gradients()", THRESHOLDS, thresholds)
    param = next(iter(model.parameters()), None)
    device = param.device if param is not None else torch.device("cpu")
    dtype = getattr(model, "dtype", None)
    dtype = dtype if isinstance(dtype, torch.dtype) and dtype.is_floating_point else torch.float32
    if x is None or y is None:
        raise ValueError(f"gradients(): `{'x' if x is None else 'y'}` is None; the gradient pass needs inputs `x` "
                         "and targets `y` to compute the loss. help: gradients(model, x_train, y_train).")
    xb = nest.map_structure(lambda a: _to_tensor(a, dtype, device, "x")[:batch_size], x)
    yb = nest.map_structure(lambda a: _to_tensor(a, dtype, device, "y")[:batch_size], y)
    trainer = getattr(model, "_trainer", None)
    if loss is None and trainer is None:
        raise ValueError(
            "gradients(): the model is not compiled, so there is no loss to differentiate. help: pass loss=..., "
            "e.g. gradients(model, x, y, loss='sparse_categorical_crossentropy'), or call model.compile(...) first."
        )
    _check_inputs(model, xb)
    groups, relus, rec, loss_value = _one_step(model, xb, yb, loss, trainer, training)
    notes = [] if math.isfinite(loss_value) else [f"The loss on this batch is {loss_value}."]
    result = analyse(groups, [rec], [n for n, _, _ in relus], th,
                      f"gradients(batch of {int(nest.flatten(xb)[0].shape[0])})", notes)
    result.evidence = {"loss": loss_value, **result.evidence}
    return result
