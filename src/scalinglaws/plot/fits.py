"""Figures of a fitted scaling law (:mod:`scalinglaws.analysis.fits`): the data with the fitted
curves and their bootstrap bands, the residuals against each variable, and iso-loss contours in
(N, D) with the compute-optimal frontier and its band.

Each drawing is ``(ax, fit, **options) -> ax``; :func:`fit_figures` writes the standard set.
Every number drawn comes from the fit's own methods (``predict``, ``band``,
``allocation.optimal``, ``allocation.band``).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import new_axes, save_figure

__all__ = ["fit_curves", "fit_residuals", "iso_loss_contours", "fit_figures"]

_LABELS = {"n_features": "N (features)", "n_samples": "P (samples)"}


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_" else "_" for c in name)


def _label(name: str) -> str:
    return _LABELS.get(name, name)


def _slices(values: np.ndarray, n_curves: int) -> tuple[np.ndarray, np.ndarray]:
    """(group index per point, representative value per group) of the other variable: its
    distinct values, or (more than ``n_curves`` of them) the nearest of ``n_curves`` log-spaced
    quantiles."""
    unique = np.unique(values)
    if unique.size <= n_curves:
        return np.searchsorted(unique, values), unique
    reps = np.unique(np.quantile(unique, (np.arange(n_curves) + 0.5) / n_curves, method="nearest"))
    group = np.argmin(np.abs(np.log(values)[:, None] - np.log(reps)[None, :]), axis=1)
    return group, reps


def _grid(values: np.ndarray, n_points: int, widen: float = 1.25) -> np.ndarray:
    return np.geomspace(values.min() / widen, values.max() * widen, n_points)


def fit_curves(
    ax, fit, *, against: int | str = 0, n_curves: int = 8, n_points: int = 60, band: bool = True
):
    r"""Measured loss against one variable with the fitted curve(s) and 95 % curve bands.

    With two variables, one curve per value of the other (or per quantile slice of it when it
    takes more than ``n_curves`` values, drawn at the slice's median). Held-out points, if any,
    are open markers. The curve is ``fit.predict`` (:math:`\hat L`), the band ``fit.band``: the
    2.5 and 97.5 percentiles of :math:`\hat L_b` over the bootstrap draws b.

    Parameters
    ----------
    ax : matplotlib Axes
    fit : ScalingLawFit or ModelFit
        A result of :mod:`scalinglaws.fit`.
    against : int or str, default 0
        The variable on the horizontal axis (index or column name).
    n_curves : int, default 8
        At most this many curves (slices of the other variable).
    n_points : int, default 60
        Points along each curve.
    band : bool, default True
        Draw the 95 % bands.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglaws import fit
    >>> from scalinglaws.plot import new_axes
    >>> n, d = (g.ravel() for g in np.meshgrid(np.geomspace(1e7, 1e10, 4),
    ...                                        np.geomspace(1e9, 1e12, 4)))
    >>> frame = pd.DataFrame({"N": n, "D": d, "loss": 1.7 + 400 * n**-0.34 + 1e3 * d**-0.28})
    >>> result = fit.chinchilla(frame, n_bootstrap=20)
    >>> fig, ax = new_axes()
    >>> fit_curves(ax, result, against="N").get_xlabel()
    'N'
    """
    table = fit.table
    j = table.x_names.index(against) if isinstance(against, str) else int(against)
    xs = _grid(np.concatenate([table.x[:, j]] + _heldout_x(fit, j)), n_points)
    if table.x.shape[1] == 1:
        groups, reps, other = np.zeros(table.n_points, int), np.array([np.nan]), None
    else:
        other = 1 - j
        groups, reps = _slices(table.x[:, other], n_curves)
    # one call for all curves (a model fit costs one theory call per bootstrap draw and call)
    points = np.vstack([xs[:, None] if other is None else _points(xs, j, rep) for rep in reps])
    curve = fit.predict(points).reshape(len(reps), -1)
    low, high = fit.band(points) if band else (np.full(points.shape[0], np.nan),) * 2
    low, high = low.reshape(len(reps), -1), high.reshape(len(reps), -1)
    for g, rep in enumerate(reps):
        color = f"C{g % 10}"
        label = None if other is None else f"{_label(table.x_names[other])} = {rep:.3g}"
        ax.loglog(
            table.x[groups == g, j], table.y[groups == g], "o", ms=4, color=color, label=label
        )
        ax.plot(xs, curve[g], "-", color=color, lw=1.3)
        if np.all(np.isfinite(low[g])):
            ax.fill_between(xs, low[g], high[g], color=color, alpha=0.2, lw=0)
    if fit.heldout is not None:
        held = fit.heldout.table
        ax.loglog(held.x[:, j], held.y, "o", mfc="none", color="k", ms=5, label="held out")
    ax.set_xlabel(_label(table.x_names[j]))
    ax.set_ylabel(table.y_name)
    ax.set_title(
        f"{fit.form} fit: points measured, lines fitted, bands 95 % (bootstrap)", fontsize=8
    )
    if other is not None or fit.heldout is not None:
        ax.legend(fontsize=7, frameon=False)
    ax.grid(True, which="major", alpha=0.3)
    return ax


def _points(xs: np.ndarray, j: int, other_value: float) -> np.ndarray:
    out = np.empty((xs.size, 2))
    out[:, j], out[:, 1 - j] = xs, other_value
    return out


def _heldout_x(fit, j: int) -> list:
    return [] if fit.heldout is None else [fit.heldout.table.x[:, j]]


def fit_residuals(ax, fit, *, variable: int | str = 0):
    r"""Log residuals :math:`\log\hat L_i - \log L_i` against one variable.

    Held-out points, if any, are open markers with their RMSE in the legend.

    Parameters
    ----------
    ax : matplotlib Axes
    fit : ScalingLawFit or ModelFit
    variable : int or str, default 0
        The variable on the horizontal axis (index or column name).

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglaws import fit
    >>> from scalinglaws.plot import new_axes
    >>> n, d = (g.ravel() for g in np.meshgrid(np.geomspace(1e7, 1e10, 4),
    ...                                        np.geomspace(1e9, 1e12, 4)))
    >>> frame = pd.DataFrame({"N": n, "D": d, "loss": 1.7 + 400 * n**-0.34 + 1e3 * d**-0.28})
    >>> result = fit.chinchilla(frame, n_bootstrap=20)
    >>> fig, ax = new_axes()
    >>> fit_residuals(ax, result, variable="D").get_xlabel()
    'D'
    """
    table = fit.table
    j = table.x_names.index(variable) if isinstance(variable, str) else int(variable)
    ax.semilogx(table.x[:, j], fit.log_residuals, "o", ms=4, label="fitted points")
    if fit.heldout is not None:
        held = fit.heldout
        ax.semilogx(
            held.table.x[:, j],
            held.log_residuals,
            "o",
            mfc="none",
            color="k",
            ms=5,
            label=f"held out (RMSE {held.rmse_log:.3g})",
        )
        ax.legend(fontsize=7, frameon=False)
    ax.axhline(0.0, color="k", lw=0.8)
    ax.set_xlabel(_label(table.x_names[j]))
    ax.set_ylabel("log fitted − log measured")
    ax.grid(True, which="major", alpha=0.3)
    return ax


def iso_loss_contours(ax, fit, *, n_grid: int = 60, levels: int = 12, frontier: bool = True):
    r"""Contours of the fitted loss in the plane of the two variables, the points, and the
    compute-optimal frontier with its 95 % band (bootstrap).

    The frontier is :math:`N^*(C) = G (C/k)^a`, :math:`D^* = (C/k)/N^*` over the budgets of the
    drawn plane (``fit.allocation``); the band holds the 2.5–97.5 percentiles of N*(C) over the
    bootstrap draws.

    Parameters
    ----------
    ax : matplotlib Axes
    fit : ScalingLawFit or ModelFit
        A fit of two variables (``chinchilla`` or ``model``).
    n_grid : int, default 60
        Grid points per axis for the contours.
    levels : int, default 12
        Contour levels (log-spaced over the drawn range).
    frontier : bool, default True
        Draw the frontier and its band.

    Returns
    -------
    matplotlib Axes

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglaws import fit
    >>> from scalinglaws.plot import new_axes
    >>> n, d = (g.ravel() for g in np.meshgrid(np.geomspace(1e7, 1e10, 4),
    ...                                        np.geomspace(1e9, 1e12, 4)))
    >>> frame = pd.DataFrame({"N": n, "D": d, "loss": 1.7 + 400 * n**-0.34 + 1e3 * d**-0.28})
    >>> result = fit.chinchilla(frame, n_bootstrap=20)
    >>> fig, ax = new_axes()
    >>> iso_loss_contours(ax, result).get_ylabel()
    'D'
    """
    table = fit.table
    if table.x.shape[1] != 2:
        raise ValueError("iso-loss contours need a fit of two variables.")
    gx, gy = _grid(table.x[:, 0], n_grid, 2.0), _grid(table.x[:, 1], n_grid, 2.0)
    mesh = np.stack(np.meshgrid(gx, gy), axis=-1).reshape(-1, 2)
    loss = fit.predict(mesh).reshape(n_grid, n_grid)
    ok = np.isfinite(loss) & (loss > 0)
    bounds = np.geomspace(loss[ok].min(), loss[ok].max(), levels)
    contours = ax.contour(
        gx, gy, np.where(ok, loss, np.nan), levels=bounds, cmap="viridis", linewidths=0.9
    )
    ax.clabel(contours, fontsize=6, fmt="%.3g", inline=False)  # inline gaps misplace on log axes
    ax.loglog(table.x[:, 0], table.x[:, 1], ".", color="0.4", ms=4, label="points")
    if fit.heldout is not None:
        held = fit.heldout.table.x
        ax.loglog(held[:, 0], held[:, 1], "o", mfc="none", color="0.4", ms=4, label="held out")
    alloc = fit.allocation
    if frontier and alloc is not None and np.isfinite(alloc.G):
        compute = np.geomspace(
            alloc.cost_factor * gx[0] * gy[0], alloc.cost_factor * gx[-1] * gy[-1], 80
        )
        n_opt, d_opt = alloc.optimal(compute)
        inside = (n_opt >= gx[0]) & (n_opt <= gx[-1]) & (d_opt >= gy[0]) & (d_opt <= gy[-1])
        ax.plot(n_opt[inside], d_opt[inside], "r-", lw=1.6, label="compute-optimal frontier")
        low, high = alloc.band(compute)
        if np.all(np.isfinite(low)):
            c = compute / alloc.cost_factor
            poly_x = np.concatenate([low, high[::-1]])
            poly_y = np.concatenate([c / low, (c / high)[::-1]])
            ax.fill(poly_x, poly_y, color="r", alpha=0.15, lw=0, label="frontier 95 % band")
        ax.set_xlim(gx[0], gx[-1])
        ax.set_ylim(gy[0], gy[-1])
    ax.set_xlabel(_label(table.x_names[0]))
    ax.set_ylabel(_label(table.x_names[1]))
    ax.set_title(f"iso-loss contours of the {fit.form} fit", fontsize=8)
    ax.legend(fontsize=7, loc="upper right", framealpha=0.9)
    return ax


def fit_figures(fit, out_dir: str | Path, *, svg: bool = False, prefix: str = "fit") -> list[Path]:
    """Write the curves (one figure per variable), the residuals and, for two variables, the
    iso-loss contours (``scalinglaws fit --plot DIR``).

    Parameters
    ----------
    fit : ScalingLawFit or ModelFit
    out_dir : str or Path
        Created if needed.
    svg : bool, default False
        Also write SVG copies.
    prefix : str, default "fit"
        Start of the file names: ``{prefix}_{form}_curves_{variable}.png``,
        ``{prefix}_{form}_residuals.png``, ``{prefix}_{form}_contours.png``.

    Returns
    -------
    list of Path
        The files written.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglaws import fit
    >>> from scalinglaws.plot import new_axes
    >>> n, d = (g.ravel() for g in np.meshgrid(np.geomspace(1e7, 1e10, 4),
    ...                                        np.geomspace(1e9, 1e12, 4)))
    >>> frame = pd.DataFrame({"N": n, "D": d, "loss": 1.7 + 400 * n**-0.34 + 1e3 * d**-0.28})
    >>> result = fit.chinchilla(frame, n_bootstrap=20)
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as out:
    ...     for path in fit_figures(result, out):
    ...         print(path.name)
    fit_chinchilla_curves_N.png
    fit_chinchilla_curves_D.png
    fit_chinchilla_residuals.png
    fit_chinchilla_contours.png
    """
    out_dir = Path(out_dir)
    paths = []
    names = fit.table.x_names
    for j, name in enumerate(names):
        fig, ax = new_axes()
        fit_curves(ax, fit, against=j)
        paths += save_figure(
            fig, out_dir / f"{prefix}_{fit.form}_curves_{_safe(name)}.png", svg=svg
        )
    fig, axes = new_axes(5.0 * len(names), 3.6, ncols=len(names))
    for j, ax in enumerate(np.atleast_1d(axes)):
        fit_residuals(ax, fit, variable=j)
    paths += save_figure(fig, out_dir / f"{prefix}_{fit.form}_residuals.png", svg=svg)
    if len(names) == 2:
        fig, ax = new_axes(5.5, 4.5)
        iso_loss_contours(ax, fit)
        paths += save_figure(fig, out_dir / f"{prefix}_{fit.form}_contours.png", svg=svg)
    return paths
