"""``scalinglaws report``: sources, a self-contained page, real tables, alt text, errors."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

from scalinglaws.cli.main import main
from scalinglaws.report.html import build_report, render_report, write_report
from scalinglaws.report.sources import load_source

ROOT = Path(__file__).resolve().parents[1]

#: The shape of ``scalinglaws fit ... --json`` (one JSON object).
FIT = {
    "form": "chinchilla",
    "n_points": 24,
    "n_excluded": 2,
    "params": {"E": 0.01, "A": 2.5, "alpha": 0.49, "B": 3.1, "beta": 0.51},
    "stderr": {"E": 0.001, "A": 0.2, "alpha": 0.02, "B": 0.3, "beta": 0.02},
    "ci95": {"E": [0.008, 0.012], "A": [2.1, 2.9], "alpha": [0.45, 0.53], "B": [2.5, 3.7],
             "beta": [0.47, 0.55]},
    "converged": True,
    "n_starts": 16,
    "objective": 0.0123,
    "allocation": {"a": 0.51, "b": 0.49, "G": 1.3, "tokens_per_parameter": 20.4,
                   "compute": 1e21, "cost_factor": 6.0,
                   "stderr": {"a": 0.02, "b": 0.02, "G": 0.1, "tokens_per_parameter": 2.0},
                   "ci95": {"a": [0.47, 0.55], "b": [0.45, 0.53], "G": [1.1, 1.5],
                            "tokens_per_parameter": [16.9, 24.8]}},
    "heldout": {"column": "N", "threshold": 1e8, "n_heldout": 4, "rmse_log": 0.03},
    "notes": {"excluded": "two points excluded below the smallest budget"},
}


def _no_outside_references(html: str) -> None:
    # every src/href stays inside the file: data URIs and #anchors only
    for attr in re.findall(r'(?:src|href)="([^"]*)"', html):
        assert attr.startswith(("data:", "#")), attr
    assert "<script" not in html and "@import" not in html and "url(" not in html


@pytest.fixture(scope="module")
def study_file(tmp_path_factory) -> Path:
    from scalinglaws.studies import load_study, run_study

    work = tmp_path_factory.mktemp("study")
    path = work / "linear_power_law.toml"
    shutil.copy(ROOT / "examples" / "linear_power_law.toml", path)
    with pytest.warns(Warning):  # the ridgeless poles of the example grid are reported
        run_study(load_study(path), executor="serial")
    return path


def test_fit_result_report_has_parameters_with_intervals(tmp_path):
    source = tmp_path / "fit.json"
    source.write_text(json.dumps(FIT))
    html = write_report([source], tmp_path / "fit.html").read_text()
    assert "<table>" in html and "95 % low" in html
    assert "0.45" in html and "0.53" in html  # the interval of alpha
    assert "tokens_per_parameter" in html and "20.4" in html and "24.8" in html
    assert "at C = 1e+21 (cost factor 6)" in html
    assert "two points excluded" in html
    _no_outside_references(html)


def test_study_report_has_specs_provenance_tables_and_figures_with_alt(study_file, tmp_path):
    section = load_source(study_file)
    assert section["kind"] == "study" and section["tables"] and section["figures"]
    html = render_report(build_report([study_file]))
    from scalinglaws.studies import load_study

    assert load_study(study_file).file_hash in html  # the study file's SHA-256
    assert "0.1" in section["provenance"]["package versions"]
    assert html.count("<figure") == len(section["figures"])
    assert all(f["alt"] for f in section["figures"])
    assert re.search(r'<img src="data:image/png;base64,[^"]+" alt="[^"]+"', html)
    assert "<th scope=\"col\">N</th>" in html
    # the example's ridgeless grid has N = P < M: the theory there is ∞, and the page says why
    assert "<td class=\"num\">∞</td>" in html and "ridgeless pole N = P" in html
    _no_outside_references(html)


def test_a_store_given_as_source_finds_its_study_file(study_file):
    section = load_source(study_file.with_suffix(".sqlite"))
    assert section["title"] == "Study: linear-power-law"


def test_reproduce_folder_report_lists_claims_with_pass_and_fail(tmp_path):
    folder = tmp_path / "out"
    (folder / "x").mkdir(parents=True)
    _tiny_png(folder / "x" / "fig.png")
    claims = [{"finding": "x", "claim": f"claim {k}", "holds": k == 0,
               "measured": {"value": 1.0, "stderr": 0.1, "by": "simulation"},
               "predicted": {"value": 1.0, "relation": "==", "by": "theory"},
               "tolerance": {"value": 0.3, "rule": "3 SE", "reason": "why"},
               "figure": "x/fig.png"} for k in range(2)]  # fmt: skip
    document = {"format": "scalinglaws-claims/1", "claims": claims, "wall_s": 1.0,
                "findings": [{"name": "x", "title": "X", "holds": False, "wall_s": 1.0,
                              "figures": [{"name": "fig", "caption": "A figure.",
                                           "png": "x/fig.png", "svg": "x/fig.svg"}]}]}
    (folder / "claims.json").write_text(json.dumps(document))
    html = write_report([folder], tmp_path / "r.html").read_text()
    assert "1 of 2 claims hold" in html and ">FAIL<" in html and ">pass<" in html
    assert 'alt="A figure."' in html and 'href="#x-fig-png"' in html and 'id="x-fig-png"' in html
    _no_outside_references(html)


def _tiny_png(path: Path) -> Path:
    from scalinglaws.plot import new_axes, save_figure

    fig, ax = new_axes(2, 2)
    ax.plot([1, 2], [1, 2])
    save_figure(fig, path)
    return path


@pytest.mark.parametrize("source", ["missing.toml", "."])
def test_bad_sources_are_one_line_errors(tmp_path, capsys, source):
    target = tmp_path / source if source != "." else tmp_path
    assert main(["report", str(target), "--out", str(tmp_path / "r.html")]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: 'SOURCE' must") and err.count("\n") == 1


def test_template_ships_with_the_package():
    from importlib.resources import files

    assert files("scalinglaws.report").joinpath("templates/report.html.j2").is_file()
