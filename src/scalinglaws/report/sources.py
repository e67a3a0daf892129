"""What a report is made of: each SOURCE read into one plain *section* (dicts, lists, strings).

=============  ======================================================================
kind           SOURCE
=============  ======================================================================
``study``      a study file (TOML) whose store holds results, or the store (``.sqlite``)
               beside its study file
``reproduce``  a ``scalinglaws reproduce`` output folder, or its ``claims.json``
``fit``        a saved ``scalinglaws fit ... --json`` result (one JSON object)
=============  ======================================================================

A section has ``kind``, ``title``, ``anchor``, ``provenance`` (label → value), ``tables``
(each a title, column names and rows of cells), ``figures`` (each a PNG as a ``data:`` URI and
its alt text), ``claims`` (``claims.json`` records) and ``notes``. Figures are embedded, so the
report is one file that makes no request.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from pathlib import Path

from .._validation import InputError

__all__ = ["load_source", "png_data_uri", "file_sha256"]

_POLE_NOTE = ("∞: the ridgeless pole N = P (< M), where the expected loss is infinite; the seed "
              "mean beside it estimates nothing.")

_FIT_KEYS = ("form", "params")


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, as hex."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def png_data_uri(path: Path) -> str:
    """A PNG file as a ``data:image/png;base64,…`` URI."""
    return "data:image/png;base64," + base64.b64encode(Path(path).read_bytes()).decode("ascii")


def _anchor(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "section"


def _read_json(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as err:
        raise InputError(f"'SOURCE' must be a readable JSON file. Got '{path}' instead "
                         f"({err}).") from None  # fmt: skip
    if not isinstance(data, dict):
        raise InputError(f"'SOURCE' must hold one JSON object. Got '{path}' instead.")
    return data


def load_source(source: str | Path) -> dict:
    """Read one SOURCE (see the module docstring) into a section.

    Raises
    ------
    InputError
        One line saying what the path is and what was expected.
    """
    path = Path(source)
    if path.is_dir():
        if not (path / "claims.json").is_file():
            raise InputError(f"'SOURCE' must be a reproduce output folder (with claims.json), a "
                             f"study file or a fit result. Got the folder '{path}' instead.")
        return reproduce_section(path / "claims.json")
    if not path.is_file():
        raise InputError(f"'SOURCE' must be an existing file or folder. Got '{path}' instead.")
    if path.suffix in (".toml",):
        return study_section(path)
    if path.suffix in (".sqlite", ".db", ".sqlite3"):
        return study_section(_study_file_for(path))
    if path.suffix == ".json":
        data = _read_json(path)
        if str(data.get("format", "")).startswith("scalinglaws-claims/"):
            return reproduce_section(path, data)
        if all(k in data for k in _FIT_KEYS):
            return fit_section(path, data)
        raise InputError(f"'SOURCE' must be a claims.json of reproduce or a fit result (keys "
                         f"form, params). Got '{path}' instead.")  # fmt: skip
    raise InputError(f"'SOURCE' must be a study file (.toml), a store (.sqlite), a folder or a "
                     f".json file. Got '{path}' instead.")  # fmt: skip


def _study_file_for(store: Path) -> Path:
    """The study file beside ``store`` whose store it is."""
    from ..studies import load_study

    for candidate in sorted(store.parent.glob("*.toml")):
        try:
            if load_study(candidate).store.resolve() == store.resolve():
                return candidate
        except InputError:
            continue
    raise InputError(f"'SOURCE' must be a study store with its study file beside it. Got "
                     f"'{store}', and no .toml file in '{store.parent}' names it as its store; "
                     "give the study file instead.")  # fmt: skip


# -- reproduce ------------------------------------------------------------------------------------
def reproduce_section(path: Path, data: dict | None = None) -> dict:
    """The section of a ``claims.json`` (and the figures beside it)."""
    data = _read_json(path) if data is None else data
    base = path.parent
    figures, notes = [], []
    for finding in data.get("findings", []):
        notes += [f"{finding['name']}: {n}" for n in finding.get("notes", [])]
        for figure in finding.get("figures", []):
            png = base / figure["png"]
            if not png.is_file():
                notes.append(f"figure {figure['png']} is missing")
                continue
            short = figure["name"].removeprefix(f"{finding['name']}_").replace("_", " ")
            figures.append({"title": f"{finding['name']}: {short}",
                            "alt": figure.get("caption") or figure["name"],
                            "src": png_data_uri(png), "anchor": _anchor(figure["png"]),
                            "file": figure["png"]})  # fmt: skip
    claims = [{**c, "anchor": _anchor(str(c.get("figure", "")))} for c in data.get("claims", [])]
    held = sum(bool(c.get("holds")) for c in claims)
    settings = data.get("settings", {})
    findings = [{"name": f["name"], "title": f.get("title", ""), "holds": f.get("holds"),
                 "wall_s": f.get("wall_s")} for f in data.get("findings", [])]  # fmt: skip
    return {
        "kind": "reproduce",
        "title": "Reproduction of the paper's findings",
        "anchor": _anchor(f"reproduce-{base.name}"),
        "summary": f"{held} of {len(claims)} claims hold",
        "holds": held == len(claims),
        "provenance": {
            "source": str(path), "command": data.get("command", ""),
            "package version": data.get("package_version", ""), "created": data.get("created"),
            "host": data.get("host", ""), "python": data.get("python", ""),
            "wall time": f"{data.get('wall_s', 0):.1f} s",
            "settings": ", ".join(f"{k} = {v}" for k, v in settings.items()),
            "claims.json SHA-256": file_sha256(path),
        },
        "findings": findings,
        "tables": [],
        "figures": figures,
        "claims": claims,
        "notes": notes,
    }  # fmt: skip


# -- fit ------------------------------------------------------------------------------------------
def fit_section(path: Path, data: dict) -> dict:
    """The section of a saved ``scalinglaws fit --json`` result."""
    params = data.get("params") or {}
    stderr, ci = data.get("stderr") or {}, data.get("ci95") or {}
    rows = [[name, value, stderr.get(name), *(list(ci.get(name) or [None, None])[:2])]
            for name, value in params.items()]  # fmt: skip
    tables = [{"title": f"Parameters of the fitted form '{data.get('form')}'",
               "columns": ["parameter", "value", "standard error", "95 % low", "95 % high"],
               "rows": rows}]  # fmt: skip
    allocation = data.get("allocation") or {}
    if allocation:
        a_se, a_ci = allocation.get("stderr") or {}, allocation.get("ci95") or {}
        keys = [k for k in ("a", "b", "G", "tokens_per_parameter") if k in allocation]
        title = "Compute-optimal allocation"
        if allocation.get("compute") is not None:
            title += (f" at C = {allocation['compute']:.3g}"
                      f" (cost factor {allocation.get('cost_factor', 1):g})")  # fmt: skip
        tables.append({"title": title,
                       "columns": ["quantity", "value", "standard error", "95 % low", "95 % high"],
                       "rows": [[k, allocation[k], a_se.get(k),
                                 *(list(a_ci.get(k) or [None, None])[:2])] for k in keys]})
    heldout = data.get("heldout")
    if isinstance(heldout, dict) and heldout:
        tables.append({"title": "Held-out check", "columns": ["quantity", "value"],
                       "rows": [[k, v] for k, v in heldout.items()]})  # fmt: skip
    notes = data.get("notes") or []
    if isinstance(notes, dict):
        notes = [f"{k}: {v}" for k, v in notes.items()]
    elif not isinstance(notes, list):
        notes = [notes]
    if allocation.get("note"):
        notes = [*notes, f"allocation: {allocation['note']}"]
    return {
        "kind": "fit",
        "title": f"Fit: {data.get('form')}",
        "anchor": _anchor(f"fit-{path.stem}"),
        "summary": f"{'converged' if data.get('converged') else 'did not converge'}; "
                   f"{data.get('n_points')} points ({data.get('n_excluded', 0)} excluded)",
        "holds": bool(data.get("converged")),
        "provenance": {"source": str(path), "SHA-256": file_sha256(path),
                       "objective": data.get("objective"), "starts": data.get("n_starts")},
        "findings": [],
        "tables": tables,
        "figures": [],
        "claims": [],
        "notes": [str(n) for n in notes],
    }  # fmt: skip


# -- study ----------------------------------------------------------------------------------------
def study_section(path: Path) -> dict:
    """The section of a study file and its store: specs, provenance, tables, figures."""
    from ..studies import ResultStore, load_study, study_dataset, study_status

    study = load_study(path)
    if not study.store.is_file():
        raise InputError(f"'SOURCE' must be a study whose store exists. Got '{path}', whose "
                         f"store '{study.store}' does not; run 'scalinglaws study run' "
                         "first.")  # fmt: skip
    with ResultStore(study.store, readonly=True) as store:
        units = store.unit_table()
        ds = study_dataset(study, store)
        status = study_status(study, store=store)
    specs = {}
    for case in study.cases:
        specs.setdefault(case.label, {"spec": json.dumps(case.spec, indent=1), "grid": json.dumps(
            {**case.grid.axes(), "seeds": list(case.grid.seeds)})})  # fmt: skip
    provenance = {
        "study file": str(path), "study SHA-256": study.file_hash, "store": str(study.store),
        "units": f"{status.done} of {status.total} done",
        "package versions": ", ".join(sorted(set(units.package_version))),
        "hosts": ", ".join(sorted(set(units.host))),
        "stored study hashes": ", ".join(sorted(h[:12] for h in set(units.study_hash))),
        "wall time (sum over units)": f"{float(units.wall_s.sum()):.1f} s",
        "finished": f"{units.finished_at.min()} … {units.finished_at.max()}",
        "root seed": study.root_seed, "loss": study.loss, "compute": study.compute,
    }  # fmt: skip
    return {
        "kind": "study",
        "title": f"Study: {study.name}",
        "anchor": _anchor(f"study-{study.name}"),
        "summary": f"{len(specs)} case(s), {status.done}/{status.total} units",
        "holds": status.done == status.total,
        "provenance": provenance,
        "specs": specs,
        "findings": [],
        "tables": _study_tables(ds),
        "figures": _study_figures(ds),
        "claims": [],
        "notes": [],
    }  # fmt: skip


def _study_tables(ds) -> list[dict]:
    import numpy as np

    tables = []
    sim = "excess_mean" in ds
    for case in ds.case.values:
        for ridge in ds.ridge.values:
            cell = ds.sel(case=case, ridge=ridge)
            rows = []
            for n in cell.n_features.values:
                for p in cell.n_samples.values:
                    at = cell.sel(n_features=n, n_samples=p)
                    values = [at[v].item() if v in at else None
                              for v in ("excess_mean", "excess_sem", "theory_excess")]
                    if all(v is None or not np.isfinite(v) for v in values):
                        continue
                    rows.append([int(n), int(p), *values])
            if rows:
                poles = any(r[-1] is not None and np.isinf(r[-1]) for r in rows)
                tables.append({
                    "title": f"{case}, ridge γ = {float(ridge):g}",
                    "note": _POLE_NOTE if poles else "",
                    "columns": ["N", "P", "excess (simulation)" if sim else "excess", "± SEM",
                                "excess (theory)"],
                    "rows": rows})  # fmt: skip
    return tables


def _study_figures(ds) -> list[dict]:
    """One figure per (case, ridge), titled and described by its case and ridge."""
    import numpy as np

    from ..plot.studies import plot_study

    figures = []
    sim, theory = "excess_mean" in ds, "theory_excess" in ds
    what = " and ".join(w for w, on in (("simulation points with standard-error bars", sim),
                                        ("theory lines", theory)) if on)  # fmt: skip
    with tempfile.TemporaryDirectory(prefix="scalinglaws-report-") as tmp:
        for k, (case, ridge) in enumerate((c, r) for c in ds.case.values for r in ds.ridge.values):
            cell = ds.sel(case=[case], ridge=[ridge])
            paths = plot_study(cell, Path(tmp) / str(k))
            if not paths:
                continue
            title = f"{case}, ridge γ = {float(ridge):g}"
            poles = theory and bool(np.isinf(cell.theory_excess).any())
            alt = (f"Excess loss against N (left, one curve per P) and against P (right, one "
                   f"curve per N) for {title}, log–log axes: {what}"
                   + ("; no point at the ridgeless poles N = P, where the expected loss is "
                      "infinite" if poles else "") + ".")  # fmt: skip
            figures.append({"title": title, "src": png_data_uri(paths[0]), "alt": alt,
                            "anchor": _anchor(f"figure-{case}-{float(ridge):g}"),
                            "file": paths[0].name})  # fmt: skip
    return figures
