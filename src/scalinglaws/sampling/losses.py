r"""Loss evaluators: what the grid engine does with a cell's readouts.

An evaluator is a callable ``(theta, n_features, n_samples) -> {name: values}`` with ``theta`` of
shape (N, C, n_ridges) and each value of shape (n_ridges,). Three kinds serve every data source:

- :func:`linear_exact`: linear features of the latent model, the exact excess
  :math:`(U^\top\theta - w)^\top\Lambda(U^\top\theta - w)` (``docs/model.md`` §4);
- :func:`moment_exact`: nonlinear features or teachers, the exact excess
  :math:`\theta^\top K\theta - 2\theta^\top b + E[f_*^2]` from the Gaussian kernels;
- :func:`held_out`: a test set — the sampled test points of ``loss="monte_carlo"`` or the
  held-out split of a real dataset — with the mean squared error summed over the C outputs,
  :math:`\frac1{n}\sum_\mu \|\theta^\top\phi(x_\mu) - y_\mu\|^2`, and its standard error.

Every product is one ``(N × M)`` (linear), ``(N × N)`` (kernel) or ``(n_test × t)`` (test
panels) call per cell and ridge, shapes that only the cell chooses
(:mod:`scalinglaws.sampling.tiles`).

=========  ================  ==============================================
symbol     name              meaning
=========  ================  ==============================================
θ          ``theta``         readouts, shape (N, C, n_ridges)
U          ``projection``    feature weights, shape (N, M)
K, b       ``moments``       feature kernel (N, N) and target covariance (N,)
n_test     ``n_test``        held-out points
=========  ================  ==============================================
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from .tiles import PaddedRows, TiledMatrix, padded

__all__ = ["Evaluator", "linear_exact", "moment_exact", "held_out", "column_panels"]

Evaluator = Callable[[np.ndarray, int, int], dict[str, np.ndarray]]


def linear_exact(
    projection: PaddedRows, eigenvalues: np.ndarray, weights: np.ndarray, noise_var: float
) -> Evaluator:
    r"""Exact ``test_mse`` and ``excess`` of linear features, :math:`(U^\top\theta-w)^\top\Lambda
    (U^\top\theta-w)` (+ σ_ε²), one ``(N × M)`` product per cell and ridge."""

    def evaluate(theta: np.ndarray, n: int, p: int) -> dict[str, np.ndarray]:
        rows = projection.data[:n]  # the leading rows of the draw: shape (n, M), row stride M
        excess = np.empty(theta.shape[2])
        for r in range(theta.shape[2]):
            resid = np.ascontiguousarray(theta[:, 0, r]) @ rows - weights
            excess[r] = np.dot(resid * eigenvalues, resid)
        return {"test_mse": excess + noise_var, "excess": excess}

    return evaluate


def moment_exact(moments, noise_var: float) -> Evaluator:
    r"""Exact ``test_mse`` and ``excess`` from Gaussian moments (a
    :class:`~scalinglaws.sampling.features.TiledMoments`): :math:`\theta^\top K\theta -
    2\theta^\top b
    + E[f_*^2]`, with K's leading N × N block assembled once per N."""
    cache: dict[int, np.ndarray] = {}
    lock = threading.Lock()  # the engine evaluates the cells of one N side by side

    def evaluate(theta: np.ndarray, n: int, p: int) -> dict[str, np.ndarray]:
        with lock:
            if n not in cache:
                cache.clear()
                cache[n] = moments.kernel.block(n, n)
            kernel = cache[n]
        b = moments.target_cov[:n]
        excess = np.empty(theta.shape[2])
        for r in range(theta.shape[2]):
            th = np.ascontiguousarray(theta[:, 0, r])
            excess[r] = th @ (kernel @ th) - 2.0 * (b @ th) + moments.target_var
        return {"test_mse": excess + noise_var, "excess": excess}

    return evaluate


def column_panels(test: TiledMatrix) -> np.ndarray:
    """The test features as column panels, shape (col_tiles, padded n_test, t), each contiguous."""
    tiles = test.tiles
    return np.ascontiguousarray(tiles.transpose(1, 0, 2, 3).reshape(tiles.shape[1], -1, test.t))


def _predict(panels: np.ndarray, theta_r: np.ndarray, n: int) -> np.ndarray:
    """Σ_a panel_a θ_a over the column tiles that hold the first n features: (padded n_test, C)."""
    t = panels.shape[2]
    th = np.zeros((padded(n, t), theta_r.shape[1]))
    th[:n] = theta_r
    out = np.zeros((panels.shape[1], theta_r.shape[1]))
    for a in range(-(-n // t)):
        out += panels[a] @ th[a * t : (a + 1) * t]
    return out


def held_out(
    panels: np.ndarray,
    targets: np.ndarray,
    *,
    clean: np.ndarray | None = None,
    train: tuple[TiledMatrix, np.ndarray] | None = None,
) -> Evaluator:
    r"""Test-set ``test_mse`` (summed over outputs) and its standard error ``test_mse_se``.

    .. math:: \widehat{\text{test\_mse}} = \frac1{n}\sum_\mu \|\theta^\top\phi(x_\mu) - y_\mu\|^2,
              \qquad \text{se} = \mathrm{std}_\mu(\cdot)/\sqrt{n}

    Parameters
    ----------
    panels : ndarray of shape (col_tiles, padded n_test, t)
        Test features (:func:`column_panels`).
    targets : ndarray of shape (n_test, C)
        Test labels (noise included).
    clean : ndarray of shape (n_test, C), optional
        Noiseless test targets: adds ``excess`` and ``excess_se`` (latent model only).
    train : (TiledMatrix, ndarray of shape (padded P, C)), optional
        Training features and targets: adds ``train_mse``, the mean over the cell's P training
        points of the squared residual summed over outputs.
    """
    n_test = targets.shape[0]
    root = np.sqrt(n_test)

    def evaluate(theta: np.ndarray, n: int, p: int) -> dict[str, np.ndarray]:
        n_ridges = theta.shape[2]
        names = ["test_mse", "test_mse_se"]
        names += ["excess", "excess_se"] if clean is not None else []
        names += ["train_mse"] if train is not None else []
        out = {name: np.empty(n_ridges) for name in names}
        for r in range(n_ridges):
            theta_r = np.ascontiguousarray(theta[:, :, r])
            pred = _predict(panels, theta_r, n)[:n_test]
            err = np.sum((pred - targets) ** 2, axis=1)
            out["test_mse"][r], out["test_mse_se"][r] = err.mean(), err.std(ddof=1) / root
            if clean is not None:
                sq = np.sum((pred - clean) ** 2, axis=1)
                out["excess"][r], out["excess_se"][r] = sq.mean(), sq.std(ddof=1) / root
            if train is not None:
                out["train_mse"][r] = _train_mse(*train, theta_r, n, p)
        return out

    return evaluate


def _train_mse(features: TiledMatrix, y: np.ndarray, theta_r: np.ndarray, n: int, p: int):
    """Mean over the first p rows of ‖Φ[:p, :n] θ - y‖², from fixed-shape tile products."""
    t = features.t
    th = np.zeros((padded(n, t), theta_r.shape[1]))
    th[:n] = theta_r
    total = 0.0
    for b in range(-(-p // t)):
        fit = np.zeros((t, theta_r.shape[1]))
        for a in range(-(-n // t)):
            fit += features.tiles[b, a] @ th[a * t : (a + 1) * t]
        keep = min(t, p - b * t)
        total += float(np.sum((fit[:keep] - y[b * t : b * t + keep]) ** 2))
    return total / p
