r"""The theory of random-feature regression on real data, from the measured pool alone.

Two models of the pool of a seed's split (:func:`scalinglaws.bridges.tasks.split_task`):

- ``"sample"`` (default): the pool is an i.i.d. sample of the population the held-out rows come
  from, as in the measurement. The pool's second-moment spectrum of the measurement's own
  feature draw (:func:`pool_spectra`) and the pool ridge's leave-one-out risk go into
  :func:`scalinglaws.theory.finite_pool.held_out_loss`, which applies the deterministic
  equivalent at the pool's size and at P;
- ``"population"``: the pool is the population. Linear features use the deterministic equivalent
  of ``docs/model.md`` §5 with the pool's covariance spectrum and the teacher variances of the
  best linear predictor in its PCA basis (:func:`linear_theory_spec`); nonlinear features the
  two-level Gaussian-equivalence theory with the kernel spectrum of a reference draw of N_ref
  features measured on the pool (:func:`pool_kernel_spectrum`).

:func:`realdata_theory` evaluates either on a grid, averaged over splits. The measurement it is
compared with is :func:`scalinglaws.bridges.realdata.simulate_realdata`.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import scipy.linalg as sla

from .._names import POOL_MODELS
from .._threads import threads_for_eigh
from .._validation import InputError, check_choice, check_positive_int, rewarn
from ..model.activations import Activation, get_activation
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from ..model.streams import Stream, as_seed_sequence, child_sequence
from ..results import GRID_DIMS, Grid, build_dataset
from ..sampling.features import random_projection
from ..theory import _cost, theory_loss
from ..theory.finite_pool import held_out_loss
from ..theory.nonlinear import KernelSpectrum, kernel_spectrum, two_level_loss
from .tasks import RegressionTask, Split, default_n_test, split_task

if TYPE_CHECKING:  # xarray loads where a Dataset is built (it costs 0.4 s at start-up)
    import xarray as xr

__all__ = [
    "MEASURED_RANK_RTOL",
    "POOL_MODELS",
    "linear_theory_spec",
    "pool_kernel_spectrum",
    "pool_spectra",
    "realdata_theory",
]

#: Pool rows per chunk when features are recomputed from the inputs.
_ROWS = 4096

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


@dataclass(frozen=True)
class _PoolDirections:
    """One feature set's pool spectrum with what leave-one-out needs: the eigenvectors of the
    primal Gram FᵀF/n (``dual`` False; N×rank) or of the dual FFᵀ/n (True; n×rank), and the
    targets' coefficients on the left singular vectors, c = Aᵀ Y/√n (rank×C)."""

    spectrum: KernelSpectrum
    vectors: np.ndarray
    coef: np.ndarray
    dual: bool


def _measured(gram, factor, target_var: float, n_features: int, dual: bool) -> _PoolDirections:
    """Eigen-pairs of a measured Gram above :data:`MEASURED_RANK_RTOL` of the largest, and the
    target power along them: ``factor`` is FᵀY/n for the primal Gram FᵀF/n (then
    c_i = v_iᵀb/√s_i), or Y/√n for the dual Gram FFᵀ/n (then c_i = a_iᵀY/√n)."""
    with threads_for_eigh(gram.shape[0]):
        evals, evecs = sla.eigh(gram, check_finite=False, driver="evd")
    keep = evals > MEASURED_RANK_RTOL * evals[-1]
    s, v = evals[keep][::-1], evecs[:, keep][:, ::-1]
    coef = v.T @ factor
    if not dual:
        coef /= np.sqrt(s)[:, None]
    explained = np.sum(coef**2, axis=1)  # p_i = t_i²/s_i
    return _PoolDirections(
        KernelSpectrum(s, s * explained, target_var, n_features, explained), v, coef, dual
    )


def _pool_directions(split: Split, u: np.ndarray, act: Activation, n_features):
    """Yield each N's :class:`_PoolDirections` in turn (one N's eigenvectors alive at a time)."""
    x, y = split.pool_inputs, split.pool_targets
    n = x.shape[0]
    ys = y / np.sqrt(n)
    target_var = float(np.sum(ys * ys))
    small = [int(k) for k in n_features if k <= n]
    if small:
        top = small[-1]
        gram, cross = np.zeros((top, top)), np.zeros((top, y.shape[1]))
        for start in range(0, n, _ROWS):
            f = pool_features(x[start : start + _ROWS], u[:top], act) / np.sqrt(n)
            gram += f.T @ f
            cross += f.T @ ys[start : start + _ROWS]
        for k in small:
            yield _measured(gram[:k, :k], cross[:k], target_var, k, False)
        del gram
    large = [int(k) for k in n_features if k > n]
    if large:
        f = pool_features(x, u[: large[-1]], act) / np.sqrt(n)
        gram, done = np.zeros((n, n)), 0
        for k in large:
            block = f[:, done:k]
            gram += block @ block.T
            done = k
            yield _measured(gram.copy(), ys, target_var, k, True)


def pool_spectra(split: Split, u: np.ndarray, act: Activation, n_features) -> list[KernelSpectrum]:
    r"""The pool's second-moment spectra of the first N rows of the feature weights ``u``.

    With :math:`F_N = \sigma(X U_N^\top)/\sqrt n` over the n pool rows: the eigenvalues of
    :math:`F_N^\top F_N` (N ≤ n; accumulated over row chunks, the leading N×N block of one
    Gram) or of :math:`F_N F_N^\top` (N > n; grown column block by column block), and the power
    of the centered targets along them (summed over outputs), one
    :class:`~scalinglaws.theory.nonlinear.KernelSpectrum` per N in ``n_features`` (increasing).
    """
    return [d.spectrum for d in _pool_directions(split, u, act, n_features)]


def _loo_risk(split: Split, u: np.ndarray, act: Activation, dirs: _PoolDirections):
    r"""Leave-one-out risk of the pool's ridge, as a function of pool-side ridges κ̂.

    With A the left singular vectors of :math:`F/\sqrt n`, the ridge's fit on row μ is
    :math:`\hat y_\mu = \sqrt n\sum_i A_{\mu i} c_i\, s_i/(s_i+\hat\kappa)` and its leverage
    :math:`h_\mu = \sum_i A_{\mu i}^2 s_i/(s_i+\hat\kappa)`; the leave-one-out residual is
    exactly :math:`(y_\mu - \hat y_\mu)/(1-h_\mu)`, and the risk their mean square (summed
    over outputs). Rows are processed in chunks (memory O(chunk · rank)).
    """
    x, y = split.pool_inputs, split.pool_targets
    n = x.shape[0]
    s, v, coef = dirs.spectrum.eigenvalues, dirs.vectors, dirs.coef
    n_feat = dirs.spectrum.n_features

    def risk(kappa_hat: np.ndarray) -> np.ndarray:
        w = s[:, None] / (s[:, None] + kappa_hat[None, :])  # (rank, T)
        weighted = (coef[:, None, :] * w[:, :, None]).reshape(s.size, -1)  # (rank, T·C)
        total = np.zeros(kappa_hat.size)
        for start in range(0, n, _ROWS):
            stop = min(start + _ROWS, n)
            if dirs.dual:
                a = v[start:stop]
            else:
                f = pool_features(x[start:stop], u[:n_feat], act) / np.sqrt(n)
                a = (f @ v) / np.sqrt(s)
            lev = (a * a) @ w  # (rows, T)
            fit = (a @ weighted).reshape(stop - start, kappa_hat.size, -1)
            resid = y[start:stop, None, :] / np.sqrt(n) - fit
            with np.errstate(divide="ignore", invalid="ignore"):
                total += np.sum((resid / (1.0 - lev)[:, :, None]) ** 2, axis=(0, 2))
        return total

    return risk


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


def _sample_seed(split: Split, nf, ns, rg, act, feature_var, seq) -> tuple[np.ndarray, float]:
    """Held-out loss of one split from its pool, with the measurement's feature draw."""
    n, dims = split.pool_inputs.shape
    u = random_projection(child_sequence(seq, Stream.FEATURES), int(nf[-1]), dims, feature_var)
    grid = (ns[:, None], rg[None, :])
    values, resid = [], 0.0
    for dirs in _pool_directions(split, u, act, [int(k) for k in nf]):
        loo = _loo_risk(split, u, act, dirs)
        values.append(held_out_loss(dirs.spectrum, n, *grid, pool_risk=loo).test_mse)
        resid = dirs.spectrum.residual_var
    return np.stack(values), resid


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
    pool: str = "sample",
    n_reference: int | None = None,
    rng=0,
    max_memory=None,
    allow_slow: bool = False,
) -> xr.Dataset:
    r"""Theory's held-out test MSE from the measured pool of each seed, averaged over splits.

    ``pool`` says what the training pool of n rows stands for:

    - ``"sample"`` (default): an i.i.d. sample of the population that the held-out rows also
      come from, as in the measurement. For each seed, the pool's second-moment spectrum of the
      measurement's own feature draw (:func:`pool_spectra`) and
      :func:`~scalinglaws.theory.finite_pool.held_out_loss`, which uses the deterministic
      equivalent at sample size n and at P: quantitative up to P = n. Any activation; no
      reference draw (``n_reference`` must be None).
    - ``"population"``: the pool is the population. Linear features:
      :func:`~scalinglaws.theory.theory_loss` of :func:`linear_theory_spec`; nonlinear:
      :func:`~scalinglaws.theory.nonlinear.two_level_loss` of :func:`pool_kernel_spectrum` with
      N_ref = ``n_reference`` (default max(4 N_max, 2000); at least N_max). Right only for
      P ≪ n: it predicts the loss on the pool's rows, which the training set partly is.

    The work is checked against ``max_memory`` and, unless ``allow_slow``, ten minutes before
    it starts; numerical warnings of the seeds come once each, with a count. Same splits as
    :func:`simulate_realdata` with the same ``rng``; the test set is never used.
    Returns ``test_mse`` and ``noise_var`` (the target power outside the span of the largest
    feature set) of dims (n_features, n_samples, ridge), and ``test_mse_seeds`` with a ``seed``
    dimension.

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
    pool = check_choice("pool", pool, POOL_MODELS)
    n_max = int(nf[-1])
    n_seeds = len(axes.seeds)
    n_ref = 0
    if pool == "sample":
        if n_reference is not None:
            raise InputError(
                "'n_reference' applies to pool='population' only (the sample model uses the "
                f"measurement's own features). Got n_reference={n_reference!r} instead."
            )
        n_total, dims = task.inputs.shape
        n_pool = n_total - (default_n_test(n_total) if n_test is None else int(n_test))
        if ns[-1] > n_pool:
            raise InputError(
                f"'n_samples' must be at most the pool size {n_pool} of '{task.name}'. "
                f"Got {int(ns[-1])} instead."
            )
        _cost.check_pool_sample(
            n_pool, dims, [int(k) for k in nf], task.targets.shape[1], n_seeds, ns.size * rg.size,
            max_memory=max_memory, allow_slow=allow_slow,
        )  # fmt: skip
    elif act.name != "linear":
        n_ref = max(4 * n_max, 2000) if n_reference is None else _cost.check_reference(
            "n_reference", n_reference, n_max
        )  # fmt: skip
    root = as_seed_sequence(rng)
    values, noise = [], []
    grid = (nf[:, None, None], ns[None, :, None], rg[None, None, :])
    with warnings.catch_warnings(record=True) as caught:  # re-issued once each, with a count
        warnings.simplefilter("always")
        for s in range(n_seeds):
            seq = child_sequence(root, s)
            split = split_task(task, n_test, seq)
            if pool == "sample":
                value, resid = _sample_seed(split, nf, ns, rg, act, feature_var, seq)
                values.append(value)
                noise.append(resid)
            elif act.name == "linear":
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
    if pool == "sample":
        source = "deterministic equivalent at the pool's and the training set's sizes"
    elif act.name == "linear":
        source = "deterministic equivalent on the training pool"
    else:
        source = "two-level Gaussian equivalence on the training pool"
    ds = build_dataset(
        {"test_mse": (GRID_DIMS, stack.mean(axis=-1)), "test_mse_seeds": stack},
        grid=Grid(n_features=nf.astype(int), n_samples=ns.astype(int), ridges=rg, n_seeds=n_seeds),
        source=source,
        seeded=True,
        rng=root,
        attrs={"task": task.name, "activation": act.name, "pool": pool, "n_reference": n_ref},
    )
    ds["noise_var"] = ("seed", np.array(noise))
    return ds
