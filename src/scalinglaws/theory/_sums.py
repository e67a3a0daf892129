r"""Spectral sums of ``docs/model.md`` §5 in scaled units, exact or compressed, over weighted nodes.

The theory depends on the spectrum's scale λ₊ and the teacher's total variance σ_w² only through
invariant combinations, so the nodes are stored scaled: levels :math:`\ell_k = \lambda_k/\lambda_+
\in (0, 1]`, teacher shares :math:`v_k = \bar w_k^2/\sigma_w^2` (:math:`\sum_k \omega_k v_k = 1`)
and weights :math:`\omega_k`, with :math:`\log\lambda_+` and :math:`\log\sigma_w^2` kept apart.
At the scaled ridge :math:`\hat\kappa = \kappa/\lambda_+`, with :math:`r = \ell/(\ell+\hat\kappa)`,
:math:`q = \hat\kappa/(\ell+\hat\kappa)` and :math:`c = \min(\hat\kappa, 1)`,
:math:`\bar q = q/c = \max(\hat\kappa, 1)/(\ell+\hat\kappa)`:

.. math::

    \mathrm{df}_1 = \sum \omega r,\quad \mathrm{df}_2 = \sum \omega r^2,\quad
    \bar E = \sum \omega\, r \bar q,\quad \bar G = \sum \omega v \ell \bar q,\quad
    \bar F = \sum \omega v \ell \bar q^2,

so :math:`\mathrm{df}_1 - \mathrm{df}_2 = c\bar E`, :math:`\kappa\,\mathrm{tf}_1 = \lambda_+
\sigma_w^2\, c\bar G` and :math:`\kappa^2\mathrm{tf}_2 = \lambda_+\sigma_w^2\, c^2\bar F`. Every
barred sum is bounded (by M and :math:`1/\ell_\text{min}`) whatever κ, λ₊ and σ_w², so nothing
overflows or underflows; the scales are applied in log space by :mod:`._scaled`.

Exact sums use the M eigenvalues with unit weights (cost O(M) per κ). For a power-law spectrum
:math:`\ell(x) = x^{-(1+\alpha)}` and a teacher :math:`\bar w^2(x) \propto x^{-\beta}` (isotropic:
β = 0) the summand is a smooth function of the index x, and the *compressed* nodes of :mod:`._nodes`
(an exact head, then the tail by a midpoint Euler–Maclaurin formula with composite Gauss–Legendre
quadrature in ln x) replace the M terms.

The nodes do not depend on κ, so one node set serves every κ; their number grows like
:math:`\log M`, not M. Measured relative error of every sum: below 1e-9 for
α ∈ [0.5, 2], β ∈ [0, 1.5] and κ across the whole spectrum (tests/test_theory_sums.py).

==========  ===============  ====================================
symbol      name             meaning
==========  ===============  ====================================
M           ``latent_dim``   number of latent directions
λ_I         ``eigenvalues``  spectrum (λ₊ its largest)
ℓ_I         ``levels``       λ_I/λ₊
w̄_I²        ``variances``    teacher variance per direction
v_I         ``shares``       w̄_I²/σ_w²
κ           ``kappa``        renormalized ridge (κ̂ = κ/λ₊)
==========  ===============  ====================================
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from .._validation import InputError
from ..model.spec import ModelSpec
from ..model.spectrum import MAX_MATERIALIZED_DIM
from ._nodes import index_nodes

__all__ = ["SpectralSums", "exact_sums", "compressed_sums", "spectral_sums", "COMPRESSED_ABOVE"]

#: ``method="auto"`` compresses power-law spectra with more latent directions than this.
COMPRESSED_ABOVE = 4_096
_BLOCK = 1 << 20  # elements per temporary (points x nodes) block
_TABLE_POINTS = 161  # t-grid of SpectralSums.df1_table (spacing <= 0.5 for M <= 1e9, α <= 2)
_TABLE_BUDGET = 1 << 22  # build the table only if points x nodes stays below this (~10 ms)
#: Levels below this are raised to it: float64 cannot resolve κ/λ₊ below it anyway.
LEVEL_FLOOR = float(np.finfo(np.float64).tiny)
#: Lone-point sums are fused into one matrix product where every level is at least this.
_FUSED_FLOOR = 1e-150


@dataclass(frozen=True, eq=False)
class SpectralSums:
    """Scaled weighted nodes :math:`(\\ell_k, v_k, \\omega_k)`, each of shape ``(n_nodes,)``.

    ``latent_dim`` is M (the exact value of :math:`\\sum_k \\omega_k`); ``lambda_plus`` is λ₊ and
    ``log_teacher_var`` is :math:`\\log\\sigma_w^2` (``-inf`` for a zero teacher; kept as a log
    because σ_w² of an equivalent model need not be representable); ``trace_levels`` is
    :math:`\\sum_I \\ell_I`, ``smallest_level`` :math:`\\ell_M`; ``exponent`` is 1+α for a power
    law (else None); ``compressed`` says whether the nodes are a quadrature.
    """

    levels: np.ndarray
    shares: np.ndarray
    weights: np.ndarray
    latent_dim: int
    lambda_plus: float
    log_teacher_var: float
    trace_levels: float
    smallest_level: float
    compressed: bool
    exponent: float | None = None
    spec: ModelSpec | None = None

    @property
    def n_nodes(self) -> int:
        """Number of nodes (M for exact sums)."""
        return int(self.levels.size)

    @functools.cached_property
    def log_lambda_plus(self) -> float:
        """log λ₊."""
        return float(np.log(self.lambda_plus))

    def ridge_constant(self, feature_var: float) -> float:
        r""":math:`\log M - \log\sigma_u^2 - \log\lambda_+`, the constant of log γ̂ (kept per
        σ_u²: a lone theory call reads it instead of forming it)."""
        cache = self.__dict__.setdefault("_ridge_constants", {})
        const = cache.get(feature_var)
        if const is None:
            const = float(np.log(self.latent_dim) - np.log(feature_var) - self.log_lambda_plus)
            cache[feature_var] = const
        return const

    @property
    def trace(self) -> float:
        """Σ_I λ_I."""
        with np.errstate(over="ignore"):
            return self.trace_levels * self.lambda_plus

    @property
    def smallest(self) -> float:
        """λ_M."""
        return self.smallest_level * self.lambda_plus

    @property
    def eigenvalues(self) -> np.ndarray:
        """λ at the nodes, ``λ₊ ℓ`` (underflows to 0 only below float64's range)."""
        return self.levels * self.lambda_plus

    @property
    def variances(self) -> np.ndarray:
        """w̄² at the nodes, ``σ_w² v`` (``inf`` where σ_w² itself exceeds float64)."""
        with np.errstate(over="ignore"):
            return self.shares * np.exp(self.log_teacher_var)

    def level_at(self, index: np.ndarray) -> np.ndarray:
        """ℓ at 1-based indices (rounded up for explicit spectra), shape of ``index``."""
        if self.exponent is not None:
            return np.maximum(np.asarray(index, dtype=np.float64) ** -self.exponent, LEVEL_FLOOR)
        pos = np.clip(np.ceil(index).astype(np.int64), 1, self.latent_dim) - 1
        return self.levels[pos]

    def df1_scaled(self, kappa_hat: np.ndarray) -> np.ndarray:
        """df₁ at κ̂ = κ/λ₊ (flat, finite, >= 0), shape of ``kappa_hat``."""
        out = np.zeros(kappa_hat.size)
        lev, w = self.levels, self.weights
        for pts, nodes in _blocks(kappa_hat.size, lev.size):
            lk = lev[nodes]
            out[pts] += (lk / (lk + kappa_hat[pts, None])) @ w[nodes]
        return out

    def df1_and_slope(self, kappa_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        r"""df₁ at κ̂ and its derivative in log κ̂, :math:`-\sum_k \omega_k r_k (1 - r_k)` with
        :math:`r = \ell/(\ell+\hat\kappa)` (the second factor formed as κ̂/(ℓ+κ̂): no
        cancellation). One κ̂ goes through :meth:`df1_and_slope_one` (so a lone point and a
        batch of one agree to the bit); more through matrix products over blocks of nodes."""
        if kappa_hat.size == 1:
            df1, slope = self.df1_and_slope_one(float(kappa_hat.reshape(-1)[0]))
            return np.array([df1]), np.array([slope])
        return self._df1_and_slope_arrays(kappa_hat)

    def _df1_and_slope_arrays(self, kappa_hat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        lev, w = self.levels, self.weights
        fused = self._fused_weights
        if fused is not None:  # the sums of df1_and_slope_one, point by point
            top = np.maximum(kappa_hat, 1.0)
            first, second = np.zeros(kappa_hat.size), np.zeros(kappa_hat.size)
            for pts, nodes in _blocks(kappa_hat.size, lev.size):
                q_bar = top[pts, None] / (lev[nodes] + kappa_hat[pts, None])
                first[pts] += q_bar @ fused[0, nodes]
                np.multiply(q_bar, q_bar, out=q_bar)
                second[pts] += q_bar @ fused[0, nodes]
            return first / top, -np.minimum(kappa_hat, 1.0) * (second / top)
        if kappa_hat.size * lev.size <= _BLOCK:  # one block: no bookkeeping
            k = np.reshape(kappa_hat, (-1, 1))
            denom = lev + k
            r = lev / denom
            return r @ w, -((r * (k / denom)) @ w)
        df1, slope = np.zeros(kappa_hat.size), np.zeros(kappa_hat.size)
        for pts, nodes in _blocks(kappa_hat.size, lev.size):
            lk = lev[nodes]
            k = kappa_hat[pts, None]
            denom = lk + k
            r = lk / denom
            df1[pts] += r @ w[nodes]
            slope[pts] -= (r * (k / denom)) @ w[nodes]
        return df1, slope

    def df1_and_slope_one(self, kappa_hat: float) -> tuple[float, float]:
        r""":meth:`df1_and_slope` at one κ̂, as floats, from the two sums of
        :meth:`_fused_weights`: :math:`\mathrm{df}_1 = \sum\omega\ell\bar q/\max(\hat\kappa, 1)`
        and the slope :math:`-c\sum\omega\ell\bar q^2/\max(\hat\kappa, 1)` (positive terms,
        no cancellation); the batched route's operations where the nodes are not fused."""
        fused = self._fused_weights
        if fused is None:
            if self.n_nodes > _BLOCK:  # blocked sums: their order of addition
                df1, slope = self._df1_and_slope_arrays(np.array([kappa_hat]))
                return float(df1[0]), float(slope[0])
            lev = self.levels
            denom = lev + kappa_hat
            r = lev / denom
            return float(r @ self.weights), -float((r * (kappa_hat / denom)) @ self.weights)
        top = max(kappa_hat, 1.0)
        first, second = (self._fused_powers(kappa_hat, top) @ fused[0]).tolist()
        return first / top, -min(kappa_hat, 1.0) * (second / top)

    def _fused_powers(self, kappa_hat: float, top: float) -> np.ndarray:
        r""":math:`[\bar q; \bar q^2]` at the nodes, shape (2, n_nodes): three passes."""
        out = np.empty((2, self.levels.size))
        square = out[1]
        np.add(self.levels, kappa_hat, out=square)
        np.divide(top, square, out=out[0])
        np.multiply(out[0], out[0], out=square)
        return out

    @functools.cached_property
    def _fused_weights(self) -> np.ndarray | None:
        r"""W, shape (3, n_nodes), rows ωℓ, ωℓ², ωvℓ: every sum of :meth:`moments_one` is then
        one entry of :math:`W\,[\bar q; \bar q^2]^T` (one matrix product instead of five dot
        products and three more passes over the nodes). ``None`` where a level lies below
        1e-150 (ℓ² would underflow and q̄² could overflow: the barred sums are formed term by
        term there) or the nodes are blocked."""
        lev = self.levels
        if lev.size > _BLOCK or not float(lev.min()) >= _FUSED_FLOOR:
            return None
        weights = np.empty((3, lev.size))
        np.multiply(self.weights, lev, out=weights[0])
        np.multiply(weights[0], lev, out=weights[1])
        weights[2] = self.teacher_weights
        weights.flags.writeable = False
        return weights

    @functools.cached_property
    def df1_table(self) -> tuple[np.ndarray, np.ndarray] | None:
        """df₁ on a fixed grid of ``t = log κ̂`` spanning the spectrum (``None`` where the grid
        would cost more than a few milliseconds to build): root finders read their starting
        points off it, so a lone call needs a few Newton steps instead of a search. Built once
        per node set (the sums of a spec are cached, see :func:`spectral_sums`)."""
        if self.n_nodes * _TABLE_POINTS > _TABLE_BUDGET:
            return None
        lo = float(np.log(self.smallest_level)) - 2.0
        hi = float(np.log(self.trace_levels)) + 2.0
        t = np.linspace(lo, hi, _TABLE_POINTS)
        return t, self.df1_scaled(np.exp(t))

    @functools.cached_property
    def df1_grid_floats(self) -> tuple[float, ...] | None:
        """:attr:`df1_table`'s t-grid as Python floats (``None`` without a table): a lone point
        locates itself on it by bisection, a fraction of ``np.searchsorted``'s per-call cost."""
        table = self.df1_table
        return None if table is None else tuple(table[0].tolist())

    @functools.cached_property
    def df1_table_floats(self) -> tuple[tuple[float, ...], ...] | None:
        """``(t, df1, -df1, slope)`` of :attr:`df1_table` and :attr:`df1_table_slope` as Python
        floats, where df₁ is finite and does not increase along the grid (``None`` otherwise, or
        without a table): a lone point finds the first grid point with df₁ below a value by
        bisection on ``-df1``, and reads the rest without numpy's per-element cost."""
        table = self.df1_table
        if table is None:
            return None
        df1 = table[1]
        if not (np.isfinite(df1).all() and (np.diff(df1) <= 0).all()):
            return None
        values = tuple(df1.tolist())
        slope = tuple(self.df1_table_slope.tolist())
        return self.df1_grid_floats, values, tuple(-x for x in values), slope

    @functools.cached_property
    def df1_table_slope(self) -> np.ndarray | None:
        """d df₁/dt on :attr:`df1_table`'s grid (read-only; ``None`` without a table): with
        the values, a cubic interpolant of the ridge equation's residual between grid points
        gives root finders a start within ~1e-5 of the root."""
        table = self.df1_table
        if table is None:
            return None
        out = self.df1_and_slope(np.exp(table[0]))[1]
        out.flags.writeable = False
        return out

    @functools.cached_property
    def df1_table_inverse(self) -> tuple[np.ndarray, np.ndarray] | None:
        """``(log df₁, t)`` of :attr:`df1_table` in increasing log df₁, to read t at a given df₁
        by interpolation (``None`` without a table); ``-inf`` where df₁ underflowed to 0."""
        table = self.df1_table
        if table is None:
            return None
        with np.errstate(divide="ignore"):
            log_df1 = np.log(table[1][::-1])
        t_grid = table[0][::-1]
        for array in (log_df1, t_grid):
            array.flags.writeable = False
        return log_df1, t_grid

    @functools.cached_property
    def teacher_weights(self) -> np.ndarray:
        r""":math:`\omega_k v_k \ell_k`: the node weights of the teacher sums Ḡ, F̄ (read-only)."""
        out = self.weights * self.shares * self.levels
        out.flags.writeable = False
        return out

    def moments(self, kappa_hat: np.ndarray) -> tuple[np.ndarray, ...]:
        """``(df1, df2, e_bar, g_bar, f_bar)`` at κ̂ (flat, finite, >= 0), module docstring; one
        κ̂ goes through :meth:`moments_one` (a lone point and a batch of one agree to the bit)."""
        if kappa_hat.size == 1:
            return tuple(np.array([x]) for x in self.moments_one(float(kappa_hat.reshape(-1)[0])))
        return self._moments_arrays(kappa_hat)

    def _moments_arrays(self, kappa_hat: np.ndarray) -> tuple[np.ndarray, ...]:
        n = kappa_hat.size
        lev, w, wvl = self.levels, self.weights, self.teacher_weights
        top = np.maximum(kappa_hat, 1.0)
        fused = self._fused_weights
        if fused is not None:  # the sums of moments_one, point by point
            first, second = np.zeros((n, 3)), np.zeros((n, 3))
            for pts, nodes in _blocks(n, lev.size):
                q_bar = top[pts, None] / (lev[nodes] + kappa_hat[pts, None])
                first[pts] += q_bar @ fused[:, nodes].T
                np.multiply(q_bar, q_bar, out=q_bar)
                second[pts] += q_bar @ fused[:, nodes].T
            df1, df2, e_bar = first[:, 0] / top, second[:, 1] / top / top, second[:, 0] / top
            return df1, df2, e_bar, first[:, 2].copy(), second[:, 2].copy()
        df1, df2, e_bar, g_bar, f_bar = (np.zeros(n) for _ in range(5))
        for pts, nodes in _blocks(n, lev.size):
            lk = lev[nodes]
            denom = lk + kappa_hat[pts, None]
            r = lk / denom
            q_bar = top[pts, None] / denom
            df1[pts] += r @ w[nodes]
            df2[pts] += (r * r) @ w[nodes]
            e_bar[pts] += (r * q_bar) @ w[nodes]
            g_bar[pts] += q_bar @ wvl[nodes]
            f_bar[pts] += (q_bar * q_bar) @ wvl[nodes]
        return df1, df2, e_bar, g_bar, f_bar

    def moments_one(self, kappa_hat: float) -> tuple[float, ...]:
        r""":meth:`moments` at one κ̂, as floats: with :math:`t = \max(\hat\kappa, 1)` and
        :math:`S = [\bar q; \bar q^2]\,W^T` (:meth:`_fused_weights`), df₁ = S₀₀/t,
        df₂ = S₁₁/t², Ē = S₁₀/t, Ḡ = S₀₂, F̄ = S₁₂ (since r = ℓq̄/t); the batched route's
        operations where the nodes are not fused."""
        fused = self._fused_weights
        if fused is None:
            if self.n_nodes > _BLOCK:  # blocked sums: their order of addition
                return tuple(float(x[0]) for x in self._moments_arrays(np.array([kappa_hat])))
            lev, w, wvl = self.levels, self.weights, self.teacher_weights
            denom = lev + kappa_hat
            r = lev / denom
            q_bar = max(kappa_hat, 1.0) / denom
            return (
                float(r @ w),
                float((r * r) @ w),
                float((r * q_bar) @ w),
                float(q_bar @ wvl),
                float((q_bar * q_bar) @ wvl),
            )
        top = max(kappa_hat, 1.0)
        sums = fused @ self._fused_powers(kappa_hat, top).T  # (3, 2): W's rows by q̄, q̄²
        s00, s10, _, s11, s02, s12 = sums.ravel().tolist()
        return s00 / top, s11 / top / top, s10 / top, s02, s12

    def df1(self, kappa: np.ndarray) -> np.ndarray:
        """df₁(κ) in the spectrum's own units, shape of ``kappa`` (flat)."""
        return self.df1_scaled(self._scaled(kappa))

    def all(self, kappa: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """``(df1, df2, tf1, tf2)`` at κ in the spectrum's own units (flat, shape ``(n,)``)."""
        kappa_hat = self._scaled(kappa)
        df1, df2, _, g_bar, f_bar = self.moments(kappa_hat)
        log_top = np.log(np.maximum(kappa_hat, 1.0))
        with np.errstate(over="ignore", divide="ignore"):
            tf1 = np.exp(self.log_teacher_var + np.log(g_bar) - log_top)
            tf2 = np.exp(self.log_teacher_var - self.log_lambda_plus + np.log(f_bar) - 2 * log_top)
        return df1, df2, tf1, tf2

    def _scaled(self, kappa: np.ndarray) -> np.ndarray:
        with np.errstate(over="ignore"):
            return np.minimum(np.asarray(kappa, dtype=np.float64).ravel() / self.lambda_plus, 1e300)


def _blocks(n_points: int, n_nodes: int):
    """Yield ``(point_slice, node_slice)`` blocks of at most ~_BLOCK elements."""
    node_step = max(min(n_nodes, _BLOCK // max(n_points, 1)), 4096)
    node_step = min(node_step, n_nodes)
    point_step = max(_BLOCK // node_step, 1)
    for p0 in range(0, n_points, point_step):
        for k0 in range(0, n_nodes, node_step):
            yield slice(p0, p0 + point_step), slice(k0, k0 + node_step)


def scaled_sums(
    levels: np.ndarray,
    variances: np.ndarray,
    weights: np.ndarray,
    *,
    latent_dim: int,
    lambda_plus: float,
    log_variance_scale: float = 0.0,
    smallest_level: float | None = None,
    exponent: float | None = None,
    compressed: bool = False,
    spec: ModelSpec | None = None,
) -> SpectralSums:
    """Nodes from levels ℓ (<= 1) and variances known up to the factor ``exp(log_variance_scale)``.

    The variances are normalized here to shares v with :math:`\\sum_k \\omega_k v_k = 1`, and
    :math:`\\log\\sigma_w^2 = \\text{log\\_variance\\_scale} + \\log\\sum_k\\omega_k\\,
    \\text{variances}_k`.
    """
    levels = np.maximum(np.asarray(levels, dtype=np.float64), LEVEL_FLOOR)
    variances = np.asarray(variances, dtype=np.float64)
    total = float(variances @ weights)
    if total > 0:
        shares, log_teacher = variances / total, log_variance_scale + float(np.log(total))
    else:
        shares, log_teacher = np.zeros_like(variances), float("-inf")
    return SpectralSums(
        levels=levels,
        shares=shares,
        weights=np.asarray(weights, dtype=np.float64),
        latent_dim=int(latent_dim),
        lambda_plus=float(lambda_plus),
        log_teacher_var=log_teacher,
        trace_levels=float(levels @ weights),
        smallest_level=float(levels[-1] if smallest_level is None else smallest_level),
        compressed=compressed,
        exponent=exponent,
        spec=spec,
    )


def exact_sums(spec: ModelSpec) -> SpectralSums:
    """Nodes = all M eigenvalues with unit weights (needs the eigenvalue array, M <= 8e7).

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    >>> type(exact_sums(spec)).__name__
    'SpectralSums'
    """
    spectrum, m = spec.spectrum, spec.latent_dim
    if m > MAX_MATERIALIZED_DIM:
        raise InputError(
            f"'latent_dim' must be at most {MAX_MATERIALIZED_DIM} for exact sums (method "
            f"'exact'). Got {m} instead; use method 'compressed' or 'auto'."
        )
    exponent = None
    if spectrum.is_power_law:  # levels straight from the index: no λ₊ rounding or underflow
        exponent = 1.0 + spectrum.alpha
        levels = np.arange(1, m + 1, dtype=np.float64) ** -exponent
        lambda_plus = spectrum.lambda_plus
    else:
        lam = np.asarray(spectrum.eigenvalues, dtype=np.float64)
        levels, lambda_plus = lam / lam[0], float(lam[0])
    variances, log_scale = spec.scaled_teacher_variances()
    return scaled_sums(
        levels,
        variances,
        np.ones(m),
        latent_dim=m,
        lambda_plus=lambda_plus,
        log_variance_scale=log_scale,
        exponent=exponent,
        spec=spec,
    )


def compressed_sums(spec: ModelSpec) -> SpectralSums:
    """Compressed nodes for a power-law spectrum and an isotropic or power-law teacher.

    Cost per κ is O(log M) nodes (about 256 + 12·ln(M/256)/h); relative accuracy better than 1e-9
    (module docstring). Raises :class:`~scalinglaws._validation.InputError` for other spectra or
    teachers.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10**9, alpha=1.0))
    >>> type(compressed_sums(spec)).__name__
    'SpectralSums'
    """
    spectrum, teacher = spec.spectrum, spec.teacher
    if not _compressible(spec):
        raise InputError(
            "'method' must be 'exact' for this spec: compressed sums need a power-law spectrum "
            f"and an isotropic or power-law teacher. Got a {spectrum.kind} spectrum and a "
            f"{teacher.kind} teacher instead."
        )
    m = spectrum.latent_dim
    exponent = 1.0 + spectrum.alpha
    x, weights = index_nodes(m, spectrum.alpha)
    beta = teacher.index_exponent
    logs = -beta * np.log(x)
    raw = np.exp(logs - logs.max())
    return scaled_sums(
        x**-exponent,
        raw / (raw @ weights),
        weights,
        latent_dim=m,
        lambda_plus=spectrum.lambda_plus,
        log_variance_scale=float(np.log(teacher.teacher_var)),
        smallest_level=max(float(m) ** -exponent, LEVEL_FLOOR),
        exponent=exponent,
        compressed=True,
        spec=spec,
    )


def _compressible(spec: ModelSpec) -> bool:
    """A power-law spectrum and a teacher with w̄_I² ∝ I^-β: sums over a continuous index."""
    return spec.spectrum.compressible and spec.teacher.index_exponent is not None


def spectral_sums(spec: ModelSpec, method: str = "auto") -> SpectralSums:
    """Exact or compressed sums for ``spec``; ``auto`` compresses power laws above M = 4096.

    The nodes depend on the spec only, so the last few are kept (a spec is frozen and hashable):
    optimizers and fits that call the theory point by point build them once.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> small = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    >>> type(spectral_sums(small)).__name__
    'SpectralSums'
    """
    global _LAST_SUMS
    last = _LAST_SUMS
    if last[0] is spec and last[1] == method:  # the same spec again (an optimizer's calls):
        return last[2]  # no hash of the spec, which walks its fields (and an explicit spectrum)
    try:
        sums = _cached_sums(spec, method)
    except TypeError:  # an unhashable spec (a user's activation object): no cache
        return _build_sums(spec, method)
    _LAST_SUMS = (spec, method, sums)
    return sums


#: The last ``(spec, method, sums)`` of :func:`spectral_sums` (a spec is immutable, so the
#: same object has the same sums); replaced as a whole, so a reader never sees a mix.
_LAST_SUMS: tuple = (None, None, None)


@functools.lru_cache(maxsize=16)
def _cached_sums(spec: ModelSpec, method: str) -> SpectralSums:
    sums = _build_sums(spec, method)
    for array in (sums.levels, sums.shares, sums.weights):
        array.flags.writeable = False  # shared between calls: nobody may change them
    return sums


def _build_sums(spec: ModelSpec, method: str) -> SpectralSums:
    if method == "exact":
        return exact_sums(spec)
    if method == "compressed":
        return compressed_sums(spec)
    if _compressible(spec) and spec.latent_dim > COMPRESSED_ABOVE:
        return compressed_sums(spec)
    return exact_sums(spec)
