"""scalinglaws: the solvable model of neural scaling laws (Maloney, Roberts & Sully 2022).

Main entry points (see the README and the documentation in ``docs/``):

- model: :class:`Spectrum`, :class:`Teacher`, :class:`ModelSpec`, :func:`get_activation`;
- simulation: :func:`simulate` (exact test loss over N × P × ridge × seeds), :func:`fit_ridge`;
- theory: :func:`theory_loss`, :func:`theory_grid`, :func:`optimal_ridge`,
  :func:`compute_frontier` and :func:`predict_grid` (any activation and teacher);
- fitting measured losses: the submodule :mod:`scalinglaws.fit` (``fit.chinchilla``,
  ``fit.power_law``, ``fit.model``: robust fits with bootstrap intervals);
- errors: :class:`InputError` (bad input, one line), :class:`MemoryLimitError` (work refused
  before it allocates), :class:`NumericalWarning` (a pole, an overflow, a fallback).

The names are loaded on first use (PEP 562), so ``import scalinglaws`` and the command line start
without importing SciPy, xarray or pandas.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

#: Public name -> module (relative to this package) that defines it.
_EXPORTS = {
    "ACTIVATION_NAMES": ".model.activations",
    "Activation": ".model.activations",
    "get_activation": ".model.activations",
    "ModelSpec": ".model.spec",
    "Teacher": ".model.spec",
    "Spectrum": ".model.spectrum",
    "simulate": ".sampling.simulate",
    "fit_ridge": ".sampling.ridge",
    "theory_loss": ".theory",
    "theory_grid": ".theory",
    "optimal_ridge": ".theory",
    "compute_frontier": ".theory",
    "predict_grid": ".bridges.equivalence",
    "InputError": "._validation",
    "NumericalWarning": "._validation",
    "MemoryLimitError": "._memory",
}
#: Public submodules, imported on first use.
_SUBMODULES = {"fit": ".fit"}

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "InputError",
    "MemoryLimitError",
    "ModelSpec",
    "NumericalWarning",
    "Spectrum",
    "Teacher",
    "__version__",
    "compute_frontier",
    "fit",
    "fit_ridge",
    "get_activation",
    "optimal_ridge",
    "predict_grid",
    "simulate",
    "theory_grid",
    "theory_loss",
]
if sorted(__all__) != sorted([*_EXPORTS, *_SUBMODULES, "__version__"]):  # pragma: no cover
    raise ImportError("scalinglaws.__all__ is out of step with its lazy exports")

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from . import fit
    from ._memory import MemoryLimitError
    from ._validation import InputError, NumericalWarning
    from .bridges.equivalence import predict_grid
    from .model.activations import ACTIVATION_NAMES, Activation, get_activation
    from .model.spec import ModelSpec, Teacher
    from .model.spectrum import Spectrum
    from .sampling.ridge import fit_ridge
    from .sampling.simulate import simulate
    from .theory import compute_frontier, optimal_ridge, theory_grid, theory_loss


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from .results import package_version

        value: Any = package_version()
    elif name in _SUBMODULES:
        value = importlib.import_module(_SUBMODULES[name], __name__)
    elif name in _EXPORTS:
        value = getattr(importlib.import_module(_EXPORTS[name], __name__), name)
    else:
        raise AttributeError(f"module 'scalinglaws' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
