"""Time each operation of a glassnet training step on the mlp784 network: ``python -m benchmarks.breakdown``.

glassnet's planned pass runs a list of layer functions (see
``Sequential._work_arrays``). This script wraps each of them in a timer, and
times the gather of each mini-batch and the guarded optimizer step the same
way, over whole shuffled epochs after one untimed epoch. It prints the mean
microseconds per step of each operation. The figures in docs/benchmarks.md,
"Where the time goes", come from it.
"""

import argparse
import time
from collections import defaultdict

import numpy as np

from . import THREADS
from .harness import ensure_glassnet_importable, limit_threads
from .mlp784 import LEARNING_RATE, SIZES, make_data, one_hot


def timed(function, label, totals):
    """Return ``function`` wrapped so that its time is added to ``totals[label]``."""
    clock = time.perf_counter

    def run(*args):
        started = clock()
        result = function(*args)
        totals[label] += clock() - started
        return result

    return run


def measure(batch_size, n_samples, epochs, dtype):
    """Return ``{operation: microseconds per step}`` for glassnet's step at ``batch_size``."""
    import glassnet as gn
    from glassnet._buffers import aligned_empty
    from glassnet.losses import get_loss
    from glassnet.training import FiniteGuard

    X, labels = make_data(n_samples, dtype)
    targets = one_hot(labels, dtype)
    network = gn.mlp(SIZES, activation="relu", output="softmax", seed=0, dtype=dtype)
    loss = get_loss("categorical-cross-entropy")
    guard = FiniteGuard(network, gn.SGD(learning_rate=LEARNING_RATE))
    totals = defaultdict(float)

    # Wrap every function of the plan for this batch size (the last, shorter batch is dropped).
    plan = network._work_arrays(batch_size, network._current_slots())
    names = [f"{layer.name} forward" for layer in network.layers]
    forward = tuple(timed(function, name, totals) for function, name in zip(plan.forward, names))
    names = [f"{layer.name} backward" for layer in reversed(network.layers)]
    backward = tuple(timed(function, name, totals) for function, name in zip(plan.backward, names))
    network._workspace[batch_size] = plan._replace(forward=forward, backward=backward)

    rng = np.random.default_rng(1)
    # Aligned batch arrays, as fit gathers into.
    x_batch = aligned_empty((batch_size, X.shape[1]), X.dtype)
    t_batch = aligned_empty((batch_size, targets.shape[1]), targets.dtype)
    clock = time.perf_counter
    steps = 0
    for epoch in range(epochs + 1):
        if epoch == 1:
            totals.clear()  # the first epoch only warms the caches
            steps = 0
        order = rng.permutation(n_samples)
        guard.refresh()
        for start in range(0, n_samples - batch_size + 1, batch_size):
            index = order[start:start + batch_size]
            started = clock()
            xb = np.take(X, index, axis=0, out=x_batch, mode="clip")
            tb = np.take(targets, index, axis=0, out=t_batch, mode="clip")
            gathered = clock()
            network._untraced_loss_and_backward(xb, tb, loss)
            passed = clock()
            guard.step()
            totals["gather"] += gathered - started
            totals["whole pass"] += passed - gathered
            totals["optimizer step with divergence check"] += clock() - passed
            steps += 1
    return {label: seconds / steps * 1e6 for label, seconds in totals.items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m benchmarks.breakdown", description=__doc__)
    parser.add_argument("--batch-size", type=int, default=128, help="rows per mini-batch")
    parser.add_argument("--samples", type=int, default=12_288, help="samples per epoch")
    parser.add_argument("--epochs", type=int, default=5, help="timed epochs, after one untimed")
    parser.add_argument("--dtype", default="float32", choices=["float32", "float64"],
                        help="dtype of the network and the data")
    args = parser.parse_args(argv)
    if args.batch_size < 1 or args.epochs < 1:
        parser.error("--batch-size and --epochs must be at least 1")
    if args.samples < args.batch_size:
        parser.error(f"--samples {args.samples} gives no full batch of {args.batch_size} rows; "
                     "give at least as many samples as --batch-size")
    ensure_glassnet_importable()
    limit_threads(THREADS, torch_too=False)
    rows = measure(args.batch_size, args.samples, args.epochs, np.dtype(args.dtype))
    step = rows["gather"] + rows["whole pass"] + rows["optimizer step with divergence check"]
    print(f"mlp784 {args.dtype}, batch {args.batch_size}: µs per step (share of the step)")
    for label, microseconds in rows.items():
        print(f"  {label:<40} {microseconds:9.1f}  ({microseconds / step:6.1%})")
    print(f"  {'step':<40} {step:9.1f}")


if __name__ == "__main__":
    main()
