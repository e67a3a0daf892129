r"""What a solvable-model fit identifies and implies: estimates or bounds, the plateau, the
breakdown, the spectrum, and the model's compute-optimal allocation.

**Identifiability** (:mod:`._identify`): M not identified from above (the data do not bend
toward it) is reported as ``None`` with the lower bound the data do set, and so is the amplitude
σ_w²λ₊, since in the power-law regime the loss fixes only σ_w²λ₊/M (given in the note); noise
not identified is ``None`` with an upper bound.

**Implications** (``docs/model.md`` §5), with the same bootstrap draws:

- ``spectral_exponent`` 1 + α: the data covariance spectrum falls as λ_I ∝ I^−(1+α);
- ``plateau`` σ_ε²: the loss as N, P → ∞ (test MSE);
- ``breakdown_n`` M/2: the min(N, P) where df₁ reaches M/2, the ``breakdown`` regime of
  :func:`scalinglaws.theory.regime`, where the power law ends;
- ``noise_crossover_n``: the n where the power-law excess
  :math:`(\sigma_w^2\lambda_+/M)\,C_\alpha^{1+\alpha} n^{-\alpha}` meets σ_ε².
"""

from __future__ import annotations

import warnings

import numpy as np

from .._loglog import loglog_fit
from .._validation import rewarn, warn_numerical
from ..model.spec import ModelSpec, Teacher
from ..model.spectrum import Spectrum
from ..theory import CostModel, compute_frontier, regime
from ..theory.asymptotics import power_law_prefactor
from . import _robust
from .allocation import Allocation, allocation_from_samples

__all__ = ["describe", "model_allocation", "spec_of", "to_public"]

_NAMES = ("alpha", "amplitude", "latent_dim", "noise_var")


def to_public(theta: np.ndarray) -> np.ndarray:
    """(u, log c, ℓ, v) (..., 4) to (α, σ_w²λ₊, M, σ_ε²)."""
    u, log_c, ell, v = np.moveaxis(np.asarray(theta, dtype=np.float64), -1, 0)
    with np.errstate(over="ignore"):
        return np.stack([np.exp(u), np.exp(log_c + ell), np.exp(ell), np.exp(v)], axis=-1)


def spec_of(params: np.ndarray, settings: dict) -> ModelSpec:
    """The :class:`ModelSpec` of public parameters (α, σ_w²λ₊, M, σ_ε²)."""
    alpha, amplitude, latent_dim, noise = (float(v) for v in params)
    lam = settings["lambda_plus"]
    return ModelSpec(
        spectrum=Spectrum.power_law(
            latent_dim=max(1, round(latent_dim)), alpha=alpha, lambda_plus=lam
        ),
        teacher=Teacher.isotropic(amplitude / lam),
        noise_var=noise,
        feature_var=settings["feature_var"],
    )


def _quantiles(values: np.ndarray) -> tuple[float, float]:
    values = values[np.isfinite(values)]
    if values.size < 2:
        return float("nan"), float("nan")
    low, high = np.percentile(values, [2.5, 97.5])
    return float(low), float(high)


def _summary(estimate, draws, *, identified=True) -> dict:
    """Estimate, standard error and 95 % interval of a derived quantity over the draws."""
    identified = identified and bool(np.isfinite(estimate))
    finite = draws[np.isfinite(draws)]
    se = float(np.std(finite, ddof=1)) if finite.size > 1 and identified else None
    return {
        "estimate": float(estimate) if identified else None,
        "stderr": se,
        "ci95": _quantiles(draws),
    }


def describe(
    cls, *, table, objective, theta, draws, ok, runs, converged, fixed, config, found, allocation
):
    """Build the :class:`~scalinglaws.analysis.model_fit.ModelFit` (see the module docstring);
    ``found`` is the :class:`~._identify.Identification` of M and the noise."""
    settings = {**config["options"], "ridge": _single_ridge(table)}
    point = to_public(theta)
    samples = to_public(draws) if config["n_boot"] else np.empty((0, 4))
    notes = {"starts": f"{runs.n_at_best} of {runs.n_starts} starts reached the best optimum"}
    spread = _robust.spread(samples)
    params = dict(zip(_NAMES, map(float, point), strict=True))
    stderr = dict(zip(_NAMES, map(float, spread.stderr), strict=True))
    ci95 = {
        n: (float(a), float(b)) for n, a, b in zip(_NAMES, spread.low, spread.high, strict=True)
    }
    n_max = float(np.max(np.minimum(table.x[:, 0], table.x[:, 1])))
    dev = found.deviance
    if found.m_above:
        notes["latent_dim"] = (
            f"not identified: the data do not bend toward a latent dimension (with no bend, M "
            f"at the top of the range searched, {np.exp(objective.surrogate.box[1, 1]):.3g}, "
            f"the deviance rises by only {dev.get('no_bend', float('nan')):.3g}, or the 95 % "
            f"interval reaches it). The largest min(N, P) measured is {n_max:.4g}; the power "
            f"law ends near min(N, P) = M/2, and the data set M > {found.m_low:.3g} (95 %)."
        )
        notes["amplitude"] = (
            "not identified: without a bend the loss fixes only sigma_w^2 lambda_+ / M = "
            f"{np.exp(theta[1]):.4g} (95 % interval {_ci_text(np.exp(draws[:, 1]))})."
        )
        params["latent_dim"] = params["amplitude"] = None
        stderr["latent_dim"] = stderr["amplitude"] = None
        ci95["latent_dim"], ci95["amplitude"] = (found.m_low, None), (None, None)
    elif found.m_below:
        notes["latent_dim"] = (
            f"not identified: every point lies past the bend (M < {found.m_high:.3g}, 95 %)."
        )
        params["latent_dim"], stderr["latent_dim"] = None, None
        ci95["latent_dim"] = (None, found.m_high)
    if found.noise_below:
        share = found.noise_high / float(table.y.min())
        notes["noise_var"] = (
            "not identified: the data need no noise (without it the deviance rises by only "
            f"{dev.get('no_noise', float('nan')):.3g}, below 3.84); sigma_eps^2 < "
            f"{found.noise_high:.3g} (95 %), {100 * share:.2g} % of the smallest loss "
            f"({table.y.min():.3g})."
        )
        params["noise_var"], stderr["noise_var"] = None, None
        ci95["noise_var"] = (0.0, found.noise_high)
    for name, value in fixed.items():
        notes[name] = f"fixed at {value:g}"
        params[name], stderr[name], ci95[name] = value, 0.0, (value, value)
    if found.alpha_edge:
        notes["alpha"] = (
            f"ended on the edge of the range searched ({point[0]:.3g}); widen alpha_range"
        )
        warn_numerical(f"'alpha' {notes['alpha']}.", stacklevel=5)
    if config["n_boot"] and not np.all(ok):
        notes["bootstrap"] = f"{int((~ok).sum())} of {ok.size} bootstrap refits did not converge"
    if table.exclusions:
        notes["excluded"] = "; ".join(f"{count} by {rule}" for rule, count in table.exclusions)
    exact_log = _exact_log_curve(point, table, settings)
    gap = float(np.max(np.abs(exact_log - objective.log_curve(theta))))
    notes["surrogate"] = (
        f"the interpolated theory is within {gap:.1e} (log) of the exact theory at the estimate"
    )
    implications = _implications(point, samples, theta, draws, found, table, settings)
    notes.update(implications.pop("notes"))
    h, _ = _robust.huber(exact_log - np.log(table.y), config["delta"])
    alloc = allocation(point, samples, table, settings, config)
    return cls(
        form="model",
        names=_NAMES,
        params=params,
        stderr=stderr,
        ci95=ci95,
        covariance=spread.covariance,
        bootstrap=samples,
        converged=bool(converged),
        n_starts=runs.n_starts,
        n_at_best=runs.n_at_best,
        objective=float(h.sum()),
        huber_delta=config["delta"],
        table=table,
        fixed=dict(fixed),
        notes=notes,
        allocation=alloc,
        point=point,
        implications=implications,
        settings=settings,
        edges=to_public(np.array(found.edges, dtype=float).reshape(-1, 4)),
    )


def _ci_text(values: np.ndarray) -> str:
    lo, hi = _quantiles(values)
    return f"[{lo:.4g}, {hi:.4g}]"


def _single_ridge(table) -> float | None:
    ridges = np.unique(table.frame["__ridge__"].to_numpy(dtype=np.float64))
    return float(ridges[0]) if ridges.size == 1 else None


def _exact_log_curve(point, table, settings) -> np.ndarray:
    from ..theory import theory_loss

    x = np.column_stack([table.x, table.frame["__ridge__"].to_numpy(dtype=np.float64)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        res = theory_loss(spec_of(point, settings), x[:, 0], x[:, 1], x[:, 2], method="compressed")
    rewarn(caught, "at the measured points, for the fitted model")
    loss = res.test_mse if settings["quantity"] == "test_mse" else res.excess
    with np.errstate(divide="ignore"):
        return np.log(loss)


def _implications(point, samples, theta, draws, found, table, settings) -> dict:
    alpha = samples[:, 0] if samples.size else np.empty(0)
    out = {"spectral_exponent": _summary(1.0 + point[0], 1.0 + alpha)}
    noise_ok = not found.noise_below
    m_ok = not (found.m_above or found.m_below)
    noise = samples[:, 3] if samples.size else np.empty(0)
    out["plateau"] = _summary(point[3], noise, identified=noise_ok)
    if not noise_ok:
        out["plateau"]["ci95"] = (0.0, found.noise_high)
    m_half = samples[:, 2] / 2 if samples.size else np.empty(0)
    out["breakdown_n"] = _summary(point[2] / 2, m_half, identified=m_ok)
    if found.m_above:
        out["breakdown_n"]["ci95"] = (found.m_low / 2, None)
    elif found.m_below:
        out["breakdown_n"]["ci95"] = (None, found.m_high / 2)

    def crossover(th: np.ndarray) -> np.ndarray:
        u, log_c, _, v = np.moveaxis(np.atleast_2d(th), -1, 0)
        a = np.exp(u)
        log_pref = np.log(power_law_prefactor(a))
        with np.errstate(over="ignore", invalid="ignore"):
            return np.exp((log_c + (1 + a) * log_pref - v) / a)

    cross = crossover(draws) if samples.size else np.empty(0)
    out["noise_crossover_n"] = _summary(crossover(theta)[0], cross, identified=noise_ok)
    if out["noise_crossover_n"]["estimate"] is None:
        out["noise_crossover_n"]["ci95"] = (out["noise_crossover_n"]["ci95"][0], None)
    regimes = _regimes(point, table, settings)
    out["regimes"] = {str(r): int(np.sum(regimes == r)) for r in np.unique(regimes)}
    out["notes"] = _statements(point, out, found, table)
    return out


def _regimes(point, table, settings) -> np.ndarray:
    x = np.column_stack([table.x, table.frame["__ridge__"].to_numpy(dtype=np.float64)])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        regimes = regime(spec_of(point, settings), x[:, 0], x[:, 1], x[:, 2], method="compressed")
    rewarn(caught, "at the measured points, for the fitted model")
    return regimes


def _statements(point, out, found, table) -> dict:
    spec = out["spectral_exponent"]
    lo, hi = spec["ci95"]
    interval = f" (95 % interval [{lo:.3g}, {hi:.3g}])" if np.isfinite([lo, hi]).all() else ""
    notes = {
        "spectrum": (
            f"the loss falls as n^-{point[0]:.3g}: a data spectrum lambda_I ~ "
            f"I^-{spec['estimate']:.3g}{interval}"
        )
    }
    if not found.noise_below:
        notes["plateau"] = f"the loss levels off at sigma_eps^2 = {point[3]:.3g} as N, P grow"
    counts = out["regimes"]
    if not (found.m_above or found.m_below):
        notes["breakdown"] = (
            f"the power law ends where df1 reaches M/2 (ridgeless: near min(N, P) = M/2 = "
            f"{point[2] / 2:.4g}); {counts.get('breakdown', 0)} of {table.n_points} points lie "
            "past it (theory.regime 'breakdown')"
        )
    ridge_limited = counts.get("ridge_limited", 0)
    if ridge_limited > table.n_points / 2:
        a = point[0]
        notes["regimes"] = (
            f"{ridge_limited} of {table.n_points} points are ridge-limited (theory.regime): "
            f"there the loss falls as (ridge/(N P))^{a / (1 + a):.3g} = alpha/(1+alpha), which "
            "pins alpha only loosely; a smaller ridge measures n^-alpha itself"
        )
    return notes


def model_allocation(point, samples, table, settings, config) -> Allocation | None:
    """The model's compute-optimal (N*, P*) under C = k N P (``theory.compute_frontier``) at the
    data's ridge (the optimal ridge when the data hold several), over the data's compute range;
    a, b, G from log-log fits of N* and P*; intervals from ``allocation_draws`` draws."""
    k = config["k"]
    product = np.prod(table.x, axis=1)
    budgets = np.geomspace(k * product.min(), k * product.max(), 8)
    if budgets[0] == budgets[-1]:
        return None
    ridge = settings["ridge"]

    def one(params: np.ndarray) -> np.ndarray:
        front = compute_frontier(
            spec_of(params, settings),
            budgets,
            cost=CostModel(per_product=k),
            ridge=ridge,
            method="compressed",
        )
        fit = loglog_fit(np.log(budgets / k), np.log(front.n_features))
        tpp = front.n_samples[-1] / front.n_features[-1]
        return np.array(
            [front.exponent_n_features, front.exponent_n_samples, np.exp(fit.intercept), tpp]
        )

    estimate = one(point)
    step = max(1, samples.shape[0] // max(config["draws"], 1))
    chosen = samples[::step][: config["draws"]] if config["draws"] else samples[:0]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draws = np.array([one(p) for p in chosen]).reshape(-1, 4)
    rewarn(caught, f"over {len(chosen)} bootstrap draw(s) of the allocation")
    where = "the optimal ridge" if ridge is None else f"ridge {ridge:g}"
    note = (
        f"the solvable model's optimum over N*P = C/k at {where}, budgets "
        f"{budgets[0]:.3g}..{budgets[-1]:.3g}; intervals from {draws.shape[0]} bootstrap draws"
    )
    return allocation_from_samples(
        estimate, draws, compute=float(budgets[-1]), cost_factor=k, note=note
    )
