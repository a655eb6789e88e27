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


@pytest.fixture
def ipython_shell(tmp_path, monkeypatch):
    """A real IPython shell for the test, removed afterwards with the hooks it installs."""
    pytest.importorskip("IPython")
    import builtins
    import sys

    from IPython.core.interactiveshell import InteractiveShell

    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    saved_hooks = (sys.displayhook, sys.excepthook)
    had_get_ipython = hasattr(builtins, "get_ipython")
    shell = InteractiveShell.instance()
    yield shell
    shell.history_manager.end_session()
    InteractiveShell.clear_instance()
    sys.displayhook, sys.excepthook = saved_hooks
    if not had_get_ipython and hasattr(builtins, "get_ipython"):
        del builtins.get_ipython


def _notebook_outputs(progress, epochs):
    """Run a fit and return the rich outputs the display published."""
    from IPython.utils.capture import capture_output

    with capture_output() as captured:
        _fit([progress], epochs=epochs)
    return captured.outputs


def test_notebook_progress_updates_one_display(ipython_shell):
    outputs = _notebook_outputs(NotebookProgress(min_interval=3600), epochs=4)
    # One display, then one update per epoch and one at the end: batches are throttled.
    assert len(outputs) == 1 + 4 + 1
    display_ids = {output.transient["display_id"] for output in outputs}
    assert len(display_ids) == 1
    final = outputs[-1].data["text/html"]
    assert "completed all 4 epochs" in final
    assert "<progress value='4.000' max='4'" in final


def test_notebook_progress_updates_during_epoch_when_due(ipython_shell):
    outputs = _notebook_outputs(NotebookProgress(min_interval=0.0), epochs=1)
    assert len(outputs) == 1 + 5 + 1 + 1  # display, 5 batches, epoch end, train end


def test_notebook_progress_escapes_html(ipython_shell):
    outputs = _notebook_outputs(NotebookProgress(config={"name": "<script>"}, min_interval=3600), epochs=1)
    first = outputs[0].data["text/html"]
    assert "<script>" not in first
    assert "&lt;script&gt;" in first


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
