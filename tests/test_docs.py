"""The documentation: the Sphinx site builds with warnings as errors, its examples run, and no
page or docstring points at a file outside the repository."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
#: Guides whose Python blocks run here (the others write files or take minutes).
RUNNABLE = ("getting-started.md", "simulate.md", "theory.md")
#: References to files that users never see (a math reference kept outside the repository).
OUTSIDE = re.compile(r"MODEL\.md|DESIGN\.md|/work/|shared/")


@pytest.mark.slow
def test_sphinx_build_has_no_warnings(tmp_path):
    pytest.importorskip("sphinx", reason="Sphinx is not installed (the docs and test extras)")
    for module in ("numpydoc", "myst_parser", "sphinx_click"):
        pytest.importorskip(module, reason=f"{module} is not installed (the docs extra)")
    source = tmp_path / "docs"
    shutil.copytree(DOCS, source, ignore=shutil.ignore_patterns("_build", "generated"))
    out = tmp_path / "html"
    run = subprocess.run(
        [sys.executable, "-m", "sphinx", "-b", "html", "-W", "--keep-going", "-q",
         str(source), str(out)],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr[-6000:]
    for page in ("index", "model", "getting-started", "cli", "reproduce", "api/index"):
        assert (out / f"{page}.html").is_file(), page
    cli = (out / "cli.html").read_text(encoding="utf-8")
    # generated from the CLI: a section per subcommand, an entry per option
    assert 'id="scalinglaws-reproduce"' in cli and 'id="scalinglaws-report"' in cli
    assert 'id="cmdoption-scalinglaws-reproduce-executor"' in cli
    api = (out / "api" / "generated" / "scalinglaws.theory.loss.html").read_text(encoding="utf-8")
    assert "theory_loss" in api  # generated from the docstrings


def test_model_page_numbers_the_sections_docstrings_cite():
    text = (DOCS / "model.md").read_text(encoding="utf-8")
    headings = re.findall(r"^##+ (\d+(?:\.\d+)?)\.? ", text, flags=re.M)
    for number in ("1", "1.1", "1.2", "1.3", "1.4", "2", "3", "4", "5", "5.1", "6", "7"):
        assert number in headings, number
    cited = set()
    for path in (ROOT / "src").rglob("*.py"):
        cited |= set(re.findall(r"model\.md`*\s*§(\d+(?:\.\d+)?)", path.read_text("utf-8")))
    assert cited <= set(headings), cited - set(headings)


def test_docs_pages_refer_to_no_file_outside_the_repository():
    for page in DOCS.glob("*.md"):
        text = page.read_text(encoding="utf-8")
        assert not OUTSIDE.search(text), f"{page.name}: {OUTSIDE.search(text).group()}"


def test_docstrings_refer_to_no_file_outside_the_repository():
    offenders = []
    for path in sorted((ROOT / "src" / "scalinglaws").rglob("*.py")):
        for k, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if OUTSIDE.search(line):
                offenders.append(f"{path.relative_to(ROOT)}:{k}")
    assert not offenders, f"{len(offenders)} line(s), e.g. {offenders[:5]}"


def _python_blocks(page: Path) -> list[str]:
    return re.findall(r"```python\n(.*?)```", page.read_text(encoding="utf-8"), flags=re.S)


@pytest.mark.parametrize("page", RUNNABLE)
def test_python_examples_of_the_guides_run(page, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    namespace: dict = {}
    for block in _python_blocks(DOCS / page):
        exec(compile(block, f"{page}", "exec"), namespace)  # noqa: S102 - our own docs
