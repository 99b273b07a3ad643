"""deepnet.utils.validation: the one module for argument checks."""

from __future__ import annotations

import inspect
import math

import numpy as np
import pytest

from deepnet.utils.validation import (
    AnyOf,
    ArgumentTypeError,
    Boolean,
    Callable,
    InstanceOf,
    Integral,
    Interval,
    IntTuple,
    NoneOr,
    Options,
    Real,
    check,
    constraints_of,
    invalid_value,
    validate,
    validate_params,
)

# constraint, accepted (value, normalised), rejected values (exception type)
TABLE = [
    (Boolean(), [(True, True), (np.bool_(False), False)], [("no", TypeError), (1, TypeError), (None, TypeError)]),
    (Interval(Integral, 1, None), [(3, 3), (np.int64(2), 2)],
     [(0, ValueError), (-1, ValueError), (2.0, TypeError), (True, TypeError), ("3", TypeError)]),
    (Interval(Real, 0, 1, closed="left"), [(0, 0.0), (0.5, 0.5)],
     [(1, ValueError), (-0.1, ValueError), (math.nan, ValueError), (math.inf, ValueError), ("0.5", TypeError)]),
    (Interval(Real, 0, 1, closed="neither"), [(0.5, 0.5)], [(0, ValueError), (1.0, ValueError)]),
    (Interval(Real, None, 0, closed="right"), [(-3, -3.0), (0, 0.0)], [(0.1, ValueError)]),
    (Options(["channels_last", "channels_first"], ignore_case=True), [("Channels_Last", "channels_last")],
     [("nhwc", ValueError), (3, TypeError)]),
    (Options(["valid", "same"]), [("same", "same")], [("SAME", ValueError)]),
    (IntTuple(2), [(3, (3, 3)), ([1, 2], (1, 2)), ((np.int32(2), 1), (2, 1))],
     [((3,), ValueError), ((1, 0), ValueError), ("3", TypeError), (2.5, TypeError)]),
    (IntTuple(2, low=0, allow_int=False), [((0, 1), (0, 1))], [(1, TypeError), ((-1, 0), ValueError)]),
    (Callable(), [(len, len)], [("len", TypeError)]),
    (InstanceOf(str, bytes), [("a", "a"), (b"a", b"a")], [(1, TypeError)]),
    (NoneOr(Interval(Integral, 0, None)), [(None, None), (0, 0)], [(-1, ValueError), (1.5, TypeError)]),
    (AnyOf(Boolean(), Options(["auto"])), [("auto", "auto"), (False, False)], [("yes", ValueError)]),
]


@pytest.mark.parametrize("constraint, good, bad", TABLE, ids=[repr(t[0]) for t in TABLE])
def test_constraint_table(constraint, good, bad):
    for value, normalised in good:
        out = constraint.check(value, owner="Owner", argument="arg")
        assert out == normalised and type(out) is type(normalised)
        assert constraint.accepts(value)
    for value, error in bad:
        assert not constraint.accepts(value)
        with pytest.raises(error, match=r"invalid value for `arg` of Owner, expected .*Received: arg="):
            constraint.check(value, owner="Owner", argument="arg")


@pytest.mark.parametrize("constraint", [t[0] for t in TABLE], ids=[repr(t[0]) for t in TABLE])
def test_invalid_examples_are_rejected(constraint):
    examples = constraint.invalid_examples()
    assert examples
    for value in examples:
        with pytest.raises((TypeError, ValueError)):
            constraint.check(value)


def test_type_errors_are_also_value_errors():
    with pytest.raises(ValueError):
        Boolean().check("no")
    with pytest.raises(TypeError):
        Boolean().check("no")
    assert issubclass(ArgumentTypeError, TypeError) and issubclass(ArgumentTypeError, ValueError)


def test_one_wording():
    err = invalid_value("Dense", "units", 0, "a positive integer", help="pass units=1 or more")
    assert str(err) == ("Received an invalid value for `units` of Dense, expected a positive integer. "
                        "Received: units=0\nhelp: pass units=1 or more")
    assert str(invalid_value(Boolean, "x", 1, "y")).startswith("Received an invalid value for `x` of Boolean")
    with pytest.raises(ValueError, match="of Dense, expected a positive integer"):
        check("Dense", "units", 0, Interval(Integral, 1, None))


def test_descriptions():
    assert Interval(Integral, 1, None).description == "a positive integer"
    assert Interval(Integral, 0, None).description == "a non-negative integer"
    assert Interval(Real, 0, 1).description == "a float in [0, 1]"
    assert Interval(Real, 0, None, closed="neither").description == "a float > 0"
    assert Interval(Real, None, None).description == "a finite float"
    assert NoneOr(Interval(Integral, 0, None)).description == "None or a non-negative integer"
    assert "tuple of 2 positive ints" in IntTuple(2).description


def test_validate_normalises_only_declared_arguments():
    out = validate("Conv2D", {"kernel_size": IntTuple(2), "name": None}, {"kernel_size": 3, "name": 5})
    assert out == {"kernel_size": (3, 3), "name": 5}


class _Owner:
    @validate_params({"size": IntTuple(2), "flag": Boolean(), "rate": Interval(Real, 0, 1)})
    def __init__(self, size=1, flag=False, rate=0.5, **kwargs):
        self.size, self.flag, self.rate, self.kwargs = size, flag, rate, kwargs


class _Child(_Owner):
    @validate_params({"extra": Interval(Integral, 0, None)})
    def __init__(self, extra=0, **kwargs):
        super().__init__(**kwargs)
        self.extra = extra


def test_validate_params_decorator():
    o = _Owner(size=(2, 3), other=1)
    assert (o.size, o.flag, o.rate, o.kwargs) == ((2, 3), False, 0.5, {"other": 1})
    assert _Owner().size == (1, 1)  # defaults are normalised too
    with pytest.raises(TypeError, match=r"`flag` of _Owner, expected a bool"):
        _Owner(flag="no")
    with pytest.raises(ValueError, match=r"`size` of _Child"):  # the owner is the instance's class
        _Child(size=0)
    with pytest.raises(ValueError, match=r"`extra` of _Child"):
        _Child(extra=-1)
    assert list(inspect.signature(_Owner.__init__).parameters) == ["self", "size", "flag", "rate", "kwargs"]
    assert set(constraints_of(_Child)) == {"size", "flag", "rate", "extra"}


def test_validate_params_function_and_unknown_argument():
    @validate_params({"n": Interval(Integral, 1, None)})
    def repeat(text, n=2):
        return text * n

    assert repeat("a", n=3) == "aaa"
    with pytest.raises(ValueError, match="of repeat"):
        repeat("a", 0)
    with pytest.raises(TypeError, match="no argument"):
        validate_params({"m": Boolean()})(repeat.__wrapped__)


def test_interval_as_given_keeps_the_value():
    from deepnet.utils.validation import Interval, Real

    assert type(Interval(Real, 0, None).check(10)) is float
    assert type(Interval(Real, 0, None, as_given=True).check(10)) is int
    with pytest.raises(ValueError):
        Interval(Real, 0, None, as_given=True).check(-1)
