r"""The result layer: the one validated grid, and the one way results become Datasets and records.

- :class:`Grid`: the product N × P × γ × seeds that a simulation, a theory grid, real data or a
  study unit covers, validated once where it is built (sorted, distinct, in range).
- :func:`build_dataset`: every grid result of the package as an :class:`xarray.Dataset` with the
  same attributes: ``source`` (what computed it), ``spec`` (the model as JSON, or ``task`` for real
  data), ``seeds`` and ``rng`` (the root seed's entropy and spawn key) where randomness entered,
  and the package version.
- :func:`summarize`: seed means ``*_mean`` and standard errors ``*_sem``.
- :func:`to_records`: plain-JSON records, ``null`` for non-finite values.

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

import json
import math
import numbers
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ._validation import check_float_list, check_int_list, check_positive_int

if TYPE_CHECKING:  # pragma: no cover
    import xarray as xr

__all__ = [
    "Grid",
    "GRID_DIMS",
    "build_dataset",
    "summarize",
    "to_records",
    "grid_records",
    "finite_or_none",
    "format_number",
    "package_version",
]

#: Dimensions of a grid result, in order (simulations add ``seed``).
GRID_DIMS = ("n_features", "n_samples", "ridge")


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


def package_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("scalinglaws")
    except PackageNotFoundError:  # pragma: no cover - running from a source tree
        return "0.0.0+unknown"


def build_dataset(
    variables: dict,
    *,
    grid: Grid,
    source: str,
    spec=None,
    seeded: bool = False,
    rng=None,
    attrs: dict | None = None,
) -> xr.Dataset:
    """One grid result as a Dataset with the package's standard coordinates and attributes.

    Parameters
    ----------
    variables : dict
        name -> array of shape (len(N), len(P), len(γ)) or, with ``seeded``, with a trailing
        seed axis; or name -> (dims, array) for other layouts.
    grid : Grid
        Gives the coordinates ``n_features``, ``n_samples``, ``ridge`` (and ``seed``).
    source : str
        What computed the numbers (e.g. ``"simulation"``, ``"deterministic equivalent"``).
    spec : ModelSpec, optional
        Stored as JSON in ``attrs["spec"]``.
    seeded : bool
        Whether arrays have a seed axis (adds ``seed`` coordinates and ``attrs["seeds"]``).
    rng : SeedSequence, optional
        The root of the randomness: ``attrs["rng"]`` holds its entropy and spawn key.
    attrs : dict, optional
        Further attributes (plain JSON values).
    """
    import xarray as xr

    dims = (*GRID_DIMS, "seed") if seeded else GRID_DIMS
    data = {
        name: value if isinstance(value, tuple) else (dims, np.asarray(value))
        for name, value in variables.items()
    }
    coords = {
        "n_features": np.asarray(grid.n_features, dtype=np.int64),
        "n_samples": np.asarray(grid.n_samples, dtype=np.int64),
        "ridge": grid.ridge_array,
    }
    meta = {"source": source, "package_version": package_version()}
    if seeded:
        coords["seed"] = np.asarray(grid.seeds, dtype=np.int64)
        meta["seeds"] = json.dumps(list(grid.seeds))
    if spec is not None:
        meta["spec"] = json.dumps(spec.to_dict(), sort_keys=True)
    if rng is not None:
        meta["rng"] = json.dumps({"entropy": str(rng.entropy), "spawn_key": list(rng.spawn_key)})
    meta.update(attrs or {})
    return xr.Dataset(data, coords=coords, attrs=meta)


def summarize(ds: xr.Dataset, names=("test_mse", "excess")) -> xr.Dataset:
    """Add ``<name>_mean`` and ``<name>_sem`` over the ``seed`` dimension for each name present.

    The standard error is ``std(ddof=1) / sqrt(n_seeds)``; NaN for a single seed.
    """
    import xarray as xr

    out = ds.copy()
    n = ds.sizes["seed"]
    for name in names:
        if name not in ds:
            continue
        out[f"{name}_mean"] = ds[name].mean("seed")
        if n > 1:
            out[f"{name}_sem"] = ds[name].std("seed", ddof=1) / np.sqrt(n)
        else:
            out[f"{name}_sem"] = xr.full_like(out[f"{name}_mean"], np.nan)
    return out


def finite_or_none(value) -> float | None:
    """A float, or None where it is NaN or infinite (standard JSON has no such tokens)."""
    v = float(value)
    return v if math.isfinite(v) else None


def to_records(ds: xr.Dataset, fields: dict[str, str] | None = None) -> list[dict]:
    """One plain-JSON record per (N, P, γ) cell; NaN and infinities become None.

    ``fields`` maps record keys to data variables of dims (n_features, n_samples, ridge); the
    default is a simulation's: means, standard errors, the seed count and the pole flag.
    """
    if fields is None:
        fields = {
            "test_mse": "test_mse_mean",
            "test_mse_sem": "test_mse_sem",
            "excess": "excess_mean",
            "excess_sem": "excess_sem",
        }
    arrays = {key: ds[var].transpose(*GRID_DIMS).values for key, var in fields.items()}
    pole = ds.get("infinite_expectation")
    pole = None if pole is None else pole.transpose(*GRID_DIMS).values
    seeds = int(ds.sizes["seed"]) if "seed" in ds.dims else None
    axes = (ds.n_features.values, ds.n_samples.values, ds.ridge.values)
    return grid_records(axes, arrays, pole=pole, n_seeds=seeds)


def grid_records(axes, arrays: dict, *, pole=None, n_seeds: int | None = None) -> list[dict]:
    """One plain-JSON record per (N, P, γ) cell from arrays of shape (len(N), len(P), len(γ)).

    ``axes`` are the N, P and γ values; ``arrays`` maps record keys to arrays (bool arrays give
    booleans, the rest floats with NaN and infinities as None; an entry ``None`` gives None in
    every record); ``pole`` adds ``infinite_expectation`` and ``n_seeds`` adds itself.

    Examples
    --------
    >>> grid_records(([10], [20], [0.0]), {"excess": np.array([[[np.inf]]])}, n_seeds=2)
    [{'n_features': 10, 'n_samples': 20, 'ridge': 0.0, 'excess': None, 'n_seeds': 2}]
    """
    n_features, n_samples, ridges = axes
    records = []
    for i, n in enumerate(n_features):
        for j, p in enumerate(n_samples):
            for k, g in enumerate(ridges):
                record = {"n_features": int(n), "n_samples": int(p), "ridge": float(g)}
                for key, values in arrays.items():
                    if values is None:
                        record[key] = None
                        continue
                    value = values[i, j, k]
                    record[key] = bool(value) if values.dtype == bool else finite_or_none(value)
                if n_seeds is not None:
                    record["n_seeds"] = n_seeds
                if pole is not None:
                    record["infinite_expectation"] = bool(pole[i, j, k])
                records.append(record)
    return records


def fields_dataset(result, *, dim: str = "point", source: str | None = None) -> xr.Dataset:
    """A result dataclass as a Dataset: its array fields (one shape, flattened along ``dim``)
    become variables, its scalar fields attributes (the ``to_dataset`` of every result type).

    Examples
    --------
    >>> from dataclasses import dataclass
    >>> @dataclass
    ... class Fit:
    ...     exponent: float
    ...     index: np.ndarray
    >>> ds = fields_dataset(Fit(1.5, np.arange(3.0)), dim="rank")
    >>> ds.index.dims, ds.attrs["exponent"]
    (('rank',), 1.5)
    """
    import dataclasses

    import xarray as xr

    arrays, attrs = {}, {} if source is None else {"source": source}
    for f in dataclasses.fields(result):
        value = getattr(result, f.name)
        if isinstance(value, np.ndarray) and value.ndim > 0:
            arrays[f.name] = (dim, value.ravel())
        elif isinstance(value, numbers.Number | str | bool | np.number):
            attrs[f.name] = value.item() if isinstance(value, np.generic) else value
    return xr.Dataset(arrays, attrs=attrs)


def format_number(value: float) -> str:
    """``value`` as short as ``{:g}`` when that is exact, else its exact ``repr``.

    Labels and file names made from numbers must tell apart values that differ only past the
    sixth significant digit: ``format_number(1.0) == "1"``, ``format_number(1.0000001) ==
    "1.0000001"``.
    """
    text = f"{value:g}"
    return text if float(text) == value else repr(float(value))
