r"""One-level theory with the spread of the features' quadratic forms.

Derived in ``docs/nonlinear-theory.md`` (the spread correction).

The Gaussian-equivalent one-level theory (:func:`~scalinglaws.theory.nonlinear.one_level_loss`)
assumes that every quadratic form of a feature vector concentrates:
:math:`\varphi(x)^\top A\varphi(x) \approx \operatorname{tr}(AK)`. For features of data with few
effective dimensions it does not; the ratio

.. math:: \tau(x) = \frac{\varphi(x)^\top (K+\kappa)^{-1}\varphi(x)}{\mathrm{df}_1(\kappa)},
          \qquad E_x[\tau] = 1,

spreads about as widely as its mean (standard deviation 0.96-0.99 for erf features of power-law
data at M = 50, N = 8M). Treating φ(x) as √τ(x) times a Gaussian vector (an *elliptical* data
side) and keeping the target's residual r(x) = f_*(x) − θ_∞·φ(x) at each x, the leave-one-out
derivation of the deterministic equivalent gives, with u = df₁(κ)/P,

.. math::
    E_x\Big[\frac{\tau}{a + \tau u}\Big] = 1,\qquad \kappa\, a = \frac{\gamma}{P},

.. math::
    \text{test\_mse} = \sigma_r^2 + \sigma_\varepsilon^2 +
    \frac{\kappa^2\sum_i \frac{t_i^2}{s_i(s_i+\kappa)^2}
          + E_x\Big[\frac{(r^2+\sigma_\varepsilon^2)\,\tau}{(a+\tau u)^2}\Big]
            \frac{\mathrm{df}_2}{P}}
         {1 - E_x\Big[\frac{\tau^2}{(a+\tau u)^2}\Big]\frac{\mathrm{df}_2}{P}}.

For τ ≡ 1 this is the Gaussian one-level theory exactly (a = 1 − u). The expectations over x
are Monte-Carlo averages over the inputs given to
:func:`~scalinglaws.theory.nonlinear.kernel_spectrum` (their projections on K's eigenvectors,
:class:`InputProjections`). γ = 0: κ = 0 once P exceeds the rank of K (a from the first
equation), else df₁(κ) = P and a = 0, with a pole at P = rank K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

#: Newton steps for a (converges in under 10 from the Gaussian start) and secant steps for κ.
_A_STEPS = 60
_KAPPA_STEPS = 80


@dataclass(frozen=True)
class InputProjections:
    """Monte-Carlo inputs seen through the features' eigenbasis.

    Attributes
    ----------
    power : ndarray of shape (n_inputs, rank)
        (v_iᵀφ(x_a))², in the columns' order of the spectrum's eigenvalues.
    residual : ndarray of shape (n_inputs,)
        r(x_a)² = (f_*(x_a) − θ_∞·φ(x_a))², averaged over the teacher's randomness where the
        target is a second-moment factor.
    """

    power: np.ndarray
    residual: np.ndarray

    @property
    def n_inputs(self) -> int:
        """The number of Monte-Carlo inputs."""
        return int(self.power.shape[0])


def input_projections(features, target, evecs, scaled_proj, root) -> InputProjections:
    r"""Project features φ(x_a) (shape (n, N)) on the kept eigenvectors (N, rank) and form r².

    ``target`` is f_*(x_a) (shape (n,)) for a target vector b, or the rows Y(x_a) (shape (n, k))
    with f_* = Y·ξ and b = Hξ for a factor H; ``scaled_proj`` is (VᵀH)/√s as
    :func:`~scalinglaws.theory.nonlinear.kernel_spectrum` computes it and ``root`` √s, so that
    θ_∞·φ(x) = (φᵀV/√s)·scaled_proj.
    """
    proj = features @ evecs
    white = proj / root
    fitted = white @ scaled_proj
    resid = np.asarray(target, dtype=np.float64) - fitted
    r2 = resid**2 if resid.ndim == 1 else np.sum(resid**2, axis=1)
    return InputProjections(power=proj**2, residual=r2)


def _solve_a(tau: np.ndarray, u: np.ndarray) -> np.ndarray:
    """a > 0 with mean_x τ/(a + τu) = 1 per column (u < 1), else 0; Newton from a = 1 − u."""
    ok = u < 1.0
    a = np.where(ok, 1.0 - u, 0.0)
    if not np.any(ok):
        return a
    t, uu, aa = tau[:, ok], u[ok], a[ok]
    with np.errstate(divide="ignore", invalid="ignore"):
        for _ in range(_A_STEPS):
            den = aa + t * uu
            h = np.mean(t / den, axis=0) - 1.0
            dh = -np.mean(t / den**2, axis=0)
            new = np.maximum(aa - h / dh, 1e-3 * aa)  # stays positive; h is convex decreasing
            done = np.abs(new - aa) <= 1e-15 * aa
            aa = np.where(np.isfinite(new), new, aa)
            if np.all(done):
                break
    a[ok] = aa
    return a


class _State:
    """df₁, τ, u and a at level-unit κ for each column (cell)."""

    def __init__(self, levels, power, kl, ns):
        q = 1.0 / (levels[:, None] + kl[None, :])
        self.q = q
        self.df1 = np.sum(levels[:, None] * q, axis=0)
        with np.errstate(invalid="ignore", divide="ignore"):
            self.tau = (power @ q) / self.df1
        self.u = self.df1 / ns
        self.a = _solve_a(self.tau, self.u)


def _residual(levels, power, kl, ns, log_lam):
    st = _State(levels, power, kl, ns)
    with np.errstate(divide="ignore"):
        return np.log(kl) + np.log(st.a) - log_lam


def spread_loss(spectrum, inputs: InputProjections, ns, rg, noise_var: float, kappa_gauss):
    r"""The spread-corrected one-level loss at flat (P, γ), from the Gaussian κ as a start.

    Returns ``test_mse``, ``kappa``, ``df1``, ``df2`` and ``pole`` (flat arrays). The Gaussian κ
    brackets the root from below (by Jensen's inequality a ≤ 1 − u, so κ_G a(κ_G) ≤ γ/P); κ is
    then found by a safeguarded secant (Illinois) step on log κ.
    """
    s = np.asarray(spectrum.eigenvalues, dtype=np.float64)
    s0 = float(s[0])
    levels = s / s0
    power = inputs.power / s0
    ns = np.asarray(ns, dtype=np.float64)
    rg = np.asarray(rg, dtype=np.float64)
    rank = s.size
    kl = np.asarray(kappa_gauss, dtype=np.float64) / s0
    ridge = rg > 0
    if np.any(ridge):
        kl = kl.copy()
        kl[ridge] = _solve_kappa(levels, power, kl[ridge], ns[ridge], rg[ridge] / (ns[ridge] * s0))
    st = _State(levels, power, kl, ns)
    df2 = np.sum((levels[:, None] * st.q) ** 2, axis=0)
    bias = kl**2 * np.sum(spectrum.explained[:, None] * st.q**2, axis=0)
    sigma2 = noise_var
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        den = (st.a + st.tau * st.u) ** 2
        spread = np.mean(st.tau**2 / den, axis=0) * df2 / ns
        noise = np.mean((inputs.residual[:, None] + sigma2) * st.tau / den, axis=0) * df2 / ns
        denom = 1.0 - spread
        pole = (denom <= 1e-12) | ((rg == 0) & (ns == rank))
        test_mse = np.where(
            pole, np.inf, spectrum.residual_var + sigma2 + (bias + noise) / np.where(pole, 1, denom)
        )
    return {"test_mse": test_mse, "kappa": kl * s0, "df1": st.df1, "df2": df2, "pole": pole}


def _solve_kappa(levels, power, lo, ns, lam):
    """log κ with κ·a(κ) = λ per cell, bracketed from the Gaussian κ ``lo`` upwards."""
    log_lam = np.log(lam)
    x_lo = np.log(lo)
    f_lo = _residual(levels, power, lo, ns, log_lam)
    for _ in range(60):  # round-off of the Monte-Carlo mean can put the Gaussian κ just above
        bad = f_lo > 0
        if not np.any(bad):
            break
        x_lo = np.where(bad, x_lo - 1.0, x_lo)
        f_lo = _residual(levels, power, np.exp(x_lo), ns, log_lam)
    x_hi = x_lo + 1.0
    f_hi = _residual(levels, power, np.exp(x_hi), ns, log_lam)
    for _ in range(200):
        bad = f_hi <= 0
        if not np.any(bad):
            break
        x_hi = np.where(bad, x_hi + 1.0, x_hi)
        f_hi = _residual(levels, power, np.exp(x_hi), ns, log_lam)
    side = np.zeros(lo.size, dtype=np.int8)
    x = x_lo
    for _ in range(_KAPPA_STEPS):
        with np.errstate(invalid="ignore", divide="ignore"):
            x = (x_lo * f_hi - x_hi * f_lo) / (f_hi - f_lo)
        x = np.where(np.isfinite(x) & (x > x_lo) & (x < x_hi), x, 0.5 * (x_lo + x_hi))
        f = _residual(levels, power, np.exp(x), ns, log_lam)
        below = f <= 0
        # Illinois: halve the stale end's residual when the same end moves twice
        f_hi = np.where(below & (side == -1), 0.5 * f_hi, f_hi)
        f_lo = np.where(~below & (side == 1), 0.5 * f_lo, f_lo)
        x_lo, f_lo = np.where(below, x, x_lo), np.where(below, f, f_lo)
        x_hi, f_hi = np.where(below, x_hi, x), np.where(below, f_hi, f)
        side = np.where(below, -1, 1).astype(np.int8)
        if np.all((x_hi - x_lo) <= 1e-13 * np.maximum(1.0, np.abs(x))) or np.all(np.abs(f) < 1e-14):
            break
    return np.exp(x)
