"""``deepnet attack`` and ``deepnet robust-check``: adversarial robustness of a saved model
(``deepnet.robust.evaluate`` and ``deepnet.robust.check``) on a data set, from the command line."""

from __future__ import annotations

import json
import os

import click

from ._common import (
    CONTEXT,
    fit_input,
    load_config_file,
    load_model_file,
    say,
    written,
)
from ._errors import UsageFailure, one_line

__all__ = ["attack", "robust_check"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.

ATTACK_NAMES = ("fgsm", "pgd", "apgd", "apgd-t", "square", "cw_l2", "standard")
RESULT_FILE, PLOT_FILE, CHECK_FILE = "robustness.json", "robustness.png", "robust_check.json"


def _floats(text: str, option: str) -> list[float]:
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise UsageFailure(f"{option} expects numbers separated by commas such as 0.05,0.1,0.2; "
                           f"received {text!r}") from None
    if not values or any(not v > 0 for v in values):
        raise UsageFailure(f"{option} expects positive numbers such as 0.05,0.1,0.2; received {text!r}")
    return values


def _attacks(text: str) -> list[str]:
    from ._catalogue import suggest

    names = [n.strip().lower().replace("_t", "-t") for n in text.split(",") if n.strip()]
    for name in names or [text]:
        if name not in ATTACK_NAMES:
            raise UsageFailure(f"--attack {text}: unknown attack {name!r}; choose from "
                               f"{', '.join(ATTACK_NAMES)}.{suggest(name, ATTACK_NAMES)}")
    return names


def _data(target: str, data_spec: str | None, split: str):
    """``(x, y, x_train, source)`` from ``--data`` or the run folder's config.toml."""
    import numpy as np

    if data_spec is not None:
        from ._model_commands import _data_from_spec

        data, source = _data_from_spec(data_spec), data_spec
    else:
        config = os.path.join(target, "config.toml") if os.path.isdir(target) else None
        if config is None or not os.path.isfile(config):
            raise UsageFailure(f"--data is needed: {target} is not a run folder with a config.toml to take the "
                               f"data from (e.g. --data digits or --data test.npz)")
        from ._data import load_data

        data, source = load_data(load_config_file(config, builds_model=False)), f"{config} [data]"
    x, y = (data.x_test, data.y_test) if split == "test" else (data.x_train, data.y_train)
    if split == "all":
        x, y = np.concatenate([data.x_train, data.x_test]), np.concatenate([data.y_train, data.y_test])
    if len(x) == 0:
        raise UsageFailure(f"the {split} split of {source} is empty")
    if y.ndim != 1 or not np.issubdtype(y.dtype, np.integer):
        raise UsageFailure(f"{source}: attacks need integer class labels; the labels have shape {y.shape} and "
                           f"type {y.dtype}")
    return x, y, data.x_train, source


def _threat(clip_text: str, relative: bool | None, x, x_train):
    """``(clip, relative, description)`` from ``--clip`` and ``--relative/--absolute``."""
    import numpy as np

    text = clip_text.strip().lower()
    if text == "auto":
        clip = (0.0, 1.0) if float(x.min()) >= 0 and float(x.max()) <= 1 else None
    elif text == "none":
        clip = None
    else:
        bounds = text.split(",")
        try:
            clip = (float(bounds[0]), float(bounds[1])) if len(bounds) == 2 else None
        except ValueError:
            clip = None
        if clip is None or not clip[0] < clip[1]:
            raise UsageFailure(f"--clip expects auto, none or LOW,HIGH such as 0,1; received {clip_text!r}")
    if relative is None:
        relative = clip is None
    scale = False
    if relative:
        std = x_train.reshape(len(x_train), *x.shape[1:]).std(0) if len(x_train) > 1 else np.ones(x.shape[1:])
        scale = np.where(std > 0, std, std[std > 0].mean() if (std > 0).any() else 1.0).astype(np.float32)
    where = "unbounded inputs" if clip is None else f"inputs in [{clip[0]:g}, {clip[1]:g}]"
    unit = "in units of each feature's std over the training data" if relative else "in the units of the inputs"
    return clip, scale, f"{where}; eps {unit}"


def _output_dir(target: str, output: str | None) -> str:
    folder = output or (target if os.path.isdir(target) else os.path.dirname(os.path.abspath(target)))
    if os.path.exists(folder) and not os.path.isdir(folder):
        raise UsageFailure(f"--output {folder} is a file; give a folder")
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as e:
        raise UsageFailure(f"--output {folder}: cannot create the folder ({e.strerror or one_line(e)})") from e
    if not os.access(folder, os.W_OK):
        raise UsageFailure(f"--output {folder}: no permission to write there; choose another --output")
    return folder


class _Job:
    """What ``attack`` and ``robust-check`` share: the model, the data subset and the threat model."""

    def __init__(self, target, data_spec, split, samples, clip_text, relative, norm, seed, output):
        import numpy as np

        self.target = target
        self.folder = _output_dir(target, output)
        self.model = load_model_file(target, compile=False)
        x, y, x_train, self.source = _data(target, data_spec, split)
        if samples is not None and samples < len(x):
            keep = np.sort(np.random.default_rng(seed).permutation(len(x))[:samples])
            x, y = x[keep], y[keep]
        self.x, self.y = fit_input(self.model, x, self.source).astype(np.float32, copy=False), y
        self.clip, self.relative, self.threat = _threat(clip_text, relative, self.x, x_train)
        self.norm, self.seed = norm, seed

    def header(self, what: str) -> None:
        say(f"deepnet {what}: {self.target} on {self.source} ({len(self.x)} samples, L-{self.norm}; {self.threat})")

    def write_json(self, name: str, payload: dict) -> str:
        path = os.path.join(self.folder, name)
        with written(path, "w") as f:
            f.write(json.dumps(payload, indent=2) + "\n")
        return path


def _library_call(fn, *args, **kwargs):
    """Call a ``deepnet.robust`` function; its argument errors become one ``error:`` line (exit 2)."""
    try:
        return fn(*args, **kwargs)
    except (ValueError, TypeError) as e:
        raise UsageFailure(one_line(e)) from e


def _threat_options(function):
    for option in reversed([
        click.option("--data", "data_spec", metavar="NAME|PATH",
                     help="A built-in data set or a file (default for a run folder: its config's [data])."),
        click.option("--split", type=click.Choice(["test", "train", "all"]), default="test", show_default=True),
        click.option("--norm", type=click.Choice(["inf", "2"]), default="inf", show_default=True,
                     help="The budget's norm: L-inf (every feature by at most eps) or L2."),
        click.option("--clip", "clip_text", default="auto", show_default=True, metavar="auto|none|LOW,HIGH",
                     help="The valid input range. auto: 0,1 when the data lies in [0, 1], else none (unbounded)."),
        click.option("--relative/--absolute", default=None,
                     help="eps in units of each feature's std over the training data (default for unbounded "
                          "inputs) or in the inputs' own units (default with a clip range)."),
        click.option("--samples", type=click.IntRange(min=1), default=1000, show_default=True,
                     help="Attack a seeded random subset of this many samples."),
        click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True),
        click.option("--output", "-o", metavar="DIR",
                     help="Folder for the files (default: the run folder, or the model file's folder)."),
    ]):
        function = option(function)
    return function


# -------------------------------------------------------------------------------------- attack
@click.command(context_settings=CONTEXT, short_help='Robust accuracy of a saved model under adversarial attacks.')
@click.argument("target", metavar="RUN_DIR|MODEL.deepnet")
@click.option("--attack", "attack_text", default="pgd", show_default=True, metavar="NAME[,NAME...]",
              help=f"Attacks: {', '.join(ATTACK_NAMES)} (standard = APGD-CE + APGD-T + Square, worst case).")
@click.option("--eps", "eps_text", default="0.05,0.1,0.2", show_default=True, metavar="E[,E...]",
              help="Budgets, comma-separated.")
@click.option("--targeted", type=click.Choice(["random", "least-likely"]),
              help="Targeted attack toward a random wrong class or the least likely class.")
@click.option("--steps", type=click.IntRange(min=1), help="Iterations of the iterative attacks (their default if unset).")
@click.option("--batch-size", type=click.IntRange(min=1), default=256, show_default=True)
@click.option("--check", "with_check", is_flag=True,
              help="Also run the gradient-masking checks at the largest eps (as `deepnet robust-check`).")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@_threat_options
def attack(target, attack_text, eps_text, targeted, steps, batch_size, with_check, quiet, data_spec, split, norm,
           clip_text, relative, samples, seed, output):
    """Attack a saved model (a run folder or a .deepnet file) and measure its robust accuracy.

    Prints the table (clean accuracy; robust accuracy, attack success rate and mean
    perturbation per attack and eps) and writes robustness.json and robustness.png (accuracy
    vs eps) into the run folder (or --output). `deepnet diagnose RUN_DIR` shows them in
    report.html.

    \b
    Examples:
      deepnet attack runs/2026-01-01_12-00-00 --attack fgsm,pgd --eps 0.1,0.25,0.5
      deepnet attack model.deepnet --data digits --attack standard --eps 0.05,0.1 --check
    """
    from .. import robust

    attacks, eps = _attacks(attack_text), _floats(eps_text, "--eps")
    if targeted and any(a in ("apgd-t", "standard") for a in attacks):
        raise UsageFailure("--targeted cannot be used with apgd-t or standard (they choose their own targets)")
    job = _Job(target, data_spec, split, samples, clip_text, relative, norm, seed, output)
    job.header("attack")
    kwargs = {a: {"steps": steps} for a in attacks if a not in ("fgsm", "square") and steps}
    if steps and "square" in attacks:
        kwargs["square"] = {"steps": steps}
    result = _library_call(
        robust.evaluate, job.model, job.x, job.y, attacks, eps=eps, norm=norm, clip=job.clip, relative=job.relative,
        targeted=bool(targeted), target=(targeted or "").replace("-", "_") or None, attack_kwargs=kwargs or None,
        batch_size=batch_size, verbose=0 if quiet else 1, seed=seed)
    if quiet:
        say(result.table())
    settings = {"attacks": attacks, "eps": eps, "norm": norm, "targeted": targeted, "steps": steps,
                "threat": job.threat, "data": job.source, "split": split, "seed": seed}
    path = job.write_json(RESULT_FILE, {**result.to_dict(), "settings": settings})
    plot = result.plot(os.path.join(job.folder, PLOT_FILE))
    say(f"Wrote {path} and {plot}")
    if with_check:
        _run_check(job, max(eps), None)


# -------------------------------------------------------------------------------- robust-check
def _run_check(job: _Job, eps: float, steps: int | None) -> None:
    import numpy as np

    from .. import robust

    clip, eps_abs = job.clip, eps
    if job.relative is not False:  # check() takes an absolute budget: the median feature std converts it
        eps_abs = eps * float(np.median(job.relative))
        say(f"robust-check: eps {eps:g} (relative) = {eps_abs:.4g} in the inputs' units (median feature std)")
    result = _library_call(robust.check, job.model, job.x, job.y, eps=eps_abs, norm=job.norm, clip=clip,
                           seed=job.seed, **({"steps": steps} if steps else {}))
    say("")
    say(str(result))
    path = job.write_json(CHECK_FILE, {**result.to_dict(), "settings": {"threat": job.threat, "data": job.source}})
    say(f"Wrote {path}")


@click.command("robust-check", context_settings=CONTEXT,
               short_help='Gradient-masking checks: can the attacks on this model be trusted?')
@click.argument("target", metavar="RUN_DIR|MODEL.deepnet")
@click.option("--eps", type=float, default=0.1, show_default=True, help="The budget the checks run at.")
@click.option("--steps", type=click.IntRange(min=1), help="PGD steps of the battery (default 20).")
@_threat_options
def robust_check(target, eps, steps, data_spec, split, norm, clip_text, relative, samples, seed, output):
    """Run the gradient-masking checks (deepnet.robust.check) on a saved model.

    Each check gets a verdict (pass / FAIL / skipped) and, when it fails, a remedy: accuracy
    must fall toward 0 as eps grows, iterative attacks must beat FGSM, more steps, the margin
    loss, Square, random noise and a transfer attack must not beat PGD. A FAIL means the
    gradient attacks underestimate the attacker (e.g. defensive distillation, input
    quantization). Writes robust_check.json into the run folder (or --output).
    """
    if not eps > 0:
        raise UsageFailure(f"--eps expects a positive number; received {eps:g}")
    job = _Job(target, data_spec, split, min(samples, 500), clip_text, relative, norm, seed, output)
    job.header("robust-check")
    _run_check(job, eps, steps)
