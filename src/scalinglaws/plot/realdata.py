"""Measured held-out loss on real data, with the theory from the pool as lines."""

from __future__ import annotations

from pathlib import Path

from . import new_axes, save_figure

__all__ = ["realdata_curves", "realdata_figures"]


def realdata_curves(ax, sim, theory=None, *, x: str = "n_features", ridge: float):
    """Log–log held-out test MSE against ``x`` (a series per value of the other axis) at one
    ridge: measured seed means ± SEM as points, the theory as lines of the same colour."""
    line = "n_samples" if x == "n_features" else "n_features"
    for k, value in enumerate(sim[line].values):
        at = {"ridge": ridge, line: value}
        color = f"C{k % 10}"
        ax.errorbar(
            sim[x].values,
            sim.test_mse_mean.sel(at),
            yerr=sim.test_mse_sem.sel(at),
            fmt="o",
            color=color,
            label=f"{line} = {value} (measured)",
        )
        if theory is not None:
            ax.plot(theory[x].values, theory.test_mse.sel(at), "-", color=color)
    ax.set(
        xscale="log",
        yscale="log",
        xlabel=x,
        ylabel="held-out test MSE (sum over outputs)",
        title=f"{sim.attrs['task']}, {sim.attrs['activation']} features, γ = {ridge:g}",
    )
    ax.legend(fontsize=7, title="lines: theory from the pool", title_fontsize=7)
    return ax


def realdata_figures(sim, theory, out_dir: str | Path) -> list[Path]:
    """One figure per ridge and axis (loss against N, loss against P)."""
    paths = []
    name = sim.attrs["task"].replace("/", "-") + "_" + sim.attrs["activation"]
    for g in sim.ridge.values:
        for x in ("n_features", "n_samples"):
            fig, ax = new_axes()
            realdata_curves(ax, sim, theory, x=x, ridge=float(g))
            paths += save_figure(fig, Path(out_dir) / f"realdata_{name}_{x}_ridge{g:g}.png")
    return paths
