r"""Theory for any activation and teacher: kernels drawn on the sampling side, solved on the
theory side.

This module is the one bridge between the two sides: it draws feature weights with the same
streams as :func:`scalinglaws.sampling.simulate.simulate`, computes the exact Gaussian second
moments of the features (:func:`scalinglaws.sampling.features.feature_moments`, no data
samples), and hands the arrays to :mod:`scalinglaws.theory.nonlinear`. Neither side imports the
other.

Before any large array is allocated, the peak memory (the N×N or N_ref×N_ref kernels, their
eigenvectors and workspace, and the random-feature teacher's arrays) is estimated and checked
(:func:`scalinglaws._memory.check_memory`), and so is the time of the kernels and of the
O(N³) eigendecompositions (:mod:`._cost`): work estimated above ten minutes is refused unless
``allow_slow``.

=========  =====================  ==============================================
symbol     name                   meaning
=========  =====================  ==============================================
N          ``n_features``         number of random features
P          ``n_samples``          number of training samples
γ          ``ridge``              ridge on the sum of squared errors
N_ref      ``n_reference``        size of the reference draw (two levels)
D          ``n_draws``            draws of the features of the sampled route (two levels; the
                                  most, with ``draw_rtol`` the standard error that stops them)
K          ``width``              random-feature teacher's number of features
=========  =====================  ==============================================
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING

import numpy as np

from .._validation import (
    InputError,
    check_choice,
    check_nonnegative_float,
    check_positive_int,
    rewarn,
)
from ..model.spec import ModelSpec
from ..model.streams import Stream, as_seed_sequence, child_sequence
from ..results import Grid, build_dataset, summarize
from ..sampling.features import (
    cross_kernel,
    draw_projection,
    feature_moments,
    random_features,
    tiled_kernel,
)
from ..sampling.latent import TeacherDraw, sample_latent, sample_teacher, teacher_output
from ..sampling.tiles import PaddedRows, tile_size
from ..theory import _cost
from ..theory.hermite import evaluate_hermite, hermite_spectrum, hermite_sums
from ..theory.loss import evaluate_grid
from ..theory.nonlinear import evaluate_two_level, kernel_spectrum, one_level_loss, two_level_sums

if TYPE_CHECKING:  # xarray loads where a Dataset is built (it costs 0.4 s at start-up)
    import xarray as xr

__all__ = [
    "predict_grid",
    "one_level_theory",
    "two_level_theory",
    "reference_spectrum",
    "default_reference",
    "DEFAULT_DRAWS",
    "DEFAULT_DRAW_RTOL",
    "MIN_DRAWS",
    "LEVELS",
    "ROUTES",
    "HERMITE_MIN_RANK",
    "resolve_route",
]

#: Choices of :func:`predict_grid`'s ``level``.
LEVELS = ("auto", "exact", "one", "two")
#: Choices of the two-level theory's ``route`` (docs/nonlinear-theory.md).
ROUTES = ("auto", "hermite", "sampled", "reference")
#: ``route="auto"`` takes the Hermite route when the data's effective rank (tr Λ)²/tr Λ² is at
#: least this (the pre-activation variance then spreads by at most sqrt(2/100) = 14 %), where it
#: is measured to match the isotropic proportional limit; below, the sampled route.
HERMITE_MIN_RANK = 100.0
#: Draws of the features of the sampled route when ``n_draws`` is not given
#: (docs/nonlinear-theory.md: the draw-to-draw spread it leaves).
DEFAULT_DRAWS = 8
#: The sampled route stops drawing for an N once every cell's standard error over the draws is
#: at most this fraction of its mean excess (``draw_rtol``; 0: always ``n_draws`` draws).
DEFAULT_DRAW_RTOL = 0.01
#: Draws made at every N before the standard error may stop the drawing (fewer only when
#: ``n_draws`` is smaller): an error estimated from two draws is too noisy to trust.
MIN_DRAWS = 3
#: Monte-Carlo inputs per draw for the spread of the features' quadratic forms on the sampled
#: route (``n_inputs``; 0: the Gaussian data side). Its Monte-Carlo error enters the spread over
#: the draws, so ``excess_sem`` includes it (docs/nonlinear-theory.md).
DEFAULT_INPUTS = 4096
#: Fewer inputs than this would leave the spread's Monte-Carlo error above a few per cent.
MIN_INPUTS = 256


def default_reference(n_max: int) -> int:
    """The default N_ref: ``max(4 · max N, 1000)``."""
    return max(4 * int(n_max), 1000)


def _check_reference(n_reference, n_max: int) -> int:
    if n_reference is None:
        return default_reference(n_max)
    return _cost.check_reference("n_reference", n_reference, n_max)


def one_level_theory(
    spec: ModelSpec,
    *,
    n_features,
    n_samples,
    ridges=(0.0,),
    n_seeds: int = 1,
    seeds=None,
    rng=0,
    n_inputs: int = 0,
    max_memory=None,
    allow_slow: bool = False,
    progress=None,
) -> xr.Dataset:
    r"""One-level theory for the very draws of U and of the teacher that ``simulate`` uses.

    For seed *s* (same streams as :func:`~scalinglaws.sampling.simulate.simulate` with the same
    ``rng``)
    it computes K and b exactly for the first N features and evaluates
    :func:`~scalinglaws.theory.nonlinear.one_level_loss` in P and γ; only the P training samples
    are averaged over. Returns a Dataset laid out like ``simulate``'s (``test_mse``, ``excess``
    over (n_features, n_samples, ridge, seed), with seed means and standard errors).

    ``n_inputs`` = 0 (default) is the Gaussian data side, the *Gaussian-equivalence ceiling* of
    docs/nonlinear-theory.md; ``n_inputs`` ≥ 256 adds the spread of the features' quadratic
    forms from that many Monte-Carlo inputs per seed (:mod:`~scalinglaws.theory.spread`; stream
    ``child_sequence(seed's sequence, Stream.SPREAD)``, never the simulation's inputs).

    The peak memory (one seed's N×N kernel, eigenvectors and workspace, the teacher's arrays) is
    checked against ``max_memory`` (default: available now) and the time of the kernels and
    eigendecompositions against ten minutes (unless ``allow_slow``) before any work;
    ``progress(done, total)`` is called after each (seed, N).

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0), activation='relu')
    >>> th = one_level_theory(spec, n_features=[20, 40], n_samples=[200], ridges=[1e-3], n_seeds=2)
    >>> th.excess.dims
    ('n_features', 'n_samples', 'ridge', 'seed')
    """
    grid = Grid(
        n_features=n_features, n_samples=n_samples, ridges=ridges, n_seeds=n_seeds, seeds=seeds
    )
    nf, ns, rg = grid.n_features, np.array(grid.n_samples, dtype=float), grid.ridge_array
    seed_list = list(grid.seeds)
    n_inputs = _check_inputs(n_inputs, None)
    _cost.check_one_level(spec, nf, len(seed_list), max_memory=max_memory, allow_slow=allow_slow)
    _cost.check_spread(int(nf[-1]), n_inputs, max_memory=max_memory)
    root = as_seed_sequence(rng)
    eig = spec.spectrum.eigenvalues

    def draws():
        for s in seed_list:
            seq = child_sequence(root, s)
            teacher = sample_teacher(spec, child_sequence(seq, Stream.TEACHER))
            u = draw_projection(spec, nf[-1], child_sequence(seq, Stream.FEATURES))
            moments = feature_moments(u, eig, teacher, spec.activation)
            inputs = None
            if n_inputs:
                x = sample_latent(spec.spectrum, n_inputs, child_sequence(seq, Stream.SPREAD))
                inputs = (random_features(x, u, spec.activation), teacher_output(x, teacher))
            yield moments.kernel, moments.target_cov, moments.target_var, inputs

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        test_mse = _draw_losses(spec, nf, ns, rg, draws(), len(seed_list), progress)["test_mse"]
    rewarn(caught, f"over {len(seed_list)} draw(s) of the features")
    ds = build_dataset(
        {"test_mse": test_mse, "excess": test_mse - spec.noise_var},
        grid=grid,
        source="one-level Gaussian equivalence",
        spec=spec,
        seeded=True,
        rng=root,
    )
    with np.errstate(invalid="ignore"):  # a pole's inf gives a NaN spread; it was warned about
        return summarize(ds)


def reference_spectrum(
    spec: ModelSpec, n_reference: int, rng=0, *, max_memory=None, allow_slow: bool = False
):
    r"""Kernel spectrum of a reference draw of ``n_reference`` features, averaged over the teacher.

    Linear teacher: :math:`E_w[bb^\top] = HH^\top` with
    :math:`H = D U\Lambda\,\mathrm{diag}(\bar w)`, :math:`D = \mathrm{diag}(E[\sigma'(h_j)])`.
    Random-feature teacher (one reference draw of V): :math:`H = \sqrt{\sigma_a^2/K}\,B` and
    :math:`E[f_*^2] = \frac{\sigma_a^2}{K}\sum_k E[\sigma_t(g_k)^2]`.

    The N_ref×N_ref kernel, its eigenvectors and the teacher's N_ref×K cross moments are
    estimated against ``max_memory`` (default: available now), and the kernel's and the
    eigendecomposition's time against ten minutes (unless ``allow_slow``), before any work.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0), activation='relu')
    >>> ref = reference_spectrum(spec, 200, rng=0)
    >>> type(ref).__name__
    'KernelSpectrum'
    """
    n_reference = check_positive_int("n_reference", n_reference)
    _cost.check_reference_work(spec, n_reference, max_memory=max_memory, allow_slow=allow_slow)
    seq = child_sequence(as_seed_sequence(rng), Stream.REFERENCE)
    return kernel_spectrum(*_averaged_moments(spec, n_reference, seq)[:3])


def _averaged_moments(spec: ModelSpec, n: int, seq, n_inputs: int = 0):
    r"""K, a factor H of :math:`E[bb^\top] = HH^\top` and :math:`E[f_*^2]` for one draw of n
    features (from ``child_sequence(seq, Stream.FEATURES)``), the teacher averaged over.

    Linear teacher: :math:`H = D U\Lambda\,\mathrm{diag}(\bar w)`,
    :math:`D = \mathrm{diag}(E[\sigma'(h_j)])`, exactly (the loss is linear in the teacher's
    second moments). Random-feature teacher (one draw of V, from
    ``child_sequence(seq, Stream.TEACHER)``; its readout averaged over):
    :math:`H = \sqrt{\sigma_a^2/K}\,B` and :math:`E[f_*^2] = \frac{\sigma_a^2}{K}\sum_k
    E[\sigma_t(g_k)^2]`. Draws are nested in n: the leading n' rows and block of a draw of n
    are those of a draw of n'.

    With ``n_inputs`` > 0 also returns the features φ(x_a) at that many inputs x_a ~ N(0, Λ)
    (stream ``child_sequence(seq, Stream.SPREAD)``) and the rows Y(x_a) with f_* = Y·ξ, b = Hξ
    (linear teacher: Y = x·diag(w̄); random-feature teacher: √(σ_a²/K) σ_t(Vx)), for the
    spread correction; else ``None``.
    """
    eig = spec.spectrum.eigenvalues
    t = tile_size(spec.latent_dim)
    rows = PaddedRows.zeros(n, spec.latent_dim, t)
    draw_projection(spec, n, child_sequence(seq, Stream.FEATURES), out=rows.data)
    scaled_rows = PaddedRows(rows.data * eig, n, t)
    tiles, diag = tiled_kernel(rows, scaled_rows, spec.activation)
    kernel = tiles.block(n, n)
    x = None
    if n_inputs:
        x = sample_latent(spec.spectrum, n_inputs, child_sequence(seq, Stream.SPREAD))
        phi = random_features(x, rows.values, spec.activation)
    del tiles, rows
    scaled, diag = scaled_rows.values, diag[:n]
    if spec.teacher.is_linear:
        wbar2 = spec.teacher_variances()
        factor = spec.activation.mean_slope(diag)[:, None] * scaled * np.sqrt(wbar2)
        target_var = float(np.sum(wbar2 * eig))
        rows_y = None if x is None else x * np.sqrt(wbar2)
    else:
        draw = sample_teacher(spec, child_sequence(seq, Stream.TEACHER))
        assert isinstance(draw, TeacherDraw)
        v, act_t = draw.projection, draw.activation
        t_diag = np.einsum("ki,i,ki->k", v, eig, v)
        factor = cross_kernel(spec.activation, act_t, diag, t_diag, scaled @ v.T)
        scale = spec.teacher.output_var / spec.teacher.width
        factor *= np.sqrt(scale)
        target_var = float(scale * np.sum(act_t.second_moment(t_diag)))
        rows_y = None if x is None else np.sqrt(scale) * act_t(x @ v.T)
    inputs = None if x is None else (phi, rows_y)
    return kernel, factor, target_var, inputs


def _check_draws(n_draws, route: str) -> int:
    """``n_draws`` as a positive int (default :data:`DEFAULT_DRAWS`) for the sampled route."""
    if n_draws is None:
        return DEFAULT_DRAWS
    if route != "sampled":
        raise InputError(
            "'n_draws' applies to the sampled route only (route 'sampled' or 'auto' where it "
            f"picks it). Got n_draws={n_draws!r} with route {route!r} instead."
        )
    try:
        return check_positive_int("n_draws", n_draws)
    except InputError:
        raise InputError(
            "'n_draws' must be a positive integer (the most draws of the features averaged over; "
            f"default {DEFAULT_DRAWS}, more with a smaller draw_rtol for a smaller Monte-Carlo "
            f"error). Got {n_draws!r} instead."
        ) from None


def _check_draw_rtol(draw_rtol, route: str) -> float:
    """``draw_rtol`` as a float >= 0 (default :data:`DEFAULT_DRAW_RTOL`) for the sampled route."""
    if draw_rtol is None:
        return DEFAULT_DRAW_RTOL
    if route != "sampled":
        raise InputError(
            "'draw_rtol' applies to the sampled route only (route 'sampled' or 'auto' where it "
            f"picks it). Got draw_rtol={draw_rtol!r} with route {route!r} instead."
        )
    try:
        return check_nonnegative_float("draw_rtol", draw_rtol)
    except InputError:
        raise InputError(
            "'draw_rtol' must be a finite number >= 0 (the standard error over the draws, as a "
            f"fraction of the mean, at which drawing stops; default {DEFAULT_DRAW_RTOL}, 0 for "
            f"always n_draws). Got {draw_rtol!r} instead."
        ) from None


def _converged(excess: np.ndarray, rtol: float) -> bool:
    """Whether every finite cell's standard error over the draws (last axis) is at most
    ``rtol`` times its mean; poles (inf) have no spread to wait for."""
    with np.errstate(invalid="ignore"):
        mean = np.mean(excess, axis=-1)
        sem = np.std(excess, axis=-1, ddof=1) / np.sqrt(excess.shape[-1])
    finite = np.isfinite(mean) & np.isfinite(sem)
    return bool(np.all(sem[finite] <= rtol * np.abs(mean[finite])))


def _spectrum(kernel, target, target_var, inputs, n: int):
    """:func:`kernel_spectrum` of the leading n block, with the first n features at the inputs."""
    if inputs is None:
        return kernel_spectrum(kernel[:n, :n], target[:n], target_var)
    phi, rows_y = inputs
    return kernel_spectrum(
        kernel[:n, :n], target[:n], target_var, inputs=phi[:, :n], input_target=rows_y
    )


def _check_inputs(n_inputs, route: str | None) -> int:
    """``n_inputs`` as an int >= 0 (default :data:`DEFAULT_INPUTS` on the sampled route)."""
    if n_inputs is None:
        return DEFAULT_INPUTS if route == "sampled" else 0
    if route not in ("sampled", None):
        raise InputError(
            "'n_inputs' applies to the sampled route only (route 'sampled' or 'auto' where it "
            f"picks it). Got n_inputs={n_inputs!r} with route {route!r} instead."
        )
    integer = isinstance(n_inputs, (int, np.integer)) and not isinstance(n_inputs, bool)
    if not integer or n_inputs < 0 or 0 < n_inputs < MIN_INPUTS:
        raise InputError(
            f"'n_inputs' must be 0 (Gaussian data side) or an integer >= {MIN_INPUTS} "
            "(Monte-Carlo inputs for the spread of the features' quadratic forms; default "
            f"{DEFAULT_INPUTS}). "
            f"Got {n_inputs!r} instead."
        )
    return int(n_inputs)


def _sampled_losses(
    spec: ModelSpec, nf, ns, rg, root, n_draws: int, rtol: float, progress, n_inputs: int = 0
):
    r"""The sampled route's means over the draws, ``excess_sem`` and the draws used per N.

    Draw d (stream ``child_sequence(root, Stream.SAMPLED, d)``) builds the kernel of the
    largest N still drawing (draws are nested in N: its leading blocks are the smaller N's), and
    each N still drawing gets its one-level loss. After :data:`MIN_DRAWS` draws (at most
    ``n_draws``), an N stops once :func:`_converged` at ``rtol`` (``rtol = 0``: never before
    ``n_draws``). Deterministic in ``root``; with ``rtol = 0`` exactly the fixed-count loop.
    """
    shape = (len(nf), ns.size, rg.size, n_draws)
    values = {"test_mse": np.empty(shape), "kappa": np.empty(shape)}
    used = np.zeros(len(nf), dtype=np.int64)
    active = np.ones(len(nf), dtype=bool)
    done, total = 0, n_draws * len(nf)
    for d in range(n_draws):
        rows = np.flatnonzero(active)
        if rows.size == 0:
            break
        seq = child_sequence(root, Stream.SAMPLED, d)
        kernel, target, target_var, inputs = _averaged_moments(
            spec, int(nf[rows[-1]]), seq, n_inputs
        )
        for i in rows:
            n = int(nf[i])
            ks = _spectrum(kernel, target, target_var, inputs, n)
            res = one_level_loss(ks, ns[:, None], rg[None, :], noise_var=spec.noise_var)
            values["test_mse"][i, :, :, d] = res.test_mse
            values["kappa"][i, :, :, d] = res.kappa
            used[i] = d + 1
            done += 1
            if progress is not None:
                progress(done, total)
        del kernel, target, inputs
        if rtol > 0 and d + 1 >= min(MIN_DRAWS, n_draws):
            for i in rows:
                if _converged(values["test_mse"][i, :, :, : d + 1] - spec.noise_var, rtol):
                    active[i] = False
                    done += n_draws - (d + 1)  # the draws it will not need
            if progress is not None:
                progress(done, total)
    means = {name: np.empty(shape[:-1]) for name in ("test_mse", "excess", "kappa")}
    sem = np.full(shape[:-1], np.nan)
    for i, k in enumerate(used):
        test_mse = values["test_mse"][i, :, :, :k]
        excess = test_mse - spec.noise_var
        means["test_mse"][i] = np.mean(test_mse, axis=-1)
        means["excess"][i] = np.mean(excess, axis=-1)
        means["kappa"][i] = np.mean(values["kappa"][i, :, :, :k], axis=-1)
        if k > 1:  # a pole's inf (warned about) has no spread: its standard error is NaN
            with np.errstate(invalid="ignore"):
                sem[i] = np.std(excess, axis=-1, ddof=1) / np.sqrt(k)
    return means, sem, used


def _draw_losses(spec: ModelSpec, nf, ns, rg, draws, n_draws: int, progress) -> dict:
    r"""The one-level loss of each draw on the grid: the machinery of both one-level uses.

    ``draws`` yields ``(K, target, E[f_*^2], inputs)`` for N_max features (``target`` b, or a
    factor H of E[bbᵀ]; ``inputs`` None or the spread correction's (φ(x_a), f_*(x_a)));
    for each N the leading N×N block and N rows are decomposed
    (:func:`~scalinglaws.theory.nonlinear.kernel_spectrum`) and
    :func:`~scalinglaws.theory.nonlinear.one_level_loss` is evaluated in P and γ. Returns
    ``test_mse`` and ``kappa`` of shape (len(N), len(P), len(γ), n_draws);
    ``progress(done, total)`` after each (draw, N).
    """
    shape = (len(nf), ns.size, rg.size, n_draws)
    out = {"test_mse": np.empty(shape), "kappa": np.empty(shape)}
    done, total = 0, n_draws * len(nf)
    for k, (kernel, target, target_var, inputs) in enumerate(draws):
        for i, n in enumerate(nf):
            ks = _spectrum(kernel, target, target_var, inputs, int(n))
            res = one_level_loss(ks, ns[:, None], rg[None, :], noise_var=spec.noise_var)
            out["test_mse"][i, :, :, k] = res.test_mse
            out["kappa"][i, :, :, k] = res.kappa
            done += 1
            if progress is not None:
                progress(done, total)
    return out


def resolve_route(spec: ModelSpec, route: str = "auto", n_reference: int | None = None) -> str:
    """The two-level route for ``spec``: ``"hermite"``, ``"sampled"`` or ``"reference"``.

    ``"auto"``: the reference draw when ``n_reference`` is given; else the Hermite route for a
    linear teacher on data of effective rank (tr Λ)²/tr Λ² at least :data:`HERMITE_MIN_RANK`;
    else the sampled route (low effective rank, such as power laws, or a random-feature
    teacher, which the Hermite route does not carry).
    """
    route = check_choice("route", route, ROUTES)
    if n_reference is not None and route in ("hermite", "sampled"):
        raise InputError(
            "'n_reference' applies to the reference route only (route 'reference' or "
            f"'auto'). Got n_reference={n_reference!r} with route {route!r} instead."
        )
    if route == "hermite" and not spec.teacher.is_linear:
        raise InputError(
            "'route' must be 'sampled', 'reference' or 'auto' for a random-feature teacher: the "
            "Hermite route carries linear teachers only. Got 'hermite' instead."
        )
    if route != "auto":
        return route
    if n_reference is not None:
        return "reference"
    if not spec.teacher.is_linear:
        return "sampled"
    lam = np.asarray(spec.spectrum.eigenvalues, dtype=np.float64)
    rank = float(lam.sum()) ** 2 / float(lam @ lam)
    return "hermite" if rank >= HERMITE_MIN_RANK else "sampled"


def two_level_theory(
    spec: ModelSpec,
    *,
    n_features,
    n_samples,
    ridges=(0.0,),
    route: str = "auto",
    n_reference: int | None = None,
    n_draws: int | None = None,
    draw_rtol: float | None = None,
    n_inputs: int | None = None,
    rng=0,
    max_memory=None,
    allow_slow: bool = False,
    progress=None,
) -> xr.Dataset:
    r"""Two-level theory (averaged over U and the teacher) on a grid of N × P × γ.

    Three routes to the average over the feature weights U (docs/nonlinear-theory.md):

    - ``"hermite"``: the features' second-moment operator from the activation's Hermite
      expansion (:func:`~scalinglaws.theory.hermite.hermite_spectrum`), no draw; exact in the
      isotropic proportional limit; linear teachers only;
    - ``"sampled"``: the one-level theory (exact feature moments K, b of a draw, Gaussian
      equivalence on the data side only) averaged over ``n_draws`` independent draws of U
      (default :data:`DEFAULT_DRAWS`), and of V for a random-feature teacher, from the
      stream ``child_sequence(rng, Stream.SAMPLED, d)``; a linear teacher's w (and a
      random-feature teacher's readout) is averaged over exactly, since the one-level loss is
      linear in the teacher's second moments:

      .. math:: \text{test\_mse}(N, P, \gamma) = \frac1D \sum_{d=1}^{D}
                \mathcal{E}_1\big(K^{(d)}_{1:N,1:N},\, H^{(d)}_{1:N},\, P, \gamma\big)

      with ``excess_sem`` the standard error over the D draws; any teacher. D is adaptive
      per N: after :data:`MIN_DRAWS` draws an N stops drawing once every cell's standard
      error is at most ``draw_rtol`` (default :data:`DEFAULT_DRAW_RTOL`) of its mean excess,
      else at ``n_draws`` (``draw_rtol=0``: ``n_draws`` draws everywhere); the spread shrinks
      as N grows, so the costly large N stop first. Costs O(Σ_N D_N N³) (each draw one kernel
      of the largest N still drawing, its leading blocks for the smaller N). Each draw's
      one-level loss takes the spread of the features' quadratic forms into account from
      ``n_inputs`` Monte-Carlo inputs (default :data:`DEFAULT_INPUTS`; 0: the Gaussian data
      side; :mod:`~scalinglaws.theory.spread`), at O(n_inputs·N²) more per (draw, N);
    - ``"reference"``: the spectrum of a reference draw of ``n_reference`` features
      (:func:`reference_spectrum`, default ``max(4 * max(n_features), 1000)``, at least max N),
      biased where N exceeds the latent dimension by a few (the draw packs the kernel's part
      nonlinear in x into too few directions); any teacher.

    ``"auto"`` picks (:func:`resolve_route`). The Hermite and reference routes run
    :func:`~scalinglaws.theory.nonlinear.two_level_loss`'s §5 algebra on the grid in chunks,
    the sampled route one kernel per (draw, N) (``progress(done, total)`` either way). Returns a
    Dataset with ``test_mse``, ``excess``, ``kappa`` of dims (n_features, n_samples, ridge)
    (the sampled route: their means over the draws, κ the one-level renormalized ridge, and
    ``excess_sem``); ``attrs["route"]`` says which route, ``attrs["n_draws"]`` how many
    draws (an int, or a list over ``n_features`` where it varies; ``attrs["max_draws"]`` and
    ``attrs["draw_rtol"]`` the limits it drew under).
    Poles (γ = 0 at P = rank K) are ``inf`` with one
    :class:`~scalinglaws._validation.NumericalWarning` saying how often they came.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.from_eigenvalues([1.0] * 200), activation="tanh")
    >>> ds = two_level_theory(spec, n_features=[400], n_samples=[800], ridges=[1.6])
    >>> ds.attrs["route"], round(float(ds.excess.squeeze()), 3)  # the isotropic limit: 0.117
    ('hermite', 0.117)
    """
    grid = Grid(n_features=n_features, n_samples=n_samples, ridges=ridges)
    nf = np.array(grid.n_features, dtype=float)
    ns = np.array(grid.n_samples, dtype=float)
    rg = grid.ridge_array
    route = resolve_route(spec, route, n_reference)
    draws = _check_draws(n_draws, route)
    rtol = _check_draw_rtol(draw_rtol, route)
    n_inputs = _check_inputs(n_inputs, route)
    if route == "sampled":
        _cost.check_sampled(
            spec, grid.n_features, draws, max_memory=max_memory, allow_slow=allow_slow,
            min_draws=MIN_DRAWS if rtol > 0 else None, n_inputs=n_inputs,
        )  # fmt: skip
        root = as_seed_sequence(rng)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            means, sem, used = _sampled_losses(
                spec, grid.n_features, ns, rg, root, draws, rtol, progress, n_inputs
            )
        rewarn(caught, f"over {int(used.max())} draw(s) of the features")
        n_used = int(used[0]) if np.all(used == used[0]) else [int(u) for u in used]
        return build_dataset(
            {**means, "excess_sem": sem},
            grid=grid,
            source="two-level Gaussian equivalence (sampled draws of the features)",
            spec=spec,
            rng=root,
            attrs={
                "route": route,
                "n_draws": n_used,
                "max_draws": draws,
                "draw_rtol": rtol,
                "n_inputs": n_inputs,
            },
        )
    if route == "hermite":
        hs = hermite_spectrum(spec)
        sums = hermite_sums(hs)
        attrs = {"route": route, "residual_var": hs.residual_var, "white_var": hs.white_var}

        def core(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict:
            return evaluate_hermite(sums, hs, a, b, c, spec.noise_var)

    else:
        n_ref = _check_reference(n_reference, int(nf[-1]))
        reference = reference_spectrum(
            spec, n_ref, rng, max_memory=max_memory, allow_slow=allow_slow
        )
        sums = two_level_sums(reference)
        attrs = {"route": route, "n_reference": n_ref, "residual_var": reference.residual_var}

        def core(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict:
            return evaluate_two_level(sums, reference, a, b, c, spec.noise_var)

    names = ("test_mse", "excess", "kappa")
    values = evaluate_grid(
        core,
        nf,
        ns,
        rg,
        progress=progress,
        allow_slow=allow_slow,
        max_memory=max_memory,
        what="The two-level theory grid",
        names=names,
    )
    return build_dataset(
        {name: values[name] for name in names},
        grid=grid,
        source="two-level Gaussian equivalence",
        spec=spec,
        rng=as_seed_sequence(rng),
        attrs=attrs,
    )


def predict_grid(
    spec: ModelSpec,
    *,
    n_features,
    n_samples,
    ridges=(0.0,),
    level: str = "auto",
    n_seeds: int = 8,
    n_reference: int | None = None,
    route: str = "auto",
    n_draws: int | None = None,
    draw_rtol: float | None = None,
    n_inputs: int | None = None,
    rng=0,
    max_memory=None,
    allow_slow: bool = False,
    progress=None,
) -> xr.Dataset:
    """The theory's test loss for any spec on a grid of N × P × γ (dims as ``theory_grid``).

    ``level``: ``"exact"`` is §5 (linear features and a linear teacher only); ``"two"`` the
    two-level Gaussian equivalence; ``"one"`` the one-level theory averaged over ``n_seeds`` draws
    of the features (``kappa`` is then NaN); ``"auto"`` picks ``"exact"`` where it applies and
    ``"two"`` otherwise. Data variables ``test_mse``, ``excess``, ``kappa``; ``attrs["level"]``.
    ``route``, ``n_draws`` and ``draw_rtol`` (``"two"`` only): the two-level theory's route and
    the sampled route's most draws and its stopping error, see :func:`two_level_theory`;
    ``n_inputs`` (``"two"`` on the sampled route, or ``"one"``) the spread correction's inputs.
    ``max_memory``, ``allow_slow`` and ``progress(done, total)`` as in :func:`two_level_theory`
    (work estimated above its memory limit, or above an hour for a grid, ten minutes for the
    kernels and eigendecompositions, is refused before it starts).

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0), activation='relu')
    >>> pred = predict_grid(spec, n_features=[20, 40], n_samples=[200], ridges=[1e-3], n_seeds=2)
    >>> pred.excess.dims
    ('n_features', 'n_samples', 'ridge')
    """
    from ..theory._sums import spectral_sums
    from ..theory.loss import check_linear_spec
    from ..theory.loss import evaluate_points as _points

    level = check_choice("level", level, LEVELS)
    linear = spec.is_linear and spec.teacher.is_linear
    if level == "auto":
        level = "exact" if linear else "two"
    if n_reference is not None and level != "two":
        raise InputError(
            "'n_reference' applies to the two-level theory only (level 'two'). "
            f"Got n_reference={n_reference!r} with level {level!r} instead."
        )
    if route != "auto" and level != "two":
        raise InputError(
            "'route' applies to the two-level theory only (level 'two'). "
            f"Got route={route!r} with level {level!r} instead."
        )
    for name, value in (("n_draws", n_draws), ("draw_rtol", draw_rtol)):
        if value is not None and level != "two":
            raise InputError(
                f"'{name}' applies to the two-level theory's sampled route only (level 'two'; "
                f"level 'one' takes n_seeds). Got {name}={value!r} with level {level!r} instead."
            )
    if n_inputs is not None and level == "exact":
        raise InputError(
            "'n_inputs' applies to the one- and two-level theories only (levels 'one', 'two'). "
            f"Got n_inputs={n_inputs!r} with level {level!r} instead."
        )
    grid = dict(n_features=n_features, n_samples=n_samples, ridges=ridges)
    common = dict(max_memory=max_memory, allow_slow=allow_slow, progress=progress)
    if level == "exact":
        spec = check_linear_spec(spec)
        cells = Grid(n_features=n_features, n_samples=n_samples, ridges=ridges)
        nf = np.array(cells.n_features, dtype=np.float64)
        ns = np.array(cells.n_samples, dtype=np.float64)
        sums = spectral_sums(spec)
        names = ("test_mse", "excess", "kappa")
        values = evaluate_grid(
            lambda a, b, c: _points(sums, spec, a, b, c), nf, ns, cells.ridge_array, names=names,
            **common,
        )  # fmt: skip
        ds = build_dataset(values, grid=cells, source="deterministic equivalent", spec=spec)
    elif level == "two":
        ds = two_level_theory(
            spec, **grid, route=route, n_reference=n_reference, n_draws=n_draws,
            draw_rtol=draw_rtol, n_inputs=n_inputs, rng=rng,
            **common,
        )  # fmt: skip
    else:
        one = one_level_theory(
            spec, **grid, n_seeds=n_seeds, rng=rng, n_inputs=n_inputs or 0, **common
        )
        ds = one[["test_mse_mean", "excess_mean"]].rename(
            test_mse_mean="test_mse", excess_mean="excess"
        )
        ds["kappa"] = ds.excess.copy(data=np.full(ds.excess.shape, np.nan))
    return ds.assign_attrs(level=level)
