r"""The robust log-space objective of the solvable model on its surrogate, and its starts.

Internal parameters :math:`\theta = (u, \log c, \ell, v)` with :math:`u = \log\alpha`,
:math:`c = \sigma_w^2\lambda_+/M`, :math:`\ell = \log M`, :math:`v = \log\sigma_\varepsilon^2`;

.. math:: \log\hat L_i = \mathrm{LSE}\big(\log c + \Phi_i(u, \ell),\; v + \Gamma_i(u, \ell)\big)

(:mod:`._surrogate`), scored by the scaled Huber sum of :mod:`._robust`. The gradient is
analytic in all four: :math:`\partial/\partial\log c` and :math:`\partial/\partial v` are the
log-sum-exp weights, :math:`\partial/\partial u` and :math:`\partial/\partial\ell` add the
interpolant's derivatives. ``v = -inf`` (noise held at 0) drops the noise term.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.optimize import nnls

from .._errors import InputError
from ._robust import huber
from ._surrogate import Surrogate

__all__ = ["ModelObjective", "node_starts", "check_model_fixed", "INTERNAL"]

#: Internal parameter names, in order.
INTERNAL = ("log_alpha", "log_c", "log_latent_dim", "log_noise_var")


@dataclass(frozen=True)
class ModelObjective:
    """Scaled Huber objective over the free entries of θ (see the module docstring)."""

    surrogate: Surrogate
    log_y: np.ndarray
    delta: float
    theta_full: np.ndarray
    free: np.ndarray

    @property
    def has_noise(self) -> bool:
        """Whether the noise term is present (free, or held at a value > 0)."""
        return bool(self.free[3] or np.isfinite(self.theta_full[3]))

    def full(self, theta: np.ndarray) -> np.ndarray:
        """θ with the free entries set (broadcasts over leading axes)."""
        out = np.broadcast_to(self.theta_full, (*np.shape(theta)[:-1], 4)).copy()
        out[..., self.free] = theta
        return out

    def log_curve(self, theta_full: np.ndarray) -> np.ndarray:
        """log L̂ at the points for one full θ, shape (n,)."""
        vals, _, _ = self.surrogate(theta_full[0], theta_full[2])
        signal = theta_full[1] + vals[0]
        if not self.has_noise:
            return signal
        return np.logaddexp(signal, theta_full[3] + vals[1])

    def __call__(self, theta: np.ndarray, weights: np.ndarray) -> tuple[float, np.ndarray]:
        th = self.theta_full.copy()
        th[self.free] = theta
        vals, d_u, d_l = self.surrogate(th[0], th[2])
        ts = th[1] + vals[0]
        if self.has_noise:
            tn = th[3] + vals[1]
            top = np.maximum(ts, tn)
            es, en = np.exp(ts - top), np.exp(tn - top)
            total = es + en
            ws, wn = es / total, en / total
            log_l = top + np.log(total)
        else:
            ws, wn, log_l = np.ones_like(ts), np.zeros_like(ts), ts
        h, psi = huber(log_l - self.log_y, self.delta)
        scale = 1.0 / (self.delta * weights.sum())
        wpsi = weights * psi * scale
        grad = np.array(
            [
                wpsi @ (ws * d_u[0] + wn * d_u[1]),
                wpsi @ ws,
                wpsi @ (ws * d_l[0] + wn * d_l[1]),
                wpsi @ wn,
            ]
        )
        return float(h @ weights) * scale, grad[self.free]


def _node_profile(vals: np.ndarray, log_y: np.ndarray, noise: float | None) -> tuple[float, float]:
    """(log c, v) from nonnegative least squares of the relative residuals at one node.

    ``noise`` None: both free; a number: σ² held there (``-inf`` for 0).
    """
    a_s = vals[0] - log_y
    shift_s = a_s.max()
    if noise is None:
        a_n = vals[1] - log_y
        shift_n = a_n.max()
        cols = np.stack([np.exp(a_s - shift_s), np.exp(a_n - shift_n)], axis=1)
        coef, _ = nnls(cols, np.ones_like(log_y))
        with np.errstate(divide="ignore"):
            return float(np.log(coef[0]) - shift_s), float(np.log(coef[1]) - shift_n)
    target = np.ones_like(log_y)
    if np.isfinite(noise):
        target = target - np.exp(noise + vals[1] - log_y)
    coef, _ = nnls(np.exp(a_s - shift_s)[:, None], target)
    with np.errstate(divide="ignore"):
        return float(np.log(coef[0]) - shift_s), float(noise)


def node_starts(objective: ModelObjective, bounds_full: np.ndarray, count: int) -> np.ndarray:
    """The ``count`` best grid nodes as starts (full θ), ranked by the objective at their
    least-squares (c, σ²); shape (count, 4)."""
    s = objective.surrogate
    noise = None if objective.free[3] else float(objective.theta_full[3])
    rows, scores = [], []
    ones = np.ones_like(objective.log_y)
    for i, u in enumerate(s.u.nodes):
        for j, ell in enumerate(s.ell.nodes):
            log_c, v = _node_profile(s.values[i, j], objective.log_y, noise)
            theta = np.array([u, log_c, ell, v])
            theta = np.clip(theta, bounds_full[:, 0], bounds_full[:, 1])
            theta[~objective.free] = objective.theta_full[~objective.free]
            value, _ = objective(theta[objective.free], ones)
            rows.append(theta)
            scores.append(value if np.isfinite(value) else np.inf)
    order = np.argsort(scores, kind="stable")[:count]
    return np.array(rows)[order]


def check_model_fixed(fixed: dict) -> dict:
    """The parameters held fixed, checked: ``alpha``, ``latent_dim`` (> 0), ``noise_var`` (>= 0)."""
    out = {}
    for name, value in fixed.items():
        if name not in ("alpha", "latent_dim", "noise_var"):
            raise InputError(
                "'fixed' must name 'alpha', 'latent_dim' or 'noise_var' for the model form. "
                f"Got {name!r} instead."
            )
        value = float(value)
        positive = name != "noise_var"
        if not np.isfinite(value) or value < 0 or (positive and value == 0):
            need = "> 0" if positive else ">= 0"
            raise InputError(f"'fixed' must hold {name} {need}. Got {value!r} instead.")
        out[name] = value
    return out
