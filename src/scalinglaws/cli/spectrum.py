"""``scalinglaws spectrum``: feature spectra of a synthetic spec or a real dataset, with exponents.

Parse the options, make one call (:func:`scalinglaws.analysis.spectrum_analysis.analyze_spectrum`),
format the result: a table of eigenvalues at log-spaced ranks, the power-law fits and the cut-off,
or all of it as JSON, and figures with ``--plot``.
"""

from __future__ import annotations

import click

from .._errors import InputError
from .._names import ACTIVATION_NAMES, DATASET_NAMES
from ._options import COUNT, check_plot_dir, max_memory_option
from ._output import emit_json, emit_table


def _window(ctx, param, values):
    out = []
    for text in values:
        try:
            start, stop = (int(v) for v in text.split(":"))
        except ValueError:
            raise click.BadParameter(f"expected START:STOP (integers), got {text!r}") from None
        out.append((start, stop))
    return out


@click.command("spectrum")
@click.option("--latent-dim", "-M", type=COUNT, default=None, help="Latent dimension M.")
@click.option("--alpha", "-a", type=float, default=None, help="Power-law exponent α.")
@click.option("--lambda-plus", type=float, default=1.0, show_default=True, help="Largest λ_+.")
@click.option("--dataset", type=click.Choice(DATASET_NAMES), default=None, help="A real dataset.")
@click.option(
    "--activation",
    type=click.Choice(ACTIVATION_NAMES),
    default="relu",
    show_default=True,
    help="Feature nonlinearity σ.",
)
@click.option("--n-features", "-N", type=COUNT, default=1000, show_default=True, help="N.")
@click.option(
    "--n-samples",
    "-P",
    type=COUNT,
    default=None,
    help="Samples P: synthetic → sampled spectrum instead of exact K; dataset → at most P rows "
    "(default 10000).",
)
@click.option("--feature-var", type=float, default=1.0, show_default=True, help="σ_u².")
@click.option("--seed", type=COUNT, default=0, show_default=True, help="Random seed.")
@click.option(
    "--window",
    "windows",
    multiple=True,
    callback=_window,
    help="Fit window START:STOP of 1-based ranks, stop excluded (repeatable).",
)
@click.option("--drop", type=float, default=0.1, show_default=True, help="Cut-off fraction.")
@click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False),
    default=None,
    callback=check_plot_dir,
    help="Write log-log spectra (and linear vs ReLU past M) to this folder.",
)
@max_memory_option
@click.option("--json", "as_json", is_flag=True, help="Print JSON (all eigenvalues).")
def spectrum_command(
    latent_dim, alpha, lambda_plus, dataset, activation, n_features, n_samples, feature_var,
    seed, windows, drop, plot_dir, max_memory, as_json,
):  # fmt: skip
    """Eigenvalue spectrum of N random features (exact K/N for a synthetic spec, sampled for a
    dataset), its power-law exponents on windows around the data rank, and its cut-off."""
    from ..analysis.spectrum_analysis import analyze_spectrum
    from ..model.spectrum import Spectrum

    if dataset is None:
        if latent_dim is None or alpha is None:
            raise InputError(
                "'latent_dim' and 'alpha' must be given (-M, -a) unless --dataset is. Got neither."
            )
        spectrum = Spectrum.power_law(latent_dim=latent_dim, alpha=alpha, lambda_plus=lambda_plus)
    else:
        if latent_dim is not None or alpha is not None:
            raise InputError("'dataset' must be given without -M/-a. Got both instead.")
        spectrum = None
    analysis = analyze_spectrum(
        spectrum=spectrum, dataset=dataset, activation=activation, n_features=n_features,
        n_samples=n_samples, feature_var=feature_var, seed=seed, windows=windows, drop=drop,
        compare=("linear", "relu") if plot_dir is not None else (), max_memory=max_memory,
    )  # fmt: skip
    if as_json:
        emit_json(analysis.to_dict())
    else:
        _print_tables(analysis)
    if plot_dir is not None:
        from ..plot.spectra import spectrum_figures

        for path in spectrum_figures(analysis, plot_dir):
            click.echo(f"wrote {path}", err=True)


def _print_tables(analysis) -> None:
    src = analysis.source
    what = src["name"] if src["kind"] == "dataset" else f"M={src['latent_dim']}, α={src['alpha']}"
    click.echo(f"spectrum: {what}, {analysis.activation} features, N={analysis.n_features}")
    click.echo(f"normalization: {analysis.normalization}")
    curves = ["data", "features"] if "data" in analysis.curves else ["features"]
    rows = [{k: r[k] for k in ["rank", *curves]} for r in analysis.table()]
    emit_table(rows, ["rank", *curves], title="eigenvalues (log-spaced ranks)")
    if analysis.fits:
        emit_table(
            analysis.fits,
            ["spectrum", "start", "stop", "exponent", "stderr", "slope", "n_points", "skipped"],
            title="power-law fits λ_i ≈ A i^-s (slope = -s)",
        )
    else:
        click.echo("power-law fits: none (too few ranks above round-off for a fit window)")
    cut = analysis.cutoff
    if cut is not None:
        status = f"ends at rank {cut['extent']}" if cut["found"] else "no cut-off found"
        click.echo(f"cut-off (below {cut['drop']:g} × the fitted power law): {status}")
