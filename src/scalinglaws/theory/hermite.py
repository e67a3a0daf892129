r"""Two-level theory of nonlinear random features from the activation's Hermite expansion, with no
reference draw of features (docs/nonlinear-theory.md).

Whiten the data, :math:`x = \Lambda^{1/2} z`, and expand each feature in the orthonormal Hermite
functions of z: with :math:`c = u^\top\Lambda u` and :math:`h_k = \mathrm{He}_k/\sqrt{k!}`,

.. math:: \sigma(u\cdot x) = \sum_{k\ge 0} a_k(c)\, h_k\!\Big(\frac{u\cdot x}{\sqrt c}\Big),
          \qquad a_k(c) = E[\sigma(\sqrt c\, G)\, h_k(G)],

so a feature is a linear map of the Hermite tensors of z, and the features' second-moment
operator is block-diagonal in the degree k, with trace :math:`E_u[a_k(c)^2]` in degree k. Its
spectrum is computed here, not estimated from a draw of features: averages over u run over 4096
fixed Gaussian nodes of the weights (w = Λ^½u, c = Σ w_i², no N×N matrix), and

- degree 0: one direction, :math:`E[a_0(c)^2]` (the features' mean);
- degree 1: :math:`E[a_1(c)^2 w_i^2/c]`, i = 1..M (by the tilting identity
  :math:`E[w_i^2 f(c)] = s\lambda_i E[f(c + s\lambda_i Z)]`, Z ~ χ²₂, s = σ_u²/M), the only
  directions that carry a linear teacher (power :math:`\bar w_i^2\lambda_i` along i);
- degree 2: :math:`2G_{ij}` for the pairs i < j (in logarithmic bins) and the eigenvalues of
  the M×M matrix :math:`G_{ij} = E[a_2(c)^2 w_i^2 w_j^2/c^2]` (the squares and the norm
  direction);
- degree 3 ≤ k ≤ K (approximation H1): :math:`\propto\prod_m d^{(k)}_{i_m}` over multisets of
  size k, :math:`d^{(k)}_i = E[a_k^2 w_i^2/c]/E[a_k^2]`, scaled to :math:`E[a_k(c)^2]`,
  counted in logarithmic bins through Newton's identity for the complete homogeneous
  polynomials (each bin's level is its members' exact mean);
- degrees above K (approximation H2): white,
  :math:`\tau = E[\sigma(\sqrt c G)^2 - \sum_{k\le K} a_k(c)^2]` over unboundedly many
  directions: it adds τ/κ to df₁ and nothing else.

Isotropic data make c concentrate, and the result is Mei & Montanari's proportional limit; at
low effective rank :math:`(\mathrm{tr}\Lambda)^2/\mathrm{tr}\Lambda^2` H1 is not accurate
(docs/nonlinear-theory.md gives the measurements).

The loss is then §5 of the linear model on these weighted nodes (approximation H3: unit-variance
i.i.d. projections, Gaussian equivalence in the Hermite basis). For linear features it is §5
itself.

=========  =====================  ==================================================
symbol     name                   meaning
=========  =====================  ==================================================
a_k        ``coefficients``       Hermite coefficients of σ (rms over the weights)
c          ``variance``           pre-activation variance uᵀΛu
K          ``max_degree``         highest degree given its own spectrum
τ          ``white_var``          power of the degrees above K
=========  =====================  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import InputError, check_positive_int
from ..model.spec import ModelSpec
from . import _scaled
from ._hermite_parts import (
    _degree_two,
    _pair_levels,
    _product_bins,
    _weight_moments,
    hermite_coefficients,
)
from ._sums import LEVEL_FLOOR, SpectralSums
from .loss import TheoryResult, broadcast_points, result_from_core

__all__ = ["HermiteSpectrum", "hermite_coefficients", "hermite_spectrum", "hermite_loss"]

#: Default highest degree with its own spectrum (the rest is white).
MAX_DEGREE = 6
#: Logarithmic bins per decade for the spectra of degrees >= 2.
BINS_PER_DECADE = 64
#: The white part's level relative to the largest: far below any κ float64 resolves there.
_WHITE_LEVEL = 1e-200
#: n_nodes × M above this is refused (about a minute of moments on two cores).
_MAX_WORK = 2**33
#: Σ weights above this are "unbounded" for the solver (N and P never reach it).
_UNBOUNDED = 2**62


@dataclass(frozen=True)
class HermiteSpectrum:
    """The features' second-moment operator as weighted nodes (module docstring).

    Attributes
    ----------
    eigenvalues : ndarray of shape (n_nodes,)
        Levels ν of the nodes, decreasing (the white part last, when present).
    weights : ndarray of shape (n_nodes,)
        Number of directions per node.
    degree : ndarray of shape (n_nodes,)
        Hermite degree of each node (``-1`` for the white part).
    explained : ndarray of shape (n_nodes,)
        Teacher power along each node (all of it in degree 1), in units of
        ``exp(log_explained_scale)`` (so that any teacher scale float64's logs hold works).
    coefficients : ndarray of shape (max_degree + 1,)
        :math:`E[a_k(c)^2]^{1/2}` over the feature weights.
    white_var : float
        τ, the power above ``max_degree``.
    target_var : float
        E[f_*²].
    residual_var : float
        Teacher power no feature reaches (all of it when a_1 = 0).
    """

    eigenvalues: np.ndarray
    weights: np.ndarray
    degree: np.ndarray
    explained: np.ndarray
    coefficients: np.ndarray
    white_var: float
    target_var: float
    residual_var: float
    log_explained_scale: float = 0.0


def hermite_spectrum(
    spec: ModelSpec, *, max_degree: int = MAX_DEGREE, bins_per_decade: int = BINS_PER_DECADE,
    n_nodes: int = 4096, seed: int = 0,
) -> HermiteSpectrum:  # fmt: skip
    r"""The features' second-moment operator of ``spec`` (linear teacher), module docstring.

    The per-degree moments average over ``n_nodes`` fixed Gaussian nodes of the feature weights
    (``seed``): :math:`E[a_k(c)^2]`, degree 1's :math:`E[a_1(c)^2 w_i^2/c]` and degree 2's
    :math:`G_{ij} = E[a_2(c)^2 w_i^2 w_j^2/c^2]` (w = Λ^½u), so the pre-activation variance's
    spread is kept; degrees 3..K take the shape :math:`\prod_m d^{(k)}_{i_m}`,
    :math:`d^{(k)}_i = E[a_k^2 w_i^2/c]/E[a_k^2]`.

    Cost: O(n_nodes M²) for degree 2's block (M ≤ 4096), O(M³) for its eigenvalues, and
    O(K² B²) convolutions of B = bins per decade × decades of the spectrum for the rest.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0),
    ...                  activation="relu")
    >>> hs = hermite_spectrum(spec)
    >>> total = float(hs.eigenvalues @ hs.weights + hs.white_var)  # = E relu(h)² = E c/2
    >>> round(total / (0.5 * float(spec.spectrum.eigenvalues.sum()) / 100), 2)
    1.0
    """
    max_degree = check_positive_int("max_degree", max_degree)
    bins_per_decade = check_positive_int("bins_per_decade", bins_per_decade)
    n_nodes = check_positive_int("n_nodes", n_nodes)
    if spec.latent_dim * n_nodes > _MAX_WORK:
        raise InputError(
            f"'n_nodes' times 'latent_dim' must be at most {_MAX_WORK:.2g} for the Hermite route "
            f"(minutes of work beyond). Got {n_nodes} x {spec.latent_dim} instead; lower n_nodes "
            "or use route='reference'."
        )
    lam = np.asarray(spec.spectrum.eigenvalues, dtype=np.float64)
    mom = _weight_moments(spec, max_degree, n_nodes, int(seed))
    t = mom.totals
    width = np.log(10.0) / bins_per_decade
    levels, weights, degree = [np.array([t[0]])], [np.ones(1)], [np.zeros(1, int)]
    levels.append(mom.linear)
    weights.append(np.ones(lam.size))
    degree.append(np.ones(lam.size, int))
    if max_degree >= 2 and t[2] > 0:
        if mom.pairs is not None:
            lv, wt = _pair_levels(mom.pairs, width)
        else:
            lv, wt = _degree_two(lam / lam.sum(), width)
            lv = t[2] * lv / float(lv @ wt)
        levels.append(lv)
        weights.append(wt)
        degree.append(np.full(lv.size, 2))
    for k in range(3, max_degree + 1):
        if t[k] <= 0:
            continue
        cnt, mass = _product_bins(np.maximum(mom.shapes[k], 1e-300), k, width)[k]
        keep = cnt > 0
        levels.append(t[k] * mass[keep] / (cnt[keep] * mass.sum()))
        weights.append(cnt[keep])
        degree.append(np.full(int(keep.sum()), k))
    white = mom.remainder
    shares, log_scale = spec.scaled_teacher_variances()
    top = float(lam.max())
    log_explained = log_scale + float(np.log(top))
    power = shares * (lam / top)  # w̄²λ in units of exp(log_explained)
    explained = [np.zeros(1), power] + [np.zeros(x.size) for x in levels[2:]]
    lv, wt, dg, ex = (np.concatenate(x) for x in (levels, weights, degree, explained))
    # nodes below 1e-13 of the top are white to float64 (κ never resolves them): move them there
    live = lv > max(1e-13 * float(lv.max()), LEVEL_FLOOR)
    white += float(lv[~live & (dg >= 2)] @ wt[~live & (dg >= 2)])
    white = white if white > 1e-10 * float(t.sum()) else 0.0
    with np.errstate(over="ignore", divide="ignore"):  # inf only where float64 cannot hold it
        target_var = float(np.exp(np.log(np.sum(power)) + log_explained))
        residual = float(np.exp(np.log(np.sum(ex[~live])) + log_explained))
    lv, wt, dg, ex = lv[live], wt[live], dg[live], ex[live]
    order = np.argsort(-lv, kind="stable")
    return HermiteSpectrum(
        eigenvalues=lv[order], weights=wt[order], degree=dg[order], explained=ex[order],
        coefficients=np.sqrt(t), white_var=white, target_var=target_var, residual_var=residual,
        log_explained_scale=log_explained,
    )  # fmt: skip


@dataclass(frozen=True, eq=False)
class _WeightedSums(SpectralSums):
    """Nodes with multiplicities: the level at index I is that of the first node whose
    cumulative weight reaches I (a decreasing step function, as for unit weights)."""

    def level_at(self, index: np.ndarray) -> np.ndarray:
        cum = np.cumsum(self.weights)
        pos = np.searchsorted(cum, np.asarray(index, dtype=np.float64), side="left")
        return self.levels[np.clip(pos, 0, self.levels.size - 1)]


def hermite_sums(hs: HermiteSpectrum) -> SpectralSums:
    """§5 nodes of :func:`hermite_spectrum` in scaled units, the white part as one node of
    level ``_WHITE_LEVEL`` × the top carrying τ (Σ ω ℓ = τ/ν₁)."""
    top = float(hs.eigenvalues[0])
    levels, weights = hs.eigenvalues / top, np.asarray(hs.weights, dtype=np.float64)
    variances = np.divide(hs.explained, hs.eigenvalues)  # w̄'² = power/ν, unit projections
    total_weight = float(weights.sum())
    if hs.white_var > 0:
        levels = np.append(levels, _WHITE_LEVEL)
        weights = np.append(weights, hs.white_var / top / _WHITE_LEVEL)
        variances = np.append(variances, 0.0)
        total_weight = float(_UNBOUNDED)
    total = float(variances @ weights)
    shares = variances / total if total > 0 else np.zeros_like(variances)
    return _WeightedSums(
        levels=np.maximum(levels, LEVEL_FLOOR),
        shares=shares,
        weights=weights,
        latent_dim=int(min(total_weight, _UNBOUNDED)),
        lambda_plus=top,
        log_teacher_var=float(np.log(total)) + hs.log_explained_scale if total > 0 else -np.inf,
        trace_levels=float(levels @ weights),
        smallest_level=float(levels[-1]),
        compressed=True,
    )


def hermite_loss(
    hs: HermiteSpectrum, n_features: object, n_samples: object, ridge: object = 0.0, *,
    noise_var: float = 0.0,
) -> TheoryResult:  # fmt: skip
    r"""Test loss averaged over the features' draw: §5 on :func:`hermite_spectrum`'s nodes.

    .. math:: \kappa\Big(1 - \frac{\mathrm{df}_1}{N}\Big)\Big(1 - \frac{\mathrm{df}_1}{P}\Big)
              = \frac{\gamma}{NP},\qquad \mathrm{df}_1 = \sum_i \omega_i\frac{\nu_i}{\nu_i+\kappa}
              + \frac{\tau}{\kappa}

    and §5's loss with the teacher on degree 1 (unit-variance projections in the Hermite basis);
    the teacher power no feature reaches adds to the noise and to ``excess``.

    Parameters
    ----------
    hs : HermiteSpectrum
    n_features, n_samples, ridge : array_like
        N > 0, P > 0 and γ ≥ 0 (sum-of-squares ridge), broadcast together.
    noise_var : float
        σ_ε².

    Returns
    -------
    TheoryResult
        A pole (γ = 0 at N = P) is inf with a NumericalWarning.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.from_eigenvalues([1.0] * 200), activation="relu")
    >>> res = hermite_loss(hermite_spectrum(spec), 400, 800, 1e-3 * 400 * 800 / 200)
    >>> round(float(res.excess), 3)  # Mei & Montanari's limit at ψ1 = 2, ψ2 = 4, λ = 1e-3: 0.435
    0.432
    """
    nf, ns, rg = broadcast_points(n_features, n_samples, ridge)
    sums = hermite_sums(hs)
    core = evaluate_hermite(sums, hs, nf.ravel(), ns.ravel(), rg.ravel(), noise_var)
    _scaled.warn(core)
    return result_from_core(core, nf, ns, rg)


def evaluate_hermite(sums: SpectralSums, hs: HermiteSpectrum, nf, ns, rg, noise_var) -> dict:
    """The §5 core at flat points for :func:`hermite_loss` (``excess`` = test_mse − σ_ε²)."""
    log_gh = _scaled.log_normalized_ridge(sums, rg, float(sums.latent_dim), nf, ns)
    core = _scaled.evaluate(sums, nf, ns, log_gh, noise_var + hs.residual_var)
    core["excess"] = core["excess"] + hs.residual_var
    return core
