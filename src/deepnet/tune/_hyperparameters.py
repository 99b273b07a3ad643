"""``HyperParameters``: the ``hp`` object a build function draws its hyperparameters from.

Each ``hp.Int`` / ``hp.Float`` / ``hp.Choice`` / ``hp.Boolean`` call maps to one of Optuna's
``trial.suggest_*`` calls (define-by-run: a parameter exists only when the code that asks for it
runs, so conditional parameters need nothing special). Without a trial (``HyperParameters()`` or
``HyperParameters(values={...})``) the object replays the given values and falls back to each
parameter's default, which is how the best trial's model is rebuilt.
"""

from __future__ import annotations

from numbers import Integral, Real
from typing import Any

from ..utils.validation import Boolean, Interval, String, check, invalid_value

__all__ = ["KINDS", "HyperParameters", "UnknownKindError"]

_CHOICE_TYPES = (type(None), bool, int, float, str)
#: The kinds of hyperparameters, as ``hp.<kind>(...)`` methods.
KINDS = ("Int", "Float", "Choice", "Boolean", "Fixed")


class HyperParameters:
    """The hyperparameters of one trial, drawn on demand by the build function.

    Args:
        trial: an ``optuna.trial.Trial`` to draw from (the :class:`Tuner` passes it); ``None``
            to replay ``values`` (parameters missing from ``values`` take their default: the
            minimum of a range, the first choice, ``False``).
        values: fixed values by name, used when ``trial`` is None.

    The same name asked twice returns the value drawn first. ``hp.values`` holds every value
    drawn so far (also the ``hp.Fixed`` ones).

    >>> hp = dn.tune.HyperParameters(values={"units": 64})
    >>> hp.Int("units", 8, 128, log=True), hp.Choice("activation", ["relu", "tanh"])
    (64, 'relu')
    >>> hp.values
    {'units': 64, 'activation': 'relu'}
    """

    def __init__(self, trial: Any = None, values: dict | None = None):
        self.trial = trial
        self._given = dict(values or {})
        self.values: dict[str, Any] = {}

    # ------------------------------------------------------------------ public kinds
    def Int(self, name: str, min_value: int, max_value: int, step: int | None = None,  # noqa: N802
            log: bool = False) -> int:
        """An integer in ``[min_value, max_value]`` (``step`` apart; ``log=True`` samples its
        logarithm uniformly, e.g. for layer widths).

        >>> dn.tune.HyperParameters().Int("layers", 1, 4)
        1
        """
        owner = f"hp.Int({name!r})"
        lo, hi, step, log = _check_range(owner, Integral, min_value, max_value, step, log)
        return self._draw(name, owner, lo, lambda t: t.suggest_int(name, lo, hi, step=step or 1, log=log))

    def Float(self, name: str, min_value: float, max_value: float, step: float | None = None,  # noqa: N802
              log: bool = False) -> float:
        """A float in ``[min_value, max_value]`` (``log=True`` for learning rates and other
        scale parameters; ``step`` makes it discrete).

        >>> dn.tune.HyperParameters(values={"lr": 3e-3}).Float("lr", 1e-4, 1e-1, log=True)
        0.003
        """
        owner = f"hp.Float({name!r})"
        lo, hi, step, log = _check_range(owner, Real, min_value, max_value, step, log)
        return self._draw(name, owner, lo, lambda t: t.suggest_float(name, lo, hi, step=step, log=log))

    def Choice(self, name: str, values: list | tuple) -> Any:  # noqa: N802
        """One of ``values`` (None, bools, ints, floats or strings).

        >>> dn.tune.HyperParameters().Choice("optimizer", ["adam", "sgd"])
        'adam'
        """
        owner = f"hp.Choice({name!r})"
        values = _check_choices(owner, values)
        return self._draw(name, owner, values[0], lambda t: t.suggest_categorical(name, values))

    def Boolean(self, name: str) -> bool:  # noqa: N802
        """``True`` or ``False``.

        >>> dn.tune.HyperParameters().Boolean("batch_norm")
        False
        """
        return self._draw(name, f"hp.Boolean({name!r})", False,
                          lambda t: t.suggest_categorical(name, [False, True]))

    def Fixed(self, name: str, value: Any) -> Any:  # noqa: N802
        """A constant recorded with the trial's hyperparameters (it is not searched).

        >>> dn.tune.HyperParameters().Fixed("epochs", 5)
        5
        """
        self._check_name(f"hp.Fixed({name!r})", name)
        if name not in self.values:
            self.values[name] = value
            if self.trial is not None:
                self.trial.set_user_attr("fixed_params", {**self.trial.user_attrs.get("fixed_params", {}),
                                                          name: value})
        return self.values[name]

    def get(self, name: str) -> Any:
        """The value drawn for ``name``; ``KeyError`` naming the drawn ones when it was not drawn.

        >>> hp = dn.tune.HyperParameters()
        >>> _ = hp.Fixed("seed", 1)
        >>> hp.get("seed")
        1
        """
        if name not in self.values:
            raise KeyError(f"Hyperparameter {name!r} has not been drawn in this trial. Drawn so far: "
                           f"{', '.join(self.values) or 'none'}.")
        return self.values[name]

    def __contains__(self, name: str) -> bool:
        """``name in hp``: a value for ``name`` was drawn already, or is given to replay
        (``values=``); e.g. to read a search recorded with other parameter names.

        >>> "units" in dn.tune.HyperParameters(values={"units": 64})
        True
        """
        return name in self.values or (self.trial is None and name in self._given)

    # ------------------------------------------------------------------ helpers
    @staticmethod
    def _check_name(owner: str, name: Any) -> None:
        check(owner, "name", name, String(description="a non-empty string"))

    def _draw(self, name: str, owner: str, default: Any, suggest) -> Any:
        self._check_name(owner, name)
        if name not in self.values:
            if self.trial is not None:
                self.values[name] = suggest(self.trial)
            else:
                self.values[name] = self._given.get(name, default)
        return self.values[name]

    def __getattr__(self, name: str):
        # Only called for missing attributes: a capitalised one is a mistyped kind (hp.Integer).
        if name[:1].isupper():
            raise UnknownKindError(
                f"Unknown hyperparameter kind `hp.{name}`. Expected one of: {', '.join(KINDS)}. "
                f"help: e.g. hp.Int('units', 8, 128) or hp.Choice('activation', ['relu', 'tanh']).")
        raise AttributeError(f"'HyperParameters' object has no attribute {name!r}")

    def __repr__(self) -> str:
        return f"HyperParameters({self.values!r})"


class UnknownKindError(AttributeError, ValueError):
    """``hp.<Kind>`` for a kind that does not exist: an AttributeError that is also a ValueError.

    >>> issubclass(UnknownKindError, ValueError)
    True
    """


def _check_range(owner: str, kind: type, low, high, step, log) -> tuple:
    """Validate a numeric range; returns ``(low, high, step, log)`` normalised."""
    word = "an integer" if kind is Integral else "a finite float"
    low = check(owner, "min_value", low, Interval(kind, None, None, description=word))
    high = check(owner, "max_value", high, Interval(kind, None, None, description=word))
    log = check(owner, "log", log, Boolean())
    if high < low:
        raise invalid_value(owner, "max_value", high, f"{word} >= min_value={low}",
                            help="give the range as (min_value, max_value) with min_value <= max_value.")
    if step is not None:
        step = check(owner, "step", step, Interval(kind, 0, None, closed="neither",
                                                   description=f"{'a positive integer' if kind is Integral else 'a positive float'} or None"))
    if log and low <= 0:
        raise invalid_value(owner, "min_value", low, "a value > 0 when log=True",
                            help="a log range cannot include 0 or negatives: start it at a small "
                                 "positive value, e.g. 1e-5, or set log=False.")
    if log and step not in (None, 1):
        raise invalid_value(owner, "step", step, "None when log=True",
                            help="use either log=True or a step, not both.")
    return low, high, step, log


def _check_choices(owner: str, values: Any) -> list:
    if not isinstance(values, (list, tuple)) or not values:
        raise invalid_value(owner, "values", values, "a non-empty list of choices",
                            help='e.g. hp.Choice("activation", ["relu", "tanh"]).')
    for value in values:
        if not isinstance(value, _CHOICE_TYPES):
            raise invalid_value(owner, "values", values,
                                "choices that are None, bools, ints, floats or strings",
                                help="choose a name and map it to the object in the build function, "
                                     f"e.g. hp.Choice(..., ['a', 'b']). Received a {type(value).__name__}.")
    return list(values)
