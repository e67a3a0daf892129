"""``scalinglaws spectrum``: synthetic spec and datasets, JSON and tables, one-line errors."""

import json

import pytest

from scalinglaws.cli.main import main


def test_spectrum_json_relu_extension(capsys):
    assert main(["spectrum", "-M", "40", "-a", "1", "--activation", "relu", "-N", "400",
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert len(out["eigenvalues"]["features"]) == 400 and out["rank"] == 40
    windows = [(f["start"], f["stop"]) for f in out["fits"]]
    assert windows == [(10, 40), (40, 120), (120, 201)]
    # ReLU continues past M: every window has a fit; band as in the acceptance test.
    assert all(-2.2 <= f["slope"] <= -1.3 for f in out["fits"])
    assert out["cutoff"]["extent"] > 120


def test_spectrum_linear_reports_cutoff_at_m_and_skips_windows_past_it(capsys):
    assert main(["spectrum", "-M", "40", "-a", "1", "--activation", "linear", "-N", "400",
                 "--json"]) == 0  # fmt: skip
    out = json.loads(capsys.readouterr().out)
    assert out["cutoff"]["found"] and out["cutoff"]["extent"] == 40
    assert [("skipped" in f) for f in out["fits"]] == [False, True, True]


def test_spectrum_issue_command_runs(capsys):
    # the command of the issue: M = 100, α = 1, ReLU, N = 2000, exact K (one BLAS thread: the
    # suite runs one worker per core, where a threaded 2000×2000 eigvalsh is several times slower)
    from threadpoolctl import threadpool_limits

    with threadpool_limits(limits=1):
        code = main(["spectrum", "-M", "100", "-a", "1", "--activation", "relu", "-N", "2000",
                     "--json"])  # fmt: skip
    assert code == 0
    out = json.loads(capsys.readouterr().out)
    assert all(-2.2 <= f["slope"] <= -1.3 for f in out["fits"])


def test_spectrum_sampled_table_and_plot(capsys, tmp_path):
    pytest.importorskip("matplotlib")
    args = ["spectrum", "-M", "30", "-a", "1", "-N", "100", "-P", "300", "--plot", str(tmp_path)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "power-law fits" in out and "eigenvalues" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "spectrum_M30_alpha1_linear_vs_relu.png", "spectrum_M30_alpha1_relu.png"]  # fmt: skip


def test_spectrum_dataset_digits(capsys):
    pytest.importorskip("sklearn", reason="scikit-learn not installed (the 'data' extra)")
    assert main(["spectrum", "--dataset", "digits", "-N", "300", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["source"]["name"] == "digits" and out["rank"] == 61
    assert len(out["eigenvalues"]["data"]) == 64 and out["fits"][0]["spectrum"] == "data"


@pytest.mark.parametrize(
    ("args", "text"),
    [
        (["--dataset", "nope"], "'nope' is not one of 'digits'"),
        (["-M", "10"], "'latent_dim' and 'alpha' must be given"),
        (["-M", "10", "-a", "1", "-N", "0"], "'n_features' must be a positive integer"),
        (["-M", "10", "-a", "1", "--window", "3-9"], "START:STOP"),
    ],
)
def test_spectrum_bad_input_exits_2_with_one_line(capsys, args, text):
    assert main(["spectrum", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and text in err and "\n" not in err
