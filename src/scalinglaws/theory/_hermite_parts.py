"""Parts of the Hermite route (:mod:`.hermite`): the activation's Hermite coefficients, the
moments of the per-degree blocks over fixed nodes of the feature weights, and the binned
spectra of multiset products (docs/nonlinear-theory.md).

=========  =====================  ==================================================
symbol     name                   meaning
=========  =====================  ==================================================
a_k        ``coefficients``       Hermite coefficients of σ
c          ``variance``           pre-activation variance uᵀΛu
K          ``max_degree``         highest degree given its own spectrum
=========  =====================  ==================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.polynomial.legendre import leggauss

from ..model.activations import get_activation
from ..model.spec import ModelSpec

__all__ = ["hermite_coefficients"]

def _quadrature_rule():
    """Nodes and weights of E[f(G)]: composite Gauss–Legendre on geometric panels either side of
    0 out to 14 standard deviations (a kink of σ at 0 falls on a panel edge), 16 nodes a panel."""
    t, w = leggauss(16)
    edges = np.concatenate([[0.0], np.geomspace(1e-9, 14.0, 80)])
    half, mid = 0.5 * np.diff(edges), 0.5 * (edges[1:] + edges[:-1])
    g = (mid[:, None] + half[:, None] * t).ravel()
    wg = (half[:, None] * w).ravel() * np.exp(-0.5 * g * g) / np.sqrt(2 * np.pi)
    return np.concatenate([-g, g]), np.concatenate([wg, wg])


def hermite_coefficients(activation, variance, max_degree: int) -> np.ndarray:
    r"""Hermite coefficients :math:`a_k(c) = E[\sigma(\sqrt c\,G)\,\mathrm{He}_k(G)]/\sqrt{k!}`.

    Composite Gauss–Legendre on geometric panels either side of 0 out to
    :math:`|g| = 14`, 16 nodes a panel (a kink of σ at 0 falls on a panel edge): about 1e-13
    absolute for relu, erf, tanh.

    Parameters
    ----------
    activation : str or Activation or callable
    variance : float or ndarray of shape (n,)
        c > 0.
    max_degree : int
        Highest k.

    Returns
    -------
    ndarray of shape (max_degree + 1,) or (max_degree + 1, n)

    Examples
    --------
    >>> a = hermite_coefficients("relu", 1.0, 2)
    >>> [round(float(v), 6) for v in a]  # 1/sqrt(2 pi), 1/2, 1/(2 sqrt(pi))
    [0.398942, 0.5, 0.282095]
    """
    act = get_activation(activation)
    g, wg = _quadrature_rule()
    c = np.atleast_1d(np.asarray(variance, dtype=np.float64))
    with np.errstate(over="ignore", invalid="ignore"):
        values = np.asarray(act(np.sqrt(c)[:, None] * g), dtype=np.float64)  # (n, nodes)
    out = np.empty((max_degree + 1, c.size))
    h_prev, h = np.zeros_like(g), np.ones_like(g)
    for k in range(max_degree + 1):
        out[k] = values @ (wg * h)
        h_prev, h = h, (g * h - np.sqrt(k) * h_prev) / np.sqrt(k + 1)
    return out[:, 0] if np.ndim(variance) == 0 else out


def _product_bins(d: np.ndarray, max_degree: int, width: float):
    """For k = 0..K, ``(count, mass)`` of the multiset products of d in log bins of ``width``:
    Newton's identity k h_k = Σ_m p_m h_{k−m} on bin-indexed generating functions."""
    b = np.rint(np.log(d) / width).astype(np.int64)  # <= 0 (d <= 1)
    lo = int(b.min())
    h = [(np.ones(1), np.ones(1))]  # h_0: bin 0
    powers = []
    for m in range(1, max_degree + 1):
        idx = -m * b  # bin offset from the top (0), non-negative
        cnt = np.bincount(idx, minlength=1).astype(np.float64)
        mass = np.bincount(idx, weights=d**m, minlength=1)
        powers.append((cnt, mass))
    for k in range(1, max_degree + 1):
        cnt = np.zeros(-k * lo + 1)
        mass = np.zeros(-k * lo + 1)
        for m in range(1, k + 1):
            pc, pm = powers[m - 1]
            hc, hm = h[k - m]
            c, s = np.convolve(pc, hc), np.convolve(pm, hm)
            cnt[: c.size] += c
            mass[: s.size] += s
        h.append((cnt / k, mass / k))
    return h


def _degree_two(d: np.ndarray, width: float):
    """Levels and weights of degree 2 (unnormalized): 2 d_i d_j (i < j) binned, and the
    eigenvalues of 2 diag(d²) + d dᵀ (the squares and the norm direction)."""
    b = np.rint(np.log(d) / width).astype(np.int64)
    idx = -b
    cnt = np.bincount(idx).astype(np.float64)
    mass = np.bincount(idx, weights=d)
    c11, m11 = np.convolve(cnt, cnt), np.convolve(mass, mass)
    c2 = np.bincount(2 * idx, minlength=c11.size).astype(np.float64)
    m2 = np.bincount(2 * idx, weights=d * d, minlength=c11.size)
    pair_cnt = np.rint(0.5 * (c11 - c2[: c11.size]))
    pair_mass = np.maximum(0.5 * (m11 - m2[: c11.size]), 0.0)
    keep = pair_cnt > 0
    levels = [2.0 * pair_mass[keep] / pair_cnt[keep]]
    weights = [pair_cnt[keep]]
    if d.size <= 4096:
        diag = np.linalg.eigvalsh(np.diag(2.0 * d * d) + np.outer(d, d))
    else:  # the rank-one update moves one eigenvalue appreciably: the norm direction
        diag = np.concatenate([2.0 * d[1:] ** 2, [2.0 * d[0] ** 2 + float(d @ d)]])
    levels.append(np.maximum(diag, 0.0))
    weights.append(np.ones(diag.size))
    return np.concatenate(levels), np.concatenate(weights)


@dataclass(frozen=True)
class _WeightMoments:
    """Moments over the feature weights u of the per-degree blocks (:func:`_weight_moments`)."""

    totals: np.ndarray  # (K+1,) E[a_k(c)²]
    linear: np.ndarray  # (M,) E[a_1(c)² w_i²/c]
    pairs: np.ndarray | None  # (M, M) E[a_2(c)² w_i² w_j²/c²], None above _PAIRS_UP_TO
    shapes: np.ndarray  # (K+1, M) E[a_k(c)² w_i²/c]/E[a_k(c)²]
    remainder: float  # E[σ(√c G)² − Σ_{k≤K} a_k(c)²]


#: Degree 2's M×M block is formed up to this M (beyond, its Gaussian-moment form is used).
_PAIRS_UP_TO = 4096


def _weight_moments(spec: ModelSpec, max_degree: int, n_nodes: int, seed: int) -> _WeightMoments:
    """Averages over ``n_nodes`` fixed Gaussian nodes u ~ N(0, σ_u²/M), with w = Λ^½u and
    c = Σ w_i² (drawn twice from one seed, so memory stays O(M²) for degree 2's block); the
    Hermite coefficients come from a table in log c (161 points, cubic)."""
    from scipy.interpolate import CubicSpline

    lam = np.asarray(spec.spectrum.eigenvalues, dtype=np.float64)
    m, s = lam.size, spec.feature_var / spec.latent_dim
    block = max(1, (1 << 22) // max(m, 1))

    def chunks():  # the same nodes on every pass, ~32 MiB at a time
        gen = np.random.default_rng(np.random.SeedSequence([seed, 12]))
        for r0 in range(0, n_nodes, block):
            yield r0, s * lam * gen.standard_normal((min(block, n_nodes - r0), m)) ** 2

    c = np.empty(n_nodes)
    for r0, w2 in chunks():
        c[r0 : r0 + w2.shape[0]] = w2.sum(axis=1)
    grid = np.geomspace(c.min() / 1.5, (c.max() + 40.0 * s * lam.max()) * 1.5, 161)
    table = hermite_coefficients(spec.activation, grid, max_degree)
    log_grid = np.log(grid)
    coef = CubicSpline(log_grid, table, axis=1)(np.log(c))  # (K+1, n)
    a2 = coef * coef
    # the power above degree K node by node (a small difference: not of two separate averages)
    second_c = CubicSpline(log_grid, spec.activation.second_moment(grid))(np.log(c))
    remainder = float(np.mean(np.maximum(second_c - a2.sum(axis=0), 0.0)))
    totals = a2.mean(axis=1)
    shapes = np.zeros((max_degree + 1, m))
    pairs = np.zeros((m, m)) if m <= _PAIRS_UP_TO and max_degree >= 2 else None
    scale = float(np.mean(c))  # w²/c and w²w²/c² in units of c's mean: no over/underflow
    cn = c / scale
    for r0, w2 in chunks():
        rows = slice(r0, r0 + w2.shape[0])
        w2n = w2 / scale
        shapes += (a2[:, rows] / cn[rows]) @ w2n
        if pairs is not None:
            pairs += (w2n * (a2[2, rows] / cn[rows] ** 2)[:, None]).T @ w2n
    shapes /= n_nodes
    if pairs is not None:
        pairs /= n_nodes
    # degree 1 by the tilting identity E[w_i² f(c)] = sλ_i E[f(c + sλ_i Z)], Z ~ χ²₂: exact
    # wherever a_1(c)²/c is constant (linear, relu), and smooth in the nodes otherwise
    z = np.random.default_rng(np.random.SeedSequence([seed, 13])).chisquare(2.0, n_nodes)
    slope2 = CubicSpline(log_grid, table[1] ** 2 / grid)
    tilt = s * lam
    step = max(1, (1 << 22) // n_nodes)
    linear = np.empty(m)
    for i0 in range(0, m, step):
        shifted = c[None, :] + tilt[i0 : i0 + step, None] * z[None, :]
        linear[i0 : i0 + step] = tilt[i0 : i0 + step] * np.mean(
            slope2(np.log(np.minimum(shifted, grid[-1]))), axis=1
        )
    with np.errstate(invalid="ignore", divide="ignore"):
        shapes = np.where(totals[:, None] > 0, shapes / totals[:, None], 0.0)
    return _WeightMoments(totals, linear, pairs, shapes, remainder)


def _binned(values: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Positive ``values`` grouped in log bins: (mean level, count) per occupied bin."""
    idx = np.rint(np.log(values) / width).astype(np.int64)
    idx -= idx.min()
    cnt = np.bincount(idx).astype(np.float64)
    mass = np.bincount(idx, weights=values)
    keep = cnt > 0
    return mass[keep] / cnt[keep], cnt[keep]


def _pair_levels(pairs: np.ndarray, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Degree 2 from its moments G: 2 G_ij for i < j (binned) and the eigenvalues of G."""
    upper = 2.0 * pairs[np.triu_indices(pairs.shape[0], k=1)]
    lv, wt = _binned(upper[upper > 0], width) if upper.size else (np.zeros(0), np.zeros(0))
    diag = np.maximum(np.linalg.eigvalsh(pairs), 0.0)
    return np.concatenate([lv, diag]), np.concatenate([wt, np.ones(diag.size)])
