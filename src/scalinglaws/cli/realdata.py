"""``scalinglaws realdata``: random-feature ridge regression on a real dataset, with the theory."""

from __future__ import annotations

import math
from pathlib import Path

import click

from .._names import ACTIVATION_NAMES, DATASET_NAMES, TARGETS
from ._options import COUNT, FLOAT_LIST, INT_LIST, json_option, max_memory_option, plot_option
from ._output import emit_json, emit_table

COLUMNS = (
    "n_features",
    "n_samples",
    "ridge",
    "test_mse",
    "test_mse_sem",
    "heldout_se",
    "theory",
    "theory_ratio",
)


def _finite(value) -> float | None:
    v = float(value)
    return v if math.isfinite(v) else None


def records(sim, theory) -> list[dict]:
    """One plain-JSON record per (N, P, γ): measured mean, its SEMs, theory and their ratio."""
    import numpy as np

    out = []
    heldout = np.sqrt((sim.test_mse_se**2).mean("seed") / sim.sizes["seed"])
    for n in sim.n_features.values:
        for p in sim.n_samples.values:
            for g in sim.ridge.values:
                at = {"n_features": n, "n_samples": p, "ridge": g}
                measured = float(sim.test_mse_mean.sel(at))
                pred = None if theory is None else float(theory.test_mse.sel(at))
                out.append(
                    {
                        "n_features": int(n),
                        "n_samples": int(p),
                        "ridge": float(g),
                        "test_mse": _finite(measured),
                        "test_mse_sem": _finite(sim.test_mse_sem.sel(at)),
                        "heldout_se": _finite(heldout.sel(at)),
                        "theory": None if pred is None else _finite(pred),
                        "theory_ratio": None if pred is None else _finite(pred / measured),
                    }
                )
    return out


def exponents(sim, theory) -> list[dict]:
    """Log–log slopes of the loss against N (at the largest P) and against P (at the largest N)."""
    from ..bridges.realdata import loss_exponent

    out = []
    for g in sim.ridge.values:
        for dim, other in (("n_features", "n_samples"), ("n_samples", "n_features")):
            at = {"ridge": g, other: sim[other].values[-1]}
            slope, err = loss_exponent(sim.test_mse_mean.sel(at), dim)
            row = {
                "ridge": float(g),
                "against": dim,
                "at": f"{other}={int(at[other])}",
                "measured_slope": _finite(slope),
                "measured_stderr": _finite(err),
            }
            if theory is not None:
                row["theory_slope"] = _finite(loss_exponent(theory.test_mse.sel(at), dim)[0])
            out.append(row)
    return out


def figures(sim, theory, out_dir: str | Path) -> list[Path]:
    """Log–log loss against N (a line per P) and against P (a line per N), per ridge."""
    from ..plot.curves import new_axes, save_figure

    paths = []
    name = sim.attrs["task"].replace("/", "-") + "_" + sim.attrs["activation"]
    for g in sim.ridge.values:
        for x, line in (("n_features", "n_samples"), ("n_samples", "n_features")):
            fig, ax = new_axes()
            for k, value in enumerate(sim[line].values):
                at = {"ridge": g, line: value}
                color = f"C{k % 10}"
                ax.errorbar(
                    sim[x].values,
                    sim.test_mse_mean.sel(at),
                    yerr=sim.test_mse_sem.sel(at),
                    fmt="o",
                    color=color,
                    label=f"{line} = {value} (measured)",
                )
                if theory is not None:
                    ax.plot(theory[x].values, theory.test_mse.sel(at), "-", color=color)
            ax.set(
                xscale="log",
                yscale="log",
                xlabel=x,
                ylabel="held-out test MSE (sum over outputs)",
                title=f"{sim.attrs['task']}, {sim.attrs['activation']} features, γ = {g:g}",
            )
            ax.legend(fontsize=7, title="lines: theory from the pool", title_fontsize=7)
            paths.append(save_figure(fig, Path(out_dir) / f"realdata_{name}_{x}_ridge{g:g}.png"))
    return paths


@click.command("realdata")
@click.option(
    "--dataset", type=click.Choice(DATASET_NAMES), default="digits", show_default=True
)
@click.option(
    "--target",
    type=click.Choice(TARGETS),
    default="onehot",
    show_default=True,
    help="One-hot class labels, or the central pixel/column as a regression target.",
)
@click.option(
    "--activation",
    type=click.Choice(ACTIVATION_NAMES),
    default="relu",
    show_default=True,
    help="Feature activation.",
)
@click.option("--n-features", "-N", type=INT_LIST, default="16,64,256,1024", show_default=True)
@click.option("--n-samples", "-P", type=INT_LIST, default="100,400,1600", show_default=True)
@click.option(
    "--ridge",
    type=FLOAT_LIST,
    default="1e-3",
    show_default=True,
    help="Ridges on the sum of squared errors.",
)
@click.option("--seeds", type=COUNT, default=4, show_default=True, help="Number of splits/draws.")
@click.option("--seed", type=COUNT, default=0, show_default=True, help="Root random seed.")
@click.option("--n-test", type=COUNT, default=None, help="Held-out points (default 10%, ≤ 10000).")
@click.option("--feature-var", type=float, default=1.0, show_default=True, help="σ_u².")
@click.option(
    "--n-reference",
    type=COUNT,
    default=None,
    help="Reference features for the nonlinear theory (default max(4·N_max, 2000)).",
)
@click.option("--max-samples", type=COUNT, default=None, help="Use the first rows of the dataset.")
@click.option("--theory/--no-theory", default=True, show_default=True)
@plot_option
@max_memory_option
@json_option
def realdata_command(
    dataset,
    target,
    activation,
    n_features,
    n_samples,
    ridge,
    seeds,
    seed,
    n_test,
    feature_var,
    n_reference,
    max_samples,
    theory,
    plot_dir,
    max_memory,
    as_json,
):
    """Ridge regression of random features on a real dataset: held-out test MSE (mean ± SEM over
    seeds) against N and P, with the theory from the measured training pool."""
    from ..bridges.realdata import make_task, realdata_theory, simulate_realdata

    task = make_task(dataset, target, max_samples=max_samples)
    common = dict(
        n_features=n_features,
        n_samples=n_samples,
        ridges=ridge,
        activation=activation,
        feature_var=feature_var,
        n_test=n_test,
        rng=seed,
    )
    sim = simulate_realdata(task, n_seeds=seeds, max_memory=max_memory, **common)
    pred = None
    if theory:
        pred = realdata_theory(task, n_seeds=seeds, n_reference=n_reference, **common)
    rows, slopes = records(sim, pred), exponents(sim, pred)
    if as_json:
        emit_json(
            {
                "task": task.name,
                "activation": sim.attrs["activation"],
                "n_pool": sim.attrs["n_pool"],
                "n_test": sim.attrs["n_test"],
                "records": rows,
                "exponents": slopes,
            }
        )
    else:
        emit_table(
            rows,
            COLUMNS,
            title=f"realdata: {task.name}, {sim.attrs['activation']} "
            f"features, pool {sim.attrs['n_pool']}, test {sim.attrs['n_test']}",
        )
        emit_table(slopes, list(slopes[0]), title="log-log slopes of the test MSE")
    if plot_dir is not None:
        for path in figures(sim, pred, plot_dir):
            click.echo(f"wrote {path}", err=True)
