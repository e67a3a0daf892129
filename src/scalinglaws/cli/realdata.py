"""``scalinglaws realdata``: random-feature ridge regression on a real dataset, with the theory."""

from __future__ import annotations

import click

from .._names import ACTIVATION_NAMES, DATASET_NAMES, POOL_MODELS, TARGETS
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
    "--pool",
    "pool_model",
    type=click.Choice(POOL_MODELS),
    default="sample",
    show_default=True,
    help="What the training pool stands for in the theory: a sample of the population (held-out "
    "loss for any P up to the pool size) or the population itself (right for P well below it).",
)
@click.option(
    "--n-reference",
    type=COUNT,
    default=None,
    help="Reference features of the nonlinear theory with --pool population "
    "(default max(4·N_max, 2000)).",
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
    pool_model,
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
        pred = realdata_theory(
            task, n_seeds=seeds, pool=pool_model, n_reference=n_reference, **common
        )
    from ..analysis.realdata_summary import realdata_exponents, realdata_records

    rows, slopes = realdata_records(sim, pred), realdata_exponents(sim, pred)
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
        from ..plot.realdata import realdata_figures

        for path in realdata_figures(sim, pred, plot_dir):
            click.echo(f"wrote {path}", err=True)
