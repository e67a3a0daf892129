"""Options shared by subcommands, and the translation from options to a :class:`ModelSpec`.

Only click and light modules are imported here (the command line must start fast); the model is
imported when a spec is built.
"""

from __future__ import annotations

import functools
import importlib.util
import tempfile
from pathlib import Path

import click

from .._errors import InputError
from .._names import ACTIVATION_NAMES


class Count(click.ParamType):
    """An integer, also written as ``1e4`` or ``1000.0`` (a float with an integral value)."""

    name = "integer"

    def convert(self, value, param, ctx):
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        try:
            number = float(str(value).strip())
        except ValueError:
            self.fail(f"expected an integer, got {value!r}", param, ctx)
        if number != number or number in (float("inf"), float("-inf")) or not number.is_integer():
            self.fail(f"expected an integer, got {value!r}", param, ctx)
        return int(number)


COUNT = Count()


class NumberList(click.ParamType):
    """A comma-separated list of numbers, e.g. ``100,200`` or ``0,1e-3``."""

    def __init__(self, kind: type) -> None:
        self.kind = kind
        self.name = "list of " + ("integers" if kind is int else "numbers")

    def convert(self, value, param, ctx):
        if isinstance(value, list | tuple):
            return list(value)
        items = [item.strip() for item in str(value).split(",") if item.strip()]
        if not items:
            self.fail(f"expected a comma-separated {self.name}, got {value!r}", param, ctx)
        out = []
        for item in items:
            try:
                number = float(item)
            except ValueError:
                self.fail(f"expected a comma-separated {self.name}, got {item!r}", param, ctx)
            if self.kind is int:
                if number != number or abs(number) == float("inf") or not number.is_integer():
                    self.fail(f"expected integers, got {item!r}", param, ctx)
                number = int(number)
            out.append(number)
        return out


INT_LIST = NumberList(int)
FLOAT_LIST = NumberList(float)


def model_options(func):
    """--latent-dim, --alpha, --lambda-plus, --teacher-var, --noise-var, --feature-var,
    --activation, --teacher-activation, --teacher-width."""
    options = [
        click.option("--latent-dim", "-M", type=COUNT, required=True, help="Latent dimension M."),
        click.option("--alpha", "-a", type=float, required=True, help="Power-law exponent α."),
        click.option(
            "--lambda-plus",
            type=float,
            default=1.0,
            show_default=True,
            help="Largest eigenvalue λ_+.",
        ),
        click.option(
            "--teacher-var",
            type=float,
            default=1.0,
            show_default=True,
            help="Teacher variance σ_w² (isotropic teacher).",
        ),
        click.option(
            "--noise-var",
            type=float,
            default=0.0,
            show_default=True,
            help="Label-noise variance σ_ε².",
        ),
        click.option(
            "--feature-var",
            type=float,
            default=1.0,
            show_default=True,
            help="Feature-weight variance σ_u².",
        ),
        click.option(
            "--activation",
            default="linear",
            show_default=True,
            type=click.Choice(ACTIVATION_NAMES),
            help="Feature nonlinearity σ.",
        ),
        click.option(
            "--teacher-activation",
            default=None,
            type=click.Choice(ACTIVATION_NAMES),
            help="Use a wide random-feature teacher y = Σ_k a_k σ_t(v_k·x) with this σ_t "
            "(default: the linear isotropic teacher). --teacher-var is then σ_a².",
        ),
        click.option(
            "--teacher-width",
            default=None,
            type=COUNT,
            help="K, the number of teacher features (with --teacher-activation; default 20·M).",
        ),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), func)


def grid_options(func):
    """--n-features, --n-samples, --ridge (comma-separated lists)."""
    options = [
        click.option(
            "--n-features",
            "-N",
            type=INT_LIST,
            required=True,
            help="Numbers of features N, comma-separated.",
        ),
        click.option(
            "--n-samples",
            "-P",
            type=INT_LIST,
            required=True,
            help="Numbers of training samples P, comma-separated.",
        ),
        click.option(
            "--ridge",
            type=FLOAT_LIST,
            default="0",
            show_default=True,
            help="Ridges γ (sum-of-squares convention), comma-separated.",
        ),
    ]
    return functools.reduce(lambda f, opt: opt(f), reversed(options), func)


json_option = click.option("--json", "as_json", is_flag=True, help="Print JSON for machines.")


def check_plot_dir(ctx, param, value):
    """``--plot DIR``: checked before any work — matplotlib importable, DIR a writable folder."""
    if value is None:
        return None
    if importlib.util.find_spec("matplotlib") is None:
        raise click.BadParameter(
            "figures need matplotlib, which is not installed: pip install 'scalinglaws[plot]'",
            ctx=ctx,
            param=param,
        )
    folder = Path(value)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as err:
        reason = err.strerror or type(err).__name__
        raise click.BadParameter(
            f"{str(folder)!r} must be a folder where figures can be written ({reason})",
            ctx=ctx,
            param=param,
        ) from None
    return str(folder)


plot_option = click.option(
    "--plot",
    "plot_dir",
    type=click.Path(file_okay=False),
    default=None,
    callback=check_plot_dir,
    help="Write log-log figures of the loss against N and against P to this folder.",
)


def check_max_memory(ctx, param, value):
    """``--max-memory SIZE`` (e.g. 8GiB, 500MB, 2e9), as bytes."""
    if value is None:
        return None
    from .._memory import parse_memory

    try:
        return parse_memory(value, "max_memory")
    except InputError as err:
        raise click.BadParameter(str(err), ctx=ctx, param=param) from None


max_memory_option = click.option(
    "--max-memory",
    default=None,
    callback=check_max_memory,
    help="Refuse work whose estimated peak memory exceeds this (e.g. 8GiB); "
    "default: the memory available now.",
)

def spec_from_options(
    *,
    latent_dim,
    alpha,
    lambda_plus,
    teacher_var,
    noise_var,
    feature_var,
    activation,
    teacher_activation=None,
    teacher_width=None,
    **_,
):
    """Build the validated :class:`~scalinglaws.model.spec.ModelSpec` the model options describe."""
    from ..model.spec import ModelSpec, Teacher
    from ..model.spectrum import Spectrum

    spectrum = Spectrum.power_law(latent_dim=latent_dim, alpha=alpha, lambda_plus=lambda_plus)
    if teacher_activation is None:
        if teacher_width is not None:
            raise InputError(
                "'teacher_width' needs --teacher-activation (a random-feature teacher). "
                f"Got teacher_width={teacher_width} without it instead."
            )
        teacher = Teacher.isotropic(teacher_var)
    else:
        teacher = Teacher.random_features(teacher_activation, teacher_width, output_var=teacher_var)
    return ModelSpec(
        spectrum=spectrum,
        teacher=teacher,
        noise_var=noise_var,
        activation=activation,
        feature_var=feature_var,
    )
