"""A scalar reverse-mode autograd value in the style of Karpathy's micrograd.

micrograd builds a graph of Python objects, one per scalar operation, and
back-propagates through it in topological order. This is the smallest
version that can run the 2-2-1 lesson step (it adds the sigmoid micrograd
lacks), kept here so the comparison needs no extra package.
"""

import math


class Value:
    """A scalar with its gradient and the closure that pushes the gradient to its inputs."""

    __slots__ = ("data", "grad", "_backward", "_children")

    def __init__(self, data, children=()):
        self.data = data
        self.grad = 0.0
        self._backward = None
        self._children = children

    def __add__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data + other.data, (self, other))

        def backward():
            self.grad += out.grad
            other.grad += out.grad

        out._backward = backward
        return out

    __radd__ = __add__

    def __mul__(self, other):
        other = other if isinstance(other, Value) else Value(other)
        out = Value(self.data * other.data, (self, other))

        def backward():
            self.grad += other.data * out.grad
            other.grad += self.data * out.grad

        out._backward = backward
        return out

    __rmul__ = __mul__

    def __sub__(self, other):
        return self + (-1.0 * other)

    def relu(self):
        out = Value(self.data if self.data > 0 else 0.0, (self,))

        def backward():
            self.grad += (out.data > 0) * out.grad

        out._backward = backward
        return out

    def sigmoid(self):
        s = 1.0 / (1.0 + math.exp(-self.data)) if self.data >= 0 else math.exp(self.data) / (1.0 + math.exp(self.data))
        out = Value(s, (self,))

        def backward():
            self.grad += s * (1.0 - s) * out.grad

        out._backward = backward
        return out

    def backward(self):
        order = []
        seen = set()

        def visit(node):
            if node not in seen:
                seen.add(node)
                for child in node._children:
                    visit(child)
                order.append(node)

        visit(self)
        self.grad = 1.0
        for node in reversed(order):
            if node._backward is not None:
                node._backward()


class ScalarLesson:
    """The 2-2-1 lesson step on :class:`Value` scalars: ReLU, sigmoid, ½(y - t)², SGD."""

    def __init__(self, learning_rate=0.1):
        self.learning_rate = learning_rate
        self.W1 = [[Value(0.3), Value(0.4)], [Value(0.5), Value(0.6)]]
        self.b1 = [Value(0.1), Value(0.2)]
        self.W2 = [[Value(0.7)], [Value(0.8)]]
        self.b2 = [Value(0.3)]
        self.x = [0.1, 0.2]
        self.t = 1.0

    def parameters(self):
        return [*self.W1[0], *self.W1[1], *self.b1, self.W2[0][0], self.W2[1][0], self.b2[0]]

    def step(self):
        # forward: W has shape (in, out), z_j = Σ_i x_i W_ij + b_j
        hidden = [
            (self.W1[0][j] * self.x[0] + self.W1[1][j] * self.x[1] + self.b1[j]).relu() for j in range(2)
        ]
        z2 = self.W2[0][0] * hidden[0] + self.W2[1][0] * hidden[1] + self.b2[0]
        y = z2.sigmoid()
        error = y - self.t
        loss = 0.5 * (error * error)

        # backward
        for parameter in self.parameters():
            parameter.grad = 0.0
        loss.backward()

        # update
        for parameter in self.parameters():
            parameter.data -= self.learning_rate * parameter.grad
        return y.data
