"""``scalinglaws reproduce``: claims that can fail, the output folder, the executors, the CLI."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from scalinglaws.analysis.findings import (
    FINDINGS,
    Claim,
    FindingResult,
    SimulationJob,
    agreement,
    bound,
    ratio_to_prediction,
    run_inline,
    seed_slopes,
)
from scalinglaws.cli.main import main
from scalinglaws.model.spec import ModelSpec
from scalinglaws.model.spectrum import Spectrum

RECORD_KEYS = {"finding", "claim", "measured", "predicted", "tolerance", "holds", "figure"}


def test_agreement_holds_within_tolerance_and_fails_outside():
    kw = dict(predicted=1.0, tolerance=0.05, rule="absolute", reason="r", figure="f")
    assert agreement("x", "c", measured=1.04, **kw).holds
    assert not agreement("x", "c", measured=1.06, **kw).holds


def test_bound_relations_and_unmeasurable_claims_fail():
    assert bound("x", "c", measured=0.4, limit=0.5, relation="<=", reason="r", figure="f").holds
    assert not bound("x", "c", measured=0.6, limit=0.5, relation="<=", reason="r",
                     figure="f").holds  # fmt: skip
    assert bound("x", "c", measured=3.0, limit=2.0, relation=">=", reason="r", figure="f").holds
    nan = agreement("x", "c", measured=math.nan, predicted=1.0, tolerance=1.0, rule="a",
                    reason="r", figure="f")  # fmt: skip
    assert not nan.holds, "a claim whose number could not be measured does not hold"
    assert nan.to_record()["measured"]["value"] is None  # standard JSON, no NaN token


def test_claim_record_has_the_fields_of_claims_json():
    record = agreement("x", "c", measured=1.0, stderr=0.1, predicted=1.0, tolerance=0.3,
                       rule="3 SE", reason="r", figure="f").to_record()  # fmt: skip
    assert set(record) == RECORD_KEYS
    assert record["measured"] == {"value": 1.0, "stderr": 0.1, "by": "simulation"}
    assert record["tolerance"]["reason"] == "r"
    json.dumps(record, allow_nan=False)


def test_seed_slopes_spread_is_the_standard_error():
    x = np.array([10.0, 20.0, 40.0])
    curves = np.stack([x**-1.0, x**-1.2, x**-0.8], axis=1)
    slope, se = seed_slopes(x, curves)
    # exact per-seed slopes −1, −1.2, −0.8: mean −1, sd 0.2, se 0.2/√3 (closed form)
    np.testing.assert_allclose([slope, se], [-1.0, 0.2 / np.sqrt(3)], rtol=1e-12)


def test_ratio_to_prediction_is_the_seed_mean_of_mean_ratios():
    curves = np.array([[1.0, 3.0], [2.0, 2.0]])
    ratio, se = ratio_to_prediction(curves, [1.0, 2.0])
    np.testing.assert_allclose([ratio, se], [1.5, 0.5], rtol=1e-12)  # ratios 1 and 2


def _tiny_jobs() -> dict:
    spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=60, alpha=1.0))
    return {"a": SimulationJob(spec, (10, 20), (40, 80), (0.0, 1e-2), 2),
            "b": SimulationJob(spec, (30,), (15,), (1e-3,), 3)}  # fmt: skip


@pytest.mark.parametrize("executor", ["serial", "processes"])
def test_study_executors_give_the_inline_numbers(executor):
    from scalinglaws.report.reproduce import study_simulator

    inline = run_inline(_tiny_jobs(), rng=3)
    study = study_simulator(executor, workers=2)(_tiny_jobs(), 3)
    for name, ds in inline.items():
        assert study[name].excess.dims == ds.excess.dims
        # study units run with one BLAS thread, inline with the default: round-off only
        np.testing.assert_allclose(study[name].excess.values, ds.excess.values, rtol=1e-8)


def test_unknown_finding_is_a_usage_error(tmp_path, capsys):
    assert main(["reproduce", "everything", "--out", str(tmp_path)]) == 2
    assert "error:" in capsys.readouterr().err


def test_a_failing_claim_makes_the_command_exit_1(tmp_path, monkeypatch, capsys):
    failing = bound("breakdown", "A claim that does not hold.", measured=2.0, limit=1.0,
                    relation="<=", reason="test", figure="none")  # fmt: skip
    result = FindingResult(name="breakdown", title="t", claims=[failing], data={}, captions={},
                           settings={})  # fmt: skip
    monkeypatch.setitem(FINDINGS, "breakdown", lambda **kw: result)
    assert main(["reproduce", "breakdown", "--out", str(tmp_path)]) == 1
    err = capsys.readouterr().err
    assert "error: 1 of 1 claims do not hold: A claim that does not hold." in err
    document = json.loads((tmp_path / "claims.json").read_text())
    assert document["holds"] is False and document["claims"][0]["holds"] is False


@pytest.mark.slow
def test_quick_reproduce_writes_figures_and_every_claim_holds(tmp_path, capsys):
    assert main(["reproduce", "all", "--quick", "--out", str(tmp_path)]) == 0
    document = json.loads((tmp_path / "claims.json").read_text())
    assert [f["name"] for f in document["findings"]] == list(FINDINGS)
    assert document["holds"] and document["claims"]
    for record in document["claims"]:
        assert set(record) == RECORD_KEYS
        assert record["holds"], record["claim"]
        assert record["tolerance"]["reason"]
        png = tmp_path / record["figure"]
        assert png.is_file() and png.with_suffix(".svg").is_file()
    for finding in document["findings"]:
        local = json.loads((tmp_path / finding["name"] / "claims.json").read_text())
        assert local["holds"] and local["findings"][0]["figures"]
    assert Claim  # the public record type
