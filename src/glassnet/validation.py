"""Checks applied once at the boundary of the library (never in inner loops)."""

import math
import numbers
import os
from collections.abc import Sequence
from typing import Any, TypeGuard

import numpy as np
from numpy.typing import DTypeLike

from ._typing import AnyArray, FloatArray
from .errors import InvalidInputError, InvalidTypeError

FLOAT_DTYPES: dict[str, type[np.floating[Any]]] = {"float32": np.float32, "float64": np.float64}


def check_dtype(dtype: DTypeLike) -> np.dtype[np.floating[Any]]:
    """Return ``numpy.dtype`` for ``"float32"`` or ``"float64"``, or raise."""
    try:
        resolved = np.dtype(dtype)
    except TypeError as exc:
        raise InvalidTypeError(f"dtype={dtype!r} is not a dtype; use 'float32' or 'float64'") from exc
    if not _is_float_dtype(resolved):
        raise InvalidInputError(f"dtype={dtype!r} is not supported; use 'float32' or 'float64'")
    return resolved


def _is_float_dtype(dtype: np.dtype[Any]) -> TypeGuard[np.dtype[np.floating[Any]]]:
    return dtype.name in FLOAT_DTYPES


def check_array(X: object, argument: str = "X", *, dtype: DTypeLike = np.float64, finite: bool = True,
                allow_empty: bool = True) -> FloatArray:
    """Return ``X`` as a 2-D array of ``dtype``, or raise a clear error.

    A 1-D input is read as one sample of shape (1, n_features). 0-D and 3-D or
    higher inputs, strings and objects are rejected; NaN and inf are rejected
    naming the first offending row and column when ``finite`` is true.
    """
    if isinstance(X, (str, bytes)):
        raise InvalidTypeError(f"{argument} is a string; expected a 2-D array of numbers (batch, features)")
    if X is None:
        raise InvalidTypeError(f"{argument} is None; expected a 2-D array of numbers (batch, features)")
    if hasattr(X, "toarray") and not isinstance(X, np.ndarray):
        raise InvalidTypeError(
            f"{argument} is a sparse {type(X).__name__}; expected a dense 2-D array. Convert it with {argument}.toarray()"
        )
    try:
        array = np.asarray(X)
    except ValueError as exc:
        raise InvalidInputError(
            f"{argument} could not be read as an array ({exc}); give rows of equal length"
        ) from exc
    if array.dtype.kind == "O" and array.ndim == 0:
        raise InvalidTypeError(
            f"{argument} is a {type(X).__name__}; expected a 2-D array of numbers (batch, features), "
            "e.g. a list of rows or a NumPy array"
        )
    column_names = column_names_of(X)
    if array.dtype.kind == "O":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError) as exc:
            raise InvalidTypeError(
                f"{argument} contains non-numeric values ({exc}){_first_non_numeric(array, column_names)}; "
                "convert or encode them as numbers first"
            ) from exc
    if array.dtype.kind not in "biuf":
        raise InvalidTypeError(
            f"{argument} has dtype {array.dtype}; expected numbers. "
            "Encode text or categorical columns as numbers (e.g. one-hot) first"
        )
    if array.ndim == 0:
        raise InvalidInputError(
            f"{argument} is a single number ({array.item()!r}); expected a 2-D array (batch, features), "
            "e.g. [[x1, x2]]"
        )
    if array.ndim == 1:
        array = array.reshape(1, -1)
    if array.ndim != 2:
        raise InvalidInputError(
            f"{argument} has {array.ndim} dimensions (shape {array.shape}); expected 2 (batch, features). "
            "Flatten each sample to one row, e.g. X.reshape(len(X), -1)"
        )
    if array.shape[1] == 0:
        raise InvalidInputError(f"{argument} has shape {array.shape}: zero features; give at least one column")
    if not allow_empty and array.shape[0] == 0:
        raise InvalidInputError(f"{argument} is empty (shape {array.shape}); give at least one sample")
    array = array.astype(dtype, copy=False)
    if finite:
        check_finite(array, argument, column_names)
    return array


def column_names_of(X: object) -> list[str] | None:
    """Return the column names of a table such as a pandas DataFrame, or None."""
    columns = getattr(X, "columns", None)
    if columns is None or isinstance(X, np.ndarray):
        return None
    return [str(name) for name in columns]


def _first_non_numeric(array: AnyArray, column_names: Sequence[str] | None) -> str:
    """Return " at row r, column c" for the first element float() rejects, or ""."""
    for index in np.ndindex(array.shape):
        try:
            float(array[index])
        except (TypeError, ValueError):
            row = index[0] if array.ndim == 2 else 0
            column = index[-1]
            where = f" at row {row}, column {column}"
            if column_names is not None and column < len(column_names):
                where += f" ({column_names[column]!r})"
            return where + f": {array[index]!r}"
    return ""


# Arrays up to this size are checked element by element in Python.
_FEW = 8


def all_finite(array: AnyArray) -> bool:
    """Return True when no element of ``array`` is NaN or inf.

    One ``sum`` decides in the usual case, with no temporary array, because
    the sum is non-finite whenever an element is. Only a non-finite sum, which
    large finite values can also cause by overflow, leads to an element-wise
    check.
    """
    if array.dtype.kind != "f":
        return True
    if array.size <= _FEW:
        # For a handful of elements Python's own sum and check are quicker than one NumPy call.
        # The sum decides first, as in the general case below.
        values = array.ravel().tolist()
        return math.isfinite(sum(values)) or all(map(math.isfinite, values))
    with np.errstate(over="ignore", invalid="ignore"):  # huge finite values may overflow the sum
        total = np.add.reduce(array, axis=None)
    if math.isfinite(total):
        return True
    return bool(np.isfinite(array).all())


def check_finite(array: AnyArray, argument: str = "X", column_names: Sequence[str] | None = None) -> None:
    """Raise naming the first row and column that contains NaN or inf.

    ``column_names`` (e.g. the header of a CSV file) are added to the message.
    """
    if all_finite(array):
        return
    bad = np.argwhere(~np.isfinite(array))[0]
    row = int(bad[0])
    column = int(bad[1]) if array.ndim > 1 else 0
    value = array[tuple(bad)]
    where = f"row {row}, column {column}" if array.ndim > 1 else f"row {row}"
    if column_names is not None and column < len(column_names):
        where += f" ({column_names[column]!r})"
    raise InvalidInputError(
        f"{argument} contains {value} at {where}; expected finite numbers. "
        "Remove or impute missing and infinite values first"
    )


def check_positive_int(value: object, argument: str) -> int:
    """Return ``value`` as an int >= 1 (NumPy integers included), or raise naming ``argument``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise InvalidTypeError(
            f"{argument}={value!r} ({type(value).__name__}) is not an integer; expected a whole number >= 1"
        )
    if value < 1:
        raise InvalidInputError(f"{argument}={value} is too small; expected a whole number >= 1")
    return int(value)


def check_positive_number(value: object, argument: str) -> float:
    """Return ``value`` as a finite float > 0, or raise naming ``argument``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidTypeError(
            f"{argument}={value!r} ({type(value).__name__}) is not a number; expected a finite number > 0"
        )
    value = float(value)
    if not np.isfinite(value) or value <= 0:
        raise InvalidInputError(f"{argument}={value} is invalid; expected a finite number > 0")
    return value


def check_sample_counts(n_inputs: int, n_targets: int, inputs: str = "X", targets: str = "y") -> None:
    """Raise when ``inputs`` and ``targets`` have different numbers of rows."""
    if n_inputs != n_targets:
        raise InvalidInputError(
            f"{inputs} has {n_inputs} samples but {targets} has {n_targets}; "
            f"expected one target per input row. Check that {inputs} and {targets} come from the same rows"
        )


def physical_memory_bytes() -> int | None:
    """Return the machine's physical memory in bytes, or None where the OS does not report it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (AttributeError, ValueError, OSError):
        return None
