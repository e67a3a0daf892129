"""CLI: theory, optimal, frontier and figures — JSON shape, agreement with the library, errors."""

import json
import math

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum
from scalinglaws.cli.main import main
from scalinglaws.theory import theory_loss

MODEL = ["-M", "2000", "-a", "1"]


def test_theory_json_keys_and_values(capsys):
    assert main(["theory", *MODEL, "-N", "100,200", "-P", "1000", "--ridge", "0,1e-2",
                 "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 4
    assert set(records[0]) == {"n_features", "n_samples", "ridge", "test_mse", "excess", "kappa"}
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0))
    for rec in records:
        expected = theory_loss(spec, rec["n_features"], rec["n_samples"], rec["ridge"])
        # The CLI only formats the library's number: identical up to JSON float round-trip.
        assert rec["excess"] == pytest.approx(float(expected.excess), rel=1e-15)


def test_theory_pole_is_null_with_warning(capsys):
    assert main(["theory", *MODEL, "-N", "100", "-P", "100", "--json"]) == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)[0]["test_mse"] is None
    assert "pole" in captured.err


def test_optimal_matches_model_reference(capsys):
    assert main(["optimal", "-M", "20000", "-a", "1", "-N", "1000", "-P", "1000", "--json"]) == 0
    rec = json.loads(capsys.readouterr().out)[0]
    # MODEL.md §5: L_opt = 2.40e-7 at N = P = 1000 (M = 2e4); quoted to 3 digits, so 1 %.
    assert rec["test_mse"] == pytest.approx(2.40e-7, rel=0.01)
    assert rec["ridge"] > 0


def test_frontier_json(capsys):
    assert main(["frontier", "-M", "20000", "-a", "1", "--budget", "1e4,1e5,1e6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["frontier"]) == 3
    # Equiparameterization (MODEL.md §5): N* = P* = sqrt(C); the golden-section search stops at
    # 1e-4 in log N, hence 1e-3 relative.
    for point in out["frontier"]:
        assert point["n_features"] == pytest.approx(math.sqrt(point["budget"]), rel=1e-3)
    assert out["exponents"]["n_features"] == pytest.approx(0.5, abs=0.01)


def test_theory_nonlinear_uses_gaussian_equivalence(capsys):
    args = ["theory", "-M", "40", "-a", "1", "-N", "20,80", "-P", "300", "--ridge", "1e-2",
            "--activation", "relu", "--teacher-activation", "relu", "--teacher-width", "400"]
    assert main([*args, "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    from scalinglaws import Teacher
    from scalinglaws.equivalence import two_level_theory

    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=40, alpha=1.0), activation="relu",
                     teacher=Teacher.random_features("relu", 400))
    expected = two_level_theory(spec, n_features=[20, 80], n_samples=[300], ridges=[1e-2])
    # Same library call with the same seed: the CLI only formats it.
    got = [r["excess"] for r in records]
    np.testing.assert_allclose(got, expected.excess.values.ravel(), rtol=1e-12)


def test_theory_details_need_the_exact_theory():
    assert main(["theory", *MODEL, "-N", "10", "-P", "10", "--activation", "relu",
                 "--details"]) == 2


def test_figures_writes_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    assert main(["figures", "--out", str(tmp_path), "--seeds", "1", "--quick"]) == 0
    for name in ("double_descent.png", "equiparameterization.png", "linear_vs_relu_past_M.png"):
        data = (tmp_path / name).read_bytes()
        assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10_000


def test_simulate_plot_writes_pngs(tmp_path):
    pytest.importorskip("matplotlib")
    assert main(["simulate", *MODEL, "-N", "20,40", "-P", "50,100", "--seeds", "2",
                 "--plot", str(tmp_path)]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["simulate_excess_vs_n_features.png", "simulate_excess_vs_n_samples.png"]
    assert np.all([(tmp_path / n).stat().st_size > 10_000 for n in names])
