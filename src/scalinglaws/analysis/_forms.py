r"""Sums of power laws in log space: the ``power_law`` and ``chinchilla`` forms.

.. math:: \hat L(x) = E + \sum_{k=1}^{K} A_k\, x_k^{-s_k}, \qquad
          \log\hat L = \mathrm{LSE}\big(\log E,\; c_k - s_k z_k\big),
          \quad z_k = \log x_k - \mu_k,\quad c_k = \log A_k - s_k \mu_k

with :math:`\mu_k` the mean of :math:`\log x_k` over the points, so that :math:`c_k` is the log
of term k at the centre of the data (far better conditioned than :math:`\log A_k`, which moves
with :math:`s_k`). ``power_law`` is K = 1, ``(E, A, a)``; ``chinchilla`` is K = 2,
``(E, A, B, alpha, beta)`` (Hoffmann et al. 2022, arXiv:2203.15556, Approach 3).

=========  ===================  ==============================================================
symbol     name                 meaning
=========  ===================  ==============================================================
E          ``E``                irreducible loss (the floor)
A_k        ``A``, ``B``         amplitudes
s_k        ``a``; ``alpha``,    exponents
           ``beta``
θ          internal             ``[log E, c_1..c_K, s_1..s_K]``
=========  ===================  ==============================================================
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import logsumexp

from .._errors import InputError
from ._robust import huber

__all__ = ["PowerSumForm", "POWER_LAW", "CHINCHILLA", "FORMS", "log_predict", "start_thetas"]

#: Exponent bounds; an exponent at 0 makes its term a constant that merges with E.
EXPONENT_BOUNDS = (0.0, 10.0)
#: Log-amplitude bounds around the data: this many e-folds below the smallest loss.
LOG_SPAN_BELOW = 30.0


@dataclass(frozen=True)
class PowerSumForm:
    """A sum of K power laws and a floor, with parameters ``("E", *amplitudes, *exponents)``."""

    name: str
    amplitudes: tuple[str, ...]
    exponents: tuple[str, ...]

    @property
    def names(self) -> tuple[str, ...]:
        """Public parameter names, in order."""
        return ("E", *self.amplitudes, *self.exponents)

    @property
    def n_vars(self) -> int:
        """K, the number of variables."""
        return len(self.amplitudes)

    def check_fixed(self, fixed: dict) -> dict:
        """Only E and the exponents may be held fixed (an amplitude's log moves with them)."""
        out = {}
        for name, value in fixed.items():
            if name not in ("E", *self.exponents):
                allowed = ", ".join(repr(n) for n in ("E", *self.exponents))
                raise InputError(
                    f"'fixed' must name {allowed} for the {self.name} form. Got {name!r} instead."
                )
            value = float(value)
            if not np.isfinite(value) or value < 0:
                raise InputError(
                    f"'fixed' must hold finite values >= 0. Got {name}={value!r} instead."
                )
            out[name] = value
        return out

    def to_public(self, theta: np.ndarray, center: np.ndarray) -> np.ndarray:
        """Internal θ (..., 1 + 2K) to public (E, A_k, s_k) (..., 1 + 2K)."""
        k = self.n_vars
        e, c, s = theta[..., :1], theta[..., 1 : 1 + k], theta[..., 1 + k :]
        with np.errstate(over="ignore"):
            return np.concatenate([np.exp(e), np.exp(c + s * center), s], axis=-1)

    def to_internal(self, params: np.ndarray, center: np.ndarray) -> np.ndarray:
        """Public (E, A_k, s_k) to internal θ; E = 0 gives log E = -inf."""
        k = self.n_vars
        e, a, s = params[..., :1], params[..., 1 : 1 + k], params[..., 1 + k :]
        with np.errstate(divide="ignore"):
            return np.concatenate([np.log(e), np.log(a) - s * center, s], axis=-1)

    def bounds(self, log_y: np.ndarray) -> np.ndarray:
        """Box for θ, shape (1 + 2K, 2), relative to the range of the log losses."""
        lo, hi = float(log_y.min()) - LOG_SPAN_BELOW, float(log_y.max())
        rows = [(lo, hi + 0.5)] + [(lo, hi + 2.0)] * self.n_vars
        return np.array(rows + [EXPONENT_BOUNDS] * self.n_vars, dtype=np.float64)

    def start_grid(self, log_y: np.ndarray) -> np.ndarray:
        """Initial θ: E a fraction of the smallest loss, each term a fraction of the median loss at
        the data's centre, exponents over 0.1–2.5; shape (n_starts, 1 + 2K)."""
        k = self.n_vars
        e = float(log_y.min()) + np.log([0.05, 0.5, 0.9])
        c_frac = [0.1, 0.5] if k > 1 else [0.05, 0.3, 1.0]
        s_vals = [0.1, 0.3, 1.0, 2.5] if k > 1 else [0.1, 0.3, 0.6, 1.2, 2.5]
        c = float(np.median(log_y)) + np.log(c_frac)
        axes = [e] + [c] * k + [np.array(s_vals)] * k
        mesh = np.meshgrid(*axes, indexing="ij")
        return np.stack([m.ravel() for m in mesh], axis=-1)


POWER_LAW = PowerSumForm("power_law", ("A",), ("a",))
CHINCHILLA = PowerSumForm("chinchilla", ("A", "B"), ("alpha", "beta"))
FORMS = {f.name: f for f in (POWER_LAW, CHINCHILLA)}


def log_predict(form: PowerSumForm, params: np.ndarray, log_x: np.ndarray) -> np.ndarray:
    r""":math:`\log\hat L` from public parameters (..., 1 + 2K) at log x (n, K): shape (..., n).

    Examples
    --------
    >>> p = np.array([1.0, 2.0, 0.5])  # E = 1, A = 2, a = 0.5
    >>> float(np.exp(log_predict(POWER_LAW, p, np.log([[4.0]])))[0])
    2.0
    """
    k = form.n_vars
    params = np.asarray(params, dtype=np.float64)
    e, a, s = params[..., :1], params[..., 1 : 1 + k], params[..., 1 + k :]
    with np.errstate(divide="ignore"):
        terms = np.log(a)[..., None, :] - s[..., None, :] * log_x  # (..., n, K)
        floor = np.broadcast_to(np.log(e)[..., None, :], (*terms.shape[:-1], 1))
    return logsumexp(np.concatenate([terms, floor], axis=-1), axis=-1)


@dataclass(frozen=True)
class PowerSumObjective:
    """The scaled Huber objective of a form on centred data, over the free entries of θ.

    ``theta_full`` holds the fixed values (log E = -inf drops the floor term); ``free`` is a
    boolean mask of the entries the optimizer moves.
    """

    form: PowerSumForm
    z: np.ndarray  # (n, K) centred log x
    log_y: np.ndarray  # (n,)
    delta: float
    theta_full: np.ndarray
    free: np.ndarray

    def full(self, theta: np.ndarray) -> np.ndarray:
        """θ with the free entries set (broadcasts over leading axes)."""
        out = np.broadcast_to(self.theta_full, (*np.shape(theta)[:-1], self.free.size)).copy()
        out[..., self.free] = theta
        return out

    def residuals(self, theta_full: np.ndarray) -> np.ndarray:
        """r = log L̂ − log L, for θ of shape (..., p): shape (..., n)."""
        k = self.form.n_vars
        c, s = theta_full[..., 1 : 1 + k], theta_full[..., 1 + k :]
        terms = c[..., None, :] - s[..., None, :] * self.z
        if np.isfinite(self.theta_full[0]) or self.free[0]:
            floor = np.broadcast_to(theta_full[..., None, :1], (*terms.shape[:-1], 1))
            terms = np.concatenate([terms, floor], axis=-1)
        return logsumexp(terms, axis=-1) - self.log_y

    def term_shares(self, theta_full: np.ndarray) -> np.ndarray:
        """Each term's share of L̂ at each point, shape (n, K + 1) (the floor last; 0 if absent)."""
        k = self.form.n_vars
        c, s = theta_full[1 : 1 + k], theta_full[1 + k :]
        terms = c - s * self.z
        with np.errstate(divide="ignore"):
            floor = np.full((terms.shape[0], 1), theta_full[0])
        both = np.concatenate([terms, floor], axis=1)
        return np.exp(both - logsumexp(both, axis=1, keepdims=True))

    def values(self, theta: np.ndarray, weights: np.ndarray) -> np.ndarray:
        """Scaled objective for many free θ (m, p_free): shape (m,)."""
        h, _ = huber(self.residuals(self.full(theta)), self.delta)
        return h @ weights / (self.delta * weights.sum())

    def __call__(self, theta: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
        k = self.form.n_vars
        th = self.theta_full.copy()
        th[self.free] = theta
        e, c, s = th[0], th[1 : 1 + k], th[1 + k :]
        t = c - s * self.z  # (n, K)
        has_floor = np.isfinite(e)
        top = t.max(axis=1)
        if has_floor:
            top = np.maximum(top, e)
        terms = np.exp(t - top[:, None])
        floor = np.exp(e - top) if has_floor else np.zeros_like(top)
        total = terms.sum(axis=1) + floor
        r = top + np.log(total) - self.log_y
        h, psi = huber(r, self.delta)
        scale = 1.0 / (self.delta * weights.sum())
        wpsi = weights * psi * scale / total  # ω ψ / Σ exp, per point
        grad = np.empty(th.size)
        grad[0] = wpsi @ floor
        grad[1 : 1 + k] = wpsi @ terms
        grad[1 + k :] = -(wpsi[:, None] * terms * self.z).sum(axis=0)
        return float(h @ weights) * scale, grad[self.free]


def start_thetas(objective, form, center, starts, fixed) -> np.ndarray:
    """Free θ to start from: the user's ``starts``, or the best grid point per exponent pair
    (and floor) of :meth:`PowerSumForm.start_grid` — the amplitudes, which enter almost linearly,
    are chosen by the objective, the nonconvex directions all kept."""
    if starts is None:
        grid = form.start_grid(objective.log_y)
        grid[:, ~objective.free] = objective.theta_full[~objective.free]
        values = objective.values(grid[:, objective.free], np.ones(objective.log_y.size))
        k = form.n_vars
        key = [j for j in range(grid.shape[1]) if not 1 <= j <= k and objective.free[j]]
        _, group = np.unique(grid[:, key], axis=0, return_inverse=True)
        best = [
            np.flatnonzero(group == g)[np.argmin(values[group == g])]
            for g in range(group.max() + 1)
        ]
        return grid[np.sort(best)][:, objective.free]
    rows = []
    for start in starts:
        public = np.array(
            [fixed.get(n, start.get(n, np.nan)) for n in form.names], dtype=np.float64
        )
        if not np.all(np.isfinite(public) & (public >= 0)) or np.any(
            public[1 : 1 + form.n_vars] <= 0
        ):
            raise InputError(
                f"'starts' must give {', '.join(form.names)} (finite, amplitudes > 0). Got "
                f"{dict(start)!r} instead."
            )
        rows.append(form.to_internal(public, center)[objective.free])
    if not rows:
        raise InputError("'starts' must hold at least one start. Got an empty sequence instead.")
    return np.array(rows)
