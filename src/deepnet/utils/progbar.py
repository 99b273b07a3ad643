"""Keras' ``Progbar``: a text progress bar with running averages of named values."""

from __future__ import annotations

import sys
import time
from numbers import Integral, Real

from ._param_validation import validate_params
from .interactive_logging import is_interactive_logging_enabled
from .validation import Interval, NoneOr, Options, String

__all__ = ["Progbar"]


def _format_value(value) -> str:
    if isinstance(value, (Real,)) and not isinstance(value, bool):
        return f"{value:.4f}" if abs(value) > 1e-3 else f"{value:.4e}"
    return str(value)


class Progbar:
    """A progress bar: ``update(current, values)`` / ``add(n, values)`` (Keras' API).

    ``values`` is a list of ``(name, value)``; a name listed in ``stateful_metrics`` is shown as
    given, the others as their average over the steps seen (weighted by step count). ``verbose``:
    1 a bar redrawn in place (at most every ``interval`` seconds), 2 one line at the end, 0 silent.
    ``target=None`` for an unknown number of steps.

    >>> bar = dn.utils.Progbar(4, verbose=2)
    >>> bar.update(2, [("loss", 1.0)])
    >>> bar.add(2, [("loss", 3.0)])  # doctest: +ELLIPSIS
    4/4 - ...s - loss: 2.0000
    """

    @validate_params({"target": NoneOr(Interval(Integral, 0, None)), "width": Interval(Integral, 1, None),
                      "verbose": Options((0, 1, 2)), "interval": Interval(Real, 0, None),
                      "stateful_metrics": None, "unit_name": String()})
    def __init__(self, target, width=20, verbose=1, interval=0.05, stateful_metrics=None, unit_name="step"):
        self.target = target
        self.width = width
        self.verbose = verbose
        self.interval = interval
        self.stateful_metrics = set(stateful_metrics or ())
        self.unit_name = unit_name
        self._values: dict[str, list] = {}
        self._seen_so_far = 0
        self._start = time.time()
        self._last_update = 0.0  # the first update always draws
        self._dynamic = is_interactive_logging_enabled() and bool(getattr(sys.stdout, "isatty", lambda: False)())
        self._prev_width = 0

    def _record(self, current: int, values, finalize: bool) -> None:
        for name, value in values or ():
            if name in self.stateful_metrics:
                self._values[name] = [value, 1]
                continue
            steps = max(current - self._seen_so_far, 1)
            total, count = self._values.get(name, [0.0, 0])
            self._values[name] = [total + value * steps, count + steps]

    def _info(self) -> str:
        parts = [f"{time.time() - self._start:.0f}s"]
        for name, (total, count) in self._values.items():
            value = total if name in self.stateful_metrics else total / max(count, 1)
            parts.append(f"{name}: {_format_value(value)}")
        return " - ".join(parts)

    def _bar(self, current: int) -> str:
        if not self.target:
            return f"{current:7d}/Unknown"
        digits = len(str(self.target))
        done = int(self.width * min(current / self.target, 1.0))
        return f"{current:{digits}d}/{self.target} [{'=' * done}{'.' * (self.width - done)}]"

    def update(self, current, values=None, finalize=None):
        """Move the bar to step ``current`` and record ``values`` (``[(name, value), ...]``)."""
        if finalize is None:
            finalize = self.target is not None and current >= self.target
        self._record(current, values, finalize)
        self._seen_so_far = current
        now = time.time()
        if self.verbose == 1 and (finalize or now - self._last_update >= self.interval):
            line = f"{self._bar(current)} - {self._info()}"
            pad = " " * max(self._prev_width - len(line), 0)
            sys.stdout.write(("\r" if self._dynamic else "\n") + line + pad + ("\n" if finalize else ""))
            sys.stdout.flush()
            self._prev_width = len(line)
            self._last_update = now
        elif self.verbose == 2 and finalize:
            count = f"{current}/{self.target}" if self.target else f"{current}"
            print(f"{count} - {self._info()}")

    def add(self, n, values=None):
        """Advance the bar by ``n`` steps (see :meth:`update`)."""
        self.update(self._seen_so_far + n, values)
