"""Live progress of a search: one line per trial, under a rich progress bar over the trial budget
on a terminal (plain lines otherwise: a log file, a pipe, a notebook's captured output)."""

from __future__ import annotations

import sys

__all__ = ["SearchProgress"]


class SearchProgress:
    """Context manager printing the budget and trial lines; ``update(done)`` moves the bar.

    Args:
        verbose: 0 prints nothing. total: the trial budget. done: trials already counted.
        bar: draw the rich bar; default: when standard output is a terminal.

    >>> with SearchProgress(verbose=1, total=3, done=1, bar=False) as progress:
    ...     progress.line("Trial 1 COMPLETE")
    ...     progress.update(2)
    Trial 1 COMPLETE
    """

    def __init__(self, verbose: int, total: int, done: int = 0, bar: bool | None = None):
        self.verbose, self.total, self.done = verbose, total, done
        self.bar = bool(verbose) and (sys.stdout.isatty() if bar is None else bar)
        self._progress = self._task = None

    def __enter__(self) -> SearchProgress:
        if self.bar:
            from rich.progress import (
                BarColumn,
                MofNCompleteColumn,
                Progress,
                TextColumn,
                TimeElapsedColumn,
            )

            self._progress = Progress(TextColumn("trials"), BarColumn(), MofNCompleteColumn(),
                                      TimeElapsedColumn())
            self._task = self._progress.add_task("trials", total=self.total, completed=self.done)
            self._progress.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._progress is not None:
            self._progress.stop()
            self._progress = None

    def line(self, text: str) -> None:
        """Print one line (above the bar when there is one).

        >>> SearchProgress(verbose=0, total=1).line("not printed")
        """
        if not self.verbose:
            return
        if self._progress is not None:
            self._progress.console.print(text, markup=False, highlight=False, soft_wrap=True)
        else:
            print(text, flush=True)

    def update(self, done: int) -> None:
        """Trials counted so far (every worker's).

        >>> SearchProgress(verbose=0, total=1).update(1)
        """
        self.done = done
        if self._progress is not None:
            self._progress.update(self._task, completed=min(done, self.total))
