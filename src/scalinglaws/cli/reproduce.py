"""``scalinglaws reproduce``: the paper's four findings, computed, drawn and checked."""

from __future__ import annotations

import click

from ._options import COUNT

_FINDINGS = ("statistics", "nonlinear", "equiparameterization", "breakdown", "all")
_EXECUTORS = ("inline", "serial", "processes", "dask")


def claim_rows(records) -> list[dict]:
    """The table rows of claim records: measured ± SE, relation and prediction, tolerance."""
    rows = []
    for r in records:
        m, p, t = r["measured"], r["predicted"], r["tolerance"]
        rows.append({
            "finding": r["finding"],
            "measured": m["value"],
            "± SE": m["stderr"],
            "predicted": f"{p['relation']} {_short(p['value'])}",
            "tolerance": t["rule"] if t["rule"] in ("bound", "exact") else _short(t["value"]),
            "holds": "yes" if r["holds"] else "NO",
            "claim": r["claim"],
        })  # fmt: skip
    return rows


def _command_line(findings, out_dir, quick, executor, workers, seeds, rng) -> str:
    """The command that gives these results, in canonical form (for claims.json)."""
    words = ["scalinglaws", "reproduce", *(findings or ("all",)), "--out", str(out_dir)]
    words += ["--quick"] if quick else []
    words += ["--executor", executor, "--seed", str(rng)]
    words += ["--workers", str(workers)] if workers else []
    words += ["--seeds", str(seeds)] if seeds else []
    return " ".join(words)


def _short(value) -> str:
    return "—" if value is None else f"{value:.4g}"


@click.command("reproduce")
@click.argument("findings", nargs=-1, type=click.Choice(_FINDINGS))
@click.option("--out", "out_dir", type=click.Path(file_okay=False), required=True,
              help="Folder for the figures (PNG and SVG) and claims.json.")
@click.option("--quick", is_flag=True,
              help="Fewer seeds and smaller grids: all four findings in under two minutes.")
@click.option("--executor", type=click.Choice(_EXECUTORS), default="inline", show_default=True,
              help="Where the simulations run: in this process (inline), or as the units of a "
              "temporary study (serial, processes, dask).")
@click.option("--workers", type=COUNT, default=None,
              help="Worker processes of the study executors (default: CPUs).")
@click.option("--scheduler", default=None, help="Dask scheduler address (--executor dask).")
@click.option("--seeds", type=COUNT, default=None,
              help="Seeds per simulated point (default: each finding's own).")
@click.option("--seed", "rng", type=COUNT, default=0, show_default=True,
              help="Root seed of every simulation.")
@click.option("--json", "as_json", is_flag=True, help="Print the claims as JSON.")
def reproduce_command(findings, out_dir, quick, executor, workers, scheduler, seeds, rng,
                      as_json):  # fmt: skip
    """Compute the findings of Maloney, Roberts & Sully (2022) — statistics, nonlinear,
    equiparameterization, breakdown, or all — with simulation and theory side by side; write
    each finding's figures and claims.json to OUT. Exits with status 1 if a claim fails."""
    from .._validation import check_positive_int
    from ..report.reproduce import reproduce
    from ._output import emit_json, emit_table

    if seeds is not None:
        check_positive_int("seeds", seeds, minimum=2)
    summary = reproduce(
        findings or ("all",), out_dir, quick=quick, seeds=seeds, rng=rng, executor=executor,
        workers=workers, scheduler=scheduler,
        command=_command_line(findings, out_dir, quick, executor, workers, seeds, rng),
        log=lambda line: click.echo(line, err=True),
    )  # fmt: skip
    if as_json:
        emit_json(summary.claims)
    else:
        emit_table(claim_rows(summary.claims),
                   ["finding", "measured", "± SE", "predicted", "tolerance", "holds", "claim"],
                   title=f"claims ({summary.wall_s:.0f} s)")  # fmt: skip
    click.echo(f"wrote {summary.path}", err=True)
    if not summary.holds:
        failed = summary.failed
        click.echo(f"error: {len(failed)} of {len(summary.claims)} claims do not hold: "
                   + "; ".join(c["claim"] for c in failed[:3]), err=True)  # fmt: skip
        return 1
    return 0
