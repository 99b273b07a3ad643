"""``deepnet diagnose``: verdicts, plots and report.html for a run folder or a config."""

from __future__ import annotations

import csv
import os

import click

from ._checks import check_model_fits
from ._common import CONTEXT, allow_code_option, fit_input, load_config_file, load_model_file, say
from ._errors import UsageFailure, one_line

__all__ = ["diagnose"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.


# ------------------------------------------------------------------------------------ diagnose
def _read_history(path: str) -> dict:
    """The per-epoch values of a history.csv (a value that is not a number becomes NaN)."""
    try:
        with open(path, encoding="utf-8", newline="") as f:
            reader = csv.DictReader(f)
            rows = list(reader)
            names = [k for k in reader.fieldnames or () if k != "epoch"]
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise UsageFailure(f"cannot read {path}: {one_line(e)}") from e
    if not names:
        raise UsageFailure(f"{path} is empty")
    return {k: [_number(row.get(k)) for row in rows] for k in names}


def _number(value) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return float("nan")


@click.command(context_settings=CONTEXT, short_help='Verdicts, plots and report.html for a run folder or config.')
@click.argument("target", metavar="RUN_DIR|CONFIG.toml")
@click.option("--report/--no-report", default=True, show_default=True,
              help="Also write report.html (summary, curves, verdicts, data checks, memory, latency).")
@allow_code_option
def diagnose(target, report, allow_code):
    """Diagnose a finished run, or check a config's data and model before training.

    \b
    RUN_DIR:     the learning-curve verdict (history.csv), data checks with label errors
                 (trained model), gradient health on one batch; writes learning_curves.png,
                 gradients.png and report.html into the run folder.
    CONFIG.toml: data checks and gradient health of the untrained model on one batch;
                 writes gradients.png and report.html next to the config.
    """
    from ._train import write_learning_curves

    if os.path.isdir(target):
        history_path = os.path.join(target, "history.csv")
        if not os.path.isfile(history_path):
            raise UsageFailure(f"{target} holds no history.csv: expected a run folder written by `deepnet train`")
        hist = _read_history(history_path)
        write_learning_curves(hist, target, say)
        model_file = os.path.join(target, "model.deepnet")
        config_file = os.path.join(target, "config.toml")
        model = load_model_file(model_file, compile=True) if os.path.isfile(model_file) else None
        if model is None:
            say(f"No model.deepnet in {target}: only the learning curves were diagnosed.")
            return
        checks = {"model": model}
        if os.path.isfile(config_file):
            # the trained model comes from model.deepnet: the config is read for its data only
            checks = _data_and_gradients(load_config_file(config_file, builds_model=False), model, target)
        else:
            say(f"No config.toml in {target}: the data checks and gradient health are skipped.")
        if report:
            attacked = any(os.path.isfile(os.path.join(target, f)) for f in ("robustness.json", "robust_check.json"))
            explained = os.path.isfile(os.path.join(target, "explanations.json"))
            _write_report(target, history=hist, **checks, **({"robustness": target} if attacked else {}),
                          **({"explanations": target} if explained else {}))
        return
    if not target.endswith(".toml"):
        raise UsageFailure(f"{target} is neither a run folder nor a .toml config file"
                           + ("" if os.path.exists(target) else " (it does not exist)"))
    folder = os.path.dirname(os.path.abspath(target))
    checks = _data_and_gradients(load_config_file(target, allow_code=allow_code), None, folder)
    if report:
        _write_report(folder, **checks)


def _data_and_gradients(loaded, model, folder: str) -> dict:
    """Print the data checks and the gradient health of ``model`` (a trained model, which also
    checks the labels; None: the config's untrained model) on the config's data, write
    gradients.png into ``folder``; returns the report's arguments."""
    from .. import diagnose as dg
    from ._build import build_compiled
    from ._data import fit_split, load_data

    data = load_data(loaded)
    (x, y), validation = fit_split(loaded, data)
    trained = model is not None
    if model is None:
        model = build_compiled(loaded, x.shape[1:], data.num_classes, len(x))
    x = fit_input(model, x, "the data")
    data_result = dg.data(x, y, validation_data=validation, model=model if trained else None)
    say("")
    say(str(data_result))
    check_model_fits(model, loaded, x, y, labels=(data.y_train, data.y_test))  # after the data report
    grad_result = dg.gradients(model, x, y, batch_size=min(len(x), loaded.config.fit.batch_size))
    say("")
    say(str(grad_result))
    path = os.path.join(folder, "gradients.png")
    grad_result.plot(path)
    say(f"Plot: {path}")
    return {"model": model, "data": data_result, "gradients": grad_result}


def _write_report(folder: str, **contents) -> None:
    from ..diagnose import report as write_report

    path = write_report(os.path.join(folder, "report.html"), **contents)
    say(f"Report: {path}")
