r"""Sampling the generative data model of ``MODEL.md`` §2 with explicit, nested randomness.

=========  ================  ================================================
symbol     name              meaning
=========  ================  ================================================
M          ``latent_dim``    latent dimension
P          ``n_samples``     number of training samples (the paper's T)
x          ``latent``        latent features, x ~ N(0, Λ), shape (P, M)
w          ``weights``       teacher weights, shape (M,)
σ_ε²       ``noise_var``     label-noise variance
=========  ================  ================================================

Randomness (DESIGN.md practice 3). Every function takes ``rng``: an ``int``, a
:class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`. Matrices of i.i.d. normal
rows are drawn in fixed blocks of :data:`ROW_BLOCK` rows, block *b* from its own child stream of
the given seed sequence, so that

* the first *n* rows of a draw of *n' > n* rows equal a draw of *n* rows (draws are nested), and
* a block can be regenerated on its own, on any worker, without drawing the rows before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ._validation import InputError, check_positive_int
from .activations import Activation
from .spec import ModelSpec
from .spectrum import Spectrum

__all__ = [
    "ROW_BLOCK",
    "as_seed_sequence",
    "child_sequence",
    "standard_normal_rows",
    "sample_latent",
    "sample_teacher",
    "teacher_output",
    "TeacherDraw",
    "sample_labels",
]

#: Rows per independently seeded block in :func:`standard_normal_rows`.
ROW_BLOCK = 256

#: Stream labels used below a seed's sequence (fixed forever: changing them changes every number).
STREAM_TEACHER, STREAM_FEATURES, STREAM_INPUTS, STREAM_NOISE, STREAM_TEST, STREAM_TEST_NOISE = (
    range(6)
)


def as_seed_sequence(rng: int | np.random.SeedSequence | np.random.Generator | None):
    """Turn ``rng`` into a :class:`~numpy.random.SeedSequence`.

    An ``int`` seeds a new sequence; a ``SeedSequence`` is used as is; a ``Generator`` gives up
    128 bits of entropy (so the result depends on its state, reproducibly).
    """
    if isinstance(rng, np.random.SeedSequence):
        return rng
    if isinstance(rng, np.random.Generator):
        return np.random.SeedSequence(
            int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63))
        )
    if rng is None or isinstance(rng, bool) or not isinstance(rng, int | np.integer) or rng < 0:
        raise InputError(
            "'rng' must be a non-negative int, a numpy SeedSequence or a numpy Generator. "
            f"Got {rng!r} instead."
        )
    return np.random.SeedSequence(int(rng))


def child_sequence(seq: np.random.SeedSequence, *keys: int) -> np.random.SeedSequence:
    """The child of ``seq`` with ``keys`` appended to its spawn key (independent of spawn order)."""
    return np.random.SeedSequence(seq.entropy, spawn_key=tuple(seq.spawn_key) + tuple(keys))


def _generator(seq: np.random.SeedSequence) -> np.random.Generator:
    return np.random.Generator(np.random.PCG64(seq))


def standard_normal_rows(
    seq: np.random.SeedSequence, n_rows: int, n_cols: int, *, out: np.ndarray | None = None
) -> np.ndarray:
    """I.i.d. N(0, 1) matrix of shape ``(n_rows, n_cols)``, nested in ``n_rows``.

    Block *b* (rows ``b*ROW_BLOCK`` to ``(b+1)*ROW_BLOCK``) comes from ``child_sequence(seq, b)``.
    With ``out`` (a C-contiguous float64 array of at least ``n_rows`` rows and ``n_cols``
    columns), the rows are written into its first ``n_rows`` rows, which are returned.
    """
    if out is None:
        out = np.empty((n_rows, n_cols))
    target = out[:n_rows]
    for start in range(0, n_rows, ROW_BLOCK):
        stop = min(start + ROW_BLOCK, n_rows)
        _generator(child_sequence(seq, start // ROW_BLOCK)).standard_normal(out=target[start:stop])
    return target


def sample_latent(
    spectrum: Spectrum, n_samples: int, rng, *, out: np.ndarray | None = None
) -> np.ndarray:
    r"""Latent data :math:`x_\mu \sim N(0, \Lambda)`, shape ``(n_samples, latent_dim)``.

    Nested in P: the first rows of a larger draw. ``out`` as in :func:`standard_normal_rows`.

    Examples
    --------
    >>> from scalinglaws import Spectrum
    >>> x = sample_latent(Spectrum.power_law(latent_dim=3, alpha=1.0), 5, rng=0)
    >>> x.shape
    (5, 3)
    """
    n_samples = check_positive_int("n_samples", n_samples)
    z = standard_normal_rows(as_seed_sequence(rng), n_samples, spectrum.latent_dim, out=out)
    z *= np.sqrt(spectrum.eigenvalues)
    return z


@dataclass(frozen=True)
class TeacherDraw:
    r"""One draw of a random-feature teacher, :math:`y = \sigma_t(x V^\top)\, a`.

    Attributes
    ----------
    projection : ndarray of shape (width, latent_dim)
        V, rows v_k.
    coefficients : ndarray of shape (width,)
        a.
    activation : Activation
        σ_t.
    """

    projection: np.ndarray
    coefficients: np.ndarray
    activation: Activation


def sample_teacher(spec: ModelSpec, rng) -> np.ndarray | TeacherDraw:
    r"""Draw the teacher: weights w of shape ``(latent_dim,)`` (linear teachers,
    :math:`w_I \sim N(0, \bar w_I^2)`, or the fixed vector), or a :class:`TeacherDraw` for a
    random-feature teacher (:math:`v_{kI} \sim N(0, \sigma_v^2/M)`,
    :math:`a_k \sim N(0, \sigma_a^2/K)`).
    """
    teacher = spec.teacher
    seq = as_seed_sequence(rng)
    if teacher.kind == "random_features":
        v = standard_normal_rows(child_sequence(seq, 0), teacher.width, spec.latent_dim)
        v *= np.sqrt(teacher.feature_var / spec.latent_dim)
        a = _generator(child_sequence(seq, 1)).standard_normal(teacher.width)
        a *= np.sqrt(teacher.output_var / teacher.width)
        return TeacherDraw(v, a, teacher.activation)
    if not teacher.is_random:
        return np.array(spec.teacher_weights())
    z = _generator(seq).standard_normal(spec.latent_dim)
    return z * np.sqrt(spec.teacher_variances())


def teacher_output(latent: np.ndarray, teacher: np.ndarray | TeacherDraw) -> np.ndarray:
    """Noiseless target for each row of ``latent`` (shape (P, M)); returns shape (P,).

    Computed in blocks of exactly :data:`ROW_BLOCK` rows (the last one zero-padded), so that each
    y_μ comes from the same BLAS call shapes whatever the number of rows drawn.
    """
    n = latent.shape[0]
    y = np.empty(n)
    pad = None
    for start in range(0, n, ROW_BLOCK):
        block = latent[start : start + ROW_BLOCK]
        rows = block.shape[0]
        if rows < ROW_BLOCK:
            pad = np.zeros((ROW_BLOCK, latent.shape[1])) if pad is None else pad
            pad[:rows] = block
            block = pad
        if isinstance(teacher, TeacherDraw):
            values = teacher.activation(block @ teacher.projection.T) @ teacher.coefficients
        else:
            values = np.sum(block * teacher, axis=1)
        y[start : start + rows] = values[:rows]
    return y


def sample_labels(latent: np.ndarray, teacher, noise_var: float, rng) -> np.ndarray:
    r"""Labels :math:`y = f_*(x) + \varepsilon` with noise
    :math:`\varepsilon \sim N(0, \sigma_\varepsilon^2)`.

    ``latent`` has shape ``(n_samples, latent_dim)``; ``teacher`` is the weight vector w or a
    :class:`TeacherDraw`; returns shape ``(n_samples,)``, nested in P.
    """
    y = teacher_output(latent, teacher)
    if noise_var > 0:
        y += np.sqrt(noise_var) * _generator(as_seed_sequence(rng)).standard_normal(y.shape[0])
    return y
