r"""Sampling the generative data model of ``docs/model.md`` §2 with explicit, nested randomness.

=========  ================  ================================================
symbol     name              meaning
=========  ================  ================================================
M          ``latent_dim``    latent dimension
P          ``n_samples``     number of training samples (the paper's T)
x          ``latent``        latent features, x ~ N(0, Λ), shape (P, M)
w          ``weights``       teacher weights, shape (M,)
σ_ε²       ``noise_var``     label-noise variance
=========  ================  ================================================

Randomness is explicit. Every function takes ``rng``: an ``int``, a
:class:`numpy.random.SeedSequence` or a :class:`numpy.random.Generator`; the streams and the
nested row draws are those of :mod:`scalinglaws.model.streams`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .._validation import check_positive_int
from ..model.activations import Activation
from ..model.spec import ModelSpec
from ..model.spectrum import Spectrum
from ..model.streams import (
    ROW_BLOCK,
    as_seed_sequence,
    child_sequence,
    generator,
    standard_normal_rows,
)

__all__ = [
    "sample_latent",
    "sample_teacher",
    "teacher_output",
    "TeacherDraw",
    "sample_labels",
]

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
    if not teacher.is_linear:
        v = standard_normal_rows(child_sequence(seq, 0), teacher.width, spec.latent_dim)
        v *= np.sqrt(teacher.feature_var / spec.latent_dim)
        a = generator(child_sequence(seq, 1)).standard_normal(teacher.width)
        a *= np.sqrt(teacher.output_var / teacher.width)
        return TeacherDraw(v, a, teacher.activation)
    if not teacher.is_random:
        return np.array(spec.teacher_weights())
    z = generator(seq).standard_normal(spec.latent_dim)
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
        y += np.sqrt(noise_var) * generator(as_seed_sequence(rng)).standard_normal(y.shape[0])
    return y
