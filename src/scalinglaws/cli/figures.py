"""``scalinglaws figures``: the standard figure set of the demo (theory and simulation together)."""

from __future__ import annotations

from pathlib import Path

import click


@click.command("figures")
@click.option(
    "--out",
    "out_dir",
    type=click.Path(file_okay=False),
    default="demo-output",
    show_default=True,
    help="Folder for the PNG files.",
)
@click.option("--seeds", type=int, default=4, show_default=True, help="Seeds per simulation point.")
@click.option("--quick", is_flag=True, help="Smaller grids (a smoke run of the same figures).")
def figures_command(out_dir, seeds, quick):
    """Draw the standard figures: double descent with γ = 0 and γ*, equiparameterization, and
    linear vs ReLU features against a wide ReLU teacher past M."""
    from .._validation import check_positive_int
    from ..analysis import experiments
    from ..plot import experiments as figures

    seeds = check_positive_int("seeds", seeds)
    out = Path(out_dir)
    paths = figures.double_descent_figure(experiments.double_descent_scan(seeds=seeds), out)
    paths += figures.equiparameterization_figure(experiments.equiparameterization_scan(), out)
    scan = experiments.linear_vs_relu_scan(seeds=seeds, quick=quick)
    paths += figures.linear_vs_relu_figure(scan, out)
    for path in paths:
        click.echo(f"wrote {path}", err=True)
