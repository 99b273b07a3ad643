"""The ``tuning`` section of :func:`deepnet.diagnose.report`: the trials of a hyperparameter
search (a ``deepnet.tune.Tuner``, or the directory ``deepnet tune`` wrote) as a table with the
best trial marked, and the search's plots embedded.

``diagnose`` sits below ``tune`` in the package levels, so a Tuner is read through its public
methods only (``results_table()``, ``directory``, ``objective``, ``direction``), and a directory
through its files (``trials.csv``, ``tune.json``, the PNG plots).
"""

from __future__ import annotations

import base64
import csv
import html
import json
import os

__all__ = ["PLOT_FILES", "tuning_html"]

#: The plots of a search, in the order shown (files of the tuning directory).
PLOT_FILES = ("optimization_history.png", "param_importances.png", "parallel_coordinates.png",
              "intermediate_values.png")
_FIXED = ("number", "state", "objective", "epochs", "duration_s", "error")


def _esc(text) -> str:
    return html.escape(str(text))


def _from_tuner(tuner) -> tuple[list[dict], str, str | None, str | None]:
    rows = [{"number": r["number"], "state": r["state"], "objective": r["objective"], "epochs": r["epochs"],
             **r["params"], "error": r.get("error") or ""} for r in tuner.results_table()]
    return rows, os.fspath(tuner.directory), tuner.objective, tuner.direction


def _number(text: str):
    try:
        value = float(text)
    except ValueError:
        return text
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


def _from_directory(directory: str) -> tuple[list[dict], str, str | None, str | None]:
    path = os.path.join(directory, "trials.csv")
    if not os.path.isfile(path):
        raise FileNotFoundError(f"{path} does not exist: pass the directory `deepnet tune` wrote, or the Tuner")
    with open(path, encoding="utf-8", newline="") as f:
        rows = [{k: _number(v) if v else None for k, v in row.items()} for row in csv.DictReader(f)]
    objective = direction = None
    meta = os.path.join(directory, "tune.json")
    if os.path.isfile(meta):
        with open(meta, encoding="utf-8") as f:
            info = json.load(f)
        objective, direction = info.get("objective"), info.get("direction")
    return rows, directory, objective, direction


def _best(rows: list[dict], objective: str | None, direction: str | None) -> dict | None:
    done = [r for r in rows if r["state"] == "COMPLETE" and isinstance(r["objective"], (int, float))]
    if not done:
        return None
    if direction is None and objective is not None:
        minimised = ("loss", "error", "mae", "mse", "crossentropy")
        direction = "minimize" if any(w in objective.lower() for w in minimised) else "maximize"
    pick = min if direction == "minimize" else max
    return pick(done, key=lambda r: r["objective"])


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return "" if value is None else str(value)


def _table(rows: list[dict], best: dict | None) -> str:
    columns = list(dict.fromkeys(k for r in rows for k in r))
    columns = [c for c in _FIXED if c in columns and c != "error"] + \
              [c for c in columns if c not in _FIXED] + (["error"] if any(r.get("error") for r in rows) else [])
    head = "".join(f"<th>{_esc(c)}</th>" for c in columns)
    body = []
    for r in rows:
        style = ' style="font-weight:600;background:#f0fff4"' if r is best else ""
        body.append(f"<tr{style}>" + "".join(f"<td>{_esc(_cell(r.get(c)))}</td>" for c in columns) + "</tr>")
    return f"<table><tr>{head}</tr>{''.join(body)}</table>"


def _images(directory: str) -> list[str]:
    parts = []
    for name in PLOT_FILES:
        path = os.path.join(directory, name)
        if os.path.isfile(path):
            with open(path, "rb") as f:
                data = base64.b64encode(f.read()).decode("ascii")
            parts.append(f'<h3>{_esc(name[:-4].replace("_", " ").capitalize())}</h3>'
                         f'<img alt="{_esc(name)}" src="data:image/png;base64,{data}">')
    return parts


def tuning_html(tuning) -> list[str]:
    """HTML parts of the tuning section for a Tuner (anything with ``results_table()``) or a
    tuning directory.

    >>> import tempfile
    >>> folder = tempfile.mkdtemp()
    >>> _ = open(os.path.join(folder, "trials.csv"), "w").write(
    ...     "number,state,objective,epochs,units\\n0,COMPLETE,0.5,2,8\\n1,PRUNED,0.25,1,4\\n")
    >>> parts = tuning_html(folder)
    >>> "Best: trial 0" in parts[0], parts[1].count("<tr")
    (True, 3)
    """
    if hasattr(tuning, "results_table"):
        rows, directory, objective, direction = _from_tuner(tuning)
    else:
        rows, directory, objective, direction = _from_directory(os.fspath(tuning))
    best = _best(rows, objective, direction)
    states = [r["state"] for r in rows]
    counts = ", ".join(f"{states.count(s)} {s.lower()}" for s in dict.fromkeys(states))
    line = (f"{len(rows)} trial(s) in {directory}" + (f" ({counts})" if counts else "") +
            (f"; objective {objective}" if objective else "") + ". ")
    if best is not None:
        params = ", ".join(f"{k}={_cell(v)}" for k, v in best.items() if k not in _FIXED)
        line += f"Best: trial {best['number']}, objective {_cell(best['objective'])} ({params})."
    else:
        line += "No trial has completed yet."
    return [f"<p>{_esc(line)}</p>", _table(rows, best), *_images(directory)]
