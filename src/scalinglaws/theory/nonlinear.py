r"""Theory for nonlinear random features by Gaussian equivalence (``MODEL.md`` §6).

Nonlinear features φ(x) = σ(Ux) are replaced by Gaussian features with the same second moments.
Everything is expressed through a :class:`KernelSpectrum`: the eigenvalues :math:`s_i` of a
feature second-moment matrix K, the power of the target along each eigenvector and the target's
total power. These arrays come from anywhere (exact Gaussian kernels for a draw of U, or data);
this module only does the algebra and never samples.

=========  =====================  ===========================================================
symbol     name                   meaning
=========  =====================  ===========================================================
K          ``kernel``             E[φ(x)φ(x)ᵀ], shape (N, N), eigen-pairs (s_i, v_i)
b          ``target_cov``         E[φ(x) f_*(x)], shape (N,)
t_i²       ``target_power``       E[(v_iᵀ b)²] (over the teacher's randomness, or one draw)
E[f_*²]    ``target_var``         power of the noiseless target
σ_r²       ``residual_var``       E[f_*²] − Σ_i t_i²/s_i: the target outside the features' span
κ          ``kappa``              renormalized ridge
=========  =====================  ===========================================================

**One level** (a given draw of U, the randomness of the P samples only): ridge regression on
features with population covariance K, target split into its best linear part θ_∞ = K⁺b and a
residual that acts as extra noise. With the sum-of-squares ridge γ,

.. math:: \kappa\Big(1 - \frac{\mathrm{df}_1(\kappa)}{P}\Big) = \frac{\gamma}{P},\qquad
          \text{test\_mse} = \frac{\kappa^2 \sum_i \frac{t_i^2}{s_i (s_i+\kappa)^2}
          + \sigma_\varepsilon^2 + \sigma_r^2}{1 - \mathrm{df}_2(\kappa)/P}

with :math:`\mathrm{df}_k = \sum_i s_i^k/(s_i+\kappa)^k` (γ = 0: df₁ = P, or κ = 0 once
P ≥ rank K, with a pole at P = rank K).

**Two levels** (averaged over U): the features are random projections of the data-side kernel
operator :math:`k(x,x') = E_u[\sigma(u\cdot x)\sigma(u\cdot x')]`, whose eigenvalues
:math:`\nu_i` are estimated by :math:`s_i/N_\mathrm{ref}` of a large reference draw of
:math:`N_\mathrm{ref}` features. Writing φ in that eigenbasis turns the model into the linear one
of §5 with spectrum :math:`\lambda_i = \nu_i`, teacher variances
:math:`\bar w_i^2 = t_i^2 N_\mathrm{ref}/s_i^2`, unit-variance projections and label noise
:math:`\sigma_\varepsilon^2 + \sigma_r^2`; :func:`two_level_loss` evaluates §5 there. For linear
features it reduces to §5 itself (up to the reference draw's finite size).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import scipy.linalg as sla

from .._validation import warn_numerical
from ..spec import ModelSpec, Teacher
from ..spectrum import Spectrum
from ._solve import bracketed_root
from .loss import TheoryResult, _as_points, theory_loss

__all__ = [
    "KernelSpectrum",
    "kernel_spectrum",
    "OneLevelResult",
    "one_level_loss",
    "two_level_loss",
    "equivalent_linear_spec",
]

#: Eigenvalues of K below this fraction of the largest are treated as zero (null space).
RANK_RTOL = 1e-12


@dataclass(frozen=True)
class KernelSpectrum:
    """Eigenvalues of a feature second-moment matrix and the target's power along them.

    Attributes
    ----------
    eigenvalues : ndarray of shape (rank,)
        s_i > 0, decreasing (the null space is dropped).
    target_power : ndarray of shape (rank,)
        t_i² = E[(v_iᵀ b)²].
    target_var : float
        E[f_*(x)²].
    n_features : int
        Size N of the matrix the spectrum came from.
    """

    eigenvalues: np.ndarray
    target_power: np.ndarray
    target_var: float
    n_features: int

    @property
    def residual_var(self) -> float:
        """σ_r² = E[f_*²] − Σ t_i²/s_i, the target power outside the features' span (≥ 0)."""
        return float(max(self.target_var - np.sum(self.target_power / self.eigenvalues), 0.0))


def kernel_spectrum(kernel: np.ndarray, target: np.ndarray, target_var: float) -> KernelSpectrum:
    r"""Eigen-decompose K and project the target on its eigenvectors.

    Parameters
    ----------
    kernel : ndarray of shape (n, n)
        K, symmetric positive semi-definite.
    target : ndarray of shape (n,) or (n, k)
        Either b = E[φ f_*] for one teacher (then :math:`t_i^2 = (v_i^\top b)^2`), or a factor
        H of the second-moment matrix over the teacher's randomness, :math:`E[bb^\top] = HH^\top`
        (then :math:`t_i^2 = \|H^\top v_i\|^2`, non-negative by construction).
    target_var : float
        E[f_*²] (its expectation when ``target`` is a second-moment matrix).
    """
    evals, evecs = sla.eigh(kernel, check_finite=False)
    keep = evals > RANK_RTOL * max(evals[-1], 0.0)
    evals, evecs = evals[keep][::-1], evecs[:, keep][:, ::-1]
    proj = evecs.T @ target
    power = proj**2 if target.ndim == 1 else np.sum(proj**2, axis=1)
    resid = target_var - np.sum(power / evals)
    if resid < -1e-6 * max(target_var, 1e-300):
        warn_numerical(
            f"The target's power inside the features' span exceeds its total by {-resid:.3g}: "
            "the kernel or the target moments are inaccurate; increase the quadrature nodes."
        )
    return KernelSpectrum(evals, power, float(target_var), int(kernel.shape[0]))


@dataclass(frozen=True)
class OneLevelResult:
    """One-level theory at broadcast (P, γ); every array has the broadcast shape."""

    n_samples: np.ndarray
    ridge: np.ndarray
    kappa: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    residual_var: float
    test_mse: np.ndarray
    excess: np.ndarray


def _df(s: np.ndarray, kappa: np.ndarray, power: int) -> np.ndarray:
    ratio = s[None, :] / (s[None, :] + kappa[:, None])
    return np.sum(ratio**power, axis=1)


def _ridgeless_kappa(s: np.ndarray, ns: np.ndarray) -> np.ndarray:
    """κ₀ with df₁(κ₀) = P for P < rank, else 0 (flat)."""
    rank = s.size
    out = np.zeros(ns.shape)
    below = ns < rank
    if np.any(below):
        p = ns[below]
        lo = s[-1] * (rank - p) / (2.0 * p)
        hi = np.sum(s) / p

        def residual(t, idx):
            return _df(s, np.exp(t), 1) / p[idx] - 1.0

        out[below] = np.exp(bracketed_root(residual, np.log(lo), np.log(hi)))
    return out


def one_level_loss(
    spectrum: KernelSpectrum, n_samples: object, ridge: object = 0.0, *, noise_var: float = 0.0
) -> OneLevelResult:
    r"""Test loss of ridge regression on fixed features with second moments K (one level).

    .. math:: \text{test\_mse} = \frac{\kappa^2 \sum_i t_i^2/(s_i(s_i+\kappa)^2)
              + \sigma_\varepsilon^2 + \sigma_r^2}{1 - \mathrm{df}_2(\kappa)/P}

    Parameters
    ----------
    spectrum : KernelSpectrum
        From :func:`kernel_spectrum` of the drawn features.
    n_samples, ridge : array_like
        P > 0 and γ ≥ 0 (sum-of-squares ridge), broadcast together.
    noise_var : float
        σ_ε².

    Returns
    -------
    OneLevelResult
        Arrays of the broadcast shape of P and γ. A pole (γ = 0, P = rank K) gives inf with a
        :class:`~scalinglaws._validation.NumericalWarning`.
    """
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    rg = _as_points("ridge", ridge, allow_zero=True)
    ns, rg = np.broadcast_arrays(ns, rg)
    shape, ns, rg = ns.shape, ns.ravel(), rg.ravel()
    s, power = spectrum.eigenvalues, spectrum.target_power
    kappa = _ridgeless_kappa(s, ns)
    pos = rg > 0
    if np.any(pos):
        p, lam = ns[pos], rg[pos] / ns[pos]
        lo, hi = np.maximum(kappa[pos], lam), lam + np.sum(s) / p

        def residual(t, idx):
            k = np.exp(t)
            return k * (1.0 - _df(s, k, 1) / p[idx]) / lam[idx] - 1.0

        kappa[pos] = np.exp(bracketed_root(residual, np.log(lo), np.log(hi)))
    df1, df2 = _df(s, kappa, 1), _df(s, kappa, 2)
    bias = kappa**2 * np.sum(power[None, :] / (s * (s[None, :] + kappa[:, None]) ** 2), axis=1)
    sigma2 = noise_var + spectrum.residual_var
    denom = 1.0 - df2 / ns
    pole = denom <= 1e-12
    with np.errstate(divide="ignore", invalid="ignore"):
        test_mse = np.where(pole, np.inf, (bias + sigma2) / denom)
    if np.any(pole):
        warn_numerical(
            f"The one-level loss has a pole (ridge = 0 and n_samples = rank of K = {s.size}) at "
            f"{int(pole.sum())} point(s): returning inf. Use a ridge > 0.",
        )
    out = {"kappa": kappa, "df1": df1, "df2": df2, "test_mse": test_mse}
    out = {k: v.reshape(shape) for k, v in out.items()}
    return OneLevelResult(
        n_samples=ns.reshape(shape),
        ridge=rg.reshape(shape),
        residual_var=spectrum.residual_var,
        excess=out["test_mse"] - noise_var,
        **out,
    )


def equivalent_linear_spec(reference: KernelSpectrum, *, noise_var: float = 0.0) -> ModelSpec:
    r"""The linear model of §5 equivalent to random features with a reference kernel spectrum.

    Spectrum :math:`\nu_i = s_i/N_\mathrm{ref}`, teacher variances
    :math:`\bar w_i^2 = t_i^2 N_\mathrm{ref}/s_i^2`, projections of unit variance per entry
    (``feature_var`` = rank), label noise :math:`\sigma_\varepsilon^2 + \sigma_r^2`.
    """
    n_ref = reference.n_features
    nu = reference.eigenvalues / n_ref
    variances = reference.target_power * n_ref / reference.eigenvalues**2
    return ModelSpec(
        spectrum=Spectrum.from_eigenvalues(nu),
        teacher=Teacher.from_variances(variances),
        noise_var=noise_var + reference.residual_var,
        feature_var=float(nu.size),
    )


def two_level_loss(
    reference: KernelSpectrum,
    n_features: object,
    n_samples: object,
    ridge: object = 0.0,
    *,
    noise_var: float = 0.0,
) -> TheoryResult:
    r"""Test loss averaged over the features' draw (two levels), via :func:`equivalent_linear_spec`.

    ``reference`` is the :class:`KernelSpectrum` of a large draw of :math:`N_\mathrm{ref}` features
    (it should exceed the largest N by a factor of a few: the operator's spectrum beyond
    :math:`N_\mathrm{ref}` is truncated into the residual). Returns §5's :class:`TheoryResult`
    with ``test_mse`` including σ_ε², and ``excess`` = test_mse − σ_ε².
    """
    spec = equivalent_linear_spec(reference, noise_var=noise_var)
    res = theory_loss(spec, n_features, n_samples, ridge)
    values = res.as_dict()
    values["excess"] = res.test_mse - noise_var
    return TheoryResult(**values)
