"""``scalinglaws reproduce``: compute findings, draw their figures, write ``claims.json``.

The output folder holds one sub-folder per finding with its figures (``<figure>.png`` and
``.svg``) and its own ``claims.json``, and a ``claims.json`` of all the findings run::

    OUT/claims.json
    OUT/statistics/claims.json
    OUT/statistics/statistics_exponents.png   (and .svg, and the finding's other figures)
    ...

**Where the simulations run.** ``executor="inline"`` (the default) calls
:func:`~scalinglaws.sampling.simulate.simulate` in this process (its BLAS uses every thread).
``"serial"``, ``"processes"`` and ``"dask"`` run each finding's simulations as the units of a
temporary study (:func:`study_simulator`: :func:`~scalinglaws.studies.run_study` on a
temporary SQLite store, removed afterwards) on that executor, one BLAS thread per unit. Seeds use
the same streams either way, so the numbers agree to the round-off of the BLAS thread count (they
are bit-identical between the study executors). The theory, the spectra and the one-level theory
always run in this process.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import platform
import socket
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .._validation import InputError, check_choice
from ..analysis.findings import FINDINGS, run_finding, run_inline
from ..results import package_version

__all__ = ["EXECUTORS", "ReproduceSummary", "reproduce", "resolve_findings", "study_simulator"]

#: Where the simulations run (see the module docstring).
EXECUTORS = ("inline", "serial", "processes", "dask")
#: Format tag of ``claims.json``.
CLAIMS_FORMAT = "scalinglaws-claims/1"


@dataclass(frozen=True)
class ReproduceSummary:
    """What :func:`reproduce` wrote: the claims (records), the path of ``claims.json``, the
    wall time, and whether every claim holds."""

    claims: list
    path: Path
    wall_s: float
    holds: bool

    @property
    def failed(self) -> list:
        """The records of the claims that do not hold."""
        return [c for c in self.claims if not c["holds"]]


def resolve_findings(names: Sequence[str]) -> list[str]:
    """Finding names in the paper's order; ``"all"`` (or nothing) means all four.

    Examples
    --------
    >>> resolve_findings(["breakdown", "statistics"])
    ['statistics', 'breakdown']
    >>> len(resolve_findings(["all"]))
    4
    """
    names = list(names) or ["all"]
    for name in names:
        check_choice("finding", name, (*FINDINGS, "all"))
    if "all" in names:
        return list(FINDINGS)
    return [name for name in FINDINGS if name in names]


def study_simulator(executor: str = "processes", *, workers: int | None = None,
                    scheduler: str | None = None) -> Callable:  # fmt: skip
    """A simulator (``simulator(jobs, rng)``) that runs the jobs as one temporary study.

    Each job becomes a case of the study (its spec and grid, seeds ``0 … n_seeds − 1``); the
    study runs on ``executor`` into a temporary store, which is read back and removed.

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> from scalinglaws.analysis.findings import SimulationJob, run_inline
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=40, alpha=1.0))
    >>> jobs = {"a": SimulationJob(spec, (10, 20), (30,), n_seeds=2)}
    >>> study = study_simulator("serial")(jobs, 0)["a"].excess.values
    >>> bool(np.allclose(study, run_inline(jobs, 0)["a"].excess.values, rtol=1e-8))
    True
    """
    from ..studies import ResultStore, run_study, study_frame
    from ..studies.config import Case, GridBlock, Study, canonical_json

    def simulator(jobs: dict, rng: int) -> dict:
        cases = tuple(
            Case(spec_name=name, label=name, spec=job.spec.to_dict(), block=k,
                 grid=GridBlock(n_features=tuple(job.grid()["n_features"]),
                                n_samples=tuple(job.grid()["n_samples"]),
                                ridges=tuple(job.grid()["ridges"]),
                                seeds=tuple(range(job.n_seeds))))
            for k, (name, job) in enumerate(jobs.items())
        )  # fmt: skip
        ident = canonical_json([[c.label, c.spec, c.grid.axes(), c.grid.seeds] for c in cases])
        with tempfile.TemporaryDirectory(prefix="scalinglaws-reproduce-") as tmp:
            study = Study(
                path=Path(tmp) / "reproduce.toml", name="reproduce",
                file_hash=hashlib.sha256(ident.encode()).hexdigest(), compute="simulation",
                root_seed=int(rng), loss="exact", n_test=10_000,
                store=Path(tmp) / "reproduce.sqlite", cases=cases,
            )  # fmt: skip
            run_study(study, executor=executor, workers=workers, scheduler=scheduler)
            with ResultStore(study.store, readonly=True) as store:
                frame = study_frame(study, store)
        return {name: _job_dataset(frame[frame.case == name], job) for name, job in jobs.items()}

    return simulator


def _job_dataset(frame, job):
    """The tidy rows of one case as a Dataset with ``excess`` of dims (N, P, γ, seed)."""
    dims = ["n_features", "n_samples", "ridge", "seed"]
    table = frame.assign(seed=frame.seed.astype("int64")).set_index(dims)
    ds = table[["test_mse", "excess"]].to_xarray()
    grid = job.grid()
    return ds.reindex(n_features=grid["n_features"], n_samples=grid["n_samples"],
                      ridge=grid["ridges"], seed=list(range(job.n_seeds)))  # fmt: skip


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")


def _write_json(path: Path, document: dict) -> None:
    from ..results import finite_or_none

    def clean(value):
        if isinstance(value, float):
            return finite_or_none(value)
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [clean(v) for v in value]
        return value

    tmp = path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(clean(document), indent=2, allow_nan=False, ensure_ascii=False)
                   + "\n", encoding="utf-8")  # fmt: skip
    tmp.replace(path)


def _finding_document(result, figures: dict, wall_s: float, prefix: str) -> tuple[dict, list]:
    entries = [{"name": name, "caption": result.captions.get(name, ""),
                "png": f"{prefix}{paths[0].name}", "svg": f"{prefix}{paths[1].name}"}
               for name, paths in figures.items()]  # fmt: skip
    by_name = {e["name"]: e for e in entries}
    records = []
    for claim in result.claims:
        record = claim.to_record()
        figure = by_name.get(record["figure"])
        record["figure"] = figure["png"] if figure else record["figure"]
        records.append(record)
    document = {"name": result.name, "title": result.title, "wall_s": round(wall_s, 2),
                "holds": result.holds, "settings": result.settings, "notes": result.notes,
                "figures": entries}  # fmt: skip
    return document, records


def _header(command: str, settings: dict) -> dict:
    return {"format": CLAIMS_FORMAT, "package_version": package_version(), "created": _now(),
            "command": command, "host": socket.gethostname(), "python": platform.python_version(),
            "settings": settings}  # fmt: skip


def reproduce(
    findings: Sequence[str] = ("all",),
    out_dir: str | Path = "reproduce-output",
    *,
    quick: bool = False,
    seeds: int | None = None,
    rng: int = 0,
    executor: str = "inline",
    workers: int | None = None,
    scheduler: str | None = None,
    command: str = "",
    log: Callable[[str], None] | None = None,
) -> ReproduceSummary:
    """Compute ``findings``, write their figures and ``claims.json`` under ``out_dir``.

    Parameters
    ----------
    findings : sequence of str, default ("all",)
        Names from :data:`scalinglaws.analysis.findings.FINDINGS`, or ``"all"``.
    out_dir : str or Path
        Created if needed; existing files of the same names are replaced.
    quick : bool, default False
        The findings' quick settings (the whole set in under two minutes on two cores).
    seeds : int, optional
        Seeds per simulated point (overrides each finding's default).
    rng : int, default 0
        Root seed of every simulation.
    executor : {"inline", "serial", "processes", "dask"}, default "inline"
        Where the simulations run (see the module docstring).
    workers, scheduler : optional
        For the study executors, as in :func:`~scalinglaws.studies.run_study`.
    command : str, optional
        The command line, recorded in ``claims.json``.
    log : callable(str), optional
        Called with one line per finding as it finishes.

    Returns
    -------
    ReproduceSummary

    Examples
    --------
    >>> summary = reproduce(["equiparameterization"], "out", quick=True)  # doctest: +SKIP
    >>> summary.holds  # doctest: +SKIP
    True
    """
    names = resolve_findings(findings)
    executor = check_choice("executor", executor, EXECUTORS)
    out = Path(out_dir)
    if not command:  # called from Python: record the equivalent call
        command = (f"reproduce({names!r}, {str(out)!r}, quick={quick}, seeds={seeds}, rng={rng}, "
                   f"executor={executor!r})")  # fmt: skip
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise InputError(f"'out' must be a folder that can be created. Got '{out}' instead "
                         f"({err.strerror or err}).") from None  # fmt: skip
    from ..plot.findings import finding_figures

    simulator = run_inline if executor == "inline" else study_simulator(
        executor, workers=workers, scheduler=scheduler)  # fmt: skip
    settings = {"findings": names, "quick": quick, "seeds": seeds, "rng": rng,
                "executor": executor}  # fmt: skip
    start = time.perf_counter()
    documents, records = [], []
    for name in names:
        t0 = time.perf_counter()
        result = run_finding(name, quick=quick, seeds=seeds, rng=rng, simulator=simulator)
        (out / name).mkdir(exist_ok=True)
        figures = finding_figures(result, out / name)
        wall = time.perf_counter() - t0
        local, local_records = _finding_document(result, figures, wall, "")
        _write_json(out / name / "claims.json", {**_header(command, settings), "wall_s": wall,
                    "findings": [local], "claims": local_records,
                    "holds": result.holds})  # fmt: skip
        document, finding_records = _finding_document(result, figures, wall, f"{name}/")
        documents.append(document)
        records += finding_records
        if log is not None:
            held = sum(c.holds for c in result.claims)
            log(f"{name}: {held}/{len(result.claims)} claims hold ({wall:.1f} s)")
    wall = time.perf_counter() - start
    holds = all(r["holds"] for r in records)
    path = out / "claims.json"
    _write_json(path, {**_header(command, settings), "wall_s": round(wall, 2),
                       "findings": documents, "claims": records, "holds": holds})  # fmt: skip
    return ReproduceSummary(claims=records, path=path, wall_s=wall, holds=holds)
