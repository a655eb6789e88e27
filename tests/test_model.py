"""Model: checks on what a directly built Model is given."""

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InvalidInputError
from glassnet.model import Model


def _network(outputs=1):
    return gn.mlp([2, 3, outputs], output="softmax" if outputs > 1 else "identity", seed=0, dtype="float64")


@pytest.mark.parametrize("given, missing", [("mean", "scale"), ("scale", "mean"),
                                            ("target_mean", "target_scale"), ("target_scale", "target_mean")])
def test_model_half_standardisation_raises(given, missing):
    with pytest.raises(InvalidInputError, match=f"Model has {given} set but {missing}=None"):
        Model(network=_network(), task="regression", loss="mean-squared-error", **{given: np.ones(2)})


def test_model_full_standardisation_applies():
    model = Model(network=_network(), task="regression", loss="mean-squared-error",
                  mean=np.array([1.0, 2.0]), scale=np.array([2.0, 4.0]))
    np.testing.assert_array_equal(model.transform([[3.0, 6.0]]), [[1.0, 1.0]])


@pytest.mark.parametrize("method", ["predict", "evaluate"])
def test_model_without_class_names_raises(method):
    model = Model(network=_network(outputs=3), task="classification", loss="categorical-cross-entropy")
    X = np.zeros((2, 2))
    arguments = (X,) if method == "predict" else (X, np.array([0, 1]))
    with pytest.raises(InvalidInputError, match=f"{method} needs the class names .* class_names=None"):
        getattr(model, method)(*arguments)


def test_model_without_class_names_keeps_probabilities():
    model = Model(network=_network(outputs=3), task="classification", loss="categorical-cross-entropy")
    probabilities = model.predict_proba(np.zeros((2, 2)))
    np.testing.assert_allclose(probabilities.sum(axis=1), 1.0, atol=1e-12)
