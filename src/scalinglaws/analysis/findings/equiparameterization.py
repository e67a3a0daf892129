r"""Finding (iii): equiparameterization (``docs/model.md`` §1.3, §5).

With the ridge tuned, :math:`\gamma^* = \arg\min_\gamma L(N, P, \gamma)` (non-zero even without
label noise), the loss at a fixed budget N·P = C is smallest at N = P, and the compute-optimal
frontier is

.. math:: N^* = P^* \propto C^{1/2}, \qquad L^* \propto C^{-\alpha/2}.

Without the tuned ridge (γ → 0) the same line has its *largest* loss at N = P, the
double-descent pole.

What is computed: the theory's γ* and a simulated ladder of ridges around it (common draws, so
the comparison between ridges is sharp); the theory along N·P = C at M = 2·10⁴ and simulations
along N·P = 2¹⁶ at M = 2000, with γ* and with a ridge a thousand times smaller; the frontier's
exponents at M = 10⁹ (compressed sums) for α ∈ {0.5, 1, 2}, and simulations at N = P = √C.

=========  ================  ==============================================
symbol     name              meaning
=========  ================  ==============================================
γ*         ``ridge``         optimal ridge (:func:`~scalinglaws.theory.optimal_ridge`)
C          ``budget``        N·P
a, b       exponents         N* ∝ C^a, L* ∝ C^−b
=========  ================  ==============================================
"""

from __future__ import annotations

import numpy as np
import xarray as xr

from ...model.spec import ModelSpec
from ...model.spectrum import Spectrum
from ...theory import compute_frontier, optimal_ridge, theory_loss
from ._claims import FindingResult, agreement, bound, mean_sem, ratio_to_prediction, seed_slopes
from ._jobs import SimulationJob, run_inline

__all__ = ["equiparameterization_finding"]

NAME = "equiparameterization"
_M = 2000
_LADDER = (0.0, 0.01, 0.1, 1.0, 10.0, 100.0)  # × γ*
_LADDER_AT = (256, 1024)
_BUDGET = 2**16
_RATIOS = (1 / 16, 1 / 4, 1.0, 4.0, 16.0)
_SMALL_RIDGE = 1e-6
_FRONTIER_N = (32, 64, 128, 256)
_ALPHAS = (0.5, 1.0, 2.0)


def _spec(alpha: float = 1.0, latent_dim: int = _M) -> ModelSpec:
    return ModelSpec(spectrum=Spectrum.power_law(latent_dim=latent_dim, alpha=alpha))


def _budget_points() -> tuple[np.ndarray, np.ndarray]:
    r = np.array(_RATIOS)
    return np.rint(np.sqrt(_BUDGET * r)).astype(int), np.rint(np.sqrt(_BUDGET / r)).astype(int)


def _jobs(seeds: int) -> tuple[dict, dict]:
    spec = _spec()
    star = float(optimal_ridge(spec, *_LADDER_AT).ridge)
    nf, ns = _budget_points()
    budget_star = optimal_ridge(spec, nf, ns).ridge
    n = np.array(_FRONTIER_N)
    frontier_star = optimal_ridge(spec, n, n).ridge
    jobs = {
        "ladder": SimulationJob(spec, (_LADDER_AT[0],), (_LADDER_AT[1],),
                                tuple(star * k for k in _LADDER), seeds),
        **{f"budget_{k}": SimulationJob(spec, (int(a),), (int(b),), (_SMALL_RIDGE, float(g)),
                                        seeds)
           for k, (a, b, g) in enumerate(zip(nf, ns, budget_star, strict=True))},
        "frontier": SimulationJob(spec, _FRONTIER_N, _FRONTIER_N,
                                  tuple(sorted(map(float, frontier_star))), seeds),
    }  # fmt: skip
    return jobs, {"star": star, "budget_star": budget_star, "frontier_star": frontier_star}


def _cell(ds: xr.Dataset, n: int, p: int, ridge: float) -> np.ndarray:
    """Per-seed excess of one cell, shape (n_seeds,)."""
    return ds.excess.sel(n_features=n, n_samples=p, ridge=ridge).values


def _budget_cells(sims: dict, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-seed excess at the tiny ridge and at γ* of budget point ``k``."""
    ds = sims[f"budget_{k}"].excess.isel(n_features=0, n_samples=0)
    return ds.isel(ridge=0).values, ds.isel(ridge=1).values


def _ladder_claims(sim: xr.Dataset, star: float, seeds: int) -> tuple[list, xr.Dataset]:
    n, p = _LADDER_AT
    ridges = sim.ridge.values
    curves = sim.excess.isel(n_features=0, n_samples=0).values  # (ridge, seed)
    theory = theory_loss(_spec(), n, p, ridges).excess
    best = int(np.argmin(np.abs(ridges - star)))
    others = np.delete(curves, best, axis=0)
    ratio, se = mean_sem(curves[best] / others.min(axis=0))
    fit, fit_se = ratio_to_prediction(curves, theory)
    claims = [
        bound(NAME, f"The theory's optimal ridge γ* = {star:.3g} (N = {n}, P = {p}, no label "
              "noise) gives the lowest simulated loss of a ladder γ*·{0, 0.01, 0.1, 1, 10, 100}.",
              measured=ratio, stderr=se, limit=1.0, relation="<=",
              reason="common draws for all ridges, so the ratio to the best other rung is "
              "sharp; γ* > 0 although there is no noise", figure="equiparameterization_ridge",
              measured_by=f"simulation L(γ*)/min L(other), {seeds} seeds",
              predicted_by="γ* is optimal"),  # fmt: skip
        agreement(NAME, "Along the ridge ladder simulation equals the theory (mean ratio).",
                  measured=fit, stderr=fit_se, predicted=1.0, tolerance=max(3 * fit_se, 0.05),
                  rule="max(3 SE, 5 %)", reason="the theory is the large-N, P limit",
                  figure="equiparameterization_ridge",
                  measured_by=f"simulation / theory, {seeds} seeds", predicted_by="1"),
    ]  # fmt: skip
    mean, sem = mean_sem(curves)
    dense = np.geomspace(star * 1e-3, star * 1e3, 60)
    data = xr.Dataset(
        {"sim": ("ridge", mean), "sim_sem": ("ridge", sem),
         "theory_dense": ("ridge_dense", theory_loss(_spec(), n, p, dense).excess)},
        coords={"ridge": ridges, "ridge_dense": dense},
        attrs={"n_features": n, "n_samples": p, "optimal_ridge": star, "latent_dim": _M},
    )  # fmt: skip
    return claims, data


def _budget_claims(sims: dict, star: np.ndarray, seeds: int) -> tuple[list, xr.Dataset]:
    nf, ns = _budget_points()
    mid = _RATIOS.index(1.0)
    cells = [_budget_cells(sims, k) for k in range(nf.size)]
    small, tuned = np.array([c[0] for c in cells]), np.array([c[1] for c in cells])
    best, best_se = mean_sem(tuned[mid] / np.delete(tuned, mid, axis=0).min(axis=0))
    worst, worst_se = mean_sem(small[mid] / np.delete(small, mid, axis=0).max(axis=0))
    scan = optimal_ridge(_spec(latent_dim=20_000), *_ratio_line(1e6))
    log_ratio = float(np.log10(_ratio_line(1e6)[0] / _ratio_line(1e6)[1])[np.argmin(scan.excess)])
    claims = [
        agreement(NAME, "With the optimal ridge, the theory's loss along N·P = 10⁶ "
                  "(M = 2·10⁴) is smallest at N = P.", measured=log_ratio, predicted=0.0,
                  tolerance=0.05, rule="half a grid step (0.1 decade)",
                  reason="the ratio N/P is scanned on a grid of 0.1 decade",
                  figure="equiparameterization_budget", measured_by="theory, log10(N/P) at "
                  "the minimum", predicted_by="N = P"),
        bound(NAME, "Simulated along N·P = 2¹⁶ at each point's γ*, the loss at N = P = 256 is "
              "below that at N/P = 1/16, 1/4, 4 and 16.", measured=best, stderr=best_se,
              limit=1.0, relation="<=", reason="theory: L(N = P) / min(others) = "
              f"{_theory_ratio(nf, ns, star, mid, min):.3f}",
              figure="equiparameterization_budget",
              measured_by=f"simulation L(N = P)/min L(others), {seeds} seeds",
              predicted_by="N = P is best"),
        bound(NAME, f"Without the optimal ridge (γ = {_SMALL_RIDGE:g}, a thousandth of γ*) "
              "N = P is the worst place on N·P = 2¹⁶.", measured=worst, stderr=worst_se,
              limit=1.0, relation=">=", reason="theory: L(N = P) / max(others) = "
              f"{_theory_ratio(nf, ns, np.full(nf.size, _SMALL_RIDGE), mid, max):.2f} "
              "(the double-descent pole)", figure="equiparameterization_budget",
              measured_by=f"simulation L(N = P)/max L(others), {seeds} seeds",
              predicted_by="N = P is worst"),
    ]  # fmt: skip
    dense_nf, dense_ns = _ratio_line(_BUDGET)
    dims = ("ratio",)
    t_mean, t_sem = mean_sem(tuned, axis=1)
    s_mean, s_sem = mean_sem(small, axis=1)
    data = xr.Dataset(
        {"sim_optimal": (dims, t_mean), "sim_optimal_sem": (dims, t_sem),
         "sim_small": (dims, s_mean), "sim_small_sem": (dims, s_sem),
         "theory_optimal": ("ratio_dense", optimal_ridge(_spec(), dense_nf, dense_ns).excess),
         "theory_small": ("ratio_dense",
                          theory_loss(_spec(), dense_nf, dense_ns, _SMALL_RIDGE).excess)},
        coords={"ratio": list(_RATIOS), "ratio_dense": dense_nf / dense_ns},
        attrs={"budget": _BUDGET, "small_ridge": _SMALL_RIDGE, "latent_dim": _M},
    )  # fmt: skip
    return claims, data


def _ratio_line(budget: float, points: int = 41) -> tuple[np.ndarray, np.ndarray]:
    ratio = np.geomspace(1 / 16, 16, points) if budget == _BUDGET else np.geomspace(1e-2, 1e2,
                                                                                    points)
    return np.sqrt(budget * ratio), np.sqrt(budget / ratio)


def _theory_ratio(nf, ns, ridges, mid: int, pick) -> float:
    loss = theory_loss(_spec(), nf, ns, ridges).excess
    return float(loss[mid] / pick(np.delete(loss, mid)))


def _frontier_claims(sim: xr.Dataset, star: np.ndarray, budgets, seeds: int) -> tuple[list, dict]:
    claims, rows = [], {}
    for a in _ALPHAS:
        front = compute_frontier(_spec(a, 10**9), budgets)
        rows[a] = front
        claims.append(agreement(
            NAME, f"Compute-optimal frontier (α = {a:g}, M = 10⁹): N* ∝ C^(1/2).",
            measured=front.exponent_n_features, predicted=0.5, tolerance=0.01,
            rule="absolute 0.01", reason="finite-size corrections at C = 10⁴ … 10⁸ measured "
            "< 0.002", figure="equiparameterization_frontier", measured_by="theory",
            predicted_by="1/2"))  # fmt: skip
        claims.append(agreement(
            NAME, f"Compute-optimal frontier (α = {a:g}, M = 10⁹): L* ∝ C^(−α/2).",
            measured=front.exponent_loss, predicted=a / 2, tolerance=0.01,
            rule="absolute 0.01", reason="finite-size corrections at C = 10⁴ … 10⁸ measured "
            "< 0.005", figure="equiparameterization_frontier", measured_by="theory",
            predicted_by="α/2"))  # fmt: skip
    n = np.array(_FRONTIER_N)
    curves = np.array([_cell(sim, k, k, g) for k, g in zip(n, star, strict=True)])
    slope, se = seed_slopes(n.astype(float) ** 2, curves)
    exact = optimal_ridge(_spec(), n, n).excess
    finite = -np.polyfit(2 * np.log(n), np.log(exact), 1)[0]
    claims.append(agreement(
        NAME, f"Simulated at N = P = √C with γ* (M = {_M}, α = 1, C = 32² … 256²), the loss "
        "falls with the exact theory's exponent at the same points: α/2 = 0.5 plus a finite-M "
        f"correction of {finite - 0.5:+.3f}.",
        measured=-slope, stderr=se, predicted=finite, tolerance=max(3 * se, 0.05 * finite),
        rule="max(3 SE, 5 %)", reason=f"exponent fitted per seed ({seeds} seeds), their spread "
        "the SE; 5 % for the finite-size error of the large-N, P theory. The gap to α/2 itself "
        "is the correction stated in the claim, not part of the tolerance",
        figure="equiparameterization_frontier", measured_by=f"simulation, {seeds} seeds",
        predicted_by="exact theory at γ*, fitted at the same points"))  # fmt: skip
    mean, sem = mean_sem(curves, axis=1)
    data = xr.Dataset(
        {"n_star": (("alpha", "budget"), [rows[a].n_features for a in _ALPHAS]),
         "loss_star": (("alpha", "budget"), [rows[a].excess for a in _ALPHAS]),
         "sim": ("sim_budget", mean), "sim_sem": ("sim_budget", sem),
         "sim_theory": ("sim_budget", exact)},
        coords={"alpha": list(_ALPHAS), "budget": np.asarray(budgets, float),
                "sim_budget": n.astype(float) ** 2},
        attrs={"latent_dim": 10**9, "sim_latent_dim": _M},
    )  # fmt: skip
    return claims, data


def equiparameterization_finding(*, quick: bool = False, seeds: int | None = None, rng: int = 0,
                                 simulator=run_inline) -> FindingResult:  # fmt: skip
    r"""Finding (iii): at the optimal ridge, N = P is compute-optimal.

    .. math:: \min_{NP = C} L(N, P, \gamma^*(N, P)) \text{ at } N = P, \qquad
              L^* \propto C^{-\alpha/2}

    Parameters
    ----------
    quick : bool, default False
        8 seeds and 5 budgets instead of 24 seeds and 9 budgets.
    seeds : int, optional
    rng : int, default 0
    simulator : callable, default :func:`~scalinglaws.analysis.findings.run_inline`

    Returns
    -------
    FindingResult
        Figures ``equiparameterization_ridge``, ``equiparameterization_budget`` and
        ``equiparameterization_frontier``.

    Examples
    --------
    >>> equiparameterization_finding(quick=True).holds  # doctest: +SKIP
    True
    """
    seeds = seeds or (8 if quick else 24)
    budgets = np.geomspace(1e4, 1e8, 5 if quick else 9)
    jobs, ridges = _jobs(seeds)
    sims = simulator(jobs, rng)
    ladder, ladder_data = _ladder_claims(sims["ladder"], ridges["star"], seeds)
    budget, budget_data = _budget_claims(sims, ridges["budget_star"], seeds)
    front, front_data = _frontier_claims(sims["frontier"], ridges["frontier_star"], budgets,
                                         seeds)  # fmt: skip
    return FindingResult(
        name=NAME,
        title="Equiparameterization: with the optimal ridge, N = P at a fixed budget N·P",
        claims=ladder + budget + front,
        data={"equiparameterization_ridge": ladder_data,
              "equiparameterization_budget": budget_data,
              "equiparameterization_frontier": front_data},
        captions={
            "equiparameterization_ridge": f"Excess loss against the ridge at N = "
            f"{_LADDER_AT[0]}, P = {_LADDER_AT[1]} (M = {_M}, α = 1, no noise): the theory "
            "(line) has its minimum at γ* > 0 (dotted), where the simulated ladder (points) is "
            "lowest.",
            "equiparameterization_budget": "Excess loss along N·P = 2¹⁶ against N/P: with the "
            "optimal ridge the minimum is at N = P; with a ridge a thousand times smaller "
            "N = P is the maximum (theory lines, simulation points).",
            "equiparameterization_frontier": "Compute-optimal frontier of the theory at "
            "M = 10⁹: N* against C (slope 1/2) and L* against C (slope −α/2), with simulations "
            "at N = P = √C, M = 2000.",
        },
        settings={"latent_dim": _M, "seeds": seeds, "rng": rng, "budget": _BUDGET,
                  "budgets": budgets.tolist(), "small_ridge": _SMALL_RIDGE},
    )  # fmt: skip
