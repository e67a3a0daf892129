r"""Fit the solvable model itself to measured losses, and say what the fit means.

From (N, P, loss) measurements — a ``simulate`` or ``theory_grid`` Dataset, a study's table, or
a user's own — :func:`fit_model` estimates the identifiable parameters of the linear
random-feature model of ``docs/model.md`` §5 with the isotropic teacher:

==========  ==================  ==============================================================
symbol      name                meaning
==========  ==================  ==============================================================
α           ``alpha``           spectral exponent, λ_I = λ₊ I^-(1+α); the loss falls as n^-α
σ_w²λ₊      ``amplitude``       teacher power times the top eigenvalue
M           ``latent_dim``      latent dimension: where the power law ends
σ_ε²        ``noise_var``       label-noise variance: the loss floor
N, P, γ     columns             features, samples, ridge (γ enters as γ/λ₊, ``lambda_plus``)
==========  ==================  ==============================================================

**Estimator.** The same robust objective as the other forms: the Huber sum of
:math:`\log\hat L_i - \log L_i` with :math:`\hat L` the loss of ``docs/model.md`` §5,
minimized by L-BFGS-B with analytic gradients. Each (α, M) costs one batched
:func:`~scalinglaws.theory.theory_loss` over all points; c = σ_w²λ₊/M and σ_ε² enter linearly
(:mod:`._surrogate`), so the fit tabulates the theory on a coarse (log α, log M) grid, starts
L-BFGS-B from the best nodes, then refines the grid around the optimum (wide enough for the
bootstrap's spread, widened again if a draw lands on its edge) and bootstraps on it. The
reported ``objective`` is recomputed with the exact theory at the estimate.

**Identifiability** (:mod:`._model_report`). M is identified only if the data bend toward it:
when the bootstrap's 95 % interval of M reaches the top of the searched range (1000 times the
largest N or P), M and the amplitude (known only as σ_w²λ₊/M in the power-law regime) are
reported as ``None`` with the lower bound the data do set. The noise is identified only if
its interval stays away from the bottom of its range (far below the smallest loss); else it is
``None`` with an upper bound.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass, field, replace

import numpy as np

from .._errors import InputError
from .._threads import single_threaded
from .._validation import check_choice, check_positive_float, check_positive_int, rewarn
from ..model.spec import ModelSpec
from ..theory import theory_loss
from . import _robust
from ._fit_inputs import FitTable, column_names, fit_table
from ._fit_result import FitResult
from ._identify import identify
from ._model_grid import COARSE, FINE, MAX_FINE, fine_box, grid, ranges_of, widen
from ._model_objective import ModelObjective, check_model_fixed, node_starts
from ._model_report import describe, model_allocation, spec_of
from ._surrogate import QUANTITIES, build_surrogate
from .heldout import score_heldout, split_heldout

__all__ = ["MODEL_NAMES", "ModelFit", "fit_model"]

#: Public parameter names of the solvable model.
MODEL_NAMES = ("alpha", "amplitude", "latent_dim", "noise_var")
#: Starts from the coarse grid, pilot bootstrap draws, widenings of the fine grid.
_N_STARTS, _PILOT, _WIDENINGS = 8, 48, 3
#: Bootstrap draws used for bands (each is one theory call).
_BAND_DRAWS = 200


@dataclass(frozen=True, kw_only=True)
class ModelFit(FitResult):
    """A fitted solvable model (fields: :class:`._fit_result.FitResult`), plus

    Attributes
    ----------
    implications : dict
        What the fit says: ``spectral_exponent`` (1 + α, the data spectrum's decay, in the
        vocabulary of :class:`~scalinglaws.analysis.powerlaw.PowerLawFit`), ``plateau`` (σ_ε²,
        the loss as N, P → ∞), ``breakdown_n`` (M/2: the min(N, P) where df₁ reaches M/2 and
        the power law ends), ``noise_crossover_n`` (where the power-law excess meets σ_ε²),
        each a dict with ``estimate``, ``stderr``, ``ci95`` (``None`` where not identified);
        ``regimes``: how many points lie in each regime of :func:`scalinglaws.theory.regime`.
    settings : dict
        ``quantity``, ``lambda_plus``, ``feature_var`` and ``ridge`` (the data's one ridge, the
        default for predictions; ``None`` if they hold several).
    """

    implications: dict = field(default_factory=dict)
    settings: dict = field(default_factory=dict)
    edges: np.ndarray = field(repr=False, default_factory=lambda: np.empty((0, 4)))

    def as_points(self, x: object) -> np.ndarray:
        """(n, 3) points N, P, γ: x with the variable columns (and ``ridge``), or (n, 2)/(n, 3)."""
        if hasattr(x, "keys") or hasattr(x, "columns"):
            base = super().as_points(x)
            ridge = x["ridge"] if "ridge" in x else self._default_ridge()
            return np.column_stack([base, np.broadcast_to(np.asarray(ridge, float), len(base))])
        arr = np.atleast_2d(np.asarray(x, dtype=np.float64))
        if arr.shape[-1] == 2:
            arr = np.column_stack([arr, np.full(len(arr), self._default_ridge())])
        if arr.shape[-1] != 3 or not np.all(np.isfinite(arr) & (arr >= 0)):
            raise InputError(
                f"'x' must be points (N, P) or (N, P, ridge) >= 0. Got shape {arr.shape}."
            )
        return arr

    def _default_ridge(self) -> float:
        ridge = self.settings["ridge"]
        if ridge is None:
            raise InputError("'x' must include the ridge: the data hold several ridges.")
        return ridge

    def spec(self, draw: np.ndarray | None = None) -> ModelSpec:
        """The fitted model as a :class:`ModelSpec` (the estimate, or a bootstrap draw)."""
        return spec_of(self.point if draw is None else draw, self.settings)

    def log_curve(self, params: np.ndarray, x: np.ndarray) -> np.ndarray:
        """log L̂ from the theory for parameters (4,) or (B, 4) at points (n, 3)."""
        draws = np.atleast_2d(params)
        out = np.empty((draws.shape[0], x.shape[0]))
        with warnings.catch_warnings(record=True) as caught:  # once each, with a count
            warnings.simplefilter("always")
            for b, draw in enumerate(draws):
                res = theory_loss(self.spec(draw), x[:, 0], x[:, 1], x[:, 2], method="compressed")
                loss = res.test_mse if self.settings["quantity"] == "test_mse" else res.excess
                with np.errstate(divide="ignore"):
                    out[b] = np.log(loss)
        rewarn(caught, f"over {draws.shape[0]} parameter draw(s) of the fitted model")
        return out[0] if np.ndim(params) == 1 else out

    def predict(self, x: object) -> np.ndarray:
        """The fitted model's loss at ``x`` (N, P[, ridge]), shape (n,)."""
        return np.exp(self.log_curve(self.point, self.as_points(x)))

    @property
    def log_residuals(self) -> np.ndarray:
        """log L̂ − log L at the fitted points (exact theory)."""
        return self.log_curve(self.point, _points(self.table)) - np.log(self.table.y)

    def band_edges(self) -> np.ndarray:
        """The fits at the bounds the data set on what they do not identify (``._identify``)."""
        return self.edges

    def band_draws(self) -> np.ndarray:
        """Up to 200 evenly spaced bootstrap draws (each band point needs one theory call)."""
        step = max(1, self.bootstrap.shape[0] // _BAND_DRAWS)
        return self.bootstrap[::step]


def _points(table: FitTable) -> np.ndarray:
    return np.column_stack([table.x, table.frame["__ridge__"].to_numpy(dtype=np.float64)])


def fit_model(
    data,
    *,
    x=("n_features", "n_samples"),
    y: str = "test_mse",
    quantity: str = "test_mse",
    ridge: float | str | None = None,
    lambda_plus: float = 1.0,
    feature_var: float = 1.0,
    huber_delta: float = 1e-3,
    n_bootstrap: int = 1000,
    rng=0,
    group: str | None = None,
    exclude: str | None = None,
    drop_invalid: bool = False,
    fixed: dict | None = None,
    cost_factor: float = 6.0,
    heldout_column: str | None = None,
    heldout_above: float | None = None,
    alpha_range: tuple[float, float] = (0.05, 4.0),
    latent_dim_range: tuple[float, float] | None = None,
    allocation_draws: int = 50,
    progress=None,
) -> ModelFit:
    r"""Fit α, σ_w²λ₊, M and σ_ε² of the solvable model to measured (N, P, loss).

    Parameters
    ----------
    data : DataFrame, xarray.Dataset, str or Path
        The points (e.g. ``simulate(...)`` with ``y="test_mse"`` and ``group="seed"``).
    x : two column names, default ("n_features", "n_samples")
        N and P.
    y : str, default "test_mse"
        The measured loss (> 0).
    quantity : {"test_mse", "excess"}
        Whether ``y`` includes the label noise (test MSE) or not (excess).
    ridge : float or str, optional
        γ of every point, or the column holding it (default: the column ``ridge`` if present,
        else 0).
    lambda_plus, feature_var : float, default 1
        λ₊ and σ_u², held fixed (with γ > 0 the loss depends on γ/λ₊).
    fixed : dict, optional
        Hold ``alpha``, ``latent_dim`` or ``noise_var`` at a value (``noise_var=0``: no noise).
    alpha_range : (float, float), default (0.05, 4)
        Range of α searched.
    latent_dim_range : (float, float), optional
        Range of M searched (default from 1/4 of the smallest min(N, P) to 1000 times the
        largest N or P, at most 1e9).
    allocation_draws : int, default 50
        Bootstrap draws for the intervals of the model's compute-optimal allocation.
    huber_delta, n_bootstrap, rng, group, exclude, drop_invalid, cost_factor, heldout_column,
    heldout_above, progress
        As for :func:`scalinglaws.analysis.fits.fit_chinchilla` (``"compute"`` = k·N·P).

    Returns
    -------
    ModelFit
        ``params`` with ``None`` for what the data do not identify (reasons in ``notes``),
        ``implications`` (plateau, breakdown, spectrum) and the model's ``allocation``.

    Notes
    -----
    The fitted loss is the deterministic equivalent of ``docs/model.md`` §5 for the power-law
    spectrum :math:`\lambda_I = \lambda_+ I^{-(1+\alpha)}`, I = 1..M, and the isotropic teacher:

    .. math:: \hat L(N, P) = \frac{\sigma_w^2\lambda_+}{M}\, e^{\Phi(N, P; \alpha, M)}
              + \sigma_\varepsilon^2\, e^{\Gamma(N, P; \alpha, M)},

    scored by :math:`\sum_i H_\delta(\log\hat L_i - \log L_i)` as the other forms
    (``docs/fitting.md``).

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum, theory_grid
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=400, alpha=1.0), noise_var=1e-4)
    >>> grid = [50, 100, 200, 400, 800]
    >>> ds = theory_grid(spec, n_features=grid, n_samples=grid, ridges=[1e-2])
    >>> result = fit_model(ds, n_bootstrap=0, allocation_draws=0)
    >>> {k: float(f"{v:.3g}") for k, v in result.params.items()}
    {'alpha': 1.0, 'amplitude': 1.0, 'latent_dim': 400.0, 'noise_var': 0.0001}
    >>> result.notes["spectrum"]
    'the loss falls as n^-1: a data spectrum lambda_I ~ I^-2'
    """
    names = column_names("x", x, (2, 2))
    quantity = check_choice("quantity", quantity, QUANTITIES)
    config = {
        "delta": check_positive_float("huber_delta", huber_delta),
        "n_boot": check_positive_int("n_bootstrap", n_bootstrap, minimum=0),
        "k": check_positive_float("cost_factor", cost_factor),
        "draws": check_positive_int("allocation_draws", allocation_draws, minimum=0),
        "progress": progress,
        "options": {
            "quantity": quantity,
            "lambda_plus": check_positive_float("lambda_plus", lambda_plus),
            "feature_var": check_positive_float("feature_var", feature_var),
        },
    }
    fixed = check_model_fixed(fixed or {})
    table = fit_table(data, x=names, y=y, exclude=exclude, drop_invalid=drop_invalid, group=group)
    table = _with_ridge(table, ridge)
    n_free = 4 - len(fixed)
    table, test = split_heldout(
        table, heldout_column, heldout_above, cost_factor=config["k"], n_params=n_free
    )
    if table.n_points < n_free:
        raise InputError(
            f"'data' must have at least {n_free} points to fit the model's {n_free} free "
            f"parameters. Got {table.n_points} instead."
        )
    ranges = ranges_of(table, alpha_range, latent_dim_range)
    with single_threaded():  # L-BFGS-B's tiny BLAS calls
        result = _estimate(table, fixed, ranges, config, np.random.default_rng(rng))
        if test is not None:
            scored = score_heldout(result, table, test, heldout_column, heldout_above)
            result = replace(result, heldout=scored)
    return result


def _with_ridge(table: FitTable, ridge) -> FitTable:
    frame = table.frame.copy()
    if ridge is None:
        ridge = "ridge" if "ridge" in frame.columns else 0.0
    if isinstance(ridge, str):
        if ridge not in frame.columns:
            raise InputError(f"'ridge' must be a number or a column of the data. Got {ridge!r}.")
        values = frame[ridge].to_numpy(dtype=np.float64)
    else:
        values = np.full(len(frame), float(ridge))
    if not np.all(np.isfinite(values) & (values >= 0)):
        raise InputError(f"'ridge' must be finite and >= 0 at every point. Got {ridge!r} instead.")
    frame["__ridge__"] = values
    return replace(table, frame=frame)


def _objective(surrogate, table, delta, fixed) -> ModelObjective:
    theta = np.zeros(4)
    free = np.ones(4, dtype=bool)
    if "alpha" in fixed:
        theta[0], free[0] = np.log(fixed["alpha"]), False
    if "latent_dim" in fixed:
        theta[2], free[2] = surrogate.ell.nodes[0], False
    if "noise_var" in fixed:
        with np.errstate(divide="ignore"):
            theta[3], free[3] = np.log(fixed["noise_var"]), False
    return ModelObjective(surrogate, np.log(table.y), delta, theta, free)


def _bounds(surrogate, log_y: np.ndarray) -> np.ndarray:
    """Box for the full θ: the surrogate's box, and (log c, v) around the data."""
    vals = surrogate.values
    q_c = log_y - vals[:, :, 0]
    q_v = log_y - vals[:, :, 1]
    box = surrogate.box
    return np.array(
        [box[0], [q_c.min() - 10.0, q_c.max() + 10.0], box[1], [q_v.min() - 30.0, q_v.max() + 2.0]]
    )


def _fit_on(surrogate, table, config, fixed, starts, weights):
    objective = _objective(surrogate, table, config["delta"], fixed)
    bounds = _bounds(surrogate, objective.log_y)
    free_bounds = bounds[objective.free]
    if starts is None:
        starts = node_starts(objective, bounds, _N_STARTS)
    runs = _robust.multistart(
        objective, np.atleast_2d(starts)[:, objective.free], free_bounds, weights
    )
    return objective, bounds, runs


def _profile_builder(table, points, fixed, box, ranges, config):
    """``ℓ -> (objective, bounds)`` on a one-dimensional surrogate in α at M = round(e^ℓ),
    over the fine box's α range widened by 0.3 (for the profiles of :mod:`._identify`)."""
    cache: dict = {}
    u_box = np.array([[max(ranges[0, 0], box[0, 0] - 0.3), min(ranges[0, 1], box[0, 1] + 0.3)]])

    def at_latent_dim(ell: float):
        m = max(1, int(round(float(np.exp(ell)))))
        if m not in cache:
            held = {**fixed, "latent_dim": m}
            u_nodes, m_nodes = grid(np.vstack([u_box, [[ell, ell]]]), held, FINE, None)
            surrogate = build_surrogate(u_nodes, m_nodes, points, **config["options"])
            objective = _objective(surrogate, table, config["delta"], held)
            cache[m] = (objective, _bounds(surrogate, objective.log_y))
        return cache[m]

    return at_latent_dim


def _estimate(table, fixed, ranges, config, gen) -> ModelFit:
    points = _points(table)
    ones = np.ones(table.n_points)
    coarse = build_surrogate(*grid(ranges, fixed, COARSE), points, **config["options"])
    rough, rough_bounds, runs = _fit_on(coarse, table, config, fixed, None, ones)
    theta = rough.full(runs.best.x)
    pilot = _robust.refit_all(
        rough,
        runs.best.x,
        rough_bounds[rough.free],
        _robust.bootstrap_weights(table.n_points, _PILOT, gen, table.groups),
    )[0]
    box = fine_box(rough.full(pilot) if pilot.size else theta[None], theta, ranges)
    for _ in range(_WIDENINGS + 1):
        fine = build_surrogate(*grid(box, fixed, FINE, MAX_FINE), points, **config["options"])
        objective, bounds, polish = _fit_on(fine, table, config, fixed, theta[None], ones)
        theta = objective.full(polish.best.x)
        weights = _robust.bootstrap_weights(table.n_points, config["n_boot"], gen, table.groups)
        draws, ok = _robust.refit_all(
            objective, polish.best.x, bounds[objective.free], weights,
            progress=config["progress"], total=config["n_boot"],
        )  # fmt: skip
        draws = objective.full(draws)
        wider = widen(box, ranges, np.vstack([draws, theta[None]]), fixed)
        if wider is None:
            break
        box = wider
    at_latent_dim = _profile_builder(table, points, fixed, box, ranges, config)
    found = identify(objective, bounds, theta, draws, ranges, fixed, at_latent_dim)
    return describe(
        ModelFit,
        table=table,
        objective=objective,
        theta=theta,
        draws=draws,
        ok=ok,
        runs=runs,
        converged=polish.best.converged,
        fixed=fixed,
        config=config,
        found=found,
        allocation=model_allocation,
    )
