"""``glassnet train``: bundled data sets, CSV files, options and errors."""

import pytest

from glassnet.cli.main import main


def run_cli(capsys, *argv):
    status = main(list(argv))
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_train_xor_reports_training_accuracy(capsys):
    status, out, _ = run_cli(capsys, "train", "--dataset", "xor")
    assert status == 0
    assert "no test split" in out
    assert "training accuracy 1.0000 on 4 samples" in out


def test_train_options_reach_the_run(capsys):
    status, out, _ = run_cli(capsys, "train", "--dataset", "moons", "--optimizer", "adam", "--learning-rate", "0.01",
                             "--schedule", "cosine", "--warmup-epochs", "2", "--l2", "1e-4", "--dropout", "0.1",
                             "--clip-norm", "1", "--hidden", "16,8", "--max-steps", "30", "--epochs", "50")
    assert status == 0
    assert "optimizer Adam(learning_rate=0.01, clip_norm=1" in out
    assert "reached the step budget (max_steps=30)" in out
    assert "test accuracy" in out


def test_train_early_stopping_option(capsys):
    status, out, _ = run_cli(capsys, "train", "--dataset", "iris", "--epochs", "500", "--early-stopping",
                             "--patience", "3", "--optimizer", "adam", "--learning-rate", "0.05")
    assert status == 0
    assert "early stopping: val_loss did not improve for 3 epochs" in out


def test_train_csv_classification_with_text_labels(tmp_path, capsys):
    path = tmp_path / "fruit.csv"
    rows = ["weight,colour,kind"]
    for i in range(60):
        heavy = i % 2 == 0
        rows.append(f"{150 + i if heavy else 20 + i % 7},{'red' if heavy else 'green'},{'apple' if heavy else 'grape'}")
    path.write_text("\n".join(rows) + "\n")
    status, out, _ = run_cli(capsys, "train", "--data", str(path), "--target", "kind", "--epochs", "20")
    assert status == 0
    assert "data set fruit: " in out
    assert "2 classes" in out
    assert "test accuracy 1.0000" in out


def test_train_csv_regression(tmp_path, capsys):
    path = tmp_path / "line.csv"
    rows = ["x,y"] + [f"{i / 10},{3 * i / 10 + 100}" for i in range(100)]
    path.write_text("\n".join(rows) + "\n")
    status, out, _ = run_cli(capsys, "train", "--data", str(path), "--target", "y", "--task", "regression",
                             "--optimizer", "adam", "--learning-rate", "0.01", "--epochs", "40")
    assert status == 0
    assert ", regression" in out
    r2 = float(out.split(" r2 ")[1].split()[0])
    assert r2 > 0.98


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--dataset", "iris", "--target", "species"], "--target applies to --data FILE.csv only"),
        (["--dataset", "iris", "--task", "regression"], "--task applies to --data FILE.csv only"),
        (["--dataset", "mnist"], "name='mnist' is not a known dataset"),
        (["--dataset", "xor", "--early-stopping"], "EarlyStopping monitors 'val_loss', but fit() has no validation"),
        (["--dataset", "iris", "--learning-rate", "-1"], "learning_rate=-1 is out of range; expected a finite number > 0"),
        (["--dataset", "iris", "--schedule", "cosine", "--warmup-epochs", "70"], "warmup_epochs=70 must be less than epochs=60"),
        (["--data", "missing.csv"], "missing.csv"),
    ],
)
def test_train_errors_are_one_line(capsys, argv, message):
    status, _, err = run_cli(capsys, "train", *argv)
    assert status == 2
    assert message in err
    assert err.count("\n") == 1


def test_train_needs_a_data_source(capsys):
    status, _, err = run_cli(capsys, "train")
    assert status == 2
    assert "no data given; pass --dataset NAME, --data FILE.csv or --resume CHECKPOINT" in err


def test_train_rejects_bad_hidden_sizes(capsys):
    with pytest.raises(SystemExit):
        main(["train", "--dataset", "iris", "--hidden", "8,0"])
    assert "'8,0': give at least one layer width, each >= 1" in capsys.readouterr().err


def test_split_for_training_needs_targets():
    import numpy as np

    from glassnet.cli.train import split_for_training
    from glassnet.data import Dataset
    from glassnet.errors import InvalidInputError
    from glassnet.model import TrainConfig

    dataset = Dataset(name="inputs", X=np.zeros((4, 2)), y=None, task="regression", feature_names=["a", "b"])
    with pytest.raises(InvalidInputError, match="data set 'inputs' has no target column"):
        split_for_training(dataset, TrainConfig())
