"""``scalinglaws report``: one self-contained HTML file from studies, reproductions and fits."""

from __future__ import annotations

import click


@click.command("report")
@click.argument("sources", nargs=-1, required=True, type=click.Path())
@click.option("--out", "out_path", type=click.Path(dir_okay=False), required=True,
              help="The HTML file to write.")
@click.option("--title", default=None, help="Title of the report.")
def report_command(sources, out_path, title):
    """Write an HTML report of SOURCE…: a study file (or its store), a reproduce output folder
    (or its claims.json), or a saved 'scalinglaws fit --json' result. The file embeds its
    figures and makes no network request."""
    from ..report.html import write_report

    path = write_report(sources, out_path, title=title)
    click.echo(f"wrote {path}", err=True)
