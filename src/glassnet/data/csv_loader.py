"""Loading CSV files into numeric datasets with the standard library csv module.

A column whose non-empty cells all parse as numbers is numeric. Any other
feature column is categorical and becomes one 0/1 column per category,
named ``"column=category"``, with categories in sorted order. An empty cell
is a missing value, and ``inf``, ``-inf`` and ``nan`` parse as floats. A
missing or non-finite feature value raises an error naming its row and
column, because training cannot use it.
"""

from __future__ import annotations

import csv
import math
import os
import re
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from .._typing import StrPath
from ..errors import InvalidInputError, InvalidTypeError
from ._checks import check_task
from .dataset import ClassName, Dataset
from .schema import CsvSchema, class_label_kind

if TYPE_CHECKING:
    from _csv import Reader

# An integer target with at most this many distinct values, and fewer
# distinct values than half the rows, is read as class labels.
MAX_INFERRED_CLASSES = 20

INTEGER_PATTERN = re.compile(r"[+-]?[0-9]+")


def load_csv(
    path: StrPath,
    target: str | None = None,
    task: str | None = None,
    schema: CsvSchema | None = None,
) -> Dataset:
    """Read a CSV file with a header row into a numeric Dataset.

    Parameters
    ----------
    path : str or os.PathLike
        CSV file, UTF-8 encoded (a byte order mark is allowed), comma
        separated, first row the column names. Blank lines are skipped.
    target : str, optional
        Name of the target column. Default: the schema's target when a
        schema is given, else the last column.
    task : {"classification", "regression"}, optional
        Default: inferred from the target column. Text labels give
        classification. Integer labels give classification when they have
        at most 20 distinct values and fewer distinct values than half the
        rows. Any other numeric target gives regression.
    schema : CsvSchema, optional
        Schema of an earlier load (``dataset.schema``). The file is then
        encoded into the same features, in the same order, with the same
        categories and labels. The target column may be absent, which gives
        ``y=None``. A missing feature column, an extra column or an unseen
        category raises.

    Returns
    -------
    Dataset
        ``X`` float64 of shape (n_rows, n_features). ``y`` int64 labels
        indexing ``class_names`` (sorted label values) for classification,
        or float64 of shape (n_rows,) for regression. ``schema`` is the
        schema used or created.

    Raises
    ------
    InvalidInputError
        For a missing or unreadable file, a file without data rows, rows
        of the wrong length, empty or duplicate column names, an unknown
        target column, no feature columns, or a missing or non-finite
        feature or regression target value.
    """
    file_path = _check_path(path)
    task = check_task(task)
    if target is not None and not isinstance(target, str):
        raise InvalidTypeError(
            f"target={target!r} has type {type(target).__name__}; expected a column name"
        )
    if schema is not None and not isinstance(schema, CsvSchema):
        raise InvalidTypeError(
            f"schema has type {type(schema).__name__}; expected a CsvSchema. "
            "Rebuild one from a dict with CsvSchema.from_dict(...)"
        )

    header, rows, line_numbers = _read_rows(file_path)
    table = _CsvTable(file_path, header, rows, line_numbers)
    if schema is None:
        return _load_new(table, target, task)
    return _load_with_schema(table, schema, target, task)


class _CsvTable:
    """Cells of a CSV file by column, with the line number of each data row."""

    def __init__(
        self, path: Path, header: list[str], rows: list[list[str]], line_numbers: list[int]
    ) -> None:
        self.path = path
        self.header = header
        self.columns = {name: [row[i] for row in rows] for i, name in enumerate(header)}
        self.line_numbers = line_numbers

    @property
    def n_rows(self) -> int:
        return len(self.line_numbers)

    def where(self, row: int) -> str:
        """Describe a data row for messages: its 0-based index and file line."""
        return f"row {row} (line {self.line_numbers[row]})"


# Reading

def _check_path(path: object) -> Path:
    if not isinstance(path, (str, os.PathLike)):
        raise InvalidTypeError(
            f"path={path!r} has type {type(path).__name__}; expected a file path (str or Path)"
        )
    return Path(path)


def _read_rows(path: Path) -> tuple[list[str], list[list[str]], list[int]]:
    """Return the stripped header, the data rows and their 1-based line numbers."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as file:
            return _parse_rows(path, csv.reader(file))
    except FileNotFoundError as exc:
        raise InvalidInputError(f"path='{path}': file not found; check the path") from exc
    except IsADirectoryError as exc:
        raise InvalidInputError(
            f"path='{path}' is a directory; give the path of a CSV file"
        ) from exc
    except PermissionError as exc:
        raise InvalidInputError(
            f"path='{path}' cannot be read: permission denied; check the file permissions"
        ) from exc
    except UnicodeDecodeError as exc:
        raise InvalidInputError(
            f"path='{path}' is not UTF-8 text ({exc.reason} at byte {exc.start}); "
            "save the file as UTF-8 CSV"
        ) from exc


def _parse_rows(path: Path, reader: Reader) -> tuple[list[str], list[list[str]], list[int]]:
    header: list[str] | None = None
    rows: list[list[str]] = []
    line_numbers: list[int] = []
    try:
        for row in reader:
            if not row:
                continue
            if header is None:
                header = [name.strip() for name in row]
                _check_header(path, header)
                continue
            if len(row) != len(header):
                raise InvalidInputError(
                    f"{path}: line {reader.line_num} has {len(row)} fields but the header "
                    f"has {len(header)} columns; give every row {len(header)} "
                    "comma-separated fields"
                )
            rows.append([cell.strip() for cell in row])
            line_numbers.append(reader.line_num)
    except csv.Error as exc:
        raise InvalidInputError(
            f"{path}: line {reader.line_num} is not valid CSV ({exc}); fix the quoting"
        ) from exc

    if header is None:
        raise InvalidInputError(
            f"{path} is empty: it has no header row and no data rows; "
            "give a header row and at least one data row"
        )
    if not rows:
        raise InvalidInputError(
            f"{path} is empty: it has a header ({len(header)} columns) but no data rows; "
            "add at least one data row"
        )
    return header, rows, line_numbers


def _check_header(path: Path, header: list[str]) -> None:
    seen: dict[str, int] = {}
    for index, name in enumerate(header):
        if not name:
            raise InvalidInputError(
                f"{path}: column {index} of the header has an empty name; "
                "give every column a name"
            )
        if name in seen:
            raise InvalidInputError(
                f"{path}: column name {name!r} appears twice in the header "
                f"(columns {seen[name]} and {index}); rename one of them"
            )
        seen[name] = index


# Cell parsing

# float() and NumPy accept digit separators such as "1_000", but a CSV cell
# with an underscore is read as text.

def _parse_number(cell: str) -> float | None:
    """Return the cell as a float (NaN when empty), or None if it is not a number."""
    if cell == "":
        return math.nan
    if "_" in cell:
        return None
    try:
        return float(cell)
    except ValueError:
        return None


def _parse_numeric_column(cells: list[str]) -> NDArray[np.float64] | None:
    """Return the cells as float64 (NaN when empty), or None if any cell is not a number."""
    if "_" in "".join(cells):
        return None
    try:
        # NumPy (checked with 2.4) parses each string as float() does, in C.
        return np.array([cell if cell else "nan" for cell in cells], dtype=np.float64)
    except ValueError:
        return None


def _first_non_numeric_row(cells: list[str]) -> int:
    return next(row for row, cell in enumerate(cells) if _parse_number(cell) is None)


# Loading without a schema

def _load_new(table: _CsvTable, target: str | None, task: str | None) -> Dataset:
    target = _resolve_target(table, target)
    feature_columns = [name for name in table.header if name != target]
    if not feature_columns:
        raise InvalidInputError(
            f"{table.path} has only the target column {target!r}; "
            "add at least one feature column"
        )

    column_kinds: dict[str, str] = {}
    categories: dict[str, list[str]] = {}
    for name in feature_columns:
        cells = table.columns[name]
        if _parse_numeric_column(cells) is not None:
            column_kinds[name] = "numeric"
        else:
            column_kinds[name] = "categorical"
            categories[name] = sorted({cell for cell in cells if cell != ""})
    # NOTE: there is no limit on categories. A text column with a distinct
    # value in every row, such as an id, becomes one feature per row.

    y, task, class_names = _infer_target(table, target, task)
    schema = CsvSchema(
        feature_columns=feature_columns,
        column_kinds=column_kinds,
        categories=categories,
        target=target,
        task=task,
        class_names=class_names,
    )
    X = _encode_features(table, schema)
    return _make_dataset(table, schema, X, y)


def _resolve_target(table: _CsvTable, target: str | None) -> str:
    if target is None:
        return table.header[-1]
    if target not in table.columns:
        raise InvalidInputError(
            f"target={target!r} is not a column of {table.path}; "
            f"the columns are {table.header}"
        )
    return target


def _infer_target(
    table: _CsvTable, target: str, task: str | None
) -> tuple[NDArray[Any], str, list[ClassName] | None]:
    """Encode the target column, inferring the task when ``task`` is None.

    Returns ``(y, task, class_names)``.
    """
    cells = table.columns[target]
    _check_no_empty_target(table, target, cells)
    numbers = _parse_numeric_column(cells)
    is_numeric = numbers is not None
    is_integer = is_numeric and all(INTEGER_PATTERN.fullmatch(cell) for cell in cells)

    if task is None:
        task = _infer_task(cells, is_numeric, is_integer)

    if task == "regression":
        if numbers is None:
            row = _first_non_numeric_row(cells)
            raise InvalidInputError(
                f"{table.path}: target column {target!r} has the non-numeric value "
                f"{cells[row]!r} at {table.where(row)}; task='regression' needs numbers. "
                "Use task='classification' or fix the value"
            )
        _check_finite_target(table, target, cells, numbers)
        return numbers, task, None

    # Classification: label k is the k-th smallest label value.
    values: list[ClassName]
    if is_integer:
        values = [int(cell) for cell in cells]
    elif numbers is not None:
        _check_finite_target(table, target, cells, numbers)
        values = numbers.tolist()
    else:
        values = list(cells)
    class_names = sorted(set(values))
    if len(class_names) < 2:
        raise InvalidInputError(
            f"{table.path}: target column {target!r} has only one class ({class_names[0]!r}); "
            "classification needs at least 2. Check the target column, or use task='regression' "
            "(--task regression) for a numeric target"
        )
    label_of = {value: label for label, value in enumerate(class_names)}
    y = np.array([label_of[value] for value in values], dtype=np.int64)
    return y, task, class_names


def _infer_task(cells: list[str], is_numeric: bool, is_integer: bool) -> str:
    if not is_numeric:
        return "classification"
    if is_integer:
        n_distinct = len({int(cell) for cell in cells})
        if n_distinct <= MAX_INFERRED_CLASSES and n_distinct < len(cells) / 2:
            return "classification"
    return "regression"


def _check_no_empty_target(table: _CsvTable, target: str, cells: list[str]) -> None:
    for row, cell in enumerate(cells):
        if cell == "":
            raise InvalidInputError(
                f"{table.path}: target column {target!r} is empty at {table.where(row)}; "
                "fill in the target or remove the row"
            )


def _check_finite_target(
    table: _CsvTable, target: str, cells: list[str], y: NDArray[np.float64]
) -> None:
    finite = np.isfinite(y)
    if not finite.all():
        row = int(np.flatnonzero(~finite)[0])
        raise InvalidInputError(
            f"{table.path}: target column {target!r} has the non-finite value "
            f"{cells[row]!r} at {table.where(row)}; fix the value or remove the row"
        )


# Loading with a schema

def _load_with_schema(
    table: _CsvTable, schema: CsvSchema, target: str | None, task: str | None
) -> Dataset:
    if target is not None and target != schema.target:
        raise InvalidInputError(
            f"target={target!r} conflicts with schema.target={schema.target!r}; "
            "omit target or pass the schema's target"
        )
    if task is not None and task != schema.task:
        raise InvalidInputError(
            f"task={task!r} conflicts with schema.task={schema.task!r}; "
            "omit task or pass the schema's task"
        )

    missing = [name for name in schema.feature_columns if name not in table.columns]
    if missing:
        raise InvalidInputError(
            f"{table.path} is missing the feature columns {missing} of the schema; "
            f"the file has {table.header}. Add the missing columns"
        )
    known = set(schema.feature_columns) | {schema.target}
    extra = [name for name in table.header if name not in known]
    if extra:
        raise InvalidInputError(
            f"{table.path} has the columns {extra}, which the schema does not use; "
            f"expected only {schema.feature_columns} and the target {schema.target!r}. "
            "Remove the extra columns"
        )

    X = _encode_features(table, schema)
    y: NDArray[Any] | None = None
    if schema.target in table.columns:
        y = _encode_target_with_schema(table, schema)
    return _make_dataset(table, schema, X, y)


def _encode_target_with_schema(table: _CsvTable, schema: CsvSchema) -> NDArray[Any]:
    cells = table.columns[schema.target]
    _check_no_empty_target(table, schema.target, cells)

    if schema.task == "regression":
        y = _parse_numeric_column(cells)
        if y is None:
            row = _first_non_numeric_row(cells)
            raise InvalidInputError(
                f"{table.path}: target column {schema.target!r} has the non-numeric value "
                f"{cells[row]!r} at {table.where(row)}; the schema's task is regression, "
                "which needs numbers"
            )
        _check_finite_target(table, schema.target, cells, y)
        return y

    # CsvSchema rejects a classification schema without class names.
    assert schema.class_names is not None
    kind = class_label_kind(schema.class_names)
    label_of = {value: label for label, value in enumerate(schema.class_names)}
    labels = np.empty(len(cells), dtype=np.int64)
    for row, cell in enumerate(cells):
        value = _label_value(cell, kind)
        if value not in label_of:
            raise InvalidInputError(
                f"{table.path}: target column {schema.target!r} has the label {cell!r} at "
                f"{table.where(row)}, which the schema does not know; known labels: "
                f"{schema.class_names}"
            )
        labels[row] = label_of[value]
    return labels


def _label_value(cell: str, kind: str | None) -> ClassName | None:
    """Convert a target cell to the type of the schema's class names (None if impossible)."""
    if kind == "str":
        return cell
    if kind == "int":
        return int(cell) if INTEGER_PATTERN.fullmatch(cell) else None
    return _parse_number(cell)


# Encoding features

def _encode_features(table: _CsvTable, schema: CsvSchema) -> NDArray[np.float64]:
    """Encode the feature columns as float64, raising on the first missing or non-finite value."""
    blocks: list[NDArray[np.float64]] = []
    source_columns: list[str] = []
    for name in schema.feature_columns:
        cells = table.columns[name]
        if schema.column_kinds[name] == "numeric":
            block = _encode_numeric(table, name, cells)
        else:
            block = _encode_categorical(table, name, cells, schema.categories[name])
        blocks.append(block)
        source_columns.extend([name] * block.shape[1])

    X = np.hstack(blocks)  # (n_rows, n_encoded_features)
    _check_finite_features(table, X, source_columns)
    return X


def _encode_numeric(table: _CsvTable, name: str, cells: list[str]) -> NDArray[np.float64]:
    values = _parse_numeric_column(cells)
    if values is None:
        row = _first_non_numeric_row(cells)
        raise InvalidInputError(
            f"{table.path}: column {name!r} has the non-numeric value {cells[row]!r} at "
            f"{table.where(row)}; the schema marks {name!r} numeric, so give a number"
        )
    return values.reshape(-1, 1)


def _encode_categorical(
    table: _CsvTable, name: str, cells: list[str], categories: list[str]
) -> NDArray[np.float64]:
    """One-hot encode a text column. An empty cell becomes a row of NaN (missing)."""
    index_of = {category: index for index, category in enumerate(categories)}
    block = np.zeros((len(cells), len(categories)), dtype=np.float64)
    for row, cell in enumerate(cells):
        if cell == "":
            block[row, :] = np.nan
            continue
        if cell not in index_of:
            raise InvalidInputError(
                f"{table.path}: column {name!r} has the category {cell!r} at "
                f"{table.where(row)}, which the schema does not know; known categories: "
                f"{categories}. Use a known category or load the training data again "
                "with this category included"
            )
        block[row, index_of[cell]] = 1.0
    return block


def _check_finite_features(
    table: _CsvTable, X: NDArray[np.float64], source_columns: list[str]
) -> None:
    finite = np.isfinite(X)
    if finite.all():
        return
    row, column = (int(i) for i in np.argwhere(~finite)[0])
    name = source_columns[column]
    cell = table.columns[name][row]
    if cell == "":
        problem = "an empty cell (missing value)"
    else:
        problem = f"the non-finite value {cell!r}"
    raise InvalidInputError(
        f"{table.path}: feature column {name!r} has {problem} at {table.where(row)}; "
        "features must be finite numbers. Fill in the value or remove the row"
    )


def _make_dataset(
    table: _CsvTable, schema: CsvSchema, X: NDArray[np.float64], y: NDArray[Any] | None
) -> Dataset:
    n_categorical = len(schema.categories)
    n_numeric = len(schema.feature_columns) - n_categorical
    if y is None:
        target_text = f"no target column (schema target {schema.target!r})"
    else:
        target_text = f"target {schema.target!r} ({schema.task})"
    description = (
        f"Read from {table.path}: {table.n_rows} rows, {n_numeric} numeric and "
        f"{n_categorical} categorical feature columns encoded as {X.shape[1]} features, "
        f"{target_text}."
    )
    return Dataset(
        name=table.path.stem,
        X=X,
        y=y,
        task=schema.task,
        feature_names=schema.feature_names,
        class_names=None if schema.class_names is None else list(schema.class_names),
        description=description,
        schema=schema,
    )
