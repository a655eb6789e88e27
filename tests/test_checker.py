"""Answer checker: correct answers pass, and every generated mistake is named."""

import json

import numpy as np
import pytest

from glassnet.checker import (MISTAKES, Mistake, candidate_mistakes, check_answers, close, normalize_symbol,
                              recompute, spec_from_problem)
from glassnet.cli.main import main
from glassnet.errors import InvalidInputError
from glassnet.netfile import load_problem, problem_from_dict

GIVEN = ("X", "t")


def random_network(seed):
    """A small random network file with friendly weights, a random loss and batch size."""
    rng = np.random.default_rng(seed)
    depth = int(rng.integers(2, 4))
    sizes = [int(n) for n in rng.integers(2, 4, size=depth + 1)]
    hidden = ["relu", "sigmoid", "tanh", "leaky_relu"]
    output, loss, reduction = [
        ("sigmoid", "half-squared-error", "mean"),
        ("sigmoid", "binary-cross-entropy", "mean"),
        ("identity", "mean-squared-error", "mean"),
        ("softmax", "categorical-cross-entropy", "mean"),
        ("tanh", "half-squared-error", "sum"),
    ][seed % 5]
    batch = int(rng.integers(1, 4))
    layers = []
    for k in range(depth):
        last = k == depth - 1
        layers.append({
            "in_features": sizes[k], "out_features": sizes[k + 1],
            "W": np.round(rng.uniform(-1, 1, size=(sizes[k], sizes[k + 1])), 2).tolist(),
            "b": np.round(rng.uniform(-0.5, 0.5, size=sizes[k + 1]), 2).tolist(),
            "activation": output if last else hidden[int(rng.integers(len(hidden)))],
        })
    X = np.round(rng.uniform(-1, 1, size=(batch, sizes[0])), 1)
    if loss == "categorical-cross-entropy":
        t = np.eye(sizes[-1])[rng.integers(sizes[-1], size=batch)]
    elif loss == "binary-cross-entropy":
        t = rng.integers(0, 2, size=(batch, sizes[-1])).astype(float)
    else:
        t = np.round(rng.uniform(-0.9, 0.9, size=(batch, sizes[-1])), 1)
    document = {"layers": layers, "data": {"X": X.tolist(), "t": t.tolist()},
                "training": {"loss": loss, "reduction": reduction, "learning_rate": [0.1, 0.5, 0.3][seed % 3]}}
    return problem_from_dict(document)


PROBLEMS = {"lesson": lambda: load_problem("lesson"), "sigmoid-2-2-2": lambda: load_problem("sigmoid-2-2-2")}
PROBLEMS.update({f"random-{seed}": (lambda seed=seed: random_network(seed)) for seed in range(10)})


@pytest.mark.parametrize("name", sorted(PROBLEMS))
def test_recompute_matches_trace(name):
    problem = PROBLEMS[name]()
    spec = spec_from_problem(problem)
    values = recompute(spec)
    trace = problem.run(1)[0]
    for quantity in trace:
        if quantity.symbol in values:
            np.testing.assert_allclose(values[quantity.symbol], quantity.value, rtol=1e-10, atol=1e-14,
                                       err_msg=quantity.symbol)
    missing = [s for s in trace.symbols() if s not in values and not s.startswith(("W", "b"))]
    assert not missing


def test_correct_answers_pass():
    problem = load_problem("lesson")
    answers = {"z1": [[0.23, 0.36]], "y": 0.679, "delta2": -0.06998, "dW2": [[-0.0161], [-0.0252]],
               "W1_new": [[0.3005, 0.4006], [0.501, 0.6011]], "L": 0.0515}
    report = check_answers(answers, problem)
    assert report.passed
    assert "All 6 answers are correct." in report.format()


def generated_cases():
    """Yield (problem name, mistake, answers under that mistake) for every mistake that changes an answer."""
    for name, make in sorted(PROBLEMS.items()):
        problem = make()
        spec = spec_from_problem(problem)
        correct = recompute(spec)
        for mistake in candidate_mistakes(spec):
            values = recompute(spec, mistake)
            if values is None:
                continue
            answers = {s: v for s, v in values.items() if s not in GIVEN and not s[1:].isdigit()}
            if all(close(answers[s], correct[s]) for s in answers if s in correct):
                continue
            yield name, mistake, answers


CASES = list(generated_cases())


def test_every_mistake_kind_is_generated():
    kinds = {mistake.kind for _, mistake, _ in CASES}
    assert kinds == set(MISTAKES)
    assert len(MISTAKES) >= 12


@pytest.mark.parametrize("name, mistake, answers", CASES,
                         ids=[f"{name}-{m.kind}-{m.layer}" for name, m, _ in CASES])
def test_generated_mistake_is_diagnosed(name, mistake, answers):
    problem = PROBLEMS[name]()
    report = check_answers(answers, problem)
    assert not report.passed
    diagnosed = report.mistake
    assert diagnosed is not None, report.format()
    assert diagnosed.kind == mistake.kind, f"made {mistake}, diagnosed {diagnosed}"
    assert diagnosed.layer == mistake.layer, f"made {mistake}, diagnosed {diagnosed}"


@pytest.mark.parametrize("kind, layer, symbol", [
    ("forgot_activation_derivative", 2, "delta2"),
    ("sign_of_error", 0, "dL/dy"),
    ("derivative_at_activation", 2, "sigmoid'(z2)"),
    ("derivative_formula_on_preactivation", 2, "sigmoid'(z2)"),
    ("forgot_half", 0, "dL/dy"),
    ("learning_rate_missing", 0, "W2_new"),
    ("learning_rate_twice", 0, "b1_new"),
    ("added_gradient", 0, "W1_new"),
    ("forgot_bias", 1, "z1"),
    ("forward_transpose", 1, "z1"),
    ("forgot_activation", 2, "y"),
    ("updated_before_backprop", 2, "dL/da1"),
])
def test_single_lesson_answer_is_diagnosed(kind, layer, symbol):
    problem = load_problem("lesson")
    values = recompute(spec_from_problem(problem), Mistake(kind, layer))
    # The lesson's updates are small, so compare to 1e-4 relative to see them.
    report = check_answers({symbol: values[symbol]}, problem, rtol=1e-4)
    assert report.first_wrong == symbol
    assert report.mistake.kind == kind


def test_sigmoid_not_cancelled_with_cross_entropy():
    problem = load_problem("lesson", {"loss": "binary-cross-entropy"})
    # With BCE, delta2 = y - t = -0.32104; multiplying by y(1 - y) = 0.21797 gives -0.06998.
    report = check_answers({"delta2": [[-0.06998]]}, problem)
    assert report.mistake.kind == "sigmoid_derivative_not_cancelled"
    assert "cross-entropy cancels it" in report.format()


def test_unmatched_answer_names_inputs():
    report = check_answers({"dW2": [[0.5], [0.7]]}, load_problem("lesson"))
    assert report.mistake is None
    assert report.depends_on == ("a1", "delta2")
    assert "It is computed from a1, delta2" in report.format()


def test_message_names_output_derivative():
    problem = load_problem("lesson")
    report = check_answers({"delta2": [[-0.321]]}, problem)
    assert "delta2 = dL/dy without the factor sigmoid'(z2)" in report.format()


def test_symbol_aliases():
    assert normalize_symbol("δ2") == "delta2"
    assert normalize_symbol("dL/dz1") == "delta1"
    assert normalize_symbol("dL/dW2") == "dW2"
    assert normalize_symbol("W2'") == "W2_new"
    assert normalize_symbol("delta_1") == "delta1"


def test_unknown_symbol_reported():
    report = check_answers({"q7": 1.0}, load_problem("lesson"))
    assert report.unknown == ["q7"]
    assert not report.passed
    assert "its quantities are: W1, b1, W2, b2, X, z1" in report.format()


def test_invalid_answer_value():
    with pytest.raises(InvalidInputError, match="answer z1 = 'abc' is invalid"):
        check_answers({"z1": "abc"}, load_problem("lesson"))


def test_momentum_is_rejected():
    problem = load_problem("lesson", {"momentum": 0.9})
    with pytest.raises(InvalidInputError, match="plain SGD"):
        check_answers({"z1": [[0.23, 0.36]]}, problem)


def test_check_command(tmp_path, capsys):
    answers = tmp_path / "answers.toml"
    answers.write_text('z1 = [[0.23, 0.36]]\ndelta2 = [[-0.321]]\n')
    status = main(["check", str(answers), "--against", "lesson", "--reveal"])
    out = capsys.readouterr().out
    assert status == 1
    assert "correct  z1" in out
    assert "WRONG  delta2" in out
    assert "expected [[-0.0699779]]" in out
    assert "forgot the activation derivative" in out
    path = tmp_path / "answers.json"
    path.write_text(json.dumps({"z1": [[0.23, 0.36]]}))
    status = main(["check", str(path), "--against", "lesson", "--format", "json"])
    assert status == 0
    assert json.loads(capsys.readouterr().out)["passed"] is True


def test_check_command_errors(tmp_path, capsys):
    status = main(["check", str(tmp_path / "none.toml"), "--against", "lesson"])
    assert status == 2
    assert "answers file" in capsys.readouterr().err
    bad = tmp_path / "bad.toml"
    bad.write_text("z1 = [[0.23, \n")
    status = main(["check", str(bad), "--against", "lesson"])
    assert status == 2
    assert "not valid TOML" in capsys.readouterr().err
