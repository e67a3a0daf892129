"""``scalinglaws fit``: the JSON object, the table, the inputs (CSV, Parquet, netCDF, a study),
figures, and the one-line exit-2 errors."""

import json

import numpy as np
import pandas as pd
import pytest

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.analysis.fits import FORM_NAMES, fit_chinchilla
from scalinglaws.cli import fit as cli_fit
from scalinglaws.cli.main import main
from scalinglaws.theory import theory_grid

KEYS = ["form", "n_points", "n_excluded", "params", "stderr", "ci95", "converged", "n_starts",
        "objective", "allocation", "notes"]  # fmt: skip


@pytest.fixture(scope="module")
def runs(tmp_path_factory):
    rng = np.random.default_rng(4)
    n, d = (g.ravel() for g in np.meshgrid(np.geomspace(1e7, 1e10, 6), np.geomspace(1e9, 1e12, 6)))
    loss = (1.69 + 406.4 * n**-0.34 + 410.7 * d**-0.28) * np.exp(0.01 * rng.standard_normal(36))
    frame = pd.DataFrame({"params": n, "tokens": d, "loss": loss, "run": np.arange(36) % 6})
    path = tmp_path_factory.mktemp("fit") / "runs.csv"
    frame.to_csv(path, index=False)
    return path, frame


def run_json(capsys, args):
    assert main(["fit", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_forms_match_the_library():
    assert set(cli_fit.FORMS) == set(FORM_NAMES)


def test_chinchilla_json_has_the_standard_keys_and_the_library_numbers(runs, capsys):
    path, frame = runs
    record = run_json(capsys, [str(path), "--x", "params,tokens", "--bootstrap", "40"])
    assert list(record) == KEYS
    assert set(record["params"]) == {"E", "A", "B", "alpha", "beta"}
    assert all(len(v) == 2 for v in record["ci95"].values())
    assert set(record["allocation"]) >= {"a", "b", "G", "tokens_per_parameter"}
    expected = fit_chinchilla(frame, x=("params", "tokens"), n_bootstrap=40, rng=0)
    for name, value in expected.params.items():  # the CLI only formats the library's numbers
        assert record["params"][name] == pytest.approx(value, rel=1e-12)
        assert record["stderr"][name] == pytest.approx(expected.stderr[name], rel=1e-12)


def test_table_lists_parameters_allocation_and_notes(runs, capsys):
    path, _ = runs
    assert main(["fit", str(path), "--x", "params,tokens", "--bootstrap", "20"]) == 0
    out = capsys.readouterr().out
    for text in ("parameter", "alpha", "tokens_per_parameter", "starts:"):
        assert text in out


def test_power_law_fixed_floor_and_heldout(runs, capsys):
    path, _ = runs
    args = [str(path), "--form", "power_law", "--x", "tokens", "--fixed", "E=0", "--bootstrap",
            "20", "--exclude", "params != 1e10", "--heldout-column", "tokens",
            "--heldout-above", "1e11"]  # fmt: skip
    record = run_json(capsys, args)
    assert record["params"]["E"] == 0.0 and record["allocation"] is None
    assert record["n_excluded"] == 30 and record["notes"]["E"] == "fixed at 0"
    held = record["heldout"]
    assert held["n_train"] + held["n_heldout"] == 6 and held["column"] == "tokens"


def test_model_form_reads_netcdf(tmp_path, capsys):
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=500, alpha=1.0), noise_var=1e-6)
    ds = theory_grid(spec, n_features=[25, 50, 100, 200, 400, 1000],
                     n_samples=[32, 64, 128, 256, 512, 1000], ridges=[1e-2])  # fmt: skip
    path = tmp_path / "theory.nc"
    ds.to_netcdf(path)
    record = run_json(capsys, [str(path), "--form", "model", "--bootstrap", "20"])
    assert set(record["params"]) == {"alpha", "amplitude", "latent_dim", "noise_var"}
    assert record["params"]["alpha"] == pytest.approx(1.0, rel=1e-3)  # noise-free theory
    assert record["n_points"] == 36


def test_study_store_needs_one_case(tmp_path, capsys):
    study = tmp_path / "tiny.toml"
    study.write_text(
        '[study]\nname = "tiny"\ncompute = "theory"\nstore = "tiny.sqlite"\n'
        "[grid]\nn_features = [50, 100, 200, 400, 800]\nn_samples = [64, 128, 256, 512, 1024]\n"
        "ridges = [1e-2]\nalpha = [0.5, 1.0]\n"
        '[[spec]]\nname = "linear"\nnoise_var = 1e-6\n'
        'spectrum = { kind = "power_law", latent_dim = 1000 }\n'
    )
    assert main(["study", "run", str(study), "--executor", "serial"]) == 0
    capsys.readouterr()
    assert main(["fit", str(study), "--form", "model", "--bootstrap", "0"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: '--exclude' must leave one case") and err.count("\n") == 1
    keep = "case != 'linear[alpha=1,M=1000]'"
    record = run_json(capsys, [str(study), "--form", "model", "--bootstrap", "20",
                               "--exclude", keep])  # fmt: skip
    assert record["n_points"] == 25 and record["n_excluded"] == 25
    assert record["params"]["alpha"] == pytest.approx(1.0, rel=1e-3)


def test_plot_writes_the_figures(runs, tmp_path, capsys):
    path, _ = runs
    out = tmp_path / "figs"
    args = ["fit", str(path), "--x", "params,tokens", "--bootstrap", "20", "--heldout-column",
            "compute", "--heldout-above", "1e20", "--plot", str(out)]  # fmt: skip
    assert main(args) == 0
    names = sorted(p.name for p in out.iterdir())
    assert names == [f"fit_chinchilla_{kind}.png" for kind in
                     ("contours", "curves_params", "curves_tokens", "residuals")]  # fmt: skip
    assert "wrote" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["missing.csv"], "error: 'FILE' must be an existing file"),
        (["{csv}", "--x", "params,tokens", "--y", "nope"], "error: 'y' must name a column"),
        (["{csv}", "--x", "params"], "error: 'x' must name 2 column"),
        (["{csv}", "--fixed", "E"], "expected name=number"),
        (["{csv}", "--ridge", "0"], "error: '--ridge' and '--quantity' go with --form model"),
        (["{csv}", "--form", "power_law"], "needs --x"),
        (["{csv}", "--x", "params,tokens", "--exclude", "params >"], "'exclude' must be"),
        (["{csv}", "--x", "params,tokens", "--heldout-above", "1e20"], "must be given together"),
    ],
)
def test_errors_are_one_line_with_status_2(runs, capsys, args, message):
    path, _ = runs
    args = [a.replace("{csv}", str(path)) for a in args]
    assert main(["fit", *args]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_nonpositive_loss_is_refused_then_dropped_on_request(runs, tmp_path, capsys):
    _, frame = runs
    bad = frame.copy()
    bad.loc[0, "loss"] = 0.0
    path = tmp_path / "bad.parquet"
    bad.to_parquet(path)
    assert main(["fit", str(path), "--x", "params,tokens", "--bootstrap", "0"]) == 2
    assert "column 'loss' must hold finite values > 0" in capsys.readouterr().err
    record = run_json(capsys, [str(path), "--x", "params,tokens", "--bootstrap", "0",
                               "--drop-invalid"])  # fmt: skip
    assert record["n_excluded"] == 1 and "drop_invalid" in record["notes"]["excluded"]
