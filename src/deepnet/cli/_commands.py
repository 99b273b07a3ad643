"""The ``deepnet`` command-line interface (click): train, init, check, summary, plot,
evaluate, predict, export, info, diagnose."""

from __future__ import annotations

import csv
import json
import os

import click

from ._errors import EXIT_OK, EXIT_USAGE, ConfigError, UsageFailure, one_line

__all__ = ["cli"]

CONTEXT = {"help_option_names": ["-h", "--help"], "max_content_width": 100}


def _say(text: str = "") -> None:
    click.echo(text)


def _version(ctx, _param, value):
    if not value or ctx.resilient_parsing:
        return
    import deepnet

    click.echo(f"deepnet {deepnet.__version__}")
    ctx.exit(0)


@click.group(context_settings=CONTEXT)
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, callback=_version,
              help="Print the deepnet version and exit.")
@click.option("--debug", is_flag=True, help="On errors, print the full traceback (accepted anywhere on the command line).")
def cli(debug=False):
    """deepnet: train, inspect and ship models from the command line.

    \b
    Quick start:
      deepnet train                  a CNN on MNIST-1D (generated offline; ~30 s, 99% test accuracy on 2 CPU cores)
      deepnet init my.toml           write a commented example config
      deepnet train my.toml          run the experiment it describes

    Exit codes: 0 success, 1 runtime failure, 2 usage, config or input error.
    """


# ------------------------------------------------------------------------------------- helpers
def _is_builtin(name: str) -> bool:
    from ._config import BUILTIN_DATASETS

    return name.strip().lower().replace("-", "_") in BUILTIN_DATASETS and not os.path.exists(name)


def _overrides(epochs=None, batch_size=None, seed=None, output=None, data=None, threads=None, sets=()):
    from ._config import DELETE, parse_override

    out = []
    for key, value, option in ((("fit", "epochs"), epochs, "--epochs"), (("fit", "batch_size"), batch_size, "--batch-size"),
                               (("seed",), seed, "--seed"), (("output",), output, "--output"),
                               (("threads",), threads, "--threads")):
        if value is not None:
            out.append((key, value, f"{option} {value}"))
    if data is not None:
        if _is_builtin(data):
            out += [(("data", "name"), data, f"--data {data}"), (("data", "path"), DELETE, "--data")]
        else:
            out += [(("data", "path"), os.path.abspath(data), f"--data {data}"), (("data", "name"), DELETE, "--data")]
    for text in sets:
        loc, value = parse_override(text)
        out.append((loc, value, f"--set {text}"))
    return out


def _load(config, overrides=(), allow_code=False):
    from ._config import load_config

    return load_config(config, overrides, allow_code=allow_code)


def _allow_code_option(function):
    """``--allow-code``: the opt-in for configs that name code (``[model] factory``)."""
    return click.option("--allow-code", is_flag=True,
                        help="Allow the config to name Python code ([model] factory): import it and run it. "
                             "Only for configs you trust.")(function)


def _load_model_file(path: str, compile: bool = True):
    if os.path.isdir(path) and os.path.isfile(os.path.join(path, "model.deepnet")):
        path = os.path.join(path, "model.deepnet")
    if not os.path.exists(path):
        raise UsageFailure(f"model file {path} does not exist")
    if os.path.isdir(path):
        raise UsageFailure(f"{path} is a folder; expected a .deepnet model file (a run folder holds model.deepnet)")
    import deepnet

    from ..saving import ModelFileError

    try:
        return deepnet.load_model(path, compile=compile)
    except (ModelFileError, ValueError, TypeError, KeyError) as e:
        raise UsageFailure(f"cannot load model {path}: {one_line(e)}") from e


def _model_from_loaded(loaded, compile: bool = False):
    """The (untrained) model of a loaded config; the data is read only when the config does
    not give `input_shape`."""
    from ._build import build_compiled
    from ._data import load_data

    shape = loaded.config.model.input_shape
    if shape is not None:
        return build_compiled(loaded, shape, compile=compile)
    data = load_data(loaded)
    return build_compiled(loaded, data.x_train.shape[1:], data.num_classes, len(data.x_train), compile=compile)


def _model_from_target(target: str, compile: bool = False, allow_code: bool = False):
    """A model from a .deepnet file, a run folder, or a config file (built, not trained)."""
    if os.path.isdir(target) and os.path.isfile(os.path.join(target, "model.deepnet")):
        target = os.path.join(target, "model.deepnet")
    if target.endswith(".toml"):
        return _model_from_loaded(_load(target, allow_code=allow_code), compile=compile)
    return _load_model_file(target, compile=compile)


def _input_shape(model):
    try:
        inputs = model.inputs
    except Exception:  # pragma: no cover - subclassed models
        return None
    if len(inputs) != 1:
        return None
    return tuple(inputs[0].shape[1:])


def _fit_input(model, x, source: str):
    """``x`` reshaped to the model's input shape when only the layout differs."""
    import numpy as np

    expected = _input_shape(model)
    if expected is None or None in expected or tuple(x.shape[1:]) == expected:
        return x
    if int(np.prod(x.shape[1:])) == int(np.prod(expected)):
        return x.reshape((len(x), *expected))
    raise UsageFailure(
        f"{source} holds samples of shape {tuple(x.shape[1:])}; the model expects {expected} "
        f"({int(np.prod(expected))} values per sample)"
    )


# --------------------------------------------------------------------------------------- train
@cli.command(context_settings=CONTEXT, short_help='Train a config (default: a CNN on MNIST-1D); writes a run folder.')
@click.argument("config", required=False, metavar="[CONFIG.toml]")
@click.option("--epochs", type=click.IntRange(min=1), help="Override fit.epochs.")
@click.option("--batch-size", type=click.IntRange(min=1), help="Override fit.batch_size.")
@click.option("--seed", type=click.IntRange(min=0), help="Override seed.")
@click.option("--output", "-o", metavar="DIR", help="Parent folder of the run folder (default: runs).")
@click.option("--data", metavar="NAME|PATH", help="Use this built-in data set or file instead of [data] name/path.")
@click.option("--threads", type=click.IntRange(min=1), help="Number of CPU threads for PyTorch.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE",
              help="Override any config key, e.g. --set compile.learning_rate=1e-3 (repeatable; TOML values).")
@click.option("--quiet", "-q", is_flag=True, help="No model summary and no per-epoch progress.")
@_allow_code_option
def train(config, epochs, batch_size, seed, output, data, threads, sets, quiet, allow_code):
    """Train the experiment described by CONFIG.toml (default: a CNN on MNIST-1D).

    Writes a new run folder <output>/<timestamp>/ with model.deepnet, history.csv,
    learning_curves.png, config.toml (the resolved config) and metrics.json.
    """
    from ._train import train as run_training

    loaded = _load(config, _overrides(epochs, batch_size, seed, output, data, threads, sets), allow_code)
    _say(f"deepnet train: {loaded.filename}")
    run_training(loaded, say=_say, quiet=quiet)


# ---------------------------------------------------------------------------------------- init
@cli.command(context_settings=CONTEXT, short_help='Write a commented example config.')
@click.argument("path", required=False, default="deepnet.toml")
@click.option("--force", "-f", is_flag=True, help="Overwrite PATH if it exists.")
def init(path, force):
    """Write a commented example config to PATH (default: deepnet.toml).

    The example trains out of the box (the default CNN on MNIST-1D); edit it for your data.
    """
    from ..utils.io import atomic_write
    from ._defaults import DEFAULT_CONFIG_TOML

    if os.path.isdir(path):
        raise UsageFailure(f"{path} is a folder; give a file name such as {os.path.join(path, 'deepnet.toml')}")
    if os.path.exists(path) and not force:
        raise UsageFailure(f"{path} already exists; use --force to overwrite it")
    folder = os.path.dirname(os.path.abspath(path))
    if not os.path.isdir(folder):
        raise UsageFailure(f"the folder {folder} does not exist")
    with atomic_write(path, "w") as f:
        f.write(DEFAULT_CONFIG_TOML)
    _say(f"Wrote {path}. Train it with: deepnet train {path}")


# --------------------------------------------------------------------------------------- check
@cli.command(context_settings=CONTEXT, short_help='Validate a config and build its model; list every problem.')
@click.argument("config", metavar="CONFIG.toml")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config key (as for train).")
@_allow_code_option
def check(config, sets, allow_code):
    """Validate CONFIG.toml and build its model without training; lists every problem.

    A model factory ([model] factory) is never called: with --allow-code its module is
    imported to check that the function exists; without it the config is refused.
    """
    try:
        loaded = _load(config, _overrides(sets=sets), allow_code)
    except ConfigError as e:
        for line in e.lines():
            click.echo(f"error: {line}", err=True)
        return EXIT_USAGE
    if loaded.config.model.factory is not None:
        from ._build import build_loss, build_optimizer, load_factory

        load_factory(loaded)
        build_optimizer(loaded, total_steps=1)
        build_loss(loaded)
        _say(f"{config}: OK (the model factory {loaded.config.model.factory} exists; check does not call it)")
        return EXIT_OK
    model = _model_from_loaded(loaded, compile=True)
    _say(f"{config}: OK ({len(model.layers)} layers, {model.count_params():,} parameters)")
    return EXIT_OK


# ------------------------------------------------------------------------------------- summary
@cli.command(context_settings=CONTEXT, short_help='Layer table of a model file, run folder or config.')
@click.argument("target", metavar="CONFIG.toml|MODEL.deepnet")
@click.option("--show-trainable", is_flag=True, help="Add a column telling whether each layer is trainable.")
@click.option("--expand-nested", is_flag=True, help="List the layers of nested models.")
@_allow_code_option
def summary(target, show_trainable, expand_nested, allow_code):
    """Print the layer table of a saved model, a run folder or a config's model."""
    model = _model_from_target(target, allow_code=allow_code)
    model.summary(show_trainable=show_trainable, expand_nested=expand_nested)


# ---------------------------------------------------------------------------------------- plot
@cli.command(context_settings=CONTEXT, short_help='Draw the layer graph (PNG/SVG/PDF).')
@click.argument("target", metavar="CONFIG.toml|MODEL.deepnet")
@click.option("--output", "-o", default="model.png", show_default=True, help="Image file (.png, .svg or .pdf).")
@click.option("--rankdir", type=click.Choice(["TB", "LR", "BT", "RL"], case_sensitive=False), default="TB",
              show_default=True, help="Direction of the graph.")
@click.option("--no-shapes", is_flag=True, help="Leave out input/output shapes.")
@click.option("--show-params", is_flag=True, help="Show each layer's parameter count.")
@click.option("--show-activations", is_flag=True, help="Show each layer's activation.")
@click.option("--dpi", type=click.IntRange(min=10), default=96, show_default=True, help="PNG resolution.")
@_allow_code_option
def plot(target, output, rankdir, no_shapes, show_params, show_activations, dpi, allow_code):
    """Draw the layer graph of a saved model, a run folder or a config's model."""
    from ..utils import plot_model

    model = _model_from_target(target, allow_code=allow_code)
    try:
        path = plot_model(model, to_file=output, show_shapes=not no_shapes, rankdir=rankdir.upper(), dpi=dpi,
                          show_params=show_params, show_layer_activations=show_activations)
    except (ValueError, FileNotFoundError) as e:
        raise UsageFailure(one_line(e)) from e
    _say(f"Wrote {path}")


# ------------------------------------------------------------------------------------ evaluate
@cli.command(context_settings=CONTEXT, short_help='Loss and metrics of a saved model on a data set.')
@click.argument("model_path", metavar="MODEL.deepnet")
@click.option("--data", "data_spec", required=True, metavar="NAME|PATH",
              help="A built-in data set name or a .npz/.csv file, IDX folder or image folder.")
@click.option("--split", type=click.Choice(["test", "train", "all"]), default="test", show_default=True,
              help="Which split of the data to evaluate on.")
@click.option("--label", default="label", show_default=True, help="CSV: the label column (name or index).")
@click.option("--test-split", type=click.FloatRange(0, 1, max_open=True), default=0.2, show_default=True,
              help="Files without a test split: the fraction held out (as in training).")
@click.option("--image-size", default="64x64", show_default=True, metavar="HxW", help="Image folders: resize to HxW.")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--json", "as_json", is_flag=True, help="Print the metrics as JSON.")
def evaluate(model_path, data_spec, split, label, test_split, image_size, batch_size, as_json):
    """Loss and metrics of a saved model on a data set."""
    import numpy as np

    model = _load_model_file(model_path, compile=True)
    data = _data_from_spec(data_spec, label=label, test_split=test_split, image_size=image_size)
    if split == "test":
        x, y = data.x_test, data.y_test
    elif split == "train":
        x, y = data.x_train, data.y_train
    else:
        x, y = np.concatenate([data.x_train, data.x_test]), np.concatenate([data.y_train, data.y_test])
    if len(x) == 0:
        raise UsageFailure(f"the {split} split of {data_spec} is empty")
    x = _fit_input(model, x, data_spec)
    if getattr(model, "compiled", False) and model._trainer is not None:
        try:
            results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        except (ValueError, TypeError) as e:
            raise UsageFailure(f"the model does not fit the data {data_spec}: {one_line(e)}") from e
        results = {k: float(v) for k, v in results.items()}
    else:
        pred = model.predict(x, batch_size=batch_size, verbose=0)
        if pred.ndim != 2 or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
            raise UsageFailure(f"{model_path} was saved without a compile config (no loss/metrics) and its outputs are "
                               f"not class scores: cannot evaluate it")
        results = {"accuracy": float((pred.argmax(-1) == y).mean())}
    results["samples"] = len(x)
    if as_json:
        _say(json.dumps(results))
    else:
        _say(f"{model_path} on {data_spec} ({split}, {len(x)} samples): "
             + ", ".join(f"{k} {v:.4f}" for k, v in results.items() if k != "samples"))


def _parse_size(text: str):
    try:
        h, w = text.lower().split("x")
        return int(h), int(w)
    except ValueError:
        raise UsageFailure(f"--image-size expects HxW such as 64x64; received {text!r}") from None


def _data_from_spec(spec: str, label="label", test_split=0.2, image_size="64x64"):
    from ._data import load_named_or_path

    if _is_builtin(spec):
        return load_named_or_path(spec.strip().lower().replace("-", "_"), None)
    if not os.path.exists(spec):
        raise UsageFailure(f"data {spec!r} is neither a built-in data set (mnist1d, digits, mnist, fashion_mnist, "
                           f"cifar10) nor an existing file or folder")
    lab = int(label) if label.lstrip("-").isdigit() else label
    return load_named_or_path(None, spec, label=lab, test_split=test_split, image_size=_parse_size(image_size))


# ------------------------------------------------------------------------------------- predict
def _read_inputs(path: str, key: str | None, label: str | None):
    import numpy as np

    if not os.path.exists(path):
        raise UsageFailure(f"input file {path} does not exist")
    lower = path.lower()
    try:
        if lower.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        if lower.endswith(".npz"):
            with np.load(path, allow_pickle=False) as data:
                names = list(data.files)
                if key is None:
                    key = next((k for k in ("x", "x_test", "inputs") if k in names), names[0] if len(names) == 1 else None)
                if key is None or key not in names:
                    from ._catalogue import suggest

                    hint = suggest(key, names) if key else ""
                    raise UsageFailure(f"{path}: choose the input array with --key.{hint} Arrays: {', '.join(names)}")
                return data[key]
    except (ValueError, OSError, EOFError) as e:
        if isinstance(e, UsageFailure):
            raise
        raise UsageFailure(f"cannot read {path}: {one_line(e)}") from e
    if lower.endswith((".csv", ".tsv", ".txt")):
        from ..datasets import read_csv_features

        column = int(label) if label is not None and label.lstrip("-").isdigit() else label
        try:
            return read_csv_features(path, label=column, delimiter="\t" if lower.endswith(".tsv") else ",")
        except (ValueError, TypeError, OSError) as e:
            raise UsageFailure(one_line(e)) from e
    raise UsageFailure(f"cannot read {path}: expected a .npy, .npz or .csv file")


@cli.command(context_settings=CONTEXT, short_help='Predictions of a saved model for .npy/.npz/.csv inputs.')
@click.argument("model_path", metavar="MODEL.deepnet")
@click.argument("input_path", metavar="INPUT")
@click.option("--output", "-o", default="predictions.csv", show_default=True,
              help="Where to write the predictions: .csv (class and scores per row) or .npy (raw outputs).")
@click.option("--key", help=".npz input: the array to predict on (default: x, x_test, or the only array).")
@click.option("--label", help="CSV input: a label column to leave out (name, or index without header).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
def predict(model_path, input_path, output, key, label, batch_size):
    """Run a saved model on INPUT (.npy, .npz or .csv) and write its predictions.

    The CSV output has one row per sample: `class` (the arg-max, for models with several
    outputs per sample) then `output_0`, `output_1`, ... (the model's raw outputs).
    """
    import numpy as np

    from ..utils.io import atomic_write

    x = _read_inputs(input_path, key, label)
    if x.ndim == 0 or len(x) == 0:
        raise UsageFailure(f"{input_path} holds no samples")
    if not np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32)
    model = _load_model_file(model_path, compile=False)
    try:
        x = _fit_input(model, x, input_path)
    except UsageFailure as e:
        if input_path.lower().endswith((".csv", ".tsv", ".txt")) and label is None:
            raise UsageFailure(f"{e} (if the file has a label column, leave it out with --label NAME)") from None
        raise
    try:
        pred = model.predict(x, batch_size=batch_size, verbose=0)
    except (ValueError, TypeError) as e:
        raise UsageFailure(f"the model cannot run on {input_path}: {one_line(e)}") from e
    if isinstance(pred, (list, tuple, dict)):
        raise UsageFailure("models with several outputs: write them with --output FILE.npz is not supported; "
                           "use the Python API")
    if output.lower().endswith(".npy"):
        with atomic_write(output, "wb") as f:
            np.save(f, pred)
    elif output.lower().endswith(".csv"):
        flat = pred.reshape(len(pred), -1)
        with atomic_write(output, "w") as f:
            writer = csv.writer(f)
            classes = flat.shape[1] > 1 and pred.ndim == 2
            writer.writerow((["class"] if classes else []) + [f"output_{i}" for i in range(flat.shape[1])])
            for row in flat:
                writer.writerow(([int(row.argmax())] if classes else []) + [f"{v:.7g}" for v in row])
    else:
        raise UsageFailure(f"--output must end in .csv or .npy; received {output!r}")
    _say(f"Wrote {len(pred)} predictions to {output}")


# -------------------------------------------------------------------------------------- export
@cli.command(context_settings=CONTEXT, short_help='Export a saved model to ONNX or torch.export.')
@click.argument("model_path", metavar="MODEL.deepnet")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torch"]), default="onnx", show_default=True,
              help="onnx (.onnx, needs the onnx package) or torch (a torch.export program, .pt2).")
@click.option("--output", "-o", help="Output file (default: MODEL with the format's extension).")
@click.option("--opset", type=click.IntRange(min=7), default=18, show_default=True, help="ONNX opset version.")
def export(model_path, fmt, output, opset):
    """Export a saved model for inference outside deepnet (ONNX or torch.export)."""
    model = _load_model_file(model_path, compile=False)
    if output is None:
        output = os.path.splitext(model_path)[0] + (".onnx" if fmt == "onnx" else ".pt2")
    kwargs = {"opset_version": opset} if fmt == "onnx" else {}
    try:
        path = model.export(output, format=fmt, **kwargs)
    except ImportError as e:
        from ._errors import CLIError

        raise CLIError(f"export to {fmt} needs an optional package: {one_line(e)}") from e
    except (ValueError, FileNotFoundError) as e:
        raise UsageFailure(one_line(e)) from e
    _say(f"Wrote {path or output}")


# ---------------------------------------------------------------------------------------- info
_OPTIONAL = ("click", "pydantic", "rich", "matplotlib", "safetensors", "onnx", "onnxruntime", "onnxscript",
             "mnist1d", "scikit-learn", "pillow", "keras", "tomli")


@cli.command(context_settings=CONTEXT, short_help='Versions, threads, devices, optional packages.')
@click.option("--json", "as_json", is_flag=True, help="Print the information as JSON.")
def info(as_json):
    """Versions, CPU threads, accelerators and optional packages."""
    import platform
    from importlib import metadata

    import numpy
    import torch

    import deepnet

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    facts = {
        "deepnet": deepnet.__version__, "python": platform.python_version(), "platform": platform.platform(),
        "torch": torch.__version__, "numpy": numpy.__version__,
        "cpu_count": os.cpu_count(), "torch_threads": torch.get_num_threads(),
        "torch_interop_threads": torch.get_num_interop_threads(),
        "cuda": cuda, "cuda_version": torch.version.cuda,
        "cuda_devices": [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())] if cuda else [],
        "mps": mps, "default_device": "cuda" if cuda else ("mps" if mps else "cpu"),
    }
    packages = {}
    for name in _OPTIONAL:
        try:
            packages[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            packages[name] = None
    facts["packages"] = packages
    from ..datasets import get_cache_dir

    facts["dataset_cache"] = get_cache_dir()
    if as_json:
        _say(json.dumps(facts, indent=2))
        return
    for k, v in facts.items():
        if k == "packages":
            continue
        if isinstance(v, list):
            v = ", ".join(v) or "none"
        _say(f"{k + ':':<24}{v}")
    _say("optional packages:")
    for name, version in packages.items():
        _say(f"  {name + ':':<22}{version or 'not installed'}")


# ------------------------------------------------------------------------------------ diagnose
def _read_history(path: str) -> dict:
    with open(path, encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not reader.fieldnames:
            raise UsageFailure(f"{path} is empty")
        hist: dict[str, list] = {k: [] for k in reader.fieldnames if k != "epoch"}
        for row in reader:
            for k in hist:
                value = row.get(k)
                try:
                    hist[k].append(float(value))
                except (TypeError, ValueError):
                    hist[k].append(float("nan"))
    return hist


@cli.command(context_settings=CONTEXT, short_help='Verdicts, plots and report.html for a run folder or config.')
@click.argument("target", metavar="RUN_DIR|CONFIG.toml")
@click.option("--report/--no-report", default=True, show_default=True,
              help="Also write report.html (summary, curves, verdicts, data checks, memory, latency).")
@_allow_code_option
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
        write_learning_curves(hist, target, _say)
        model_file = os.path.join(target, "model.deepnet")
        config_file = os.path.join(target, "config.toml")
        model = _load_model_file(model_file, compile=True) if os.path.isfile(model_file) else None
        if model is None:
            _say(f"No model.deepnet in {target}: only the learning curves were diagnosed.")
            return
        checks = {"model": model}
        if os.path.isfile(config_file):
            checks = _data_and_gradients(_load(config_file, allow_code=allow_code), model, target)
        else:
            _say(f"No config.toml in {target}: the data checks and gradient health are skipped.")
        if report:
            _write_report(target, history=hist, **checks)
        return
    if not target.endswith(".toml"):
        raise UsageFailure(f"{target} is neither a run folder nor a .toml config file"
                           + ("" if os.path.exists(target) else " (it does not exist)"))
    folder = os.path.dirname(os.path.abspath(target))
    checks = _data_and_gradients(_load(target, allow_code=allow_code), None, folder)
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
    x = _fit_input(model, x, "the data")
    data_result = dg.data(x, y, validation_data=validation, model=model if trained else None)
    _say("")
    _say(str(data_result))
    grad_result = dg.gradients(model, x, y, batch_size=min(len(x), loaded.config.fit.batch_size))
    _say("")
    _say(str(grad_result))
    path = os.path.join(folder, "gradients.png")
    grad_result.plot(path)
    _say(f"Plot: {path}")
    return {"model": model, "data": data_result, "gradients": grad_result}


def _write_report(folder: str, **contents) -> None:
    from ..diagnose import report as write_report

    path = write_report(os.path.join(folder, "report.html"), **contents)
    _say(f"Report: {path}")
