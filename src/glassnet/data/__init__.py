"""Datasets for glassnet: bundled and generated sets, CSV files, splits and scaling.

Every loader returns a :class:`Dataset` with float64 features ``X`` and
targets ``y`` (int64 labels 0..K-1 for classification). scikit-learn and
mnist1d are imported only by the loaders that need them (extra "data").

Example::

    from glassnet.data import load_dataset, split_dataset, Standardizer

    iris = load_dataset("iris")
    split = split_dataset(iris.X, iris.y, test_fraction=0.2, seed=0)
    scaler = Standardizer().fit(split.X_train)
    X_train = scaler.transform(split.X_train)
"""

from .bundled import DATASETS, list_datasets, load_dataset
from .csv_loader import load_csv
from .dataset import Dataset
from .encoding import one_hot
from .scaling import Standardizer
from .schema import CsvSchema
from .split import Split, split_dataset

__all__ = [
    "DATASETS",
    "CsvSchema",
    "Dataset",
    "Split",
    "Standardizer",
    "list_datasets",
    "load_csv",
    "load_dataset",
    "one_hot",
    "split_dataset",
]
