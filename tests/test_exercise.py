"""Exercise generator: friendly numbers, same seed same exercise, a correct answer key."""

import numpy as np
import pytest

from glassnet.checker import check_answers
from glassnet.cli.main import main
from glassnet.errors import InvalidInputError
from glassnet.exercises import (exercise_latex, exercise_markdown, make_exercise, network_file_text,
                                solution_latex, solution_markdown)
from glassnet.netfile import load_problem
from glassnet.render.text import format_value

ARGV = ["exercise", "--layers", "2,3,1", "--activations", "relu,sigmoid", "--loss", "binary-cross-entropy",
        "--seed", "7"]


def test_same_seed_same_exercise(capsys):
    main(ARGV)
    first = capsys.readouterr().out
    main(ARGV)
    second = capsys.readouterr().out
    assert first == second
    main(ARGV[:-1] + ["8"])
    assert capsys.readouterr().out != first


@pytest.mark.parametrize("decimals, step", [(1, 0.1), (2, 0.05)])
def test_numbers_are_friendly(decimals, step):
    exercise = make_exercise([3, 4, 2], ["tanh", "identity"], "mean-squared-error", seed=3, batch_size=2,
                             decimals=decimals)
    values = [exercise.document["data"]["X"]]
    for layer in exercise.document["layers"]:
        values += [layer["W"], layer["b"]]
    for value in values:
        multiples = np.asarray(value) / step
        np.testing.assert_allclose(multiples, np.round(multiples), atol=1e-9)
        assert np.all(np.abs(value) <= 1.0)


def test_problem_lists_givens_and_tasks():
    exercise = make_exercise([2, 3, 1], ["relu", "sigmoid"], "binary-cross-entropy", seed=7)
    text = exercise_markdown(exercise)
    W1 = exercise.document["layers"][0]["W"]
    assert f"`W1 = {format_value(np.array(W1), 4)}`" in text
    assert "`delta2`" in text
    assert "`W2_new`" in text
    assert "binary cross-entropy" in text
    # The fused output: no sigmoid derivative to compute.
    assert "sigmoid'(z2)" not in text


def test_solution_is_the_trace():
    exercise = make_exercise([2, 3, 1], ["relu", "sigmoid"], "binary-cross-entropy", seed=7)
    trace = exercise.trace()
    key = solution_markdown(exercise)
    for symbol in ("z1", "y", "delta1", "dW1", "W2_new"):
        assert format_value(trace.value(symbol), 6) in key, symbol
    latex = solution_latex(exercise)
    assert r"\begin{align*}" in latex
    assert "Answer key" in latex


def test_latex_problem():
    exercise = make_exercise([2, 2, 2], ["sigmoid", "softmax"], "categorical-cross-entropy", seed=1)
    latex = exercise_latex(exercise)
    assert r"W_{1} &= \begin{bmatrix}" in latex
    assert r"\item Backward pass" in latex


def test_network_file_round_trip_and_check(tmp_path):
    exercise = make_exercise([2, 3, 1], ["relu", "sigmoid"], "binary-cross-entropy", seed=7)
    path = tmp_path / "exercise.toml"
    path.write_text(network_file_text(exercise))
    problem = load_problem(path)
    trace = exercise.trace()
    answers = {symbol: np.round(trace.value(symbol), 6).tolist() for symbol in ("z1", "a1", "y", "delta2", "dW1")}
    assert check_answers(answers, problem).passed


def test_one_activation_for_hidden_layers():
    exercise = make_exercise([2, 2, 2, 1], ["tanh"], "binary-cross-entropy", seed=0)
    assert exercise.activations == ["tanh", "tanh", "sigmoid"]


@pytest.mark.parametrize("kwargs, fragment", [
    ({"activations": ["relu"] * 3}, "3 names for 2 Dense layers"),
    ({"activations": ["relu", "swish"]}, "'swish' is not known"),
    ({"loss": "hinge"}, "--loss 'hinge' is not known"),
    ({"activations": ["relu", "identity"], "loss": "binary-cross-entropy"}, "needs a sigmoid output"),
    ({"decimals": 3}, "--decimals 3"),
    ({"batch_size": 9}, "--batch-size 9"),
    ({"seed": -2}, "--seed -2"),
])
def test_invalid_settings(kwargs, fragment):
    settings = {"activations": ["relu", "sigmoid"], "loss": "half-squared-error", "seed": 0, **kwargs}
    with pytest.raises(InvalidInputError, match=fragment.replace("(", r"\(")):
        make_exercise([2, 3, 1], **settings)


def test_exercise_command_files(tmp_path, capsys):
    status = main(ARGV + ["--solution", "--format", "latex", "--output", str(tmp_path / "key.tex"),
                          "--network-file", str(tmp_path / "ex.toml")])
    assert status == 0
    assert r"\section*{Answer key" in (tmp_path / "key.tex").read_text()
    assert load_problem(tmp_path / "ex.toml").network.out_features == 1


def test_exercise_command_bad_layers(capsys):
    status = main(["exercise", "--layers", "2,x"])
    assert status == 2
    assert "--layers '2,x' is invalid" in capsys.readouterr().err
