"""PyTorch autograd as a second oracle: loss, every gradient and five SGD steps."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import glassnet as gn

torch = pytest.importorskip("torch", reason="PyTorch is the oracle; install glassnet[test]")

TORCH_ACTIVATIONS = {
    "relu": lambda: torch.nn.ReLU(),
    "tanh": lambda: torch.nn.Tanh(),
    "sigmoid": lambda: torch.nn.Sigmoid(),
    "leaky_relu": lambda: torch.nn.LeakyReLU(0.01),
    "identity": lambda: torch.nn.Identity(),
}


def torch_copy(network):
    """Build the same network in PyTorch. nn.Linear stores W transposed: weight = Wᵀ."""
    modules = []
    for layer in network.layers:
        if isinstance(layer, gn.Dense):
            linear = torch.nn.Linear(layer.in_features, layer.out_features, dtype=torch.float64)
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(layer.params["W"].T.copy()))
                linear.bias.copy_(torch.from_numpy(layer.params["b"].copy()))
            modules.append(linear)
        elif layer.kind == "softmax":
            modules.append(torch.nn.Identity())  # fused into cross_entropy below
        elif layer.kind == "sigmoid" and layer is network.layers[-1]:
            modules.append(torch.nn.Identity())  # fused into binary_cross_entropy_with_logits
        else:
            modules.append(TORCH_ACTIVATIONS[layer.kind]())
    return torch.nn.Sequential(*modules)


def torch_loss(output, target, loss_name):
    if loss_name == "categorical-cross-entropy":
        return torch.nn.functional.cross_entropy(output, target)
    if loss_name == "binary-cross-entropy":
        return torch.nn.functional.binary_cross_entropy_with_logits(output, target)
    if loss_name == "half-squared-error":
        return 0.5 * torch.nn.functional.mse_loss(output, target)
    return torch.nn.functional.mse_loss(output, target)


CASES = [("identity", "half-squared-error"), ("identity", "mean-squared-error"),
         ("sigmoid", "binary-cross-entropy"), ("softmax", "categorical-cross-entropy")]


@settings(max_examples=24, deadline=None)
@given(seed=st.integers(0, 100_000), hidden=st.sampled_from(sorted(TORCH_ACTIVATIONS)),
       case=st.sampled_from(CASES), depth=st.integers(1, 3), batch=st.integers(1, 8))
def test_matches_torch_over_five_sgd_steps(seed, hidden, case, depth, batch):
    output, loss_name = case
    rng = np.random.default_rng(seed)
    sizes = [int(rng.integers(1, 6)) for _ in range(depth + 1)] + [int(rng.integers(2, 5))]
    network = gn.mlp(sizes, activation=hidden, output=output, seed=rng, dtype="float64", init="glorot_normal")
    X = rng.normal(size=(batch, sizes[0]))
    if loss_name == "categorical-cross-entropy":
        t = rng.integers(0, sizes[-1], size=batch)
        t_torch = torch.from_numpy(t)
    elif loss_name == "binary-cross-entropy":
        t = rng.integers(0, 2, size=(batch, sizes[-1])).astype(float)
        t_torch = torch.from_numpy(t)
    else:
        t = rng.normal(size=(batch, sizes[-1]))
        t_torch = torch.from_numpy(t)

    model = torch_copy(network)
    optimizer_torch = torch.optim.SGD(model.parameters(), lr=0.1)
    optimizer = gn.SGD(0.1)
    x_torch = torch.from_numpy(X)
    loss = gn.get_loss(loss_name)
    for _ in range(5):
        optimizer_torch.zero_grad()
        value_torch = torch_loss(model(x_torch), t_torch, loss_name)
        value_torch.backward()
        prepared = loss.prepare_targets(t, (batch, sizes[-1]), np.float64)
        value = network.loss_and_backward(network.prepare_input(X), prepared, loss)
        assert value == pytest.approx(value_torch.item(), rel=1e-10, abs=1e-12)
        linears = [m for m in model if isinstance(m, torch.nn.Linear)]
        for dense, linear in zip(network.dense_layers, linears):
            np.testing.assert_allclose(dense.grads["W"], linear.weight.grad.numpy().T, rtol=1e-9, atol=1e-12)
            np.testing.assert_allclose(dense.grads["b"], linear.bias.grad.numpy(), rtol=1e-9, atol=1e-12)
        optimizer.step(network.slots())
        optimizer_torch.step()
    for dense, linear in zip(network.dense_layers, [m for m in model if isinstance(m, torch.nn.Linear)]):
        np.testing.assert_allclose(dense.params["W"], linear.weight.detach().numpy().T, rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(dense.params["b"], linear.bias.detach().numpy(), rtol=1e-9, atol=1e-12)


def test_lesson_matches_torch():
    from conftest import LESSON_T, LESSON_X, lesson_network

    network = lesson_network()
    model = torch.nn.Sequential(torch.nn.Linear(2, 2, dtype=torch.float64), torch.nn.ReLU(),
                                torch.nn.Linear(2, 1, dtype=torch.float64), torch.nn.Sigmoid())
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[0.3, 0.5], [0.4, 0.6]], dtype=torch.float64))
        model[0].bias.copy_(torch.tensor([0.1, 0.2], dtype=torch.float64))
        model[2].weight.copy_(torch.tensor([[0.7, 0.8]], dtype=torch.float64))
        model[2].bias.copy_(torch.tensor([0.3], dtype=torch.float64))
    y = model(torch.tensor(LESSON_X))
    value = 0.5 * ((y - torch.tensor(LESSON_T)) ** 2).sum()
    value.backward()
    trace = network.step(LESSON_X, LESSON_T, trace=True)
    np.testing.assert_allclose(trace.value("dW1"), model[0].weight.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(trace.value("dW2"), model[2].weight.grad.numpy().T, rtol=1e-12)
    assert trace.loss == pytest.approx(value.item(), rel=1e-14)


def torch_loss_on_outputs(y, target, loss_name):
    """Return the loss on the network's outputs ``y`` (probabilities after Sigmoid or Softmax), mean over elements."""
    if loss_name == "categorical-cross-entropy":
        return -(target * torch.log(y)).sum() / y.shape[0]
    if loss_name == "binary-cross-entropy":
        return -(target * torch.log(y) + (1 - target) * torch.log1p(-y)).mean()
    if loss_name == "half-squared-error":
        return 0.5 * ((y - target) ** 2).mean()
    return ((y - target) ** 2).mean()


OUTPUT_CASES = [("softmax", "categorical-cross-entropy"), ("sigmoid", "binary-cross-entropy"),
                ("softmax", "mean-squared-error"), ("sigmoid", "half-squared-error"),
                ("identity", "half-squared-error")]


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("batch", [1, 7])
@pytest.mark.parametrize("output, loss_name", OUTPUT_CASES)
def test_steps_match_torch_by_dtype_and_batch(dtype, batch, output, loss_name):
    torch_dtype = torch.float32 if dtype == "float32" else torch.float64
    rng = np.random.default_rng(batch)
    network = gn.mlp([3, 5, 4], activation="tanh", output=output, seed=1, dtype=dtype, init="glorot_normal")
    X = rng.normal(size=(batch, 3))
    if output == "softmax":
        t = np.eye(4)[rng.integers(0, 4, size=batch)]
    elif output == "sigmoid":
        t = rng.integers(0, 2, size=(batch, 4)).astype(float)
    else:
        t = rng.normal(size=(batch, 4))
    modules = [torch.nn.Linear(3, 5, dtype=torch_dtype), torch.nn.Tanh(), torch.nn.Linear(5, 4, dtype=torch_dtype)]
    if output == "softmax":
        modules.append(torch.nn.Softmax(dim=1))
    elif output == "sigmoid":
        modules.append(torch.nn.Sigmoid())
    model = torch.nn.Sequential(*modules)
    linears = [modules[0], modules[2]]
    with torch.no_grad():
        for dense, linear in zip(network.dense_layers, linears):
            linear.weight.copy_(torch.from_numpy(dense.params["W"].T.copy()))
            linear.bias.copy_(torch.from_numpy(dense.params["b"].copy()))
    optimizer = gn.Adam(0.01)
    optimizer_torch = torch.optim.Adam(model.parameters(), lr=0.01)
    x_torch = torch.from_numpy(X).to(torch_dtype)
    t_torch = torch.from_numpy(t).to(torch_dtype)
    tolerance = 1e-4 if dtype == "float32" else 1e-10

    for _ in range(3):
        optimizer_torch.zero_grad()
        value_torch = torch_loss_on_outputs(model(x_torch), t_torch, loss_name)
        value_torch.backward()
        optimizer_torch.step()
        value = network.step(X, t, loss_name, optimizer)
        assert value == pytest.approx(value_torch.item(), rel=tolerance, abs=tolerance)
    for dense, linear in zip(network.dense_layers, linears):
        assert dense.params["W"].dtype == np.dtype(dtype)
        np.testing.assert_allclose(dense.params["W"], linear.weight.detach().numpy().T, rtol=10 * tolerance,
                                   atol=tolerance)
        np.testing.assert_allclose(dense.params["b"], linear.bias.detach().numpy(), rtol=10 * tolerance,
                                   atol=tolerance)
