"""Strict checks of a parsed study file, each failing with one line that names the file and field.

Every message has the form ``"<file>: '<field>' must be <expected>. Got <found> instead."``
(the house vocabulary of :mod:`scalinglaws._validation`, prefixed by the file), or
``"<file>: unknown field '<field>'; expected one of a, b, c."``. Field paths follow the TOML:
``grid.n_features``, ``grid[1].seeds``, ``spec[0].spectrum.alpha``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass

from .._validation import InputError

__all__ = ["FieldReader"]


def _fmt(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


@dataclass(frozen=True)
class FieldReader:
    """Checks of values read from one study file; ``file`` prefixes every message."""

    file: str

    def fail(self, field: str, expected: str, found: object) -> InputError:
        """The one-line error for ``field``: what was expected and what was found."""
        return InputError(f"{self.file}: '{field}' must be {expected}. Got {_fmt(found)} instead.")

    def table(
        self, data: object, field: str, *, allowed: Iterable[str], required: Iterable[str] = ()
    ) -> dict:
        """``data`` as a table whose keys are all in ``allowed`` and include ``required``."""
        if not isinstance(data, dict):
            raise self.fail(field or "<top level>", "a table", data)
        allowed = tuple(allowed)
        for key in data:
            if key not in allowed:
                raise InputError(
                    f"{self.file}: unknown field '{join(field, key)}'; expected one of "
                    + ", ".join(allowed)
                    + "."
                )
        for key in required:
            if key not in data:
                raise InputError(f"{self.file}: missing field '{join(field, key)}'.")
        return data

    def string(self, value: object, field: str) -> str:
        """A non-empty string."""
        if not isinstance(value, str) or not value.strip():
            raise self.fail(field, "a non-empty string", value)
        return value

    def choice(self, value: object, field: str, choices: Iterable[str]) -> str:
        """One of ``choices``."""
        options = tuple(choices)
        if value not in options:
            raise self.fail(field, "one of " + ", ".join(repr(c) for c in options), value)
        return str(value)

    def integer(self, value: object, field: str, *, minimum: int) -> int:
        """An integer ``>= minimum``."""
        expected = "a positive integer" if minimum == 1 else f"an integer >= {minimum}"
        if not _is_int(value) or value < minimum:
            raise self.fail(field, expected, value)
        return int(value)

    def real(self, value: object, field: str, *, positive: bool = False) -> float:
        """A finite number, ``> 0`` if ``positive``, otherwise ``>= 0``."""
        expected = "a finite number > 0" if positive else "a finite number >= 0"
        if not _is_real(value) or not math.isfinite(value):
            raise self.fail(field, expected, value)
        if value < 0 or (positive and value == 0):
            raise self.fail(field, expected, value)
        return float(value)

    def finite(self, value: object, field: str) -> float:
        """Any finite number."""
        if not _is_real(value) or not math.isfinite(value):
            raise self.fail(field, "a finite number", value)
        return float(value)

    def _items(self, value: object, field: str, expected: str) -> list:
        if not isinstance(value, list) or not value:
            raise self.fail(field, expected, value)
        return value

    def int_list(self, value: object, field: str, *, minimum: int = 1) -> tuple[int, ...]:
        """A non-empty list of integers ``>= minimum``, returned sorted and de-duplicated."""
        word = "positive integers" if minimum == 1 else f"integers >= {minimum}"
        expected = f"a non-empty list of {word}"
        items = self._items(value, field, expected)
        for item in items:
            if not _is_int(item) or item < minimum:
                raise self.fail(field, expected, value)
        return tuple(sorted(set(items)))

    def real_list(self, value: object, field: str, *, positive: bool = False) -> tuple[float, ...]:
        """A non-empty list of finite numbers (``> 0`` or ``>= 0``), sorted and de-duplicated."""
        expected = "a non-empty list of numbers " + ("> 0" if positive else ">= 0")
        items = self._items(value, field, expected)
        for item in items:
            if not _is_real(item) or not math.isfinite(item) or item < 0:
                raise self.fail(field, expected, value)
            if positive and item == 0:
                raise self.fail(field, expected, value)
        return tuple(sorted({float(v) for v in items}))

    def array(self, value: object, field: str, *, positive: bool) -> list[float]:
        """A non-empty list of finite numbers (``> 0`` if ``positive``, else ``>= 0``), in order."""
        expected = "a non-empty list of numbers " + ("> 0" if positive else ">= 0")
        items = self._items(value, field, expected)
        for item in items:
            if not _is_real(item) or not math.isfinite(item) or item < 0:
                raise self.fail(field, expected, value)
            if positive and item == 0:
                raise self.fail(field, expected, value)
        return [float(v) for v in items]

    def seeds(self, value: object, field: str) -> tuple[int, ...]:
        """A count ``n`` (seeds ``0..n-1``) or a non-empty list of seed indices ``>= 0``."""
        if _is_int(value):
            return tuple(range(self.integer(value, field, minimum=1)))
        expected = "a positive integer or a non-empty list of integers >= 0"
        if not isinstance(value, list) or not value:
            raise self.fail(field, expected, value)
        return self.int_list(value, field, minimum=0)


def join(parent: str, key: str) -> str:
    """The dotted path of ``key`` inside ``parent``."""
    return f"{parent}.{key}" if parent else key
