"""``scalinglaws figures``: the standard figure set of the demo (theory and simulation together)."""

from __future__ import annotations

import warnings
from pathlib import Path

import click

from .._errors import NumericalWarning


def _double_descent(out: Path, seeds: int) -> Path:
    """Loss against N at fixed P: γ = 0 (pole at N = P) and γ = γ*(N, P), theory and simulation."""
    import numpy as np

    from ..model.spec import ModelSpec
    from ..model.spectrum import Spectrum
    from ..plot.curves import double_descent, new_axes, save_figure
    from ..sampling.simulate import simulate
    from ..theory import optimal_ridge, theory_loss

    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0), noise_var=1e-5)
    n_samples = 400
    dense = np.unique(np.concatenate([np.geomspace(20, 4000, 200), [n_samples]]))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        ridgeless = theory_loss(spec, dense, n_samples, 0.0).excess
    best = optimal_ridge(spec, dense, n_samples)
    sim_n = np.array([25, 50, 100, 200, 300, 360, 440, 560, 800, 1600, 3200])
    sim0 = simulate(spec, n_features=sim_n, n_samples=n_samples, ridges=0.0, n_seeds=seeds)
    opt_ridges = optimal_ridge(spec, sim_n, n_samples).ridge
    opt_points = [
        simulate(spec, n_features=int(n), n_samples=n_samples, ridges=float(g), n_seeds=seeds)
        for n, g in zip(sim_n, opt_ridges, strict=True)
    ]
    fig, ax = new_axes(6.0, 4.2)
    double_descent(
        ax,
        {"ridge γ = 0": (dense, ridgeless), "optimal ridge γ*": (dense, best.excess)},
        x_label="N (features)",
        marker_x=n_samples,
        points={
            "ridge γ = 0": (sim_n, sim0.excess_mean.values.ravel(), sim0.excess_sem.values.ravel()),
            "optimal ridge γ*": (
                sim_n,
                np.array([float(d.excess_mean.squeeze()) for d in opt_points]),
                np.array([float(d.excess_sem.squeeze()) for d in opt_points]),
            ),
        },
    )
    ax.set_title(
        f"double descent at N = P = {n_samples} (M = 2000, α = 1, σ_ε² = 1e-5); "
        f"points: {seeds}-seed simulation",
        fontsize=8,
    )
    return save_figure(fig, out / "double_descent.png")


def _equiparameterization(out: Path) -> Path:
    """Optimal-ridge loss along N·P = C against N/P: the minimum sits at N = P."""
    import numpy as np

    from ..model.spec import ModelSpec
    from ..model.spectrum import Spectrum
    from ..plot.curves import budget_scan, new_axes, save_figure
    from ..theory import optimal_ridge

    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20_000, alpha=1.0))
    ratio = np.geomspace(1e-2, 1e2, 41)
    scans = {}
    for budget in (1e4, 1e5, 1e6):
        nf, ns = np.sqrt(budget * ratio), np.sqrt(budget / ratio)
        scans[budget] = (ratio, optimal_ridge(spec, nf, ns).excess)
    fig, ax = new_axes()
    budget_scan(ax, scans)
    ax.set_title("fixed budget N·P, optimal ridge (M = 2·10⁴, α = 1): minimum at N = P", fontsize=8)
    return save_figure(fig, out / "equiparameterization.png")


def _linear_vs_relu(out: Path, seeds: int, *, quick: bool = False) -> Path:
    """Against a wide ReLU teacher: linear features plateau at N = M, ReLU features keep falling."""

    from ..bridges.equivalence import one_level_theory
    from ..model.spec import ModelSpec, Teacher
    from ..model.spectrum import Spectrum
    from ..plot.curves import new_axes, save_figure
    from ..sampling.simulate import simulate

    latent_dim, n_samples = 100, 2000 if quick else 16_000
    n_features = [25, 100, 400] if quick else [25, 50, 100, 200, 400, 800, 1600]
    teacher = Teacher.random_features("relu", 20 * latent_dim)
    fig, ax = new_axes(6.0, 4.2)
    for color, activation in (("C0", "linear"), ("C3", "relu")):
        spec = ModelSpec(
            spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=1.0),
            teacher=teacher,
            activation=activation,
        )
        grid = dict(n_features=n_features, n_samples=n_samples, ridges=1e-4)
        sim = simulate(spec, **grid, n_seeds=seeds)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NumericalWarning)
            theory = one_level_theory(spec, **grid, n_seeds=seeds)
        mean, sem = sim.excess_mean.values.ravel(), sim.excess_sem.values.ravel()
        ax.errorbar(
            n_features,
            mean,
            yerr=sem,
            fmt="o",
            ms=4,
            capsize=2,
            color=color,
            label=f"{activation} features (simulation)",
        )
        ax.plot(
            n_features,
            theory.excess_mean.values.ravel(),
            "-",
            color=color,
            lw=1.3,
            label=f"{activation} features (one-level theory)",
        )
    ax.axvline(latent_dim, color="0.5", ls=":", lw=1)
    ax.text(latent_dim * 1.05, ax.get_ylim()[1], "N = M", va="top", fontsize=8, color="0.4")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N (features)")
    ax.set_ylabel("excess test loss")
    ax.set_title(
        f"wide ReLU teacher (K = {teacher.width}), M = {latent_dim}, α = 1, "
        f"P = {n_samples}, γ = 1e-4; {seeds} seeds",
        fontsize=8,
    )
    ax.legend(fontsize=7, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return save_figure(fig, out / "linear_vs_relu_past_M.png")


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

    seeds = check_positive_int("seeds", seeds)
    out = Path(out_dir)
    for draw in (_double_descent, _equiparameterization, _linear_vs_relu):
        if draw is _equiparameterization:
            path = draw(out)
        elif draw is _linear_vs_relu:
            path = draw(out, seeds, quick=quick)
        else:
            path = draw(out, seeds)
        click.echo(f"wrote {path}", err=True)
