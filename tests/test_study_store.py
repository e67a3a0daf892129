"""The result store (bit-exact, one row per unit, provenance) and the export/plot/status edges."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from scalinglaws import __version__
from scalinglaws.cli.main import main
from scalinglaws.studies import ResultStore, UnitResult, load_study, plan_units, run_study

STUDY = """
[study]
name = "edges"
compute = "{compute}"

[grid]
n_features = [8, 16, 32]
n_samples = [8, 16, 32]
ridges = [0.0, 0.1]
seeds = 2

[[spec]]
name = "lin"
spectrum = {{ kind = "power_law", latent_dim = 64, alpha = 1.0 }}
"""


def study_file(tmp_path: Path, compute: str = "simulation") -> Path:
    path = tmp_path / "edges.toml"
    path.write_text(STUDY.format(compute=compute))
    return path


def fake_result(unit, values: np.ndarray) -> UnitResult:
    return UnitResult(key=unit.key, test_mse=values, excess=values - 1.0, wall_s=0.5, host="h")


def test_store_round_trips_doubles_exactly_including_nan_and_inf(tmp_path):
    study = load_study(study_file(tmp_path))
    unit = plan_units(study)[0]
    values = np.random.default_rng(0).random((3, 3, 2)) * 1e-7
    values[0, 0, 0], values[1, 1, 0] = np.nan, np.inf
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert store.write(unit, fake_result(unit, values), study="edges", study_hash="abc")
        cells = store.cell_table([unit.key])
    np.testing.assert_array_equal(cells.test_mse.to_numpy(), values.ravel(), strict=True)


def test_store_writes_a_unit_once_with_its_provenance(tmp_path):
    study = load_study(study_file(tmp_path))
    unit = plan_units(study)[1]
    result = fake_result(unit, np.ones((3, 3, 2)))
    with ResultStore(tmp_path / "s.sqlite") as store:
        assert store.write(unit, result, study="edges", study_hash="abc", runner="r1")
        assert not store.write(unit, result, study="edges", study_hash="abc", runner="r2")
        table = store.unit_table()
        with sqlite3.connect(tmp_path / "s.sqlite") as conn:  # WAL while a writer has it open
            assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        conn.close()
    assert len(table) == 1
    row = table.iloc[0]
    assert (row.package_version, row.study_hash, row.seed, row.host) == (__version__, "abc", 1, "h")
    assert '"latent_dim": 64' in row.spec_json and row.wall_s == 0.5 and row.runner == "r1"
    with sqlite3.connect(tmp_path / "s.sqlite") as conn:  # one self-contained file once closed
        assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
        assert conn.execute("SELECT COUNT(*) FROM cells").fetchone()[0] == 18
    conn.close()


@pytest.fixture(scope="module")
def finished(tmp_path_factory):
    """A finished study with simulation and theory."""
    tmp_path = tmp_path_factory.mktemp("finished")
    path = study_file(tmp_path, compute="both")
    run_study(load_study(path), executor="serial")
    return path


def test_study_status_reports_done_and_total(finished, capsys):
    assert main(["study", "status", str(finished), "--json"]) == 0
    out = capsys.readouterr().out
    assert '"done": 3' in out and '"total": 3' in out


def test_study_export_csv_parquet_netcdf_agree(finished, tmp_path, capsys):
    for fmt, name in (("csv", "r.csv"), ("parquet", "r.parquet"), ("netcdf", "r.nc")):
        if fmt == "parquet":
            pytest.importorskip("pyarrow")
        args = ["study", "export", str(finished), "--format", fmt, "--out", str(tmp_path / name)]
        assert main(args) == 0, capsys.readouterr().err
    csv = pd.read_csv(tmp_path / "r.csv")
    assert len(csv) == 3 * 18 and set(csv.kind) == {"simulation", "theory"}
    if (tmp_path / "r.parquet").exists():
        parquet = pd.read_parquet(tmp_path / "r.parquet")
        np.testing.assert_array_equal(parquet.excess.to_numpy(), csv.excess.to_numpy())
    ds = xr.load_dataset(tmp_path / "r.nc")
    assert ds.excess.dims == ("case", "n_features", "n_samples", "ridge", "seed")
    sim = csv[(csv.kind == "simulation") & (csv.seed == 1)]
    first = sim.iloc[5]
    cell = ds.excess.sel(
        case="lin",
        n_features=first.n_features,
        n_samples=first.n_samples,
        ridge=first.ridge,
        seed=1,
    )
    assert float(cell) == first.excess  # the same double through CSV (repr) and netCDF
    assert "theory_excess" in ds and "excess_sem" in ds


def test_study_plot_writes_one_png_per_case_and_ridge(finished, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["study", "plot", str(finished), "--out", str(tmp_path / "figs")]) == 0
    pngs = sorted((tmp_path / "figs").glob("*.png"))
    assert [p.name for p in pngs] == ["lin_ridge0.1.png", "lin_ridge0.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in pngs)


def test_study_export_without_store_is_an_input_error(tmp_path, capsys):
    path = study_file(tmp_path)
    assert main(["study", "export", str(path), "--out", str(tmp_path / "x.csv")]) == 2
    assert "'store'" in capsys.readouterr().err


def test_study_scheduler_needs_dask_executor(tmp_path, capsys):
    path = study_file(tmp_path)
    assert main(["study", "run", str(path), "--scheduler", "tcp://x:1"]) == 2
    assert "'scheduler'" in capsys.readouterr().err
