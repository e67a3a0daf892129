"""Study files: the examples load, and bad files fail with one line naming the field (exit 2)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from scalinglaws import ModelSpec
from scalinglaws._validation import InputError
from scalinglaws.cli.main import main
from scalinglaws.studies import load_study, plan_units

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"

GOOD = """
[study]
name = "tiny"
compute = "simulation"
seed = 3

[grid]
n_features = [8, 16]
n_samples = [16, 8]
ridges = [0.0, 0.01]
seeds = 2

[[spec]]
name = "lin"
spectrum = { kind = "power_law", latent_dim = 50, alpha = 1.0 }
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "study.toml"
    path.write_text(text)
    return path


@pytest.mark.parametrize("name", ["linear_power_law.toml", "nonlinear_features.toml"])
def test_study_examples_load_and_plan_units(name):
    study = load_study(EXAMPLES / name)
    units = plan_units(study)
    assert units, "an example study must plan some units"
    assert len({u.key for u in units}) == len(units)


def test_study_grid_lists_are_sorted_and_store_is_beside_the_file(tmp_path):
    study = load_study(write(tmp_path, GOOD))
    (case,) = study.cases
    assert case.grid.n_samples == (8, 16)
    assert case.grid.seeds == (0, 1)
    assert study.store == tmp_path / "study.sqlite"
    assert study.root_seed == 3


def test_study_case_spec_round_trips_through_from_dict(tmp_path):
    study = load_study(write(tmp_path, GOOD))
    spec = study.cases[0].spec
    assert ModelSpec.from_dict(spec).to_dict() == spec


def test_study_alpha_and_latent_dim_grids_expand_cases(tmp_path):
    text = GOOD.replace("seeds = 2", "seeds = 2\nalpha = [0.5, 1.0]\nlatent_dim = [40, 60]")
    study = load_study(write(tmp_path, text))
    dims = sorted(
        (c.spec["spectrum"]["alpha"], c.spec["spectrum"]["latent_dim"]) for c in study.cases
    )
    assert dims == [(0.5, 40), (0.5, 60), (1.0, 40), (1.0, 60)]
    assert len(plan_units(study)) == 4 * 2


def test_study_unit_keys_ignore_the_file_but_follow_the_spec(tmp_path):
    keys = {u.key for u in plan_units(load_study(write(tmp_path, GOOD)))}
    renamed = GOOD.replace('name = "tiny"', 'name = "other"')
    assert {u.key for u in plan_units(load_study(write(tmp_path, renamed)))} == keys
    noisy = GOOD.replace('name = "lin"', 'name = "lin"\nnoise_var = 0.1')
    assert not {u.key for u in plan_units(load_study(write(tmp_path, noisy)))} & keys


BAD = [
    # (what, replace this, by this, the field the message must name)
    ("unknown field", "seeds = 2", "seeds = 2\nn_featurs = [3]", "grid.n_featurs"),
    ("wrong type", "seeds = 2", 'seeds = "two"', "grid.seeds"),
    ("wrong type in list", "n_features = [8, 16]", "n_features = [8, 16.5]", "grid.n_features"),
    ("out of range", "latent_dim = 50", "latent_dim = -50", "spec[0].spectrum.latent_dim"),
    ("out of range", "alpha = 1.0", "alpha = 0.0", "spec[0].spectrum.alpha"),
    ("out of range", "ridges = [0.0, 0.01]", "ridges = [-1.0]", "grid.ridges"),
    ("empty grid", "n_samples = [16, 8]", "n_samples = []", "grid.n_samples"),
    ("bad choice", 'compute = "simulation"', 'compute = "all"', "study.compute"),
    (
        "unknown activation",
        'name = "lin"',
        'name = "lin"\nactivation = "swish"',
        "spec[0].activation",
    ),
    ("missing field", "n_features = [8, 16]\n", "", "grid.n_features"),
    ("unknown spec field", 'name = "lin"', 'name = "lin"\nnoise = 0.1', "spec[0].noise"),
]


@pytest.mark.parametrize(("what", "old", "new", "field"), BAD, ids=[b[0] for b in BAD])
def test_study_bad_file_is_one_line_naming_the_field_with_exit_2(
    tmp_path, capsys, what, old, new, field
):
    assert old in GOOD
    path = write(tmp_path, GOOD.replace(old, new, 1))
    with pytest.raises(InputError, match=re.escape(f"'{field}'")):
        load_study(path)
    code = main(["study", "status", str(path)])
    err = capsys.readouterr().err
    assert code == 2
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert str(path) in err and field in err


def test_study_missing_file_exits_2(tmp_path, capsys):
    code = main(["study", "run", str(tmp_path / "nope.toml")])
    err = capsys.readouterr().err
    assert code == 2
    assert err.count("\n") == 1 and "'STUDY'" in err and "nope.toml" in err


def test_study_invalid_toml_names_the_file(tmp_path, capsys):
    path = write(tmp_path, "[grid\n")
    assert main(["study", "status", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a valid TOML file" in err and str(path) in err


def test_study_explicit_spectrum_rejects_alpha_grid(tmp_path):
    text = GOOD.replace(
        'spectrum = { kind = "power_law", latent_dim = 50, alpha = 1.0 }',
        'spectrum = { kind = "explicit", eigenvalues = [1.0, 0.5, 0.25] }',
    ).replace("seeds = 2", "seeds = 2\nalpha = [1.0]")
    with pytest.raises(InputError, match="'grid.alpha' must be absent"):
        load_study(write(tmp_path, text))


def test_random_feature_teacher_round_trips(tmp_path):
    text = GOOD + 'teacher = { kind = "random_features", activation = "tanh", width = 64 }\n'
    study = load_study(write(tmp_path, text))
    spec = ModelSpec.from_dict(plan_units(study)[0].spec)
    assert spec.teacher.kind == "random_features"
    assert spec.teacher.activation.name == "tanh" and spec.teacher.width == 64
    assert ModelSpec.from_dict(spec.to_dict()) == spec


def test_random_feature_teacher_bad_activation_names_the_field(tmp_path):
    text = GOOD + 'teacher = { kind = "random_features", activation = "swish" }\n'
    with pytest.raises(InputError, match=r"spec\[0\]\.teacher\.activation") as info:
        load_study(write(tmp_path, text))
    assert "\n" not in str(info.value)
