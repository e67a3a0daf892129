"""Standard figures of a study: loss against N and against P, simulation points over theory lines.

One PNG per (case, ridge): the left panel has the loss against N with one colour per P, the right
panel the loss against P with one colour per N, on log-log axes. Simulation means are points with
error bars of ± one standard error over seeds; the theory, when the study computed it, is a line in
the same colour. Where the theory has its ridgeless pole (γ = 0, N = P < M) the expected loss is
infinite and the seed mean estimates nothing, so no point is drawn there. matplotlib (Agg
backend) is imported only here.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import xarray as xr

from .._validation import InputError, check_choice
from ..results import format_number
from . import pyplot

__all__ = ["plot_study", "QUANTITIES"]

#: Quantities that can be plotted.
QUANTITIES = ("excess", "test_mse")

_MAX_CURVES = 6


def plot_study(ds: xr.Dataset, out_dir: str | Path, *, quantity: str = "excess") -> list[Path]:
    """Write the standard figures of ``ds`` (from :func:`~.export.study_dataset`) to ``out_dir``.

    Returns
    -------
    list of Path
        The PNG files written.
    """
    quantity = check_choice("quantity", quantity, QUANTITIES)
    plt = pyplot()
    out_dir = Path(out_dir)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(
            f"'out' must be a folder that can be created. Got '{out_dir}' instead "
            f"({err.strerror or err})."
        ) from None
    paths: list[Path] = []
    for case in ds.case.values:
        for ridge in ds.ridge.values:
            cell = ds.sel(case=case, ridge=ridge)
            if not _has_data(cell, quantity):
                continue
            fig, axes = plt.subplots(1, 2, figsize=(10, 4.2), constrained_layout=True)
            _panel(axes[0], cell, quantity, x="n_features", curves="n_samples")
            _panel(axes[1], cell, quantity, x="n_samples", curves="n_features")
            ridge_text = format_number(float(ridge))
            fig.suptitle(f"{ds.attrs.get('study', '')}: {case}, ridge = {ridge_text}")
            path = _unique(out_dir, f"{_slug(str(case))}_ridge{ridge_text}", paths)
            fig.savefig(path, dpi=110)
            plt.close(fig)
            paths.append(path)
    return paths


def _unique(out_dir: Path, stem: str, taken: list[Path]) -> Path:
    """``out_dir/stem.png``, or ``stem-2.png``, ... if another case's figure has that name."""
    path, n = out_dir / f"{stem}.png", 1
    while path in taken:
        n += 1
        path = out_dir / f"{stem}-{n}.png"
    return path


def _has_data(cell: xr.Dataset, quantity: str) -> bool:
    names = [f"{quantity}_mean", f"theory_{quantity}"]
    return any(name in cell and bool(np.isfinite(cell[name]).any()) for name in names)


def _panel(ax, cell: xr.Dataset, quantity: str, *, x: str, curves: str) -> None:
    names = [n for n in (f"{quantity}_mean", f"theory_{quantity}") if n in cell]
    finite = sum(np.isfinite(cell[n]) & (cell[n] > 0) for n in names)
    values = cell[curves].values[(finite > 0).sum(x).values >= 1]  # curves with a point
    if values.size == 0:
        _axes(ax, quantity, x=x, theory=False)
        return
    chosen = values[np.unique(np.linspace(0, values.size - 1, _MAX_CURVES).round().astype(int))]
    xs = cell[x].values.astype(float)
    symbol = "N" if curves == "n_features" else "P"
    for colour, value in zip(_colours(len(chosen)), chosen, strict=False):
        line = cell.sel({curves: value})
        label = f"{symbol} = {int(value)}"
        if f"theory_{quantity}" in line:
            _theory_line(ax, xs, line[f"theory_{quantity}"].values, colour, label)
            label = None
        if f"{quantity}_mean" in line:
            _points(ax, xs, line, quantity, colour, label)
    _axes(ax, quantity, x=x, theory=f"theory_{quantity}" in cell)


def _axes(ax, quantity: str, *, x: str, theory: bool) -> None:
    from matplotlib.ticker import NullFormatter

    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xlabel("number of features N" if x == "n_features" else "number of samples P")
    ax.set_ylabel("excess loss (test MSE − σ_ε²)" if quantity == "excess" else "test MSE")
    ax.grid(True, which="major", alpha=0.3)
    if ax.get_legend_handles_labels()[0]:
        title = "points: simulation ± SEM" + ("\nlines: theory" if theory else "")
        ax.legend(fontsize=8, title=title, title_fontsize=7)


def _theory_line(ax, xs, ys, colour, label) -> None:
    ok = np.isfinite(ys) & (ys > 0)
    if ok.any():  # a single point (one N or one P) is drawn as a short bar
        if ok.sum() > 1:  # broken where the theory is infinite (a pole), not bridged over it
            ax.plot(xs, np.where(ok, ys, np.nan), "-", color=colour, lw=1.4, label=label)
        else:
            ax.plot(xs[ok], ys[ok], "_", color=colour, lw=1.4, ms=12, label=label)


def _points(ax, xs, line: xr.Dataset, quantity: str, colour, label) -> None:
    mean = line[f"{quantity}_mean"].values
    sem = np.nan_to_num(line[f"{quantity}_sem"].values, nan=0.0)
    ok = np.isfinite(mean) & (mean > 0)
    theory = line.get(f"theory_{quantity}")
    if theory is not None:  # at the ridgeless pole the seed mean estimates nothing: not drawn
        ok &= ~np.isinf(theory.values)
    if ok.any():
        lower = np.minimum(sem[ok], 0.999 * mean[ok])  # keep the bar on a log axis
        ax.errorbar(
            xs[ok],
            mean[ok],
            yerr=[lower, sem[ok]],
            fmt="o",
            ms=4,
            color=colour,
            capsize=2,
            label=label,
        )


def _colours(n: int):
    from matplotlib import colormaps

    return [colormaps["viridis"](v) for v in np.linspace(0.0, 0.85, max(n, 1))]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.=-]+", "_", text).strip("_")
