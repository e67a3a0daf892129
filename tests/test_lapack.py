"""The GIL-free Cholesky (sampling._lapack) against SciPy's wrapper, and that it frees the GIL."""

import threading

import numpy as np
import pytest
import scipy.linalg as sla

from scalinglaws.sampling._lapack import potrf, releases_gil


def spd(n, rng, dtype=np.float64):
    a = rng.standard_normal((n, n))
    return np.asfortranarray(a @ a.T / n + np.eye(n), dtype=dtype)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("n", [1, 7, 300])
def test_potrf_gives_scipys_factor_to_the_last_bit(dtype, n):
    """The same LAPACK routine of the same library, called another way: identical bits."""
    rng = np.random.default_rng(n)
    a = spd(n, rng, dtype)
    ours = a.copy(order="F")
    assert potrf(ours) == 0
    name = "spotrf" if dtype == np.float32 else "dpotrf"
    theirs, info = getattr(sla.lapack, name)(a.copy(order="F"), lower=0, clean=0)
    assert info == 0
    np.testing.assert_array_equal(np.triu(ours), np.triu(theirs))
    # the strict lower triangle is left as it was
    np.testing.assert_array_equal(np.tril(ours, -1), np.tril(a, -1))
    # and it is a Cholesky factor (independent check: RᵀR against A): the backward error of
    # Cholesky is below c·n·eps·‖A‖ (Higham, Thm 10.3); 50 n eps leaves room for any kernel
    r = np.triu(ours).astype(np.float64)
    tol = 50 * n * np.finfo(dtype).eps
    np.testing.assert_allclose(r.T @ r, a, rtol=0, atol=tol * np.abs(a).max())


def test_potrf_reports_the_first_minor_that_is_not_positive_definite():
    a = np.asfortranarray(np.diag([1.0, 2.0, -1.0, 3.0]))
    assert potrf(a) == 3
    assert potrf(np.zeros((0, 0), order="F")) == 0


def test_potrf_refuses_arrays_lapack_would_misread():
    with pytest.raises(ValueError, match="Fortran-ordered"):
        potrf(np.ones((3, 3)) + np.arange(3))  # C-ordered, not symmetric in memory
    with pytest.raises(ValueError, match="square"):
        potrf(np.ones((3, 2), order="F"))
    with pytest.raises(ValueError, match="float32 or float64"):
        potrf(np.eye(3, dtype=np.complex128, order="F"))


@pytest.mark.skipif(not releases_gil(), reason="this SciPy exports no Cython LAPACK pointers")
def test_potrf_lets_other_python_threads_run_during_the_factorization():
    """The main thread sees the matrix half factorized: Python ran while LAPACK was working.

    The factor's first entry is final after the first block; its last diagonal entry only at
    the very end. A call that held the GIL would let the main thread look only before the call
    or after it, never at a matrix with the first entry final and the last one not. (Without the
    GIL the main thread looks thousands of times during a call of tens of milliseconds.)
    """
    a = spd(2000, np.random.default_rng(0))
    final = a.copy(order="F")
    assert potrf(final) == 0
    first, last = final[0, 0], final[-1, -1]
    assert a[0, 0] != first and a[-1, -1] != last
    inside, done = threading.Event(), threading.Event()

    def factorize():
        inside.set()
        potrf(a)
        done.set()

    worker = threading.Thread(target=factorize)
    worker.start()
    inside.wait()
    halfway = False
    while not done.is_set():
        halfway = halfway or (a[0, 0] == first and a[-1, -1] != last)
    worker.join()
    assert a[-1, -1] == last
    assert halfway
