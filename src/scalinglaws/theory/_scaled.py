r"""The deterministic equivalent of ``docs/model.md`` §5 in scaled units: the core of the theory.

The loss depends on λ₊, σ_w², σ_u² and γ only through invariant combinations. With the levels
:math:`\ell_I = \lambda_I/\lambda_+` and shares :math:`v_I = \bar w_I^2/\sigma_w^2` of
:class:`~._sums.SpectralSums`, the scaled ridge :math:`\hat\kappa = \kappa/\lambda_+` solves

.. math::

    \hat\kappa\Big(1 - \frac{\mathrm{df}_1}{N}\Big)\Big(1 - \frac{\mathrm{df}_1}{P}\Big)
    = \hat\gamma = \frac{\gamma M}{\sigma_u^2 N P \lambda_+},

with :math:`\log\hat\gamma` formed in log space, and is found in :math:`t = \log\hat\kappa` (the
residual :math:`(1-\mathrm{df}_1/N)(1-\mathrm{df}_1/P) - e^{\log\hat\gamma - t}` stays in
[-1, 1] on the bracket). Then, with :math:`c = \min(\hat\kappa, 1)` and the bounded sums of
:mod:`._sums`, :math:`d = (N - \mathrm{df}_1)/(N - \mathrm{df}_2)`,
:math:`1 - d = c\bar E/(N - \mathrm{df}_2)`, :math:`g = (\mathrm{df}_1 - d\,c\bar E)/P`,

.. math::

    \text{excess} = \frac{\lambda_+\sigma_w^2\, S + \sigma_\varepsilon^2 g}{1 - g},\qquad
    S = \sum_I v_I \ell_I\,[q_I^2 d + q_I (1-d)]
      = c^2\Big[d\,\bar F + \frac{\bar G\,\bar E}{N - \mathrm{df}_2}\Big],

:math:`q_I = \hat\kappa/(\ell_I + \hat\kappa) \in [0, 1]`; the scales enter in log space at the
end, so only a loss (or κ) that float64 truly cannot hold becomes ``inf``, with a warning.
"""

from __future__ import annotations

import bisect
import math

import numpy as np

from .._validation import warn_numerical
from ._solve import newton_root, newton_root_scalar, warn_unconverged
from ._sums import SpectralSums

__all__ = [
    "log_normalized_ridge",
    "ridgeless_log_kappa",
    "solve_log_kappa",
    "evaluate",
    "evaluate_batched",
    "warn",
]

#: κ̂ above e^690 is used as e^690 in the sums: the neglected terms are below 1e-299 relative.
_T_CLIP = 690.0
_NEG_INF = float("-inf")
#: Newton steps on the cubic interpolant of the table's residual for a starting point.
_HERMITE_STEPS = 2


def log_normalized_ridge(sums: SpectralSums, ridge, feature_var: float, nf, ns) -> np.ndarray:
    r""":math:`\log\hat\gamma = \log(\gamma M/(\sigma_u^2 N P \lambda_+))`, ``-inf`` at γ = 0."""
    const = sums.ridge_constant(feature_var)
    with np.errstate(divide="ignore"):
        return np.log(ridge) - np.log(nf) - np.log(ns) + const


def log_normalized_ridge_one(
    sums: SpectralSums, ridge: float, feature_var: float, nf: float, ns: float
) -> float:
    """:func:`log_normalized_ridge` at one point, on floats: the same operations in the same
    order (numpy's ``log``), so the same bits."""
    const = sums.ridge_constant(feature_var)
    return _log(ridge) - float(np.log(nf)) - float(np.log(ns)) + const


def ridgeless_log_kappa(sums: SpectralSums, n: np.ndarray) -> np.ndarray:
    r"""t₀ = log κ̂₀ with :math:`\mathrm{df}_1(\hat\kappa_0) = n` for n < M, ``-inf`` (κ₀ = 0) else.

    Bracket: :math:`\ell_{\lceil 2n\rceil}` (then df₁ ≥ n) or, if 2n > M,
    :math:`\ell_M (M-n)/(2M)` (then df₁ ≥ (M+n)/2), and :math:`\sum\ell / n`.
    """
    n = np.asarray(n, dtype=np.float64)
    out = np.full(n.shape, _NEG_INF)
    below = n < sums.latent_dim
    if not below.any():
        return out
    nb = n[below].ravel()
    m = sums.latent_dim
    small = 2 * nb <= m
    log_lo = np.where(
        small,
        np.log(sums.level_at(np.where(small, 2 * nb, 1.0))),
        np.log(sums.smallest_level) + np.log(m - nb) - np.log(2.0 * m),
    )
    log_hi = np.log(sums.trace_levels) - np.log(nb)

    def residual(t: np.ndarray, idx: np.ndarray):
        # 1 - df₁/n is increasing in t = log κ̂; its derivative is -(d df₁/dt)/n > 0.
        df1, slope = sums.df1_and_slope(np.exp(t))
        return 1.0 - df1 / nb[idx], -slope / nb[idx]

    start = None
    inverse = sums.df1_table_inverse
    if inverse is not None:  # log df₁ is close to linear in t between grid points
        start = np.interp(np.log(nb), *inverse)
    roots = newton_root(residual, log_lo, log_hi, start=start)
    warn_unconverged(roots.converged, "The ridgeless kappa equation df1(kappa) = min(N, P)")
    out[below] = roots.x
    return out


def solve_log_kappa(sums: SpectralSums, nf, ns, log_gh, t0, start=None) -> np.ndarray:
    """t = log κ̂ for γ̂ > 0 on the branch df₁ < min(N, P) (flat arrays); ``t0`` is a lower
    bound on that branch (the ridgeless root or above it, with a negative residual), ``start``
    a guess (default: read off ``sums.df1_table``)."""
    lo = np.maximum(t0, log_gh)
    hi = _upper(sums, nf, ns, log_gh)

    def residual(t: np.ndarray, idx: np.ndarray):
        # shrink(t) - γ̂/κ̂ is increasing in t: both terms are (df₁ falls as κ̂ grows).
        df1, slope = sums.df1_and_slope(np.exp(np.minimum(t, _T_CLIP)))
        a, b = 1.0 - df1 / nf[idx], 1.0 - df1 / ns[idx]
        ratio = np.exp(log_gh[idx] - t)  # exponent <= 0 on the bracket
        return a * b - ratio, -slope * (b / nf[idx] + a / ns[idx]) + ratio

    if start is None:
        start = _ridge_start(sums, nf, ns, log_gh, lo, hi)
    roots = newton_root(residual, lo, hi, start=start)
    warn_unconverged(roots.converged, "The kappa equation of the deterministic equivalent")
    return roots.x


def _table_residual(sums: SpectralSums, nf, ns, log_gh):
    """The ridge equation's residual on ``sums.df1_table``'s grid, ``(t_grid, below, res)``
    with ``res`` of shape (points, grid) and ``below`` the root of the equation with df₁ frozen
    at the table's bottom (NaN where that has none), or ``None`` (no table, too many points)."""
    table = sums.df1_table
    if table is None or nf.size * table[0].size > 1 << 22:
        return None
    t_grid, df1_grid = table
    with np.errstate(over="ignore"):
        res = (1.0 - df1_grid / nf[:, None]) * (1.0 - df1_grid / ns[:, None]) - np.exp(
            np.minimum(log_gh[:, None] - t_grid, 700.0)
        )
        shrink = (1.0 - df1_grid[0] / nf) * (1.0 - df1_grid[0] / ns)
    with np.errstate(invalid="ignore", divide="ignore"):
        below = np.where(shrink > 0, log_gh - np.log(np.where(shrink > 0, shrink, 1.0)), np.nan)
    return t_grid, below, res


def _residual_slope(sums: SpectralSums, j, nf, ns, log_gh):
    """d res/dt of the ridge equation's residual at the table's grid points ``j`` (arrays or
    one point): :math:`-\\mathrm{df}_1'(t)\\,(B/N + A/P) + e^{\\log\\hat\\gamma - t}` with
    A = 1 − df₁/N, B = 1 − df₁/P, as in :func:`solve_log_kappa`'s residual."""
    t_grid, df1_grid = sums.df1_table
    df1, slope, t = df1_grid[j], sums.df1_table_slope[j], t_grid[j]
    a, b = 1.0 - df1 / nf, 1.0 - df1 / ns
    return -slope * (b / nf + a / ns) + np.exp(log_gh - t)


def _hermite_fraction(u, r0, r1, m0, m1):
    """Two Newton steps (as good as three, measured), clipped to [0, 1], from ``u`` towards the
    root of the cubic Hermite
    interpolant p(u) = h₀₀ r₀ + h₁₀ m₀ + h₀₁ r₁ + h₁₁ m₁ of a residual with values r₀, r₁ and
    scaled slopes m₀, m₁ (h × d res/dt) at the two ends (arrays)."""
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        for _ in range(_HERMITE_STEPS):
            u2 = u * u
            u3 = u2 * u
            p = (2.0 * u3 - 3.0 * u2 + 1.0) * r0 + (u3 - 2.0 * u2 + u) * m0
            p = p + (3.0 * u2 - 2.0 * u3) * r1 + (u3 - u2) * m1
            dp = (6.0 * u2 - 6.0 * u) * (r0 - r1) + (3.0 * u2 - 4.0 * u + 1.0) * m0
            dp = dp + (3.0 * u2 - 2.0 * u) * m1
            u = np.clip(u - np.where(dp > 0, p / dp, 0.0), 0.0, 1.0)
    return u


def _first_crossing(t_grid, res, lo, hi, below, point=None) -> np.ndarray:
    """Per row, a guess for the root of the increasing residual ``res`` in ``(lo, hi)``: cubic
    Hermite interpolation (the residual's slope at the two grid points from the table's df₁
    slopes, with ``point = (sums, nf, ns, log_gh)``; linear without it) at its first sign
    change between two grid points inside the bracket, within ~1e-5 of the root where linear
    interpolation is within ~1e-3 (one Newton evaluation fewer); the
    bracket's top where the residual is still negative at the last grid point inside (past the
    table's top the ridge term dominates, and ``hi`` is within a few percent of the root); where
    the first grid point inside is already positive, ``below`` (the root if df₁ kept its value
    at the table's bottom; N, P > M put it there), clipped into the bracket. With ``point``, a
    first positive grid point inside whose predecessor lies at or below ``lo`` but still on the
    branch (df₁ < min(N, P), residual ≤ 0 there) is interpolated from that predecessor too (the
    residual is smooth and increasing on the branch): measured within 1.7e-5 (M = 1e6) to
    5.6e-3 (M = 300) of the root where ``below`` was within 0.04-0.3 (tests/test_root_finding)."""
    inside = (t_grid > lo[:, None]) & (t_grid < hi[:, None])
    raw = res
    res = np.where(inside, res, np.where(t_grid <= lo[:, None], -1.0, 1.0))
    j = np.argmax(res > 0, axis=1)  # first grid point past the root (res > 0 somewhere: hi)
    rows = np.arange(res.shape[0])
    jm = np.maximum(j - 1, 0)
    both = (j > 0) & inside[rows, j] & inside[rows, jm]
    if point is not None:  # j - 1 at or below lo but on the branch: the residual is smooth there
        sums, nf, ns, log_gh = point
        on_branch = sums.df1_table[1][jm] < np.minimum(nf, ns)
        both |= (j > 0) & inside[rows, j] & on_branch & (raw[rows, jm] <= 0)
    r0, r1 = np.where(both, raw[rows, jm], res[rows, jm]), res[rows, j]
    width = t_grid[j] - t_grid[jm]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        u = -r0 / (r1 - r0)
        if point is not None:
            m0 = width * _residual_slope(sums, jm, nf, ns, log_gh)
            m1 = width * _residual_slope(sums, j, nf, ns, log_gh)
            u = np.where(both, _hermite_fraction(u, r0, r1, m0, m1), u)
        guess = t_grid[jm] + width * u
    beyond = ~inside[rows, j]  # no grid point inside past the root: it lies above the table
    first_inside = inside[rows, j] & ~both  # the root lies between lo and the grid point j
    guess = np.where(beyond, hi, guess)
    below = np.clip(np.where(np.isfinite(below), below, 0.5 * (lo + t_grid[j])), lo, t_grid[j])
    guess = np.where(first_inside, below, guess)
    return np.where(np.isfinite(guess), guess, 0.5 * (lo + hi))


def _ridge_start(sums: SpectralSums, nf, ns, log_gh, lo, hi) -> np.ndarray | None:
    """A guess for :func:`solve_log_kappa` read off ``sums.df1_table`` (``None`` without one)."""
    tab = _table_residual(sums, nf, ns, log_gh)
    if tab is None:
        return None
    return _first_crossing(tab[0], tab[2], lo, hi, tab[1], (sums, nf, ns, log_gh))


def _table_lower_bound(sums: SpectralSums, nf, ns, log_gh):
    """Lower ends of the ridge equation's bracket without solving the ridgeless equation, and
    starting points: the first grid point of ``sums.df1_table`` past t₀ (df₁ < min(N, P)
    there, so it lies on the branch) where the residual is still negative; NaN where the root
    lies below it (then t₀ itself is needed). ``None`` without a table."""
    tab = _table_residual(sums, nf, ns, log_gh)
    if tab is None:
        return None
    t_grid, below, res = tab
    past = sums.df1_table[1] < np.minimum(nf, ns)[:, None]
    j = np.argmax(past, axis=1)  # the grid's top has df₁ < e⁻² < 1: always found
    rows = np.arange(nf.size)
    bound = np.where(res[rows, j] <= 0, t_grid[j], np.nan)
    lo = np.maximum(np.where(np.isnan(bound), -np.inf, bound), log_gh)
    hi = _upper(sums, nf, ns, log_gh)
    return bound, _first_crossing(t_grid, res, lo, hi, below, (sums, nf, ns, log_gh))


def _upper(sums: SpectralSums, nf, ns, log_gh) -> np.ndarray:
    """Upper end of the ridge equation's bracket: there κ̂ ≥ γ̂ + Σℓ(1/N + 1/P)."""
    return np.logaddexp(log_gh, np.log(sums.trace_levels / nf + sums.trace_levels / ns))


def evaluate(sums: SpectralSums, nf, ns, log_gh, noise_var: float, t0=None) -> dict:
    """Every quantity of §5 at flat points; ``t0`` (ridgeless log κ̂ at min(N, P)) if known.

    Returns a dict of flat arrays: ``t`` (log κ̂), ``log_gh``, ``df1``, ``df2``, ``d``, ``g``,
    ``log_excess`` (``inf`` at a pole), ``pole``, and in the model's units ``kappa``,
    ``normalized_ridge``, ``tf1``, ``tf2``, ``excess`` and ``test_mse`` (``inf`` where float64
    cannot hold them: see :func:`warn`).

    A lone point goes through :func:`_evaluate_one`: the same operations as
    :func:`evaluate_batched` on Python floats, so the same bits, in a fraction of the time
    (numpy's per-call cost dominates at one point).
    """
    if nf.size == 1 and sums.df1_table is not None:
        return _evaluate_one(
            sums, float(nf[0]), float(ns[0]), float(log_gh[0]), noise_var,
            None if t0 is None else float(np.ravel(t0)[0]),
        )  # fmt: skip
    return evaluate_batched(sums, nf, ns, log_gh, noise_var, t0)


def evaluate_batched(sums: SpectralSums, nf, ns, log_gh, noise_var: float, t0=None) -> dict:
    """:func:`evaluate` on arrays, however many points (the route for more than one)."""
    m = sums.latent_dim
    n_min = np.minimum(nf, ns)
    positive = log_gh > _NEG_INF
    start = None
    if t0 is not None:
        t = np.array(t0, dtype=np.float64)
    else:  # t₀ is the answer at γ = 0 and a lower bound otherwise, where the grid may do
        t = np.full(n_min.shape, np.nan)
        if positive.any():
            found = _table_lower_bound(sums, nf[positive], ns[positive], log_gh[positive])
            if found is not None:
                t[positive], start = found
        need = np.isnan(t)
        if need.any():
            t[need] = ridgeless_log_kappa(sums, n_min[need])
    if positive.any():
        at = positive
        t[at] = solve_log_kappa(sums, nf[at], ns[at], log_gh[at], t[at], start=start)
    at_zero = t == _NEG_INF
    df1, df2, e_bar, g_bar, f_bar = sums.moments(np.exp(np.minimum(t, _T_CLIP)))
    df1 = np.where(at_zero, m, df1)
    df2 = np.where(at_zero, m, df2)
    df1 = np.where(~positive & (n_min < m), n_min, df1)  # the defining equation, exactly
    log_c = np.minimum(t, 0.0)
    nd2 = nf - df2
    valid = nd2 > 0
    a, b = _margins(nf, ns, t, log_gh, positive, at_zero, m)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        d = np.where(valid, nf * a / nd2, 0.5)  # N = M, κ = 0: limit 1/2
        spread = np.where(at_zero, 0.0, np.exp(log_c) * e_bar)  # df₁ - df₂, no cancellation
        # g = [df₁ − d(df₁ − df₂)]/P = [(1 − d) df₁ + d df₂]/P: positive terms for γ > 0; the
        # ridgeless branch keeps the first form, exact there (d = 0, g = N/P for N <= P)
        g = np.where(valid & positive, (spread * df1 / nd2 + d * df2) / ns, (df1 - d * spread) / ns)
        one_minus_g = np.where(valid, b + d * spread / ns, 1.0 - g)  # positive terms: the pole
        bracket = d * f_bar + g_bar * e_bar / nd2
        log_s = np.where(at_zero | ~valid, _NEG_INF, 2.0 * log_c + np.log(bracket))
        log_signal = sums.log_lambda_plus + sums.log_teacher_var + log_s
        log_noise = np.log(noise_var) + np.log(np.maximum(g, 0.0))
        log_num = np.logaddexp(log_signal, log_noise)
        pole = (one_minus_g <= 0) & (log_num > _NEG_INF)
        log_excess = np.where(
            pole, np.inf, np.where(log_num == _NEG_INF, _NEG_INF, log_num - np.log(one_minus_g))
        )
        excess = np.exp(log_excess)
        top = np.maximum(t, 0.0)
        out = {
            "t": t,
            "log_gh": log_gh,
            "df1": df1,
            "df2": df2,
            "d": d,
            "g": g,
            "log_excess": log_excess,
            "pole": pole,
            "kappa": np.exp(t + sums.log_lambda_plus),
            "normalized_ridge": np.exp(log_gh + sums.log_lambda_plus),
            "tf1": np.exp(sums.log_teacher_var + np.log(g_bar) - top),
            "tf2": np.exp(sums.log_teacher_var - sums.log_lambda_plus + np.log(f_bar) - 2 * top),
            "excess": excess,
            "test_mse": excess + noise_var,
        }
    return out


def _margins(nf, ns, t, log_gh, positive, at_zero, m: int) -> tuple[np.ndarray, np.ndarray]:
    r""":math:`a = 1 - \mathrm{df}_1/N` and :math:`b = 1 - \mathrm{df}_1/P` without cancellation.

    For γ > 0 they follow from the equation, :math:`ab = \rho = \hat\gamma/\hat\kappa` with
    :math:`b = 1 - r(1 - a)`, r = N/P (N ≤ P; roles swapped otherwise): the small root
    :math:`2\rho/((1-r) + \sqrt{(1-r)^2 + 4r\rho})` is exact even where 1 − df₁/N is far below
    rounding of df₁ (a tiny ridge at N ≈ P, where the loss grows like γ^-1/2). γ = 0: the one at
    min(N, P) is 0, the other 1 − min/max; κ = 0 (min(N, P) ≥ M): 1 − M/N and 1 − M/P.
    """
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        log_rho = np.minimum(log_gh - t, 0.0)
        rho = np.exp(log_rho)
        r = np.minimum(nf, ns) / np.maximum(nf, ns)
        large = 0.5 * ((1.0 - r) + np.sqrt((1.0 - r) ** 2 + 4.0 * r * rho))
        root = np.exp(0.5 * log_rho)  # r = 1 with ρ below float64: both margins are sqrt(ρ)
        small = np.where(large > 0, rho / large, root)
        large = np.where(large > 0, large, root)
        ridgeless_small, ridgeless_large = np.zeros_like(r), 1.0 - r
    small = np.where(positive, small, ridgeless_small)
    large = np.where(positive, large, ridgeless_large)
    features_smaller = nf <= ns
    a = np.where(features_smaller, small, large)
    b = np.where(features_smaller, large, small)
    a = np.where(at_zero & ~positive, 1.0 - m / nf, a)
    b = np.where(at_zero & ~positive, 1.0 - m / ns, b)
    return a, b


def _evaluate_one(
    sums: SpectralSums, nf: float, ns: float, log_gh: float, noise_var: float, t0: float | None
) -> dict:
    """:func:`evaluate` at one point: :func:`evaluate_one_values` as arrays of shape (1,)."""
    values, pole = evaluate_one_values(sums, nf, ns, log_gh, noise_var, t0)
    flat = np.array(list(values.values()), dtype=np.float64)  # one array: views of it below
    out = {name: flat[k : k + 1] for k, name in enumerate(values)}
    out["pole"] = np.array([pole])
    return out


def _log(x: float) -> float:
    """``np.log(x)`` as a float, without the warning at x <= 0 (-inf at 0, NaN below)."""
    if x > 0:
        return float(np.log(x))
    return _NEG_INF if x == 0 else math.nan


def _exp(x: float) -> float:
    """``np.exp(x)`` as a float, ``inf`` without the warning where it overflows."""
    if x < 709.0:
        return float(np.exp(x))
    with np.errstate(over="ignore"):
        return float(np.exp(x))


def _logaddexp(x: float, y: float) -> float:
    """``np.logaddexp(x, y)`` as a float, NaN without the warning at a NaN."""
    if x != x or y != y:
        return math.nan
    return float(np.logaddexp(x, y))


def evaluate_one_values(
    sums: SpectralSums, nf: float, ns: float, log_gh: float, noise_var: float, t0: float | None
) -> tuple[dict[str, float], bool]:
    """:func:`evaluate` at one point, on Python floats: every step of the batched route in the
    same order, with numpy's own ``exp``/``log``/``logaddexp`` (their last bits differ from
    :mod:`math`'s; guarded where they would warn, as the batched route's ``errstate`` does)
    and only the branch each ``np.where`` keeps; needs ``sums.df1_table``. Returns the values
    (the keys of :func:`evaluate` but ``pole``) and whether the point is a pole."""
    m = sums.latent_dim
    n_min = min(nf, ns)
    positive = log_gh > _NEG_INF
    start = hi = None
    if t0 is not None:
        t = t0
    else:  # t₀ is the answer at γ = 0 and a lower bound otherwise, where the grid may do
        t = math.nan
        if positive:
            t, start, hi = _table_lower_bound_one(sums, nf, ns, log_gh)
        if math.isnan(t):
            t = _ridgeless_one(sums, n_min)
    if positive:
        t = _solve_one(sums, nf, ns, log_gh, t, start, hi)
    at_zero = t == _NEG_INF
    df1, df2, e_bar, g_bar, f_bar = sums.moments_one(_exp(min(t, _T_CLIP)))
    if at_zero:
        df1 = df2 = float(m)
    if not positive and n_min < m:
        df1 = n_min  # the defining equation, exactly
    log_c = min(t, 0.0)
    nd2 = nf - df2
    valid = nd2 > 0
    a, b = _margins_one(nf, ns, t, log_gh, positive, at_zero, m)
    llp, ltv = sums.log_lambda_plus, sums.log_teacher_var
    d = nf * a / nd2 if valid else 0.5
    spread = 0.0 if at_zero else _exp(log_c) * e_bar
    if valid and positive:
        g = (spread * df1 / nd2 + d * df2) / ns
    else:
        g = (df1 - d * spread) / ns
    one_minus_g = b + d * spread / ns if valid else 1.0 - g
    if at_zero or not valid:
        log_s = _NEG_INF
    else:
        log_s = 2.0 * log_c + _log(d * f_bar + g_bar * e_bar / nd2)
    log_signal = llp + ltv + log_s
    log_noise = _log(noise_var) + _log(max(g, 0.0))
    log_num = _logaddexp(log_signal, log_noise)
    pole = one_minus_g <= 0 and log_num > _NEG_INF
    if pole:
        log_excess = math.inf
    elif log_num == _NEG_INF:
        log_excess = _NEG_INF
    else:
        log_excess = log_num - _log(one_minus_g)
    excess = _exp(log_excess)
    top = max(t, 0.0)
    values = {
        "t": t,
        "log_gh": log_gh,
        "df1": df1,
        "df2": df2,
        "d": d,
        "g": g,
        "log_excess": log_excess,
        "kappa": _exp(t + llp),
        "normalized_ridge": _exp(log_gh + llp),
        "tf1": _exp(ltv + _log(g_bar) - top),
        "tf2": _exp(ltv - llp + _log(f_bar) - 2 * top),
        "excess": excess,
        "test_mse": excess + noise_var,
    }
    return values, pole


def _margins_one(
    nf: float, ns: float, t: float, log_gh: float, positive: bool, at_zero: bool, m: int
) -> tuple[float, float]:
    """:func:`_margins` at one point, on floats."""
    r = min(nf, ns) / max(nf, ns)
    if positive:
        log_rho = min(log_gh - t, 0.0)
        rho = float(np.exp(log_rho))
        u = 1.0 - r
        large = 0.5 * (u + math.sqrt(u * u + 4.0 * r * rho))
        if large > 0:
            small = rho / large
        else:  # r = 1 with ρ below float64: both margins are sqrt(ρ)
            small = large = float(np.exp(0.5 * log_rho))
    else:
        small, large = 0.0, 1.0 - r
    a, b = (small, large) if nf <= ns else (large, small)
    if at_zero and not positive:
        a, b = 1.0 - m / nf, 1.0 - m / ns
    return a, b


def _ridgeless_one(sums: SpectralSums, n: float) -> float:
    """:func:`ridgeless_log_kappa` at one n, on floats (needs ``sums.df1_table``)."""
    m = sums.latent_dim
    if not n < m:
        return _NEG_INF
    if 2 * n <= m:
        log_lo = float(np.log(sums.level_at(2 * n)))
    else:
        log_lo = float(np.log(sums.smallest_level) + np.log(m - n) - np.log(2.0 * m))
    log_hi = float(np.log(sums.trace_levels) - np.log(n))

    def residual(t: float) -> tuple[float, float]:
        df1, slope = sums.df1_and_slope_one(float(np.exp(t)))
        return 1.0 - df1 / n, -slope / n

    start = float(np.interp(np.log(n), *sums.df1_table_inverse))
    root, converged = newton_root_scalar(residual, log_lo, log_hi, start)
    if not converged:
        warn_unconverged(False, "The ridgeless kappa equation df1(kappa) = min(N, P)", stacklevel=5)
    return root


def _solve_one(
    sums: SpectralSums,
    nf: float,
    ns: float,
    log_gh: float,
    t0: float,
    start: float | None,
    hi: float | None = None,
) -> float:
    """:func:`solve_log_kappa` at one point, on floats (needs ``sums.df1_table``); ``hi`` is
    :func:`_upper_one` where already known."""
    lo = max(t0, log_gh)
    hi = _upper_one(sums, nf, ns, log_gh) if hi is None else hi

    def residual(t: float) -> tuple[float, float]:
        df1, slope = sums.df1_and_slope_one(float(np.exp(min(t, _T_CLIP))))
        a, b = 1.0 - df1 / nf, 1.0 - df1 / ns
        ratio = float(np.exp(log_gh - t))  # exponent <= 0 on the bracket
        return a * b - ratio, -slope * (b / nf + a / ns) + ratio

    if start is None:
        point = (sums, nf, ns, log_gh)
        floats = sums.df1_table_floats
        if floats is not None and not math.isnan(lo):
            # t₀ lies on the branch (or is -inf: N, P >= M), so every grid point past lo does
            res, below = _TableResidual(floats, nf, ns, log_gh), _below_one(floats, nf, ns, log_gh)
        else:
            res, below = _table_residual_one(sums, nf, ns, log_gh)
        start = _first_crossing_one(sums.df1_table[0], res, lo, hi, below, point)
    root, converged = newton_root_scalar(residual, lo, hi, start)
    if not converged:
        warn_unconverged(False, "The kappa equation of the deterministic equivalent", stacklevel=5)
    return root


def _upper_one(sums: SpectralSums, nf: float, ns: float, log_gh: float) -> float:
    """:func:`_upper` at one point."""
    return float(np.logaddexp(log_gh, np.log(sums.trace_levels / nf + sums.trace_levels / ns)))


def _table_residual_one(sums: SpectralSums, nf: float, ns: float, log_gh: float):
    """:func:`_table_residual` at one point: ``(res, below)``, ``res`` on the table's grid."""
    t_grid, df1_grid = sums.df1_table
    with np.errstate(over="ignore"):
        res = (1.0 - df1_grid / nf) * (1.0 - df1_grid / ns) - np.exp(
            np.minimum(log_gh - t_grid, 700.0)
        )
        bottom = float(df1_grid[0])
        shrink = (1.0 - bottom / nf) * (1.0 - bottom / ns)
    return res, log_gh - float(np.log(shrink)) if shrink > 0 else math.nan


class _TableResidual:
    """The residual of :func:`_table_residual_one` at one grid point at a time, computed when
    read: a lone point on the branch reads about ten of the grid's points (a bisection), not
    all of them. Each value comes from the same operations as the array's element (numpy's
    ``exp``, which gives an element the same bits alone as in an array), so the same bits.

    Only for grid points on the branch (df₁ < min(N, P)): there the residual does not
    decrease along the grid (next to a non-increasing df₁, every operation is monotone in
    IEEE arithmetic), so the first positive one is found by bisection."""

    __slots__ = ("t", "df1", "nf", "ns", "log_gh")

    def __init__(self, floats, nf: float, ns: float, log_gh: float) -> None:
        self.t, self.df1 = floats[0], floats[1]
        self.nf, self.ns, self.log_gh = nf, ns, log_gh

    def __getitem__(self, k: int) -> float:
        df1 = self.df1[k]
        ratio = float(np.exp(min(self.log_gh - self.t[k], 700.0)))
        return (1.0 - df1 / self.nf) * (1.0 - df1 / self.ns) - ratio

    def first_positive(self, i0: int, i1: int) -> int:
        """The first k in [i0, i1) with a positive residual (i1 if none), by bisection."""
        while i0 < i1:
            mid = (i0 + i1) // 2
            if self[mid] > 0:
                i1 = mid
            else:
                i0 = mid + 1
        return i0


def _below_one(floats, nf: float, ns: float, log_gh: float) -> float:
    """:func:`_table_residual_one`'s ``below`` from the table's floats (no array)."""
    bottom = floats[1][0]
    shrink = (1.0 - bottom / nf) * (1.0 - bottom / ns)
    return log_gh - float(np.log(shrink)) if shrink > 0 else math.nan


def _table_lower_bound_one(sums: SpectralSums, nf: float, ns: float, log_gh: float):
    """:func:`_table_lower_bound` at one point: ``(bound, start, hi)``, ``bound`` NaN where the
    root lies below the first grid point on the branch, ``hi`` the bracket's upper end.

    Where that grid point's residual is not positive (the usual case), the bracket lies on
    the branch and the start comes from :class:`_TableResidual` (a bisection on the table's
    floats); otherwise from the residual on the whole grid, as the batched route does."""
    point = (sums, nf, ns, log_gh)
    floats = sums.df1_table_floats
    if floats is not None:
        j = bisect.bisect_right(floats[2], -min(nf, ns))  # first grid point with df₁ < min
        if j < len(floats[1]):
            lazy = _TableResidual(floats, nf, ns, log_gh)
            if lazy[j] <= 0:
                bound = floats[0][j]
                lo = max(bound, log_gh)
                hi = _upper_one(sums, nf, ns, log_gh)
                below = _below_one(floats, nf, ns, log_gh)
                start = _first_crossing_one(sums.df1_table[0], lazy, lo, hi, below, point)
                return bound, start, hi
    t_grid, df1_grid = sums.df1_table
    res, below = _table_residual_one(sums, nf, ns, log_gh)
    j = int(np.argmax(df1_grid < min(nf, ns)))
    bound = float(t_grid[j]) if res[j] <= 0 else math.nan
    lo = max(_NEG_INF if math.isnan(bound) else bound, log_gh)
    hi = _upper_one(sums, nf, ns, log_gh)
    return bound, _first_crossing_one(t_grid, res, lo, hi, below, point), hi


def _residual_slope_one(point, j: int) -> float:
    """:func:`_residual_slope` at one point and grid point ``j``, on floats: the same
    operations, read off :attr:`SpectralSums.df1_table_floats` where it exists."""
    sums, nf, ns, log_gh = point
    floats = sums.df1_table_floats
    if floats is None:
        return float(_residual_slope(sums, j, nf, ns, log_gh))
    df1, slope = floats[1][j], floats[3][j]
    a, b = 1.0 - df1 / nf, 1.0 - df1 / ns
    return -slope * (b / nf + a / ns) + _exp(log_gh - floats[0][j])


def _on_branch_below(point, jm: int, res) -> bool:
    """Whether grid point ``jm`` (at or below the bracket's lower end) lies on the branch of the
    ridge equation (df₁ < min(N, P): both factors positive, the residual smooth and increasing)
    with the residual not yet positive, so that it can anchor the Hermite interpolant."""
    sums, nf, ns, _ = point
    return bool(sums.df1_table[1][jm] < min(nf, ns)) and bool(res[jm] <= 0)


def _hermite_fraction_one(u: float, r0: float, r1: float, m0: float, m1: float) -> float:
    """:func:`_hermite_fraction` on floats: the same operations."""
    for _ in range(_HERMITE_STEPS):
        u2 = u * u
        u3 = u2 * u
        p = (2.0 * u3 - 3.0 * u2 + 1.0) * r0 + (u3 - 2.0 * u2 + u) * m0
        p = p + (3.0 * u2 - 2.0 * u3) * r1 + (u3 - u2) * m1
        dp = (6.0 * u2 - 6.0 * u) * (r0 - r1) + (3.0 * u2 - 4.0 * u + 1.0) * m0
        dp = dp + (3.0 * u2 - 2.0 * u) * m1
        step = p / dp if dp > 0 else 0.0
        u = min(max(u - step, 0.0), 1.0)  # NaN stays NaN, as in np.clip
    return u


def _first_crossing_one(t_grid, res, lo: float, hi: float, below: float, point) -> float:
    """:func:`_first_crossing` for one row ``res`` (an array, or a :class:`_TableResidual`
    where every grid point inside the bracket lies on the branch), on floats, with ``point =
    (sums, nf, ns, log_gh)``. The grid is increasing, so the points inside (lo, hi) are the
    run ``i0 <= k < i1`` found by bisection, and the first positive entry of the batched
    route's masked row (-1 below the run, +1 above) is the first positive one in the run, else
    the run's end (numpy's argmax: 0 where none is positive)."""
    size = t_grid.size
    grid = point[0].df1_grid_floats  # searchsorted's answers, by bisection on floats
    if math.isnan(lo) or math.isnan(hi):
        i0 = i1 = j = 0  # nothing inside; the guess below is not finite
    else:
        i0 = bisect.bisect_right(grid, lo)  # first grid point > lo
        i1 = bisect.bisect_left(grid, hi)  # first grid point >= hi
        if i0 >= i1:
            k = i1
        elif isinstance(res, _TableResidual):
            k = res.first_positive(i0, i1)
        else:
            positive = res[i0:i1] > 0
            k = i0 + int(np.argmax(positive))
            k = k if positive[k - i0] else i1
        if k < i1:
            j = k
        else:
            j = max(i0, i1)
            j = j if j < size else 0
    jm = max(j - 1, 0)
    t_j, t_jm = grid[j], grid[jm]
    if not i0 <= j < i1:  # no grid point inside past the root: it lies above the table
        guess = hi
    elif j > 0 and (i0 <= jm or _on_branch_below(point, jm, res)):
        r0, r1 = float(res[jm]), float(res[j])  # a sign change between two grid points
        width = t_j - t_jm
        u = -r0 / (r1 - r0)
        sums, nf, ns, log_gh = point
        m0 = width * _residual_slope_one(point, jm)
        m1 = width * _residual_slope_one(point, j)
        u = _hermite_fraction_one(u, r0, r1, m0, m1)
        guess = t_jm + width * u
    else:  # the root lies between lo and the grid point j
        guess = min(max(below if math.isfinite(below) else 0.5 * (lo + t_j), lo), t_j)
    return guess if math.isfinite(guess) else 0.5 * (lo + hi)


#: Output fields that must be finite (except ``excess``/``test_mse`` at a pole), and their names.
WARN_FIELDS = _FIELDS = {
    "excess": "The excess loss",
    "test_mse": "The test loss",
    "kappa": "The renormalized ridge kappa",
    "normalized_ridge": "The normalized ridge",
    "tf1": "The teacher sum tf1",
    "tf2": "The teacher sum tf2",
}


def warn(core: dict, *, stacklevel: int = 4, fields=tuple(_FIELDS), poles: bool = True) -> None:
    """One :class:`~scalinglaws._validation.NumericalWarning` per kind of trouble in ``core``.

    ``core`` needs ``pole`` and the ``fields``; the pole warning is left out if not ``poles``.
    """
    pole = core["pole"]
    if pole.size == 1:  # a lone point: the same test on its floats
        if not pole[0] and all(math.isfinite(core[k][0]) for k in fields):
            return
    elif not pole.any() and np.isfinite(np.concatenate([core[k] for k in fields])).all():
        return  # the common case, in one pass
    if poles and pole.any():
        warn_numerical(
            f"The test loss has a pole (ridge = 0 and n_samples = min(n_features, latent_dim)) "
            f"at {int(pole.sum())} point(s): returning inf there. Use a ridge > 0, or move "
            "n_features and n_samples apart.",
            stacklevel=stacklevel,
        )
    for name in fields:
        value = core[name]
        bad = np.isinf(value)
        if name in ("excess", "test_mse"):
            bad &= ~pole
        if bad.any():
            warn_numerical(
                f"{_FIELDS[name]} exceeds the float64 range (1.8e308) at "
                f"{int(bad.sum())} point(s): returning inf there. The theory is scale-invariant: "
                "rescale lambda_plus, teacher_var, noise_var, feature_var or the ridge.",
                stacklevel=stacklevel,
            )
        nan = np.isnan(value)
        if nan.any():
            warn_numerical(
                f"{_FIELDS[name]} could not be evaluated in float64 at "
                f"{int(nan.sum())} point(s) (the spectrum spans more than float64's range): "
                "returning NaN there. Drop eigenvalues below 1e-300 times the largest.",
                stacklevel=stacklevel,
            )
