"""Figures of ``scalinglaws spectrum --plot DIR``: drawing only, the numbers come from the library.

- ``spectrum_<source>_<activation>.png``: log–log eigenvalue against rank, fitted power laws as
  dashed lines, the data rank (M) marked.
- ``spectrum_linear_vs_relu.png``: linear and ReLU feature spectra of the same source past M
  (``docs/model.md`` §1.2, §6, §7), with M (and min(N, P) for a dataset) marked.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from . import new_axes, save_figure

_COLORS = {"data": "0.35", "linear": "tab:blue", "relu": "tab:red"}


def draw_spectra(ax, curves: dict[str, np.ndarray], *, fits=(), markers=None, title=""):
    """Log–log eigenvalue against rank per curve, fits and vertical markers.

    ``curves[label]`` has shape (n,); eigenvalues below 1e-13 of the largest (round-off past the
    rank of a linear map) are counted in the legend, not drawn. ``fits`` are records with
    ``spectrum``, ``start``, ``stop``, ``prefactor``, ``exponent``; ``markers[label] = rank`` draws
    dotted vertical lines.
    """
    floor = 1e-13 * max(float(np.max(lam)) for lam in curves.values())
    for k, (label, lam) in enumerate(curves.items()):
        ranks = np.arange(1, lam.size + 1)
        ok = lam > floor
        color = _COLORS.get(label.split()[0], f"C{k}")
        hidden = int(np.count_nonzero(~ok))
        text = f"{label} ({hidden} round-off values < 1e-13 not shown)" if hidden else label
        ax.plot(ranks[ok], lam[ok], ".", ms=2.5, color=color, label=text)
        for fit in fits:
            if fit.get("spectrum") == label and "exponent" in fit:
                x = np.geomspace(fit["start"], fit["stop"] - 1, 20)
                ax.plot(x, fit["prefactor"] * x ** -fit["exponent"], "--", color="k", lw=1)
                ax.annotate(
                    f"{-fit['exponent']:.2f}",
                    (x[10], 1.8 * fit["prefactor"] * x[10] ** -fit["exponent"]),
                    fontsize=7,
                )
    for name, rank in (markers or {}).items():
        ax.axvline(rank, color="0.5", ls=":", lw=1)
        ax.annotate(name, (rank, 1.0), xycoords=("data", "axes fraction"), fontsize=8,
                    ha="left", va="top")  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("rank i")
    ax.set_ylabel("eigenvalue λ_i")
    ax.set_title(title, fontsize=9)
    ax.legend(fontsize=7, frameon=False, markerscale=4, loc="lower left")  # spectra fall: empty
    ax.grid(True, which="major", alpha=0.3)
    return ax


def spectrum_figures(analysis, out_dir: str | Path) -> list[Path]:
    """Write the spectrum of a :class:`~scalinglaws.analysis.spectrum_analysis.SpectrumAnalysis`
    with its fits, and, when it holds the ``"linear features"`` and ``"relu features"`` curves
    (``compare``), linear against ReLU features past the data's rank."""
    src, act, curves = analysis.source, analysis.activation, analysis.curves
    dataset = src["kind"] == "dataset"
    name = src["name"] if dataset else f"M{src['latent_dim']}_alpha{src['alpha']:g}"
    rank_label = "D (data rank)" if dataset else "M"
    markers = {f"{rank_label} = {analysis.rank}": analysis.rank}
    if dataset:
        n_min = min(analysis.n_features, src["n_samples_used"])
        markers[f"min(N, P) = {n_min}"] = n_min
    labelled = {("data" if k == "data" else act): curves[k] for k in ("data", "features")
                if k in curves}  # fmt: skip
    fits = [{**f, "spectrum": "data" if f["spectrum"] == "data" else act} for f in analysis.fits]
    paths = []
    fig, ax = new_axes()
    what = src["name"] if dataset else f"M = {src['latent_dim']}, α = {src['alpha']:g}"
    draw_spectra(ax, labelled, fits=fits, markers=markers,
                 title=f"{what}: {act} features, N = {analysis.n_features}")  # fmt: skip
    paths += save_figure(fig, Path(out_dir) / f"spectrum_{name}_{act}.png")
    if "linear features" in curves and "relu features" in curves:
        pair = {k: curves[k] for k in ("linear features", "relu features")}
        if dataset:
            pair = {"data covariance": curves["data"], **pair}
        fig, ax = new_axes()
        title = f"{what}: linear features stop at the data rank, ReLU features go on"
        draw_spectra(ax, pair, markers=markers, title=title)
        paths += save_figure(fig, Path(out_dir) / f"spectrum_{name}_linear_vs_relu.png")
    return paths
