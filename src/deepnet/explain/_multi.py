"""Multi-input models: several inputs (a list, tuple or dict, as the model takes them) are
flattened per sample and concatenated into one ``(N, D)`` tensor that a wrapper module splits
back before calling the model. Every single-input method then works unchanged on the flat
input, and its attributions are split back into one array per input, each of that input's
shape. Sums over all inputs (integrated gradients' completeness) are unchanged by the
flattening.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from ..utils.tensors import device_and_dtype
from ..utils.validation import invalid_value
from ._common import to_tensor

__all__ = ["MULTI_INPUT_METHODS", "FlatInputs", "is_multi", "multi_baseline", "multi_options", "split"]

# Methods that work on multi-input models (Captum's tuple-of-inputs methods). Grad-CAM maps one
# layer's feature map onto one input's spatial axes, which several inputs do not have in common;
# KernelShap / LIME are for tabular inputs: they work when every input is (N, features).
MULTI_INPUT_METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "smoothgrad", "vargrad",
                       "deeplift", "deeplift_shap", "gradient_shap", "occlusion", "feature_ablation",
                       "guided_backprop", "kernel_shap", "lime")


def is_multi(model, x) -> bool:
    """Whether ``x`` holds several inputs: a dict, or a list/tuple of arrays for a model with
    several inputs (a single input given as a nested list of numbers is not)."""
    if isinstance(x, dict):
        return True
    if not isinstance(x, (list, tuple)) or len(x) < 2:
        return False
    if not all(isinstance(v, (np.ndarray, torch.Tensor)) for v in x):
        return False
    inputs = getattr(model, "inputs", None) if hasattr(model, "_functional") else None
    return inputs is None or len(inputs) > 1


class FlatInputs(nn.Module):
    """``model`` called on one flat ``(N, D)`` tensor: split into the inputs' shapes, passed as
    the list (or dict, with ``keys``) the model takes."""

    def __init__(self, model: nn.Module, shapes: list[tuple], keys: list | None):
        super().__init__()
        self.model, self.shapes, self.keys = model, shapes, keys
        self.sizes = [int(np.prod(s)) for s in shapes]

    @property
    def layers(self):
        return list(getattr(self.model, "layers", []))

    def unflatten(self, flat: torch.Tensor) -> list[torch.Tensor]:
        return [p.reshape(len(flat), *s) for p, s in zip(torch.split(flat, self.sizes, dim=1), self.shapes)]

    def forward(self, flat: torch.Tensor):
        parts = self.unflatten(flat)
        return self.model(dict(zip(self.keys, parts)) if self.keys is not None else parts)


def _as_list(owner: str, name: str, value, keys, n_inputs: int) -> list:
    if keys is not None:
        if not isinstance(value, dict) or set(value) != set(keys):
            raise invalid_value(owner, name, f"{type(value).__name__}", f"a dict with the keys of x {keys}")
        return [value[k] for k in keys]
    if not isinstance(value, (list, tuple)) or len(value) != n_inputs:
        raise invalid_value(owner, name, f"{type(value).__name__}",
                            f"a list of {n_inputs} entries, one per input, as x")
    return list(value)


def flatten(owner: str, model, x) -> tuple[FlatInputs, torch.Tensor]:
    """The wrapper module and the flat ``(N, D)`` float input of a multi-input ``x``."""
    keys = list(x) if isinstance(x, dict) else None
    parts = [x[k] for k in keys] if keys is not None else list(x)
    device, dtype = device_and_dtype(model)
    tensors = [to_tensor(owner, f"x[{k!r}]" if keys else f"x[{i}]", v, device)
               for i, (k, v) in enumerate(zip(keys or range(len(parts)), parts))]
    for i, t in enumerate(tensors):
        if not t.is_floating_point():
            raise invalid_value(owner, "x", f"integer input {keys[i] if keys else i}",
                                "float inputs for a multi-input model",
                                help="token inputs (into an Embedding) are explained on single-input models.")
        if t.ndim < 2 or len(t) != len(tensors[0]):
            raise invalid_value(owner, "x", f"inputs of shapes {[tuple(v.shape) for v in tensors]}",
                                "one batch (N, ...) per input, all with the same N")
    shapes = [tuple(t.shape[1:]) for t in tensors]
    flat = torch.cat([t.reshape(len(t), -1).to(dtype) for t in tensors], 1)
    return FlatInputs(model, shapes, keys), flat


def split(wrapper: FlatInputs, flat: np.ndarray):
    """Flat attributions ``(N, D)`` as one array per input (a list, or a dict as x was)."""
    parts = [p.numpy() for p in wrapper.unflatten(torch.as_tensor(flat))]
    return dict(zip(wrapper.keys, parts)) if wrapper.keys is not None else parts


def multi_baseline(owner: str, wrapper: FlatInputs, baseline, n: int):
    """A per-input baseline (list / dict of numbers, one sample, one per sample or ``K``
    references) as a flat array for the single-input path; numbers and ``None`` pass through."""
    if baseline is None or not isinstance(baseline, (list, tuple, dict)) and np.ndim(baseline) == 0:
        return baseline
    parts = _as_list(owner, "baseline", baseline, wrapper.keys, len(wrapper.shapes))
    flat, rows = [], set()
    for p, shape in zip(parts, wrapper.shapes):
        a = np.asarray(p.detach().cpu() if isinstance(p, torch.Tensor) else p, dtype=np.float32)
        if a.ndim == 0:
            a = np.full((1, *shape), float(a), np.float32)
        elif a.shape == shape:
            a = a[None]
        elif a.shape[1:] != shape:
            raise invalid_value(owner, "baseline", f"an entry of shape {a.shape}",
                                f"a number, one sample {shape}, or (K or N, *{shape}) for that input")
        flat.append(a.reshape(len(a), -1))
        rows.add(len(a))
    m = max(rows)
    if rows - {1, m}:
        raise invalid_value(owner, "baseline", f"entries with {sorted(rows)} rows", "the same number of rows")
    out = np.concatenate([np.broadcast_to(f, (m, f.shape[1])) for f in flat], 1)
    return out[0] if m == 1 else out


def _blocks(shape: tuple, window) -> np.ndarray:
    """Group ids of non-overlapping ``window`` blocks over one sample of ``shape``."""
    if window is None:
        window = (1,) if len(shape) == 1 else (*(max(1, s // 8) for s in shape[:-1]), shape[-1])
    window = (window,) * len(shape) if isinstance(window, int) else tuple(window)
    if len(window) != len(shape):
        raise invalid_value("explain.attribute", "window", window, f"{len(shape)} sizes for an input {shape}")
    grids = np.meshgrid(*[np.arange(s) // w for s, w in zip(shape, window)], indexing="ij")
    counts = [-(-s // w) for s, w in zip(shape, window)]
    return np.ravel_multi_index(grids, counts)


def multi_options(owner: str, wrapper: FlatInputs, name: str, opts: dict) -> tuple[str, dict]:
    """The method and options on the flat input: ``occlusion`` becomes feature ablation over
    non-overlapping windows (one per input, in its own axes); feature masks are concatenated."""
    if name not in MULTI_INPUT_METHODS:
        raise ValueError(f"{owner}: method {name!r} does not support multi-input models (its maps are drawn "
                         f"on one input's spatial axes).\nhelp: methods that do: {', '.join(MULTI_INPUT_METHODS)}.")
    if name in ("kernel_shap", "lime") and any(len(s) != 1 for s in wrapper.shapes) \
            and opts.get("feature_mask") is None:
        raise ValueError(f"{owner}: method {name!r} is for tabular inputs; the inputs have shapes "
                         f"{wrapper.shapes}.\nhelp: pass feature_mask= (one per input) or use 'occlusion' / "
                         f"'feature_ablation'.")
    n_inputs = len(wrapper.shapes)
    if name == "occlusion":
        if opts.get("strides") is not None:
            raise ValueError(f"{owner}: on multi-input models occlusion uses non-overlapping windows; "
                             f"received strides={opts['strides']!r}.\nhelp: leave strides=None.")
        windows = opts.get("window")
        windows = [windows] * n_inputs if windows is None or isinstance(windows, int) \
            else _as_list(owner, "window", windows, wrapper.keys, n_inputs)
        masks, offset = [], 0
        for shape, w in zip(wrapper.shapes, windows):
            m = _blocks(shape, w)
            masks.append(m.reshape(-1) + offset)
            offset += int(m.max()) + 1
        return "feature_ablation", {"feature_mask": np.concatenate(masks),
                                    "perturbations_per_eval": opts["perturbations_per_eval"]}
    if opts.get("feature_mask") is not None:
        masks = _as_list(owner, "feature_mask", opts["feature_mask"], wrapper.keys, n_inputs)
        opts = {**opts, "feature_mask": np.concatenate([np.asarray(m).reshape(-1) for m in masks])}
    return name, opts
