"""The model layer: what defines an instance of the model, shared by simulation and theory.

=================  ==============================================================
module             what it holds
=================  ==============================================================
``spectrum``       :class:`Spectrum` (power law, explicit) of the latent data
``teacher``        :class:`Teacher` variants (isotropic, power law, per-direction,
                   fixed, random features)
``spec``           :class:`ModelSpec`: spectrum, teacher, noise, activation, σ_u²
``activations``    :class:`Activation` σ and its Gaussian kernels
``streams``        the one registry of random streams, nested seeded draws
=================  ==============================================================

Every object here has ``to_dict`` and a ``from_dict`` that inverts it; nothing here imports the
sampling side, the theory or anything above them.
"""

from .activations import ACTIVATION_NAMES, Activation, get_activation
from .spec import ModelSpec
from .spectrum import ExplicitSpectrum, PowerLawSpectrum, Spectrum
from .streams import Stream, as_seed_sequence, child_sequence, standard_normal_rows
from .teacher import (
    FixedTeacher,
    IsotropicTeacher,
    PowerLawTeacher,
    RandomFeatureTeacher,
    Teacher,
    VarianceTeacher,
)

__all__ = [
    "ACTIVATION_NAMES",
    "Activation",
    "ExplicitSpectrum",
    "FixedTeacher",
    "IsotropicTeacher",
    "ModelSpec",
    "PowerLawSpectrum",
    "PowerLawTeacher",
    "RandomFeatureTeacher",
    "Spectrum",
    "Stream",
    "Teacher",
    "VarianceTeacher",
    "as_seed_sequence",
    "child_sequence",
    "get_activation",
    "standard_normal_rows",
]
