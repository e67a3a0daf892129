"""scalinglaws: the solvable model of neural scaling laws (Maloney, Roberts & Sully 2022).

Main entry points (see the README and ``MODEL.md``):

- model: :class:`Spectrum`, :class:`Teacher`, :class:`ModelSpec`, :func:`get_activation`;
- simulation: :func:`simulate` (exact test loss over N × P × ridge × seeds), :func:`fit_ridge`;
- theory: :func:`theory_loss`, :func:`theory_grid`, :func:`optimal_ridge`,
  :func:`compute_frontier` (MODEL.md §5) and :func:`predict_grid` (any activation and teacher).
"""

from importlib.metadata import PackageNotFoundError, version

from .activations import ACTIVATION_NAMES, Activation, get_activation
from .equivalence import predict_grid
from .ridge import fit_ridge
from .simulation import simulate
from .spec import ModelSpec, Teacher
from .spectrum import Spectrum
from .theory import compute_frontier, optimal_ridge, theory_grid, theory_loss

try:
    __version__ = version("scalinglaws")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0+unknown"

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "ModelSpec",
    "Spectrum",
    "Teacher",
    "__version__",
    "compute_frontier",
    "fit_ridge",
    "get_activation",
    "optimal_ridge",
    "predict_grid",
    "simulate",
    "theory_grid",
    "theory_loss",
]
