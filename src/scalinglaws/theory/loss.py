r"""Deterministic-equivalent test loss of linear random-feature ridge regression (``MODEL.md`` §5).

With :math:`\tilde\gamma = \gamma M / (\sigma_u^2 N P)`, κ > 0 solves

.. math::

    \kappa \Big(1 - \frac{\mathrm{df}_1(\kappa)}{N}\Big)
    \Big(1 - \frac{\mathrm{df}_1(\kappa)}{P}\Big) = \tilde\gamma,
    \qquad \mathrm{df}_1(\kappa) < \min(N, P),

then :math:`d = (N - \mathrm{df}_1)/(N - \mathrm{df}_2)`,
:math:`g = [\mathrm{df}_1 - d(\mathrm{df}_1 - \mathrm{df}_2)]/P` and

.. math::

    \text{test\_mse} = \frac{\kappa^2\,\mathrm{tf}_2\, d + \kappa\,\mathrm{tf}_1 (1-d)
    + \sigma_\varepsilon^2}{1 - g}, \qquad \text{excess} = \text{test\_mse} - \sigma_\varepsilon^2 .

Numerics: the root is bracketed in log κ between :math:`\max(\kappa_0, \tilde\gamma)` (κ₀ the
ridgeless solution of df₁(κ₀) = min(N, P), 0 when min(N, P) ≥ M) and
:math:`\tilde\gamma + \mathrm{tr}\Lambda/N + \mathrm{tr}\Lambda/P`, and found by a vectorized
Chandrupatla iteration to about 1e-14 relative. γ = 0 uses κ₀ and df₁ = min(N, P) exactly; the
double-descent pole (γ = 0, N = P < M; or γ = 0, P = M ≤ N with noise) returns ``inf`` with a
:class:`~scalinglaws._validation.NumericalWarning`.

==========  ====================  ==============================================
symbol      name                  meaning
==========  ====================  ==============================================
N           ``n_features``        number of random features
P           ``n_samples``         number of training samples (paper: T)
M           ``latent_dim``        latent dimension
γ           ``ridge``             ridge on the sum of squared errors
γ̃           ``normalized_ridge``  γ M / (σ_u² N P)
κ           ``kappa``             renormalized ridge (effective regularization)
df₁, df₂    ``df1``, ``df2``      spectral degrees of freedom at κ
tf₁, tf₂    ``tf1``, ``tf2``      teacher-weighted sums at κ
σ_ε²        ``noise_var``         label-noise variance
σ_u²        ``feature_var``       feature-weight variance
==========  ====================  ==============================================
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import xarray as xr

from .._validation import (
    InputError,
    check_choice,
    check_float_list,
    check_int_list,
    warn_numerical,
)
from ..spec import ModelSpec
from ._solve import bracketed_root
from ._sums import SpectralSums, spectral_sums

__all__ = ["TheoryResult", "theory_loss", "theory_grid", "ridgeless_kappa", "METHODS"]

#: Choices for ``method``: exact O(M) sums, compressed O(log M) sums, or pick by M.
METHODS = ("auto", "exact", "compressed")


@dataclass(frozen=True)
class TheoryResult:
    """The deterministic equivalent at broadcast points; every field has the broadcast shape.

    Fields: ``n_features`` (N), ``n_samples`` (P), ``ridge`` (γ), ``normalized_ridge`` (γ̃),
    ``kappa`` (κ), ``df1``, ``df2``, ``tf1``, ``tf2``, ``d``, ``g``, ``test_mse`` (noise included)
    and ``excess`` (= test_mse − σ_ε²). See ``MODEL.md`` §5.
    """

    n_features: np.ndarray
    n_samples: np.ndarray
    ridge: np.ndarray
    normalized_ridge: np.ndarray
    kappa: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    tf1: np.ndarray
    tf2: np.ndarray
    d: np.ndarray
    g: np.ndarray
    test_mse: np.ndarray
    excess: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The fields as a dict of arrays."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _as_points(name: str, value: object, *, allow_zero: bool) -> np.ndarray:
    """Float array of finite numbers > 0 (>= 0 if ``allow_zero``); one-line error otherwise."""
    expectation = "finite numbers >= 0" if allow_zero else "finite numbers > 0"
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"'{name}' must be {expectation}. Got {value!r:.60} instead.") from None
    ok = np.isfinite(arr) & ((arr >= 0) if allow_zero else (arr > 0))
    if arr.size == 0 or not np.all(ok):
        bad = arr[~ok].ravel()[0] if arr.size else value
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise ValueError(f"'{name}' must be {expectation}. Got {bad!r} instead.")
    return arr


def check_linear_spec(spec: object) -> ModelSpec:
    """Return ``spec`` if it is a :class:`ModelSpec` with linear features."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"'spec' must be a ModelSpec. Got {type(spec).__name__} instead.")
    if not spec.is_linear:
        raise InputError(
            "'spec' must have a linear activation (the theory solves linear random features). "
            f"Got {spec.activation.name!r} instead; scalinglaws.equivalence covers the others."
        )
    if not spec.teacher.is_linear:
        raise InputError(
            "'teacher' must be linear in x for the theory of MODEL.md §5. Got a "
            f"{spec.teacher.describe()} instead; scalinglaws.equivalence covers it."
        )
    return spec


def ridgeless_kappa(sums: SpectralSums, n: np.ndarray) -> np.ndarray:
    r"""κ₀ with :math:`\mathrm{df}_1(\kappa_0) = n` for n < M, and 0 for n ≥ M; shape of ``n``.

    Bracket in log κ: :math:`\lambda_{\lceil 2n\rceil}` (then df₁ ≥ n) or, if 2n > M,
    :math:`\lambda_M (M-n)/(2M)` (then df₁ ≥ (M+n)/2), and :math:`\mathrm{tr}\Lambda / n`.
    """
    n = np.asarray(n, dtype=np.float64)
    out = np.zeros(n.shape)
    below = n < sums.latent_dim
    if not np.any(below):
        return out
    nb = n[below].ravel()
    m = sums.latent_dim
    small = np.where(2 * nb <= m, 2 * nb, 1.0)
    lo = np.where(2 * nb <= m, sums.eigenvalue_at(small), sums.smallest * (m - nb) / (2 * m))
    hi = sums.trace / nb

    def residual(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        return sums.df1(np.exp(t)) / nb[idx] - 1.0

    out[below] = np.exp(bracketed_root(residual, np.log(lo), np.log(hi)))
    return out


def _solve_kappa(sums, n_features, n_samples, ridge_tilde, kappa0) -> np.ndarray:
    """κ for γ̃ > 0 on the branch df₁ < min(N, P) (flat arrays)."""
    lo = np.maximum(kappa0, ridge_tilde)
    hi = ridge_tilde + sums.trace / n_features + sums.trace / n_samples

    def residual(t: np.ndarray, idx: np.ndarray) -> np.ndarray:
        kappa = np.exp(t)
        df1 = sums.df1(kappa)
        prod = kappa * (1.0 - df1 / n_features[idx]) * (1.0 - df1 / n_samples[idx])
        return prod / ridge_tilde[idx] - 1.0

    return np.exp(bracketed_root(residual, np.log(lo), np.log(hi)))


def _evaluate(sums, spec, nf, ns, ridge, kappa0=None) -> dict[str, np.ndarray]:
    """All quantities at flat points (``nf``, ``ns``, ``ridge`` of equal shape).

    ``kappa0`` (the ridgeless κ at min(N, P)) is computed unless given.
    """
    m = sums.latent_dim
    ridge_tilde = ridge * m / (spec.feature_var * nf * ns)
    n_min = np.minimum(nf, ns)
    kappa = ridgeless_kappa(sums, n_min) if kappa0 is None else np.array(kappa0, dtype=float)
    positive = ridge_tilde > 0
    if np.any(positive):
        kappa[positive] = _solve_kappa(
            sums, nf[positive], ns[positive], ridge_tilde[positive], kappa[positive]
        )
    df1, df2, tf1, tf2 = sums.all(kappa)
    at_zero = kappa == 0
    df1 = np.where(at_zero, m, df1)
    df2 = np.where(at_zero, m, df2)
    df1 = np.where(~positive & (n_min < m), n_min, df1)  # the defining equation, exactly
    with np.errstate(divide="ignore", invalid="ignore"):
        d = np.where(nf - df2 > 0, (nf - df1) / (nf - df2), 0.5)  # N = M, κ = 0: limit 1/2
        g = (df1 - d * (df1 - df2)) / ns
        signal = kappa**2 * tf2 * d + kappa * tf1 * (1.0 - d)
        numerator = signal + spec.noise_var * g
        excess = np.where(numerator > 0, numerator / (1.0 - g), 0.0)
    pole = (1.0 - g <= 0) & (numerator > 0)
    if np.any(pole):
        warn_numerical(
            f"The test loss has a pole (ridge = 0 and n_samples = min(n_features, latent_dim)) "
            f"at {int(pole.sum())} point(s): returning inf there. Use a ridge > 0, or move "
            "n_features and n_samples apart.",
            stacklevel=4,
        )
        excess = np.where(pole, np.inf, excess)
    return {
        "normalized_ridge": ridge_tilde,
        "kappa": kappa,
        "df1": df1,
        "df2": df2,
        "tf1": tf1,
        "tf2": tf2,
        "d": d,
        "g": g,
        "test_mse": excess + spec.noise_var,
        "excess": excess,
    }


def theory_loss(
    spec: ModelSpec,
    n_features: object,
    n_samples: object,
    ridge: object = 0.0,
    *,
    method: str = "auto",
) -> TheoryResult:
    r"""Test loss of linear random-feature ridge regression from ``MODEL.md`` §5.

    .. math::

        \text{test\_mse} = \frac{\kappa^2\mathrm{tf}_2\,d + \kappa\,\mathrm{tf}_1(1-d)
        + \sigma_\varepsilon^2}{1-g}

    Parameters
    ----------
    spec : ModelSpec
        The model; its activation must be linear.
    n_features, n_samples : array_like of float > 0
        N and P; broadcast against each other and ``ridge`` (real values are allowed).
    ridge : array_like of float >= 0, default 0
        γ, the ridge on the sum of squared errors; 0 is the minimum-norm interpolator.
    method : {"auto", "exact", "compressed"}, keyword-only
        Spectral sums: exact O(M); compressed O(log M) (power-law spectrum with isotropic or
        power-law teacher; relative accuracy < 1e-9); ``auto`` compresses those above M = 4096.

    Returns
    -------
    TheoryResult
        Every field of the broadcast shape of the three inputs.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0))
    >>> float(theory_loss(spec, 100, 10_000).excess)  # doctest: +ELLIPSIS
    1.18...e-05
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    rg = _as_points("ridge", ridge, allow_zero=True)
    nf, ns, rg = np.broadcast_arrays(nf, ns, rg)
    shape = nf.shape
    sums = spectral_sums(spec, method)
    flat = _evaluate(sums, spec, nf.ravel(), ns.ravel(), rg.ravel())
    out = {k: v.reshape(shape) for k, v in flat.items()}
    return TheoryResult(n_features=nf.copy(), n_samples=ns.copy(), ridge=rg.copy(), **out)


def theory_grid(
    spec: ModelSpec,
    *,
    n_features: object,
    n_samples: object,
    ridges: object = (0.0,),
    method: str = "auto",
) -> xr.Dataset:
    """:func:`theory_loss` on the full grid, as a Dataset shaped like ``simulate``'s output.

    Data variables ``test_mse``, ``excess``, ``kappa``, ``normalized_ridge``, ``df1``, ``df2``,
    ``tf1``, ``tf2``, ``d``, ``g``, each of dims ``(n_features, n_samples, ridge)``; the lists are
    validated, de-duplicated and sorted as in :func:`scalinglaws.simulation.simulate`.
    """
    nf = np.array(check_int_list("n_features", n_features), dtype=np.float64)
    ns = np.array(check_int_list("n_samples", n_samples), dtype=np.float64)
    rg = np.array(check_float_list("ridges", ridges))
    res = theory_loss(spec, nf[:, None, None], ns[None, :, None], rg[None, None, :], method=method)
    dims = ("n_features", "n_samples", "ridge")
    names = ("test_mse", "excess", "kappa", "normalized_ridge")
    names += ("df1", "df2", "tf1", "tf2", "d", "g")
    return xr.Dataset(
        {name: (dims, getattr(res, name)) for name in names},
        coords={"n_features": nf.astype(np.int64), "n_samples": ns.astype(np.int64), "ridge": rg},
        attrs={"spec": str(spec.to_dict()), "source": "deterministic equivalent, MODEL.md §5"},
    )
