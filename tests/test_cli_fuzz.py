"""Property test over the command line: any argument vector ends with exit 0, or exit 2 and one
``error:`` line — never a traceback, an internal error, a raw numpy RuntimeWarning, or a NaN or
Infinity token in JSON."""

import json

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from scalinglaws.cli.main import main

NUMBERS = ["0", "1", "2", "7", "64", "-1", "1e30", "1e-300", "1e300", "1e308", "nan", "inf",
           "-inf", "abc", "", "3.5", "1,2", "16,64", "0,5", "1e400", "-0", "2e1",
           "0.5"]  # fmt: skip
ACTIVATIONS = ["linear", "relu", "erf", "tanh", "sign", "quadratic", "gelu", "abs", "cubic"]

MODEL = {
    "-M": NUMBERS, "-a": NUMBERS, "--lambda-plus": NUMBERS, "--teacher-var": NUMBERS,
    "--noise-var": NUMBERS, "--feature-var": NUMBERS, "--activation": ACTIVATIONS,
    "--teacher-activation": ACTIVATIONS, "--teacher-width": NUMBERS,
}  # fmt: skip
GRID = {"-N": NUMBERS, "-P": NUMBERS, "--ridge": NUMBERS}
OPTIONS = {
    "simulate": {**MODEL, **GRID, "--seeds": NUMBERS, "--seed": NUMBERS,
                 "--loss": ["exact", "monte_carlo", "sampled"], "--n-test": NUMBERS},
    "theory": {**MODEL, **GRID, "--level": ["auto", "exact", "one", "two", "three"],
               "--seeds": NUMBERS, "--n-reference": NUMBERS},
    "optimal": {**MODEL, "-N": NUMBERS, "-P": NUMBERS},
    "frontier": {**MODEL, "--budget": NUMBERS, "--cost-feature": NUMBERS,
                 "--cost-sample": NUMBERS, "--cost-product": NUMBERS},
    "spectrum": {"-M": NUMBERS, "-a": NUMBERS, "-N": NUMBERS, "-P": NUMBERS,
                 "--lambda-plus": NUMBERS, "--activation": ACTIVATIONS,
                 "--window": ["2:9", "9:2", "x", "1:3"], "--drop": NUMBERS},
}  # fmt: skip
#: Options that always have a sensible value unless the example overrides them.
BASE = {"simulate": ["-M", "30", "-a", "1", "-N", "8", "-P", "8"],
        "theory": ["-M", "30", "-a", "1", "-N", "8", "-P", "8"],
        "optimal": ["-M", "30", "-a", "1", "-N", "8", "-P", "8"],
        "frontier": ["-M", "30", "-a", "1", "--budget", "1e4"],
        "spectrum": ["-M", "30", "-a", "1", "-N", "40"]}  # fmt: skip


#: Plausible values per option, drawn more often than the adversarial ones.
GOOD = {"-M": ["30", "200"], "-a": ["1", "0.5", "2"], "-N": ["8", "16,64", "40"],
        "-P": ["8", "16,64", "40"], "--ridge": ["0", "1e-3,1"], "--activation": ["relu", "tanh"],
        "--teacher-activation": ["relu"], "--teacher-width": ["50"], "--seeds": ["2"],
        "--budget": ["1e4,1e5"], "--noise-var": ["0.1"], "--n-test": ["500"],
        "--n-reference": ["200"], "--window": ["2:9"], "--level": ["one", "two"],
        "--loss": ["monte_carlo"]}  # fmt: skip


@st.composite
def argument_vectors(draw):
    command = draw(st.sampled_from(sorted(OPTIONS)))
    args = [command, *draw(st.sampled_from([BASE[command], BASE[command], []]))]
    names = draw(st.lists(st.sampled_from(sorted(OPTIONS[command])), max_size=5, unique=True))
    for name in names:
        good = GOOD.get(name)
        pool = good if good and draw(st.integers(0, 9)) < 8 else OPTIONS[command][name]
        args += [name, draw(st.sampled_from(pool))]
    if draw(st.booleans()):
        args.append("--json")
    # Bound the work an example may do; the refusal path is part of what is tested.
    return [*args, "--max-memory", "64MB"]


def _fail_on_constant(token):
    raise AssertionError(f"non-standard JSON token {token}")


def _check(capsys, argv):
    capsys.readouterr()
    status = main(argv)
    out, err = capsys.readouterr()
    event(f"exit {status}")
    lines = [line for line in err.splitlines() if line.strip()]
    assert status in (0, 2), (argv, status, err)
    assert "Traceback" not in err and "internal error" not in err, (argv, err)
    assert "(RuntimeWarning)" not in err, (argv, err)
    assert all(line.startswith(("error: ", "warning: ")) for line in lines), (argv, err)
    if status == 2:
        assert sum(line.startswith("error: ") for line in lines) == 1, (argv, err)
    if status == 0 and "--json" in argv:
        json.loads(out, parse_constant=_fail_on_constant)


@settings(
    max_examples=120,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(argv=argument_vectors())
@example(argv=["theory", "-M", "100", "-a", "1", "-N", "10", "-P", "20", "--ridge", "1e200",
               "--json"])  # fmt: skip
@example(argv=["frontier", "-M", "100", "-a", "1", "--budget", "0.5"])
@example(argv=["frontier", "-M", "100", "-a", "1", "--budget", "1e4", "--cost-product", "0"])
@example(argv=["spectrum", "-M", "100", "-a", "1", "--lambda-plus", "1e300", "-N", "50"])
@example(argv=["simulate", "-M", "100", "-a", "1", "-N", "1e30", "-P", "10"])
@example(argv=["theory", "-M", "50", "-a", "1", "-N", "100000", "-P", "40", "--activation",
               "relu"])  # fmt: skip
def test_any_argument_vector_ends_cleanly(capsys, argv):
    _check(capsys, argv)
