"""The ``deepnet`` command: ``deepnet train``, ``init``, ``check``, ``summary``, ``plot``,
``evaluate``, ``predict``, ``export``, ``info``, ``diagnose``, ``tune``, ``lr-find`` (see
``docs/cli.md``).

Run it as ``deepnet ...`` (console script) or ``python -m deepnet ...``. :func:`main` returns
the exit code: 0 success, 1 runtime failure, 2 usage/config/input error. Errors are printed
as one ``error: ...`` line on stderr; ``--debug`` (anywhere on the command line, or the
environment variable ``DEEPNET_DEBUG=1``) also prints the traceback.
"""

from __future__ import annotations

import os
import sys
import traceback

__all__ = ["EXIT_OK", "EXIT_RUNTIME", "EXIT_USAGE", "main"]

# deepnet modules (and click) are imported inside main() so that `deepnet --help` starts fast.

from ..utils.validation import InstanceOf, check
from ._errors import EXIT_OK, EXIT_RUNTIME, EXIT_USAGE, CLIError, one_line

EXIT_INTERRUPTED = 130
_ARGV = InstanceOf(list, tuple, description="a list of strings such as ['train', 'my.toml']")


def _print_error(message: str) -> None:
    sys.stderr.write(f"error: {one_line(message)}\n")
    sys.stderr.flush()


def main(argv=None) -> int:
    """Run the command line ``argv`` (default: ``sys.argv[1:]``) and return the exit code:
    0 success, 1 a runtime failure, 2 a usage, config or input problem (one ``error:`` line
    on stderr).

    >>> main(["--version"])
    deepnet ...
    0
    """
    import click

    from ._commands import cli

    if argv is not None:
        check("main", "argv", argv, _ARGV)
    args = list(sys.argv[1:] if argv is None else argv)
    debug = "--debug" in args or os.environ.get("DEEPNET_DEBUG", "") not in ("", "0")
    if "--" in args:
        cut = args.index("--")
        args = [a for a in args[:cut] if a != "--debug"] + args[cut:]
    else:
        args = [a for a in args if a != "--debug"]
    try:
        result = cli.main(args=args, prog_name="deepnet", standalone_mode=False)
    except click.exceptions.Exit as e:
        return e.exit_code
    except click.exceptions.Abort:
        _print_error("aborted")
        return EXIT_INTERRUPTED
    except click.ClickException as e:
        if debug:
            traceback.print_exc()
        message = e.format_message()
        ctx = getattr(e, "ctx", None)
        if isinstance(e, click.UsageError) and ctx is not None:
            message += f" (see '{ctx.command_path} --help')"
        _print_error(message)
        return e.exit_code
    except CLIError as e:
        if debug:
            traceback.print_exc()
        _print_error(str(e))
        return e.exit_code
    except KeyboardInterrupt:
        if debug:
            traceback.print_exc()
        _print_error("interrupted")
        return EXIT_INTERRUPTED
    except Exception as e:  # noqa: BLE001 - the last line of defence: one line, or the traceback with --debug
        if debug:
            traceback.print_exc()
        _print_error(f"{type(e).__name__}: {e}" + ("" if debug else " (run with --debug for the traceback)"))
        return EXIT_RUNTIME
    return result if isinstance(result, int) else EXIT_OK
