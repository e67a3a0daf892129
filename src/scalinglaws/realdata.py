r"""Random-feature ridge regression on real data, and the theory from the measured data (§5–§7).

The bridge from :mod:`scalinglaws.datasets` to the model: a real dataset is split by seed into a
training pool and a held-out test set, features :math:`\sigma(Ux)` are trained by ridge regression
on the first P pool samples, and the test MSE is measured on the held-out set (exact expectations,
``MODEL.md`` §4, do not exist for real data). Side by side, the theory is evaluated from the pool
alone (its inputs and labels; never the test set), like :mod:`scalinglaws.equivalence` an edge that
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
  depend on the grid, so a cell's numbers do not either (nested draws, DESIGN.md practice 3).
* **Standardization.** Inputs are centered with the pool mean and divided by the pool's RMS
  centered norm over √D (:func:`scalinglaws.spectra.standardize` with pool statistics), so
  :math:`u\cdot x` has variance σ_u² on average over the pool.
* **Targets.** ``"onehot"`` class labels (C = number of classes) or ``"center"``, the central
  pixel (the middle column for non-square inputs), removed from the inputs: a regression target.
  Targets are centered with the pool mean, i.e. the intercept is fixed at the pool mean, not
  learned, for linear and nonlinear features alike.
* **Loss.** ``test_mse`` is the **sum** over the C outputs of the per-output MSE,
  :math:`E\|f(x) - y\|^2` (one ridge per output with the same γ); for one-hot targets this is C
  times the mean per class. ``test_mse_se`` is its standard error over the held-out points;
  ``test_mse_sem`` the standard error over seeds (which also varies the split).

Theory: linear features use ``MODEL.md`` §5 with Λ and the teacher variances of the best linear
predictor in the pool's PCA basis (its unexplained variance as label noise); nonlinear features use
the two-level Gaussian-equivalence theory (§6) with the kernel spectrum of a reference draw of
N_ref features measured on the pool (:func:`pool_kernel_spectrum`). The pool is the theory's
population, so its predictions are meaningful for P well below the pool size.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, replace

import numpy as np
import scipy.linalg as sla
import xarray as xr

from ._memory import check_memory
from ._validation import (
    InputError,
    NumericalWarning,
    check_choice,
    check_float_list,
    check_int_list,
    check_positive_float,
    check_positive_int,
)
from .activations import Activation, get_activation
from .data import STREAM_FEATURES, as_seed_sequence, child_sequence, standard_normal_rows
from .datasets import Dataset, load_dataset
from .ridge import fit_ridge
from .spec import ModelSpec, Teacher
from .spectrum import Spectrum
from .theory import theory_loss
from .theory.nonlinear import KernelSpectrum, kernel_spectrum, two_level_loss

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

TARGETS = ("onehot", "center")
#: Stream labels below a seed's sequence (features use :data:`scalinglaws.data.STREAM_FEATURES`).
STREAM_SPLIT, STREAM_REFERENCE = 1_000_011, 1_000_013
#: Eigenvalues below this fraction of the largest are dropped from measured spectra (null space).
RANK_RTOL = 1e-10


@dataclass(frozen=True)
class RegressionTask:
    """Inputs and targets of a real regression problem.

    Attributes
    ----------
    name : str
        ``"<dataset>/<target>"``.
    inputs : ndarray of shape (n_total, n_dims)
    targets : ndarray of shape (n_total, n_outputs)
        One-hot labels or the regression target (not yet centered).
    """

    name: str
    inputs: np.ndarray
    targets: np.ndarray


def make_task(
    dataset: str | Dataset, target: str = "onehot", *, max_samples: int | None = None, **options
) -> RegressionTask:
    """Build a :class:`RegressionTask` from a dataset (name: ``options`` go to the loader).

    ``max_samples`` keeps the first rows of the dataset (a fixed subset, before any split).
    """
    data = load_dataset(dataset, **options) if isinstance(dataset, str) else dataset
    target = check_choice("target", target, TARGETS)
    keep = None if max_samples is None else check_positive_int("max_samples", max_samples)
    x = np.asarray(data.inputs[:keep], dtype=np.float64)
    data = replace(data, targets=None if data.targets is None else data.targets[:keep])
    if target == "onehot":
        if data.targets is None:
            raise InputError(
                f"'target' must be 'center' for dataset '{data.name}', which has no class "
                "labels. Got 'onehot' instead."
            )
        classes, labels = np.unique(data.targets, return_inverse=True)
        y = np.zeros((labels.size, classes.size))
        y[np.arange(labels.size), labels] = 1.0
        return RegressionTask(f"{data.name}/onehot", x, y)
    side = int(round(np.sqrt(x.shape[1])))
    col = (side // 2) * side + side // 2 if side * side == x.shape[1] else x.shape[1] // 2
    return RegressionTask(f"{data.name}/center", np.delete(x, col, axis=1), x[:, col : col + 1])


@dataclass(frozen=True)
class Split:
    """One seed's split: standardized pool and test inputs, centered targets.

    ``pool_inputs`` (n_pool, D) and ``pool_targets`` (n_pool, C) in permutation order (the first P
    rows are the training set of size P); ``test_inputs`` (n_test, D), ``test_targets`` (n_test,
    C); ``pool_index`` and ``test_index`` are the rows of the task (disjoint).
    """

    pool_inputs: np.ndarray
    pool_targets: np.ndarray
    test_inputs: np.ndarray
    test_targets: np.ndarray
    pool_index: np.ndarray
    test_index: np.ndarray


def _default_n_test(n_total: int) -> int:
    return int(min(max(n_total // 10, 1), 10_000))


def split_task(task: RegressionTask, n_test: int | None, seq: np.random.SeedSequence) -> Split:
    r"""Permute, split and standardize with pool statistics (module docstring).

    .. math:: x \mapsto (x - \bar x_p)\big/\sqrt{\overline{\|x - \bar x_p\|^2}_p/D},
              \qquad y \mapsto y - \bar y_p \qquad (\bar\cdot_p: \text{pool averages})
    """
    n_total = task.inputs.shape[0]
    n_test = _default_n_test(n_total) if n_test is None else check_positive_int("n_test", n_test)
    if n_test > n_total - 2:
        raise InputError(f"'n_test' must be at most {n_total - 2}. Got {n_test} instead.")
    gen = np.random.Generator(np.random.PCG64(child_sequence(seq, STREAM_SPLIT)))
    perm = gen.permutation(n_total)
    pool, test = perm[: n_total - n_test], perm[n_total - n_test :]
    mean = task.inputs[pool].mean(axis=0)
    centered = task.inputs[pool] - mean
    scale = np.sqrt(np.mean(np.sum(centered * centered, axis=1)) / task.inputs.shape[1])
    if not scale > 0:
        raise InputError("'inputs' must not be constant. Got zero variance in every column.")
    y_mean = task.targets[pool].mean(axis=0)
    return Split(
        pool_inputs=centered / scale,
        pool_targets=task.targets[pool] - y_mean,
        test_inputs=(task.inputs[test] - mean) / scale,
        test_targets=task.targets[test] - y_mean,
        pool_index=pool,
        test_index=test,
    )


def _projection(seq, n_features: int, n_dims: int, feature_var: float) -> np.ndarray:
    """U of shape (n_features, n_dims), entries N(0, σ_u²/D), nested in n_features."""
    return standard_normal_rows(seq, n_features, n_dims) * np.sqrt(feature_var / n_dims)


def _features(x: np.ndarray, u: np.ndarray, act: Activation) -> np.ndarray:
    pre = x @ u.T
    return pre if act.name == "linear" else act(pre)


def _ridge_path(gram: np.ndarray, rhs: np.ndarray, ridges: np.ndarray) -> np.ndarray:
    """(G + γI)⁻¹R for every γ > 0 from one ``eigh``: shape (n, C, n_ridges) (γ = 0 left NaN)."""
    evals, evecs = sla.eigh(gram, check_finite=False, driver="evd")
    proj = evecs.T @ rhs
    out = np.full(rhs.shape + (ridges.size,), np.nan)
    for r, gamma in enumerate(ridges):
        if gamma > 0:
            out[:, :, r] = evecs @ (proj / (evals + gamma)[:, None])
    return out


def _readouts(phi: np.ndarray, y: np.ndarray, ridges: np.ndarray, gram=None) -> np.ndarray:
    r"""θ*(γ) of shape (N, C, n_ridges) for Φ (P, N) and Y (P, C): primal for N ≤ P, else dual.

    γ = 0 (minimum-norm) goes through :func:`scalinglaws.ridge.fit_ridge`, column by column.
    """
    n_samples, n_features = phi.shape
    if n_features <= n_samples:
        g = phi.T @ phi if gram is None else gram
        theta = _ridge_path(g, phi.T @ y, ridges)
    else:
        dual = _ridge_path(phi @ phi.T, y, ridges)
        theta = (phi.T @ dual.reshape(n_samples, -1)).reshape(n_features, *dual.shape[1:])
    for r in np.flatnonzero(ridges == 0):
        for c in range(y.shape[1]):
            theta[:, c, r] = fit_ridge(phi, y[:, c], [0.0])[:, 0]
    return theta


def _seed_losses(split: Split, u: np.ndarray, act: Activation, nf, ns, rg):
    """Held-out MSE, its standard error and the training MSE of one seed, each (N, P, γ)."""
    shape = (len(nf), len(ns), rg.size)
    test_mse, test_se, train_mse = np.empty(shape), np.empty(shape), np.empty(shape)
    phi = _features(split.pool_inputs[: ns[-1]], u, act)
    phi_test = _features(split.test_inputs, u, act)
    for j, p in enumerate(ns):
        n_primal = max([n for n in nf if n <= p], default=0)
        gram = phi[:p, :n_primal].T @ phi[:p, :n_primal]  # leading blocks serve every N <= P
        y = split.pool_targets[:p]
        for i, n in enumerate(nf):
            theta = _readouts(phi[:p, :n], y, rg, gram[:n, :n] if n <= p else None)
            flat = theta.reshape(n, -1)
            pred = (phi_test[:, :n] @ flat).reshape(-1, *theta.shape[1:])
            err = np.sum((pred - split.test_targets[:, :, None]) ** 2, axis=1)
            test_mse[i, j] = err.mean(axis=0)
            test_se[i, j] = err.std(axis=0, ddof=1) / np.sqrt(err.shape[0])
            fit = (phi[:p, :n] @ flat).reshape(p, *theta.shape[1:]) - y[:, :, None]
            train_mse[i, j] = np.sum(fit**2, axis=1).mean(axis=0)
    return test_mse, test_se, train_mse


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
) -> xr.Dataset:
    r"""Measured held-out test MSE of random-feature ridge regression on a grid N × P × γ × seed.

    For each seed: one split (:func:`split_task`), one U at N_max (first-N rows for smaller N),
    features of the first P_max pool rows and of the test set formed once, one primal Gram per P
    (leading blocks for every N ≤ P) and one ``eigh`` per cell for all ridges.

    .. math:: \widehat{\text{test\_mse}} = \frac1{n_\mathrm{test}}\sum_{\mu \in \mathrm{test}}
              \|\theta^{*\top}\phi(x_\mu) - y_\mu\|^2

    Returns
    -------
    xarray.Dataset
        ``test_mse``, ``test_mse_se`` (held-out standard error) and ``train_mse``, dims
        (n_features, n_samples, ridge, seed), with ``test_mse_mean``/``_sem`` and
        ``train_mse_mean``/``_sem`` over seeds.
    """
    nf = check_int_list("n_features", n_features)
    ns = check_int_list("n_samples", n_samples)
    rg = np.array(check_float_list("ridges", ridges))
    seeds = list(range(check_positive_int("n_seeds", n_seeds)))
    feature_var = check_positive_float("feature_var", feature_var)
    act = get_activation(activation)
    n_total, n_dims = task.inputs.shape
    n_held = _default_n_test(n_total) if n_test is None else n_test
    width = task.targets.shape[1]
    floats = (
        n_total * n_dims  # the standardized pool and test inputs
        + (ns[-1] + n_held) * nf[-1]  # training and test features
        + 3 * min(nf[-1], ns[-1]) ** 2  # a Gram, its factorization and eigenvectors
        + n_held * nf[-1] * width  # predictions
        + nf[-1] * n_dims
    )
    check_memory(
        8.0 * floats, what="simulate_realdata", parameter="'n_features' or 'n_samples'",
        max_memory=max_memory,
    )  # fmt: skip
    root = as_seed_sequence(rng)
    shape = (len(nf), len(ns), rg.size, len(seeds))
    test_mse, test_se, train_mse = np.empty(shape), np.empty(shape), np.empty(shape)
    for s in seeds:
        seq = child_sequence(root, s)
        split = split_task(task, n_test, seq)
        if ns[-1] > split.pool_inputs.shape[0]:
            raise InputError(
                f"'n_samples' must be at most the pool size {split.pool_inputs.shape[0]} of "
                f"'{task.name}'. Got {ns[-1]} instead."
            )
        u = _projection(
            child_sequence(seq, STREAM_FEATURES), nf[-1], task.inputs.shape[1], feature_var
        )
        cells = _seed_losses(split, u, act, nf, ns, rg)
        test_mse[..., s], test_se[..., s], train_mse[..., s] = cells
    dims = ("n_features", "n_samples", "ridge", "seed")
    ds = xr.Dataset(
        {
            "test_mse": (dims, test_mse),
            "test_mse_se": (dims, test_se),
            "train_mse": (dims, train_mse),
        },
        coords={"n_features": list(nf), "n_samples": list(ns), "ridge": rg, "seed": seeds},
        attrs={
            "task": task.name,
            "activation": act.name,
            "feature_var": feature_var,
            "n_test": int(split.test_inputs.shape[0]),
            "n_pool": int(split.pool_inputs.shape[0]),
            "rng_entropy": str(root.entropy),
        },
    )
    for name in ("test_mse", "train_mse"):
        ds[f"{name}_mean"] = ds[name].mean("seed")
        sem = ds[name].std("seed", ddof=1) / np.sqrt(len(seeds))
        ds[f"{name}_sem"] = sem if len(seeds) > 1 else xr.full_like(ds[f"{name}_mean"], np.nan)
    return ds


# -- theory from the measured pool -----------------------------------------------------------------
def linear_theory_spec(split: Split, feature_var: float = 1.0) -> ModelSpec:
    r"""§5 model of linear random features on the pool: Λ, teacher variances and noise.

    With the pool covariance :math:`\hat\Sigma = X^\top X/n = Q\Lambda Q^\top` (rank r kept) and
    the best linear predictor :math:`w_c = \hat\Sigma^+ X^\top y_c/n` per output c,

    .. math:: \bar w_i^2 = \sum_c (q_i^\top w_c)^2, \qquad
              \sigma_\varepsilon^2 = \overline{\|y\|^2} - \sum_i \lambda_i \bar w_i^2

    and ``feature_var`` = σ_u² r/D, so that the projection entries keep variance σ_u²/D.
    """
    x, y = split.pool_inputs, split.pool_targets
    n, dims = x.shape
    evals, evecs = sla.eigh(x.T @ x / n, check_finite=False)
    keep = evals > RANK_RTOL * evals[-1]
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
    split: Split, n_reference: int, *, activation="relu", feature_var=1.0, rng=0
) -> KernelSpectrum:
    r"""Kernel spectrum of N_ref random features measured on the pool (the pool as population).

    With :math:`F = \sigma(X U_\mathrm{ref}^\top)/\sqrt n` of shape (n_pool, N_ref):
    :math:`K = F^\top F`, :math:`b_c = F^\top y_c/\sqrt n`, :math:`E[f_*^2] = \|y\|^2/n`, summed
    over outputs (``target`` of shape (N_ref, C) in
    :func:`~scalinglaws.theory.nonlinear.kernel_spectrum`).
    When n_pool < N_ref the same spectrum comes from the n_pool × n_pool Gram :math:`FF^\top =
    A S A^\top`: eigenvalues :math:`s_i` and :math:`t_i^2 = s_i \|A_i^\top y\|^2/n`.
    """
    x, y = split.pool_inputs, split.pool_targets
    n = x.shape[0]
    u = _projection(
        child_sequence(as_seed_sequence(rng), STREAM_REFERENCE),
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
    keep = evals > RANK_RTOL * evals[-1]
    s, a = evals[keep][::-1], evecs[:, keep][:, ::-1]
    power = s * np.sum((a.T @ ys) ** 2, axis=1)
    return KernelSpectrum(s, power, target_var, int(n_reference))


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
) -> xr.Dataset:
    r"""Theory's test MSE from the measured pool of each seed, averaged over ``n_seeds`` splits.

    Linear features: :func:`~scalinglaws.theory.theory_loss` of :func:`linear_theory_spec`.
    Nonlinear: :func:`~scalinglaws.theory.nonlinear.two_level_loss` of
    :func:`pool_kernel_spectrum` with N_ref = ``n_reference`` (default max(4 N_max, 2000)).
    Same splits as :func:`simulate_realdata` with the same ``rng``; the test set is not used.
    Returns ``test_mse`` and ``noise_var`` (the unexplained part) of dims (n_features,
    n_samples, ridge), and ``test_mse_seeds`` with a ``seed`` dimension.
    """
    nf = np.array(check_int_list("n_features", n_features), dtype=float)
    ns = np.array(check_int_list("n_samples", n_samples), dtype=float)
    rg = np.array(check_float_list("ridges", ridges))
    act = get_activation(activation)
    n_ref = max(4 * int(nf[-1]), 2000) if n_reference is None else n_reference
    n_ref = check_positive_int("n_reference", n_ref)
    root = as_seed_sequence(rng)
    values, noise = [], []
    grid = (nf[:, None, None], ns[None, :, None], rg[None, None, :])
    for s in range(check_positive_int("n_seeds", n_seeds)):
        seq = child_sequence(root, s)
        split = split_task(task, n_test, seq)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", NumericalWarning)
            if act.name == "linear":
                spec = linear_theory_spec(split, feature_var)
                values.append(theory_loss(spec, *grid).test_mse)
                noise.append(spec.noise_var)
            else:
                ref = pool_kernel_spectrum(
                    split, n_ref, activation=act, feature_var=feature_var, rng=seq
                )
                values.append(two_level_loss(ref, *grid).test_mse)
                noise.append(ref.residual_var)
    dims = ("n_features", "n_samples", "ridge")
    stack = np.stack(values, axis=-1)
    return xr.Dataset(
        {
            "test_mse": (dims, stack.mean(axis=-1)),
            "test_mse_seeds": (dims + ("seed",), stack),
            "noise_var": ("seed", np.array(noise)),
        },
        coords={
            "n_features": nf.astype(int),
            "n_samples": ns.astype(int),
            "ridge": rg,
            "seed": np.arange(len(values)),
        },
        attrs={
            "task": task.name,
            "activation": act.name,
            "source": "MODEL.md §5 (linear) / two-level Gaussian equivalence §6 on the pool",
            "n_reference": n_ref if act.name != "linear" else 0,
        },
    )


def loss_exponent(loss: xr.DataArray, dim: str) -> tuple[float, float]:
    r"""Log–log slope of a 1-D loss curve along ``dim`` and its standard error (OLS).

    .. math:: \log L = a + b \log x, \qquad \text{returns } (b, \mathrm{se}(b))

    Needs at least 3 points for a standard error (NaN otherwise).
    """
    x = np.log(np.asarray(loss[dim].values, dtype=float))
    y = np.log(np.asarray(loss.values, dtype=float))
    if x.size < 2:
        return float("nan"), float("nan")
    dx = x - x.mean()
    slope = float(dx @ (y - y.mean()) / (dx @ dx))
    resid = y - y.mean() - slope * dx
    se = float(np.sqrt(resid @ resid / (x.size - 2) / (dx @ dx))) if x.size > 2 else float("nan")
    return slope, se
