r"""Random-feature ridge regression on real data, and the theory from the measured data (§5–§7).

The bridge from :mod:`scalinglaws.datasets` to the model: a real dataset is split by seed into a
training pool and a held-out test set, features :math:`\sigma(Ux)` are trained by ridge regression
on the first P pool samples, and the test MSE is measured on the held-out set (exact expectations,
docs/model.md §4, do not exist for real data). Side by side, the theory is evaluated from the pool
alone (its inputs and labels; never the test set), like :mod:`scalinglaws.bridges.equivalence` an
edge that
hands measured arrays to :mod:`scalinglaws.theory`.

=========  ====================  ===============================================================
symbol     name                  meaning
=========  ====================  ===============================================================
N          ``n_features``        number of random features
P          ``n_samples``         training samples: the first P of the seed's permutation
D          ``n_dims``            input dimension (u ~ N(0, σ_u²/D))
C          ``n_outputs``         target columns (classes for one-hot; 1 for a regression target)
γ          ``ridge``             ridge on the sum of squared errors (per output column)
σ_u²       ``feature_var``       feature-weight variance times D
Λ          (pool covariance)     eigenvalues of the standardized pool's covariance
N_ref      ``n_reference``       reference draw of features for the nonlinear theory
=========  ====================  ===============================================================

Conventions (each one a choice, stated here once):

* **Split.** Seed *s* draws a permutation of all samples; its last ``n_test`` entries are the test
  set, the others the pool, and the first P pool entries the training set. The split does not
  depend on the grid, so a cell's numbers do not either (nested draws).
* **Standardization.** Inputs are centered with the pool mean and divided by the pool's RMS
  centered norm over √D (:func:`scalinglaws.analysis.spectra.standardize` with pool statistics), so
  :math:`u\cdot x` has variance σ_u² on average over the pool.
* **Targets.** ``"onehot"`` class labels (C = number of classes) or ``"center"``, the central
  pixel (the middle column for non-square inputs), removed from the inputs: a regression target.
  Targets are centered with the pool mean, i.e. the intercept is fixed at the pool mean, not
  learned, for linear and nonlinear features alike.
* **Loss.** ``test_mse`` is the **sum** over the C outputs of the per-output MSE,
  :math:`E\|f(x) - y\|^2` (one ridge per output with the same γ); for one-hot targets this is C
  times the mean per class. ``test_mse_se`` is its standard error over the held-out points;
  ``test_mse_sem`` the standard error over seeds (which also varies the split).

Theory (:mod:`scalinglaws.bridges.pool_theory`): by default (``pool="sample"``) the pool is an
i.i.d. sample of the population the held-out rows come from; for the measurement's own feature
draw, the deterministic equivalent at the pool's size and at P links the pool's spectrum and its
leave-one-out risk to the held-out loss at any P up to the pool size
(:mod:`scalinglaws.theory.finite_pool`). With ``pool="population"`` the pool is the population:
linear features use ``docs/model.md`` §5 with Λ and the teacher variances of the best linear
predictor in the pool's PCA basis (its unexplained variance as label noise), nonlinear features
the two-level Gaussian-equivalence theory (§6) with the kernel spectrum of a reference draw of
N_ref features measured on the pool
(:func:`~scalinglaws.bridges.pool_theory.pool_kernel_spectrum`); right for P well below the pool
size.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

import numpy as np

from .._loglog import loglog_fit
from .._memory import check_memory
from .._timer import StageTimer
from .._validation import (
    InputError,
    check_positive_float,
)
from ..model.activations import Activation, get_activation
from ..model.streams import (
    Stream,
    as_seed_sequence,
    child_sequence,
)
from ..results import Grid, build_dataset, summarize
from ..sampling.engine import run_engine
from ..sampling.features import random_projection
from ..sampling.losses import column_panels, held_out
from ..sampling.tiles import PaddedRows, tile_size, tiled_products
from .pool_theory import linear_theory_spec, pool_kernel_spectrum, realdata_theory
from .tasks import TARGETS, RegressionTask, Split, default_n_test, make_task, split_task

if TYPE_CHECKING:  # xarray loads where a Dataset is built (it costs 0.4 s at start-up)
    import xarray as xr

__all__ = [
    "TARGETS",
    "RegressionTask",
    "Split",
    "make_task",
    "split_task",
    "simulate_realdata",
    "pool_kernel_spectrum",
    "linear_theory_spec",
    "realdata_theory",
    "loss_exponent",
]



def _seed_cells(task: RegressionTask, split: Split, grid: Grid, act, feature_var, seq, timer):
    """Held-out and training MSE of one seed on every cell, through the grid engine.

    The pool's first P_max rows and the test set are featurized once in fixed-shape tiles
    (:mod:`scalinglaws.sampling.tiles`); the engine solves every cell from running Grams with one
    factorization per cell and ridge, for all C target columns at once.
    """
    n_max, p_max = grid.n_features[-1], grid.n_samples[-1]
    d = task.inputs.shape[1]
    t = tile_size(d)
    transform = None if act.name == "linear" else act
    u = PaddedRows.zeros(n_max, d, t)
    random_projection(child_sequence(seq, Stream.FEATURES), n_max, d, feature_var, out=u.data)
    x = PaddedRows.zeros(p_max, d, t)
    x.data[:p_max] = split.pool_inputs[:p_max]
    phi = tiled_products(x, u, transform=transform)
    y = np.zeros((x.data.shape[0], split.pool_targets.shape[1]))
    y[:p_max] = split.pool_targets[:p_max]
    test = PaddedRows.zeros(split.test_inputs.shape[0], d, t)
    test.data[: test.rows] = split.test_inputs
    panels = column_panels(tiled_products(test, u, transform=transform))
    evaluate = held_out(panels, split.test_targets, train=(phi, y))
    return run_engine(phi, y, grid, evaluate, timer=timer)


def simulate_realdata(
    task: RegressionTask,
    *,
    n_features,
    n_samples,
    ridges=(1e-3,),
    n_seeds: int = 4,
    activation: str | Activation = "relu",
    feature_var: float = 1.0,
    n_test: int | None = None,
    rng=0,
    max_memory: int | str | None = None,
    timer: StageTimer | None = None,
) -> xr.Dataset:
    r"""Measured held-out test MSE of random-feature ridge regression on a grid N × P × γ × seed.

    For each seed: one split (:func:`split_task`), one U at N_max (first-N rows for smaller N),
    and the grid engine of the latent model (:mod:`scalinglaws.sampling.engine`) on the pool's
    features:
    running Grams, one factorization per cell and ridge for all target columns, min-norm
    fallbacks at γ = 0, and the held-out evaluator of :mod:`scalinglaws.sampling.losses`.

    .. math:: \widehat{\text{test\_mse}} = \frac1{n_\mathrm{test}}\sum_{\mu \in \mathrm{test}}
              \|\theta^{*\top}\phi(x_\mu) - y_\mu\|^2

    Returns
    -------
    xarray.Dataset
        ``test_mse``, ``test_mse_se`` (held-out standard error) and ``train_mse``, dims
        (n_features, n_samples, ridge, seed), with ``test_mse_mean``/``_sem`` and
        ``train_mse_mean``/``_sem`` over seeds; ``attrs["routes"]`` counts the solver routes.

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.datasets import Dataset
    >>> from scalinglaws.bridges.tasks import make_task
    >>> rng = np.random.default_rng(0)
    >>> toy = Dataset(name='toy', inputs=rng.normal(size=(300, 8)), targets=rng.integers(0, 3, 300),
    ...             description='random', source='numpy', kind='image')
    >>> ds = simulate_realdata(make_task(toy), n_features=[16, 32], n_samples=[64], n_seeds=2,
    ...                        n_test=100)
    >>> ds.test_mse.dims
    ('n_features', 'n_samples', 'ridge', 'seed')
    """

    grid = Grid(n_features=n_features, n_samples=n_samples, ridges=ridges, n_seeds=n_seeds)
    nf, ns = grid.n_features, grid.n_samples
    seeds = list(grid.seeds)
    feature_var = check_positive_float("feature_var", feature_var)
    act = get_activation(activation)
    n_total, n_dims = task.inputs.shape
    n_held = default_n_test(n_total) if n_test is None else n_test
    width = task.targets.shape[1]
    floats = (
        n_total * n_dims  # the standardized pool and test inputs
        + (ns[-1] + 2 * n_held) * nf[-1]  # training features, test features and their panels
        + 2 * min(nf[-1], ns[-1]) ** 2  # the running Gram and one cell's factor
        + (n_held + ns[-1]) * width
        + nf[-1] * n_dims
    )
    check_memory(
        8.0 * floats, what="simulate_realdata", parameter="'n_features' or 'n_samples'",
        max_memory=max_memory,
    )  # fmt: skip
    root = as_seed_sequence(rng)
    shape = (*grid.shape, len(seeds))
    values = {k: np.empty(shape) for k in ("test_mse", "test_mse_se", "train_mse")}
    routes: dict[str, int] = {}
    for k, s in enumerate(seeds):
        seq = child_sequence(root, s)
        split = split_task(task, n_test, seq)
        if ns[-1] > split.pool_inputs.shape[0]:
            raise InputError(
                f"'n_samples' must be at most the pool size {split.pool_inputs.shape[0]} of "
                f"'{task.name}'. Got {ns[-1]} instead."
            )
        result = _seed_cells(task, split, grid, act, feature_var, seq, timer)
        for name in values:
            values[name][..., k] = result.values[name]
        for route, count in result.routes.items():
            routes[route] = routes.get(route, 0) + count
    ds = build_dataset(
        values,
        grid=grid,
        source="random-feature regression on real data",
        seeded=True,
        rng=root,
        attrs={
            "task": task.name,
            "activation": act.name,
            "feature_var": feature_var,
            "n_test": int(split.test_inputs.shape[0]),
            "n_pool": int(split.pool_inputs.shape[0]),
            "routes": json.dumps(dict(sorted(routes.items()))),
        },
    )
    return summarize(ds, names=("test_mse", "train_mse"))


def loss_exponent(loss: xr.DataArray, dim: str) -> tuple[float, float]:
    r"""Log–log slope of a 1-D loss curve along ``dim`` and its standard error (OLS).

    .. math:: \log L = a + b \log x, \qquad \text{returns } (b, \mathrm{se}(b))

    Needs at least 3 points for a standard error (NaN otherwise).

    Examples
    --------
    >>> import numpy as np, xarray as xr
    >>> n = np.array([10.0, 100.0, 1000.0])
    >>> curve = xr.DataArray(3.0 * n ** -0.5, coords={'n_features': n})
    >>> slope, se = loss_exponent(curve, 'n_features')
    >>> round(slope, 6), round(se, 6)
    (-0.5, 0.0)
    """
    x = np.log(np.asarray(loss[dim].values, dtype=float))
    y = np.log(np.asarray(loss.values, dtype=float))
    fit = loglog_fit(x, y)
    return fit.slope, fit.stderr
