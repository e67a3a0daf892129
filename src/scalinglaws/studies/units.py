"""Work units of a study and the pure function that computes one.

A simulation unit is **one seed of one grid block** of one case: ``simulate(spec, ..., seeds=[s],
rng=root_seed)``. Seed *s* gives the same numbers whatever else is computed, so units may run in any
order, on any worker, and be resumed. A theory unit is one grid block of one case (no seed).

A unit's ``key`` hashes everything that determines its numbers (kind, canonical spec, grid axes,
seed, root seed, loss method), and nothing else: editing a study file to add seeds or grids keeps
the finished units, and changing a spec makes new ones.
"""

from __future__ import annotations

import hashlib
import socket
import time
import warnings
from dataclasses import dataclass

import numpy as np

from .._threads import blas_controller
from .._validation import NumericalWarning
from ..model.spec import ModelSpec
from .config import Case, Study, canonical_json

__all__ = ["WorkUnit", "UnitResult", "plan_units", "run_unit", "unit_peak_bytes"]


@dataclass(frozen=True)
class WorkUnit:
    """Everything a worker needs to compute one unit; plain data, cheap to pickle."""

    key: str
    kind: str
    spec_name: str
    label: str
    block: int
    spec: dict
    grid: dict
    seed: int | None
    root_seed: int
    loss: str
    n_test: int


@dataclass(frozen=True)
class UnitResult:
    """The numbers of one unit, each of shape (len(n_features), len(n_samples), len(ridges))."""

    key: str
    test_mse: np.ndarray
    excess: np.ndarray
    wall_s: float
    host: str
    warnings: tuple[str, ...] = ()


def plan_units(study: Study) -> list[WorkUnit]:
    """All units of ``study`` in a fixed order: per case, theory first, then the seeds."""
    units = []
    for case in study.cases:
        if study.wants_theory:
            units.append(_unit(study, case, kind="theory", seed=None))
        if study.wants_simulation:
            units.extend(_unit(study, case, kind="simulation", seed=s) for s in case.grid.seeds)
    return units


def _unit(study: Study, case: Case, *, kind: str, seed: int | None) -> WorkUnit:
    simulation = kind == "simulation"
    identity = {
        "kind": kind,
        "spec": case.spec,
        "grid": case.grid.axes(),
        "seed": seed,
        "root_seed": study.root_seed if simulation else None,
        "loss": study.loss if simulation else None,
        "n_test": study.n_test if simulation and study.loss == "monte_carlo" else None,
    }
    return WorkUnit(
        key=hashlib.sha256(canonical_json(identity).encode()).hexdigest(),
        kind=kind,
        spec_name=case.spec_name,
        label=case.label,
        block=case.block,
        spec=case.spec,
        grid=case.grid.axes(),
        seed=seed,
        root_seed=study.root_seed,
        loss=study.loss,
        n_test=study.n_test,
    )


def run_unit(unit: WorkUnit) -> UnitResult:
    """Compute one unit, with one BLAS thread, in whatever process runs it.

    A BLAS sums in an order that depends on its thread count, so the unit always runs with one
    thread: its numbers are then the same bit for bit whichever executor and machine run it
    (parallelism comes from running units side by side).
    """
    start = time.perf_counter()
    spec = ModelSpec.from_dict(unit.spec)
    # The unit's NumericalWarnings (a pole stored as inf, a flagged mean) travel with its result,
    # so the runner reports each once instead of every worker printing its own.
    with blas_controller().limit(limits=1), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumericalWarning)
        if unit.kind == "theory":
            test_mse, excess = _theory(spec, unit.grid)
        else:
            test_mse, excess = _simulation(spec, unit)
    messages = tuple(
        dict.fromkeys(str(w.message) for w in caught if issubclass(w.category, NumericalWarning))
    )
    return UnitResult(
        key=unit.key,
        test_mse=test_mse,
        excess=excess,
        wall_s=time.perf_counter() - start,
        host=socket.gethostname(),
        warnings=messages,
    )


def unit_peak_bytes(unit: WorkUnit) -> int:
    """Estimated peak memory of computing ``unit`` (bytes): the simulation's
    (:func:`scalinglaws.sampling.simulate.simulation_peak_bytes`); a theory unit of linear features
    needs
    only O(grid) memory and counts as 0 here (the nonlinear theory checks its own peak)."""
    if unit.kind != "simulation":
        return 0
    from ..results import Grid
    from ..sampling.simulate import simulation_peak_bytes

    grid = Grid(n_features=unit.grid["n_features"], n_samples=unit.grid["n_samples"],
                ridges=unit.grid["ridges"])  # fmt: skip
    return simulation_peak_bytes(ModelSpec.from_dict(unit.spec), grid, loss=unit.loss,
                                 n_test=unit.n_test)  # fmt: skip


def _simulation(spec, unit: WorkUnit) -> tuple[np.ndarray, np.ndarray]:
    from ..sampling.simulate import simulate

    ds = simulate(
        spec,
        n_features=unit.grid["n_features"],
        n_samples=unit.grid["n_samples"],
        ridges=unit.grid["ridges"],
        seeds=[unit.seed],
        rng=unit.root_seed,
        loss=unit.loss,
        n_test=unit.n_test,
    )
    return ds.test_mse.values[..., 0].copy(), ds.excess.values[..., 0].copy()


def _theory(spec, grid: dict) -> tuple[np.ndarray, np.ndarray]:
    from ..bridges.equivalence import predict_grid

    # §5 for linear specs, two-level Gaussian equivalence otherwise; poles are stored as inf.
    ds = predict_grid(
        spec, n_features=grid["n_features"], n_samples=grid["n_samples"], ridges=grid["ridges"]
    )
    dims = ("n_features", "n_samples", "ridge")
    return (
        np.asarray(ds.test_mse.transpose(*dims).values, dtype=np.float64),
        np.asarray(ds.excess.transpose(*dims).values, dtype=np.float64),
    )
