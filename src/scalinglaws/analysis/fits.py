r"""Fit measured scaling laws robustly, with bootstrap uncertainty, allocation and extrapolation.

The package face exposes this module as ``scalinglaws.fit``. Three forms (``docs/fitting.md``):

=================  =========================================================================
form               law, and its parameters
=================  =========================================================================
``power_law``      :math:`L(x) = E + A x^{-a}` (E may be fixed, e.g. to 0): ``E``, ``A``, ``a``
``chinchilla``     :math:`L(N, D) = E + A N^{-\alpha} + B D^{-\beta}` (Hoffmann et al. 2022,
                   arXiv:2203.15556, Approach 3): ``E``, ``A``, ``B``, ``alpha``, ``beta``
``model``          the solvable model's test loss (:func:`fit_model`): ``alpha``,
                   ``amplitude``, ``latent_dim``, ``noise_var``
=================  =========================================================================

**Estimator** (the standard one for this job, Hoffmann et al. 2022): minimize
:math:`\sum_i H_\delta(\log\hat L_i - \log L_i)`, Huber with δ = 1e-3, where
:math:`\log\hat L` is a log-sum-exp of :math:`(\log A - \alpha\log N, \log B - \beta\log D,
\log E)`, by L-BFGS-B with analytic gradients and tight tolerances from a grid of starts
(:mod:`._robust`, :mod:`._forms`). **Uncertainty**: the nonparametric bootstrap over points
(or over whole groups, ``group=``), 1000 resamples by default, each refit warm-started from the
estimate; standard errors, 95 % percentile intervals, the covariance and the sample itself.
**Allocation** under C = k N D (:mod:`.allocation`), **held-out extrapolation**
(:mod:`.heldout`), inputs and exclusions (:mod:`._fit_inputs`).

Main entry points: :func:`fit` (any form), :func:`fit_power_law_curve`, :func:`fit_chinchilla`,
:func:`fit_model`; results :class:`ScalingLawFit`, :class:`ModelFit`.

Examples
--------
>>> import numpy as np, pandas as pd
>>> n = np.geomspace(1e6, 1e9, 12)
>>> frame = pd.DataFrame({"N": n, "loss": 2.0 + 300.0 * n**-0.3})
>>> result = fit_power_law_curve(frame, x="N", y="loss", n_bootstrap=50)
>>> {k: round(v, 4) for k, v in result.params.items()}
{'E': 2.0, 'A': 300.0, 'a': 0.3}
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from .._errors import InputError, NumericalWarning
from .._threads import single_threaded
from .._validation import check_choice, check_positive_float, check_positive_int, warn_numerical
from . import _robust
from ._fit_inputs import FitTable, column_names, fit_table
from ._fit_result import FitResult
from ._forms import (
    CHINCHILLA,
    FORMS,
    POWER_LAW,
    PowerSumForm,
    PowerSumObjective,
    log_predict,
    start_thetas,
)
from .allocation import Allocation, chinchilla_allocation
from .heldout import Heldout, score_heldout, split_heldout
from .model_fit import ModelFit, fit_model

__all__ = [
    "FORM_NAMES",
    "fit",
    "fit_power_law_curve",
    "fit_chinchilla",
    "fit_model",
    "ScalingLawFit",
    "ModelFit",
    "Allocation",
    "Heldout",
    "NumericalWarning",
]

#: The forms :func:`fit` knows.
FORM_NAMES = ("power_law", "chinchilla", "model")
#: A term whose share of the fitted loss stays below this at every point is "negligible".
NEGLIGIBLE = 1e-6


class ScalingLawFit(FitResult):
    """A fitted ``power_law`` or ``chinchilla`` law (fields: :class:`._fit_result.FitResult`)."""

    def log_curve(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """log L̂ for public parameters (..., q) at points x (n, K): shape (..., n)."""
        return log_predict(FORMS[self.form], params, np.log(x))


def fit(data, *, form: str = "chinchilla", **options) -> FitResult:
    r"""Fit ``form`` (``"power_law"``, ``"chinchilla"`` or ``"model"``) to ``data``.

    Every form minimizes the same robust objective over the points i,

    .. math:: \sum_i H_\delta\big(\log\hat L(x_i) - \log L_i\big),

    with :math:`\hat L` the form's law (see the module docstring and ``docs/fitting.md``).

    Parameters
    ----------
    data : DataFrame, xarray.Dataset, str or Path
        The points (a .csv or .parquet path is read).
    form : {"chinchilla", "power_law", "model"}, default "chinchilla"
        The law to fit.
    **options
        Those of :func:`fit_power_law_curve`, :func:`fit_chinchilla` or :func:`fit_model`.

    Returns
    -------
    ScalingLawFit or ModelFit

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> x = np.geomspace(1e3, 1e7, 10)
    >>> frame = pd.DataFrame({"C": x, "L": 0.8 + 40.0 * x**-0.5})
    >>> result = fit(frame, form="power_law", x="C", y="L", n_bootstrap=0)
    >>> result.form, round(result.params["E"], 4), result.n_points
    ('power_law', 0.8, 10)
    """
    form = check_choice("form", form, FORM_NAMES)
    if form == "model":
        return fit_model(data, **options)
    return _fit_power_sum(data, FORMS[form], **options)


def fit_power_law_curve(data, *, x: str | Sequence[str], y: str, **options) -> ScalingLawFit:
    r"""Fit :math:`L(x) = E + A x^{-a}` robustly in log space (see the module docstring).

    Parameters
    ----------
    data : DataFrame, xarray.Dataset, str or Path
        The points (a .csv or .parquet path is read).
    x, y : str
        Columns of the variable and of the loss (all > 0).
    **options
        As for :func:`fit_chinchilla`; ``fixed={"E": 0.0}`` fits a pure power law.

    Returns
    -------
    ScalingLawFit
        ``params`` ``E``, ``A``, ``a``; no allocation (one variable).

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> d = np.geomspace(1e8, 1e11, 10)
    >>> frame = pd.DataFrame({"D": d, "loss": 5e3 * d**-0.3})
    >>> result = fit_power_law_curve(frame, x="D", y="loss", fixed={"E": 0.0}, n_bootstrap=20)
    >>> round(result.params["a"], 6), result.params["E"], result.notes["E"]
    (0.3, 0.0, 'fixed at 0')
    """
    return _fit_power_sum(data, POWER_LAW, x=x, y=y, **options)


def fit_chinchilla(
    data, *, x: str | Sequence[str] = ("N", "D"), y: str = "loss", **options
) -> ScalingLawFit:
    r"""Fit :math:`L(N, D) = E + A N^{-\alpha} + B D^{-\beta}` (Hoffmann et al. 2022, Approach 3).

    Parameters
    ----------
    data : DataFrame, xarray.Dataset, str or Path
        The points (a .csv or .parquet path is read).
    x : two column names, default ("N", "D")
        Parameters N and training tokens D (a comma-separated string works too).
    y : str, default "loss"
        The loss column (> 0).
    huber_delta : float, default 1e-3
        δ of the Huber loss on log residuals.
    n_bootstrap : int, default 1000
        Bootstrap resamples (0: no uncertainty).
    rng : int, SeedSequence or Generator, default 0
        Seeds the bootstrap.
    group : str, optional
        Resample whole groups of points (e.g. one training run's checkpoints, or a seed).
    exclude : str, optional
        A pandas query; the rows it selects are excluded (and counted).
    drop_invalid : bool, default False
        Exclude rows with a non-finite or non-positive value (refused otherwise).
    fixed : dict, optional
        Hold ``E`` or an exponent at a value, e.g. ``{"E": 0.0}``.
    starts : sequence of dict, optional
        Start only from these public parameter values (default: a grid of 192 starts).
    cost_factor : float, default 6
        k in C = k N D for the allocation.
    heldout_column, heldout_above : str and float, optional
        Fit the points with ``heldout_column <= heldout_above`` and predict the rest
        (``"compute"`` = k·N·D when the data have no such column).
    progress : callable, optional
        ``progress(done, total)`` during the bootstrap.

    Returns
    -------
    ScalingLawFit
        With :class:`~.allocation.Allocation` at the largest compute of the fitted points.

    Examples
    --------
    >>> import numpy as np, pandas as pd
    >>> grid = np.meshgrid(np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e12, 6))
    >>> n, d = (g.ravel() for g in grid)
    >>> loss = 1.7 + 400 * n**-0.34 + 1000 * d**-0.28
    >>> result = fit_chinchilla(pd.DataFrame({"N": n, "D": d, "loss": loss}), n_bootstrap=0)
    >>> round(result.params["alpha"], 4), round(result.allocation.a, 4)
    (0.34, 0.4516)
    """
    return _fit_power_sum(data, CHINCHILLA, x=x, y=y, **options)


def _fit_power_sum(
    data,
    form: PowerSumForm,
    *,
    x,
    y: str,
    huber_delta: float = 1e-3,
    n_bootstrap: int = 1000,
    rng=0,
    group: str | None = None,
    exclude: str | None = None,
    drop_invalid: bool = False,
    fixed: Mapping[str, float] | None = None,
    starts: Sequence[Mapping[str, float]] | None = None,
    cost_factor: float = 6.0,
    heldout_column: str | None = None,
    heldout_above: float | None = None,
    progress=None,
) -> ScalingLawFit:
    names = column_names("x", x, (form.n_vars, form.n_vars))
    delta = check_positive_float("huber_delta", huber_delta)
    n_boot = check_positive_int("n_bootstrap", n_bootstrap, minimum=0)
    k = check_positive_float("cost_factor", cost_factor)
    fixed = form.check_fixed(dict(fixed or {}))
    table = fit_table(data, x=names, y=y, exclude=exclude, drop_invalid=drop_invalid, group=group)
    n_free = len(form.names) - len(fixed)
    table, test = split_heldout(
        table, heldout_column, heldout_above, cost_factor=k, n_params=n_free
    )
    with single_threaded():  # L-BFGS-B's tiny BLAS calls
        gen = np.random.default_rng(rng)
        result = _estimate(table, form, delta, n_boot, gen, fixed, starts, k, progress)
        if test is not None:
            scored = score_heldout(result, table, test, heldout_column, heldout_above)
            result = _replace(result, heldout=scored)
    return result


def _replace(result: FitResult, **changes) -> FitResult:
    import dataclasses

    return dataclasses.replace(result, **changes)


def _objective(table: FitTable, form: PowerSumForm, delta: float, fixed: dict):
    log_x = np.log(table.x)
    center = log_x.mean(axis=0)
    theta = np.zeros(len(form.names))
    free = np.ones(theta.size, dtype=bool)
    for name, value in fixed.items():
        j = form.names.index(name)
        with np.errstate(divide="ignore"):
            theta[j] = np.log(value) if name == "E" else value
        free[j] = False
    objective = PowerSumObjective(form, log_x - center, np.log(table.y), delta, theta, free)
    return objective, center


def _check_points(table: FitTable, n_free: int, form: PowerSumForm) -> None:
    if table.n_points < n_free:
        raise InputError(
            f"'data' must have at least {n_free} points to fit the {form.name} form's {n_free} "
            f"free parameters. Got {table.n_points} instead."
        )
    if table.groups is not None and table.groups.max() < 1:
        raise InputError(
            f"'group' must split the points into at least 2 groups to resample. Got one group "
            f"in column '{table.group_name}' instead."
        )


def _estimate(table, form, delta, n_boot, gen, fixed, starts, cost_factor, progress):
    objective, center = _objective(table, form, delta, fixed)
    _check_points(table, int(objective.free.sum()), form)
    bounds = form.bounds(objective.log_y)[objective.free]
    ones = np.ones(table.n_points)
    runs = _robust.multistart(
        objective, start_thetas(objective, form, center, starts, fixed), bounds, ones
    )
    best = runs.best
    point = form.to_public(objective.full(best.x), center)
    notes = {"starts": f"{runs.n_at_best} of {runs.n_starts} starts reached the best optimum"}
    _bound_notes(best.x, bounds, form, objective, point, notes)
    weights = _robust.bootstrap_weights(table.n_points, n_boot, gen, table.groups)
    draws, ok = _robust.refit_all(objective, best.x, bounds, weights, progress=progress,
                                  total=n_boot)  # fmt: skip
    samples = form.to_public(objective.full(draws), center) if n_boot else np.empty((0, point.size))
    if n_boot and not np.all(ok):
        notes["bootstrap"] = f"{int((~ok).sum())} of {n_boot} bootstrap refits did not converge"
    spread = _robust.spread(samples)
    for name, value in fixed.items():
        notes[name] = f"fixed at {value:g}"
    h, _ = _robust.huber(objective.residuals(objective.full(best.x)), delta)
    _exclusion_note(table, notes)
    allocation = None
    if form is CHINCHILLA:
        compute = float(cost_factor * np.max(np.prod(table.x, axis=1)))
        allocation = chinchilla_allocation(point, samples, compute=compute, cost_factor=cost_factor)
    if not best.converged:
        warn_numerical(
            f"The {form.name} fit did not converge ({best.message}); its estimate may not be the "
            "optimum. Check the data, or pass starts= nearer the answer.",
            stacklevel=5,
        )
    return ScalingLawFit(
        form=form.name,
        names=form.names,
        params=dict(zip(form.names, map(float, point), strict=True)),
        stderr=dict(zip(form.names, map(float, spread.stderr), strict=True)),
        ci95={
            n: (float(lo), float(hi))
            for n, lo, hi in zip(form.names, spread.low, spread.high, strict=True)
        },
        covariance=spread.covariance,
        bootstrap=samples,
        converged=best.converged,
        n_starts=runs.n_starts,
        n_at_best=runs.n_at_best,
        objective=float(h.sum()),
        huber_delta=delta,
        table=table,
        fixed=fixed,
        notes=notes,
        allocation=allocation,
        point=point,
    )


def _exclusion_note(table: FitTable, notes: dict) -> None:
    if table.exclusions:
        notes["excluded"] = "; ".join(f"{count} by {rule}" for rule, count in table.exclusions)


def _bound_notes(x, bounds, form, objective, point, notes) -> None:
    """Warn (and note) for each free parameter that ends on a bound of its box, and for each
    term that is negligible at every point (its parameters are then not constrained)."""
    lower, upper = _robust.at_bound(x, bounds)
    free_names = [n for n, f in zip(form.names, objective.free, strict=True) if f]
    for j, name in enumerate(free_names):
        if not (lower[j] or upper[j]):
            continue
        side = "lower" if lower[j] else "upper"
        value = point[form.names.index(name)]
        hint = {
            ("E", "lower"): "the data show no floor; fit with fixed={'E': 0}",
            ("E", "upper"): "the power-law terms vanish; the data may not fall with x",
        }.get((name, side), "the data do not constrain it; widen the data's range or fix it")
        _note(notes, name, f"'{name}' ended on its {side} bound ({value:.4g}): {hint}")
    shares = objective.term_shares(objective.full(x))  # (n, K + 1): power terms, then the floor
    terms = [(f"'{a}' and '{s}'", a) for a, s in zip(form.amplitudes, form.exponents, strict=True)]
    if objective.free[0]:
        terms.append(("'E'", "E"))
    for k, (label, key) in enumerate(terms):
        if key not in notes and np.max(shares[:, k]) < NEGLIGIBLE:
            extra = "; fit with fixed={'E': 0}" if key == "E" else "; try other starts"
            _note(
                notes,
                key,
                f"the term of {label} is below {NEGLIGIBLE:g} of the loss at every "
                f"point, so the data do not constrain it{extra}",
            )


def _note(notes: dict, key: str, text: str) -> None:
    notes[key] = text
    warn_numerical(text + ".", stacklevel=7)
