"""Arrays that start on a cache-line boundary, for the arrays the training loop reuses.

NumPy takes memory from ``malloc``, which in glibc on x86-64 promises only
16-byte alignment, and serves a large block from ``mmap`` at 16 bytes past a
page boundary. The vector loops of NumPy and of the BLAS then read operands
that straddle cache lines. On the 2-core machine the benchmarks run on, the
hand-written NumPy MLP of ``benchmarks/`` trained an epoch at batch 32 in
80 ms with every array on a 64-byte boundary, and in 82 to 107 ms with
NumPy's own placement. So the parameters, gradients, optimizer buffers and
work arrays are allocated here.
"""

from __future__ import annotations

import math

import numpy as np
from numpy.typing import DTypeLike

from ._typing import FloatArray

# Bytes: one cache line on x86-64 and most ARM cores, and the width of an AVX-512 register.
ALIGNMENT = 64


def aligned_empty(shape: int | tuple[int, ...], dtype: DTypeLike) -> FloatArray:
    """Return an uninitialised C-ordered array whose first element is on a 64-byte boundary.

    The array is a view of a slightly larger byte buffer, which it keeps alive.
    """
    dtype = np.dtype(dtype)
    shape = (shape,) if isinstance(shape, int) else tuple(shape)
    nbytes = math.prod(shape) * dtype.itemsize
    raw = np.empty(nbytes + ALIGNMENT, dtype=np.uint8)
    start = -raw.ctypes.data % ALIGNMENT
    array: FloatArray = raw[start:start + nbytes].view(dtype).reshape(shape)
    return array


def aligned_zeros(shape: int | tuple[int, ...], dtype: DTypeLike) -> FloatArray:
    """Return an array of zeros, as :func:`aligned_empty`."""
    array = aligned_empty(shape, dtype)
    array.fill(0)
    return array


def aligned_like(like: FloatArray) -> FloatArray:
    """Return an uninitialised aligned array of ``like``'s shape and dtype."""
    return aligned_empty(like.shape, like.dtype)


def padded_size(size: int, dtype: DTypeLike) -> int:
    """Return ``size`` rounded up to a whole number of 64-byte lines of ``dtype`` elements.

    Parameters laid one after another in a flat array each start on a line
    when every one takes ``padded_size`` elements.
    """
    per_line = max(1, ALIGNMENT // np.dtype(dtype).itemsize)
    return -(-size // per_line) * per_line
