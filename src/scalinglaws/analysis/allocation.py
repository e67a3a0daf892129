r"""Compute-optimal allocation of a fitted scaling law under the cost :math:`C = k N D`.

For :math:`L(N, D) = E + A N^{-\alpha} + B D^{-\beta}`, minimizing L on :math:`N D = C/k`
(Hoffmann et al. 2022, arXiv:2203.15556, eq. 4) gives

.. math:: N^*(C) = G\,(C/k)^{a}, \qquad D^*(C) = G^{-1} (C/k)^{b}, \qquad
          a = \frac{\beta}{\alpha+\beta},\quad b = \frac{\alpha}{\alpha+\beta},\quad
          G = \Big(\frac{\alpha A}{\beta B}\Big)^{1/(\alpha+\beta)},

and :math:`D^*/N^* = (C/k)^{b-a} / G^2` tokens per parameter. k = 6 by default (forward and
backward pass of a transformer: about 6 FLOPs per parameter per token). Every quantity is
computed for each bootstrap draw of the parameters too, which gives its standard error and
percentile interval.

=========  ===========================  ==========================================================
symbol     name                         meaning
=========  ===========================  ==========================================================
k          ``cost_factor``              cost per parameter per token (C = k N D)
C          ``compute``                  compute budget (here: the largest of the data)
a, b       ``a``, ``b``                 exponents of N* and D* in C/k
G          ``G``                        prefactor of N*
D*/N*      ``tokens_per_parameter``     at ``compute``
=========  ===========================  ==========================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..results import finite_or_none
from ._robust import spread

__all__ = ["Allocation", "chinchilla_allocation", "allocation_from_samples"]

#: The allocation's reported quantities, in order.
ALLOCATION_KEYS = ("a", "b", "G", "tokens_per_parameter")


@dataclass(frozen=True)
class Allocation:
    """Compute-optimal N*(C) = G (C/k)^a and D*(C) = (C/k)^b / G, with bootstrap spread.

    Attributes
    ----------
    a, b, G : float
        Exponents and prefactor (above); NaN where they are undefined (an exponent at 0).
    tokens_per_parameter : float
        D*/N* at ``compute``.
    compute : float
        The budget where ``tokens_per_parameter`` is quoted (the largest k·N·D of the data).
    cost_factor : float
        k in C = k N D.
    stderr, ci95 : dict
        Bootstrap standard errors and 95 % percentile intervals of a, b, G, tokens_per_parameter.
    samples : ndarray of shape (n_draws, 3)
        (a, b, G) for each bootstrap draw (for frontier bands).
    note : str
        How the allocation was found (empty for the closed form).
    """

    a: float
    b: float
    G: float
    tokens_per_parameter: float
    compute: float
    cost_factor: float
    stderr: dict = field(default_factory=dict)
    ci95: dict = field(default_factory=dict)
    samples: np.ndarray = field(default_factory=lambda: np.empty((0, 3)))
    note: str = ""

    def optimal(self, compute: object) -> tuple[np.ndarray, np.ndarray]:
        """(N*, D*) at the budgets ``compute`` (any shape)."""
        c = np.asarray(compute, dtype=np.float64) / self.cost_factor
        return self.G * c**self.a, c**self.b / self.G

    def band(self, compute: object, level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
        """Percentile band of N*(C) over the bootstrap draws: (low, high), each of C's shape."""
        c = np.log(np.asarray(compute, dtype=np.float64) / self.cost_factor)
        draws = self.samples[np.all(np.isfinite(self.samples), axis=1)]
        if draws.shape[0] < 2:
            nan = np.full(np.shape(c), np.nan)
            return nan, nan
        log_n = np.log(draws[:, 2])[:, None] + draws[:, 0][:, None] * np.ravel(c)[None, :]
        tail = 50.0 * (1.0 - level)
        low, high = np.exp(np.percentile(log_n, [tail, 100.0 - tail], axis=0))
        return low.reshape(np.shape(c)), high.reshape(np.shape(c))

    def to_dict(self) -> dict:
        """Plain JSON: a, b, G, tokens_per_parameter, compute, cost_factor, stderr, ci95."""
        out = {k: finite_or_none(getattr(self, k)) for k in ALLOCATION_KEYS}
        out.update(compute=finite_or_none(self.compute), cost_factor=self.cost_factor)
        out["stderr"] = {k: finite_or_none(v) for k, v in self.stderr.items()}
        out["ci95"] = {
            k: [finite_or_none(v[0]), finite_or_none(v[1])] for k, v in self.ci95.items()
        }
        if self.note:
            out["note"] = self.note
        return out


def _closed_form(params: np.ndarray, log_c: float) -> np.ndarray:
    """(a, b, G, D*/N*) for public Chinchilla parameters of shape (..., 5)."""
    _, big_a, big_b, alpha, beta = np.moveaxis(np.asarray(params, dtype=np.float64), -1, 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        total = alpha + beta
        a, b = beta / total, alpha / total
        log_g = (np.log(alpha) + np.log(big_a) - np.log(beta) - np.log(big_b)) / total
        g = np.exp(log_g)
        tpp = np.exp((b - a) * log_c - 2.0 * log_g)
    out = np.stack([a, b, g, tpp], axis=-1)
    return np.where(np.isfinite(out) & (np.abs(out) > 0), out, np.nan)


def allocation_from_samples(
    point: np.ndarray, draws: np.ndarray, *, compute: float, cost_factor: float, note: str = ""
) -> Allocation:
    """An :class:`Allocation` from (a, b, G, D*/N*) at the estimate (4,) and per draw (B, 4)."""
    s = spread(draws) if draws.shape[0] >= 2 else None
    stderr = {k: float(s.stderr[i]) if s else float("nan") for i, k in enumerate(ALLOCATION_KEYS)}
    ci = {
        k: (float(s.low[i]), float(s.high[i])) if s else (float("nan"), float("nan"))
        for i, k in enumerate(ALLOCATION_KEYS)
    }
    return Allocation(
        a=float(point[0]),
        b=float(point[1]),
        G=float(point[2]),
        tokens_per_parameter=float(point[3]),
        compute=float(compute),
        cost_factor=float(cost_factor),
        stderr=stderr,
        ci95=ci,
        samples=np.asarray(draws[:, :3], dtype=np.float64),
        note=note,
    )


def chinchilla_allocation(
    params: np.ndarray, samples: np.ndarray, *, compute: float, cost_factor: float = 6.0
) -> Allocation:
    r"""The closed-form allocation at the estimate ``params`` (E, A, B, α, β) and per draw.

    Examples
    --------
    >>> p = np.array([1.69, 406.4, 410.7, 0.34, 0.28])  # Hoffmann et al. (2022), Approach 3
    >>> alloc = chinchilla_allocation(p, np.empty((0, 5)), compute=5.76e23)
    >>> round(alloc.a, 3), round(alloc.b, 3)
    (0.452, 0.548)
    """
    log_c = float(np.log(compute / cost_factor))
    point = _closed_form(params, log_c)
    draws = _closed_form(samples, log_c).reshape(-1, 4)
    return allocation_from_samples(point, draws, compute=compute, cost_factor=cost_factor)
