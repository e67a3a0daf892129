"""Refusing work that cannot fit in memory, before it allocates.

Every entry point whose memory grows with its inputs estimates its peak first (a closed-form count
of the arrays it will hold at once, in bytes) and calls :func:`check_memory`, which raises
:class:`MemoryLimitError` — one line with the estimate, the limit and the parameter to lower — when
the estimate exceeds the limit. The limit is ``max_memory`` when given (bytes, or a string such as
``"8GiB"``), else the memory available to this process now: the smaller of the kernel's
``MemAvailable`` and what the cgroup (container) still allows.

Estimates count the large arrays only (they dominate); they are meant to be within a factor of
about 1.5 of the true peak, which is what a refusal needs.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from ._errors import InputError

__all__ = [
    "MemoryLimitError",
    "available_memory",
    "check_memory",
    "format_bytes",
    "parse_memory",
]

#: Estimates below this are accepted without asking the system (256 MiB).
_ALWAYS_FITS = 2**28

_SIZE = re.compile(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([A-Za-z]*)\s*")
_UNITS = {
    "": 1,
    "b": 1,
    "k": 10**3,
    "kb": 10**3,
    "kib": 2**10,
    "m": 10**6,
    "mb": 10**6,
    "mib": 2**20,
    "g": 10**9,
    "gb": 10**9,
    "gib": 2**30,
    "t": 10**12,
    "tb": 10**12,
    "tib": 2**40,
}


class MemoryLimitError(InputError):
    """Work refused before it starts because its estimated peak memory exceeds the limit."""


def format_bytes(n_bytes: float) -> str:
    """``n_bytes`` in the largest binary unit that keeps it at least 1 (e.g. ``'37.2 GiB'``)."""
    value = float(n_bytes)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if abs(value) < 1024 or unit == "PiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{value:.1f} PiB"  # pragma: no cover - unreachable


def parse_memory(value: object, name: str = "max_memory") -> int:
    """Bytes from an int/float or a string with a unit (``"500MB"``, ``"8GiB"``, ``"2e9"``)."""
    if isinstance(value, bool):
        raise InputError(f"'{name}' must be a size such as 8GiB or 2e9. Got {value!r} instead.")
    if isinstance(value, int | float):
        number, unit = float(value), ""
    else:
        match = _SIZE.fullmatch(str(value))
        if match is None or match.group(2).lower() not in _UNITS:
            raise InputError(
                f"'{name}' must be a size such as 8GiB, 500MB or 2e9. Got {value!r} instead."
            )
        number, unit = float(match.group(1)), match.group(2).lower()
    out = number * _UNITS[unit]
    if not out > 0 or out != out or out == float("inf"):
        raise InputError(f"'{name}' must be a size > 0 such as 8GiB. Got {value!r} instead.")
    return int(out)


def _meminfo_available() -> int | None:
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemAvailable:"):
                return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cgroup_headroom() -> int | None:
    """What the cgroup (v2, else v1) still allows this process to allocate, or None."""
    candidates = (
        (Path("/sys/fs/cgroup/memory.max"), Path("/sys/fs/cgroup/memory.current")),
        (
            Path("/sys/fs/cgroup/memory/memory.limit_in_bytes"),
            Path("/sys/fs/cgroup/memory/memory.usage_in_bytes"),
        ),
    )
    for limit_file, usage_file in candidates:
        try:
            limit_text = limit_file.read_text().strip()
            if limit_text == "max":
                return None
            limit, usage = int(limit_text), int(usage_file.read_text().strip())
        except (OSError, ValueError):
            continue
        if limit >= 2**60:  # v1 "unlimited"
            return None
        return max(limit - usage, 0)
    return None


def available_memory() -> int | None:
    """Bytes this process can still allocate now, or None when the system does not say."""
    found = [v for v in (_meminfo_available(), _cgroup_headroom()) if v is not None]
    if not found and hasattr(os, "sysconf"):
        try:
            found = [os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_AVPHYS_PAGES")]
        except (ValueError, OSError):
            found = []
    return min(found) if found else None


def check_memory(
    estimate: float,
    *,
    what: str,
    parameter: str,
    max_memory: object = None,
) -> None:
    """Raise :class:`MemoryLimitError` if ``estimate`` bytes exceed the limit.

    Parameters
    ----------
    estimate : float
        Estimated peak of the work, in bytes.
    what : str
        The work, for the message (e.g. ``"simulate"``).
    parameter : str
        The parameter(s) to lower, for the message (e.g. ``"'n_features' or 'n_samples'"``).
    max_memory : int, float or str, optional
        The limit; default the memory available now (:func:`available_memory`).

    Examples
    --------
    >>> check_memory(1e6, what="a tiny grid", parameter="'n_features'", max_memory="1GiB")
    >>> check_memory(2e9, what="a grid", parameter="'n_features'", max_memory="1GiB")
    Traceback (most recent call last):
    ...
    scalinglaws._memory.MemoryLimitError: a grid needs about 1.9 GiB of memory at its peak, ...
    """
    if max_memory is None:
        if estimate < _ALWAYS_FITS:
            return  # not worth reading /proc for: every machine this runs on has that much
        limit, source = available_memory(), "available now"
    else:
        limit, source = parse_memory(max_memory), "max_memory"
    if limit is None or not estimate > limit:
        return
    raise MemoryLimitError(
        f"{what} needs about {format_bytes(estimate)} of memory at its peak, more than the "
        f"limit of {format_bytes(limit)} ({source}); lower {parameter} or raise 'max_memory'."
    )
