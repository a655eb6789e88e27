"""One training step of the classic 2-2-1 lesson, every quantity with its formula.

Run: python examples/lesson_step.py
"""

import numpy as np

import glassnet as gn

network = gn.Sequential([
    gn.Dense(2, 2, W=[[0.3, 0.4], [0.5, 0.6]], b=[0.1, 0.2]),
    gn.ReLU(),
    gn.Dense(2, 1, W=[[0.7], [0.8]], b=[0.3]),
    gn.Sigmoid(),
])
trace = network.step([[0.1, 0.2]], [[1.0]], "half-squared-error", gn.SGD(learning_rate=0.1), trace=True)

for quantity in trace:
    values = np.round(np.asarray(quantity.value, dtype=np.float64), 8).tolist()
    print(f"{quantity.phase:<10} {quantity.symbol:<10} {quantity.formula:<32} {values}")

# The reference values of the lesson, exact in float64.
assert abs(trace.value("y")[0, 0] - 0.6789607651506573) < 1e-15
assert abs(trace.value("b2_new")[0] - 0.3069977899435841) < 1e-15
print("loss", trace.loss)
