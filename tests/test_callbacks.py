"""Callbacks in fit: learning-rate schedules, plateau reduction and early stopping."""

import numpy as np
import pytest

import glassnet as gn
from glassnet.callbacks import EarlyStopping, LearningRateScheduler, ReduceLROnPlateau
from glassnet.schedules import StepDecay
from glassnet.training import evaluate_loss, fit


def noisy_problem(seed=0, n_train=40, n_val=40):
    """Random labels: the training loss keeps falling while the validation loss rises."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n_train + n_val, 5))
    t = rng.integers(0, 2, size=(n_train + n_val, 1)).astype(float)
    return X[:n_train], t[:n_train], X[n_train:], t[n_train:]


def small_network(seed=0):
    return gn.mlp([5, 32, 1], activation="tanh", output="sigmoid", seed=seed, dtype="float64")


def test_scheduler_sets_rate_each_epoch():
    X, t, _, _ = noisy_problem()
    optimizer = gn.SGD(learning_rate=0.1)
    history = fit(small_network(), X, t, loss="binary-cross-entropy", optimizer=optimizer, epochs=5,
                  callbacks=[LearningRateScheduler(StepDecay(2, gamma=0.5))])
    assert history["learning_rate"] == pytest.approx([0.1, 0.1, 0.05, 0.05, 0.025], rel=1e-15)


def test_scheduler_steps_equal_manual_rate_changes():
    X, t, _, _ = noisy_problem()
    scheduled = small_network()
    fit(scheduled, X, t, loss="binary-cross-entropy", optimizer=gn.SGD(learning_rate=0.2), epochs=3, batch_size=40,
        callbacks=[LearningRateScheduler(StepDecay(1, gamma=0.5))])
    manual = small_network()
    for rate in (0.2, 0.1, 0.05):
        manual.step(X, t, loss="binary-cross-entropy", optimizer=gn.SGD(learning_rate=rate))
    for name, value in manual.get_parameters().items():
        np.testing.assert_allclose(scheduled.get_parameters()[name], value, rtol=1e-13, err_msg=name)


def test_scheduler_rejects_non_schedule():
    with pytest.raises(gn.InvalidInputError, match="is not a glassnet schedule"):
        LearningRateScheduler(lambda epoch: 0.1)


def test_early_stopping_restores_best_weights():
    X, t, X_val, t_val = noisy_problem()
    network = small_network()
    stopper = EarlyStopping("val_loss", patience=3)
    history = fit(network, X, t, loss="binary-cross-entropy", optimizer=gn.Adam(learning_rate=0.03), epochs=200,
                  batch_size=8, validation_data=(X_val, t_val), callbacks=[stopper])
    val_losses = history["val_loss"]
    best_epoch = int(np.argmin(val_losses)) + 1
    assert len(history) < 200
    assert len(history) == best_epoch + 3
    assert stopper.best_epoch == best_epoch
    assert history.stop_reason.startswith("early stopping: val_loss did not improve for 3 epochs")
    assert history.stop_reason.endswith(f"restored the weights of epoch {best_epoch}")
    restored = evaluate_loss(network, network.prepare_input(X_val), t_val, gn.get_loss("binary-cross-entropy"))
    assert restored == pytest.approx(min(val_losses), rel=1e-12)


def test_early_stopping_on_accuracy_maximises():
    stopper = EarlyStopping("val_accuracy", patience=1)
    assert stopper.mode == "max"


def test_early_stopping_needs_validation_data():
    X, t, _, _ = noisy_problem()
    with pytest.raises(gn.InvalidInputError, match="monitors 'val_loss', but fit\\(\\) has no validation data"):
        fit(small_network(), X, t, loss="binary-cross-entropy", callbacks=[EarlyStopping()])


def test_early_stopping_unknown_metric_raises():
    X, t, X_val, t_val = noisy_problem()
    with pytest.raises(gn.InvalidInputError, match="monitors 'val_f1', which is not in the epoch record"):
        fit(small_network(), X, t, loss="binary-cross-entropy", validation_data=(X_val, t_val),
            callbacks=[EarlyStopping("val_f1")])


@pytest.mark.parametrize("patience", [0, -2, 1.5, True])
def test_early_stopping_invalid_patience(patience):
    with pytest.raises(gn.InvalidInputError, match="patience=.* must be an integer >= 1"):
        EarlyStopping(patience=patience)


def test_early_stopping_invalid_mode():
    with pytest.raises(gn.InvalidInputError, match="mode='up' is not known; use 'auto', 'min' or 'max'"):
        EarlyStopping(mode="up")


def test_reduce_on_plateau_lowers_rate_in_fit():
    X, t, X_val, t_val = noisy_problem()
    history = fit(small_network(), X, t, loss="binary-cross-entropy", optimizer=gn.Adam(learning_rate=0.03),
                  epochs=40, batch_size=8, validation_data=(X_val, t_val),
                  callbacks=[ReduceLROnPlateau("val_loss", factor=0.5, patience=2)])
    rates = history["learning_rate"]
    assert rates[0] == 0.03
    assert rates[-1] < 0.03
    assert all(later <= earlier for earlier, later in zip(rates, rates[1:]))


def test_scheduler_epoch_before_train_begin_raises():
    from types import SimpleNamespace

    scheduler = LearningRateScheduler(StepDecay(2))
    state = SimpleNamespace(epoch=1, optimizer=gn.get_optimizer("sgd", learning_rate=0.1))
    with pytest.raises(gn.errors.InvalidInputError, match="on_epoch_begin ran before on_train_begin"):
        scheduler.on_epoch_begin(state)
    assert state.optimizer.learning_rate == 0.1
