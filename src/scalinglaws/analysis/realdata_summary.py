r"""Measured loss on real data beside the theory: one record per cell, and the loss exponents.

The inputs are the Datasets of :func:`scalinglaws.bridges.realdata.simulate_realdata` (held-out
test MSE per seed, with ``test_mse_se``, the held-out standard error of each seed's estimate)
and, optionally, :func:`scalinglaws.bridges.realdata.realdata_theory`.

- ``heldout_se`` of a cell is :math:`\sqrt{\overline{\mathrm{se}^2}/n_\mathrm{seeds}}`, the
  standard error of the seed mean due to the finite test sets alone;
- ``theory_ratio`` is theory/measured;
- the loss exponents are log–log least-squares slopes (:func:`scalinglaws._loglog.loglog_fit`)
  of the seed mean against N at the largest P and against P at the largest N.
"""

from __future__ import annotations

import numpy as np

from .._loglog import loglog_fit
from ..results import GRID_DIMS, finite_or_none

__all__ = ["realdata_records", "realdata_exponents"]


def realdata_records(sim, theory=None) -> list[dict]:
    """One plain-JSON record per (N, P, γ): measured mean, its standard errors, the theory and
    theory/measured (None where undefined)."""
    mean = sim.test_mse_mean.transpose(*GRID_DIMS).values
    sem = sim.test_mse_sem.transpose(*GRID_DIMS).values
    heldout = np.sqrt((sim.test_mse_se**2).mean("seed") / sim.sizes["seed"])
    heldout = heldout.transpose(*GRID_DIMS).values
    pred = None if theory is None else theory.test_mse.transpose(*GRID_DIMS).values
    out = []
    for i, n in enumerate(sim.n_features.values):
        for j, p in enumerate(sim.n_samples.values):
            for k, g in enumerate(sim.ridge.values):
                record = {
                    "n_features": int(n),
                    "n_samples": int(p),
                    "ridge": float(g),
                    "test_mse": finite_or_none(mean[i, j, k]),
                    "test_mse_sem": finite_or_none(sem[i, j, k]),
                    "heldout_se": finite_or_none(heldout[i, j, k]),
                    "theory": None,
                    "theory_ratio": None,
                }
                if pred is not None:
                    record["theory"] = finite_or_none(pred[i, j, k])
                    with np.errstate(divide="ignore", invalid="ignore"):
                        record["theory_ratio"] = finite_or_none(pred[i, j, k] / mean[i, j, k])
                out.append(record)
    return out


def _slope(curve, dim: str) -> tuple[float, float]:
    fit = loglog_fit(np.log(curve[dim].values.astype(float)), np.log(curve.values.astype(float)))
    return fit.slope, fit.stderr


def realdata_exponents(sim, theory=None) -> list[dict]:
    """Log–log slopes of the loss against N (at the largest P) and against P (at the largest N),
    per ridge, measured (with standard error) and, if given, from the theory."""
    out = []
    for g in sim.ridge.values:
        for dim, other in (("n_features", "n_samples"), ("n_samples", "n_features")):
            at = {"ridge": g, other: sim[other].values[-1]}
            with np.errstate(divide="ignore", invalid="ignore"):
                slope, err = _slope(sim.test_mse_mean.sel(at), dim)
            row = {
                "ridge": float(g),
                "against": dim,
                "at": f"{other}={int(at[other])}",
                "measured_slope": finite_or_none(slope),
                "measured_stderr": finite_or_none(err),
            }
            if theory is not None:
                with np.errstate(divide="ignore", invalid="ignore"):
                    row["theory_slope"] = finite_or_none(_slope(theory.test_mse.sel(at), dim)[0])
            out.append(row)
    return out
