r"""Finding (iv): where the scaling law breaks down (``docs/model.md`` §1.4, §5).

- **Double descent.** Without a ridge the loss has a simple pole at N = P,
  :math:`L \propto 1/(1 - n/m)`; the optimal ridge removes it.
- **The end of the power law.** As n = min(N, P) approaches M the loss falls below the power law
  :math:`C_\alpha^{1+\alpha} n^{-\alpha}/M`; noiseless, it is 0 once N, P ≥ M.
- **The noise plateau.** With label noise and N ≥ M the loss no longer depends on N:

  .. math:: \text{excess} = \frac{\sigma_\varepsilon^2 M}{P - M},

  so the variance-limited 1/P law replaces :math:`P^{-\alpha}` past P = M.

Settings: M = 2000, P = 400, σ_ε² = 10⁻⁵ (double descent); M = 1000 scans of N (P = 8M) and of P
(N = 8M) up to 0.8 M (end of the power law); M = 200, P = 1000, σ_ε² = 10⁻³, N = M … 8M (plateau);
M = 200, α = 2, σ_ε² = 10⁻⁹, P from 10 to 80 at N = 8M and from 10 M to 100 M at N = M (the
change of exponent; N = M keeps the solve full-rank past M, where any N ≥ M gives one loss).

=========  ================  ==============================================
symbol     name              meaning
=========  ================  ==============================================
σ_ε²       ``noise_var``     label-noise variance
n, m       (none)            min(N, P), max(N, P)
=========  ================  ==============================================
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...model.spec import ModelSpec
from ...model.spectrum import Spectrum
from ...theory import asymptotic_excess, optimal_ridge, theory_loss
from ._claims import FindingResult, agreement, bound, mean_sem, ratio_to_prediction, seed_slopes
from ._jobs import SimulationJob, run_inline

__all__ = ["breakdown_finding"]

NAME = "breakdown"
_DD = {"latent_dim": 2000, "n_samples": 400, "noise_var": 1e-5}
_DD_N = (25, 50, 100, 200, 300, 360, 440, 560, 800, 1600, 3200)
_END_M, _END_N = 1000, (10, 30, 100, 300, 800)
_PLATEAU = {"latent_dim": 200, "n_samples": 1000, "noise_var": 1e-3}
_PLATEAU_N = (200, 400, 800, 1600)
_CHANGE = {"latent_dim": 200, "alpha": 2.0, "noise_var": 1e-9, "n_features_below": 1600,
           "n_features_past": 200}
_BELOW, _PAST = (10, 20, 40, 80), (2000, 4000, 8000, 20000)


def _spec(latent_dim: int, alpha: float = 1.0, noise_var: float = 0.0) -> ModelSpec:
    return ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha),
                     noise_var=noise_var)  # fmt: skip


def _jobs(seeds: int) -> tuple[dict, np.ndarray]:
    dd = _spec(_DD["latent_dim"], noise_var=_DD["noise_var"])
    star = optimal_ridge(dd, np.array(_DD_N), _DD["n_samples"]).ridge
    end = _spec(_END_M)
    change = _spec(_CHANGE["latent_dim"], _CHANGE["alpha"], _CHANGE["noise_var"])
    jobs = {
        "dd_ridgeless": SimulationJob(dd, _DD_N, (_DD["n_samples"],), (0.0,), seeds),
        "dd_optimal": SimulationJob(dd, _DD_N, (_DD["n_samples"],),
                                    tuple(sorted(set(map(float, star)))), seeds),
        "end_n": SimulationJob(end, _END_N, (8 * _END_M,), (0.0,), seeds),
        "end_p": SimulationJob(end, (8 * _END_M,), _END_N, (0.0,), seeds),
        "end_zero": SimulationJob(end, (_END_M,), (10, int(1.2 * _END_M)), (0.0,), seeds),
        "plateau": SimulationJob(_spec(_PLATEAU["latent_dim"], noise_var=_PLATEAU["noise_var"]),
                                 _PLATEAU_N, (_PLATEAU["n_samples"],), (0.0,), seeds),
        "change_below": SimulationJob(change, (_CHANGE["n_features_below"],), _BELOW, (0.0,),
                                      seeds),
        "change_past": SimulationJob(change, (_CHANGE["n_features_past"],), _PAST, (0.0,), seeds),
    }  # fmt: skip
    return jobs, star


def _double_descent(sims: dict, star: np.ndarray, seeds: int) -> tuple[list, xr.Dataset]:
    spec = _spec(_DD["latent_dim"], noise_var=_DD["noise_var"])
    n, p = np.array(_DD_N), _DD["n_samples"]
    zero = sims["dd_ridgeless"].excess.isel(n_samples=0, ridge=0).values  # (N, seed)
    opt = sims["dd_optimal"].excess.isel(n_samples=0)
    tuned = np.array([opt.sel(n_features=k, ridge=g).values for k, g in zip(n, star, strict=True)])
    peak = int(np.argmin(np.abs(np.log(n / p))))
    quarter = int(np.flatnonzero(n == p // 4)[0])
    height, height_se = mean_sem(zero[peak] / zero[quarter])
    cured, cured_se = mean_sem(tuned[peak] / zero[peak])
    eps = np.array([1e-2, 1e-3])
    pole = theory_loss(spec, p * (1 - eps), p).excess
    order = float(np.log(pole[1] / pole[0]) / np.log(eps[0] / eps[1]))
    away = np.abs(np.log(n / p)) > np.log(1.4)
    expect_zero = theory_loss(spec, n, p, 0.0).excess
    expect_opt = optimal_ridge(spec, n, p).excess
    both = np.concatenate([zero[away], tuned])
    fit, fit_se = ratio_to_prediction(both, np.concatenate([expect_zero[away], expect_opt]))
    theory_height = float(expect_zero[peak] / expect_zero[quarter])
    claims = [
        agreement(NAME, "Without a ridge the theory's loss has a simple pole at N = P: "
                  "L ∝ |1 − N/P|^−1.", measured=order, predicted=1.0, tolerance=0.05,
                  rule="absolute 0.05", reason="order from N = P(1 − 10⁻²) and P(1 − 10⁻³); "
                  "the regular part adds O(10⁻²)", figure="breakdown_double_descent",
                  measured_by="theory", predicted_by="pole of order 1"),
        bound(NAME, f"Simulated without a ridge, the loss at N = {n[peak]} (next to P = {p}) is "
              f"more than 3× the loss at N = P/4.", measured=height, stderr=height_se, limit=3.0,
              relation=">=", reason=f"theory: {theory_height:.1f}×; with γ* the curve falls "
              "monotonically, so a factor 3 is the peak", figure="breakdown_double_descent",
              measured_by=f"simulation, {seeds} seeds", predicted_by="double descent"),
        bound(NAME, f"The optimal ridge cures it: at N = {n[peak]} the simulated loss with γ* is "
              "below a quarter of the ridgeless one.", measured=cured, stderr=cured_se,
              limit=0.25, relation="<=", reason="theory: "
              f"{float(expect_opt[peak] / expect_zero[peak]):.2f}",
              figure="breakdown_double_descent", measured_by=f"simulation, {seeds} seeds",
              predicted_by="γ* removes the peak"),
        agreement(NAME, "Simulation equals the theory along the double-descent scan (γ = 0 "
                  "away from the peak, γ* everywhere; mean ratio).", measured=fit,
                  stderr=fit_se, predicted=1.0, tolerance=max(3 * fit_se, 0.05),
                  rule="max(3 SE, 5 %)", reason="near N = P without a ridge the mean over seeds "
                  "has infinite expectation, so those points are left out",
                  figure="breakdown_double_descent",
                  measured_by=f"simulation / theory, {seeds} seeds", predicted_by="1"),
    ]  # fmt: skip
    dense = np.geomspace(20, 4000, 120)
    dense = np.where(dense == p, dense * 1.001, dense)
    z_mean, z_sem = mean_sem(zero)
    t_mean, t_sem = mean_sem(tuned)
    data = xr.Dataset(
        {"theory_ridgeless": ("n_dense", theory_loss(spec, dense, p, 0.0).excess),
         "theory_optimal": ("n_dense", optimal_ridge(spec, dense, p).excess),
         "sim_ridgeless": ("n_features", z_mean), "sim_ridgeless_sem": ("n_features", z_sem),
         "sim_optimal": ("n_features", t_mean), "sim_optimal_sem": ("n_features", t_sem)},
        coords={"n_dense": dense, "n_features": n}, attrs={**_DD, "alpha": 1.0},
    )  # fmt: skip
    return claims, data


def _end_of_power_law(sims: dict, seeds: int) -> tuple[list, xr.Dataset]:
    spec, m, other = _spec(_END_M), _END_M, 8 * _END_M
    x = np.array(_END_N, dtype=float)
    claims, out = [], {}
    for axis, job in (("n_features", "end_n"), ("n_samples", "end_p")):
        ds = sims[job].excess.isel(ridge=0).squeeze(drop=True).transpose(..., "seed")
        curve = ds.sel({axis: list(_END_N)}).values
        nf, ns = (x, other) if axis == "n_features" else (other, x)
        power = asymptotic_excess(spec, nf, ns)
        exact = theory_loss(spec, nf, ns).excess
        ratio, se = mean_sem(curve[-1] / power[-1])
        symbol = "N" if axis == "n_features" else "P"
        claims.append(bound(
            NAME, f"As {symbol} approaches M = {m}, the simulated loss falls below the power "
            f"law: at {symbol} = 0.8 M it is below half of C_α^(1+α) n^−α/(M(1 − n/m)).",
            measured=ratio, stderr=se, limit=0.5, relation="<=",
            reason=f"theory: {float(exact[-1] / power[-1]):.2f}; at {symbol} ≤ M/10 the loss "
            f"is within {100 * float(np.max(np.abs(exact[:3] / power[:3] - 1))):.0f} % of the "
            "power law", figure="breakdown_end_of_power_law",
            measured_by=f"simulation / power law, {seeds} seeds",
            predicted_by="finite M"))  # fmt: skip
        fit, fit_se = ratio_to_prediction(curve, exact)
        claims.append(agreement(
            NAME, f"Along the {symbol} scan to 0.8 M simulation equals the exact theory "
            "(mean ratio).", measured=fit, stderr=fit_se, predicted=1.0,
            tolerance=max(3 * fit_se, 0.05), rule="max(3 SE, 5 %)",
            reason="the theory is the large-N, P limit", figure="breakdown_end_of_power_law",
            measured_by=f"simulation / theory, {seeds} seeds", predicted_by="1"))  # fmt: skip
        out[axis] = (curve, exact, power)
    zero = sims["end_zero"].excess.isel(n_features=0, ridge=0).values  # (P, seed)
    claims.append(bound(
        NAME, "Without noise the loss is 0 once N, P ≥ M (N = M, P = 1.2M): below 10⁻¹⁰ of "
        "the loss at P = 10.", measured=float(np.max(zero[1] / zero[0])), limit=1e-10,
        relation="<=",
        reason="exact recovery; what is left is round-off of the solve (relative 1e-12 or less)",
        figure="breakdown_end_of_power_law", measured_by=f"simulation, worst of {seeds} seeds",
        predicted_by="0"))  # fmt: skip
    data = xr.Dataset(
        {f"{tag}_{k}": ("x", v) for axis, tag in (("n_features", "n"), ("n_samples", "p"))
         for k, v in zip(("mean", "theory", "power_law"),
                         (mean_sem(out[axis][0])[0], out[axis][1], out[axis][2]), strict=True)}
        | {f"{tag}_sem": ("x", mean_sem(out[axis][0])[1])
           for axis, tag in (("n_features", "n"), ("n_samples", "p"))},
        coords={"x": x}, attrs={"latent_dim": m, "other": other},
    )  # fmt: skip
    dense = np.geomspace(10, 0.99 * m, 60)
    data["theory_dense"] = ("x_dense", theory_loss(spec, dense, other).excess)
    data["power_law_dense"] = ("x_dense", asymptotic_excess(spec, dense, other))
    return claims, data.assign_coords(x_dense=dense)


def _plateau(sims: dict, seeds: int) -> tuple[list, xr.Dataset]:
    m, p, noise = _PLATEAU["latent_dim"], _PLATEAU["n_samples"], _PLATEAU["noise_var"]
    curve = sims["plateau"].excess.isel(n_samples=0, ridge=0).values  # (N, seed)
    spread = float(np.max((curve.max(axis=0) - curve.min(axis=0)) / curve.mean(axis=0)))
    mean, se = mean_sem(curve[0])
    predicted = noise * m / (p - m)
    claims = [
        bound(NAME, f"With label noise and N ≥ M the loss no longer depends on N: for each "
              f"seed it is the same at N = {', '.join(map(str, _PLATEAU_N))} (M = {m}).",
              measured=spread, limit=1e-6, relation="<=",
              reason="ridgeless with N ≥ M the fit is least squares on x whatever N is; what "
              "differs is round-off", figure="breakdown_plateau",
              measured_by=f"simulation, largest relative spread over {seeds} seeds",
              predicted_by="independent of N"),
        agreement(NAME, f"The plateau is σ_ε² M/(P − M) (σ_ε² = {noise:g}, M = {m}, P = {p}).",
                  measured=mean, stderr=se, predicted=predicted,
                  tolerance=max(3 * se, 0.02 * predicted), rule="max(3 SE, 2 %)",
                  reason="the exact finite-P mean M/(P − M − 1) differs by "
                  f"{100 / (p - m - 1):.2f} %; 3 SE for the noise draws",
                  figure="breakdown_plateau", measured_by=f"simulation, {seeds} seeds",
                  predicted_by="σ_ε² M/(P − M)"),
    ]  # fmt: skip
    means, sems = mean_sem(curve)
    dense = np.geomspace(20, 8 * m, 80)
    spec = _spec(m, noise_var=noise)
    data = xr.Dataset(
        {"sim": ("n_features", means), "sim_sem": ("n_features", sems),
         "theory": ("n_dense", theory_loss(spec, np.where(dense == p, p * 1.001, dense), p)
                    .excess)},
        coords={"n_features": list(_PLATEAU_N), "n_dense": dense},
        attrs={**_PLATEAU, "plateau": predicted},
    )  # fmt: skip
    return claims, data


def _change_of_exponent(sims: dict, seeds: int) -> tuple[list, xr.Dataset]:
    c = _CHANGE
    spec = _spec(c["latent_dim"], c["alpha"], c["noise_var"])
    claims, rows = [], []
    for xs, predicted, label in ((_BELOW, c["alpha"], "P ≪ M"), (_PAST, 1.0, "P ≫ M")):
        tag = "below" if label == "P ≪ M" else "past"
        n = c[f"n_features_{tag}"]
        curve = sims[f"change_{tag}"].excess.isel(n_features=0, ridge=0).values
        rows.append(curve)
        x = np.array(xs, dtype=float)
        slope, se = seed_slopes(x, curve)
        exact = theory_loss(spec, n, x).excess
        finite = -np.polyfit(np.log(x), np.log(exact), 1)[0]
        law = "P^−α" if label == "P ≪ M" else "1/P"
        claims.append(agreement(
            NAME, f"For {label} (P = {xs[0]} … {xs[-1]}, M = {c['latent_dim']}, α = "
            f"{c['alpha']:g}, N = {n}, σ_ε² = {c['noise_var']:g}) the simulated loss falls as "
            f"{law}: with the exact theory's exponent at the same points, {predicted:g} plus a "
            f"finite-size correction of {finite - predicted:+.3f}.", measured=-slope, stderr=se,
            predicted=finite, tolerance=max(3 * se, 0.05 * finite), rule="max(3 SE, 5 %)",
            reason=f"exponent fitted per seed ({seeds} seeds), their spread the SE; 5 % for the "
            "finite-size error of the large-N, P theory. The gap to the asymptotic exponent is "
            "the correction stated in the claim, not part of the tolerance",
            figure="breakdown_change_of_exponent", measured_by=f"simulation, {seeds} seeds",
            predicted_by="exact theory, fitted at the same points"))  # fmt: skip
    all_p = np.array((*_BELOW, *_PAST), dtype=float)
    mean, sem = mean_sem(np.concatenate(rows))
    dense = np.geomspace(5, 1e5, 120)
    dense = dense[np.abs(dense / c["latent_dim"] - 1) > 0.02]
    data = xr.Dataset(
        {"sim": ("n_samples", mean), "sim_sem": ("n_samples", sem),
         "theory_below": ("p_dense", theory_loss(spec, c["n_features_below"], dense).excess),
         "theory_past": ("p_dense", theory_loss(spec, c["n_features_past"], dense).excess)},
        coords={"n_samples": all_p, "p_dense": dense}, attrs=dict(c),
    )  # fmt: skip
    return claims, data


def breakdown_finding(*, quick: bool = False, seeds: int | None = None, rng: int = 0,
                      simulator=run_inline) -> FindingResult:  # fmt: skip
    r"""Finding (iv): double descent, the end of the power law at M, and the noise plateau.

    .. math:: \text{excess}\big|_{\gamma = 0} \propto \frac{1}{1 - n/m}, \qquad
              \text{excess}\big|_{N \ge M} = \frac{\sigma_\varepsilon^2 M}{P - M}

    Parameters
    ----------
    quick : bool, default False
        8 seeds instead of 24 (the same grids).
    seeds : int, optional
    rng : int, default 0
    simulator : callable, default :func:`~scalinglaws.analysis.findings.run_inline`

    Returns
    -------
    FindingResult
        Figures ``breakdown_double_descent``, ``breakdown_end_of_power_law``,
        ``breakdown_plateau`` and ``breakdown_change_of_exponent``.

    Examples
    --------
    >>> breakdown_finding(quick=True).holds  # doctest: +SKIP
    True
    """
    seeds = seeds or (8 if quick else 24)
    jobs, star = _jobs(seeds)
    sims = simulator(jobs, rng)
    dd, dd_data = _double_descent(sims, star, seeds)
    end, end_data = _end_of_power_law(sims, seeds)
    plateau, plateau_data = _plateau(sims, seeds)
    change, change_data = _change_of_exponent(sims, seeds)
    return FindingResult(
        name=NAME,
        title="Breakdown: double descent at N = P, the end of the power law at M, the noise "
        "plateau",
        claims=dd + end + plateau + change,
        data={"breakdown_double_descent": dd_data, "breakdown_end_of_power_law": end_data,
              "breakdown_plateau": plateau_data, "breakdown_change_of_exponent": change_data},
        captions={
            "breakdown_double_descent": f"Excess loss against N at P = {_DD['n_samples']} "
            f"(M = {_DD['latent_dim']}, σ_ε² = {_DD['noise_var']:g}): ridgeless, with its peak "
            "at N = P, and at the optimal ridge, without it (theory lines, simulation points).",
            "breakdown_end_of_power_law": f"Excess loss against N (P = 8M) and against P "
            f"(N = 8M) at M = {_END_M}: simulation, exact theory, and the power law (dashed), "
            "which the loss leaves as n approaches M.",
            "breakdown_plateau": f"Excess loss against N at P = {_PLATEAU['n_samples']} with "
            f"label noise (M = {_PLATEAU['latent_dim']}): past N = M it stays at "
            "σ_ε² M/(P − M) (dotted).",
            "breakdown_change_of_exponent": f"Excess loss against P at N ≥ M "
            f"(M = {_CHANGE['latent_dim']}, α = {_CHANGE['alpha']:g}, tiny noise): P^−α below "
            "M, then the 1/P law of the noise past M.",
        },
        settings={"double_descent": _DD, "end_latent_dim": _END_M, "plateau": _PLATEAU,
                  "change": _CHANGE, "seeds": seeds, "rng": rng},
    )  # fmt: skip
