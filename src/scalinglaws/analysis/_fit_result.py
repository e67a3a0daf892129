r"""What every scaling-law fit returns: estimates, bootstrap uncertainty, predictions and bands.

:class:`FitResult` holds the point estimate and the bootstrap sample of the public parameters;
a form only says how to predict :math:`\log\hat L` from parameters (:meth:`FitResult.log_curve`).
Bands at new points come from the bootstrap draws:

- ``kind="curve"``: percentiles of :math:`\log\hat L_b(x)` over draws b (where the curve is);
- ``kind="prediction"``: percentiles of :math:`\log\hat L_b(x) + \varepsilon_b`, with
  :math:`\varepsilon_b` drawn from the fitted points' log residuals (where a new measurement
  falls).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import InputError
from ..results import finite_or_none
from ._fit_inputs import FitTable

__all__ = ["FitResult", "BAND_KINDS"]

#: Kinds of band: where the curve is, or where a new measurement falls.
BAND_KINDS = ("curve", "prediction")


@dataclass(frozen=True, kw_only=True)
class FitResult:
    r"""A fitted scaling law (base of :class:`~scalinglaws.analysis.fits.ScalingLawFit` and
    :class:`~scalinglaws.analysis.model_fit.ModelFit`).

    Attributes
    ----------
    form : str
        ``"power_law"``, ``"chinchilla"`` or ``"model"``.
    names : tuple of str
        Public parameter names, in the order of ``bootstrap``'s columns.
    params : dict
        Estimates; ``None`` for a parameter the data do not identify (reason in ``notes``).
    stderr, ci95 : dict
        Bootstrap standard errors and 95 % percentile intervals ``(low, high)``, same keys.
    covariance : ndarray of shape (q, q)
        Bootstrap covariance of the parameters (order of ``names``).
    bootstrap : ndarray of shape (n_bootstrap, q)
        The bootstrap sample of the parameters itself.
    converged : bool
        Whether the best start's optimizer converged.
    n_starts, n_at_best : int
        Starts run, and how many of them reached the best optimum.
    objective : float
        :math:`\sum_i H_\delta(\log\hat L_i - \log L_i)` at the estimate.
    huber_delta : float
        δ.
    table : FitTable
        The fitted points (after exclusions; the training points with a held-out split).
    fixed : dict
        Parameters held at given values.
    notes : dict of str to str
        Reasons and remarks: unidentified parameters, bounds, starts, exclusions.
    allocation : Allocation or None
        Compute-optimal allocation (``chinchilla`` and ``model``).
    heldout : Heldout or None
        The held-out extrapolation, when asked.
    """

    form: str
    names: tuple[str, ...]
    params: dict
    stderr: dict
    ci95: dict
    covariance: np.ndarray = field(repr=False)
    bootstrap: np.ndarray = field(repr=False)
    converged: bool
    n_starts: int
    n_at_best: int
    objective: float
    huber_delta: float
    table: FitTable = field(repr=False)
    fixed: dict = field(default_factory=dict)
    notes: dict = field(default_factory=dict)
    allocation: object = None
    heldout: object = None
    point: np.ndarray = field(repr=False, default_factory=lambda: np.empty(0))

    # -- what a form provides -------------------------------------------------------------
    def log_curve(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """log L̂ for parameters (..., q) at points x (n, K): shape (..., n)."""
        raise NotImplementedError

    def band_draws(self) -> np.ndarray:
        """The bootstrap draws used for bands (all of them, unless a form needs fewer)."""
        return self.bootstrap

    def band_edges(self) -> np.ndarray:
        """Parameters (k, q) whose curves the bands must contain besides the bootstrap's: fits
        at the bounds of what the data do not identify (none for the closed forms)."""
        return np.empty((0, len(self.names)))

    # -- shared behaviour -------------------------------------------------------------------
    @property
    def n_points(self) -> int:
        """Number of fitted points."""
        return self.table.n_points

    @property
    def n_excluded(self) -> int:
        """Number of points removed by explicit rules (held-out points not counted)."""
        return self.table.n_excluded

    @property
    def variables(self) -> tuple[str, ...]:
        """Names of the variable columns."""
        return self.table.x_names

    def as_points(self, x: object) -> np.ndarray:
        """Points as an array (n, K): an array, or a mapping/DataFrame with the variable names."""
        k = len(self.variables)
        if hasattr(x, "keys") or hasattr(x, "columns"):
            try:
                cols = [np.asarray(x[name], dtype=np.float64).ravel() for name in self.variables]
            except KeyError as err:
                raise InputError(
                    f"'x' must hold the columns {self.variables}. Got no {err}."
                ) from None
            arr = np.stack(np.broadcast_arrays(*cols), axis=-1)
        else:
            arr = np.asarray(x, dtype=np.float64)
            arr = arr.reshape(-1, 1) if k == 1 and arr.ndim <= 1 else np.atleast_2d(arr)
        if arr.shape[-1] != k or not np.all(np.isfinite(arr) & (arr > 0)):
            raise InputError(
                f"'x' must be finite values > 0 of shape (n, {k}). Got shape {arr.shape} instead."
            )
        return arr

    def predict(self, x: object) -> np.ndarray:
        """The fitted loss L̂ at ``x`` (see :meth:`as_points`), shape (n,)."""
        return np.exp(self.log_curve(self.point, self.as_points(x)))

    @property
    def log_residuals(self) -> np.ndarray:
        """log L̂ − log L at the fitted points, shape (n_points,)."""
        return np.log(self.predict(self.table.x)) - np.log(self.table.y)

    def band(
        self, x: object, *, level: float = 0.95, kind: str = "curve", rng=0
    ) -> tuple[np.ndarray, np.ndarray]:
        """Bootstrap band (low, high) of the loss at ``x``, each of shape (n,).

        ``kind="curve"`` bounds the fitted curve, ``kind="prediction"`` a new measurement (the
        curve's spread plus a residual drawn from the fitted points for each draw; ``rng``
        seeds those draws). The band also holds the curves of :meth:`band_edges` (for a
        parameter the data do not identify, the fit at the bound they set). NaN without at
        least 2 bootstrap draws.
        """
        if kind not in BAND_KINDS:
            raise InputError(f"'kind' must be one of 'curve', 'prediction'. Got {kind!r} instead.")
        points = self.as_points(x)
        draws = self.band_draws()
        if draws.shape[0] < 2:
            nan = np.full(points.shape[0], np.nan)
            return nan, nan
        log_l = self.log_curve(draws, points)  # (B, n)
        if kind == "prediction":
            gen = np.random.default_rng(rng)
            resid = self.log_residuals
            log_l = log_l - gen.choice(resid, size=log_l.shape, replace=True)
        tail = 50.0 * (1.0 - level)
        low, high = np.percentile(log_l, [tail, 100.0 - tail], axis=0)
        edges = self.band_edges()
        if edges.shape[0]:
            log_e = np.atleast_2d(self.log_curve(edges, points))
            spread = (0.0, 0.0)
            if kind == "prediction":
                spread = tuple(np.percentile(-self.log_residuals, [tail, 100.0 - tail]))
            low = np.minimum(low, log_e.min(axis=0) + spread[0])
            high = np.maximum(high, log_e.max(axis=0) + spread[1])
        return np.exp(low), np.exp(high)

    def to_dict(self) -> dict:
        """The standard JSON object (``null`` for unidentified or non-finite values)."""
        out = {
            "form": self.form,
            "n_points": self.n_points,
            "n_excluded": self.n_excluded,
            "params": {k: _num(v) for k, v in self.params.items()},
            "stderr": {k: _num(v) for k, v in self.stderr.items()},
            "ci95": {k: [_num(v[0]), _num(v[1])] for k, v in self.ci95.items()},
            "converged": bool(self.converged),
            "n_starts": int(self.n_starts),
            "objective": _num(self.objective),
            "allocation": None if self.allocation is None else self.allocation.to_dict(),
        }
        if self.heldout is not None:
            out["heldout"] = self.heldout.to_dict()
        out["notes"] = dict(self.notes)
        return out


def _num(value) -> float | None:
    return None if value is None else finite_or_none(value)
