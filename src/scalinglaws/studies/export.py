"""Export a study's stored results: tidy CSV or Parquet tables, or an xarray/netCDF dataset.

Results are labelled by the study file's plan, not by whatever label a unit was stored under: a
unit is identified by what determines its numbers, so two cases with one spec (under different
names), or a store shared with another study file, hold one copy of a unit that each case reads
in full. Only the units the study file plans are exported.

* CSV / Parquet: one row per (case, unit, N, P, γ) with ``study``, ``case``, ``spec_name``,
  ``block``, ``kind`` (simulation or theory), ``seed`` (empty for theory), ``test_mse``,
  ``excess`` and the unit's provenance.
* netCDF: ``test_mse``, ``excess`` with dims (case, n_features, n_samples, ridge, seed), their
  ``*_mean`` and ``*_sem`` over seeds, and ``theory_test_mse``, ``theory_excess`` (no seed dim);
  case coordinates ``spec_name``, ``alpha``, ``latent_dim`` and ``spec_json``. Cells absent from a
  case's grid are NaN. Written with h5netcdf (netCDF4/HDF5; ``scalinglaws[sweep]``), else
  netCDF4-python, else scipy (netCDF3).
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from pathlib import Path

import numpy as np
import pandas as pd
import xarray as xr

from .._names import FORMATS
from .._validation import InputError, check_choice
from ..results import summarize
from .config import Study, canonical_json
from .store import ResultStore
from .units import plan_units

__all__ = ["FORMATS", "study_frame", "study_dataset", "export_study"]

#: Export formats.

_DIMS = ["case", "n_features", "n_samples", "ridge"]
_FIRST = ["study", "case", "spec_name", "block", "kind", "seed", "n_features", "n_samples"]
_FIRST += ["ridge", "test_mse", "excess", "unit_key"]


def _plan(study: Study) -> pd.DataFrame:
    rows = [
        {
            "unit_key": u.key,
            "case": u.label,
            "spec_name": u.spec_name,
            "block": u.block,
            "kind": u.kind,
            "seed": u.seed,
        }
        for u in plan_units(study)
    ]
    plan = pd.DataFrame(rows, columns=["unit_key", "case", "spec_name", "block", "kind", "seed"])
    plan["order"] = np.arange(len(plan))
    return plan.drop_duplicates(["unit_key", "case"])


def study_frame(study: Study, store: ResultStore) -> pd.DataFrame:
    """The study's stored cells as a tidy table (one row per case × unit × N × P × γ)."""
    plan = _plan(study)
    stored = store.cell_table(set(plan.unit_key))
    stored = stored.drop(columns=["study", "label", "spec_name", "block", "kind", "seed"])
    stored = stored.assign(cell=np.arange(len(stored)))
    frame = plan.merge(stored, on="unit_key", how="inner").sort_values(["order", "cell"])
    frame = frame.drop(columns=["order", "cell"]).reset_index(drop=True)
    frame.insert(0, "study", study.name)
    frame["seed"] = frame["seed"].astype("Int64")
    frame["block"] = frame["block"].astype("int64")
    return frame[_FIRST + [c for c in frame.columns if c not in _FIRST]]


def study_dataset(study: Study, store: ResultStore) -> xr.Dataset:
    """The study's stored results as a labelled dataset (see the module docstring)."""
    return _dataset(study, _nonempty(study_frame(study, store), study, store))


def _nonempty(frame: pd.DataFrame, study: Study, store: ResultStore) -> pd.DataFrame:
    if frame.empty:
        raise InputError(
            f"'store' must hold finished units of study '{study.name}'. Got none in "
            f"'{store.path}' instead; run 'scalinglaws study run' first."
        )
    return frame


def _dataset(study: Study, frame: pd.DataFrame) -> xr.Dataset:
    out = xr.Dataset()
    simulated = frame[frame.kind == "simulation"]
    if not simulated.empty:
        table = simulated.assign(seed=simulated.seed.astype("int64"))
        cells = table.drop_duplicates([*_DIMS, "seed"]).set_index([*_DIMS, "seed"])
        out = summarize(cells[["test_mse", "excess"]].to_xarray())
    theory = frame[frame.kind == "theory"]
    if not theory.empty:
        cells = theory.drop_duplicates(_DIMS).set_index(_DIMS)[["test_mse", "excess"]]
        named = cells.rename(columns=lambda c: f"theory_{c}").to_xarray()
        out = xr.merge([out, named], join="outer", compat="no_conflicts")
    out = out.assign_coords(_case_coords(study, [str(c) for c in out.case.values]))
    out.attrs.update(
        study=study.name,
        study_hash=study.file_hash,
        root_seed=study.root_seed,
        loss=study.loss,
        convention="test_mse = E[(f(x) - y)^2] including label noise; excess = test_mse - noise",
    )
    return out


def _case_coords(study: Study, labels: list[str]) -> dict:
    """Per-case coordinates from the plan: spec name, α, M and the canonical spec JSON."""
    cases = {}
    for case in study.cases:
        cases.setdefault(case.label, case)
    spectra = [cases[label].spec["spectrum"] for label in labels]
    return {
        "spec_name": ("case", [cases[label].spec_name for label in labels]),
        "alpha": ("case", [float(s.get("alpha", np.nan)) for s in spectra]),
        "latent_dim": (
            "case",
            [int(s.get("latent_dim", len(s.get("eigenvalues", ())))) for s in spectra],
        ),
        "spec_json": ("case", [canonical_json(cases[label].spec) for label in labels]),
    }


def export_study(study: Study, *, store: ResultStore | str | Path, fmt: str, out: str | Path):
    """Write the study's results to ``out`` in format ``fmt`` (csv, parquet or netcdf).

    The store is opened read-only; the file appears whole or not at all (written beside ``out``,
    then renamed).

    Raises
    ------
    InputError
        If nothing of the study is stored, or ``out`` is a folder or cannot be written.
    """
    fmt = check_choice("format", fmt, FORMATS)
    out = Path(out)
    if out.is_dir():
        raise InputError(f"'out' must be a file path, not a folder. Got '{out}' instead.")
    opened = store if isinstance(store, ResultStore) else ResultStore(store, readonly=True)
    try:
        frame = _nonempty(study_frame(study, opened), study, opened)
    finally:
        if opened is not store:
            opened.close()
    if fmt == "parquet":
        _require("pyarrow", "parquet")
    data = _dataset(study, frame) if fmt == "netcdf" else frame
    partial = out.with_name(f".{out.name}.{os.getpid()}.partial")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        if fmt == "netcdf":
            data.to_netcdf(partial, engine=netcdf_engine())
        elif fmt == "parquet":
            data.to_parquet(partial, index=False)
        else:
            data.to_csv(partial, index=False)
        os.replace(partial, out)
    except OSError as err:
        with contextlib.suppress(OSError):
            partial.unlink(missing_ok=True)
        raise InputError(
            f"'out' must be a writable file path. Got '{out}' instead ({_why(out, err)})."
        ) from None
    return out


def _why(out: Path, err: OSError) -> str:
    for parent in out.parents:
        if parent.exists():
            return err.strerror or str(err) if parent.is_dir() else f"'{parent}' is not a folder"
    return err.strerror or str(err)


def _require(module: str, fmt: str) -> None:
    if importlib.util.find_spec(module) is None:
        raise InputError(
            f"'format' must be csv or netcdf without {module}. Got '{fmt}' instead; "
            "install scalinglaws[sweep]."
        )


def netcdf_engine() -> str:
    """The best netCDF writer installed: h5netcdf (with h5py), netCDF4, else scipy (netCDF3)."""
    if importlib.util.find_spec("h5netcdf") and importlib.util.find_spec("h5py"):
        return "h5netcdf"
    if importlib.util.find_spec("netCDF4"):
        return "netcdf4"
    return "scipy"
