"""Helpers and the base classes: ``Metric``, ``Sum``, ``Mean``, ``MeanMetricWrapper``."""

from __future__ import annotations

import functools

import numpy as np
import torch

from .. import initializers as _initializers
from ..losses import EPSILON, squeeze_or_expand_to_same_rank
from ..utils import symbolic
from ..utils.lookup import wrapper_from_config
from ..utils.naming import to_snake_case, unique_name
from ..utils.validation import Integral, Interval, Real, check, invalid_value
from ..utils.variables import StateVariable, as_variable

NEG_INF = -1e10

#: Metric functions by name and names by function, for ``MeanMetricWrapper`` configs (filled by
#: ``_lookup`` once every metric module is loaded).
_FUNCTIONS: dict = {}
_FUNCTION_NAMES: dict = {}


def _tensor(x, dtype=None, device=None) -> torch.Tensor:
    """``x`` as a tensor; a tensor is converted only when its dtype/device differ."""
    if isinstance(x, torch.Tensor):
        if (dtype is not None and x.dtype != dtype) or (device is not None and x.device != device):
            return x.to(device=device, dtype=dtype)
        return x
    return torch.as_tensor(np.asarray(x), dtype=dtype, device=device)


def _pred(y_pred) -> torch.Tensor:
    if not isinstance(y_pred, torch.Tensor):
        return torch.as_tensor(np.asarray(y_pred), dtype=torch.float32)
    return y_pred if y_pred.is_floating_point() else y_pred.to(torch.float32)


def _safe_divide(num, den):
    zero = den == 0
    return torch.where(zero, torch.zeros_like(num), num / torch.where(zero, torch.ones_like(den), den))


def _owner_error(owner, name, expected, value):
    """The standard invalid-argument error (utils.validation wording)."""
    return invalid_value(owner, name, value, expected)


def _check_dtype(owner, dtype):
    if dtype is None:
        return "float32", torch.float32
    torch_dtype = dtype if isinstance(dtype, torch.dtype) else getattr(torch, str(dtype), None)
    if not isinstance(torch_dtype, torch.dtype) or not torch_dtype.is_floating_point:
        raise invalid_value(owner, "dtype", dtype, "a floating dtype name such as 'float32'")
    return str(torch_dtype).replace("torch.", ""), torch_dtype


def _check_int(owner, name, value, low=1):
    return check(owner, name, value, Interval(Integral, low, None, description=f"an int >= {low}"))


_THRESHOLD = Interval(Real, 0, 1)


def _check_thresholds(owner, thresholds):
    values = thresholds if isinstance(thresholds, (list, tuple)) else [thresholds]
    if not values or not all(_THRESHOLD.accepts(t) for t in values):
        raise invalid_value(owner, "thresholds", thresholds, "a float or a non-empty list of floats in [0, 1]")
    return [float(t) for t in values]


def _evenly_distributed(thresholds) -> bool:
    n = len(thresholds)
    if n < 3:
        return False
    even = np.arange(n, dtype=np.float32) / (n - 1)
    return bool(np.allclose(thresholds, even, atol=EPSILON))


class Metric:
    """Base class of stateful metrics.

    Subclasses create their state with ``self.add_variable(shape, initializer, name=...)``
    (or Keras' ``add_weight``): Keras Variables (``assign``, ``assign_add``, ``numpy()``...)
    that follow the inputs' device. They update it in ``update_state`` (which runs under
    ``torch.no_grad()`` automatically, after the state moved to the first tensor argument's
    device) and compute ``result()`` from it. ``reset_state()`` zeroes every variable in place.

    Args:
        name: metric name (default: snake_case of the class name, made unique per session
            like Keras: ``precision``, ``precision_1`` ...).
        dtype: dtype of the state and result (default ``"float32"`` like Keras).

    >>> class Count(dn.metrics.Metric):
    ...     def __init__(self, name="count"):
    ...         super().__init__(name=name)
    ...         self.n = self.add_variable((), name="n")
    ...     def update_state(self, y_true, y_pred, sample_weight=None):
    ...         self.n.add_(len(y_true))
    ...     def result(self):
    ...         return self.n
    >>> m = Count()
    >>> m.update_state(np.zeros(3), np.zeros(3))
    >>> float(m.result())
    3.0
    """

    def __init__(self, name=None, dtype=None):
        owner = type(self).__name__
        if name is not None and not isinstance(name, str):
            raise TypeError(f"Received an invalid value for `name` of {owner}, expected a str. "
                            f"Received: name={name!r}")
        self.name = name or unique_name(to_snake_case(owner))
        self.dtype, self._torch_dtype = _check_dtype(owner, dtype)
        self._var_names: list[str] = []
        self._const_names: list[str] = []
        self._device = torch.device("cpu")

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        fn = cls.__dict__.get("update_state")
        if fn is not None and not getattr(fn, "_no_grad_wrapped", False):
            cls.update_state = _stateful_update(fn)

    # -- state ---------------------------------------------------------------------------
    def add_variable(self, shape=(), initializer="zeros", dtype=None, aggregation="sum", name=None):
        """Create a state variable (Keras signature), stored as attribute ``name``.

        >>> m = dn.metrics.Mean()
        >>> v = m.add_variable((2,), initializer="ones", name="extra")
        >>> v.numpy().tolist(), m.extra is v
        ([1.0, 1.0], True)
        """
        if not isinstance(name, str) or not name:
            raise ValueError(f"{type(self).__name__}.add_variable needs a `name`.")
        shape = (shape,) if isinstance(shape, int) else tuple(shape)
        dtype = _check_dtype(type(self).__name__, dtype)[1] if dtype is not None and not isinstance(
            dtype, torch.dtype) else (dtype or self._torch_dtype)
        if initializer in ("zeros", None):
            tensor = torch.zeros(shape, dtype=dtype, device=self._device)
        else:
            init = _initializers.get(initializer, "initializer")
            tensor = torch.as_tensor(init(shape, dtype=dtype), dtype=dtype).to(self._device)
        variable = as_variable(tensor, trainable=False, name=name, path=f"{self.name}/{name}")
        setattr(self, name, variable)
        self._var_names.append(name)
        return variable

    def add_weight(self, shape=(), initializer="zeros", dtype=None, name=None):
        """Keras' other spelling of :meth:`add_variable`.

        >>> float(dn.metrics.Mean().add_weight(name="n").assign_add(2.0).numpy())
        2.0
        """
        return self.add_variable(shape, initializer=initializer, dtype=dtype, name=name)

    def _add_constant(self, name, value):
        setattr(self, name, torch.as_tensor(value, dtype=self._torch_dtype, device=self._device))
        self._const_names.append(name)

    def _place(self, x) -> torch.device:
        """Move the state to ``x``'s device if it lives elsewhere; return the state device."""
        device = x.device if isinstance(x, torch.Tensor) else self._device
        if device != self._device:
            for n in self._var_names + self._const_names:
                old = getattr(self, n)
                new = old.to(device)
                if isinstance(old, StateVariable):  # keep the Variable (and its name)
                    new = StateVariable(new)
                    old._copy_metadata(new)
                setattr(self, n, new)
            self._device = device
        return device

    @property
    def variables(self) -> list:
        return [getattr(self, n) for n in self._var_names]

    def reset_state(self):
        for n in self._var_names:
            getattr(self, n).zero_()

    # -- API -----------------------------------------------------------------------------
    def update_state(self, *args, **kwargs):
        raise NotImplementedError(f"{type(self).__name__} must implement update_state().")

    def result(self):
        raise NotImplementedError(f"{type(self).__name__} must implement result().")

    def __call__(self, *args, **kwargs):
        """Update the state with one batch and return the running result."""
        self.update_state(*args, **kwargs)
        return self.result()

    def get_config(self) -> dict:
        return {"name": self.name, "dtype": self.dtype}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name}>"


def _stateful_update(fn):
    """``update_state`` under ``torch.no_grad()``, with the state moved to the device of its
    first tensor argument (what Keras-style subclasses, which never call ``_place``, need)."""
    @functools.wraps(fn)
    def update_state(self, *args, **kwargs):
        if symbolic.in_shape_inference():  # a layer's call traced for shapes: no state change
            return None
        with torch.no_grad():
            ref = next((a for a in args if isinstance(a, torch.Tensor)), None)
            if ref is not None and ref.device != self._device:
                self._place(ref)
            return fn(self, *args, **kwargs)

    update_state._no_grad_wrapped = True
    return update_state


def _samplewise(values: torch.Tensor, sample_weight, reduce_fn):
    """Keras' ``reduce_to_samplewise_values``: weight the values and reduce them to one value
    per sample; returns ``(values, per-sample weights or None)``."""
    weight = None
    if sample_weight is not None:
        weight = _tensor(sample_weight, values.dtype, values.device)
        values, weight = squeeze_or_expand_to_same_rank(values, weight)
        wnd, vnd = weight.dim(), values.dim()
        if vnd > wnd:
            values = reduce_fn(values, dim=tuple(range(wnd, vnd)))
        weight = torch.broadcast_to(weight, values.shape)
        values = values * weight
        if wnd > 1:
            weight = reduce_fn(weight, dim=tuple(range(1, wnd)))
    if values.dim() > 1:
        values = reduce_fn(values, dim=tuple(range(1, values.dim())))
    return values, weight


class Sum(Metric):
    """(Weighted) sum of the given values. State: ``total``.

    >>> m = dn.metrics.Sum()
    >>> m.update_state(np.array([1., 2., 3.]))
    >>> float(m.result())
    6.0
    """

    def __init__(self, name="sum", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable((), name="total")

    def update_state(self, values, sample_weight=None):
        device = self._place(values)
        values = _tensor(values, self._torch_dtype, device)
        values, _ = _samplewise(values, sample_weight, torch.sum)
        self.total.add_(values.sum())

    def result(self):
        return self.total.clone()


class Mean(Metric):
    """(Weighted) mean of the given values: ``total / count``, both accumulated exactly.

    Values of shape ``(N, ...)`` count as ``N`` samples (each the mean of its elements);
    with ``sample_weight`` the count is the sum of the weights.

    >>> m = dn.metrics.Mean()
    >>> m.update_state(np.array([1., 2., 3.]), sample_weight=np.array([1., 1., 0.]))
    >>> float(m.result())
    1.5
    """

    def __init__(self, name="mean", dtype=None):
        super().__init__(name=name, dtype=dtype)
        self.add_variable((), name="total")
        self.add_variable((), name="count")

    def update_state(self, values, sample_weight=None):
        device = self._place(values)
        values = _tensor(values, self._torch_dtype, device)
        values, weight = _samplewise(values, sample_weight, torch.mean)
        self.total.add_(values.sum())
        if weight is not None:
            self.count.add_(weight.sum())
        else:
            self.count.add_(values.shape[0] if values.dim() >= 1 else 1)

    def result(self):
        return _safe_divide(self.total, self.count)


class MeanMetricWrapper(Mean):
    """Mean of a per-sample function ``fn(y_true, y_pred, **kwargs)`` over all samples seen.

    A mask attached to ``y_pred`` (``y_pred._keras_mask``) multiplies the sample weights.

    >>> m = dn.metrics.MeanMetricWrapper(dn.losses.mean_absolute_error, name="mae")
    >>> m.update_state(np.array([[0., 2.]]), np.array([[1., 1.]]))
    >>> float(m.result())
    1.0
    """

    def __init__(self, fn, name=None, dtype=None, **kwargs):
        if not callable(fn):
            raise _owner_error(type(self).__name__, "fn", "a callable f(y_true, y_pred)", fn)
        super().__init__(name=name or getattr(fn, "__name__", None) or "mean_metric_wrapper",
                         dtype=dtype)
        self._fn = fn
        self._fn_kwargs = kwargs

    def update_state(self, y_true, y_pred, sample_weight=None):
        mask = getattr(y_pred, "_keras_mask", None)
        values = self._fn(y_true, y_pred, **self._fn_kwargs)
        if mask is not None:
            mask = _tensor(mask, self._torch_dtype, values.device)
            if sample_weight is not None:
                mask, sample_weight = squeeze_or_expand_to_same_rank(
                    mask, _tensor(sample_weight, self._torch_dtype, values.device))
                sample_weight = sample_weight * mask
            else:
                sample_weight = mask
        Mean.update_state(self, values, sample_weight)

    def get_config(self):
        config = super().get_config()
        if type(self) is MeanMetricWrapper:
            fn = self._fn
            config["fn"] = _FUNCTION_NAMES.get(fn, getattr(fn, "__name__", repr(fn)))
            config.update(self._fn_kwargs)
        return config

    @classmethod
    def from_config(cls, config):
        return wrapper_from_config(cls, MeanMetricWrapper, config, _FUNCTIONS, "metric function")
