"""The Dataset record returned by every loader."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeAlias

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInputError
from ._checks import check_task

if TYPE_CHECKING:
    from .schema import CsvSchema

# The original value of a class label in the source data: a str, int or float.
ClassName: TypeAlias = str | int | float


@dataclass
class Dataset:
    """A numeric dataset ready for training.

    Attributes
    ----------
    name : str
        Short name, e.g. ``"iris"`` or the stem of a CSV file.
    X : ndarray of shape (n_samples, n_features)
        float64 features. Categorical columns are already one-hot encoded.
    y : ndarray of shape (n_samples,) or (n_samples, n_outputs), or None
        Classification: int64 labels 0..K-1 indexing ``class_names``.
        Regression: float64 targets. None only for a CSV file read with a
        schema and without its target column (input for prediction).
    task : str
        ``"classification"`` or ``"regression"``.
    feature_names : list of str
        One name per column of ``X``; a one-hot column is named
        ``"column=category"``.
    class_names : list or None
        Original label values in label order (label ``k`` is
        ``class_names[k]``), each a str, int or float. None for regression.
    X_test, y_test : ndarray or None
        Fixed test split published with the dataset (mnist1d), else None.
    description : str
        One paragraph on the source and contents.
    schema : CsvSchema or None
        How a CSV file was encoded, for encoding later files identically.
        None for the bundled datasets.
    """

    name: str
    X: NDArray[np.float64]
    y: NDArray[Any] | None
    task: str
    feature_names: list[str]
    class_names: list[ClassName] | None = None
    X_test: NDArray[np.float64] | None = None
    y_test: NDArray[Any] | None = None
    description: str = ""
    schema: CsvSchema | None = None

    def __post_init__(self) -> None:
        check_task(self.task, "Dataset.task")
        if self.task is None:
            raise InvalidInputError(
                "Dataset.task is None; use 'classification' or 'regression'"
            )
        _check_arrays(self.X, self.y, "X", "y")
        if len(self.feature_names) != self.X.shape[1]:
            raise InvalidInputError(
                f"Dataset.feature_names has {len(self.feature_names)} names but X has "
                f"{self.X.shape[1]} columns; give one name per column"
            )
        if (self.X_test is None) != (self.y_test is None):
            raise InvalidInputError(
                "Dataset.X_test and Dataset.y_test must both be arrays or both be None"
            )
        if self.X_test is not None:
            _check_arrays(self.X_test, self.y_test, "X_test", "y_test")
            if self.X_test.shape[1] != self.X.shape[1]:
                raise InvalidInputError(
                    f"Dataset.X_test has {self.X_test.shape[1]} columns but X has "
                    f"{self.X.shape[1]}; both need the same features"
                )

    @property
    def n_samples(self) -> int:
        """Number of rows of ``X`` (the fixed test split not included)."""
        return int(self.X.shape[0])

    @property
    def n_features(self) -> int:
        """Number of columns of ``X``."""
        return int(self.X.shape[1])

    @property
    def n_classes(self) -> int | None:
        """Number of classes for classification, None for regression."""
        if self.class_names is None:
            return None
        return len(self.class_names)


def _check_arrays(X: object, y: object, x_name: str, y_name: str) -> None:
    """Raise unless X is 2-D and y, when given, has one row per row of X."""
    if not isinstance(X, np.ndarray) or X.ndim != 2:
        shape = getattr(X, "shape", None)
        raise InvalidInputError(
            f"Dataset.{x_name} must be a 2-D ndarray (n_samples, n_features); "
            f"got {type(X).__name__} with shape {shape}"
        )
    if y is None:
        return
    if not isinstance(y, np.ndarray) or y.ndim not in (1, 2):
        shape = getattr(y, "shape", None)
        raise InvalidInputError(
            f"Dataset.{y_name} must be a 1-D or 2-D ndarray; "
            f"got {type(y).__name__} with shape {shape}"
        )
    if y.shape[0] != X.shape[0]:
        raise InvalidInputError(
            f"Dataset.{y_name} has {y.shape[0]} rows but {x_name} has {X.shape[0]}; "
            "give one target per sample"
        )
