r"""Deterministic-equivalent test loss of linear random-feature ridge regression (docs/model.md §5).

With :math:`\tilde\gamma = \gamma M / (\sigma_u^2 N P)`, κ > 0 solves

.. math::

    \kappa \Big(1 - \frac{\mathrm{df}_1(\kappa)}{N}\Big)
    \Big(1 - \frac{\mathrm{df}_1(\kappa)}{P}\Big) = \tilde\gamma,
    \qquad \mathrm{df}_1(\kappa) < \min(N, P),

then :math:`d = (N - \mathrm{df}_1)/(N - \mathrm{df}_2)`,
:math:`g = [\mathrm{df}_1 - d(\mathrm{df}_1 - \mathrm{df}_2)]/P` and

.. math::

    \text{test\_mse} = \frac{\kappa^2\,\mathrm{tf}_2\, d + \kappa\,\mathrm{tf}_1 (1-d)
    + \sigma_\varepsilon^2}{1 - g}, \qquad \text{excess} = \text{test\_mse} - \sigma_\varepsilon^2 .

Numerics (:mod:`._scaled`): everything is computed in scaled units (κ/λ₊, the teacher's shares
of σ_w², γ̃/λ₊ formed in log space) and the scales are applied in log space at the end, so the
loss is right over the whole float64 range of λ₊, σ_w², σ_u², σ_ε² and γ; a value float64 truly
cannot hold (e.g. λ₊σ_w² > 1.8e308) is ``inf`` with a
:class:`~scalinglaws._validation.NumericalWarning`. The root is bracketed in log κ between
:math:`\max(\kappa_0, \tilde\gamma)` (κ₀ the ridgeless solution of df₁(κ₀) = min(N, P), 0 when
min(N, P) ≥ M) and :math:`\tilde\gamma + \mathrm{tr}\Lambda/N + \mathrm{tr}\Lambda/P`, and found by
a vectorized Chandrupatla iteration to about 1e-14 relative. γ = 0 uses κ₀ and df₁ = min(N, P)
exactly; the double-descent pole (γ = 0, N = P < M; or γ = 0, P = M ≤ N with noise) returns
``inf`` with a warning.

==========  ====================  ==============================================
symbol      name                  meaning
==========  ====================  ==============================================
N           ``n_features``        number of random features
P           ``n_samples``         number of training samples (paper: T)
M           ``latent_dim``        latent dimension
γ           ``ridge``             ridge on the sum of squared errors
γ̃           ``normalized_ridge``  γ M / (σ_u² N P)
κ           ``kappa``             renormalized ridge (effective regularization)
df₁, df₂    ``df1``, ``df2``      spectral degrees of freedom at κ
tf₁, tf₂    ``tf1``, ``tf2``      teacher-weighted sums at κ
σ_ε²        ``noise_var``         label-noise variance
σ_u²        ``feature_var``       feature-weight variance
==========  ====================  ==============================================
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, fields
from typing import TYPE_CHECKING

import numpy as np

from .._memory import check_memory
from .._validation import (
    InputError,
    check_choice,
    warn_numerical,
)
from ..model.spec import ModelSpec
from ..results import Grid, build_dataset
from . import _scaled
from ._grid import GRID_BYTES_PER_POINT, Progress, run_in_chunks
from ._sums import SpectralSums, spectral_sums

if TYPE_CHECKING:  # xarray loads where a Dataset is built (it costs 0.4 s at start-up)
    import xarray as xr

__all__ = ["TheoryResult", "theory_loss", "theory_grid", "ridgeless_kappa", "METHODS"]

#: Choices for ``method``: exact O(M) sums, compressed O(log M) sums, or pick by M.
METHODS = ("auto", "exact", "compressed")
#: The fields of :class:`TheoryResult` computed by the theory (the rest are its inputs).
OUTPUTS = ("normalized_ridge", "kappa", "df1", "df2", "tf1", "tf2", "d", "g", "test_mse", "excess")


@dataclass(frozen=True)
class TheoryResult:
    """The deterministic equivalent at broadcast points; every field has the broadcast shape.

    Fields: ``n_features`` (N), ``n_samples`` (P), ``ridge`` (γ), ``normalized_ridge`` (γ̃),
    ``kappa`` (κ), ``df1``, ``df2``, ``tf1``, ``tf2``, ``d``, ``g``, ``test_mse`` (noise included)
    and ``excess`` (= test_mse − σ_ε²). See ``docs/model.md`` §5.
    """

    n_features: np.ndarray
    n_samples: np.ndarray
    ridge: np.ndarray
    normalized_ridge: np.ndarray
    kappa: np.ndarray
    df1: np.ndarray
    df2: np.ndarray
    tf1: np.ndarray
    tf2: np.ndarray
    d: np.ndarray
    g: np.ndarray
    test_mse: np.ndarray
    excess: np.ndarray

    def as_dict(self) -> dict[str, np.ndarray]:
        """The fields as a dict of arrays."""
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def to_dataset(self):
        """The arrays as variables along ``point``, the scalars as attributes."""
        from ..results import fields_dataset

        return fields_dataset(self, dim="point", source="deterministic equivalent")


def _as_points(name: str, value: object, *, allow_zero: bool) -> np.ndarray:
    """Float array of finite numbers > 0 (>= 0 if ``allow_zero``); one-line error otherwise."""
    if type(value) is float or type(value) is int:  # a plain number: the checks on one float
        x = float(value)
        if math.isfinite(x) and (x >= 0 if allow_zero else x > 0):
            return np.array(x)
    expectation = "finite numbers >= 0" if allow_zero else "finite numbers > 0"
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise InputError(f"'{name}' must be {expectation}. Got {value!r:.60} instead.") from None
    ok = np.isfinite(arr) & ((arr >= 0) if allow_zero else (arr > 0))
    if arr.size == 0 or not ok.all():
        bad = arr[~ok].ravel()[0] if arr.size else value
        bad = bad.item() if isinstance(bad, np.generic) else bad
        raise InputError(f"'{name}' must be {expectation}. Got {bad!r} instead.")
    return arr


def check_linear_spec(spec: object) -> ModelSpec:
    """Return ``spec`` if it is a :class:`ModelSpec` with linear features."""
    if not isinstance(spec, ModelSpec):
        raise TypeError(f"'spec' must be a ModelSpec. Got {type(spec).__name__} instead.")
    if not spec.is_linear:
        raise InputError(
            "'spec' must have a linear activation (the theory solves linear random features). "
            f"Got {spec.activation.name!r} instead; scalinglaws.bridges covers the others."
        )
    if not spec.teacher.is_linear:
        raise InputError(
            "'teacher' must be linear in x for the theory of docs/model.md §5. Got a "
            f"{spec.teacher.describe()} instead; scalinglaws.bridges.equivalence covers it."
        )
    return spec


def ridgeless_kappa(sums: SpectralSums, n: np.ndarray) -> np.ndarray:
    r"""κ₀ with :math:`\mathrm{df}_1(\kappa_0) = n` for n < M, and 0 for n ≥ M; shape of ``n``.

    Solved in scaled units (:func:`._scaled.ridgeless_log_kappa`): bracket in log κ̂ between
    :math:`\ell_{\lceil 2n\rceil}` (or :math:`\ell_M (M-n)/(2M)` if 2n > M) and
    :math:`\sum\ell/n`.

    Examples
    --------
    >>> import numpy as np
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> from scalinglaws.theory import spectral_sums
    >>> sums = spectral_sums(ModelSpec(spectrum=Spectrum.power_law(latent_dim=1000, alpha=1.0)))
    >>> kappa = ridgeless_kappa(sums, np.array([10.0, 100.0]))
    >>> bool(kappa[0] > kappa[1] > 0)
    True
    """
    t0 = _scaled.ridgeless_log_kappa(sums, np.asarray(n, dtype=np.float64))
    with np.errstate(over="ignore"):
        kappa = np.exp(t0 + sums.log_lambda_plus)
    if np.any(np.isinf(kappa)):
        warn_numerical(
            "kappa exceeds the float64 range (1.8e308): returning inf. Rescale lambda_plus.",
        )
    return kappa


def _check_points_memory(n_points: int, max_memory, what: str) -> None:
    if max_memory is None and n_points <= 1024:
        return  # what check_memory decides for estimates this small, without formatting `what`
    check_memory(
        n_points * GRID_BYTES_PER_POINT + 64 * 2**20,
        what=f"{what} of {n_points:,} points",
        parameter="'n_features', 'n_samples' or 'ridge' (the number of points)",
        max_memory=max_memory,
    )


def evaluate_points(sums: SpectralSums, spec: ModelSpec, nf, ns, ridge) -> dict:
    """:func:`._scaled.evaluate` at flat points with ridges in the model's units (no warning)."""
    if nf.size == 1:  # a lone point: γ̂ on floats (numpy's per-call cost dominates there)
        one = _scaled.log_normalized_ridge_one(
            sums, float(ridge[0]), spec.feature_var, float(nf[0]), float(ns[0])
        )
        log_gh = np.array([one])
    else:
        log_gh = _scaled.log_normalized_ridge(sums, ridge, spec.feature_var, nf, ns)
    return _scaled.evaluate(sums, nf, ns, log_gh, spec.noise_var)


def broadcast_points(n_features, n_samples, ridge) -> tuple[np.ndarray, ...]:
    """N > 0, P > 0 and γ ≥ 0 checked and broadcast against each other (the theory's points)."""
    nf = _as_points("n_features", n_features, allow_zero=False)
    ns = _as_points("n_samples", n_samples, allow_zero=False)
    rg = _as_points("ridge", ridge, allow_zero=True)
    if nf.shape == ns.shape == rg.shape:  # what np.broadcast_arrays returns, without its cost
        return nf, ns, rg
    return tuple(np.broadcast_arrays(nf, ns, rg))


def theory_loss(
    spec: ModelSpec,
    n_features: object,
    n_samples: object,
    ridge: object = 0.0,
    *,
    method: str = "auto",
    max_memory=None,
) -> TheoryResult:
    r"""Test loss of linear random-feature ridge regression from ``docs/model.md`` §5.

    .. math::

        \text{test\_mse} = \frac{\kappa^2\mathrm{tf}_2\,d + \kappa\,\mathrm{tf}_1(1-d)
        + \sigma_\varepsilon^2}{1-g}

    Parameters
    ----------
    spec : ModelSpec
        The model; its activation must be linear.
    n_features, n_samples : array_like of float > 0
        N and P; broadcast against each other and ``ridge`` (real values are allowed).
    ridge : array_like of float >= 0, default 0
        γ, the ridge on the sum of squared errors; 0 is the minimum-norm interpolator.
    method : {"auto", "exact", "compressed"}, keyword-only
        Spectral sums: exact O(M); compressed O(log M) (power-law spectrum with isotropic or
        power-law teacher; relative accuracy < 1e-9); ``auto`` compresses those above M = 4096.
    max_memory : int or str, optional
        Refuse (:class:`~scalinglaws._memory.MemoryLimitError`) more points than fit in this
        much memory (default: the memory available now).

    Returns
    -------
    TheoryResult
        Every field of the broadcast shape of the three inputs; ``inf`` at a pole or where float64
        cannot hold a value, each with a :class:`~scalinglaws._validation.NumericalWarning`.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=2000, alpha=1.0))
    >>> float(theory_loss(spec, 100, 10_000).excess)  # doctest: +ELLIPSIS
    1.18...e-05
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    nf, ns, rg = broadcast_points(n_features, n_samples, ridge)
    _check_points_memory(nf.size, max_memory, "theory_loss")
    sums = spectral_sums(spec, method)
    if nf.ndim == 0 and sums.df1_table is not None:
        return _lone_result(sums, spec, nf, ns, rg)
    core = evaluate_points(sums, spec, nf.ravel(), ns.ravel(), rg.ravel())
    _scaled.warn(core)
    return result_from_core(core, nf, ns, rg)


def _lone_result(sums: SpectralSums, spec: ModelSpec, nf, ns, rg) -> TheoryResult:
    """:func:`theory_loss` at one point given as scalars (0-d arrays ``nf``, ``ns``, ``rg``):
    the lone route of :func:`evaluate_points` on floats, its values straight into the result
    (the same numbers, without the arrays of shape (1,) in between), warned like the rest."""
    x, y = float(nf), float(ns)
    log_gh = _scaled.log_normalized_ridge_one(sums, float(rg), spec.feature_var, x, y)
    values, pole = _scaled.evaluate_one_values(sums, x, y, log_gh, spec.noise_var, None)
    if pole or not all(math.isfinite(values[k]) for k in _scaled.WARN_FIELDS):
        core = {k: np.array([values[k]]) for k in _scaled.WARN_FIELDS}
        _scaled.warn({**core, "pole": np.array([pole])}, stacklevel=5)  # theory_loss's caller
    return TheoryResult(nf, ns, rg, **{k: np.array(values[k]) for k in OUTPUTS})


def result_from_core(core: dict, nf, ns, rg) -> TheoryResult:
    """A :class:`TheoryResult` of the shape of ``nf`` from flat core values."""
    shape = np.shape(nf)
    out = {k: np.asarray(core[k]).reshape(shape) for k in OUTPUTS}
    inputs = (np.array(x, dtype=np.float64).reshape(shape) for x in (nf, ns, rg))
    return TheoryResult(*inputs, **out)


def theory_grid(
    spec: ModelSpec,
    *,
    n_features: object,
    n_samples: object,
    ridges: object = (0.0,),
    method: str = "auto",
    progress: Progress | None = None,
    allow_slow: bool = False,
    max_memory=None,
) -> xr.Dataset:
    """:func:`theory_loss` on the full grid, as a Dataset shaped like ``simulate``'s output.

    Data variables ``test_mse``, ``excess``, ``kappa``, ``normalized_ridge``, ``df1``, ``df2``,
    ``tf1``, ``tf2``, ``d``, ``g``, each of dims ``(n_features, n_samples, ridge)``; the lists are
    validated, de-duplicated and sorted as in :func:`scalinglaws.sampling.simulate.simulate`.

    The grid is evaluated in chunks: ``progress(done, total)`` is called after each, and a grid
    whose time, measured on the first chunk, extrapolates past an hour is refused
    (:class:`~scalinglaws._validation.InputError`) unless ``allow_slow``; one that would not fit
    in ``max_memory`` (default: the memory available now) is refused before it starts.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=1000, alpha=1.0))
    >>> grid = theory_grid(spec, n_features=[100, 200], n_samples=[500], ridges=[0.0, 1e-3])
    >>> grid.excess.dims
    ('n_features', 'n_samples', 'ridge')
    """
    spec = check_linear_spec(spec)
    method = check_choice("method", method, METHODS)
    grid = Grid(n_features=n_features, n_samples=n_samples, ridges=ridges)
    nf = np.array(grid.n_features, dtype=np.float64)
    ns = np.array(grid.n_samples, dtype=np.float64)
    sums = spectral_sums(spec, method)

    def core(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> dict:
        return evaluate_points(sums, spec, a, b, c)

    values = evaluate_grid(
        core, nf, ns, grid.ridge_array, progress=progress, allow_slow=allow_slow,
        max_memory=max_memory,
    )  # fmt: skip
    names = ("test_mse", "excess", "kappa", "normalized_ridge")
    names += ("df1", "df2", "tf1", "tf2", "d", "g")
    return build_dataset(
        {name: values[name] for name in names},
        grid=grid,
        source="deterministic equivalent",
        spec=spec,
        attrs={"method": "compressed" if sums.compressed else "exact"},
    )


def evaluate_grid(
    core: Callable[[np.ndarray, np.ndarray, np.ndarray], dict],
    nf: np.ndarray,
    ns: np.ndarray,
    rg: np.ndarray,
    *,
    progress: Progress | None = None,
    allow_slow: bool = False,
    max_memory=None,
    what: str = "The theory grid",
    names: tuple[str, ...] = OUTPUTS,
) -> dict[str, np.ndarray]:
    """``names`` (and ``log_excess``) of ``core(N, P, γ)`` on the grid nf × ns × rg, in chunks.

    ``core`` maps flat N, P, γ to a dict like :func:`._scaled.evaluate`'s. Memory is checked before
    anything is allocated, time after the first chunk (:func:`._grid.run_in_chunks`); the trouble
    of the whole grid is warned once (:func:`._scaled.warn`). Arrays of shape (N, P, γ).
    """
    shape = (nf.size, ns.size, rg.size)
    total = int(np.prod(shape))
    _check_points_memory(total, max_memory, what)
    flat = [np.broadcast_to(x, shape).ravel() for x in (nf[:, None, None], ns[None, :, None], rg)]
    values = {name: np.empty(total) for name in names + ("log_excess",)}
    pole = np.zeros(total, dtype=bool)

    def chunk(start: int, stop: int) -> None:
        out = core(*(x[start:stop] for x in flat))
        for name, array in values.items():
            array[start:stop] = out[name]
        pole[start:stop] = out["pole"]

    run_in_chunks(
        chunk,
        total,
        what=what,
        parameter="'n_features', 'n_samples' or 'ridges'",
        progress=progress,
        allow_slow=allow_slow,
    )
    warn_fields = tuple(f for f in names if f in _scaled.WARN_FIELDS)
    _scaled.warn({**values, "pole": pole}, stacklevel=5, fields=warn_fields)
    return {name: out.reshape(shape) for name, out in values.items()}
