"""Time ``import deepnet`` of this tree against a baseline tree.

Each sample is a fresh interpreter that first imports ``torch`` and ``numpy`` (their cost is
not deepnet's) and then times ``import deepnet``. Samples of the two trees alternate (baseline,
this tree, baseline, ...; the order flips every round) so machine noise hits both alike; the
script prints the median of each and the ratio this / baseline, for the wall-clock time and for
the CPU time of the process (``time.process_time``: less disturbed by other processes on a busy
machine).

Usage: python benchmarks/import_time.py [--baseline /tmp/baseline/src] [--rounds 15]

``--baseline`` is the ``src`` folder of another checkout (for instance ``git worktree add
/tmp/baseline <commit>``); without it only this tree is timed. ``--importtime`` prints the
slowest deepnet modules of this tree (``python -X importtime``, cumulative microseconds).
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent / "src"
SNIPPET = (
    "import time, torch, numpy\n"
    "t, c = time.perf_counter(), time.process_time()\n"
    "import deepnet\n"
    "print(time.perf_counter() - t, time.process_time() - c)\n"
)


def environment(src: str, cache: str) -> dict:
    """The subprocess environment: ``src`` first on the path, byte code cached in ``cache``
    (as an installed package has it; ``PYTHONDONTWRITEBYTECODE`` would time the compiler)."""
    env = dict(os.environ, PYTHONPATH=src, PYTHONPYCACHEPREFIX=cache)
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    return env


def sample(src: str, cache: str) -> tuple[float, float]:
    """(wall, CPU) seconds one fresh interpreter spends in ``import deepnet`` from ``src``."""
    env = environment(src, cache)
    out = subprocess.run([sys.executable, "-c", SNIPPET], env=env, check=True,
                         capture_output=True, text=True)
    wall, cpu = out.stdout.strip().splitlines()[-1].split()
    return float(wall), float(cpu)


def slowest_modules(src: str, cache: str, count: int = 25) -> list[tuple[int, int, str]]:
    """(self us, cumulative us, module) of the slowest deepnet modules, from ``-X importtime``."""
    env = environment(src, cache)
    code = "import torch, numpy; import deepnet"
    out = subprocess.run([sys.executable, "-X", "importtime", "-c", code], env=env, check=True,
                         capture_output=True, text=True)
    rows = []
    for line in out.stderr.splitlines():
        if not line.startswith("import time:") or "deepnet" not in line:
            continue
        self_us, cum_us, name = (part.strip() for part in line[len("import time:"):].split("|"))
        rows.append((int(self_us), int(cum_us), name.strip()))
    return sorted(rows, reverse=True)[:count]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--baseline", default=None, help="src folder of the baseline tree")
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--importtime", action="store_true")
    args = parser.parse_args()
    trees = {"this": str(HERE)}
    if args.baseline:
        trees = {"baseline": args.baseline, **trees}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in trees}
    names = list(trees)
    caches = {name: tempfile.mkdtemp(prefix=f"import_time_{name}_") for name in names}
    for name in names:  # warm-up: writes the byte code and fills the OS file cache
        sample(trees[name], caches[name])
    for round_ in range(args.rounds):
        for name in names if round_ % 2 == 0 else names[::-1]:
            times[name].append(sample(trees[name], caches[name]))
    for index, clock in enumerate(("wall", "CPU")):
        medians = {name: statistics.median(v[index] for v in values) for name, values in times.items()}
        for name, value in medians.items():
            print(f"{clock:>4} {name:>8}: median {value * 1e3:6.1f} ms over {args.rounds} runs ({trees[name]})")
        if "baseline" in medians:
            print(f"{clock:>4}    ratio: {medians['this'] / medians['baseline']:.3f} (this / baseline)")
    if args.importtime:
        print("\nslowest deepnet modules of this tree (self us, cumulative us):")
        for self_us, cum_us, name in slowest_modules(str(HERE), caches["this"]):
            print(f"{self_us:8d} {cum_us:8d}  {name}")


if __name__ == "__main__":
    main()
