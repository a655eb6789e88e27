"""Metrics for classification and regression, from NumPy arrays.

Classification metrics take integer labels 0..K-1 (``y_true``, ``y_pred``);
``log_loss`` takes probabilities of shape (n, K). Regression metrics take
arrays of equal shape.
"""

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._typing import ArrayRows, JSONDict


def accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    """Fraction of labels predicted exactly."""
    labels = np.asarray(y_true)
    if labels.size == 0:
        return float("nan")
    return float(np.mean(labels == np.asarray(y_pred)))


def confusion_matrix(y_true: ArrayLike, y_pred: ArrayLike, n_classes: int) -> NDArray[np.int64]:
    """Counts of shape (K, K): row = true class, column = predicted class."""
    matrix = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(matrix, (np.asarray(y_true, dtype=np.intp), np.asarray(y_pred, dtype=np.intp)), 1)
    return matrix


def precision_recall_f1(
    y_true: ArrayLike, y_pred: ArrayLike, n_classes: int,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Per-class precision, recall and F1 (0 where undefined), each of shape (K,)."""
    matrix = confusion_matrix(y_true, y_pred, n_classes)
    true_positive = np.diag(matrix).astype(np.float64)
    predicted = matrix.sum(axis=0)
    actual = matrix.sum(axis=1)
    precision = np.divide(true_positive, predicted, out=np.zeros(n_classes), where=predicted > 0)
    recall = np.divide(true_positive, actual, out=np.zeros(n_classes), where=actual > 0)
    denominator = precision + recall
    f1 = np.divide(2 * precision * recall, denominator, out=np.zeros(n_classes), where=denominator > 0)
    return precision, recall, f1


def log_loss(y_true: ArrayLike, probabilities: ArrayLike, eps: float = 1e-15) -> float:
    """Mean negative log-probability of the true class, probabilities clipped to [eps, 1]."""
    probability_array = np.asarray(probabilities, dtype=np.float64)
    labels = np.asarray(y_true, dtype=np.intp)
    if labels.size == 0:
        return float("nan")
    picked = probability_array[np.arange(labels.shape[0]), labels]
    return float(-np.mean(np.log(np.clip(picked, eps, 1.0))))


def mean_squared_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(diff * diff))


def mean_absolute_error(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    diff = np.asarray(y_true, dtype=np.float64) - np.asarray(y_pred, dtype=np.float64)
    return float(np.mean(np.abs(diff)))


def r2_score(y_true: ArrayRows, y_pred: ArrayRows) -> float:
    """Coefficient of determination, averaged uniformly over output columns."""
    true_values = np.asarray(y_true, dtype=np.float64).reshape(len(y_true), -1)
    predicted_values = np.asarray(y_pred, dtype=np.float64).reshape(len(y_pred), -1)
    residual = np.sum((true_values - predicted_values) ** 2, axis=0)
    total = np.sum((true_values - true_values.mean(axis=0)) ** 2, axis=0)
    scores = np.where(total > 0, 1.0 - residual / np.where(total > 0, total, 1.0), 0.0)
    return float(np.mean(scores))


def classification_report(y_true: ArrayLike, y_pred: ArrayLike, probabilities: ArrayLike | None,
                          class_names: Sequence[Any]) -> JSONDict:
    """Return every classification metric as JSON-ready builtins."""
    n_classes = len(class_names)
    precision, recall, f1 = precision_recall_f1(y_true, y_pred, n_classes)
    return {
        "accuracy": accuracy(y_true, y_pred),
        "precision_macro": float(precision.mean()),
        "recall_macro": float(recall.mean()),
        "f1_macro": float(f1.mean()),
        "log_loss": log_loss(y_true, probabilities) if probabilities is not None else None,
        "per_class": {
            str(name): {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
            for name, p, r, f, s in zip(class_names, precision, recall, f1,
                                        np.bincount(np.asarray(y_true, dtype=np.intp), minlength=n_classes))
        },
        "confusion_matrix": confusion_matrix(y_true, y_pred, n_classes).tolist(),
    }


def regression_report(y_true: ArrayRows, y_pred: ArrayRows) -> dict[str, float]:
    return {
        "mse": mean_squared_error(y_true, y_pred),
        "mae": mean_absolute_error(y_true, y_pred),
        "r2": r2_score(y_true, y_pred),
    }
