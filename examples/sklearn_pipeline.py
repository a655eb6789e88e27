"""A glassnet classifier inside a scikit-learn pipeline and grid search.

Trains on the Wisconsin breast-cancer data bundled with scikit-learn (no
download), picks a hidden-layer width by cross-validation, and prints the
test accuracy, the per-epoch validation loss and one traced training step.

Run: python examples/sklearn_pipeline.py
"""

from sklearn.datasets import load_breast_cancer
from sklearn.model_selection import GridSearchCV, train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from glassnet.sklearn import GlassClassifier

X, y = load_breast_cancer(return_X_y=True)
X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.25, stratify=y, random_state=0)

pipeline = make_pipeline(
    StandardScaler(),
    GlassClassifier(max_iter=40, learning_rate=0.01, batch_size=32, validation_fraction=0.1, random_state=0),
)
search = GridSearchCV(pipeline, {"glassclassifier__hidden_layer_sizes": [(8,), (32,)]}, cv=3)
search.fit(X_train, y_train)
print("best hidden layers:", search.best_params_["glassclassifier__hidden_layer_sizes"])
print(f"test accuracy: {search.score(X_test, y_test):.3f}")

classifier = search.best_estimator_[-1]
scores = ", ".join(f"{value:.4f}" for value in classifier.validation_scores_[-5:])
print(f"validation loss, last 5 epochs: {scores}")

# One training step on two test samples, with every gradient, leaving the model unchanged.
scaled = search.best_estimator_[0].transform(X_test[:2])
trace = classifier.trace(scaled, y_test[:2])
print("dW1 shape:", trace.value("dW1").shape, f" loss: {trace.loss:.3g}")
assert search.score(X_test, y_test) > 0.9
