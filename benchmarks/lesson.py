"""The 2-2-1 lesson network, batch 1: microseconds per training step.

At this size every array has two elements, so a step's time is the cost of
its Python and NumPy calls, not of arithmetic. All implementations run the
same step: ReLU hidden layer, sigmoid output, half squared error, SGD with
learning rate 0.1, float64.
"""

import numpy as np

from .harness import Candidate, alternate, median
from .reference import NumpyLesson, lesson_parameters
from .scalar_autograd import ScalarLesson

LEARNING_RATE = 0.1


def glassnet_steps(steps, trace):
    """Return a function running ``steps`` lesson steps through ``Sequential.step``."""
    import glassnet as gn

    W1, b1, W2, b2, X, t = lesson_parameters()
    network = gn.Sequential([gn.Dense(2, 2, W=W1, b=b1), gn.ReLU(), gn.Dense(2, 1, W=W2, b=b2), gn.Sigmoid()],
                            dtype="float64")
    loss = gn.get_loss("half-squared-error")
    optimizer = gn.SGD(learning_rate=LEARNING_RATE)

    def run():
        for _ in range(steps):
            network.step(X, t, loss, optimizer, trace=trace)

    return run


def numpy_steps(steps):
    model = NumpyLesson(LEARNING_RATE)

    def run():
        for _ in range(steps):
            model.step()

    return run


def scalar_steps(steps):
    model = ScalarLesson(LEARNING_RATE)

    def run():
        for _ in range(steps):
            model.step()

    return run


def torch_steps(steps):
    """Return a function running ``steps`` lesson steps in PyTorch (Linear stores Wᵀ)."""
    import torch
    from torch import nn

    W1, b1, W2, b2, X, t = lesson_parameters()
    model = nn.Sequential(nn.Linear(2, 2), nn.ReLU(), nn.Linear(2, 1), nn.Sigmoid()).double()
    with torch.no_grad():
        model[0].weight.copy_(torch.from_numpy(W1.T))
        model[0].bias.copy_(torch.from_numpy(b1))
        model[2].weight.copy_(torch.from_numpy(W2.T))
        model[2].bias.copy_(torch.from_numpy(b2))
    optimizer = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
    x = torch.from_numpy(X)
    target = torch.from_numpy(t)

    def run():
        for _ in range(steps):
            optimizer.zero_grad(set_to_none=True)
            y = model(x)
            loss = 0.5 * ((y - target) ** 2).mean()
            loss.backward()
            optimizer.step()

    return run


def run(settings):
    """Time every implementation's lesson step; return result rows."""
    steps = settings.lesson_steps
    candidates = [
        Candidate("glassnet", glassnet_steps(steps, trace=False)),
        Candidate("glassnet_trace", glassnet_steps(steps, trace=True)),
        Candidate("numpy_reference", numpy_steps(steps)),
        Candidate("micrograd", scalar_steps(steps), backend="python"),
        Candidate("torch", torch_steps(steps), backend="torch"),
    ]
    alternate(candidates, settings.repeats, warmup=settings.warmup)
    rows = []
    for candidate in candidates:
        seconds = median(candidate.seconds)
        rows.append({
            "case": "lesson221",
            "implementation": candidate.name,
            "measure": "step_time",
            "batch_size": 1,
            "dtype": np.dtype(np.float64).name,
            "microseconds_per_step": seconds / steps * 1e6,
            "steps": steps,
            "repeats": len(candidate.seconds),
        })
    return rows
