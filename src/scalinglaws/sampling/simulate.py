r"""Monte-Carlo simulation: exact test loss of random-feature ridge regression over grids.

One call computes every cell (N, P, γ, seed) of a grid (docs/model.md §2–4). For each seed it makes
**one nested draw** at the largest N and P — teacher w, feature weights U (N_max × M), inputs
X (P_max × M), label noise — and every smaller cell uses the leading rows/columns of it. The
features Φ = σ(XUᵀ) are formed once, in fixed-shape tiles, and the grid engine
(:mod:`scalinglaws.sampling.engine`) solves every cell from running Grams. The test loss is exact,
with no
test sample: :math:`(U^\top\theta - w)^\top\Lambda(U^\top\theta - w)` for linear features and
:math:`\theta^\top K\theta - 2\theta^\top b + E[f_*^2]` from the Gaussian kernels otherwise; a
Monte-Carlo test set is available as ``loss="monte_carlo"``.

=========  ================  ==========================================
symbol     name              meaning
=========  ================  ==========================================
N          ``n_features``    number of random features
P          ``n_samples``     number of training samples (paper: T)
γ          ``ridge``         ridge on the sum of squared errors
σ_ε²       ``noise_var``     label-noise variance (in ``test_mse``)
=========  ================  ==========================================

**Reproducibility.** Seed *s* of a grid with root ``rng`` uses the streams
``child_sequence(root, s, k)`` (k = teacher, features, inputs, noise, test inputs, test noise), and
every BLAS call whose result enters a cell has a shape that the grid does not choose
(:mod:`scalinglaws.sampling.tiles`). So for a given machine and BLAS thread count, the numbers of a
cell
(N, P, γ, seed) are the same to the last bit whatever other N, P and seeds the grid holds, and
whatever other ridges, as long as the solver route is the same (one ``eigh`` for 8 or more
positive ridges, one Cholesky per ridge below that; the two agree to ~1e-12). Across thread
counts and CPUs the BLAS sums in other orders; the numbers then agree to round-off, bounded in
the test suite (``tests/test_reproducibility.py``).
"""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Callable, Sequence
from functools import partial
from typing import TYPE_CHECKING

import numpy as np

from .._memory import check_memory
from .._names import LOSS_METHODS
from .._timer import StageTimer
from .._validation import check_choice, check_positive_int, warn_numerical
from ..model.spec import ModelSpec
from ..model.streams import Stream, as_seed_sequence, child_sequence
from ..results import GRID_DIMS, Grid, build_dataset, grid_records, summarize
from ._blas import parallel_workers
from ._parallel import ordered_map
from .features import draw_projection, tiled_moments
from .latent import (
    sample_labels,
    sample_latent,
    sample_teacher,
    teacher_output,
)
from .losses import column_panels, held_out, linear_exact, moment_exact
from .tiles import PaddedRows, padded, tile_size, tiled_products

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = [
    "simulate",
    "simulate_records",
    "simulate_seed",
    "simulation_peak_bytes",
    "infinite_expectation",
    "LOSS_METHODS",
    "StageTimer",
]

_BYTES = 8


def _monte_carlo_evaluator(spec: ModelSpec, u: PaddedRows, w, seq, n_test: int, timer):
    """Test-set estimates of test_mse and excess, with their standard errors."""
    t0 = time.perf_counter()
    x_test = PaddedRows.zeros(n_test, spec.latent_dim, u.t)
    sample_latent(spec.spectrum, n_test, child_sequence(seq, Stream.TEST), out=x_test.data)
    clean = teacher_output(x_test.values, w)
    y_test = sample_labels(x_test.values, w, spec.noise_var, child_sequence(seq, Stream.TEST_NOISE))
    act = None if spec.is_linear else spec.activation
    panels = column_panels(tiled_products(x_test, u, transform=act))
    del x_test
    timer.add("loss", t0)
    evaluate = held_out(panels, y_test[:, None], clean=clean[:, None])

    def renamed(theta: np.ndarray, n: int, p: int) -> dict[str, np.ndarray]:
        out = evaluate(theta, n, p)
        return {
            "test_mse": out["test_mse"],
            "excess": out["excess"],
            "test_mse_mc_se": out["test_mse_se"],
            "excess_mc_se": out["excess_se"],
        }

    return renamed


def _draw(spec: ModelSpec, seq, job) -> None:
    """U (``Stream.FEATURES``) or X (``Stream.INPUTS``) into its buffer: ``job`` is
    ``(stream, rows, out)``."""
    stream, rows, out = job
    if stream == Stream.FEATURES:
        draw_projection(spec, rows, child_sequence(seq, stream), out=out)
    else:
        sample_latent(spec.spectrum, rows, child_sequence(seq, stream), out=out)


def simulate_seed(
    spec: ModelSpec,
    grid: Grid,
    seq: np.random.SeedSequence,
    *,
    loss: str = "exact",
    n_test: int = 10_000,
    timer: StageTimer | None = None,
    on_cell: Callable[[], None] | None = None,
) -> dict[str, np.ndarray]:
    """One seed of the grid from the seed's own sequence ``seq``.

    Returns a dict with ``test_mse`` and ``excess``, each of shape
    (len(n_features), len(n_samples), n_ridges); with ``loss="monte_carlo"`` also the Monte-Carlo
    standard errors ``test_mse_mc_se`` and ``excess_mc_se``; and ``routes``, a Counter of the
    solver routes taken.
    """
    from .engine import run_engine  # LAPACK (scipy.linalg) loads when there is work to solve

    timer = timer or StageTimer()
    t0 = time.perf_counter()
    m = spec.latent_dim
    t = tile_size(m)
    n_max, p_max = grid.n_features[-1], grid.n_samples[-1]
    w = sample_teacher(spec, child_sequence(seq, Stream.TEACHER))
    u = PaddedRows.zeros(n_max, m, t)
    x = PaddedRows.zeros(p_max, m, t)
    # U and X come from their own streams into their own buffers, so they are drawn side by
    # side (numpy's generators release the GIL): the same numbers, in about half the time
    draws = ((Stream.FEATURES, n_max, u.data), (Stream.INPUTS, p_max, x.data))
    ordered_map(partial(_draw, spec, seq), draws, parallel_workers())
    y = np.zeros((x.data.shape[0], 1))
    y[:p_max, 0] = sample_labels(x.values, w, spec.noise_var, child_sequence(seq, Stream.NOISE))
    t0 = timer.add("draw", t0)
    features = tiled_products(x, u, transform=None if spec.is_linear else spec.activation)
    del x
    timer.add("features", t0)
    if loss == "monte_carlo":
        evaluate = _monte_carlo_evaluator(spec, u, w, seq, n_test, timer)
    elif spec.is_linear and spec.teacher.is_linear:
        evaluate = linear_exact(u, spec.spectrum.eigenvalues, w, spec.noise_var)
    else:
        t0 = time.perf_counter()
        moments = tiled_moments(u, spec.spectrum.eigenvalues, w, spec.activation)
        timer.add("moments", t0)
        evaluate = moment_exact(moments, spec.noise_var)
    result = run_engine(features, y, grid, evaluate, timer=timer, on_cell=on_cell)
    return {**result.values, "routes": result.routes}


def simulation_peak_bytes(
    spec: ModelSpec, grid: Grid, *, loss: str = "exact", n_test: int = 10_000
) -> int:
    """Estimated peak memory of one seed of :func:`simulate` (bytes; the big arrays only).

    Counts the padded draws X (P × M) and U (N × M), the feature tiles Φ (P × N), the running
    Gram and its partial copy, the Grams and factors of the solves in flight at once (one per
    worker, largest cells first: :func:`scalinglaws.sampling.engine.run_engine` solves each
    (cell, independent ridge) as its own task) plus one more cell's worth for an ``eigh``'s
    workspace, the Gaussian kernels of nonlinear features (two N × N), a random-feature teacher
    (K × M draws, K × K kernel) and the Monte-Carlo test set (n_test × M and n_test × N, twice).
    """
    m = spec.latent_dim
    t = tile_size(m)
    n_max, p_max = padded(grid.n_features[-1], t), padded(grid.n_samples[-1], t)
    primal = max((n for n in grid.n_features if n <= grid.n_samples[-1]), default=0)
    dual = max((p for p in grid.n_samples if p < grid.n_features[-1]), default=0)
    cap = padded(max(primal, dual), t)
    cell = max(min(n, p) for n in grid.n_features for p in grid.n_samples)
    draws = (p_max + n_max) * m
    solve = 2 * cap * cap + _in_flight(grid) + 2 * cell * cell
    extra = 0
    if not (spec.is_linear and spec.teacher.is_linear) or loss == "monte_carlo":
        extra += 3 * n_max * n_max if loss == "exact" else 0
    teacher = spec.teacher
    if not teacher.is_linear:
        extra += teacher.width * m + 2 * teacher.width * teacher.width + 256 * teacher.width
    if loss == "monte_carlo":
        extra += padded(n_test, t) * (m + 2 * n_max)
    return int(_BYTES * (draws + p_max * n_max + solve + extra))


def _in_flight(grid: Grid) -> int:
    """Entries held by the engine's first wave of solve tasks: a Gram and a factor each, of the
    largest cells of the largest level (the engine's order), one task per worker."""
    from .ridge import independent_ridges

    groups = len(independent_ridges(grid.ridge_array))
    levels = (
        [n for n in grid.n_features if n <= grid.n_samples[-1]],
        [p for p in grid.n_samples if p < grid.n_features[-1]],
    )
    workers = parallel_workers()
    waves = [[size for size in sorted(level, reverse=True) for _ in range(groups)][:workers]
             for level in levels]  # fmt: skip
    return max(sum(2 * size * size for size in wave) for wave in waves)


def infinite_expectation(spec: ModelSpec, n_features, n_samples, ridges) -> np.ndarray:
    r"""Cells whose expected test loss is infinite: the ridgeless interpolation pole.

    With γ = 0 the minimum-norm interpolator has :math:`E\|\theta\|^2 = \infty` when the number of
    samples equals the rank of the features: N = P for nonlinear features, P = min(N, M) for
    linear ones (at P = M ≤ N only when there is noise, or a target outside the span of x, to
    interpolate). The sample mean over seeds is then finite but estimates nothing.

    Returns a bool array of shape (len(n_features), len(n_samples), len(ridges)).
    """
    nf = np.asarray(n_features)[:, None, None]
    ns = np.asarray(n_samples)[None, :, None]
    zero = np.asarray(ridges)[None, None, :] == 0
    m = spec.latent_dim
    if not spec.is_linear:
        return zero & (nf == ns)
    residual = spec.noise_var > 0 or not spec.teacher.is_linear
    rank = np.minimum(nf, m)
    return zero & (ns == rank) & ((ns < m) | residual)


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
    max_memory: int | str | None = None,
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
    max_memory : int or str, optional
        Refuse (:class:`~scalinglaws._memory.MemoryLimitError`) before allocating when the
        estimated peak (:func:`simulation_peak_bytes`) exceeds this (bytes or e.g. ``"8GiB"``);
        default the memory available now.
    progress : callable(done, total), optional
        Called after every finished cell.
    timer : StageTimer, optional
        Accumulates seconds per stage (draw, features, gram, solve, moments, loss).

    Returns
    -------
    xarray.Dataset
        ``test_mse`` and ``excess`` with dims (n_features, n_samples, ridge, seed); their
        mean over seeds ``*_mean`` and standard error ``*_sem`` (NaN with one seed) with dims
        (n_features, n_samples, ridge); ``infinite_expectation`` (bool, same dims) marks the
        ridgeless poles, where the mean is reported but the expectation is infinite (a
        NumericalWarning says so). With ``loss="monte_carlo"`` also ``test_mse_mc_se`` and
        ``excess_mc_se``: the standard error of each seed's test-set estimate. ``attrs`` hold the
        spec (JSON), loss method, root seed and the solver routes taken (JSON counts).

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=200, alpha=1.0))
    >>> ds = simulate(spec, n_features=[20, 40], n_samples=100, ridges=[0.0, 1e-2], n_seeds=2)
    >>> ds.excess.dims
    ('n_features', 'n_samples', 'ridge', 'seed')
    """
    grid, results, root = _run_seeds(
        spec, n_features, n_samples, ridges, n_seeds, seeds, rng, loss, n_test, max_memory,
        progress, timer,
    )  # fmt: skip
    pole = _poles(spec, grid)
    ds = _dataset(spec, grid, results, root, loss, n_test, pole)
    return summarize(ds)


def simulate_records(
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
    max_memory: int | str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[dict]:
    """:func:`simulate`'s summary per (N, P, γ) cell as plain records, without the Dataset.

    The same records as ``to_records(simulate(...))`` (:func:`scalinglaws.results.to_records`),
    bit for bit: the mean over seeds and its standard error ``std(ddof=1)/sqrt(n_seeds)``,
    NaN-skipping as xarray's reductions are, each NaN or infinity as ``None``. It never loads
    xarray (and what xarray loads with it: pandas, dask), which is most of a short command's
    start-up: the command line's ``simulate`` prints these. Arguments as :func:`simulate`.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=200, alpha=1.0))
    >>> rows = simulate_records(spec, n_features=[20, 40], n_samples=100, n_seeds=2)
    >>> sorted(rows[0])[:4]
    ['excess', 'excess_sem', 'infinite_expectation', 'n_features']
    """
    grid, results, _ = _run_seeds(
        spec, n_features, n_samples, ridges, n_seeds, seeds, rng, loss, n_test, max_memory,
        progress, None,
    )  # fmt: skip
    pole = _poles(spec, grid)
    n = len(grid.seeds)
    summary = {}
    with warnings.catch_warnings(), np.errstate(invalid="ignore", divide="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN cells: NaN, as in xarray
        for name in ("test_mse", "excess"):
            stacked = np.stack([r[name] for r in results], axis=-1)
            summary[name] = np.nanmean(stacked, axis=-1)
            sem = np.nanstd(stacked, axis=-1, ddof=1) / np.sqrt(n) if n > 1 else None
            summary[f"{name}_sem"] = sem
    axes = (grid.n_features, grid.n_samples, grid.ridge_array)
    return grid_records(axes, summary, pole=pole, n_seeds=n)


def _run_seeds(
    spec, n_features, n_samples, ridges, n_seeds, seeds, rng, loss, n_test, max_memory,
    progress, timer,
):  # fmt: skip
    """Check the arguments and the memory, then run every seed: ``(grid, results, root)``."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"'spec' must be a ModelSpec. Got {type(spec).__name__} instead.")
    grid = Grid(
        n_features=n_features, n_samples=n_samples, ridges=ridges, n_seeds=n_seeds, seeds=seeds
    )
    loss = check_choice("loss", loss, LOSS_METHODS)
    n_test = check_positive_int("n_test", n_test)
    seed_list = list(grid.seeds)
    parameters = "'n_features' or 'n_samples'"
    if loss == "monte_carlo":
        parameters += " or 'n_test'"
    if not spec.teacher.is_linear:
        parameters += " or the teacher's 'width'"
    check_memory(
        simulation_peak_bytes(spec, grid, loss=loss, n_test=n_test),
        what="simulate",
        parameter=parameters,
        max_memory=max_memory,
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
            spec, grid, child_sequence(root, s), loss=loss, n_test=n_test, timer=timer,
            on_cell=on_cell,
        )  # fmt: skip
        for s in seed_list
    ]
    return grid, results, root


def _poles(spec: ModelSpec, grid: Grid) -> np.ndarray:
    """:func:`infinite_expectation` on the grid, with one NumericalWarning where it holds
    (stack level: the caller of :func:`simulate` or :func:`simulate_records`)."""
    pole = infinite_expectation(spec, grid.n_features, grid.n_samples, grid.ridges)
    if pole.any():
        cells = ", ".join(
            f"(N={grid.n_features[i]}, P={grid.n_samples[j]})"
            for i, j in sorted({(i, j) for i, j, _ in zip(*np.nonzero(pole), strict=True)})[:4]
        )
        warn_numerical(
            f"simulate: ridge 0 at {int(pole.sum())} cell(s) on the interpolation pole {cells}"
            f"{' ...' if pole.sum() > 4 else ''}: the expected test loss is infinite there, so "
            "the mean over seeds is finite but estimates nothing (flagged in "
            "'infinite_expectation'). Use a ridge > 0, or move n_features and n_samples apart.",
            stacklevel=4,
        )
    return pole


def _dataset(spec, grid, results, root, loss, n_test, pole) -> xr.Dataset:
    names = ("test_mse", "excess", "test_mse_mc_se", "excess_mc_se")
    routes: dict[str, int] = {}
    for r in results:
        for name, count in r["routes"].items():
            routes[name] = routes.get(name, 0) + count
    stacked = {n: np.stack([r[n] for r in results], axis=-1) for n in names if n in results[0]}
    ds = build_dataset(
        stacked,
        grid=grid,
        source="simulation",
        spec=spec,
        seeded=True,
        rng=root,
        attrs={
            "loss": loss,
            "n_test": n_test if loss == "monte_carlo" else 0,
            "routes": json.dumps(dict(sorted(routes.items()))),
        },
    )
    ds["infinite_expectation"] = (GRID_DIMS, pole)
    return ds
