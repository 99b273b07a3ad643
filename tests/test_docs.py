"""Docstrings are the reference: every public class and function carries a runnable example.

The public API is what ``__all__`` exports from ``deepnet`` and from every public module below it
(a module whose dotted path has no part starting with ``_``); a module without ``__all__`` exports
its public classes and functions.
Each exported class or function needs its own docstring with at least one ``>>>`` example (for a
class, the class docstring). The examples themselves run as doctests (``--doctest-modules`` in
pyproject.toml); this test makes sure none is missing, and lists every gap in one failure.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
import sys
from pathlib import Path

import deepnet

DOCS = Path(__file__).resolve().parents[1] / "docs"


def _load_make_reference():
    """docs/make_reference.py, which lists the public modules and writes the reference pages."""
    sys.path.insert(0, str(DOCS))
    try:
        return importlib.import_module("make_reference")
    finally:
        sys.path.remove(str(DOCS))


make_reference = _load_make_reference()
PUBLIC_MODULES = make_reference.MODULES  # the packages the reference has a page for


def all_public_modules() -> list[str]:
    """The reference's modules, then every other module whose dotted path has no ``_`` part."""
    found = [info.name for info in pkgutil.walk_packages(deepnet.__path__, "deepnet.")
             if not any(part.startswith("_") for part in info.name.split("."))]
    return [*PUBLIC_MODULES, *sorted(set(found) - set(PUBLIC_MODULES))]


def _own_doc(obj) -> str:
    """The object's own docstring: a class does not inherit its parent's here."""
    if isinstance(obj, type):
        return obj.__dict__.get("__doc__") or ""
    return getattr(obj, "__doc__", None) or ""


def _public_names(module) -> list[str]:
    exported = getattr(module, "__all__", None)
    if exported is not None:
        return list(exported)
    return [
        name for name, value in vars(module).items()
        if not name.startswith("_") and getattr(value, "__module__", "").startswith(module.__name__)
    ]


def public_api() -> tuple[dict[str, object], list[str]]:
    """``{qualified name: object}`` for every exported class/function, and the modules that failed to import."""
    found: dict[str, object] = {}
    seen: set[int] = set()
    broken: list[str] = []
    for module_name in all_public_modules():
        try:
            module = importlib.import_module(module_name)
        except Exception as exc:  # reported, not swallowed: the failure message lists it
            broken.append(f"{module_name} (cannot import: {type(exc).__name__}: {exc})")
            continue
        for name in _public_names(module):
            try:
                obj = getattr(module, name)
            except AttributeError:
                broken.append(f"{module_name}.{name} (in __all__ but not defined)")
                continue
            except Exception as exc:  # a lazy submodule that fails to import: reported below
                broken.append(f"{module_name}.{name} (cannot import: {type(exc).__name__}: {exc})")
                continue
            if inspect.ismodule(obj) or not (inspect.isclass(obj) or callable(obj)):
                continue
            if id(obj) in seen:
                continue
            seen.add(id(obj))
            found[f"{module_name}.{name}"] = obj
    return found, list(dict.fromkeys(broken))


def test_public_api_is_not_empty():
    found, _ = public_api()
    assert "deepnet.layers.Dense" in found
    assert "deepnet.Sequential" in found


def test_every_public_name_has_a_docstring_with_an_example():
    found, broken = public_api()
    no_doc = sorted(name for name, obj in found.items() if not _own_doc(obj).strip())
    no_example = sorted(
        name for name, obj in found.items() if _own_doc(obj).strip() and ">>>" not in _own_doc(obj)
    )
    problems = []
    if broken:
        problems.append(f"{len(broken)} module(s)/name(s) could not be read:\n  " + "\n  ".join(broken))
    if no_doc:
        problems.append(f"{len(no_doc)} public name(s) without a docstring:\n  " + "\n  ".join(no_doc))
    if no_example:
        problems.append(
            f"{len(no_example)} public name(s) whose docstring has no `>>>` example:\n  "
            + "\n  ".join(no_example)
        )
    assert not problems, (
        "Every public class/function needs a docstring with one short runnable `>>>` example "
        f"({len(found)} checked).\n" + "\n".join(problems)
    )


def test_reference_pages_are_up_to_date(tmp_path):
    """docs/reference/ is generated from the docstrings; a stale page means a docstring changed."""
    written = make_reference.generate(tmp_path)
    committed = DOCS / "reference"
    stale = [
        path.name for path in written
        if not (committed / path.name).is_file()
        or (committed / path.name).read_text(encoding="utf-8") != path.read_text(encoding="utf-8")
    ]
    extra = sorted(
        p.name for p in committed.glob("*.md") if p.name not in {w.name for w in written}
    ) if committed.is_dir() else []
    assert not stale and not extra, (
        f"docs/reference/ is out of date (stale or missing: {stale}; no longer generated: {extra}). "
        "Run `.venv/bin/python docs/make_reference.py` and commit docs/reference/."
    )


def test_links_into_the_reference_resolve():
    """Links from README.md and docs/ to a reference entry point at a heading that exists."""
    link = re.compile(r"\]\(((?:\.\./)*(?:docs/)?reference/[\w.]+\.md)(?:#([\w-]+))?\)")
    heading = re.compile(r"^#+ (.+)$", re.M)
    pages = [DOCS.parent / "README.md", *DOCS.rglob("*.md")]
    broken = []
    for page in pages:
        for target, fragment in link.findall(page.read_text(encoding="utf-8")):
            path = (page.parent / target).resolve()
            if not path.is_file():
                broken.append(f"{page.relative_to(DOCS.parent)}: {target} (no such page)")
                continue
            anchors = {make_reference.anchor(h) for h in heading.findall(path.read_text(encoding="utf-8"))}
            if fragment and fragment not in anchors:
                broken.append(f"{page.relative_to(DOCS.parent)}: {target}#{fragment} (no such entry)")
    assert not broken, "Broken links into docs/reference/:\n  " + "\n  ".join(broken)
