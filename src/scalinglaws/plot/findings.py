"""Figures of the four findings (:mod:`scalinglaws.analysis.findings`): drawing only.

Each drawing is ``(ax, data, **options) -> ax`` (or takes an array of axes for a multi-panel
figure); :data:`FIGURES` maps a figure name to its drawing and panel layout, and
:func:`finding_figures` writes every figure of a
:class:`~scalinglaws.analysis.findings.FindingResult` as PNG and SVG.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

import numpy as np

from . import new_axes, save_figure
from .curves import double_descent
from .experiments import linear_vs_relu
from .spectra import draw_spectra

__all__ = ["FIGURES", "finding_figures"]

_ALPHA_COLORS = {0.5: "tab:blue", 1.0: "tab:green", 2.0: "tab:red"}


def _log_axes(ax, xlabel: str, ylabel: str = "excess test loss", title: str = ""):
    from matplotlib.ticker import NullFormatter

    ax.set(xscale="log", yscale="log", xlabel=xlabel, ylabel=ylabel)
    ax.xaxis.set_minor_formatter(NullFormatter())
    if title:
        ax.set_title(title, fontsize=9)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=7, frameon=False)
    return ax


def _quiet_minor(ax):
    """No labels on the minor ticks of a log x axis (they collide)."""
    from matplotlib.ticker import NullFormatter

    ax.xaxis.set_minor_formatter(NullFormatter())
    return ax


def _points(ax, x, mean, sem, color, label=None, marker="o"):
    ax.errorbar(x, mean, yerr=np.nan_to_num(sem), fmt=marker, ms=4, capsize=2, color=color,
                label=label)  # fmt: skip


def draw_exponents(axes, data):
    """Loss against N and against P per α: simulation ± SE, exact theory, the power law."""
    for ax, tag, symbol in ((axes[0], "n", "N"), (axes[1], "p", "P")):
        for a in data.alpha.values:
            row, color = data.sel(alpha=a), _ALPHA_COLORS.get(float(a), "k")
            _points(ax, data.x.values, row[f"{tag}_mean"], row[f"{tag}_sem"], color,
                    f"α = {a:g} simulation")  # fmt: skip
            ax.plot(data.x_dense, row[f"{tag}_theory"], "-", color=color, lw=1.2)
            ax.plot(data.x_dense, row[f"{tag}_asymptote"], "--", color=color, lw=0.8)
        other = "P" if symbol == "N" else "N"
        long = data.attrs["long_n_samples" if symbol == "N" else "long_n_features"]
        _log_axes(ax, f"{symbol}", title=f"M = {data.attrs['latent_dim']}, {other} = {long}; "
                  "lines: theory, dashed: power law")  # fmt: skip
    return axes


def draw_scaling_regime(axes, data):
    """Local exponent and loss over the power law, against n, at M = 10⁹."""
    for a in data.alpha.values:
        row, color = data.sel(alpha=a), _ALPHA_COLORS.get(float(a), "k")
        axes[0].plot(data.n, row.exponent, color=color, label=f"α = {a:g}")
        axes[0].axhline(a, color=color, ls=":", lw=0.8)
        axes[1].plot(data.n, row.prefactor_ratio, color=color, label=f"α = {a:g}")
    axes[0].set(xscale="log", xlabel="n = N (P = 10¹²)", ylabel="local exponent −dlog L/dlog N")
    axes[1].set(xscale="log", xlabel="n = N", ylabel="theory / power law")
    axes[1].axhline(1.0, color="0.5", ls=":", lw=0.8)
    for ax in axes:
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=7, frameon=False)
        ax.set_title(f"theory, M = {data.attrs['latent_dim']:.0e}", fontsize=9)
    return axes


def draw_duality(ax, data):
    """L(N, P) against L(P, N): points on the diagonal mean N ↔ P symmetry."""
    mean, sem, theory = data["mean"].values, data["sem"].values, data["theory"].values
    upper = np.triu_indices(mean.shape[0], 1)
    ax.errorbar(mean.T[upper], mean[upper], xerr=sem.T[upper], yerr=sem[upper], fmt="o", ms=4,
                capsize=2, label="simulation, pairs N ≠ P")  # fmt: skip
    ax.plot(theory[upper], theory.T[upper], "kx", ms=7, label="theory")
    lim = [min(mean.min(), theory.min()) / 1.5, max(mean.max(), theory.max()) * 1.5]
    ax.plot(lim, lim, ":", color="0.5", lw=1)
    return _log_axes(ax, "L(P, N)  (N < P)", "L(N, P)",
                     f"duality, M = {data.attrs['latent_dim']}, γ = {data.attrs['ridge']:g}")


def draw_not_power_law(ax, data):
    """Exponential and step spectra beside a power law: loss against N."""
    for name, style in (("power_law", "k--"), ("exponential", "C1-"), ("step", "C4-")):
        ok = np.isfinite(data[name].values) & (data[name].values > 0)
        ax.plot(data.n_dense[ok], data[name][ok], style, lw=1.2, label=f"{name} (theory)")
    _points(ax, data.n_features, data.sim_mean, data.sim_sem, "C1", "exponential (simulation)")
    return _log_axes(ax, "N", title=f"M = {data.attrs['latent_dim']}, "
                     f"P = {data.attrs['n_samples']}")  # fmt: skip


def _spectrum_panel(ax, data, title: str):
    curves = {f"{k} features": data[k].values[np.isfinite(data[k].values)]
              for k in ("linear", "relu")}  # fmt: skip
    if "data" in data:
        curves = {"data covariance": data["data"].values, **curves}
    fits = [dict(f, spectrum=f"{'relu' if f['spectrum'] == 'features' else f['spectrum']}"
                 f"{' features' if f['spectrum'] == 'features' else ''}")
            for f in json.loads(data.attrs["fits"]) if f["spectrum"] == "features"]  # fmt: skip
    name = "D" if "data" in data else "M"
    return draw_spectra(ax, curves, fits=fits, markers={name: data.attrs["data_rank"]},
                        title=title)  # fmt: skip


def draw_synthetic_spectra(ax, data):
    """Linear and ReLU feature spectra of a power-law spectrum, fits and M marked."""
    return _spectrum_panel(ax, data, f"synthetic, M = {data.attrs['data_rank']}")


def draw_real_spectra(axes, data):
    """One panel per installed dataset: data, linear and ReLU feature spectra."""
    flat = np.ravel(axes)
    for ax, (name, ds) in zip(flat, data.items(), strict=False):
        _spectrum_panel(ax, ds, f"{name}, D = {ds.attrs['data_rank']}")
    for ax in flat[len(data):]:
        ax.set_axis_off()
    return axes


def draw_ridge_ladder(ax, data):
    """Loss against the ridge: theory line, simulated ladder, γ* marked (γ = 0 as a line)."""
    ax.plot(data.ridge_dense, data.theory_dense, "-", color="C0", lw=1.2, label="theory")
    positive = data.ridge.values > 0
    _points(ax, data.ridge.values[positive], data.sim.values[positive],
            data.sim_sem.values[positive], "C3", "simulation")  # fmt: skip
    if not positive.all():
        ax.axhline(float(data.sim.values[~positive][0]), color="C3", ls="--", lw=0.8,
                   label="simulation, γ = 0")  # fmt: skip
    ax.axvline(data.attrs["optimal_ridge"], color="0.5", ls=":", lw=1)
    return _log_axes(ax, "ridge γ", title=f"N = {data.attrs['n_features']}, "
                     f"P = {data.attrs['n_samples']}, M = {data.attrs['latent_dim']}; dotted: γ*")


def draw_budget(ax, data):
    """Loss along N·P = C against N/P, at γ* and at a tiny ridge."""
    for name, color, label in (("optimal", "C0", "γ*"),
                               ("small", "C3", f"γ = {data.attrs['small_ridge']:g}")):
        line = data[f"theory_{name}"].values
        ok = np.isfinite(line)
        ax.plot(data.ratio_dense.values[ok], line[ok], "-", color=color, lw=1.2,
                label=f"{label} (theory)")  # fmt: skip
        _points(ax, data.ratio, data[f"sim_{name}"], data[f"sim_{name}_sem"], color,
                f"{label} (simulation)")  # fmt: skip
    ax.axvline(1.0, color="0.5", ls=":", lw=1)
    return _log_axes(ax, "N / P", title=f"N·P = {data.attrs['budget']}, "
                     f"M = {data.attrs['latent_dim']}")  # fmt: skip


def draw_frontier(axes, data):
    """N* and L* against C per α (theory), and simulated L at N = P = √C."""
    c = data.budget.values
    for a in data.alpha.values:
        row, color = data.sel(alpha=a), _ALPHA_COLORS.get(float(a), "k")
        axes[0].plot(c, row.n_star, "o-", ms=3, color=color, label=f"α = {a:g}")
        axes[1].plot(c, row.loss_star / row.loss_star[0], "o-", ms=3, color=color,
                     label=f"α = {a:g}")  # fmt: skip
        axes[1].plot(c, (c / c[0]) ** (-a / 2), ":", color=color, lw=0.8)
    axes[0].plot(c, np.sqrt(c), "k:", lw=0.8, label="C^(1/2)")
    _log_axes(axes[0], "budget C = N·P", "N*", "theory, M = 10⁹")
    _log_axes(axes[1], "budget C = N·P", "L*(C) / L*(10⁴)", "dotted: C^(−α/2)")
    _points(axes[2], data.sim_budget, data.sim, data.sim_sem, "C3", "simulation, γ*")
    axes[2].plot(data.sim_budget, data.sim_theory, "k-", lw=1, label="theory")
    _log_axes(axes[2], "C (N = P = √C)", title=f"M = {data.attrs['sim_latent_dim']}, α = 1")
    return axes


def draw_double_descent(ax, data):
    """Ridgeless and optimal-ridge loss against N; the ridgeless one peaks at N = P."""
    n = data.n_features.values
    double_descent(
        ax,
        {"ridge γ = 0": (data.n_dense.values, data.theory_ridgeless.values),
         "optimal ridge γ*": (data.n_dense.values, data.theory_optimal.values)},
        x_label="N", marker_x=data.attrs["n_samples"],
        points={"ridge γ = 0": (n, data.sim_ridgeless.values, data.sim_ridgeless_sem.values),
                "optimal ridge γ*": (n, data.sim_optimal.values, data.sim_optimal_sem.values)},
    )  # fmt: skip
    ax.set_title(f"P = {data.attrs['n_samples']}, M = {data.attrs['latent_dim']}, "
                 f"σ_ε² = {data.attrs['noise_var']:g}", fontsize=9)  # fmt: skip
    return ax


def draw_end_of_power_law(axes, data):
    """Loss against N and P up to M: simulation, exact theory, power law (dashed)."""
    m = data.attrs["latent_dim"]
    for ax, tag, symbol in ((axes[0], "n", "N"), (axes[1], "p", "P")):
        _points(ax, data.x, data[f"{tag}_mean"], data[f"{tag}_sem"], "C0", "simulation")
        ax.plot(data.x_dense, data.theory_dense, "C0-", lw=1.2, label="theory")
        ax.plot(data.x_dense, data.power_law_dense, "k--", lw=0.8, label="power law")
        ax.axvline(m, color="0.5", ls=":", lw=1)
        _log_axes(ax, symbol, title=f"M = {m}, {'P' if symbol == 'N' else 'N'} = "
                  f"{data.attrs['other']}")  # fmt: skip
    return axes


def draw_plateau(ax, data):
    """Loss against N with label noise: the plateau σ_ε²M/(P − M) past N = M."""
    ok = np.isfinite(data.theory.values)
    ax.plot(data.n_dense.values[ok], data.theory.values[ok], "C0-", lw=1.2, label="theory")
    _points(ax, data.n_features, data.sim, data.sim_sem, "C3", "simulation")
    ax.axhline(data.attrs["plateau"], color="0.4", ls=":", lw=1, label="σ_ε² M/(P − M)")
    ax.axvline(data.attrs["latent_dim"], color="0.5", ls=":", lw=1)
    return _log_axes(ax, "N", title=f"P = {data.attrs['n_samples']}, "
                     f"M = {data.attrs['latent_dim']}, σ_ε² = {data.attrs['noise_var']:g}")


def draw_change_of_exponent(ax, data):
    """Loss against P: P^−α below M, 1/P past M."""
    m, p = data.attrs["latent_dim"], data.p_dense.values
    below, past = p < m, p > m
    ax.plot(p[below], data.theory_below.values[below], "C0-", lw=1.2,
            label=f"theory, N = {data.attrs['n_features_below']}")  # fmt: skip
    ax.plot(p[past], data.theory_past.values[past], "C2-", lw=1.2,
            label=f"theory, N = {data.attrs['n_features_past']}")  # fmt: skip
    _points(ax, data.n_samples, data.sim, data.sim_sem, "C3", "simulation")
    ax.axvline(m, color="0.5", ls=":", lw=1)
    return _log_axes(ax, "P", title=f"M = {m}, α = {data.attrs['alpha']:g}, "
                     f"σ_ε² = {data.attrs['noise_var']:g}")  # fmt: skip


#: Figure name → (drawing, (width, height), number of panels).
FIGURES = {
    "statistics_exponents": (draw_exponents, (10.0, 4.2), 2),
    "statistics_scaling_regime": (draw_scaling_regime, (10.0, 4.0), 2),
    "statistics_duality": (draw_duality, (5.5, 4.5), 1),
    "statistics_not_power_law": (draw_not_power_law, (6.0, 4.5), 1),
    "nonlinear_spectra": (draw_synthetic_spectra, (6.0, 4.5), 1),
    "nonlinear_real_data": (draw_real_spectra, (12.0, 7.5), 6),
    "nonlinear_teacher": (lambda ax, data: _quiet_minor(linear_vs_relu(ax, data)), (6.0, 4.5), 1),
    "equiparameterization_ridge": (draw_ridge_ladder, (6.0, 4.5), 1),
    "equiparameterization_budget": (draw_budget, (6.0, 4.5), 1),
    "equiparameterization_frontier": (draw_frontier, (13.0, 4.2), 3),
    "breakdown_double_descent": (draw_double_descent, (6.0, 4.5), 1),
    "breakdown_end_of_power_law": (draw_end_of_power_law, (10.0, 4.2), 2),
    "breakdown_plateau": (draw_plateau, (6.0, 4.5), 1),
    "breakdown_change_of_exponent": (draw_change_of_exponent, (6.0, 4.5), 1),
}


def _axes(size, panels: int):
    if panels == 6:
        from . import pyplot

        fig, axes = pyplot().subplots(2, 3, figsize=size, constrained_layout=True)
        return fig, axes
    return new_axes(*size, ncols=panels)


def finding_figures(result, out_dir: str | Path) -> dict[str, list[Path]]:
    """Draw every figure of ``result`` into ``out_dir`` as ``<name>.png`` and ``<name>.svg``.

    Parameters
    ----------
    result : FindingResult
        Its ``data`` maps figure names of :data:`FIGURES` to their Datasets.
    out_dir : str or Path

    Returns
    -------
    dict of str to list of Path
        Figure name → the written paths (PNG first).

    Examples
    --------
    >>> import tempfile
    >>> import numpy as np, xarray as xr
    >>> from scalinglaws.analysis.findings import FindingResult
    >>> loss = np.array([[1.0, 0.5], [0.5, 0.2]])
    >>> dims = ("n_features", "n_samples")
    >>> data = xr.Dataset({"mean": (dims, loss), "sem": (dims, 0.1 * loss),
    ...                    "theory": (dims, loss)}, attrs={"latent_dim": 100, "ridge": 0.01})
    >>> result = FindingResult(name="x", title="x", claims=[], captions={}, settings={},
    ...                        data={"statistics_duality": data})
    >>> paths = finding_figures(result, tempfile.mkdtemp())["statistics_duality"]
    >>> [p.suffix for p in paths]
    ['.png', '.svg']
    """
    out = {}
    for name, data in result.data.items():
        draw, size, panels = FIGURES[name]
        fig, axes = _axes(size, panels)
        draw(axes, data)
        fig.suptitle(textwrap.fill(result.title, width=int(11 * size[0])), fontsize=9)
        out[name] = save_figure(fig, Path(out_dir) / f"{name}.png", svg=True)
    return out
