"""``deepnet explain``: attributions of a saved model (``deepnet.explain.attribute``), their
pictures and summary, and optionally the trust checks (``deepnet.explain.check``)."""

from __future__ import annotations

import json
import os

import click

from ._common import CONTEXT, fit_input, load_model_file, say, written
from ._errors import UsageFailure
from ._robust_commands import _data, _library_call, _output_dir

__all__ = ["explain"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.

RESULT_FILE = "explanations.json"
TOP = 5


def _methods(text: str) -> list[str]:
    from ..explain import method_names
    from ._catalogue import suggest

    aliases = {"ig": "integrated_gradients", "gradcam": "grad_cam"}
    valid = method_names()
    names = []
    for raw in [n.strip() for n in text.split(",") if n.strip()] or [text]:
        key = raw.lower().replace("-", "_")
        key = aliases.get(key, key)
        if key not in valid:
            raise UsageFailure(f"--method {text}: unknown method {raw!r}; choose from {', '.join(valid)} "
                               f"(or ig, gradcam).{suggest(key, [*valid, *aliases])}")
        if key not in names:
            names.append(key)
    return names


def _summary(a, error) -> dict:
    """Per method: shape, mean |attribution| per feature (channels summed), each sample's top
    features (index tuples in one sample's axes) and the completeness error when additive."""
    import numpy as np

    per_feature = np.abs(a).sum(-1) if a.ndim > 2 else np.abs(a)
    flat = np.abs(a).reshape(len(a), -1)
    top = np.argsort(-flat, axis=1, kind="stable")[:, :TOP]
    d = {"shape": list(a.shape), "mean_abs_per_feature": per_feature.mean(0).round(6).tolist(),
         "top_features": [[list(map(int, np.unravel_index(i, a.shape[1:]))) for i in row] for row in top],
         "sum_per_sample": a.reshape(len(a), -1).sum(1).round(6).tolist()}
    if error is not None:
        d["completeness_error"] = {"mean": float(np.mean(error)), "max": float(np.max(error))}
    return d


def _picture_shape(model, x, kind: str):
    """``(kind, shape)`` to draw ``x`` in: a flat input that the model's first layer reshapes
    (MNIST-1D's ``Reshape((-1, 1))``) is drawn in the reshaped layout, as a signal or an image."""
    import numpy as np

    layers = getattr(model, "layers", None) or [None]
    target = getattr(layers[0], "target_shape", None)
    if x.ndim != 2 or target is None or kind not in ("auto", "signal", "image"):
        return kind, x.shape
    try:
        shape = np.empty(x.shape[1:]).reshape(target).shape
    except ValueError:
        return kind, x.shape
    if kind == "auto":
        kind = {2: "signal", 3: "image"}.get(len(shape), "auto")
    return kind, (len(x), *shape)


def _predicted(model, x):
    import numpy as np

    scores = np.asarray(model.predict(x, verbose=0))
    return scores.argmax(-1) if scores.ndim == 2 and scores.shape[1] > 1 else None


@click.command(context_settings=CONTEXT, short_help="Attributions (why the model decided) and their trust checks.")
@click.argument("target", metavar="RUN_DIR|MODEL.deepnet")
@click.option("--data", "data_spec", metavar="NAME|PATH",
              help="A built-in data set or a file (default for a run folder: its config's [data]).")
@click.option("--split", type=click.Choice(["test", "train", "all"]), default="test", show_default=True)
@click.option("--method", "method_text", default="integrated_gradients", show_default=True,
              metavar="NAME[,NAME...]", help="Attribution methods, comma-separated (ig = integrated_gradients).")
@click.option("--samples", type=click.IntRange(min=1), default=8, show_default=True,
              help="Explain a seeded random subset of this many samples.")
@click.option("--check", "with_check", is_flag=True,
              help="Also run the trust checks (randomisation, deletion/insertion, completeness) per method.")
@click.option("--check-samples", type=click.IntRange(min=2), default=32, show_default=True,
              help="Samples the checks run on.")
@click.option("--kind", type=click.Choice(["auto", "image", "signal", "tabular", "tokens"]), default="auto",
              show_default=True, help="How to draw the inputs (auto: from their shape and the model's first layer).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True)
@click.option("--output", "-o", metavar="DIR",
              help="Folder for the files (default: the run folder, or the model file's folder).")
def explain(target, data_spec, split, method_text, samples, with_check, check_samples, kind, seed, output):
    """Explain a saved model's decisions (a run folder or a .deepnet file).

    Writes explain_<method>.png (one panel per sample, predicted and true class in the titles)
    and explanations.json (per method: shape, mean |attribution| per feature, each sample's top
    features, completeness error of the additive methods; with --check the verdicts of
    deepnet.explain.check) into the run folder (or --output). `deepnet diagnose RUN_DIR` shows
    them in report.html.

    \b
    Examples:
      deepnet explain runs/2026-01-01_12-00-00 --method ig,occlusion --check
      deepnet explain model.deepnet --data digits --method saliency --samples 4
    """
    import numpy as np

    from .. import explain as ex

    methods = _methods(method_text)
    folder = _output_dir(target, output)
    model = load_model_file(target, compile=False)
    x_all, y_all, _, source = _data(target, data_spec, split)
    order = np.random.default_rng(seed).permutation(len(x_all))
    keep = np.sort(order[:samples])
    x = fit_input(model, x_all[keep], source).astype(np.float32, copy=False)
    y = y_all[keep]
    say(f"deepnet explain: {target} on {source} ({len(x)} samples; {', '.join(methods)})")
    predicted = _predicted(model, x)
    kind, shape = _picture_shape(model, x, kind)
    payload = {"data": source, "split": split, "samples": len(x), "seed": seed, "indices": keep.tolist(),
               "labels": y.tolist(), "predicted": None if predicted is None else predicted.tolist(), "methods": {}}
    for name in methods:
        additive = name in ("integrated_gradients", "deeplift", "deeplift_shap")
        out = _library_call(ex.attribute, model, x, name, return_error=additive)
        a, error = out if additive else (out, None)
        payload["methods"][name] = _summary(a, error)
        png = os.path.join(folder, f"explain_{name}.png")
        ex.plot(x.reshape(shape), a.reshape(shape), y=y, predicted=predicted, kind=kind, path=png, title=name)
        comp = "" if error is None else f"; completeness error {100 * float(np.mean(error)):.2f}%"
        say(f"{name}: wrote {png}{comp}")
    if with_check:
        keep_c = np.sort(order[:check_samples])
        xc = fit_input(model, x_all[keep_c], source).astype(np.float32, copy=False)
        result = _library_call(ex.check, model, xc, methods=methods, seed=seed)
        say("")
        say(str(result))
        payload["check"] = result.to_dict()
    path = os.path.join(folder, RESULT_FILE)
    with written(path, "w") as f:
        f.write(json.dumps(payload, indent=2) + "\n")
    say(f"Wrote {path}")
