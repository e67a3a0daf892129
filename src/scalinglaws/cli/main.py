"""Entry point of the ``scalinglaws`` command.

Subcommands are loaded when they are used (:class:`LazyGroup`), and their modules import only
click at start-up, so ``scalinglaws --help`` and ``--version`` answer without loading numpy.

Exit statuses: 0 on success; 2 with one line ``error: ...`` for bad input (an
:class:`~scalinglaws.InputError`, including work refused for memory, or a usage error); 130 on
Ctrl-C; 1 with one line ``error: internal error ...`` for anything else, which is a bug (set
``SCALINGLAWS_TRACEBACK=1`` to see the traceback). Numerical warnings are printed once each as
``warning: ...`` on stderr.
"""

from __future__ import annotations

import importlib
import os
import sys
import warnings

import click

from .._errors import InputError

#: Subcommand name -> (module in this package, attribute).
COMMANDS = {
    "simulate": ("simulate", "simulate_command"),
    "theory": ("theory", "theory_command"),
    "optimal": ("theory", "optimal_command"),
    "frontier": ("theory", "frontier_command"),
    "spectrum": ("spectrum", "spectrum_command"),
    "realdata": ("realdata", "realdata_command"),
    "figures": ("figures", "figures_command"),
    "study": ("study", "study"),
    "reproduce": ("reproduce", "reproduce_command"),
    "report": ("report", "report_command"),
    "fit": ("fit", "fit_command"),
}

TRACEBACK_ENV = "SCALINGLAWS_TRACEBACK"


class LazyGroup(click.Group):
    """A click group whose subcommands are imported on first use."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        module, attr = COMMANDS[cmd_name]
        return getattr(importlib.import_module(f"{__package__}.{module}"), attr)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="scalinglaws", prog_name="scalinglaws")
def cli() -> None:
    """The solvable model of neural scaling laws (Maloney, Roberts & Sully 2022):
    simulate, predict and fit scaling laws of random-feature models."""


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _report_warnings(caught) -> None:
    """Each distinct warning once; anything but a NumericalWarning is labelled with its kind."""
    from .._errors import NumericalWarning

    seen = set()
    for w in caught:
        text = _one_line(w.message)
        if not issubclass(w.category, NumericalWarning):
            text = f"({w.category.__name__}) {text}"
        if text not in seen:
            seen.add(text)
            click.echo(f"warning: {text}", err=True)


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and, run as the ``scalinglaws`` program, exit with) its status."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        status = _run(argv)
    _report_warnings(caught)
    return _exit(status)


def _run(argv: list[str] | None) -> int:
    try:
        result = cli.main(args=argv, prog_name="scalinglaws", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return exc.exit_code
    except click.ClickException as exc:
        click.echo(f"error: {_one_line(exc.format_message())}", err=True)
        return 2
    except (click.exceptions.Abort, KeyboardInterrupt):
        click.echo("error: interrupted", err=True)
        return 130
    except InputError as exc:
        click.echo(f"error: {_one_line(exc)}", err=True)
        return 2
    except BrokenPipeError:  # output piped into a reader that stopped early (head, less)
        sys.stderr.close()
        return 0
    except MemoryError:
        click.echo(
            "error: ran out of memory; lower the grid sizes, or pass --max-memory so that work "
            "that cannot fit is refused before it starts",
            err=True,
        )
        return 2
    except Exception as exc:  # noqa: BLE001 - a bug: say so in one line, traceback on request
        if os.environ.get(TRACEBACK_ENV):
            raise
        click.echo(
            f"error: internal error ({type(exc).__name__}: {_one_line(exc)}); this is a bug in "
            f"scalinglaws, please report it (set {TRACEBACK_ENV}=1 for the traceback)",
            err=True,
        )
        return 1
    return result if isinstance(result, int) else 0


def _exit(code: int) -> int:
    if __name__ == "__main__" or sys.argv and sys.argv[0].endswith("scalinglaws"):
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
