"""Cholesky factorizations that release the GIL, so the engine's pool runs them side by side.

SciPy's Python wrappers of LAPACK (``scipy.linalg.lapack.dpotrf``) hold the GIL for the whole
call, so two factorizations on two threads take as long as two in a row (measured on 2 cores,
n = 2048, one BLAS thread each: 1.23 times the time of two in a row). SciPy also exports the
same LAPACK routines as C function pointers for Cython (:mod:`scipy.linalg.cython_lapack`,
``__pyx_capi__``); calling such a pointer through :mod:`ctypes` releases the GIL for the call's
duration, and two side by side then took 0.64 of the time of two in a row
(``benchmarks/bench_kernels.py``). It is the same routine of the same library with the same
arguments, so its factor is the same to the last bit.

Where the pointers cannot be had (a SciPy built without its Cython API, an interpreter without
:mod:`ctypes`), :func:`potrf` falls back to the wrappers: the same numbers, one at a time.
"""

from __future__ import annotations

import ctypes
import functools

import numpy as np

__all__ = ["potrf", "releases_gil"]


@functools.cache
def _cython_potrf(name: str):
    """The C function ``name`` (``spotrf`` or ``dpotrf``) of SciPy's Cython LAPACK, or None."""
    try:
        from scipy.linalg import cython_lapack

        capsule = cython_lapack.__pyx_capi__[name]
        get_name = ctypes.pythonapi.PyCapsule_GetName
        get_name.restype, get_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
        get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
        get_pointer.restype = ctypes.c_void_p
        get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]
        address = get_pointer(capsule, get_name(capsule))
    except (ImportError, AttributeError, KeyError, ValueError):  # pragma: no cover - odd builds
        return None
    if not address:  # pragma: no cover
        return None
    integer = ctypes.POINTER(ctypes.c_int)
    # void ?potrf(char *uplo, int *n, ? *a, int *lda, int *info): CFUNCTYPE releases the GIL
    prototype = ctypes.CFUNCTYPE(None, ctypes.c_char_p, integer, ctypes.c_void_p, integer, integer)
    return prototype(address)


def releases_gil() -> bool:
    """Whether :func:`potrf` calls LAPACK without the GIL on this installation."""
    return _cython_potrf("dpotrf") is not None and _cython_potrf("spotrf") is not None


def potrf(a: np.ndarray) -> int:
    """Upper Cholesky factor of the Fortran-ordered float32 or float64 square ``a``, in place.

    Only the upper triangle is read and written (the strict lower triangle is left as it was).
    Returns LAPACK's ``info``: 0 on success, k > 0 when the leading k × k minor is not positive
    definite.
    """
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not a.flags.f_contiguous:
        raise ValueError(f"potrf needs a square Fortran-ordered array; got shape {a.shape}.")
    if a.dtype == np.float64:
        name = "dpotrf"
    elif a.dtype == np.float32:
        name = "spotrf"
    else:
        raise ValueError(f"potrf needs float32 or float64; got {a.dtype}.")
    n = a.shape[0]
    if n == 0:
        return 0
    function = _cython_potrf(name)
    if function is None:  # pragma: no cover - exercised only where the Cython API is missing
        import scipy.linalg as sla

        factor, info = getattr(sla.lapack, name)(a, lower=0, clean=0, overwrite_a=1)
        if factor is not a:
            a[...] = factor
        return int(info)
    size, info = ctypes.c_int(n), ctypes.c_int(0)
    function(b"U", ctypes.byref(size), a.ctypes.data, ctypes.byref(size), ctypes.byref(info))
    return int(info.value)
