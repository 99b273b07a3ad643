"""Fuzz the .deepnet reader with many more mutated archives than the CI test runs.

    python benchmarks/fuzz_archive.py [--cases 5000] [--seed 0] [--timeout 10]

Uses the mutation engine of ``tests/test_saving_fuzz.py``. Every case must load or raise
``deepnet.saving.ModelFileError``; other exceptions, cases slower than ``--timeout`` seconds and
any sign of code execution are failures. Prints a summary (outcomes, refusal reasons, timing).
"""

from __future__ import annotations

import argparse
import collections
import importlib.util
import os
import random
import re
import sys
import tempfile
import time
import traceback
from pathlib import Path


def _load_engine():
    path = Path(__file__).resolve().parent.parent / "tests" / "test_saving_fuzz.py"
    spec = importlib.util.spec_from_file_location("saving_fuzz_engine", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _reason(message: str) -> str:
    text = re.sub(r"^'[^']*'( [\w.]+)?:? ?", "", message)
    text = re.sub(r"'[^']*'|\d+|\(.*", "_", text)
    return " ".join(text.split()[:7])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=5000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--timeout", type=float, default=10.0)
    args = parser.parse_args()
    import torch

    torch.set_num_threads(1)
    engine = _load_engine()
    from deepnet.saving import ModelFileError

    with tempfile.TemporaryDirectory() as folder:
        sentinel = engine.install_sentinel_module(folder)
        seeds = engine.make_seed_archives(folder)
        rng = random.Random(args.seed)
        outcomes, reasons, failures = collections.Counter(), collections.Counter(), []
        times = []
        path = os.path.join(folder, "case.deepnet")
        start = time.perf_counter()
        for case in range(args.cases):
            data = engine.mutate(seeds[case % len(seeds)], random.Random(rng.getrandbits(64)))
            t0 = time.perf_counter()
            try:
                outcome = engine.check_one(data, path)
            except ModelFileError:  # pragma: no cover - check_one handles these
                raise
            except Exception as e:
                outcome = "FAILED"
                failures.append((case, f"{type(e).__name__}: {e}", traceback.format_exc(limit=6)))
            dt = time.perf_counter() - t0
            times.append(dt)
            if dt > args.timeout:
                failures.append((case, f"slow case: {dt:.1f}s", ""))
            if outcome == "refused":
                try:
                    import deepnet as dn

                    dn.load_model(path)
                except ModelFileError as e:
                    reasons[_reason(str(e))] += 1
            outcomes[outcome] += 1
            if os.path.exists(sentinel) or engine.EVIL_MODULE in sys.modules:
                failures.append((case, "CODE EXECUTED: the sentinel module was imported", ""))
                break
        total = time.perf_counter() - start
    times.sort()
    print(f"cases: {sum(outcomes.values())} in {total:.1f}s  (median {times[len(times) // 2] * 1e3:.1f} ms, "
          f"max {times[-1] * 1e3:.0f} ms per case)")
    print("outcomes:", dict(outcomes))
    print("top refusal reasons:")
    for reason, count in reasons.most_common(15):
        print(f"  {count:6d}  {reason}")
    if failures:
        print(f"FAILURES: {len(failures)}")
        for case, message, tb in failures[:10]:
            print(f"--- case {case}: {message}\n{tb}")
        return 1
    print("failures: 0")
    return 0


if __name__ == "__main__":
    sys.exit(main())
