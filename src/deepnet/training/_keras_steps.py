"""Keras 3's overridable training steps on the torch backend (the loop that calls them:
:mod:`deepnet.training._custom_step`).

:class:`KerasStepAPI` gives every model Keras' ``train_step`` / ``test_step`` /
``predict_step`` / ``compute_loss`` / ``compute_metrics`` / ``metrics``. When a model
overrides one of them (or its compile has no loss, so the loss comes from ``add_loss`` or an
overridden ``compute_loss``), ``fit`` / ``evaluate`` / ``predict`` run the Keras loop
(``training._custom_step``) which calls the model's step once per batch and logs what it returns; otherwise the engine's
fused loop runs unchanged. Inside an overridden ``train_step`` the Keras 3 torch contract
holds: ``self.zero_grad()``, ``loss.backward()``, ``self.optimizer.apply(grads,
self.trainable_weights)`` (several optimizers set in an overridden ``compile`` work alike).
"""

from __future__ import annotations

import numpy as np
import torch

from ..layers.base import accepted_kwargs
from ..utils import nest
from ..utils.lazy import lazy_import

_metrics = lazy_import("deepnet.metrics")

__all__ = ["CompileMetrics", "KerasStepAPI", "flatten_logs", "pack_x_y_sample_weight", "tracked_metrics",
           "unpack_x_y_sample_weight"]


def unpack_x_y_sample_weight(data):
    """``(x, y, sample_weight)`` from a batch: ``x``, ``(x,)``, ``(x, y)`` or ``(x, y, sw)``.

    >>> from deepnet.training._keras_steps import unpack_x_y_sample_weight
    >>> unpack_x_y_sample_weight((1, 2))
    (1, 2, None)
    """
    if isinstance(data, list):
        data = tuple(data)
    if not isinstance(data, tuple):
        return data, None, None
    if len(data) == 1:
        return data[0], None, None
    if len(data) == 2:
        return data[0], data[1], None
    if len(data) == 3:
        return data
    raise ValueError(f"Data must be x, (x,), (x, y) or (x, y, sample_weight); received a tuple of {len(data)}.")


def pack_x_y_sample_weight(x, y=None, sample_weight=None):
    """What ``train_step(data)`` receives (Keras): ``x`` alone, ``(x, y)`` or ``(x, y, sw)``.

    >>> from deepnet.training._keras_steps import pack_x_y_sample_weight
    >>> pack_x_y_sample_weight("x"), pack_x_y_sample_weight("x", "y")
    ('x', ('x', 'y'))
    """
    if y is None and sample_weight is None:
        return (x,) if isinstance(x, (list, tuple)) else x
    if sample_weight is None:
        return (x, y)
    return (x, y, sample_weight)


class CompileMetrics:
    """The metrics given to ``compile`` as one entry of ``model.metrics`` (Keras'
    ``compile_metrics``): ``update_state(y, y_pred, sample_weight)`` updates them all and
    ``result()`` returns a dict of their values.

    >>> model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(1)])
    >>> model.compile(optimizer="sgd", loss="mse", metrics=["mae"])
    >>> [m.name for m in model.metrics]
    ['loss', 'compile_metrics']
    """

    name = "compile_metrics"

    def __init__(self, trainer):
        self._trainer = trainer

    def update_state(self, y_true, y_pred, sample_weight=None):
        self._trainer._update_metrics(y_true, y_pred, sample_weight)

    def result(self) -> dict:
        return self._trainer._metric_values()

    def reset_state(self):
        self._trainer.reset_metrics()

    @property
    def variables(self) -> list:
        return [v for objs in self._trainer.metric_objs or [] for m in objs for v in m.variables]


def keras_state(trainer):
    """The Keras bookkeeping a compiled model's trainer carries: the loss tracker and the
    compile metrics (created on first use)."""
    state = trainer.__dict__.get("_keras_state")
    if state is None:
        state = (_metrics.Mean(name="loss"), CompileMetrics(trainer))
        trainer.__dict__["_keras_state"] = state
    return state


def tracked_metrics(model) -> list:
    """Metric objects assigned as attributes of the model and its sublayers (Keras tracks
    them); sublayers that are models themselves keep theirs."""
    out, seen = [], set()
    for module in model.modules():
        if module is not model and isinstance(module, KerasStepAPI):
            continue
        for value in vars(module).values():
            if isinstance(value, _metrics.Metric) and id(value) not in seen:
                seen.add(id(value))
                out.append(value)
    return out


def flatten_logs(logs) -> dict:
    """Keras' log cleaning: nested dicts flattened, tensors and arrays to Python floats."""
    if not isinstance(logs, dict):
        return {} if logs is None else {"loss": logs}
    out = {}
    for key, value in logs.items():
        if isinstance(value, dict):
            out.update(flatten_logs(value))
        elif isinstance(value, torch.Tensor) and value.numel() == 1:
            out[key] = float(value.detach().cpu())
        elif isinstance(value, (np.ndarray, np.generic)) and value.size == 1:
            out[key] = float(value)
        elif isinstance(value, (int, float)) and not isinstance(value, bool):
            out[key] = float(value)
        else:
            out[key] = value
    return out


def _batch_size(x) -> int:
    return int(next(t for t in nest.flatten(x) if isinstance(t, torch.Tensor)).shape[0])


class KerasStepAPI:
    """Keras 3's overridable steps (mixed into every model through ``TrainingAPI``).

    >>> class Custom(dn.Model):
    ...     def train_step(self, data):
    ...         x, y = data
    ...         self.zero_grad()
    ...         loss = self.compute_loss(y=y, y_pred=self(x))
    ...         loss.backward()
    ...         self.optimizer.apply([w.grad for w in self.trainable_weights], self.trainable_weights)
    ...         return {"loss": loss}
    >>> x = dn.Input((2,))
    >>> model = Custom(x, dn.layers.Dense(1)(x))
    >>> model.compile(optimizer="sgd", loss="mse")
    >>> sorted(model.fit(np.ones((4, 2)), np.ones(4), verbose=0).history)
    ['loss']
    """

    def train_step(self, data):
        """One training step on ``data`` (``x``, ``(x, y)`` or ``(x, y, sample_weight)``);
        returns the logs. Override it for a custom step (see the class example)."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=True)
        self.zero_grad()
        loss = self._compute_loss_for_step(x, y, y_pred, sample_weight, training=True)
        trainer = self._require_compiled("train_step")
        keras_state(trainer)[0].update_state(loss.detach(), sample_weight=_batch_size(x))
        trainer.apply_gradients(loss)
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def test_step(self, data):
        """One evaluation step (no weight update); returns the logs."""
        x, y, sample_weight = unpack_x_y_sample_weight(data)
        y_pred = self(x, training=False)
        loss = self._compute_loss_for_step(x, y, y_pred, sample_weight, training=False)
        keras_state(self._require_compiled("test_step"))[0].update_state(loss.detach(), sample_weight=_batch_size(x))
        return self.compute_metrics(x, y, y_pred, sample_weight=sample_weight)

    def predict_step(self, data):
        """The model's outputs for one batch."""
        x, _, _ = unpack_x_y_sample_weight(data)
        return self(x, training=False)

    def _compute_loss_for_step(self, x, y, y_pred, sample_weight, training):
        # As Keras: ``training`` goes only to a compute_loss that declares it (Keras 3 programs
        # override it as ``compute_loss(self, x, y, y_pred, sample_weight, allow_empty=False)``).
        if "training" in accepted_kwargs(type(self).compute_loss)[0]:  # cached per function
            return self.compute_loss(x, y, y_pred, sample_weight, training=training)
        return self.compute_loss(x, y, y_pred, sample_weight)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        """The compiled loss plus every penalty and ``add_loss`` term of the latest call.

        >>> model = dn.Sequential([dn.Input((2,)), dn.layers.Dense(1, kernel_initializer="zeros")])
        >>> model.compile(optimizer="sgd", loss="mse")
        >>> float(model.compute_loss(y=torch.ones(3, 1), y_pred=model(torch.ones(3, 2))).detach())
        1.0
        """
        trainer = self._require_compiled("compute_loss")
        if y is not None and any(fn is not None for fn in trainer.losses):
            return trainer.compute_loss(y, y_pred, sample_weight)
        losses = [t.sum() for t in self.losses]
        if not losses:
            raise ValueError("No loss to compute. Provide a `loss` argument in `compile()`, call "
                             "`self.add_loss()` in a layer, or override `compute_loss()`.")
        return sum(losses[1:], losses[0])

    def compute_metrics(self, x, y, y_pred, sample_weight=None):
        """Update the compiled metrics and return every metric's value (``get_metrics_result``)."""
        trainer = self._trainer
        if trainer is not None and y is not None:
            trainer._update_metrics(y, y_pred, sample_weight)
        return self.get_metrics_result()

    def get_metrics_result(self) -> dict:
        """``{name: value}`` of ``self.metrics`` (dict results, such as the compile metrics', merged).

        >>> dn.Sequential([dn.Input((2,)), dn.layers.Dense(1)]).get_metrics_result()
        {}
        """
        out = {}
        for metric in self.metrics:
            value = metric.result()
            if isinstance(value, dict):
                out.update(value)
            else:
                out[metric.name] = value
        return out

    @property
    def metrics(self) -> list:
        """The loss tracker and compile metrics (once compiled), then the Metric objects set
        as attributes of the model and its layers (Keras order); reset each epoch by ``fit``.

        >>> dn.Sequential([dn.Input((2,)), dn.layers.Dense(1)]).metrics
        []
        """
        out = []
        trainer = self._trainer
        if trainer is not None:
            tracker, compiled = keras_state(trainer)
            out.append(tracker)
            if any(nest.flatten(trainer.metric_specs)) or any(nest.flatten(trainer.weighted_metric_specs)):
                out.append(compiled)
        return out + tracked_metrics(self)

    def reset_metrics(self) -> None:
        """Reset every metric in ``self.metrics``.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> model.reset_metrics()  # a no-op before compile
        """
        for metric in self.metrics:
            metric.reset_state()
