r"""The simulations a finding asks for, and the default way to run them (in this process).

A finding lists its simulations as named :class:`SimulationJob` objects and hands them, all at
once, to a *simulator*: a callable ``simulator(jobs, rng) -> {name: Dataset}``. The default,
:func:`run_inline`, calls :func:`~scalinglaws.sampling.simulate.simulate` for each job in this
process; :func:`scalinglaws.report.reproduce.study_simulator` runs the same jobs as the units of
a temporary study, on any executor of :mod:`scalinglaws.studies`. Either way seed *s* of a job
uses the streams of ``simulate(..., rng=rng)``, so the numbers are the same (to round-off of the
BLAS thread count).

Each returned Dataset has ``excess`` of dims (n_features, n_samples, ridge, seed).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import xarray as xr

from ...model.spec import ModelSpec
from ...sampling.simulate import simulate

__all__ = ["SimulationJob", "Simulator", "run_inline"]


@dataclass(frozen=True)
class SimulationJob:
    """One ``simulate`` call: a spec on a grid N × P × γ with seeds 0 … n_seeds − 1.

    Examples
    --------
    >>> from scalinglaws import Spectrum
    >>> job = SimulationJob(ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0)),
    ...                     n_features=(10, 20), n_samples=(40,), n_seeds=2)
    >>> run_inline({"a": job}, rng=0)["a"].excess.dims
    ('n_features', 'n_samples', 'ridge', 'seed')
    """

    spec: ModelSpec
    n_features: tuple
    n_samples: tuple
    ridges: tuple = (0.0,)
    n_seeds: int = 4

    def grid(self) -> dict:
        """The keyword arguments of ``simulate`` that give the grid."""
        return {
            "n_features": [int(n) for n in self.n_features],
            "n_samples": [int(p) for p in self.n_samples],
            "ridges": [float(g) for g in self.ridges],
            "n_seeds": int(self.n_seeds),
        }


#: ``simulator(jobs, rng) -> {name: Dataset}`` (see the module docstring).
Simulator = Callable[[dict, int], dict]


def run_inline(jobs: dict, rng: int = 0) -> dict[str, xr.Dataset]:
    """Run every job with :func:`~scalinglaws.sampling.simulate.simulate` in this process.

    Examples
    --------
    >>> from scalinglaws import ModelSpec, Spectrum
    >>> from scalinglaws.analysis.findings import SimulationJob
    >>> spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=50, alpha=1.0))
    >>> out = run_inline({'scan': SimulationJob(spec, (10, 20), (40,), n_seeds=2)}, rng=0)
    >>> out['scan'].excess.shape
    (2, 1, 1, 2)
    """
    return {name: simulate(job.spec, **job.grid(), rng=rng) for name, job in jobs.items()}
