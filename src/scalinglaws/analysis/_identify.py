r"""Whether measured losses identify the solvable model's latent dimension and noise.

Two tests, and a parameter is reported only if it passes both:

1. **Profile.** Hold the parameter at the edge of what it can mean — M at the top of the range
   searched (no bend within the data), σ_ε² at the bottom (no noise) — refit the others, and
   compare the objective with the best fit by the deviance-like statistic

   .. math:: D = n\,\frac{F_\text{held} - \hat F}{\hat F}

   (F the scaled Huber objective of :mod:`._robust`, n the number of points; for Gaussian log
   residuals in Huber's quadratic zone D is the likelihood-ratio statistic, in the L1-like zone
   it is half of it, so the test is conservative there). D at most the 95 % point of χ²₁, 3.84,
   means the edge fits as well as the estimate: the parameter is *not identified*, and the bound
   the data do set is where D reaches 3.84 (bisection along the profile).
2. **Bootstrap.** The parameter's 95 % bootstrap interval must stay inside the range searched.

A profile in M holds M at an integer, so it needs the theory only along α: each is fitted on
a one-dimensional surrogate at that M (about 20 theory calls), as accurate as the fine grid
(interpolation error ~1e-4 in log L, well below what D resolves). The noise profile runs on the
fine surrogate of the estimate.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from . import _robust

__all__ = ["CHI2_95", "Identification", "identify"]

#: 95 % point of the χ² distribution with one degree of freedom.
CHI2_95 = 3.841
#: Bisection steps for a bound (the range in log M or log σ² over 2^12).
_BISECTIONS = 12


@dataclass(frozen=True)
class Identification:
    """What the data identify (see the module docstring); bounds are in the model's units.

    ``m_above``: M not identified from above (no bend), with lower bound ``m_low``;
    ``m_below``: every point lies past the bend, upper bound ``m_high``; ``noise_below``: no
    noise is needed, upper bound ``noise_high``; ``deviance``: D of each edge tested;
    ``edges``: the full θ of the fits at those bounds (the curves the data still allow).
    """

    m_above: bool = False
    m_below: bool = False
    noise_below: bool = False
    alpha_edge: bool = False
    m_low: float = float("nan")
    m_high: float = float("nan")
    noise_high: float = float("nan")
    deviance: dict = dataclasses.field(default_factory=dict)
    edges: tuple = ()


def _held(objective, index: int, value: float):
    theta = objective.theta_full.copy()
    theta[index] = value
    free = objective.free.copy()
    free[index] = False
    return dataclasses.replace(objective, theta_full=theta, free=free)


@dataclass
class _Profile:
    """D of fits with one parameter held; ``at_latent_dim(ℓ)`` gives (objective, bounds) of a
    one-dimensional surrogate at M = exp(ℓ)."""

    objective: object
    bounds: np.ndarray
    theta: np.ndarray
    at_latent_dim: Callable

    def __post_init__(self) -> None:
        self.ones = np.ones(self.objective.log_y.size)
        free = self.objective.free
        self.f_hat = self.objective(self.theta[free], self.ones)[0]

    def _deviance(self, objective, bounds) -> tuple[float, np.ndarray]:
        start = np.clip(self.theta, bounds[:, 0], bounds[:, 1])[objective.free]
        run = _robust.minimize_from(objective, start, bounds[objective.free], self.ones)
        n = self.ones.size
        return n * max(run.fun - self.f_hat, 0.0) / max(self.f_hat, 1e-300), objective.full(run.x)

    def latent_dim(self, ell: float) -> float:
        return self.latent_dim_fit(ell)[0]

    def latent_dim_fit(self, ell: float) -> tuple[float, np.ndarray]:
        objective, bounds = self.at_latent_dim(ell)
        return self._deviance(objective, bounds)

    def noise(self, v: float) -> float:
        return self.noise_fit(v)[0]

    def noise_fit(self, v: float) -> tuple[float, np.ndarray]:
        return self._deviance(_held(self.objective, 3, v), self.bounds)

    @staticmethod
    def crossing(deviance: Callable, inside: float, outside: float, d_outside: float) -> float:
        """Where D first reaches 3.84 going from ``inside`` (the estimate, D ≈ 0) toward
        ``outside`` (where D is ``d_outside``), by bisection; ``outside`` if it never does."""
        if d_outside <= CHI2_95:
            return outside
        lo, hi = inside, outside
        for _ in range(_BISECTIONS):
            mid = 0.5 * (lo + hi)
            if deviance(mid) <= CHI2_95:
                lo = mid
            else:
                hi = mid
        return 0.5 * (lo + hi)


def _quantile(values: np.ndarray, q: float) -> float:
    return float(np.percentile(values, q)) if values.size > 1 else float("nan")


def identify(objective, bounds, theta, draws, ranges, fixed, at_latent_dim) -> Identification:
    """Test M and the noise (module docstring): ``objective`` and ``bounds`` of the fine fit,
    ``theta`` its estimate, ``draws`` (B, 4) the bootstrap, ``ranges`` the global box."""
    profile = _Profile(objective, bounds, theta, at_latent_dim)
    tol = 1e-6 * (1.0 + np.abs(ranges))
    out: dict = {"deviance": {}}
    edges: list = []
    if "latent_dim" not in fixed:
        top, bottom = ranges[1, 1], ranges[1, 0]
        d_top, d_bottom = profile.latent_dim(top), profile.latent_dim(bottom)
        out["deviance"].update(no_bend=d_top, all_past_bend=d_bottom)
        at_top = theta[2] >= top - tol[1, 1] or _quantile(draws[:, 2], 97.5) >= top - tol[1, 1]
        at_bottom = (
            theta[2] <= bottom + tol[1, 0] or _quantile(draws[:, 2], 2.5) <= bottom + tol[1, 0]
        )
        if d_top <= CHI2_95 or at_top:
            out["m_above"] = True
            edge = profile.crossing(profile.latent_dim, min(theta[2], top), bottom, d_bottom)
            out["m_low"] = float(np.exp(edge))
            edges.append(profile.latent_dim_fit(edge)[1])
        elif d_bottom <= CHI2_95 or at_bottom:
            out["m_below"] = True
            edge = profile.crossing(profile.latent_dim, max(theta[2], bottom), top, d_top)
            out["m_high"] = float(np.exp(edge))
            edges.append(profile.latent_dim_fit(edge)[1])
    if "noise_var" not in fixed:
        low, high = bounds[3]
        d_none = profile.noise(low)
        out["deviance"]["no_noise"] = d_none
        at_low = _quantile(draws[:, 3], 2.5) <= low + 1e-6 * (1 + abs(low))
        if d_none <= CHI2_95 or at_low:
            out["noise_below"] = True
            d_high = profile.noise(high)
            edge = profile.crossing(profile.noise, max(theta[3], low), high, d_high)
            out["noise_high"] = float(np.exp(edge))
            edges.append(profile.noise_fit(edge)[1])
    if "alpha" not in fixed:
        out["alpha_edge"] = bool(
            theta[0] <= ranges[0, 0] + tol[0, 0] or theta[0] >= ranges[0, 1] - tol[0, 1]
        )
    return Identification(**out, edges=tuple(edges))
