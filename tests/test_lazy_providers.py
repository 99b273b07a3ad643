"""Classes registered by lazily loaded packages load from files without importing the package."""

from __future__ import annotations

import subprocess
import sys

import numpy as np

import deepnet as dn
from deepnet.utils import registry


def _names_registered_by(module: str) -> set[str]:
    code = (f"from deepnet.utils import registry; import {module}; print(sorted(n for n, cs in "
            f"registry._REGISTRY.items() if any(c.__module__.startswith({module!r}) for c in cs)))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120)
    return set(eval(out.stdout))  # a printed list of names written by the line above


def test_the_provider_table_covers_what_robust_registers():
    registered = _names_registered_by("deepnet.robust")
    declared = {n for n, m in registry._PROVIDERS.items() if m == "deepnet.robust"}
    assert registered == declared


def test_a_model_with_a_robust_layer_loads_in_a_fresh_process(tmp_path):
    import deepnet.robust  # noqa: F401  (this process builds the model)

    model = dn.Sequential([dn.layers.Input((6, 6, 1)), dn.robust.MedianSmoothing(3), dn.layers.Flatten(),
                           dn.layers.Dense(2)])
    x = np.random.default_rng(0).random((2, 6, 6, 1)).astype("float32")
    path = tmp_path / "m.deepnet"
    model.save(path)
    np.save(tmp_path / "x.npy", x)
    np.save(tmp_path / "y.npy", model.predict(x, verbose=0))
    code = (
        "import sys, numpy as np, deepnet as dn\n"
        f"m = dn.load_model({str(path)!r})\n"
        "assert 'deepnet.robust' in sys.modules\n"
        f"p = m.predict(np.load({str(tmp_path / 'x.npy')!r}), verbose=0)\n"
        f"print(float(np.abs(p - np.load({str(tmp_path / 'y.npy')!r})).max()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert float(out.stdout.strip()) < 1e-6
