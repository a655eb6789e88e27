"""Exercise generator: a backpropagation problem with friendly numbers, and its answer key.

``make_exercise(sizes, activations, loss, seed)`` draws weights, biases,
inputs and targets with one decimal (or two, ``decimals=2``, in steps of
0.05) from a generator seeded with ``seed``, so the same arguments always
give the same exercise. The problem is written in Markdown or LaTeX; the
answer key is the worked solution of the step's trace, and the exercise can
be saved as a network file for ``glassnet check``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import NDArray

from ._typing import FloatArray, JSONDict
from .errors import InvalidInputError
from .layers import ACTIVATIONS
from .losses import LOSSES, get_loss
from .netfile import problem_from_dict
from .render.text import PHASE_TITLES, format_value

if TYPE_CHECKING:
    from .netfile import Problem
    from .trace import Trace

DEFAULT_OUTPUT = {"binary-cross-entropy": "sigmoid", "categorical-cross-entropy": "softmax"}
LOSS_TEXT = {
    "half-squared-error": "half the squared error, L = ½ Σ (y - t)²",
    "mean-squared-error": "the squared error, L = Σ (y - t)²",
    "binary-cross-entropy": "binary cross-entropy, L = -Σ [t log y + (1 - t) log(1 - y)]",
    "categorical-cross-entropy": "categorical cross-entropy, L = -Σ t log y",
}
LOSS_LATEX = {
    "half-squared-error": r"half the squared error, $L = \tfrac{1}{2} \sum (y - t)^2$",
    "mean-squared-error": r"the squared error, $L = \sum (y - t)^2$",
    "binary-cross-entropy": r"binary cross-entropy, $L = -\sum [t \log y + (1 - t) \log(1 - y)]$",
    "categorical-cross-entropy": r"categorical cross-entropy, $L = -\sum t \log y$",
}


@dataclass
class Exercise:
    """A generated exercise: its settings, the network file it corresponds to, and the problem."""

    seed: int
    sizes: list[int]
    activations: list[str]
    loss: str
    reduction: str
    learning_rate: float
    document: JSONDict

    def problem(self) -> Problem:
        """Return a fresh :class:`~glassnet.netfile.Problem` of the exercise."""
        return problem_from_dict(_copy(self.document))

    def trace(self) -> Trace:
        return self.problem().run(1)[0]


def _copy(document: JSONDict) -> JSONDict:
    import copy

    return copy.deepcopy(document)


def _friendly(rng: np.random.Generator, shape: tuple[int, ...], decimals: int, low: float = -1.0, high: float = 1.0,
              nonzero: bool = True) -> FloatArray:
    """Draw numbers in [low, high] with one decimal, or two decimals in steps of 0.05."""
    step = 0.1 if decimals == 1 else 0.05
    count = int(round((high - low) / step))
    values = low + step * rng.integers(0, count + 1, size=shape)
    values = np.round(values, decimals)
    if nonzero:
        values[values == 0] = step
    return values


def parse_sizes(text: object) -> list[int]:
    """Return layer widths from ``"2,3,1"``, or raise naming the option."""
    try:
        sizes = [int(part) for part in str(text).split(",")]
    except ValueError:
        raise InvalidInputError(f"--layers {text!r} is invalid; expected comma-separated widths, e.g. 2,3,1") from None
    if len(sizes) < 2 or any(size < 1 or size > 8 for size in sizes):
        raise InvalidInputError(f"--layers {text!r} is invalid; expected at least two widths, each from 1 to 8 "
                                "(an exercise is computed by hand)")
    return sizes


def make_exercise(sizes: Sequence[int], activations: Iterable[str], loss: str = "half-squared-error",
                  seed: int | np.integer = 0, batch_size: int = 1, decimals: int = 1,
                  learning_rate: float | None = None, reduction: str = "mean") -> Exercise:
    """Return an :class:`Exercise` with friendly numbers.

    Parameters
    ----------
    sizes : list of int
        Layer widths, input first, e.g. ``[2, 3, 1]``.
    activations : list of str
        One activation per Dense layer (``len(sizes) - 1``), or one for every
        hidden layer, the output then following the loss (sigmoid for binary
        cross-entropy, softmax for categorical cross-entropy, identity otherwise).
    loss : str
    seed : int
        The same seed and settings always give the same numbers.
    batch_size : int
        Samples in the batch (1 to 4).
    decimals : int
        1 (numbers like 0.3) or 2 (numbers like 0.25).
    learning_rate : float, optional
        Step size of the gradient-descent update; 0.1 when None.
    """
    loss_key = str(loss).lower().replace("_", "-")
    if loss_key not in LOSSES:
        raise InvalidInputError(f"--loss {loss!r} is not known; use one of: {', '.join(sorted(LOSSES))}")
    loss_name = get_loss(loss_key).name
    n_dense = len(sizes) - 1
    activations = [name.strip().lower().replace("-", "_") for name in activations if name.strip()]
    if len(activations) == 1 and n_dense > 1:
        activations = activations * (n_dense - 1) + [DEFAULT_OUTPUT.get(loss_name, "identity")]
    if len(activations) != n_dense:
        raise InvalidInputError(
            f"--activations has {len(activations)} names for {n_dense} Dense layers; give one per layer, "
            "e.g. relu,sigmoid"
        )
    for name in activations:
        if name not in ACTIVATIONS:
            raise InvalidInputError(f"--activations: {name!r} is not known; use one of: {', '.join(sorted(ACTIVATIONS))}")
    required = DEFAULT_OUTPUT.get(loss_name)
    if required and activations[-1] != required:
        raise InvalidInputError(f"--loss {loss_name} needs a {required} output; make the last activation {required}")
    if decimals not in (1, 2):
        raise InvalidInputError(f"--decimals {decimals} is invalid; expected 1 or 2")
    if not 1 <= batch_size <= 4:
        raise InvalidInputError(f"--batch-size {batch_size} is invalid; expected 1 to 4 samples")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise InvalidInputError(f"--seed {seed!r} is invalid; expected an integer >= 0")

    rng = np.random.default_rng(int(seed))
    layers: list[JSONDict] = []
    for k in range(n_dense):
        W = _friendly(rng, (sizes[k], sizes[k + 1]), decimals)
        b = _friendly(rng, (sizes[k + 1],), decimals, -0.5, 0.5, nonzero=False)
        layers.append({"in_features": sizes[k], "out_features": sizes[k + 1], "W": W.tolist(), "b": b.tolist(),
                       "activation": activations[k]})
    X = _friendly(rng, (batch_size, sizes[0]), decimals)
    if loss_name == "binary-cross-entropy":
        t = rng.integers(0, 2, size=(batch_size, sizes[-1])).astype(float)
    elif loss_name == "categorical-cross-entropy":
        t = np.eye(sizes[-1])[rng.integers(0, sizes[-1], size=batch_size)]
    elif activations[-1] == "sigmoid":
        t = _friendly(rng, (batch_size, sizes[-1]), decimals, 0.0, 1.0, nonzero=False)
    else:
        t = _friendly(rng, (batch_size, sizes[-1]), decimals, nonzero=False)
    learning_rate = 0.1 if learning_rate is None else float(learning_rate)
    document = {
        "network": {"name": f"exercise {'-'.join(map(str, sizes))}, seed {seed}", "dtype": "float64"},
        "layers": layers,
        "data": {"X": X.tolist(), "t": t.tolist()},
        "training": {"loss": loss_name, "reduction": reduction, "optimizer": "sgd", "learning_rate": learning_rate,
                     "steps": 1},
    }
    exercise = Exercise(int(seed), list(sizes), activations, loss_name, reduction, learning_rate, document)
    exercise.problem()  # validate now, so a bad combination fails here with the network file's message
    return exercise


# ---------------------------------------------------------------- writing

def _description(exercise: Exercise, latex: bool = False) -> str:
    sizes = "-".join(map(str, exercise.sizes))
    parts = []
    for k, name in enumerate(exercise.activations, start=1):
        where = "output layer" if k == len(exercise.activations) else f"hidden layer {k}"
        parts.append(f"{where} {name.replace('_', ' ')}")
    batch = len(exercise.document["data"]["X"])
    samples = "one sample" if batch == 1 else f"a batch of {batch} samples ({exercise.reduction} over the batch)"
    loss = LOSS_LATEX[exercise.loss] if latex else LOSS_TEXT[exercise.loss]
    convention = ("Weights $W$ have shape (inputs, outputs): $z = x W + b$, and $W_{ij}$ joins unit $i$ of the "
                  "layer below to unit $j$." if latex else
                  "Weights W have shape (inputs, outputs): z = x · W + b, and W[i][j] joins unit i of the layer "
                  "below to unit j.")
    return (f"A {sizes} network ({', '.join(parts)}) sees {samples}. The loss is {loss}. Do one step of "
            f"gradient descent with learning rate {exercise.learning_rate:g}. {convention}")


def _tasks(exercise: Exercise) -> dict[str, list[str]]:
    trace = exercise.trace()
    tasks: dict[str, list[str]] = {}
    for quantity in trace:
        if quantity.formula == "given" or quantity.phase == "parameters":
            continue
        tasks.setdefault(quantity.phase, []).append(quantity.symbol)
    return tasks


def _givens(exercise: Exercise) -> list[tuple[str, str, NDArray[Any]]]:
    document = exercise.document
    givens = [("X", "input", np.array(document["data"]["X"])), ("t", "target", np.array(document["data"]["t"]))]
    for k, layer in enumerate(document["layers"], start=1):
        givens.append((f"W{k}", f"weights of layer {k}", np.array(layer["W"])))
        givens.append((f"b{k}", f"biases of layer {k}", np.array(layer["b"])))
    return givens


def exercise_markdown(exercise: Exercise) -> str:
    """Return the problem statement in Markdown."""
    lines = [f"# Backpropagation exercise (seed {exercise.seed})", "", _description(exercise), "", "## Given", ""]
    for symbol, name, value in _givens(exercise):
        lines.append(f"- {name}: `{symbol} = {format_value(value, 4)}`")
    lines += ["", "## Compute", ""]
    for number, (phase, symbols) in enumerate(_tasks(exercise).items(), start=1):
        listed = ", ".join(f"`{symbol}`" for symbol in symbols)
        lines.append(f"{number}. {PHASE_TITLES.get(phase, phase)}: {listed}")
    lines += ["", "Give every number to at least 4 significant digits. To check your answers, write them as "
              "`symbol = value` lines in answers.toml and run "
              "`glassnet check answers.toml --against exercise.toml` (save the exercise with --network-file).", ""]
    return "\n".join(lines)


def exercise_latex(exercise: Exercise) -> str:
    """Return the problem statement in LaTeX (needs amsmath)."""
    from .render.latex import latex_symbol, latex_value

    description = _description(exercise, latex=True)
    lines = [rf"\section*{{Backpropagation exercise (seed {exercise.seed})}}", "", description, "",
             r"\subsection*{Given}", r"\begin{align*}"]
    rows = [f"{latex_symbol(symbol)} &= {latex_value(value, 4)}" for symbol, _, value in _givens(exercise)]
    lines.append(" \\\\\n".join(rows))
    lines += [r"\end{align*}", "", r"\subsection*{Compute}", r"\begin{enumerate}"]
    for phase, symbols in _tasks(exercise).items():
        listed = ", ".join(f"${latex_symbol(symbol)}$" for symbol in symbols)
        lines.append(rf"\item {PHASE_TITLES.get(phase, phase)}: {listed}")
    lines += [r"\end{enumerate}", "", "Give every number to at least 4 significant digits.", ""]
    return "\n".join(lines)


def solution_markdown(exercise: Exercise, precision: int = 6) -> str:
    from .render.markdown import render_markdown

    return render_markdown(exercise.trace(), precision=precision,
                           title=f"Answer key: backpropagation exercise (seed {exercise.seed})")


def solution_latex(exercise: Exercise, precision: int = 6) -> str:
    from .render.latex import render_latex

    header = rf"\section*{{Answer key: backpropagation exercise (seed {exercise.seed})}}" + "\n\n"
    return header + render_latex(exercise.trace(), precision=precision)


def network_file_text(exercise: Exercise) -> str:
    """Return the exercise as a TOML network file (for ``glassnet check --against``)."""
    document = exercise.document
    lines = [f"# Generated by glassnet exercise (seed {exercise.seed}).", "", "[network]",
             f'name = "{document["network"]["name"]}"', 'dtype = "float64"', ""]
    for layer in document["layers"]:
        lines += ["[[layers]]", f"in_features = {layer['in_features']}", f"out_features = {layer['out_features']}",
                  f"W = {_toml_array(layer['W'])}", f"b = {_toml_array(layer['b'])}",
                  f'activation = "{layer["activation"]}"', ""]
    lines += ["[data]", f"X = {_toml_array(document['data']['X'])}", f"t = {_toml_array(document['data']['t'])}", ""]
    training = document["training"]
    lines += ["[training]", f'loss = "{training["loss"]}"', f'reduction = "{training["reduction"]}"',
              'optimizer = "sgd"', f"learning_rate = {training['learning_rate']!r}", "steps = 1", ""]
    return "\n".join(lines)


def _toml_array(value: float | list[Any]) -> str:
    if isinstance(value, list):
        return "[" + ", ".join(_toml_array(item) for item in value) + "]"
    return repr(float(value))
