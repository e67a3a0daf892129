r"""Optimal ridge and compute-optimal allocation of N and P (``MODEL.md`` §5).

- :func:`optimal_ridge`: :math:`\gamma^*(N, P) = \arg\min_\gamma L(N, P, \gamma)` and
  :math:`L_\text{opt}`, by a coarse scan in :math:`\log\tilde\gamma` followed by golden-section
  refinement; γ* = 0 when the ridgeless loss is no larger (e.g. noiseless with N, P ≥ M).
- :func:`compute_frontier`: for each budget C, the allocation minimizing the loss on the cost
  curve :math:`C = c_N N + c_P P + c_{NP} N P` (default N·P = C), and power-law fits
  :math:`N^* \propto C^{a}`, :math:`P^* \propto C^{a_P}`, :math:`L^* \propto C^{-b}`.

==========  ====================  ==============================================
symbol      name                  meaning
==========  ====================  ==============================================
N, P        ``n_features``, ``n_samples``
γ*, γ̃*      ``ridge``, ``normalized_ridge`` at the optimum
L_opt       ``test_mse``          loss at γ*
C           ``budget``            compute budget
c_N, c_P    ``per_feature``, ``per_sample``   linear cost coefficients
c_NP        ``per_product``       cost per (feature × sample)
==========  ====================  ==============================================
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np
import xarray as xr

from .._validation import (
    NumericalWarning,
    check_choice,
    check_float_list,
    check_nonnegative_float,
    warn_numerical,
)
from ..spec import ModelSpec
from ._solve import golden_minimum
from ._sums import SpectralSums, spectral_sums
from .loss import (
    METHODS,
    TheoryResult,
    _as_points,
    _evaluate,
    check_linear_spec,
    ridgeless_kappa,
    theory_loss,
)

__all__ = ["optimal_ridge", "CostModel", "Frontier", "compute_frontier"]

_SCAN = np.linspace(np.log(1e-8), np.log(1e4), 25)  # log(γ̃/κ_ref), 2 points per decade


def _optimal_flat(sums: SpectralSums, spec: ModelSpec, nf, ns, *, xtol: float) -> np.ndarray:
    """γ* (flat) for flat N, P."""
    m = sums.latent_dim
    to_ridge = spec.feature_var * nf * ns / m  # γ = γ̃ · σ_u² N P / M
    kappa0 = ridgeless_kappa(sums, np.minimum(nf, ns))
    ref = np.log(np.where(kappa0 > 0, kappa0, sums.smallest))
    log_gt = ref[:, None] + _SCAN[None, :]
    rep = np.broadcast_to
    scan = _evaluate(
        sums,
        spec,
        rep(nf[:, None], log_gt.shape).ravel(),
        rep(ns[:, None], log_gt.shape).ravel(),
        (np.exp(log_gt) * to_ridge[:, None]).ravel(),
        rep(kappa0[:, None], log_gt.shape).ravel(),
    )["excess"].reshape(log_gt.shape)
    j = np.argmin(scan, axis=1)
    if np.any(j == _SCAN.size - 1):
        warn_numerical(
            "The optimal ridge lies at or above the largest ridge scanned (1e4 times the "
            "ridgeless kappa); the loss is flat there. Check the model's scales.",
            stacklevel=4,
        )
    rows = np.arange(nf.size)
    lo = log_gt[rows, np.maximum(j - 1, 0)]
    hi = log_gt[rows, np.minimum(j + 1, _SCAN.size - 1)]

    def objective(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        ridge = np.exp(t) * to_ridge[idx]
        return _evaluate(sums, spec, nf[idx], ns[idx], ridge, kappa0[idx])["excess"]

    t_best, f_best = golden_minimum(objective, lo, hi, xtol=xtol)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)  # the γ = 0 pole is a candidate only
        ridgeless = _evaluate(sums, spec, nf, ns, np.zeros(nf.size), kappa0)["excess"]
    return np.where(ridgeless <= f_best, 0.0, np.exp(t_best) * to_ridge)


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
    min(N, P) ≥ M), 2 points per decade, refines the best bracket by golden section to ``xtol``
    in log γ̃ (the loss is flat there: its error is ~xtol²), and returns
    γ* = 0 when the ridgeless loss is no larger. The optimal γ is non-zero even without noise
    (``MODEL.md`` §5).

    Returns
    -------
    TheoryResult
        :func:`~scalinglaws.theory.theory_loss` at γ*, so ``.ridge`` is γ* and ``.test_mse`` is
        L_opt; fields of the broadcast shape of N and P.
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    nf, ns = np.broadcast_arrays(nf, ns)
    sums = spectral_sums(spec, method)
    best = _optimal_flat(sums, spec, nf.ravel(), ns.ravel(), xtol=xtol).reshape(nf.shape)
    return theory_loss(spec, nf, ns, best, method=method)


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
        if self.per_sample + self.per_product == 0:
            raise ValueError(
                "'per_sample' or 'per_product' must be > 0, so that the budget fixes n_samples. "
                "Got 0 and 0 instead."
            )

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


def _slope(x: np.ndarray, y: np.ndarray) -> float:
    if x.size < 2 or not np.all(np.isfinite(y)) or np.any(y <= 0):
        return float("nan")
    return float(np.polyfit(np.log(x), np.log(y), 1)[0])


def compute_frontier(
    spec: ModelSpec,
    budgets: object,
    *,
    cost: CostModel | None = None,
    ridge: float | None = None,
    method: str = "auto",
    n_grid: int = 25,
    xtol: float = 1e-4,
) -> Frontier:
    r"""Loss-minimizing (N*, P*) for each compute budget C, and the frontier's exponents.

    .. math:: (N^*, P^*) = \arg\min_{C(N,P) = C} L_\text{opt}(N, P)

    Scans log N over [1, N_max(C)] (``n_grid`` points; P from the budget curve), then refines by
    golden section to ``xtol`` in log N. ``ridge=None`` uses γ*(N, P) at each point
    (:func:`optimal_ridge`); a number holds γ fixed. With the default cost N·P, γ optimal and
    no noise, the isotropic model gives N* = P* = C^(1/2) and L* ∝ C^(-α/2) (``MODEL.md`` §5).
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    cost = cost if cost is not None else CostModel()
    if not isinstance(cost, CostModel):
        raise TypeError(f"'cost' must be a CostModel. Got {type(cost).__name__} instead.")
    budget = np.array(check_float_list("budgets", budgets, allow_zero=False))
    fixed = None if ridge is None else check_nonnegative_float("ridge", ridge)
    n_max = cost.max_features(budget)
    if np.any(n_max < 1):
        bad = float(budget[np.argmax(n_max < 1)])
        raise ValueError(f"'budgets' must allow n_features >= 1 and n_samples >= 1. Got {bad!r}.")
    sums = spectral_sums(spec, method)

    def loss(log_n: np.ndarray, idx: np.ndarray) -> np.ndarray:
        nf = np.exp(log_n)
        ns = cost.n_samples_for(budget[idx], nf)
        if fixed is None:
            ridges = _optimal_flat(sums, spec, nf, ns, xtol=1e-4)
        else:
            ridges = np.full(nf.size, fixed)
        return _evaluate(sums, spec, nf, ns, ridges)["excess"]

    grid = np.linspace(0.0, 1.0, n_grid)[None, :] * np.log(n_max)[:, None]
    rows = np.repeat(np.arange(budget.size), n_grid)
    scan = loss(grid.ravel(), rows).reshape(grid.shape)
    j = np.argmin(scan, axis=1)
    r = np.arange(budget.size)
    lo = grid[r, np.maximum(j - 1, 0)]
    hi = grid[r, np.minimum(j + 1, n_grid - 1)]
    log_n, _ = golden_minimum(loss, lo, hi, xtol=xtol)
    nf = np.exp(log_n)
    ns = cost.n_samples_for(budget, nf)
    best = optimal_ridge(spec, nf, ns, method=method) if fixed is None else None
    res = best if best is not None else theory_loss(spec, nf, ns, fixed, method=method)
    return Frontier(
        budget=budget,
        n_features=nf,
        n_samples=ns,
        ridge=res.ridge,
        test_mse=res.test_mse,
        excess=res.excess,
        exponent_n_features=_slope(budget, nf),
        exponent_n_samples=_slope(budget, ns),
        exponent_loss=-_slope(budget, res.excess),
    )
