r"""Spectra of data and of random features, and their power-law exponents (``MODEL.md`` §1, §6, §7).

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
:math:`(\sigma_u^2/M)\,\lambda_I`. Slopes, the only numbers ``MODEL.md`` §6 quotes, do not depend
on this choice. Feature second moments are not centered (K is what enters the loss, §4); data
covariance spectra are centered, as usual for real data.

**Exponent estimator.** :func:`fit_power_law` is ordinary least squares of log λ on log i over
an index window, on log-spaced ranks (``points_per_decade`` per decade). Log spacing gives each
decade the same weight, which the plain fit on all ranks would not (the top decade would have
1/10 of the weight of the next); least squares on a smooth spectrum is then exact for an exact
power law, and its classical standard error is right for independent log-normal scatter. Real
spectra deviate smoothly (curvature, kinks) rather than through outliers, which a robust loss
(Huber, Theil–Sen) would not repair; the local-slope profile and :func:`find_cutoff` are the tools
for those deviations.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from .._loglog import loglog_fit
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
    "PowerLawFit",
    "fit_power_law",
    "LocalSlopes",
    "local_slopes",
    "Cutoff",
    "find_cutoff",
    "numerical_rank",
    "extension_windows",
]


# -- spectra ---------------------------------------------------------------------------------------
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

    K comes from the activation's Gaussian kernel (``MODEL.md`` §4, §6); U is
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
    r"""Eigenvalues of the sample covariance of data, decreasing (``MODEL.md`` §7).

    .. math:: \hat\Sigma = \frac1P \sum_\mu (x_\mu - \bar x)(x_\mu - \bar x)^\top

    Parameters
    ----------
    inputs : ndarray of shape (n_samples, n_dims)
    center : bool, default True
        Subtract the sample mean (False: second-moment matrix).

    Returns
    -------
    ndarray of shape (min(n_samples, n_dims),)
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
    """
    return _gram_eigenvalues(features, center) / np.asarray(features).shape[1]


def standardize(inputs: np.ndarray) -> np.ndarray:
    r"""Center the columns and rescale so the mean squared norm is the dimension D.

    .. math:: x \mapsto (x - \bar x)\,\big/\,\sqrt{\overline{\|x - \bar x\|^2}/D}

    Pre-activations u·x with :math:`u \sim N(0, \sigma_u^2/D)` then have variance σ_u² on
    average, as for the latent model's unit-trace scale. Shape (n_samples, n_dims) in and out.
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
    :math:`\Phi^\top\Phi/(PN)`, with :math:`u_{jd} \sim N(0, \sigma_u^2/D)` (``MODEL.md`` §7).

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


# -- exponents -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class PowerLawFit:
    r"""A power law :math:`\lambda_i \approx A\, i^{-s}` fitted over ranks ``start <= i < stop``.

    Attributes
    ----------
    exponent : float
        s, the decay exponent (the log–log slope is −s; s = 1 + α for the latent power law).
    stderr : float
        Standard error of s from the residual scatter of the fit.
    prefactor : float
        A.
    start, stop : int
        The window of 1-based ranks, stop excluded.
    n_points : int
        Number of (log-spaced) ranks used.
    residual_std : float
        Standard deviation of the residuals of log λ (natural log).
    """

    exponent: float
    stderr: float
    prefactor: float
    start: int
    stop: int
    n_points: int
    residual_std: float

    @property
    def window(self) -> tuple[int, int]:
        """(start, stop), 1-based ranks, stop excluded."""
        return (self.start, self.stop)

    @property
    def slope(self) -> float:
        """d log λ / d log i = −s, the number ``MODEL.md`` §6 quotes."""
        return -self.exponent

    def predict(self, index: np.ndarray | float) -> np.ndarray:
        r""":math:`A\, i^{-s}` at 1-based ranks ``index`` (any shape)."""
        return self.prefactor * np.asarray(index, dtype=np.float64) ** (-self.exponent)

    def to_dict(self) -> dict:
        """Plain-JSON fields, with ``slope`` added."""
        return {**asdict(self), "slope": self.slope}

    def to_dataset(self):
        """The arrays as variables along ``point``, the scalars as attributes."""
        from ..results import fields_dataset

        return fields_dataset(self, dim="point", source="power-law fit")

def _window_ranks(n: int, start: int, stop: int | None, points_per_decade: int) -> np.ndarray:
    start = check_positive_int("start", start)
    stop = n + 1 if stop is None else check_positive_int("stop", stop)
    if stop > n + 1 or stop - start < 3:
        raise InputError(
            f"'start' and 'stop' must give a window of at least 3 ranks within 1..{n} "
            f"(stop excluded). Got start={start}, stop={stop} instead."
        )
    count = max(3, int(np.ceil(points_per_decade * np.log10((stop - 1) / start))) + 1)
    return np.unique(np.round(np.geomspace(start, stop - 1, count)).astype(np.int64))


def fit_power_law(
    eigenvalues: np.ndarray,
    *,
    start: int = 1,
    stop: int | None = None,
    points_per_decade: int = 20,
) -> PowerLawFit:
    r"""Fit :math:`\log\lambda_i = \log A - s\log i` by least squares on log-spaced ranks.

    See the module docstring for why this estimator. The standard error is the classical one,
    :math:`\hat\sigma/\sqrt{\sum_k (\log i_k - \overline{\log i})^2}`, exact for independent
    scatter of log λ; correlated deviations (curvature) make it optimistic, so compare windows
    with :func:`local_slopes`.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n,)
        Decreasing spectrum; rank i is ``eigenvalues[i - 1]``.
    start, stop : int
        Window of 1-based ranks, stop excluded (default: the whole spectrum). Every eigenvalue at
        the chosen ranks must be > 0.
    points_per_decade : int, default 20
        Density of the log-spaced ranks (all ranks where the window is narrower than that).

    Examples
    --------
    >>> lam = 2.0 * np.arange(1, 1001) ** -1.5
    >>> fit = fit_power_law(lam, start=10, stop=1000)
    >>> round(fit.exponent, 12), round(fit.prefactor, 12)
    (1.5, 2.0)
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    if lam.ndim != 1:
        raise InputError(f"'eigenvalues' must be a 1-D array. Got shape {lam.shape} instead.")
    ppd = check_positive_int("points_per_decade", points_per_decade)
    ranks = _window_ranks(lam.size, start, stop, ppd)
    values = lam[ranks - 1]
    if not np.all(np.isfinite(values) & (values > 0)):
        bad = int(ranks[~(np.isfinite(values) & (values > 0))][0])
        raise InputError(
            "'eigenvalues' must be finite and > 0 in the fitted window. "
            f"Got {float(lam[bad - 1])!r} at rank {bad} instead."
        )
    slope, err, intercept, resid_std = loglog_fit(np.log(ranks), np.log(values))
    return PowerLawFit(
        exponent=-slope,
        stderr=err,
        prefactor=float(np.exp(intercept)),
        start=int(ranks[0]),
        stop=int(ranks[-1]) + 1,
        n_points=int(ranks.size),
        residual_std=resid_std,
    )


@dataclass(frozen=True)
class LocalSlopes:
    """Local log–log slope d log λ / d log i against rank.

    Attributes
    ----------
    index : ndarray of shape (n_points,)
        Window centres (geometric), 1-based ranks.
    slope : ndarray of shape (n_points,)
        Fitted slope (= −exponent) in each window.
    stderr : ndarray of shape (n_points,)
        Its standard error.
    """

    index: np.ndarray
    slope: np.ndarray
    stderr: np.ndarray

    def to_dataset(self):
        """The arrays as variables along ``window``, the scalars as attributes."""
        from ..results import fields_dataset

        return fields_dataset(self, dim="window", source="local slopes of a spectrum")

def local_slopes(
    eigenvalues: np.ndarray,
    *,
    window_decades: float = 0.4,
    points_per_decade: int = 8,
    floor: float = 1e-12,
) -> LocalSlopes:
    r"""Slope profile: :func:`fit_power_law` in sliding windows of ``window_decades`` decades.

    .. math:: s(i_c) = \frac{d\log\lambda}{d\log i}\Big|_{i \in [i_c 10^{-w/2},\, i_c 10^{w/2}]}

    The profile covers the ranks before the first eigenvalue at or below ``floor`` × λ_1 (the
    round-off level of a double-precision eigensolver, reached past the rank of a linear map),
    with centres spaced ``points_per_decade`` per decade.
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    window = check_positive_float("window_decades", window_decades)
    nonpos = np.flatnonzero(~(lam > floor * lam[0]))
    n = int(nonpos[0]) if nonpos.size else lam.size
    half = 10.0 ** (window / 2)
    lo, hi = half, n / half
    if n < 4 or hi <= lo:
        raise InputError(
            f"'eigenvalues' must have more positive ranks than one window of {window:g} decades. "
            f"Got {n} instead."
        )
    count = max(2, int(np.ceil(points_per_decade * np.log10(hi / lo))) + 1)
    centres = np.geomspace(lo, hi, count)
    out = np.full((2, count), np.nan)
    for k, c in enumerate(centres):
        start, stop = max(1, int(np.floor(c / half))), min(n + 1, int(np.ceil(c * half)) + 1)
        if stop - start >= 3:
            fit = fit_power_law(lam, start=start, stop=stop, points_per_decade=20)
            out[:, k] = (fit.slope, fit.stderr)
    return LocalSlopes(index=centres, slope=out[0], stderr=out[1])


@dataclass(frozen=True)
class Cutoff:
    """Where a power law ends.

    Attributes
    ----------
    extent : int
        Number of leading ranks that follow the power law: rank ``extent + 1`` is the first past
        the reference window whose eigenvalue falls below ``drop`` × the extrapolated power law
        (``extent = n`` when none does; then ``found`` is False).
    found : bool
    drop : float
        The fraction used.
    reference : PowerLawFit
        The fit that was extrapolated.
    """

    extent: int
    found: bool
    drop: float
    reference: PowerLawFit

    def to_dict(self) -> dict:
        """Plain-JSON fields."""
        return {
            "extent": self.extent,
            "found": self.found,
            "drop": self.drop,
            "reference": self.reference.to_dict(),
        }

    def to_dataset(self):
        """The cut-off as attributes, with the reference fit's."""
        from ..results import fields_dataset

        ds = fields_dataset(self.reference, source="spectrum cut-off")
        ds.attrs.update(extent=self.extent, found=self.found, drop=self.drop)
        return ds

def find_cutoff(
    eigenvalues: np.ndarray,
    *,
    start: int,
    stop: int,
    drop: float = 0.1,
) -> Cutoff:
    r"""Find where the spectrum falls below the power law fitted on ``[start, stop)``.

    .. math:: \text{extent} = \min\{\, i \ge \text{stop} : \lambda_i < \text{drop}\cdot A i^{-s}
              \,\} - 1

    A cut-off (the rank M of a linear map, the end of a finite power law, ``MODEL.md`` §1.4, §6)
    shows as eigenvalues that fall far below the extrapolation; non-positive eigenvalues
    (round-off past a rank) count as below. ``drop`` = 0.1 is one decade, far outside the
    scatter of a sampled spectrum and well inside the drop at a true rank.

    Parameters
    ----------
    eigenvalues : ndarray of shape (n,)
        Decreasing spectrum.
    start, stop : int
        Reference window (1-based ranks, stop excluded) where the power law holds.
    drop : float, default 0.1
        Fraction of the extrapolated power law, in (0, 1).

    Examples
    --------
    >>> lam = np.arange(1, 201) ** -2.0
    >>> lam[120:] *= 1e-3
    >>> find_cutoff(lam, start=2, stop=50).extent
    120
    """
    drop = check_positive_float("drop", drop)
    if drop >= 1:
        raise InputError(f"'drop' must be a number in (0, 1). Got {drop!r} instead.")
    lam = np.asarray(eigenvalues, dtype=np.float64)
    reference = fit_power_law(lam, start=start, stop=stop)
    ranks = np.arange(reference.stop, lam.size + 1)
    below = ~(lam[ranks - 1] >= drop * reference.predict(ranks))
    hits = np.flatnonzero(below)
    if hits.size == 0:
        return Cutoff(extent=int(lam.size), found=False, drop=drop, reference=reference)
    return Cutoff(extent=int(ranks[hits[0]]) - 1, found=True, drop=drop, reference=reference)


def numerical_rank(eigenvalues: np.ndarray, *, rtol: float = 1e-10) -> int:
    """Number of eigenvalues above ``rtol`` × the largest (the rest is round-off or exact zero)."""
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return int(np.count_nonzero(lam > check_positive_float("rtol", rtol) * lam.max()))


def extension_windows(rank: int, n: int) -> list[tuple[int, int]]:
    """Fit windows below and past a rank M (``MODEL.md`` §6): [10, M), [M, 3M), [3M, 8M).

    The first window starts at min(10, M // 4) (at least 2) so that it exists for small M. Windows
    are clipped to the first half of the n available ranks, because a finite spectrum bends down
    near its end (at min(N, P), ``MODEL.md`` §7), and those with fewer than 3 ranks are dropped.
    Returns ``(start, stop)`` pairs of 1-based ranks, stop excluded.
    """
    rank, n = check_positive_int("rank", rank), check_positive_int("n", n)
    edges = [max(2, min(10, rank // 4)), rank, 3 * rank, 8 * rank]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        hi = min(hi, n // 2 + 1)
        if hi - lo >= 3:
            out.append((lo, hi))
    return out
