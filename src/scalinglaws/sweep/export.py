"""Export a study's stored results: tidy CSV or Parquet tables, or an xarray/netCDF dataset.

Only the units that the study file plans are exported, so one store may serve several studies.

* CSV / Parquet: one row per (unit, N, P, γ) with ``kind`` (simulation or theory), ``case``,
  ``seed`` (empty for theory), ``test_mse``, ``excess`` and the unit's provenance.
* netCDF: ``test_mse``, ``excess`` with dims (case, n_features, n_samples, ridge, seed), their
  ``*_mean`` and ``*_sem`` over seeds, and ``theory_test_mse``, ``theory_excess`` (no seed dim);
  coordinate ``spec_json`` gives each case's spec. Cells absent from a case's grid are NaN.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import xarray as xr

from .._validation import InputError, check_choice
from ..simulation import summarize
from .config import Study
from .store import ResultStore
from .units import plan_units

__all__ = ["FORMATS", "study_frame", "study_dataset", "export_study"]

#: Export formats.
FORMATS = ("csv", "parquet", "netcdf")

_DIMS = ["case", "n_features", "n_samples", "ridge"]


def study_frame(study: Study, store: ResultStore) -> pd.DataFrame:
    """The study's stored cells as a tidy table (one row per unit × N × P × γ)."""
    keys = [u.key for u in plan_units(study)]
    frame = store.cell_table(keys).rename(columns={"label": "case"})
    frame["seed"] = frame["seed"].astype("Int64")
    return frame


def study_dataset(study: Study, store: ResultStore) -> xr.Dataset:
    """The study's stored results as a labelled dataset (see the module docstring)."""
    frame = study_frame(study, store)
    if frame.empty:
        raise InputError(
            f"'store' must hold finished units of study '{study.name}'. Got none in "
            f"'{store.path}' instead; run 'scalinglaws study run' first."
        )
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
    specs = frame.drop_duplicates("case").set_index("case").spec_json
    out = out.assign_coords(spec_json=("case", [specs[c] for c in out.case.values]))
    out.attrs.update(
        study=study.name,
        study_hash=study.file_hash,
        root_seed=study.root_seed,
        loss=study.loss,
        convention="test_mse = E[(f(x) - y)^2] including label noise; excess = test_mse - noise",
    )
    return out


def export_study(study: Study, *, store: ResultStore | str | Path, fmt: str, out: str | Path):
    """Write the study's results to ``out`` in format ``fmt`` (csv, parquet or netcdf)."""
    fmt = check_choice("format", fmt, FORMATS)
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    opened = store if isinstance(store, ResultStore) else ResultStore(store)
    try:
        if fmt == "netcdf":
            _to_netcdf(study_dataset(study, opened), out)
        elif fmt == "parquet":
            _to_parquet(study_frame(study, opened), out)
        else:
            study_frame(study, opened).to_csv(out, index=False)
    finally:
        if opened is not store:
            opened.close()
    return out


def _to_parquet(frame: pd.DataFrame, out: Path) -> None:
    try:
        import pyarrow  # noqa: F401
    except ImportError:
        raise InputError(
            "'format' must be csv or netcdf without pyarrow. Got 'parquet' instead; "
            "install scalinglaws[sweep]."
        ) from None
    frame.to_parquet(out, index=False)


def _to_netcdf(ds: xr.Dataset, out: Path) -> None:
    try:
        import h5netcdf  # noqa: F401

        engine = "h5netcdf"
    except ImportError:
        engine = "scipy"  # netCDF3 through scipy, a core dependency
    ds.to_netcdf(out, engine=engine)
