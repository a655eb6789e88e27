"""Network, task and preprocessing that an exporter reads from a model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from ..errors import InvalidTypeError, NotFittedError
from ..network import Sequential


@dataclass
class ExportSource:
    """A network and the preprocessing around it, gathered from any exportable model.

    Attributes
    ----------
    network : Sequential
    task : str
        ``"network"`` for a bare network (the output is the network's output),
        ``"classification"`` or ``"regression"``.
    class_names : list or None
        Label of each class, in probability-column order.
    mean, scale : numpy.ndarray or None
        Input standardisation ``(x - mean) / scale``.
    target_mean, target_scale : numpy.ndarray or None
        Regression output mapping ``y · target_scale + target_mean``.
    squeeze_output : bool
        The model returns a 1-D prediction for a single regression target.
    feature_names : list of str
    kind : str
        What the model was, for the metadata, e.g. ``"GlassClassifier"``.
    """

    network: Sequential
    task: str
    class_names: list[Any] | None = None
    mean: np.ndarray | None = None
    scale: np.ndarray | None = None
    target_mean: np.ndarray | None = None
    target_scale: np.ndarray | None = None
    squeeze_output: bool = False
    feature_names: list[str] | None = None
    kind: str = "Sequential"


def export_source(model: Any) -> ExportSource:
    """Gather the network and preprocessing of a Sequential, a Model or a fitted estimator.

    Raises
    ------
    InvalidTypeError
        When ``model`` is none of these.
    NotFittedError
        When ``model`` is a glassnet estimator that was not fitted.
    """
    source = _gather_source(model)
    # The exporters read the layers' names and numbers, which a network built since from some
    # of these layers may have replaced with its own.
    source.network._ensure_named()
    return source


def _gather_source(model: Any) -> ExportSource:
    from ..model import Model

    if isinstance(model, Sequential):
        return ExportSource(network=model, task="network")
    if isinstance(model, Model):
        return ExportSource(
            network=model.network, task=model.task,
            class_names=list(model.class_names) if model.class_names is not None else None,
            mean=model.mean, scale=model.scale, target_mean=model.target_mean, target_scale=model.target_scale,
            squeeze_output=False, feature_names=list(model.feature_names or []), kind="Model",
        )
    kind = type(model).__name__
    if kind in ("GlassClassifier", "GlassRegressor"):
        if not hasattr(model, "network_"):
            raise NotFittedError(f"this {kind} is not fitted yet; call fit(X, y) before exporting it")
        names = getattr(model, "feature_names_in_", None)
        if kind == "GlassClassifier":
            return ExportSource(network=model.network_, task="classification", class_names=list(model.classes_),
                                feature_names=None if names is None else [str(name) for name in names], kind=kind)
        return ExportSource(network=model.network_, task="regression", squeeze_output=bool(model._y_is_1d),
                            feature_names=None if names is None else [str(name) for name in names], kind=kind)
    raise InvalidTypeError(
        f"model is a {kind}; expected a glassnet Sequential, a glassnet.model.Model "
        "or a fitted GlassClassifier or GlassRegressor"
    )
