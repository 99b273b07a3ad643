"""``deepnet tune`` and ``deepnet lr-find`` (click commands; the work is in :mod:`._tune`)."""

from __future__ import annotations

import os

import click

from ._common import CONTEXT, allow_code_option, check_output_file, load_config_file, overrides, say
from ._errors import UsageFailure

__all__ = ["lr_find_command", "tune"]

# deepnet modules are imported inside the functions of cli/ so that `deepnet --help` starts fast.


def _tune_overrides(trials, workers, timeout, directory, seed, threads, sets) -> list:
    changes = overrides(threads=threads, sets=sets)
    for key, value, option in (("trials", trials, "--trials"), ("workers", workers, "--workers"),
                               ("timeout", timeout, "--timeout"), ("directory", directory, "--directory"),
                               ("seed", seed, "--seed")):
        if value is not None:
            changes.append((("tune", key), value, f"{option} {value}"))
    return changes


def _passed_on(trials, timeout, seed, threads, sets, allow_code) -> tuple:
    """The options an extra worker process gets (the directory and --worker are added)."""
    argv = []
    for option, value in (("--trials", trials), ("--timeout", timeout), ("--seed", seed), ("--threads", threads)):
        if value is not None:
            argv += [option, str(value)]
    for text in sets:
        argv += ["--set", text]
    return (*argv, *(["--allow-code"] if allow_code else []))


@click.command(context_settings=CONTEXT, short_help="Search the [tune] hyperparameters of a config; resumable.")
@click.argument("target", metavar="CONFIG.toml|DIR")
@click.option("--trials", type=click.IntRange(min=1), help="Override tune.trials (counted across runs).")
@click.option("--workers", type=click.IntRange(min=1), help="Override tune.workers (processes on this host).")
@click.option("--timeout", type=click.FloatRange(min=0, min_open=True), metavar="SECONDS",
              help="Override tune.timeout: no new trial starts after this many seconds.")
@click.option("--directory", "-d", metavar="DIR", help="Override tune.directory (default: tuning/<config name>).")
@click.option("--seed", type=click.IntRange(min=0), help="Override tune.seed (the sampler's seed).")
@click.option("--threads", type=click.IntRange(min=1), help="Number of CPU threads for PyTorch.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override any config key (as for train).")
@click.option("--show", is_flag=True, help="Print the trial table of the search (DIR or the config's directory).")
@click.option("--worker", is_flag=True, hidden=True, help="Internal: an extra process started by --workers.")
@allow_code_option
def tune(target, trials, workers, timeout, directory, seed, threads, sets, show, worker, allow_code):
    """Search the hyperparameters named in the [tune] table of CONFIG.toml.

    Each trial trains the config with the drawn values substituted. Everything goes to the
    tuning directory: journal.log (the study: running the command again resumes it),
    best.toml (retrain the best trial with `deepnet train DIR/best.toml`), trials.csv, the
    plots and report.html. With --show, print the table of a finished or running search.
    `deepnet init --tune tune.toml` writes an example config.
    """
    from ._tune import TuneOptions, run_tune
    from ._tune import show as show_table

    if show and os.path.isdir(target):
        show_table(target, say=say)
        return
    if os.path.isdir(target):
        raise UsageFailure(f"{target} is a folder: give a config file, or add --show to print the table of "
                           f"the search in it")
    loaded = load_config_file(target, _tune_overrides(trials, workers, timeout, directory, seed, threads, sets),
                              allow_code)
    if show:
        tc = loaded.config.tune
        stem = os.path.splitext(os.path.basename(target))[0]
        show_table((tc.directory if tc and tc.directory else None) or os.path.join("tuning", stem), say=say)
        return
    say(f"deepnet tune: {loaded.filename}")
    run_tune(loaded, TuneOptions(worker=worker, argv=_passed_on(trials, timeout, seed, threads, sets, allow_code)),
             say=say)


@click.command("lr-find", context_settings=CONTEXT, short_help="Learning-rate range test of a config's model.")
@click.argument("config", metavar="CONFIG.toml")
@click.option("--output", "-o", default="lr_find.png", show_default=True, help="The plot (.png, .svg or .pdf).")
@click.option("--min-lr", type=click.FloatRange(min=0, min_open=True), default=1e-7, show_default=True,
              help="First learning rate of the sweep.")
@click.option("--max-lr", type=click.FloatRange(min=0, min_open=True), default=10.0, show_default=True,
              help="Last learning rate of the sweep.")
@click.option("--steps", type=click.IntRange(min=10), default=100, show_default=True,
              help="Training steps (batches of fit.batch_size) of the sweep.")
@click.option("--set", "sets", multiple=True, metavar="KEY=VALUE", help="Override a config key (as for train).")
@allow_code_option
def lr_find_command(config, output, min_lr, max_lr, steps, sets, allow_code):
    """Sweep the learning rate of CONFIG.toml's model exponentially and suggest one.

    Trains the untrained model for up to --steps batches while the learning rate grows from
    --min-lr to --max-lr (the config's schedule is set aside), stops when the smoothed loss
    exceeds 4x its best, prints the suggestion and its rule, and writes the plot.
    """
    from ._config import DELETE
    from ._tune import run_lr_find

    if max_lr <= min_lr:
        raise UsageFailure(f"--max-lr ({max_lr:g}) must be larger than --min-lr ({min_lr:g})")
    check_output_file(output, "--output", (".png", ".svg", ".pdf"))
    changes = [*overrides(sets=sets), (("compile", "schedule"), DELETE, "lr-find")]
    loaded = load_config_file(config, changes, allow_code)
    say(f"deepnet lr-find: {loaded.filename}")
    run_lr_find(loaded, output, min_lr, max_lr, steps, say=say)
