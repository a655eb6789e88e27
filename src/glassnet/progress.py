"""Progress reporting callbacks for :func:`glassnet.training.fit`.

Three displays share one start summary and one end line:

- :class:`PlainProgress`: one fixed-format line per epoch, for logs, pipes and CI;
- :class:`RichProgress`: a live bar on a terminal (needs ``rich``);
- :class:`NotebookProgress`: one HTML block in a Jupyter or Colab notebook,
  updated in place at most a few times per second.

:func:`make_progress` picks one for the environment.
"""

from __future__ import annotations

import html
import os
import sys
import time
from typing import TYPE_CHECKING, Any, TextIO

from .training import Callback

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

    from .training import TrainingState


def start_summary(state: TrainingState, config: dict[str, Any] | None = None) -> list[str]:
    """Return the lines printed when training starts: sizes, dtype, seed and configuration."""
    network = state.network
    loss = state.loss
    lines = [
        f"training {network.n_parameters:,} parameters ({network.dtype.name}) on {state.n_train} samples, "
        f"validating on {state.n_val}",
        f"{state.epochs} epochs, batch size {state.batch_size}, seed {state.seed}, optimizer {state.optimizer!r}, "
        f"loss {loss.name}",
    ]
    if config:
        shown = ", ".join(f"{key}={_format_setting(value)}" for key, value in config.items())
        lines.append(f"configuration: {shown}")
    return lines


def end_summary(state: TrainingState) -> str:
    """Return the line printed when training ends, saying why it stopped."""
    elapsed = time.perf_counter() - state.started
    text = f"stopped after epoch {state.epoch} (step {state.step}, {elapsed:.2f} s): {state.stop_reason}"
    record = state.history.records[-1] if state.history.records else None
    if record is not None:
        text += f"; final train_loss {record['train_loss']:.5f}"
        metric = validation_metric(record)
        if metric is not None:
            text += f", {metric[0]} {metric[1]:.5f}"
    return text


def validation_metric(record: dict[str, Any]) -> tuple[str, float] | None:
    """Return ``(name, value)`` of the validation metric shown in progress displays, or None.

    A metric such as ``val_accuracy`` is preferred over ``val_loss``.
    """
    names = [key for key in record if key.startswith("val_") and isinstance(record[key], (int, float))]
    if not names:
        return None
    preferred = [name for name in names if name != "val_loss"] or names
    return preferred[0], float(record[preferred[0]])


def epoch_summary(state: TrainingState) -> str:
    """Return the short end-of-epoch line of the live displays: loss, metric, rate, speed."""
    record = state.record
    parts = [f"train_loss {record['train_loss']:.4f}"]
    metric = validation_metric(record)
    if metric is not None:
        parts.append(f"{metric[0]} {metric[1]:.4f}")
    parts.append(f"lr {record['learning_rate']:.3g}")
    parts.append(f"{samples_per_second(state.n_train, record['seconds']):,.0f} samples/s")
    return "  ".join(parts)


def samples_per_second(samples: float, seconds: float) -> float:
    return samples / seconds if seconds > 0 else float("inf")


def _format_setting(value: object) -> str:
    if isinstance(value, (list, tuple)):
        return ",".join(str(item) for item in value)
    return str(value)


class PlainProgress(Callback):
    """Print a start summary, one fixed-format line per epoch and why training stopped.

    Suits logs, CI and pipes, because it never redraws a line.

    Parameters
    ----------
    stream : file, optional
        Defaults to ``sys.stdout`` at the time of printing.
    every : int
        Print every ``every`` epochs (and always the last).
    config : dict, optional
        Training configuration, shown in the start summary.
    """

    def __init__(self, stream: TextIO | None = None, every: int = 1, config: dict[str, Any] | None = None) -> None:
        self.stream = stream
        self.every = every
        self.config = config

    def _print(self, text: str) -> None:
        print(text, file=self.stream or sys.stdout, flush=True)

    def on_train_begin(self, state: TrainingState) -> None:
        for line in start_summary(state, self.config):
            self._print(line)

    def on_epoch_end(self, state: TrainingState) -> None:
        record = state.record
        if record["epoch"] % self.every and record["epoch"] != state.epochs:
            return
        parts = [f"epoch {record['epoch']:>4}", f"step {record['step']:>6}", f"train_loss {record['train_loss']:.5f}"]
        for key, value in record.items():
            if key.startswith("val_") and isinstance(value, (int, float)):
                parts.append(f"{key} {value:.5f}")
        parts.append(f"lr {record['learning_rate']:.3g}")
        parts.append(f"{samples_per_second(state.n_train, record['seconds']):,.0f} samples/s")
        self._print("  ".join(parts))

    def on_train_end(self, state: TrainingState) -> None:
        self._print(end_summary(state))


class RichProgress(Callback):
    """A live progress bar on a terminal: epochs, batches, loss, validation metric, learning rate, speed.

    Needs the ``rich`` package (extra ``progress``). The bar redraws at most
    ``refresh_per_second`` times a second, so fast epochs cost nothing.
    """

    modifies_parameters = False  # on_batch_end only reads the state

    def __init__(
        self, config: dict[str, Any] | None = None, console: Console | None = None, refresh_per_second: float = 8
    ) -> None:
        from .errors import require

        require("rich", "rich", "the live progress bar")
        self.config = config
        self.console = console
        self.refresh_per_second = refresh_per_second
        self._progress: Progress | None = None

    def on_train_begin(self, state: TrainingState) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

        console = self.console or Console()
        for line in start_summary(state, self.config):
            console.print(line, highlight=False, markup=False)
        self._progress = Progress(
            TextColumn("epoch {task.fields[epoch]}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[metrics]}"),
            TimeElapsedColumn(),
            console=console,
            refresh_per_second=self.refresh_per_second,
            transient=False,
        )
        self._progress.start()
        self._task = self._progress.add_task("train", total=state.epochs, epoch=f"{state.epoch}/{state.epochs}",
                                             metrics="")
        self._batch_task = self._progress.add_task("batches", total=state.n_train, epoch="  batch",
                                                   metrics="")
        self._epoch_started = time.perf_counter()
        self._last_record = None

    def on_epoch_begin(self, state: TrainingState) -> None:
        self._epoch_started = time.perf_counter()
        # No bar runs before on_train_begin or after on_train_end, so draw nothing then.
        if self._progress is None:
            return
        self._progress.update(self._task, epoch=f"{state.epoch}/{state.epochs}", completed=state.epoch - 1)
        self._progress.update(self._batch_task, completed=0)

    def on_batch_end(self, state: TrainingState) -> None:
        speed = samples_per_second(state.position, time.perf_counter() - self._epoch_started)
        if self._progress is None:
            return
        self._progress.update(self._batch_task, completed=state.position,
                              metrics=f"loss {state.batch_loss:.4f}  {speed:,.0f} samples/s")

    def on_epoch_end(self, state: TrainingState) -> None:
        if self._progress is None:
            return
        self._progress.update(self._task, completed=state.epoch, metrics=epoch_summary(state))

    def on_train_end(self, state: TrainingState) -> None:
        if self._progress is None:
            return
        self._progress.stop()
        self._progress.console.print(end_summary(state), highlight=False, markup=False)
        self._progress = None


class NotebookProgress(Callback):
    """One HTML block in a notebook, updated in place (``IPython.display`` with a ``display_id``).

    Updates are throttled to one per ``min_interval`` seconds plus one at the
    end of every epoch, so the output neither floods the notebook nor leaves
    it without news during a long epoch.
    """

    modifies_parameters = False  # on_batch_end only reads the state

    def __init__(self, config: dict[str, Any] | None = None, min_interval: float = 0.5) -> None:
        from .errors import require

        self._display = require("IPython.display", "notebook", "the notebook progress display")
        self.config = config
        self.min_interval = min_interval
        self._handle: Any = None
        self._last_update = 0.0
        self._summary: list[str] = []
        self._lines = ""

    def on_train_begin(self, state: TrainingState) -> None:
        self._summary = start_summary(state, self.config)
        self._epoch_started = time.perf_counter()
        self._handle = self._display.display(self._display.HTML(self._html(state)), display_id=True)
        self._last_update = time.perf_counter()

    def on_epoch_begin(self, state: TrainingState) -> None:
        self._epoch_started = time.perf_counter()

    def on_batch_end(self, state: TrainingState) -> None:
        now = time.perf_counter()
        if now - self._last_update >= self.min_interval:
            self._update(state, now)

    def on_epoch_end(self, state: TrainingState) -> None:
        self._lines = f"epoch {state.epoch}: {epoch_summary(state)}"
        self._update(state, time.perf_counter())

    def on_train_end(self, state: TrainingState) -> None:
        self._summary = self._summary + [end_summary(state)]
        self._update(state, time.perf_counter(), final=True)

    def _update(self, state: TrainingState, now: float, final: bool = False) -> None:
        self._last_update = now
        if self._handle is not None:
            self._handle.update(self._display.HTML(self._html(state, final)))

    def _html(self, state: TrainingState, final: bool = False) -> str:
        done = state.epoch if final else max(state.epoch - 1, 0) + state.position / max(state.n_train, 1)
        speed = samples_per_second(state.position, time.perf_counter() - self._epoch_started)
        rows = "".join(f"<div>{html.escape(line)}</div>" for line in self._summary)
        status = (f"epoch {state.epoch}/{state.epochs}, step {state.step}, batch loss {state.batch_loss:.4f}, "
                  f"{speed:,.0f} samples/s")
        return (
            f"<div style='font-family: monospace'>{rows}"
            f"<progress value='{done:.3f}' max='{state.epochs}' style='width: 40em'></progress>"
            f"<div>{html.escape(status)}</div><div>{html.escape(self._lines)}</div></div>"
        )


def in_notebook() -> bool:
    """Return True inside a Jupyter or Colab kernel (never imports IPython itself)."""
    shell = sys.modules.get("IPython")
    if shell is None:
        return False
    ipython = shell.get_ipython() if hasattr(shell, "get_ipython") else None
    return ipython is not None and type(ipython).__name__ in ("ZMQInteractiveShell", "Shell")


def make_progress(
    mode: str = "auto", config: dict[str, Any] | None = None, stream: TextIO | None = None
) -> PlainProgress | RichProgress | NotebookProgress | None:
    """Return the progress callback for ``mode``: ``auto``, ``rich``, ``plain``, ``notebook`` or ``none``.

    ``auto`` gives the notebook display in a notebook, the plain lines when
    stdout is not a terminal or the ``CI`` environment variable is ``true``,
    and the rich bar otherwise (plain lines when rich is not installed).
    """
    from .errors import InvalidInputError

    modes = ("auto", "rich", "plain", "notebook", "none")
    if mode not in modes:
        raise InvalidInputError(f"progress={mode!r} is not known; use one of: {', '.join(modes)}")
    if mode == "none":
        return None
    if mode == "auto":
        output = stream or sys.stdout
        if in_notebook():
            mode = "notebook"
        elif os.environ.get("CI", "").lower() in ("true", "1") or not getattr(output, "isatty", lambda: False)():
            mode = "plain"
        else:
            try:
                import rich  # noqa: F401
            except ImportError:
                mode = "plain"
            else:
                mode = "rich"
    if mode == "rich":
        return RichProgress(config=config)
    if mode == "notebook":
        return NotebookProgress(config=config)
    return PlainProgress(stream=stream, config=config)
