"""Start training in glassnet, continue in PyTorch, and bring the network back.

This is the route to PyTorch's tools (GPUs, DistributedDataParallel) when a
model outgrows one machine: the exported module contains the same parameters.

Run: python examples/continue_in_pytorch.py
"""

import numpy as np
import torch

import glassnet as gn
from glassnet.export import from_torch, to_torch
from glassnet.training import fit

rng = np.random.default_rng(0)
X = rng.normal(size=(256, 2))
t = (X[:, 0] * X[:, 1] > 0).astype(np.float64).reshape(-1, 1)  # XOR of the signs

network = gn.mlp([2, 16, 16, 1], activation="tanh", output="sigmoid", seed=0, dtype="float64")
history = fit(network, X, t, loss="binary-cross-entropy", optimizer=gn.Adam(0.01), epochs=20, batch_size=32)
print(f"glassnet, 20 epochs: loss {history['train_loss'][-1]:.4f}")

module = to_torch(network)
print(module)
optimizer = torch.optim.Adam(module.parameters(), lr=0.01)
inputs = torch.from_numpy(X)
targets = torch.from_numpy(t)
for epoch in range(100):
    optimizer.zero_grad()
    loss = torch.nn.functional.binary_cross_entropy(module(inputs), targets)
    loss.backward()
    optimizer.step()
print(f"PyTorch, 100 more full-batch steps: loss {loss.item():.4f}")

back = from_torch(module)
accuracy = float(np.mean((back.predict(X) > 0.5) == (t > 0.5)))
print(f"back in glassnet: training accuracy {accuracy:.3f}")
assert accuracy > 0.9
