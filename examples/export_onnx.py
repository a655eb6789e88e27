"""Train a classifier, export it to ONNX and check that onnxruntime gives the same predictions.

Run: python examples/export_onnx.py [OUT.onnx]
"""

import json
import sys
import tempfile
from pathlib import Path

import numpy as np
import onnx
import onnxruntime
from sklearn.datasets import load_iris

from glassnet.export import to_onnx
from glassnet.sklearn import GlassClassifier

X, y = load_iris(return_X_y=True)
names = np.array(["setosa", "versicolor", "virginica"])[y]
X = (X - X.mean(axis=0)) / X.std(axis=0)
model = GlassClassifier(hidden_layer_sizes=(16,), max_iter=200, learning_rate=0.01, random_state=0).fit(X, names)

path = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(tempfile.mkdtemp()) / "iris.onnx"
to_onnx(model, path)
metadata = {entry.key: entry.value for entry in onnx.load(str(path)).metadata_props}
print("wrote", path, "with classes", json.loads(metadata["class_names"]))

session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
probabilities, labels = session.run(None, {"X": X.astype(np.float32)})
difference = np.abs(probabilities - model.predict_proba(X)).max()
print(f"largest probability difference, onnxruntime vs glassnet: {difference:.2e}")
print("labels agree:", bool((labels == model.predict(X)).all()))
assert difference < 1e-5
