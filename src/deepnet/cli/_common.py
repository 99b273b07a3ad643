"""What the commands of the ``deepnet`` command line share: click settings, output, loading a
config or a model file, matching inputs to a model."""

from __future__ import annotations

import contextlib
import errno
import os

import click

from ._errors import CLIError, UsageFailure, one_line

__all__ = [
    "CONTEXT", "allow_code_option", "check_data_spec", "check_output_file", "fit_input", "input_shape", "is_builtin",
    "load_config_file", "load_model_file", "model_from_loaded", "model_from_target", "overrides", "say",
    "written",
]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}
_USER_ERRNOS = {errno.EACCES, errno.EPERM, errno.ENOENT, errno.ENOTDIR, errno.EISDIR, errno.EROFS}


def say(text: str = "") -> None:
    click.echo(text)


def is_builtin(name: str) -> bool:
    from ._config import BUILTIN_DATASETS

    return name.strip().lower().replace("-", "_") in BUILTIN_DATASETS and not os.path.exists(name)


def check_data_spec(spec: str, option: str = "--data") -> None:
    """A ``--data`` value must be a built-in data set or an existing file or folder."""
    from ._catalogue import suggest
    from ._config import BUILTIN_DATASETS

    if not (is_builtin(spec) or os.path.exists(spec)):
        raise UsageFailure(f"{option} {spec}: neither a built-in data set ({', '.join(BUILTIN_DATASETS)}) nor an "
                           f"existing file or folder.{suggest(spec, BUILTIN_DATASETS)}")


def overrides(epochs=None, batch_size=None, seed=None, output=None, data=None, threads=None, sets=()):
    from ._config import DELETE, parse_override

    out = []
    for key, value, option in ((("fit", "epochs"), epochs, "--epochs"), (("fit", "batch_size"), batch_size, "--batch-size"),
                               (("seed",), seed, "--seed"), (("output",), output, "--output"),
                               (("threads",), threads, "--threads")):
        if value is not None:
            out.append((key, value, f"{option} {value}"))
    if data is not None:
        check_data_spec(data)
        if is_builtin(data):
            out += [(("data", "name"), data, f"--data {data}"), (("data", "path"), DELETE, "--data")]
        else:
            out += [(("data", "path"), os.path.abspath(data), f"--data {data}"), (("data", "name"), DELETE, "--data")]
    for text in sets:
        loc, value = parse_override(text)
        out.append((loc, value, f"--set {text}"))
    return out


def load_config_file(config, changes=(), allow_code=False, builds_model=True):
    """The validated config file `config` with the command-line `changes` applied."""
    from ._config import load_config

    return load_config(config, changes, allow_code=allow_code, builds_model=builds_model)


def allow_code_option(function):
    """``--allow-code``: the opt-in for configs that name code (``[model] factory``)."""
    return click.option("--allow-code", is_flag=True,
                        help="Allow the config to name Python code ([model] factory): import it and run it. "
                             "Only for configs you trust.")(function)


def load_model_file(path: str, compile: bool = True):
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "model.deepnet")):
        path = os.path.join(path, "model.deepnet")
    if not os.path.exists(path):
        raise UsageFailure(f"model file {path} does not exist")
    if os.path.isdir(path):
        raise UsageFailure(f"{path} is a folder; expected a .deepnet model file (a run folder holds model.deepnet)")
    from ..saving import ModelFileError, load_model

    try:
        return load_model(path, compile=compile)
    except (ModelFileError, ValueError, TypeError, KeyError) as e:
        raise UsageFailure(f"cannot load model {path}: {one_line(e)}") from e


def model_from_loaded(loaded, compile: bool = False):
    """The (untrained) model of a loaded config; the data is read only when the config does
    not give `input_shape`."""
    from ._build import build_compiled
    from ._data import load_data

    shape = loaded.config.model.input_shape
    if shape is not None:
        return build_compiled(loaded, shape, compile=compile)
    data = load_data(loaded)
    return build_compiled(loaded, data.x_train.shape[1:], data.num_classes, len(data.x_train), compile=compile)


def model_from_target(target: str, compile: bool = False, allow_code: bool = False):
    """A model from a .deepnet file, a run folder, or a config file (built, not trained)."""
    if os.path.isdir(target) and os.path.isfile(os.path.join(target, "model.deepnet")):
        target = os.path.join(target, "model.deepnet")
    if target.endswith(".toml"):
        return model_from_loaded(load_config_file(target, allow_code=allow_code), compile=compile)
    return load_model_file(target, compile=compile)


def input_shape(model):
    try:
        inputs = model.inputs
    except Exception:  # pragma: no cover - subclassed models
        return None
    if len(inputs) != 1:
        return None
    return tuple(inputs[0].shape[1:])


def fit_input(model, x, source: str):
    """``x`` reshaped to the model's input shape when only the layout differs."""
    import numpy as np

    expected = input_shape(model)
    if expected is None or None in expected or tuple(x.shape[1:]) == expected:
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(expected)):
        return x.reshape((len(x), *expected))
    raise UsageFailure(
        f"{source} holds samples of shape {tuple(x.shape[1:])}; the model expects {expected} "
        f"({int(np.prod(expected))} values per sample)"
    )


def check_output_file(path: str, option: str, suffixes: tuple[str, ...] = ()) -> str:
    """``path`` when a file can be written there (checked before any work is done), else a
    usage error naming ``option``: a wrong suffix, a folder in the way, a missing or read-only
    folder."""
    if suffixes and not path.lower().endswith(suffixes):
        raise UsageFailure(f"{option} must end in {' or '.join(suffixes)}; received {path!r}")
    if os.path.isdir(path):
        raise UsageFailure(f"{option} {path} is a folder; give a file name such as "
                           f"{os.path.join(path, 'out' + (suffixes[0] if suffixes else ''))}")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageFailure(f"{option} {path}: the folder {folder} does not exist")
    if not os.access(folder, os.W_OK) or (os.path.exists(path) and not os.access(path, os.W_OK)):
        raise UsageFailure(f"{option} {path}: no permission to write there; choose another {option}")
    return path


@contextlib.contextmanager
def written(path: str, mode: str = "w"):
    """``with written(path) as f:`` writes ``path`` atomically (nothing is left behind on
    failure); an OSError becomes one error line naming the file: exit 2 for a path the user
    can fix (permission, missing folder, read-only), 1 otherwise (disk full, I/O error)."""
    from ..utils.io import atomic_write

    try:
        with atomic_write(path, mode) as f:
            yield f
    except OSError as e:
        error = UsageFailure if e.errno in _USER_ERRNOS else CLIError
        raise error(f"cannot write {path}: {e.strerror or one_line(e)}") from e
