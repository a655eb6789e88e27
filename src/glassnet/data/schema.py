"""CsvSchema: how the columns of a CSV file were encoded as features and target."""

from __future__ import annotations

import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from ..errors import InvalidInputError, InvalidTypeError
from ._checks import check_task
from .dataset import ClassName

SCHEMA_FORMAT = "glassnet-csv-schema"
SCHEMA_VERSION = 1
COLUMN_KINDS = ("numeric", "categorical")


@dataclass
class CsvSchema:
    """Column layout and encoding of a CSV file, reusable for later files.

    Pass it to ``load_csv(path, schema=...)`` to encode another file (for
    example input for prediction, with or without the target column) into
    the same feature columns, in the same order, with the same categories
    and label order.

    Attributes
    ----------
    feature_columns : list of str
        CSV columns used as features, in encoding order.
    column_kinds : dict of str to str
        ``"numeric"`` or ``"categorical"`` for each feature column.
    categories : dict of str to list of str
        Sorted categories of each categorical column. A categorical column
        becomes one 0/1 feature per category, named ``"column=category"``.
    target : str
        Name of the target column.
    task : str
        ``"classification"`` or ``"regression"``.
    class_names : list or None
        Label values in label order (all str, all int or all float) for
        classification, None for regression.
    """

    feature_columns: list[str]
    column_kinds: dict[str, str]
    categories: dict[str, list[str]]
    target: str
    task: str
    class_names: list[ClassName] | None = None

    def __post_init__(self) -> None:
        _check_columns(self.feature_columns, self.target)
        _check_kinds(self.feature_columns, self.column_kinds)
        _check_categories(self.column_kinds, self.categories)
        if check_task(self.task, "CsvSchema.task") is None:
            raise InvalidInputError(
                "CsvSchema.task is None; use 'classification' or 'regression'"
            )
        _check_class_names(self.task, self.class_names)

    @property
    def feature_names(self) -> list[str]:
        """Names of the encoded feature columns, one per column of ``X``."""
        names = []
        for column in self.feature_columns:
            if self.column_kinds[column] == "numeric":
                names.append(column)
            else:
                names.extend(f"{column}={category}" for category in self.categories[column])
        return names

    def to_dict(self) -> dict[str, Any]:
        """Return the schema as a dict of JSON types (str, list, dict, int, float, None)."""
        return {
            "format": SCHEMA_FORMAT,
            "version": SCHEMA_VERSION,
            "feature_columns": list(self.feature_columns),
            "column_kinds": dict(self.column_kinds),
            "categories": {column: list(values) for column, values in self.categories.items()},
            "target": self.target,
            "task": self.task,
            "class_names": None if self.class_names is None else list(self.class_names),
        }

    @classmethod
    def from_dict(cls, data: object) -> CsvSchema:
        """Rebuild a schema from the output of :meth:`to_dict`, checking every field."""
        if not isinstance(data, dict):
            raise InvalidTypeError(
                f"CsvSchema.from_dict got {type(data).__name__}; expected the dict "
                "returned by CsvSchema.to_dict()"
            )

        if data.get("format") != SCHEMA_FORMAT:
            raise InvalidInputError(
                f"schema dict has format={data.get('format')!r}; expected "
                f"{SCHEMA_FORMAT!r}. Pass the dict returned by CsvSchema.to_dict()"
            )
        if data.get("version") != SCHEMA_VERSION:
            raise InvalidInputError(
                f"schema dict has version={data.get('version')!r}; this glassnet reads "
                f"version {SCHEMA_VERSION}. Load the CSV file again to make a new schema"
            )

        required = ("feature_columns", "column_kinds", "categories", "target", "task", "class_names")
        missing = [key for key in required if key not in data]
        if missing:
            raise InvalidInputError(
                f"schema dict is missing the keys {missing}; expected all of {list(required)}"
            )

        if not isinstance(data["feature_columns"], list):
            raise InvalidTypeError(
                f"schema 'feature_columns' has type {type(data['feature_columns']).__name__}; "
                "expected a list of column names"
            )
        for key in ("column_kinds", "categories"):
            if not isinstance(data[key], dict):
                raise InvalidTypeError(
                    f"schema {key!r} has type {type(data[key]).__name__}; expected a dict "
                    "keyed by column name"
                )
        class_names = data["class_names"]
        if class_names is not None and not isinstance(class_names, list):
            raise InvalidTypeError(
                f"schema 'class_names' has type {type(class_names).__name__}; "
                "expected a list or None"
            )

        return cls(
            feature_columns=list(data["feature_columns"]),
            column_kinds=dict(data["column_kinds"]),
            categories={column: _as_list(column, values) for column, values in data["categories"].items()},
            target=data["target"],
            task=data["task"],
            class_names=None if class_names is None else list(class_names),
        )


def _as_list(column: str, values: object) -> list[Any]:
    if not isinstance(values, list):
        raise InvalidTypeError(
            f"schema categories of column {column!r} have type {type(values).__name__}; "
            "expected a list of strings"
        )
    return list(values)


def _check_columns(feature_columns: list[str], target: str) -> None:
    if not isinstance(target, str) or not target:
        raise InvalidInputError(
            f"CsvSchema.target={target!r} is invalid; expected a non-empty column name"
        )
    if not feature_columns:
        raise InvalidInputError(
            "CsvSchema.feature_columns is empty; expected at least one feature column"
        )
    seen: set[str] = set()
    for column in feature_columns:
        if not isinstance(column, str) or not column:
            raise InvalidInputError(
                f"CsvSchema.feature_columns contains {column!r}; expected non-empty strings"
            )
        if column in seen:
            raise InvalidInputError(
                f"CsvSchema.feature_columns lists {column!r} twice; each column may appear once"
            )
        seen.add(column)
    if target in seen:
        raise InvalidInputError(
            f"CsvSchema.target={target!r} is also a feature column; "
            "the target must not be a feature"
        )


def _check_kinds(feature_columns: list[str], column_kinds: dict[str, str]) -> None:
    if set(column_kinds) != set(feature_columns):
        raise InvalidInputError(
            f"CsvSchema.column_kinds has the columns {sorted(column_kinds)} but "
            f"feature_columns has {sorted(feature_columns)}; give one kind per feature column"
        )
    for column, kind in column_kinds.items():
        if kind not in COLUMN_KINDS:
            raise InvalidInputError(
                f"CsvSchema.column_kinds[{column!r}] = {kind!r} is invalid; "
                f"use one of {', '.join(repr(k) for k in COLUMN_KINDS)}"
            )


def _check_categories(column_kinds: dict[str, str], categories: dict[str, list[str]]) -> None:
    categorical = {column for column, kind in column_kinds.items() if kind == "categorical"}
    if set(categories) != categorical:
        raise InvalidInputError(
            f"CsvSchema.categories has the columns {sorted(categories)} but the categorical "
            f"columns are {sorted(categorical)}; give categories for exactly those columns"
        )
    for column, values in categories.items():
        if not values:
            raise InvalidInputError(
                f"CsvSchema.categories[{column!r}] is empty; a categorical column needs "
                "at least one category"
            )
        if not all(isinstance(value, str) for value in values):
            raise InvalidInputError(
                f"CsvSchema.categories[{column!r}] = {values!r} contains a non-string; "
                "categories are the cell texts of the CSV file"
            )
        if len(set(values)) != len(values):
            raise InvalidInputError(
                f"CsvSchema.categories[{column!r}] = {values!r} repeats a category; "
                "list each category once"
            )


def _check_class_names(task: str, class_names: list[ClassName] | None) -> None:
    if task == "regression":
        if class_names is not None:
            raise InvalidInputError(
                f"CsvSchema.class_names={class_names!r} is given for task 'regression'; "
                "use None"
            )
        return
    if not class_names:
        raise InvalidInputError(
            f"CsvSchema.class_names={class_names!r} is invalid for task 'classification'; "
            "expected a non-empty list of label values"
        )
    if class_label_kind(class_names) is None:
        raise InvalidInputError(
            f"CsvSchema.class_names={class_names!r} is invalid; expected all strings, "
            "all integers or all floats"
        )
    if len(set(class_names)) != len(class_names):
        raise InvalidInputError(
            f"CsvSchema.class_names={class_names!r} repeats a label; list each label once"
        )


def class_label_kind(class_names: Sequence[object]) -> str | None:
    """Return "str", "int" or "float" for uniform class names, else None."""
    if all(isinstance(name, str) for name in class_names):
        return "str"
    if any(isinstance(name, bool) for name in class_names):
        return None
    if all(isinstance(name, numbers.Integral) for name in class_names):
        return "int"
    if all(isinstance(name, float) for name in class_names):
        return "float"
    return None
