r"""Spectra of data and of random features, and their power-law exponents (docs/model.md §6, §7).

The paper's first two findings live in eigenvalue spectra: natural data have covariance spectra
that fall as a power law in the rank, and a nonlinear feature map continues that power law past the
data's rank M, where a linear map stops. This module computes those spectra and measures them.

=========  ======================  ==============================================================
symbol     name                    meaning
=========  ======================  ==============================================================
M          ``latent_dim``          data rank (latent dimension; input dimension for real data)
N          ``n_features``          number of random features
P          ``n_samples``           number of data samples behind an empirical spectrum
K          (kernel)                feature second moments K_jk = E[σ(h_j)σ(h_k)], shape (N, N)
Φ          ``features``            feature matrix σ(XUᵀ), shape (P, N)
i          rank / index            1-based rank of an eigenvalue in decreasing order
s          ``exponent``            decay exponent, λ_i ≈ A i^(−s) (s = 1 + α for the latent law)
A          ``prefactor``           amplitude of the fitted power law
=========  ======================  ==============================================================

**Normalization.** Feature spectra are the eigenvalues of :math:`K/N` (exact) or of
:math:`\Phi^\top\Phi/(PN)` (empirical, its unbiased estimate). These are the eigenvalues of the
feature kernel operator :math:`k(x, x') = N^{-1}\sum_j \phi_j(x)\phi_j(x')` on the data
distribution, so the leading ones converge as N grows; for linear features and N ≫ M they approach
:math:`(\sigma_u^2/M)\,\lambda_I`. Slopes, the only numbers docs/model.md §6 quotes, do not depend
on this choice. Feature second moments are not centered (K is what enters the loss, §4); data
covariance spectra are centered, as usual for real data.

Power-law fits of these spectra (exponents, local slopes, cut-offs) are in
:mod:`scalinglaws.analysis.powerlaw`.
"""

from __future__ import annotations

import numpy as np

from .._memory import check_memory
from .._validation import InputError, check_positive_float, check_positive_int, warn_numerical
from ..model.activations import Activation, get_activation
from ..model.spec import ModelSpec
from ..model.streams import as_seed_sequence
from ..sampling.features import draw_projection, random_features, random_projection, tiled_kernel
from ..sampling.latent import sample_latent
from ..sampling.tiles import PaddedRows, tile_size

__all__ = [
    "exact_feature_spectrum",
    "sampled_feature_spectrum",
    "covariance_spectrum",
    "feature_covariance_spectrum",
    "random_feature_spectrum",
    "standardize",
]


def _descending_eigenvalues(matrix: np.ndarray) -> np.ndarray:
    """Eigenvalues of a symmetric matrix, decreasing (round-off negatives kept, not clipped).

    A matrix with non-finite entries (an overflow of the kernel at extreme scales) gives NaN
    eigenvalues and a :class:`~scalinglaws._validation.NumericalWarning`, not a LAPACK failure.
    """
    if not np.all(np.isfinite(matrix)):
        warn_numerical(
            "The feature second-moment matrix has entries beyond the float64 range (the inputs' "
            "scale, lambda_plus times feature_var, is too extreme for this activation): its "
            "eigenvalues are returned as NaN. Rescale lambda_plus or feature_var.",
            stacklevel=4,
        )
        return np.full(matrix.shape[0], np.nan)
    return np.linalg.eigvalsh(matrix)[::-1].copy()


def _check_spectrum_memory(what: str, n_floats: float, parameter: str, max_memory) -> None:
    check_memory(8.0 * n_floats, what=what, parameter=parameter, max_memory=max_memory)


def exact_feature_spectrum(
    spec: ModelSpec, n_features: int, rng, *, max_memory: int | str | None = None
) -> np.ndarray:
    r"""Eigenvalues of :math:`K/N` for one draw of N features on Gaussian data; no data samples.

    .. math:: C = U\Lambda U^\top, \quad K_{jk} = E[\sigma(h_j)\sigma(h_k)]_{h \sim N(0, C)},
              \quad \text{returns } \operatorname{eig}(K/N)

    K comes from the activation's Gaussian kernel (``docs/model.md`` §4, §6); U is
    :func:`~scalinglaws.sampling.features.draw_projection` ``(spec, n_features, rng)``, so the draw
    is
    nested in N. For linear features K has rank min(N, M): the eigenvalues past it are round-off
    (of either sign, ~1e-16 of the largest, returned as computed).

    Parameters
    ----------
    spec : ModelSpec
        Spectrum Λ (any), activation σ and feature variance σ_u²; the teacher is not used.
    n_features : int
        N.
    rng : int, SeedSequence or Generator
    max_memory : int or str, optional
        Refuse before allocating when the estimated peak (U and ΛU, N × M each; C, K and the
        eigensolver's workspace, N × N each) exceeds it; default the memory available now.

    Returns
    -------
    ndarray of shape (n_features,)
        Decreasing eigenvalues.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=5, alpha=1.0))
    >>> lam = exact_feature_spectrum(spec, 8, rng=0)
    >>> lam.shape, bool(abs(lam[5:]).max() < 1e-12 * lam[0])   # linear: rank M = 5
    ((8,), True)
    """
    n_features = check_positive_int("n_features", n_features)
    m = spec.latent_dim
    _check_spectrum_memory(
        "the exact feature spectrum", 2 * n_features * m + 3 * n_features**2, "'n_features'",
        max_memory,
    )  # fmt: skip
    t = tile_size(m)
    projection = PaddedRows.zeros(n_features, m, t)
    draw_projection(spec, n_features, rng, out=projection.data)
    scaled = PaddedRows(projection.data * spec.spectrum.eigenvalues, n_features, t)
    kernel, _ = tiled_kernel(projection, scaled, spec.activation)
    del projection, scaled
    return _descending_eigenvalues(kernel.block(n_features, n_features) / n_features)


def sampled_feature_spectrum(
    spec: ModelSpec,
    n_features: int,
    n_samples: int,
    rng,
    *,
    max_memory: int | str | None = None,
) -> np.ndarray:
    r"""Eigenvalues of :math:`\Phi^\top\Phi/(PN)` from P Gaussian samples (estimate of K/N).

    Latent inputs :math:`x_\mu \sim N(0, \Lambda)` and projection U come from independent child
    streams of ``rng``. Linear features have rank min(N, M, P). ``max_memory`` as in
    :func:`exact_feature_spectrum` (here X, U, Φ and the smaller Gram).

    Returns
    -------
    ndarray of shape (min(n_features, n_samples),)

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> from scalinglaws.analysis.powerlaw import numerical_rank
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=20, alpha=1.0), activation='relu')
    >>> eig = sampled_feature_spectrum(spec, 100, 400, rng=0)
    >>> eig.size, numerical_rank(eig) > 20
    (100, True)
    """
    n_features = check_positive_int("n_features", n_features)
    n_samples = check_positive_int("n_samples", n_samples)
    m, small = spec.latent_dim, min(n_features, n_samples)
    floats = (n_samples + n_features) * m + 2 * n_samples * n_features + 2 * small**2
    _check_spectrum_memory(
        "the sampled feature spectrum", floats, "'n_features' or 'n_samples'", max_memory
    )
    seq = as_seed_sequence(rng)
    feature_seq, input_seq = seq.spawn(2)
    projection = draw_projection(spec, n_features, feature_seq)
    latent = sample_latent(spec.spectrum, n_samples, input_seq)
    return feature_covariance_spectrum(random_features(latent, projection, spec.activation))


def _gram_eigenvalues(matrix: np.ndarray, center: bool) -> np.ndarray:
    """Eigenvalues of XᵀX/P (centered if asked) through the smaller of XᵀX and XXᵀ."""
    x = np.asarray(matrix, dtype=np.float64)
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1 or not np.all(np.isfinite(x)):
        raise InputError(
            "'inputs' must be a 2-D array of finite numbers with at least 2 rows. "
            f"Got shape {x.shape} instead."
        )
    if center:
        x = x - x.mean(axis=0)
    gram = x.T @ x if x.shape[1] <= x.shape[0] else x @ x.T
    return _descending_eigenvalues(gram / x.shape[0])


def covariance_spectrum(inputs: np.ndarray, *, center: bool = True) -> np.ndarray:
    r"""Eigenvalues of the sample covariance of data, decreasing (``docs/model.md`` §7).

    .. math:: \hat\Sigma = \frac1P \sum_\mu (x_\mu - \bar x)(x_\mu - \bar x)^\top

    Parameters
    ----------
    inputs : ndarray of shape (n_samples, n_dims)
    center : bool, default True
        Subtract the sample mean (False: second-moment matrix).

    Returns
    -------
    ndarray of shape (min(n_samples, n_dims),)

    Examples
    --------
    >>> import numpy as np
    >>> x = np.random.default_rng(0).normal(size=(4000, 3)) * np.array([3.0, 2.0, 1.0])
    >>> np.round(covariance_spectrum(x), 1)
    array([9.3, 3.9, 1. ])
    """
    return _gram_eigenvalues(inputs, center)


def feature_covariance_spectrum(features: np.ndarray, *, center: bool = False) -> np.ndarray:
    r"""Eigenvalues of :math:`\Phi^\top\Phi/(PN)`, the empirical counterpart of K/N, decreasing.

    Parameters
    ----------
    features : ndarray of shape (n_samples, n_features)
    center : bool, default False
        K is a second moment, so features are not centered by default.

    Returns
    -------
    ndarray of shape (min(n_samples, n_features),)

    Examples
    --------
    >>> import numpy as np
    >>> phi = np.random.default_rng(0).normal(size=(500, 20))
    >>> eig = feature_covariance_spectrum(phi)
    >>> eig.shape, bool(np.all(np.diff(eig) <= 0))
    ((20,), True)
    """
    return _gram_eigenvalues(features, center) / np.asarray(features).shape[1]


def standardize(inputs: np.ndarray) -> np.ndarray:
    r"""Center the columns and rescale so the mean squared norm is the dimension D.

    .. math:: x \mapsto (x - \bar x)\,\big/\,\sqrt{\overline{\|x - \bar x\|^2}/D}

    Pre-activations u·x with :math:`u \sim N(0, \sigma_u^2/D)` then have variance σ_u² on
    average, as for the latent model's unit-trace scale. Shape (n_samples, n_dims) in and out.

    Examples
    --------
    >>> import numpy as np
    >>> x = standardize(np.random.default_rng(0).normal(3.0, 5.0, size=(200, 4)))
    >>> bool(np.allclose(x.mean(axis=0), 0.0)), round(float((x ** 2).sum(axis=1).mean()), 6)
    (True, 4.0)
    """
    x = np.asarray(inputs, dtype=np.float64)
    x = x - x.mean(axis=0)
    scale = np.sqrt(np.mean(np.sum(x * x, axis=1)) / x.shape[1])
    if not scale > 0:
        raise InputError("'inputs' must not be constant. Got zero variance in every column.")
    return x / scale


def random_feature_spectrum(
    inputs: np.ndarray,
    n_features: int,
    *,
    activation: str | Activation = "relu",
    feature_var: float = 1.0,
    rng=0,
    standardize_inputs: bool = True,
    max_memory: int | str | None = None,
) -> np.ndarray:
    r"""Spectrum of random features :math:`\sigma(XU^\top)` of given (real) data, eigenvalues of
    :math:`\Phi^\top\Phi/(PN)`, with :math:`u_{jd} \sim N(0, \sigma_u^2/D)` (``docs/model.md`` §7).

    Parameters
    ----------
    inputs : ndarray of shape (n_samples, n_dims)
    n_features : int
        N.
    activation : str or Activation, default "relu"
    feature_var : float, default 1
        σ_u².
    rng : int, SeedSequence or Generator
    standardize_inputs : bool, default True
        Apply :func:`standardize` first.
    max_memory : int or str, optional
        As in :func:`exact_feature_spectrum` (here X, U, Φ and the smaller Gram).

    Returns
    -------
    ndarray of shape (min(n_samples, n_features),)

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws.analysis.powerlaw import numerical_rank
    >>> x = np.random.default_rng(0).normal(size=(400, 10))
    >>> numerical_rank(random_feature_spectrum(x, 100, activation='linear', rng=0))
    10
    >>> numerical_rank(random_feature_spectrum(x, 100, activation='relu', rng=0)) > 10
    True
    """
    n_features = check_positive_int("n_features", n_features)
    feature_var = check_positive_float("feature_var", feature_var)
    shape = np.shape(inputs)
    if len(shape) == 2:
        p, d = shape
        floats = (p + n_features) * d + 2 * p * n_features + 2 * min(p, n_features) ** 2
        _check_spectrum_memory(
            "the random-feature spectrum", floats, "'n_features' or 'n_samples'", max_memory
        )
    x = standardize(inputs) if standardize_inputs else np.asarray(inputs, dtype=np.float64)
    projection = random_projection(rng, n_features, x.shape[1], feature_var)
    return feature_covariance_spectrum(random_features(x, projection, get_activation(activation)))

