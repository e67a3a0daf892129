"""The package's error vocabulary, importable without numpy (the command line starts with it).

- :class:`InputError` (a :class:`ValueError`): bad input from the user, with a one-line message
  of the form ``"'name' must be <expectation>. Got <value> instead."``; the CLI prints it as
  ``error: …`` and exits with status 2.
- :class:`NumericalWarning`: numerical trouble — a pole, an overflow, an unidentifiable value, a
  fallback — with what happened and what to try.
"""

from __future__ import annotations

__all__ = ["InputError", "NumericalWarning"]


class InputError(ValueError):
    """Bad input from the user: a one-line message naming the parameter (CLI: exit status 2)."""


class NumericalWarning(UserWarning):
    """Numerical trouble: a pole, an ill-conditioned solve, an overflow, an inexact quadrature."""
