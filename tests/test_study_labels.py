"""Results are labelled by the study file's plan: twin cases, close α values and a shared store each
come out separately and completely in status, export (csv, parquet, netcdf) and plot."""

from __future__ import annotations

import json
import re
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import xarray as xr

from scalinglaws.cli.main import main
from scalinglaws.studies import ResultStore, load_study, plan_units, run_study, study_status
from scalinglaws.studies.config import format_number

TWINS = """
[study]
name = "twins"
compute = "both"

[grid]
n_features = {n_features}
n_samples = {n_samples}
ridges = [1e-2]
seeds = 2
alpha = [1.0, 1.0000001]

[[spec]]
name = "{first}"
spectrum = {{ kind = "power_law", latent_dim = 50 }}

[[spec]]
name = "{second}"
spectrum = {{ kind = "power_law", latent_dim = 50 }}
"""

LABELS = sorted(
    f"{name}[alpha={alpha},M=50]" for name in ("a", "b") for alpha in ("1", "1.0000001")
)


def write(
    tmp_path: Path,
    name: str = "twins",
    *,
    first: str = "a",
    second: str = "b",
    n_features: str = "[8, 16]",
    n_samples: str = "[8, 16]",
    store: str | None = None,
) -> Path:
    text = TWINS.format(first=first, second=second, n_features=n_features, n_samples=n_samples)
    if store:
        text = text.replace('compute = "both"', f'compute = "both"\nstore = "{store}"')
    path = tmp_path / f"{name}.toml"
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def twins(tmp_path_factory) -> Path:
    path = write(tmp_path_factory.mktemp("twins"))
    summary = run_study(load_study(path), executor="serial")
    assert summary.computed == summary.total == 6  # 2 specs x (1 theory + 2 seeds): shared
    return path


def export(path: Path, fmt: str, out: Path, capsys) -> Path:
    assert main(["study", "export", str(path), "--format", fmt, "--out", str(out)]) == 0, (
        capsys.readouterr().err
    )
    return out


def assert_complete_table(frame: pd.DataFrame, labels: list[str]) -> None:
    assert sorted(frame.case.unique()) == labels
    for label in labels:
        rows = frame[frame.case == label]
        simulated = rows[rows.kind == "simulation"]
        assert sorted(simulated.seed.unique()) == [0, 1], label
        assert len(simulated) == 2 * 4 and len(rows[rows.kind == "theory"]) == 4, label


def test_format_number_is_exact_and_short():
    assert format_number(1.0) == "1" and format_number(0.01) == "0.01"
    assert format_number(1.0000001) == "1.0000001"
    assert float(format_number(1 / 3)) == 1 / 3


def test_twin_cases_and_close_alphas_each_have_a_label(twins):
    labels = sorted({u.label for u in plan_units(load_study(twins))})
    assert labels == LABELS


def test_status_counts_every_case_in_full(twins, capsys):
    assert main(["study", "status", str(twins), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert (status["done"], status["total"]) == (6, 6)
    assert sorted({row["case"] for row in status["cases"]}) == LABELS
    assert all(row["done"] == row["total"] for row in status["cases"])


def test_csv_and_parquet_export_every_case_completely(twins, tmp_path, capsys):
    csv = pd.read_csv(export(twins, "csv", tmp_path / "r.csv", capsys))
    assert_complete_table(csv, LABELS)
    parquet = pd.read_parquet(export(twins, "parquet", tmp_path / "r.parquet", capsys))
    assert_complete_table(parquet, LABELS)
    np.testing.assert_array_equal(parquet.excess.to_numpy(), csv.excess.to_numpy())
    twin = csv.set_index(["case", "kind", "seed", "n_features", "n_samples"]).excess
    first, second = twin.loc["a[alpha=1,M=50]"], twin.loc["b[alpha=1,M=50]"]
    np.testing.assert_array_equal(first.to_numpy(), second.to_numpy())  # one unit, two cases


def test_netcdf_round_trip_keeps_every_case_and_alpha(twins, tmp_path, capsys):
    out = export(twins, "netcdf", tmp_path / "r.nc", capsys)
    csv = pd.read_csv(export(twins, "csv", tmp_path / "r.csv", capsys))
    with xr.open_dataset(out) as ds:
        assert sorted(ds.case.values.tolist()) == LABELS
        assert sorted(set(ds.alpha.values.tolist())) == [1.0, 1.0000001]
        assert not np.isnan(ds.excess.values).any()  # every case has both seeds
        assert not np.isnan(ds.theory_excess.values).any()  # and its theory
        for row in csv.itertuples():
            where = dict(case=row.case, n_features=row.n_features, n_samples=row.n_samples)
            where["ridge"] = row.ridge
            if row.kind == "theory":
                value = ds.theory_excess.sel(where)
            else:
                value = ds.excess.sel({**where, "seed": int(row.seed)})
            assert float(value) == row.excess  # the same double through CSV and netCDF


def test_plot_writes_one_figure_per_case(twins, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    assert main(["study", "plot", str(twins), "--out", str(tmp_path / "figs")]) == 0
    names = sorted(p.name for p in (tmp_path / "figs").glob("*.png"))
    expected = [f"{n}_alpha={a}_M=50_ridge0.01.png" for n in "ab" for a in ("1", "1.0000001")]
    assert names == sorted(expected)


def test_a_store_shared_with_another_study_file_keeps_each_files_labels(twins, tmp_path, capsys):
    other = write(twins.parent, "renamed", first="x", second="y", store="twins.sqlite")
    summary = run_study(load_study(other), executor="serial")
    assert summary.computed == 0 and summary.already_done == 6  # the same specs: shared units
    renamed = pd.read_csv(export(other, "csv", tmp_path / "other.csv", capsys))
    assert_complete_table(
        renamed, [label.replace("a[", "x[").replace("b[", "y[") for label in LABELS]
    )
    assert set(renamed.study) == {"twins"} and set(renamed.spec_name) == {"x", "y"}
    status = study_status(load_study(other))
    assert sorted({row["case"] for row in status.rows}) == sorted(set(renamed.case))
    assert all(row["done"] == row["total"] for row in status.rows)
    original = pd.read_csv(export(twins, "csv", tmp_path / "twins.csv", capsys))
    assert_complete_table(original, LABELS)


@pytest.mark.parametrize("axis", ["n_features", "n_samples"])
def test_plot_works_with_a_single_n_or_p(tmp_path, capsys, axis):
    pytest.importorskip("matplotlib")
    sizes = {"n_features": "[8, 16]", "n_samples": "[8, 16]", axis: "[12]"}
    path = write(tmp_path, **sizes)
    run_study(load_study(path), executor="serial")
    assert main(["study", "plot", str(path), "--out", str(tmp_path / "figs")]) == 0
    pngs = sorted((tmp_path / "figs").glob("*.png"))
    assert len(pngs) == 4 and all(p.read_bytes()[:4] == b"\x89PNG" for p in pngs)


def test_exporting_a_study_with_nothing_stored_says_so(tmp_path, capsys):
    path = write(tmp_path)
    ResultStore(load_study(path).store).close()  # an empty store
    for fmt in ("csv", "netcdf"):
        out = tmp_path / f"r.{fmt}"
        assert main(["study", "export", str(path), "--format", fmt, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error: ") and err.count("\n") == 1 and "'store'" in err, err
        assert "Got none" in err and not out.exists()


def test_the_sweep_extra_installs_a_working_netcdf_writer():
    """h5netcdf only writes with h5py, which it does not require: both must be in the extras."""
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    extras = tomllib.loads(pyproject.read_text())["project"]["optional-dependencies"]
    for extra in ("sweep", "test"):
        names = {re.split(r"[\[<>=;\s]", item, maxsplit=1)[0] for item in extras[extra]}
        assert {"h5netcdf", "h5py"} <= names, extra


def test_netcdf_writer_falls_back_without_h5py(monkeypatch):
    import importlib.util

    from scalinglaws.studies import export

    real = importlib.util.find_spec
    monkeypatch.setattr(
        export.importlib.util, "find_spec", lambda name: None if name == "h5py" else real(name)
    )
    assert export.netcdf_engine() != "h5netcdf"
