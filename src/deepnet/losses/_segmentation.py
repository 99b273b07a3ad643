"""Overlap losses for segmentation masks: Dice and Tversky (function and class forms)."""

from __future__ import annotations

from ..utils.validation import Interval, IntOrInts, NoneOr, Real, validate_params
from ._classes import LossFunctionWrapper
from ._reduction import EPSILON, _prep

_AXIS = NoneOr(IntOrInts(container=tuple, as_given=True))
_COEFFICIENT = Interval(Real, 0.0, None, description="a number >= 0")


def _total(x, axis):
    """The sum of ``x`` over ``axis`` (an int, a tuple of ints, or None: every axis)."""
    if axis is None:
        return x.sum()
    return x.sum(axis if isinstance(axis, int) else tuple(int(a) for a in axis))


def dice(y_true, y_pred, axis=None):
    """Dice loss ``1 - 2 sum(y_true * y_pred) / (sum(y_true) + sum(y_pred) + eps)``, the sums
    over ``axis`` (an int or a tuple of ints; ``None``: every axis, one scalar for the batch).

    >>> y_true = np.array([[1., 1., 0., 0.], [1., 0., 0., 0.]])
    >>> y_pred = np.array([[1., 0., 0., 1.], [1., 0., 0., 0.]])
    >>> dn.losses.dice(y_true, y_pred, axis=1)
    tensor([0.5000, 0.0000])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    overlap = _total(y_true * y_pred, axis)
    return 1.0 - 2.0 * overlap / (_total(y_true, axis) + _total(y_pred, axis) + EPSILON)


def tversky(y_true, y_pred, alpha=0.5, beta=0.5, axis=None):
    """Tversky loss ``1 - TP / (TP + alpha * sum(y_true * (1 - y_pred)) + beta * sum(y_pred *
    (1 - y_true)) + eps)`` with ``TP = sum(y_true * y_pred)``, the sums over ``axis`` (the
    weighting of Keras 3: ``alpha`` scales the missed positives, ``beta`` the predicted ones
    that are not there). ``alpha = beta = 0.5`` is the Dice loss.

    >>> y_true = np.array([[1., 1., 0., 0.]])
    >>> y_pred = np.array([[1., 0., 0., 1.]])
    >>> dn.losses.tversky(y_true, y_pred, alpha=0.7, beta=0.3, axis=1)
    tensor([0.5000])
    """
    y_true, y_pred = _prep(y_true, y_pred)
    tp = _total(y_true * y_pred, axis)
    missed, extra = _total(y_true * (1.0 - y_pred), axis), _total(y_pred * (1.0 - y_true), axis)
    return 1.0 - tp / (tp + alpha * missed + beta * extra + EPSILON)


class Dice(LossFunctionWrapper):
    """The Dice loss of :func:`dice` as a :class:`Loss` (``axis=None``, the default, gives one
    value for the whole batch; ``axis=(1, 2, 3)`` one per image, then reduced).

    >>> y_true = np.array([[1., 1., 0., 0.], [1., 0., 0., 0.]])
    >>> y_pred = np.array([[1., 0., 0., 1.], [1., 0., 0., 0.]])
    >>> round(float(dn.losses.Dice(axis=1)(y_true, y_pred)), 4)
    0.25
    """

    @validate_params({"reduction": None, "name": None, "axis": _AXIS, "dtype": None})
    def __init__(self, reduction="sum_over_batch_size", name="dice", axis=None, dtype=None):
        self.axis = axis
        super().__init__(dice, reduction=reduction, name=name, dtype=dtype, axis=axis)

    def get_config(self):
        return {**super().get_config(), "axis": self.axis}


class Tversky(LossFunctionWrapper):
    """The Tversky loss of :func:`tversky` as a :class:`Loss`; ``alpha`` and ``beta`` weigh
    the two kinds of error (both 0.5: the Dice loss).

    >>> y_true = np.array([[1., 1., 0., 0.]])
    >>> y_pred = np.array([[1., 0., 0., 1.]])
    >>> round(float(dn.losses.Tversky(alpha=0.7, beta=0.3)(y_true, y_pred)), 4)
    0.5
    """

    @validate_params({"alpha": _COEFFICIENT, "beta": _COEFFICIENT, "reduction": None,
                      "name": None, "axis": _AXIS, "dtype": None})
    def __init__(self, alpha=0.5, beta=0.5, reduction="sum_over_batch_size", name="tversky",
                 axis=None, dtype=None):
        self.alpha, self.beta, self.axis = alpha, beta, axis
        super().__init__(tversky, reduction=reduction, name=name, dtype=dtype, alpha=alpha,
                         beta=beta, axis=axis)

    def get_config(self):
        return {**super().get_config(), "alpha": self.alpha, "beta": self.beta, "axis": self.axis}
