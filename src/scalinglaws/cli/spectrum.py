"""``scalinglaws spectrum``: feature spectra of a synthetic spec or a real dataset, with exponents.

One library call per spectrum (:mod:`scalinglaws.analysis.spectra`, :mod:`scalinglaws.datasets`)
plus
formatting. Feature spectra are fitted on :func:`~scalinglaws.analysis.spectra.extension_windows`
around
the data's rank (M for a spec, the numerical rank D of the covariance for a dataset), a data
covariance spectrum on [min(10, D/4), D/2) (its last half falls off steeply), unless ``--window``
is given.
"""

from __future__ import annotations

import click

from .._errors import InputError
from .._names import ACTIVATION_NAMES, DATASET_NAMES
from ._options import COUNT, check_plot_dir, max_memory_option
from ._output import emit_json, emit_table

NORMALIZATION = (
    "features: eigenvalues of K/N (exact) or Phi^T Phi/(P N) (sampled); "
    "data: centered covariance, 1/P"
)


def _window(ctx, param, values):
    out = []
    for text in values:
        try:
            start, stop = (int(v) for v in text.split(":"))
        except ValueError:
            raise click.BadParameter(f"expected START:STOP (integers), got {text!r}") from None
        out.append((start, stop))
    return out


def _fits(lam, windows, label: str) -> list[dict]:
    """Power-law fits on each window; a window past the numerical rank is reported as skipped."""
    import numpy as np

    from ..analysis import spectra

    if not np.all(np.isfinite(lam)):
        return [
            {"spectrum": label, "start": a, "stop": b, "skipped": "the spectrum is not finite"}
            for a, b in windows
        ]
    rank = spectra.numerical_rank(lam)
    out = []
    for start, stop in windows:
        record = {"spectrum": label, "start": start, "stop": stop}
        if stop - 1 > rank:
            record["skipped"] = f"window reaches past the numerical rank {rank}"
        else:
            record.update(spectra.fit_power_law(lam, start=start, stop=stop).to_dict())
        out.append(record)
    return out


def _cutoff(lam, windows, drop: float) -> dict | None:
    import numpy as np

    from ..analysis import spectra

    if not windows or not np.all(np.isfinite(lam)):
        return None
    start, stop = windows[0]
    if stop - 1 > spectra.numerical_rank(lam):
        return None
    return spectra.find_cutoff(lam, start=start, stop=stop, drop=drop).to_dict()


def _synthetic(model, activation, n_features, n_samples, seed, max_memory):
    from ..analysis import spectra
    from ..model.spec import ModelSpec
    from ..model.spectrum import Spectrum

    if model["latent_dim"] is None or model["alpha"] is None:
        raise InputError(
            "'latent_dim' and 'alpha' must be given (-M, -a) unless --dataset is. Got neither."
        )
    spectrum = Spectrum.power_law(
        latent_dim=model["latent_dim"], alpha=model["alpha"], lambda_plus=model["lambda_plus"]
    )

    def features(act: str):
        spec = ModelSpec(spectrum=spectrum, activation=act, feature_var=model["feature_var"])
        if n_samples is None:
            return spectra.exact_feature_spectrum(spec, n_features, rng=seed, max_memory=max_memory)
        return spectra.sampled_feature_spectrum(
            spec, n_features, n_samples, rng=seed, max_memory=max_memory
        )

    source = {"kind": "synthetic", **spectrum.to_dict(), "exact": n_samples is None}
    return source, {}, spectrum.latent_dim, features


def _from_dataset(name, activation, n_features, n_samples, seed, feature_var, max_memory):
    import numpy as np

    from ..analysis import spectra
    from ..datasets import load_dataset

    ds = load_dataset(name)
    order = np.random.default_rng(seed).permutation(ds.n_samples)
    keep = order[: min(ds.n_samples, n_samples or 10_000)]
    inputs = ds.inputs[keep]
    data = spectra.covariance_spectrum(inputs)
    rank = spectra.numerical_rank(data)

    def features(act: str):
        return spectra.random_feature_spectrum(
            inputs, n_features, activation=act, feature_var=feature_var, rng=seed,
            max_memory=max_memory,
        )  # fmt: skip

    source = {**ds.to_dict(), "kind": "dataset", "modality": ds.kind}
    source.update(n_samples_used=int(keep.size), rank=rank)
    return source, {"data": data}, rank, features


def _table_rows(curves: dict) -> list[dict]:
    import numpy as np

    n = max(v.size for v in curves.values())
    ranks = np.unique(np.round(np.geomspace(1, n, 16)).astype(int))
    return [
        {"rank": int(r), **{k: float(v[r - 1]) if r <= v.size else None for k, v in curves.items()}}
        for r in ranks
    ]


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
    from .._validation import check_positive_int
    from ..analysis import spectra

    n_features = check_positive_int("n_features", n_features)
    if n_samples is not None:
        n_samples = check_positive_int("n_samples", n_samples)
    if dataset is None:
        model = {"latent_dim": latent_dim, "alpha": alpha, "lambda_plus": lambda_plus}
        model["feature_var"] = feature_var
        source, curves, rank, features = _synthetic(
            model, activation, n_features, n_samples, seed, max_memory
        )
    else:
        if latent_dim is not None or alpha is not None:
            raise InputError("'dataset' must be given without -M/-a. Got both instead.")
        source, curves, rank, features = _from_dataset(
            dataset, activation, n_features, n_samples, seed, feature_var, max_memory
        )
    curves["features"] = features(activation)
    fit_windows = list(windows) or spectra.extension_windows(rank, curves["features"].size)
    fits = _fits(curves["features"], fit_windows, "features")
    if "data" in curves:
        default = spectra.extension_windows(rank, rank)[:1]
        start = default[0][0] if default else 2
        data_windows = list(windows) or ([(start, max(start + 3, rank // 2))] if default else [])
        fits = _fits(curves["data"], data_windows, "data") + fits
    result = {
        "source": source,
        "activation": activation,
        "n_features": n_features,
        "normalization": NORMALIZATION,
        "rank": rank,
        "fits": fits,
        "cutoff": _cutoff(curves["features"], fit_windows, drop),
        "eigenvalues": {k: v.tolist() for k, v in curves.items()},
    }
    if as_json:
        emit_json(result)
    else:
        _print_tables(result, curves)
    if plot_dir is not None:
        from ..plot.spectra import spectrum_figures

        for path in spectrum_figures(result, curves, features, plot_dir):
            click.echo(f"wrote {path}", err=True)


def _print_tables(result: dict, curves: dict) -> None:
    src = result["source"]
    what = src["name"] if src["kind"] == "dataset" else f"M={src['latent_dim']}, α={src['alpha']}"
    click.echo(f"spectrum: {what}, {result['activation']} features, N={result['n_features']}")
    click.echo(f"normalization: {result['normalization']}")
    emit_table(_table_rows(curves), ["rank", *curves], title="eigenvalues (log-spaced ranks)")
    if result["fits"]:
        emit_table(
            result["fits"],
            ["spectrum", "start", "stop", "exponent", "stderr", "slope", "n_points", "skipped"],
            title="power-law fits λ_i ≈ A i^-s (slope = -s)",
        )
    else:
        click.echo("power-law fits: none (too few ranks above round-off for a fit window)")
    cut = result["cutoff"]
    if cut is not None:
        status = f"ends at rank {cut['extent']}" if cut["found"] else "no cut-off found"
        click.echo(f"cut-off (below {cut['drop']:g} × the fitted power law): {status}")
