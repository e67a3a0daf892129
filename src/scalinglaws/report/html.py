"""The HTML report: sections (:mod:`.sources`) rendered by a Jinja2 template into one file.

The template (``templates/report.html.j2``, package data) holds all the markup and its CSS;
this module only builds the context and writes the file. The page is static and
self-contained: figures are ``data:`` URIs, the CSS is inline, there is no script and no link
to anything outside the file, so it opens offline and makes no network request. The layout is
one column that fits a phone's width; wide tables scroll inside their own box.
"""

from __future__ import annotations

import datetime
import math
import platform
from collections.abc import Sequence
from pathlib import Path

from .._validation import InputError
from ..results import package_version
from .sources import load_source

__all__ = ["build_report", "render_report", "write_report"]


def _number(value) -> str:
    """Cells: integers as they are, floats to 4 significant digits, ±∞ as such, None and NaN as
    a dash.

    Examples
    --------
    >>> [_number(v) for v in (3, 0.000123456, float("inf"), None, True)]
    ['3', '0.0001235', '∞', '—', 'yes']
    """
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isinf(value):
            return "∞" if value > 0 else "−∞"
        return f"{value:.4g}" if math.isfinite(value) else "—"
    return str(value)


def _environment():
    try:
        import jinja2
    except ImportError:  # pragma: no cover - jinja2 is a dependency
        raise InputError("reports need Jinja2, which is not installed: "
                         "pip install jinja2") from None
    env = jinja2.Environment(
        loader=jinja2.PackageLoader("scalinglaws.report", "templates"),
        autoescape=jinja2.select_autoescape(["html", "j2"]),
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["num"] = _number
    return env


def build_report(sources: Sequence[str | Path], *, title: str | None = None) -> dict:
    """The template's context for ``sources``: one section per SOURCE, in order."""
    if not sources:
        raise InputError("'SOURCE' must be given at least once. Got none instead.")
    sections = [load_source(s) for s in sources]
    claims = [c for s in sections for c in s["claims"]]
    return {
        "title": title or "scalinglaws report",
        "sections": sections,
        "n_claims": len(claims),
        "n_held": sum(bool(c.get("holds")) for c in claims),
        "generated": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "package_version": package_version(),
        "python": platform.python_version(),
    }


def render_report(context: dict) -> str:
    """The HTML text of a report context (:func:`build_report`)."""
    return _environment().get_template("report.html.j2").render(**context)


def write_report(sources: Sequence[str | Path], out: str | Path, *,
                 title: str | None = None) -> Path:  # fmt: skip
    """Render ``sources`` into the HTML file ``out`` (written whole, or not at all).

    Parameters
    ----------
    sources : sequence of path
        Study files or stores, reproduce folders or their ``claims.json``, fit results
        (:func:`~scalinglaws.report.sources.load_source`).
    out : path
        The HTML file to write.
    title : str, optional

    Returns
    -------
    Path

    Examples
    --------
    A fit result (the JSON of ``scalinglaws fit --json``) as the only source:

    >>> import json, tempfile
    >>> from pathlib import Path
    >>> folder = Path(tempfile.mkdtemp())
    >>> fit = {"form": "power_law", "n_points": 8, "params": {"E": 0.1, "a": 0.5},
    ...        "stderr": {"E": 0.01, "a": 0.02}, "ci95": {"E": [0.08, 0.12], "a": [0.46, 0.54]},
    ...        "converged": True}
    >>> _ = (folder / "fit.json").write_text(json.dumps(fit))
    >>> page = write_report([folder / "fit.json"], folder / "report.html").read_text()
    >>> "<table>" in page and "0.46" in page and "http" not in page
    True
    """
    out = Path(out)
    if out.is_dir():
        raise InputError(f"'out' must be a file path, not a folder. Got '{out}' instead.")
    html = render_report(build_report(sources, title=title))
    tmp = out.with_name(out.name + ".tmp")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp.write_text(html, encoding="utf-8")
        tmp.replace(out)
    except OSError as err:
        raise InputError(f"'out' must be a file that can be written. Got '{out}' instead "
                         f"({err.strerror or err}).") from None  # fmt: skip
    return out
