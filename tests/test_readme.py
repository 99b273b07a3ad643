"""The Python code blocks of README.md and docs/**/*.md run, so the documentation cannot drift.

Every fenced block opened with ```python runs; the blocks of one page run in order in one
namespace (a page may build a model in one block and train it in the next), in a fresh
temporary working directory, after ``clear_session()`` and ``set_random_seed(0)``. Shell,
TOML and output blocks are not run.

To keep a block out (it trains for minutes, needs a GPU, a download or a file the page does not
create), put this marker on the line right before its fence, with the reason:

    <!-- skip-test: trains for 5 minutes -->
    ```python
    ...
    ```

A block that continues an example the page does not show in full (``model.fit(...)`` with the
model defined in prose) can get its context from a hidden set-up block, an HTML comment that
GitHub does not render and that runs like a ```python block, in page order:

    <!-- test-setup
    import deepnet as dn
    model = dn.Sequential([dn.layers.Input(shape=(4,)), dn.layers.Dense(1)])
    -->

The generated API reference (docs/reference/) is not run here: its signatures are not code, and
its examples run as doctests.
"""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SKIP_MARKER = re.compile(r"^\s*<!--\s*skip-test:\s*(?P<reason>.+?)\s*-->\s*$")
SETUP_START = re.compile(r"^\s*<!--\s*test-setup\s*$")
FENCE = re.compile(r"^(?P<indent>\s*)(?P<fence>`{3,}|~{3,})\s*(?P<info>[\w+-]*)")
# A runnable page should stay quick: the suite runs every page on two CPU cores.
SLOW_PAGE_S = 60.0


def doc_pages() -> list[Path]:
    generated = ROOT / "docs" / "reference"
    pages = sorted(p for p in (ROOT / "docs").rglob("*.md") if generated not in p.parents)
    return [ROOT / "README.md", *pages]


def python_blocks(text: str) -> list[tuple[int, str, str | None]]:
    """``(first line number, code, skip reason or None)`` of every ```python block of ``text``
    (and of every hidden ``<!-- test-setup`` block), in page order."""
    lines = text.splitlines()
    blocks = []
    i = 0
    while i < len(lines):
        if SETUP_START.match(lines[i]):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].strip() == "-->"), len(lines))
            blocks.append((i + 2, "\n".join(lines[i + 1:end]), None))
            i = end + 1
            continue
        match = FENCE.match(lines[i])
        if not match:
            i += 1
            continue
        fence, info, indent = match["fence"], match["info"].lower(), len(match["indent"])
        start = i + 1
        end = start
        while end < len(lines) and not lines[end].strip().startswith(fence):
            end += 1
        if info in ("python", "py", "python3"):
            previous = next((lines[j] for j in range(i - 1, -1, -1) if lines[j].strip()), "")
            skip = SKIP_MARKER.match(previous)
            code = "\n".join(line[indent:] for line in lines[start:end])
            blocks.append((start + 1, code, skip["reason"] if skip else None))
        i = end + 1
    return blocks


PAGES = [page for page in doc_pages() if python_blocks(page.read_text(encoding="utf-8"))]


def test_the_block_parser_reads_markers_and_fences():
    text = "\n".join([
        "intro", "```python", "x = 1", "```", "",
        "<!-- skip-test: trains for minutes -->", "```python", "fit()", "```",
        "```bash", "ls", "```", "- item:", "  ```python", "  y = 2", "  ```",
        "<!-- test-setup", "z = 3", "-->",
    ])
    assert python_blocks(text) == [(3, "x = 1", None), (8, "fit()", "trains for minutes"),
                                   (15, "y = 2", None), (18, "z = 3", None)]


def test_the_readme_is_checked():
    assert ROOT / "README.md" in PAGES


@pytest.mark.parametrize("page", PAGES, ids=[str(p.relative_to(ROOT)) for p in PAGES])
def test_python_blocks_run(page: Path, tmp_path, monkeypatch):
    from deepnet.utils import clear_session, set_random_seed

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("DEEPNET_CACHE_DIR", str(tmp_path / "cache"))  # nothing written to ~/.cache
    clear_session()
    set_random_seed(0)
    namespace: dict = {"__name__": "__doc_page__"}
    started = time.perf_counter()
    ran = 0
    for line, code, skip in python_blocks(page.read_text(encoding="utf-8")):
        if skip is not None:
            continue
        try:
            exec(compile(code, f"{page.relative_to(ROOT)}:{line}", "exec"), namespace)
        except Exception as exc:
            pytest.fail(
                f"The python block at {page.relative_to(ROOT)}:{line} fails with "
                f"{type(exc).__name__}: {exc}\nFix the block, or if it cannot run in the test suite "
                "(minutes of training, GPU, download), put `<!-- skip-test: <reason> -->` on the "
                "line before its fence.",
                pytrace=True,
            )
        ran += 1
    elapsed = time.perf_counter() - started
    assert elapsed < SLOW_PAGE_S, (
        f"The python blocks of {page.relative_to(ROOT)} took {elapsed:.0f} s; mark the slow ones "
        "with `<!-- skip-test: <reason> -->` or make them smaller."
    )
