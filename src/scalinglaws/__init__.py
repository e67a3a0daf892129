"""scalinglaws: the solvable model of neural scaling laws (Maloney, Roberts & Sully 2022)."""

from importlib.metadata import PackageNotFoundError, version

from .activations import ACTIVATION_NAMES, Activation, get_activation
from .spec import ModelSpec, Teacher
from .spectrum import Spectrum

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
    "get_activation",
    "__version__",
]
