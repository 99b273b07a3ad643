"""Reading a search: one row per trial, a printable table, and Optuna's matplotlib plots."""

from __future__ import annotations

import warnings
from pathlib import Path

from ..utils.io import atomic_write_bytes

__all__ = ["ResultsTable", "plot_study", "trial_params", "trial_row", "write_traceback"]


def trial_params(frozen) -> dict:
    """Searched and fixed hyperparameters of a trial, in the order they were drawn.

    >>> import optuna
    >>> trial = optuna.trial.create_trial(params={"units": 4},
    ...     distributions={"units": optuna.distributions.IntDistribution(1, 8)}, value=0.5,
    ...     user_attrs={"fixed_params": {"epochs": 2}})
    >>> trial_params(trial)
    {'units': 4, 'epochs': 2}
    """
    return {**frozen.params, **frozen.user_attrs.get("fixed_params", {})}


def trial_row(frozen, names: tuple[str, ...] | list[str] | None = None) -> dict:
    """``number``, ``state``, ``params``, ``objective`` (the last reported value of a pruned
    trial; with the objective ``names`` of a multi-objective search, a dict name -> value),
    ``epochs`` and ``error`` of one trial.

    >>> import optuna
    >>> trial_row(optuna.trial.create_trial(params={}, distributions={}, value=0.5))["objective"]
    0.5
    """
    if names is not None:
        objective = None if frozen.values is None else dict(zip(names, frozen.values))
    else:
        objective = frozen.values[0] if frozen.values else None
    if objective is None and frozen.intermediate_values:
        objective = frozen.intermediate_values[max(frozen.intermediate_values)]
    return {"number": frozen.number, "state": frozen.state.name, "params": trial_params(frozen),
            "objective": objective, "epochs": len(frozen.intermediate_values),
            "error": frozen.user_attrs.get("error")}


def _cell(value) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    if isinstance(value, dict):
        return ", ".join(f"{k}={_cell(v)}" for k, v in value.items())
    return "" if value is None else str(value)


class ResultsTable(list):
    """A list of :func:`trial_row` dicts that prints as an aligned table.

    >>> print(ResultsTable([{"number": 0, "state": "COMPLETE", "params": {"units": 8},
    ...                      "objective": 0.91234, "epochs": 2, "error": None}]))
    number  state     objective  epochs  params
    0       COMPLETE  0.9123     2       units=8
    """

    columns = ("number", "state", "objective", "epochs", "params")

    @staticmethod
    def cell(value) -> str:
        """A value as printed in the table (floats to 4 significant digits, dicts as k=v).

        >>> ResultsTable.cell({"val_accuracy": 0.91234, "params": 1034})
        'val_accuracy=0.9123, params=1034'
        """
        return _cell(value)

    def __str__(self) -> str:
        rows = [list(self.columns)] + [[_cell(row.get(c)) for c in self.columns] for row in self]
        widths = [max(len(r[i]) for r in rows) for i in range(len(self.columns))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(r, widths)).rstrip() for r in rows]
        return "\n".join(lines)


_PLOTS = (
    ("optimization_history.png", "plot_optimization_history"),
    ("param_importances.png", "plot_param_importances"),
    ("parallel_coordinates.png", "plot_parallel_coordinate"),
    ("intermediate_values.png", "plot_intermediate_values"),
)
_MULTI_PLOTS = (("pareto_front.png", "plot_pareto_front"),)


def plot_study(study, directory: Path, names: list[str] | None = None) -> list[Path]:
    """Save Optuna's optimisation history, parameter importances, parallel coordinates and
    per-epoch (intermediate) values as PNG files in ``directory``; for a multi-objective study
    (objective ``names`` given) the Pareto front. Returns the paths written. A plot Optuna
    cannot draw yet (importances need two finished trials) is skipped with a warning.

    >>> import optuna
    >>> study = optuna.create_study()
    >>> study.add_trial(optuna.trial.create_trial(params={}, distributions={}, value=0.5))
    >>> [p.name for p in plot_study(study, Path("."))][:1]
    ['optimization_history.png']
    """
    import matplotlib.pyplot as plt
    import optuna.visualization.matplotlib as ovm

    written = []
    kwargs = {} if names is None else {"target_names": list(names)}
    for filename, name in _PLOTS if names is None else _MULTI_PLOTS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", category=Warning)  # Optuna's ExperimentalWarning
            try:
                axes = getattr(ovm, name)(study, **kwargs)
            except (ValueError, RuntimeError) as error:
                warnings.warn(f"tune: {name} skipped: {error}", stacklevel=2)
                continue
        figure = getattr(axes, "figure", None) or axes.flat[0].figure
        figure.tight_layout()
        path = directory / filename
        figure.savefig(path, dpi=100)
        plt.close(figure)
        written.append(path)
    return written


def write_traceback(folder: Path, text: str) -> Path:
    """Save a failed trial's traceback as ``folder/traceback.txt``.

    >>> write_traceback(Path("trial_0000"), "Traceback ...").name
    'traceback.txt'
    """
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "traceback.txt"
    atomic_write_bytes(path, text.encode("utf-8"))
    return path
