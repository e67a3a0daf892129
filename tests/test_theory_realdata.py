"""The theory from a real dataset's pool (realdata_theory) over the float range, and its checks."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

pytest.importorskip("sklearn")

from scalinglaws._validation import InputError, NumericalWarning  # noqa: E402
from scalinglaws.bridges.realdata import make_task, realdata_theory, split_task  # noqa: E402
from scalinglaws.model.streams import child_sequence  # noqa: E402

pytestmark = pytest.mark.filterwarnings("error::RuntimeWarning")


@pytest.fixture(scope="module")
def task():
    return make_task("digits")


def test_linear_theory_with_a_tiny_feature_variance_is_the_null_predictor(task):
    # γ̃ ∝ γ/σ_u² = 1e300: the readout is 0 and the loss the targets' total power in the pool;
    # was noise_var alone (the signal's κ² overflowed to NaN and became 0)
    ds = realdata_theory(task, n_features=[16], n_samples=[100], ridges=[1.0],
                         activation="linear", feature_var=1e-300)  # fmt: skip
    split = split_task(task, None, child_sequence(np.random.SeedSequence(0), 0))
    total = np.sum(split.pool_targets**2) / split.pool_targets.shape[0]
    # exact in the limit (corrections O(1/κ) ~ 1e-300); the sums' round-off is 1e-13
    assert_allclose(ds.test_mse.values, total, rtol=1e-12)


def test_reference_smaller_than_the_largest_n_is_refused(task):
    with pytest.raises(InputError, match=r"^'n_reference' must be >= max n_features = 64"):
        realdata_theory(task, n_features=[16, 64], n_samples=[100], n_reference=32,
                        pool="population")  # fmt: skip


def test_numerical_warnings_of_the_splits_come_once_with_a_count(task):
    with pytest.warns(NumericalWarning, match=r"pole.*\(2 times over 2 split\(s\)\)") as record:
        realdata_theory(task, n_features=[40], n_samples=[40], ridges=[0.0], n_seeds=2,
                        activation="linear")  # fmt: skip
    assert sum("pole" in str(w.message) for w in record) == 1
