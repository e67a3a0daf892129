"""``scalinglaws theory``, ``optimal`` and ``frontier``: the large-N, large-P theory
(MODEL.md §5, §6)."""

from __future__ import annotations

import warnings

import click
import numpy as np

from .._validation import InputError, NumericalWarning
from ._options import (
    FLOAT_LIST,
    INT_LIST,
    grid_options,
    json_option,
    model_options,
    spec_from_options,
)
from ._output import emit_json, emit_table


def _linear_spec(model: dict):
    spec = spec_from_options(**model)
    if not spec.is_linear:
        raise InputError(
            "'activation' must be 'linear' for the theory commands. "
            f"Got {spec.activation.name!r} instead."
        )
    return spec


def _value(x) -> float | None:
    v = float(x)
    return v if np.isfinite(v) else None


@click.command("theory")
@model_options
@grid_options
@click.option("--details", is_flag=True, help="Add the regime and the local slopes (§5 only).")
@click.option(
    "--level",
    type=click.Choice(["auto", "exact", "one", "two"]),
    default="auto",
    show_default=True,
    help="exact: MODEL.md §5 (linear features and teacher); two / one: Gaussian equivalence "
    "(averaged over the features, or for --seeds draws of them); auto picks.",
)
@click.option("--seeds", type=int, default=8, show_default=True, help="Draws for --level one.")
@click.option(
    "--n-reference",
    type=int,
    default=None,
    help="Reference features for --level two (default max(4·max N, 1000)).",
)
@click.option("--seed", type=int, default=0, show_default=True, help="Root random seed.")
@json_option
def theory_command(
    n_features, n_samples, ridge, details, level, seeds, n_reference, seed, as_json, **model
):
    """Predict the test loss on a grid of N × P × ridge from the deterministic equivalent."""
    from ..equivalence import predict_grid
    from ..theory import local_slopes, regime

    spec = spec_from_options(**model)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", NumericalWarning)
        ds = predict_grid(
            spec,
            n_features=n_features,
            n_samples=n_samples,
            ridges=ridge,
            level=level,
            n_seeds=seeds,
            n_reference=n_reference,
            rng=seed,
        )
    if details and ds.attrs["level"] != "exact":
        raise InputError(
            "'details' needs the exact theory of MODEL.md §5 (linear features and teacher). "
            f"Got level {ds.attrs['level']!r} instead."
        )
    records = []
    for n in ds.n_features.values:
        for p in ds.n_samples.values:
            for g in ds.ridge.values:
                cell = ds.sel(n_features=n, n_samples=p, ridge=g)
                rec = {
                    "n_features": int(n),
                    "n_samples": int(p),
                    "ridge": float(g),
                    "test_mse": _value(cell.test_mse),
                    "excess": _value(cell.excess),
                    "kappa": _value(cell.kappa),
                }
                if details:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", NumericalWarning)
                        slopes = local_slopes(spec, float(n), float(p), float(g))
                        rec["regime"] = str(regime(spec, float(n), float(p), float(g)))
                    rec["slope_n_features"] = _value(slopes.n_features)
                    rec["slope_n_samples"] = _value(slopes.n_samples)
                records.append(rec)
    for w in {str(w.message) for w in caught}:
        click.echo(f"warning: {w}", err=True)
    if as_json:
        emit_json(records)
    else:
        cols = ["n_features", "n_samples", "ridge", "test_mse", "excess", "kappa"]
        if details:
            cols += ["regime", "slope_n_features", "slope_n_samples"]
        emit_table(
            records,
            cols,
            title=f"theory ({ds.attrs['level']}): {spec.spectrum.describe()}, "
            f"{spec.activation.name} features, {spec.teacher.describe()}, "
            f"noise_var={spec.noise_var:g}",
        )


@click.command("optimal")
@model_options
@click.option("--n-features", "-N", type=INT_LIST, required=True, help="N values, comma-separated.")
@click.option("--n-samples", "-P", type=INT_LIST, required=True, help="P values, comma-separated.")
@json_option
def optimal_command(n_features, n_samples, as_json, **model):
    """Optimal ridge γ* and the loss L_opt there, for each (N, P)."""
    from .._validation import check_int_list
    from ..theory import optimal_ridge

    spec = _linear_spec(model)
    nf = np.array(check_int_list("n_features", n_features), dtype=float)
    ns = np.array(check_int_list("n_samples", n_samples), dtype=float)
    res = optimal_ridge(spec, nf[:, None], ns[None, :])
    records = [
        {
            "n_features": int(nf[i]),
            "n_samples": int(ns[j]),
            "ridge": _value(res.ridge[i, j]),
            "normalized_ridge": _value(res.normalized_ridge[i, j]),
            "test_mse": _value(res.test_mse[i, j]),
            "excess": _value(res.excess[i, j]),
            "kappa": _value(res.kappa[i, j]),
        }
        for i in range(nf.size)
        for j in range(ns.size)
    ]
    if as_json:
        emit_json(records)
    else:
        emit_table(
            records,
            ["n_features", "n_samples", "ridge", "normalized_ridge", "test_mse", "excess", "kappa"],
            title="optimal ridge γ* and L_opt",
        )


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
@json_option
def frontier_command(budget, cost_feature, cost_sample, cost_product, as_json, **model):
    """Compute-optimal N*, P*, γ* and L* for each budget, and the frontier's exponents."""
    from ..theory import CostModel, compute_frontier

    spec = _linear_spec(model)
    cost = CostModel(per_feature=cost_feature, per_sample=cost_sample, per_product=cost_product)
    fr = compute_frontier(spec, budget, cost=cost)
    points = [
        {
            "budget": float(fr.budget[k]),
            "n_features": _value(fr.n_features[k]),
            "n_samples": _value(fr.n_samples[k]),
            "ridge": _value(fr.ridge[k]),
            "test_mse": _value(fr.test_mse[k]),
            "excess": _value(fr.excess[k]),
        }
        for k in range(fr.budget.size)
    ]
    exponents = {
        "n_features": _value(fr.exponent_n_features),
        "n_samples": _value(fr.exponent_n_samples),
        "loss": _value(fr.exponent_loss),
    }
    if as_json:
        emit_json({"frontier": points, "exponents": exponents})
    else:
        emit_table(
            points,
            ["budget", "n_features", "n_samples", "ridge", "test_mse", "excess"],
            title="compute-optimal frontier",
        )
        click.echo(
            f"fitted: N* ∝ C^{_fmt(exponents['n_features'])}, P* ∝ C^{_fmt(exponents['n_samples'])}"
            f", L* ∝ C^-{_fmt(exponents['loss'])}"
        )


def _fmt(x) -> str:
    return "nan" if x is None else f"{x:.3f}"
