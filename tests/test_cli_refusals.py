"""Work that cannot run is refused before it runs: one line, exit 2, no large allocation."""

import json
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._errors import NumericalWarning
from scalinglaws._memory import MemoryLimitError, parse_memory
from scalinglaws.cli.main import main
from scalinglaws.sampling.simulate import simulate

MODEL = ["-M", "100", "-a", "1"]

REFUSED = [
    ["simulate", "-M", "1000", "-a", "1", "-N", "50000", "-P", "50000"],
    ["spectrum", "-M", "100", "-a", "1", "-N", "100000"],
    ["simulate", *MODEL, "-N", "10", "-P", "10", "--loss", "monte_carlo", "--n-test", "100000000"],
    ["simulate", *MODEL, "-N", "10", "-P", "10", "--teacher-activation", "relu",
     "--teacher-width", "10000000"],  # fmt: skip
    ["simulate", "-M", "100000000", "-a", "1", "-N", "10", "-P", "100"],
    ["simulate", *MODEL, "-N", "1e30", "-P", "10"],
]


#: Runs the CLI in a fresh interpreter and records its own peak resident memory (VmHWM of its
#: own address space: ru_maxrss would include the parent's at fork time).
_PEAK = """
import json, sys
from scalinglaws.cli.main import main
status = main(sys.argv[2:])
status_lines = open("/proc/self/status").read().splitlines()
peak = int(next(line for line in status_lines if line.startswith("VmHWM:")).split()[1])
open(sys.argv[1], "w").write(json.dumps({"status": status, "peak_kib": peak}))
"""


@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="needs Linux /proc")
@pytest.mark.parametrize("args", REFUSED, ids=lambda a: " ".join(a[:1] + a[5:7]))
def test_oversized_work_is_refused_in_one_line_before_allocating(args, tmp_path):
    report = tmp_path / "peak.json"
    proc = subprocess.run(
        [sys.executable, "-c", _PEAK, str(report), *args],
        capture_output=True,
        text=True,
        timeout=120,
    )
    result = json.loads(report.read_text())
    assert result["status"] == 2, proc.stderr
    lines = proc.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), proc.stderr
    assert "Traceback" not in proc.stderr and proc.stdout == ""
    # The refusal comes before the work: the process never holds more than the interpreter and
    # its imports (about 100 MB), far below the tens of GiB the work would need.
    assert result["peak_kib"] < 300 * 1024, result


def test_refusal_names_estimate_limit_and_parameter(capsys):
    status = main(["simulate", *MODEL, "-N", "2000", "-P", "2000", "--max-memory", "10MB"])
    err = capsys.readouterr().err.strip()
    assert status == 2
    assert "simulate needs about" in err and "MiB" in err
    assert "limit of 9.5 MiB (max_memory)" in err and "lower 'n_features' or 'n_samples'" in err


def test_huge_count_is_echoed_exactly(capsys):
    assert main(["simulate", *MODEL, "-N", "1e30", "-P", "10"]) == 2
    err = capsys.readouterr().err
    assert "1000000000000000019884624838656" in err and "-9223372036854775808" not in err


def test_library_refuses_with_max_memory():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0))
    with pytest.raises(MemoryLimitError, match="lower 'n_features' or 'n_samples'"):
        simulate(spec, n_features=[4000], n_samples=[4000], max_memory="1MiB")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("8GiB", 8 * 2**30), ("500MB", 500 * 10**6), ("2e9", 2 * 10**9), (1024, 1024)],
)
def test_parse_memory_units(text, expected):
    assert parse_memory(text) == expected


@pytest.mark.parametrize("bad", ["8 parsecs", "-1GB", "0", "", "nan"])
def test_max_memory_bad_value_is_one_line(capsys, bad):
    assert main(["simulate", *MODEL, "-N", "5", "-P", "5", "--max-memory", bad]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "max_memory" in err and "\n" not in err


def test_plot_to_unwritable_folder_is_refused_before_computing(capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    status = main(["simulate", *MODEL, "-N", "5", "-P", "5", "--plot", str(blocker / "figs")])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.startswith("error: ") and "--plot" in err and "\n" not in err


def test_plot_without_matplotlib_is_refused_before_computing(capsys, monkeypatch):
    import scalinglaws.cli._options as options

    real = options.importlib.util.find_spec
    monkeypatch.setattr(
        options.importlib.util,
        "find_spec",
        lambda name, *a: None if name == "matplotlib" else real(name, *a),
    )
    calls = []
    # the package re-exports the function under the module's name, so patch the module object
    module = sys.modules["scalinglaws.sampling.simulate"]
    monkeypatch.setattr(module, "simulate", lambda *a, **k: calls.append(1))
    status = main(["simulate", *MODEL, "-N", "5", "-P", "5", "--plot", "figs"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and "pip install 'scalinglaws[plot]'" in err and not calls


def test_simulate_flags_the_ridgeless_pole():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0), noise_var=0.01)
    with pytest.warns(NumericalWarning, match="expected test loss is infinite"):
        ds = simulate(spec, n_features=[20, 40, 150], n_samples=[40, 100], ridges=[0.0, 1e-2],
                      n_seeds=2)
    pole = ds.infinite_expectation
    # N = P = 40 < M, and P = M = 100 ≤ N = 150 with noise; never with a ridge.
    expected = {(40, 40), (150, 100)}
    at_zero = pole.sel(ridge=0.0).values
    found = {
        (int(ds.n_features.values[i]), int(ds.n_samples.values[j]))
        for i, j in zip(*np.nonzero(at_zero), strict=True)
    }
    assert found == expected
    assert not bool(pole.sel(ridge=1e-2).any())


def test_simulate_without_poles_does_not_warn():
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=100, alpha=1.0))
    with warnings.catch_warnings():
        warnings.simplefilter("error", NumericalWarning)
        # N = P = 100 = M without noise: the noiseless target is interpolated exactly (no pole).
        ds = simulate(spec, n_features=[30, 100], n_samples=[60, 100], ridges=[0.0], n_seeds=1)
    assert not bool(ds.infinite_expectation.any())


def test_cli_reports_the_pole_in_json_and_a_warning(capsys):
    assert main(["simulate", *MODEL, "-N", "20", "-P", "20", "--seeds", "2", "--json"]) == 0
    captured = capsys.readouterr()
    record = json.loads(captured.out)[0]
    assert record["infinite_expectation"] is True
    assert "warning: simulate: ridge 0" in captured.err
