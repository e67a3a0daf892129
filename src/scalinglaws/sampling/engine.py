r"""The grid engine: ridge readouts on every (N, P) cell of a grid from one draw of features.

Given the features of one seed as fixed-shape tiles
(:class:`~scalinglaws.sampling.tiles.TiledMatrix`,
rows = samples, columns = features, nested: the first P rows and N columns are the draw of a
smaller grid) and their targets, the engine visits every cell and hands its readouts to a **loss
evaluator** (any callable ``(theta, n_features) -> {name: values}``), so that the same engine
serves the latent generative model (exact losses) and real data (held-out test sets); see
:mod:`scalinglaws.sampling.losses`.

How (algorithms first: factorizations reused, draws nested):

* **Running Grams.** Cells with N ≤ P are solved in the primal from ΦᵀΦ over the first P rows,
  one Gram grown block by block as P increases; cells with P < N in the dual from ΦΦᵀ over the
  first N columns, grown as N increases. Every Gram tile is a sum over row (column) tiles of
  fixed-shape ``(t × t)·(t × t)`` products in a fixed order, and the partial tile at a cell's edge
  is zero-padded, so the Gram of a cell is the same to the last bit whatever grid it sits in.
* **One system per cell and ridge.** Each cell factorizes its own Gram block
  (:func:`scalinglaws.sampling.ridge.solve_gram`): nothing is shared across cells, so no cell's
  numbers depend on another's. For geometric grids this costs about 1.14 times a factorization
  of the largest cell only. Each (cell, group of
  :func:`~scalinglaws.sampling.ridge.independent_ridges`) is its own task on the pool, largest
  cells first, and the factorizations release the GIL, so a cell's ridges factorize side by
  side.
* **Fallbacks belong to the ridge module.** Where the Gram route cannot be trusted (γ = 0 at and
  near N = P) the cell's own Φ is assembled and :func:`scalinglaws.sampling.ridge.stable_readouts`
  solves
  it; the route of every solution is counted.

=========  ================  ==============================================
symbol     name              meaning
=========  ================  ==============================================
N          ``n_features``    number of features (columns of Φ)
P          ``n_samples``     number of training samples (rows of Φ)
C          ``n_targets``     target columns (1, or classes for one-hot labels)
γ          ``ridges``        ridges on the sum of squared errors
θ          ``readouts``      shape (N, C, n_ridges) per cell
=========  ================  ==============================================
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from .._timer import StageTimer
from ..results import Grid
from ._blas import parallel_workers, single_threaded
from ._parallel import ordered_imap, ordered_map
from .ridge import independent_ridges, solve_gram, stable_readouts
from .tiles import TiledMatrix

__all__ = ["EngineResult", "run_engine"]

Evaluator = Callable[[np.ndarray, int, int], dict[str, np.ndarray]]


@dataclass(frozen=True)
class EngineResult:
    """Evaluator outputs per cell, each of shape (len(n_features), len(n_samples), n_ridges)."""

    values: dict[str, np.ndarray]
    routes: Counter


def run_engine(
    features: TiledMatrix,
    targets: np.ndarray,
    grid: Grid,
    evaluate: Evaluator,
    *,
    timer: StageTimer | None = None,
    on_cell: Callable[[], None] | None = None,
) -> EngineResult:
    """Solve every cell of ``grid`` and evaluate its readouts.

    Parameters
    ----------
    features : TiledMatrix
        Φ of the largest cell, at least max(P) rows and max(N) columns.
    targets : ndarray of shape (padded rows, n_targets)
        Y, zero beyond the rows of Φ.
    grid : Grid
        N, P and ridges (its seeds are the caller's business).
    evaluate : callable(theta, n_features, n_samples) -> dict of arrays of shape (n_ridges,)
        ``theta`` of shape (n_features, n_targets, n_ridges); see
        :mod:`scalinglaws.sampling.losses`.
    timer : StageTimer, optional
    on_cell : callable, optional
        Called once per finished (N, P) cell.
    """
    timer = timer or StageTimer()
    shape = grid.shape
    values: dict[str, np.ndarray] = {}
    routes: Counter = Counter()
    pending: dict[int, list] = {i: [] for i in range(len(grid.n_features))}
    workers = parallel_workers()
    with single_threaded():  # one-thread BLAS calls, side by side (see sampling._parallel)
        primal = _primal_cells(features, targets, grid, timer, workers)
        dual = _dual_cells(features, targets, grid, timer, workers)
        for i, j, theta, cell_routes in (*primal, *dual):
            routes.update(cell_routes)
            pending[i].append((j, theta))
            if on_cell is not None:
                on_cell()
        for i, items in pending.items():  # one pass per N over what the evaluator caches for N
            t0 = time.perf_counter()

            def one(item, n=grid.n_features[i]):
                return evaluate(item[1], n, grid.n_samples[item[0]])

            outs = ordered_map(one, items, workers)
            timer.add("loss", t0)
            for (j, _), out in zip(items, outs, strict=True):
                for name, value in out.items():
                    values.setdefault(name, np.full(shape, np.nan))[i, j] = value
    return EngineResult(values, routes)


class _RunningGram:
    """Σ of fixed-shape tile products over the blocked axis, grown one tile at a time.

    ``product(block, keep)`` returns the contribution of tile ``block`` of the blocked axis (its
    first ``keep`` entries only, the rest zero) to the Gram tiles and the right-hand side.
    """

    def __init__(self, product, n_tiles: int, t: int, rhs_width: int | None) -> None:
        # ``product`` writes tile (a, b) of the Gram from its own products only: the pairs run
        # side by side (see _tile_pairs)
        self._product = product
        self._gram = np.zeros((n_tiles, n_tiles, t, t))
        self._rhs = None if rhs_width is None else np.zeros((n_tiles, t, rhs_width))
        self._done, self.t = 0, t

    def at(self, length: int, n_tiles: int):
        """(Gram tiles, rhs tiles) over the first ``length`` entries, first ``n_tiles`` tiles."""
        t = self.t
        full = length // t
        while self._done < full:
            self._product(self._done, t, self._gram, self._rhs)
            self._done += 1
        gram = self._gram[:n_tiles, :n_tiles]
        rhs = None if self._rhs is None else self._rhs[:n_tiles]
        if full * t == length:
            return gram, rhs
        gram, rhs = gram.copy(), None if rhs is None else rhs.copy()
        self._product(full, length - full * t, gram, rhs)
        return gram, rhs


def _assemble(tiles: np.ndarray, n: int) -> np.ndarray:
    """The leading n × n block of a symmetric tiled Gram (upper tiles), Fortran-ordered.

    Each upper tile is copied once, straight into the Fortran-ordered block; the tiles below the
    diagonal are zero in the running Gram and stay zero here.
    """
    t = tiles.shape[2]
    k = -(-n // t)
    out = np.zeros((n, n), order="F")
    for a in range(k):
        rows = min(t, n - a * t)
        for b in range(a, k):
            cols = min(t, n - b * t)
            out[a * t : a * t + rows, b * t : b * t + cols] = tiles[a, b, :rows, :cols]
    return out


def _tile_pairs(k: int) -> list[tuple[int, int]]:
    """The upper tiles (a, b), a <= b < k, of a k × k tiled Gram."""
    return [(a, b) for a in range(k) for b in range(a, k)]


def _primal_cells(features: TiledMatrix, targets: np.ndarray, grid: Grid, timer, workers: int):
    """Cells with N ≤ P from one running Gram ΦᵀΦ over the first P rows, grown in P."""
    cols = max((n for n in grid.n_features if n <= grid.n_samples[-1]), default=0)
    if cols == 0:
        return
    t, ridges = features.t, grid.ridge_array
    groups = independent_ridges(ridges)
    n_tiles = -(-cols // t)
    width = targets.shape[1]

    def product(block: int, keep: int, gram, rhs) -> None:
        y = targets[block * t : (block + 1) * t].copy()
        y[keep:] = 0.0
        row = [features.row_tile(block, a, keep=keep) for a in range(gram.shape[0])]

        def add(pair: tuple[int, int]) -> None:
            a, b = pair
            gram[a, b] += row[a].T @ row[b]
            if a == b:
                rhs[a] += row[a].T @ y

        ordered_map(add, _tile_pairs(gram.shape[0]), workers)

    running = _RunningGram(product, n_tiles, t, width)
    for j, p in enumerate(grid.n_samples):
        t0 = time.perf_counter()
        sizes = [n for n in grid.n_features if n <= p]
        gram_tiles, rhs_tiles = running.at(p, -(-sizes[-1] // t) if sizes else 0)
        t0 = timer.add("gram", t0)

        def part(task, p=p, gram_tiles=gram_tiles, rhs_tiles=rhs_tiles):
            n, group = task
            sol = solve_gram(
                _assemble(gram_tiles, n), rhs_tiles.reshape(-1, width)[:n], ridges[group],
                square=n == p,
            )  # fmt: skip
            theta, part_routes = sol.solutions, list(sol.routes)
            if not sol.ok.all():
                theta = _fallback(features, targets, ridges[group], sol, theta, part_routes, p, n)
            return theta, part_routes

        for n, theta, cell_routes in _cells(part, sizes, groups, workers):
            yield grid.n_features.index(n), j, theta, cell_routes
        timer.add("solve", t0)


def _cells(part, sizes: list[int], groups: list[np.ndarray], workers: int):
    """``(size, theta, routes)`` per cell of one level, from one task per (cell, ridge group).

    The groups are the ridges :func:`~scalinglaws.sampling.ridge.independent_ridges` says are
    solved without sharing work, so a cell's two Cholesky ridges factorize side by side (the
    factorizations release the GIL: :mod:`scalinglaws.sampling._lapack`). ``part((size, group))``
    returns that group's ``(theta, routes)``. Tasks go largest cell first, so the long
    factorizations start first; each cell is yielded once all its groups are in, with its
    ridges in the grid's order. A part depends only on its cell and ridges, so the numbers do
    not depend on the grouping or on the order of the tasks. Each part assembles its cell's Gram
    itself (one n² copy per group, against the n³/3 of its factorization: ~7 ms beside 75-150 ms
    at n = 2048), so that no more than one Gram per task in flight is held at once.
    """
    n_ridges = sum(g.size for g in groups)
    tasks = [(size, group) for size in reversed(sizes) for group in groups]
    pending: dict[int, list] = {}
    for (size, group), (theta, routes) in zip(
        tasks, ordered_imap(part, tasks, workers), strict=True
    ):
        parts = pending.setdefault(size, [])
        parts.append((group, theta, routes))
        if len(parts) < len(groups):
            continue
        out = np.empty((theta.shape[0], theta.shape[1], n_ridges))
        cell_routes = [""] * n_ridges
        for g, t, r in pending.pop(size):
            out[:, :, g] = t
            for k, index in enumerate(g):
                cell_routes[index] = r[k]
        yield size, out, cell_routes


def _fallback(features, targets, ridges, sol, theta, routes, p: int, n: int):
    """Recompute from the cell's own Φ the ridges the Gram route could not trust."""
    bad = np.flatnonzero(~sol.ok)
    factors = [sol.factors[r] for r in bad] if sol.factors else None
    theta[:, :, bad], fixed = stable_readouts(
        features.block(p, n), targets[:p], ridges[bad], factors, dual=p < n
    )
    for k, r in enumerate(bad):
        routes[r] = fixed[k]
    return theta


def _dual_cells(features: TiledMatrix, targets: np.ndarray, grid: Grid, timer, workers: int):
    """Cells with P < N from one running Gram ΦΦᵀ over the first N columns, grown in N."""
    rows = max((p for p in grid.n_samples if p < grid.n_features[-1]), default=0)
    if rows == 0:
        return
    t, ridges = features.t, grid.ridge_array
    groups = independent_ridges(ridges)
    n_tiles = -(-rows // t)

    def product(block: int, keep: int, gram, rhs) -> None:
        col = [features.col_tile(a, block, keep=keep) for a in range(gram.shape[0])]

        def add(pair: tuple[int, int]) -> None:
            a, b = pair
            gram[a, b] += col[a] @ col[b].T

        ordered_map(add, _tile_pairs(gram.shape[0]), workers)

    running = _RunningGram(product, n_tiles, t, None)
    for i, n in enumerate(grid.n_features):
        t0 = time.perf_counter()
        sizes = [p for p in grid.n_samples if p < n]
        if not sizes:
            continue
        gram_tiles, _ = running.at(n, -(-sizes[-1] // t))
        t0 = timer.add("gram", t0)

        def part(task, n=n, gram_tiles=gram_tiles):
            p, group = task
            sol = solve_gram(_assemble(gram_tiles, p), targets[:p], ridges[group])
            theta = _dual_readouts(features, np.nan_to_num(sol.solutions), p, n)
            part_routes = list(sol.routes)
            if not sol.ok.all():
                theta = _fallback(features, targets, ridges[group], sol, theta, part_routes, p, n)
            return theta, part_routes

        for p, theta, cell_routes in _cells(part, sizes, groups, workers):
            yield i, grid.n_samples.index(p), theta, cell_routes
        timer.add("solve", t0)


def _dual_readouts(features: TiledMatrix, alpha: np.ndarray, p: int, n: int) -> np.ndarray:
    r"""θ = Φ[:P, :N]ᵀ α per ridge, as sums of fixed-shape ``(t × t)ᵀ·(t × C)`` tile products.

    ``alpha`` has shape (P, C, R); rows of Φ beyond P meet α's zero padding, so they add exactly 0.
    """
    t = features.t
    row_tiles, col_tiles = -(-p // t), -(-n // t)
    width, n_ridges = alpha.shape[1], alpha.shape[2]
    padded = np.zeros((n_ridges, row_tiles * t, width))  # one contiguous (t, C) slice per tile
    padded[:, :p] = alpha.transpose(2, 0, 1)
    out = np.zeros((n_ridges, col_tiles * t, width))
    for r in range(n_ridges):
        for a in range(col_tiles):
            acc = out[r, a * t : (a + 1) * t]
            for b in range(row_tiles):
                acc += features.tiles[b, a].T @ padded[r, b * t : (b + 1) * t]
    return out[:, :n].transpose(1, 2, 0).copy()
