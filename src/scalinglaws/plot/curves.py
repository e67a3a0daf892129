"""Loss curves: against N or P with theory lines, double descent, budget scans.

Each function takes an ``Axes`` and results, draws, and returns the Axes.
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from . import pyplot

__all__ = ["loss_curves", "double_descent", "budget_scan"]

_LABELS = {"n_features": "N (features)", "n_samples": "P (samples)", "ridge": "ridge γ"}


def loss_curves(
    ax,
    simulation: xr.Dataset | None = None,
    theory: xr.Dataset | None = None,
    *,
    x: str = "n_features",
    quantity: str = "excess",
    ridge: float | None = None,
):
    """Log–log loss against ``x`` (N or P), one series per value of the other axis.

    Simulation means are points with ±1 standard-error bars; theory (a Dataset with the same
    dims, usually on a denser grid of ``x``) is drawn as lines in the same colours.
    """
    other = "n_samples" if x == "n_features" else "n_features"
    source = simulation if simulation is not None else theory
    if source is None:
        raise ValueError("'simulation' or 'theory' must be given.")
    ridge = float(source.ridge.values[0]) if ridge is None else ridge
    colors = pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    values = source[other].values
    for k, value in enumerate(values):
        color = colors[k % len(colors)]
        label = f"{'P' if other == 'n_samples' else 'N'} = {value:g}"
        if theory is not None and value in theory[other].values:
            curve = theory[quantity].sel({other: value, "ridge": ridge}, method="nearest")
            ok = np.isfinite(curve.values) & (curve.values > 0)
            ax.plot(
                theory[x].values[ok],
                curve.values[ok],
                "-",
                color=color,
                lw=1.3,
                label=f"{label} (theory)" if simulation is None else None,
            )
        if simulation is not None:
            cell = simulation.sel({other: value, "ridge": ridge}, method="nearest")
            mean = cell[f"{quantity}_mean"].values
            sem = np.nan_to_num(cell[f"{quantity}_sem"].values)
            ax.errorbar(
                simulation[x].values,
                mean,
                yerr=sem,
                fmt="o",
                ms=4,
                color=color,
                capsize=2,
                label=label,
            )
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(_LABELS[x])
    ax.set_ylabel(f"{quantity.replace('_', ' ')}")
    title = f"ridge γ = {ridge:g}"
    if simulation is not None and theory is not None:
        title += " — points: simulation ± SEM, lines: theory"
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def double_descent(
    ax,
    curves: dict[str, tuple[np.ndarray, np.ndarray]],
    *,
    x_label: str,
    marker_x: float | None = None,
    points: dict | None = None,
):
    """Loss against N (or P) for several ridge choices; ``curves[label] = (x, loss)``.

    ``marker_x`` draws a vertical line (e.g. at N = P); ``points[label] = (x, mean, sem)`` adds
    simulation points in the matching colour.
    """
    colors = pyplot().rcParams["axes.prop_cycle"].by_key()["color"]
    for k, (label, (xs, ys)) in enumerate(curves.items()):
        ok = np.isfinite(ys) & (ys > 0)
        ax.plot(xs[ok], ys[ok], "-", color=colors[k], lw=1.4, label=label)
        if points and label in points:
            px, pm, ps = points[label]
            ax.errorbar(px, pm, yerr=ps, fmt="o", ms=4, capsize=2, color=colors[k])
    if marker_x is not None:
        ax.axvline(marker_x, color="0.5", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel(x_label)
    ax.set_ylabel("excess test loss")
    ax.legend(fontsize=8, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def budget_scan(ax, scans: dict[float, tuple[np.ndarray, np.ndarray]]):
    """Loss along fixed budgets N·P = C against N/P; ``scans[C] = (ratio, loss)``.

    A dotted vertical line marks N = P (equiparameterization).
    """
    for budget, (ratio, loss) in scans.items():
        ax.plot(ratio, loss, "-", lw=1.4, label=f"N·P = {budget:.0e}")
        k = int(np.nanargmin(loss))
        ax.plot(ratio[k], loss[k], "k.", ms=8)
    ax.axvline(1.0, color="0.5", ls=":", lw=1)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("N / P at fixed N·P")
    ax.set_ylabel("optimal-ridge excess loss")
    ax.set_title("equiparameterization: minimum at N = P", fontsize=9)
    ax.legend(fontsize=8, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return ax
