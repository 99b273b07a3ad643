"""Run one keras.io example under deepnet (or under Keras, the reference) and record what it did.

    python tests/keras_examples/runner.py deepnet|keras EXAMPLE.py OUT.json [--epochs N]

Under deepnet only the import lines of the example change (``import keras`` -> ``import deepnet as
keras``, ``from keras[.x] import y`` -> ``from deepnet[.x] import y``); the rest of the text runs as
written. Before it runs, the data sets and downloads are pointed at small synthetic data
(``_offline.py``), ``fit``'s ``epochs`` is capped and ``steps_per_epoch`` bounded. ``Model.fit`` and
``Model.summary`` are wrapped to record each model's parameter count and each fit's loss per
epoch; OUT.json gets ``{"fits": [...], "summaries": [...], "error": null | "traceback"}``.
"""

from __future__ import annotations

import json
import os
import re
import sys
import time
import traceback

IMPORT_RULES = [
    (re.compile(r"^(\s*)import keras\s*$", re.M), r"\1import deepnet as keras"),
    (re.compile(r"^(\s*)import keras as (\w+)\s*$", re.M), r"\1import deepnet as \2"),
    (re.compile(r"^(\s*)from keras((?:\.\w+)*) import ", re.M), r"\1from deepnet\2 import "),
]


def to_deepnet(text: str) -> str:
    """The example text with its Keras import lines pointing at deepnet (nothing else changes)."""
    for pattern, replacement in IMPORT_RULES:
        text = pattern.sub(replacement, text)
    return text


class StopExample(BaseException):
    """Raised by the wrapped ``fit`` once an example has trained ``max_fits`` times (examples that
    call ``fit`` in a long Python loop); the runner counts it as a normal end."""


def _wrap_model(model_cls, record: dict, epoch_cap: int, step_cap: int, max_fits: int) -> None:
    real_fit, real_summary = model_cls.fit, model_cls.summary

    def fit(self, *args, **kwargs):
        if len(record["fits"]) >= max_fits:
            raise StopExample
        args = list(args)
        if len(args) > 3:
            args[3] = min(args[3], epoch_cap)
        else:
            kwargs["epochs"] = min(kwargs.get("epochs", 1), epoch_cap)
        if kwargs.get("steps_per_epoch"):
            kwargs["steps_per_epoch"] = min(kwargs["steps_per_epoch"], step_cap)
        history = real_fit(self, *args, **kwargs)
        losses = getattr(history, "history", {}).get("loss")
        record["fits"].append({"model": self.name, "params": int(self.count_params()),
                               "loss": [float(v) for v in losses] if losses else None})
        return history

    def summary(self, *args, **kwargs):
        # an unbuilt model (no Input yet) prints "0 (unbuilt)" in Keras; count_params would raise
        params = int(self.count_params()) if self.built else None
        record["summaries"].append({"model": self.name, "params": params})
        return real_summary(self, *args, **kwargs)

    model_cls.fit, model_cls.summary = fit, summary


def run(framework_name: str, example: str, out: str, epoch_cap: int = 2, step_cap: int = 20,
        max_fits: int = 6) -> dict:
    example, out = os.path.abspath(example), os.path.abspath(out)
    os.environ["KERAS_BACKEND"] = "torch"
    os.environ.setdefault("MPLBACKEND", "Agg")
    sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
    import _offline
    import numpy as np
    import torch

    torch.set_num_threads(1)
    torch.manual_seed(0)
    np.random.seed(0)
    text = open(example).read()
    if framework_name == "deepnet":
        import deepnet as framework

        text = to_deepnet(text)
    else:
        import keras as framework

        # The reference environment has no pydot: Keras' plot_model would raise ImportError.
        framework.utils.plot_model = lambda *args, **kwargs: None
    record: dict = {"framework": framework_name, "example": os.path.basename(example), "fits": [],
                    "summaries": [], "error": None}
    workdir = os.path.abspath(os.path.dirname(out) or ".")
    _offline.install(framework, workdir)
    _wrap_model(framework.Model, record, epoch_cap, step_cap, max_fits)
    start = time.perf_counter()
    try:
        os.chdir(workdir)
        exec(compile(text, example, "exec"), {"__name__": "__main__", "__file__": example})
    except StopExample:
        record["stopped_after_fits"] = max_fits
    except BaseException:  # recorded and reported by the test, never hidden
        record["error"] = traceback.format_exc(limit=-8)
    record["seconds"] = round(time.perf_counter() - start, 1)
    with open(out, "w") as f:
        json.dump(record, f, indent=1)
    return record


if __name__ == "__main__":
    argv = sys.argv[1:]
    options = {"--epochs": 2, "--max-fits": 6}
    for flag in options:
        if flag in argv:
            i = argv.index(flag)
            options[flag] = int(argv[i + 1])
            del argv[i:i + 2]
    result = run(argv[0], argv[1], argv[2], epoch_cap=options["--epochs"], max_fits=options["--max-fits"])
    if result["error"]:
        print(result["error"], file=sys.stderr)
    sys.exit(1 if result["error"] else 0)
