"""Checkpoints: bitwise resume, Ctrl-C during training, and saves killed with SIGKILL."""

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau
from glassnet.checkpoint import CheckpointEvery, load_checkpoint, save_checkpoint
from glassnet.cli.main import main
from glassnet.errors import InvalidInputError, ModelFileError
from glassnet.schedules import CosineDecay
from glassnet.training import Callback, fit

SOURCE = str(Path(__file__).resolve().parents[1] / "src")
RNG = np.random.default_rng(0)
X = RNG.normal(size=(50, 3))
Y = (X[:, 0] + X[:, 1] > 0).astype(int) + (X[:, 2] > 0.5).astype(int)


def _run(callbacks=(), resume=None, epochs=6, optimizer="adam", extra=None, max_steps=None, history=None):
    """Train a fresh network; return it. ``extra`` builds the schedule/early-stopping callbacks.

    ``history``, a list, receives the run's History.
    """
    network = gn.mlp([3, 8, 8, 3], output="softmax", seed=1, dropout=0.3, dtype="float32")
    optimizer = gn.get_optimizer(optimizer, learning_rate=0.02)
    made = list(extra()) if extra else []
    point = resume.restore(network, optimizer) if resume is not None else None
    result = fit(network, X, Y, loss="categorical-cross-entropy", optimizer=optimizer, epochs=epochs, batch_size=8,
                 seed=3, validation_data=(X[:10], Y[:10]), callbacks=[*made, *callbacks], resume=point,
                 max_steps=max_steps)
    if history is not None:
        history.append(result)
    return network


class _StopAt(Callback):
    """Save a checkpoint after step ``step`` and stop, as a Ctrl-C would."""

    def __init__(self, path, step):
        self.path = path
        self.step = step

    def on_batch_end(self, state):
        if state.step == self.step:
            save_checkpoint(self.path, state)
            state.stop_now = True


def _same_parameters(a, b):
    return all(np.array_equal(x, y) for (_, x), (_, y) in zip(a.parameters(), b.parameters()))


def _schedules():
    return [LearningRateScheduler(CosineDecay(6, 1)), EarlyStopping("val_loss", patience=2),
            ReduceLROnPlateau("val_loss", patience=1)]


@pytest.mark.parametrize("step", [1, 3, 7, 8, 20, 41])
@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_is_bitwise_identical(tmp_path, step, optimizer):
    # 50 samples in batches of 8 give 7 steps per epoch: step 7 ends epoch 1, 41 is late in epoch 6.
    path = tmp_path / "run.ckpt"
    uninterrupted = _run(optimizer=optimizer)
    _run(callbacks=[_StopAt(path, step)], optimizer=optimizer)
    resumed = _run(resume=load_checkpoint(path), optimizer=optimizer)
    assert _same_parameters(uninterrupted, resumed)


@pytest.mark.parametrize("step", [4, 15])
def test_resume_with_schedules_and_early_stopping(tmp_path, step):
    path = tmp_path / "run.ckpt"
    uninterrupted = _run(extra=_schedules, epochs=8)
    _run(callbacks=[_StopAt(path, step)], extra=_schedules, epochs=8)
    resumed = _run(resume=load_checkpoint(path), extra=_schedules, epochs=8)
    assert _same_parameters(uninterrupted, resumed)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_after_schedule_reached_zero(tmp_path, optimizer):
    # CosineDecay(2) with minimum_factor 0 sets the learning rate to 0 from the third epoch on, and
    # the checkpoint stores that rate. Step 17 is inside the third epoch.
    def cosine_to_zero():
        return [LearningRateScheduler(CosineDecay(2, 0, 0.0))]

    path = tmp_path / "run.ckpt"
    uninterrupted = _run(extra=cosine_to_zero, epochs=4, optimizer=optimizer)
    _run(callbacks=[_StopAt(path, 17)], extra=cosine_to_zero, epochs=4, optimizer=optimizer)
    checkpoint = load_checkpoint(path)
    assert checkpoint.optimizer.learning_rate == 0.0
    resumed = _run(resume=checkpoint, extra=cosine_to_zero, epochs=4, optimizer=optimizer)
    assert _same_parameters(uninterrupted, resumed)


@pytest.mark.parametrize("optimizer", ["adam", "sgd"])
def test_resume_after_step_budget_inside_epoch(tmp_path, optimizer):
    # 7 steps of 8 samples per epoch: a budget of 10 steps stops fit after 24 samples of epoch 2.
    # fit records the part it ran and calls on_epoch_end, so CheckpointEvery saves there. The
    # resumed run must still run the rest of epoch 2.
    path = tmp_path / "run.ckpt"
    uninterrupted_history = []
    uninterrupted = _run(optimizer=optimizer, history=uninterrupted_history)
    _run(callbacks=[CheckpointEvery(path, 1)], optimizer=optimizer, max_steps=10)
    checkpoint = load_checkpoint(path)
    assert (checkpoint.point.epoch, checkpoint.point.position, checkpoint.point.step) == (2, 24, 10)
    assert [record["epoch"] for record in checkpoint.point.records] == [1]
    resumed_history = []
    resumed = _run(resume=checkpoint, optimizer=optimizer, history=resumed_history)
    assert _same_parameters(uninterrupted, resumed)
    assert [record["step"] for record in resumed_history[0].records] == [
        record["step"] for record in uninterrupted_history[0].records]


@pytest.mark.parametrize("budget", [10, 7], ids=["inside-epoch", "at-epoch-end"])
def test_spent_budget_resume_takes_no_step(tmp_path, budget):
    # 7 steps per epoch: a budget of 10 is spent inside epoch 2, one of 7 at the end of epoch 1.
    path = tmp_path / "run.ckpt"
    first_history = []
    first = _run(callbacks=[CheckpointEvery(path, 1)], max_steps=budget, history=first_history)
    resumed_history = []
    resumed = _run(resume=load_checkpoint(path), max_steps=budget, history=resumed_history)
    assert _same_parameters(first, resumed)
    assert resumed_history[0].records[-1]["step"] == budget
    assert resumed_history[0].stop_reason == f"reached the step budget (max_steps={budget})"
    # The resumed run ends with the record the first run ended with.
    last, first_last = resumed_history[0].records[-1], first_history[0].records[-1]
    assert {key: value for key, value in last.items() if key != "seconds"} == {
        key: value for key, value in first_last.items() if key != "seconds"}


def _plateau_halving():
    return [ReduceLROnPlateau("val_loss", patience=1, factor=0.5)]


@pytest.mark.parametrize("budget", [13, 16, 30, 40])
@pytest.mark.parametrize("extra", [_schedules, _plateau_halving], ids=["schedules", "plateau"])
def test_extended_budget_with_schedules_is_bitwise(tmp_path, budget, extra):
    # The budgets stop inside epochs 2, 3, 5 and 6 of 7 steps each. The callbacks see that partial
    # record, and the resumed run must start from their states before it, as an uninterrupted run does.
    path = tmp_path / "run.ckpt"
    uninterrupted = _run(extra=extra, epochs=8)
    _run(callbacks=[CheckpointEvery(path, 1)], extra=extra, epochs=8, max_steps=budget)
    resumed = _run(resume=load_checkpoint(path), extra=extra, epochs=8)
    assert _same_parameters(uninterrupted, resumed)


def test_spent_budget_resume_keeps_learning_rate(tmp_path):
    # The plateau callback halves the rate on the partial record of epoch 6. A run resumed with the
    # same budget records that epoch again and ends with the same rate and parameters.
    path = tmp_path / "run.ckpt"
    first_history, resumed_history = [], []
    first = _run(callbacks=[CheckpointEvery(path, 1)], extra=_plateau_halving, epochs=8, max_steps=40,
                 history=first_history)
    resumed = _run(resume=load_checkpoint(path), extra=_plateau_halving, epochs=8, max_steps=40,
                   history=resumed_history)
    assert _same_parameters(first, resumed)
    assert [record["learning_rate"] for record in resumed_history[0].records] == [
        record["learning_rate"] for record in first_history[0].records]


def _early_stopping_keep_last():
    return [EarlyStopping("val_loss", patience=1, restore_best_weights=False)]


def test_early_stopped_run_resumes_to_its_end(tmp_path):
    # The uninterrupted run stops early after epoch 3. Its checkpoint, resumed with more epochs or
    # with a step budget that had stopped it at that epoch's end, must end there too.
    uninterrupted_history = []
    uninterrupted = _run(extra=_early_stopping_keep_last, epochs=30, history=uninterrupted_history)
    assert len(uninterrupted_history[0].records) == 3
    for budget in (None, 21):
        path = tmp_path / f"run-{budget}.ckpt"
        _run(callbacks=[CheckpointEvery(path, 1)], extra=_early_stopping_keep_last, epochs=30, max_steps=budget)
        resumed_history = []
        resumed = _run(resume=load_checkpoint(path), extra=_early_stopping_keep_last, epochs=40,
                       history=resumed_history)
        assert _same_parameters(uninterrupted, resumed)
        assert len(resumed_history[0].records) == 3
        assert resumed_history[0].stop_reason == uninterrupted_history[0].stop_reason


def test_checkpoint_stores_position(tmp_path):
    path = tmp_path / "run.ckpt"
    _run(callbacks=[_StopAt(path, 10)])
    checkpoint = load_checkpoint(path)
    assert checkpoint.point.epoch == 2
    assert checkpoint.point.position == 24
    assert checkpoint.point.step == 10
    assert len(checkpoint.point.records) == 1
    assert checkpoint.layer_rngs[0]["layer"] == 2


def test_checkpoint_every_writes_at_interval(tmp_path):
    path = tmp_path / "every.ckpt"
    _run(callbacks=[CheckpointEvery(path, 4)], epochs=5)
    checkpoint = load_checkpoint(path)
    # Written at epoch 4 and again after the last epoch.
    assert checkpoint.point.epoch == 6
    assert checkpoint.point.step == 35


def test_checkpoint_every_rejects_zero(tmp_path):
    with pytest.raises(InvalidInputError, match="checkpoint_every"):
        CheckpointEvery(tmp_path / "x", 0)


def test_restore_into_other_architecture_rejected(tmp_path):
    path = tmp_path / "run.ckpt"
    _run(callbacks=[_StopAt(path, 3)])
    other = gn.mlp([3, 5, 3], output="softmax", seed=1, dtype="float32")
    with pytest.raises(InvalidInputError, match="different network"):
        load_checkpoint(path).restore(other, gn.get_optimizer("adam"))


def test_restore_with_other_optimizer_rejected(tmp_path):
    path = tmp_path / "run.ckpt"
    _run(callbacks=[_StopAt(path, 3)])
    network = gn.mlp([3, 8, 8, 3], output="softmax", seed=1, dropout=0.3, dtype="float32")
    with pytest.raises(InvalidInputError, match="Adam"):
        load_checkpoint(path).restore(network, gn.get_optimizer("sgd"))


def test_resume_with_other_callbacks_rejected(tmp_path):
    path = tmp_path / "run.ckpt"
    _run(callbacks=[_StopAt(path, 3)], extra=_schedules)
    with pytest.raises(InvalidInputError, match="same schedule"):
        _run(resume=load_checkpoint(path))


def test_model_file_is_not_a_checkpoint(tmp_path, lesson):
    path = tmp_path / "lesson.glassnet"
    gn.save_network(lesson, path)
    with pytest.raises(ModelFileError, match="expected one of: checkpoint"):
        load_checkpoint(path)


# ---------------------------------------------------------------- command line


def _glassnet(*arguments, cwd):
    environment = dict(os.environ, PYTHONPATH=SOURCE, CI="true")
    return [sys.executable, "-m", "glassnet", *arguments], environment


# Spirals needs no scikit-learn import, which keeps the three runs quick; 60 epochs
# leave ample time for the SIGINT sent after epoch 2 to arrive.
TRAIN = ["train", "--dataset", "spirals", "--epochs", "60", "--optimizer", "adam", "--dropout", "0.2",
         "--schedule", "plateau", "--early-stopping", "--patience", "50", "--progress", "plain"]


def test_ctrl_c_saves_checkpoint_and_resume_matches(tmp_path):
    command, environment = _glassnet(*TRAIN, "--out", "full.glassnet", cwd=tmp_path)
    subprocess.run(command, cwd=tmp_path, env=environment, check=True, capture_output=True, timeout=120)

    command, environment = _glassnet(*TRAIN, "--out", "part.glassnet", "--checkpoint", "ck.glassnet", cwd=tmp_path)
    process = subprocess.Popen(command, cwd=tmp_path, env=environment, stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
    for line in process.stdout:
        if line.startswith("epoch    2"):
            break
    os.kill(process.pid, signal.SIGINT)
    output, errors = process.communicate(timeout=60)
    assert process.returncode == 130, errors
    assert "checkpoint saved to ck.glassnet" in output
    assert "Traceback" not in errors
    assert not (tmp_path / "part.glassnet").exists()

    command, environment = _glassnet("train", "--resume", "ck.glassnet", "--out", "resumed.glassnet",
                                     "--progress", "plain", cwd=tmp_path)
    resumed_run = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True,
                                 timeout=120)
    assert resumed_run.returncode == 0, resumed_run.stderr
    assert "resuming ck.glassnet" in resumed_run.stdout
    full = gn.load_model(tmp_path / "full.glassnet")
    resumed = gn.load_model(tmp_path / "resumed.glassnet")
    assert _same_parameters(full.network, resumed.network)
    assert full.history.stop_reason == resumed.history.stop_reason


BUDGETED = ["train", "--dataset", "breast-cancer", "--epochs", "3", "--progress", "plain"]


def test_cli_resume_extends_step_budget(tmp_path):
    command, environment = _glassnet(*BUDGETED, "--max-steps", "30", "--out", "full.glassnet", cwd=tmp_path)
    subprocess.run(command, cwd=tmp_path, env=environment, check=True, capture_output=True, timeout=120)
    command, environment = _glassnet(*BUDGETED, "--max-steps", "20", "--checkpoint", "ck.glassnet",
                                     "--checkpoint-every", "1", cwd=tmp_path)
    subprocess.run(command, cwd=tmp_path, env=environment, check=True, capture_output=True, timeout=120)

    command, environment = _glassnet("train", "--resume", "ck.glassnet", "--max-steps", "30", "--out",
                                     "resumed.glassnet", "--progress", "plain", cwd=tmp_path)
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "with the checkpoint's settings, --max-steps 30" in result.stdout
    full = gn.load_model(tmp_path / "full.glassnet")
    resumed = gn.load_model(tmp_path / "resumed.glassnet")
    assert _same_parameters(full.network, resumed.network)
    assert resumed.history.stop_reason == "reached the step budget (max_steps=30)"


def test_cli_resume_rejects_changed_setting(tmp_path):
    command, environment = _glassnet(*BUDGETED, "--max-steps", "5", "--checkpoint", "ck.glassnet",
                                     "--checkpoint-every", "1", cwd=tmp_path)
    subprocess.run(command, cwd=tmp_path, env=environment, check=True, capture_output=True, timeout=120)
    command, environment = _glassnet("train", "--resume", "ck.glassnet", "--learning-rate", "0.5", cwd=tmp_path)
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "which have --learning-rate 0.05, not --learning-rate 0.5; omit --learning-rate" in result.stderr


@pytest.fixture(scope="module")
def moons_checkpoint(tmp_path_factory):
    """Return a checkpoint of 2 epochs of moons (22 steps each) with hidden 16,8 and Nesterov momentum."""
    path = tmp_path_factory.mktemp("moons") / "ck.glassnet"
    status = main(["train", "--dataset", "moons", "--epochs", "2", "--hidden", "16,8", "--nesterov",
                   "--checkpoint-every", "1", "--checkpoint", str(path), "--progress", "none"])
    assert status == 0
    return path


@pytest.mark.parametrize(("options", "message"), [
    (["--hidden", "16"], "which have --hidden 16,8, not --hidden 16; omit --hidden"),
    (["--no-nesterov"], "which have --nesterov, not --no-nesterov; omit --nesterov"),
    (["--early-stopping"], "which have --no-early-stopping, not --early-stopping; omit --early-stopping"),
    (["--clip-norm", "1"], "which have no --clip-norm, not --clip-norm 1.0; omit --clip-norm"),
    (["--dtype", "float64"], "which have --dtype float32, not --dtype float64; omit --dtype"),
    (["--seed", "1"], "which have --seed 0, not --seed 1; omit --seed"),
    (["--epochs", "1"], "--epochs 1 is below epoch 2, in which the run of --resume"),
    (["--max-steps", "43"], "--max-steps 43 is below the 44 steps that the run of --resume"),
])
def test_cli_resume_option_rejected(moons_checkpoint, capsys, options, message):
    status = main(["train", "--resume", str(moons_checkpoint), "--progress", "none", *options])
    assert status == 2
    assert message in capsys.readouterr().err


@pytest.mark.parametrize("options", [
    ["--hidden", "16,8"], ["--nesterov"], ["--no-early-stopping"], ["--learning-rate", "5e-2"],
    ["--epochs", "2"], ["--max-steps", "44"],
])
def test_cli_resume_equal_option_accepted(moons_checkpoint, tmp_path, capsys, options):
    out = tmp_path / "resumed.glassnet"
    status = main(["train", "--resume", str(moons_checkpoint), "--progress", "none", "--out", str(out), *options])
    assert status == 0, capsys.readouterr().err
    assert gn.load_model(out).history.records[-1]["step"] == 44


@pytest.fixture(scope="module")
def csv_checkpoint(tmp_path_factory):
    """Return a checkpoint of a CSV run with target column y, classification, beside a regression column z."""
    folder = tmp_path_factory.mktemp("csv")
    rows = ["a,b,z,y"] + [f"{a:.4f},{b:.4f},{a - b:.4f},{int(a + b > 0)}" for a, b in RNG.normal(size=(120, 2))]
    (folder / "data.csv").write_text("\n".join(rows) + "\n")
    path = folder / "ck.glassnet"
    status = main(["train", "--data", str(folder / "data.csv"), "--target", "y", "--epochs", "1",
                   "--checkpoint-every", "1", "--checkpoint", str(path), "--progress", "none"])
    assert status == 0
    return path


@pytest.mark.parametrize(("options", "message"), [
    (["--target", "z"], "which have --target y, not --target z; omit --target"),
    (["--task", "regression"], "which have --task classification, not --task regression; omit --task"),
])
def test_cli_resume_csv_option_rejected(csv_checkpoint, capsys, options, message):
    status = main(["train", "--resume", str(csv_checkpoint), "--progress", "none", *options])
    assert status == 2
    assert message in capsys.readouterr().err


def test_cli_resume_cosine_epochs_rejected(tmp_path, capsys):
    path = tmp_path / "ck.glassnet"
    status = main(["train", "--dataset", "moons", "--epochs", "2", "--schedule", "cosine", "--checkpoint-every", "1",
                   "--checkpoint", str(path), "--progress", "none"])
    assert status == 0
    status = main(["train", "--resume", str(path), "--epochs", "4", "--progress", "none"])
    assert status == 2
    assert "--epochs 4 differs from the 2 epochs that the cosine schedule" in capsys.readouterr().err
    status = main(["train", "--resume", str(path), "--epochs", "2", "--progress", "none"])
    assert status == 0


def test_cli_resume_csv_same_target_accepted(csv_checkpoint, capsys):
    status = main(["train", "--resume", str(csv_checkpoint), "--progress", "none", "--epochs", "2",
                   "--target", "y", "--task", "classification"])
    assert status == 0, capsys.readouterr().err


@pytest.mark.parametrize(("budget", "message"), [
    ({"epochs": 1}, "epochs=1 is below epoch 2, in which the resumed run has already trained"),
    ({"max_steps": 9}, "max_steps=9 is below the 10 steps that the resumed run has already taken"),
])
def test_resume_below_spent_budget_rejected(tmp_path, budget, message):
    # A budget of 10 steps stops the first run after 3 of the 7 steps of epoch 2.
    path = tmp_path / "run.ckpt"
    _run(callbacks=[CheckpointEvery(path, 1)], max_steps=10)
    network = gn.mlp([3, 8, 8, 3], output="softmax", seed=1, dropout=0.3, dtype="float32")
    optimizer = gn.get_optimizer("adam", learning_rate=0.02)
    point = load_checkpoint(path).restore(network, optimizer)
    arguments = {"epochs": 6, **budget}
    with pytest.raises(InvalidInputError, match=message):
        fit(network, X, Y, loss="categorical-cross-entropy", optimizer=optimizer, batch_size=8, seed=3,
            resume=point, **arguments)


def test_resume_with_dataset_rejected(tmp_path):
    path = tmp_path / "run.ckpt"
    _run(callbacks=[_StopAt(path, 3)])
    command, environment = _glassnet("train", "--resume", str(path), cwd=tmp_path)
    result = subprocess.run(command, cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "does not name its data and settings" in result.stderr


# ---------------------------------------------------------------- SIGKILL while saving

SAVER = textwrap.dedent("""
    import sys
    import numpy as np
    import glassnet as gn

    path = sys.argv[1]
    network = gn.mlp([800, 800, 10], seed=0, dtype="float64")
    version = 0
    while True:
        version += 1
        for _, parameter in network.parameters():
            parameter[...] = version
        gn.save_network(network, path)
        print(version, flush=True)
""")


def test_sigkill_during_save_leaves_old_or_new_file(tmp_path):
    script = tmp_path / "saver.py"
    script.write_text(SAVER)
    path = tmp_path / "big.glassnet"
    environment = dict(os.environ, PYTHONPATH=SOURCE)
    delays = np.random.default_rng(7).uniform(0.0, 0.15, size=8)
    for delay in delays:
        process = subprocess.Popen([sys.executable, str(script), str(path)], env=environment,
                                   stdout=subprocess.PIPE, text=True)
        first = process.stdout.readline()  # one complete save before the kill
        assert first.strip()
        time.sleep(delay)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        network = gn.load_network(path)
        values = {float(parameter.flat[0]) for _, parameter in network.parameters()}
        assert len(values) == 1
        version = values.pop()
        assert all((parameter == version).all() for _, parameter in network.parameters())


def test_cli_checkpoint_every_zero_rejected(tmp_path, capsys):
    from glassnet.cli.main import main

    assert main(["train", "--dataset", "xor", "--checkpoint-every", "0", "--progress", "none"]) == 2
    assert "--checkpoint-every 0 must be an integer >= 1" in capsys.readouterr().err


def test_cli_resume_missing_file_rejected(tmp_path, capsys):
    from glassnet.cli.main import main

    assert main(["train", "--resume", str(tmp_path / "absent.ckpt")]) == 2
    assert "does not exist" in capsys.readouterr().err


def test_cli_train_without_data_rejected(capsys):
    from glassnet.cli.main import main

    assert main(["train"]) == 2
    assert "pass --dataset NAME, --data FILE.csv or --resume CHECKPOINT" in capsys.readouterr().err


class _StopAfterEpoch(Callback):
    def __init__(self, epoch):
        self.epoch = epoch

    def on_epoch_end(self, state):
        if state.epoch == self.epoch:
            state.stop_reason = "stopped by the test"


def test_resume_from_epoch_checkpoint_is_bitwise(tmp_path):
    path = tmp_path / "every.ckpt"
    uninterrupted = _run(epochs=6)
    _run(callbacks=[CheckpointEvery(path, 2), _StopAfterEpoch(4)], epochs=6)
    checkpoint = load_checkpoint(path)
    assert checkpoint.point.epoch == 5
    assert checkpoint.point.position == 0
    resumed = _run(resume=checkpoint, epochs=6)
    assert _same_parameters(uninterrupted, resumed)


def test_save_checkpoint_without_epoch_rng_state_rejected(tmp_path):
    # A state inside an epoch without the generator state could be written but never resumed.
    from glassnet.training import History, TrainingState

    network = gn.mlp([3, 4, 3], output="softmax", seed=1)
    state = TrainingState(network=network, optimizer=gn.get_optimizer("sgd"), loss="categorical-cross-entropy",
                          history=History(), epochs=2, batch_size=8, n_train=50, n_val=0, seed=0, epoch=1,
                          position=8, rng=np.random.default_rng(0))
    path = tmp_path / "run.ckpt"
    with pytest.raises(InvalidInputError, match="epoch 1 but has epoch_rng_state=None"):
        save_checkpoint(path, state)
    assert not path.exists()


def test_checkpoint_rejects_custom_layer(tmp_path):
    class Doubled(gn.Dense):
        def forward(self, x, out=None):
            return 2.0 * super().forward(x)

    network = gn.Sequential([Doubled(2, 3, seed=0), gn.ReLU(), gn.Dense(3, 1, seed=1)])
    X = np.ones((4, 2))
    t = np.zeros((4, 1))
    path = tmp_path / "run.ckpt"
    with pytest.raises(gn.InvalidInputError, match=r"layers\[0\] is a Doubled.*pickle"):
        fit(network, X, t, loss="mse", epochs=1, batch_size=2, callbacks=[CheckpointEvery(path, 1)])
    assert not path.exists()
