r"""Monte-Carlo engine: exact test loss of random-feature ridge regression over grids.

One call computes every cell (N, P, γ, seed) of a grid (``MODEL.md`` §2–4). For each seed it makes
**one nested draw** at the largest N and P — teacher w, feature weights U (N_max × M), inputs
X (P_max × M), label noise — and every smaller cell uses the leading rows/columns of it:

* features Φ = σ(XUᵀ) are formed once (P_max × N_max);
* cells with N ≤ P share one running primal Gram ΦᵀΦ, grown in P; cells with P < N share one
  running dual Gram ΦΦᵀ, grown in N (a cell's Gram is the leading block);
* all ridges of a cell come from one factorization (see :mod:`scalinglaws.ridge`);
* the test loss is exact, with no test sample: :func:`~scalinglaws.features.linear_excess` for
  linear features, the Gaussian kernels
  :math:`\theta^\top K\theta - 2\theta^\top b + w^\top\Lambda w`
  otherwise; a Monte-Carlo test set is available as ``loss="monte_carlo"``.

Memory is that of the largest cell (X, U, Φ and two Grams), whatever the number of cells.

=========  ================  ==========================================
symbol     name              meaning
=========  ================  ==========================================
N          ``n_features``    number of random features
P          ``n_samples``     number of training samples (paper: T)
γ          ``ridge``         ridge on the sum of squared errors
σ_ε²       ``noise_var``     label-noise variance (in ``test_mse``)
=========  ================  ==========================================

Randomness: seed *s* of a study with root ``rng`` uses the streams
``child_sequence(root, s, k)`` (k = teacher, features, inputs, noise, test inputs, test noise), so a
cell's numbers do not depend on the grid it is computed in, nor on which seeds run with it.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import scipy.linalg as sla
import xarray as xr

from ._validation import check_choice, check_float_list, check_int_list, check_positive_int
from .data import (
    STREAM_FEATURES,
    STREAM_INPUTS,
    STREAM_NOISE,
    STREAM_TEACHER,
    STREAM_TEST,
    STREAM_TEST_NOISE,
    as_seed_sequence,
    child_sequence,
    sample_labels,
    sample_latent,
    sample_teacher,
    teacher_output,
)
from .features import (
    draw_projection,
    feature_moments,
    linear_excess,
    moment_excess,
    random_features,
)
from .ridge import _stable_solutions, solve_prefixes
from .spec import ModelSpec

__all__ = ["simulate", "simulate_seed", "summarize", "to_records", "LOSS_METHODS"]

LOSS_METHODS = ("exact", "monte_carlo")


@dataclass
class StageTimer:
    """Wall-clock seconds per engine stage (for benchmarks; changes no number)."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, stage: str, start: float) -> float:
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - start
        return now


@dataclass(frozen=True)
class _Grid:
    n_features: tuple[int, ...]
    n_samples: tuple[int, ...]
    ridges: np.ndarray


def simulate_seed(
    spec: ModelSpec,
    grid: _Grid,
    seq: np.random.SeedSequence,
    *,
    loss: str = "exact",
    n_test: int = 10_000,
    timer: StageTimer | None = None,
    on_cell: Callable[[], None] | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """One seed of the grid from the seed's own sequence ``seq``.

    Returns ``(test_mse, excess)``, each of shape (len(n_features), len(n_samples), n_ridges);
    with ``loss="monte_carlo"`` also the Monte-Carlo standard errors of both estimates.
    """
    timer = timer or StageTimer()
    t = time.perf_counter()
    n_max, p_max = grid.n_features[-1], grid.n_samples[-1]
    w = sample_teacher(spec, child_sequence(seq, STREAM_TEACHER))
    u = draw_projection(spec, n_max, child_sequence(seq, STREAM_FEATURES))
    x = sample_latent(spec.spectrum, p_max, child_sequence(seq, STREAM_INPUTS))
    y = sample_labels(x, w, spec.noise_var, child_sequence(seq, STREAM_NOISE))
    t = timer.add("draw", t)
    phi = random_features(x, u, spec.activation)
    del x
    t = timer.add("features", t)

    evaluate = _loss_evaluator(spec, grid, seq, u, w, loss, n_test, timer)
    shape = (len(grid.n_features), len(grid.n_samples), grid.ridges.size)
    outputs = [np.full(shape, np.nan) for _ in range(4 if loss == "monte_carlo" else 2)]
    readouts: dict[int, list] = {i: [] for i in range(len(grid.n_features))}
    for j, i, theta in (*_primal_cells(phi, y, grid, timer), *_dual_cells(phi, y, grid, timer)):
        readouts[i].append((j, theta))
        if on_cell is not None:
            on_cell()
    del phi
    r = grid.ridges.size
    for i, cells in readouts.items():  # one pass over U (or K) per N for all its cells
        if not cells:
            continue
        values = evaluate(np.hstack([theta for _, theta in cells]), grid.n_features[i])
        for k, (j, _) in enumerate(cells):
            for out, value in zip(outputs, values, strict=True):
                out[i, j] = value[k * r : (k + 1) * r]
    return tuple(outputs)


#: Rows (primal) or columns (dual) per block of the running Grams. Blocks are fixed multiples of
#: this size, plus one partial block at the cell's edge, so a cell's Gram is summed in the same
#: order whatever grid it sits in (bit-for-bit the same, barring BLAS blocking choices).
GRAM_BLOCK = 512


class _RunningGram:
    """Leading-prefix Grams Σ_b B_bᵀB_b (upper triangle, Fortran order) over fixed blocks."""

    def __init__(self, blocks, width: int) -> None:
        self._blocks = blocks  # blocks(start, stop) -> (block of shape (stop-start, width), rhs)
        self._gram = np.zeros((width, width), order="F")
        self._rhs, self._done = np.zeros(width), 0

    def at(self, length: int):
        """(Gram, rhs) of the first ``length`` rows of the blocked axis; upper triangle only."""
        full = (length // GRAM_BLOCK) * GRAM_BLOCK
        while self._done < full:
            self._add(self._gram, self._rhs, self._done, self._done + GRAM_BLOCK)
            self._done += GRAM_BLOCK
        if full == length:
            return self._gram, self._rhs
        gram, rhs = self._gram.copy(order="F"), self._rhs.copy()
        self._add(gram, rhs, full, length)
        return gram, rhs

    def _add(self, gram, rhs, start, stop) -> None:
        block, target = self._blocks(start, stop)
        # Symmetric rank-k update of the upper triangle, in place (half the flops of BᵀB).
        sla.blas.dsyrk(1.0, block, beta=1.0, c=gram, trans=1, lower=0, overwrite_c=1)
        if target is not None:
            rhs += block.T @ target


def _primal_cells(phi, y, grid: _Grid, timer: StageTimer):
    """Cells with N ≤ P from one running Gram ΦᵀΦ over the first P rows, grown in P."""
    cols = max((n for n in grid.n_features if n <= grid.n_samples[-1]), default=0)
    if cols == 0:
        return
    running = _RunningGram(lambda a, b: (phi[a:b, :cols], y[a:b]), cols)
    for j, p in enumerate(grid.n_samples):
        t = time.perf_counter()
        gram, rhs = running.at(p)
        t = timer.add("gram", t)
        sizes = [n for n in grid.n_features if n <= p]
        solved = solve_prefixes(gram, rhs, grid.ridges, sizes, square_size=p)
        for i, (n, (theta, ok)) in enumerate(zip(sizes, solved, strict=True)):
            if not ok.all():
                theta[:, ~ok] = _stable_solutions(phi[:p, :n], y[:p], grid.ridges[~ok])
            t = timer.add("solve", t)
            yield j, i, theta
            t = time.perf_counter()


def _dual_cells(phi, y, grid: _Grid, timer: StageTimer):
    """Cells with P < N from one running Gram ΦΦᵀ over the first N columns, grown in N."""
    rows = max((p for p in grid.n_samples if p < grid.n_features[-1]), default=0)
    if rows == 0:
        return
    running = _RunningGram(lambda a, b: (phi[:rows, a:b].T, None), rows)
    for i, n in enumerate(grid.n_features):
        t = time.perf_counter()
        gram, _ = running.at(n)
        t = timer.add("gram", t)
        sizes = [p for p in grid.n_samples if p < n]
        solved = solve_prefixes(gram, y, grid.ridges, sizes) if sizes else []
        for j, (p, (alpha, ok)) in enumerate(zip(sizes, solved, strict=True)):
            theta = phi[:p, :n].T @ np.nan_to_num(alpha)
            if not ok.all():
                theta[:, ~ok] = _stable_solutions(phi[:p, :n], y[:p], grid.ridges[~ok])
            t = timer.add("solve", t)
            yield j, i, theta
            t = time.perf_counter()


def _loss_evaluator(spec, grid, seq, u, w, loss, n_test, timer):
    """A function θ (N × R) → (test_mse, excess), each of shape (R,)."""
    t = time.perf_counter()
    eig, noise = spec.spectrum.eigenvalues, spec.noise_var
    if loss == "monte_carlo":
        x_test = sample_latent(spec.spectrum, n_test, child_sequence(seq, STREAM_TEST))
        clean = teacher_output(x_test, w)
        y_test = sample_labels(x_test, w, noise, child_sequence(seq, STREAM_TEST_NOISE))
        phi_test = random_features(x_test, u, spec.activation)
        del x_test
        timer.add("loss", t)

        def evaluate(theta, n):
            t0 = time.perf_counter()
            pred = phi_test[:, :n] @ theta
            sq_noisy = (pred - y_test[:, None]) ** 2
            sq_clean = (pred - clean[:, None]) ** 2
            root_n = np.sqrt(n_test)
            out = (
                sq_noisy.mean(axis=0),
                sq_clean.mean(axis=0),
                sq_noisy.std(axis=0, ddof=1) / root_n,
                sq_clean.std(axis=0, ddof=1) / root_n,
            )
            timer.add("loss", t0)
            return out

        return evaluate
    if spec.is_linear and spec.teacher.is_linear:

        def evaluate(theta, n):
            t0 = time.perf_counter()
            excess = linear_excess(theta, u[:n], eig, w)
            timer.add("loss", t0)
            return excess + noise, excess

        return evaluate
    moments = feature_moments(u, eig, w, spec.activation)
    timer.add("moments", t)

    def evaluate(theta, n):
        t0 = time.perf_counter()
        excess = moment_excess(theta, moments, n)
        timer.add("loss", t0)
        return excess + noise, excess

    return evaluate


def simulate(
    spec: ModelSpec,
    *,
    n_features: Sequence[int] | int,
    n_samples: Sequence[int] | int,
    ridges: Sequence[float] | float = (0.0,),
    n_seeds: int = 1,
    seeds: Sequence[int] | None = None,
    rng: int | np.random.SeedSequence | np.random.Generator = 0,
    loss: str = "exact",
    n_test: int = 10_000,
    progress: Callable[[int, int], None] | None = None,
    timer: StageTimer | None = None,
) -> xr.Dataset:
    r"""Exact test loss of random-feature ridge regression on every (N, P, γ, seed) of a grid.

    .. math:: \mathrm{test\_mse} = E_{x,\varepsilon}[(\theta^{*\top}\phi(x) - y)^2]
              = \mathrm{excess} + \sigma_\varepsilon^2

    Parameters
    ----------
    spec : ModelSpec
        The model (spectrum, teacher, noise, activation, feature variance).
    n_features, n_samples : int or sequence of int
        Grids of N and P (sorted and de-duplicated).
    ridges : float or sequence of float, default (0,)
        Grid of γ ≥ 0 (sum-of-squares convention; 0 is the minimum-norm interpolator).
    n_seeds : int, default 1
        Number of independent draws, seeds ``0 .. n_seeds-1``.
    seeds : sequence of int, optional
        Explicit seed indices instead of ``n_seeds`` (seed *s* always gives the same numbers).
    rng : int, SeedSequence or Generator, default 0
        Root of all randomness.
    loss : {"exact", "monte_carlo"}
        Exact population loss (default), or an estimate on ``n_test`` fresh test points.
    progress : callable(done, total), optional
        Called after every finished cell.
    timer : StageTimer, optional
        Accumulates seconds per stage (draw, features, gram, solve, moments, loss).

    Returns
    -------
    xarray.Dataset
        ``test_mse`` and ``excess`` with dims (n_features, n_samples, ridge, seed); their
        mean over seeds ``*_mean`` and standard error ``*_sem`` (NaN with one seed) with dims
        (n_features, n_samples, ridge). With ``loss="monte_carlo"`` also ``test_mse_mc_se`` and
        ``excess_mc_se``: the standard error of each seed's test-set estimate. ``attrs`` hold the
        spec (JSON), loss method and root seed.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=200, alpha=1.0))
    >>> ds = simulate(spec, n_features=[20, 40], n_samples=100, ridges=[0.0, 1e-2], n_seeds=2)
    >>> ds.excess.dims
    ('n_features', 'n_samples', 'ridge', 'seed')
    """
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"'spec' must be a ModelSpec. Got {type(spec).__name__} instead.")
    grid = _Grid(
        check_int_list("n_features", _listify(n_features)),
        check_int_list("n_samples", _listify(n_samples)),
        np.array(check_float_list("ridges", _listify(ridges))),
    )
    loss = check_choice("loss", loss, LOSS_METHODS)
    n_test = check_positive_int("n_test", n_test)
    seed_list = (
        list(range(check_positive_int("n_seeds", n_seeds)))
        if seeds is None
        else list(check_int_list("seeds", _listify(seeds), minimum=0))
    )
    root = as_seed_sequence(rng)
    total = len(seed_list) * len(grid.n_features) * len(grid.n_samples)
    done = [0]

    def on_cell() -> None:
        done[0] += 1
        if progress is not None:
            progress(done[0], total)

    results = [
        simulate_seed(
            spec,
            grid,
            child_sequence(root, s),
            loss=loss,
            n_test=n_test,
            timer=timer,
            on_cell=on_cell,
        )
        for s in seed_list
    ]
    dims = ("n_features", "n_samples", "ridge", "seed")
    names = ("test_mse", "excess", "test_mse_mc_se", "excess_mc_se")
    ds = xr.Dataset(
        {
            name: (dims, np.stack([r[k] for r in results], axis=-1))
            for k, name in enumerate(names[: len(results[0])])
        },
        coords={
            "n_features": list(grid.n_features),
            "n_samples": list(grid.n_samples),
            "ridge": grid.ridges,
            "seed": seed_list,
        },
        attrs={
            "spec": json.dumps(spec.to_dict()),
            "loss": loss,
            "n_test": n_test if loss == "monte_carlo" else 0,
            "rng_entropy": str(root.entropy),
            "rng_spawn_key": json.dumps(list(root.spawn_key)),
        },
    )
    return summarize(ds)


def _listify(value):
    if isinstance(value, (int, float, np.integer, np.floating)):
        return [value]
    return value


def summarize(ds: xr.Dataset) -> xr.Dataset:
    """Add ``test_mse_mean/_sem`` and ``excess_mean/_sem`` over the ``seed`` dimension.

    The standard error is ``std(ddof=1) / sqrt(n_seeds)``; NaN for a single seed.
    """
    out = ds.copy()
    n = ds.sizes["seed"]
    for name in ("test_mse", "excess"):
        out[f"{name}_mean"] = ds[name].mean("seed")
        if n > 1:
            out[f"{name}_sem"] = ds[name].std("seed", ddof=1) / np.sqrt(n)
        else:
            out[f"{name}_sem"] = xr.full_like(out[f"{name}_mean"], np.nan)
    return out


def to_records(ds: xr.Dataset) -> list[dict]:
    """One plain-JSON record per (N, P, γ): means, standard errors, seed count; NaN/inf → None."""
    records = []
    for n in ds.n_features.values:
        for p in ds.n_samples.values:
            for g in ds.ridge.values:
                cell = ds.sel(n_features=n, n_samples=p, ridge=g)
                records.append(
                    {
                        "n_features": int(n),
                        "n_samples": int(p),
                        "ridge": float(g),
                        "test_mse": _finite(cell.test_mse_mean),
                        "test_mse_sem": _finite(cell.test_mse_sem),
                        "excess": _finite(cell.excess_mean),
                        "excess_sem": _finite(cell.excess_sem),
                        "n_seeds": int(ds.sizes["seed"]),
                    }
                )
    return records


def _finite(value) -> float | None:
    v = float(value)
    return v if np.isfinite(v) else None
