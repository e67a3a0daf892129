r"""The (log α, log M) grids on which the solvable-model fit tabulates the theory.

The global range: α in ``alpha_range`` (default 0.05–4), M from a quarter of the smallest
min(N, P) to 1000 times the largest N or P (at most 1e9). A coarse grid over all of it (steps
0.25 in log α, 0.6 in log M) finds the basin; a fine grid (steps 0.04 and 0.12, at most 17
nodes an axis) around the pilot bootstrap's spread carries the estimate and the bootstrap, and is
widened when an estimate lands on one of its edges that is not an edge of the global range.
M nodes are integers.
"""

from __future__ import annotations

import numpy as np

from .._errors import InputError
from ._fit_inputs import FitTable

__all__ = ["COARSE", "FINE", "MAX_FINE", "ranges_of", "grid", "fine_box", "widen"]

#: Node spacings in (log α, log M): coarse and fine; the most fine nodes per axis.
COARSE, FINE, MAX_FINE = (0.25, 0.6), (0.04, 0.12), 17


def ranges_of(table: FitTable, alpha_range, latent_dim_range) -> np.ndarray:
    """[[u_lo, u_hi], [l_lo, l_hi]]: the global search box in (log α, log M)."""
    lo, hi = (float(v) for v in alpha_range)
    if not (0 < lo < hi):
        raise InputError(
            f"'alpha_range' must be (low, high) with 0 < low < high. Got {alpha_range!r}."
        )
    if latent_dim_range is None:
        small = float(np.min(np.minimum(table.x[:, 0], table.x[:, 1])))
        m_lo, m_hi = max(2.0, np.floor(small / 4)), min(1e9, 1e3 * float(table.x.max()))
    else:
        m_lo, m_hi = (float(v) for v in latent_dim_range)
        if not (1 <= m_lo < m_hi <= 1e12):
            raise InputError(
                "'latent_dim_range' must be (low, high) with 1 <= low < high <= 1e12. Got "
                f"{latent_dim_range!r} instead."
            )
    return np.log([[lo, hi], [round(m_lo), round(m_hi)]])


def _axis_nodes(lo: float, hi: float, step: float, cap: int | None = None) -> np.ndarray:
    count = int(np.ceil((hi - lo) / step)) + 1
    return np.linspace(lo, hi, max(3, count if cap is None else min(count, cap)))


def grid(box: np.ndarray, fixed: dict, step: tuple[float, float], cap=None):
    """u nodes and integer M nodes over ``box`` (one node for a fixed coordinate)."""
    if "alpha" in fixed:
        u = np.log([fixed["alpha"]])
    else:
        u = _axis_nodes(box[0, 0], box[0, 1], step[0], cap)
    if "latent_dim" in fixed:
        m = np.array([round(fixed["latent_dim"])])
    else:
        m = np.unique(np.round(np.exp(_axis_nodes(box[1, 0], box[1, 1], step[1], cap))))
    return u, m


def fine_box(pilot: np.ndarray, theta: np.ndarray, ranges: np.ndarray) -> np.ndarray:
    """Box in (u, l) around the pilot bootstrap's spread, padded, within the global ranges."""
    coords = np.vstack([pilot[:, [0, 2]], theta[None, [0, 2]]])
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = np.maximum(0.5 * (hi - lo), [0.1, 0.5])
    return np.column_stack([np.maximum(lo - pad, ranges[:, 0]), np.minimum(hi + pad, ranges[:, 1])])


def widen(box, ranges, thetas, fixed) -> np.ndarray | None:
    """A wider box if an estimate sits on an edge of ``box`` that is not a global bound."""
    new = box.copy()
    for axis, col, name in ((0, 0, "alpha"), (1, 2, "latent_dim")):
        if name in fixed:
            continue
        width = box[axis, 1] - box[axis, 0]
        tol = 1e-6 * (1 + abs(box[axis]))
        if box[axis, 0] > ranges[axis, 0] and np.any(thetas[:, col] <= box[axis, 0] + tol[0]):
            new[axis, 0] = max(ranges[axis, 0], box[axis, 0] - width)
        if box[axis, 1] < ranges[axis, 1] and np.any(thetas[:, col] >= box[axis, 1] - tol[1]):
            new[axis, 1] = min(ranges[axis, 1], box[axis, 1] + width)
    return None if np.array_equal(new, box) else new
