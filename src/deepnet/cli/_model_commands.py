"""The commands that run a saved model: ``evaluate``, ``predict``, ``export``."""

from __future__ import annotations

import csv
import json
import os

import click

from ._checks import MISMATCH, label_range_problem, output_width
from ._common import (
    CONTEXT,
    check_data_spec,
    check_output_file,
    fit_input,
    is_builtin,
    load_model_file,
    say,
    written,
)
from ._errors import CLIError, UsageFailure, one_line

__all__ = ["evaluate", "export", "predict"]

_CSV_SUFFIXES = (".csv", ".tsv", ".txt")

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.


# ------------------------------------------------------------------------------------ evaluate
@click.command(context_settings=CONTEXT, short_help='Loss and metrics of a saved model on a data set.')
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

    model = load_model_file(model_path, compile=True)
    data = _data_from_spec(data_spec, label=label, test_split=test_split, image_size=image_size)
    if split == "test":
        x, y = data.x_test, data.y_test
    elif split == "train":
        x, y = data.x_train, data.y_train
    else:
        x, y = np.concatenate([data.x_train, data.x_test]), np.concatenate([data.y_train, data.y_test])
    if len(x) == 0:
        raise UsageFailure(f"the {split} split of {data_spec} is empty")
    x = fit_input(model, x, data_spec)
    try:
        problem = label_range_problem([y], output_width(model, x))
        if problem is None:
            results = _scores(model, model_path, x, y, batch_size)
    except MISMATCH as e:
        raise UsageFailure(f"the model does not fit the data {data_spec}: {one_line(e)}") from e
    if problem is not None:
        raise UsageFailure(f"the model {model_path} does not fit the data {data_spec}: {problem}")
    results["samples"] = len(x)
    if as_json:
        say(json.dumps(results))
    else:
        say(f"{model_path} on {data_spec} ({split}, {len(x)} samples): "
             + ", ".join(f"{k} {v:.4f}" for k, v in results.items() if k != "samples"))


def _scores(model, model_path: str, x, y, batch_size: int) -> dict:
    """The compiled loss and metrics; accuracy for a model saved without a compile config."""
    import numpy as np

    if getattr(model, "compiled", False):
        results = model.evaluate(x, y, batch_size=batch_size, verbose=0, return_dict=True)
        return {k: float(v) for k, v in results.items()}
    pred = model.predict(x, batch_size=batch_size, verbose=0)
    if pred.ndim != 2 or y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise UsageFailure(f"{model_path} was saved without a compile config (no loss/metrics) and its outputs are "
                           f"not class scores: cannot evaluate it")
    return {"accuracy": float((pred.argmax(-1) == y).mean())}


def _parse_size(text: str):
    try:
        h, w = text.lower().split("x")
        return int(h), int(w)
    except ValueError:
        raise UsageFailure(f"--image-size expects HxW such as 64x64; received {text!r}") from None


def _data_from_spec(spec: str, label="label", test_split=0.2, image_size="64x64"):
    from ._data import load_named_or_path

    if is_builtin(spec):
        return load_named_or_path(spec.strip().lower().replace("-", "_"), None)
    check_data_spec(spec)
    lab = int(label) if label.lstrip("-").isdigit() else label
    return load_named_or_path(None, spec, label=lab, test_split=test_split, image_size=_parse_size(image_size))


# ------------------------------------------------------------------------------------- predict
def _npz_array(data, path: str, key: str | None):
    """The array ``key`` of an opened .npz file (default: x, x_test, inputs or the only array)."""
    from ._catalogue import suggest

    names = list(data.files)
    if not names:
        raise UsageFailure(f"{path} holds no arrays")
    if key is None:
        key = next((k for k in ("x", "x_test", "inputs") if k in names), names[0] if len(names) == 1 else None)
        if key is None:
            raise UsageFailure(f"{path} holds several arrays ({', '.join(names)}): choose the input with --key")
    elif key not in names:
        raise UsageFailure(f"{path} has no array {key!r} (--key {key}).{suggest(key, names)} "
                           f"Arrays in it: {', '.join(names)}")
    return data[key]


def _read_inputs(path: str, key: str | None, label: str | None):
    import numpy as np

    if not os.path.exists(path):
        raise UsageFailure(f"input file {path} does not exist")
    if os.path.isdir(path):
        raise UsageFailure(f"{path} is a folder; expected a .npy, .npz or .csv file")
    lower = path.lower()
    if key is not None and not lower.endswith(".npz"):
        raise UsageFailure(f"--key chooses an array of a .npz file; {path} is not one (leave out --key)")
    if label is not None and not lower.endswith(_CSV_SUFFIXES):
        raise UsageFailure(f"--label leaves out a column of a .csv file; {path} is not one (leave out --label)")
    try:
        if lower.endswith(".npy"):
            return np.load(path, allow_pickle=False)
        if lower.endswith(".npz"):
            with np.load(path, allow_pickle=False) as data:
                return _npz_array(data, path, key)
    except (ValueError, OSError, EOFError) as e:
        raise UsageFailure(f"cannot read {path} ({one_line(e)}): expected a NumPy file of numbers") from e
    if lower.endswith(_CSV_SUFFIXES):
        from ..datasets import read_csv_features

        column = int(label) if label is not None and label.lstrip("-").isdigit() else label
        try:
            return read_csv_features(path, label=column, delimiter="\t" if lower.endswith(".tsv") else ",")
        except (ValueError, TypeError, OSError) as e:
            raise UsageFailure(one_line(e)) from e
    raise UsageFailure(f"cannot read {path}: expected a .npy, .npz or .csv file")


def _numeric_inputs(x, path: str):
    """``x`` as float32 numbers with at least one sample."""
    import numpy as np

    if x.ndim == 0 or len(x) == 0:
        raise UsageFailure(f"{path} holds no samples")
    if not (np.issubdtype(x.dtype, np.number) or x.dtype == np.bool_) or np.issubdtype(x.dtype, np.complexfloating):
        raise UsageFailure(f"{path} holds values of type {x.dtype}; the model needs real numbers")
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)


@click.command(context_settings=CONTEXT, short_help='Predictions of a saved model for .npy/.npz/.csv inputs.')
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

    check_output_file(output, "--output", (".csv", ".npy"))
    x = _numeric_inputs(_read_inputs(input_path, key, label), input_path)
    model = load_model_file(model_path, compile=False)
    try:
        x = fit_input(model, x, input_path)
    except UsageFailure as e:
        if input_path.lower().endswith(_CSV_SUFFIXES) and label is None:
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
        with written(output, "wb") as f:
            np.save(f, pred)
    else:
        flat = pred.reshape(len(pred), -1)
        with written(output, "w") as f:
            writer = csv.writer(f)
            classes = flat.shape[1] > 1 and pred.ndim == 2
            writer.writerow((["class"] if classes else []) + [f"output_{i}" for i in range(flat.shape[1])])
            for row in flat:
                writer.writerow(([int(row.argmax())] if classes else []) + [f"{v:.7g}" for v in row])
    say(f"Wrote {len(pred)} predictions to {output}")


# -------------------------------------------------------------------------------------- export
@click.command(context_settings=CONTEXT, short_help='Export a saved model to ONNX or torch.export.')
@click.argument("model_path", metavar="MODEL.deepnet")
@click.option("--format", "fmt", type=click.Choice(["onnx", "torch"]), default="onnx", show_default=True,
              help="onnx (.onnx, needs the onnx package) or torch (a torch.export program, .pt2).")
@click.option("--output", "-o", help="Output file (default: MODEL with the format's extension).")
@click.option("--opset", type=click.IntRange(min=7), default=18, show_default=True, help="ONNX opset version.")
def export(model_path, fmt, output, opset):
    """Export a saved model for inference outside deepnet (ONNX or torch.export)."""
    if output is None:
        output = os.path.splitext(model_path)[0] + (".onnx" if fmt == "onnx" else ".pt2")
    check_output_file(output, "--output")
    model = load_model_file(model_path, compile=False)
    kwargs = {"opset_version": opset} if fmt == "onnx" else {}
    try:
        path = model.export(output, format=fmt, **kwargs)
    except ImportError as e:
        raise CLIError(f"export to {fmt} needs an optional package: {one_line(e)}") from e
    except (ValueError, OSError) as e:  # a bad option, or the file cannot be written
        raise UsageFailure(one_line(e)) from e
    say(f"Wrote {path or output}")
