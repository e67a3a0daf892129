"""The solve stage's kernels, the plain SciPy call against the one the engine uses, side by side.

Two measurements, each on one BLAS thread, at n = 2048 by default (the grid's largest cell):

1. **One right-hand side.** The mixed-precision refinement (``ridge._refine``) needs G z and
   (RᵀR)⁻¹ r for one column z, r. ``dsymm`` and ``spotrs`` with a single column against the
   matrix-vector kernels ``dsymv`` and two ``strsv``.
2. **Factorizations side by side.** Two ``dpotrf`` of n × n on two Python threads, through
   ``scipy.linalg.lapack.dpotrf`` (holds the GIL) and through ``sampling._lapack.potrf`` (SciPy's
   Cython-API pointer called by ctypes, which releases it): each as the time of the pair side by
   side over the time of the two in a row (2 cores: 0.5 is perfect overlap, 1 is none).

Prints the median of ``--repeats`` timings and the ratios; checks that both factor routes give
the same factor to the last bit.

    .venv/bin/python benchmarks/bench_kernels.py
    .venv/bin/python benchmarks/bench_kernels.py -n 1024 --repeats 9
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import scipy.linalg as sla

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "src"))

from scalinglaws._threads import single_threaded  # noqa: E402
from scalinglaws.sampling._lapack import potrf, releases_gil  # noqa: E402


def median_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def spd(n: int, rng) -> np.ndarray:
    """A well-conditioned symmetric positive definite n × n matrix, Fortran-ordered."""
    a = rng.standard_normal((n, n))
    return np.asfortranarray(a @ a.T / n + np.eye(n))


def one_column(n: int, repeats: int, rng) -> None:
    gram = spd(n, rng)
    z = rng.standard_normal((n, 1))
    factor32 = np.asfortranarray(gram, dtype=np.float32)
    assert potrf(factor32) == 0
    r32 = z.astype(np.float32)
    rows = [
        ("G z", lambda: sla.blas.dsymm(1.0, gram, z, lower=0),
         lambda: sla.blas.dsymv(1.0, gram, z[:, 0], lower=0), "dsymm", "dsymv"),
        ("(R'R)^-1 r, float32", lambda: sla.lapack.spotrs(factor32, r32, lower=0),
         lambda: sla.blas.strsv(factor32, sla.blas.strsv(factor32, r32[:, 0], trans=1, lower=0),
                                lower=0), "spotrs", "2 strsv"),
    ]  # fmt: skip
    print(f"one right-hand side, n = {n}, one BLAS thread (median of {repeats}):")
    for label, plain, used, plain_name, used_name in rows:
        t_plain, t_used = median_time(plain, repeats), median_time(used, repeats)
        print(f"  {label:<22} {plain_name:>8} {t_plain * 1e3:7.2f} ms   {used_name:>8} "
              f"{t_used * 1e3:7.2f} ms   ratio {t_plain / t_used:5.1f}x")  # fmt: skip


def side_by_side(n: int, repeats: int, rng) -> None:
    gram = spd(n, rng)

    def scipy_potrf(a):
        sla.lapack.dpotrf(a, lower=0, clean=0, overwrite_a=1)

    routes = [("scipy.linalg.lapack.dpotrf", scipy_potrf), ("sampling._lapack.potrf", potrf)]
    a, b = gram.copy(order="F"), gram.copy(order="F")
    scipy_potrf(a), potrf(b)
    same = np.array_equal(np.triu(a), np.triu(b))
    print(f"two dpotrf of n = {n}, one BLAS thread each, 2 Python threads "
          f"(median of {repeats}); same factor to the last bit: {same}; "
          f"ctypes route releases the GIL here: {releases_gil()}")  # fmt: skip
    with ThreadPoolExecutor(2) as pool:
        for name, fn in routes:
            def in_a_row(fn=fn):
                for m in (gram.copy(order="F"), gram.copy(order="F")):
                    fn(m)

            def together(fn=fn):
                list(pool.map(fn, [gram.copy(order="F"), gram.copy(order="F")]))

            t_row, t_side = median_time(in_a_row, repeats), median_time(together, repeats)
            print(f"  {name:<28} in a row {t_row:6.3f} s   side by side {t_side:6.3f} s   "
                  f"side/row {t_side / t_row:5.2f}")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=2048, help="matrix side (default 2048)")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    rng = np.random.default_rng(0)
    with single_threaded():
        one_column(args.n, args.repeats, rng)
        side_by_side(args.n, args.repeats, rng)


if __name__ == "__main__":
    main()
