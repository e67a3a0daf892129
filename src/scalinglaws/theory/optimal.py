r"""Optimal ridge and compute-optimal allocation of N and P (``docs/model.md`` §5).

- :func:`optimal_ridge`: :math:`\gamma^*(N, P) = \arg\min_\gamma L(N, P, \gamma)` and
  :math:`L_\text{opt}`, by a coarse scan in :math:`\log\tilde\gamma` followed by Brent's
  refinement (parabolic steps with a golden-section safeguard); γ* = 0 when the ridgeless loss
  is no larger (e.g. noiseless with N, P ≥ M).
- :func:`compute_frontier`: for each budget C, the allocation minimizing the loss on the cost
  curve :math:`C = c_N N + c_P P + c_{NP} N P` (default N·P = C), and power-law fits
  :math:`N^* \propto C^{a}`, :math:`P^* \propto C^{a_P}`, :math:`L^* \propto C^{-b}`.

==========  ======================  ==============================================
symbol      name                    meaning
==========  ======================  ==============================================
N, P        (see meaning)           ``n_features``, ``n_samples``
γ*          ``ridge``               the optimal ridge
γ̃*          ``normalized_ridge``    the optimal normalized ridge γ*M/(σ_u²NP)
L_opt       ``test_mse``            loss at γ*
C           ``budget``              compute budget
c_N         ``per_feature``         cost per feature
c_P         ``per_sample``          cost per sample
c_NP        ``per_product``         cost per (feature × sample)
==========  ======================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .._loglog import loglog_fit
from .._validation import (
    InputError,
    check_choice,
    check_float_list,
    check_nonnegative_float,
    warn_numerical,
)
from ..model.spec import ModelSpec
from . import _scaled
from ._grid import Progress, run_in_chunks
from ._solve import brent_minimum, warn_unconverged
from ._sums import SpectralSums, spectral_sums
from .loss import METHODS, TheoryResult, _as_points, check_linear_spec, result_from_core

if TYPE_CHECKING:  # xarray loads where a Dataset is built (it costs 0.4 s at start-up)
    import xarray as xr

__all__ = ["optimal_ridge", "CostModel", "Frontier", "compute_frontier"]

_SCAN = np.linspace(np.log(1e-8), np.log(1e4), 25)  # log(γ̃/κ_ref), 2 points per decade


def _optimal_log_ridge(sums: SpectralSums, noise_var: float, nf, ns, *, xtol: float):
    """log γ̂* (flat; ``-inf`` for γ* = 0), the ridgeless log κ̂₀, and where the scan hit its top.

    Minimizes the log of the excess (the same minimizer, and finite where the excess overflows)
    over log γ̂ = log κ̂_ref + [log 1e-8, log 1e4], κ̂_ref the ridgeless κ̂₀ (or ℓ_M once κ₀ = 0).
    """
    t0 = _scaled.ridgeless_log_kappa(sums, np.minimum(nf, ns))
    ref = np.where(t0 > -np.inf, t0, np.log(sums.smallest_level))
    log_gh = ref[:, None] + _SCAN[None, :]
    rep = np.broadcast_to
    scan = _scaled.evaluate(
        sums,
        rep(nf[:, None], log_gh.shape).ravel(),
        rep(ns[:, None], log_gh.shape).ravel(),
        log_gh.ravel(),
        noise_var,
        rep(t0[:, None], log_gh.shape).ravel(),
    )["log_excess"].reshape(log_gh.shape)
    j = np.argmin(scan, axis=1)
    at_top = j == _SCAN.size - 1
    rows = np.arange(nf.size)
    lo = log_gh[rows, np.maximum(j - 1, 0)]
    hi = log_gh[rows, np.minimum(j + 1, _SCAN.size - 1)]

    def objective(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return _scaled.evaluate(sums, nf[idx], ns[idx], t, noise_var, t0[idx])["log_excess"]

    t_best, f_best, converged = brent_minimum(objective, lo, hi, xtol=xtol)
    warn_unconverged(converged, "The search for the optimal ridge")
    ridgeless = _scaled.evaluate(sums, nf, ns, np.full(nf.size, -np.inf), noise_var, t0)
    return np.where(ridgeless["log_excess"] <= f_best, -np.inf, t_best), t0, at_top


def _warn_scan_top(at_top: np.ndarray) -> None:
    if np.any(at_top):
        warn_numerical(
            f"The optimal ridge lies at or above the largest ridge scanned (1e4 times the "
            f"ridgeless kappa) at {int(at_top.sum())} point(s); the loss is flat there. Check "
            "the model's scales.",
            stacklevel=4,
        )


def _ridge_from_log(sums: SpectralSums, spec: ModelSpec, log_gh, nf, ns, warn=True) -> np.ndarray:
    """γ = exp(log γ̂) · σ_u² N P λ₊ / M, in log space (``inf`` beyond float64, warned)."""
    const = np.log(spec.feature_var) + sums.log_lambda_plus - np.log(sums.latent_dim)
    with np.errstate(over="ignore"):
        ridge = np.exp(log_gh + np.log(nf) + np.log(ns) + const)
    if warn and np.any(np.isinf(ridge)):
        warn_numerical(
            f"The optimal ridge exceeds the float64 range (1.8e308) at {int(np.isinf(ridge).sum())}"
            " point(s): returning inf there. Rescale feature_var or lambda_plus.",
            stacklevel=4,
        )
    return ridge


def _optimum(sums, spec, nf, ns, *, xtol: float, warn: bool = True) -> dict:
    """The §5 core at γ* for flat N, P, with ``ridge`` (γ*) and ``at_top`` added."""
    log_gh, t0, at_top = _optimal_log_ridge(sums, spec.noise_var, nf, ns, xtol=xtol)
    core = _scaled.evaluate(sums, nf, ns, log_gh, spec.noise_var, t0)
    core.update(ridge=_ridge_from_log(sums, spec, log_gh, nf, ns, warn=warn), at_top=at_top)
    if warn:
        _warn_scan_top(at_top)
        _scaled.warn(core, stacklevel=5)
    return core


def optimal_ridge(
    spec: ModelSpec,
    n_features: object,
    n_samples: object,
    *,
    method: str = "auto",
    xtol: float = 1e-4,
) -> TheoryResult:
    r"""The ridge that minimizes the test loss, and the loss there, at broadcast (N, P).

    .. math:: \gamma^* = \arg\min_{\gamma \ge 0} \text{test\_mse}(N, P, \gamma)

    Scans :math:`\log\tilde\gamma` over [1e-8, 1e4] times the ridgeless κ₀ (or λ_M when
    min(N, P) ≥ M), 2 points per decade, refines the best bracket by Brent's method to ``xtol``
    in log γ̃ (the loss is flat there: its error is ~xtol²), and returns
    γ* = 0 when the ridgeless loss is no larger. The optimal γ is non-zero even without noise
    (``docs/model.md`` §5). All in scaled units, so any λ₊, σ_w², σ_u² in float64 work.

    Returns
    -------
    TheoryResult
        The theory at γ*, so ``.ridge`` is γ* and ``.test_mse`` is L_opt; fields of the broadcast
        shape of N and P.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0))
    >>> best = optimal_ridge(spec, 256, 1024)
    >>> g = float(best.ridge)
    >>> f'{g:.2e}'
    '9.33e-04'
    >>> from scalinglaws.theory import theory_loss
    >>> loss = theory_loss(spec, 256, 1024, [g / 10, g, 10 * g]).excess
    >>> bool(loss[1] < min(loss[0], loss[2]))  # γ* > 0 beats its neighbours, with no noise at all
    True
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    nf, ns = np.broadcast_arrays(nf, ns)
    sums = spectral_sums(spec, method)
    core = _optimum(sums, spec, nf.ravel(), ns.ravel(), xtol=xtol)
    return result_from_core(core, nf, ns, core["ridge"].reshape(nf.shape))


@dataclass(frozen=True, kw_only=True)
class CostModel:
    r"""Cost :math:`C = c_N N + c_P P + c_{NP} N P` of training N features on P samples.

    The default (``per_product=1``) is the budget N·P of the paper.
    """

    per_feature: float = 0.0
    per_sample: float = 0.0
    per_product: float = 1.0

    def __post_init__(self) -> None:
        for name in ("per_feature", "per_sample", "per_product"):
            object.__setattr__(self, name, check_nonnegative_float(name, getattr(self, name)))
        if self.per_product == 0 and self.per_sample == 0:
            raise InputError(
                "'per_product' must be > 0 when 'per_sample' is 0, so that the budget fixes "
                f"n_samples. Got {self.per_product!r} instead."
            )
        if self.per_product == 0 and self.per_feature == 0:
            raise InputError(
                "'per_product' must be > 0 when 'per_feature' is 0, so that the budget bounds "
                f"n_features. Got {self.per_product!r} instead."
            )

    @property
    def smallest_budget(self) -> float:
        """The cost of N = P = 1, the least budget with a valid allocation."""
        return self.per_feature + self.per_sample + self.per_product

    def cost(self, n_features: np.ndarray, n_samples: np.ndarray) -> np.ndarray:
        """C(N, P), broadcast shape."""
        return (
            self.per_feature * n_features
            + self.per_sample * n_samples
            + self.per_product * n_features * n_samples
        )

    def n_samples_for(self, budget: np.ndarray, n_features: np.ndarray) -> np.ndarray:
        r"""P on the budget curve: :math:`(C - c_N N)/(c_P + c_{NP} N)`, broadcast shape."""
        return (budget - self.per_feature * n_features) / (
            self.per_sample + self.per_product * n_features
        )

    def max_features(self, budget: np.ndarray) -> np.ndarray:
        """Largest N that still leaves P ≥ 1 on the budget."""
        return (budget - self.per_sample) / (self.per_feature + self.per_product)


@dataclass(frozen=True)
class Frontier:
    """Compute-optimal allocation per budget (arrays of shape ``(n_budgets,)``) and fits.

    ``exponent_n_features`` a, ``exponent_n_samples`` a_P and ``exponent_loss`` b are least-squares
    slopes in log–log: N* ∝ C^a, P* ∝ C^a_P, L* ∝ C^-b (NaN with fewer than two budgets).
    """

    budget: np.ndarray
    n_features: np.ndarray
    n_samples: np.ndarray
    ridge: np.ndarray
    test_mse: np.ndarray
    excess: np.ndarray
    exponent_n_features: float
    exponent_n_samples: float
    exponent_loss: float

    def to_dataset(self) -> xr.Dataset:
        """The per-budget arrays as an xarray Dataset over ``budget``; exponents as attrs."""
        import xarray as xr

        names = ("n_features", "n_samples", "ridge", "test_mse", "excess")
        return xr.Dataset(
            {name: ("budget", getattr(self, name)) for name in names},
            coords={"budget": self.budget},
            attrs={
                "exponent_n_features": self.exponent_n_features,
                "exponent_n_samples": self.exponent_n_samples,
                "exponent_loss": self.exponent_loss,
            },
        )


def _slope(x: np.ndarray, log_y: np.ndarray) -> float:
    """Least-squares slope of log y against log x (NaN with < 2 points or a non-finite log y)."""
    return loglog_fit(np.log(x), log_y).slope


def _check_budgets(budgets: object, cost: CostModel) -> np.ndarray:
    budget = np.array(check_float_list("budgets", budgets, allow_zero=False))
    least = cost.smallest_budget
    if np.any(budget < least):
        bad = float(budget[np.argmax(budget < least)])
        raise InputError(
            f"'budgets' must be >= {least:g} with this cost (the cost of n_features = "
            f"n_samples = 1, c_N + c_P + c_NP). Got {bad!r} instead."
        )
    return budget


def compute_frontier(
    spec: ModelSpec,
    budgets: object,
    *,
    cost: CostModel | None = None,
    ridge: float | None = None,
    method: str = "auto",
    n_grid: int = 25,
    xtol: float = 1e-4,
    progress: Progress | None = None,
    allow_slow: bool = False,
) -> Frontier:
    r"""Loss-minimizing (N*, P*) for each compute budget C, and the frontier's exponents.

    .. math:: (N^*, P^*) = \arg\min_{C(N,P) = C} L_\text{opt}(N, P)

    Scans log N over [1, N_max(C)] (``n_grid`` points; P from the budget curve), then refines by
    Brent's method to ``xtol`` in log N. ``ridge=None`` uses γ*(N, P) at each point
    (:func:`optimal_ridge`); a number holds γ fixed. With the default cost N·P, γ optimal and
    no noise, the isotropic model gives N* = P* = C^(1/2) and L* ∝ C^(-α/2) (``docs/model.md`` §5).
    The search minimizes the log of the excess, in scaled units (any λ₊, σ_w², σ_u²); the loss
    exponent is fitted to the log excess, so it exists even where the excess overflows.
    Budgets are solved a few at a time, with ``progress(done, total)`` after each group; a list
    whose time, measured on the first budget, extrapolates past an hour is refused (an
    :class:`~scalinglaws._validation.InputError`) unless ``allow_slow``.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10**9, alpha=1.0))
    >>> front = compute_frontier(spec, [1e4, 1e6, 1e8])
    >>> round(float(front.exponent_n_features), 2), round(float(front.exponent_loss), 2)
    (0.5, 0.5)
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    cost = cost if cost is not None else CostModel()
    if not isinstance(cost, CostModel):
        raise TypeError(f"'cost' must be a CostModel. Got {type(cost).__name__} instead.")
    budget = _check_budgets(budgets, cost)
    fixed = None if ridge is None else check_nonnegative_float("ridge", ridge)
    sums = spectral_sums(spec, method)
    names = ("n_features", "n_samples", "ridge", "test_mse", "excess", "log_excess", "pole")
    out = {name: np.empty(budget.size) for name in names}
    at_top = np.zeros(budget.size, dtype=bool)

    def chunk(start: int, stop: int) -> None:
        part = _frontier_points(sums, spec, cost, budget[start:stop], fixed, n_grid, xtol)
        for name in names:
            out[name][start:stop] = part[name]
        at_top[start:stop] = part.get("at_top", False)

    run_in_chunks(
        chunk,
        budget.size,
        what="The frontier",
        parameter="the number of budgets",
        progress=progress,
        allow_slow=allow_slow,
        first_chunk=1,
        chunk=8,
        unit="budgets",
    )
    _warn_scan_top(at_top)
    _scaled.warn({**out, "pole": out["pole"].astype(bool)}, fields=("excess", "test_mse"))
    if np.any(np.isinf(out["ridge"])):
        _ridge_from_log(sums, spec, np.array([np.inf]), np.ones(1), np.ones(1))  # warns why
    return Frontier(
        budget=budget,
        n_features=out["n_features"],
        n_samples=out["n_samples"],
        ridge=out["ridge"],
        test_mse=out["test_mse"],
        excess=out["excess"],
        exponent_n_features=_slope(budget, np.log(out["n_features"])),
        exponent_n_samples=_slope(budget, np.log(out["n_samples"])),
        exponent_loss=-_slope(budget, out["log_excess"]),
    )


def _frontier_points(sums, spec, cost, budget, fixed, n_grid, xtol) -> dict:
    """N*, P* and the core there for each of ``budget`` (no warnings; see compute_frontier)."""
    n_max = np.maximum(cost.max_features(budget), 1.0)

    def loss(log_n: np.ndarray, idx: np.ndarray) -> np.ndarray:
        nf = np.exp(log_n)
        ns = cost.n_samples_for(budget[idx], nf)
        if fixed is None:
            log_gh, t0, _ = _optimal_log_ridge(sums, spec.noise_var, nf, ns, xtol=1e-4)
            return _scaled.evaluate(sums, nf, ns, log_gh, spec.noise_var, t0)["log_excess"]
        log_gh = _scaled.log_normalized_ridge(sums, fixed, spec.feature_var, nf, ns)
        return _scaled.evaluate(sums, nf, ns, log_gh, spec.noise_var)["log_excess"]

    grid = np.linspace(0.0, 1.0, n_grid)[None, :] * np.log(n_max)[:, None]
    rows = np.repeat(np.arange(budget.size), n_grid)
    scan = loss(grid.ravel(), rows).reshape(grid.shape)
    j = np.argmin(scan, axis=1)
    r = np.arange(budget.size)
    lo = grid[r, np.maximum(j - 1, 0)]
    hi = grid[r, np.minimum(j + 1, n_grid - 1)]
    log_n, _, converged = brent_minimum(loss, lo, hi, xtol=xtol)
    warn_unconverged(converged, "The search for the compute-optimal allocation")
    nf = np.exp(log_n)
    ns = cost.n_samples_for(budget, nf)
    if fixed is None:
        core = _optimum(sums, spec, nf, ns, xtol=1e-4, warn=False)
    else:
        log_gh = _scaled.log_normalized_ridge(sums, fixed, spec.feature_var, nf, ns)
        core = _scaled.evaluate(sums, nf, ns, log_gh, spec.noise_var)
        core["ridge"] = np.full(nf.size, fixed)
    return {**core, "n_features": nf, "n_samples": ns}
