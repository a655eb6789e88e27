"""Feature standardization fitted on training data."""

from __future__ import annotations

import numbers

import numpy as np
from numpy.typing import ArrayLike

from .._typing import FloatArray
from ..errors import InvalidInputError, InvalidTypeError, NotFittedError
from ..validation import check_array


class Standardizer:
    """Scale each feature to mean 0 and standard deviation 1.

    ``transform(X) = (X - mean_) / scale_``, where ``mean_`` and ``scale_``
    are the per-column mean and population standard deviation (ddof=0) of
    the data passed to :meth:`fit`. A constant column gets ``scale_ = 1``,
    so it maps to 0 instead of dividing by zero. Fit on the training split
    only, so that no statistic of the validation or test data leaks into
    training.

    Attributes
    ----------
    mean_ : ndarray of shape (n_features,) or None
        Column means, None before fitting.
    scale_ : ndarray of shape (n_features,) or None
        Column standard deviations with constant columns set to 1, None
        before fitting.
    """

    def __init__(self) -> None:
        self.mean_: FloatArray | None = None
        self.scale_: FloatArray | None = None

    @property
    def n_features_in_(self) -> int | None:
        """Number of features seen by :meth:`fit`, None before fitting."""
        return None if self.mean_ is None else int(self.mean_.shape[0])

    def fit(self, X: ArrayLike) -> Standardizer:
        """Compute the column means and standard deviations of X.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Finite training features, at least one row.

        Returns
        -------
        Standardizer
            This standardizer, fitted.
        """
        X = _check_features(X, "X")
        if X.shape[0] == 0:
            raise InvalidInputError(
                f"X has shape {X.shape}: no samples to fit on; give at least one row"
            )
        with np.errstate(over="ignore", invalid="ignore"):
            mean = X.mean(axis=0)
            scale = X.std(axis=0)
        if not (np.isfinite(mean).all() and np.isfinite(scale).all()):
            # Values near the float64 limit (e.g. 1e300) overflow the sum or the
            # squares, so compute those columns on values divided by their peak.
            peak = np.abs(X).max(axis=0)
            peak[peak == 0] = 1.0
            mean = (X / peak).mean(axis=0) * peak
            scale = (X / peak).std(axis=0) * peak

        # Rounding leaves a tiny nonzero std in some constant columns
        # (e.g. a column of 0.1), so a std of at most 10 * eps * |mean|
        # counts as 0.
        constant = scale <= 10 * np.finfo(np.float64).eps * np.abs(mean)
        scale[constant] = 1.0

        self.mean_ = mean
        self.scale_ = scale
        return self

    def transform(self, X: ArrayLike) -> FloatArray:
        """Return ``(X - mean_) / scale_`` as a new float64 array of the shape of X.

        A 1-D X is read as one sample and returned with shape (1, n_features).
        """
        mean, scale = self._fitted_statistics("transform")
        features = self._check_width(_check_features(X, "X"), mean)
        return (features - mean) / scale

    def fit_transform(self, X: ArrayLike) -> FloatArray:
        """Fit on X, then return X transformed."""
        return self.fit(X).transform(X)

    def inverse_transform(self, X: ArrayLike) -> FloatArray:
        """Return ``X * scale_ + mean_``, undoing :meth:`transform`."""
        mean, scale = self._fitted_statistics("inverse_transform")
        features = self._check_width(_check_features(X, "X"), mean)
        return features * scale + mean

    def to_dict(self) -> dict[str, list[float]]:
        """Return ``{"mean": [...], "scale": [...]}`` with plain floats, ready for JSON."""
        mean, scale = self._fitted_statistics("to_dict")
        return {"mean": mean.tolist(), "scale": scale.tolist()}

    @classmethod
    def from_dict(cls, data: object) -> Standardizer:
        """Rebuild a fitted Standardizer from the output of :meth:`to_dict`."""
        if not isinstance(data, dict):
            raise InvalidTypeError(
                f"Standardizer.from_dict got {type(data).__name__}; expected the dict "
                "returned by Standardizer.to_dict()"
            )
        missing = [key for key in ("mean", "scale") if key not in data]
        if missing:
            raise InvalidInputError(
                f"Standardizer dict is missing the keys {missing}; expected 'mean' and 'scale'"
            )
        mean = _vector_from_list(data["mean"], "mean")
        scale = _vector_from_list(data["scale"], "scale")
        if mean.shape != scale.shape:
            raise InvalidInputError(
                f"Standardizer dict has {mean.shape[0]} means and {scale.shape[0]} scales; "
                "expected one of each per feature"
            )
        if (scale <= 0).any():
            index = int(np.flatnonzero(scale <= 0)[0])
            raise InvalidInputError(
                f"Standardizer dict has scale[{index}] = {scale[index]}; every scale "
                "must be positive"
            )
        standardizer = cls()
        standardizer.mean_ = mean
        standardizer.scale_ = scale
        return standardizer

    def _fitted_statistics(self, method: str) -> tuple[FloatArray, FloatArray]:
        """Return ``(mean_, scale_)``, or raise NotFittedError naming ``method``."""
        if self.mean_ is None or self.scale_ is None:
            raise NotFittedError(
                f"Standardizer.{method} was called before fit; call fit(X_train) first"
            )
        return self.mean_, self.scale_

    @staticmethod
    def _check_width(X: FloatArray, mean: FloatArray) -> FloatArray:
        if X.shape[1] != mean.shape[0]:
            raise InvalidInputError(
                f"X has {X.shape[1]} features but the Standardizer was fitted on "
                f"{mean.shape[0]}; pass data with the training columns"
            )
        return X


def _check_features(X: ArrayLike, argument: str) -> FloatArray:
    """Return X as a 2-D finite float64 array (1-D is one sample), or raise."""
    return check_array(X, argument, dtype=np.float64, finite=True)


def _vector_from_list(values: object, key: str) -> FloatArray:
    if not isinstance(values, list) or not all(
        isinstance(value, numbers.Real) and not isinstance(value, bool) for value in values
    ):
        raise InvalidInputError(
            f"Standardizer dict {key!r} = {values!r} is invalid; expected a list of numbers"
        )
    vector = np.array(values, dtype=np.float64)
    if vector.size == 0:
        raise InvalidInputError(f"Standardizer dict {key!r} is empty; expected one value per feature")
    if not np.isfinite(vector).all():
        raise InvalidInputError(
            f"Standardizer dict {key!r} = {values!r} contains NaN or inf; expected finite numbers"
        )
    return vector
