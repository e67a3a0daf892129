r"""Power-law asymptotics, regimes and local slopes of the theory loss (``docs/model.md`` §5).

For :math:`1 \ll n = \min(N,P) \ll M` and a power-law spectrum
:math:`\lambda_I = \lambda_+ I^{-(1+\alpha)}`, the ridgeless κ and the excess loss are

.. math::

    \kappa_0 \approx \lambda_+ \Big(\frac{C_\alpha}{n}\Big)^{1+\alpha}, \qquad
    \text{excess} \approx \frac{\sigma_w^2 \lambda_+}{M}\, C_\alpha^{1+\alpha}\,
    \frac{n^{-\alpha}}{1 - n/m}, \qquad
    C_\alpha = \frac{\pi}{(1+\alpha)\sin(\pi/(1+\alpha))}

(isotropic teacher; m = max(N, P)). In the ridge-limited regime κ ≈ γ̃ and the excess falls as
:math:`(\gamma/(NP))^{\alpha/(1+\alpha)}`.

==========  ======================  ==============================================
symbol      name                    meaning
==========  ======================  ==============================================
N, P, M     (see meaning)           ``n_features``, ``n_samples``, ``latent_dim``
α           ``alpha``               spectral exponent (λ_I ∝ I^-(1+α))
C_α         ``prefactor``           :func:`power_law_prefactor`
λ_+         ``lambda_plus``         largest eigenvalue
σ_w²        ``teacher_var``         teacher variance
γ           ``ridge``               ridge
γ̃           ``normalized_ridge``    γM/(σ_u²NP)
κ           ``kappa``               the root of the deterministic equivalent
==========  ======================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_choice, check_positive_float, warn_numerical
from ..model.spec import ModelSpec
from ._sums import spectral_sums
from .loss import METHODS, _as_points, check_linear_spec, evaluate_points

__all__ = [
    "power_law_prefactor",
    "scaling_exponent",
    "asymptotic_kappa",
    "asymptotic_excess",
    "LocalSlopes",
    "local_slopes",
    "regime",
    "REGIMES",
]

#: Regime labels returned by :func:`regime`.
REGIMES = (
    "breakdown",
    "ridge_limited",
    "interpolation_peak",
    "parameter_limited",
    "data_limited",
)


def power_law_prefactor(alpha: object) -> np.ndarray | float:
    r""":math:`C_\alpha = \Gamma(\tfrac{1}{1+\alpha})\Gamma(\tfrac{\alpha}{1+\alpha})/(1+\alpha)
    = \pi / ((1+\alpha)\sin(\pi/(1+\alpha)))`; :math:`C_1 = \pi/2`. Shape of ``alpha``.

    Defined by :math:`\int_0^\infty dx / (1 + x^{1+\alpha}) = C_\alpha` (``docs/model.md`` §5).

    Examples
    --------
    >>> import numpy as np
    >>> bool(np.isclose(power_law_prefactor(1.0), np.pi / 2))
    True
    >>> np.round(power_law_prefactor([0.5, 2.0]), 4)
    array([2.4184, 1.2092])
    """
    a = _as_points("alpha", alpha, allow_zero=False)
    out = np.pi / ((1.0 + a) * np.sin(np.pi / (1.0 + a)))
    return float(out) if out.ndim == 0 else out


def scaling_exponent(alpha: float, *, ridge_limited: bool = False) -> float:
    r"""Exponent of the excess loss in n = min(N, P) (or in N·P/γ when ridge-limited).

    .. math:: \text{excess} \propto n^{-\alpha}, \qquad
              \text{excess} \propto (\gamma/(NP))^{\alpha/(1+\alpha)} \text{ (ridge-limited)}

    For the isotropic teacher (``docs/model.md`` §5).

    Examples
    --------
    >>> scaling_exponent(1.0), scaling_exponent(1.0, ridge_limited=True)
    (1.0, 0.5)
    """
    a = check_positive_float("alpha", alpha)
    return a / (1.0 + a) if ridge_limited else a


def _power_law_parts(spec: ModelSpec) -> tuple[float, float, int]:
    spectrum = spec.spectrum
    if not spectrum.is_power_law:
        raise InputError(
            "'spec' must have a power-law spectrum for the asymptotic forms. "
            f"Got a {spectrum.kind} spectrum instead."
        )
    return spectrum.alpha, spectrum.lambda_plus, spectrum.latent_dim


def asymptotic_kappa(spec: ModelSpec, n: object) -> np.ndarray:
    r"""Leading-order ridgeless κ, :math:`\lambda_+ (C_\alpha/n)^{1+\alpha}`, shape of ``n``.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10**9, alpha=1.0))
    >>> kappa = asymptotic_kappa(spec, [1e2, 1e3])
    >>> round(float(kappa[0] / kappa[1]), 3)  # κ ∝ n^-(1+α): a factor 10 in n gives 100
    100.0
    """
    alpha, lam_plus, _ = _power_law_parts(check_linear_spec(spec))
    n = _as_points("n", n, allow_zero=False)
    log_kappa = np.log(lam_plus) + (1.0 + alpha) * (np.log(power_law_prefactor(alpha)) - np.log(n))
    return _exp_checked(log_kappa, "The asymptotic kappa")


def _exp_checked(log_value: np.ndarray, what: str) -> np.ndarray:
    """exp in float64, ``inf`` (with a warning) where it overflows."""
    with np.errstate(over="ignore"):
        out = np.exp(log_value)
    over = np.isinf(out) & np.isfinite(log_value)
    if np.any(over):
        warn_numerical(
            f"{what} exceeds the float64 range (1.8e308) at {int(over.sum())} point(s): "
            "returning inf there. Rescale lambda_plus or teacher_var.",
            stacklevel=4,
        )
    return out


def asymptotic_excess(spec: ModelSpec, n_features: object, n_samples: object) -> np.ndarray:
    r"""Leading-order ridgeless excess (isotropic teacher), broadcast shape of N and P.

    .. math:: \frac{\sigma_w^2\lambda_+}{M} C_\alpha^{1+\alpha}\frac{n^{-\alpha}}{1-n/m}

    Valid for 1 ≪ n ≪ M; finite-M corrections are large for α ≤ 1 (``docs/model.md`` §5), so compare
    simulations with :func:`~scalinglaws.theory.theory_loss`, not with this.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> from scalinglaws.theory import theory_loss
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10**9, alpha=1.0))
    >>> ratio = asymptotic_excess(spec, 1e3, 1e12) / theory_loss(spec, 1e3, 1e12).excess
    >>> round(float(ratio), 2)
    1.0
    """
    alpha, lam_plus, m_dim = _power_law_parts(check_linear_spec(spec))
    if spec.teacher.index_exponent != 0.0 or not spec.teacher.is_random:
        raise InputError(
            "'spec' must have an isotropic teacher for the asymptotic excess. "
            f"Got a {spec.teacher.kind} teacher instead."
        )
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    n, m = np.minimum(nf, ns), np.maximum(nf, ns)
    log_scale = np.log(spec.teacher.teacher_var) + np.log(lam_plus) - np.log(m_dim)
    log_scale += (1 + alpha) * np.log(power_law_prefactor(alpha))
    pole = n == m
    if np.any(pole):
        warn_numerical(
            f"The asymptotic excess has a pole at n_features = n_samples ({int(pole.sum())} "
            "point(s)): returning inf there. Move n_features and n_samples apart.",
            stacklevel=3,
        )
    with np.errstate(divide="ignore"):
        log_excess = log_scale - alpha * np.log(n) - np.log1p(-n / m)
    return _exp_checked(log_excess, "The asymptotic excess")


@dataclass(frozen=True)
class LocalSlopes:
    """Local exponents ``d log L / d log N`` (``n_features``) and ``d log L / d log P``
    (``n_samples``) at fixed γ, each of the broadcast input shape."""

    n_features: np.ndarray
    n_samples: np.ndarray

    def to_dataset(self):
        """The arrays as variables along ``point``, the scalars as attributes."""
        from ..results import fields_dataset

        return fields_dataset(self, dim="point", source="local slopes of the theory loss")

def local_slopes(
    spec: ModelSpec,
    n_features: object,
    n_samples: object,
    ridge: object = 0.0,
    *,
    quantity: str = "test_mse",
    step: float = 1e-3,
    method: str = "auto",
) -> LocalSlopes:
    r"""Local slopes of the loss in log N and log P at fixed γ, by centred differences.

    .. math:: \frac{\partial \log L}{\partial \log N} \approx
              \frac{\log L(N e^{h}) - \log L(N e^{-h})}{2h}

    with h = ``step`` (truncation error O(h²) ≈ 1e-7 for h = 1e-3; κ is solved to ~1e-14 so
    rounding adds ~1e-10). ``quantity`` is ``"test_mse"`` or ``"excess"``. Not meaningful across
    the non-smooth points N = P (γ = 0) and min(N, P) = M.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10**9, alpha=1.0))
    >>> s = local_slopes(spec, 1e3, 1e12, quantity='excess')
    >>> round(float(s.n_features), 2)  # −α in the scaling regime
    -1.0
    """
    check_choice("quantity", quantity, ("test_mse", "excess"))
    h = check_positive_float("step", step)
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    rg = _as_points("ridge", ridge, allow_zero=True)
    nf, ns, rg = np.broadcast_arrays(nf, ns, rg)
    up, down = np.exp(h), np.exp(-h)
    stack_n = np.stack([nf * up, nf * down, nf, nf])
    stack_p = np.stack([ns, ns, ns * up, ns * down])
    stack_r = np.broadcast_to(rg, stack_n.shape)
    sums = spectral_sums(spec, method)
    core = evaluate_points(sums, spec, stack_n.ravel(), stack_p.ravel(), stack_r.ravel())
    log_l = core["log_excess"]  # the log, so the slope exists even where the loss overflows
    if quantity == "test_mse":
        with np.errstate(divide="ignore"):
            log_l = np.logaddexp(log_l, np.log(spec.noise_var))
    log_l = log_l.reshape(stack_n.shape)
    with np.errstate(invalid="ignore"):
        slopes = (log_l[0] - log_l[1]) / (2 * h), (log_l[2] - log_l[3]) / (2 * h)
    undefined = ~np.isfinite(slopes[0]) | ~np.isfinite(slopes[1])
    if np.any(undefined):
        warn_numerical(
            f"The local slope is undefined at {int(undefined.sum())} point(s), where the loss is "
            "0 or has a pole nearby: returning NaN there.",
            stacklevel=3,
        )
    nan = np.where(undefined, np.nan, 0.0)
    return LocalSlopes(n_features=slopes[0] + nan, n_samples=slopes[1] + nan)


def regime(
    spec: ModelSpec,
    n_features: object,
    n_samples: object,
    ridge: object = 0.0,
    *,
    method: str = "auto",
) -> np.ndarray:
    r"""Which resource limits the loss at each point; array of labels from :data:`REGIMES`.

    Rules, applied in this order, with κ, df₁, g, γ̃ from :func:`theory_loss`:

    1. ``"breakdown"``: :math:`\mathrm{df}_1(\kappa) \ge M/2`, more than half of the latent
       directions are resolved, so the power law has ended (plateau, or the noise floor; always
       the case for γ = 0 and min(N, P) ≥ M).
    2. ``"ridge_limited"``: :math:`\tilde\gamma \ge \kappa/2`, i.e.
       :math:`(1-\mathrm{df}_1/N)(1-\mathrm{df}_1/P) \ge 1/2`: the ridge, not N or P, sets κ.
    3. ``"interpolation_peak"``: :math:`\mathrm{df}_1(\kappa) \ge \max(N, P)/2`: the fit uses
       at least half of the larger resource too, so the double-descent factor
       :math:`1/(1 - \mathrm{df}_1/\max(N,P))` is at least 2 (ridgeless: N/P in [1/2, 2]).
    4. ``"parameter_limited"`` if N < P, else ``"data_limited"``.

    Returns a ``str`` array of the broadcast input shape.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10**6, alpha=1.0))
    >>> regime(spec, [100, 10_000], 1000)
    array(['parameter_limited', 'data_limited'], dtype='<U18')
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    rg = _as_points("ridge", ridge, allow_zero=True)
    nf, ns, rg = np.broadcast_arrays(nf, ns, rg)
    core = evaluate_points(spectral_sums(spec, method), spec, nf.ravel(), ns.ravel(), rg.ravel())
    df1 = core["df1"].reshape(nf.shape)
    # γ̃ >= κ/2 compared in scaled log units: valid even where κ or γ̃ overflow float64
    ridge_limited = (core["log_gh"] >= core["t"] - np.log(2.0)).reshape(nf.shape)
    larger = np.maximum(nf, ns)
    out = np.where(nf < ns, "parameter_limited", "data_limited")
    out = np.where(df1 >= larger / 2.0, "interpolation_peak", out)
    out = np.where(ridge_limited, "ridge_limited", out)
    out = np.where(df1 >= spec.latent_dim / 2.0, "breakdown", out)
    return out.astype(f"<U{max(len(r) for r in REGIMES)}")
