r"""Claims: one measured number beside its prediction, a stated tolerance, and whether it holds.

A claim compares a *measured* value (a simulation's, with its standard error, or a theory's
number in a regime) with a *predicted* one (a closed form, the exact finite-M theory, or a bound)
under a tolerance whose reason is part of the record. Two kinds:

- **agreement**: holds when :math:`|m - p| \le \tau`, where τ is an absolute tolerance, e.g.
  :math:`\tau = \max(3\,\mathrm{SE}, r\,|p|)` (simulation against theory: three standard errors,
  or a relative margin for what the large-N, P limit leaves out, whichever is larger);
- **bound**: holds when :math:`m \le p` (``"<="``) or :math:`m \ge p` (``">="``), the bound chosen
  far outside what the opposite behaviour would give (the reason says why).

=============  =================================================================
name           meaning
=============  =================================================================
``measured``   value, standard error (or None), and what measured it
``predicted``  value, relation (``"=="``, ``"<="``, ``">="``) and what predicted it
``tolerance``  absolute τ of an agreement (0 for a bound), its rule and its reason
``holds``      whether the comparison holds
``figure``     the name of the figure that shows it
=============  =================================================================
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..._loglog import loglog_fit

__all__ = [
    "Claim",
    "FindingResult",
    "agreement",
    "bound",
    "mean_sem",
    "ratio_to_prediction",
    "seed_slopes",
    "worst_point",
]

_RELATIONS = ("==", "<=", ">=")


def _number(value) -> float | None:
    """A plain float, None where it is missing or not finite (claims are standard JSON)."""
    if value is None:
        return None
    v = float(value)
    return v if math.isfinite(v) else None


@dataclass(frozen=True)
class Claim:
    """One claim of a finding (see the module docstring for the fields).

    Examples
    --------
    >>> c = agreement("statistics", "C_1 = π/2.", measured=1.5708, predicted=np.pi / 2,
    ...               tolerance=1e-3, rule="absolute", reason="four digits", figure="f")
    >>> c.holds, c.to_record()["predicted"]["relation"]
    (True, '==')
    """

    finding: str
    claim: str
    measured: float | None
    measured_stderr: float | None
    measured_by: str
    predicted: float | None
    relation: str
    predicted_by: str
    tolerance: float
    rule: str
    reason: str
    figure: str
    holds: bool = field(init=False)

    def __post_init__(self) -> None:
        if self.relation not in _RELATIONS:
            raise ValueError(f"'relation' must be one of {_RELATIONS}. Got {self.relation!r}.")
        m, p = self.measured, self.predicted
        if m is None or p is None or not (math.isfinite(m) and math.isfinite(p)):
            ok = False  # a claim whose number could not be measured does not hold
        elif self.relation == "==":
            ok = abs(m - p) <= self.tolerance
        elif self.relation == "<=":
            ok = m <= p
        else:
            ok = m >= p
        object.__setattr__(self, "holds", bool(ok))

    def to_record(self) -> dict:
        """The claim as plain JSON (the records of ``claims.json``)."""
        return {
            "finding": self.finding,
            "claim": self.claim,
            "measured": {"value": _number(self.measured), "stderr": _number(self.measured_stderr),
                         "by": self.measured_by},  # fmt: skip
            "predicted": {"value": _number(self.predicted), "relation": self.relation,
                          "by": self.predicted_by},  # fmt: skip
            "tolerance": {"value": _number(self.tolerance), "rule": self.rule,
                          "reason": self.reason},  # fmt: skip
            "holds": self.holds,
            "figure": self.figure,
        }


def agreement(
    finding: str,
    claim: str,
    *,
    measured,
    predicted,
    tolerance: float,
    rule: str,
    reason: str,
    figure: str,
    stderr=None,
    measured_by: str = "simulation",
    predicted_by: str = "theory",
) -> Claim:
    """A claim that holds when ``|measured - predicted| <= tolerance`` (absolute).

    Examples
    --------
    >>> c = agreement('statistics', 'The exponent is 1.', measured=0.98, stderr=0.01, predicted=1.0,
    ...               tolerance=0.03, rule='3 SE', reason='seed spread', figure='f')
    >>> c.holds, c.to_record()['tolerance']['rule']
    (True, '3 SE')
    """
    return Claim(
        finding=finding, claim=claim, measured=_number(measured), measured_stderr=_number(stderr),
        measured_by=measured_by, predicted=_number(predicted), relation="==",
        predicted_by=predicted_by, tolerance=float(tolerance), rule=rule, reason=reason,
        figure=figure,
    )  # fmt: skip


def bound(
    finding: str,
    claim: str,
    *,
    measured,
    limit,
    relation: str,
    reason: str,
    figure: str,
    stderr=None,
    measured_by: str = "simulation",
    predicted_by: str = "bound",
) -> Claim:
    """A claim that holds when ``measured <= limit`` (``relation="<="``) or ``>=``.

    Examples
    --------
    >>> c = bound('breakdown', 'The peak is 3x higher.', measured=7.5, limit=3.0, relation='>=',
    ...           reason='theory: 7.6x', figure='f')
    >>> c.holds, c.tolerance
    (True, 0.0)
    """
    return Claim(
        finding=finding, claim=claim, measured=_number(measured), measured_stderr=_number(stderr),
        measured_by=measured_by, predicted=_number(limit), relation=relation,
        predicted_by=predicted_by, tolerance=0.0, rule="bound", reason=reason, figure=figure,
    )  # fmt: skip


def mean_sem(values, axis: int = -1) -> tuple[np.ndarray, np.ndarray]:
    r"""Mean and standard error :math:`s/\sqrt{n}` (``ddof=1``) along ``axis``.

    Examples
    --------
    >>> m, se = mean_sem(np.array([1.0, 2.0, 3.0]))
    >>> float(m), round(float(se), 6)
    (2.0, 0.57735)
    """
    x = np.asarray(values, dtype=np.float64)
    n = x.shape[axis]
    mean = x.mean(axis=axis)
    sem = x.std(axis=axis, ddof=1) / np.sqrt(n) if n > 1 else np.full_like(mean, np.nan)
    return mean, sem


def seed_slopes(x, curves) -> tuple[float, float]:
    r"""Log–log slope of each seed's curve, then their mean and standard error.

    .. math:: s_k = \frac{\sum_i (\log x_i - \overline{\log x})\,\log L_{ik}}
              {\sum_i (\log x_i - \overline{\log x})^2}, \qquad
              \hat s = \bar s \pm \mathrm{sd}(s_k)/\sqrt{n_\text{seeds}}

    Seeds are independent draws, so the spread of their slopes is an honest standard error
    (the points of one seed are nested draws and are not independent of each other).

    Parameters
    ----------
    x : array_like of shape (n_points,)
    curves : array_like of shape (n_points, n_seeds)

    Examples
    --------
    >>> x = np.array([1.0, 10.0, 100.0])
    >>> curves = np.stack([x ** -1.0, 2 * x ** -1.0], axis=1)
    >>> [round(v, 12) for v in seed_slopes(x, curves)]
    [-1.0, 0.0]
    """
    lx = np.log(np.asarray(x, dtype=np.float64))
    ly = np.log(np.asarray(curves, dtype=np.float64))
    slopes = [loglog_fit(lx, ly[:, k]).slope for k in range(ly.shape[1])]
    mean, sem = mean_sem(np.array(slopes))
    return float(mean), float(sem)


def worst_point(measured, stderr, predicted, *, rtol: float, n_se: float = 3.0) -> dict:
    r"""Where measured and predicted values differ most, in units of their allowed difference
    :math:`\tau_i = \max(n_\text{se}\,\mathrm{SE}_i,\ r\,|p_i|)`.

    Returns the ratio measured/predicted there (``ratio``, its standard error ``ratio_se``), the
    allowed relative difference ``allowed`` = τ/|p|, the flat ``index`` and the number of points.
    Non-finite predictions (a pole) are skipped.

    Examples
    --------
    >>> w = worst_point([1.0, 2.2], [0.01, 0.01], [1.0, 2.0], rtol=0.05)
    >>> w["index"], round(w["ratio"], 3), w["allowed"]
    (1, 1.1, 0.05)
    """
    m = np.asarray(measured, dtype=np.float64).ravel()
    s = np.nan_to_num(np.asarray(stderr, dtype=np.float64).ravel(), nan=0.0)
    p = np.asarray(predicted, dtype=np.float64).ravel()
    ok = np.isfinite(p) & (p != 0) & np.isfinite(m)
    allowed = np.maximum(n_se * s, rtol * np.abs(p))
    score = np.where(ok, np.abs(m - p) / np.where(ok, allowed, 1.0), -np.inf)
    k = int(np.argmax(score))
    return {"index": k, "ratio": float(m[k] / p[k]), "ratio_se": float(s[k] / abs(p[k])),
            "allowed": float(allowed[k] / abs(p[k])), "n_points": int(ok.sum())}  # fmt: skip


def ratio_to_prediction(curves, predicted) -> tuple[float, float]:
    r"""Each seed's mean ratio to the prediction over the points, then their mean and SE.

    .. math:: r_k = \frac{1}{n}\sum_i \frac{L_{ik}}{T_i}, \qquad
              \hat r = \bar r \pm \mathrm{sd}(r_k)/\sqrt{n_\text{seeds}}

    One number per scan, so a claim is one test (not one per point, which would fail by chance
    somewhere on a long scan); the exponent claims test the shape.

    Parameters
    ----------
    curves : array_like of shape (n_points, n_seeds)
    predicted : array_like of shape (n_points,)

    Examples
    --------
    >>> curves = np.array([[1.0, 1.2], [2.0, 1.8]])
    >>> [round(v, 6) for v in ratio_to_prediction(curves, [1.0, 2.0])]
    [1.025, 0.025]
    """
    c = np.asarray(curves, dtype=np.float64)
    t = np.asarray(predicted, dtype=np.float64).reshape(-1, 1)
    mean, sem = mean_sem((c / t).mean(axis=0))
    return float(mean), float(sem)


@dataclass(frozen=True)
class FindingResult:
    """What one finding computed.

    Attributes
    ----------
    name : str
        ``statistics``, ``nonlinear``, ``equiparameterization`` or ``breakdown``.
    title : str
        One line.
    claims : list of Claim
    data : dict of str to xarray.Dataset
        One Dataset per figure, keyed by the figure's name (drawn by
        :mod:`scalinglaws.plot.findings`).
    captions : dict of str to str
        One sentence per figure, saying what it shows (the figure's alt text in a report).
    settings : dict
        The settings used (plain JSON).
    notes : list of str
        What was left out and why (e.g. a dataset too small for a claim).
    """

    name: str
    title: str
    claims: list
    data: dict
    captions: dict
    settings: dict
    notes: list = field(default_factory=list)

    @property
    def holds(self) -> bool:
        """Whether every claim holds."""
        return all(c.holds for c in self.claims)
