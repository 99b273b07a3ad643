"""``deepnet train``: load data, build, compile, fit, evaluate, and write the run folder."""

from __future__ import annotations

import datetime
import json
import math
import os
import time
import traceback
from typing import Any, NamedTuple

from ._build import build_callbacks, build_compiled, check_callbacks
from ._checks import check_model_fits
from ._common import written
from ._data import check_finite, fit_split, load_data
from ._errors import CLIError, UsageFailure, one_line
from ._toml import dumps

__all__ = ["Prepared", "make_run_dir", "prepare", "train", "write_learning_curves"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.


def make_run_dir(output: str, name: str | None) -> str:
    """A new, empty folder ``<output>/<YYYYmmdd-HHMMSS>[-name]`` (``-2``, ``-3``... when taken);
    an existing run folder is never reused, so nothing already written is overwritten."""
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    base = os.path.join(os.path.expanduser(output), stamp + (f"-{name}" if name else ""))
    try:
        os.makedirs(os.path.dirname(os.path.abspath(base)), exist_ok=True)
    except OSError as e:
        raise UsageFailure(f"cannot create the output folder {output}: {e.strerror or e}") from None
    for k in range(1, 1000):
        candidate = base if k == 1 else f"{base}-{k}"
        try:
            os.mkdir(candidate)
            return candidate
        except FileExistsError:
            continue
        except OSError as e:
            raise UsageFailure(f"cannot create the run folder {candidate}: {e.strerror or e}") from None
    raise CLIError(f"could not find a free run folder name next to {base}")  # pragma: no cover


def write_learning_curves(history: dict, folder: str, say=print, filename: str = "learning_curves.png") -> str | None:
    """Diagnose ``history`` (a dict of per-epoch lists), write the curve plot into ``folder``,
    print the verdict; returns the verdict (None when the history is empty)."""
    if not history or not any(len(v) for v in history.values()):
        say("No epochs recorded: nothing to diagnose.")
        return None
    from ..diagnose import learning_curves

    path = os.path.join(folder, filename)
    result = learning_curves(history)
    result.plot(path)
    with written(os.path.join(folder, "diagnosis.txt")) as f:
        f.write(str(result) + "\n")
    say("")
    say(f"Learning curves: {result.verdict} [{result.severity}]")
    say(f"  {result.summary}")
    for remedy in result.remedies:
        say(f"  - {remedy}")
    say(f"Plot: {path} (details: {os.path.join(folder, 'diagnosis.txt')})")
    return result.verdict


class Prepared(NamedTuple):
    data: Any
    train: tuple                 # (x, y) that fit trains on
    validation: tuple | None     # (x_val, y_val) or None
    model: Any                   # compiled, untrained
    logged: list                 # the names fit logs per epoch (without val_)


def prepare(loaded) -> Prepared:
    """Threads and seed set, data loaded and checked, validation split made, the compiled model
    built and checked against the data and the callbacks: everything that can fail because of
    the user's input, before anything is written."""
    import torch

    from ..utils import set_random_seed

    cfg = loaded.config
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    set_random_seed(cfg.seed)
    data = load_data(loaded)
    check_finite(data, loaded.error)
    (x, y), validation = fit_split(loaded, data)
    model = build_compiled(loaded, x.shape[1:], data.num_classes, len(x))
    logged = check_model_fits(model, loaded, x, y, labels=(data.y_train, data.y_test))
    check_callbacks(loaded, validation is not None, logged)
    return Prepared(data, (x, y), validation, model, logged)


def train(loaded, say=print, quiet: bool = False) -> dict:
    """Run the experiment of ``loaded`` (a ``LoadedConfig``); returns a summary dict."""
    import torch

    from ..distribution import is_main_process
    from ..version import __version__
    from ._config import resolved_dict

    t_start = time.perf_counter()
    cfg = loaded.config
    main = is_main_process()  # under torchrun, rank 0 alone prints and writes the run folder
    if not main:
        say, quiet = (lambda *a, **k: None), True

    # 1. Everything that can fail because of the user's input happens before the run folder exists.
    data, (x_train, y_train), validation, model, _ = prepare(loaded)

    say(f"Data: {data.description}: {len(x_train)} train, "
        f"{len(validation[0]) if validation else 0} validation, {len(data.x_test)} test samples; "
        f"input shape {tuple(x_train.shape[1:])}" + (f", {data.num_classes} classes" if data.num_classes else ""))
    if not quiet:
        model.summary()

    # 2. The run folder: config first, history.csv is flushed every epoch.
    run_dir = make_run_dir(cfg.output, cfg.name) if main else os.path.join(cfg.output, "(rank 0's run folder)")
    say(f"Run folder: {run_dir}")
    if main:
        resolved = resolved_dict(loaded)
        header = (f"# Resolved config of run {os.path.basename(run_dir)} (from {loaded.filename}).\n"
                  f"# Re-run it with: deepnet train {os.path.join(run_dir, 'config.toml')}\n")
        with written(os.path.join(run_dir, "config.toml")) as f:
            f.write(dumps(resolved, header=header))

    callbacks = build_callbacks(loaded, run_dir, verbose=0 if quiet else 1)
    t_fit = time.perf_counter()
    try:
        history = model.fit(x_train, y_train, batch_size=cfg.fit.batch_size, epochs=cfg.fit.epochs,
                            validation_data=validation, shuffle=cfg.fit.shuffle,
                            verbose=0 if quiet else cfg.fit.verbose, callbacks=callbacks)
    except KeyboardInterrupt:
        if main:
            _save_model(model, run_dir, say, name="model.interrupted.deepnet")
        raise
    except Exception as e:
        if main:
            with written(os.path.join(run_dir, "error.txt")) as f:
                f.write(traceback.format_exc())
        raise CLIError(f"training failed: {type(e).__name__}: {one_line(e)} (run folder {run_dir} keeps the "
                       f"config, history.csv and error.txt)") from e
    fit_seconds = time.perf_counter() - t_fit

    # 3. Test metrics, model file, learning curves.
    test = _test_metrics(model, data, max(256, cfg.fit.batch_size), say)  # every rank: a collective
    if not main:
        return {"run_dir": None, "test": test}
    model_file = _save_model(model, run_dir, say)
    hist = {k: [float(x) for x in v] for k, v in history.history.items()}
    verdict = write_learning_curves(hist, run_dir, say)
    total = time.perf_counter() - t_start
    summary = {
        "run_dir": run_dir, "model_file": model_file, "test": test, "verdict": verdict,
        "epochs_run": len(next(iter(hist.values()), [])), "fit_seconds": round(fit_seconds, 2),
        "total_seconds": round(total, 2), "train_samples": len(x_train),
        "validation_samples": len(validation[0]) if validation else 0, "test_samples": len(data.x_test),
        "seed": cfg.seed, "deepnet_version": __version__, "torch_version": torch.__version__,
        "threads": torch.get_num_threads(),
    }
    with written(os.path.join(run_dir, "metrics.json")) as f:
        json.dump(summary, f, indent=2, allow_nan=False)
    acc = test.get("accuracy", test.get("compile_metrics"))
    tail = f"test accuracy {acc:.4f}, " if isinstance(acc, float) else ""
    n_epochs = summary["epochs_run"]
    say(f"Done in {total:.1f} s ({n_epochs} epoch{'s' if n_epochs != 1 else ''}, fit {fit_seconds:.1f} s): {tail}"
        f"results in {run_dir}")
    return summary


def _test_metrics(model, data, batch_size: int, say) -> dict:
    """Loss and metrics on the test split, printed; non-finite values as "nan"/"inf"/"-inf"
    (metrics.json is strict JSON)."""
    if not len(data.x_test):
        return {}
    test = model.evaluate(data.x_test, data.y_test, batch_size=batch_size, verbose=0, return_dict=True)
    test = {k: float(v) for k, v in test.items()}
    say("Test: " + ", ".join(f"{k} {v:.4f}" for k, v in test.items()))
    return {k: v if math.isfinite(v) else str(v) for k, v in test.items()}


def _save_model(model, run_dir: str, say, name: str = "model.deepnet") -> str:
    """Save the whole model; when that is impossible (e.g. a custom layer class that is not
    registered for serialization), keep the trained weights instead and say why."""
    import sys

    path = os.path.join(run_dir, name)
    try:
        model.save(path)
    except (ValueError, TypeError, NotImplementedError) as e:
        reason = one_line(e)
        path = os.path.join(run_dir, os.path.splitext(name)[0] + ".weights.safetensors")
        model.save_weights(path)
        with written(os.path.join(run_dir, "NOTE.txt")) as f:
            f.write(f"The whole model could not be saved: {reason}\nOnly the weights were saved to "
                    f"{os.path.basename(path)}. Rebuild the model (config.toml) and call "
                    f"model.load_weights({os.path.basename(path)!r}).\n")
        sys.stderr.write(f"warning: the whole model could not be saved ({reason}); the trained weights are in {path}\n")
        sys.stderr.flush()
        return path
    say(f"Saved model: {path}")
    return path
