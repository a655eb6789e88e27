"""Optimizers: closed-form updates, the momentum lesson, traces, state, and PyTorch over several steps."""

import contextlib
import ctypes
import math
import os
import shutil
import types
from pathlib import Path

import numpy as np
import pytest

import glassnet as gn
from conftest import LESSON_T, LESSON_X, blas_updates, lesson_network, numpy_ships_openblas
from glassnet import _blas
from glassnet.optimizers import get_optimizer


def scalar_slots(value=0.0, grad=1.0):
    param = np.array([value])
    return [("w", "W1", param, np.array([grad]))], param


# ---------------------------------------------------------------- closed form


def test_momentum_scalar_weight_accumulates_velocity():
    # v1 = 1, w1 = -0.1; v2 = 0.9 + 1 = 1.9, w2 = -0.29; v3 = 1.71 + 1 = 2.71, w3 = -0.561.
    # A velocity reset every step would give -0.3 after step 3.
    slots, param = scalar_slots()
    optimizer = gn.SGD(learning_rate=0.1, momentum=0.9)
    weights = []
    for _ in range(3):
        optimizer.step(slots)
        weights.append(param[0])
    np.testing.assert_allclose(weights, [-0.1, -0.29, -0.561], rtol=1e-14)
    assert optimizer.state["w"]["velocity"][0] == pytest.approx(2.71, rel=1e-14)


def test_nesterov_scalar_weight_closed_form():
    # v1 = 1, step 1 = g + μ v1 = 1.9; v2 = 1.9, step 2 = 1 + 0.9 · 1.9 = 2.71.
    slots, param = scalar_slots()
    optimizer = gn.SGD(learning_rate=0.1, momentum=0.9, nesterov=True)
    optimizer.step(slots)
    assert param[0] == pytest.approx(-0.19, rel=1e-14)
    optimizer.step(slots)
    assert param[0] == pytest.approx(-0.19 - 0.271, rel=1e-14)


def test_sgd_weight_decay_closed_form():
    # g = 1 + 0.5 · 2 = 2, w = 2 - 0.1 · 2 = 1.8.
    slots, param = scalar_slots(value=2.0)
    gn.SGD(learning_rate=0.1, weight_decay=0.5).step(slots)
    assert param[0] == pytest.approx(1.8, rel=1e-14)
    assert slots[0][3][0] == 1.0  # the stored gradient is not changed


def test_adam_first_step_is_lr_times_sign():
    # m̂1 = g, v̂1 = g², so the first step is lr · g / (|g| + eps).
    param = np.array([1.0, -2.0, 3.0])
    grad = np.array([0.5, -4.0, 1e-3])
    optimizer = gn.Adam(learning_rate=0.01, eps=1e-8)
    optimizer.step([("p", "W1", param, grad)])
    expected = np.array([1.0, -2.0, 3.0]) - 0.01 * grad / (np.abs(grad) + 1e-8)
    np.testing.assert_allclose(param, expected, rtol=1e-14)


def test_adam_two_steps_closed_form():
    param = np.array([0.0])
    optimizer = gn.Adam(learning_rate=0.1, beta1=0.9, beta2=0.999, eps=1e-8)
    optimizer.step([("p", "W1", param, np.array([1.0]))])
    optimizer.step([("p", "W1", param, np.array([3.0]))])
    m = 0.9 * 0.1 + 0.1 * 3.0
    v = 0.999 * 0.001 + 0.001 * 9.0
    m_hat = m / (1 - 0.9**2)
    v_hat = v / (1 - 0.999**2)
    expected = -0.1 * 1.0 / (1.0 + 1e-8) - 0.1 * m_hat / (math.sqrt(v_hat) + 1e-8)
    assert param[0] == pytest.approx(expected, rel=1e-13)
    assert optimizer.state["p"]["m"][0] == pytest.approx(m, rel=1e-14)
    assert optimizer.state["p"]["v"][0] == pytest.approx(v, rel=1e-14)


def test_adamw_decays_outside_the_moments():
    # p = 2 · (1 - 0.1 · 0.5) = 1.9, then the Adam step of g = 1 moves it by 0.1.
    slots, param = scalar_slots(value=2.0)
    optimizer = gn.AdamW(learning_rate=0.1, weight_decay=0.5, eps=1e-12)
    optimizer.step(slots)
    assert param[0] == pytest.approx(1.8, rel=1e-12)
    assert optimizer.state["w"]["m"][0] == pytest.approx(0.1, rel=1e-14)


def test_rmsprop_two_steps_closed_form():
    slots, param = scalar_slots()
    optimizer = gn.RMSprop(learning_rate=0.01, alpha=0.9, eps=1e-12)
    optimizer.step(slots)
    optimizer.step(slots)
    v1 = 0.1
    v2 = 0.9 * 0.1 + 0.1
    assert param[0] == pytest.approx(-0.01 / math.sqrt(v1) - 0.01 / math.sqrt(v2), rel=1e-10)


def test_clip_norm_scales_all_gradients_together():
    # ||g|| = sqrt(3² + 4²) = 5 > 1, so every gradient is multiplied by 0.2.
    a = np.array([0.0])
    b = np.array([0.0])
    slots = [("a", "W1", a, np.array([3.0])), ("b", "b1", b, np.array([4.0]))]
    gn.SGD(learning_rate=1.0, clip_norm=1.0).step(slots)
    np.testing.assert_allclose([a[0], b[0]], [-0.6, -0.8], rtol=1e-14)


def test_clip_norm_leaves_small_gradients():
    slots, param = scalar_slots(grad=0.5)
    gn.SGD(learning_rate=1.0, clip_norm=1.0).step(slots)
    assert param[0] == -0.5


# ---------------------------------------------------------------- the lesson network

LESSON_MOMENTUM_STEP2 = {
    "W1": [[0.3014132554137882, 0.401615616583557], [0.5028265108275765, 0.6032312331671139]],
    "b1": [0.11413255413788238, 0.2161561658355696],
    "W2": [[0.7046752911653051], [0.8073029061138582]],
    "b2": [0.3201735492273037],
}


def test_lesson_momentum_step1_equals_plain_sgd():
    plain = lesson_network()
    plain.step(LESSON_X, LESSON_T, optimizer=gn.SGD(learning_rate=0.1))
    momentum = lesson_network()
    momentum.step(LESSON_X, LESSON_T, optimizer=gn.SGD(learning_rate=0.1, momentum=0.9))
    for symbol, value in plain.parameters_by_symbol().items():
        np.testing.assert_array_equal(momentum.parameters_by_symbol()[symbol], value, err_msg=symbol)


def test_lesson_momentum_step2_reference():
    network = lesson_network()
    optimizer = gn.SGD(learning_rate=0.1, momentum=0.9)
    network.step(LESSON_X, LESSON_T, optimizer=optimizer)
    network.step(LESSON_X, LESSON_T, optimizer=optimizer)
    after = network.parameters_by_symbol()
    for symbol, expected in LESSON_MOMENTUM_STEP2.items():
        np.testing.assert_allclose(after[symbol], expected, rtol=1e-12, err_msg=symbol)


def test_lesson_zero_momentum_equals_plain_sgd():
    plain = lesson_network()
    plain_optimizer = gn.SGD(learning_rate=0.1)
    zero = lesson_network()
    zero_optimizer = gn.SGD(learning_rate=0.1, momentum=0.0)
    for _ in range(2):
        plain.step(LESSON_X, LESSON_T, optimizer=plain_optimizer)
        zero.step(LESSON_X, LESSON_T, optimizer=zero_optimizer)
    for symbol, value in plain.parameters_by_symbol().items():
        np.testing.assert_array_equal(zero.parameters_by_symbol()[symbol], value, err_msg=symbol)


# ---------------------------------------------------------------- traces and state


def test_momentum_trace_shows_velocity_and_update():
    network = lesson_network()
    optimizer = gn.SGD(learning_rate=0.1, momentum=0.9)
    network.step(LESSON_X, LESSON_T, optimizer=optimizer)
    trace = network.step(LESSON_X, LESSON_T, optimizer=optimizer, trace=True)
    for symbol in ("W1", "b1", "W2", "b2"):
        velocity = trace[f"v_{symbol}"]
        assert velocity.phase == "update"
        assert "μ" in velocity.formula
        np.testing.assert_array_equal(velocity.value, optimizer.state[_name(symbol)]["velocity"])
        np.testing.assert_allclose(trace.value(f"{symbol}_new"), LESSON_MOMENTUM_STEP2[symbol], rtol=1e-12)
        assert f"v_{symbol}" in trace[f"{symbol}_new"].inputs


def _name(symbol):
    return f"dense{symbol[1]}.{symbol[0]}"


def test_adam_trace_shows_moments_and_bias_correction():
    network = lesson_network()
    optimizer = gn.Adam(learning_rate=0.01)
    trace = network.step(LESSON_X, LESSON_T, optimizer=optimizer, trace=True)
    gradient = trace.value("dW2")
    np.testing.assert_allclose(trace.value("m_W2"), 0.1 * gradient, rtol=1e-14)
    np.testing.assert_allclose(trace.value("v_W2"), 0.001 * gradient**2, rtol=1e-14)
    np.testing.assert_allclose(trace.value("m_hat_W2"), gradient, rtol=1e-12)
    np.testing.assert_allclose(trace.value("v_hat_W2"), gradient**2, rtol=1e-12)
    assert "1 - β1^1" in trace["m_hat_W2"].formula
    before = trace.parameters_before["W2"]
    # The eps = 1e-8 in the denominator shifts the step by about eps / |g| relative.
    np.testing.assert_allclose(trace.value("W2_new"), before - 0.01 * np.sign(gradient), rtol=1e-6)
    np.testing.assert_array_equal(trace.value("m_W2"), optimizer.state["dense2.W"]["m"])


def test_adamw_trace_shows_decoupled_decay():
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, optimizer=gn.AdamW(learning_rate=0.1, weight_decay=0.5), trace=True)
    np.testing.assert_allclose(trace.value("W1_decayed"), np.array([[0.3, 0.4], [0.5, 0.6]]) * 0.95, rtol=1e-14)


def test_rmsprop_and_weight_decay_trace():
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, optimizer=gn.RMSprop(learning_rate=0.01, weight_decay=0.1),
                         trace=True)
    decayed = trace.value("dW1") + 0.1 * trace.parameters_before["W1"]
    np.testing.assert_allclose(trace.value("g_W1"), decayed, rtol=1e-14)
    np.testing.assert_allclose(trace.value("v_W1"), 0.01 * decayed**2, rtol=1e-14)


def test_clip_trace_records_norm_and_scale():
    network = lesson_network()
    trace = network.step(LESSON_X, LESSON_T, optimizer=gn.SGD(learning_rate=0.1, clip_norm=0.01), trace=True)
    gradients = np.concatenate([trace.value(s).ravel() for s in ("dW1", "db1", "dW2", "db2")])
    norm = np.linalg.norm(gradients)
    assert trace.value("||g||") == pytest.approx(norm, rel=1e-12)
    assert trace.value("clip_scale") == pytest.approx(0.01 / norm, rel=1e-12)


def test_state_dict_round_trip_continues_identically():
    first = lesson_network()
    optimizer = gn.Adam(learning_rate=0.05)
    first.step(LESSON_X, LESSON_T, optimizer=optimizer)
    saved = optimizer.state_dict()
    assert saved["iterations"] == 1
    assert set(saved["state"]["dense1.W"]) == {"m", "v"}
    second = first.copy()
    restored = gn.Adam(learning_rate=0.05)
    restored.load_state_dict(saved)
    first.step(LESSON_X, LESSON_T, optimizer=optimizer)
    second.step(LESSON_X, LESSON_T, optimizer=restored)
    for name, value in first.get_parameters().items():
        np.testing.assert_array_equal(second.get_parameters()[name], value, err_msg=name)


def test_state_dict_is_a_copy():
    slots, _ = scalar_slots()
    optimizer = gn.SGD(learning_rate=0.1, momentum=0.9)
    optimizer.step(slots)
    saved = optimizer.state_dict()
    optimizer.step(slots)
    assert saved["state"]["w"]["velocity"][0] == 1.0


# ---------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("factory", "message"),
    [
        (lambda: gn.SGD(learning_rate=0.0), "learning_rate=0 is out of range; expected a finite number > 0"),
        (lambda: gn.SGD(learning_rate=float("nan")), "learning_rate=nan is not finite; expected a finite number > 0"),
        (lambda: gn.SGD(momentum=1.0), "momentum=1 is out of range; expected a finite number >= 0 and < 1"),
        (lambda: gn.SGD(momentum=-0.1), "momentum=-0.1 is out of range; expected a finite number >= 0 and < 1"),
        (lambda: gn.SGD(nesterov=True), "nesterov=True needs momentum > 0"),
        (lambda: gn.Adam(beta1=1.0), "beta1=1 is out of range; expected a finite number >= 0 and < 1"),
        (lambda: gn.Adam(eps=0.0), "eps=0 is out of range; expected a finite number > 0"),
        (lambda: gn.RMSprop(alpha=1.5), "alpha=1.5 is out of range; expected a finite number >= 0 and < 1"),
        (lambda: gn.AdamW(weight_decay=-1), "weight_decay=-1 is out of range; expected a finite number >= 0"),
        (lambda: gn.SGD(clip_norm=0), "clip_norm=0 is out of range; expected a finite number > 0"),
        (lambda: get_optimizer("lbfgs"), "optimizer='lbfgs' is not known; use one of: adam, adamw, rmsprop, sgd"),
    ],
)
def test_invalid_hyperparameters_raise(factory, message):
    with pytest.raises(gn.InvalidInputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        factory()


def test_non_numeric_learning_rate_raises_type_error():
    with pytest.raises(gn.InvalidTypeError, match=r"learning_rate='0.1' \(str\) is not a number; expected a finite number > 0"):
        gn.SGD(learning_rate="0.1")


# ---------------------------------------------------------------- PyTorch oracle

torch = pytest.importorskip("torch", reason="PyTorch is the oracle; install glassnet[test]")

CASES = [
    ("sgd", {"learning_rate": 0.1}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.8, "nesterov": True}),
    ("sgd", {"learning_rate": 0.05, "momentum": 0.9, "weight_decay": 0.01}),
    ("adam", {"learning_rate": 0.01}),
    ("adam", {"learning_rate": 0.003, "beta1": 0.8, "beta2": 0.99, "eps": 1e-6, "weight_decay": 0.05}),
    ("adamw", {"learning_rate": 0.01}),
    ("adamw", {"learning_rate": 0.02, "beta1": 0.85, "beta2": 0.95, "weight_decay": 0.3}),
    ("rmsprop", {"learning_rate": 0.01}),
    ("rmsprop", {"learning_rate": 0.005, "alpha": 0.9, "eps": 1e-6, "weight_decay": 0.02}),
    ("sgd", {"learning_rate": 0.5, "momentum": 0.9, "clip_norm": 0.05}),
    ("adam", {"learning_rate": 0.01, "clip_norm": 0.1}),
]


def torch_optimizer(name, options, params):
    lr = options["learning_rate"]
    decay = options.get("weight_decay", 0.0)
    if name == "sgd":
        return torch.optim.SGD(params, lr=lr, momentum=options.get("momentum", 0.0),
                               nesterov=options.get("nesterov", False), weight_decay=decay)
    if name in ("adam", "adamw"):
        betas = (options.get("beta1", 0.9), options.get("beta2", 0.999))
        eps = options.get("eps", 1e-8)
        if name == "adam":
            return torch.optim.Adam(params, lr=lr, betas=betas, eps=eps, weight_decay=decay)
        return torch.optim.AdamW(params, lr=lr, betas=betas, eps=eps, weight_decay=options.get("weight_decay", 0.01))
    return torch.optim.RMSprop(params, lr=lr, alpha=options.get("alpha", 0.99), eps=options.get("eps", 1e-8),
                               weight_decay=decay)


def torch_linears(network):
    """Copy the Dense layers to torch tensors; PyTorch's Linear stores W transposed, so keep W as is here."""
    return [
        (torch.tensor(layer.params["W"], requires_grad=True), torch.tensor(layer.params["b"], requires_grad=True))
        for layer in network.dense_layers
    ]


def torch_forward(linears, x):
    for position, (weights, bias) in enumerate(linears):
        x = x @ weights + bias
        if position < len(linears) - 1:
            x = torch.tanh(x)
    return x


@pytest.mark.parametrize(("name", "options"), CASES, ids=[f"{n}-{i}" for i, (n, _) in enumerate(CASES)])
def test_optimizer_matches_torch_over_steps(name, options):
    rng = np.random.default_rng(len(str(options)))
    network = gn.mlp([3, 5, 4, 2], activation="tanh", output="identity", seed=11, dtype="float64")
    linears = torch_linears(network)
    flat = [tensor for pair in linears for tensor in pair]
    reference = torch_optimizer(name, options, flat)
    optimizer = get_optimizer(name, **options)
    clip = options.get("clip_norm")
    for _ in range(6):
        X = rng.normal(size=(4, 3))
        t = rng.normal(size=(4, 2))
        network.step(X, t, loss="mean-squared-error", optimizer=optimizer)

        reference.zero_grad()
        loss = torch.nn.functional.mse_loss(torch_forward(linears, torch.tensor(X)), torch.tensor(t))
        loss.backward()
        if clip is not None:
            # glassnet scales by clip / ||g|| exactly; torch.nn.utils.clip_grad_norm_ adds 1e-6 to the norm.
            norm = torch.sqrt(sum((p.grad**2).sum() for p in flat))
            if norm > clip:
                for p in flat:
                    p.grad *= clip / norm
        reference.step()

    for layer, (weights, bias) in zip(network.dense_layers, linears):
        np.testing.assert_allclose(layer.params["W"], weights.detach().numpy(), rtol=1e-11, atol=1e-13)
        np.testing.assert_allclose(layer.params["b"], bias.detach().numpy(), rtol=1e-11, atol=1e-13)


def test_flat_sgd_follows_rate_and_dtype():
    # The flat update keeps the learning rate as a 0-d array of the parameters' dtype. A new rate,
    # or a network of another dtype, must not reuse the old array.
    optimizer = gn.SGD(learning_rate=0.1)
    for dtype, rate in [("float64", 0.1), ("float64", 0.25), ("float32", 0.25), ("float32", 1e-3)]:
        optimizer.learning_rate = rate
        before, gradients, after = flat_sgd_step(optimizer, dtype)
        for name, value in after.items():
            assert value.dtype == np.dtype(dtype)
            np.testing.assert_array_equal(value, before[name] - gradients[name] * np.asarray(rate, dtype=dtype))


def flat_sgd_step(optimizer, dtype, sizes=(2, 3, 1)):
    """Take one step of ``optimizer`` on a fresh flat network; return parameters before, gradients, parameters after."""
    network = gn.mlp(list(sizes), seed=0, dtype=dtype)
    before = network.get_parameters()
    rng = np.random.default_rng(3)
    X = LESSON_X if sizes[0] == 2 else rng.standard_normal((5, sizes[0]))
    t = LESSON_T if sizes[-1] == 1 else np.eye(sizes[-1])[rng.integers(0, sizes[-1], 5)]
    network.loss_and_backward(network.prepare_input(X), np.asarray(t, dtype=dtype), gn.get_loss("mse"))
    gradients = {name: grad.copy() for name, grad in network.gradients()}
    optimizer.step(network.slots())
    return before, gradients, network.get_parameters()


@pytest.mark.parametrize("rate", [np.float64(0.037), np.float32(0.037), 0.037], ids=["float64", "float32", "float"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_flat_sgd_promotes_like_numpy(rate, dtype):
    # A NumPy scalar learning rate keeps its own dtype in the product, as it does in the per-parameter update.
    optimizer = gn.SGD(learning_rate=0.5)
    optimizer.learning_rate = rate
    before, gradients, after = flat_sgd_step(optimizer, dtype)
    for name, value in after.items():
        expected = before[name] - np.multiply(gradients[name], rate, out=np.empty_like(gradients[name]))
        np.testing.assert_array_equal(value, expected, err_msg=name)


# ---------------------------------------------------------------- flat steps with state

FLAT_SETTINGS = [
    ("sgd", {"momentum": 0.9}),
    ("sgd", {"momentum": 0.9, "nesterov": True}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01}),
    ("sgd", {"momentum": 0.5, "weight_decay": 0.01}),
    ("sgd", {"weight_decay": 0.01}),
    ("sgd", {"clip_norm": 0.05}),
    ("sgd", {"momentum": 0.9, "nesterov": True, "weight_decay": 0.01, "clip_norm": 0.05}),
    ("adam", {}),
    ("adam", {"weight_decay": 0.01, "clip_norm": 0.05}),
    ("adamw", {}),
    ("rmsprop", {"weight_decay": 0.01}),
]


def per_parameter_copy(network):
    """Return a copy of ``network`` whose parameters are separate arrays, so that SGD updates them one by one."""
    copy = network.copy()
    for layer in copy.dense_layers:
        layer.params["W"] = layer.params["W"].copy()
    return copy


def assert_same_parameters(first, second):
    """Assert that two networks hold bitwise equal parameters."""
    expected = second.get_parameters()
    for name, value in first.get_parameters().items():
        np.testing.assert_array_equal(value, expected[name], err_msg=name)


def training_steps(network, optimizer, steps, trace):
    """Take ``steps`` steps on fixed random data; return the traces, or the losses without a trace."""
    rng = np.random.default_rng(5)
    X = rng.standard_normal((6, 3))
    t = np.eye(2)[rng.integers(0, 2, 6)]
    return [network.step(X, t, loss="mse", optimizer=optimizer, trace=trace) for _ in range(steps)]


@pytest.mark.parametrize("traced", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize(("name", "options"), FLAT_SETTINGS, ids=lambda value: "-".join(value) or "defaults")
def test_flat_step_equals_per_parameter_step(name, options, dtype, traced):
    flat = gn.mlp([3, 4, 2], seed=0, dtype=dtype)
    separate = per_parameter_copy(flat)
    flat_optimizer = get_optimizer(name, learning_rate=0.3, **options)
    separate_optimizer = get_optimizer(name, learning_rate=0.3, **options)
    flat_results = training_steps(flat, flat_optimizer, 4, traced)
    separate_results = training_steps(separate, separate_optimizer, 4, traced)
    assert flat._current_slots().flat is not None
    assert separate._current_slots().flat is None

    assert_same_parameters(flat, separate)
    assert flat_optimizer.state.keys() == separate_optimizer.state.keys()
    for name, entries in flat_optimizer.state.items():
        for key, value in entries.items():
            np.testing.assert_array_equal(value, separate_optimizer.state[name][key], err_msg=f"{name} {key}")
    if not traced:
        assert flat_results == separate_results
        return
    for flat_trace, separate_trace in zip(flat_results, separate_results):
        assert [q.symbol for q in flat_trace] == [q.symbol for q in separate_trace]
        for quantity in flat_trace:
            other = separate_trace[quantity.symbol]
            assert (quantity.formula, quantity.inputs, quantity.note) == (other.formula, other.inputs, other.note)
            np.testing.assert_array_equal(quantity.value, other.value, err_msg=quantity.symbol)


def test_flat_velocity_is_the_state_by_parameter():
    network = gn.mlp([3, 4, 2], seed=0)
    optimizer = gn.SGD(learning_rate=0.3, momentum=0.9)
    training_steps(network, optimizer, 2, False)
    velocity = optimizer.state["dense1.W"]["velocity"]
    training_steps(network, optimizer, 1, False)
    # The state's arrays are views of the flat velocity, so they follow every step.
    assert optimizer.state["dense1.W"]["velocity"] is velocity
    saved = optimizer.state_dict()
    assert saved["state"]["dense1.W"]["velocity"].base is None
    np.testing.assert_array_equal(saved["state"]["dense1.W"]["velocity"], velocity)


def test_loaded_velocity_continues_flat_sgd():
    network = gn.mlp([3, 4, 2], seed=0)
    optimizer = gn.SGD(learning_rate=0.3, momentum=0.9, nesterov=True)
    training_steps(network, optimizer, 2, False)
    copy = network.copy()
    restored = gn.SGD(learning_rate=0.3, momentum=0.9, nesterov=True)
    restored.load_state_dict(optimizer.state_dict())
    training_steps(network, optimizer, 2, False)
    training_steps(copy, restored, 2, False)
    assert_same_parameters(network, copy)


def test_pickled_flat_sgd_continues_identically():
    import pickle

    network = gn.mlp([3, 4, 2], seed=0, dtype="float32")
    optimizer = gn.SGD(learning_rate=0.3, momentum=0.9, weight_decay=0.01)
    training_steps(network, optimizer, 2, False)
    network_copy, optimizer_copy = pickle.loads(pickle.dumps((network, optimizer)))
    training_steps(network, optimizer, 2, False)
    training_steps(network_copy, optimizer_copy, 2, False)
    assert_same_parameters(network, network_copy)


def test_velocity_of_another_dtype_keeps_its_dtype():
    # A float64 velocity for float32 parameters: the per-parameter step computes in float64.
    network = gn.mlp([3, 4, 2], seed=0, dtype="float32")
    separate = per_parameter_copy(network)
    optimizer = gn.SGD(learning_rate=0.3, momentum=0.9)
    separate_optimizer = gn.SGD(learning_rate=0.3, momentum=0.9)
    for opt in (optimizer, separate_optimizer):
        opt.state = {name: {"velocity": np.full(param.shape, 0.1, dtype=np.float64)}
                     for name, param in network.parameters()}
    training_steps(network, optimizer, 2, False)
    training_steps(separate, separate_optimizer, 2, False)
    assert optimizer.state["dense1.W"]["velocity"].dtype == np.float64
    assert_same_parameters(network, separate)


def test_traced_and_untraced_steps_share_the_state():
    network = gn.mlp([3, 4, 2], seed=0)
    separate = per_parameter_copy(network)
    optimizer = gn.Adam(learning_rate=0.1)
    separate_optimizer = gn.Adam(learning_rate=0.1)
    # Traced steps update per parameter, untraced ones over the flat arrays, on the same moments.
    for traced in (True, False, False, True, False):
        training_steps(network, optimizer, 1, traced)
        training_steps(separate, separate_optimizer, 1, False)
    assert_same_parameters(network, separate)


def test_state_of_some_parameters_is_gathered():
    network = gn.mlp([3, 4, 2], seed=0)
    separate = per_parameter_copy(network)
    optimizer = gn.SGD(learning_rate=0.3, momentum=0.9)
    separate_optimizer = gn.SGD(learning_rate=0.3, momentum=0.9)
    for opt in (optimizer, separate_optimizer):
        opt.state = {"dense2.b": {"velocity": np.array([0.5, -0.5])}}
    training_steps(network, optimizer, 3, False)
    training_steps(separate, separate_optimizer, 3, False)
    assert_same_parameters(network, separate)


def test_subclass_update_sees_each_parameter():
    class NormalizedSGD(gn.SGD):
        """Steps each parameter by its gradient over the gradient's norm: not elementwise."""

        def _update(self, name, symbol, param, grad, trace):
            shapes.append(param.shape)
            param -= self.learning_rate * grad / max(float(np.linalg.norm(grad)), 1e-12)

    shapes = []
    network = gn.mlp([3, 4, 2], seed=0)
    training_steps(network, NormalizedSGD(learning_rate=0.1, momentum=0.9), 1, False)
    assert shapes == [(3, 4), (4,), (4, 2), (2,)]


class _NoBiasDecaySGD(gn.SGD):
    """SGD with weight decay on the weights only, through its own ``_with_weight_decay``."""

    def _with_weight_decay(self, param, grad, weight_decay, symbol, trace):
        decay = 0.0 if symbol.startswith("b") else weight_decay
        return super()._with_weight_decay(param, grad, decay, symbol, trace)


class _FrozenFirstLayerAdam(gn.Adam):
    """Adam that leaves dense1 unchanged, through its own ``_apply``."""

    def _apply(self, name, param, direction, learning_rate, *args, **kwargs):
        rate = 0.0 if name.startswith("dense1.") else learning_rate
        super()._apply(name, param, direction, rate, *args, **kwargs)


class _OnesVelocitySGD(gn.SGD):
    """SGD whose velocity starts at ones, through its own ``_buffer``."""

    def _buffer(self, name, key, like):
        return self.state.setdefault(name, {}).setdefault(key, np.ones_like(like))


@pytest.mark.parametrize("make", [
    lambda: _NoBiasDecaySGD(learning_rate=0.3, momentum=0.9, weight_decay=0.5),
    lambda: _FrozenFirstLayerAdam(learning_rate=0.1),
    lambda: _OnesVelocitySGD(learning_rate=0.3, momentum=0.9),
], ids=["with_weight_decay", "apply", "buffer"])
def test_subclass_per_parameter_method_sees_each_parameter(make):
    network = gn.mlp([3, 4, 2], seed=0)
    separate = per_parameter_copy(network)
    optimizer = make()
    separate_optimizer = make()
    training_steps(network, optimizer, 3, False)
    training_steps(separate, separate_optimizer, 3, False)
    assert sorted(optimizer.state) == ["dense1.W", "dense1.b", "dense2.W", "dense2.b"]
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, separate.get_parameters()[name], err_msg=name)


def steps_on_networks(networks, make):
    """Step each network of ``networks`` in turn with one optimizer from ``make``; return the optimizer."""
    optimizer = make()
    rng = np.random.default_rng(8)
    for network in networks:
        X = rng.standard_normal((5, network.in_features))
        t = rng.standard_normal((5, network.out_features))
        network.step(X, t, "mse", optimizer)
    return optimizer


@pytest.mark.parametrize("make", [lambda: gn.SGD(learning_rate=0.3, momentum=0.9), lambda: gn.Adam()],
                         ids=["momentum", "adam"])
@pytest.mark.parametrize("second", [
    lambda: gn.mlp([3, 4], seed=1, dtype="float64"),
    lambda: gn.mlp([3, 4, 2], seed=1, dtype="float32"),
], ids=["fewer_parameters", "float32"])
def test_optimizer_moves_to_matching_network(make, second):
    # The state is keyed by name, so the second network takes over the velocity or moments of the
    # parameters it shares with the first, as it does when each parameter is updated on its own.
    networks = [gn.mlp([3, 4, 2], seed=0, dtype="float64"), second(), gn.mlp([3, 4, 2], seed=2, dtype="float64")]
    separate = [per_parameter_copy(network) for network in networks]
    optimizer = steps_on_networks(networks, make)
    separate_optimizer = steps_on_networks(separate, make)
    for network, copy in zip(networks, separate):
        for name, value in network.get_parameters().items():
            np.testing.assert_array_equal(value, copy.get_parameters()[name], err_msg=name)
    for name, entries in separate_optimizer.state.items():
        for key, value in entries.items():
            assert optimizer.state[name][key].dtype == value.dtype
            np.testing.assert_array_equal(optimizer.state[name][key], value, err_msg=f"{name} {key}")


# ---------------------------------------------------------------- BLAS update


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_numpy_openblas_axpy_is_found(dtype):
    # NumPy's wheels ship OpenBLAS, so large SGD updates must find its axpy there.
    if not numpy_ships_openblas():
        pytest.skip("this NumPy ships no OpenBLAS of its own")
    y = np.full(_blas.MIN_SIZE, 3.0, dtype=dtype)
    axpy = _blas.axpy_for(y)
    assert axpy is not None
    x = np.arange(_blas.MIN_SIZE, dtype=dtype)
    axpy(x, y, -0.5)
    np.testing.assert_array_equal(y, 3.0 - 0.5 * x)  # every value is exact in both dtypes


@pytest.mark.parametrize("array", [
    np.zeros(_blas.MIN_SIZE - 1),
    np.zeros((2, _blas.MIN_SIZE)),
    np.zeros(2 * _blas.MIN_SIZE)[::2],
    np.zeros(_blas.MIN_SIZE, dtype=np.float16),
    np.zeros(_blas.MIN_SIZE, dtype=np.int64),
], ids=["small", "2-d", "strided", "float16", "int64"])
def test_axpy_is_not_offered_for_other_arrays(array):
    assert _blas.axpy_for(array) is None


def read_only(array):
    array.flags.writeable = False
    return array


def test_axpy_is_not_offered_for_read_only_array():
    # axpy writes through a raw pointer, past NumPy's writeable flag.
    assert _blas.axpy_for(read_only(np.zeros(_blas.MIN_SIZE))) is None


@pytest.mark.parametrize("updates", [contextlib.nullcontext, blas_updates], ids=["numpy", "blas"])
def test_sgd_rejects_read_only_parameters(updates):
    network = gn.mlp([2, 3, 1], seed=0, dtype="float32")
    read_only(network.slots().flat.params)
    before = network.get_parameters()
    with updates(), pytest.raises(ValueError, match="read-only"):
        network.step(LESSON_X, LESSON_T, "mse", gn.SGD(learning_rate=0.1))
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


def test_axpy_is_not_offered_beyond_integer_range(monkeypatch):
    # An OpenBLAS built with 32-bit integers counts at most 2**31 - 1 elements. ctypes would wrap a
    # longer size around silently (2**31 becomes -2**31), and axpy would then update nothing.
    def saxpy(n, a, x, incx, y, incy):
        ys = np.ctypeslib.as_array((ctypes.c_float * n).from_address(y))
        ys += np.float32(a) * np.ctypeslib.as_array((ctypes.c_float * n).from_address(x))

    prototype = ctypes.CFUNCTYPE(None, ctypes.c_int32, ctypes.c_float, ctypes.c_void_p, ctypes.c_int32,
                                 ctypes.c_void_p, ctypes.c_int32)
    library = types.SimpleNamespace(scipy_cblas_saxpy=prototype(saxpy))
    # A contiguous view of 2**31 elements over one: axpy_for reads its flags, never its data. No
    # assert may name it, because pytest would print its elements on failure and read past the buffer.
    huge = np.lib.stride_tricks.as_strided(np.zeros(1, dtype=np.float32), shape=(2**31,), strides=(4,))
    contiguous = bool(huge.flags.c_contiguous)
    assert contiguous

    real = _blas.axpy_for(np.zeros(_blas.MIN_SIZE, dtype=np.float32))
    offered = _blas.axpy_for(huge)
    if real is not None:
        assert offered is real  # the 64-bit-integer OpenBLAS of NumPy's wheel
    monkeypatch.setattr(_blas, "_FUNCTIONS", {})
    monkeypatch.setattr(_blas, "_library_files", lambda: ["libopenblas32.so"])
    monkeypatch.setattr(_blas.ctypes, "CDLL", lambda path, mode=0: library)
    assert _blas.axpy_for(np.zeros(_blas.MIN_SIZE, dtype=np.float32)) is not None
    offered = _blas.axpy_for(huge)
    assert offered is None


def test_blas_updates_skip_without_numpy_openblas(monkeypatch):
    # A NumPy built against Accelerate, MKL or a system OpenBLAS ships no OpenBLAS of its own, and
    # glassnet then updates in NumPy: the tests of the BLAS route skip there instead of failing.
    build = {"Build Dependencies": {"blas": {"name": "accelerate"}}}
    monkeypatch.setattr(np, "show_config", lambda mode="stdout": build)
    monkeypatch.setattr(_blas, "_FUNCTIONS", {})
    monkeypatch.setattr(_blas, "_library_files", lambda: [])
    with pytest.raises(pytest.skip.Exception):
        with blas_updates():
            pass


def test_axpy_is_not_offered_without_openblas(monkeypatch):
    monkeypatch.setattr(_blas, "_FUNCTIONS", {})
    monkeypatch.setattr(_blas, "_library_files", lambda: [])
    assert _blas.axpy_for(np.zeros(_blas.MIN_SIZE)) is None
    # The update falls back to NumPy's two operations, exactly.
    optimizer = gn.SGD(learning_rate=0.037)
    before, gradients, after = flat_sgd_step(optimizer, "float64", sizes=[300, 220, 1])
    for name, value in after.items():
        np.testing.assert_array_equal(value, before[name] - gradients[name] * 0.037, err_msg=name)


@pytest.mark.skipif(not hasattr(os, "RTLD_NOLOAD"), reason="needs dlopen's RTLD_NOLOAD")
def test_axpy_ignores_unloaded_openblas(monkeypatch, tmp_path):
    # A copy of NumPy's OpenBLAS at another path is a library of its own, with a thread pool of its own.
    bundled = _blas._library_files()
    if not bundled:
        pytest.skip("this NumPy ships no OpenBLAS of its own")
    copy = tmp_path / Path(bundled[0]).name
    shutil.copyfile(bundled[0], copy)
    monkeypatch.setattr(_blas, "_FUNCTIONS", {})
    monkeypatch.setattr(_blas, "_library_files", lambda: [str(copy)])
    assert _blas.axpy_for(np.zeros(_blas.MIN_SIZE)) is None


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_blas_update_rounds_like_numpy(dtype):
    # axpy may round p - lr · g once (a fused multiply-add) where NumPy rounds twice. Where p and
    # lr · g nearly cancel, the two differ by many units in the last place of the result.
    optimizer = gn.SGD(learning_rate=0.037)
    with blas_updates():
        before, gradients, after = flat_sgd_step(optimizer, dtype)
    assert not optimizer._changes, "the update went through NumPy, not axpy"
    for name, value in after.items():
        assert value.dtype == np.dtype(dtype)
        assert_rounded_update(value, before[name], gradients[name] * np.asarray(0.037, dtype=dtype), name)


def test_large_network_uses_blas_update():
    # 784-96-10 has 76,340 parameters, above MIN_SIZE, with no test setting changed.
    if not numpy_ships_openblas():
        pytest.skip("this NumPy ships no OpenBLAS of its own")
    optimizer = gn.SGD(learning_rate=0.05)
    before, gradients, after = flat_sgd_step(optimizer, "float32", sizes=[784, 96, 10])
    assert sum(value.size for value in after.values()) >= _blas.MIN_SIZE
    assert not optimizer._changes, "the update went through NumPy, not axpy"
    for name, value in after.items():
        assert_rounded_update(value, before[name], gradients[name] * np.float32(0.05), name)


def assert_rounded_update(value, before, change, name):
    """Assert ``value`` is ``before - change`` rounded once or twice.

    Rounding the product and then the difference errs by at most half a unit in the last place
    of each, so the two results lie within two units of the largest of the operands and the result.
    """
    expected = before - change
    allowed = 2 * np.spacing(np.maximum(np.maximum(np.abs(before), np.abs(change)), np.abs(expected)))
    error = np.abs(value.astype(np.float64) - expected.astype(np.float64))
    assert np.all(error <= allowed), f"{name}: {np.max(error / allowed)} units in the last place"


def test_wider_rate_uses_numpy_update():
    # A float64 rate on float32 parameters computes the product in float64, as np.multiply does.
    optimizer = gn.SGD(learning_rate=0.5)
    optimizer.learning_rate = np.float64(0.037)
    with blas_updates():
        before, gradients, after = flat_sgd_step(optimizer, "float32")
    for name, value in after.items():
        expected = before[name] - np.multiply(gradients[name], np.float64(0.037), out=np.empty_like(gradients[name]))
        np.testing.assert_array_equal(value, expected, err_msg=name)


def test_sgd_state_without_cached_rate_steps():
    # An optimizer pickled by an older glassnet has no cached 0-d learning rate in its state.
    network = lesson_network()
    twin = lesson_network()
    optimizer = gn.SGD(learning_rate=0.1)
    optimizer.step(network.slots())  # caches the rate
    older = gn.SGD.__new__(gn.SGD)
    older.__dict__.update({key: value for key, value in optimizer.__dict__.items() if key != "_rate"})
    for net, opt in ((network, optimizer), (twin, older)):
        net.loss_and_backward(net.prepare_input(LESSON_X), LESSON_T, gn.get_loss("half-squared-error"))
        opt.step(net.slots())
    twin_parameters = twin.get_parameters()
    for name, value in network.get_parameters().items():
        np.testing.assert_array_equal(value, twin_parameters[name])


@pytest.mark.parametrize("make", [lambda: gn.SGD(learning_rate=0.1, momentum=0.9), lambda: gn.Adam()],
                         ids=["momentum", "adam"])
def test_optimizer_of_another_network_raises_before_updating(make):
    optimizer = make()
    first = gn.mlp([2, 3, 1], seed=0, dtype="float64")
    first.step(np.ones((2, 2)), np.zeros((2, 1)), "mse", optimizer)
    # dense1 has the same shape in both networks, dense2 does not.
    second = gn.mlp([2, 3, 2], seed=0, dtype="float64")
    before = second.get_parameters()
    with pytest.raises(gn.InvalidInputError, match=r"(velocity|m) for dense2\.W has shape \(3, 1\).*own optimizer"):
        second.step(np.ones((2, 2)), np.zeros((2, 2)), "mse", optimizer)
    for name, value in second.get_parameters().items():
        np.testing.assert_array_equal(value, before[name], err_msg=name)


class _SignSGD(gn.SGD):
    """SGD on the sign of each gradient, through its own ``_update``."""

    def _update(self, name, symbol, param, grad, trace):
        super()._update(name, symbol, param, np.sign(grad), trace)


@pytest.mark.parametrize("trace", [False, True], ids=["untraced", "traced"])
@pytest.mark.parametrize("updates", [contextlib.nullcontext, blas_updates], ids=["numpy", "blas"])
def test_sgd_subclass_update_at_zero_momentum(trace, updates):
    # Plain SGD updates every parameter in one call without _update, which a subclass may override.
    network = lesson_network()
    with updates():
        network.step(LESSON_X, LESSON_T, "half-squared-error", _SignSGD(learning_rate=0.1), trace=trace)
    # Every gradient of the lesson step is negative, so each parameter grows by exactly 0.1.
    np.testing.assert_allclose(network.layers[0].params["W"], [[0.4, 0.5], [0.6, 0.7]])
    np.testing.assert_allclose(network.layers[2].params["b"], [0.4])
