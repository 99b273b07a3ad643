"""The Keras loop of ``fit`` / ``evaluate`` / ``predict`` for models that override a step
(see :mod:`deepnet.training._keras_steps`), and the engine's ``add_loss`` and build-on-data
helpers."""

from __future__ import annotations

import numpy as np
import torch

from ..layers import Layer
from ..utils import nest, symbolic
from ..utils.tensors import eval_mode
from ._keras_steps import KerasStepAPI, flatten_logs, pack_x_y_sample_weight
from .callback_base import CallbackList, LazyLogs
from .data import make_adapter
from .progress import ProgressReporter, resolve_verbose

__all__ = ["build_from_data", "build_on_first_batch", "custom_evaluate", "custom_fit", "custom_predict", "evaluate", "layer_losses",
           "predict", "train_batch", "train_epoch"]


def _overrides(model, names) -> bool:
    cls = type(model)
    return any(getattr(cls, n) is not getattr(KerasStepAPI, n) for n in names)


def _no_compiled_loss(trainer) -> bool:
    return all(fn is None for fn in trainer.losses)


def custom_fit(trainer) -> bool:
    """Whether ``fit`` must call the model's ``train_step`` (an override, or no compiled loss)."""
    return _overrides(trainer.model, ("train_step", "compute_loss", "compute_metrics", "metrics")) or (
        _no_compiled_loss(trainer))


def custom_evaluate(trainer) -> bool:
    """Whether ``evaluate`` must call the model's ``test_step``."""
    return _overrides(trainer.model, ("test_step", "compute_loss", "compute_metrics", "metrics")) or (
        _no_compiled_loss(trainer))


def custom_predict(model) -> bool:
    """Whether ``predict`` must call the model's ``predict_step``."""
    return _overrides(model, ("predict_step",))


def _report(cbs, progress, want: bool, hook: str, step: int, steps: int, logs) -> None:
    running = lambda raw=logs: flatten_logs(raw)  # noqa: E731
    if want:
        cbs.batch_end(hook, step, LazyLogs(running))
    if progress is not None:
        progress.batch_end(steps, running)


def _step(trainer, data):
    cast = trainer._autocast()
    if cast is None:
        return trainer.model.train_step(data)
    with cast:
        return trainer.model.train_step(data)


def train_epoch(trainer, train, cbs, progress) -> tuple[int, dict]:
    """One epoch of ``fit`` through ``model.train_step``: ``(steps, epoch logs)``. With
    ``steps_per_execution=n`` the batch hooks and the progress bar see every n-th step, as in
    the built-in loop (``on_train_batch_begin`` at a group's first step, ``..._end`` at its last)."""
    model = trainer.model
    model.reset_metrics()
    want = cbs.wants_batch_hooks("train")
    report = want or progress.interactive
    every = max(1, int(getattr(trainer, "steps_per_execution", 1)))
    steps, logs = 0, {}
    for step, (xb, yb, swb) in enumerate(train):
        if want and step % every == 0:
            cbs.batch_begin("train", step, None)
        logs = _step(trainer, pack_x_y_sample_weight(xb, yb, swb))
        steps += 1
        if report and steps % every == 0:
            _report(cbs, progress, want, "train", step, steps, logs)
        if model.stop_training:
            break
    if report and steps % every and not model.stop_training:
        _report(cbs, progress, want, "train", steps - 1, steps, logs)
    return steps, flatten_logs(logs)


def train_batch(trainer, adapter) -> dict:
    """``train_on_batch`` through ``model.train_step``: the step's logs."""
    xb, yb, swb = next(iter(adapter))
    return flatten_logs(trainer.model.train_step(pack_x_y_sample_weight(xb, yb, swb)))


def evaluate(trainer, adapter, cbs) -> dict:
    """``evaluate`` (and fit's validation) through ``model.test_step``: the last step's logs."""
    model = trainer.model
    model.reset_metrics()
    want = cbs is not None and cbs.wants_batch_hooks("test")
    logs, steps = {}, 0
    with eval_mode(model):  # each layer's own mode restored afterwards
        with torch.no_grad():
            for step, (xb, yb, swb) in enumerate(adapter):
                if want:
                    cbs.batch_begin("test", step, None)
                logs = model.test_step(pack_x_y_sample_weight(xb, yb, swb))
                steps += 1
                if want:
                    _report(cbs, None, want, "test", step, steps, logs)
    return flatten_logs(logs)


def _to_numpy(out):
    return nest.map_structure(lambda t: t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else t, out)


def predict(model, x, batch_size=None, steps=None, device=None, verbose="auto", callbacks=None):
    """``predict`` through ``model.predict_step``: the outputs of all batches, concatenated, with
    the predict callbacks and the progress line of the built-in ``predict``."""
    if device is None:
        device = next((p.device for p in model.parameters()), torch.device("cpu"))
    verbose = resolve_verbose(verbose)
    adapter = make_adapter(x, batch_size=batch_size, shuffle=False, steps=steps, device=device,
                           float_dtype=model.dtype)
    cbs = CallbackList(callbacks, model, {"steps": adapter.num_batches, "verbose": verbose})
    progress = ProgressReporter(2 if verbose else 0, None, adapter.num_batches, title="Predict")
    want = cbs.wants_batch_hooks("predict")
    cbs.call("on_predict_begin", None)
    progress.epoch_begin(0)
    outputs = []
    with eval_mode(model):  # each layer's own mode restored afterwards
        with torch.no_grad():
            for step, (xb, _, _) in enumerate(adapter):
                if want:
                    cbs.batch_begin("predict", step, None)
                out = model.predict_step(pack_x_y_sample_weight(xb))
                outputs.append(_to_numpy(out))
                if want:
                    cbs.batch_end("predict", step, {"outputs": out})
    progress.epoch_end(None, len(outputs), {})
    cbs.call("on_predict_end", None)
    if not outputs:
        raise ValueError("predict() received no batches. help: check that the data is not empty.")
    leaves = [nest.flatten(o) for o in outputs]
    return nest.pack_like(outputs[0], [np.concatenate(parts, axis=0) for parts in zip(*leaves)])


# ---------------------------------------------------------------------------- engine helpers


def layer_losses(trainer, loss):
    """``loss`` plus the ``add_loss`` terms of the latest forward pass (nothing to do, and no
    cost beyond one check, until some layer has called ``add_loss``)."""
    if not Layer._add_loss_used:
        return loss
    for module in trainer.model.modules():
        terms = getattr(module, "_added_losses", None)
        if terms:
            for term in terms:
                loss = loss + term.sum()
    return loss


def _call_once(model, xb) -> None:
    with eval_mode(model), torch.no_grad(), symbolic.shape_inference(model):  # builds weights, changes no state
        model(xb)


def build_from_data(trainer, adapter) -> bool:
    """Build an unbuilt (subclassed or Input-less Sequential) model by calling it on the
    first batch, as Keras does at the start of ``fit``; True when ``_prepare`` must run again."""
    model = trainer.model
    if not model.built:
        _call_once(model, adapter.first_batch()[0])
    return trainer._step_fn is None  # _prepare() stopped early: run it now


def build_on_first_batch(trainer, x, batch_size=None) -> None:
    """Build an unbuilt model by calling it on the first batch of ``x`` (Keras builds a
    subclassed model in ``evaluate``, ``train_on_batch`` and ``test_on_batch`` as in ``fit``)."""
    model = trainer.model
    if model.built or x is None:
        return
    adapter = make_adapter(x, batch_size=batch_size, shuffle=False, device=trainer.device, float_dtype=model.dtype)
    _call_once(model, adapter.first_batch()[0])
