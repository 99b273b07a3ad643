"""Exceptions of the ``deepnet`` command and how they map to exit codes.

Exit codes: 0 success; 1 a runtime failure (training crashed, a library error while running);
2 a usage or input problem (bad command line, invalid config file, missing or malformed
input file). Every error is printed as one line on stderr: ``error: <message>``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["EXIT_OK", "EXIT_RUNTIME", "EXIT_USAGE", "CLIError", "ConfigError", "Issue", "UsageFailure", "one_line"]

EXIT_OK = 0
EXIT_RUNTIME = 1
EXIT_USAGE = 2


def one_line(text) -> str:
    """Collapse a (possibly multi-line) message into one line."""
    return " ".join(str(text).split())


class CLIError(Exception):
    """A failure the command reports as one ``error:`` line (exit code 1 unless overridden)."""

    exit_code = EXIT_RUNTIME


class UsageFailure(CLIError):
    """A problem with what the user gave us: arguments, files, data (exit code 2)."""

    exit_code = EXIT_USAGE


@dataclass
class Issue:
    """One problem in a config: where (key path, source line) and what."""

    loc: tuple
    message: str
    line: int | None = None
    source: str | None = None  # "command line" for values given with --set/--epochs/...

    def where(self) -> str:
        return format_loc(self.loc)


def format_loc(loc) -> str:
    """``("model", "layers", 2, "filters")`` -> ``model.layers[2].filters``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out or "<top level>"


class ConfigError(UsageFailure):
    """Invalid config: one or more :class:`Issue` s, the first one shown in the error line."""

    def __init__(self, issues: list[Issue], filename: str | None = None):
        self.issues = list(issues)
        self.filename = filename
        super().__init__(self.format_issue(self.issues[0]) if self.issues else "invalid config")

    def format_issue(self, issue: Issue) -> str:
        if issue.source:
            head = f"{issue.source}"
        elif self.filename:
            head = self.filename + (f", line {issue.line}" if issue.line else "")
        else:
            head = "config"
        return one_line(f"{head}: {issue.where()}: {issue.message}")

    def __str__(self) -> str:
        first = self.format_issue(self.issues[0]) if self.issues else "invalid config"
        more = len(self.issues) - 1
        if more > 0:
            hint = f"deepnet check {self.filename}" if self.filename else "deepnet check CONFIG"
            first += f" ({more} more problem{'s' if more > 1 else ''}: run `{hint}` to list all)"
        return first

    def lines(self) -> list[str]:
        return [self.format_issue(i) for i in self.issues]
