r"""Measured losses in, checked arrays out: the inputs of every scaling-law fit.

A fit reads a table of points — a pandas DataFrame, an xarray Dataset (as returned by
``simulate`` and ``theory_grid``), or a CSV or Parquet file — and the user names its columns:
the variables ``x`` (one or two), the loss ``y``, optionally a ``group`` column for the block
bootstrap. Points leave the fit only by an explicit rule, and every rule is reported with the
number of points it removed:

- ``exclude``: a pandas query; the rows it selects are excluded;
- ``drop_invalid``: rows where a variable or the loss is not finite or not > 0.

Without ``drop_invalid`` such a row is refused (a one-line :class:`~scalinglaws.InputError`
that names the column, the value and the rule that would drop it): a log-space fit cannot use a
loss that is not positive, and dropping it silently would bias the fit.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from .._errors import InputError

__all__ = ["FitTable", "as_frame", "fit_table", "split_table", "column_names"]

#: A derived column: cost_factor × the product of the variables (N·D, or N·P).
COMPUTE = "compute"


def column_names(name: str, value: object, count: tuple[int, int]) -> tuple[str, ...]:
    """``value`` (a name, a comma-separated string or a sequence) as a tuple of column names."""
    items = value.split(",") if isinstance(value, str) else value
    try:
        names = tuple(str(v).strip() for v in items)  # type: ignore[union-attr]
    except TypeError:
        names = ()
    if not (count[0] <= len(names) <= count[1]) or not all(names):
        want = f"{count[0]}" if count[0] == count[1] else f"{count[0]} to {count[1]}"
        raise InputError(f"'{name}' must name {want} column(s). Got {value!r} instead.")
    return names


def as_frame(data: object) -> pd.DataFrame:
    """A DataFrame of the points in ``data`` (DataFrame, Dataset, or a .csv/.parquet path)."""
    if isinstance(data, pd.DataFrame):
        return data.reset_index(drop=not _has_named_index(data))
    if isinstance(data, str | Path):
        return _read_file(Path(data))
    try:
        import xarray as xr
    except ImportError:  # pragma: no cover - xarray is a core dependency
        xr = None
    if xr is not None and isinstance(data, xr.Dataset):
        return data.to_dataframe().reset_index()
    raise InputError(
        "'data' must be a pandas DataFrame, an xarray Dataset, or a path to a .csv or .parquet "
        f"file. Got {type(data).__name__} instead."
    )


def _has_named_index(frame: pd.DataFrame) -> bool:
    return any(name is not None for name in frame.index.names)


def _read_file(path: Path) -> pd.DataFrame:
    if not path.is_file():
        raise InputError(f"'data' must be an existing file. Got '{path}' instead.")
    suffix = path.suffix.lower()
    try:
        if suffix == ".csv":
            return pd.read_csv(path)
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
    except (ValueError, OSError, ImportError) as err:
        raise InputError(f"'{path}' could not be read as {suffix[1:]}: {err}") from None
    raise InputError(
        f"'data' must be a .csv or .parquet file. Got '{path.name}' instead (a study store is "
        "read by 'scalinglaws fit STUDY.toml', or with scalinglaws.studies.study_frame)."
    )


def dataset_frame(data, y: str) -> pd.DataFrame:
    """The variables of a Dataset that share the dims of ``y``, flattened to one row per point."""
    if y not in data.data_vars:
        names = ", ".join(sorted(map(str, data.data_vars)))
        raise InputError(
            f"'y' must be a data variable of the Dataset ({names}). Got {y!r} instead."
        )
    dims = set(data[y].dims)
    keep = [v for v in data.data_vars if set(data[v].dims) <= dims]
    return data[keep].to_dataframe().reset_index()


@dataclass(frozen=True)
class FitTable:
    """Checked points of a fit: ``x`` of shape (n, K) and ``y`` (n,), all finite and > 0.

    ``frame`` holds the rows used (all their columns), ``groups`` integer group codes (n,) or
    None, ``exclusions`` each rule with the number of points it removed.
    """

    x: np.ndarray
    y: np.ndarray
    x_names: tuple[str, ...]
    y_name: str
    frame: pd.DataFrame
    groups: np.ndarray | None
    group_name: str | None
    exclusions: tuple[tuple[str, int], ...]

    @property
    def n_points(self) -> int:
        """Number of points used."""
        return int(self.y.size)

    @property
    def n_excluded(self) -> int:
        """Number of points removed by the rules."""
        return int(sum(count for _, count in self.exclusions))


def fit_table(
    data: object,
    *,
    x: Sequence[str],
    y: str,
    exclude: str | None = None,
    drop_invalid: bool = False,
    group: str | None = None,
) -> FitTable:
    """Read ``data`` and check the columns ``x`` and ``y`` (see the module docstring)."""
    try:
        import xarray as xr

        is_dataset = isinstance(data, xr.Dataset)
    except ImportError:  # pragma: no cover
        is_dataset = False
    frame = dataset_frame(data, y) if is_dataset else as_frame(data)
    for role, name in [("x", n) for n in x] + [("y", y)] + ([("group", group)] if group else []):
        if name not in frame.columns:
            cols = ", ".join(map(str, frame.columns))
            raise InputError(
                f"'{role}' must name a column of the data ({cols}). Got {name!r} instead."
            )
    exclusions = []
    if exclude:
        try:
            drop = frame.eval(exclude)
        except Exception as err:  # noqa: BLE001 - pandas raises many kinds for a bad query
            raise InputError(
                f"'exclude' must be a pandas query on the columns. Got {exclude!r} instead ({err})."
            ) from None
        drop = np.asarray(drop)
        if drop.dtype != bool or drop.shape != (len(frame),):
            raise InputError(
                "'exclude' must be a condition that is true or false on every row. Got "
                f"{exclude!r} instead."
            )
        exclusions.append((f"exclude: {exclude}", int(drop.sum())))
        frame = frame[~drop]
    values = _numeric(frame, [*x, y])
    valid = np.all(np.isfinite(values) & (values > 0), axis=1)
    if not np.all(valid):
        if not drop_invalid:
            raise _invalid_error(frame, values, [*x, y])
        exclusions.append(
            ("drop_invalid: a variable or the loss not finite or not > 0", int((~valid).sum()))
        )
        frame, values = frame[valid], values[valid]
    frame = frame.reset_index(drop=True)
    groups = None
    if group:
        groups = pd.factorize(frame[group], sort=True)[0].astype(np.int64)
    return FitTable(
        x=values[:, :-1].copy(),
        y=values[:, -1].copy(),
        x_names=tuple(x),
        y_name=y,
        frame=frame,
        groups=groups,
        group_name=group,
        exclusions=tuple(exclusions),
    )


def _numeric(frame: pd.DataFrame, names: list[str]) -> np.ndarray:
    out = np.empty((len(frame), len(names)))
    for j, name in enumerate(names):
        column = pd.to_numeric(frame[name], errors="coerce")
        if column.isna().any() and not frame[name].isna().equals(column.isna()):
            bad = frame[name][column.isna() & frame[name].notna()].iloc[0]
            raise InputError(f"column '{name}' must hold numbers. Got {bad!r} instead.")
        out[:, j] = column.to_numpy(dtype=np.float64, na_value=np.nan)
    return out


def _invalid_error(frame: pd.DataFrame, values: np.ndarray, names: list[str]) -> InputError:
    bad = ~(np.isfinite(values) & (values > 0))
    row, col = np.argwhere(bad)[0]
    count = int(bad.any(axis=1).sum())
    what = "the loss" if col == len(names) - 1 else "a variable"
    return InputError(
        f"column '{names[col]}' must hold finite values > 0 ({what} enters in log space). Got "
        f"{values[row, col]!r} at row {frame.index[row]} ({count} such row(s)) instead; exclude "
        "them explicitly (exclude=QUERY, or drop_invalid=True / --drop-invalid)."
    )


def split_table(table: FitTable, values: np.ndarray, above: float) -> tuple[FitTable, FitTable]:
    """(points with ``values <= above``, points above it), each a :class:`FitTable`."""
    high = values > above

    def part(mask: np.ndarray) -> FitTable:
        groups = None if table.groups is None else table.groups[mask]
        if groups is not None:
            groups = pd.factorize(groups, sort=True)[0].astype(np.int64)
        return FitTable(
            x=table.x[mask],
            y=table.y[mask],
            x_names=table.x_names,
            y_name=table.y_name,
            frame=table.frame[mask].reset_index(drop=True),
            groups=groups,
            group_name=table.group_name,
            exclusions=table.exclusions,
        )

    return part(~high), part(high)


def column_values(table: FitTable, column: str, cost_factor: float) -> np.ndarray:
    """The values of ``column`` at the points; ``"compute"`` is derived if absent (k·Πx)."""
    if column in table.frame.columns:
        values = pd.to_numeric(table.frame[column], errors="coerce").to_numpy(dtype=np.float64)
        if np.any(~np.isfinite(values)):
            raise InputError(
                f"'heldout_column' must name a numeric column. Got {column!r}, which is not "
                "numeric at every point, instead."
            )
        return values
    if column == COMPUTE and table.x.shape[1] > 1:
        return cost_factor * np.prod(table.x, axis=1)
    cols = ", ".join(map(str, table.frame.columns))
    derived = " or 'compute' (k times the product of the variables)" if table.x.shape[1] > 1 else ""
    raise InputError(
        f"'heldout_column' must name a column ({cols}){derived}. Got {column!r} instead."
    )
