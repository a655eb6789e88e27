"""Bundled and generated datasets, loaded by name without network access.

iris, wine, breast-cancer and digits are the copies shipped inside
scikit-learn. moons, circles, spirals and xor are generated here, and
mnist1d is generated locally by the ``mnist1d`` package. Every generator
draws from its own seeded random number generator, so loading a dataset
leaves ``np.random`` and ``random`` in the state they were in before.
"""

import random
from collections.abc import Callable, Iterable
from typing import Any

import numpy as np
from numpy.typing import NDArray

from ..errors import InvalidInputError, InvalidTypeError, require
from ._checks import check_seed
from .dataset import ClassName, Dataset

DATASETS = {
    "iris": "Iris flowers: 150 samples, 4 measurements, 3 species.",
    "wine": "Wine recognition: 178 samples, 13 chemical measurements, 3 cultivars.",
    "breast-cancer": "Breast cancer Wisconsin: 569 samples, 30 features, 2 classes.",
    "digits": "Handwritten digits: 1797 images of 8x8 pixels, 10 classes.",
    "moons": "Two interleaving half circles: 1000 noisy 2-D points, 2 classes.",
    "circles": "A circle inside a circle: 1000 noisy 2-D points, 2 classes.",
    "spirals": "Three interleaved spiral arms: 900 noisy 2-D points, 3 classes.",
    "xor": "The XOR truth table: 4 points in 2-D, 2 classes.",
    "mnist1d": "MNIST-1D signals of length 40: 4000 train and 1000 test, 10 classes.",
}

# Sizes of the generated 2-D datasets.
N_MOONS = 1000
N_CIRCLES = 1000
N_SPIRAL_ARMS = 3
N_PER_SPIRAL_ARM = 300


def list_datasets() -> list[str]:
    """Return the names accepted by :func:`load_dataset`, in a fixed order."""
    return list(DATASETS)


def load_dataset(name: str, seed: int = 0) -> Dataset:
    """Load a bundled or generated dataset by name.

    Parameters
    ----------
    name : str
        One of :func:`list_datasets`. Case is ignored, and ``_`` and ``-``
        are interchangeable (``"Breast_Cancer"`` is ``"breast-cancer"``).
    seed : int, default 0
        Seed of the generated 2-D datasets (moons, circles, spirals), an
        integer from 0 to 2**32 - 1. The other datasets are fixed and ignore
        it. mnist1d always uses the published generator seed 42.

    Returns
    -------
    Dataset
        Features as float64, labels as int64 0..K-1, task "classification".
    """
    key = _resolve_name(name)
    seed = check_seed(seed)
    return _LOADERS[key](seed)


def _resolve_name(name: object) -> str:
    """Return the DATASETS key matching ``name``, or raise listing the valid names."""
    if not isinstance(name, str):
        raise InvalidTypeError(
            f"name={name!r} has type {type(name).__name__}; expected a dataset name "
            f"such as 'iris'. Valid names: {', '.join(DATASETS)}"
        )
    requested = _name_key(name)
    for key in DATASETS:
        if _name_key(key) == requested:
            return key
    raise InvalidInputError(
        f"name={name!r} is not a known dataset; use one of: {', '.join(DATASETS)}"
    )


def _name_key(name: str) -> str:
    return name.strip().lower().replace("_", "").replace("-", "")


def _python_values(values: Iterable[Any]) -> list[ClassName]:
    """Convert NumPy scalars to the matching Python str, int or float."""
    return [value.item() if isinstance(value, np.generic) else value for value in values]


# scikit-learn's bundled copies

def _load_sklearn_bundle(name: str, loader_name: str, description: str) -> Dataset:
    datasets = require("sklearn.datasets", "data", f"loading the {name} dataset")
    bundle = getattr(datasets, loader_name)()
    return Dataset(
        name=name,
        X=np.asarray(bundle.data, dtype=np.float64),
        y=np.asarray(bundle.target, dtype=np.int64),
        task="classification",
        feature_names=[str(feature) for feature in bundle.feature_names],
        class_names=_python_values(bundle.target_names),
        description=description,
    )


def _load_iris(seed: int) -> Dataset:
    return _load_sklearn_bundle(
        "iris",
        "load_iris",
        "Fisher's iris flowers (1936): sepal and petal length and width in cm of "
        "50 flowers of each of 3 species. Copy bundled with scikit-learn.",
    )


def _load_wine(seed: int) -> Dataset:
    return _load_sklearn_bundle(
        "wine",
        "load_wine",
        "UCI wine recognition data: 13 chemical measurements of 178 Italian wines "
        "from 3 cultivars. Copy bundled with scikit-learn.",
    )


def _load_breast_cancer(seed: int) -> Dataset:
    return _load_sklearn_bundle(
        "breast-cancer",
        "load_breast_cancer",
        "UCI breast cancer Wisconsin (diagnostic) data: 30 features of cell nuclei "
        "in 569 fine needle aspirate images. Label 0 is malignant and 1 benign. "
        "Copy bundled with scikit-learn.",
    )


def _load_digits(seed: int) -> Dataset:
    return _load_sklearn_bundle(
        "digits",
        "load_digits",
        "UCI optical recognition of handwritten digits: 1797 images of 8x8 pixels, "
        "each pixel a count from 0 to 16, flattened row by row. Copy bundled with "
        "scikit-learn.",
    )


# Generated 2-D datasets

def _load_moons(seed: int) -> Dataset:
    datasets = require("sklearn.datasets", "data", "generating the moons dataset")
    X, y = datasets.make_moons(n_samples=N_MOONS, noise=0.2, random_state=seed)
    return Dataset(
        name="moons",
        X=X.astype(np.float64),
        y=y.astype(np.int64),
        task="classification",
        feature_names=["x1", "x2"],
        class_names=[0, 1],
        description=(
            f"Two interleaving half circles, {N_MOONS} points with Gaussian noise of "
            f"standard deviation 0.2, from sklearn.datasets.make_moons with "
            f"random_state={seed}."
        ),
    )


def _load_circles(seed: int) -> Dataset:
    datasets = require("sklearn.datasets", "data", "generating the circles dataset")
    X, y = datasets.make_circles(n_samples=N_CIRCLES, noise=0.1, factor=0.5, random_state=seed)
    return Dataset(
        name="circles",
        X=X.astype(np.float64),
        y=y.astype(np.int64),
        task="classification",
        feature_names=["x1", "x2"],
        class_names=[0, 1],
        description=(
            f"A circle of radius 0.5 (label 1) inside a circle of radius 1 (label 0), "
            f"{N_CIRCLES} points with Gaussian noise of standard deviation 0.1, from "
            f"sklearn.datasets.make_circles with random_state={seed}."
        ),
    )


def _load_spirals(seed: int) -> Dataset:
    rng = np.random.default_rng(seed)
    n_arms = N_SPIRAL_ARMS
    n_per_arm = N_PER_SPIRAL_ARM

    # Arm k starts at angle 2*pi*k/n_arms and winds 4 radians from radius
    # 0.05 to 1. The angle gets Gaussian noise of standard deviation 0.2.
    radius = np.linspace(0.05, 1.0, n_per_arm)
    points: list[NDArray[np.float64]] = []
    labels: list[NDArray[np.int64]] = []
    for arm in range(n_arms):
        angle = 2 * np.pi * arm / n_arms + 4.0 * radius + rng.normal(0.0, 0.2, n_per_arm)
        points.append(np.column_stack([radius * np.cos(angle), radius * np.sin(angle)]))
        labels.append(np.full(n_per_arm, arm, dtype=np.int64))

    # Shuffle so that the rows are not sorted by class.
    order = rng.permutation(n_arms * n_per_arm)
    X = np.concatenate(points)[order]
    y = np.concatenate(labels)[order]
    return Dataset(
        name="spirals",
        X=X,
        y=y,
        task="classification",
        feature_names=["x1", "x2"],
        class_names=list(range(n_arms)),
        description=(
            f"{n_arms} interleaved spiral arms of {n_per_arm} points each. Arm k has "
            f"label k. Angular noise has standard deviation 0.2 radians; seed={seed}."
        ),
    )


def _load_xor(seed: int) -> Dataset:
    return Dataset(
        name="xor",
        X=np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]]),
        y=np.array([0, 1, 1, 0], dtype=np.int64),
        task="classification",
        feature_names=["x1", "x2"],
        class_names=[0, 1],
        description=(
            "The XOR truth table: the label is 1 when exactly one input is 1. "
            "No line separates the classes, so a network needs a hidden layer."
        ),
    )


def _load_mnist1d(seed: int) -> Dataset:
    mnist1d_data = require("mnist1d.data", "data", "generating the mnist1d dataset")
    args = mnist1d_data.get_dataset_args()

    # make_dataset seeds and draws from the global NumPy and Python random
    # generators, so save their state and restore it afterwards.
    # NOTE: another thread drawing from np.random during generation would
    # draw from the seeded stream and change the generated data.
    numpy_state = np.random.get_state()
    python_state = random.getstate()
    try:
        # make_dataset only computes arrays. get_dataset is never called
        # because it downloads a pickle and writes it to the working directory.
        generated = mnist1d_data.make_dataset(args)
    finally:
        np.random.set_state(numpy_state)
        random.setstate(python_state)

    X = np.asarray(generated["x"], dtype=np.float64)
    n_train = X.shape[0]
    n_test = len(generated["y_test"])
    return Dataset(
        name="mnist1d",
        X=X,
        y=np.asarray(generated["y"], dtype=np.int64),
        task="classification",
        feature_names=[f"x{i}" for i in range(1, X.shape[1] + 1)],
        class_names=list(range(10)),
        X_test=np.asarray(generated["x_test"], dtype=np.float64),
        y_test=np.asarray(generated["y_test"], dtype=np.int64),
        description=(
            "MNIST-1D (Greydanus, 2020): the ten digit templates as 1-D signals, padded, "
            "scaled, translated, sheared and noised, then subsampled to length "
            f"{X.shape[1]} and standardized. Generated locally by "
            "mnist1d.data.make_dataset with the defaults of get_dataset_args "
            f"(seed {args.seed}); {n_train} training and {n_test} test samples."
        ),
    )


_LOADERS: dict[str, Callable[[int], Dataset]] = {
    "iris": _load_iris,
    "wine": _load_wine,
    "breast-cancer": _load_breast_cancer,
    "digits": _load_digits,
    "moons": _load_moons,
    "circles": _load_circles,
    "spirals": _load_spirals,
    "xor": _load_xor,
    "mnist1d": _load_mnist1d,
}
