"""Label encoding helpers."""

import numbers
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ..errors import InvalidInputError, InvalidTypeError


def one_hot(labels: ArrayLike, n_classes: int, dtype: DTypeLike = np.float64) -> NDArray[Any]:
    """Encode integer class labels as one-hot rows.

    Parameters
    ----------
    labels : array-like of int, of shape (n_samples,)
        Class labels in ``0 .. n_classes - 1``.
    n_classes : int
        Number of classes K (at least 1).
    dtype : dtype, default float64
        dtype of the returned array.

    Returns
    -------
    ndarray of shape (n_samples, n_classes)
        Row ``i`` is 1 in column ``labels[i]`` and 0 elsewhere.
    """
    if isinstance(n_classes, bool) or not isinstance(n_classes, numbers.Integral):
        raise InvalidTypeError(
            f"n_classes={n_classes!r} has type {type(n_classes).__name__}; "
            "expected a positive integer"
        )
    if n_classes < 1:
        raise InvalidInputError(f"n_classes={n_classes} is invalid; expected at least 1")

    array = np.asarray(labels)
    if array.dtype.kind not in "iu":
        raise InvalidTypeError(
            f"labels has dtype {array.dtype}; expected integer class labels "
            f"0..{n_classes - 1}. Convert them first, e.g. labels.astype(int)"
        )
    if array.ndim != 1:
        raise InvalidInputError(
            f"labels has shape {array.shape}; expected a 1-D array of class labels"
        )
    outside = (array < 0) | (array >= n_classes)
    if outside.any():
        index = int(np.flatnonzero(outside)[0])
        raise InvalidInputError(
            f"labels[{index}] = {int(array[index])} is outside 0..{n_classes - 1}; "
            f"raise n_classes or fix the label"
        )

    encoded = np.zeros((array.shape[0], int(n_classes)), dtype=dtype)
    encoded[np.arange(array.shape[0]), array] = 1
    return encoded
