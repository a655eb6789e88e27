"""Hand-written NumPy baselines: the MLP step, its matrix multiplies alone, the lesson step.

These are what a careful engineer writes without a library: preallocated
buffers, ``out=`` arguments and in-place updates. glassnet is measured
against them, so they must stay minimal and must compute the same math.
"""

import numpy as np


class NumpyMLP:
    """784-256-128-10 style MLP: ReLU hidden layers, softmax cross-entropy, plain SGD.

    ``W`` has shape (in, out) and ``z = x · W + b``; the loss is the mean over
    the batch, so the output delta is ``(softmax(z) - t) / N``.
    """

    def __init__(self, sizes, dtype, seed=0, learning_rate=0.01):
        rng = np.random.default_rng(seed)
        self.dtype = np.dtype(dtype)
        self.learning_rate = learning_rate
        self.W = []
        self.b = []
        for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
            limit = np.sqrt(6.0 / fan_in)
            self.W.append(rng.uniform(-limit, limit, (fan_in, fan_out)).astype(self.dtype))
            self.b.append(np.zeros(fan_out, dtype=self.dtype))
        self.dW = [np.empty_like(W) for W in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        self._batch = None

    def _allocate(self, batch):
        # Activations a[0] = x (a view of the batch), a[1..] owned; deltas per layer.
        self._batch = batch
        self.a = [None] + [np.empty((batch, W.shape[1]), self.dtype) for W in self.W]
        self.delta = [np.empty((batch, W.shape[1]), self.dtype) for W in self.W]
        self.row = np.empty((batch, 1), self.dtype)

    def step(self, x, t):
        """One SGD step on a batch x of shape (N, in) with one-hot t of shape (N, out)."""
        n = x.shape[0]
        if n != self._batch:
            self._allocate(n)
        a = self.a
        a[0] = x
        last = len(self.W) - 1

        # forward
        for k, (W, b) in enumerate(zip(self.W, self.b)):
            np.matmul(a[k], W, out=a[k + 1])
            a[k + 1] += b
            if k < last:
                np.maximum(a[k + 1], 0, out=a[k + 1])
        z = a[-1]
        np.max(z, axis=1, keepdims=True, out=self.row)
        z -= self.row
        np.exp(z, out=z)
        np.sum(z, axis=1, keepdims=True, out=self.row)
        z /= self.row  # softmax probabilities y

        # backward: delta_out = (y - t) / N
        delta = self.delta[last]
        np.subtract(z, t, out=delta)
        delta /= n
        for k in range(last, -1, -1):
            np.matmul(a[k].T, self.delta[k], out=self.dW[k])
            np.sum(self.delta[k], axis=0, out=self.db[k])
            if k > 0:
                np.matmul(self.delta[k], self.W[k].T, out=self.delta[k - 1])
                self.delta[k - 1] *= a[k] > 0

        # update
        for W, b, dW, db in zip(self.W, self.b, self.dW, self.db):
            dW *= self.learning_rate
            W -= dW
            db *= self.learning_rate
            b -= db


class MatmulOnly(NumpyMLP):
    """The same step's matrix multiplies and nothing else: the limit for any NumPy MLP.

    Three layers cost 8 matmuls per step: 3 forward, 3 for dW and 2 for the
    deltas below the output (the first layer's input gradient is never needed).
    """

    def _allocate(self, batch):
        super()._allocate(batch)
        # Deltas are never computed here; give them small finite values so that
        # no NaN or overflow enters the timed multiplies.
        for delta in self.delta:
            delta.fill(1e-3)

    def step(self, x, t):
        n = x.shape[0]
        if n != self._batch:
            self._allocate(n)
        a = self.a
        a[0] = x
        last = len(self.W) - 1
        for k, W in enumerate(self.W):
            np.matmul(a[k], W, out=a[k + 1])
        for k in range(last, -1, -1):
            np.matmul(a[k].T, self.delta[k], out=self.dW[k])
            if k > 0:
                np.matmul(self.delta[k], self.W[k].T, out=self.delta[k - 1])


def lesson_parameters():
    """Return the lesson's W1, b1, W2, b2 (float64), input X and target t."""
    W1 = np.array([[0.3, 0.4], [0.5, 0.6]])
    b1 = np.array([0.1, 0.2])
    W2 = np.array([[0.7], [0.8]])
    b2 = np.array([0.3])
    X = np.array([[0.1, 0.2]])
    t = np.array([[1.0]])
    return W1, b1, W2, b2, X, t


class NumpyLesson:
    """The 2-2-1 lesson step written directly: ReLU, sigmoid, half squared error, SGD."""

    def __init__(self, learning_rate=0.1):
        self.W1, self.b1, self.W2, self.b2, self.X, self.t = lesson_parameters()
        self.learning_rate = learning_rate

    def step(self):
        lr = self.learning_rate
        x = self.X

        # forward
        z1 = x @ self.W1 + self.b1
        a1 = np.maximum(z1, 0.0)
        z2 = a1 @ self.W2 + self.b2
        y = 1.0 / (1.0 + np.exp(-z2))

        # backward: dL/dy = y - t, delta2 = (y - t) · y(1 - y)
        delta2 = (y - self.t) * y * (1.0 - y)
        dW2 = a1.T @ delta2
        db2 = delta2.sum(axis=0)
        delta1 = (delta2 @ self.W2.T) * (z1 > 0)
        dW1 = x.T @ delta1
        db1 = delta1.sum(axis=0)

        # update
        self.W1 -= lr * dW1
        self.b1 -= lr * db1
        self.W2 -= lr * dW2
        self.b2 -= lr * db2
        return y
