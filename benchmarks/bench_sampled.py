"""Benchmark: the sampled route of the two-level theory on low-rank data, old way against new.

Power-law data (``Spectrum.power_law(latent_dim=M, alpha=1)``, effective rank ≈ 3, where
``route="auto"`` takes the sampled route), a linear teacher, a 10 × 10 grid of (N, P)
log-spaced over [M/2, 8M] × [M/2, 16M], one ridge (1e-3), at each M of ``--latent-dims``:

- old: 8 draws at every N (``draw_rtol=0``), ``eigh``'s default MRRR driver at every size;
- new: the defaults, draws stopped per N once every cell's standard error is under 1 % of its
  mean (at least 3), and divide and conquer (``driver="evd"``) from N = 2000.

Each way runs the library's own code; the stages are timed by wrapping the functions the route
calls: the kernel and target moments of one draw (``_averaged_moments``), the leading blocks'
eigendecompositions (``kernel_spectrum``) and the one-level loss on the grid
(``one_level_loss``). Prints seconds per stage and in total, the draws used per N, the ratio
old/new, and the largest difference between the two ways' excess in units of the old way's
standard error (a mean of k of the 8 draws differs from all 8's by sqrt(8/k − 1) of it) and
relative. Run on one BLAS thread (``eigh`` of the large blocks dominates; the cost grows as
N_max³, ~8x per doubling of M):
``OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_sampled.py -M 200,500``.
M = 1000 (N up to 8000) takes the old way about half an hour on one thread.
"""

from __future__ import annotations

import argparse
import time
import warnings
from contextlib import contextmanager

import numpy as np

from scalinglaws import ModelSpec, Spectrum
from scalinglaws._validation import NumericalWarning
from scalinglaws.bridges import equivalence
from scalinglaws.theory import nonlinear

STAGES = {"kernel": "_averaged_moments", "eigh": "kernel_spectrum", "loss": "one_level_loss"}


@contextmanager
def timed_stages(seconds: dict):
    """Wrap the sampled route's three stages in ``equivalence``'s namespace with timers."""
    saved = {name: getattr(equivalence, attr) for name, attr in STAGES.items()}

    def wrap(name, func):
        def timed(*args, **kwargs):
            start = time.perf_counter()
            try:
                return func(*args, **kwargs)
            finally:
                seconds[name] += time.perf_counter() - start

        return timed

    for name, attr in STAGES.items():
        setattr(equivalence, attr, wrap(name, saved[name]))
    try:
        yield
    finally:
        for name, attr in STAGES.items():
            setattr(equivalence, attr, saved[name])


def run(spec, nf, ns, old: bool):
    seconds = dict.fromkeys(STAGES, 0.0)
    evd_min = nonlinear.EVD_MIN_SIZE
    if old:
        nonlinear.EVD_MIN_SIZE = 10**9  # eigh's default driver at every size
    try:
        with timed_stages(seconds), warnings.catch_warnings():
            warnings.simplefilter("ignore", NumericalWarning)
            start = time.perf_counter()
            ds = equivalence.two_level_theory(
                spec, n_features=nf, n_samples=ns, ridges=[1e-3], route="sampled",
                draw_rtol=0.0 if old else None, allow_slow=True,
            )  # fmt: skip
            seconds["total"] = time.perf_counter() - start
    finally:
        nonlinear.EVD_MIN_SIZE = evd_min
    return seconds, ds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--latent-dims", "-M", default="200,500,1000")
    parser.add_argument("--activations", default="relu,erf")
    args = parser.parse_args()
    print(f"{'M':>5} {'act':>5} {'way':>4} {'kernel s':>9} {'eigh s':>8} {'loss s':>7} "
          f"{'total s':>8} {'ratio':>6}  draws per N (N = M/2 ... 8M); new vs old: "
          "max |diff|/(SE_old·sqrt(8/k-1)), max |new/old - 1|", flush=True)
    for m in (int(x) for x in args.latent_dims.split(",")):
        nf = np.unique(np.geomspace(m / 2, 8 * m, 10).astype(int))
        ns = np.unique(np.geomspace(m / 2, 16 * m, 10).astype(int))
        for name in args.activations.split(","):
            spec = ModelSpec(spectrum=Spectrum.power_law(latent_dim=m, alpha=1.0),
                             activation=name)
            t_old, old = run(spec, nf, ns, old=True)
            t_new, new = run(spec, nf, ns, old=False)
            used = np.broadcast_to(np.asarray(new.attrs["n_draws"]), nf.shape)
            scale = np.sqrt(8 / used - 1)[:, None, None] * old.excess_sem.values
            diff = np.abs(new.excess.values - old.excess.values)
            with np.errstate(invalid="ignore", divide="ignore"):
                in_se = np.nanmax(np.where(scale > 0, diff / scale, 0.0))
            rel = float(np.max(diff / np.abs(old.excess.values)))
            for way, t, ds in (("old", t_old, old), ("new", t_new, new)):
                draws = np.broadcast_to(np.asarray(ds.attrs["n_draws"]), nf.shape)
                ratio = f"{t_old['total'] / t_new['total']:6.2f}" if way == "new" else " " * 6
                tail = f"  {in_se:.2f}, {rel:.4f}" if way == "new" else ""
                print(f"{m:5d} {name:>5} {way:>4} {t['kernel']:9.2f} {t['eigh']:8.2f} "
                      f"{t['loss']:7.2f} {t['total']:8.2f} {ratio}  "
                      f"{','.join(str(int(d)) for d in draws)}{tail}", flush=True)


if __name__ == "__main__":
    main()
