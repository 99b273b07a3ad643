"""Worker processes for ``Tuner(n_workers=N)``: N-1 spawned processes join the calling one.

Every worker opens the same study (the journal file, or the database) and runs the same trial
loop; the budget rule of :mod:`._study` keeps the trial count exact. What a worker gets:

- the build function and the fit arguments, sent by multiprocessing (by reference): the build function must be importable
  (defined at the top level of a module or of the script started with ``python script.py``),
  not a lambda, a closure or a function defined inside another function;
- ``x``, ``y`` and array ``validation_data`` through a temporary ``.npz`` file in the directory
  (deleted when the search ends); datasets and generators cannot be sent.

Each worker uses ``cpu_count // N`` torch threads (at least 1) so N workers do not oversubscribe
the cores.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
import traceback
from multiprocessing.reduction import ForkingPickler
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..utils.validation import invalid_value

__all__ = ["check_sendable", "join_workers", "load_data", "save_data", "start_workers", "worker_guard"]

_HELP = ("help: define it at the top level of an importable module (or of the script you run), or "
         "use n_workers=1 and start several processes on the same directory yourself.")


def check_sendable(n_workers: int, build, fit_kwargs: dict, storage: Any) -> None:
    """Raise a clear error when the build function, a fit argument or the storage cannot be sent
    to a spawned worker.

    >>> check_sendable(2, lambda hp: None, {}, None)
    Traceback (most recent call last):
    ...
    TypeError: Tuner(n_workers=2): the build function <lambda> cannot be sent to worker processes ...
    """
    owner = f"Tuner(n_workers={n_workers})"
    name = getattr(build, "__qualname__", type(build).__name__)
    main = sys.modules.get("__main__")
    if getattr(build, "__module__", None) == "__main__" and not getattr(main, "__file__", None):
        raise TypeError(f"{owner}: the build function {name} is defined in an interactive session; "
                        f"worker processes cannot import it. {_HELP}")
    _pickles(owner, f"the build function {name}", build)
    for key, value in fit_kwargs.items():
        if key != "validation_data":
            _pickles(owner, f"the fit argument `{key}`", value)
    if storage is not None and not isinstance(storage, str):
        raise invalid_value(owner, "storage", storage, "None (the journal file) or a database URL string "
                            "when n_workers > 1", help="each worker opens the storage itself.")


def _pickles(owner: str, what: str, value: Any) -> None:
    if "<lambda>" in getattr(value, "__qualname__", "") or "<locals>" in getattr(value, "__qualname__", ""):
        raise TypeError(f"{owner}: {what} cannot be sent to worker processes (a lambda or a function "
                        f"defined inside another function). {_HELP}")
    try:  # serialise as multiprocessing will (only to send it; deepnet never unpickles anything it reads)
        ForkingPickler.dumps(value)
    except Exception as error:  # PicklingError, AttributeError, TypeError...: re-raised with the cause
        raise TypeError(f"{owner}: {what} cannot be sent to worker processes: {error}. {_HELP}") from error


def _array(owner: str, name: str, value: Any) -> np.ndarray:
    if isinstance(value, np.ndarray) or (isinstance(value, (list, tuple)) and not isinstance(value, str)):
        return np.asarray(value)
    if hasattr(value, "numpy") and hasattr(value, "detach"):  # a torch tensor
        return value.detach().cpu().numpy()
    raise invalid_value(owner, name, value, "a NumPy array (n_workers > 1 sends the data to the workers "
                        "through a .npz file)", help="pass arrays, or use n_workers=1.")


def save_data(directory: Path, x, y, fit_kwargs: dict) -> tuple[Path, dict]:
    """Write ``x``, ``y`` and array ``validation_data`` to a temporary ``.npz`` in ``directory``;
    returns its path and the fit arguments without ``validation_data``.

    >>> path, rest = save_data(Path("."), np.ones((2, 3)), np.ones(2), {"epochs": 1})
    >>> sorted(np.load(path, allow_pickle=False).files), rest
    (['x', 'y'], {'epochs': 1})
    """
    owner = "Tuner.search (n_workers > 1)"
    arrays = {}
    if x is not None:
        arrays["x"] = _array(owner, "x", x)
    if y is not None:
        arrays["y"] = _array(owner, "y", y)
    rest = dict(fit_kwargs)
    validation = rest.pop("validation_data", None)
    if validation is not None:
        if not isinstance(validation, (tuple, list)):
            raise invalid_value(owner, "validation_data", validation, "a tuple of arrays (x_val, y_val[, "
                                "sample_weight_val])", help="pass arrays, or use validation_split=.")
        for i, part in enumerate(validation):
            arrays[f"validation_{i}"] = _array(owner, "validation_data", part)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"_worker_data_{os.getpid()}.npz"
    np.savez(path, **arrays)
    return path, rest


def load_data(path: str | Path) -> tuple[Any, Any, dict]:
    """``x``, ``y`` and ``{"validation_data": ...}`` (when saved) from :func:`save_data`'s file.

    >>> path, _ = save_data(Path("."), np.ones((2, 3)), None, {"validation_data": (np.ones((1, 3)), np.ones(1))})
    >>> x, y, extra = load_data(path)
    >>> x.shape, y, len(extra["validation_data"])
    ((2, 3), None, 2)
    """
    with np.load(path, allow_pickle=False) as data:
        arrays = {name: data[name] for name in data.files}
    validation = [arrays[f"validation_{i}"] for i in range(3) if f"validation_{i}" in arrays]
    extra = {"validation_data": tuple(validation)} if validation else {}
    return arrays.get("x"), arrays.get("y"), extra


def threads_per_worker(n_workers: int) -> int:
    """Torch threads for each of ``n_workers`` processes on this host.

    >>> threads_per_worker(10_000)
    1
    """
    return max(1, (os.cpu_count() or 1) // n_workers)


def start_workers(target, spec: dict, count: int) -> list:
    """Start ``count`` spawned processes running ``target(spec, index)`` (index 1..count).

    >>> start_workers(print, {}, 0)
    []
    """
    context = multiprocessing.get_context("spawn")
    processes = []
    for index in range(1, count + 1):
        process = context.Process(target=target, args=(spec, index), name=f"deepnet-tune-worker-{index}")
        process.start()
        processes.append(process)
    return processes


def _error_file(directory: Path, index: int) -> Path:
    return Path(directory) / f"_worker_{index}.error"


def worker_guard(directory: Path, index: int, n_workers: int, run) -> None:
    """Run ``run()`` in worker ``index`` of ``n_workers``; an exception is saved for the parent
    and the worker exits with status 1.

    >>> threads = torch.get_num_threads()
    >>> worker_guard(Path("."), 1, 2, lambda: None)
    >>> torch.set_num_threads(threads)
    """
    torch.set_num_threads(threads_per_worker(n_workers))
    try:
        run()
    except BaseException as error:  # noqa: BLE001 - reported by the parent process
        path = _error_file(directory, index)
        path.write_text(f"{type(error).__name__}: {error}\n\n{traceback.format_exc()}", encoding="utf-8")
        sys.exit(1)


def join_workers(processes: list, directory: Path, terminate: bool = False) -> list[str]:
    """Wait for the workers (terminate them first when ``terminate``); returns the first line of
    each failed worker's error.

    >>> join_workers([], Path("."))
    []
    """
    errors = []
    for index, process in enumerate(processes, start=1):
        if terminate and process.is_alive():
            process.terminate()
        process.join()
        path = _error_file(directory, index)
        if path.exists():
            errors.append(f"worker {index}: {path.read_text(encoding='utf-8').splitlines()[0]}")
            path.unlink()
        elif process.exitcode not in (0, None) and not terminate:
            errors.append(f"worker {index}: exited with status {process.exitcode}")
    return errors
