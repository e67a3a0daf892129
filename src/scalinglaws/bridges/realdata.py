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

Theory: linear features use ``docs/model.md`` §5 with Λ and the teacher variances of the best linear
predictor in the pool's PCA basis (its unexplained variance as label noise); nonlinear features use
the two-level Gaussian-equivalence theory (§6) with the kernel spectrum of a reference draw of
N_ref features measured on the pool (:func:`pool_kernel_spectrum`). The pool is the theory's
population, so its predictions are meaningful for P well below the pool size.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import scipy.linalg as sla
import xarray as xr

from .._loglog import loglog_fit
from .._memory import check_memory
from .._timer import StageTimer
from .._validation import (
    InputError,
    check_positive_float,
    check_positive_int,
)
from ..model.activations import Activation, get_activation
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from ..model.streams import (
    Stream,
    as_seed_sequence,
    child_sequence,
)
from ..results import GRID_DIMS, Grid, build_dataset, summarize
from ..sampling.engine import run_engine
from ..sampling.features import random_projection
from ..sampling.losses import column_panels, held_out
from ..sampling.tiles import PaddedRows, tile_size, tiled_products
from ..theory import _cost, theory_loss
from ..theory.nonlinear import KernelSpectrum, kernel_spectrum, two_level_loss
from .tasks import TARGETS, RegressionTask, Split, default_n_test, make_task, split_task

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

#: Eigenvalues below this fraction of the largest are dropped from *measured* spectra (null
#: space). Looser than :data:`scalinglaws.theory.nonlinear.RANK_RTOL` (1e-12, for kernels from
#: closed forms, accurate to ~1e-15) because sums over thousands of float64 data rows carry
#: round-off of ~n·eps ≈ 1e-13–1e-12 of the largest eigenvalue, which must not count as signal.
MEASURED_RANK_RTOL = 1e-10


def _features(x: np.ndarray, u: np.ndarray, act: Activation) -> np.ndarray:
    pre = x @ u.T
    return pre if act.name == "linear" else act(pre)


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


# -- theory from the measured pool -----------------------------------------------------------------
def linear_theory_spec(split: Split, feature_var: float = 1.0) -> ModelSpec:
    r"""§5 model of linear random features on the pool: Λ, teacher variances and noise.

    With the pool covariance :math:`\hat\Sigma = X^\top X/n = Q\Lambda Q^\top` (rank r kept) and
    the best linear predictor :math:`w_c = \hat\Sigma^+ X^\top y_c/n` per output c,

    .. math:: \bar w_i^2 = \sum_c (q_i^\top w_c)^2, \qquad
              \sigma_\varepsilon^2 = \overline{\|y\|^2} - \sum_i \lambda_i \bar w_i^2

    and ``feature_var`` = σ_u² r/D, so that the projection entries keep variance σ_u²/D.

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.datasets import Dataset
    >>> from scalinglaws.bridges.tasks import make_task, split_task
    >>> rng = np.random.default_rng(0)
    >>> toy = Dataset(name='toy', inputs=rng.normal(size=(300, 8)), targets=rng.integers(0, 3, 300),
    ...             description='random', source='numpy', kind='image')
    >>> spec = linear_theory_spec(split_task(make_task(toy), 100, np.random.SeedSequence(0)))
    >>> spec.spectrum.latent_dim
    8
    """
    x, y = split.pool_inputs, split.pool_targets
    n, dims = x.shape
    evals, evecs = sla.eigh(x.T @ x / n, check_finite=False)
    keep = evals > MEASURED_RANK_RTOL * evals[-1]
    lam, q = evals[keep][::-1], evecs[:, keep][:, ::-1]
    coef = (q.T @ (x.T @ y / n)) / lam[:, None]
    variances = np.sum(coef**2, axis=1)
    total = float(np.sum(y * y) / n)
    return ModelSpec(
        spectrum=Spectrum.from_eigenvalues(lam),
        teacher=Teacher.from_variances(variances),
        noise_var=max(total - float(np.sum(lam * variances)), 0.0),
        feature_var=feature_var * lam.size / dims,
    )


def pool_kernel_spectrum(
    split: Split,
    n_reference: int,
    *,
    activation="relu",
    feature_var=1.0,
    rng=0,
    max_memory=None,
    allow_slow: bool = False,
) -> KernelSpectrum:
    r"""Kernel spectrum of N_ref random features measured on the pool (the pool as population).

    With :math:`F = \sigma(X U_\mathrm{ref}^\top)/\sqrt n` of shape (n_pool, N_ref):
    :math:`K = F^\top F`, :math:`b_c = F^\top y_c/\sqrt n`, :math:`E[f_*^2] = \|y\|^2/n`, summed
    over outputs (``target`` of shape (N_ref, C) in
    :func:`~scalinglaws.theory.nonlinear.kernel_spectrum`).
    When n_pool < N_ref the same spectrum comes from the n_pool × n_pool Gram :math:`FF^\top =
    A S A^\top`: eigenvalues :math:`s_i` and :math:`t_i^2 = s_i \|A_i^\top y\|^2/n`.
    The peak memory and the eigendecomposition's time are checked first (``max_memory``,
    ``allow_slow``).

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.datasets import Dataset
    >>> from scalinglaws.bridges.tasks import make_task, split_task
    >>> rng = np.random.default_rng(0)
    >>> toy = Dataset(name='toy', inputs=rng.normal(size=(300, 8)), targets=rng.integers(0, 3, 300),
    ...             description='random', source='numpy', kind='image')
    >>> split = split_task(make_task(toy), 100, np.random.SeedSequence(0))
    >>> ks = pool_kernel_spectrum(split, 64, activation='relu')
    >>> type(ks).__name__
    'KernelSpectrum'
    """
    x, y = split.pool_inputs, split.pool_targets
    n = x.shape[0]
    n_reference = check_positive_int("n_reference", n_reference)
    _cost.check_pool_reference(
        activation, n, x.shape[1], n_reference, y.shape[1], max_memory=max_memory,
        allow_slow=allow_slow,
    )  # fmt: skip
    u = random_projection(
        child_sequence(as_seed_sequence(rng), Stream.POOL_REFERENCE),
        n_reference,
        x.shape[1],
        feature_var,
    )
    act = get_activation(activation)
    ys = y / np.sqrt(n)
    target_var = float(np.sum(ys * ys))
    if n >= n_reference:  # K and b accumulated over row chunks: memory O(N_ref²), not O(n N_ref)
        kernel, cross = np.zeros((n_reference, n_reference)), np.zeros((n_reference, y.shape[1]))
        for start in range(0, n, 4096):
            f = _features(x[start : start + 4096], u, act) / np.sqrt(n)
            kernel += f.T @ f
            cross += f.T @ ys[start : start + 4096]
        return kernel_spectrum(kernel, cross, target_var)
    f = _features(x, u, act) / np.sqrt(n)
    evals, evecs = sla.eigh(f @ f.T, check_finite=False, driver="evd")
    keep = evals > MEASURED_RANK_RTOL * evals[-1]
    s, a = evals[keep][::-1], evecs[:, keep][:, ::-1]
    explained = np.sum((a.T @ ys) ** 2, axis=1)  # p_i = t_i²/s_i
    return KernelSpectrum(s, s * explained, target_var, int(n_reference), explained)


def realdata_theory(
    task: RegressionTask,
    *,
    n_features,
    n_samples,
    ridges=(1e-3,),
    n_seeds: int = 1,
    activation: str | Activation = "relu",
    feature_var: float = 1.0,
    n_test: int | None = None,
    n_reference: int | None = None,
    rng=0,
    max_memory=None,
    allow_slow: bool = False,
) -> xr.Dataset:
    r"""Theory's test MSE from the measured pool of each seed, averaged over ``n_seeds`` splits.

    Linear features: :func:`~scalinglaws.theory.theory_loss` of :func:`linear_theory_spec`.
    Nonlinear: :func:`~scalinglaws.theory.nonlinear.two_level_loss` of
    :func:`pool_kernel_spectrum` with N_ref = ``n_reference`` (default max(4 N_max, 2000); at
    least N_max, since a smaller draw truncates the kernel's spectrum). The reference kernel is
    checked against ``max_memory`` and, unless ``allow_slow``, ten minutes before it is built;
    numerical warnings of the seeds come once each, with a count. Same splits as
    :func:`simulate_realdata` with the same ``rng``; the test set is not used.
    Returns ``test_mse`` and ``noise_var`` (the unexplained part) of dims (n_features,
    n_samples, ridge), and ``test_mse_seeds`` with a ``seed`` dimension.

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.datasets import Dataset
    >>> from scalinglaws.bridges.tasks import make_task
    >>> rng = np.random.default_rng(0)
    >>> toy = Dataset(name='toy', inputs=rng.normal(size=(300, 8)), targets=rng.integers(0, 3, 300),
    ...             description='random', source='numpy', kind='image')
    >>> th = realdata_theory(make_task(toy), n_features=[16, 32], n_samples=[64],
    ...                      activation='linear', n_test=100)
    >>> th.test_mse.dims, bool((th.test_mse > 0).all())
    (('n_features', 'n_samples', 'ridge'), True)
    """
    axes = Grid(n_features=n_features, n_samples=n_samples, ridges=ridges, n_seeds=n_seeds)
    nf = np.array(axes.n_features, dtype=float)
    ns = np.array(axes.n_samples, dtype=float)
    rg = axes.ridge_array
    act = get_activation(activation)
    n_max = int(nf[-1])
    if n_reference is None:
        n_ref = max(4 * n_max, 2000)
    else:
        n_ref = _cost.check_reference("n_reference", n_reference, n_max)
    root = as_seed_sequence(rng)
    values, noise = [], []
    grid = (nf[:, None, None], ns[None, :, None], rg[None, None, :])
    n_seeds = len(axes.seeds)
    with warnings.catch_warnings(record=True) as caught:  # re-issued once each, with a count
        warnings.simplefilter("always")
        for s in range(n_seeds):
            seq = child_sequence(root, s)
            split = split_task(task, n_test, seq)
            if act.name == "linear":
                spec = linear_theory_spec(split, feature_var)
                values.append(theory_loss(spec, *grid).test_mse)
                noise.append(spec.noise_var)
            else:
                ref = pool_kernel_spectrum(
                    split,
                    n_ref,
                    activation=act,
                    feature_var=feature_var,
                    rng=seq,
                    max_memory=max_memory,
                    allow_slow=allow_slow,
                )
                values.append(two_level_loss(ref, *grid).test_mse)
                noise.append(ref.residual_var)
    _cost.rewarn(caught, f"over {n_seeds} split(s)")
    stack = np.stack(values, axis=-1)
    linear = act.name == "linear"
    source = "deterministic equivalent" if linear else "two-level Gaussian equivalence"
    ds = build_dataset(
        {"test_mse": (GRID_DIMS, stack.mean(axis=-1)), "test_mse_seeds": stack},
        grid=Grid(n_features=nf.astype(int), n_samples=ns.astype(int), ridges=rg, n_seeds=n_seeds),
        source=f"{source} on the training pool",
        seeded=True,
        rng=root,
        attrs={
            "task": task.name,
            "activation": act.name,
            "n_reference": n_ref if act.name != "linear" else 0,
        },
    )
    ds["noise_var"] = ("seed", np.array(noise))
    return ds


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
