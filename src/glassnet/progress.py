"""Progress reporting callbacks for :func:`glassnet.training.fit`."""

import sys
import time

from .training import Callback


class PlainProgress(Callback):
    """Print a start summary, one fixed-format line per epoch and why training stopped.

    Suits logs, CI and pipes; it never redraws a line.
    """

    def __init__(self, stream=None, every=1):
        self.stream = stream
        self.every = every

    def _print(self, text):
        print(text, file=self.stream or sys.stdout, flush=True)

    def on_train_begin(self, state):
        network = state.network
        self._print(
            f"training {network.n_parameters} parameters ({network.dtype.name}) on {state.n_train} samples, "
            f"validating on {state.n_val}; {state.epochs} epochs, batch size {state.batch_size}, "
            f"seed {state.seed}; optimizer {state.optimizer!r}; loss {state.loss.name}"
        )

    def on_epoch_end(self, state):
        record = state.record
        if record["epoch"] % self.every and record["epoch"] != state.epochs:
            return
        parts = [f"epoch {record['epoch']:>4}", f"step {record['step']:>6}", f"train_loss {record['train_loss']:.5f}"]
        for key, value in record.items():
            if key.startswith("val_"):
                parts.append(f"{key} {value:.5f}")
        parts.append(f"lr {record['learning_rate']:.3g}")
        samples_per_second = state.n_train / record["seconds"] if record["seconds"] > 0 else float("inf")
        parts.append(f"{samples_per_second:,.0f} samples/s")
        self._print("  ".join(parts))

    def on_train_end(self, state):
        elapsed = time.perf_counter() - state.started
        self._print(f"stopped: {state.stop_reason} after {state.step} steps in {elapsed:.2f} s")
