r"""Finding (ii): nonlinear feature maps extend the power law past M (``docs/model.md`` §1.2, §6).

A linear map :math:`\phi(x) = Ux` of data of rank M has a feature spectrum of rank M: the power
law stops there, and so does the scaling law. A nonlinear map (ReLU) continues the spectrum past M
with a similar exponent, and against a target with components outside the linear span of x (a
wide random-feature teacher :math:`y = \sum_k a_k \sigma_t(v_k\cdot x)`) linear features stop
improving at N = M while ReLU features keep improving.

What is computed:

- the exact feature spectra (eigenvalues of K/N) of linear and ReLU features on a synthetic
  power-law spectrum (M = 100, α = 1), with fitted exponents below M, on [M, 3M) and [3M, 8M);
- the sampled feature spectra of every real dataset that is installed
  (:data:`scalinglaws.datasets.DATASETS`), with the data's covariance spectrum, fitted
  exponents and where the ReLU spectrum leaves its power law
  (:func:`~scalinglaws.analysis.powerlaw.find_cutoff`);
- the excess loss against N of linear and ReLU features learning a wide ReLU teacher, simulated
  and by the one-level Gaussian-equivalence theory for the same draws.

=========  ==================  ==========================================================
symbol     name                meaning
=========  ==================  ==========================================================
M, D       ``rank``            data rank (latent dimension; a dataset's numerical rank)
N          ``n_features``      number of random features
P          ``n_samples``       number of samples
K          ``teacher_width``   width of the random-feature teacher
s          ``exponent``        spectral decay exponent, λ_i ∝ i^−s
=========  ==================  ==========================================================
"""

from __future__ import annotations

import json

import numpy as np
import xarray as xr

from ...bridges.equivalence import one_level_theory
from ...datasets import DATASETS, DatasetUnavailableError
from ...model.spec import ModelSpec
from ...model.spectrum import Spectrum
from ...model.teacher import Teacher
from ..powerlaw import numerical_rank
from ..spectrum_analysis import analyze_spectrum
from ._claims import FindingResult, agreement, bound, mean_sem, ratio_to_prediction
from ._jobs import SimulationJob, run_inline

__all__ = ["nonlinear_finding"]

NAME = "nonlinear"
_M = 100
_RIDGE = 1e-4


def _settings(quick: bool, seeds: int | None) -> dict:
    if quick:
        return {"spectrum_features": 800, "data_features": 600, "data_samples": 600,
                "teacher_width": 5 * _M, "n_samples": 2000,
                "n_features": [25, 50, 100, 200, 400], "seeds": seeds or 4}  # fmt: skip
    return {"spectrum_features": 2000, "data_features": 4000, "data_samples": 4000,
            "teacher_width": 20 * _M, "n_samples": 8000,
            "n_features": [25, 50, 100, 200, 400, 800], "seeds": seeds or 8}  # fmt: skip


def _fit(fits: list, start: int, spectrum: str = "features") -> dict | None:
    for f in fits:
        if f["spectrum"] == spectrum and f["start"] == start and "exponent" in f:
            return f
    return None


def _synthetic(n_features: int) -> tuple[list, xr.Dataset]:
    analysis = analyze_spectrum(spectrum=Spectrum.power_law(latent_dim=_M, alpha=1.0),
                                activation="relu", n_features=n_features,
                                compare=("linear",))  # fmt: skip
    linear, relu = analysis.curves["linear features"], analysis.curves["features"]
    below = _fit(analysis.fits, 10)
    claims = [agreement(
        NAME, f"Linear features of rank-M data (M = {_M}) have a spectrum of rank exactly M: "
        "the power law stops at M.", measured=numerical_rank(linear), predicted=_M,
        tolerance=0, rule="exact", reason="φ = Ux has rank M; eigenvalues past M are round-off "
        "(below 1e-10 of the largest)", figure="nonlinear_spectra", measured_by="exact K/N",
        predicted_by="M")]  # fmt: skip
    for start, label in ((_M, "[M, 3M)"), (3 * _M, "[3M, 8M)")):
        past = _fit(analysis.fits, start)
        if past is None:
            continue
        claims.append(agreement(
            NAME, f"ReLU features continue the power law past M: the exponent on {label} "
            f"equals the exponent below M (s = {below['exponent']:.2f}).",
            measured=past["exponent"], stderr=past["stderr"], predicted=below["exponent"],
            tolerance=0.1 * below["exponent"], rule="10 % of the exponent below M",
            reason="the paper predicts a similar slope, not the same one (the ReLU kernel's "
            "spectrum past M has its own exponent); 10 % is the margin for 'similar', while a "
            "linear map's spectrum has no eigenvalue there at all", figure="nonlinear_spectra",
            measured_by="fit of the exact ReLU spectrum", predicted_by="fit below M"))  # fmt: skip
    data = _spectra_dataset({"linear": linear, "relu": relu}, analysis.fits, _M, "synthetic")
    return claims, data


def _spectra_dataset(curves: dict, fits: list, rank: int, source: str, data=None) -> xr.Dataset:
    n = max(v.size for v in curves.values())
    pad = {k: np.pad(v, (0, n - v.size), constant_values=np.nan) for k, v in curves.items()}
    variables = {k: ("rank", v) for k, v in pad.items()}
    if data is not None:
        variables["data"] = ("data_rank", data)
    keep = [{k: f[k] for k in ("spectrum", "start", "stop", "exponent", "stderr", "prefactor")}
            for f in fits if "exponent" in f]  # fmt: skip
    return xr.Dataset(variables, coords={"rank": np.arange(1, n + 1)},
                      attrs={"data_rank": rank, "source": source, "fits": json.dumps(keep)})


def _real_data(settings: dict) -> tuple[list, dict, list]:
    claims, data, notes = [], {}, []
    n_features, n_samples = settings["data_features"], settings["data_samples"]
    for name in DATASETS:
        try:
            analysis = analyze_spectrum(dataset=name, activation="relu", n_features=n_features,
                                        n_samples=n_samples, compare=("linear",))  # fmt: skip
        except DatasetUnavailableError as err:
            notes.append(f"{name}: not installed ({err})")
            continue
        rank, relu = analysis.rank, analysis.curves["features"]
        linear = analysis.curves["linear features"]
        data[name] = _spectra_dataset({"linear": linear, "relu": relu}, analysis.fits, rank,
                                      name, analysis.curves["data"])  # fmt: skip
        claims.append(bound(
            NAME, f"{name}: linear random features have at most the rank of the data "
            f"(D = {rank}).", measured=numerical_rank(linear), limit=rank, relation="<=",
            reason="a linear map cannot add rank (round-off may hide a direction or two)",
            figure="nonlinear_real_data", measured_by="sampled feature spectrum",
            predicted_by="numerical rank of the data"))  # fmt: skip
        room = min(relu.size, n_features)
        if room < 4 * rank:
            notes.append(f"{name}: D = {rank} leaves no room past 2D in min(N, P) = {room} "
                         "ranks; its spectra are drawn, the extension is not claimed")
            continue
        cutoff = analysis.cutoff or {}
        below = next(f for f in analysis.fits if f["spectrum"] == "features")
        past = _fit(analysis.fits, rank)
        exponents = (f"fitted exponents {below['exponent']:.2f} below D"
                     + (f", {past['exponent']:.2f} on [D, 3D)" if past else ""))  # fmt: skip
        claims.append(bound(
            NAME, f"{name}: ReLU features extend the spectrum past the data's rank D = {rank}: "
            "it follows the power law fitted below D to at least 2D.",
            measured=cutoff.get("extent", 0) / rank, limit=2.0, relation=">=",
            reason=f"extent = first rank 10× below the power law fitted below D; a linear map "
            f"stops at 1·D; {exponents}", figure="nonlinear_real_data",
            measured_by="sampled ReLU spectrum, extent / D", predicted_by="≥ 2"))  # fmt: skip
    return claims, data, notes


def _teacher_specs(settings: dict) -> dict[str, ModelSpec]:
    teacher = Teacher.random_features("relu", settings["teacher_width"])
    spectrum = Spectrum.power_law(latent_dim=_M, alpha=1.0)
    return {act: ModelSpec(spectrum=spectrum, teacher=teacher, activation=act)
            for act in ("linear", "relu")}  # fmt: skip


def _teacher_claims(settings: dict, sims: dict, rng: int) -> tuple[list, xr.Dataset]:
    n = np.array(settings["n_features"])
    i_m, i_4m = int(np.flatnonzero(n == _M)[0]), int(np.flatnonzero(n == 4 * _M)[0])
    seeds, rows, claims = settings["seeds"], {}, []
    for act, spec in _teacher_specs(settings).items():
        curve = sims[f"teacher_{act}"].excess.isel(ridge=0, n_samples=0).values
        theory = one_level_theory(spec, n_features=n, n_samples=settings["n_samples"],
                                  ridges=_RIDGE, n_seeds=seeds, rng=rng)  # fmt: skip
        exact = theory.excess.isel(ridge=0, n_samples=0).values
        gain, gain_se = mean_sem(curve[i_4m] / curve[i_m])
        mean, sem = mean_sem(curve)
        rows[act] = (mean, sem, exact.mean(axis=1))
        ratio, se = ratio_to_prediction(curve / exact, np.ones(n.size))
        claims.append(agreement(
            NAME, f"{act} features against the wide ReLU teacher: simulation equals the "
            f"one-level theory for the same draws (mean ratio over {n.size} N).",
            measured=ratio, stderr=se, predicted=1.0, tolerance=max(3 * se, 0.05),
            rule="max(3 SE, 5 %)", reason="the theory averages only over the P samples; 5 % "
            "for its large-P error", figure="nonlinear_teacher",
            measured_by=f"simulation / theory, {seeds} seeds", predicted_by="1"))  # fmt: skip
        if act == "linear":
            claims.append(bound(
                NAME, "Linear features plateau at N = M: four times more features past M "
                "lower the loss by less than 10 %.", measured=gain, stderr=gain_se, limit=0.9,
                relation=">=", reason="past M a linear map adds no rank; the ridge's pull "
                "changes a little with N", figure="nonlinear_teacher",
                measured_by=f"simulation L(4M)/L(M), {seeds} seeds",
                predicted_by="plateau"))  # fmt: skip
        else:
            claims.append(bound(
                NAME, "ReLU features keep improving past N = M: four times more features "
                "lower the loss by more than 30 %.", measured=gain, stderr=gain_se, limit=0.7,
                relation="<=", reason="the spectrum continues past M with exponent ≈ 1.6, "
                "which gives about 4^−0.6 ≈ 0.44", figure="nonlinear_teacher",
                measured_by=f"simulation L(4M)/L(M), {seeds} seeds",
                predicted_by="power law past M"))  # fmt: skip
    dims = ("activation", "n_features")
    data = xr.Dataset(
        {"sim": (dims, [rows[a][0] for a in rows]), "sim_sem": (dims, [rows[a][1] for a in rows]),
         "theory": (dims, [rows[a][2] for a in rows])},
        coords={"activation": list(rows), "n_features": n},
        attrs={"latent_dim": _M, "n_samples": settings["n_samples"], "ridge": _RIDGE,
               "teacher_width": settings["teacher_width"], "n_seeds": seeds},
    )  # fmt: skip
    return claims, data


def nonlinear_finding(*, quick: bool = False, seeds: int | None = None, rng: int = 0,
                      simulator=run_inline) -> FindingResult:  # fmt: skip
    r"""Finding (ii): linear features stop at the data's rank, nonlinear features go on.

    .. math:: \mathrm{rank}(U\Lambda U^\top) = M, \qquad
              \lambda_i(K_\text{ReLU}/N) \propto i^{-s} \text{ past } i = M

    Parameters
    ----------
    quick : bool, default False
        Smaller N, P and teacher (N = 800 synthetic and 600 real-data spectra, K = 5M,
        P = 2000, 4 seeds) instead of N = 2000–4000, K = 20M, P = 8000, 8 seeds.
    seeds : int, optional
        Seeds of the teacher simulations (overrides ``quick``).
    rng : int, default 0
    simulator : callable, default :func:`~scalinglaws.analysis.findings.run_inline`

    Returns
    -------
    FindingResult
        Figures ``nonlinear_spectra``, ``nonlinear_real_data`` (its data a dict of one Dataset
        per installed dataset) and ``nonlinear_teacher``.

    Examples
    --------
    >>> nonlinear_finding(quick=True).holds  # doctest: +SKIP
    True
    """
    settings = _settings(quick, seeds)
    grid = {"n_features": tuple(settings["n_features"]), "n_samples": (settings["n_samples"],),
            "ridges": (_RIDGE,), "n_seeds": settings["seeds"]}  # fmt: skip
    jobs = {f"teacher_{act}": SimulationJob(spec, **grid)
            for act, spec in _teacher_specs(settings).items()}  # fmt: skip
    sims = simulator(jobs, rng)
    claims, spectra = _synthetic(settings["spectrum_features"])
    real_claims, real_data, notes = _real_data(settings)
    teacher_claims, teacher_data = _teacher_claims(settings, sims, rng)
    return FindingResult(
        name=NAME,
        title="Nonlinear features extend the power law past the data's rank M",
        claims=claims + real_claims + teacher_claims,
        data={"nonlinear_spectra": spectra, "nonlinear_real_data": real_data,
              "nonlinear_teacher": teacher_data},
        captions={
            "nonlinear_spectra": f"Exact feature spectra of N = {settings['spectrum_features']}"
            f" random features on a power-law spectrum (M = {_M}, α = 1): the linear spectrum "
            "ends at rank M, the ReLU spectrum continues past M with the same slope (dashed: "
            "fitted power laws).",
            "nonlinear_real_data": "For each installed dataset: the data's covariance spectrum "
            "and the spectra of linear and ReLU random features; the linear spectrum ends at "
            "the data's rank D (dotted line), the ReLU spectrum goes on.",
            "nonlinear_teacher": "Excess loss against N for linear and ReLU features learning a "
            f"wide ReLU teacher (K = {settings['teacher_width']}, M = {_M}, "
            f"P = {settings['n_samples']}): points are simulations, lines the one-level theory; "
            "linear features plateau at N = M.",
        },
        settings={**settings, "latent_dim": _M, "ridge": _RIDGE, "rng": rng},
        notes=notes,
    )  # fmt: skip
