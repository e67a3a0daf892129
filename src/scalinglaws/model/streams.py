r"""Random streams: the one registry of stream labels, and nested seeded draws.

Every random number of the package comes from a :class:`numpy.random.SeedSequence` reached from
the user's root ``rng`` by a fixed path of spawn keys: seed *s* of a grid is
``child_sequence(root, s)``, and below it each kind of draw has its own :class:`Stream` label, so
that the numbers of one kind never depend on how many of another were drawn. The labels are
fixed forever: changing one changes every number computed with it.

Matrices of i.i.d. normal rows are drawn in blocks of :data:`ROW_BLOCK` rows, block *b* from
``child_sequence(seq, b)``, so that

* the first *n* rows of a draw of *n' > n* rows equal a draw of *n* rows (draws are nested), and
* a block can be regenerated on its own, on any worker, without drawing the rows before it.
"""

from __future__ import annotations

import enum

import numpy as np

from .._validation import InputError

__all__ = [
    "Stream",
    "ROW_BLOCK",
    "as_seed_sequence",
    "child_sequence",
    "generator",
    "standard_normal_rows",
]


class Stream(enum.IntEnum):
    """Spawn-key labels below a seed's sequence (or below the root, for reference draws)."""

    #: The teacher: w, or the random-feature teacher's V and a.
    TEACHER = 0
    #: The student's feature weights U.
    FEATURES = 1
    #: The training inputs x.
    INPUTS = 2
    #: The training label noise.
    NOISE = 3
    #: The Monte-Carlo test inputs.
    TEST = 4
    #: The Monte-Carlo test label noise.
    TEST_NOISE = 5
    #: The reference draw of features of the two-level theory (below the root).
    REFERENCE = 1_000_003
    #: The pool/test split of a real dataset (below a seed).
    SPLIT = 1_000_011
    #: The reference draw of features measured on a real dataset's pool (below a seed).
    POOL_REFERENCE = 1_000_013
    #: The draws of features of the two-level theory's sampled route (below the root; draw d
    #: is its child d, with the features and the teacher below that).
    SAMPLED = 1_000_017
    #: The Monte-Carlo inputs of the one-level theory's spread correction (below a draw's or a
    #: seed's sequence; never the training or test inputs of a simulation).
    SPREAD = 1_000_019


#: Rows per independently seeded block in :func:`standard_normal_rows`.
ROW_BLOCK = 256

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


def generator(seq: np.random.SeedSequence) -> np.random.Generator:
    """A PCG64 generator of ``seq``."""
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
        generator(child_sequence(seq, start // ROW_BLOCK)).standard_normal(out=target[start:stop])
    return target


