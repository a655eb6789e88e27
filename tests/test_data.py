"""Tests of glassnet.data: bundled datasets, CSV loading, splits, scaling and encoding."""

import json
import os
import random
import subprocess
import sys

import numpy as np
import pytest

from glassnet.data import (
    DATASETS,
    CsvSchema,
    Dataset,
    Split,
    Standardizer,
    list_datasets,
    load_csv,
    load_dataset,
    one_hot,
    split_dataset,
)
from glassnet.errors import (
    InvalidInputError,
    InvalidTypeError,
    MissingDependencyError,
    NotFittedError,
)

GENERATED = ["moons", "circles", "spirals"]
CHEAP_DATASETS = ["iris", "wine", "breast-cancer", "digits", "moons", "circles", "spirals", "xor"]


def global_draws_after(action):
    """Seed np.random and random, run ``action``, then return the next draws of both."""
    np.random.seed(1234)
    random.seed(1234)
    action()
    return np.random.random(3), random.random()


def fresh_global_draws():
    np.random.seed(1234)
    random.seed(1234)
    return np.random.random(3), random.random()


def write_csv(tmp_path, text, name="data.csv", encoding="utf-8"):
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


# Bundled and generated datasets


@pytest.mark.parametrize(
    "name, shape, n_classes",
    [
        ("iris", (150, 4), 3),
        ("wine", (178, 13), 3),
        ("breast-cancer", (569, 30), 2),
        ("digits", (1797, 64), 10),
        ("moons", (1000, 2), 2),
        ("circles", (1000, 2), 2),
        ("spirals", (900, 2), 3),
        ("xor", (4, 2), 2),
    ],
)
def test_load_dataset_shapes(name, shape, n_classes):
    dataset = load_dataset(name)

    assert isinstance(dataset, Dataset)
    assert dataset.name == name
    assert dataset.task == "classification"
    assert dataset.X.shape == shape
    assert dataset.X.dtype == np.float64
    assert dataset.y.shape == (shape[0],)
    assert dataset.y.dtype == np.int64
    assert dataset.n_classes == n_classes
    assert len(dataset.class_names) == n_classes
    assert sorted(np.unique(dataset.y).tolist()) == list(range(n_classes))
    assert len(dataset.feature_names) == shape[1]
    assert dataset.X_test is None
    assert dataset.y_test is None
    assert dataset.schema is None
    assert dataset.description
    assert np.isfinite(dataset.X).all()


def test_load_dataset_class_names_json_ready():
    for name in CHEAP_DATASETS:
        dataset = load_dataset(name)
        text = json.dumps(dataset.class_names)
        assert json.loads(text) == dataset.class_names


def test_iris_classes_and_names():
    iris = load_dataset("iris")

    assert iris.class_names == ["setosa", "versicolor", "virginica"]
    assert np.bincount(iris.y).tolist() == [50, 50, 50]
    assert iris.feature_names[0] == "sepal length (cm)"
    # First row of Fisher's data: 5.1, 3.5, 1.4, 0.2, setosa.
    assert iris.X[0].tolist() == [5.1, 3.5, 1.4, 0.2]
    assert iris.y[0] == 0


def test_breast_cancer_label_order():
    dataset = load_dataset("breast-cancer")

    assert dataset.class_names == ["malignant", "benign"]
    assert np.bincount(dataset.y).tolist() == [212, 357]


def test_digits_pixel_range():
    digits = load_dataset("digits")

    assert digits.class_names == list(range(10))
    assert digits.X.min() == 0.0
    assert digits.X.max() == 16.0


def test_xor_exact_values():
    xor = load_dataset("xor")

    assert xor.X.tolist() == [[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]
    assert xor.y.tolist() == [0, 1, 1, 0]
    assert xor.class_names == [0, 1]


def test_xor_ignores_seed():
    assert np.array_equal(load_dataset("xor", seed=0).X, load_dataset("xor", seed=5).X)


def test_spirals_balanced_arms():
    spirals = load_dataset("spirals")

    assert np.bincount(spirals.y).tolist() == [300, 300, 300]
    radius = np.hypot(spirals.X[:, 0], spirals.X[:, 1])
    assert radius.min() == pytest.approx(0.05)
    assert radius.max() == pytest.approx(1.0)
    # Rows are shuffled, so the first 300 labels are not all arm 0.
    assert len(np.unique(spirals.y[:300])) == 3


@pytest.mark.parametrize("name", GENERATED)
def test_generated_same_seed_same_arrays(name):
    first = load_dataset(name, seed=7)
    second = load_dataset(name, seed=7)

    assert np.array_equal(first.X, second.X)
    assert np.array_equal(first.y, second.y)


@pytest.mark.parametrize("name", GENERATED)
def test_generated_other_seed_other_arrays(name):
    first = load_dataset(name, seed=0)
    second = load_dataset(name, seed=1)

    assert first.X.shape == second.X.shape
    assert not np.array_equal(first.X, second.X)


@pytest.mark.parametrize("name", CHEAP_DATASETS)
def test_load_dataset_keeps_global_rng(name):
    # The first load imports scikit-learn, whose own imports may draw from Python's
    # random module; only glassnet's loading is under test, so load once first.
    load_dataset(name, seed=3)
    after_load = global_draws_after(lambda: load_dataset(name, seed=3))
    untouched = fresh_global_draws()

    assert np.array_equal(after_load[0], untouched[0])
    assert after_load[1] == untouched[1]


@pytest.mark.parametrize(
    "spelling, expected",
    [
        ("IRIS", "iris"),
        ("Breast_Cancer", "breast-cancer"),
        ("breast-cancer", "breast-cancer"),
        ("BREAST_CANCER", "breast-cancer"),
        (" Digits ", "digits"),
        ("X_O_R", "xor"),
    ],
)
def test_load_dataset_name_spellings(spelling, expected):
    assert load_dataset(spelling).name == expected


def test_load_dataset_unknown_name_lists_valid():
    with pytest.raises(InvalidInputError) as info:
        load_dataset("irises")

    message = str(info.value)
    assert "'irises'" in message
    for name in DATASETS:
        assert name in message


def test_load_dataset_name_not_string():
    with pytest.raises(InvalidTypeError) as info:
        load_dataset(3)

    assert "name=3" in str(info.value)
    assert "iris" in str(info.value)


@pytest.mark.parametrize(
    "seed, error, fragment",
    [
        (-1, InvalidInputError, "seed=-1 is out of range"),
        (2**32, InvalidInputError, "out of range"),
        (1.5, InvalidTypeError, "seed=1.5 has type float"),
        (True, InvalidTypeError, "seed=True has type bool"),
        ("0", InvalidTypeError, "has type str"),
    ],
)
def test_load_dataset_invalid_seed(seed, error, fragment):
    with pytest.raises(error) as info:
        load_dataset("moons", seed=seed)

    assert fragment in str(info.value)


def test_load_dataset_accepts_numpy_seed():
    assert np.array_equal(load_dataset("moons", seed=np.int64(4)).X, load_dataset("moons", seed=4).X)


def test_list_datasets_matches_table():
    names = list_datasets()

    assert names == list(DATASETS)
    assert set(names) == {
        "iris", "wine", "breast-cancer", "digits", "moons", "circles", "spirals", "xor", "mnist1d",
    }
    for description in DATASETS.values():
        assert "\n" not in description
        assert description.endswith(".")


def test_missing_sklearn_names_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)

    with pytest.raises(MissingDependencyError) as info:
        load_dataset("iris")

    assert "glassnet[data]" in str(info.value)
    assert "iris" in str(info.value)


def test_missing_mnist1d_names_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "mnist1d.data", None)

    with pytest.raises(MissingDependencyError) as info:
        load_dataset("mnist1d")

    assert "glassnet[data]" in str(info.value)
    assert "mnist1d" in str(info.value)


def test_import_stays_lazy():
    code = (
        "import sys, glassnet.data; "
        "print(any(m.split('.')[0] in ('sklearn', 'mnist1d', 'pandas') for m in sys.modules))"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "False"


# mnist1d, generated once per module because it takes a few seconds


@pytest.fixture(scope="module")
def mnist1d_run(tmp_path_factory):
    """Generate mnist1d with an empty temporary folder as working directory."""
    workdir = tmp_path_factory.mktemp("mnist1d_cwd")
    old_cwd = os.getcwd()
    os.chdir(workdir)
    try:
        np.random.seed(1234)
        random.seed(1234)
        dataset = load_dataset("mnist1d")
        draws = (np.random.random(3), random.random())
    finally:
        os.chdir(old_cwd)
    return {"dataset": dataset, "draws": draws, "files": sorted(os.listdir(workdir))}


def test_mnist1d_shapes(mnist1d_run):
    dataset = mnist1d_run["dataset"]

    assert dataset.X.shape == (4000, 40)
    assert dataset.y.shape == (4000,)
    assert dataset.X_test.shape == (1000, 40)
    assert dataset.y_test.shape == (1000,)
    assert dataset.X.dtype == np.float64
    assert dataset.X_test.dtype == np.float64
    assert dataset.y.dtype == np.int64
    assert dataset.y_test.dtype == np.int64
    assert dataset.n_classes == 10
    assert dataset.class_names == list(range(10))
    assert len(dataset.feature_names) == 40


def test_mnist1d_classes_balanced_overall(mnist1d_run):
    dataset = mnist1d_run["dataset"]
    all_labels = np.concatenate([dataset.y, dataset.y_test])

    # The generator makes 500 signals per digit before the train/test split.
    assert np.bincount(all_labels).tolist() == [500] * 10


def test_mnist1d_standardized_overall(mnist1d_run):
    dataset = mnist1d_run["dataset"]
    signals = np.concatenate([dataset.X, dataset.X_test])

    # make_dataset centers and scales all 5000 signals together.
    assert abs(signals.mean()) < 1e-12
    assert signals.std() == pytest.approx(1.0, abs=1e-12)


def test_mnist1d_writes_no_file(mnist1d_run):
    assert mnist1d_run["files"] == []


def test_mnist1d_keeps_global_rng(mnist1d_run):
    untouched = fresh_global_draws()

    assert np.array_equal(mnist1d_run["draws"][0], untouched[0])
    assert mnist1d_run["draws"][1] == untouched[1]


def test_mnist1d_name_with_separator():
    # Only the name lookup, because the mnist1d_run fixture covers the loader.
    from glassnet.data.bundled import _resolve_name

    assert _resolve_name("MNIST_1D") == "mnist1d"
    assert _resolve_name("mnist-1d") == "mnist1d"


# CSV files

MIXED_CSV = (
    "x1,color,size,species\n"
    "1.5,red,10,setosa\n"
    "2.0,blue,20,virginica\n"
    "-0.5,red,30,setosa\n"
    "3.25,green,40,versicolor\n"
)


def test_csv_numeric_categorical_string_labels(tmp_path):
    dataset = load_csv(write_csv(tmp_path, MIXED_CSV))

    assert dataset.name == "data"
    assert dataset.task == "classification"
    assert dataset.feature_names == ["x1", "color=blue", "color=green", "color=red", "size"]
    assert dataset.X.dtype == np.float64
    assert dataset.X.tolist() == [
        [1.5, 0.0, 0.0, 1.0, 10.0],
        [2.0, 1.0, 0.0, 0.0, 20.0],
        [-0.5, 0.0, 0.0, 1.0, 30.0],
        [3.25, 0.0, 1.0, 0.0, 40.0],
    ]
    assert dataset.class_names == ["setosa", "versicolor", "virginica"]
    assert dataset.y.dtype == np.int64
    assert dataset.y.tolist() == [0, 2, 0, 1]


def test_csv_schema_fields(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema

    assert schema.feature_columns == ["x1", "color", "size"]
    assert schema.column_kinds == {"x1": "numeric", "color": "categorical", "size": "numeric"}
    assert schema.categories == {"color": ["blue", "green", "red"]}
    assert schema.target == "species"
    assert schema.task == "classification"
    assert schema.class_names == ["setosa", "versicolor", "virginica"]


def test_csv_schema_json_round_trip(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema

    restored = CsvSchema.from_dict(json.loads(json.dumps(schema.to_dict())))

    assert restored == schema
    assert restored.feature_names == schema.feature_names


def test_csv_reload_with_schema_identical(tmp_path):
    path = write_csv(tmp_path, MIXED_CSV)
    first = load_csv(path)

    second = load_csv(path, schema=first.schema)

    assert np.array_equal(first.X, second.X)
    assert np.array_equal(first.y, second.y)
    assert second.feature_names == first.feature_names
    assert second.class_names == first.class_names


def test_csv_schema_encodes_prediction_file(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    # Other column order, no target column, only some of the categories.
    prediction = write_csv(tmp_path, "size,x1,color\n15,0.0,green\n25,1.0,red\n", "new.csv")

    dataset = load_csv(prediction, schema=schema)

    assert dataset.y is None
    assert dataset.feature_names == ["x1", "color=blue", "color=green", "color=red", "size"]
    assert dataset.X.tolist() == [
        [0.0, 0.0, 1.0, 0.0, 15.0],
        [1.0, 0.0, 0.0, 1.0, 25.0],
    ]
    assert dataset.schema is schema
    assert dataset.task == "classification"


def test_csv_schema_keeps_label_order(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    test_file = write_csv(
        tmp_path, "x1,color,size,species\n0,red,1,virginica\n1,blue,2,virginica\n", "test.csv"
    )

    dataset = load_csv(test_file, schema=schema)

    assert dataset.y.tolist() == [2, 2]
    assert dataset.class_names == ["setosa", "versicolor", "virginica"]


def test_csv_schema_rejects_unseen_category(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    prediction = write_csv(tmp_path, "x1,color,size\n0,red,1\n1,purple,2\n", "new.csv")

    with pytest.raises(InvalidInputError) as info:
        load_csv(prediction, schema=schema)

    message = str(info.value)
    assert "'purple'" in message
    assert "'color'" in message
    assert "row 1" in message
    assert "['blue', 'green', 'red']" in message


def test_csv_schema_rejects_unseen_label(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    test_file = write_csv(tmp_path, "x1,color,size,species\n0,red,1,daisy\n", "test.csv")

    with pytest.raises(InvalidInputError) as info:
        load_csv(test_file, schema=schema)

    assert "'daisy'" in str(info.value)
    assert "'species'" in str(info.value)


def test_csv_schema_missing_column(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    prediction = write_csv(tmp_path, "x1,size\n0,1\n", "new.csv")

    with pytest.raises(InvalidInputError) as info:
        load_csv(prediction, schema=schema)

    assert "['color']" in str(info.value)
    assert "is missing the feature columns" in str(info.value)


def test_csv_schema_extra_column(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    prediction = write_csv(tmp_path, "id,x1,color,size\n7,0,red,1\n", "new.csv")

    with pytest.raises(InvalidInputError) as info:
        load_csv(prediction, schema=schema)

    assert "['id']" in str(info.value)
    assert "Remove the extra columns" in str(info.value)


def test_csv_schema_text_in_numeric_column(tmp_path):
    schema = load_csv(write_csv(tmp_path, MIXED_CSV)).schema
    prediction = write_csv(tmp_path, "x1,color,size\n0,red,1\nbig,red,2\n", "new.csv")

    with pytest.raises(InvalidInputError) as info:
        load_csv(prediction, schema=schema)

    message = str(info.value)
    assert "'big'" in message
    assert "'x1'" in message
    assert "row 1 (line 3)" in message


def test_csv_schema_conflicting_target(tmp_path):
    path = write_csv(tmp_path, MIXED_CSV)
    schema = load_csv(path).schema

    with pytest.raises(InvalidInputError) as info:
        load_csv(path, target="size", schema=schema)

    assert "target='size'" in str(info.value)
    assert "schema.target='species'" in str(info.value)


def test_csv_schema_conflicting_task(tmp_path):
    path = write_csv(tmp_path, MIXED_CSV)
    schema = load_csv(path).schema

    with pytest.raises(InvalidInputError) as info:
        load_csv(path, task="regression", schema=schema)

    assert "task='regression'" in str(info.value)
    assert "schema.task='classification'" in str(info.value)


def test_csv_schema_wrong_type(tmp_path):
    path = write_csv(tmp_path, MIXED_CSV)
    schema_dict = load_csv(path).schema.to_dict()

    with pytest.raises(InvalidTypeError) as info:
        load_csv(path, schema=schema_dict)

    assert "CsvSchema.from_dict" in str(info.value)


def test_csv_nonfinite_names_row_column(tmp_path):
    path = write_csv(tmp_path, "x1,x2,label\n1.0,2.0,a\nnan,0.5,b\n3.0,inf,a\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    message = str(info.value)
    assert "row 1" in message
    assert "'x1'" in message
    assert "'nan'" in message
    assert "line 3" in message


def test_csv_inf_names_its_cell(tmp_path):
    path = write_csv(tmp_path, "x1,x2,label\n1.0,2.0,a\n0.0,0.5,b\n3.0,-inf,a\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    message = str(info.value)
    assert "row 2" in message
    assert "'x2'" in message
    assert "'-inf'" in message


def test_csv_empty_feature_cell(tmp_path):
    path = write_csv(tmp_path, "x1,color,label\n1.0,red,a\n2.0,,b\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    message = str(info.value)
    assert "empty cell" in message
    assert "'color'" in message
    assert "row 1" in message


def test_csv_header_only_is_empty(tmp_path):
    path = write_csv(tmp_path, "x1,x2,label\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "is empty" in str(info.value)
    assert "no data rows" in str(info.value)


def test_csv_zero_byte_file_is_empty(tmp_path):
    path = write_csv(tmp_path, "")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "is empty" in str(info.value)
    assert "no header" in str(info.value)


def test_csv_missing_file(tmp_path):
    with pytest.raises(InvalidInputError) as info:
        load_csv(tmp_path / "absent.csv")

    assert "absent.csv" in str(info.value)
    assert "not found" in str(info.value)


def test_csv_directory_path(tmp_path):
    with pytest.raises(InvalidInputError) as info:
        load_csv(tmp_path)

    assert "is a directory" in str(info.value)


def test_csv_path_wrong_type():
    with pytest.raises(InvalidTypeError) as info:
        load_csv(42)

    assert "path=42" in str(info.value)


def test_csv_not_utf8(tmp_path):
    path = write_csv(tmp_path, "x,label\n1,caf\u00e9\n", encoding="latin-1")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "not UTF-8" in str(info.value)


def test_csv_unknown_target_lists_columns(tmp_path):
    path = write_csv(tmp_path, MIXED_CSV)

    with pytest.raises(InvalidInputError) as info:
        load_csv(path, target="Species")

    message = str(info.value)
    assert "target='Species'" in message
    assert "['x1', 'color', 'size', 'species']" in message


def test_csv_target_wrong_type(tmp_path):
    with pytest.raises(InvalidTypeError) as info:
        load_csv(write_csv(tmp_path, MIXED_CSV), target=3)

    assert "target=3" in str(info.value)


def test_csv_ragged_row_names_line(tmp_path):
    path = write_csv(tmp_path, "a,b,label\n1,2,x\n3,y\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    message = str(info.value)
    assert "line 3" in message
    assert "2 fields" in message
    assert "3 columns" in message


def test_csv_duplicate_column_names(tmp_path):
    path = write_csv(tmp_path, "a,b,a,label\n1,2,3,x\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "'a' appears twice" in str(info.value)
    assert "columns 0 and 2" in str(info.value)


def test_csv_empty_column_name(tmp_path):
    path = write_csv(tmp_path, ",a,label\n0,1,x\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "column 0" in str(info.value)
    assert "empty name" in str(info.value)


def test_csv_zero_feature_columns(tmp_path):
    path = write_csv(tmp_path, "label\na\nb\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "only the target column 'label'" in str(info.value)


def test_csv_bom_quotes_and_blank_lines(tmp_path):
    text = '\ufeffname,x,label\n"Smith, J",1,a\n\n"Doe, A",2,b\n\n'
    dataset = load_csv(write_csv(tmp_path, text))

    assert dataset.feature_names == ["name=Doe, A", "name=Smith, J", "x"]
    assert dataset.X.tolist() == [[0.0, 1.0, 1.0], [1.0, 0.0, 2.0]]
    assert dataset.schema.target == "label"


def test_csv_crlf_line_endings_str_path(tmp_path):
    path = write_csv(tmp_path, "x,label\r\n1,a\r\n2,b\r\n")

    dataset = load_csv(str(path))

    assert dataset.X.tolist() == [[1.0], [2.0]]
    assert dataset.y.tolist() == [0, 1]
    assert dataset.class_names == ["a", "b"]


def test_csv_target_in_middle(tmp_path):
    path = write_csv(tmp_path, "a,label,b\n1,x,2\n3,y,4\n")

    dataset = load_csv(path, target="label")

    assert dataset.feature_names == ["a", "b"]
    assert dataset.X.tolist() == [[1.0, 2.0], [3.0, 4.0]]
    assert dataset.y.tolist() == [0, 1]


def test_csv_integer_labels_classification(tmp_path):
    labels = [3, 1, 2, 1, 3, 2, 1, 3, 2, 1]
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(labels))
    dataset = load_csv(write_csv(tmp_path, "x,grade\n" + rows))

    assert dataset.task == "classification"
    assert dataset.class_names == [1, 2, 3]
    assert dataset.y.tolist() == [label - 1 for label in labels]


def test_csv_many_integers_regression(tmp_path):
    rows = "".join(f"{i},{i * 10}\n" for i in range(10))
    dataset = load_csv(write_csv(tmp_path, "x,count\n" + rows))

    assert dataset.task == "regression"
    assert dataset.class_names is None
    assert dataset.y.dtype == np.float64
    assert dataset.y.tolist() == [float(i * 10) for i in range(10)]


def test_csv_half_rows_rule_regression(tmp_path):
    # 2 distinct labels in 4 rows is not fewer than half the rows.
    dataset = load_csv(write_csv(tmp_path, "x,label\n0,0\n1,1\n2,1\n3,0\n"))

    assert dataset.task == "regression"


def test_csv_float_target_regression(tmp_path):
    dataset = load_csv(write_csv(tmp_path, "x,price\n1,2.5\n2,3.0\n3,-1e3\n"))

    assert dataset.task == "regression"
    assert dataset.y.shape == (3,)
    assert dataset.y.tolist() == [2.5, 3.0, -1000.0]
    assert dataset.schema.class_names is None


def test_csv_boolean_labels_classification(tmp_path):
    dataset = load_csv(write_csv(tmp_path, "x,spam\n1,true\n2,false\n3,true\n"))

    assert dataset.task == "classification"
    assert dataset.class_names == ["false", "true"]
    assert dataset.y.tolist() == [1, 0, 1]


def test_csv_task_override_regression(tmp_path):
    labels = [3, 1, 2, 1, 3, 2, 1, 3, 2, 1]
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(labels))
    dataset = load_csv(write_csv(tmp_path, "x,grade\n" + rows), task="regression")

    assert dataset.task == "regression"
    assert dataset.y.dtype == np.float64
    assert dataset.y.tolist() == [float(label) for label in labels]


def test_csv_task_override_float_classes(tmp_path):
    dataset = load_csv(write_csv(tmp_path, "x,dose\n1,0.5\n2,1.5\n3,0.5\n"), task="classification")

    assert dataset.class_names == [0.5, 1.5]
    assert dataset.y.tolist() == [0, 1, 0]


def test_csv_float_classes_schema_round_trip(tmp_path):
    path = write_csv(tmp_path, "x,dose\n1,0.5\n2,1.5\n3,0.5\n")
    schema = CsvSchema.from_dict(json.loads(json.dumps(load_csv(path, task="classification").schema.to_dict())))

    dataset = load_csv(write_csv(tmp_path, "x,dose\n4,1.50\n", "new.csv"), schema=schema)

    assert dataset.y.tolist() == [1]


def test_csv_integer_classes_schema_round_trip(tmp_path):
    labels = [3, 1, 2, 1, 3, 2, 1, 3, 2, 1]
    rows = "".join(f"{i},{label}\n" for i, label in enumerate(labels))
    schema = load_csv(write_csv(tmp_path, "x,grade\n" + rows)).schema
    restored = CsvSchema.from_dict(json.loads(json.dumps(schema.to_dict())))

    dataset = load_csv(write_csv(tmp_path, "x,grade\n0,3\n1,+1\n", "new.csv"), schema=restored)

    assert restored.class_names == [1, 2, 3]
    assert dataset.y.tolist() == [2, 0]


def test_csv_regression_text_target(tmp_path):
    path = write_csv(tmp_path, MIXED_CSV)

    with pytest.raises(InvalidInputError) as info:
        load_csv(path, task="regression")

    message = str(info.value)
    assert "'setosa'" in message
    assert "row 0" in message
    assert "task='regression' needs numbers" in message


def test_csv_regression_target_nan(tmp_path):
    path = write_csv(tmp_path, "x,price\n1,2.5\n2,nan\n3,1.0\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    message = str(info.value)
    assert "'price'" in message
    assert "'nan'" in message
    assert "row 1" in message


def test_csv_empty_target_cell(tmp_path):
    path = write_csv(tmp_path, "x,label\n1,a\n2,\n")

    with pytest.raises(InvalidInputError) as info:
        load_csv(path)

    assert "target column 'label' is empty at row 1 (line 3)" in str(info.value)


@pytest.mark.parametrize(
    "task, error, fragment",
    [
        ("clasification", InvalidInputError, "task='clasification' is not a valid task"),
        ("Regression", InvalidInputError, "'classification', 'regression'"),
        (1, InvalidTypeError, "task=1 has type int"),
    ],
)
def test_csv_invalid_task(tmp_path, task, error, fragment):
    with pytest.raises(error) as info:
        load_csv(write_csv(tmp_path, MIXED_CSV), task=task)

    assert fragment in str(info.value)


def test_csv_underscore_cell_is_text(tmp_path):
    dataset = load_csv(write_csv(tmp_path, "code,x,label\n1_0,1,a\n2_0,2,b\n"))

    assert dataset.feature_names == ["code=1_0", "code=2_0", "x"]


def test_schema_from_dict_not_dict():
    with pytest.raises(InvalidTypeError) as info:
        CsvSchema.from_dict([1, 2])

    assert "got list" in str(info.value)


def test_schema_from_dict_wrong_format(tmp_path):
    data = load_csv(write_csv(tmp_path, MIXED_CSV)).schema.to_dict()
    data["format"] = "other"

    with pytest.raises(InvalidInputError) as info:
        CsvSchema.from_dict(data)

    assert "format='other'" in str(info.value)


def test_schema_from_dict_missing_key(tmp_path):
    data = load_csv(write_csv(tmp_path, MIXED_CSV)).schema.to_dict()
    del data["categories"]

    with pytest.raises(InvalidInputError) as info:
        CsvSchema.from_dict(data)

    assert "['categories']" in str(info.value)


def test_schema_from_dict_bad_kind(tmp_path):
    data = load_csv(write_csv(tmp_path, MIXED_CSV)).schema.to_dict()
    data["column_kinds"]["x1"] = "float"

    with pytest.raises(InvalidInputError) as info:
        CsvSchema.from_dict(data)

    assert "column_kinds['x1'] = 'float'" in str(info.value)


def test_schema_from_dict_categories_mismatch(tmp_path):
    data = load_csv(write_csv(tmp_path, MIXED_CSV)).schema.to_dict()
    data["categories"] = {}

    with pytest.raises(InvalidInputError) as info:
        CsvSchema.from_dict(data)

    assert "categorical columns are ['color']" in str(info.value)


def test_schema_from_dict_mixed_class_names(tmp_path):
    data = load_csv(write_csv(tmp_path, MIXED_CSV)).schema.to_dict()
    data["class_names"] = ["a", 1]

    with pytest.raises(InvalidInputError) as info:
        CsvSchema.from_dict(data)

    assert "all strings, all integers or all floats" in str(info.value)


def test_schema_target_also_feature():
    with pytest.raises(InvalidInputError) as info:
        CsvSchema(
            feature_columns=["a", "y"],
            column_kinds={"a": "numeric", "y": "numeric"},
            categories={},
            target="y",
            task="regression",
        )

    assert "target='y' is also a feature column" in str(info.value)


# Splits


def imbalanced_labels():
    """100 labels: 60 of class 0, 30 of class 1, 10 of class 2, in a fixed shuffled order."""
    labels = np.repeat(np.array([0, 1, 2]), [60, 30, 10])
    return np.random.default_rng(99).permutation(labels)


def test_split_stratified_keeps_proportions():
    y = imbalanced_labels()
    X = np.arange(200, dtype=np.float64).reshape(100, 2)

    split = split_dataset(X, y, test_fraction=0.2, seed=0)

    assert np.bincount(split.y_test, minlength=3).tolist() == [12, 6, 2]
    assert np.bincount(split.y_train, minlength=3).tolist() == [48, 24, 8]
    assert split.X_val.shape == (0, 2)
    assert split.y_val.shape == (0,)


def test_split_stratified_with_validation():
    y = imbalanced_labels()
    X = np.zeros((100, 3))

    split = split_dataset(X, y, test_fraction=0.2, validation_fraction=0.1, seed=0)

    assert np.bincount(split.y_test, minlength=3).tolist() == [12, 6, 2]
    assert np.bincount(split.y_val, minlength=3).tolist() == [6, 3, 1]
    assert np.bincount(split.y_train, minlength=3).tolist() == [42, 21, 7]


def test_split_iris_deterministic():
    iris = load_dataset("iris")

    first = split_dataset(iris.X, iris.y, test_fraction=0.2, seed=0)
    second = split_dataset(iris.X, iris.y, test_fraction=0.2, seed=0)

    assert isinstance(first, Split)
    assert first.X_train.shape == (120, 4)
    assert first.X_test.shape == (30, 4)
    assert np.bincount(first.y_test).tolist() == [10, 10, 10]
    assert np.array_equal(first.test_indices, second.test_indices)
    assert np.array_equal(first.train_indices, second.train_indices)
    assert np.array_equal(first.X_train, second.X_train)


def test_split_seed_changes_order():
    iris = load_dataset("iris")

    first = split_dataset(iris.X, iris.y, seed=0)
    second = split_dataset(iris.X, iris.y, seed=1)

    assert not np.array_equal(first.test_indices, second.test_indices)


def test_split_partitions_rows():
    y = imbalanced_labels()
    X = np.arange(100, dtype=np.float64).reshape(100, 1)

    split = split_dataset(X, y, test_fraction=0.25, validation_fraction=0.15, seed=3)

    all_indices = np.concatenate([split.train_indices, split.val_indices, split.test_indices])
    assert sorted(all_indices.tolist()) == list(range(100))
    assert len(split.test_indices) == 25
    assert len(split.val_indices) == 15
    assert np.array_equal(split.X_train, X[split.train_indices])
    assert np.array_equal(split.y_test, y[split.test_indices])
    assert np.array_equal(split.X_val, X[split.val_indices])


def test_split_mixes_classes_in_each_part():
    y = np.repeat(np.array([0, 1]), 50)
    X = np.zeros((100, 1))

    split = split_dataset(X, y, test_fraction=0.2, seed=0)

    # The training part is not sorted by class.
    assert not np.array_equal(split.y_train, np.sort(split.y_train))


def test_split_regression_not_stratified():
    X = np.arange(20, dtype=np.float64).reshape(10, 2)
    y = np.linspace(0.0, 1.0, 10)

    split = split_dataset(X, y, test_fraction=0.3, seed=0)

    assert split.X_test.shape == (3, 2)
    assert split.y_train.dtype == np.float64
    assert sorted(np.concatenate([split.train_indices, split.test_indices]).tolist()) == list(range(10))


def test_split_two_dimensional_targets():
    X = np.zeros((10, 2))
    y = np.arange(30, dtype=np.float64).reshape(10, 3)

    split = split_dataset(X, y, test_fraction=0.2, validation_fraction=0.2, seed=0)

    assert split.y_train.shape == (6, 3)
    assert split.y_val.shape == (2, 3)
    assert split.y_test.shape == (2, 3)


def test_split_zero_test_fraction():
    split = split_dataset(np.zeros((5, 2)), np.array([0, 1, 0, 1, 0]), test_fraction=0.0)

    assert split.X_test.shape == (0, 2)
    assert split.X_train.shape == (5, 2)


def test_split_single_member_class():
    y = np.array([0] * 9 + [1])

    split = split_dataset(np.zeros((10, 1)), y, test_fraction=0.2, seed=0)

    assert len(split.y_test) == 2
    assert sorted(np.concatenate([split.y_train, split.y_test]).tolist()) == sorted(y.tolist())


def test_split_keeps_global_rng():
    iris = load_dataset("iris")

    after_split = global_draws_after(lambda: split_dataset(iris.X, iris.y, seed=5))
    untouched = fresh_global_draws()

    assert np.array_equal(after_split[0], untouched[0])
    assert after_split[1] == untouched[1]


@pytest.mark.parametrize(
    "kwargs, error, fragment",
    [
        ({"test_fraction": -0.1}, InvalidInputError, "test_fraction=-0.1 is outside [0, 1)"),
        ({"test_fraction": 1.0}, InvalidInputError, "test_fraction=1.0 is outside [0, 1)"),
        ({"validation_fraction": 1.5}, InvalidInputError, "validation_fraction=1.5"),
        ({"test_fraction": "0.2"}, InvalidTypeError, "test_fraction='0.2' has type str"),
        ({"test_fraction": True}, InvalidTypeError, "has type bool"),
        (
            {"test_fraction": 0.6, "validation_fraction": 0.4},
            InvalidInputError,
            "leaves no training samples",
        ),
        ({"stratify": "yes"}, InvalidTypeError, "stratify='yes'"),
        ({"seed": -3}, InvalidInputError, "seed=-3"),
    ],
)
def test_split_invalid_arguments(kwargs, error, fragment):
    with pytest.raises(error) as info:
        split_dataset(np.zeros((10, 2)), np.zeros(10, dtype=np.int64), **kwargs)

    assert fragment in str(info.value)


def test_split_too_few_samples():
    with pytest.raises(InvalidInputError) as info:
        split_dataset(np.zeros((3, 1)), np.array([0, 1, 0]), test_fraction=0.4, validation_fraction=0.3)

    message = str(info.value)
    assert "X has 3 samples" in message
    assert "takes 2" in message
    assert "takes 1" in message


def test_split_stratify_float_targets():
    with pytest.raises(InvalidInputError) as info:
        split_dataset(np.zeros((10, 2)), np.linspace(0, 1, 10), stratify=True)

    assert "stratify=True needs 1-D integer class labels" in str(info.value)
    assert "float64" in str(info.value)


def test_split_one_dimensional_X():
    with pytest.raises(InvalidInputError) as info:
        split_dataset(np.zeros(10), np.zeros(10, dtype=np.int64))

    assert "X has shape (10,)" in str(info.value)


def test_split_length_mismatch():
    with pytest.raises(InvalidInputError) as info:
        split_dataset(np.zeros((10, 2)), np.zeros(9, dtype=np.int64))

    assert "X has 10 samples but y has 9" in str(info.value)


# Standardizer


def test_standardizer_transform_moments():
    X = np.random.default_rng(0).normal(5.0, 3.0, size=(200, 4))

    scaled = Standardizer().fit_transform(X)

    assert np.allclose(scaled.mean(axis=0), 0.0, atol=1e-12)
    assert np.allclose(scaled.std(axis=0), 1.0, atol=1e-12)


def test_standardizer_exact_values():
    X = np.array([[1.0, 10.0], [3.0, 10.0]])

    scaler = Standardizer().fit(X)

    assert scaler.mean_.tolist() == [2.0, 10.0]
    # Column 0 has std 1. Column 1 is constant, so its scale is 1, not 0.
    assert scaler.scale_.tolist() == [1.0, 1.0]
    assert scaler.transform(X).tolist() == [[-1.0, 0.0], [1.0, 0.0]]
    assert scaler.n_features_in_ == 2


def test_standardizer_constant_column_rounding():
    X = np.full((7, 1), 0.1)

    scaler = Standardizer().fit(X)

    assert scaler.scale_.tolist() == [1.0]
    assert np.allclose(scaler.transform(X), 0.0, atol=1e-15)


def test_standardizer_round_trip():
    X = np.random.default_rng(1).uniform(-100, 100, size=(50, 3))

    scaler = Standardizer().fit(X)

    assert np.allclose(scaler.inverse_transform(scaler.transform(X)), X, rtol=0, atol=1e-12)


def test_standardizer_does_not_modify_input():
    X = np.array([[1.0, 2.0], [3.0, 5.0]])
    copy = X.copy()

    Standardizer().fit_transform(X)

    assert np.array_equal(X, copy)


def test_standardizer_one_sample_row():
    scaler = Standardizer().fit(np.array([[0.0, 0.0], [2.0, 4.0]]))

    assert scaler.transform(np.array([2.0, 0.0])).tolist() == [[1.0, -1.0]]


def test_standardizer_dict_round_trip():
    X = np.random.default_rng(2).normal(size=(30, 3))
    scaler = Standardizer().fit(X)

    restored = Standardizer.from_dict(json.loads(json.dumps(scaler.to_dict())))

    assert restored.mean_.tolist() == scaler.mean_.tolist()
    assert restored.scale_.tolist() == scaler.scale_.tolist()
    assert np.array_equal(restored.transform(X), scaler.transform(X))


def test_standardizer_to_dict_plain_floats():
    data = Standardizer().fit(np.array([[1.0], [2.0]])).to_dict()

    assert data == {"mean": [1.5], "scale": [0.5]}
    assert type(data["mean"][0]) is float


def test_standardizer_not_fitted():
    with pytest.raises(NotFittedError) as info:
        Standardizer().transform(np.zeros((2, 2)))

    assert "Standardizer.transform was called before fit" in str(info.value)


def test_standardizer_to_dict_not_fitted():
    with pytest.raises(NotFittedError) as info:
        Standardizer().to_dict()

    assert "to_dict" in str(info.value)


def test_standardizer_width_mismatch():
    scaler = Standardizer().fit(np.zeros((3, 2)))

    with pytest.raises(InvalidInputError) as info:
        scaler.transform(np.zeros((3, 5)))

    assert "X has 5 features but the Standardizer was fitted on 2" in str(info.value)


def test_standardizer_nan_names_cell():
    X = np.array([[1.0, 2.0], [3.0, np.nan]])

    with pytest.raises(InvalidInputError) as info:
        Standardizer().fit(X)

    assert "row 1, column 1" in str(info.value)


def test_standardizer_no_rows():
    with pytest.raises(InvalidInputError) as info:
        Standardizer().fit(np.zeros((0, 3)))

    assert "no samples to fit on" in str(info.value)


def test_standardizer_text_input():
    with pytest.raises(InvalidTypeError) as info:
        Standardizer().fit(np.array([["a", "b"]]))

    assert "expected numbers" in str(info.value)


@pytest.mark.parametrize(
    "data, error, fragment",
    [
        ([1.0], InvalidTypeError, "got list"),
        ({"mean": [0.0]}, InvalidInputError, "missing the keys ['scale']"),
        ({"mean": [0.0, 1.0], "scale": [1.0]}, InvalidInputError, "2 means and 1 scales"),
        ({"mean": [0.0], "scale": [0.0]}, InvalidInputError, "scale[0] = 0.0"),
        ({"mean": ["a"], "scale": [1.0]}, InvalidInputError, "expected a list of numbers"),
        ({"mean": [float("nan")], "scale": [1.0]}, InvalidInputError, "contains NaN or inf"),
        ({"mean": [], "scale": []}, InvalidInputError, "is empty"),
    ],
)
def test_standardizer_from_dict_invalid(data, error, fragment):
    with pytest.raises(error) as info:
        Standardizer.from_dict(data)

    assert fragment in str(info.value)


# one_hot and Dataset


def test_one_hot_values():
    encoded = one_hot([2, 0, 1, 2], 3)

    assert encoded.dtype == np.float64
    assert encoded.tolist() == [
        [0.0, 0.0, 1.0],
        [1.0, 0.0, 0.0],
        [0.0, 1.0, 0.0],
        [0.0, 0.0, 1.0],
    ]


def test_one_hot_dtype_and_empty():
    assert one_hot(np.array([1], dtype=np.int32), 2, dtype=np.float32).dtype == np.float32
    assert one_hot(np.array([], dtype=np.int64), 4).shape == (0, 4)


@pytest.mark.parametrize(
    "labels, n_classes, error, fragment",
    [
        ([0, 3, 1], 3, InvalidInputError, "labels[1] = 3 is outside 0..2"),
        ([0, -1], 2, InvalidInputError, "labels[1] = -1"),
        ([0.0, 1.0], 2, InvalidTypeError, "labels has dtype float64"),
        ([[0, 1]], 2, InvalidInputError, "labels has shape (1, 2)"),
        ([0], 0, InvalidInputError, "n_classes=0"),
        ([0], True, InvalidTypeError, "n_classes=True"),
    ],
)
def test_one_hot_invalid(labels, n_classes, error, fragment):
    with pytest.raises(error) as info:
        one_hot(labels, n_classes)

    assert fragment in str(info.value)


def test_dataset_feature_names_mismatch():
    with pytest.raises(InvalidInputError) as info:
        Dataset(name="d", X=np.zeros((2, 3)), y=np.zeros(2), task="regression", feature_names=["a"])

    assert "1 names but X has 3 columns" in str(info.value)


def test_dataset_target_length_mismatch():
    with pytest.raises(InvalidInputError) as info:
        Dataset(name="d", X=np.zeros((2, 1)), y=np.zeros(3), task="regression", feature_names=["a"])

    assert "Dataset.y has 3 rows but X has 2" in str(info.value)


def test_dataset_invalid_task():
    with pytest.raises(InvalidInputError) as info:
        Dataset(name="d", X=np.zeros((2, 1)), y=np.zeros(2), task="ranking", feature_names=["a"])

    assert "Dataset.task='ranking'" in str(info.value)


def test_dataset_test_split_pair():
    with pytest.raises(InvalidInputError) as info:
        Dataset(
            name="d",
            X=np.zeros((2, 1)),
            y=np.zeros(2),
            task="regression",
            feature_names=["a"],
            X_test=np.zeros((1, 1)),
        )

    assert "both be arrays or both be None" in str(info.value)
