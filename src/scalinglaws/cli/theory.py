"""``scalinglaws theory``, ``optimal`` and ``frontier``: the large-N, large-P theory
(docs/model.md §5, §6).

Only click and the light CLI helpers are imported at module level (the command line starts
fast); numpy and the library are imported inside the commands. Every bad input is one line
(:class:`~scalinglaws._errors.InputError`); work that would not fit in memory or take too long
is refused before it starts, with its estimate; JSON holds no NaN/Infinity tokens (``null``).
"""

from __future__ import annotations

import click

from .._errors import InputError
from ._options import (
    COUNT,
    FLOAT_LIST,
    INT_LIST,
    grid_options,
    json_option,
    max_memory_option,
    model_options,
    spec_from_options,
)
from ._output import ProgressBar, emit_json, emit_table

#: The human table is refused above this many rows (rich needs ~0.4 ms a row); JSON has no cap
#: but its memory (about 3 KB a record while it is built) is checked.
MAX_TABLE_ROWS = 50_000
RECORD_BYTES = 3_000

progress_option = click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: when stderr is a terminal).",
)
allow_slow_option = click.option(
    "--allow-slow",
    is_flag=True,
    help="Run work estimated to take longer than the limit (an hour for a grid, ten minutes "
    "for kernels and eigendecompositions) instead of refusing it.",
)


def _linear_spec(model: dict):
    spec = spec_from_options(**model)
    if not spec.is_linear:
        raise InputError(
            "'activation' must be 'linear' for the theory commands. "
            f"Got {spec.activation.name!r} instead."
        )
    return spec


def _check_output(n_rows: int, as_json: bool, max_memory, parameter: str) -> None:
    """Refuse an output table or JSON document too large to build, before any work."""
    if not as_json and n_rows > MAX_TABLE_ROWS:
        raise InputError(
            f"The table must have at most {MAX_TABLE_ROWS:,} rows. Got {n_rows:,} rows "
            f"instead; use --json, or lower {parameter}."
        )
    from .._memory import check_memory

    check_memory(
        n_rows * RECORD_BYTES,
        what=f"The output of {n_rows:,} records",
        parameter=parameter,
        max_memory=max_memory,
    )


def _values(array) -> list:
    """A flat float array as a list with ``None`` for non-finite entries."""
    import numpy as np

    flat = np.asarray(array, dtype=np.float64).ravel()
    finite = np.isfinite(flat).tolist()
    return [v if ok else None for v, ok in zip(flat.tolist(), finite, strict=True)]


def _records(columns: dict) -> list[dict]:
    names = list(columns)
    return [dict(zip(names, row, strict=True)) for row in zip(*columns.values(), strict=True)]


@click.command("theory")
@model_options
@grid_options
@click.option("--details", is_flag=True, help="Add the regime and the local slopes (§5 only).")
@click.option(
    "--level",
    type=click.Choice(["auto", "exact", "one", "two"]),
    default="auto",
    show_default=True,
    help="exact: docs/model.md §5 (linear features and teacher); two / one: Gaussian equivalence "
    "(averaged over the features, or for --seeds draws of them); auto picks.",
)
@click.option("--seeds", type=COUNT, default=8, show_default=True, help="Draws for --level one.")
@click.option(
    "--n-reference",
    type=COUNT,
    default=None,
    help="Reference features for --level two (default max(4·max N, 1000); at least max N).",
)
@click.option(
    "--route",
    type=click.Choice(["auto", "hermite", "sampled", "reference"]),
    default="auto",
    show_default=True,
    help="Two-level route (docs/nonlinear-theory.md): hermite from the activation's Hermite "
    "expansion (linear teachers), sampled the one-level theory averaged over --draws draws of "
    "the features, reference from a draw of --n-reference features; auto picks.",
)
@click.option(
    "--draws",
    type=COUNT,
    default=None,
    help="The most draws of the features for the sampled route (default 8; each N stops after "
    "3 once every cell's standard error is under 1 percent of its excess).",
)
@click.option(
    "--inputs",
    "n_inputs",
    type=COUNT,
    default=None,
    help="Monte-Carlo inputs per draw for the spread of the features' quadratic forms "
    "(docs/nonlinear-theory.md; default 4096 on the sampled route, 0 for --level one; 0: the "
    "Gaussian data side).",
)
@click.option("--seed", type=COUNT, default=0, show_default=True, help="Root random seed.")
@progress_option
@allow_slow_option
@max_memory_option
@json_option
def theory_command(
    n_features, n_samples, ridge, details, level, seeds, n_reference, route, draws, n_inputs,
    seed, progress, allow_slow, max_memory, as_json, **model,
):  # fmt: skip
    """Predict the test loss on a grid of N × P × ridge from the deterministic equivalent."""
    import numpy as np

    from ..results import Grid

    spec = spec_from_options(**model)
    resolved = "exact" if spec.is_linear and spec.teacher.is_linear else "two"
    resolved = resolved if level == "auto" else level
    if details and resolved != "exact":
        raise InputError(
            "'details' needs the exact theory of docs/model.md §5 (linear features and teacher). "
            f"Got level {resolved!r} instead."
        )
    if n_reference is not None and resolved != "two":
        raise InputError(
            "'n_reference' applies to the two-level theory only (--level two). "
            f"Got n_reference={n_reference} with level {resolved!r} instead."
        )
    sizes = Grid(n_features=n_features, n_samples=n_samples, ridges=ridge).shape
    parameter = "'n_features', 'n_samples' or 'ridge' (the grid's size)"
    _check_output(int(np.prod(sizes)), as_json, max_memory, parameter)
    from ..bridges.equivalence import predict_grid  # SciPy loads after the input is checked
    with ProgressBar("theory", enabled=progress) as bar:
        ds = predict_grid(
            spec,
            n_features=n_features,
            n_samples=n_samples,
            ridges=ridge,
            level=level,
            n_seeds=seeds,
            n_reference=n_reference,
            route=route if resolved == "two" else "auto",
            n_draws=draws,
            n_inputs=n_inputs,
            rng=seed,
            max_memory=max_memory,
            allow_slow=allow_slow,
            progress=bar,
        )
    grid = np.meshgrid(ds.n_features.values, ds.n_samples.values, ds.ridge.values, indexing="ij")
    nf, ns, rg = (g.ravel() for g in grid)
    columns = {
        "n_features": nf.astype(int).tolist(),
        "n_samples": ns.astype(int).tolist(),
        "ridge": rg.astype(float).tolist(),
        **{name: _values(ds[name].values) for name in ("test_mse", "excess", "kappa")},
    }
    if details:
        columns.update(_details(spec, nf.astype(float), ns.astype(float), rg, progress, allow_slow))
    records = _records(columns)
    if as_json:
        emit_json(records)
    else:
        emit_table(
            records,
            list(columns),
            title=f"theory ({ds.attrs['level']}): {spec.spectrum.describe()}, "
            f"{spec.activation.name} features, {spec.teacher.describe()}, "
            f"noise_var={spec.noise_var:g}",
        )


def _details(spec, nf, ns, rg, progress, allow_slow) -> dict:
    """Regime and local slopes at every grid point, in chunks (progress, time refusal)."""
    import numpy as np

    from ..theory import local_slopes, regime
    from ..theory._grid import run_in_chunks

    regimes = np.empty(nf.size, dtype=object)
    slope_n, slope_p = np.empty(nf.size), np.empty(nf.size)

    def chunk(start: int, stop: int) -> None:
        part = slice(start, stop)
        slopes = local_slopes(spec, nf[part], ns[part], rg[part])
        slope_n[part], slope_p[part] = slopes.n_features, slopes.n_samples
        regimes[part] = regime(spec, nf[part], ns[part], rg[part])

    with ProgressBar("details", enabled=progress) as bar:
        run_in_chunks(
            chunk,
            nf.size,
            what="The details (regimes and local slopes)",
            parameter="'n_features', 'n_samples' or 'ridge'",
            progress=bar,
            allow_slow=allow_slow,
        )
    return {
        "regime": [str(r) for r in regimes],
        "slope_n_features": _values(slope_n),
        "slope_n_samples": _values(slope_p),
    }


@click.command("optimal")
@model_options
@click.option("--n-features", "-N", type=INT_LIST, required=True, help="N values, comma-separated.")
@click.option("--n-samples", "-P", type=INT_LIST, required=True, help="P values, comma-separated.")
@progress_option
@allow_slow_option
@max_memory_option
@json_option
def optimal_command(n_features, n_samples, progress, allow_slow, max_memory, as_json, **model):
    """Optimal ridge γ* and the loss L_opt there, for each (N, P)."""
    import numpy as np

    from ..results import Grid
    from ..theory import optimal_ridge
    from ..theory._grid import run_in_chunks

    spec = _linear_spec(model)
    axes = Grid(n_features=n_features, n_samples=n_samples)
    nf = np.array(axes.n_features, dtype=float)
    ns = np.array(axes.n_samples, dtype=float)
    _check_output(nf.size * ns.size, as_json, max_memory, "'n_features' or 'n_samples'")
    flat_n, flat_p = (g.ravel() for g in np.meshgrid(nf, ns, indexing="ij"))
    names = ("ridge", "normalized_ridge", "test_mse", "excess", "kappa")
    out = {name: np.empty(flat_n.size) for name in names}

    def chunk(start: int, stop: int) -> None:
        res = optimal_ridge(spec, flat_n[start:stop], flat_p[start:stop])
        for name in names:
            out[name][start:stop] = getattr(res, name)

    with ProgressBar("optimal", enabled=progress) as bar:
        run_in_chunks(
            chunk,
            flat_n.size,
            what="The optimal ridge",
            parameter="'n_features' or 'n_samples'",
            progress=bar,
            allow_slow=allow_slow,
            first_chunk=16,
            chunk=512,
        )
    columns = {"n_features": flat_n.astype(int).tolist(), "n_samples": flat_p.astype(int).tolist()}
    columns.update({name: _values(out[name]) for name in names})
    records = _records(columns)
    if as_json:
        emit_json(records)
    else:
        emit_table(records, list(columns), title="optimal ridge γ* and L_opt")


@click.command("frontier")
@model_options
@click.option(
    "--budget",
    type=FLOAT_LIST,
    required=True,
    help="Compute budgets C = N·P (with the default cost), comma-separated.",
)
@click.option(
    "--cost-feature",
    type=float,
    default=0.0,
    show_default=True,
    help="c_N in the cost C = c_N·N + c_P·P + c_NP·N·P.",
)
@click.option("--cost-sample", type=float, default=0.0, show_default=True, help="c_P.")
@click.option("--cost-product", type=float, default=1.0, show_default=True, help="c_NP.")
@progress_option
@allow_slow_option
@max_memory_option
@json_option
def frontier_command(
    budget, cost_feature, cost_sample, cost_product, progress, allow_slow, max_memory, as_json,
    **model,
):  # fmt: skip
    """Compute-optimal N*, P*, γ* and L* for each budget, and the frontier's exponents."""
    import numpy as np

    from .._validation import check_float_list
    from ..theory import CostModel, compute_frontier

    spec = _linear_spec(model)
    cost = CostModel(per_feature=cost_feature, per_sample=cost_sample, per_product=cost_product)
    budgets = np.array(check_float_list("budgets", budget, allow_zero=False))
    _check_output(budgets.size, as_json, max_memory, "the number of budgets")
    with ProgressBar("frontier", enabled=progress) as bar:
        fr = compute_frontier(spec, budgets, cost=cost, progress=bar, allow_slow=allow_slow)
    names = ("n_features", "n_samples", "ridge", "test_mse", "excess")
    columns = {"budget": fr.budget.astype(float).tolist()}
    columns.update({name: _values(getattr(fr, name)) for name in names})
    points = _records(columns)
    exponents = {
        "n_features": _values([fr.exponent_n_features])[0],
        "n_samples": _values([fr.exponent_n_samples])[0],
        "loss": _values([fr.exponent_loss])[0],
    }
    if as_json:
        emit_json({"frontier": points, "exponents": exponents})
    else:
        emit_table(points, list(columns), title="compute-optimal frontier")
        click.echo(
            f"fitted: N* ∝ C^{_fmt(exponents['n_features'])}, P* ∝ C^{_fmt(exponents['n_samples'])}"
            f", L* ∝ C^-{_fmt(exponents['loss'])}"
        )


def _fmt(x) -> str:
    return "nan" if x is None else f"{x:.3f}"
