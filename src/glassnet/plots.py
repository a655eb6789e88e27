"""Plots of training curves and 2-D decision regions, written as PNG files.

Needs matplotlib (extra ``plot``). Figures are drawn on matplotlib's Agg
canvas directly, without pyplot, so plotting works without a display and
never changes the caller's pyplot state or backend. A PNG is
``width * dpi`` by ``height * dpi`` pixels exactly.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._typing import StrPath
from .errors import InvalidInputError
from .serialization import atomic_open

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .model import Model
    from .training import History

# Colours of classes 0, 1, 2, ... (matplotlib's "tab10" order), repeated for more classes.
CLASS_COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
                "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf"]


def _new_figure(width: float, height: float, dpi: float) -> Figure:
    from .errors import require

    require("matplotlib", "plot", "plotting")
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    figure = Figure(figsize=(width, height), dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _save(figure: Figure, path: StrPath, dpi: float) -> None:
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format="png", dpi=dpi)


def plot_history(
    history: History | None, path: StrPath, *, width: float = 10.0, height: float = 4.0, dpi: int = 100
) -> None:
    """Draw the loss curves (left) and the validation metrics or learning rate (right) to a PNG.

    Parameters
    ----------
    history : glassnet.training.History
    path : str or Path
        PNG file, written atomically.
    width, height : float
        Size in inches; the PNG is ``width * dpi`` by ``height * dpi`` pixels.
    dpi : int
    """
    if history is None or len(history) == 0:
        raise InvalidInputError("the history is empty; train for at least one epoch before plotting curves")
    figure = _new_figure(width, height, dpi)
    loss_axes, metric_axes = figure.subplots(1, 2)
    epochs = history["epoch"]

    loss_axes.plot(epochs, history["train_loss"], label="train loss", marker="." if len(epochs) < 40 else None)
    if "val_loss" in history.keys():
        loss_axes.plot(epochs, history["val_loss"], label="validation loss")
    loss_axes.set_xlabel("epoch")
    loss_axes.set_ylabel("loss")
    loss_axes.set_title("Loss")
    loss_axes.grid(True, alpha=0.3)
    loss_axes.legend()

    metrics = [key for key in history.keys() if key.startswith("val_") and key != "val_loss"]
    if metrics:
        for key in metrics:
            metric_axes.plot(epochs, history[key], label=key.removeprefix("val_").replace("_", " "))
        metric_axes.set_title("Validation metrics")
        metric_axes.set_ylabel("value")
        metric_axes.legend()
    else:
        metric_axes.plot(epochs, history["learning_rate"], color=CLASS_COLORS[2])
        metric_axes.set_title("Learning rate")
        metric_axes.set_ylabel("learning rate")
    metric_axes.set_xlabel("epoch")
    metric_axes.grid(True, alpha=0.3)
    from matplotlib.ticker import MaxNLocator

    for axes in (loss_axes, metric_axes):
        axes.xaxis.set_major_locator(MaxNLocator(integer=True))
    figure.tight_layout()
    _save(figure, path, dpi)


def plot_decision_boundary(
    model: Model,
    X: ArrayLike,
    y: ArrayLike,
    path: StrPath,
    *,
    resolution: int = 300,
    width: float = 6.0,
    height: float = 6.0,
    dpi: int = 100,
    title: str | None = None,
) -> None:
    """Draw a 2-D model's decision regions (or predicted values) with the points ``(X, y)`` to a PNG.

    Parameters
    ----------
    model : glassnet.model.Model
        A model on exactly two input features.
    X : array of shape (n, 2)
        Raw inputs, as given to ``model.predict``.
    y : array of shape (n,)
        Class numbers 0..K-1 (classification) or values (regression).
    path : str or Path
        PNG file, written atomically.
    resolution : int
        Grid points per axis.
    """
    X = np.asarray(X, dtype=np.float64)
    if model.task == "classification" and model.class_names is None:
        raise InvalidInputError(
            "plot_decision_boundary needs the class names of this classification model, but "
            "class_names=None; give Model(..., class_names=[...]) in the order of the network's outputs"
        )
    if model.network.in_features != 2 or X.ndim != 2 or X.shape[1] != 2:
        raise InvalidInputError(
            f"a decision boundary plot needs a model and data with 2 input features; the model takes "
            f"{model.network.in_features} and X has shape {X.shape}. Use a 2-D data set such as moons, "
            "circles, spirals or xor"
        )
    if X.shape[0] == 0:
        raise InvalidInputError("X is empty; give the training points to draw")
    y = np.asarray(y)
    low = X.min(axis=0)
    high = X.max(axis=0)
    margin = 0.1 * np.maximum(high - low, 1e-9)
    grid_x = np.linspace(low[0] - margin[0], high[0] + margin[0], resolution)
    grid_y = np.linspace(low[1] - margin[1], high[1] + margin[1], resolution)
    mesh_x, mesh_y = np.meshgrid(grid_x, grid_y)
    points = np.column_stack([mesh_x.ravel(), mesh_y.ravel()])  # (resolution², 2)

    figure = _new_figure(width, height, dpi)
    axes = figure.subplots()
    if model.task == "classification":
        _draw_classes(axes, model, points, mesh_x, mesh_y, X, y)
    else:
        values = model.output(points)[:, 0].reshape(mesh_x.shape)
        filled = axes.contourf(mesh_x, mesh_y, values, levels=20, cmap="viridis", alpha=0.8)
        figure.colorbar(filled, ax=axes, label="prediction")
        axes.scatter(X[:, 0], X[:, 1], c=y, cmap="viridis", edgecolors="black", linewidths=0.5, s=18)
    names = model.feature_names if len(model.feature_names) == 2 else ["x1", "x2"]
    axes.set_xlabel(names[0])
    axes.set_ylabel(names[1])
    axes.set_title(title or "Decision regions and training points")
    figure.tight_layout()
    _save(figure, path, dpi)


def _draw_classes(
    axes: Axes,
    model: Model,
    points: NDArray[np.float64],
    mesh_x: NDArray[np.float64],
    mesh_y: NDArray[np.float64],
    X: NDArray[np.float64],
    y: NDArray[Any],
) -> None:
    from matplotlib.colors import ListedColormap

    # plot_decision_boundary has checked that a classifier has class names.
    assert model.class_names is not None
    n_classes = len(model.class_names)
    colors = [CLASS_COLORS[k % len(CLASS_COLORS)] for k in range(n_classes)]
    probabilities = model.predict_proba(points)
    regions = np.argmax(probabilities, axis=1).reshape(mesh_x.shape)
    levels = np.arange(n_classes + 1) - 0.5
    axes.contourf(mesh_x, mesh_y, regions, levels=levels, cmap=ListedColormap(colors), alpha=0.3)
    if n_classes == 2:
        axes.contour(mesh_x, mesh_y, probabilities[:, 1].reshape(mesh_x.shape), levels=[0.5],
                     colors="black", linewidths=1.0)
    labels = np.asarray(y, dtype=np.intp)
    for k in range(n_classes):
        chosen = labels == k
        axes.scatter(X[chosen, 0], X[chosen, 1], color=colors[k], edgecolors="black", linewidths=0.5, s=18,
                     label=str(model.class_names[k]))
    axes.legend(loc="best", title="class")
