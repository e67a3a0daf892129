"""Peak memory and time of the Gaussian-equivalence theory, estimated before any work starts.

The nonlinear theory (:mod:`scalinglaws.bridges.equivalence`, :mod:`scalinglaws.bridges.realdata`)
builds N×N
(one level, per seed) or N_ref×N_ref (two levels) feature kernels and eigen-decomposes them. The
estimates here count the large float64 arrays held at the peak (kernel, eigenvectors, ``eigh``'s
copy and workspace, the pre-activation covariance, the random-feature teacher's K×M draw and its
N×K cross moments or K×K kernel), calibrated with ``tracemalloc`` against the code they describe
(within about 1.3× of the measured peak), and the time of

- the kernel entries, at a cost per entry *measured* here for the activation (about 50 ns for
  closed forms, 20–30 µs for 2-D quadrature such as tanh or gelu);
- each ``eigh``, about 4 n³ flops at :data:`FLOP_RATE` (measured 2–3e10 flop/s with two cores
  at n = 1000–3000; the rate here is conservative).

Work estimated above :data:`MAX_SECONDS` is refused (one line, with the estimate and the parameter
to lower) unless ``allow_slow``; memory above the limit always is
(:func:`scalinglaws._memory.check_memory`).
"""

from __future__ import annotations

import time

import numpy as np

from .._memory import check_memory
from .._validation import InputError, check_positive_int
from ..model.spec import ModelSpec
from ._grid import format_seconds

__all__ = [
    "FLOP_RATE",
    "MAX_SECONDS",
    "check_reference",
    "check_reference_work",
    "check_one_level",
    "check_sampled",
    "check_pool_reference",
]

#: Conservative LAPACK rate for ``eigh`` (flop/s) and its cost in flops per n³.
FLOP_RATE, EIGH_FLOPS = 5e9, 4.0
#: Kernel and eigendecomposition work estimated above this (seconds) is refused unless allowed.
MAX_SECONDS = 600.0
_BYTES = 8
_PER_ENTRY: dict[str, float] = {}


def check_reference(name: str, value: object, n_max: int) -> int:
    """``value`` as an int >= ``n_max`` (the largest N), else a one-line InputError saying why."""
    n_ref = check_positive_int(name, value)
    if n_ref < n_max:
        raise InputError(
            f"'{name}' must be >= max n_features = {n_max}: the reference draw stands for the "
            "features' kernel operator, and one smaller than N truncates its spectrum, so the "
            f"loss comes out several-fold wrong (default 4 x max N). Got {n_ref} instead."
        )
    return n_ref


def _entry_seconds(activation) -> float:
    """Measured seconds per kernel entry E[σ(h₁)σ(h₂)] of ``activation`` (cached by name)."""
    key = activation.name
    if key not in _PER_ENTRY:
        n = 2048
        c12 = np.linspace(-0.9, 0.9, n)
        ones = np.ones(n)
        activation.kernel(ones[:64], ones[:64], c12[:64])  # warm-up (quadrature nodes)
        start = time.perf_counter()
        activation.kernel(ones, ones, c12)
        _PER_ENTRY[key] = max((time.perf_counter() - start) / n, 5e-9)
    return _PER_ENTRY[key]


def _cross_seconds(student, teacher) -> float:
    if student == teacher:
        return _entry_seconds(student)
    if "linear" in (student.name, teacher.name):
        return 5e-9
    return max(_entry_seconds(student), _entry_seconds(teacher), 1e-6)


def _eigh_seconds(n: float) -> float:
    return EIGH_FLOPS * float(n) ** 3 / FLOP_RATE


def _check_time(seconds: float, what: str, parameter: str, allow_slow: bool) -> None:
    if allow_slow or seconds <= MAX_SECONDS:
        return
    raise InputError(
        f"{what} would take about {format_seconds(seconds)} (kernel entries at the measured "
        f"cost of this activation, eigendecompositions at {FLOP_RATE:.0e} flop/s), more than "
        f"{format_seconds(MAX_SECONDS)}; lower {parameter}, or allow it with allow_slow=True "
        "(CLI: --allow-slow)."
    )


def _teacher_width(spec: ModelSpec) -> int:
    return 0 if spec.teacher.is_linear else int(spec.teacher.width)


#: Measured ``tracemalloc`` peaks, in float64 words: a kernel matrix of n entries needs about
#: 7.2 n (closed forms; 6.2 for erf) and 2-D quadrature 6 n plus a block of about 80 MiB.
_KERNEL_WORDS, _QUADRATURE_BLOCK = 7.5, 100 * 2**20 / _BYTES


def _reference_parameter(spec: ModelSpec) -> str:
    if spec.teacher.is_linear:
        return "'n_reference' (or 'n_features', which its default follows)"
    return "'teacher_width', 'n_reference' or 'n_features'"


def reference_bytes(spec: ModelSpec, n_ref: int) -> float:
    """Peak bytes of :func:`scalinglaws.bridges.equivalence.reference_spectrum` (module docstring).

    Phases: the kernel, built tile by tile in place of the covariance (the padded tiles, their
    dense copy, U and UΛ); the random-feature teacher's cross moments (V, ``(1 + 7.5) n K``);
    ``eigh`` (kernel, copy, vectors, work: ``4 n²``, and the projections of the target factor).
    Measured peaks: 0.8–1.0× of this.
    """
    n, m, k = float(n_ref), float(spec.latent_dim), float(_teacher_width(spec))
    width = m if k == 0 else k
    pad = n + 256.0  # tiles are padded to whole 256-wide tiles at most
    kernel_phase = pad * pad + n * n + 2 * pad * m
    teacher_phase = n * n + 2 * n * m + k * m + (1 + _KERNEL_WORDS) * n * k
    eigh_phase = 4 * n * n + n * m + 2 * n * width
    return _BYTES * (max(kernel_phase, teacher_phase, eigh_phase) + _block(spec))


def check_reference_work(
    spec: ModelSpec, n_ref: int, *, max_memory=None, allow_slow: bool = False
) -> None:
    """Refuse a reference draw that cannot fit in memory or would take too long."""
    parameter = _reference_parameter(spec)
    check_memory(
        reference_bytes(spec, n_ref),
        what=f"The reference kernel of {n_ref:,} features",
        parameter=parameter,
        max_memory=max_memory,
    )
    seconds = n_ref * n_ref * _entry_seconds(spec.activation) + _eigh_seconds(n_ref)
    if not spec.teacher.is_linear:
        seconds += (
            n_ref * _teacher_width(spec) * _cross_seconds(spec.activation, spec.teacher.activation)
        )
    _check_time(seconds, f"The reference kernel of {n_ref:,} features", parameter, allow_slow)


def one_level_bytes(spec: ModelSpec, n_max: int) -> float:
    """Peak bytes of one seed of :func:`scalinglaws.bridges.equivalence.one_level_theory`.

    The tiled moments hold the covariance and kernel tiles, the N×N block and ``eigh``'s copy,
    vectors and work (about ``4 n²``, measured 3.5); a random-feature teacher adds V, its K×K
    covariance and kernel (``(3 + 7.5) K²``, measured 10) and (tile × K) cross blocks.
    """
    n, m, k = float(n_max), float(spec.latent_dim), float(_teacher_width(spec))
    features = 3.8 * n * n + 3 * n * m
    teacher = 2 * n * n + k * m + (3 + _KERNEL_WORDS) * k * k + (1 + _KERNEL_WORDS) * 256 * k
    return _BYTES * (max(features, teacher) + _block(spec))


def _block(spec: ModelSpec) -> float:
    """The quadrature's working block (words) when a kernel of ``spec`` needs 2-D quadrature."""
    acts = [spec.activation] + ([] if spec.teacher.is_linear else [spec.teacher.activation])
    return _QUADRATURE_BLOCK if max(_entry_seconds(a) for a in acts) > 1e-6 else 0.0


def check_one_level(
    spec: ModelSpec, n_features, n_seeds: int, *, max_memory=None, allow_slow: bool = False
) -> None:
    """Refuse a one-level theory that cannot fit in memory or would take too long."""
    n_max = int(max(n_features))
    parameter = "'n_features'" if spec.teacher.is_linear else "'teacher_width' or 'n_features'"
    check_memory(
        one_level_bytes(spec, n_max),
        what=f"The one-level theory at n_features = {n_max:,}",
        parameter=parameter,
        max_memory=max_memory,
    )
    seconds = n_max * n_max * _entry_seconds(spec.activation)
    seconds += sum(_eigh_seconds(n) for n in n_features)
    if not spec.teacher.is_linear:
        width = _teacher_width(spec)
        seconds += width * width * _entry_seconds(spec.teacher.activation)
        seconds += n_max * width * _cross_seconds(spec.activation, spec.teacher.activation)
    _check_time(
        seconds * n_seeds,
        f"The one-level theory over {n_seeds} seed(s) at n_features = {n_max:,}",
        parameter.replace(" or ", ", ") + " or 'n_seeds'",
        allow_slow,
    )


def check_sampled(
    spec: ModelSpec, n_features, n_draws: int, *, max_memory=None, allow_slow: bool = False,
    min_draws: int | None = None, n_inputs: int = 0,
) -> None:  # fmt: skip
    """Refuse a sampled two-level theory (``bridges.equivalence``, ``route="sampled"``) that
    cannot fit in memory or would take too long.

    One draw at a time builds the N_max×N_max kernel and its target factor as a reference draw
    of N_max features does (:func:`reference_bytes`, the peak of ``eigh`` on the whole kernel
    included), then one ``eigh`` per N on the kernel's leading block; a draw costs N_max²
    kernel entries, N_max·K teacher cross moments and Σ_N 4N³ flops. With ``min_draws`` (the
    adaptive draws, which stop an N once its standard error is small) the time counts
    ``min_draws`` draws: where the cost is, at the largest N, the measured spread stops the
    drawing there (benchmarks/bench_sampled.py: 3-4 draws at N ≥ M), and the smaller N's extra
    draws cost a fraction of one (Σ_N N³ over N ≤ N_max/2 is an eighth of N_max³ per draw). Else
    ``n_draws`` draws. With ``n_inputs`` (the spread correction) a draw also holds the features
    at the inputs and their projections (2·n_inputs·N_max floats) and costs Σ_N 2·n_inputs·N²
    flops more.
    """
    n_max = int(max(n_features))
    parameter = "'n_features'" if spec.teacher.is_linear else "'teacher_width', 'n_features'"
    draws = n_draws if min_draws is None else min(int(min_draws), n_draws)
    count = f"{n_draws}" if draws == n_draws else f"{draws} to {n_draws}"
    what = f"The sampled two-level theory over {count} draw(s) at n_features = {n_max:,}"
    check_memory(
        reference_bytes(spec, n_max) + spread_bytes(n_max, n_inputs),
        what=what,
        parameter=parameter + " or 'n_inputs'" if n_inputs else parameter,
        max_memory=max_memory,
    )
    seconds = n_max * n_max * _entry_seconds(spec.activation)
    seconds += sum(_eigh_seconds(n) + n_inputs * n * n * _SPREAD_FLOP_SECONDS for n in n_features)
    if not spec.teacher.is_linear:
        seconds += (
            n_max * _teacher_width(spec) * _cross_seconds(spec.activation, spec.teacher.activation)
        )
    _check_time(seconds * draws, what, parameter + " or 'n_draws'", allow_slow)


#: Seconds per flop of the spread correction's projections (a BLAS-3 product; a conservative
#: 1 GFLOP/s per thread, measured 3-10 GFLOP/s here).
_SPREAD_FLOP_SECONDS = 2.0 / 1e9


def spread_bytes(n_max: int, n_inputs: int) -> float:
    """Peak bytes of the spread correction: the features at the inputs, their projections and
    the squared projections (3·n_inputs·N_max floats)."""
    return 3.0 * 8.0 * float(n_inputs) * float(n_max)


def check_spread(n_max: int, n_inputs: int, *, max_memory=None) -> None:
    """Refuse a spread correction whose inputs' features cannot fit (one-level theory)."""
    if n_inputs:
        check_memory(
            spread_bytes(n_max, n_inputs),
            what=f"The spread correction's {n_inputs:,} inputs at n_features = {n_max:,}",
            parameter="'n_inputs'",
            max_memory=max_memory,
        )


def check_pool_reference(
    activation, n_pool: int, n_dims: int, n_ref: int, n_outputs: int, *, max_memory=None,
    allow_slow: bool = False,
) -> None:  # fmt: skip
    """Refuse a real-data reference kernel (``bridges.realdata.pool_kernel_spectrum``)
    that cannot fit or would take too long: an n×n matrix with n = min(n_pool, N_ref)."""
    n = float(min(n_pool, n_ref))
    peak = 4 * n * n + float(n_ref) * (n_dims + n_outputs) + 4096.0 * n_ref * 2
    if n_pool < n_ref:
        peak += 2 * float(n_pool) * n_ref  # the pool's features F
    parameter = "'n_reference' (or 'n_features', which its default follows)"
    what = f"The reference kernel of {n_ref:,} features on {n_pool:,} pool samples"
    check_memory(_BYTES * peak, what=what, parameter=parameter, max_memory=max_memory)
    _check_time(_eigh_seconds(n), what, parameter, allow_slow)


def check_pool_sample(
    n_pool: int, n_dims: int, n_features, n_outputs: int, n_seeds: int, n_points: int = 1, *,
    max_memory=None, allow_slow: bool = False,
) -> None:  # fmt: skip
    """Refuse the finite-pool real-data theory (``bridges.pool_theory``) that cannot fit or
    would take too long: per seed the pool's features in row chunks, one Gram of side
    min(n_pool, N_max) with its eigenvectors, one eigendecomposition per N, and per N the
    leave-one-out pass over the pool at ``n_points`` (P, γ) points."""
    n_max = float(max(n_features))
    side = min(float(n_pool), n_max)
    peak = 3 * side * side + n_max * (n_dims + n_outputs) + 4096.0 * n_max
    peak += 4096.0 * n_points * n_outputs  # one chunk of the leave-one-out fits
    if n_pool < n_max:
        peak += float(n_pool) * n_max  # the pool's features F, whole
    parameter = "'n_features'"
    what = f"The finite-pool theory of up to {int(n_max):,} features on {n_pool:,} pool samples"
    check_memory(_BYTES * peak, what=what, parameter=parameter, max_memory=max_memory)
    gram = float(n_pool) * n_max * (n_dims + side) * 2.0 / FLOP_RATE
    eighs = sum(_eigh_seconds(min(float(n), float(n_pool))) for n in n_features)
    loo = sum(
        2.0 * n_pool * min(float(n), float(n_pool)) * (n_dims + n + n_points * (n_outputs + 1))
        for n in n_features
    ) / FLOP_RATE
    _check_time(n_seeds * (gram + eighs + loo), what, parameter, allow_slow)
