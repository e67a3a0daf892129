"""Entry point of the ``scalinglaws`` command.

Bad input prints one line ``error: ...`` on stderr and exits with status 2, without a traceback;
anything else that goes wrong is a bug and keeps its traceback.
"""

from __future__ import annotations

import sys

import click

from .. import __version__
from .._validation import InputError
from .simulate import simulate_command


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="scalinglaws")
def cli() -> None:
    """The solvable model of neural scaling laws (Maloney, Roberts & Sully 2022):
    simulate, predict and fit scaling laws of random-feature models."""


cli.add_command(simulate_command)


def _register_optional() -> None:
    """Add subcommands whose modules may be absent in a partial install."""
    import importlib

    for module, names in (
        ("theory", ("theory_command", "optimal_command", "frontier_command")),
        ("study", ("study",)),
        ("spectrum", ("spectrum_command",)),
        ("figures", ("figures_command",)),
        ("realdata", ("realdata_command",)),
    ):
        try:
            mod = importlib.import_module(f"{__package__}.{module}")
        except ModuleNotFoundError as err:
            if err.name != f"{__package__}.{module}":
                raise
            continue
        for name in names:
            if hasattr(mod, name):
                cli.add_command(getattr(mod, name))


_register_optional()


def main(argv: list[str] | None = None) -> int:
    """Run the CLI; return (and exit with) its status."""
    try:
        result = cli.main(args=argv, prog_name="scalinglaws", standalone_mode=False)
    except click.exceptions.Exit as exc:
        return _exit(exc.exit_code)
    except click.ClickException as exc:
        click.echo(f"error: {exc.format_message()}", err=True)
        return _exit(2)
    except click.exceptions.Abort:
        click.echo("error: aborted", err=True)
        return _exit(130)
    except InputError as exc:
        click.echo(f"error: {exc}", err=True)
        return _exit(2)
    return _exit(result if isinstance(result, int) else 0)


def _exit(code: int) -> int:
    if __name__ == "__main__" or sys.argv and sys.argv[0].endswith("scalinglaws"):
        sys.exit(code)
    return code


if __name__ == "__main__":
    main()
