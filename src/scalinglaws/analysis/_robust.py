r"""The robust log-space estimator shared by every scaling-law fit: Huber loss, bounded
L-BFGS-B from many starts, and the nonparametric bootstrap.

=========  ===================  ==============================================================
symbol     name                 meaning
=========  ===================  ==============================================================
r_i        ``residual``         :math:`\log\hat L_i - \log L_i`
δ          ``huber_delta``      Huber threshold (1e-3 by default, as Hoffmann et al. 2022)
ω_i        ``weights``          multiplicity of point i (bootstrap counts; 1 for the fit)
θ          ``theta``            the optimizer's parameters (log amplitudes, exponents)
=========  ===================  ==============================================================

The objective handed to L-BFGS-B is

.. math:: F(\theta) = \frac{1}{\delta \sum_i \omega_i} \sum_i \omega_i\, H_\delta(r_i(\theta)),
          \qquad H_\delta(r) = \begin{cases} r^2/2 & |r| \le \delta \\
          \delta(|r| - \delta/2) & |r| > \delta \end{cases}

(the Huber sum scaled to about the mean absolute log residual, so that the relative tolerance
``ftol`` means the same for every data set); fits report the unscaled sum
:math:`\sum_i H_\delta(r_i)`. A form supplies ``fun(theta, weights) -> (F, dF/dθ)`` with
analytic gradients.

L-BFGS-B's small vector operations go through BLAS; with several BLAS threads each iteration
costs a thread handoff (measured 50x slower on a loaded 2-core machine), so fits run under
:func:`scalinglaws._threads.single_threaded`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

__all__ = [
    "LBFGSB_OPTIONS",
    "huber",
    "Optimum",
    "minimize_from",
    "MultiStart",
    "multistart",
    "bootstrap_weights",
    "refit_all",
    "Spread",
    "spread",
    "at_bound",
]

#: Tight L-BFGS-B tolerances (``ftol`` near machine precision on an O(1e-2) objective).
LBFGSB_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxiter": 10_000, "maxls": 60}
#: Two optima are "the same" when their scaled objectives (about the mean absolute log residual)
#: agree to this relative tolerance, or differ by less than :data:`SAME_ABSOLUTE`.
SAME_OPTIMUM, SAME_ABSOLUTE = 1e-7, 1e-10
#: A projected gradient below this (scaled objective) counts as converged when L-BFGS-B stopped
#: on its line search, which it does at the Huber kinks once it cannot improve further.
GRADIENT_TOLERANCE = 1e-6

Objective = Callable[[np.ndarray, np.ndarray], tuple[float, np.ndarray]]


def huber(r: np.ndarray, delta: float) -> tuple[np.ndarray, np.ndarray]:
    r"""Huber loss :math:`H_\delta(r)` and its derivative
    :math:`\psi(r) = \mathrm{clip}(r, \pm\delta)`.

    Examples
    --------
    >>> h, psi = huber(np.array([0.0005, -0.01]), 1e-3)
    >>> h.tolist(), psi.tolist()
    ([1.25e-07, 9.5e-06], [0.0005, -0.001])
    """
    a = np.abs(r)
    value = np.where(a <= delta, 0.5 * r * r, delta * (a - 0.5 * delta))
    return value, np.clip(r, -delta, delta)


@dataclass(frozen=True)
class Optimum:
    """One L-BFGS-B run: the parameters, the scaled objective, and whether it converged."""

    x: np.ndarray
    fun: float
    converged: bool
    n_iterations: int
    message: str


def _projected_gradient(x: np.ndarray, g: np.ndarray, bounds: np.ndarray) -> float:
    lo, hi = bounds[:, 0], bounds[:, 1]
    pg = np.where((x <= lo) & (g > 0), 0.0, g)
    pg = np.where((x >= hi) & (pg < 0), 0.0, pg)
    return float(np.max(np.abs(pg))) if pg.size else 0.0


def minimize_from(fun: Objective, x0: np.ndarray, bounds: np.ndarray, weights) -> Optimum:
    """L-BFGS-B with analytic gradients from ``x0`` within ``bounds`` (shape (p, 2))."""
    x0 = np.clip(np.asarray(x0, dtype=np.float64), bounds[:, 0], bounds[:, 1])
    res = minimize(
        fun,
        x0,
        args=(weights,),
        jac=True,
        method="L-BFGS-B",
        bounds=bounds,
        options=LBFGSB_OPTIONS,
    )
    converged = bool(res.success)
    if not converged and np.isfinite(res.fun):
        _, g = fun(res.x, weights)
        converged = _projected_gradient(res.x, g, bounds) <= GRADIENT_TOLERANCE
    return Optimum(res.x, float(res.fun), converged, int(res.nit), str(res.message))


@dataclass(frozen=True)
class MultiStart:
    """The best of many L-BFGS-B runs.

    ``n_starts`` runs were made; ``n_at_best`` of them reached the best objective (within
    :data:`SAME_OPTIMUM`); ``objectives`` holds each run's final scaled objective.
    """

    best: Optimum
    n_starts: int
    n_at_best: int
    objectives: np.ndarray


def multistart(fun: Objective, starts: np.ndarray, bounds: np.ndarray, weights) -> MultiStart:
    """Run :func:`minimize_from` from every row of ``starts`` (shape (k, p)); keep the best."""
    runs = [minimize_from(fun, x0, bounds, weights) for x0 in np.atleast_2d(starts)]
    values = np.array([r.fun if np.isfinite(r.fun) else np.inf for r in runs])
    k = int(np.argmin(values))
    tol = SAME_OPTIMUM * abs(values[k]) + SAME_ABSOLUTE
    return MultiStart(runs[k], len(runs), int(np.sum(values <= values[k] + tol)), values)


def bootstrap_weights(
    n_points: int, n_resamples: int, rng: np.random.Generator, groups: np.ndarray | None = None
) -> Iterator[np.ndarray]:
    """Multiplicities of the points in each nonparametric bootstrap resample.

    Without ``groups``, n points are drawn with replacement; with integer group codes of shape
    (n_points,), as many groups as there are are drawn with replacement and every point of a
    drawn group counts once per draw (the block bootstrap of whole runs or seeds).
    """
    if groups is None:
        for _ in range(n_resamples):
            draw = rng.integers(0, n_points, n_points)
            yield np.bincount(draw, minlength=n_points).astype(np.float64)
        return
    n_groups = int(groups.max()) + 1
    for _ in range(n_resamples):
        counts = np.bincount(rng.integers(0, n_groups, n_groups), minlength=n_groups)
        yield counts[groups].astype(np.float64)


def refit_all(
    fun: Objective,
    x_hat: np.ndarray,
    bounds: np.ndarray,
    weights: Iterator[np.ndarray],
    *,
    progress: Callable[[int, int], None] | None = None,
    total: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Refit from ``x_hat`` for each weight vector: (estimates (B, p), converged (B,)).

    ``progress(done, total)`` is called every 25 refits and at the end.
    """
    out, ok = [], []
    for w in weights:
        run = minimize_from(fun, x_hat, bounds, w)
        out.append(run.x)
        ok.append(run.converged)
        if progress is not None and (len(out) % 25 == 0 or len(out) == total):
            progress(len(out), total)
    return np.array(out).reshape(len(out), x_hat.size), np.array(ok, dtype=bool)


@dataclass(frozen=True)
class Spread:
    """Bootstrap summaries of samples of shape (B, q): standard errors, percentile intervals
    (``level``), and the covariance (q, q); NaN where a column is not finite."""

    stderr: np.ndarray
    low: np.ndarray
    high: np.ndarray
    covariance: np.ndarray


def spread(samples: np.ndarray, level: float = 0.95) -> Spread:
    r"""Standard deviation (ddof 1), the :math:`(1\mp\text{level})/2` percentiles and covariance.

    Examples
    --------
    >>> s = spread(np.arange(101.0)[:, None])
    >>> round(float(s.low[0]), 9), round(float(s.high[0]), 9)
    (2.5, 97.5)
    """
    q = samples.shape[1]
    if samples.shape[0] < 2:
        nan = np.full(q, np.nan)
        return Spread(nan, nan, nan, np.full((q, q), np.nan))
    tail = 50.0 * (1.0 - level)
    finite = np.all(np.isfinite(samples), axis=0)
    safe = np.where(finite, samples, 0.0)
    low, high = np.percentile(safe, [tail, 100.0 - tail], axis=0)
    cov = np.atleast_2d(np.cov(safe, rowvar=False))
    bad = ~finite
    cov[bad, :] = np.nan
    cov[:, bad] = np.nan
    std = np.sqrt(np.diag(cov))
    return Spread(std, np.where(finite, low, np.nan), np.where(finite, high, np.nan), cov)


def at_bound(x: np.ndarray, bounds: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Masks of the entries of ``x`` (shape (..., p)) on their lower and upper bounds."""
    lo, hi = bounds[:, 0], bounds[:, 1]
    tol = 1e-6 * (1.0 + np.abs(bounds))
    return x <= lo + tol[:, 0], x >= hi - tol[:, 1]
