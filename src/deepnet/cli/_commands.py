"""The ``deepnet`` command-line interface (click): train, init, check, summary, plot,
evaluate, predict, export, info, diagnose, tune, lr-find."""

from __future__ import annotations

import json
import os

import click

from ._common import (
    CONTEXT,
    allow_code_option,
    check_output_file,
    load_config_file,
    model_from_loaded,
    model_from_target,
    overrides,
    say,
    written,
)
from ._diagnose_command import diagnose
from ._errors import EXIT_OK, EXIT_USAGE, ConfigError, UsageFailure, one_line
from ._explain_command import explain
from ._model_commands import evaluate, export, predict
from ._robust_commands import attack, robust_check
from ._tune_command import lr_find_command, tune

__all__ = ["cli"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.


def _version(ctx, _param, value):
    if not value or ctx.resilient_parsing:
        return
    from ..version import __version__

    click.echo(f"deepnet {__version__}")
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
      deepnet init --tune tune.toml  an example with a [tune] table; search it with `deepnet tune tune.toml`

    Exit codes: 0 success, 1 runtime failure, 2 usage, config or input error.
    """


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
@click.option("--nproc", type=click.IntRange(min=1), help="Train data-parallel in N processes (torchrun; one per device).")
@allow_code_option
def train(config, epochs, batch_size, seed, output, data, threads, sets, quiet, allow_code, nproc=None):
    """Train the experiment described by CONFIG.toml (default: a CNN on MNIST-1D).

    Writes a new run folder <output>/<timestamp>/ with model.deepnet, history.csv,
    learning_curves.png, config.toml (the resolved config) and metrics.json.
    """
    from ._train import train as run_training

    if nproc:
        from ._launch import launch, train_argv

        launch(nproc, train_argv(config, epochs, batch_size, seed, output, data, threads, sets, quiet, allow_code))
        return
    loaded = load_config_file(config, overrides(epochs, batch_size, seed, output, data, threads, sets), allow_code)
    say(f"deepnet train: {loaded.filename}")
    run_training(loaded, say=say, quiet=quiet)


# ---------------------------------------------------------------------------------------- init
@cli.command(context_settings=CONTEXT, short_help='Write a commented example config.')
@click.argument("path", required=False, default=None)
@click.option("--force", "-f", is_flag=True, help="Overwrite PATH if it exists.")
@click.option("--tune", "with_tune", is_flag=True,
              help="Write an example with a [tune] table instead (an MLP on MNIST-1D; run it with `deepnet tune`).")
def init(path, force, with_tune):
    """Write a commented example config to PATH (default: deepnet.toml, with --tune: tune.toml).

    The example trains out of the box (the default CNN on MNIST-1D); edit it for your data.
    With --tune: an MLP on MNIST-1D with a [tune] table over the eight classic hyperparameters.
    """
    from ._defaults import DEFAULT_CONFIG_TOML, TUNE_CONFIG_TOML

    path = path or ("tune.toml" if with_tune else "deepnet.toml")

    if os.path.isdir(path):
        raise UsageFailure(f"{path} is a folder; give a file name such as {os.path.join(path, 'deepnet.toml')}")
    if os.path.exists(path) and not force:
        raise UsageFailure(f"{path} already exists; use --force to overwrite it")
    check_output_file(path, "PATH")
    with written(path, "w") as f:
        f.write(TUNE_CONFIG_TOML if with_tune else DEFAULT_CONFIG_TOML)
    if with_tune:
        say(f"Wrote {path}. Search it with: deepnet tune {path} (train one config with: deepnet train {path})")
    else:
        say(f"Wrote {path}. Train it with: deepnet train {path}")


# --------------------------------------------------------------------------------------- check
@cli.command(context_settings=CONTEXT, short_help='Validate a config and build its model; list every problem.')
@click.argument("config", metavar="CONFIG.toml")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config key (as for train).")
@allow_code_option
def check(config, sets, allow_code):
    """Validate CONFIG.toml and build its model without training; lists every problem.

    A model factory ([model] factory) is never called: with --allow-code its module is
    imported to check that the function exists; without it the config is refused.
    """
    try:
        loaded = load_config_file(config, overrides(sets=sets), allow_code)
    except ConfigError as e:
        for line in e.lines():
            click.echo(f"error: {line}", err=True)
        return EXIT_USAGE
    if loaded.config.model.factory is not None:
        from ._build import build_loss, build_optimizer, load_factory

        load_factory(loaded)
        build_optimizer(loaded, total_steps=1)
        build_loss(loaded)
        say(f"{config}: OK (the model factory {loaded.config.model.factory} exists; check does not call it)")
        return EXIT_OK
    model = model_from_loaded(loaded, compile=True)
    say(f"{config}: OK ({len(model.layers)} layers, {model.count_params():,} parameters)")
    return EXIT_OK


# ------------------------------------------------------------------------------------- summary
@cli.command(context_settings=CONTEXT, short_help='Layer table of a model file, run folder or config.')
@click.argument("target", metavar="CONFIG.toml|MODEL.deepnet")
@click.option("--show-trainable", is_flag=True, help="Add a column telling whether each layer is trainable.")
@click.option("--expand-nested", is_flag=True, help="List the layers of nested models.")
@allow_code_option
def summary(target, show_trainable, expand_nested, allow_code):
    """Print the layer table of a saved model, a run folder or a config's model."""
    model = model_from_target(target, allow_code=allow_code)
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
@allow_code_option
def plot(target, output, rankdir, no_shapes, show_params, show_activations, dpi, allow_code):
    """Draw the layer graph of a saved model, a run folder or a config's model."""
    from ..visualization import plot_model

    check_output_file(output, "--output")
    model = model_from_target(target, allow_code=allow_code)
    try:
        path = plot_model(model, to_file=output, show_shapes=not no_shapes, rankdir=rankdir.upper(), dpi=dpi,
                          show_params=show_params, show_layer_activations=show_activations)
    except (ValueError, OSError) as e:  # a bad option, or the file cannot be written
        raise UsageFailure(one_line(e)) from e
    say(f"Wrote {path}")


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

    from ..version import __version__

    cuda = torch.cuda.is_available()
    mps = bool(getattr(torch.backends, "mps", None) and torch.backends.mps.is_available())
    facts = {
        "deepnet": __version__, "python": platform.python_version(), "platform": platform.platform(),
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
        say(json.dumps(facts, indent=2))
        return
    for k, v in facts.items():
        if k == "packages":
            continue
        if isinstance(v, list):
            v = ", ".join(v) or "none"
        say(f"{k + ':':<24}{v}")
    say("optional packages:")
    for name, version in packages.items():
        say(f"  {name + ':':<22}{version or 'not installed'}")



for _command in (evaluate, predict, export, diagnose, tune, lr_find_command, attack, robust_check, explain):
    cli.add_command(_command)
