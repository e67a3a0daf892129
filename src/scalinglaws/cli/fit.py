"""``scalinglaws fit``: fit a scaling law (or the solvable model) to measured losses.

Parse the options, read the points (a CSV, Parquet or netCDF file, or a study's store through
its TOML file), make one call to :func:`scalinglaws.analysis.fits.fit`, and format the result:
a table by default, the standard JSON object with ``--json``, figures with ``--plot DIR``.
No science here. Only click and the light CLI helpers are imported at start-up.
"""

from __future__ import annotations

from pathlib import Path

import click

from .._errors import InputError
from ._options import COUNT, json_option, plot_option
from ._output import ProgressBar, emit_json, emit_table

#: The forms of :data:`scalinglaws.analysis.fits.FORM_NAMES` (kept here so --help needs no numpy).
FORMS = ("chinchilla", "power_law", "model")
#: Default columns per form.
DEFAULT_X = {"chinchilla": "N,D", "power_law": None, "model": "n_features,n_samples"}
DEFAULT_Y = {"chinchilla": "loss", "power_law": "loss", "model": "test_mse"}


class Assignments(click.ParamType):
    """``name=value[,name=value]``, e.g. ``E=0`` or ``noise_var=0,latent_dim=2000``."""

    name = "name=value list"

    def convert(self, value, param, ctx):
        if isinstance(value, dict):
            return value
        out = {}
        for item in str(value).split(","):
            name, sep, number = item.partition("=")
            try:
                out[name.strip()] = float(number)
            except ValueError:
                self.fail(f"expected name=number, got {item.strip()!r}", param, ctx)
            if not sep or not name.strip():
                self.fail(f"expected name=number, got {item.strip()!r}", param, ctx)
        return out


def _read(path: Path, store: Path | None, exclude: str | None):
    """The points of FILE: a DataFrame (CSV, Parquet, a study) or a Dataset (netCDF)."""
    suffix = path.suffix.lower()
    if not path.is_file():
        raise InputError(f"'FILE' must be an existing file. Got '{path}' instead.")
    if suffix == ".toml":
        return _study_frame(path, store, exclude)
    if store is not None:
        raise InputError(
            f"'--store' goes with a study file (.toml). Got FILE '{path.name}' instead."
        )
    if suffix == ".nc":
        import xarray as xr

        try:
            return xr.open_dataset(path).load()
        except (OSError, ValueError) as err:
            raise InputError(f"'{path}' could not be read as netCDF: {err}") from None
    return path


def _study_frame(path: Path, store: Path | None, exclude: str | None):
    """A study's stored cells; refused unless the exclusions leave one case and one kind."""
    from ..studies import ResultStore, load_study, study_frame

    study = load_study(path)
    store = Path(store or study.store)
    if not store.is_file():
        raise InputError(
            f"'store' must be an existing result store. Got '{store}' instead; run "
            "'scalinglaws study run' first."
        )
    with ResultStore(store, readonly=True) as opened:
        frame = study_frame(study, opened)
    kept = frame
    if exclude:
        try:
            kept = frame[~frame.eval(exclude).astype(bool)]
        except Exception:  # noqa: BLE001 - the fit reports a bad query in its own words
            return frame
    pairs = sorted({f"{c}/{k}" for c, k in zip(kept["case"], kept["kind"], strict=True)})
    if len(pairs) > 1:
        case, kind = pairs[0].split("/")
        raise InputError(
            f"'--exclude' must leave one case and kind of the study. Got {len(pairs)} "
            f"({', '.join(pairs[:6])}{', ...' if len(pairs) > 6 else ''}) instead; e.g. "
            f"--exclude \"case != '{case}' or kind != '{kind}'\"."
        )
    return frame


def _ridge(value: str | None):
    if value is None:
        return None
    try:
        return float(value)
    except ValueError:
        return value


def _fmt_ci(ci) -> tuple:
    return (None, None) if ci is None else tuple(ci)


def _tables(result: dict, form: str) -> None:
    rows = []
    for name, value in result["params"].items():
        low, high = _fmt_ci(result["ci95"].get(name))
        rows.append(
            {
                "parameter": name,
                "estimate": value,
                "stderr": result["stderr"].get(name),
                "ci95 low": low,
                "ci95 high": high,
            }
        )
    objective = "—" if result["objective"] is None else f"{result['objective']:.4g}"
    status = "converged" if result["converged"] else "NOT converged"
    title = (
        f"fit: {form}, {result['n_points']} points ({result['n_excluded']} excluded), "
        f"objective {objective}, {status}"
    )
    emit_table(rows, ["parameter", "estimate", "stderr", "ci95 low", "ci95 high"], title=title)
    alloc = result.get("allocation")
    second = "P" if form == "model" else "D"
    product = f"N·{second}"
    if alloc:
        rows = [
            {
                "quantity": k,
                "estimate": alloc[k],
                "stderr": alloc["stderr"].get(k),
                "ci95 low": _fmt_ci(alloc["ci95"].get(k))[0],
                "ci95 high": _fmt_ci(alloc["ci95"].get(k))[1],
            }
            for k in ("a", "b", "G", "tokens_per_parameter")
        ]
        emit_table(
            rows,
            ["quantity", "estimate", "stderr", "ci95 low", "ci95 high"],
            title=f"compute-optimal allocation, C = {alloc['cost_factor']:g}·{product}: "
            f"N* = G (C/k)^a, {second}* = (C/k)^b / G; {second}*/N* at C = {alloc['compute']:.3g}",
        )
    held = result.get("heldout")
    if held:
        emit_table([held], list(held), title="held-out extrapolation")
    for key, text in result["notes"].items():
        click.echo(f"{key}: {text}")


@click.command("fit")
@click.argument("file", metavar="FILE", type=click.Path(path_type=Path))
@click.option(
    "--form",
    type=click.Choice(FORMS),
    default="chinchilla",
    show_default=True,
    help="chinchilla: E + A N^-alpha + B D^-beta; power_law: E + A x^-a; model: the "
    "solvable model (alpha, amplitude, latent_dim, noise_var).",
)
@click.option(
    "--x",
    "x",
    default=None,
    help="Variable column(s), comma-separated "
    "(default N,D for chinchilla, n_features,n_samples for model).",
)
@click.option("--y", "y", default=None, help="Loss column (default loss; test_mse for model).")
@click.option(
    "--huber-delta",
    type=float,
    default=1e-3,
    show_default=True,
    help="δ of the Huber loss on log residuals.",
)
@click.option(
    "--bootstrap",
    "n_bootstrap",
    type=COUNT,
    default=1000,
    show_default=True,
    help="Bootstrap resamples (0: no intervals).",
)
@click.option("--seed", type=COUNT, default=0, show_default=True, help="Seed of the bootstrap.")
@click.option("--group", default=None, help="Resample whole groups of points (e.g. seed, run).")
@click.option(
    "--cost-factor",
    type=float,
    default=6.0,
    show_default=True,
    help="k in the cost C = k·N·D of the allocation.",
)
@click.option(
    "--heldout-column",
    default=None,
    help="Fit the points with this column <= --heldout-above, predict the rest "
    "('compute' = k·N·D if absent).",
)
@click.option("--heldout-above", type=float, default=None, help="Threshold of --heldout-column.")
@click.option("--exclude", default=None, help="Pandas query: the rows it selects are excluded.")
@click.option(
    "--drop-invalid",
    is_flag=True,
    help="Exclude rows with a non-finite or non-positive value (else refused).",
)
@click.option(
    "--fixed",
    type=Assignments(),
    default=None,
    help="Hold parameters fixed, e.g. E=0 or noise_var=0,latent_dim=2000.",
)
@click.option(
    "--quantity",
    type=click.Choice(("test_mse", "excess")),
    default="test_mse",
    show_default=True,
    help="model: whether the loss includes the label noise.",
)
@click.option(
    "--ridge",
    default=None,
    help="model: the ridge (a number or a column; default the column 'ridge' if present, else 0).",
)
@click.option(
    "--store",
    type=click.Path(path_type=Path),
    default=None,
    help="With a study FILE (.toml): its result store (default the study's).",
)
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar of the bootstrap on stderr (default: when stderr is a terminal).",
)
@plot_option
@json_option
def fit_command(
    file,
    form,
    x,
    y,
    huber_delta,
    n_bootstrap,
    seed,
    group,
    cost_factor,
    heldout_column,
    heldout_above,
    exclude,
    drop_invalid,
    fixed,
    quantity,
    ridge,
    store,
    progress,
    plot_dir,
    as_json,
):
    """Fit a scaling law to the losses in FILE (CSV, Parquet, netCDF, or a study's TOML file):
    estimates, bootstrap standard errors and 95 % intervals, the compute-optimal allocation,
    and optionally a held-out extrapolation."""
    from ..analysis.fits import fit

    x = x or DEFAULT_X[form]
    if x is None:
        raise click.UsageError("--form power_law needs --x (the variable's column).")
    options = dict(
        x=x,
        y=y or DEFAULT_Y[form],
        huber_delta=huber_delta,
        n_bootstrap=n_bootstrap,
        rng=seed,
        group=group,
        exclude=exclude,
        drop_invalid=drop_invalid,
        fixed=fixed,
        cost_factor=cost_factor,
        heldout_column=heldout_column,
        heldout_above=heldout_above,
    )
    if form == "model":
        options.update(quantity=quantity, ridge=_ridge(ridge))
    elif ridge is not None or quantity != "test_mse":
        raise InputError(f"'--ridge' and '--quantity' go with --form model. Got --form {form}.")
    data = _read(file, store, exclude)
    with ProgressBar("bootstrap", enabled=progress) as bar:
        result = fit(data, form=form, progress=bar, **options)
    record = result.to_dict()
    if as_json:
        emit_json(record)
    else:
        _tables(record, form)
    if plot_dir is not None:
        from ..plot.fits import fit_figures

        for path in fit_figures(result, plot_dir):
            click.echo(f"wrote {path}", err=True)
