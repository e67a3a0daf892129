"""Every number computed before the engine and the layout were rebuilt is unchanged.

``tests/reference/before_after.json`` holds a fixed set of simulation, theory, nonlinear-theory
and real-data runs computed at commit 9bde58b; the same runs today must agree within the
reproducibility bound established across BLAS kernels and thread counts (1e-8 relative).
"""

import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent / "helpers"))
import before_after  # noqa: E402

REFERENCE = json.loads((Path(__file__).parent / "reference" / "before_after.json").read_text())


@pytest.fixture(scope="module")
def now():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # poles and fallbacks are part of the fixed set
        return before_after.run()


@pytest.mark.parametrize("name", sorted(REFERENCE["values"]))
def test_numbers_unchanged_since_before_the_rebuild(now, name):
    if name not in now:
        pytest.skip(f"{name}: the data extra is not installed")
    before = np.array([np.nan if v is None else v for v in REFERENCE["values"][name]])
    after = np.array([np.nan if v is None else v for v in now[name]])
    rtol = np.full(before.size, 1e-8)
    if name in ("theory/optimal", "theory/frontier"):
        # The first half are argmins (γ*, N*) of objectives that are flat at their minimum: the
        # searches stop at 1e-4 in log γ̃ and log N, and rounding moves them within that (1.2e-5
        # measured for N*); the losses there (second half) stay within the 1e-8 bound.
        rtol[: before.size // 2] = 1e-4
    # Measured after the rebuild: at most 2.8e-12 relative (linear simulation, ridge 0 near the
    # interpolation threshold); 1e-8 is the stated bound across BLAS kernels and thread counts.
    ok = np.isnan(before) & np.isnan(after) | (np.abs(after - before) <= rtol * np.abs(before))
    assert ok.all(), (name, before[~ok], after[~ok])
