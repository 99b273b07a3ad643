"""Progress reporting for ``fit``/``evaluate``/``predict``.

``verbose=1`` on a terminal draws a rich progress bar per epoch (ETA, loss, metrics), redrawn
at most ten times a second from the training thread itself (no refresh thread competing with
training for the cores; values are read from the device only when a redraw is due).
``verbose=2``, or ``verbose=1`` when the output is not a terminal, prints one plain line per
epoch, as does ``verbose=1`` after ``deepnet.utils.disable_interactive_logging()``.
``verbose=0`` is silent.
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable

from ..utils.interactive_logging import is_interactive_logging_enabled

__all__ = ["ProgressReporter", "format_logs", "resolve_verbose"]


def resolve_verbose(verbose) -> int:
    """``verbose`` as 0, 1 or 2 (``"auto"`` is 1, as in Keras).

    >>> resolve_verbose("auto"), resolve_verbose(2)
    (1, 2)
    """
    if verbose == "auto":
        return 1
    if verbose not in (0, 1, 2):
        raise ValueError(f"Received an invalid value for `verbose`, expected 'auto', 0, 1 or 2. Received: verbose={verbose!r}")
    return int(verbose)


def _fmt(v) -> str:
    if isinstance(v, float):
        return f"{v:.4f}" if abs(v) >= 1e-3 or v == 0 else f"{v:.4e}"
    return str(v)


def format_logs(logs: dict) -> str:
    """One line of logs as the progress output prints them.

    >>> format_logs({"loss": 0.25, "accuracy": 0.9})
    'loss: 0.2500 - accuracy: 0.9000'
    """
    return " - ".join(f"{k}: {_fmt(v)}" for k, v in logs.items())


def _fmt_time(seconds: float) -> str:
    if seconds >= 3600:
        return f"{int(seconds // 3600)}h{int(seconds % 3600 // 60):02d}m"
    if seconds >= 60:
        return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"
    if seconds >= 1:
        return f"{seconds:.0f}s"
    return f"{seconds * 1000:.0f}ms"


class ProgressReporter:
    """Prints progress for one ``fit``/``evaluate``/``predict`` run.

    >>> import io
    >>> out = io.StringIO()
    >>> progress = dn.training.progress.ProgressReporter(2, epochs=1, steps=4, stream=out)
    >>> progress.epoch_begin(0)
    >>> progress.epoch_end(0, 4, {"loss": 0.25})
    >>> out.getvalue().startswith("Epoch 1/1")
    True
    """

    REFRESH_S = 0.1

    def __init__(self, verbose: int, epochs: int | None, steps: int | None, stream=None, title: str = "Epoch"):
        self.verbose = verbose
        self.epochs = epochs
        self.steps = steps
        self.stream = stream or sys.stdout
        self.title = title
        self.interactive = (verbose == 1 and is_interactive_logging_enabled()
                            and bool(getattr(self.stream, "isatty", lambda: False)()))
        self._progress = None
        self._task = None
        self._last = 0.0
        self._start = 0.0

    # ------------------------------------------------------------------ epochs
    def epoch_begin(self, epoch: int) -> None:
        self._start = self._last = time.perf_counter()
        if self.verbose == 0:
            return
        if self.interactive:
            from rich.console import Console
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeRemainingColumn,
            )

            label = f"{self.title} {epoch + 1}/{self.epochs}" if self.epochs else self.title
            self._progress = Progress(
                TextColumn(label), BarColumn(bar_width=30), MofNCompleteColumn(),
                TextColumn("ETA"), TimeRemainingColumn(), TextColumn("{task.fields[logs]}"),
                console=Console(file=self.stream), auto_refresh=False, transient=False,
            )
            self._progress.start()
            self._task = self._progress.add_task("", total=self.steps, logs="")

    def batch_end(self, step: int, values: Callable[[], dict]) -> None:
        """``step`` is 1-based; ``values()`` is called only when a redraw is due."""
        if self._progress is None:
            return
        now = time.perf_counter()
        if now - self._last < self.REFRESH_S and (self.steps is None or step < self.steps):
            return
        self._last = now
        self._progress.update(self._task, completed=step, logs=format_logs(values()))
        self._progress.refresh()

    def epoch_end(self, epoch: int | None, steps_done: int, logs: dict) -> None:
        if self.verbose == 0:
            return
        elapsed = time.perf_counter() - self._start
        per_step = elapsed / max(1, steps_done)
        timing = f"{_fmt_time(elapsed)} {_fmt_time(per_step)}/step"
        if self._progress is not None:
            self._progress.update(self._task, completed=steps_done, total=self.steps or steps_done,
                                  logs=f"{timing} - {format_logs(logs)}")
            self._progress.refresh()
            self._progress.stop()
            self._progress = None
            return
        head = f"{self.title} {epoch + 1}/{self.epochs}" if (epoch is not None and self.epochs) else self.title
        self.stream.write(f"{head} - {steps_done}/{self.steps or steps_done} - {timing} - {format_logs(logs)}\n")
        self.stream.flush()

    def message(self, text: str) -> None:
        if self.verbose:
            self.stream.write(text + "\n")
            self.stream.flush()
