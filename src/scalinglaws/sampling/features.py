r"""Random feature maps and the exact second moments behind the test loss (``docs/model.md`` §3–4).

=========  ================  ====================================================
symbol     name              meaning
=========  ================  ====================================================
N          ``n_features``    number of random features
U          ``projection``    feature weights, u_jI ~ N(0, σ_u²/M), shape (N, M)
σ_u²       ``feature_var``   feature-weight variance
h = Ux     (none)            pre-activations, jointly Gaussian with covariance C = U Λ Uᵀ
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

from .._validation import check_positive_int
from ..model.activations import Activation, gaussian_expectation
from ..model.spec import ModelSpec
from ..model.streams import as_seed_sequence, standard_normal_rows
from .latent import TeacherDraw
from .tiles import PaddedRows, TiledMatrix, tile_size, tiled_products

__all__ = [
    "draw_projection",
    "random_features",
    "FeatureMoments",
    "TiledMoments",
    "feature_moments",
    "tiled_moments",
    "tiled_kernel",
    "random_projection",
    "cross_kernel",
    "linear_excess",
    "moment_excess",
]


def random_projection(
    rng, n_features: int, n_inputs: int, feature_var: float, *, out: np.ndarray | None = None
) -> np.ndarray:
    r"""Random feature weights :math:`u_{jd} \sim N(0, \sigma_u^2/D)`, shape (N, D).

    The one projection draw of the package (latent model, real data, spectra): nested in N (the
    first rows of a larger draw). With ``out`` (C-contiguous float64, at least N rows), the draw
    fills its first N rows, which are returned.
    """
    n_features = check_positive_int("n_features", n_features)
    u = standard_normal_rows(as_seed_sequence(rng), n_features, n_inputs, out=out)
    u *= np.sqrt(feature_var / n_inputs)
    return u


def draw_projection(
    spec: ModelSpec, n_features: int, rng, *, out: np.ndarray | None = None
) -> np.ndarray:
    r"""Feature weights :math:`U`, :math:`u_{jI} \sim N(0, \sigma_u^2/M)`, shape (N, M).

    :func:`random_projection` with the spec's M and σ_u².

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=10, alpha=1.0))
    >>> draw_projection(spec, 4, rng=0).shape
    (4, 10)
    """
    return random_projection(rng, n_features, spec.latent_dim, spec.feature_var, out=out)


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
        b_j = E[σ(h_j) f_*(x)].
    target_var : float
        E[f_*(x)²], the power of the noiseless target.
    """

    kernel: np.ndarray
    target_cov: np.ndarray
    target_var: float


@dataclass(frozen=True)
class TiledMoments:
    """:class:`FeatureMoments` with K as fixed-shape tiles (:mod:`scalinglaws.sampling.tiles`).

    ``kernel`` is a :class:`~scalinglaws.sampling.tiles.TiledMatrix`; ``target_cov`` has shape
    (padded n_features,), zero beyond n_features.
    """

    kernel: TiledMatrix
    target_cov: np.ndarray
    target_var: float


def feature_moments(
    projection: np.ndarray, eigenvalues: np.ndarray, teacher, activation: Activation
) -> FeatureMoments:
    r"""K, b and E[f_*(x)²] for features σ(Ux), x ~ N(0, Λ) (``docs/model.md`` §4, §6).

    Linear teacher f_*(x) = w·x:

    .. math:: C = U\Lambda U^\top,\quad K_{jk} = E[\sigma(h_j)\sigma(h_k)]_{h\sim N(0,C)},\quad
              b_j = E[\sigma'(h_j)]\,(U\Lambda w)_j,\quad E[f_*^2] = w^\top\Lambda w

    Random-feature teacher f_*(x) = Σ_k a_k σ_t(v_k·x), with g = Vx:

    .. math:: b = B a,\quad B_{jk} = E[\sigma(h_j)\sigma_t(g_k)],\quad
              E[f_*^2] = a^\top T a,\quad T_{kl} = E[\sigma_t(g_k)\sigma_t(g_l)]

    Every entry is computed in fixed-shape tiles (:func:`tiled_moments`), so the moments of the
    first n features do not depend on how many features were drawn.

    Parameters
    ----------
    projection : ndarray of shape (n_features, latent_dim)
    eigenvalues : ndarray of shape (latent_dim,)
    teacher : ndarray of shape (latent_dim,) or TeacherDraw
    activation : Activation
    """
    n, m = projection.shape
    rows = PaddedRows.zeros(n, m, tile_size(m))
    rows.values[:] = projection
    tiled = tiled_moments(rows, eigenvalues, teacher, activation)
    return FeatureMoments(tiled.kernel.block(n, n), tiled.target_cov[:n].copy(), tiled.target_var)


def tiled_moments(
    projection: PaddedRows, eigenvalues: np.ndarray, teacher, activation: Activation
) -> TiledMoments:
    r"""The moments of :func:`feature_moments`, tile by tile (fixed BLAS shapes).

    The pre-activation covariance :math:`C = U\Lambda U^\top` is formed in ``(t × M)·(M × t)``
    tiles and symmetrized tile by tile, :math:`\tfrac12(C_{ab} + C_{ba}^\top)`; the kernel of each
    tile of the upper triangle is evaluated on its own and mirrored, so K is exactly symmetric;
    b and the teacher cross moments come from ``(t × M)`` blocks.
    """
    t, n = projection.t, projection.rows
    scaled = PaddedRows(projection.data * eigenvalues, n, t)
    tiles, diag = tiled_kernel(projection, scaled, activation)
    nt = tiles.tiles.shape[0]
    if isinstance(teacher, TeacherDraw):
        target_cov, target_var = _teacher_moments(scaled, diag, eigenvalues, teacher, activation)
    else:
        target_cov = np.zeros(nt * t)
        for a in range(nt):
            block = slice(a * t, (a + 1) * t)
            target_cov[block] = activation.mean_slope(diag[block]) * (scaled.tile(a) @ teacher)
        target_cov[n:] = 0.0
        target_var = float(teacher @ (eigenvalues * teacher))
    return TiledMoments(tiles, target_cov, target_var)


def tiled_kernel(
    projection: PaddedRows, scaled: PaddedRows, activation: Activation
) -> tuple[TiledMatrix, np.ndarray]:
    r"""The feature kernel :math:`K_{jk} = E[\sigma(h_j)\sigma(h_k)]` of :math:`h = Ux`, in tiles.

    The one kernel build of the package (simulation, theory reference draws, spectra).
    ``scaled`` holds the rows of :math:`U\Lambda`; the covariance :math:`C = U\Lambda U^\top` is
    formed in fixed-shape tiles, each pair of mirror tiles symmetrized,
    :math:`\tfrac12(C_{ab} + C_{ba}^\top)`, and replaced by its kernel tile in place. Returns the
    kernel (exactly symmetric, zero beyond N) and the variances :math:`C_{jj}` (1 beyond N).
    """
    t, n = projection.t, projection.rows
    tiles = tiled_products(scaled, projection)
    cov = tiles.tiles
    nt = cov.shape[0]
    diag = np.ones(nt * t)  # padded features (zero rows of U) get variance 1, masked below
    for a in range(nt):
        diag[a * t : min((a + 1) * t, n)] = np.diag(cov[a, a])[: min(t, n - a * t)]
    for a in range(nt):
        for b in range(a, nt):
            k_ab = _kernel_tile(activation, cov, diag, a, b, n)
            cov[a, b], cov[b, a] = k_ab, k_ab.T  # both mirror tiles are read before this
    _mask(tiles)
    return tiles, diag


def _kernel_tile(activation: Activation, cov, diag, a: int, b: int, n: int) -> np.ndarray:
    """Kernel tile (a, b ≥ a) from the symmetrized covariance tile.

    Closed forms are evaluated on the whole fixed-shape tile (elementwise). The quadrature, which
    costs ~4·nodes² evaluations per pair, only on the pairs that exist (and on the upper triangle
    of a diagonal tile); each pair's value does not depend on the others it is computed with.
    """
    t = cov.shape[2]
    da, db = diag[a * t : (a + 1) * t], diag[b * t : (b + 1) * t]
    c_ab = 0.5 * (cov[a, b] + cov[b, a].T)
    if activation.has_closed_form:
        out = activation.kernel(da[:, None], db[None, :], c_ab)
        if a == b:
            out = np.triu(out) + np.triu(out, 1).T
            out[np.diag_indices(t)] = activation.second_moment(da)
        return out
    ra, rb = min(t, n - a * t), min(t, n - b * t)
    out = np.zeros((t, t))
    if a == b:
        rows, cols = np.triu_indices(ra, k=1)
        values = activation.kernel(da[rows], da[cols], c_ab[rows, cols])
        out[rows, cols], out[cols, rows] = values, values
        out[np.arange(ra), np.arange(ra)] = activation.second_moment(da[:ra])
    else:
        out[:ra, :rb] = activation.kernel(da[:ra, None], db[None, :rb], c_ab[:ra, :rb])
    return out


def _mask(tiles: TiledMatrix) -> None:
    """Set every entry beyond (rows, cols) to exactly 0, in place (σ(0)² need not be 0)."""
    last, keep = divmod(tiles.rows, tiles.t)
    if keep:
        tiles.tiles[last, :, keep:, :] = 0.0
        tiles.tiles[:, last, :, keep:] = 0.0


def _teacher_moments(scaled: PaddedRows, diag, eigenvalues, teacher: TeacherDraw, activation):
    """b = B a and a^T T a for a random-feature teacher, B in (t × K) row blocks."""
    v, a, act_t = teacher.projection, teacher.coefficients, teacher.activation
    teacher_diag = np.einsum("ki,i,ki->k", v, eigenvalues, v)
    t = scaled.t
    target_cov = np.zeros(scaled.data.shape[0])
    for b in range(scaled.n_tiles):
        block = slice(b * t, (b + 1) * t)
        cov = scaled.tile(b) @ v.T  # (t × K), a fixed shape
        if not (activation == act_t or activation.name == "linear" or act_t.name == "linear"):
            rows = min(t, scaled.rows - b * t)  # quadrature: only the features that exist
            cross = np.zeros((t, v.shape[0]))
            cross[:rows] = cross_kernel(activation, act_t, diag[block][:rows], teacher_diag,
                                        cov[:rows])  # fmt: skip
        else:
            cross = cross_kernel(activation, act_t, diag[block], teacher_diag, cov)
        target_cov[block] = cross @ a
    target_cov[scaled.rows :] = 0.0
    teacher_cov = (v * eigenvalues) @ v.T
    teacher_kernel = act_t.kernel_matrix(0.5 * (teacher_cov + teacher_cov.T))
    return target_cov, float(a @ teacher_kernel @ a)


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
    polar quadrature of :func:`scalinglaws.model.activations.gaussian_expectation`.

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
