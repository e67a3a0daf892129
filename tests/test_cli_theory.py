"""CLI: theory, optimal, frontier and figures — JSON shape, agreement with the library, errors."""

import json
import math
import re
import time

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
    # docs/model.md §5: L_opt = 2.40e-7 at N = P = 1000 (M = 2e4); quoted to 3 digits, so 1 %.
    assert rec["test_mse"] == pytest.approx(2.40e-7, rel=0.01)
    assert rec["ridge"] > 0


def test_frontier_json(capsys):
    assert main(["frontier", "-M", "20000", "-a", "1", "--budget", "1e4,1e5,1e6", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert len(out["frontier"]) == 3
    # Equiparameterization (docs/model.md §5): N* = P* = sqrt(C); the golden-section search stops at
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
    from scalinglaws.bridges.equivalence import two_level_theory

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


# -- trust at the edges: the whole float range, one-line errors, refusals, standard JSON ---------
def _json(capsys, args):
    assert main(args) == 0
    captured = capsys.readouterr()

    def no_constants(name):
        raise AssertionError(f"non-standard JSON token {name}")

    return json.loads(captured.out, parse_constant=no_constants), captured.err


SMALL = ["-M", "100", "-a", "1", "-N", "10", "-P", "20"]
#: The γ → ∞ limit of the excess, Σ_I w̄_I² λ_I = (1/M) Σ_{I≤100} I⁻² (predicting 0).
NULL_PREDICTOR = float(np.sum(np.arange(1, 101.0) ** -2) / 100)


@pytest.mark.parametrize(
    ("extra", "scale", "expected"),
    [
        # was 0.0: κ² overflowed to a NaN that became 0; κ = 5e199, corrections O(1/κ)
        (["--ridge", "1e200"], 1.0, NULL_PREDICTOR),
        (["--feature-var", "1e-300", "--ridge", "1"], 1.0, NULL_PREDICTOR),  # γ̃ = 5e299
        (["--lambda-plus", "1e300"], 1e300, None),  # was 0.0
        (["--teacher-var", "1e308"], 1e308, None),  # was 0.0
        (["--lambda-plus", "1e-300"], 1e-300, None),  # right before too: a check that stays
    ],
)
def test_theory_cli_over_the_float_range(capsys, extra, scale, expected):
    records, _ = _json(capsys, ["theory", *SMALL, *extra, "--json"])
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    base = float(theory_loss(spec, 10, 20, 0.0).excess)
    want = expected if expected is not None else scale * base
    # scale factors enter through exp/log of up to ~700 (rounding ~1e-13); the γ → ∞ limit is
    # reached to O(1/κ) ≤ 1e-199
    assert records[0]["excess"] == pytest.approx(want, rel=1e-12)


def test_optimal_and_frontier_cli_over_the_float_range(capsys):
    base, _ = _json(capsys, ["optimal", *SMALL, "--json"])
    big, _ = _json(capsys, ["optimal", *SMALL, "--lambda-plus", "1e300", "--json"])
    # the same search in scaled units: L_opt scales exactly; a flat optimum may move by ~xtol²
    assert big[0]["test_mse"] == pytest.approx(1e300 * base[0]["test_mse"], rel=1e-8)
    frontier = ["frontier", "-M", "100", "-a", "1", "--budget", "1e3,1e4", "--json"]
    plain, _ = _json(capsys, frontier)
    scaled, _ = _json(capsys, [*frontier, "--lambda-plus", "1e300"])
    for p0, p1 in zip(plain["frontier"], scaled["frontier"], strict=True):
        # was N* = 1, L* = 0; golden section to 1e-4 in log N: N* within 1e-3
        assert p1["n_features"] == pytest.approx(p0["n_features"], rel=1e-3)
        assert p1["excess"] == pytest.approx(1e300 * p0["excess"], rel=1e-6)
    assert scaled["exponents"]["loss"] == pytest.approx(plain["exponents"]["loss"], abs=1e-6)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["frontier", *MODEL, "--budget", "0.5"], r"'budgets' must be >= 1 .* Got 0\.5 instead"),
        (
            ["frontier", *MODEL, "--budget", "1e4", "--cost-product", "0"],
            r"'per_product' must be > 0 when 'per_sample' is 0.* Got 0\.0 instead",
        ),
        (["frontier", *MODEL, "--budget", "1e4", "--cost-feature", "-1"], r"'per_feature'"),
        (["frontier", *MODEL, "--budget", "inf"], r"'budgets' must be"),
        (["theory", *MODEL, "-N", "10", "-P", "10", "--ridge", "-1"], r"'ridges' must be"),
        (["theory", "-M", "0", "-a", "1", "-N", "10", "-P", "10"], r"'latent_dim'"),
        (["theory", *MODEL, "-N", "10", "-P", "10", "--lambda-plus", "0"], r"'lambda_plus'"),
        (["theory", *MODEL, "-N", "10", "-P", "10", "--lambda-plus", "nan"], r"'lambda_plus'"),
        (["theory", *MODEL, "-N", "10", "-P", "10", "--n-reference", "100"], r"'n_reference'"),
        (
            ["theory", *MODEL, "-N", "50", "-P", "10", "--activation", "relu", "--n-reference",
             "20"],
            r"'n_reference' must be >= max n_features = 50",
        ),
        (["optimal", *MODEL, "-N", "10", "-P", "10", "--activation", "relu"], r"'activation'"),
        (["theory", *MODEL, "-N", "10", "-P", "10", "--max-memory", "lots"], r"max_memory"),
    ],
)
def test_bad_input_is_one_line_with_status_two(capsys, args, message):
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert re.search(message, err), err
    assert "Traceback" not in err


def test_relu_two_level_pole_is_null_with_a_warning(capsys):
    records, err = _json(capsys, ["theory", "-M", "40", "-a", "1", "-N", "50", "-P", "50,60",
                                  "--activation", "relu", "--json"])  # fmt: skip
    assert records[0]["test_mse"] is None and records[1]["test_mse"] is not None
    assert "pole" in err


def test_huge_nonlinear_work_is_refused_within_a_second(capsys):
    for extra in (["-N", "100000"], ["-N", "100", "--teacher-activation", "relu",
                                      "--teacher-width", "10000000"]):  # fmt: skip
        start = time.perf_counter()
        assert main(["theory", "-M", "50", "-a", "1", "-P", "40", "--activation", "relu",
                     *extra]) == 2  # fmt: skip
        assert time.perf_counter() - start < 1.0
        err = capsys.readouterr().err
        assert "of memory at its peak" in err and "lower" in err, err
        # the default route on power-law data is the sampled one, whose kernels are N×N
        assert ("'teacher_width'" if "--teacher-width" in extra else "'n_features'") in err


def test_max_memory_option_refuses_what_does_not_fit(capsys):
    args = ["theory", "-M", "50", "-a", "1", "-N", "100", "-P", "40", "--activation", "relu"]
    assert main([*args, "--max-memory", "1MB"]) == 2
    assert "limit of 976.6 KiB (max_memory)" in capsys.readouterr().err


def test_output_table_that_is_absurdly_large_is_refused(capsys):
    n = ",".join(str(i) for i in range(1, 301))
    assert main(["theory", *MODEL, "-N", n, "-P", n]) == 2  # 90,000 rows > 50,000
    assert "--json" in capsys.readouterr().err
    assert main(["theory", *MODEL, "-N", n, "-P", n, "--json", "--max-memory", "10MB"]) == 2
    assert "The output of 90,000 records" in capsys.readouterr().err


def test_theory_progress_bar_goes_to_stderr(capsys):
    records, err = _json(capsys, ["theory", *MODEL, "-N", "10,20", "-P", "30", "--progress",
                                  "--json"])  # fmt: skip
    assert len(records) == 2 and "theory" in err


def test_details_are_vectorized_and_match_the_library(capsys):
    from scalinglaws.theory import local_slopes, regime

    records, _ = _json(capsys, ["theory", *MODEL, "-N", "100,1000", "-P", "10000", "--ridge",
                                "0,1e-3", "--details", "--json"])  # fmt: skip
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0))
    for rec in records:
        args = (rec["n_features"], rec["n_samples"], rec["ridge"])
        assert rec["regime"] == str(regime(spec, *args))
        # the same library call, batched: identical up to the sums' blocking (1e-12)
        assert rec["slope_n_features"] == pytest.approx(
            float(local_slopes(spec, *args).n_features), rel=1e-9
        )
