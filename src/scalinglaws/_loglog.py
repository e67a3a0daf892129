r"""Ordinary least squares of a log against a log: the one straight-line fit of the package.

Power-law exponents of spectra (:mod:`scalinglaws.analysis.spectra`), of measured losses
(:mod:`scalinglaws.bridges.realdata`) and of the compute frontier (:mod:`scalinglaws.theory`) all
come from :func:`loglog_fit`.

.. math:: \log y = c + s \log x, \qquad
          \mathrm{se}(s) = \hat\sigma \Big/ \sqrt{\textstyle\sum_k (\log x_k - \overline{\log x})^2}
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

__all__ = ["LogLogFit", "loglog_fit"]


class LogLogFit(NamedTuple):
    """Slope s, its standard error, intercept c and the residual standard deviation (natural
    logs); the standard errors are NaN with fewer than 3 points."""

    slope: float
    stderr: float
    intercept: float
    residual_std: float


def loglog_fit(log_x: np.ndarray, log_y: np.ndarray) -> LogLogFit:
    """Fit ``log_y = c + s log_x`` by ordinary least squares (inputs already logged).

    NaN everywhere with fewer than 2 points or a non-finite value.

    Examples
    --------
    >>> x = np.log([1.0, 10.0, 100.0])
    >>> round(loglog_fit(x, -2.0 * x + 1.0).slope, 12)
    -2.0
    """
    x, y = np.asarray(log_x, dtype=np.float64), np.asarray(log_y, dtype=np.float64)
    nan = float("nan")
    if x.size < 2 or not (np.all(np.isfinite(x)) and np.all(np.isfinite(y))):
        return LogLogFit(nan, nan, nan, nan)
    x0, y0 = x.mean(), y.mean()
    dx = x - x0
    sxx = float(dx @ dx)
    slope = float(dx @ (y - y0)) / sxx
    intercept = float(y0 - slope * x0)
    if x.size < 3:
        return LogLogFit(slope, nan, intercept, nan)
    resid = y - intercept - slope * x
    resid_var = float(resid @ resid) / (x.size - 2)
    return LogLogFit(slope, float(np.sqrt(resid_var / sxx)), intercept, float(np.sqrt(resid_var)))
