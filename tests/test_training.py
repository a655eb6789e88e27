"""The fit loop: L2 penalty, Dropout, budgets, reproducibility and train_model."""

import contextlib

import numpy as np
import pytest

import glassnet as gn
from conftest import LESSON_T, LESSON_X, blas_updates, lesson_network
from glassnet.layers import Dropout
from glassnet.model import TrainConfig, train_model
from glassnet.training import Callback, fit

XOR_X = np.array([[0.0, 0.0], [0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
XOR_T = np.array([[0.0], [1.0], [1.0], [0.0]])


# ---------------------------------------------------------------- L2 penalty


def test_l2_penalty_in_loss_and_trace():
    # R = ½ λ (||W1||² + ||W2||²) = ½ · 0.1 · (0.09 + 0.16 + 0.25 + 0.36 + 0.49 + 0.64) = 0.0995.
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, optimizer=gn.SGD(learning_rate=0.1), trace=True, l2=0.1)
    assert trace.value("L_data") == pytest.approx(0.05153309515632571, rel=1e-12)
    assert trace.value("R") == pytest.approx(0.0995, rel=1e-12)
    assert trace.loss == pytest.approx(0.05153309515632571 + 0.0995, rel=1e-12)
    assert trace["R"].phase == "loss"
    assert "λ = 0.1" in trace["R"].note


def test_l2_gradient_and_update_in_trace():
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, optimizer=gn.SGD(learning_rate=0.1), trace=True, l2=0.1)
    W2 = np.array([[0.7], [0.8]])
    dW2 = np.array([[-0.01609491687024345], [-0.02519204379690278]])
    np.testing.assert_allclose(trace.value("dW2"), dW2, rtol=1e-12)
    np.testing.assert_allclose(trace.value("dR/dW2"), 0.1 * W2, rtol=1e-14)
    np.testing.assert_allclose(trace.value("dL/dW2"), dW2 + 0.1 * W2, rtol=1e-12)
    np.testing.assert_allclose(trace.value("W2_new"), W2 - 0.1 * (dW2 + 0.1 * W2), rtol=1e-12)
    assert "dL/dW2" in trace["W2_new"].formula
    # Biases are not penalised.
    np.testing.assert_allclose(trace.value("b2_new"), [0.3069977899435841], rtol=1e-12)
    assert "dR/db2" not in trace


def test_l2_gradient_matches_finite_differences():
    network = gn.mlp([3, 4, 2], activation="tanh", output="identity", seed=3, dtype="float64")
    rng = np.random.default_rng(0)
    X = rng.normal(size=(5, 3))
    t = rng.normal(size=(5, 2))
    loss = gn.get_loss("mean-squared-error")
    l2 = 0.3
    network.loss_and_backward(network.prepare_input(X), t, loss, l2=l2)
    analytic = network.dense_layers[0].grads["W"].copy()
    W = network.dense_layers[0].params["W"]
    eps = 1e-6
    numeric = np.zeros_like(W)
    for index in np.ndindex(W.shape):
        original = W[index]
        W[index] = original + eps
        plus = network.loss_and_backward(network.prepare_input(X), t, loss, l2=l2)
        W[index] = original - eps
        minus = network.loss_and_backward(network.prepare_input(X), t, loss, l2=l2)
        W[index] = original
        numeric[index] = (plus - minus) / (2 * eps)
    np.testing.assert_allclose(analytic, numeric, rtol=1e-7, atol=1e-10)


def test_l2_zero_leaves_trace_unchanged():
    plain = lesson_network().step(LESSON_X, LESSON_T, trace=True)
    zero = lesson_network().step(LESSON_X, LESSON_T, trace=True, l2=0.0)
    assert zero.symbols() == plain.symbols()


@pytest.mark.parametrize(("l2", "error"), [(-0.1, gn.InvalidInputError), (float("inf"), gn.InvalidInputError),
                                           ("0.1", gn.InvalidTypeError)])
def test_invalid_l2_raises(l2, error):
    with pytest.raises(error, match="l2="):
        lesson_network().step(LESSON_X, LESSON_T, l2=l2)
    with pytest.raises(error, match="l2="):
        fit(lesson_network(), LESSON_X, LESSON_T, l2=l2)


def test_fit_train_loss_includes_penalty():
    history = fit(lesson_network(), LESSON_X, LESSON_T, optimizer=gn.SGD(learning_rate=0.1), epochs=1, l2=0.1)
    assert history["train_loss"][0] == pytest.approx(0.05153309515632571 + 0.0995, rel=1e-12)


# ---------------------------------------------------------------- Dropout


def test_dropout_is_inverted_and_seeded():
    x = np.ones((2000, 50))
    first = Dropout(0.25, seed=4).forward(x)
    second = Dropout(0.25, seed=4).forward(x)
    np.testing.assert_array_equal(first, second)
    assert set(np.unique(first)) == {0.0, 1.0 / 0.75}
    assert abs(np.mean(first == 0.0) - 0.25) < 0.01
    assert first.mean() == pytest.approx(1.0, abs=0.01)
    assert not np.array_equal(Dropout(0.25, seed=5).forward(x), first)


def test_dropout_off_at_inference():
    network = gn.mlp([3, 50, 2], activation="relu", output="identity", seed=1, dtype="float64", dropout=0.5)
    X = np.random.default_rng(0).normal(size=(4, 3))
    first = network.predict(X)
    second = network.predict(X)
    np.testing.assert_array_equal(first, second)
    network.eval()
    by_hand = np.maximum(X @ network.dense_layers[0].params["W"] + network.dense_layers[0].params["b"], 0)
    by_hand = by_hand @ network.dense_layers[1].params["W"] + network.dense_layers[1].params["b"]
    np.testing.assert_allclose(first, by_hand, rtol=1e-13)


def test_dropout_backward_uses_the_mask():
    layer = Dropout(0.5, seed=0)
    x = np.arange(12.0).reshape(3, 4)
    layer.forward(x)
    grad = np.full((3, 4), 2.0)
    np.testing.assert_array_equal(layer.backward(grad), grad * layer.mask)


def test_dropout_mask_in_trace():
    network = gn.Sequential([gn.Dense(2, 3, W=np.ones((2, 3))), gn.ReLU(), Dropout(0.5, seed=2),
                             gn.Dense(3, 1, W=np.ones((3, 1))), gn.Sigmoid()])
    trace = network.step(LESSON_X, LESSON_T, trace=True)
    mask = trace.value("mask1")
    assert set(np.unique(mask)) <= {0.0, 2.0}
    np.testing.assert_allclose(trace.value("a1_dropped"), trace.value("a1") * mask)
    np.testing.assert_allclose(trace.value("dL/da1"), trace.value("dL/da1_dropped") * mask)


@pytest.mark.parametrize("rate", [1.0, -0.1])
def test_dropout_invalid_rate(rate):
    with pytest.raises(gn.InvalidInputError, match="dropout rate=.* must be in \\[0, 1\\)"):
        Dropout(rate)


# ---------------------------------------------------------------- budgets


def test_max_steps_stops_training():
    history = fit(lesson_network(), np.repeat(LESSON_X, 10, axis=0), np.repeat(LESSON_T, 10, axis=0),
                  epochs=100, batch_size=2, max_steps=7)
    assert history.records[-1]["step"] == 7
    assert history.stop_reason == "reached the step budget (max_steps=7)"


def test_max_seconds_stops_training():
    history = fit(lesson_network(), LESSON_X, LESSON_T, epochs=1_000_000, max_seconds=0.2)
    assert len(history) < 1_000_000
    assert history.stop_reason == "reached the time budget (max_seconds=0.2)"


@pytest.mark.parametrize("budget", [0, -3])
def test_invalid_max_steps(budget):
    with pytest.raises(gn.InvalidInputError, match="max_steps"):
        fit(lesson_network(), LESSON_X, LESSON_T, max_steps=budget)


def test_invalid_max_seconds():
    with pytest.raises(gn.InvalidInputError, match="max_seconds=-1.0 is invalid; expected a finite number > 0"):
        fit(lesson_network(), LESSON_X, LESSON_T, max_seconds=-1.0)


# ---------------------------------------------------------------- reproducibility


def fit_xor(seed):
    network = gn.mlp([2, 4, 1], activation="tanh", output="sigmoid", seed=seed, dtype="float64")
    initial = network.get_parameters()
    history = fit(network, XOR_X, XOR_T, loss="binary-cross-entropy", optimizer=gn.Adam(learning_rate=0.05),
                  epochs=200, batch_size=2, shuffle=True, seed=seed)
    return initial, history["train_loss"], network.get_parameters(), network.predict(XOR_X)


def assert_same_run(first, second):
    for before, after in zip(first[0].values(), second[0].values()):
        assert before.tobytes() == after.tobytes()
    assert np.array(first[1]).tobytes() == np.array(second[1]).tobytes()
    for before, after in zip(first[2].values(), second[2].values()):
        assert before.tobytes() == after.tobytes()
    assert first[3].tobytes() == second[3].tobytes()


def test_same_seed_is_bitwise_identical():
    first = fit_xor(7)
    np.random.seed(123)
    np.random.rand(1000)
    second = fit_xor(7)
    assert_same_run(first, second)


def test_other_seed_differs():
    first = fit_xor(7)
    other = fit_xor(8)
    assert first[1] != other[1]
    assert not np.array_equal(first[2]["dense1.W"], other[2]["dense1.W"])


def test_fit_leaves_global_generator_alone():
    np.random.seed(42)
    expected = np.random.rand(3)
    np.random.seed(42)
    fit_xor(7)
    np.testing.assert_array_equal(np.random.rand(3), expected)


def test_train_model_with_dropout_is_reproducible():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(60, 4))
    y = (X[:, 0] > 0).astype(np.int64)
    config = TrainConfig(hidden=(8,), dropout=0.3, epochs=5, seed=3, dtype="float64", schedule="cosine", l2=1e-3)
    first = train_model(X, y, task="classification", class_names=["a", "b"], config=config)
    np.random.seed(9)
    second = train_model(X, y, task="classification", class_names=["a", "b"], config=config)
    assert first.history["train_loss"] == second.history["train_loss"]
    assert first.predict_proba(X).tobytes() == second.predict_proba(X).tobytes()


# ---------------------------------------------------------------- train_model


def test_train_model_regression_predicts_in_target_units():
    rng = np.random.default_rng(1)
    X = rng.normal(size=(200, 2))
    y = 1000.0 + 300.0 * X[:, 0] - 200.0 * X[:, 1]
    config = TrainConfig(hidden=(16,), optimizer="adam", learning_rate=0.01, epochs=60, dtype="float64")
    model = train_model(X, y, task="regression", config=config)
    assert model.evaluate(X, y)["r2"] > 0.99
    assert abs(model.predict(X).mean() - y.mean()) < 5.0


def test_train_model_early_stopping_from_config():
    X, t = np.random.default_rng(2).normal(size=(80, 3)), np.random.default_rng(3).integers(0, 2, 80)
    config = TrainConfig(hidden=(32,), optimizer="adam", learning_rate=0.05, epochs=300, early_stopping=True,
                         patience=3, dtype="float64")
    model = train_model(X[:60], t[:60], task="classification", class_names=[0, 1], config=config,
                        validation=(X[60:], t[60:]))
    assert model.history.stop_reason.startswith("early stopping")


def test_train_config_for_dataset_defaults_and_overrides():
    assert TrainConfig.for_dataset("xor").test_fraction == 0.0
    assert TrainConfig.for_dataset("xor", epochs=5).epochs == 5
    assert TrainConfig.for_dataset(None) == TrainConfig()
    with pytest.raises(gn.InvalidInputError, match="TrainConfig has no setting \\['epoch'\\]"):
        TrainConfig.for_dataset("iris", epoch=3)
    with pytest.raises(gn.InvalidInputError, match="schedule='linear' is not known"):
        TrainConfig(schedule="linear")


def test_train_model_requires_class_names():
    with pytest.raises(gn.InvalidInputError, match="class_names=None; classification needs the names of at least 2 classes"):
        train_model(XOR_X, [0, 1, 1, 0], task="classification")


def test_network_too_large_for_memory_rejected_before_training():
    from glassnet.validation import physical_memory_bytes

    network = gn.mlp([2, 2, 2], seed=0)
    with pytest.raises(ValueError, match="GiB"):
        gn.training.check_memory(network, batch_size=physical_memory_bytes())
    with pytest.raises(ValueError, match=r"Dense\(2, .*use fewer units"):
        gn.Dense(2, physical_memory_bytes() // 16 + 1)


# ---------------------------------------------------------------- input checks across fit calls


def _blob_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, 5))
    labels = (X[:, 0] > 0).astype(int)
    return X, np.eye(2)[labels]


def _blob_network():
    return gn.mlp([5, 8, 2], activation="relu", output="softmax", seed=3, dtype="float64")


def test_refit_same_array_skips_scan(monkeypatch):
    X, t = _blob_data()
    network = _blob_network()
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    scans = []
    original = type(network).prepare_input
    monkeypatch.setattr(type(network), "prepare_input",
                        lambda self, *args, **kwargs: scans.append(args[0]) or original(self, *args, **kwargs))
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    assert scans == []
    # Another array with the same values, a view of part of X, or a conversion is scanned again.
    for other in (X.copy(), X[:32], X.astype(np.float32)):
        fit(network, other, t[: other.shape[0]], loss="categorical-cross-entropy", epochs=1, batch_size=16)
        assert scans[-1] is other


@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("shuffle", [False, True])
def test_value_written_after_scan_named(bad, shuffle):
    X, t = _blob_data()
    network = _blob_network()
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    X[37, 4] = bad
    steps = []

    class Steps(Callback):
        def on_batch_end(self, state):
            steps.append(network.get_parameters())

    before = network.get_parameters()
    with pytest.raises(gn.InvalidInputError, match=rf"X contains {bad} at row 37, column 4"):
        fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16, shuffle=shuffle,
            callbacks=[Steps()])
    last_good = steps[-1] if steps else before
    for name, value in network.get_parameters().items():
        assert np.all(np.isfinite(value))
        np.testing.assert_array_equal(value, last_good[name])
    if not shuffle:
        assert len(steps) == 2  # rows 32 to 47 are the third batch



@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("optimizer", [
    lambda: gn.SGD(learning_rate=0.05, momentum=0.9),
    lambda: gn.Adam(learning_rate=0.01),
    lambda: gn.RMSprop(learning_rate=0.01),
], ids=["momentum", "adam", "rmsprop"])
def test_inf_in_checked_array_spares_optimizer(activation, optimizer):
    # A saturating hidden activation maps an inf input to 0 or 1, so the loss stays finite and
    # only the first weight gradient shows the inf. The optimizer must not take that gradient in.
    X, t = _blob_data()
    network = gn.mlp([5, 8, 2], activation=activation, output="softmax", seed=3, dtype="float64")
    opt = optimizer()
    fit(network, X, t, loss="categorical-cross-entropy", optimizer=opt, epochs=1, batch_size=16)
    X[37, 4] = np.inf
    with pytest.raises(gn.InvalidInputError, match="X contains inf at row 37, column 4"):
        fit(network, X, t, loss="categorical-cross-entropy", optimizer=opt, epochs=1, batch_size=16,
            shuffle=False)
    assert opt.iterations == 4 + 2  # the first fit's 4 steps and the 2 batches before row 37
    for name, buffers in opt.state.items():
        for key, buffer in buffers.items():
            assert np.all(np.isfinite(buffer)), f"{key} of {name}"

    X[37, 4] = 0.0
    fit(network, X, t, loss="categorical-cross-entropy", optimizer=opt, epochs=1, batch_size=16)
    for name, value in network.get_parameters().items():
        assert np.all(np.isfinite(value)), name



@pytest.mark.parametrize("activation", ["sigmoid", "tanh"])
@pytest.mark.parametrize("updates", [contextlib.nullcontext, blas_updates], ids=["numpy", "blas"])
def test_inf_in_checked_array_stops_plain_sgd(activation, updates):
    # Plain SGD keeps nothing from the gradients, so fit skips the check of dW1 before it. The
    # divergence guard must then stop the update, and fit must still name the input.
    X, t = _blob_data()
    network = gn.mlp([5, 8, 2], activation=activation, output="softmax", seed=3, dtype="float64")
    optimizer = gn.SGD(learning_rate=0.05)
    assert not optimizer.keeps_gradient_state()
    fit(network, X, t, loss="categorical-cross-entropy", optimizer=optimizer, epochs=1, batch_size=16)
    X[37, 4] = np.inf
    steps = []

    class Steps(Callback):
        modifies_parameters = False

        def on_batch_end(self, state):
            steps.append(network.get_parameters())

    with updates(), pytest.raises(gn.InvalidInputError, match="X contains inf at row 37, column 4"):
        fit(network, X, t, loss="categorical-cross-entropy", optimizer=optimizer, epochs=1, batch_size=16,
            shuffle=False, callbacks=[Steps()])
    assert len(steps) == 2  # rows 32 to 47 are the third batch
    assert optimizer.iterations == 4 + 2  # the rejected step is not counted
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, steps[-1][name], err_msg=name)


class _GradientMeanSGD(gn.SGD):
    """SGD that also keeps a running mean of each gradient in its state."""

    def _update(self, name, symbol, param, grad, trace):
        mean = self._buffer(name, "mean", param)
        mean *= 0.5
        mean += 0.5 * grad
        super()._update(name, symbol, param, grad, trace)


@pytest.mark.parametrize("options", [{"clip_norm": 10.0}, {"weight_decay": 0.01}], ids=["clip", "decay"])
def test_inf_in_checked_array_spares_sgd_subclass(options):
    # At momentum 0, SGD itself keeps nothing from the gradients, but a subclass may. So fit must
    # check dW1 before its step, as for any optimizer with state.
    X, t = _blob_data()
    network = gn.mlp([5, 8, 2], activation="tanh", output="softmax", seed=3, dtype="float64")
    optimizer = _GradientMeanSGD(learning_rate=0.05, **options)
    fit(network, X, t, loss="categorical-cross-entropy", optimizer=optimizer, epochs=1, batch_size=16)
    X[37, 4] = np.inf
    with pytest.raises(gn.InvalidInputError, match="X contains inf at row 37, column 4"):
        fit(network, X, t, loss="categorical-cross-entropy", optimizer=optimizer, epochs=1, batch_size=16,
            shuffle=False)
    assert optimizer.state
    for name, buffers in optimizer.state.items():
        assert np.all(np.isfinite(buffers["mean"])), name


def test_value_written_by_callback_is_named():
    X, t = _blob_data()
    network = _blob_network()

    class Corrupt(Callback):
        def on_epoch_end(self, state):
            X[37, 4] = np.nan

    with pytest.raises(gn.InvalidInputError, match="X contains nan at row 37, column 4") as raised:
        fit(network, X, t, loss="categorical-cross-entropy", epochs=2, batch_size=16, callbacks=[Corrupt()])
    assert "earlier fit" not in str(raised.value)


@pytest.mark.parametrize("shuffle", [False, True])
def test_target_written_by_callback_is_named(shuffle):
    # Float targets of the network's dtype are trained on in place, so a callback can write NaN into
    # them after fit checked them. The non-finite loss must then name the target, not report divergence.
    X, t = _blob_data()
    network = _blob_network()

    class Corrupt(Callback):
        def on_batch_end(self, state):
            if state.step == 2:
                t[50, 1] = np.nan

    with pytest.raises(gn.InvalidInputError, match="targets contain nan at row 50, column 1"):
        fit(network, X, t, loss="categorical-cross-entropy", optimizer=gn.SGD(learning_rate=0.05), epochs=2,
            batch_size=16, shuffle=shuffle, callbacks=[Corrupt()])


@pytest.mark.parametrize("array", ["X_val", "t_val"])
def test_validation_value_written_by_callback_is_named(array):
    X, t = _blob_data()
    X_val, t_val = _blob_data(n=20, seed=1)
    network = _blob_network()

    class Corrupt(Callback):
        def on_epoch_begin(self, state):
            if state.epoch == 2:
                (X_val if array == "X_val" else t_val)[7, 1] = np.inf

    expected = "X_val contains inf" if array == "X_val" else "validation targets contain inf"
    with pytest.raises(gn.InvalidInputError, match=rf"{expected} at row 7, column 1"):
        fit(network, X, t, loss="categorical-cross-entropy", epochs=2, batch_size=16,
            validation_data=(X_val, t_val), callbacks=[Corrupt()])


def test_new_array_nan_rejected_first():
    X, t = _blob_data()
    network = _blob_network()
    before = network.get_parameters()
    X[60, 1] = np.nan
    with pytest.raises(gn.InvalidInputError, match="X contains nan at row 60, column 1"):
        fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name])


def test_pickled_network_forgets_the_checked_array():
    import pickle

    X, t = _blob_data()
    network = _blob_network()
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    restored = pickle.loads(pickle.dumps(network))
    assert restored._checked_input is None
    X[5, 0] = np.nan
    with pytest.raises(gn.InvalidInputError, match="X contains nan at row 5, column 0; expected"):
        fit(restored, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)


def test_batch_arrays_kept_between_fits(monkeypatch):
    import glassnet.training as training

    X, t = _blob_data()
    network = _blob_network()
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    first_buffers = network._batch_buffers
    assert first_buffers is not None
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=16)
    assert network._batch_buffers[1] is first_buffers[1]
    # Arrays above the size limit, such as a batch of the whole data set, are not kept.
    monkeypatch.setattr(training, "_KEPT_BATCH_BYTES", X[:16].nbytes + t[:16].nbytes)
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=64)
    assert network._batch_buffers is None


def test_batch_array_above_limit_released_after_fit(monkeypatch):
    import gc
    import weakref

    import glassnet.training as training

    X, t = _blob_data()
    network = _blob_network()
    monkeypatch.setattr(training, "_KEPT_BATCH_BYTES", X[:16].nbytes + t[:16].nbytes)
    created = []
    make_array = training.aligned_empty

    def recording_aligned_empty(shape, dtype):
        array = make_array(shape, dtype)
        created.append(weakref.ref(array.base))  # the byte buffer that owns the memory
        return array

    monkeypatch.setattr(training, "aligned_empty", recording_aligned_empty)
    fit(network, X, t, loss="categorical-cross-entropy", epochs=1, batch_size=64)
    gc.collect()
    assert network._batch_buffers is None
    assert len(created) == 2
    # The first Dense layer cached a view of the last batch, which must not keep the arrays alive.
    assert all(ref() is None for ref in created)


@pytest.mark.parametrize("optimizer", [
    lambda: gn.SGD(learning_rate=0.05, momentum=0.9),
    lambda: gn.Adam(learning_rate=0.01),
], ids=["momentum", "adam"])
def test_inf_written_by_callback_spares_optimizer(optimizer):
    # This fit scans X itself, and a callback writes the inf afterwards. The tanh layer keeps the
    # loss finite, so only the first weight gradient shows it.
    X, t = _blob_data()
    network = gn.mlp([5, 8, 2], activation="tanh", output="softmax", seed=3, dtype="float64")
    opt = optimizer()

    class WriteInf(Callback):
        def on_batch_end(self, state):
            if state.step == 2:
                X[37, 4] = np.inf

    with pytest.raises(gn.InvalidInputError, match="X contains inf at row 37, column 4"):
        fit(network, X, t, loss="categorical-cross-entropy", optimizer=opt, epochs=1, batch_size=16,
            shuffle=False, callbacks=[WriteInf()])
    assert opt.iterations == 2
    for name, buffers in opt.state.items():
        for key, buffer in buffers.items():
            assert np.all(np.isfinite(buffer)), f"{key} of {name}"
