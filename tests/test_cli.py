"""The command line: tables, standard JSON, one-line errors with exit status 2."""

import json
import subprocess
import sys

import pytest

from scalinglaws.cli.main import main

SIM = ["simulate", "-M", "200", "-a", "1", "-N", "20,40", "-P", "50", "--ridge", "0,1e-2"]


def run_cli(args):
    """Run the real console entry point in a subprocess; return (code, stdout, stderr)."""
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from scalinglaws.cli.main import main; "
         "sys.exit(main(sys.argv[1:]))", *args],
        capture_output=True, text=True, timeout=120,
    )
    return proc.returncode, proc.stdout, proc.stderr


def test_simulate_json_records(capsys):
    assert main([*SIM, "--seeds", "3", "--json"]) == 0
    records = json.loads(capsys.readouterr().out)
    assert len(records) == 4
    assert set(records[0]) == {"n_features", "n_samples", "ridge", "test_mse", "test_mse_sem",
                               "excess", "excess_sem", "n_seeds", "infinite_expectation"}
    assert all(r["n_seeds"] == 3 and r["test_mse"] > 0 for r in records)


def test_simulate_json_uses_null_not_nan(capsys):
    assert main([*SIM, "--seeds", "1", "--json"]) == 0
    out = capsys.readouterr().out
    assert "NaN" not in out and "Infinity" not in out
    assert json.loads(out)[0]["test_mse_sem"] is None


def test_simulate_table(capsys):
    assert main([*SIM, "--seeds", "2"]) == 0
    out = capsys.readouterr().out
    assert "n_features" in out and "excess" in out


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["simulate", "-M", "-3", "-a", "1", "-N", "5", "-P", "5"], "'latent_dim'"),
        (["simulate", "-M", "10", "-a", "0", "-N", "5", "-P", "5"], "'alpha'"),
        (["simulate", "-M", "10", "-a", "1", "-N", "5,x", "-P", "5"], "--n-features"),
        (["simulate", "-M", "10", "-a", "1", "-N", "5", "-P", "5", "--ridge", "-1"], "'ridges'"),
        (["simulate", "-M", "10", "-a", "1", "-N", "5", "-P", "5", "--noise-var", "-1"],
         "'noise_var'"),
        (["simulate", "-M", "10", "-a", "1", "-N", "5", "-P", "5", "--activation", "nope"],
         "--activation"),
        (["simulate", "-M", "10", "-a", "1", "-P", "5"], "--n-features"),
    ],
)
def test_bad_input_is_one_line_exit_2(args, needle):
    code, out, err = run_cli(args)
    assert code == 2
    assert err.count("\n") == 1 and err.startswith("error: ") and needle in err
    assert "Traceback" not in err and out == ""
