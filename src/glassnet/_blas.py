"""The BLAS update ``y ← y + a · x`` in one pass, from the BLAS that NumPy itself uses.

NumPy has no fused multiply-add on arrays, so ``p -= lr · g`` costs two
passes over memory: one to write ``lr · g`` into a work array and one to
subtract it. The BLAS routine ``axpy`` reads each array once and splits a
long one across the BLAS threads.

NumPy does not expose ``axpy``, so it is called through :mod:`ctypes` in the
OpenBLAS library that NumPy's wheels ship (``numpy.libs`` on Linux and
Windows, ``numpy/.dylibs`` on macOS). SciPy's ``scipy.linalg.blas.saxpy``
would be the usual route, but SciPy ships its own OpenBLAS with its own
threads. Called between NumPy's matrix products, the two thread pools took
turns spinning on the same two cores, and the 784-256-128-10 MLP trained
10,479 samples per second at batch 128 instead of about 120,000.

The library is loaded on the first update of an array of at least
:data:`MIN_SIZE` elements. Where no known OpenBLAS is found (NumPy built
against MKL or Accelerate, for example), or its routine fails a check on a
small array, :func:`axpy_for` returns None and callers use NumPy.
"""

from __future__ import annotations

import ctypes
import os
from collections.abc import Callable
from typing import Any

import numpy as np

from ._typing import FloatArray

# Elements. A network this small spends its step on Python calls more than on its update.
MIN_SIZE = 1 << 16

Axpy = Callable[[FloatArray, FloatArray, float], None]

# For each dtype, the function and the max number of elements its integer type can count, or None
# where NumPy does the update. Filled on first use.
_FUNCTIONS: dict[str, tuple[Axpy, int] | None] = {}

# (symbol format, integer type), tried in order. The first is the scipy-openblas64 build in NumPy 2's
# wheels, which the tests run against. The others are an OpenBLAS built with the 64_ symbol suffix
# alone and plain 32-bit-integer builds. A routine is used only after it passes _works.
_SYMBOLS = (("scipy_cblas_{}axpy64_", ctypes.c_int64), ("cblas_{}axpy64_", ctypes.c_int64),
            ("scipy_cblas_{}axpy", ctypes.c_int32), ("cblas_{}axpy", ctypes.c_int32))


def axpy_for(array: FloatArray) -> Axpy | None:
    """Return ``axpy(x, y, a)``, which does ``y += a · x`` in place, for arrays like ``array``; or None.

    None is returned, and NumPy does the update, for:

    - arrays below :data:`MIN_SIZE` elements;
    - arrays that are not one contiguous 1-d block;
    - dtypes other than float32 and float64;
    - read-only arrays, which NumPy rejects and axpy would write through its pointer;
    - arrays longer than the OpenBLAS integer type can count (2**31 - 1 for 32-bit integers);
    - a NumPy without an OpenBLAS of its own that passes the check.

    The function checks nothing: ``x`` and ``y`` must be contiguous, of
    ``array``'s dtype, ``y`` writeable, and ``x`` at least as long as ``y``.
    """
    if (array.size < MIN_SIZE or array.ndim != 1 or not array.flags.c_contiguous
            or not array.flags.writeable):
        return None
    key = array.dtype.str
    if key not in _FUNCTIONS:
        _FUNCTIONS[key] = _load(array.dtype)
    loaded = _FUNCTIONS[key]
    # ctypes wraps a size beyond the integer type around without an error (2**31 becomes -2**31).
    if loaded is None or array.size > loaded[1]:
        return None
    return loaded[0]


def _library_files() -> list[str]:
    """Return the OpenBLAS files bundled with NumPy's wheel, where NumPy was installed from one."""
    import glob

    root = os.path.dirname(os.path.dirname(os.path.abspath(np.__file__)))
    patterns = (os.path.join(root, "numpy.libs", "*openblas*"), os.path.join(root, "numpy", ".dylibs", "*openblas*"))
    return sorted(path for pattern in patterns for path in glob.glob(pattern))


def _load(dtype: np.dtype[Any]) -> tuple[Axpy, int] | None:
    scalar: type[ctypes.c_float] | type[ctypes.c_double]
    if dtype == np.float32:
        letter, scalar = "s", ctypes.c_float
    elif dtype == np.float64:
        letter, scalar = "d", ctypes.c_double
    else:
        return None
    # Only a library that NumPy has loaded already, because a second copy of OpenBLAS would bring a
    # second thread pool. Windows has no such flag, and there NumPy's wheel contains a single OpenBLAS.
    mode = getattr(os, "RTLD_NOLOAD", 0) | ctypes.RTLD_LOCAL
    for path in _library_files():
        try:
            library = ctypes.CDLL(path, mode=mode)
        except OSError:
            continue
        for symbol, integer in _SYMBOLS:
            routine = getattr(library, symbol.format(letter), None)
            if routine is None:
                continue
            routine.restype = None
            routine.argtypes = (integer, scalar, ctypes.c_void_p, integer, ctypes.c_void_p, integer)
            axpy = _wrap(routine)
            if _works(axpy, dtype):
                return axpy, 2 ** (8 * ctypes.sizeof(integer) - 1) - 1
    return None


def _wrap(routine: Any) -> Axpy:
    def axpy(x: FloatArray, y: FloatArray, a: float) -> None:
        routine(y.size, a, x.ctypes.data, 1, y.ctypes.data, 1)
    return axpy


def _works(axpy: Axpy, dtype: np.dtype[Any]) -> bool:
    """Return whether ``axpy`` agrees with NumPy on a few elements, as it would not with a wrong signature."""
    x = np.arange(1, 6, dtype=dtype)
    y = np.full(5, 0.5, dtype=dtype)
    expected = y - 2 * x
    axpy(x, y, -2.0)
    return bool(np.array_equal(y, expected))
