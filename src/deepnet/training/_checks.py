"""One checking pipeline for every input path of ``fit``/``evaluate``/``predict``/``*_on_batch``.

Arrays and tensors are checked whole, once per call; a Dataset, DataLoader or generator is
checked on its first batch (which is then trained on as usual). Each check is one small
function ``check(view, env)`` and the tables below say which run: the feature checks for every
call, the target checks when there are labels and a compiled loss. Errors name the argument
(``x``, ``y``, ``sample_weight``, ``validation_data``), what was expected and what was received.
Nothing here runs per training step.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from ..utils import nest
from ..utils.formatting import format_shape as _fmt_shape
from ..utils.lazy import lazy_import
from . import _custom_step as _custom
from .data import ArgNames

_config = lazy_import("deepnet.config")  # fit's debugging caps
_losses = lazy_import("deepnet.losses")  # imported on first use: `import deepnet` stays fast

__all__ = [
    "FEATURE_CHECKS", "TARGET_CHECKS", "CheckEnv", "DataView", "InputSpec", "class_weights_to_sample_weights",
    "output_classes", "run_checks", "unpack_validation",
]


class InputSpec:
    """What a model's Input layers expect (per-sample shape and dtype), by position and name.

    A model without Input layers (a subclass that was never called symbolically) has no spec:
    its data is converted as before (floats to the model dtype, small ints to int64).
    """

    def __init__(self, model, float_dtype: torch.dtype):
        self.model_name = getattr(model, "name", type(model).__name__)
        self.float_dtype = float_dtype
        try:
            self.inputs = list(model.inputs or [])
        except (AttributeError, ValueError):
            self.inputs = []
        struct = getattr(model, "_input_struct", None) if getattr(model, "_functional", False) else None
        if isinstance(struct, dict):
            self.names = list(struct)
        else:
            self.names = [getattr(getattr(t.node, "layer", None), "name", None) if t.node is not None else None
                          for t in self.inputs]

    def leaves(self, x) -> list:
        """The Input tensor matching each leaf of ``x`` (``None`` where it cannot be told)."""
        flat = nest.flatten(x)
        if not self.inputs:
            return [None] * len(flat)
        if isinstance(x, dict):
            by_name = dict(zip(self.names, self.inputs))
            return [by_name.get(k) if not isinstance(v, (list, tuple, dict)) else None for k, v in x.items()]
        if len(flat) == len(self.inputs):
            return list(self.inputs)
        return [None] * len(flat)

    def dtypes(self, x) -> list:
        """The dtype each leaf of ``x`` is cast to: the Input's (the model's float dtype for
        floating Inputs), ``None`` where unknown.

        >>> model = dn.Sequential([dn.layers.Input((2,)), dn.layers.Dense(1)])
        >>> InputSpec(model, torch.float32).dtypes(np.ones((3, 2), dtype="int64"))
        [torch.float32]
        """
        out = []
        for spec in self.leaves(x):
            if spec is None:
                out.append(None)
            else:
                out.append(self.float_dtype if spec.dtype.is_floating_point else spec.dtype)
        return out


class DataView:
    """The data the checks look at: all samples (``whole``) or the first batch of an iterable."""

    # A plain class: a dataclass costs `import deepnet` time.
    def __init__(self, x: Any, y: Any, sample_weight: Any, whole: bool, names: ArgNames):
        self.x = x
        self.y = y
        self.sample_weight = sample_weight
        self.whole = whole
        self.names = names

    def sample(self, index: int) -> str:
        """How a message names sample ``index``: ``"sample 3"`` or ``"sample 3 (first batch ...)"``."""
        if self.whole:
            return f"sample {self.names.offset + index}"
        return f"sample {index}{self.names.where}"


class CheckEnv:
    """What the checks compare the data against: the model's Input spec and, for the target
    checks, the trainer (losses and the predicted shapes of the first batch)."""

    def __init__(self, model, spec: InputSpec, trainer=None, first_batch=None):
        self.model = model
        self.spec = spec
        self.trainer = trainer
        self._first_batch = first_batch
        self._pred_shapes = None

    def pred_shapes(self) -> list[tuple]:
        """Per-output prediction shapes ``(None, ...)`` (from the first batch, cached by the trainer)."""
        if self._pred_shapes is None:
            self._pred_shapes = self.trainer.output_shapes(self._first_batch()[0])
        return self._pred_shapes


# ---------------------------------------------------------------------------- the checks


def _first_bad_sample(t: torch.Tensor) -> int | None:
    """Index of the first sample holding NaN/inf, or None (one device sync)."""
    finite = torch.isfinite(t)
    if bool(finite.all()):
        return None
    bad = ~finite
    if t.dim() > 1:
        bad = bad.any(dim=tuple(range(1, t.dim())))
    return int(bad.nonzero()[0, 0])


def _check_finite(view: DataView, data, what: str, help: str) -> None:
    for t in nest.flatten(data):
        if not t.is_floating_point():
            continue
        bad = _first_bad_sample(t)
        if bad is not None:
            raise ValueError(f"{what} contains NaN or infinite values (first at {view.sample(bad)}). help: {help}")


def check_input_count(view: DataView, env: CheckEnv) -> None:
    """As many arrays in ``x`` as the model has inputs; dict keys name existing inputs."""
    spec, x = env.spec, view.x
    n = len(spec.inputs)
    if not n:
        return
    shapes = ", ".join(_fmt_shape(t.shape) for t in spec.inputs)
    if isinstance(x, dict):
        missing = [k for k in spec.names if k not in x]
        if missing:
            raise ValueError(
                f"Model {spec.model_name!r} expects inputs named {spec.names}; {view.names.x}{view.names.where} "
                f"has keys {list(x)} (missing {missing}). help: pass a dict with one array per input name."
            )
        return
    k = len(nest.flatten(x))
    if k != n:
        raise ValueError(
            f"Model {spec.model_name!r} expects {n} input(s) ({shapes}); {view.names.x}{view.names.where} holds "
            f"{k} array(s). help: pass {'one array' if n == 1 else 'a list (or dict) with one array per input'}."
        )


def check_feature_shapes(view: DataView, env: CheckEnv) -> None:
    """Every feature array has the per-sample shape of its Input (up to a trailing axis of size
    1, which the model adds or drops as Keras does)."""
    for spec, t in zip(env.spec.leaves(view.x), nest.flatten(view.x)):
        if spec is None:
            continue
        e, g = tuple(spec.shape), tuple(t.shape)
        shown = g
        if len(g) == len(e) - 1 and e[-1] == 1:  # Keras adds a trailing axis of size 1 ...
            g = (*g, 1)
        elif len(g) == len(e) + 1 and g[-1] == 1:  # ... or drops one
            g = g[:-1]
        if len(e) != len(g) or any(a is not None and a != b for a, b in zip(e[1:], g[1:])):
            raise ValueError(
                f"Model {env.spec.model_name!r} expects input of shape {_fmt_shape(e)}; "
                f"{view.names.x}{view.names.where} has shape {shown} (per sample {shown[1:]} vs expected {tuple(e[1:])}). "
                "help: reshape the data or change the Input shape."
            )


def check_feature_values(view: DataView, env: CheckEnv) -> None:
    """No NaN or infinite feature values."""
    _check_finite(view, view.x, f"{view.names.x}{view.names.where}",
                  "clean or impute the data (deepnet.diagnose.data(x, y) lists the problems) before training.")


def check_target_values(view: DataView, env: CheckEnv) -> None:
    """No NaN or infinite labels."""
    _check_finite(view, view.y, f"{view.names.y}{view.names.where}",
                  "drop or fix the samples whose labels are missing before training.")


def check_sample_weight_values(view: DataView, env: CheckEnv) -> None:
    """Sample weights are finite and not negative."""
    sw = view.sample_weight
    if sw is None:
        return
    what = f"{view.names.sample_weight}{view.names.where}"
    _check_finite(view, sw, what, "give every sample a finite weight (0 to ignore a sample).")
    if sw.numel() and bool((sw < 0).any()):
        bad = (sw < 0).reshape(len(sw), -1).any(dim=1).nonzero()[0, 0]
        raise ValueError(f"{what} contains negative weights (first at {view.sample(int(bad))}: "
                         f"{float(sw.reshape(len(sw), -1)[bad].min()):g}). help: weights must be >= 0.")


def check_labels(view: DataView, env: CheckEnv) -> None:
    """Labels fit each output's loss: shape against the predictions, values (class ids in
    range, binary labels in [0, 1]) against the number of output units."""
    trainer = env.trainer
    if _custom.custom_fit(trainer) or _custom.custom_evaluate(trainer):
        return  # the model's own train_step/test_step decides what the labels are (Keras checks none)
    what = f"{view.names.y}{view.names.where}"
    for fn, yt, pred_shape in zip(trainer.losses, trainer.split_targets(view.y, what), env.pred_shapes()):
        if fn is None:
            continue
        try:
            _losses.check_targets(fn, (None, *yt.shape[1:]), pred_shape, yt)
        except ValueError as e:
            raise ValueError(f"Invalid labels in {what}: {e}") from None


#: Run on the features of every call (fit, evaluate, predict, *_on_batch; validation data too).
FEATURE_CHECKS = (check_input_count, check_feature_shapes, check_feature_values)
#: Run when there are labels and a compiled model.
TARGET_CHECKS = (check_target_values, check_sample_weight_values, check_labels)


def run_checks(adapter, env: CheckEnv) -> DataView:
    """Run the check tables on what ``adapter`` holds (all samples, or its first batch)."""
    x, y, sw, whole = adapter.check_view()
    view = DataView(x, y, sw, whole, adapter.names)
    for check in FEATURE_CHECKS:
        check(view, env)
    if y is not None and env.trainer is not None:
        if env._first_batch is None:
            env._first_batch = adapter.first_batch
        for check in TARGET_CHECKS:
            check(view, env)
    return view


# ---------------------------------------------------------------------------- fit arguments


def config_caps(epochs: int, steps_per_epoch: int | None) -> tuple[int, int | None]:
    """``fit``'s ``epochs`` and ``steps_per_epoch`` under the debugging caps of
    ``deepnet.config.set_max_epochs`` / ``set_max_steps_per_epoch`` (Keras' rule: the smaller
    value wins, with a warning; ``None`` caps nothing).

    >>> config_caps(10, None)
    (10, None)
    """
    max_epochs, max_steps = _config.max_epochs(), _config.max_steps_per_epoch()
    if max_epochs and max_epochs < epochs:
        warnings.warn(f"Limiting epochs to {max_epochs} (deepnet.config.set_max_epochs).", stacklevel=5)
        epochs = max_epochs
    if max_steps and (not steps_per_epoch or max_steps < steps_per_epoch):
        warnings.warn(f"Limiting steps_per_epoch to {max_steps} (deepnet.config.set_max_steps_per_epoch).",
                      stacklevel=5)
        steps_per_epoch = max_steps
    return epochs, steps_per_epoch


def unpack_validation(data):
    """``validation_data`` as ``(x, y, sample_weight)``.

    >>> unpack_validation((np.zeros((2, 1)), np.zeros(2)))[2] is None
    True
    """
    if isinstance(data, (list, tuple)):
        if len(data) == 2:
            return data[0], data[1], None
        if len(data) == 3:
            return data[0], data[1], data[2]
        raise ValueError(
            f"`validation_data` must be (x_val, y_val) or (x_val, y_val, sample_weight); received a {type(data).__name__} "
            f"of length {len(data)}."
        )
    if isinstance(data, (str, bytes, int, float, np.ndarray, torch.Tensor)) or data is None:
        raise TypeError(f"`validation_data` must be a tuple (x_val, y_val[, sample_weight]), a Dataset, a DataLoader "
                        f"or a generator; received {type(data).__name__}.")
    return data, None, None


def output_classes(model) -> int | None:
    """Number of classes the model's single output can express (units; 2 for one sigmoid unit),
    or None when unknown.

    >>> output_classes(dn.Sequential([dn.layers.Input((4,)), dn.layers.Dense(3)]))
    3
    """
    try:
        outputs = list(model.outputs or [])
    except (AttributeError, ValueError):
        return None
    if len(outputs) != 1 or not outputs[0].shape or outputs[0].shape[-1] is None:
        return None
    units = int(outputs[0].shape[-1])
    return 2 if units == 1 else units


def _class_ids(y) -> np.ndarray:
    y_np = y.detach().cpu().numpy() if isinstance(y, torch.Tensor) else np.asarray(y)
    if y_np.ndim > 1 and y_np.shape[-1] > 1:
        return y_np.argmax(axis=-1).astype(np.int64)
    ids = y_np.reshape(len(y_np), -1)[:, 0]
    if ids.dtype.kind == "f":
        ids = np.round(ids)
    return ids.astype(np.int64)


def _check_class_weight_table(class_weight: dict, n_classes: int | None) -> None:
    for k, w in class_weight.items():
        if isinstance(k, bool) or not isinstance(k, (int, np.integer)):
            raise TypeError(f"`class_weight` keys must be integer class ids; received the key {k!r}.")
        if isinstance(w, bool) or not isinstance(w, (int, float, np.integer, np.floating)) or not math.isfinite(w):
            raise ValueError(f"`class_weight` must map class ids to finite numbers; received {k}: {w!r}.")
        if n_classes is not None and not 0 <= int(k) < n_classes:
            raise ValueError(
                f"`class_weight` has a weight for class {k}, but the model's output can only predict classes "
                f"0..{n_classes - 1} ({n_classes if n_classes > 2 else 1} output unit(s)). help: remove that "
                f"entry, or give the last layer {int(k) + 1} units if there are that many classes."
            )


def class_weights_to_sample_weights(class_weight, y, sample_weight, n_classes: int | None = None):
    """Per-sample weights from ``class_weight`` (times ``sample_weight`` if given).

    >>> class_weights_to_sample_weights({0: 1.0, 1: 3.0}, np.array([0, 1, 1]), None, n_classes=2)
    array([1., 3., 3.], dtype=float32)
    """
    if not isinstance(class_weight, dict):
        raise TypeError(f"`class_weight` must be a dict {{class_index: weight}}; received {type(class_weight).__name__}.")
    if y is None or not isinstance(y, (np.ndarray, torch.Tensor)):
        raise ValueError("`class_weight` needs y as a single array of labels (sparse ids or one-hot).")
    _check_class_weight_table(class_weight, n_classes)
    ids = _class_ids(y)
    missing = sorted(set(np.unique(ids).tolist()) - {int(k) for k in class_weight})
    if missing:
        raise ValueError(f"`class_weight` has no weight for classes {missing[:10]} present in y.")
    table = np.zeros(max(int(ids.max()), *(int(k) for k in class_weight)) + 1, dtype=np.float32)
    for k, w in class_weight.items():
        if int(k) >= 0:
            table[int(k)] = float(w)
    weights = table[ids]
    if sample_weight is not None:
        sw = sample_weight.detach().cpu().numpy() if isinstance(sample_weight, torch.Tensor) else np.asarray(sample_weight)
        weights = weights * sw.astype(np.float32)
    return weights
