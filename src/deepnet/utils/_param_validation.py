"""The decorator side of :mod:`deepnet.utils.validation`: :func:`validate_params` and
:func:`constraints_of` (re-exported there; import them from ``deepnet.utils.validation``).

They only call a constraint's ``check`` and ``for_owner``, so this module needs none of the
constraint classes (which import it).
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Mapping
from typing import Any

__all__ = ["constraints_of", "validate_params"]


def _parameter_names(fn) -> tuple:
    """The parameter names of ``fn`` in order, read from its code object (much cheaper than
    :func:`inspect.signature`, which the decorator needs only when the function is called)."""
    code = getattr(fn, "__code__", None)
    if code is None or hasattr(fn, "__wrapped__"):
        return tuple(inspect.signature(fn).parameters)
    count = code.co_argcount + code.co_kwonlyargcount
    count += bool(code.co_flags & inspect.CO_VARARGS) + bool(code.co_flags & inspect.CO_VARKEYWORDS)
    return code.co_varnames[:count]


def _call_name(fn, args: tuple) -> str:
    """``Dense`` for ``Dense.__init__``, ``Sequential.fit`` for a method, else the function's name."""
    if not args:
        return fn.__qualname__
    cls = type(args[0]).__name__
    return cls if fn.__name__ == "__init__" else f"{cls}.{fn.__name__}"


def validate_params(constraints: Mapping[str, Any], owner: str | None = None) -> Any:
    """Decorator: check a function's (or ``__init__``'s) declared arguments before it runs.

    For a method the owner in messages is the class of ``self``; for a function its name
    (or ``owner``). A constraint of ``None`` declares an argument that is checked elsewhere
    (for example by ``activations.get``). The constraints are kept on the wrapper as
    ``__constraints__`` (see :func:`constraints_of`).

    >>> from deepnet.utils.validation import Integral, Interval, validate_params
    >>> @validate_params({"n": Interval(Integral, 1, None)})
    ... def repeat(text, n=2):
    ...     return text * n
    >>> repeat("ab", n=0)
    Traceback (most recent call last):
    ...
    ValueError: Received an invalid value for `n` of repeat, expected a positive integer. Received: n=0
    """

    def decorate(fn):
        names = _parameter_names(fn)
        unknown = set(constraints) - set(names)
        if unknown:
            raise TypeError(f"validate_params: {fn.__qualname__} has no argument(s) {sorted(unknown)}.")
        checked = {k: c for k, c in constraints.items() if c is not None}
        is_method = next(iter(names), None) == "self"
        signature = None  # inspect.signature on the first call: keeps `import deepnet` fast

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            nonlocal signature
            if signature is None:
                signature = inspect.signature(fn)
            try:
                bound = signature.bind(*args, **kwargs)
            except TypeError as e:  # name the function, as Python does without the decorator
                raise TypeError(f"{_call_name(fn, args if is_method else ())}() {e}") from None
            bound.apply_defaults()  # defaults are normalised too (strides=1 -> (1, 1))
            cls = type(args[0]) if is_method and args else None
            who = owner or (cls.__name__ if cls is not None else fn.__name__)
            arguments = bound.arguments
            for name, constraint in checked.items():
                if name in arguments:
                    if cls is not None:
                        constraint = constraint.for_owner(cls)
                    arguments[name] = constraint.check(arguments[name], owner=who, argument=name)
            return fn(*bound.args, **bound.kwargs)

        wrapper.__constraints__ = dict(constraints)
        return wrapper

    return decorate


def constraints_of(obj: Any) -> dict:
    """The declared constraints of a function, or of a class's ``__init__`` merged along its
    MRO (subclass declarations win).

    >>> from deepnet.utils.validation import Integral, Interval, constraints_of, validate_params
    >>> @validate_params({"n": Interval(Integral, 1, None)})
    ... def repeat(text, n=2):
    ...     return text * n
    >>> list(constraints_of(repeat))
    ['n']
    """
    if not isinstance(obj, type):
        return dict(getattr(obj, "__constraints__", {}))
    merged: dict = {}
    for klass in reversed(obj.__mro__):
        init = klass.__dict__.get("__init__")
        merged.update(getattr(init, "__constraints__", {}))
    return {k: c if c is None else c.for_owner(obj) for k, c in merged.items()}
