r"""The solvable model's loss at the measured points, tabulated over (log α, log M) and
interpolated, so that its fit has analytic gradients and a fast bootstrap.

At fixed α and M the loss of ``docs/model.md`` §5 is linear in the teacher's power and the
noise:

.. math:: L_i = c\, e^{\Phi_i(\alpha, M)} + \sigma_\varepsilon^2\, e^{\Gamma_i(\alpha, M)},
          \qquad c = \sigma_w^2\lambda_+/M,

with :math:`e^{\Phi_i} = (M/\lambda_+)\,\text{test\_mse}_i` at
:math:`\sigma_w^2 = 1, \sigma_\varepsilon^2 = 0`, and :math:`e^{\Gamma_i} = 1/(1-g_i)`
(``test_mse``) or :math:`g_i/(1-g_i)` (``excess``), g the quantity of ``docs/model.md`` §5.
One batched :func:`~scalinglaws.theory.theory_loss` call per node (α, M) gives Φ and Γ at every
point; between nodes they are interpolated by a tensor product of cubic Hermite (Catmull–Rom)
splines with secant slopes: C¹, exact on the nodes, error O(h³) in the spacing. M is an
integer, so the nodes sit at log M of integers (non-uniform spacing).

Where the theory has no finite log (a zero signal past M without ridge, a pole), the node value
is clamped far below (Φ) or above (Γ) the finite ones and a note says how many.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass

import numpy as np

from .._errors import NumericalWarning
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from ..theory import theory_loss

__all__ = ["Axis", "Surrogate", "node_values", "build_surrogate", "QUANTITIES"]

#: What the measured loss is: the test MSE with label noise, or the excess over the noise.
QUANTITIES = ("test_mse", "excess")
#: Far-below / far-above clamps (in log units) for non-finite node values.
_CLAMP = 40.0


@dataclass(frozen=True)
class Axis:
    """Node positions of one axis (increasing), padded with a linear-extrapolation ghost node at
    each end; a single node means the coordinate is held fixed."""

    nodes: np.ndarray

    def __post_init__(self) -> None:
        x = np.asarray(self.nodes, dtype=np.float64)
        padded = (
            np.repeat(x, 4)
            if x.size == 1
            else np.concatenate([[2 * x[0] - x[1]], x, [2 * x[-1] - x[-2]]])
        )
        object.__setattr__(self, "nodes", x)
        object.__setattr__(self, "padded", padded)

    def weights(self, q: float) -> tuple[int, np.ndarray, np.ndarray]:
        """First padded index of the 4-node stencil at ``q``, its weights and d/dq weights.

        Cubic Hermite on the cell [x_j, x_j+1] (width h) with secant slopes
        m_j = (V_j+1 - V_j-1) / (x_j+1 - x_j-1), written as weights on V_j-1 .. V_j+2.
        """
        x = self.nodes
        if x.size == 1:
            return 0, _FIXED, _ZERO
        j = min(max(int(np.searchsorted(x, q, side="right")) - 1, 0), x.size - 2)
        xp = self.padded
        x0 = xp[j + 1]
        h = xp[j + 2] - x0
        r0, r1 = h / (xp[j + 2] - xp[j]), h / (xp[j + 3] - xp[j + 1])
        t = (q - x0) / h
        t2 = t * t
        t3 = t2 * t
        h00, h10, h01, h11 = 2 * t3 - 3 * t2 + 1, t3 - 2 * t2 + t, -2 * t3 + 3 * t2, t3 - t2
        g00, g10, g11 = 6 * t2 - 6 * t, 3 * t2 - 4 * t + 1, 3 * t2 - 2 * t
        w = np.array([-h10 * r0, h00 - h11 * r1, h01 + h10 * r0, h11 * r1])
        dw = np.array([-g10 * r0, g00 - g11 * r1, -g00 + g10 * r0, g11 * r1]) / h
        return j, w, dw


_FIXED, _ZERO = np.array([0.0, 1.0, 0.0, 0.0]), np.zeros(4)


def _pad_values(values: np.ndarray, axis: int) -> np.ndarray:
    """Ghost values by linear extrapolation along ``axis`` (4 copies for a single node)."""
    if values.shape[axis] == 1:
        return np.repeat(values, 4, axis=axis)
    first = 2 * np.take(values, [0], axis) - np.take(values, [1], axis)
    last = 2 * np.take(values, [-1], axis) - np.take(values, [-2], axis)
    return np.concatenate([first, values, last], axis=axis)


@dataclass(frozen=True)
class Surrogate:
    """Φ and Γ at n points on the node grid ``u`` (log α) × ``ell`` (log M): ``values`` of shape
    (len(u), len(ell), 2, n)."""

    u: Axis
    ell: Axis
    values: np.ndarray
    n_clamped: int = 0

    def __post_init__(self) -> None:
        padded = _pad_values(_pad_values(self.values, 0), 1)
        object.__setattr__(self, "_padded", padded.reshape(*padded.shape[:2], -1))

    @property
    def box(self) -> np.ndarray:
        """[[u_min, u_max], [ℓ_min, ℓ_max]]."""
        u, ell = self.u.nodes, self.ell.nodes
        return np.array([[u[0], u[-1]], [ell[0], ell[-1]]])

    def __call__(self, u: float, ell: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(values, d/du, d/dℓ), each of shape (2, n): rows Φ and Γ."""
        ju, wu, dwu = self.u.weights(u)
        jl, wl, dwl = self.ell.weights(ell)
        block = self._padded[ju : ju + 4, jl : jl + 4]  # (4, 4, 2n): stencil × (Φ, Γ) at points
        along = wl @ block  # (4, 2n), interpolated along ℓ
        shape = (2, block.shape[-1] // 2)
        value = (wu @ along).reshape(shape)
        d_u = (dwu @ along).reshape(shape)
        d_l = (wu @ (dwl @ block)).reshape(shape)
        return value, d_u, d_l


def node_values(
    alpha: float,
    latent_dim: int,
    points: np.ndarray,
    *,
    quantity: str,
    lambda_plus: float,
    feature_var: float,
) -> np.ndarray:
    """Φ and Γ (2, n) at ``points`` (n, 3: N, P, γ), NaN where the theory has no finite log."""
    spec = ModelSpec(
        spectrum=Spectrum.power_law(
            latent_dim=int(latent_dim), alpha=float(alpha), lambda_plus=lambda_plus
        ),
        teacher=Teacher.isotropic(1.0),
        feature_var=feature_var,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", NumericalWarning)
        res = theory_loss(spec, points[:, 0], points[:, 1], points[:, 2], method="compressed")
    with np.errstate(divide="ignore", invalid="ignore"):
        phi = np.log(res.test_mse) + np.log(latent_dim) - np.log(lambda_plus)
        gamma = -np.log1p(-res.g)
        if quantity == "excess":
            gamma = gamma + np.log(res.g)
    out = np.stack([phi, gamma])
    return np.where(np.isfinite(out), out, np.nan)


def build_surrogate(u_nodes, m_nodes, points: np.ndarray, **options) -> Surrogate:
    """Tabulate :func:`node_values` on u (log α) × integer M nodes and clamp the gaps."""
    m_nodes = np.unique(np.asarray(m_nodes, dtype=np.int64))
    u_nodes = np.asarray(u_nodes, dtype=np.float64)
    values = np.empty((u_nodes.size, m_nodes.size, 2, points.shape[0]))
    for i, u in enumerate(u_nodes):
        for j, m in enumerate(m_nodes):
            values[i, j] = node_values(np.exp(u), int(m), points, **options)
    bad = ~np.isfinite(values)
    if np.any(bad):
        phi, gamma = values[:, :, 0], values[:, :, 1]
        phi_low = np.nanmin(phi) - _CLAMP if np.any(np.isfinite(phi)) else -_CLAMP
        gamma_high = np.nanmax(gamma) + _CLAMP if np.any(np.isfinite(gamma)) else _CLAMP
        values[:, :, 0] = np.where(np.isfinite(phi), phi, phi_low)
        values[:, :, 1] = np.where(np.isfinite(gamma), gamma, gamma_high)
    return Surrogate(
        Axis(u_nodes), Axis(np.log(m_nodes.astype(np.float64))), values, int(bad.sum())
    )
