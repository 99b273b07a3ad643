"""The import contract of docs/architecture.md, checked on the source with ``ast``.

Every module under src/deepnet is parsed; the test fails on

* an import of a package above the importer's level, or of a sibling package on the same level;
* an import of another package's private module or name (``_x``);
* an import cycle between deepnet modules (module-level imports);
* an import of a deepnet module inside a function, outside the allow-list below;
  ``lazy_import("deepnet.x")`` (deepnet.utils.lazy) counts as an import for all these rules
  except cycles (it runs on first use, not at import);
* a function with McCabe complexity over 15 (ruff C901), or a ``# noqa: C901`` without a reason;
* a function over 80 lines (its docstring not counted) without a ``# long-function: reason``
  comment on its ``def`` line or the line above;
* a file over 600 lines.
"""

from __future__ import annotations

import ast
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pytest

SRC = Path(__file__).resolve().parents[1] / "src"
PKG = SRC / "deepnet"

#: Package levels, lowest first (docs/architecture.md). A module may import its own package and
#: packages on LOWER levels only; packages on the same level are independent of each other.
#: "(root)" is deepnet/__init__.py (plus __main__ and conftest, which belong to it).
LEVELS: list[tuple[str, ...]] = [
    ("utils", "version"),
    ("activations", "initializers", "regularizers", "constraints", "mixed_precision", "ops", "random",
     "backend", "tree"),
    ("losses", "optimizers", "config"),
    ("metrics",),
    ("layers",),
    ("saving", "distribution", "compat"),
    ("training",),
    ("models", "callbacks"),
    ("datasets", "visualization", "applications"),
    ("diagnose",),
    ("tune", "robust", "explain"),
    ("cli",),
    ("(root)",),
]
LEVEL = {pkg: i for i, group in enumerate(LEVELS) for pkg in group}
ROOT_MODULES = {"deepnet", "deepnet.__main__", "deepnet.conftest"}

#: Packages whose modules may import deepnet modules inside functions, and why.
FUNCTION_IMPORTS_ALLOWED = {
    "cli": "start-up speed: `deepnet --help` must not import torch-heavy modules",
    "(root)": "the root package imports its lazy submodules on first attribute access",
}

#: Single imports allowed to break the rules above: (importer, imported module) -> reason.
EXCEPTIONS = {
    ("deepnet.utils", "deepnet.visualization"):
        "Keras compatibility: keras.utils.plot_model; imported inside the function on first use "
        "(utils is the lowest package, visualization is far above it)",
    ("deepnet.utils", "deepnet.visualization.dot"):
        "Keras compatibility: keras.utils.model_to_dot; imported inside deepnet.utils.__getattr__ on "
        "first use (visualization is far above utils)",
    ("deepnet.utils", "deepnet.layers.feature_space"):
        "Keras compatibility: keras.utils.FeatureSpace is made of preprocessing layers; imported inside "
        "deepnet.utils.__getattr__ on first access (utils is level 0, layers level 4)",
}

MAX_LINES = 600
MAX_FUNCTION_LINES = 80
#: ``# noqa: C901 -- <reason>``: the codes, then a reason of a few words (any separator).
NOQA = re.compile(r"#\s*noqa:\s*(?P<codes>[A-Z]+[0-9]+(?:[\s,]+[A-Z]+[0-9]+)*)(?P<rest>.*)$")
LONG_FUNCTION = re.compile(r"#\s*long-function:(?P<reason>.*)$")
#: Files allowed over MAX_LINES (path relative to src/deepnet -> reason). Ideally empty.
LONG_FILES: dict[str, str] = {}


@dataclass(frozen=True)
class Import:
    importer: str  # dotted module name
    target: str  # dotted module the import resolves to
    names: tuple[str, ...]  # names taken from it ("" for `import x`)
    line: int
    in_function: bool
    type_checking: bool
    lazy: bool = False  # ``x = lazy_import("deepnet.pkg")`` (deepnet.utils.lazy): deferred, no cycle


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(SRC).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts)


@cache
def _modules() -> dict[str, Path]:
    return {_module_name(p): p for p in sorted(PKG.rglob("*.py"))}


def package_of(module: str) -> str:
    """Top-level package of a deepnet module (``deepnet.layers.core`` -> ``layers``)."""
    if module in ROOT_MODULES:
        return "(root)"
    return module.split(".")[1]


def _resolve(importer: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if not node.level:
        return node.module or ""
    base = importer.split(".") if is_pkg else importer.split(".")[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


class _Collector(ast.NodeVisitor):
    def __init__(self, module: str, is_pkg: bool):
        self.module, self.is_pkg = module, is_pkg
        self.depth = 0
        self.type_checking = 0
        self.found: list[Import] = []

    def _func(self, node):
        self.depth += 1
        self.generic_visit(node)
        self.depth -= 1

    visit_FunctionDef = visit_AsyncFunctionDef = visit_Lambda = _func

    def visit_If(self, node: ast.If):
        test = ast.unparse(node.test)
        if test in ("TYPE_CHECKING", "typing.TYPE_CHECKING"):
            self.type_checking += 1
            for child in node.body:
                self.visit(child)
            self.type_checking -= 1
            for child in node.orelse:
                self.visit(child)
        else:
            self.generic_visit(node)

    def _add(self, target: str, names: tuple[str, ...], line: int, lazy: bool = False):
        if target == "deepnet" or target.startswith("deepnet."):
            self.found.append(Import(self.module, target, names, line, self.depth > 0,
                                     self.type_checking > 0, lazy))

    def visit_Call(self, node: ast.Call):
        """``lazy_import("deepnet.x")`` counts as an import of ``deepnet.x`` (same rules)."""
        func = node.func
        name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
        if name == "lazy_import" and node.args and isinstance(node.args[0], ast.Constant) \
                and isinstance(node.args[0].value, str):
            self._add(node.args[0].value, ("",), node.lineno, lazy=True)
        self.generic_visit(node)

    def visit_Import(self, node: ast.Import):
        for alias in node.names:
            self._add(alias.name, ("",), node.lineno)

    def visit_ImportFrom(self, node: ast.ImportFrom):
        target = _resolve(self.module, self.is_pkg, node)
        modules = _modules()
        plain = []
        for alias in node.names:
            sub = f"{target}.{alias.name}"
            if sub in modules:  # `from . import core`: an import of the submodule
                self._add(sub, ("",), node.lineno)
            else:
                plain.append(alias.name)
        if plain:
            self._add(target, tuple(plain), node.lineno)


@cache
def all_imports() -> tuple[Import, ...]:
    out: list[Import] = []
    for module, path in _modules().items():
        collector = _Collector(module, path.name == "__init__.py")
        collector.visit(ast.parse(path.read_text(encoding="utf-8"), str(path)))
        out.extend(collector.found)
    return tuple(out)


def _where(imp: Import) -> str:
    path = _modules()[imp.importer].relative_to(SRC.parent)
    return f"{path}:{imp.line} ({imp.importer} -> {imp.target})"


def _existing_module(target: str) -> str:
    """The longest prefix of ``target`` that is a module (``deepnet.x.y.Name`` -> ``deepnet.x.y``)."""
    modules = _modules()
    parts = target.split(".")
    while parts and ".".join(parts) not in modules:
        parts.pop()
    return ".".join(parts)


def test_every_package_has_a_level():
    packages = {package_of(m) for m in _modules()}
    missing = sorted(packages - set(LEVEL))
    assert not missing, f"packages without a level in LEVELS / docs/architecture.md: {missing}"


def test_imports_point_down():
    bad = []
    for imp in all_imports():
        src, dst = package_of(imp.importer), package_of(_existing_module(imp.target) or imp.target)
        if src == dst or imp.type_checking or _excepted(imp):
            continue
        if LEVEL.get(dst, -1) >= LEVEL.get(src, len(LEVELS)):
            kind = "sibling" if LEVEL.get(dst) == LEVEL.get(src) else "upward"
            bad.append(f"{kind} import: {_where(imp)} [{src} -> {dst}]")
    assert not bad, "imports must point down (docs/architecture.md):\n" + "\n".join(bad)


def _excepted(imp: Import) -> bool:
    return (imp.importer, _existing_module(imp.target) or imp.target) in EXCEPTIONS


def _private_parts(imp: Import) -> list[str]:
    rest = imp.target.split(".")[2:]  # below the top-level package: modules (or a name)
    private = [p for p in rest if p.startswith("_") and not p.startswith("__")]
    private += [n for n in imp.names if n.startswith("_") and not n.startswith("__")]
    return private


def test_no_private_cross_package_imports():
    bad = []
    for imp in all_imports():
        if package_of(imp.importer) == package_of(_existing_module(imp.target) or imp.target):
            continue
        private = _private_parts(imp)
        if private:
            bad.append(f"{_where(imp)} uses private {private}")
    assert not bad, ("no import of another package's private module or name; ask its owner to make "
                     "it public:\n" + "\n".join(bad))


def test_no_function_level_imports_of_deepnet():
    bad = [_where(imp) for imp in all_imports()
           if imp.in_function and package_of(imp.importer) not in FUNCTION_IMPORTS_ALLOWED
           and not _excepted(imp)]
    assert not bad, ("imports of deepnet modules belong at module level (no dodging cycles); "
                     "lazy imports are for optional third-party dependencies:\n" + "\n".join(bad))


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []
    counter = [0]

    def visit(v: str) -> None:
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(max(sys.getrecursionlimit(), 10_000))
    for v in sorted(graph):
        if v not in index:
            visit(v)
    return out


def test_no_import_cycles():
    graph: dict[str, set[str]] = {m: set() for m in _modules()}
    for imp in all_imports():
        if imp.in_function or imp.type_checking or imp.lazy:
            continue
        target = _existing_module(imp.target)
        if target and target != imp.importer:
            graph[imp.importer].add(target)
    cycles = _cycles(graph)
    assert not cycles, "import cycles between deepnet modules:\n" + "\n".join(" <-> ".join(c) for c in cycles)


def test_files_are_short():
    bad = []
    for path in _modules().values():
        rel = str(path.relative_to(PKG))
        n = len(path.read_text(encoding="utf-8").splitlines())
        if n > MAX_LINES and rel not in LONG_FILES:
            bad.append(f"{rel}: {n} lines")
    assert not bad, f"files over {MAX_LINES} lines (split into private modules):\n" + "\n".join(bad)


def test_functions_are_simple():
    ruff = shutil.which("ruff") or str(Path(sys.executable).with_name("ruff"))
    if not Path(ruff).exists():
        pytest.skip("ruff is not installed")
    result = subprocess.run([ruff, "check", "--select", "C901", "--output-format", "concise", str(PKG)],
                            capture_output=True, text=True, cwd=SRC.parent)
    assert result.returncode == 0, ("functions over complexity 15 (split them, or add `# noqa: C901` "
                                    "with a reason):\n" + result.stdout + result.stderr)


def _has_reason(text: str) -> bool:
    """A reason: at least two words of letters after the separator (``--``, ``:``, ``(``...)."""
    return len(re.findall(r"[A-Za-z]{2,}", text)) >= 2


def bare_c901_noqas(lines: list[str]) -> list[int]:
    """Line numbers (1-based) of ``# noqa: C901`` comments that give no reason."""
    bad = []
    for number, line in enumerate(lines, 1):
        match = NOQA.search(line)
        if match and "C901" in re.split(r"[\s,]+", match["codes"]) and not _has_reason(match["rest"]):
            bad.append(number)
    return bad


def test_c901_exemptions_give_a_reason():
    bad = []
    for path in _modules().values():
        lines = path.read_text(encoding="utf-8").splitlines()
        bad += [f"{path.relative_to(SRC.parent)}:{n}: {lines[n - 1].strip()}" for n in bare_c901_noqas(lines)]
    assert not bad, ("`# noqa: C901` needs a reason after the code, e.g. `# noqa: C901 -- one flat "
                     "table of cases, clearer than helpers`:\n" + "\n".join(bad))


def _docstring_lines(node: ast.FunctionDef | ast.AsyncFunctionDef) -> int:
    first = node.body[0]
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str):
        return first.end_lineno - first.lineno + 1
    return 0


def long_functions(source: str) -> list[tuple[str, int, int]]:
    """``(name, line, length)`` of the functions over MAX_FUNCTION_LINES lines (the docstring not
    counted) that carry no ``# long-function: reason`` on their ``def`` line or the line above."""
    lines = source.splitlines()
    out = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        length = node.end_lineno - node.lineno + 1 - _docstring_lines(node)
        marks = [LONG_FUNCTION.search(lines[i]) for i in (node.lineno - 2, node.lineno - 1) if i >= 0]
        if length > MAX_FUNCTION_LINES and not any(m and _has_reason(m["reason"]) for m in marks):
            out.append((node.name, node.lineno, length))
    return out


def test_functions_are_short():
    bad = []
    for path in _modules().values():
        rel = path.relative_to(SRC.parent)
        bad += [f"{rel}:{line} {name}(): {n} lines" for name, line, n in long_functions(path.read_text(encoding="utf-8"))]
    assert not bad, (f"functions over {MAX_FUNCTION_LINES} lines, docstring not counted (split them, or "
                     "add `# long-function: <reason>` on the def line):\n" + "\n".join(bad))


# ----------------------------------------------------------------------------- the checker itself


def test_checker_requires_a_reason_on_c901_noqa():
    lines = [
        "def a():  # noqa: C901",
        "def b():  # noqa: C901 -- one flat table of cases",
        "def c():  # noqa: E501, C901",
        "def d():  # noqa: C901, E501 (the dispatch reads best as one function)",
        "def e():  # noqa: E501",
        "def f():  # noqa: C901 --",
    ]
    assert bare_c901_noqas(lines) == [1, 3, 6]


def test_checker_finds_long_functions():
    body = "".join(f"    x{i} = {i}\n" for i in range(MAX_FUNCTION_LINES))
    doc = '    """Doc.\n\n' + "    more\n" * 50 + '    """\n'
    long = "def long():\n" + body
    documented = "def documented():\n" + doc + "    return 1\n"
    marked = "# long-function: a generated table, kept as one block\ndef marked():\n" + body
    bare_mark = "def bare():  # long-function:\n" + body
    names = [name for name, _, _ in long_functions("\n".join([long, documented, marked, bare_mark]))]
    assert names == ["long", "bare"]


def test_exceptions_are_still_needed():
    imports = {(imp.importer, _existing_module(imp.target) or imp.target) for imp in all_imports()}
    stale = sorted(set(EXCEPTIONS) - imports)
    assert not stale, f"remove these EXCEPTIONS, the imports are gone: {stale}"


def test_checker_resolves_relative_imports():
    node = ast.parse("from ..saving._safe import MiB").body[0]
    assert _resolve("deepnet.training.backup", False, node) == "deepnet.saving._safe"
    node = ast.parse("from . import core").body[0]
    assert _resolve("deepnet.layers", True, node) == "deepnet.layers"
    imp = Import("deepnet.training.backup", "deepnet.saving._safe", ("MiB",), 1, False, False)
    assert _private_parts(imp) == ["_safe"]


def test_checker_reads_lazy_imports():
    tree = ast.parse('_x = lazy_import("deepnet.saving._safe")\ndef f():\n    lazy_import("deepnet.cli")\n')
    collector = _Collector("deepnet.training.engine", False)
    collector.visit(tree)
    first, second = collector.found
    assert (first.target, first.lazy, first.in_function) == ("deepnet.saving._safe", True, False)
    assert _private_parts(first) == ["_safe"]
    assert (second.target, second.in_function) == ("deepnet.cli", True)


def test_checker_finds_cycles():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]
    assert _cycles({"a": {"b"}, "b": set()}) == []
