r"""Power-law fits of spectra: exponents, local slopes and where a power law ends.

=========  ======================  ==============================================================
symbol     name                    meaning
=========  ======================  ==============================================================
i          rank / index            1-based rank of an eigenvalue in decreasing order
s          ``exponent``            decay exponent, λ_i ≈ A i^(−s) (s = 1 + α for the latent law)
A          ``prefactor``           amplitude of the fitted power law
=========  ======================  ==============================================================

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
from .._validation import InputError, check_positive_float, check_positive_int

__all__ = [
    "PowerLawFit",
    "fit_power_law",
    "LocalSlopes",
    "local_slopes",
    "Cutoff",
    "find_cutoff",
    "numerical_rank",
    "extension_windows",
]


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
        """d log λ / d log i = −s, the number ``docs/model.md`` §6 quotes."""
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

    Examples
    --------
    >>> import numpy as np
    >>> s = local_slopes(np.arange(1, 1001, dtype=float) ** -1.5)
    >>> bool(np.allclose(s.slope, -1.5))
    True
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

    A cut-off (the rank M of a linear map, the end of a finite power law, docs/model.md §1.4, §6)
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
    """Number of eigenvalues above ``rtol`` × the largest (the rest is round-off or exact zero).

    Examples
    --------
    >>> import numpy as np
    >>> numerical_rank(np.array([1.0, 0.5, 0.1, 1e-14, 0.0]))
    3
    """
    lam = np.asarray(eigenvalues, dtype=np.float64)
    return int(np.count_nonzero(lam > check_positive_float("rtol", rtol) * lam.max()))


def extension_windows(rank: int, n: int) -> list[tuple[int, int]]:
    """Fit windows below and past a rank M (``docs/model.md`` §6): [10, M), [M, 3M), [3M, 8M).

    The first window starts at min(10, M // 4) (at least 2) so that it exists for small M. Windows
    are clipped to the first half of the n available ranks, because a finite spectrum bends down
    near its end (at min(N, P), docs/model.md §7), and those with fewer than 3 ranks are dropped.
    Returns ``(start, stop)`` pairs of 1-based ranks, stop excluded.

    Examples
    --------
    >>> extension_windows(100, 1000)
    [(10, 100), (100, 300), (300, 501)]
    """
    rank, n = check_positive_int("rank", rank), check_positive_int("n", n)
    edges = [max(2, min(10, rank // 4)), rank, 3 * rank, 8 * rank]
    out = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        hi = min(hi, n // 2 + 1)
        if hi - lo >= 3:
            out.append((lo, hi))
    return out
