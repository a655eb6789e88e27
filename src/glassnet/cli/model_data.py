"""Reading data for a saved model: CSV files through the model's schema, or bundled data sets."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from ..data import CsvSchema, Dataset
    from ..model import Model, TrainConfig

# Name of the target column of bundled data sets when written as CSV.
BUNDLED_TARGET = "target"


def model_schema(model: Model) -> CsvSchema:
    """Return the :class:`~glassnet.data.CsvSchema` that encodes CSV input for ``model``.

    A model trained on a CSV file stores its schema. For a model trained on a
    bundled data set, the schema is its numeric feature columns, by name, and
    an optional ``target`` column.
    """
    from ..data import CsvSchema
    from ..errors import InvalidInputError

    if model.schema is not None:
        return CsvSchema.from_dict(model.schema)
    if not model.feature_names:
        raise InvalidInputError(
            "the model stores no feature names, so CSV columns cannot be matched to its inputs; "
            "retrain it with glassnet train"
        )
    return CsvSchema(feature_columns=list(model.feature_names),
                     column_kinds={name: "numeric" for name in model.feature_names}, categories={},
                     target=BUNDLED_TARGET, task=model.task,
                     class_names=None if model.class_names is None else list(model.class_names))


def load_model_csv(model: Model, path: str) -> Dataset:
    """Encode the CSV file at ``path`` for ``model``; return the Dataset (``y`` is None without a target)."""
    from ..data import load_csv

    return load_csv(path, schema=model_schema(model))


def is_csv_path(text: str) -> bool:
    """Return True when ``text`` names a CSV file rather than a bundled data set."""
    return text.lower().endswith(".csv") or Path(text).exists()


def train_config(model: Model) -> TrainConfig:
    """Return the model's :class:`~glassnet.model.TrainConfig`, ignoring keys this version does not know."""
    from dataclasses import fields

    from ..model import TrainConfig

    known = {field.name for field in fields(TrainConfig)}
    stored = {key: value for key, value in (model.config or {}).items() if key in known}
    if "hidden" in stored:
        stored["hidden"] = tuple(stored["hidden"])
    return TrainConfig(**stored)


def bundled_test_split(model: Model, name: str) -> tuple[NDArray[Any], NDArray[Any], str]:
    """Return ``(X_test, y_test, description)`` of bundled data set ``name`` as ``glassnet train`` split it."""
    from ..data import load_dataset
    from ..errors import InvalidInputError
    from .train import split_for_training

    config = train_config(model)
    dataset = load_dataset(name, seed=config.seed)
    if list(dataset.feature_names) != list(model.feature_names) or dataset.class_names != model.class_names:
        raise InvalidInputError(
            f"data set {dataset.name!r} has the features {_preview(dataset.feature_names)} and classes "
            f"{dataset.class_names}, but the model was trained on {_preview(model.feature_names)} and "
            f"{model.class_names}. Evaluate on the model's own data set"
            + (f" ({model.data['dataset']})" if model.data and "dataset" in model.data else "")
            + " or on a CSV file with its columns"
        )
    _, X_test, y_test = split_for_training(dataset, config)
    return X_test, y_test, f"{dataset.name} test split (seed {config.seed})"


def _preview(names: Iterable[object], count: int = 4) -> str:
    listed = list(names)
    shown = ", ".join(map(str, listed[:count]))
    return f"[{shown}{', ...' if len(listed) > count else ''}] ({len(listed)})"
