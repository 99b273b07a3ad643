"""TOML helpers for config files: reading (with the source line of every key) and writing.

``tomllib`` parses but reports no positions, so :func:`key_lines` re-scans the text and maps
each key path to its line: top-level keys, ``[table]`` keys, ``[[array.of.tables]]`` entries
(``("model", "layers", 2, "filters")``) and elements of arrays, including inline tables
written inside a multi-line array (``layers = [ {type = "Dense", units = 10}, ... ]``).
"""

from __future__ import annotations

import bisect
import math
import re
import sys

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - Python 3.10
    import tomli as tomllib

__all__ = ["TOMLDecodeError", "dumps", "key_lines", "line_of", "loads", "parse_value"]

TOMLDecodeError = tomllib.TOMLDecodeError
loads = tomllib.loads

_BARE = re.compile(r"[A-Za-z0-9_-]+")


class _Scanner:
    def __init__(self, text: str):
        self.s = text
        self.n = len(text)
        self.i = 0
        self.starts = [0] + [m.end() for m in re.finditer("\n", text)]
        self.lines: dict[tuple, int] = {}
        self.aot: dict[tuple, int] = {}

    def line(self, pos: int | None = None) -> int:
        return bisect.bisect_right(self.starts, self.i if pos is None else pos)

    def record(self, path: tuple, pos: int | None = None) -> None:
        self.lines.setdefault(path, self.line(pos))

    # -- low level -------------------------------------------------------------------------
    def require_more(self) -> None:
        if self.i >= self.n:
            raise ValueError("unexpected end of text")

    def peek(self, k: int = 1) -> str:
        return self.s[self.i:self.i + k]

    def skip_space(self, newlines: bool) -> None:
        while self.i < self.n:
            c = self.s[self.i]
            if c in " \t\r" or (newlines and c == "\n"):
                self.i += 1
            elif newlines and c == "#":
                self.skip_comment()
            else:
                return

    def skip_comment(self) -> None:
        end = self.s.find("\n", self.i)
        self.i = self.n if end < 0 else end

    def string(self) -> str:
        s = self.s
        for quote in ('"""', "'''"):
            if s.startswith(quote, self.i):
                start = self.i + 3
                j = start
                while True:
                    j = s.index(quote, j)
                    if quote == '"""' and _escaped(s, j):
                        j += 1
                        continue
                    break
                while s.startswith(quote[0], j + 3):  # up to two quotes may end the content
                    j += 1
                self.i = j + 3
                return s[start:j]
        quote = s[self.i]
        j = self.i + 1
        while True:
            j = s.index(quote, j)
            if quote == '"' and _escaped(s, j):
                j += 1
                continue
            break
        text = s[self.i + 1:j]
        self.i = j + 1
        if quote == '"':
            try:
                text = tomllib.loads(f'k = "{text}"')["k"]
            except tomllib.TOMLDecodeError:
                pass
        return text

    def key(self) -> tuple:
        parts = []
        while True:
            self.skip_space(False)
            c = self.peek()
            if c in ('"', "'"):
                parts.append(self.string())
            else:
                m = _BARE.match(self.s, self.i)
                if not m:
                    raise ValueError("bad key")
                parts.append(m.group())
                self.i = m.end()
            self.skip_space(False)
            if self.peek() == ".":
                self.i += 1
                continue
            return tuple(parts)

    # -- values ----------------------------------------------------------------------------
    def value(self, path: tuple) -> None:
        self.skip_space(False)
        c = self.peek()
        if c in ('"', "'"):
            self.string()
        elif c == "[":
            self.i += 1
            index = 0
            while True:
                self.skip_space(True)
                self.require_more()
                if self.peek() == "]":
                    self.i += 1
                    return
                self.record(path + (index,))
                self.value(path + (index,))
                index += 1
                self.skip_space(True)
                if self.peek() == ",":
                    self.i += 1
        elif c == "{":
            self.i += 1
            while True:
                self.skip_space(True)  # TOML 1.1 allows newlines in inline tables
                self.require_more()
                if self.peek() == "}":
                    self.i += 1
                    return
                start = self.i
                k = self.key()
                self.record(path + k, start)
                if self.peek() != "=":
                    raise ValueError("expected =")
                self.i += 1
                self.value(path + k)
                self.skip_space(True)
                if self.peek() == ",":
                    self.i += 1
        else:
            start = self.i
            while self.i < self.n and self.s[self.i] not in ",]}\n#":
                self.i += 1
            if self.i == start:
                raise ValueError("expected a value")

    # -- document --------------------------------------------------------------------------
    def header_path(self, raw: tuple) -> tuple:
        """Insert the current index after each array-of-tables prefix of ``raw``."""
        out: tuple = ()
        for k in raw:
            out = out + (k,)
            if out in self.aot:
                out = out + (self.aot[out],)
        return out

    def document(self) -> None:
        table: tuple = ()
        while True:
            self.skip_space(True)
            if self.i >= self.n:
                return
            start = self.i
            if self.s.startswith("[[", self.i):
                self.i += 2
                raw = self.key()
                self.i = self.s.index("]]", self.i) + 2
                parent = self.header_path(raw[:-1]) + raw[-1:]
                self.record(parent, start)
                self.aot[parent] = self.aot.get(parent, -1) + 1
                table = parent + (self.aot[parent],)
                self.record(table, start)
            elif self.peek() == "[":
                self.i += 1
                raw = self.key()
                self.i = self.s.index("]", self.i) + 1
                table = self.header_path(raw)
                self.record(table, start)
            else:
                k = self.key()
                self.record(table + k, start)
                if self.peek() != "=":
                    raise ValueError("expected =")
                self.i += 1
                self.value(table + k)
            # the rest of the line is a comment or nothing
            self.skip_space(False)
            if self.peek() == "#":
                self.skip_comment()


def _escaped(s: str, j: int) -> bool:
    k = j - 1
    count = 0
    while k >= 0 and s[k] == "\\":
        count += 1
        k -= 1
    return count % 2 == 1


def key_lines(text: str) -> dict[tuple, int]:
    """``{key path: 1-based line}`` for every key, table header and array element of ``text``.

    Never raises: on text it cannot follow (it expects TOML that ``tomllib`` accepted) it
    returns what it mapped so far.
    """
    scanner = _Scanner(text)
    try:
        scanner.document()
    except (ValueError, IndexError):
        pass
    return scanner.lines


def line_of(lines: dict[tuple, int], loc) -> int | None:
    """The line of ``loc`` or of its closest enclosing key/table that appears in the file."""
    loc = tuple(loc)
    for k in range(len(loc), 0, -1):
        if loc[:k] in lines:
            return lines[loc[:k]]
    return None


def parse_value(text: str):
    """A command-line value as TOML (``5``, ``1e-3``, ``true``, ``[32, 64]``, ``"x"``), or
    the text itself when it is not a TOML value (so ``--set data.name=mnist1d`` works)."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


# --------------------------------------------------------------------------------- writing
def _key(k: str) -> str:
    return k if _BARE.fullmatch(k) else _string(k)


def _string(s: str) -> str:
    out = s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\t", "\\t")
    out = "".join(c if c >= " " or c in "\\" else f"\\u{ord(c):04x}" for c in out)
    return f'"{out}"'


def _scalar(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, int):
        return str(v)
    if isinstance(v, float):
        if math.isnan(v):
            return "nan"
        if math.isinf(v):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return _string(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_scalar(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{_key(k)} = {_scalar(x)}" for k, x in v.items() if x is not None) + "}"
    raise TypeError(f"cannot write {type(v).__name__} to TOML")


def _is_table_array(v) -> bool:
    """A list of tables holding nested tables: written as ``[[name]]`` sections."""
    return (isinstance(v, (list, tuple)) and bool(v) and all(isinstance(x, dict) for x in v)
            and any(isinstance(y, dict) for x in v for y in x.values()))


def _value(v) -> str:
    if isinstance(v, (list, tuple)) and v and all(isinstance(x, dict) for x in v):
        return "[\n" + "".join(f"    {_scalar(x)},\n" for x in v) + "]"
    return _scalar(v)


def dumps(data: dict, header: str = "", inline_lists: bool = False) -> str:
    """TOML text for a dict of plain values (``None`` values are left out: TOML has no null).
    ``inline_lists=True`` writes every list of tables as one inline table a line (as configs
    write ``[model] layers``), also when the tables hold nested tables."""
    out: list[str] = [header] if header else []

    def sections(v) -> bool:
        return not inline_lists and _is_table_array(v)

    def table(d: dict, path: tuple, array: bool = False) -> None:
        simple = [(k, v) for k, v in d.items() if v is not None and not isinstance(v, dict) and not sections(v)]
        nested = [(k, v) for k, v in d.items() if isinstance(v, dict) or sections(v)]
        if path:
            name = ".".join(_key(k) for k in path)
            if array:
                out.append(f"\n[[{name}]]")
            elif simple or not nested:
                out.append(f"\n[{name}]")
        for k, v in simple:
            out.append(f"{_key(k)} = {_value(v)}")
        for k, v in nested:
            if isinstance(v, dict):
                table(v, path + (k,))
            else:
                for item in v:
                    table(item, path + (k,), array=True)

    table(data, ())
    return "\n".join(out).lstrip("\n") + "\n"
