"""``scalinglaws study``: run, inspect, export and plot studies described by TOML files.

Each subcommand is one call into :mod:`scalinglaws.studies` plus formatting; see
``docs/studies.md``.
Only click and the standard library are imported here at start-up: the sweep layer (numpy,
pandas, SQLite, the engine) is imported inside the commands, so ``scalinglaws --help`` stays fast.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from pathlib import Path

import click

from .._names import EXECUTORS, FORMATS
from ._options import max_memory_option

#: Exit status of a run that stopped because a worker process died.
WORKER_LOST_STATUS = 1

study_argument = click.argument("study_file", metavar="STUDY.toml", type=click.Path(path_type=Path))
store_option = click.option(
    "--store",
    type=click.Path(path_type=Path),
    default=None,
    help="Result store (SQLite file); default the study's 'store'.",
)


@click.group("study")
def study() -> None:
    """Studies: specs × grids × seeds from a TOML file, stored resumably in SQLite."""


@study.command("run")
@study_argument
@store_option
@click.option(
    "--executor",
    type=click.Choice(EXECUTORS),
    default="processes",
    show_default=True,
    help="Where units run: this process, local worker processes, or a Dask cluster.",
)
@click.option("--scheduler", default=None, help="Dask scheduler address (with --executor dask).")
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Worker processes (processes, or a new local Dask cluster); default the CPU count.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar with ETA on stderr (default: when stderr is a terminal).",
)
@max_memory_option
@click.option("--json", "as_json", is_flag=True, help="Print the run summary as JSON.")
def run_command(study_file, store, executor, scheduler, workers, progress, max_memory, as_json):
    """Run every unfinished unit of STUDY.toml; Ctrl-C stops after the units in flight.

    Several runs may share one store: they divide the units between them.
    """
    with _stop_on_signals() as stop:
        from .._validation import InputError
        from ..studies import WorkerLost, load_study, run_study
        from ._output import ProgressBar

        loaded = load_study(study_file)
        if scheduler is not None and executor != "dask":
            raise InputError(
                f"'scheduler' needs --executor dask. Got --executor {executor} instead."
            )
        try:
            with ProgressBar(f"study {loaded.name}", enabled=progress) as bar:
                summary = run_study(
                    loaded,
                    store=store,
                    executor=executor,
                    workers=workers,
                    scheduler=scheduler,
                    progress=bar,
                    stop=stop,
                    max_memory=max_memory,
                )
        except WorkerLost as err:
            click.echo(f"error: {err}", err=True)
            return WORKER_LOST_STATUS
    _report(loaded, summary, store or loaded.store, as_json=as_json)
    return 130 if summary.interrupted else 0


def _report(loaded, summary, store: Path, *, as_json: bool) -> None:
    record = {
        "study": loaded.name,
        "store": str(store),
        "total": summary.total,
        "done": summary.total - summary.remaining,
        "computed": summary.computed,
        "already_done": summary.already_done,
        "done_elsewhere": summary.done_elsewhere,
        "held_elsewhere": summary.held_elsewhere,
        "interrupted": summary.interrupted,
        "runner": summary.owner,
        "wall_s": round(summary.wall_s, 3),
    }
    if as_json:
        from ._output import emit_json

        emit_json(record)
        return
    state = "interrupted" if summary.interrupted else "finished"
    held = f"; {summary.held_elsewhere} in progress elsewhere" if summary.held_elsewhere else ""
    click.echo(
        f"study {loaded.name} {state}: {record['done']}/{summary.total} units done "
        f"({summary.computed} computed now, {summary.already_done} already stored, "
        f"{summary.done_elsewhere} by another run{held}) in {summary.wall_s:.1f} s; "
        f"store {record['store']}"
    )


@contextlib.contextmanager
def _stop_on_signals():
    """Ctrl-C or SIGTERM (batch schedulers, ``kill``): stop after the units in flight; a second
    one abandons them. Yields the :class:`threading.Event` that the runner watches."""
    stop = threading.Event()
    if threading.current_thread() is not threading.main_thread():
        yield stop
        return

    def interrupt(signum, frame):
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()
        click.echo(
            "stopping after the units in flight (press Ctrl-C again to abandon them)", err=True
        )

    previous = {sig: signal.signal(sig, interrupt) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


@study.command("status")
@study_argument
@store_option
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Workers assumed for the ETA; default the CPU count.",
)
@click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")
def status_command(study_file, store, workers, as_json):
    """Done and total units of STUDY.toml, per case, and the time left (store opened read-only)."""
    from ..studies import load_study, study_status

    loaded = load_study(study_file)
    status = study_status(loaded, store=store, workers=workers)
    if as_json:
        from ._output import emit_json

        emit_json(
            {
                "study": loaded.name,
                "done": status.done,
                "total": status.total,
                "in_progress": status.in_progress,
                "eta_s": status.eta_s,
                "workers": status.workers,
                "cases": list(status.rows),
            }
        )
        return 0
    _status_table(status.rows, title=f"study {loaded.name}")
    eta = "unknown" if status.eta_s is None else f"{status.eta_s:.0f} s"
    running = f" ({status.in_progress} in progress)" if status.in_progress else ""
    click.echo(
        f"{status.done}/{status.total} units done{running}; ETA {eta} at {status.workers} "
        f"workers; store {store or loaded.store}"
    )
    return 0


def _status_table(rows, *, title: str) -> None:
    from rich.console import Console
    from rich.markup import escape
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    table.add_column("case")
    table.add_column("kind")
    for name in ("done", "total"):
        table.add_column(name, justify="right")
    for row in rows:
        table.add_row(escape(row["case"]), row["kind"], str(row["done"]), str(row["total"]))
    Console(width=120).print(table)


@study.command("export")
@study_argument
@store_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="csv", show_default=True)
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output file.")
def export_command(study_file, store, fmt, out):
    """Export the stored results of STUDY.toml as CSV, Parquet or netCDF (store read-only)."""
    from ..studies import export_study, load_study

    loaded = load_study(study_file)
    path = _existing_store(store or loaded.store)
    written = export_study(loaded, store=path, fmt=fmt, out=out)
    click.echo(f"wrote {written}")
    return 0


@study.command("plot")
@study_argument
@store_option
@click.option("--out", type=click.Path(path_type=Path), required=True, help="Output folder.")
@click.option(
    "--quantity",
    type=click.Choice(("excess", "test_mse")),
    default="excess",
    show_default=True,
    help="Excess loss (test MSE minus label noise) or test MSE.",
)
def plot_command(study_file, store, out, quantity):
    """Standard figures of STUDY.toml: loss vs N and vs P, theory lines over simulation points."""
    from ..plot.studies import plot_study
    from ..studies import ResultStore, load_study, study_dataset

    loaded = load_study(study_file)
    with ResultStore(_existing_store(store or loaded.store), readonly=True) as opened:
        ds = study_dataset(loaded, opened)
    for path in plot_study(ds, out, quantity=quantity):
        click.echo(f"wrote {path}")
    return 0


def _existing_store(path: Path) -> Path:
    from .._validation import InputError

    if not Path(path).exists():
        raise InputError(
            f"'store' must be an existing result store. Got '{path}' instead; "
            "run 'scalinglaws study run' first."
        )
    return path
