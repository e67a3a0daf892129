r"""An independent coding of Mei & Montanari's proportional limit for random-features ridge
regression on isotropic data (arXiv:1908.05355, CPAM 75 (2022), Definition 1 and Theorem 1).

Their setting in the project's terms: a flat spectrum Λ = I_M, σ_u² = 1 (so u·x ~ N(0, 1)),
ψ1 = N/M, ψ2 = P/M, a linear teacher of power F1² = σ_w², label noise τ² = σ_ε², and their
ridge λ equal to the project's normalized ridge γM/(NP). With the activation's constants

.. math:: \mu_0 = E\sigma(G),\quad \mu_1 = E[G\sigma(G)],\quad
          \mu_*^2 = E\sigma(G)^2 - \mu_0^2 - \mu_1^2,\quad \zeta = \mu_1/\mu_*,
          \quad \bar\lambda = \lambda/\mu_*^2,

ν1, ν2 solve :math:`\nu_1 = \psi_1(-\xi - \nu_2 - \zeta^2\nu_2/(1 - \zeta^2\nu_1\nu_2))^{-1}`
and the same with 1 ↔ 2 at :math:`\xi = i\sqrt{\psi_1\psi_2\bar\lambda}`. Both are purely
imaginary there, ν1 = ia, ν2 = ib with a, b > 0, and with s = ab the pair reduces to the scalar
equation :math:`(\psi_1 - s h(s))(\psi_2 - s h(s)) = \psi_1\psi_2\bar\lambda\, s`,
:math:`h(s) = 1 + \zeta^2/(1 + \zeta^2 s)`, whose root in :math:`s\,h(s) < \min(\psi_1,\psi_2)`
is unique (the left side falls, the right side rises); λ = 0 gives s h(s) = min(ψ1, ψ2). Then
χ = ν1ν2 = −s and the excess risk is :math:`F_1^2 E_1/E_0 + \tau^2 E_2/E_0` with MM's
polynomials E0, E1, E2 in χ, ζ, ψ1, ψ2.

This module is test code: it shares nothing with the package but the activation's Gaussian
expectations (E σ, E σ', E σ² at unit variance).
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import brentq


def activation_constants(activation) -> tuple[float, float, float]:
    """(μ0, μ1, μ*) of a :class:`scalinglaws.model.activations.Activation` at unit variance."""
    mu0 = float(activation.mean(1.0))
    mu1 = float(activation.mean_slope(1.0))  # Stein: E[G σ(G)] = E σ'(G)
    star2 = float(activation.second_moment(1.0)) - mu0**2 - mu1**2
    return mu0, mu1, float(np.sqrt(max(star2, 0.0)))


def chi(zeta: float, psi1: float, psi2: float, lam_bar: float) -> float:
    """χ = ν1ν2 at ξ = i(ψ1ψ2λ̄)^½ (real and negative), from the scalar equation in s = −χ."""
    z2 = zeta**2
    psi = min(psi1, psi2)

    def sh(s):
        return s * (1.0 + z2 / (1.0 + z2 * s))

    # s h(s) = ψ: ζ² s² + (1 + ζ² − ψζ²) s − ψ = 0, the positive root
    b = 1.0 + z2 - psi * z2
    s_max = (2 * psi) / (b + np.sqrt(b * b + 4 * z2 * psi))
    if lam_bar == 0:
        return -s_max
    x2 = psi1 * psi2 * lam_bar
    s = brentq(lambda s: (psi1 - sh(s)) * (psi2 - sh(s)) - x2 * s, 0.0, s_max, xtol=1e-300,
               rtol=1e-15, maxiter=500)
    return -s


def polynomials(zeta, psi1, psi2, x):
    """MM's (E0, E1, E2) at χ = x."""
    z2, z4, z6 = zeta**2, zeta**4, zeta**6
    p = psi1 * psi2
    e0 = (-(x**5) * z6 + 3 * x**4 * z4 + (p - psi2 - psi1 + 1) * x**3 * z6 - 2 * x**3 * z4
          - 3 * x**3 * z2 + (psi1 + psi2 - 3 * p + 1) * x**2 * z4 + 2 * x**2 * z2 + x**2
          + 3 * p * x * z2 - p)
    e1 = psi2 * x**3 * z4 - psi2 * x**2 * z2 + p * x * z2 - p
    e2 = (x**5 * z6 - 3 * x**4 * z4 + (psi1 - 1) * x**3 * z6 + 2 * x**3 * z4 + 3 * x**3 * z2
          + (-psi1 - 1) * x**2 * z4 - 2 * x**2 * z2 - x**2)
    return e0, e1, e2


def bias_variance(zeta, psi1, psi2, lam_bar) -> tuple[float, float]:
    """(B, V) = (E1/E0, E2/E0); V = inf at the ridgeless pole ψ1 = ψ2."""
    if lam_bar == 0 and psi1 == psi2:
        return np.inf, np.inf
    e0, e1, e2 = polynomials(zeta, psi1, psi2, chi(zeta, psi1, psi2, lam_bar))
    return e1 / e0, e2 / e0


def excess(activation, *, psi1, psi2, lam, signal=1.0, noise=0.0) -> float:
    """MM's excess risk F1² B + τ² V for ``activation`` at ridge λ (their units)."""
    _, mu1, mu_star = activation_constants(activation)
    b, v = bias_variance(mu1 / mu_star, psi1, psi2, lam / mu_star**2)
    return signal * b + noise * v


# -- independent limits used to check the above --------------------------------------------------
def _mp_stieltjes(ratio: float, z: float) -> tuple[float, float]:
    """m(z) = (1/d) tr (S − z)^-1 for a Marchenko–Pastur S (aspect d/n = ratio), z < 0, and m'."""
    # ratio z m² − (1 − ratio − z) m + 1 = 0, the root with m > 0 for z < 0
    a, b = ratio * z, -(1.0 - ratio - z)
    disc = np.sqrt(b * b - 4 * a)
    m = (-b - disc) / (2 * a) if a != 0 else -1.0 / b
    if m <= 0:
        m = (-b + disc) / (2 * a)
    dm = -(ratio * m * m + m) / (2 * ratio * z * m + b)
    return m, dm


def kernel_limit(activation, *, psi2, lam, signal=1.0, noise=0.0) -> float:
    """ψ1 → ∞: kernel ridge regression = linear ridge on x with ridge (λψ2 + μ*²)/(ψ2μ1²)."""
    _, mu1, mu_star = activation_constants(activation)
    ridge = (lam * psi2 + mu_star**2) / (psi2 * mu1**2)
    m, dm = _mp_stieltjes(1.0 / psi2, -ridge)
    bias = signal * ridge**2 * dm
    variance = noise * (1.0 / psi2) * (m - ridge * dm)
    return bias + variance


def population_limit(activation, *, psi1, lam, signal=1.0) -> float:
    """ψ2 → ∞: the population ridge over N random features with penalty ψ1λ (noise drops)."""
    _, mu1, mu_star = activation_constants(activation)
    c = mu_star**2 + psi1 * lam
    a = mu1**2 * psi1
    e = c / a
    m, dm = _mp_stieltjes(1.0 / psi1, -e)
    return signal * (c**2 * dm / a**2 + mu_star**2 / a * (m - e * dm))
