"""Answer checker: compare a learner's hand-computed quantities with the trace and name the likely mistake.

A learner writes any subset of a step's quantities under their trace symbols
(``z1``, ``a1``, ``delta2``, ``dW2``, ``W2_new``...) in JSON or TOML. Each
answer is marked correct or wrong within a tolerance. For the first wrong
answer (in the order the math happens) the checker recomputes the whole step
once per known mistake (forgot the activation derivative, used t - y, forgot a
transpose, ...) and names the mistake whose recomputed quantity matches the
answer; when several match, the one that also explains most of the learner's
other answers wins. An answer that matches no known mistake is reported with
the quantities it depends on.

The recomputation supports networks of Dense layers, each followed by an
activation (or none), trained by plain SGD without momentum, weight decay,
clipping or dropout.
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeAlias, overload

import numpy as np
from numpy.typing import ArrayLike

from . import activations as act
from ._typing import FloatArray, JSONDict, StrPath
from .errors import InvalidInputError
from .network import DISPLAY_NAMES

if TYPE_CHECKING:
    from .netfile import Problem

# Quantities of one recomputed step keyed by trace symbol: arrays, and the loss L as a float.
Values: TypeAlias = dict[str, FloatArray | float]

# Mistake kinds, most likely first. "{k}" is the Dense layer the mistake is made in.
MISTAKES = {
    "forgot_activation_derivative":
        "forgot the activation derivative: delta{k} = dL/da{k} without the factor f'(z{k})",
    "sign_of_error": "used (t - y) instead of (y - t) in the loss derivative, so every gradient has the wrong sign",
    "sigmoid_derivative_not_cancelled":
        "multiplied by sigmoid'(z{k}) = y(1 - y) although cross-entropy cancels it: delta{k} = (y - t) / N",
    "derivative_at_activation":
        "evaluated the derivative at the activation instead of the pre-activation: f'(a{k}) instead of f'(z{k})",
    "derivative_formula_on_preactivation":
        "put the pre-activation into the output-based formula, e.g. z{k}(1 - z{k}) instead of a{k}(1 - a{k})",
    "weight_gradient_transposed":
        "multiplied in the wrong order: delta{k}ᵀ · a{j} instead of a{j}ᵀ · delta{k} (dW{k} must have W{k}'s shape)",
    "backprop_without_transpose": "forgot the transpose: delta{k} · W{k} instead of delta{k} · W{k}ᵀ",
    "weight_gradient_from_preactivation": "used the pre-activation z{j} instead of the activation a{j} in "
                                          "dW{k} = a{j}ᵀ · delta{k}",
    "bias_gradient_not_summed": "did not sum the bias gradient over the batch: db{k} = Σ over samples of delta{k}",
    "summed_instead_of_mean": "summed over the batch where the loss takes the mean: gradients N times too large",
    "divided_by_n_again": "divided by N where no division belongs (twice for a mean loss, or for a sum loss)",
    "forgot_half": "dropped the ½ of the half squared error (dL/dy = 2(y - t)), doubling the loss and gradients",
    "updated_before_backprop": "updated W{k} before back-propagating into layer {j}: used the new W{k} in "
                               "delta{k} · W{k}ᵀ",
    "learning_rate_twice": "applied the learning rate twice: W - lr · lr · dW",
    "learning_rate_missing": "left out the learning rate: W - dW instead of W - lr · dW",
    "added_gradient": "added the gradient instead of subtracting it: W + lr · dW instead of W - lr · dW",
    "forgot_bias": "left out the bias: z{k} = a{j} · W{k} without + b{k}",
    "forward_transpose": "used W{k}ᵀ in the forward pass: z{k} = a{j} · W{k}ᵀ + b{k}",
    "forgot_activation": "skipped the activation: used z{k} itself as the output of layer {k}",
}
# Mistakes made in one Dense layer; the others concern the whole step.
LAYER_MISTAKES = (
    "forgot_activation_derivative", "derivative_at_activation", "derivative_formula_on_preactivation",
    "weight_gradient_transposed", "backprop_without_transpose", "weight_gradient_from_preactivation",
    "bias_gradient_not_summed", "updated_before_backprop", "forgot_bias", "forward_transpose", "forgot_activation",
)
DEFAULT_RTOL = 2e-3
DEFAULT_ATOL = 1e-5


@dataclass
class Mistake:
    """A kind of mistake, made in one Dense layer (``layer``) or in the whole step (layer 0)."""

    kind: str
    layer: int = 0
    upstream: str = ""
    function: str = "f"

    def describe(self) -> str:
        k = self.layer
        text = MISTAKES[self.kind].format(k=k, j=k - 1 if k > 1 else "")
        text = text.replace(f"dL/da{k} ", f"{self.upstream or f'dL/da{k}'} ")
        return text.replace("f'(", f"{self.function}'(")


@dataclass
class Spec:
    """Inputs of the recomputation: parameters before the step, data, activations, loss and learning rate."""

    weights: list[FloatArray]
    biases: list[FloatArray]
    X: FloatArray
    t: FloatArray
    activations: list[tuple[str, float]]  # (kind, alpha) per Dense layer; kind "identity" when none follows
    loss: str
    reduction: str
    fused: bool
    learning_rate: float


def spec_from_problem(problem: Problem) -> Spec:
    """Return the :class:`Spec` of a network file's problem, or raise for what recomputation does not cover."""
    from .optimizers import SGD

    optimizer = problem.optimizer
    plain = (isinstance(optimizer, SGD) and optimizer.momentum == 0 and optimizer.weight_decay == 0
             and optimizer.clip_norm is None)
    if not plain:
        raise InvalidInputError(
            f"the checker recomputes plain SGD steps; the file's optimizer is {optimizer!r}. "
            "Set training.optimizer = 'sgd' without momentum, weight_decay or clip_norm"
        )
    network = problem.network
    activations: list[tuple[str, float]] = []
    for dense in network.dense_layers:
        kind, alpha = "identity", 0.0
        for layer in network.layers:
            if layer.number != dense.number or layer is dense:
                continue
            if layer.kind == "dropout":
                raise InvalidInputError("the checker does not recompute dropout; remove layers[].dropout")
            kind = layer.kind
            alpha = getattr(layer, "alpha", 0.0)
        activations.append((kind, alpha))
    return Spec(
        weights=[dense.params["W"].copy() for dense in network.dense_layers],
        biases=[dense.params["b"].copy() for dense in network.dense_layers],
        X=problem.X.copy(), t=problem.t.copy(), activations=activations, loss=problem.loss.name,
        reduction=problem.loss.reduction, fused=network.is_fused(problem.loss),
        learning_rate=problem.optimizer.learning_rate,
    )


# ---------------------------------------------------------------- recomputation

def _activate(kind: str, alpha: float, z: FloatArray) -> FloatArray:
    a: FloatArray
    if kind == "relu":
        a = act.relu(z)
    elif kind == "leaky_relu":
        a = act.leaky_relu(z, alpha)
    elif kind == "sigmoid":
        a = act.sigmoid(z)
    elif kind == "tanh":
        a = np.tanh(z)
    elif kind == "softmax":
        a = act.softmax(z)
    else:
        a = z.copy()
    return a


def _derivative(kind: str, alpha: float, z: FloatArray, a: FloatArray, mistake_kind: str | None) -> FloatArray:
    """Return f'(z) for elementwise activations, computed the right or the wrong way."""
    if mistake_kind == "derivative_at_activation":
        z = a
        a = _activate(kind, alpha, a)
    elif mistake_kind == "derivative_formula_on_preactivation":
        a = z
    if kind == "sigmoid":
        return a * (1.0 - a)
    if kind == "tanh":
        return 1.0 - a * a
    derivative: FloatArray
    if kind == "relu":
        derivative = act.relu_derivative(z)
    elif kind == "leaky_relu":
        derivative = act.leaky_relu_derivative(z, alpha)
    else:
        derivative = np.ones_like(z)
    return derivative


def _divisor(spec: Spec, y: FloatArray) -> int:
    if spec.reduction == "sum":
        return 1
    if spec.loss == "categorical-cross-entropy":
        return int(y.shape[0])
    return y.size


def _loss_value(spec: Spec, y: FloatArray, t: FloatArray, divisor: int, factor: float) -> float:
    if spec.loss == "half-squared-error":
        return factor * 0.5 * float(np.sum((y - t) ** 2)) / divisor
    if spec.loss == "mean-squared-error":
        return float(np.sum((y - t) ** 2)) / divisor
    if spec.loss == "binary-cross-entropy":
        p = np.clip(y, 1e-15, 1 - 1e-15)
        return float(-np.sum(t * np.log(p) + (1 - t) * np.log1p(-p))) / divisor
    p = np.maximum(y, 1e-15)
    return float(-np.sum(t * np.log(p))) / divisor


def _loss_gradient(spec: Spec, y: FloatArray, t: FloatArray, divisor: int, factor: float) -> FloatArray:
    if spec.loss == "half-squared-error":
        return factor * (y - t) / divisor
    if spec.loss == "mean-squared-error":
        return 2.0 * (y - t) / divisor
    if spec.loss == "binary-cross-entropy":
        p = np.clip(y, 1e-15, 1 - 1e-15)
        return (p - t) / (p * (1 - p)) / divisor
    return -t / np.maximum(y, 1e-15) / divisor


@overload
def recompute(spec: Spec, mistake: None = None) -> Values: ...


@overload
def recompute(spec: Spec, mistake: Mistake) -> Values | None: ...


def recompute(spec: Spec, mistake: Mistake | None = None) -> Values | None:
    """Recompute every quantity of one SGD step, optionally making ``mistake``.

    Returns a dict keyed by trace symbol. A mistake that cannot be made on this
    network (e.g. a forward transpose of a non-square W) returns None.
    """
    kind = mistake.kind if mistake else None
    at = mistake.layer if mistake else 0
    n_layers = len(spec.weights)
    values: Values = {"X": spec.X, "t": spec.t}
    for k in range(1, n_layers + 1):
        values[f"W{k}"] = spec.weights[k - 1]
        values[f"b{k}"] = spec.biases[k - 1]

    # Forward pass.
    # pre[k] and post[k] are z and a of Dense layer k. The input X fills index 0
    # of both, so that indices match layer numbers; pre[0] is never read.
    inputs = [spec.X]
    pre = [spec.X]
    post = [spec.X]
    a = spec.X
    for k in range(1, n_layers + 1):
        W = spec.weights[k - 1]
        b = spec.biases[k - 1]
        if kind == "forward_transpose" and at == k:
            if W.shape[0] != W.shape[1]:
                return None
            W = W.T
        z = a @ W
        if not (kind == "forgot_bias" and at == k):
            z = z + b
        activation, alpha = spec.activations[k - 1]
        if kind == "forgot_activation" and at == k:
            if activation == "identity":
                return None
            a = z.copy()
        else:
            a = _activate(activation, alpha, z)
        pre.append(z)
        post.append(a)
        inputs.append(a)
        last = k == n_layers
        if activation == "identity":
            values["y" if last else f"z{k}"] = z
        else:
            values[f"z{k}"] = z
            values["y" if last else f"a{k}"] = a
    y = post[-1]

    # Loss.
    divisor = _divisor(spec, y)
    factor = 2.0 if kind == "forgot_half" else 1.0
    if kind == "forgot_half" and spec.loss != "half-squared-error":
        return None
    used_divisor = divisor
    if kind == "summed_instead_of_mean":
        if divisor == 1:
            return None
        used_divisor = 1
    if kind == "divided_by_n_again":
        extra = divisor if divisor > 1 else spec.X.shape[0]
        if extra == 1:
            return None
        used_divisor = divisor * extra
    values["L"] = _loss_value(spec, y, spec.t, divisor, factor)

    # Backward pass.
    sign = -1.0 if kind == "sign_of_error" else 1.0
    last_kind, last_alpha = spec.activations[-1]
    delta: FloatArray
    if spec.fused:
        delta = sign * (y - spec.t) / used_divisor
        if kind == "sigmoid_derivative_not_cancelled":
            if last_kind != "sigmoid":
                return None
            delta = delta * y * (1 - y)
    else:
        if kind == "sigmoid_derivative_not_cancelled":
            return None
        grad = sign * _loss_gradient(spec, y, spec.t, used_divisor, factor)
        delta = _through_activation(values, spec, n_layers, pre[n_layers], post[n_layers], grad, "dL/dy",
                                    kind if at == n_layers else None)
    deltas: dict[int, FloatArray] = {n_layers: delta}
    new_weights: dict[int, tuple[FloatArray, FloatArray]] = {}
    for k in range(n_layers, 0, -1):
        delta = deltas[k]
        values[f"delta{k}"] = delta
        below = inputs[k - 1]
        if kind == "weight_gradient_from_preactivation" and at == k:
            if k == 1 or spec.activations[k - 2][0] == "identity":
                return None
            below = pre[k - 1]
        dW = below.T @ delta
        if kind == "weight_gradient_transposed" and at == k:
            dW = dW.T
        db = delta.sum(axis=0)
        if kind == "bias_gradient_not_summed" and at == k:
            if delta.shape[0] == 1:
                return None
            db = delta.copy()
        values[f"dW{k}"] = dW
        values[f"db{k}"] = db
        new_weights[k] = _update(spec, k, dW, db, kind)
        if k == 1:
            break
        W = spec.weights[k - 1]
        if kind == "updated_before_backprop" and at == k:
            W = new_weights[k][0]
        if kind == "backprop_without_transpose" and at == k:
            if W.shape[0] != W.shape[1]:
                return None
            upstream = delta @ W
        else:
            upstream = delta @ W.T
        below_symbol = f"dL/da{k - 1}"
        if spec.activations[k - 2][0] == "identity":
            deltas[k - 1] = upstream
            continue
        deltas[k - 1] = _through_activation(values, spec, k - 1, pre[k - 1], post[k - 1], upstream, below_symbol,
                                            kind if at == k - 1 else None)
    for k, (W_new, b_new) in new_weights.items():
        values[f"W{k}_new"] = W_new
        values[f"b{k}_new"] = b_new
    return values


def _through_activation(values: Values, spec: Spec, k: int, z: FloatArray, a: FloatArray, grad: FloatArray,
                        grad_symbol: str, kind: str | None) -> FloatArray:
    """Return delta_k = grad ⊙ f'(z_k), recording grad and the derivative under their symbols.

    ``z`` and ``a`` are the pre-activation and activation of Dense layer ``k``.
    """
    activation, alpha = spec.activations[k - 1]
    if activation == "identity":
        return grad
    values[grad_symbol] = grad
    if activation == "softmax":
        if kind in ("forgot_activation_derivative",):
            return grad
        row_sums: FloatArray = np.sum(grad * a, axis=1, keepdims=True)
        return (grad - row_sums) * a
    derivative = _derivative(activation, alpha, z, a, kind)
    values[f"{DISPLAY_NAMES[activation]}'(z{k})"] = derivative
    if kind == "forgot_activation_derivative":
        return grad
    return grad * derivative


def _update(spec: Spec, k: int, dW: FloatArray, db: FloatArray, kind: str | None) -> tuple[FloatArray, FloatArray]:
    lr = spec.learning_rate
    if kind == "learning_rate_twice":
        lr = lr * lr
    elif kind == "learning_rate_missing":
        lr = 1.0
    sign = 1.0 if kind == "added_gradient" else -1.0
    W = spec.weights[k - 1] + sign * lr * dW if dW.shape == spec.weights[k - 1].shape \
        else spec.weights[k - 1] + sign * lr * dW.T
    b = spec.biases[k - 1] + sign * lr * np.reshape(db, (-1, spec.biases[k - 1].size)).sum(axis=0)
    return W, b


def candidate_mistakes(spec: Spec) -> Iterator[Mistake]:
    """Yield every :class:`Mistake` that applies to this network, most likely first."""
    n_layers = len(spec.weights)
    for kind in MISTAKES:
        if kind in LAYER_MISTAKES:
            for k in range(n_layers, 0, -1):
                upstream = "dL/dy" if k == n_layers else f"dL/da{k}"
                function = DISPLAY_NAMES.get(spec.activations[k - 1][0], "f")
                yield Mistake(kind, k, upstream, function)
        else:
            yield Mistake(kind, n_layers if kind == "sigmoid_derivative_not_cancelled" else 0)


# ---------------------------------------------------------------- comparing answers

_ALIASES = [
    (re.compile(r"^dL/dz(\d+)$"), r"delta\1"),
    (re.compile(r"^dL/d([Wb]\d+)$"), r"d\1"),
    (re.compile(r"^(delta|z|a|W|b|dW|db)_(\d+)$"), r"\1\2"),
    (re.compile(r"^([Wb]\d+)(?:'|\+| new|_updated|_after)$"), r"\1_new"),
    (re.compile(r"^(?:loss|E)$"), "L"),
    (re.compile(r"^(?:output|a_out)$"), "y"),
]


def normalize_symbol(symbol: object) -> str:
    """Return the trace symbol for common ways of writing it (``δ2``, ``dL/dz2``, ``W2'``...)."""
    text = str(symbol).strip().replace("δ", "delta").replace("σ", "sigmoid")
    for pattern, replacement in _ALIASES:
        if pattern.match(text):
            return pattern.sub(replacement, text)
    return text


def close(answer: ArrayLike, value: ArrayLike, rtol: float = DEFAULT_RTOL, atol: float = DEFAULT_ATOL) -> bool:
    """True when ``answer`` equals ``value`` within tolerance; singleton axes are ignored."""
    a = np.asarray(answer, dtype=float)
    v = np.asarray(value, dtype=float)
    if a.size != v.size or np.squeeze(a).shape != np.squeeze(v).shape:
        return False
    return bool(np.allclose(np.squeeze(a), np.squeeze(v), rtol=rtol, atol=atol))


@dataclass
class AnswerResult:
    symbol: str
    answer: FloatArray
    expected: FloatArray | float
    correct: bool
    name: str = ""


@dataclass
class CheckReport:
    """Per-answer results and the diagnosis of the first wrong answer."""

    results: list[AnswerResult] = field(default_factory=list)
    unknown: list[str] = field(default_factory=list)
    first_wrong: str = ""
    mistake: Mistake | None = None
    depends_on: tuple[str, ...] = ()
    symbols: tuple[str, ...] = ()
    rtol: float = DEFAULT_RTOL
    atol: float = DEFAULT_ATOL

    @property
    def passed(self) -> bool:
        return all(result.correct for result in self.results) and not self.unknown

    def to_dict(self) -> JSONDict:
        return {
            "passed": self.passed,
            "rtol": self.rtol,
            "atol": self.atol,
            "answers": [{"symbol": r.symbol, "correct": r.correct, "answer": _builtin(r.answer),
                         "expected": _builtin(r.expected)} for r in self.results],
            "unknown_symbols": self.unknown,
            "first_wrong": self.first_wrong or None,
            "mistake": None if self.mistake is None else {"kind": self.mistake.kind, "layer": self.mistake.layer,
                                                          "description": self.mistake.describe()},
            "depends_on": list(self.depends_on),
        }

    def format(self, reveal: bool = False, precision: int = 6) -> str:
        from .render.text import format_value

        lines: list[str] = []
        for result in self.results:
            mark = "correct" if result.correct else "WRONG"
            line = f"{mark:>7}  {result.symbol} = {format_value(result.answer, precision)}"
            if reveal and not result.correct:
                line += f"   (expected {format_value(result.expected, precision)})"
            lines.append(line)
        for symbol in self.unknown:
            lines.append(f"unknown  {symbol}: not a quantity of this step; its quantities are: "
                         f"{', '.join(self.symbols)}")
        if self.first_wrong:
            lines.append("")
            if self.mistake is not None:
                lines.append(f"First wrong answer {self.first_wrong}: most likely you {self.mistake.describe()}.")
            else:
                inputs = ", ".join(self.depends_on) or "the given values"
                lines.append(f"First wrong answer {self.first_wrong}: it matches no known mistake. "
                             f"It is computed from {inputs}; check those values and the formula.")
        elif self.passed:
            lines.append("")
            lines.append(f"All {len(self.results)} answers are correct.")
        lines.append(f"(tolerance: relative {self.rtol:g}, absolute {self.atol:g})")
        return "\n".join(lines)


def _builtin(value: ArrayLike) -> Any:
    array = np.asarray(value)
    return array.item() if array.ndim == 0 else array.tolist()


def check_answers(answers: Mapping[str, Any], problem: Problem, rtol: float = DEFAULT_RTOL,
                  atol: float = DEFAULT_ATOL) -> CheckReport:
    """Check a learner's answers against one step of ``problem`` and diagnose the first wrong one.

    Parameters
    ----------
    answers : dict of str to number or nested list
        Hand-computed quantities keyed by trace symbol.
    problem : glassnet.netfile.Problem
        The network file the answers are about; its first step is run.
    """
    from .optimizers import SGD

    spec = spec_from_problem(problem)
    # Step a copy, so the problem's own network and optimizer stay as loaded.
    network = problem.network.copy()
    trace = network.step(problem.X, problem.t, problem.loss, SGD(spec.learning_rate), trace=True)
    order = {symbol: position for position, symbol in enumerate(trace.symbols())}
    normalized: dict[str, FloatArray] = {}
    report = CheckReport(rtol=rtol, atol=atol, symbols=tuple(trace.symbols()))
    for symbol, value in answers.items():
        key = normalize_symbol(symbol)
        if key not in order:
            report.unknown.append(str(symbol))
            continue
        normalized[key] = _answer_array(value, symbol)
    for symbol in sorted(normalized, key=order.__getitem__):
        expected = trace.value(symbol)
        correct = close(normalized[symbol], expected, rtol, atol)
        report.results.append(AnswerResult(symbol, normalized[symbol], expected, correct, trace[symbol].name))
    wrong = [result.symbol for result in report.results if not result.correct]
    if wrong:
        report.first_wrong = wrong[0]
        report.mistake = diagnose(spec, normalized, wrong[0], rtol, atol)
        report.depends_on = trace[wrong[0]].inputs
    return report


def _answer_array(value: object, symbol: str) -> FloatArray:
    try:
        array = np.asarray(value, dtype=float)
    except (TypeError, ValueError):
        raise InvalidInputError(f"answer {symbol} = {value!r} is invalid; expected a number or a nested list "
                                "of numbers") from None
    if not np.all(np.isfinite(array)):
        raise InvalidInputError(f"answer {symbol} contains NaN or inf; expected finite numbers")
    return array


def diagnose(spec: Spec, answers: Mapping[str, FloatArray], symbol: str, rtol: float = DEFAULT_RTOL,
             atol: float = DEFAULT_ATOL) -> Mistake | None:
    """Return the :class:`Mistake` that best explains ``answers[symbol]``, or None.

    Among mistakes whose recomputed ``symbol`` matches the answer, the one
    whose recomputation matches most of the other answers wins. Ties go to the
    mistake that changes fewest quantities of the step (the most local
    explanation, e.g. adding the gradient rather than flipping every sign),
    then to the more common mistake (the order of ``MISTAKES``).
    """
    correct = recompute(spec)
    best = None
    best_key = None
    for mistake in candidate_mistakes(spec):
        values = recompute(spec, mistake)
        if values is None or symbol not in values:
            continue
        if close(values[symbol], correct[symbol], rtol, atol):
            continue
        if not close(answers[symbol], values[symbol], rtol, atol):
            continue
        score = sum(1 for other, answer in answers.items()
                    if other in values and close(answer, values[other], rtol, atol))
        changed = sum(1 for other, value in values.items()
                      if other in correct and not close(value, correct[other], 1e-12, 0.0))
        key = (score, -changed)
        if best_key is None or key > best_key:
            best, best_key = mistake, key
    return best


def load_answers(path: StrPath) -> JSONDict:
    """Read a learner's answers from a JSON or TOML file: a table of symbol = value."""
    from .netfile import read_text_file

    file = Path(path)
    text = read_text_file(file, "answers file")
    try:
        if file.suffix.lower() == ".json":
            document = json.loads(text)
        else:
            document = tomllib.loads(text)
    except (json.JSONDecodeError, tomllib.TOMLDecodeError) as exc:
        raise InvalidInputError(f"{file} is not valid {'JSON' if file.suffix.lower() == '.json' else 'TOML'}: "
                                f"{exc}") from exc
    if not isinstance(document, dict) or not document:
        raise InvalidInputError(f"{file} must contain a table of answers, e.g. delta2 = [[-0.07]]")
    if isinstance(document.get("answers"), dict):
        document = document["answers"]
    answers: JSONDict = document
    return answers
