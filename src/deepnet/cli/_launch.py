"""``deepnet train CONFIG --nproc N``: the same command again under ``torch.distributed.run``
(torchrun's own launcher, one process per device, a local rendezvous), without ``--nproc``."""

from __future__ import annotations

import os
import sys

from ._errors import CLIError

__all__ = ["launch", "train_argv"]

# deepnet and torch are imported inside the functions of cli/ so that `deepnet --help` starts fast.


def train_argv(config, epochs, batch_size, seed, output, data, threads, sets, quiet, allow_code) -> list[str]:
    """The arguments of ``deepnet train`` that re-create this call (without ``--nproc``).

    >>> train_argv("a.toml", 3, None, None, None, None, None, ("fit.shuffle=false",), True, False)
    ['train', 'a.toml', '--epochs', '3', '--set', 'fit.shuffle=false', '--quiet']
    """
    argv = ["train"] + ([os.path.abspath(config)] if config and os.path.exists(config) else [config] if config else [])
    for flag, value in (("--epochs", epochs), ("--batch-size", batch_size), ("--seed", seed),
                        ("--output", output), ("--data", data), ("--threads", threads)):
        if value is not None:
            argv += [flag, str(value)]
    for item in sets or ():
        argv += ["--set", item]
    return argv + (["--quiet"] if quiet else []) + (["--allow-code"] if allow_code else [])


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``python -m deepnet <argv>`` in ``nproc`` processes through torchrun (standalone
    rendezvous on this machine); returns 0, or raises ``CLIError`` naming the failed rank."""
    from torch.distributed.elastic.multiprocessing.errors import ChildFailedError
    from torch.distributed.run import get_args_parser, run

    args = get_args_parser().parse_args(["--standalone", "--nproc-per-node", str(nproc), "--module", "deepnet", *argv])
    try:
        run(args)
    except ChildFailedError as e:
        ranks = ", ".join(f"rank {r} (exit code {f.exitcode})" for r, f in sorted(e.failures.items()))
        raise CLIError(f"distributed training failed: {ranks}; the messages of the failed ranks are above.") from None
    sys.stdout.flush()
    return 0
