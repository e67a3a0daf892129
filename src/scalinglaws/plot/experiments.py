"""Figures of the standard experiments (:mod:`scalinglaws.analysis.experiments`), and of a
simulation beside its theory."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import new_axes, save_figure
from .curves import budget_scan, double_descent, loss_curves

__all__ = [
    "double_descent_figure",
    "equiparameterization_figure",
    "linear_vs_relu",
    "linear_vs_relu_figure",
    "simulation_figures",
]


def double_descent_figure(scan, out_dir: str | Path, *, svg: bool = False) -> list[Path]:
    """:func:`~scalinglaws.analysis.experiments.double_descent_scan`, drawn."""
    fig, ax = new_axes(6.0, 4.2)
    dense, sim_n = scan.n_dense.values, scan.n_features.values
    double_descent(
        ax,
        {"ridge γ = 0": (dense, scan.theory_ridgeless.values),
         "optimal ridge γ*": (dense, scan.theory_optimal.values)},
        x_label="N (features)",
        marker_x=scan.attrs["n_samples"],
        points={
            "ridge γ = 0": (sim_n, scan.sim_ridgeless.values, scan.sim_ridgeless_sem.values),
            "optimal ridge γ*": (sim_n, scan.sim_optimal.values, scan.sim_optimal_sem.values),
        },
    )  # fmt: skip
    ax.set_title(
        f"double descent at N = P = {scan.attrs['n_samples']} (M = {scan.attrs['latent_dim']}, "
        f"α = {scan.attrs['alpha']:g}, σ_ε² = {scan.attrs['noise_var']:g}); "
        f"points: {scan.attrs['n_seeds']}-seed simulation",
        fontsize=8,
    )
    return save_figure(fig, Path(out_dir) / "double_descent.png", svg=svg)


def equiparameterization_figure(scan, out_dir: str | Path, *, svg: bool = False) -> list[Path]:
    """:func:`~scalinglaws.analysis.experiments.equiparameterization_scan`, drawn."""
    fig, ax = new_axes()
    ratio = scan.ratio.values
    budget_scan(ax, {float(b): (ratio, scan.excess.sel(budget=b).values)
                     for b in scan.budget.values})  # fmt: skip
    ax.set_title(
        f"fixed budget N·P, optimal ridge (M = {scan.attrs['latent_dim']}, "
        f"α = {scan.attrs['alpha']:g}): minimum at N = P",
        fontsize=8,
    )
    return save_figure(fig, Path(out_dir) / "equiparameterization.png", svg=svg)


def linear_vs_relu(ax, scan):
    """Simulation points ± SEM and theory lines for linear and ReLU features against N."""
    n = scan.n_features.values
    for color, act in (("C0", "linear"), ("C3", "relu")):
        row = scan.sel(activation=act)
        ax.errorbar(n, row.sim.values, yerr=np.nan_to_num(row.sim_sem.values), fmt="o", ms=4,
                    capsize=2, color=color, label=f"{act} features (simulation)")  # fmt: skip
        ax.plot(n, row.theory.values, "-", color=color, lw=1.3,
                label=f"{act} features (one-level theory)")  # fmt: skip
    m = scan.attrs["latent_dim"]
    ax.axvline(m, color="0.5", ls=":", lw=1)
    ax.text(m * 1.05, ax.get_ylim()[1], "N = M", va="top", fontsize=8, color="0.4")
    ax.set(xscale="log", yscale="log", xlabel="N (features)", ylabel="excess test loss")
    ax.legend(fontsize=7, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def linear_vs_relu_figure(scan, out_dir: str | Path, *, svg: bool = False) -> list[Path]:
    """:func:`~scalinglaws.analysis.experiments.linear_vs_relu_scan`, drawn."""
    fig, ax = new_axes(6.0, 4.2)
    linear_vs_relu(ax, scan)
    a = scan.attrs
    ax.set_title(
        f"wide ReLU teacher (K = {a['teacher_width']}), M = {a['latent_dim']}, α = 1, "
        f"P = {a['n_samples']}, γ = {a['ridge']:g}; {a['n_seeds']} seeds",
        fontsize=8,
    )
    return save_figure(fig, Path(out_dir) / "linear_vs_relu_past_M.png", svg=svg)


def simulation_figures(ds, theory_by_axis: dict, out_dir: str | Path) -> list[Path]:
    """Loss against N and against P of a simulation (points ± SEM), with theory lines where
    ``theory_by_axis[x]`` (from :func:`~scalinglaws.analysis.experiments.theory_curves`) exists."""
    paths = []
    for x in ("n_features", "n_samples"):
        fig, ax = new_axes()
        loss_curves(ax, ds, theory_by_axis.get(x), x=x, quantity="excess",
                    ridge=float(ds.ridge.values[0]))  # fmt: skip
        paths += save_figure(fig, Path(out_dir) / f"simulate_excess_vs_{x}.png")
    return paths
