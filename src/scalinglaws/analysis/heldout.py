r"""Held-out extrapolation: fit below a threshold, predict above it, and score the prediction.

The points with ``column <= threshold`` are fitted; the others are predicted and scored by the
root-mean-square error of the log loss,

.. math:: \mathrm{RMSE}_{\log} = \Big(\frac{1}{n_\text{held}} \sum_{i\,\text{held}}
          (\log\hat L_i - \log L_i)^2\Big)^{1/2},

and by how many held-out points fall inside the fit's 95 % *prediction* band (the bootstrap
spread of the curve plus the scatter of the fitted points' residuals, see
:meth:`scalinglaws.analysis.fits.ScalingLawFit.band`). ``column`` is any numeric column, or
``"compute"``: k times the product of the variables (k·N·D, or k·N·P for the solvable model).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .._errors import InputError
from ..results import finite_or_none
from ._fit_inputs import FitTable, column_values, split_table

__all__ = ["Heldout", "split_heldout", "score_heldout"]


@dataclass(frozen=True)
class Heldout:
    """How a fit on the points with ``column <= threshold`` predicts the points above it.

    Attributes
    ----------
    column : str
        The column that splits the points (``"compute"`` is k·Πx when absent from the data).
    threshold : float
        Points above it are held out.
    n_train, n_heldout : int
        Points fitted and points predicted.
    rmse_log : float
        Root-mean-square error of log L at the held-out points (natural log).
    n_inside : int
        Held-out points inside the prediction band of level ``level``.
    level : float
        Level of the band (0.95).
    log_residuals : ndarray of shape (n_heldout,)
        log L̂ − log L at the held-out points.
    table : FitTable
        The held-out points.
    """

    column: str
    threshold: float
    n_train: int
    n_heldout: int
    rmse_log: float
    n_inside: int
    level: float
    log_residuals: np.ndarray = field(repr=False)
    table: FitTable = field(repr=False)

    def to_dict(self) -> dict:
        """Plain JSON (no arrays)."""
        return {
            "column": self.column,
            "threshold": self.threshold,
            "n_train": self.n_train,
            "n_heldout": self.n_heldout,
            "rmse_log": finite_or_none(self.rmse_log),
            "n_inside_band": self.n_inside,
            "fraction_inside_band": finite_or_none(self.n_inside / self.n_heldout),
            "band_level": self.level,
        }


def split_heldout(
    table: FitTable, column: str | None, threshold: float | None, *, cost_factor: float,
    n_params: int,
) -> tuple[FitTable, FitTable | None]:  # fmt: skip
    """(training points, held-out points): ``column <= threshold`` and above it.

    ``(table, None)`` when neither is given. Refuses (:class:`~scalinglaws.InputError`) one
    without the other, and a split that leaves fewer than ``n_params`` points to fit or none to
    predict; see :func:`score_heldout` for an example.
    """
    if (column is None) != (threshold is None):
        raise InputError(
            "'heldout_column' and 'heldout_above' must be given together. Got "
            f"heldout_column={column!r}, heldout_above={threshold!r} instead."
        )
    if column is None:
        return table, None
    threshold = float(threshold)
    if not np.isfinite(threshold):
        raise InputError(f"'heldout_above' must be a finite number. Got {threshold!r} instead.")
    train, test = split_table(table, column_values(table, column, cost_factor), threshold)
    if test.n_points == 0 or train.n_points < n_params:
        raise InputError(
            f"'heldout_above' must leave at least {n_params} points to fit and 1 to predict. Got "
            f"{threshold:g}, which leaves {train.n_points} and {test.n_points}, instead."
        )
    return train, test


def score_heldout(
    fit, train: FitTable, test: FitTable, column: str, threshold: float, level: float = 0.95
) -> Heldout:
    """Score ``fit`` (anything with ``predict`` and ``band``) on the held-out points.

    The fits call this when given ``heldout_column`` and ``heldout_above``; the result is
    their ``heldout``.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> from scalinglaws.analysis.fits import fit_power_law_curve
    >>> x = np.geomspace(1e2, 1e6, 12)
    >>> noise = np.exp(0.01 * np.random.default_rng(0).standard_normal(12))
    >>> frame = pd.DataFrame({"x": x, "y": (1.0 + 20.0 * x**-0.4) * noise})
    >>> result = fit_power_law_curve(frame, x="x", y="y", n_bootstrap=200,
    ...                              heldout_column="x", heldout_above=1e5)
    >>> held = result.heldout
    >>> held.n_train, held.n_heldout, held.rmse_log < 0.05
    (9, 3, True)
    """
    log_pred = np.log(fit.predict(test.x))
    resid = log_pred - np.log(test.y)
    low, high = fit.band(test.x, level=level, kind="prediction")
    inside = (test.y >= low) & (test.y <= high)
    return Heldout(
        column=column,
        threshold=float(threshold),
        n_train=train.n_points,
        n_heldout=test.n_points,
        rmse_log=float(np.sqrt(np.mean(resid**2))),
        n_inside=int(inside.sum()),
        level=level,
        log_residuals=resid,
        table=test,
    )
