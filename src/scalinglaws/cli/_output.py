"""Formatting of results: readable tables (rich) and standard JSON (no NaN/Infinity tokens)."""

from __future__ import annotations

import json
import math
import sys
from collections.abc import Sequence

import click


def clean(value):
    """Replace non-finite floats by ``None`` recursively, so ``json.dumps`` stays standard."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clean(v) for v in value]
    return value


def emit_json(records) -> None:
    """Print ``records`` as standard JSON on stdout."""
    click.echo(json.dumps(clean(records), indent=2, allow_nan=False))


def _fmt(value) -> str:
    if value is None:
        return "—"
    if isinstance(value, int | str):
        return str(value)
    return f"{value:.4g}"


def emit_table(records: Sequence[dict], columns: Sequence[str], title: str | None = None) -> None:
    """Print ``records`` as a table with the given columns (keys)."""
    from rich.console import Console
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    for col in columns:
        table.add_column(col, justify="right")
    for rec in records:
        table.add_row(*(_fmt(rec.get(col)) for col in columns))
    Console(width=max(120, len(columns) * 17)).print(table)


class ProgressBar:
    """A rich progress bar on stderr, shown when stderr is a terminal (or when forced); when it
    is not shown, rich is not loaded (a short command's start-up)."""

    def __init__(self, description: str, *, enabled: bool | None = None) -> None:
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        self._progress = None
        if not self.enabled:
            return
        from rich.console import Console
        from rich.progress import (
            BarColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self._progress = Progress(
            TextColumn("[progress.description]{task.description}"),
            BarColumn(),
            TextColumn("{task.completed}/{task.total}"),
            TimeElapsedColumn(),
            TextColumn("eta"),
            TimeRemainingColumn(),
            console=Console(stderr=True),
            transient=False,
        )
        self._task = self._progress.add_task(description, total=None)

    def __enter__(self):
        if self._progress is not None:
            self._progress.__enter__()
        return self

    def __exit__(self, *exc):
        if self._progress is not None:
            return self._progress.__exit__(*exc)
        return None

    def __call__(self, done: int, total: int) -> None:
        if self._progress is not None:
            self._progress.update(self._task, completed=done, total=total)
