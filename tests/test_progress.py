"""Progress displays: plain lines, the rich bar, the notebook display and their selection."""

import io

import numpy as np
import pytest

import glassnet as gn
from glassnet.errors import InvalidInputError
from glassnet.progress import NotebookProgress, PlainProgress, RichProgress, make_progress
from glassnet.training import accuracy_metric, fit

X = np.random.default_rng(0).normal(size=(40, 2))
Y = (X[:, 0] > 0).astype(int)


def _fit(callbacks, epochs=3):
    network = gn.mlp([2, 4, 2], output="softmax", seed=0)
    return fit(network, X, Y, loss="categorical-cross-entropy", optimizer=gn.SGD(0.1), epochs=epochs,
               batch_size=8, validation_data=(X[:10], Y[:10]), metrics={"accuracy": accuracy_metric},
               callbacks=callbacks)


def test_plain_progress_lines():
    stream = io.StringIO()
    _fit([PlainProgress(stream=stream, config={"hidden": [4], "seed": 0})])
    lines = stream.getvalue().splitlines()
    assert lines[0] == "training 22 parameters (float32) on 40 samples, validating on 10"
    assert lines[1].startswith("3 epochs, batch size 8, seed 0, optimizer SGD(learning_rate=0.1)")
    assert lines[2] == "configuration: hidden=4, seed=0"
    epoch_lines = [line for line in lines if line.startswith("epoch")]
    assert len(epoch_lines) == 3
    for name in ("step", "train_loss", "val_loss", "val_accuracy", "lr 0.1", "samples/s"):
        assert name in epoch_lines[0]
    assert lines[-1].startswith("stopped after epoch 3 (step 15,")
    assert "completed all 3 epochs" in lines[-1]


def test_plain_progress_every_prints_last():
    stream = io.StringIO()
    _fit([PlainProgress(stream=stream, every=2)], epochs=3)
    epochs = [line.split()[1] for line in stream.getvalue().splitlines() if line.startswith("epoch")]
    assert epochs == ["2", "3"]


def test_rich_progress_prints_summary_and_reason():
    from rich.console import Console

    output = io.StringIO()
    console = Console(file=output, force_terminal=True, width=120)
    _fit([RichProgress(console=console)])
    text = output.getvalue()
    assert "training 22 parameters" in text
    assert "completed all 3 epochs" in text
    assert "val_accuracy" in text


class _FakeHandle:
    def __init__(self, log):
        self.log = log

    def update(self, content):
        self.log.append(("update", content.data))


class _FakeDisplay:
    """Stands in for IPython.display: records display and update calls."""

    def __init__(self):
        self.log = []

    class HTML:
        def __init__(self, data):
            self.data = data

    def display(self, content, display_id=None):
        assert display_id is True
        self.log.append(("display", content.data))
        return _FakeHandle(self.log)


def _notebook_progress(min_interval):
    progress = NotebookProgress.__new__(NotebookProgress)
    display = _FakeDisplay()
    # Same state as __init__, with the fake display in place of IPython's.
    progress._display = display
    progress.config = None
    progress.min_interval = min_interval
    progress._handle = None
    progress._last_update = 0.0
    progress._summary = []
    progress._lines = ""
    return progress, display


def test_notebook_progress_updates_one_display():
    progress, display = _notebook_progress(min_interval=3600)
    _fit([progress], epochs=4)
    kinds = [kind for kind, _ in display.log]
    # One display, then one update per epoch and one at the end: batches are throttled.
    assert kinds == ["display"] + ["update"] * 5
    final = display.log[-1][1]
    assert "completed all 4 epochs" in final
    assert "<progress value='4.000' max='4'" in final


def test_notebook_progress_updates_during_epoch_when_due():
    progress, display = _notebook_progress(min_interval=0.0)
    _fit([progress], epochs=1)
    assert len(display.log) == 1 + 5 + 1 + 1  # display, 5 batches, epoch end, train end


def test_notebook_progress_escapes_html():
    progress, display = _notebook_progress(min_interval=3600)
    progress_config = {"name": "<script>"}
    progress.config = progress_config
    _fit([progress], epochs=1)
    assert "<script>" not in display.log[0][1]
    assert "&lt;script&gt;" in display.log[0][1]


def test_make_progress_plain_when_not_a_terminal(monkeypatch):
    monkeypatch.delenv("CI", raising=False)
    assert isinstance(make_progress("auto", stream=io.StringIO()), PlainProgress)


def test_make_progress_plain_in_ci(monkeypatch):
    class Terminal(io.StringIO):
        def isatty(self):
            return True

    monkeypatch.setenv("CI", "true")
    assert isinstance(make_progress("auto", stream=Terminal()), PlainProgress)
    monkeypatch.setenv("CI", "false")
    assert isinstance(make_progress("auto", stream=Terminal()), RichProgress)


def test_make_progress_none_and_explicit():
    assert make_progress("none") is None
    assert isinstance(make_progress("rich"), RichProgress)
    assert isinstance(make_progress("plain"), PlainProgress)


def test_make_progress_unknown_mode():
    with pytest.raises(InvalidInputError, match="progress='fancy' is not known; use one of: auto, rich"):
        make_progress("fancy")
