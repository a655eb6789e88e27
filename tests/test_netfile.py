"""Network files: the bundled examples, the `step` command and every kind of invalid entry."""

import copy
import json

import numpy as np
import pytest

from glassnet.cli.main import main
from glassnet.errors import InvalidInputError
from glassnet.netfile import load_problem, parse_network_text, problem_from_dict
from test_lesson import REFERENCE

LESSON = {
    "network": {"dtype": "float64"},
    "layers": [
        {"in_features": 2, "out_features": 2, "W": [[0.3, 0.4], [0.5, 0.6]], "b": [0.1, 0.2], "activation": "relu"},
        {"in_features": 2, "out_features": 1, "W": [[0.7], [0.8]], "b": [0.3], "activation": "sigmoid"},
    ],
    "data": {"X": [[0.1, 0.2]], "t": [[1.0]]},
    "training": {"loss": "half-squared-error", "optimizer": "sgd", "learning_rate": 0.1},
}


def test_lesson_file_matches_reference():
    trace = load_problem("lesson").run()[0]
    for symbol, expected in REFERENCE.items():
        np.testing.assert_allclose(trace.value(symbol), expected, rtol=1e-12, err_msg=symbol)


def test_lesson_as_json_file(tmp_path):
    path = tmp_path / "lesson.json"
    path.write_text(json.dumps(LESSON))
    trace = load_problem(path).run()[0]
    np.testing.assert_allclose(trace.value("W2_new"), REFERENCE["W2_new"], rtol=1e-12)


def test_sigmoid_example_forward_and_loss():
    # Hidden: sigmoid(0.05·0.15 + 0.10·0.20 + 0.35) = sigmoid(0.3775) = 0.593269992.
    trace = load_problem("sigmoid-2-2-2").run()[0]
    np.testing.assert_allclose(trace.value("a1"), [[0.593269992, 0.596884378]], rtol=1e-9)
    assert trace.value("y")[0, 0] == pytest.approx(0.75136507, rel=1e-8)
    assert trace.value("y")[0, 1] == pytest.approx(0.772928465, rel=1e-8)
    # Total error: ½(0.01 - 0.75136507)² + ½(0.99 - 0.772928465)² = 0.274811083 + 0.023560026.
    assert trace.loss == pytest.approx(0.298371109, rel=1e-9)
    assert trace.reduction == "sum"


def test_sigmoid_example_updated_weights():
    # The well-known results, e.g. W2[0, 0]: 0.40 - 0.5 · 0.082167041 = 0.35891648.
    trace = load_problem("sigmoid-2-2-2").run()[0]
    np.testing.assert_allclose(trace.value("dW2"), [[0.082167041, -0.0226025404], [0.0826676278, -0.0227402422]],
                               rtol=1e-7)
    # The published values have 8 or 9 decimals, so compare to 5e-9 absolute.
    np.testing.assert_allclose(trace.value("W2_new"), [[0.35891648, 0.51130127], [0.408666186, 0.561370121]],
                               rtol=0, atol=5e-9)
    np.testing.assert_allclose(trace.value("W1_new"), [[0.149780716, 0.24975114], [0.19956143, 0.29950229]],
                               rtol=0, atol=5e-9)


def test_step_command_prints_losses(capsys):
    status = main(["step", "sigmoid-2-2-2", "--steps", "3"])
    out = capsys.readouterr().out
    assert status == 0
    assert "step 1: loss 0.29837111" in out
    assert "a1 = sigmoid(z1)" in out
    assert out.count("=== Step") == 3


def test_step_command_json(capsys):
    status = main(["step", "lesson", "--format", "json"])
    document = json.loads(capsys.readouterr().out)
    assert status == 0
    assert document["loss"] == pytest.approx(REFERENCE["L"], rel=1e-12)


def test_step_command_missing_file(capsys):
    status = main(["step", "no-such-file.toml"])
    err = capsys.readouterr().err
    assert status == 2
    assert "does not exist" in err
    assert err.count("\n") == 1


def test_overrides_replace_training_keys():
    problem = load_problem(None, {"learning_rate": 0.5, "hidden_activation": "tanh"})
    assert problem.optimizer.learning_rate == 0.5
    assert problem.network.layers[1].kind == "tanh"


def test_seeded_layers_without_weights_are_reproducible():
    document = copy.deepcopy(LESSON)
    for table in document["layers"]:
        del table["W"]
    document["network"]["seed"] = 3
    first = problem_from_dict(copy.deepcopy(document)).network.get_parameters()
    second = problem_from_dict(copy.deepcopy(document)).network.get_parameters()
    for name in first:
        np.testing.assert_array_equal(first[name], second[name])


def _edit(path, value):
    """Return a copy of the lesson with ``value`` set at ``path`` (None deletes the key)."""
    document = copy.deepcopy(LESSON)
    target = document
    for key in path[:-1]:
        target = target[key]
    if value is None:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return document


INVALID = [
    (("layers", 0, "W"), [[0.3, 0.4]], ["layers[0].W", "shape (1, 2)", "(2, 2)"]),
    (("layers", 0, "W"), "weights", ["layers[0].W", "'weights'", "numbers of shape (2, 2)"]),
    (("layers", 0, "W"), [[0.3, "x"], [0.5, 0.6]], ["layers[0].W", "numbers"]),
    (("layers", 0, "W"), [[0.3, 0.4], [0.5]], ["layers[0].W", "equal length"]),
    (("layers", 0, "W"), [[0.3, float("nan")], [0.5, 0.6]], ["layers[0].W", "finite"]),
    (("layers", 0, "b"), [[0.1], [0.2]], ["layers[0].b", "shape (2, 1)", "(2,)"]),
    (("layers", 0, "activation"), "relu6", ["layers[0].activation", "'relu6'", "sigmoid"]),
    (("layers", 0, "activation"), 3, ["layers[0].activation", "3", "one of"]),
    (("layers", 0, "in_features"), 0, ["layers[0].in_features", "0", "integer >= 1"]),
    (("layers", 0, "in_features"), 2.5, ["layers[0].in_features", "2.5", "integer >= 1"]),
    (("layers", 0, "out_features"), None, ["layers[0]", "missing 'out_features'"]),
    (("layers", 1, "in_features"), 3, ["layers[1].in_features = 3", "layers[0].out_features = 2"]),
    (("layers", 0, "type"), "conv", ["layers[0].type", "'conv'", "'dense'"]),
    (("layers", 0, "units"), 4, ["layers[0]", "unknown key 'units'", "out_features"]),
    (("layers", 0, "init"), "uniform", ["layers[0].init", "'uniform'", "glorot_uniform"]),
    (("layers", 0, "dropout"), 1.5, ["layers[0].dropout", "1.5", ">= 0.0 and < 1.0"]),
    (("layers", 0, "alpha"), 0.1, ["layers[0].alpha", "leaky_relu"]),
    (("layers", 0), "dense", ["layers[0]", "'dense'", "a table"]),
    (("layers",), [], ["layers", "[]", "non-empty list"]),
    (("layers",), None, ["[[layers]]"]),
    (("network", "dtype"), "float16", ["network.dtype", "'float16'", "float32, float64"]),
    (("network", "seed"), -1, ["network.seed", "-1", "integer >= 0"]),
    (("network", "depth"), 2, ["network", "unknown key 'depth'"]),
    (("data",), None, ["[data]"]),
    (("data", "X"), None, ["data is missing 'X'"]),
    (("data", "t"), None, ["data is missing 't'"]),
    (("data", "X"), [[0.1, 0.2, 0.3]], ["data.X", "shape (1, 3)", "(batch, 2)"]),
    (("data", "X"), "input", ["data.X", "'input'"]),
    (("data", "t"), [[1.0, 0.0]], ["data.t", "shape (1, 2)", "(1, 1)"]),
    (("data", "y"), [[1.0]], ["data", "unknown key 'y'"]),
    (("training", "loss"), "hinge", ["training.loss", "'hinge'", "half-squared-error"]),
    (("training", "reduction"), "max", ["training.reduction", "'max'", "mean, sum"]),
    (("training", "optimizer"), "lbfgs", ["training.optimizer", "'lbfgs'", "sgd"]),
    (("training", "learning_rate"), 0, ["training.learning_rate", "0", "> 0.0"]),
    (("training", "learning_rate"), "fast", ["training.learning_rate", "'fast'", "finite number"]),
    (("training", "steps"), 0, ["training.steps", "0", "integer >= 1"]),
    (("training", "beta1"), 0.9, ["training", "unknown key 'beta1'", "optimizer 'sgd'", "momentum"]),
    (("training", "momentum"), 1.5, ["training", "momentum"]),
    (("extra",), {}, ["unknown key 'extra'", "layers"]),
]


@pytest.mark.parametrize("path, value, expected", INVALID, ids=[".".join(map(str, case[0])) + f"={case[1]!r}"
                                                                  for case in INVALID])
def test_invalid_entry_names_key_value_expectation(path, value, expected):
    with pytest.raises(InvalidInputError) as error:
        problem_from_dict(_edit(path, value))
    message = str(error.value)
    for fragment in expected:
        assert fragment in message


def test_bce_target_out_of_range_names_data_t():
    document = _edit(("training", "loss"), "binary-cross-entropy")
    document["data"]["t"] = [[2.0]]
    with pytest.raises(InvalidInputError, match=r"data\.t.*\[0, 1\]"):
        problem_from_dict(document)


def test_invalid_toml_and_json_text():
    with pytest.raises(InvalidInputError, match="not valid TOML"):
        parse_network_text("[network\n", "bad.toml")
    with pytest.raises(InvalidInputError, match="not valid JSON"):
        parse_network_text("{", "bad.json")


def test_top_level_must_be_table():
    with pytest.raises(InvalidInputError, match="top level"):
        problem_from_dict([1, 2])


def test_unknown_bundled_example():
    from glassnet.netfile import example_path

    with pytest.raises(InvalidInputError, match="lesson, sigmoid-2-2-2"):
        example_path("mnist")


def test_cli_invalid_file_is_one_line(tmp_path, capsys):
    path = tmp_path / "bad.toml"
    path.write_text("[[layers]]\nin_features = 2\nout_features = 1\nactivation = 'swish'\n[data]\nX = [[1, 2]]\n"
                    "t = [[1]]\n")
    status = main(["explain", str(path), "--format", "text"])
    err = capsys.readouterr().err
    assert status == 2
    assert "layers[0].activation = 'swish' is invalid" in err
    assert err.count("\n") == 1



def test_unweighted_layers_share_seeded_generator():
    from glassnet.initializers import glorot_uniform

    document = copy.deepcopy(LESSON)
    document["network"]["seed"] = 3
    del document["layers"][1]["W"]
    network = problem_from_dict(copy.deepcopy(document)).network
    # The first layer gives its weights, so the second layer's are the generator's first draw.
    np.testing.assert_array_equal(network.layers[0].params["W"], LESSON["layers"][0]["W"])
    np.testing.assert_array_equal(network.layers[2].params["W"], glorot_uniform(2, 1, np.random.default_rng(3)))

    del document["layers"][0]["W"]
    document["layers"][0]["dropout"] = 0.5
    network = problem_from_dict(document).network
    assert [layer.kind for layer in network.layers] == ["dense", "relu", "dropout", "dense", "sigmoid"]
    rng = np.random.default_rng(3)
    np.testing.assert_array_equal(network.layers[0].params["W"], glorot_uniform(2, 2, rng))
    np.testing.assert_array_equal(network.layers[3].params["W"], glorot_uniform(2, 1, rng))
    # The dropout layer's masks come from the same generator, after both draws.
    assert network.layers[2].rng.random() == rng.random()


def test_example_path_outside_a_folder(monkeypatch, tmp_path):
    from glassnet import netfile

    # As when glassnet is imported from a zip archive: there is no examples folder beside the module.
    monkeypatch.setattr(netfile, "EXAMPLES_DIR", tmp_path / "missing")
    path = netfile.example_path("lesson")
    assert not str(path).startswith(str(tmp_path))
    trace = load_problem("lesson").run()[0]
    for symbol, expected in REFERENCE.items():
        np.testing.assert_allclose(trace.value(symbol), expected, rtol=1e-12, err_msg=symbol)
