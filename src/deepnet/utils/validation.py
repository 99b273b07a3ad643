"""One home for argument validation: constraints declared next to their owner, one wording.

Every public argument of deepnet is described by a *constraint* object declared next to the
function or class that takes it (the idea of scikit-learn's ``_param_validation``)::

    @validate_params({"units": Interval(Integral, 1, None), "use_bias": Boolean()})
    def __init__(self, units, use_bias=True, **kwargs): ...

The decorator checks each declared argument before the body runs and passes on the
*normalised* value (``"Channels_Last"`` becomes ``"channels_last"``, ``3`` becomes
``(3, 3)`` for a 2-D ``kernel_size``). One message for every owner::

    Received an invalid value for `units` of Dense, expected a positive integer. Received: units=0

Errors: a value of the right type but outside what is allowed raises :class:`ValueError`; a
value of the wrong type raises :class:`ArgumentTypeError`, which is both a :class:`TypeError`
and a :class:`ValueError` (as NumPy's ``AxisError`` is both a ValueError and an IndexError), so
callers written against either convention keep working. Constraints also list values they
reject (:meth:`Constraint.invalid_examples`), from which the bad-input test tables are generated.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Callable as _CallableABC
from collections.abc import Iterable, Mapping
from numbers import Integral, Real
from typing import Any

import numpy as np

from ._param_validation import constraints_of, validate_params

__all__ = [
    "AnyOf", "ArgumentTypeError", "Boolean", "Callable", "Constraint", "InstanceOf", "IntOrInts", "IntTuple",
    "Interval", "Lookup", "NoneOr", "Options", "PerClass", "Rejected", "String", "check",
    "constraints_of", "invalid_value", "validate", "validate_params",
]
# ``Integral`` and ``Real`` (from :mod:`numbers`) are importable from here as the ``kind`` of
# an :class:`Interval`; they are not listed in ``__all__`` (they are not deepnet's names).

# Values tried against every constraint by :meth:`Constraint.invalid_examples`; a constraint
# keeps the ones it rejects (and may add its own).
_PROBES: tuple = ("no", 1, 0, -1, 2.5, float("nan"), float("inf"), True, None, (1, 2, 3), object())


class ArgumentTypeError(TypeError, ValueError):
    """An argument of the wrong type: a :class:`TypeError` that is also a :class:`ValueError`.

    >>> isinstance(ArgumentTypeError("x"), (TypeError, ValueError))
    True
    """


def _owner_name(owner: Any) -> str:
    if owner is None:
        return "deepnet"
    if isinstance(owner, str):
        return owner
    if isinstance(owner, type):
        return owner.__name__
    return type(owner).__name__


def invalid_value(owner: Any, argument: str, value: Any, expected: str, help: str | None = None,
                  error: type[Exception] = ValueError) -> Exception:
    """Build (not raise) the one error message used for every invalid argument.

    ``owner`` is a class, an instance (its class name is used) or a string; ``help`` adds a
    line that says what to do.

    >>> invalid_value("Dense", "units", 0, "a positive integer")
    ValueError('Received an invalid value for `units` of Dense, expected a positive integer. Received: units=0')
    """
    message = (f"Received an invalid value for `{argument}` of {_owner_name(owner)}, expected "
               f"{expected}. Received: {argument}={value!r}")
    if help:
        message += f"\nhelp: {help}"
    return error(message)


class Rejected(Exception):
    """Raised by :meth:`Constraint.convert` to reject a value; ``type_error`` says whether the
    value has the wrong type (:class:`ArgumentTypeError`) or a wrong value (:class:`ValueError`).

    >>> Rejected(type_error=True).type_error
    True
    """

    def __init__(self, type_error: bool):
        super().__init__()
        self.type_error = type_error


class Constraint:
    """Base class of constraints: a description, a test and a normalisation.

    Subclasses set ``description`` and implement :meth:`convert`, which returns the
    normalised value or raises :class:`Rejected`; :meth:`check` turns a rejection into the
    standard error. :meth:`extra_probes` may add values worth testing.

    >>> Interval(Integral, 1, None).check(3, owner="Dense", argument="units")
    3
    """

    description = "a valid value"
    help: str | None = None

    def convert(self, value: Any) -> Any:
        """The normalised value; raise :class:`Rejected` when ``value`` is not allowed.

        >>> Interval(Real, 0, 1).convert(1)
        1.0
        """
        raise NotImplementedError

    def accepts(self, value: Any) -> bool:
        """True when ``value`` satisfies the constraint.

        >>> Boolean().accepts("no")
        False
        """
        try:
            self.convert(value)
        except Rejected:
            return False
        return True

    def check(self, value: Any, owner: Any = None, argument: str = "value") -> Any:
        """Return the normalised value or raise the standard ValueError/ArgumentTypeError.

        >>> Options(["channels_last", "channels_first"], ignore_case=True).check("Channels_Last")
        'channels_last'
        """
        try:
            return self.convert(value)
        except Rejected as rejected:
            error = ArgumentTypeError if rejected.type_error else ValueError
            raise invalid_value(owner, argument, value, self.description, self.help, error) from None

    def invalid_examples(self) -> list:
        """Values this constraint rejects (used to generate bad-input tests).

        >>> Boolean().invalid_examples()[:3]
        ['no', 1, 0]
        """
        return [v for v in (*_PROBES, *self.extra_probes()) if not self.accepts(v)]

    def extra_probes(self) -> tuple:
        """Values (besides the common probes) that :meth:`invalid_examples` should try.

        >>> Options(["a"]).extra_probes()
        ('not_an_option',)
        """
        return ()

    def for_owner(self, owner_class: type) -> Constraint:
        """The constraint that applies to ``owner_class`` (itself, except for :class:`PerClass`).

        >>> c = Boolean()
        >>> c.for_owner(object) is c
        True
        """
        return self

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.description}>"


class PerClass(Constraint):
    """A constraint that depends on the owner's class, built by ``make(owner_class)`` (once per
    class): one ``__init__`` serving ``Conv1D`` and ``Conv2D`` declares
    ``PerClass(lambda cls: IntTuple(cls.rank))``.

    >>> class Conv2D:
    ...     rank = 2
    >>> PerClass(lambda cls: IntTuple(cls.rank)).for_owner(Conv2D).check(3)
    (3, 3)
    """

    description = "a value that depends on the class"

    def __init__(self, make):
        self.make = make
        self._cache: dict = {}

    def for_owner(self, owner_class: type) -> Constraint:
        c = self._cache.get(owner_class)
        if c is None:
            c = self._cache[owner_class] = self.make(owner_class)
        return c

    def convert(self, value):
        raise TypeError("PerClass: call for_owner(cls) first; the constraint depends on the class.")


class Boolean(Constraint):
    """Strictly ``True`` or ``False`` (NumPy bools too); ``"no"``, ``1`` or ``None`` are rejected.

    >>> Boolean().check(np.bool_(True))
    True
    >>> Boolean().check("no", owner="Dense", argument="use_bias")
    Traceback (most recent call last):
    ...
    deepnet.utils.validation.ArgumentTypeError: Received an invalid value for `use_bias` of Dense, expected a bool (True or False). Received: use_bias='no'
    """

    description = "a bool (True or False)"

    def convert(self, value):
        if isinstance(value, (bool, np.bool_)):
            return bool(value)
        raise Rejected(type_error=True)


def _is_int(value) -> bool:
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(value, (bool, np.bool_))


def _is_real(value) -> bool:
    return isinstance(value, (numbers.Real, np.floating, np.integer)) and not isinstance(value, (bool, np.bool_))


def _bound_text(low, high, closed: str, as_int: bool) -> str:
    left = closed in ("left", "both")
    right = closed in ("right", "both")
    if as_int and low is not None and high is None:
        if low == 1 and left or low == 0 and not left:
            return "a positive integer"
        if low == 0 and left:
            return "a non-negative integer"
    kind = "an integer" if as_int else "a float"
    if low is not None and high is not None:
        return f"{kind} in {'[' if left else '('}{low}, {high}{']' if right else ')'}"
    if low is not None:
        return f"{kind} {'>=' if left else '>'} {low}"
    if high is not None:
        return f"{kind} {'<=' if right else '<'} {high}"
    return kind if as_int else "a finite float"


class Interval(Constraint):
    """A number in an interval: ``Interval(Integral, 1, None)`` is a positive integer,
    ``Interval(Real, 0, 1, closed="left")`` a float in ``[0, 1)``; ``None`` means unbounded.

    Integers must be ints (``2.0`` is rejected, NumPy integers accepted) and are returned as
    ``int``; reals must be finite numbers (bools, NaN and inf are rejected) and are returned
    as ``float`` (``as_given=True``: unchanged, so a config keeps ``10`` rather than ``10.0``).

    >>> Interval(Real, 0, 1, closed="left").check(0.5)
    0.5
    >>> Interval(Integral, 1, None).check(0, owner="Dense", argument="units")
    Traceback (most recent call last):
    ...
    ValueError: Received an invalid value for `units` of Dense, expected a positive integer. Received: units=0
    """

    def __init__(self, kind: type, low: float | None, high: float | None, closed: str = "both",
                 description: str | None = None, help: str | None = None, as_given: bool = False):
        if kind not in (Integral, Real):
            raise TypeError(f"Interval: `kind` must be numbers.Integral or numbers.Real; received {kind!r}.")
        if closed not in ("both", "left", "right", "neither"):
            raise ValueError(f"Interval: `closed` must be 'both', 'left', 'right' or 'neither'; received {closed!r}.")
        self.kind, self.low, self.high, self.closed, self.as_given = kind, low, high, closed, as_given
        self.description = description or _bound_text(low, high, closed, kind is Integral)
        self.help = help

    def _in_range(self, value) -> bool:
        left = self.closed in ("left", "both")
        right = self.closed in ("right", "both")
        if self.low is not None and (value < self.low if left else value <= self.low):
            return False
        return not (self.high is not None and (value > self.high if right else value >= self.high))

    def convert(self, value):
        given = value
        if self.kind is Integral:
            if not _is_int(value):
                raise Rejected(type_error=True)
            value = int(value)
        else:
            if not _is_real(value):
                raise Rejected(type_error=True)
            value = float(value)
            if not math.isfinite(value):
                raise Rejected(type_error=False)
        if not self._in_range(value):
            raise Rejected(type_error=False)
        return given if self.as_given else value

    def extra_probes(self) -> tuple:
        probes = []
        for bound, step in ((self.low, -1), (self.high, 1)):
            if bound is not None:
                probes += [bound, bound + step, bound + step * 0.5]
        return tuple(probes)


class Options(Constraint):
    """One of a fixed set of values, listed in the error in the given order.

    ``ignore_case=True`` accepts any capitalisation of a string option and returns the
    declared spelling (Keras lower-cases ``data_format`` and ``padding``).

    >>> Options(["valid", "same"], ignore_case=True).check("SAME")
    'same'
    >>> Options(["valid", "same"]).description
    "one of 'valid', 'same'"
    """

    def __init__(self, options: Iterable, ignore_case: bool = False, description: str | None = None,
                 help: str | None = None):
        self.options = tuple(options)
        self.ignore_case = ignore_case
        self.description = description or "one of " + ", ".join(repr(o) for o in self.options)
        self.help = help

    def convert(self, value):
        for option in self.options:
            if type(option) is type(value) and option == value:
                return option
            if self.ignore_case and isinstance(value, str) and isinstance(option, str) \
                    and option.lower() == value.lower():
                return option
        strings = all(isinstance(o, str) for o in self.options)
        raise Rejected(type_error=strings and not isinstance(value, str))

    def extra_probes(self) -> tuple:
        return ("not_an_option",)


class IntTuple(Constraint):
    """An int or a tuple/list of ``length`` ints, each in an interval; returned as a tuple.

    ``IntTuple(2)`` accepts ``3`` (expanded to ``(3, 3)``) or ``(3, 1)``; ``low`` (default
    1) is the smallest allowed entry; ``allow_int=False`` requires a sequence.

    >>> IntTuple(2).check(3)
    (3, 3)
    >>> IntTuple(2, low=0).check([1, 0])
    (1, 0)
    """

    def __init__(self, length: int, low: int | None = 1, high: int | None = None, allow_int: bool = True,
                 description: str | None = None, help: str | None = None):
        self.length, self.allow_int = length, allow_int
        self.item = Interval(Integral, low, high)
        if description is None:
            items = f"{length} ints" if low is None else (
                f"{length} positive ints" if low == 1 and high is None else
                f"{length} non-negative ints" if low == 0 and high is None else
                f"{length} {self.item.description.replace('an integer', 'ints')}")
            prefix = f"{self.item.description} or " if allow_int else ""
            description = f"{prefix}a tuple of {items}"
        self.description = description
        self.help = help

    def convert(self, value):
        if _is_int(value) and self.allow_int:
            return (self.item.convert(value),) * self.length
        if not isinstance(value, (tuple, list)):
            raise Rejected(type_error=True)
        if len(value) != self.length:
            raise Rejected(type_error=False)
        return tuple(self.item.convert(v) for v in value)

    def extra_probes(self) -> tuple:
        return ((1,) * (self.length + 1), (0,) * self.length, (-1,) * self.length)


class IntOrInts(Constraint):
    """An int or a non-empty list/tuple of ints (``axis``, ``attention_axes``), returned as an
    int or as ``container`` (list or tuple); ``positive``: every int must be >= 1;
    ``int_as_container``: an int is returned as ``container([int])``; ``as_given``: the value
    is returned unchanged (a constraint's ``axis`` keeps its type in configs).

    >>> IntOrInts().check((1, 2))
    [1, 2]
    >>> IntOrInts(as_given=True).check((1, 2))
    (1, 2)
    """

    def __init__(self, container: type = list, positive: bool = False, int_as_container: bool = False,
                 as_given: bool = False):
        self.container, self.positive, self.int_as_container = container, positive, int_as_container
        self.as_given = as_given
        kind = "positive integer" if positive else "int"
        self.description = f"an {kind} or a non-empty list/tuple of {kind}s" if not positive else (
            "a positive integer or a non-empty tuple of positive integers")
        self._item = Interval(Integral, 1 if positive else None, None, description=f"an {kind}")

    def convert(self, value):
        if self._item.accepts(value):
            int_value = self.container([int(value)]) if self.int_as_container else int(value)
            return value if self.as_given else int_value
        if not isinstance(value, (list, tuple)) or not value:
            raise Rejected(type_error=True)
        if not all(self._item.accepts(v) for v in value):
            raise Rejected(type_error=not all(_is_int(v) for v in value))
        return value if self.as_given else self.container(int(v) for v in value)

    def extra_probes(self) -> tuple:
        return ([], (1.5,), "last")


class String(Constraint):
    """A ``str`` (non-empty unless ``allow_empty``).

    >>> String().accepts(""), String().accepts("dense")
    (False, True)
    """

    def __init__(self, allow_empty: bool = False, description: str | None = None, help: str | None = None):
        self.allow_empty = allow_empty
        self.description = description or ("a string" if allow_empty else "a non-empty string")
        self.help = help

    def convert(self, value):
        if not isinstance(value, str):
            raise Rejected(type_error=True)
        if not value and not self.allow_empty:
            raise Rejected(type_error=False)
        return value


class Callable(Constraint):
    """Any callable object.

    >>> Callable().accepts(len), Callable().accepts("len")
    (True, False)
    """

    description = "a callable"

    def convert(self, value):
        if isinstance(value, _CallableABC):
            return value
        raise Rejected(type_error=True)


class InstanceOf(Constraint):
    """An instance of one of the given classes (optionally with its own description).

    >>> InstanceOf(str).check("a")
    'a'
    >>> InstanceOf(str).description
    'an instance of str'
    """

    def __init__(self, *classes: type, description: str | None = None, help: str | None = None):
        self.classes = classes
        names = " or ".join(c.__name__ for c in classes)
        self.description = description or f"an instance of {names}"
        self.help = help

    def convert(self, value):
        if isinstance(value, self.classes):
            return value
        raise Rejected(type_error=True)


class AnyOf(Constraint):
    """Accept a value satisfying any of several constraints (the first one that accepts it
    normalises it). A plain ``None`` among them stands for the value ``None``.

    >>> c = AnyOf(Boolean(), Options(["auto"]))
    >>> c.check("auto"), c.check(False)
    ('auto', False)
    >>> c.description
    "a bool (True or False) or one of 'auto'"
    """

    def __init__(self, *constraints: Constraint | None, description: str | None = None, help: str | None = None):
        self.constraints = tuple(constraints)
        self._description = description
        self.description = description or " or ".join(
            "None" if c is None else c.description for c in self.constraints)
        self.help = help

    def for_owner(self, owner_class: type) -> Constraint:
        cache = self.__dict__.setdefault("_owned", {})
        if owner_class not in cache:
            resolved = tuple(c if c is None else c.for_owner(owner_class) for c in self.constraints)
            same = all(r is c for r, c in zip(resolved, self.constraints))
            cache[owner_class] = self if same else AnyOf(*resolved, description=self._description, help=self.help)
        return cache[owner_class]

    def convert(self, value):
        type_error = True
        for c in self.constraints:
            if c is None:
                if value is None:
                    return None
                continue
            try:
                return c.convert(value)
            except Rejected as rejected:
                type_error = type_error and rejected.type_error
        raise Rejected(type_error=type_error)

    def extra_probes(self) -> tuple:
        return tuple(p for c in self.constraints if c is not None for p in c.extra_probes())


class Lookup(Constraint):
    """A name, config or object resolved by a lookup function ``getter(value, argument)`` (such
    as ``deepnet.activations.get``); the getter's own error ("Unknown activation 'tanhh' ...
    Did you mean 'tanh'?") is kept, prefixed with the owner.

    >>> import deepnet as dn
    >>> Lookup(dn.activations.get, "an activation").check("relu").__name__
    'relu'
    >>> Lookup(dn.activations.get, "an activation").check("tanhh", "Dense", "activation")
    Traceback (most recent call last):
    ...
    ValueError: Dense: Unknown activation 'tanhh' for `activation`. Did you mean 'tanh'? ...
    """

    def __init__(self, getter, description: str, help: str | None = None):
        self.getter, self.description, self.help = getter, description, help

    def convert(self, value):
        try:
            return self.getter(value, "value")
        except (TypeError, ValueError) as e:
            raise Rejected(type_error=isinstance(e, TypeError)) from None

    def check(self, value: Any, owner: Any = None, argument: str = "value") -> Any:
        try:
            return self.getter(value, argument)
        except (TypeError, ValueError) as e:
            error = ArgumentTypeError if isinstance(e, TypeError) else ValueError
            raise error(f"{_owner_name(owner)}: {e}") from None

    def extra_probes(self) -> tuple:
        return ("not_a_known_name", {"class_name": "NoSuchThing"})


def NoneOr(constraint: Constraint, description: str | None = None, help: str | None = None) -> AnyOf:
    """``None`` or a value satisfying ``constraint``.

    >>> NoneOr(Interval(Integral, 0, None)).description
    'None or a non-negative integer'
    """
    return AnyOf(None, constraint, description=description, help=help)


def check(owner: Any, argument: str, value: Any, constraint: Constraint) -> Any:
    """Check one argument of ``owner`` and return its normalised value.

    >>> check("Conv2D", "kernel_size", 3, IntTuple(2))
    (3, 3)
    """
    return constraint.check(value, owner=owner, argument=argument)


def validate(owner: Any, constraints: Mapping[str, Constraint | None], values: Mapping[str, Any]) -> dict:
    """Check every value that has a constraint (``None`` = documented as unchecked) and return
    a copy of ``values`` with the normalised ones.

    >>> validate("Dense", {"units": Interval(Integral, 1, None)}, {"units": 4, "name": "d"})
    {'units': 4, 'name': 'd'}
    """
    out = dict(values)
    for argument, value in values.items():
        constraint = constraints.get(argument)
        if constraint is not None:
            out[argument] = constraint.check(value, owner=owner, argument=argument)
    return out
