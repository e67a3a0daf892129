"""Figure files written by CLI commands (``--plot DIR``): drawing only, the numbers come from
the library."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import xarray as xr

from ..model.spec import ModelSpec


def dense_theory(spec: ModelSpec, ds: xr.Dataset, x: str, points: int = 80) -> xr.Dataset | None:
    """Theory on a dense log grid of ``x`` and the simulated values of the other axis.

    Returns None where the theory does not apply (nonlinear features) or is not installed.
    """
    if not spec.is_linear:
        return None
    try:
        from ..theory import theory_loss
    except ImportError:  # pragma: no cover - partial install
        return None
    other = "n_samples" if x == "n_features" else "n_features"
    lo, hi = float(ds[x].min()), float(ds[x].max())
    xs = np.unique(np.concatenate([np.geomspace(lo, hi, points), ds[x].values]))
    os_ = ds[other].values.astype(float)
    rg = ds.ridge.values
    nf = xs[:, None, None] if x == "n_features" else os_[None, :, None]
    ns = os_[None, :, None] if x == "n_features" else xs[:, None, None]
    res = theory_loss(spec, nf, ns, rg[None, None, :])
    dims = (x, other, "ridge")
    return xr.Dataset(
        {"excess": (dims, np.asarray(res.excess)), "test_mse": (dims, np.asarray(res.test_mse))},
        coords={x: xs, other: os_, "ridge": rg},
    )


def simulation_figures(spec: ModelSpec, ds: xr.Dataset, out_dir: str | Path) -> list[Path]:
    """Log–log loss against N and against P (points ± SEM, theory lines when linear)."""
    import warnings

    from ..plot.curves import loss_curves, new_axes, save_figure

    paths = []
    for x in ("n_features", "n_samples"):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # theory poles at N = P are drawn as gaps
            theory = dense_theory(spec, ds, x)
        fig, ax = new_axes()
        loss_curves(ax, ds, theory, x=x, quantity="excess", ridge=float(ds.ridge.values[0]))
        paths.append(save_figure(fig, Path(out_dir) / f"simulate_excess_vs_{x}.png"))
    return paths
