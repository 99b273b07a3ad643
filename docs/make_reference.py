"""Generate the API reference (docs/reference/*.md) from the docstrings: one page per public module.

    .venv/bin/python docs/make_reference.py            # rewrite docs/reference/
    .venv/bin/python docs/make_reference.py --out DIR  # write elsewhere (the test compares)

Each page lists the names in the module's ``__all__``: the signature (``inspect.signature``), the
docstring with its ``>>>`` examples (which run as doctests), and the public methods and properties
a class defines itself. A name exported by several modules is documented once, on the page of the
module that defines it, and linked from the others. Never edit the pages by hand: edit the
docstring and run this script (tests/test_docs.py fails while the pages are out of date).
"""

from __future__ import annotations

import argparse
import importlib
import inspect
import re
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))

# The public modules (tests/test_docs.py checks the same list), the root package first.
MODULES = (
    "deepnet",
    "deepnet.activations",
    "deepnet.applications",
    "deepnet.backend",
    "deepnet.callbacks",
    "deepnet.compat",
    "deepnet.config",
    "deepnet.constraints",
    "deepnet.datasets",
    "deepnet.diagnose",
    "deepnet.distribution",
    "deepnet.explain",
    "deepnet.initializers",
    "deepnet.layers",
    "deepnet.losses",
    "deepnet.metrics",
    "deepnet.mixed_precision",
    "deepnet.models",
    "deepnet.ops.core",
    "deepnet.ops.image",
    "deepnet.ops.linalg",
    "deepnet.ops.math",
    "deepnet.ops.nn",
    "deepnet.ops.numpy",
    "deepnet.ops",  # after its submodules: an op is documented on its submodule's page
    "deepnet.optimizers",
    "deepnet.optimizers.schedules",
    "deepnet.random",
    "deepnet.regularizers",
    "deepnet.robust",
    "deepnet.saving",
    "deepnet.training",
    "deepnet.tree",
    "deepnet.tune",
    "deepnet.utils",
    "deepnet.utils.variables",
    "deepnet.utils.interactive_logging",
    "deepnet.utils.config_object",
    "deepnet.visualization",
)
WIDTH = 92  # signatures longer than this are written one parameter per line
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")


def page_name(module: str) -> str:
    return f"{module}.md"


def anchor(title: str) -> str:
    """GitHub's heading anchor: lower case, punctuation dropped, spaces as dashes."""
    return re.sub(r"[^\w\- ]", "", title.lower()).replace(" ", "-")


def _exported(module_name: str, modules: list[str]) -> list[tuple[str, object]]:
    """``(name, object)`` for the classes and functions in a module's ``__all__``."""
    module = importlib.import_module(module_name)
    found = []
    for name in getattr(module, "__all__", []):
        if f"{module_name}.{name}" in modules:  # a public submodule, not imported here
            continue
        obj = getattr(module, name)
        if not inspect.ismodule(obj) and callable(obj):
            found.append((name, obj))
    return found


def _primary(names: list[str], obj) -> str:
    """Of the names a module exports ``obj`` under, the one it is documented under."""
    own = getattr(obj, "__name__", None)
    return own if own in names else names[0]


def _shared_parts(a: str, b: str) -> int:
    parts_a, parts_b = a.split("."), b.split(".")
    return next((i for i, (x, y) in enumerate(zip(parts_a, parts_b)) if x != y),
                min(len(parts_a), len(parts_b)))


def find_homes(modules: list[str]) -> dict[int, tuple[str, str]]:
    """``{id(object): (module, name)}``: where each exported object is documented.

    Of the modules that export it (the root package only when no other does), the one whose
    dotted name shares the most leading parts with the module that defines it; ties go to the
    earlier module in ``modules``. Within it, the name equal to the object's ``__name__``.
    """
    exports: dict[int, dict[str, list[str]]] = {}  # id -> module -> names
    objects: dict[int, object] = {}
    for module_name in modules:
        for name, obj in _exported(module_name, modules):
            exports.setdefault(id(obj), {}).setdefault(module_name, []).append(name)
            objects[id(obj)] = obj
    homes = {}
    for key, by_module in exports.items():
        order = list(by_module)
        candidates = [m for m in order if m != "deepnet"] or order
        origin = getattr(objects[key], "__module__", None) or ""
        home = max(candidates, key=lambda m: (_shared_parts(m, origin), -order.index(m)))
        homes[key] = (home, _primary(by_module[home], objects[key]))
    return homes


class _Source(str):
    """An annotation written as source text (``from __future__ import annotations``): no quotes."""

    def __repr__(self) -> str:
        return str(self)


def _unquoted(annotation):
    return _Source(annotation) if isinstance(annotation, str) else annotation


def signature(name: str, obj) -> str:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return f"{name}(...)"
    params = [
        _ADDRESS.sub("", str(p.replace(annotation=_unquoted(p.annotation))))
        for p in sig.parameters.values()
    ]
    returns = ""
    if sig.return_annotation is not inspect.Signature.empty:
        returns = f" -> {inspect.formatannotation(_unquoted(sig.return_annotation))}"
    one_line = f"{name}({', '.join(params)}){returns}"
    if len(one_line) <= WIDTH:
        return one_line
    return f"{name}(\n" + "".join(f"    {p},\n" for p in params) + f"){returns}"


_SECTION = re.compile(r"^(Args|Arguments|Parameters|Returns|Raises|Attributes|Yields):\s*$")
_ITEM = re.compile(r"^    (\*{0,2}\w+)( \([^)]*\))?:\s?(.*)$")


def _sections_as_lists(lines: list[str]) -> list[str]:
    """Google-style ``Args:`` sections as Markdown lists: ``name: text`` -> ``- `name`: text``."""
    out: list[str] = []
    in_section = False
    for line in lines:
        if _SECTION.match(line):
            out += ["", f"**{line.strip()}**", ""]
            in_section = True
            continue
        item = _ITEM.match(line) if in_section else None
        if item:
            out.append(f"- `{item[1]}`{item[2] or ''}: {item[3]}".rstrip())
        elif in_section and line.startswith("    ") and out and out[-1].startswith("- "):
            out[-1] += " " + line.strip()
        else:
            in_section = in_section and line.startswith("    ")
            out.append(line)
    return out


def summary(doc: str) -> str:
    """The first sentence of a docstring, on one line, for the table at the top of a page."""
    paragraph = " ".join(doc.split("\n\n")[0].split())
    match = re.match(r"(.+?(?<!e\.g)(?<!i\.e)[.!?:])\s+(?=[A-Z`(])", paragraph)
    return (match[1] if match else paragraph).replace("|", "\\|")


def markdown_doc(doc: str) -> str:
    """A docstring as Markdown: ``>>>`` sessions become ```pycon blocks, ``Args:`` lists."""
    out: list[str] = []
    in_session = False
    for line in _sections_as_lists(doc.splitlines()):
        starts_session = line.lstrip().startswith(">>>")
        if starts_session and not in_session:
            if out and out[-1].strip():
                out.append("")
            out.append("```pycon")
            in_session = True
        elif in_session and not line.strip():
            out.append("```")
            in_session = False
        out.append(line.strip() if in_session and line.lstrip().startswith((">>>", "...")) else line)
    if in_session:
        out.append("```")
    return "\n".join(out).strip()


def own_doc(obj) -> str:
    doc = obj.__dict__.get("__doc__") if isinstance(obj, type) else getattr(obj, "__doc__", None)
    return inspect.cleandoc(doc) if doc else "*No docstring.*"


def members(cls) -> list[tuple[str, object]]:
    """Public methods and properties that ``cls`` defines itself (not inherited), with a docstring."""
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_"):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if isinstance(value, property) or inspect.isfunction(value):
            if getattr(value, "__doc__", None):
                found.append((name, value))
    return sorted(found)


def entry(name: str, obj) -> list[str]:
    kind = "class" if inspect.isclass(obj) else "function"
    lines = [f"## {name}", "", f"*{kind}*", "", "```python", signature(name, obj), "```", "",
             markdown_doc(own_doc(obj)), ""]
    if inspect.isclass(obj):
        for member_name, member in members(obj):
            title = f"{name}.{member_name}"
            lines += [f"### {title}", ""]
            if isinstance(member, property):
                lines += ["*property*", ""]
            else:
                bound = signature(member_name, member).replace("(self, ", "(", 1).replace("(self)", "()", 1)
                lines += ["```python", bound, "```", ""]
            lines += [markdown_doc(inspect.cleandoc(member.__doc__)), ""]
    return lines


def render(module_name: str, modules: list[str], homes: dict[int, tuple[str, str]]) -> str:
    module = importlib.import_module(module_name)
    lines = [
        f"# {module_name}",
        "",
        "<!-- Generated by docs/make_reference.py from the docstrings; do not edit by hand. -->",
        "",
        markdown_doc(inspect.cleandoc(module.__doc__ or "")),
        "",
    ]
    submodules = [
        f"[`{module_name}.{name}`]({page_name(f'{module_name}.{name}')})"
        for name in sorted(getattr(module, "__all__", []), key=str.lower)
        if f"{module_name}.{name}" in modules
    ]
    rows, linked, documented = [], [], []
    for name, obj in sorted(_exported(module_name, modules), key=lambda item: item[0].lower()):
        home, primary = homes[id(obj)]
        if home != module_name:
            linked.append(f"[`{name}`]({page_name(home)}#{anchor(primary)})")
        elif name != primary:
            rows.append(f"| [`{name}`](#{anchor(primary)}) | Alias of `{primary}`. |")
        else:
            rows.append(f"| [`{name}`](#{anchor(name)}) | {summary(own_doc(obj))} |")
            documented.append((name, obj))
    if submodules:
        lines += ["Submodules: " + ", ".join(submodules) + ".", ""]
    if rows:
        lines += ["| Name | Summary |", "| --- | --- |", *rows, ""]
    if linked:
        lines += ["Also exported here: " + ", ".join(linked) + ".", ""]
    for name, obj in documented:
        lines += entry(name, obj)
    return re.sub(r"\n{3,}", "\n\n", "\n".join(lines)).rstrip() + "\n"


def render_index(modules: list[str]) -> str:
    lines = [
        "# API reference",
        "",
        "<!-- Generated by docs/make_reference.py from the docstrings; do not edit by hand. -->",
        "",
        "One page per public module, generated from the docstrings (`python docs/make_reference.py`).",
        "Every example on these pages runs as a doctest in the test suite.",
        "",
    ]
    for name in modules:
        doc = inspect.cleandoc(importlib.import_module(name).__doc__ or "").split("\n\n")[0]
        lines.append(f"- [`{name}`]({page_name(name)}): {doc.replace(chr(10), ' ')}")
    return "\n".join(lines) + "\n"


def generate(out: Path) -> list[Path]:
    """Write every page into ``out`` (created); return the paths written."""
    out.mkdir(parents=True, exist_ok=True)
    modules = list(MODULES)
    homes = find_homes(modules)
    written = []
    for name in modules:
        path = out / page_name(name)
        path.write_text(render(name, modules, homes), encoding="utf-8")
        written.append(path)
    index = out / "README.md"
    index.write_text(render_index(modules), encoding="utf-8")
    return [index, *written]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=HERE / "reference", help="output folder")
    args = parser.parse_args(argv)
    out = args.out
    stale = [p for p in out.glob("*.md")] if out.is_dir() else []
    written = generate(out)
    for path in stale:
        if path not in written:
            path.unlink()
    print(f"wrote {len(written)} pages to {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
