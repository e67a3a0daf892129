"""Bad stores, bad output paths, read-only stores, a bad scheduler, a byte-order mark: one line
``error: ...`` (exit 2) instead of a traceback, and nothing written where nothing should be."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from scalinglaws.cli import study as study_cli
from scalinglaws.cli.main import main
from scalinglaws.studies import EXECUTORS, FORMATS, ResultStore, load_study, run_study
from scalinglaws.studies import store as store_module

STUDY = """
[study]
name = "errors"
compute = "both"

[grid]
n_features = [8, 16]
n_samples = [8, 16]
ridges = [1e-2]
seeds = 2

[[spec]]
name = "lin"
spectrum = { kind = "power_law", latent_dim = 40, alpha = 1.0 }
"""


def write(tmp_path: Path, text: str = STUDY, name: str = "errors.toml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    path = write(tmp_path_factory.mktemp("finished"))
    run_study(load_study(path), executor="serial")
    return path


def one_line_error(capsys, *args: str) -> str:
    code = main(list(args))
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("where", ["folder", "under a file", "in /proc"])
def test_export_to_a_folder_or_an_unwritable_path_is_one_line(finished, tmp_path, capsys, where):
    (tmp_path / "plain").write_text("a file, not a folder")
    out = {
        "folder": tmp_path,
        "under a file": tmp_path / "plain" / "out.csv",
        "in /proc": Path("/proc/scalinglaws-test/out.csv"),
    }[where]
    err = one_line_error(capsys, "study", "export", str(finished), "--out", str(out))
    assert "'out'" in err and str(out) in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plain"]  # no partial file left


def bad_store(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"{kind}.sqlite"
    if kind == "garbage":
        path.write_bytes(os.urandom(4096))
    elif kind == "folder":
        path.mkdir()
    elif kind == "foreign":
        with sqlite3.connect(path) as conn:
            conn.execute("CREATE TABLE invoices (id INTEGER PRIMARY KEY, total REAL)")
    else:  # a store of a future schema
        ResultStore(path).close()
        with sqlite3.connect(path) as conn:
            conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    return path


@pytest.mark.parametrize("kind", ["garbage", "folder", "foreign", "newer"])
@pytest.mark.parametrize("command", ["run", "status", "export", "plot"])
def test_a_store_that_is_not_ours_is_one_line(tmp_path, capsys, kind, command):
    path = write(tmp_path)
    store = bad_store(tmp_path, kind)
    before = None if kind == "folder" else store.read_bytes()
    args = ["study", command, str(path), "--store", str(store)]
    if command in ("export", "plot"):
        args += ["--out", str(tmp_path / "out")]
    if command == "run":
        args += ["--executor", "serial", "--no-progress"]
    err = one_line_error(capsys, *args)
    assert "'store'" in err and str(store) in err
    expected = {
        "garbage": "not a database",
        "folder": "a folder",
        "foreign": "another program",
        "newer": "newer scalinglaws",
    }[kind]
    assert expected in err
    if before is not None:
        assert store.read_bytes() == before  # nothing created inside another program's file


def test_read_only_store_is_opened_with_mode_ro_and_left_untouched(finished, tmp_path, capsys):
    pytest.importorskip("matplotlib")
    store = load_study(finished).store
    assert not Path(f"{store}-wal").exists()  # a finished store is one file, no WAL beside it
    store.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH)
    digest = hashlib.sha256(store.read_bytes()).hexdigest()
    uris = []
    real_connect = sqlite3.connect

    def spy(database, *args, **kwargs):
        uris.append(str(database))
        return real_connect(database, *args, **kwargs)

    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(store_module.sqlite3, "connect", spy)
            for args in (
                ["status", str(finished)],
                ["export", str(finished), "--format", "netcdf", "--out", str(tmp_path / "r.nc")],
                ["plot", str(finished), "--out", str(tmp_path / "figs")],
            ):
                assert main(["study", *args]) == 0, capsys.readouterr().err
    finally:
        store.chmod(stat.S_IRUSR | stat.S_IWUSR)
    assert len(uris) == 3 and all(u.startswith("file:") and "mode=ro" in u for u in uris)
    assert sorted(p.name for p in store.parent.iterdir() if p.name.startswith(store.name)) == [
        store.name
    ]  # no -wal, -shm or -journal made
    assert hashlib.sha256(store.read_bytes()).hexdigest() == digest


def test_a_bad_scheduler_address_fails_at_once(tmp_path):
    pytest.importorskip("distributed")
    path = write(tmp_path)
    command = [sys.executable, "-m", "scalinglaws.cli.main", "study", "run", str(path)]
    command += ["--executor", "dask", "--scheduler", "not an address", "--no-progress"]
    proc = subprocess.run(command, capture_output=True, timeout=25)  # it used to hang 30 s
    err = proc.stderr.decode()
    assert proc.returncode == 2, err
    assert err.startswith("error: ") and err.count("\n") == 1 and "'scheduler'" in err


def test_a_study_file_with_a_byte_order_mark_loads(tmp_path):
    plain = load_study(write(tmp_path))
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + STUDY.encode())
    study = load_study(path)
    assert study.name == plain.name and study.cases == plain.cases


def test_the_study_cli_imports_no_sweep_code_at_start_up():
    code = "import sys, scalinglaws.cli.study; print('scalinglaws.studies' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, check=True).stdout
    assert out.strip() == b"False"
    assert study_cli.EXECUTORS == EXECUTORS and study_cli.FORMATS == FORMATS


def test_study_run_refuses_units_that_cannot_fit_side_by_side(tmp_path, capsys):
    from scalinglaws.cli.main import main

    study = tmp_path / "big.toml"
    study.write_text(
        "[grid]\nn_features = [3000]\nn_samples = [3000]\nseeds = 2\n"
        "[[spec]]\nname = 'big'\nspectrum = { kind = 'power_law', latent_dim = 500, alpha = 1.0 }\n"
    )
    status = main(["study", "run", str(study), "--workers", "2", "--max-memory", "100MB"])
    err = capsys.readouterr().err.strip()
    assert status == 2 and err.startswith("error: study run: 2 worker(s)") and "\n" not in err
    assert "lower that case's n_features/n_samples (or --workers)" in err
    from scalinglaws.studies import ResultStore

    with ResultStore(tmp_path / "big.sqlite") as store:  # refused before any unit ran
        assert store.count_units() == 0
