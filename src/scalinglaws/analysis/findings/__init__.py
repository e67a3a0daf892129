r"""The four findings of Maloney, Roberts & Sully (2022), each computed by the package.

Each finding runs its simulations (seeded) and the theory side by side and returns a
:class:`FindingResult`: a list of :class:`Claim` records — a measured value with its standard
error beside the prediction, a tolerance with its reason, and whether it holds — and one Dataset
per figure (drawn by :mod:`scalinglaws.plot.findings`). ``scalinglaws reproduce`` writes them
(:mod:`scalinglaws.report.reproduce`); see ``docs/reproduce.md``.

========================  ==================================================================
name                      finding
========================  ==================================================================
``statistics``            (i) a power-law spectrum with exponent 1 + α gives loss ∝ n^−α
``nonlinear``             (ii) nonlinear features extend the power law past the rank M
``equiparameterization``  (iii) with the optimal ridge, N = P at fixed N·P; L* ∝ C^(−α/2)
``breakdown``             (iv) double descent at N = P; the law ends at M; the noise plateau
========================  ==================================================================

Examples
--------
>>> sorted(FINDINGS)
['breakdown', 'equiparameterization', 'nonlinear', 'statistics']
"""

from __future__ import annotations

from ._claims import (
    Claim,
    FindingResult,
    agreement,
    bound,
    mean_sem,
    ratio_to_prediction,
    seed_slopes,
    worst_point,
)
from ._jobs import SimulationJob, Simulator, run_inline
from .breakdown import breakdown_finding
from .equiparameterization import equiparameterization_finding
from .nonlinear import nonlinear_finding
from .statistics import statistics_finding

__all__ = [
    "FINDINGS",
    "Claim",
    "FindingResult",
    "SimulationJob",
    "Simulator",
    "agreement",
    "bound",
    "breakdown_finding",
    "equiparameterization_finding",
    "mean_sem",
    "nonlinear_finding",
    "ratio_to_prediction",
    "run_finding",
    "run_inline",
    "seed_slopes",
    "statistics_finding",
    "worst_point",
]

#: Finding name → the function that computes it, in the paper's order.
FINDINGS = {
    "statistics": statistics_finding,
    "nonlinear": nonlinear_finding,
    "equiparameterization": equiparameterization_finding,
    "breakdown": breakdown_finding,
}


def run_finding(
    name: str,
    *,
    quick: bool = False,
    seeds: int | None = None,
    rng: int = 0,
    simulator: Simulator = run_inline,
) -> FindingResult:
    """Compute the finding registered as ``name`` in :data:`FINDINGS`.

    Parameters
    ----------
    name : {"statistics", "nonlinear", "equiparameterization", "breakdown"}
    quick : bool, default False
        Fewer seeds and smaller grids, for a run of about half a minute per finding.
    seeds : int, optional
        Seeds per simulated point (overrides the finding's default).
    rng : int, default 0
        Root seed of every simulation.
    simulator : callable, default :func:`run_inline`
        ``simulator(jobs, rng) -> {name: Dataset}`` runs the finding's simulations.

    Returns
    -------
    FindingResult

    Examples
    --------
    >>> run_finding("statistics", quick=True).holds  # doctest: +SKIP
    True
    """
    from ..._validation import check_choice

    name = check_choice("finding", name, FINDINGS)
    return FINDINGS[name](quick=quick, seeds=seeds, rng=rng, simulator=simulator)
