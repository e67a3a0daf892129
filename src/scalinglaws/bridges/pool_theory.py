r"""The theory of random-feature regression on real data, from the measured pool alone.

The pool of a seed's split (:func:`scalinglaws.bridges.tasks.split_task`) is the theory's
population: linear features use the deterministic equivalent of ``docs/model.md`` §5 with the
pool's covariance spectrum and the teacher variances of the best linear predictor in its PCA basis
(:func:`linear_theory_spec`); nonlinear features use the two-level Gaussian-equivalence theory with
the kernel spectrum of a reference draw of N_ref features measured on the pool
(:func:`pool_kernel_spectrum`). :func:`realdata_theory` evaluates either on a grid, averaged over
splits. The measurement it is compared with is
:func:`scalinglaws.bridges.realdata.simulate_realdata`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as sla

from .._validation import check_positive_int, rewarn
from ..model.activations import Activation, get_activation
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from ..model.streams import Stream, as_seed_sequence, child_sequence
from ..results import GRID_DIMS, Grid, build_dataset
from ..sampling.features import random_projection
from ..theory import _cost, theory_loss
from ..theory.nonlinear import KernelSpectrum, kernel_spectrum, two_level_loss
from .tasks import RegressionTask, Split, split_task

if TYPE_CHECKING:  # xarray loads where a Dataset is built (it costs 0.4 s at start-up)
    import xarray as xr

__all__ = ["MEASURED_RANK_RTOL", "linear_theory_spec", "pool_kernel_spectrum", "realdata_theory"]

#: Eigenvalues below this fraction of the largest are dropped from *measured* spectra (null
#: space). Looser than :data:`scalinglaws.theory.nonlinear.RANK_RTOL` (1e-12, for kernels from
#: closed forms, accurate to ~1e-15) because sums over thousands of float64 data rows carry
#: round-off of ~n·eps ≈ 1e-13–1e-12 of the largest eigenvalue, which must not count as signal.
MEASURED_RANK_RTOL = 1e-10


def pool_features(x: np.ndarray, u: np.ndarray, act: Activation) -> np.ndarray:
    """Features σ(x·uᵀ) of rows x (no activation applied for linear features)."""
    pre = x @ u.T
    return pre if act.name == "linear" else act(pre)


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
            f = pool_features(x[start : start + 4096], u, act) / np.sqrt(n)
            kernel += f.T @ f
            cross += f.T @ ys[start : start + 4096]
        return kernel_spectrum(kernel, cross, target_var)
    f = pool_features(x, u, act) / np.sqrt(n)
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
    rewarn(caught, f"over {n_seeds} split(s)")
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
