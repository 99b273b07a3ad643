"""``predict`` for any model, compiled or not: batches in inference mode, NumPy out."""

from __future__ import annotations

import torch

from ..utils import nest
from ..utils.tensors import eval_mode
from ._checks import CheckEnv, InputSpec, run_checks
from .callback_base import CallbackList
from .data import make_adapter
from .progress import ProgressReporter, resolve_verbose

__all__ = ["predict"]


def _model_device(model) -> torch.device:
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def predict(model, x, batch_size=None, verbose="auto", steps=None, callbacks=None, device=None, autocast=None):
    """Run ``model`` over ``x`` in batches (inference mode) and return NumPy arrays.

    ``x`` goes through the same conversion and checks as in ``fit`` (Input dtype, feature
    shape, NaN/inf), naming ``x`` in the errors.

    >>> model = dn.Sequential([dn.layers.Input((3,)), dn.layers.Dense(2)])
    >>> predict(model, np.ones((4, 3), dtype="int64"), verbose=0).shape
    (4, 2)
    """
    verbose = resolve_verbose(verbose)
    device = _model_device(model) if device is None else device
    spec = InputSpec(model, model.dtype)
    adapter = make_adapter(x, None, None, batch_size=batch_size, shuffle=False, steps=steps, device=device,
                           float_dtype=model.dtype, x_dtype_fn=spec.dtypes)
    run_checks(adapter, CheckEnv(model, spec))
    cbs = CallbackList(callbacks, model, {"steps": adapter.num_batches, "verbose": verbose})
    progress = ProgressReporter(2 if verbose else 0, None, adapter.num_batches, title="Predict")
    cbs.call("on_predict_begin", None)
    progress.epoch_begin(0)
    with eval_mode(model):  # each layer's own mode restored afterwards
        outputs = _run(model, adapter, cbs, autocast() if autocast is not None else None)
    progress.epoch_end(None, len(outputs), {})
    cbs.call("on_predict_end", None)
    if not outputs:
        raise ValueError("predict() received no batches.")
    return _concat(outputs)


def _run(model, adapter, cbs: CallbackList, cast) -> list:
    outputs: list = []
    want = cbs.wants_batch_hooks("predict")
    with torch.no_grad():
        for step, (xb, _, _) in enumerate(adapter):
            if want:
                cbs.batch_begin("predict", step, None)
            if cast is None:
                out = model(xb)
            else:
                with cast:
                    out = model(xb)
            outputs.append(nest.map_structure(lambda t: t.detach(), out))
            if want:
                cbs.batch_end("predict", step, {"outputs": out})
    return outputs


def _concat(outputs: list):
    first = outputs[0]
    if isinstance(first, torch.Tensor):
        merged = torch.cat(outputs)
        return merged.float().cpu().numpy() if first.is_floating_point() else merged.cpu().numpy()
    flat = [nest.flatten(o) for o in outputs]
    merged = [torch.cat([f[i] for f in flat]).cpu().numpy() for i in range(len(flat[0]))]
    return nest.pack_like(first, merged)
