r"""Random feature maps and the exact second moments behind the test loss (``MODEL.md`` §3–4).

=========  ================  ====================================================
symbol     name              meaning
=========  ================  ====================================================
N          ``n_features``    number of random features
U          ``projection``    feature weights, u_jI ~ N(0, σ_u²/M), shape (N, M)
σ_u²       ``feature_var``   feature-weight variance
h = Ux     ``preactivation`` jointly Gaussian with covariance C = U Λ Uᵀ
φ(x)       ``features``      σ(Ux), shape (P, N) for P inputs
K          ``kernel``        K_jk = E[σ(h_j) σ(h_k)], shape (N, N)
b          ``target_cov``    b_j = E[σ(h_j) f_*(x)]; linear teacher: E[σ'(h_j)] (UΛw)_j (Stein)
=========  ================  ====================================================

With these, a readout θ has the exact excess loss

.. math:: \mathcal{E}(\theta) = \theta^\top K \theta - 2\theta^\top b + w^\top \Lambda w,

and for linear features it reduces to :math:`(U^\top\theta - w)^\top \Lambda (U^\top\theta - w)`,
which :func:`linear_excess` evaluates in O(NM) without forming K.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import check_positive_int
from .activations import Activation, gaussian_expectation
from .data import TeacherDraw, as_seed_sequence, standard_normal_rows
from .spec import ModelSpec

__all__ = [
    "draw_projection",
    "random_features",
    "FeatureMoments",
    "feature_moments",
    "cross_kernel",
    "linear_excess",
    "moment_excess",
]


def draw_projection(spec: ModelSpec, n_features: int, rng) -> np.ndarray:
    r"""Feature weights :math:`U`, :math:`u_{jI} \sim N(0, \sigma_u^2/M)`, shape (N, M).

    Nested in N: the first rows of a larger draw.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10, alpha=1.0))
    >>> draw_projection(spec, 4, rng=0).shape
    (4, 10)
    """
    n_features = check_positive_int("n_features", n_features)
    u = standard_normal_rows(as_seed_sequence(rng), n_features, spec.latent_dim)
    u *= np.sqrt(spec.feature_var / spec.latent_dim)
    return u


def random_features(latent: np.ndarray, projection: np.ndarray, activation: Activation):
    r"""Feature matrix :math:`\Phi_{\mu j} = \sigma(u_j \cdot x_\mu)`, shape (P, N).

    ``latent`` has shape (P, M) and ``projection`` shape (N, M). The activation is applied in
    place on the pre-activations to keep one (P, N) buffer.
    """
    pre = latent @ projection.T
    if activation.name == "linear":
        return pre
    out = activation(pre)
    return out


@dataclass(frozen=True)
class FeatureMoments:
    """Exact population moments of one draw of features against the teacher.

    Attributes
    ----------
    kernel : ndarray of shape (n_features, n_features)
        K_jk = E[σ(h_j)σ(h_k)].
    target_cov : ndarray of shape (n_features,)
        b_j = E[σ(h_j) w·x].
    target_var : float
        wᵀΛw, the variance of the noiseless target.
    """

    kernel: np.ndarray
    target_cov: np.ndarray
    target_var: float


def feature_moments(
    projection: np.ndarray, eigenvalues: np.ndarray, teacher, activation: Activation
) -> FeatureMoments:
    r"""K, b and E[f_*(x)²] for features σ(Ux), x ~ N(0, Λ) (``MODEL.md`` §4, §6).

    Linear teacher f_*(x) = w·x:

    .. math:: C = U\Lambda U^\top,\quad K_{jk} = E[\sigma(h_j)\sigma(h_k)]_{h\sim N(0,C)},\quad
              b_j = E[\sigma'(h_j)]\,(U\Lambda w)_j,\quad E[f_*^2] = w^\top\Lambda w

    Random-feature teacher f_*(x) = Σ_k a_k σ_t(v_k·x), with g = Vx:

    .. math:: b = B a,\quad B_{jk} = E[\sigma(h_j)\sigma_t(g_k)],\quad
              E[f_*^2] = a^\top T a,\quad T_{kl} = E[\sigma_t(g_k)\sigma_t(g_l)]

    Parameters
    ----------
    projection : ndarray of shape (n_features, latent_dim)
    eigenvalues : ndarray of shape (latent_dim,)
    teacher : ndarray of shape (latent_dim,) or TeacherDraw
    activation : Activation
    """
    scaled = projection * eigenvalues
    cov = scaled @ projection.T
    cov = 0.5 * (cov + cov.T)
    diag = np.diag(cov).copy()
    kernel = activation.kernel_matrix(cov)
    if isinstance(teacher, TeacherDraw):
        v, a, act_t = teacher.projection, teacher.coefficients, teacher.activation
        teacher_diag = np.einsum("ki,i,ki->k", v, eigenvalues, v)
        cross = cross_kernel(activation, act_t, diag, teacher_diag, scaled @ v.T)
        teacher_cov = (v * eigenvalues) @ v.T
        teacher_kernel = act_t.kernel_matrix(0.5 * (teacher_cov + teacher_cov.T))
        return FeatureMoments(kernel, cross @ a, float(a @ teacher_kernel @ a))
    target_cov = activation.mean_slope(diag) * (scaled @ teacher)
    return FeatureMoments(kernel, target_cov, float(teacher @ (eigenvalues * teacher)))


def cross_kernel(
    student: Activation,
    teacher: Activation,
    student_var: np.ndarray,
    teacher_var: np.ndarray,
    covariance: np.ndarray,
) -> np.ndarray:
    r"""Cross moments :math:`B_{jk} = E[\sigma(h_j)\sigma_t(g_k)]` for jointly Gaussian (h, g).

    Same activation: its kernel (closed form or quadrature). A linear side: Stein's lemma,
    :math:`E[h_j\,\sigma_t(g_k)] = \mathrm{Cov}(h_j, g_k)\,E[\sigma_t'(g_k)]`. Otherwise the
    polar quadrature of :func:`scalinglaws.activations.gaussian_expectation`.

    Parameters
    ----------
    student_var : ndarray of shape (n_features,)
    teacher_var : ndarray of shape (width,)
    covariance : ndarray of shape (n_features, width)
    """
    c11, c22 = student_var[:, None], teacher_var[None, :]
    if student == teacher:
        return student.kernel(c11, c22, covariance)
    if student.name == "linear":
        return covariance * teacher.mean_slope(teacher_var)[None, :]
    if teacher.name == "linear":
        return covariance * student.mean_slope(student_var)[:, None]
    return gaussian_expectation(student.function, teacher.function, c11, c22, covariance)


def linear_excess(
    readouts: np.ndarray, projection: np.ndarray, eigenvalues: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    r"""Exact excess :math:`(U^\top\theta - w)^\top\Lambda(U^\top\theta - w)` for linear features.

    Parameters
    ----------
    readouts : ndarray of shape (n_features, n_ridges)
        One readout θ per column.
    projection : ndarray of shape (n_features, latent_dim)
    eigenvalues, weights : ndarray of shape (latent_dim,)

    Returns
    -------
    ndarray of shape (n_ridges,)
    """
    resid = projection.T @ readouts - weights[:, None]
    return np.einsum("ir,i,ir->r", resid, eigenvalues, resid)


def moment_excess(readouts: np.ndarray, moments: FeatureMoments, n_features: int) -> np.ndarray:
    r"""Exact excess :math:`\theta^\top K\theta - 2\theta^\top b + w^\top\Lambda w` per column.

    Uses the leading ``n_features`` block of the moments (nested draws), ``readouts`` of shape
    (n_features, n_ridges); returns shape (n_ridges,). Clipped at 0 from below would hide
    cancellation, so a negative value (round-off when the loss is ~1e-16 of wᵀΛw) is returned as is.
    """
    k = moments.kernel[:n_features, :n_features]
    b = moments.target_cov[:n_features]
    quad = np.einsum("jr,jr->r", readouts, k @ readouts)
    return quad - 2.0 * (b @ readouts) + moments.target_var
