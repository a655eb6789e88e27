"""PyTorch export and import: exact round trips and training that continues in PyTorch."""

import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import glassnet as gn
from glassnet.errors import InvalidInputError, InvalidTypeError, MissingDependencyError
from glassnet.export import from_torch, to_torch

HIDDEN = ["relu", "leaky_relu", "tanh", "sigmoid", "identity"]
OUTPUTS = ["identity", "sigmoid", "softmax"]


def layer_kinds(network):
    return [layer.config() for layer in network.layers]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_round_trip_bitwise(hidden, output, dtype):
    network = gn.mlp([4, 6, 5, 3], activation=hidden, output=output, seed=9, dtype=dtype, dropout=0.25)
    module = to_torch(network)
    back = from_torch(module)
    assert back.dtype == network.dtype
    assert [config["type"] for config in layer_kinds(back)] == [config["type"] for config in layer_kinds(network)]
    original = network.get_parameters()
    for name, value in back.get_parameters().items():
        assert value.dtype == original[name].dtype, name
        assert np.array_equal(value, original[name]), name


def test_state_dict_transposed_and_loadable():
    network = gn.mlp([3, 4, 2], activation="relu", output="softmax", seed=1, dtype="float64")
    state = to_torch(network).state_dict()
    assert sorted(state) == ["0.bias", "0.weight", "2.bias", "2.weight"]
    assert tuple(state["0.weight"].shape) == (4, 3)
    np.testing.assert_array_equal(state["0.weight"].numpy(), network.get_parameters()["dense1.W"].T)
    fresh = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.ReLU(), torch.nn.Linear(4, 2),
                                torch.nn.Softmax(dim=1)).double()
    fresh.load_state_dict(state)
    X = np.random.default_rng(0).normal(size=(5, 3))
    with torch.no_grad():
        output = fresh(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(output, network.predict(X), rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("output", OUTPUTS)
@pytest.mark.parametrize("hidden", HIDDEN)
def test_exported_forward_matches(hidden, output):
    network = gn.mlp([4, 6, 2], activation=hidden, output=output, seed=3, dtype="float64")
    module = to_torch(network).eval()
    X = np.random.default_rng(1).normal(size=(7, 4)) * 3
    with torch.no_grad():
        output_values = module(torch.from_numpy(X)).numpy()
    np.testing.assert_allclose(output_values, network.predict(X), rtol=1e-12, atol=1e-15)


def test_estimator_and_model_export_their_network():
    from glassnet.sklearn import GlassClassifier

    X = np.random.default_rng(2).normal(size=(20, 3))
    model = GlassClassifier(hidden_layer_sizes=(4,), max_iter=3, random_state=0).fit(X, np.arange(20) % 3)
    back = from_torch(to_torch(model))
    for name, value in model.network_.get_parameters().items():
        assert np.array_equal(back.get_parameters()[name], value), name


# ---------------------------------------------------------------- training continued in PyTorch

def torch_loss(name, y, t):
    if name == "binary-cross-entropy":
        return torch.nn.functional.binary_cross_entropy(y, t)
    if name == "categorical-cross-entropy":
        return -(t * torch.log(y)).sum(dim=1).mean()
    if name == "mean-squared-error":
        return torch.nn.functional.mse_loss(y, t)
    return 0.5 * torch.nn.functional.mse_loss(y, t)


STEP_CASES = [
    ("relu", "sigmoid", "binary-cross-entropy", 1),
    ("tanh", "softmax", "categorical-cross-entropy", 3),
    ("leaky_relu", "identity", "mean-squared-error", 2),
    ("sigmoid", "sigmoid", "half-squared-error", 1),
]


@pytest.mark.parametrize("momentum", [0.0, 0.9])
@pytest.mark.parametrize("hidden,output,loss,width", STEP_CASES)
def test_sgd_continued_in_torch_matches(hidden, output, loss, width, momentum):
    rng = np.random.default_rng(5)
    X = rng.normal(size=(8, 4))
    if output == "softmax":
        t = np.eye(width)[rng.integers(0, width, size=8)]
    elif output == "sigmoid":
        t = rng.integers(0, 2, size=(8, width)).astype(np.float64)
    else:
        t = rng.normal(size=(8, width))
    network = gn.mlp([4, 5, width], activation=hidden, output=output, seed=7, dtype="float64")

    # One step in glassnet before export, so the export starts mid-training.
    glass_optimizer = gn.SGD(learning_rate=0.1, momentum=momentum)
    network.step(X, t, loss, glass_optimizer)
    module = to_torch(network)
    torch_optimizer = torch.optim.SGD(module.parameters(), lr=0.1, momentum=momentum)
    if momentum:
        # Carry the velocity over: glassnet's v has W's layout, PyTorch's the transpose.
        linears = [child for child in module if isinstance(child, torch.nn.Linear)]
        for k, linear in enumerate(linears, start=1):
            state = glass_optimizer.state
            torch_optimizer.state[linear.weight]["momentum_buffer"] = torch.from_numpy(
                state[f"dense{k}.W"]["velocity"].T.copy())
            torch_optimizer.state[linear.bias]["momentum_buffer"] = torch.from_numpy(
                state[f"dense{k}.b"]["velocity"].copy())

    # The next step, in both libraries.
    network.step(X, t, loss, glass_optimizer)
    torch_optimizer.zero_grad()
    value = torch_loss(loss, module(torch.from_numpy(X)), torch.from_numpy(t))
    value.backward()
    torch_optimizer.step()

    continued = from_torch(module)
    for name, expected in network.get_parameters().items():
        np.testing.assert_allclose(continued.get_parameters()[name], expected, rtol=0, atol=1e-12, err_msg=name)


# ---------------------------------------------------------------- errors

def test_from_torch_rejects_non_sequential():
    with pytest.raises(InvalidTypeError, match="module is a Linear; expected a torch.nn.Sequential"):
        from_torch(torch.nn.Linear(2, 2))


def test_from_torch_rejects_unknown_module():
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.GELU())
    with pytest.raises(NotImplementedError, match=r"module\[1\] is a GELU, which has no glassnet layer"):
        from_torch(module)


def test_from_torch_rejects_softmax_over_batch():
    module = torch.nn.Sequential(torch.nn.Linear(2, 2), torch.nn.Softmax(dim=0))
    with pytest.raises(InvalidInputError, match=r"module\[1\] is Softmax\(dim=0\)"):
        from_torch(module)


def test_from_torch_without_linear_raises():
    with pytest.raises(InvalidInputError, match="module contains no torch.nn.Linear layer"):
        from_torch(torch.nn.Sequential(torch.nn.ReLU()))


def test_from_torch_linear_without_bias():
    linear = torch.nn.Linear(3, 2, bias=False).double()
    network = from_torch(torch.nn.Sequential(linear))
    np.testing.assert_array_equal(network.get_parameters()["dense1.b"], np.zeros(2))
    np.testing.assert_array_equal(network.get_parameters()["dense1.W"], linear.weight.detach().numpy().T)


def test_missing_torch_names_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)
    with pytest.raises(MissingDependencyError, match=r"pip install 'glassnet\[torch\]'"):
        to_torch(gn.mlp([2, 1], seed=0))
