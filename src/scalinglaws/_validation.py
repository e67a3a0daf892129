"""The one place for argument checks and their messages.

Every check raises :class:`InputError` (a :class:`ValueError`) with a
single line of the form ``"'name' must be <expectation>. Got <value> instead."``, so that the CLI
can print it as is and library users see which parameter was wrong.
"""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable

import numpy as np

from ._errors import InputError, NumericalWarning

__all__ = [
    "InputError",
    "NumericalWarning",
    "check_positive_int",
    "check_positive_float",
    "check_nonnegative_float",
    "check_positive_array",
    "check_int_list",
    "check_float_list",
    "check_choice",
    "warn_numerical",
    "rewarn",
]


def warn_numerical(message: str, *, stacklevel: int = 3) -> None:
    """Issue a :class:`NumericalWarning` that says what happened and what to try."""
    warnings.warn(message, NumericalWarning, stacklevel=stacklevel)


def rewarn(caught, context: str) -> None:
    """Re-issue recorded warnings once each, numerical ones with how often they came."""
    counts: dict[tuple, int] = {}
    for w in caught:
        key = (w.category, str(w.message))
        counts[key] = counts.get(key, 0) + 1
    for (category, message), count in counts.items():
        if issubclass(category, NumericalWarning) and count > 1:
            message = f"{message} ({count} times {context})"
        warnings.warn(message, category, stacklevel=3)


def _fmt(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fail(name: str, expectation: str, value: object) -> InputError:
    return InputError(f"'{name}' must be {expectation}. Got {_fmt(value)} instead.")


#: Largest integer accepted for a count (sizes far beyond any memory, but still exact in int64).
MAX_COUNT = 2**62


def check_positive_int(name: str, value: object, *, minimum: int = 1) -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum`` (and at most 2**62)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        else:
            expectation = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
            raise _fail(name, expectation, value)
    if value < minimum:
        expectation = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        raise _fail(name, expectation, value)
    if value > MAX_COUNT:
        raise InputError(f"'{name}' must be an integer at most 2**62. Got {int(value)} instead.")
    return int(value)


def _as_real(name: str, value: object, expectation: str) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _fail(name, expectation, value)
    out = float(value)
    if not np.isfinite(out):
        raise _fail(name, expectation, value)
    return out


def check_positive_float(name: str, value: object) -> float:
    """Return ``value`` as a finite ``float > 0``."""
    out = _as_real(name, value, "a finite number > 0")
    if out <= 0:
        raise _fail(name, "a finite number > 0", value)
    return out


def check_nonnegative_float(name: str, value: object) -> float:
    """Return ``value`` as a finite ``float >= 0``."""
    out = _as_real(name, value, "a finite number >= 0")
    if out < 0:
        raise _fail(name, "a finite number >= 0", value)
    return out


def check_positive_array(name: str, value: object, *, ndim: int = 1) -> np.ndarray:
    """Return a read-only float64 copy of a non-empty array of finite positive numbers."""
    try:
        arr = np.array(value, dtype=np.float64)
    except (TypeError, ValueError):
        raise _fail(name, f"a {ndim}-D array of finite numbers > 0", value) from None
    if arr.ndim != ndim or arr.size == 0:
        raise _fail(name, f"a non-empty {ndim}-D array of finite numbers > 0", value)
    if not np.all(np.isfinite(arr)) or np.any(arr <= 0):
        bad = arr[~(np.isfinite(arr) & (arr > 0))].ravel()[0]
        raise InputError(
            f"'{name}' must contain only finite numbers > 0. Got {float(bad)!r} among its "
            f"{arr.size} entries instead."
        )
    arr.setflags(write=False)
    return arr


def check_int_list(name: str, values: object, *, minimum: int = 1) -> tuple[int, ...]:
    """Return a sorted tuple of distinct integers ``>= minimum`` (at least one)."""
    items = _as_items(name, values, "a non-empty list of positive integers")
    out = tuple(sorted({check_positive_int(name, v, minimum=minimum) for v in items}))
    return out


def check_float_list(name: str, values: object, *, allow_zero: bool = True) -> tuple[float, ...]:
    """Return a sorted tuple of distinct finite floats ``>= 0`` (``> 0`` if not ``allow_zero``)."""
    expectation = "a non-empty list of numbers >= 0" if allow_zero else "a list of numbers > 0"
    items = _as_items(name, values, expectation)
    check = check_nonnegative_float if allow_zero else check_positive_float
    return tuple(sorted({check(name, v) for v in items}))


def _as_items(name: str, values: object, expectation: str) -> list:
    if isinstance(values, str | bytes):
        raise _fail(name, expectation, values)
    if isinstance(values, numbers.Number):
        return [values]
    if isinstance(values, np.ndarray):
        values = values.ravel().tolist()
    if not isinstance(values, Iterable):
        raise _fail(name, expectation, values)
    items = list(values)
    if not items:
        raise _fail(name, expectation, values)
    return [v.item() if isinstance(v, np.generic) else v for v in items]


def check_choice(name: str, value: object, choices: Iterable[str]) -> str:
    """Return ``value`` if it is one of ``choices``."""
    options = tuple(choices)
    if value not in options:
        raise _fail(name, "one of " + ", ".join(repr(c) for c in options), value)
    return str(value)
