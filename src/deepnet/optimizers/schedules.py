"""Learning-rate schedules (Keras 3 names, arguments, defaults and formulas).

A schedule maps the optimizer's iteration count (an ``int``: the number of updates already
applied, i.e. the step *before* the update being computed) to a learning rate. Schedules are
plain Python math: no tensors, no device work, so evaluating one inside the training loop costs
a few hundred nanoseconds and never synchronises a device.

Keras evaluates its schedules in float32 tensors; these use Python floats (float64), so values
agree with Keras to float32 rounding (relative differences around 1e-7).
"""

from __future__ import annotations

import math
import numbers

from ..utils.lookup import resolve, serialize_object
from ..utils.registry import register_public
from ..utils.validation import (
    Boolean,
    Constraint,
    Interval,
    NoneOr,
    Real,
    Rejected,
    String,
    validate_params,
)

__all__ = [
    "CosineDecay",
    "CosineDecayRestarts",
    "ExponentialDecay",
    "InverseTimeDecay",
    "LearningRateSchedule",
    "PiecewiseConstantDecay",
    "PolynomialDecay",
    "deserialize",
    "get",
    "serialize",
]


_NUMBER = Interval(Real, None, None, description="a finite float", as_given=True)
_NON_NEGATIVE = Interval(Real, 0, None, description="a float >= 0", as_given=True)
_STEPS = Interval(Real, 0, None, closed="neither", description="a number > 0", as_given=True)
_WARMUP_STEPS = Interval(Real, 0, None, description="a non-negative number", as_given=True)
_POSITIVE = Interval(Real, 0, None, closed="neither", description="a float > 0", as_given=True)
_FRACTION = Interval(Real, 0, 1, description="a float in [0, 1]", as_given=True)
_BOOL = Boolean()
_NAME = String(allow_empty=True, description="a str")


class _Numbers(Constraint):
    """A list or tuple of finite numbers (``boundaries``, ``values``), returned as given."""

    description = "a list or tuple of finite numbers"

    def convert(self, value):
        if not isinstance(value, (list, tuple)):
            raise Rejected(type_error=True)
        if not all(_NUMBER.accepts(v) for v in value):
            raise Rejected(type_error=False)
        return value

    def extra_probes(self) -> tuple:
        return ([1.0, float("nan")], ["a"])


_NUMBERS = _Numbers()


def _step_value(owner: str, step) -> float:
    """Accept Python/NumPy integers (and 0-d tensors/arrays) as the step."""
    if isinstance(step, bool):
        raise TypeError(f"{owner} expects an integer step; received {step!r}.")
    if isinstance(step, numbers.Real):
        return float(step)
    if hasattr(step, "item"):  # 0-d torch tensor / numpy array (not on the training hot path)
        return float(step.item())
    raise TypeError(f"{owner} expects an integer step; received {step!r} of type {type(step).__name__}.")


class LearningRateSchedule:
    """Base class: subclasses implement ``__call__(step: int) -> float`` and ``get_config``.

    Pass an instance as ``learning_rate`` to any deepnet optimizer; the optimizer calls it with its
    iteration count before each update.

    >>> class Halving(dn.optimizers.schedules.LearningRateSchedule):
    ...     def __call__(self, step):
    ...         return 0.1 / 2 ** step
    ...     def get_config(self):
    ...         return {}
    >>> dn.optimizers.SGD(learning_rate=Halving()).learning_rate
    0.1
    """

    def __call__(self, step: int) -> float:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override `__call__(self, step)`."
        )

    def get_config(self) -> dict:
        raise NotImplementedError(
            f"Learning rate schedule {type(self).__name__!r} must override `get_config()` to be "
            "serializable."
        )

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)

    def __repr__(self) -> str:
        try:
            args = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        except NotImplementedError:
            args = ""
        return f"{type(self).__name__}({args})"


class _StepDecay(LearningRateSchedule):
    """Shared by ExponentialDecay and InverseTimeDecay: the same arguments and config; the
    subclass maps ``p = step / decay_steps`` (floored when ``staircase``) to the rate."""

    @validate_params({"initial_learning_rate": _NON_NEGATIVE, "decay_steps": _STEPS,
                      "decay_rate": _NON_NEGATIVE, "staircase": _BOOL, "name": NoneOr(_NAME)})
    def __init__(self, initial_learning_rate, decay_steps, decay_rate, staircase=False, name=None):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.decay_rate = decay_rate
        self.staircase = staircase
        self.name = type(self).__name__ if name is None else name  # Keras' default: the class name

    def __call__(self, step):
        p = _step_value(type(self).__name__, step) / self.decay_steps
        if self.staircase:
            p = math.floor(p)
        return self._decayed(p)

    def _decayed(self, p: float) -> float:
        raise NotImplementedError

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "decay_rate": self.decay_rate,
            "staircase": self.staircase,
            "name": self.name,
        }


class ExponentialDecay(_StepDecay):
    """``initial_learning_rate * decay_rate ** (step / decay_steps)``.

    With ``staircase=True`` the exponent is floored (decay in discrete intervals).

    >>> schedule = dn.optimizers.schedules.ExponentialDecay(0.1, decay_steps=10, decay_rate=0.5)
    >>> [schedule(step) for step in (0, 10, 20)]
    [0.1, 0.05, 0.025]
    """

    def _decayed(self, p: float) -> float:
        return float(self.initial_learning_rate) * float(self.decay_rate) ** p


class PiecewiseConstantDecay(LearningRateSchedule):
    """``values[0]`` while ``step <= boundaries[0]``, ``values[i]`` while
    ``boundaries[i-1] < step <= boundaries[i]``, ``values[-1]`` after ``boundaries[-1]``.

    >>> schedule = dn.optimizers.schedules.PiecewiseConstantDecay([10, 20], [0.1, 0.01, 0.001])
    >>> [schedule(step) for step in (5, 15, 25)]
    [0.1, 0.01, 0.001]
    """

    @validate_params({"boundaries": _NUMBERS, "values": _NUMBERS, "name": _NAME})
    def __init__(self, boundaries, values, name="PiecewiseConstant"):
        owner = type(self).__name__
        if len(boundaries) != len(values) - 1:
            raise ValueError(
                f"{owner}: the length of `boundaries` must be one less than the length of "
                f"`values`. Received: boundaries={boundaries!r} of length {len(boundaries)}, and "
                f"values={values!r} of length {len(values)}."
            )
        if any(b2 <= b1 for b1, b2 in zip(boundaries, boundaries[1:])):
            raise ValueError(
                f"{owner}: `boundaries` must be strictly increasing. Received: boundaries={boundaries!r}"
            )
        self.boundaries = list(boundaries)
        self.values = list(values)
        self.name = name
        self._float_values = [float(v) for v in self.values]

    def __call__(self, step):
        s = _step_value(type(self).__name__, step)
        for boundary, value in zip(self.boundaries, self._float_values):
            if s <= boundary:
                return value
        return self._float_values[-1]

    def get_config(self):
        return {"boundaries": self.boundaries, "values": self.values, "name": self.name}


class PolynomialDecay(LearningRateSchedule):
    """``(initial - end) * (1 - step / decay_steps) ** power + end`` with ``step`` capped at
    ``decay_steps``; with ``cycle=True`` ``decay_steps`` is stretched to the first multiple of
    itself that is >= step (a multiple of 1 at step 0).

    >>> schedule = dn.optimizers.schedules.PolynomialDecay(0.1, decay_steps=10, end_learning_rate=0.0)
    >>> [schedule(step) for step in (0, 5, 10, 20)]
    [0.1, 0.05, 0.0, 0.0]
    """

    @validate_params({"initial_learning_rate": _NON_NEGATIVE, "decay_steps": _STEPS,
                      "end_learning_rate": _NON_NEGATIVE, "power": _NON_NEGATIVE, "cycle": _BOOL,
                      "name": _NAME})
    def __init__(self, initial_learning_rate, decay_steps, end_learning_rate=0.0001, power=1.0,
                 cycle=False, name="PolynomialDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.end_learning_rate = end_learning_rate
        self.power = power
        self.cycle = cycle
        self.name = name

    def __call__(self, step):
        s = _step_value(type(self).__name__, step)
        decay_steps = float(self.decay_steps)
        if self.cycle:
            multiplier = 1.0 if s == 0 else math.ceil(s / decay_steps)
            decay_steps *= multiplier
        else:
            s = min(s, decay_steps)
        p = s / decay_steps
        start, end = float(self.initial_learning_rate), float(self.end_learning_rate)
        return (start - end) * (1.0 - p) ** float(self.power) + end

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "end_learning_rate": self.end_learning_rate,
            "power": self.power,
            "cycle": self.cycle,
            "name": self.name,
        }


class InverseTimeDecay(_StepDecay):
    """``initial_learning_rate / (1 + decay_rate * step / decay_steps)`` (the ratio floored when
    ``staircase=True``).

    >>> schedule = dn.optimizers.schedules.InverseTimeDecay(0.1, decay_steps=10, decay_rate=1.0)
    >>> [schedule(step) for step in (0, 10, 30)]
    [0.1, 0.05, 0.025]
    """

    def _decayed(self, p: float) -> float:
        return float(self.initial_learning_rate) / (1.0 + float(self.decay_rate) * p)


class CosineDecay(LearningRateSchedule):
    """Optional linear warmup from ``initial_learning_rate`` to ``warmup_target`` over
    ``warmup_steps``, then cosine decay over ``decay_steps`` from the warmup target (or from
    ``initial_learning_rate`` when ``warmup_target`` is None) down to ``alpha`` times it.

    >>> schedule = dn.optimizers.schedules.CosineDecay(0.0, decay_steps=10, warmup_target=0.1,
    ...                                                warmup_steps=5)
    >>> [schedule(step) for step in (0, 5, 10, 15)]
    [0.0, 0.1, 0.05, 0.0]
    """

    @validate_params({"initial_learning_rate": _NON_NEGATIVE, "decay_steps": _STEPS, "alpha": _FRACTION,
                      "warmup_steps": _WARMUP_STEPS, "warmup_target": NoneOr(_NON_NEGATIVE),
                      "name": _NAME})
    def __init__(self, initial_learning_rate, decay_steps, alpha=0.0, name="CosineDecay",
                 warmup_target=None, warmup_steps=0):
        self.initial_learning_rate = initial_learning_rate
        self.decay_steps = decay_steps
        self.alpha = alpha
        self.name = name
        self.warmup_steps = warmup_steps
        self.warmup_target = warmup_target

    def _decay(self, step, decay_from):
        fraction = step / float(self.decay_steps)
        cosine = 0.5 * (1.0 + math.cos(math.pi * fraction))
        alpha = float(self.alpha)
        return decay_from * ((1.0 - alpha) * cosine + alpha)

    def __call__(self, step):
        s = _step_value(type(self).__name__, step)
        initial = float(self.initial_learning_rate)
        if self.warmup_target is None:
            return self._decay(min(s, float(self.decay_steps)), initial)
        target, warmup = float(self.warmup_target), float(self.warmup_steps)
        s = min(s, float(self.decay_steps) + warmup)
        if s < warmup:
            return (target - initial) * (s / warmup) + initial
        return self._decay(s - warmup, target)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "decay_steps": self.decay_steps,
            "alpha": self.alpha,
            "name": self.name,
            "warmup_target": self.warmup_target,
            "warmup_steps": self.warmup_steps,
        }


class CosineDecayRestarts(LearningRateSchedule):
    """SGDR: cosine decay from ``initial_learning_rate`` to ``alpha`` times it over
    ``first_decay_steps``, then warm restarts; period ``i`` lasts ``t_mul ** i`` times the first
    and starts from ``m_mul ** i`` times the initial learning rate.

    >>> schedule = dn.optimizers.schedules.CosineDecayRestarts(0.1, first_decay_steps=10)
    >>> [schedule(step) for step in (0, 5, 10, 20)]  # restarts at 10, then lasts 20 steps
    [0.1, 0.05, 0.1, 0.05]
    """

    @validate_params({"initial_learning_rate": _NON_NEGATIVE, "first_decay_steps": _STEPS,
                      "t_mul": _POSITIVE, "m_mul": _NUMBER, "alpha": _FRACTION, "name": _NAME})
    def __init__(self, initial_learning_rate, first_decay_steps, t_mul=2.0, m_mul=1.0, alpha=0.0,
                 name="SGDRDecay"):
        self.initial_learning_rate = initial_learning_rate
        self.first_decay_steps = first_decay_steps
        self.t_mul = t_mul
        self.m_mul = m_mul
        self.alpha = alpha
        self.name = name

    def _restart_index(self, fraction: float) -> tuple[int | None, float]:
        """Index of the current period and the fraction of it completed (None past the end)."""
        t_mul = float(self.t_mul)
        if t_mul == 1.0:
            i = math.floor(fraction)
            return i, fraction - i
        # Period i starts at sum_{k<i} t_mul**k = (1 - t_mul**i) / (1 - t_mul) first periods.
        def start(k):
            return (1.0 - t_mul**k) / (1.0 - t_mul)

        remaining = 1.0 - fraction * (1.0 - t_mul)
        if remaining <= 0.0:  # t_mul < 1: past the (finite) total length of all periods
            return None, 0.0
        i = math.floor(math.log(remaining) / math.log(t_mul))
        # Correct float rounding of the log ratio exactly at period boundaries.
        while start(i + 1) <= fraction:
            i += 1
        while i > 0 and start(i) > fraction:
            i -= 1
        return i, (fraction - start(i)) / t_mul**i

    def __call__(self, step):
        fraction = _step_value(type(self).__name__, step) / float(self.first_decay_steps)
        i, fraction = self._restart_index(fraction)
        if i is None:  # Keras returns NaN here; stay at the floor instead
            return float(self.initial_learning_rate) * float(self.alpha)
        cosine = 0.5 * float(self.m_mul) ** i * (1.0 + math.cos(math.pi * fraction))
        alpha = float(self.alpha)
        return float(self.initial_learning_rate) * ((1.0 - alpha) * cosine + alpha)

    def get_config(self):
        return {
            "initial_learning_rate": self.initial_learning_rate,
            "first_decay_steps": self.first_decay_steps,
            "t_mul": self.t_mul,
            "m_mul": self.m_mul,
            "alpha": self.alpha,
            "name": self.name,
        }


_TABLE = {
    cls.__name__: cls
    for cls in (
        LearningRateSchedule,
        ExponentialDecay,
        PiecewiseConstantDecay,
        PolynomialDecay,
        InverseTimeDecay,
        CosineDecay,
        CosineDecayRestarts,
    )
}


def serialize(schedule) -> dict:
    """``{"class_name": ..., "config": ...}`` of a schedule.

    >>> dn.optimizers.schedules.serialize(dn.optimizers.schedules.ExponentialDecay(0.1, 10, 0.5))
    {'class_name': 'ExponentialDecay', 'config': {'initial_learning_rate': 0.1, 'decay_steps': 10,
     'decay_rate': 0.5, 'staircase': False, 'name': 'ExponentialDecay'}}
    """
    if not isinstance(schedule, LearningRateSchedule):
        raise TypeError(
            f"serialize expects a LearningRateSchedule; received {schedule!r} of type "
            f"{type(schedule).__name__}."
        )
    return serialize_object(schedule, _TABLE)


def deserialize(config: dict, custom_objects: dict | None = None) -> LearningRateSchedule:
    """Inverse of :func:`serialize`; ``custom_objects`` maps class names of user schedules.

    >>> config = {"class_name": "ExponentialDecay",
    ...           "config": {"initial_learning_rate": 0.1, "decay_steps": 10, "decay_rate": 0.5}}
    >>> dn.optimizers.schedules.deserialize(config)(10)
    0.05
    """
    table = {**_TABLE, **(custom_objects or {})}
    if not isinstance(config, dict):
        raise TypeError(
            f"deserialize expects a config dict {{'class_name': ..., 'config': ...}}; received "
            f"{config!r} of type {type(config).__name__}."
        )
    return resolve(config, table, "learning rate schedule", "learning_rate")


def get(identifier):
    """A schedule instance (returned as is) or its config dict; ``None`` stays ``None``.

    >>> schedule = dn.optimizers.schedules.CosineDecay(0.1, decay_steps=10)
    >>> dn.optimizers.schedules.get(schedule) is schedule
    True
    """
    if identifier is None or isinstance(identifier, LearningRateSchedule):
        return identifier
    return deserialize(identifier)


register_public("schedule", LearningRateSchedule, globals())  # the registry kind, declared by its owner
