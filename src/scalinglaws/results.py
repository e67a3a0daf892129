r"""The result layer: the one validated grid taken by every grid function.

A :class:`Grid` is the product N × P × γ × seeds that a simulation, a theory grid or a study unit
covers. It is validated once, where it is built (sorted, distinct, in range), and every function
downstream trusts it.

=========  ================  =============================================
symbol     name              meaning
=========  ================  =============================================
N          ``n_features``    numbers of features, sorted and distinct
P          ``n_samples``     numbers of training samples, sorted and distinct
γ          ``ridges``        ridges ≥ 0 (sum-of-squares convention), sorted
s          ``seeds``         seed indices ≥ 0
=========  ================  =============================================
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass

import numpy as np

from ._validation import check_float_list, check_int_list, check_positive_int

__all__ = ["Grid"]


def _items(value):
    if isinstance(value, numbers.Number | np.number):
        return [value]
    return value


@dataclass(frozen=True, init=False)
class Grid:
    """N × P × γ × seeds, validated once.

    Parameters
    ----------
    n_features, n_samples : int or sequence of int
        N and P values (positive; sorted and de-duplicated).
    ridges : float or sequence of float, default (0,)
        γ ≥ 0 (sorted and de-duplicated).
    n_seeds : int, optional
        Seeds ``0 .. n_seeds-1`` (default 1 when ``seeds`` is not given).
    seeds : sequence of int, optional
        Explicit seed indices (≥ 0), instead of ``n_seeds``.

    Examples
    --------
    >>> Grid(n_features=[200, 100, 100], n_samples=1000, ridges=[1e-2, 0])
    Grid(n_features=(100, 200), n_samples=(1000,), ridges=(0.0, 0.01), seeds=(0,))
    """

    n_features: tuple[int, ...]
    n_samples: tuple[int, ...]
    ridges: tuple[float, ...]
    seeds: tuple[int, ...]

    def __init__(self, *, n_features, n_samples, ridges=(0.0,), n_seeds=None, seeds=None):
        set_ = object.__setattr__
        set_(self, "n_features", check_int_list("n_features", _items(n_features)))
        set_(self, "n_samples", check_int_list("n_samples", _items(n_samples)))
        set_(self, "ridges", check_float_list("ridges", _items(ridges)))
        if seeds is None:
            count = 1 if n_seeds is None else check_positive_int("n_seeds", n_seeds)
            set_(self, "seeds", tuple(range(count)))
        else:
            set_(self, "seeds", check_int_list("seeds", _items(seeds), minimum=0))

    @property
    def ridge_array(self) -> np.ndarray:
        """The ridges as a float64 array of shape (n_ridges,)."""
        return np.array(self.ridges, dtype=np.float64)

    @property
    def shape(self) -> tuple[int, int, int]:
        """(len(n_features), len(n_samples), len(ridges))."""
        return (len(self.n_features), len(self.n_samples), len(self.ridges))

    def to_dict(self) -> dict:
        """Plain JSON: the four axes as lists."""
        return {
            "n_features": list(self.n_features),
            "n_samples": list(self.n_samples),
            "ridges": list(self.ridges),
            "seeds": list(self.seeds),
        }
