"""Large theory grids: chunks, progress, and refusals by estimated time and memory."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._memory import MemoryLimitError
from scalinglaws._validation import InputError
from scalinglaws.bridges.equivalence import predict_grid
from scalinglaws.theory import _grid, theory_grid, theory_loss

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


def _spec():
    return ModelSpec(spectrum=Spectrum.power_law(latent_dim=300, alpha=1.0))


GRID = dict(n_features=list(range(1, 41)), n_samples=list(range(5, 45)), ridges=[0.0, 0.1])


def test_grid_in_chunks_reports_progress_and_equals_one_broadcast_call():
    calls = []
    with pytest.warns(match="pole"):
        ds = theory_grid(_spec(), **GRID, progress=lambda done, total: calls.append((done, total)))
    total = 40 * 40 * 2
    assert calls[0] == (0, total) and calls[-1] == (total, total) and len(calls) > 2
    assert all(a[0] < b[0] for a, b in zip(calls, calls[1:], strict=False))
    nf, ns, rg = (np.array(GRID[k], dtype=float) for k in ("n_features", "n_samples", "ridges"))
    with pytest.warns(match="pole"):
        res = theory_loss(_spec(), nf[:, None, None], ns[None, :, None], rg)
    # chunks only change the blocking of the spectral sums: round-off, 1e-12
    assert_allclose(ds.excess.values, res.excess, rtol=1e-12)


def test_grid_whose_estimated_time_is_too_long_is_refused_unless_allowed(monkeypatch):
    monkeypatch.setattr(_grid, "MAX_SECONDS", 1e-6)
    with pytest.raises(InputError, match=r"The theory grid of 3,200 points would take about"):
        theory_grid(_spec(), **GRID)
    with pytest.raises(InputError, match="allow_slow=True"):
        predict_grid(_spec(), **GRID)
    with pytest.warns(match="pole"):
        ds = theory_grid(_spec(), **GRID, allow_slow=True)
    assert ds.excess.shape == (40, 40, 2)


def test_grid_that_cannot_fit_in_memory_is_refused_before_it_starts():
    with pytest.raises(MemoryLimitError, match=r"of 3,200 points needs about .* 'n_features'"):
        theory_grid(_spec(), **GRID, max_memory="1MB")
    with pytest.raises(MemoryLimitError, match="max_memory"):
        theory_loss(_spec(), np.ones(10**6), 10.0, max_memory="1MB")
