"""``scalinglaws simulate``: Monte-Carlo grid of random-feature ridge regression."""

from __future__ import annotations

import click

from .._names import LOSS_METHODS
from ._options import (
    COUNT,
    grid_options,
    json_option,
    max_memory_option,
    model_options,
    plot_option,
    spec_from_options,
)
from ._output import ProgressBar, emit_json, emit_table

COLUMNS = (
    "n_features",
    "n_samples",
    "ridge",
    "test_mse",
    "test_mse_sem",
    "excess",
    "excess_sem",
    "n_seeds",
    "note",
)
POLE_NOTE = "E[loss] = ∞ (pole)"


@click.command("simulate")
@model_options
@grid_options
@click.option("--seeds", type=COUNT, default=8, show_default=True, help="Number of seeds.")
@click.option("--seed", type=COUNT, default=0, show_default=True, help="Root random seed.")
@click.option(
    "--loss",
    type=click.Choice(LOSS_METHODS),
    default="exact",
    show_default=True,
    help="Exact population loss or a Monte-Carlo test set.",
)
@click.option(
    "--n-test",
    type=COUNT,
    default=10_000,
    show_default=True,
    help="Test points for --loss monte_carlo.",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
@plot_option
@max_memory_option
@json_option
def simulate_command(
    n_features, n_samples, ridge, seeds, seed, loss, n_test, progress, plot_dir, max_memory,
    as_json, **model,
):  # fmt: skip
    """Train random-feature ridge models on a grid of N × P × ridge × seeds; print the exact test
    loss (mean and standard error over seeds)."""
    from ..results import Grid, to_records

    spec = spec_from_options(**model)
    # the grid is checked before the sampling side (SciPy) loads, so bad input answers fast
    Grid(n_features=n_features, n_samples=n_samples, ridges=ridge, n_seeds=seeds)
    from ..sampling.simulate import simulate, simulate_records

    arguments = dict(
        n_features=n_features, n_samples=n_samples, ridges=ridge, n_seeds=seeds, rng=seed,
        loss=loss, n_test=n_test, max_memory=max_memory,
    )  # fmt: skip
    with ProgressBar("simulate", enabled=progress) as bar:
        if plot_dir is None:  # the records alone: no Dataset, so xarray never loads
            ds, records = None, simulate_records(spec, progress=bar, **arguments)
        else:
            ds = simulate(spec, progress=bar, **arguments)
            records = to_records(ds)
    if as_json:
        emit_json(records)
    else:
        for rec in records:
            rec["note"] = POLE_NOTE if rec["infinite_expectation"] else ""
        emit_table(
            records,
            COLUMNS,
            title=f"simulate: {spec.spectrum.describe()}, "
            f"{spec.activation.name} features, noise_var={spec.noise_var:g}",
        )
    if plot_dir is not None:
        from ..analysis.experiments import theory_curves
        from ..plot.experiments import simulation_figures

        theory = {x: theory_curves(spec, ds, x) for x in ("n_features", "n_samples")}
        for path in simulation_figures(ds, theory, plot_dir):
            click.echo(f"wrote {path}", err=True)
