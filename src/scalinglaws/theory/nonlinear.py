r"""Theory for nonlinear random features by Gaussian equivalence (``docs/model.md`` §6).

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

Both losses are evaluated in scaled units (the eigenvalues over the largest, the target's power as
:math:`p_i = t_i^2/s_i` with :math:`\kappa^2 t_i^2/(s_i(s_i+\kappa)^2) = p_i q_i^2`,
:math:`q_i = \kappa/(s_i+\kappa)`), like §5 (:mod:`._scaled`), so any scale float64 holds works.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla

from .._threads import threads_for_eigh
from .._validation import InputError, warn_numerical
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from . import _scaled
from ._sums import SpectralSums, scaled_sums
from .loss import TheoryResult, _as_points, broadcast_points, result_from_core
from .spread import InputProjections, input_projections, spread_loss

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
#: From this size ``eigh`` uses LAPACK's divide and conquer (``driver="evd"``), below it the
#: default MRRR (``"evr"``): measured on one BLAS thread, evd takes 0.85-0.93x evr's time at
#: n = 2400-4000 and no less below (benchmarks/bench_sampled.py).
EVD_MIN_SIZE = 2000


@dataclass(frozen=True)
class KernelSpectrum:
    """Eigenvalues of a feature second-moment matrix and the target's power along them.

    Attributes
    ----------
    eigenvalues : ndarray of shape (rank,)
        s_i > 0, decreasing (the null space is dropped).
    target_power : ndarray of shape (rank,)
        t_i² = E[(v_iᵀ b)²] (``inf`` where it exceeds float64; the theory uses ``explained``).
    target_var : float
        E[f_*(x)²].
    n_features : int
        Size N of the matrix the spectrum came from.
    explained : ndarray of shape (rank,), optional
        p_i = t_i²/s_i, the target power explained along each direction (Σ p_i ≤ E[f_*²]);
        computed from the others when not given.
    inputs : InputProjections, optional
        Monte-Carlo inputs in the eigenbasis; with them :func:`one_level_loss` takes the spread
        of the features' quadratic forms into account (:mod:`~scalinglaws.theory.spread`).
    """

    eigenvalues: np.ndarray
    target_power: np.ndarray
    target_var: float
    n_features: int
    explained: np.ndarray | None = field(default=None, repr=False)
    inputs: InputProjections | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.explained is None:
            with np.errstate(over="ignore"):
                p = np.asarray(self.target_power, dtype=np.float64) / self.eigenvalues
            object.__setattr__(self, "explained", p)

    @property
    def residual_var(self) -> float:
        """σ_r² = E[f_*²] − Σ t_i²/s_i, the target power outside the features' span (≥ 0)."""
        return float(max(self.target_var - np.sum(self.explained), 0.0))

    def to_dataset(self):
        """The arrays as variables along ``rank``, the scalars as attributes."""
        from ..results import fields_dataset

        return fields_dataset(self, dim="rank", source="kernel spectrum")


def _scale_of(matrix: np.ndarray) -> float:
    """A power of 4 near the largest diagonal entry when it is far from 1 (exact rescaling)."""
    top = float(np.max(np.abs(np.diag(matrix)))) if matrix.size else 1.0
    if not np.isfinite(top):
        raise InputError(
            "'kernel' must be finite. Got entries beyond float64's range (1.8e308) instead: the "
            "features' scale (lambda_plus times feature_var) is too large for this activation's "
            "kernel; rescale the model (the loss scales with it)."
        )
    if top == 0 or 1e-100 < top < 1e100:
        return 1.0
    return float(4.0 ** np.round(np.log(top) / np.log(4.0)))


def kernel_spectrum(
    kernel: np.ndarray,
    target: np.ndarray,
    target_var: float,
    *,
    inputs: np.ndarray | None = None,
    input_target: np.ndarray | None = None,
) -> KernelSpectrum:
    r"""Eigen-decompose K and project the target on its eigenvectors.

    Parameters
    ----------
    kernel : ndarray of shape (n, n)
        K, symmetric positive semi-definite (rescaled by a power of 4 for ``eigh`` when its
        entries are far from 1, which changes no digit).
    target : ndarray of shape (n,) or (n, k)
        Either b = E[φ f_*] for one teacher (then :math:`t_i^2 = (v_i^\top b)^2`), or a factor
        H of the second-moment matrix over the teacher's randomness, :math:`E[bb^\top] = HH^\top`
        (then :math:`t_i^2 = \|H^\top v_i\|^2`, non-negative by construction).
    target_var : float
        E[f_*²] (its expectation when ``target`` is a second-moment matrix).
    inputs : ndarray of shape (n_inputs, n), optional
        The features φ(x_a) at Monte-Carlo inputs x_a ~ the data: projected on the eigenvectors
        (:class:`~scalinglaws.theory.spread.InputProjections`) for the spread correction.
    input_target : ndarray of shape (n_inputs,) or (n_inputs, k)
        With ``inputs``: f_*(x_a) for a target vector b, or rows Y(x_a) with f_* = Y·ξ when
        ``target`` is a factor H with b = Hξ, ξ ~ N(0, I_k).
    """
    scale = _scale_of(kernel)
    with threads_for_eigh(kernel.shape[0]):
        evals, evecs = sla.eigh(
            kernel / scale if scale != 1.0 else kernel,
            check_finite=False,
            driver="evd" if kernel.shape[0] >= EVD_MIN_SIZE else "evr",
        )
    evals = evals * scale
    keep = evals > RANK_RTOL * max(evals[-1], 0.0)
    evals, evecs = evals[keep][::-1], evecs[:, keep][:, ::-1]
    proj = evecs.T @ target
    root = np.sqrt(evals)
    scaled = proj / (root if target.ndim == 1 else root[:, None])  # p = t²/s without t² overflow
    explained = scaled**2 if target.ndim == 1 else np.sum(scaled**2, axis=1)
    with np.errstate(over="ignore"):
        power = explained * evals
    resid = target_var - np.sum(explained)
    if resid < -1e-6 * max(target_var, 1e-300):
        warn_numerical(
            f"The target's power inside the features' span exceeds its total by {-resid:.3g}: "
            "the kernel or the target moments are inaccurate; increase the quadrature nodes."
        )
    projected = None
    if inputs is not None:
        if input_target is None:
            raise InputError("'input_target' is needed with 'inputs' (f_* at the same inputs).")
        projected = input_projections(inputs, input_target, evecs, scaled, root)
    return KernelSpectrum(
        evals, power, float(target_var), int(kernel.shape[0]), explained, inputs=projected
    )


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

    def to_dataset(self):
        """The arrays as variables along ``point``, the scalars as attributes."""
        from ..results import fields_dataset

        return fields_dataset(self, dim="point", source="one-level Gaussian equivalence")


def _one_level_sums(spectrum: KernelSpectrum) -> SpectralSums:
    """§5 nodes of the one-level problem: levels s/s₁, teacher w̄² = t²/s² (λ₊σ_w² = Σ p s₁/s)."""
    s = np.asarray(spectrum.eigenvalues, dtype=np.float64)
    levels = s / s[0]
    return scaled_sums(
        levels,
        spectrum.explained / levels,
        np.ones(s.size),
        latent_dim=s.size,
        lambda_plus=float(s[0]),
        log_variance_scale=-float(np.log(s[0])),
    )


def one_level_loss(
    spectrum: KernelSpectrum, n_samples: object, ridge: object = 0.0, *, noise_var: float = 0.0
) -> OneLevelResult:
    r"""Test loss of ridge regression on fixed features with second moments K (one level).

    .. math:: \text{test\_mse} = \frac{\sum_i p_i q_i^2 + \sigma_\varepsilon^2 + \sigma_r^2}
              {1 - \mathrm{df}_2(\kappa)/P}, \qquad p_i = \frac{t_i^2}{s_i},\quad
              q_i = \frac{\kappa}{s_i + \kappa}

    (:math:`\sum_i p_i q_i^2 = \kappa^2\sum_i t_i^2/(s_i(s_i+\kappa)^2)`), §5 with N → ∞:
    κ solves :math:`\kappa(1 - \mathrm{df}_1/P) = \gamma/P` in scaled log units.

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
        :class:`~scalinglaws._validation.NumericalWarning`, as does a loss beyond float64.
    """
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    rg = _as_points("ridge", ridge, allow_zero=True)
    ns, rg = np.broadcast_arrays(ns, rg)
    shape, ns, rg = ns.shape, ns.ravel(), rg.ravel()
    sums = _one_level_sums(spectrum)
    nf = np.full(ns.size, np.inf)  # one level: κ(1 − df₁/P) = γ/P is §5's equation at N = ∞
    t = _scaled.ridgeless_log_kappa(sums, ns)
    with np.errstate(divide="ignore"):
        log_gh = np.log(rg) - np.log(ns) - sums.log_lambda_plus
    pos = rg > 0
    if np.any(pos):
        t[pos] = _scaled.solve_log_kappa(sums, nf[pos], ns[pos], log_gh[pos], t[pos])
    df1, df2, _, _, f_bar = sums.moments(np.exp(np.minimum(t, 690.0)))
    at_zero = t == -np.inf
    rank = sums.latent_dim
    df1, df2 = np.where(at_zero, rank, df1), np.where(at_zero, rank, df2)
    sigma2 = noise_var + spectrum.residual_var
    denom = 1.0 - df2 / ns
    pole = denom <= 1e-12
    if spectrum.inputs is not None:
        kappa = np.exp(np.minimum(t + sums.log_lambda_plus, 709.0))
        kappa = np.where(at_zero, 0.0, kappa)
        core = spread_loss(spectrum, spectrum.inputs, ns, rg, noise_var, kappa)
        return _finish_one_level(core, ns, rg, spectrum, noise_var, shape, rank)
    with np.errstate(divide="ignore", over="ignore"):
        log_bias = np.where(
            at_zero, -np.inf, sums.log_lambda_plus + sums.log_teacher_var + 2 * np.minimum(t, 0.0)
        ) + np.log(f_bar)
        test_mse = np.where(pole, np.inf, (np.exp(log_bias) + sigma2) / np.where(pole, 1, denom))
        kappa = np.exp(t + sums.log_lambda_plus)
    core = {"test_mse": test_mse, "kappa": kappa, "df1": df1, "df2": df2, "pole": pole}
    return _finish_one_level(core, ns, rg, spectrum, noise_var, shape, rank)


def _finish_one_level(core, ns, rg, spectrum, noise_var, shape, rank) -> OneLevelResult:
    """Warn about poles and values beyond float64 once, and shape the result."""
    pole = core["pole"]
    if np.any(pole):
        warn_numerical(
            f"The one-level loss has a pole (ridge = 0 and n_samples = rank of K = {rank}, or "
            f"the variance's denominator at zero) at {int(pole.sum())} point(s): returning inf. "
            "Use a ridge > 0.",
            stacklevel=4,
        )
    core["excess"] = core["test_mse"] - noise_var
    _scaled.warn(core, fields=("test_mse", "kappa"), stacklevel=5, poles=False)
    out = {k: core[k].reshape(shape) for k in ("kappa", "test_mse", "excess", "df1", "df2")}
    return OneLevelResult(
        n_samples=ns.reshape(shape),
        ridge=rg.reshape(shape),
        residual_var=spectrum.residual_var,
        **out,
    )


def equivalent_linear_spec(reference: KernelSpectrum, *, noise_var: float = 0.0) -> ModelSpec:
    r"""The linear model of §5 equivalent to random features with a reference kernel spectrum.

    Spectrum :math:`\nu_i = s_i/N_\mathrm{ref}`, teacher variances
    :math:`\bar w_i^2 = t_i^2 N_\mathrm{ref}/s_i^2 = p_i N_\mathrm{ref}/s_i`, projections of unit
    variance per entry (``feature_var`` = rank), label noise :math:`\sigma_\varepsilon^2 +
    \sigma_r^2`. (:func:`two_level_loss` uses the same model in scaled units, so it also works
    where these variances exceed float64.)
    """
    n_ref = reference.n_features
    nu = reference.eigenvalues / n_ref
    with np.errstate(over="ignore"):
        variances = reference.explained * (n_ref / reference.eigenvalues)
    return ModelSpec(
        spectrum=Spectrum.from_eigenvalues(nu),
        teacher=Teacher.from_variances(variances),
        noise_var=noise_var + reference.residual_var,
        feature_var=float(nu.size),
    )


def two_level_sums(reference: KernelSpectrum) -> SpectralSums:
    """§5 nodes of :func:`equivalent_linear_spec` in scaled units (levels s/s₁, shares ∝ p/ℓ)."""
    s = np.asarray(reference.eigenvalues, dtype=np.float64)
    levels = s / s[0]
    return scaled_sums(
        levels,
        reference.explained / levels,
        np.ones(s.size),
        latent_dim=s.size,
        lambda_plus=float(s[0]) / reference.n_features,
        log_variance_scale=float(np.log(reference.n_features) - np.log(s[0])),
    )


def two_level_loss(
    reference: KernelSpectrum,
    n_features: object,
    n_samples: object,
    ridge: object = 0.0,
    *,
    noise_var: float = 0.0,
) -> TheoryResult:
    r"""Test loss averaged over the features' draw (two levels), §5 on
    :func:`equivalent_linear_spec` (evaluated in scaled units, :func:`two_level_sums`).

    ``reference`` is the :class:`KernelSpectrum` of a large draw of :math:`N_\mathrm{ref}` features
    (it should exceed the largest N by a factor of a few: the operator's spectrum beyond
    :math:`N_\mathrm{ref}` is truncated into the residual). Returns §5's :class:`TheoryResult`
    with ``test_mse`` including σ_ε², and ``excess`` = test_mse − σ_ε².
    """
    nf, ns, rg = broadcast_points(n_features, n_samples, ridge)
    sums = two_level_sums(reference)
    core = evaluate_two_level(sums, reference, nf.ravel(), ns.ravel(), rg.ravel(), noise_var)
    _scaled.warn(core)
    return result_from_core(core, nf, ns, rg)


def evaluate_two_level(sums, reference: KernelSpectrum, nf, ns, rg, noise_var: float) -> dict:
    """The §5 core at flat points for :func:`two_level_loss` (``excess`` = test_mse − σ_ε²)."""
    log_gh = _scaled.log_normalized_ridge(sums, rg, float(sums.latent_dim), nf, ns)
    core = _scaled.evaluate(sums, nf, ns, log_gh, noise_var + reference.residual_var)
    core["excess"] = core["excess"] + reference.residual_var  # the residual is part of the target
    return core
