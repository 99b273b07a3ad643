"""``deepnet tune`` and ``deepnet lr-find``: a search over the ``[tune]`` ranges of a config on
``deepnet.tune`` (each trial: the config with the drawn values substituted, trained with its
fit and compile settings), and its results in the tuning directory: ``best.toml`` (a complete
``deepnet train`` config of the best trial), ``trials.csv``, the plots and ``report.html``."""

from __future__ import annotations

import csv
import dataclasses
import json
import math
import os
import subprocess
import sys

from ._build import build_callbacks, build_compiled
from ._catalogue import suggest
from ._common import written
from ._errors import UsageFailure, one_line
from ._toml import dumps
from ._train import prepare
from ._tune_space import parse_space, trial_raw

__all__ = ["TuneOptions", "run_lr_find", "run_tune", "show", "write_results"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.

_META = "tune.json"


@dataclasses.dataclass
class TuneOptions:
    """What the command line adds to the ``[tune]`` table."""

    worker: bool = False           # an extra process started by --workers: search only
    argv: tuple = ()               # options to pass on to extra worker processes


@dataclasses.dataclass
class _Search:
    loaded: object
    space: object
    x: object
    y: object
    validation: object
    num_classes: int | None
    directory: str
    objective: str


# ------------------------------------------------------------------------------- one trial
def _trial_loaded(loaded, raw: dict):
    """The validated config of one trial (``raw``: the config with the drawn values)."""
    from ._schema import RunConfig

    return dataclasses.replace(loaded, config=RunConfig.model_validate(raw), raw=raw)


def _build_function(search: _Search):
    """``build(hp)`` for the Tuner: the trial's config, its compiled model and fit arguments."""

    def build(hp):
        raw, _ = trial_raw(search.loaded.raw, search.space, hp)
        trial = _trial_loaded(search.loaded, raw)
        model = build_compiled(trial, search.x.shape[1:], search.num_classes, len(search.x))
        fit = trial.config.fit
        return model, {"batch_size": fit.batch_size, "epochs": fit.epochs, "shuffle": fit.shuffle,
                       "callbacks": build_callbacks(trial, None, verbose=0)}

    return build


# ------------------------------------------------------------------------------ the search
def _default_objective(loaded, has_validation: bool) -> str:
    metrics = [m for m in loaded.config.compile.metrics if isinstance(m, str)]
    name = "accuracy" if "accuracy" in metrics else "loss"
    return f"val_{name}" if has_validation else name


def _check_objective(loaded, objective: str, logged: list[str], has_validation: bool) -> None:
    names = [*logged, *(f"val_{n}" for n in logged if has_validation)]
    if objective in names:
        return
    loc = ("tune", "objective")
    if objective.startswith("val_") and objective[4:] in logged and not has_validation:
        raise loaded.error(loc, f"the objective {objective!r} needs validation data: set fit.validation_split > 0 "
                                f"(or tune {objective[4:]!r})")
    raise loaded.error(loc, f"the objective {objective!r} is not among the logged metrics.{suggest(objective, names)}"
                            f" Logged: {', '.join(names)}")


def _prepare(loaded, say) -> _Search:
    """Data, a check of the base model and the objective: every input problem before the
    tuning directory is touched."""
    cfg = loaded.config
    if cfg.tune is None:
        raise loaded.error(("tune",), "the config has no [tune] table. help: `deepnet init --tune tune.toml` "
                                      "writes an example (an MLP on MNIST-1D)")
    data, (x, y), validation, model, logged = prepare(loaded)
    del model
    objective = cfg.tune.objective or _default_objective(loaded, validation is not None)
    _check_objective(loaded, objective, logged, validation is not None)
    stem = os.path.splitext(os.path.basename(loaded.filename))[0]
    directory = cfg.tune.directory or os.path.join("tuning", stem)
    space, _ = parse_space(loaded.raw)
    say(f"Data: {data.description}: {len(x)} train, {len(validation[0]) if validation else 0} validation samples")
    return _Search(loaded, space, x, y, validation, data.num_classes, directory, objective)


def _write_meta(search: _Search) -> None:
    """``tune.json`` (what ``--show`` needs) and a copy of the config, in the directory."""
    os.makedirs(search.directory, exist_ok=True)
    tc = search.loaded.config.tune
    meta = {"config": os.path.abspath(search.loaded.path) if search.loaded.path else None,
            "objective": search.objective, "direction": tc.direction, "trials": tc.trials,
            "storage": tc.storage, "study_name": tc.study_name,
            "space": {p.key: p.describe() for p in search.space.params}}
    with written(os.path.join(search.directory, _META)) as f:
        json.dump(meta, f, indent=2)
    with written(os.path.join(search.directory, "config.toml")) as f:
        f.write(dumps(search.loaded.raw, header=f"# The config of this search (from {search.loaded.filename}).\n"))


def _start_workers(search: _Search, options: TuneOptions, say) -> list:
    """``workers - 1`` more ``deepnet tune`` processes on the same directory (the study, its
    journal and its budget are shared); their output goes to ``worker-K.log``."""
    extra = search.loaded.config.tune.workers - 1
    if options.worker or extra <= 0:
        return []
    procs = []
    for k in range(1, extra + 1):
        log = open(os.path.join(search.directory, f"worker-{k}.log"), "w", encoding="utf-8")  # noqa: SIM115
        command = [sys.executable, "-m", "deepnet", "tune", search.loaded.path, "--worker",
                   "--directory", search.directory, *options.argv]
        procs.append((subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT), log))
    say(f"Started {extra} more worker process(es) on {search.directory} (output in worker-*.log)")
    return procs


def _wait_workers(procs: list, say) -> None:
    for k, (proc, log) in enumerate(procs, 1):
        code = proc.wait()
        log.close()
        if code != 0:
            say(f"warning: worker {k} exited with code {code} (see worker-{k}.log)")


def _search_kwargs(search: _Search) -> dict:
    fit = search.loaded.config.fit
    kwargs = {"validation_data": search.validation, "epochs": fit.epochs, "batch_size": fit.batch_size}
    timeout = search.loaded.config.tune.timeout
    if timeout is not None:
        kwargs["timeout"] = timeout
    return kwargs


def run_tune(loaded, options: TuneOptions, say=print) -> dict:
    """Run (or resume) the search of ``loaded``'s ``[tune]`` table; returns what was written."""
    from ..tune import Tuner

    search = _prepare(loaded, say)
    tc = loaded.config.tune
    tuner = Tuner(_build_function(search), objective=search.objective, max_trials=tc.trials,
                  directory=search.directory, seed=tc.seed if tc.seed is not None else loaded.config.seed,
                  sampler=tc.sampler, pruner=tc.pruner, direction=tc.direction, storage=tc.storage,
                  study_name=tc.study_name, verbose=1)
    if not options.worker:
        _write_meta(search)
        say("Search space: " + "; ".join(f"{p.key}: {p.describe()}" for p in search.space.params))
    procs = _start_workers(search, options, say)
    try:
        tuner.search(search.x, search.y, **_search_kwargs(search))
    except KeyboardInterrupt:
        if not options.worker:
            say("Interrupted: writing the results so far (run the same command again to resume the search)")
            write_results(tuner, search, say)
        raise
    finally:
        _wait_workers(procs, say)
    if options.worker:
        return {}
    return write_results(tuner, search, say)


# ----------------------------------------------------------------------------- the results
def _durations(tuner) -> dict:
    return {t.number: (t.duration.total_seconds() if t.duration is not None else None)
            for t in tuner.study.get_trials(deepcopy=False)}


def _write_trials_csv(tuner, path: str) -> None:
    rows = list(tuner.results_table())
    durations = _durations(tuner)
    names = list(dict.fromkeys(k for row in rows for k in row["params"]))
    with written(path, "w") as f:
        writer = csv.writer(f, lineterminator="\n")
        writer.writerow(["number", "state", "objective", "epochs", "duration_s", *names, "error"])
        for row in rows:
            seconds = durations.get(row["number"])
            writer.writerow([row["number"], row["state"], "" if row["objective"] is None else row["objective"],
                             row["epochs"], "" if seconds is None else round(seconds, 3),
                             *(row["params"].get(n, "") for n in names), row["error"] or ""])


def _best_toml(tuner, search: _Search, path: str) -> dict:
    """Write the best trial's complete config; returns its number, value and parameters."""
    from ..tune import HyperParameters
    from ._config import resolved_dict

    best = tuner.study.best_trial
    params = tuner.best_hyperparameters()
    raw, _ = trial_raw(search.loaded.raw, search.space, HyperParameters(values=params))
    resolved = resolved_dict(_trial_loaded(search.loaded, raw))
    resolved.pop("tune", None)
    shown = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in params.items())
    header = (f"# Best trial {best.number} of the search in {search.directory} (from {search.loaded.filename}):\n"
              f"# {search.objective} = {best.value:.6g} with {shown}\n"
              f"# Retrain it (same seed, same number on CPU): deepnet train {path}\n")
    with written(path) as f:
        f.write(dumps(resolved, header=header, inline_lists=True))
    return {"number": best.number, "value": best.value, "params": params}


def _report(tuner, search: _Search, best: dict | None, say) -> str | None:
    from ..diagnose import report

    model = None
    if best is not None and os.path.isfile(os.path.join(search.directory, f"trial_{best['number']:04d}",
                                                        "model.deepnet")):
        model = tuner.best_model()
    path = os.path.join(search.directory, "report.html")
    title = f"Tuning report: {search.loaded.filename}"
    try:
        return report(path, model=model, tuning=tuner, title=title, latency_batch_sizes=())
    except (OSError, ValueError, TypeError) as e:
        say(f"warning: report.html could not be written: {one_line(e)}")
        return None


def write_results(tuner, search: _Search, say=print) -> dict:
    """best.toml, trials.csv, the plots and report.html in the tuning directory."""
    directory = search.directory
    _write_trials_csv(tuner, os.path.join(directory, "trials.csv"))
    states = [row["state"] for row in tuner.results_table()]
    best = None
    if "COMPLETE" in states:
        best = _best_toml(tuner, search, os.path.join(directory, "best.toml"))
    plots = [str(p) for p in tuner.plot()]
    page = _report(tuner, search, best, say)
    say("")
    if best is None:
        say(f"No trial completed; see {os.path.join(directory, 'trials.csv')}")
    else:
        params = ", ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in best["params"].items())
        say(f"Best: trial {best['number']}, {search.objective}={best['value']:.4g} [{params}]")
        say(f"Wrote {os.path.join(directory, 'best.toml')} (retrain it: deepnet train "
            f"{os.path.join(directory, 'best.toml')})")
    say(f"Wrote trials.csv, {len(plots)} plot(s){' and report.html' if page else ''} in {directory}; "
        f"table: deepnet tune {directory} --show")
    return {"directory": directory, "best": best, "plots": plots, "report": page}


# -------------------------------------------------------------------------------- --show
def show(target: str, say=print) -> None:
    """Print the trial table of the search in directory ``target`` (finished or running)."""
    from ..tune import Tuner

    meta_path = os.path.join(target, _META)
    if not os.path.isfile(meta_path):
        raise UsageFailure(f"{target} holds no `deepnet tune` search (no {_META}); give the tuning directory "
                           f"or the config file")
    try:
        with open(meta_path, encoding="utf-8") as f:
            meta = json.load(f)
    except (OSError, ValueError) as e:
        raise UsageFailure(f"cannot read {meta_path}: {one_line(e)}") from e
    tuner = Tuner(lambda hp: None, objective=meta["objective"], max_trials=meta["trials"], directory=target,
                  direction=meta.get("direction"), storage=meta.get("storage"),
                  study_name=meta.get("study_name") or "deepnet", verbose=0)
    table = tuner.results_table()
    counts = {s: sum(row["state"] == s for row in table) for s in ("COMPLETE", "PRUNED", "FAIL", "RUNNING")}
    say(f"Search in {target}: {len(table)} of {meta['trials']} trials; " +
        ", ".join(f"{n} {s.lower()}" for s, n in counts.items() if n) + f"; objective {meta['objective']}")
    say(str(table))
    finished = [row for row in table if row["state"] == "COMPLETE" and row["objective"] is not None]
    if finished:
        best = tuner.study.best_trial
        say(f"Best: trial {best.number}, {meta['objective']}={best.value:.4g}")


# ------------------------------------------------------------------------------- lr-find
def run_lr_find(loaded, output: str, min_lr: float, max_lr: float, steps: int, say=print):
    """The LR range test on the config's (untrained) model and training data."""
    from ..tune import lr_find

    cfg = loaded.config
    _, (x, y), _, model, _ = prepare(loaded)
    say(f"LR range test: {steps} steps of batch size {cfg.fit.batch_size}, learning rate {min_lr:g} -> {max_lr:g} "
        f"(stops when the smoothed loss exceeds 4x its best)")
    result = lr_find(model, x, y, min_lr=min_lr, max_lr=max_lr, num_steps=steps, batch_size=cfg.fit.batch_size)
    path = result.plot(output)
    best_loss = min((v for v in result.smoothed if math.isfinite(v)), default=float("nan"))
    say(f"{len(result.lrs)} steps ran; lowest smoothed loss {best_loss:.4g}")
    if result.suggestion is None:
        say("No suggestion: the loss never fell (is the model already trained, or the range too narrow?)")
    else:
        say(f"Suggested learning rate: {result.suggestion:.3g}")
        say("  rule: where the smoothed loss falls fastest against log10(lr) (slopes over +-5% of the steps), "
            "from 20% into the sweep up to its lowest point")
        say(f"  use it: --set compile.learning_rate={result.suggestion:.3g}")
    say(f"Wrote {path}")
    return result
