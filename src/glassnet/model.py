"""A trained network together with what it needs to work on raw data.

:class:`Model` bundles the network, the task, the loss, the label names, the
input standardisation fitted on the training split, and the training
configuration, so that prediction applies exactly the preprocessing that
training used.
"""

from dataclasses import asdict, dataclass, field

import numpy as np

from .build import mlp
from .errors import InvalidInputError
from .losses import get_loss
from .metrics import classification_report, regression_report
from .optimizers import get_optimizer
from .training import accuracy_metric, fit
from .validation import check_array

TASKS = ("classification", "regression")


@dataclass
class TrainConfig:
    """Settings of a training run, with the defaults of ``glassnet train``."""

    hidden: tuple = (64,)
    activation: str = "relu"
    optimizer: str = "sgd"
    learning_rate: float = 0.05
    momentum: float = 0.9
    weight_decay: float = 0.0
    dropout: float = 0.0
    batch_size: int = 32
    epochs: int = 30
    seed: int = 0
    dtype: str = "float32"
    validation_fraction: float = 0.1
    test_fraction: float = 0.2

    def to_dict(self):
        config = asdict(self)
        config["hidden"] = list(self.hidden)
        return config


@dataclass
class Model:
    """A network plus its task, loss, label names and input standardisation.

    Attributes
    ----------
    network : Sequential
    task : str
        ``"classification"`` or ``"regression"``.
    loss : str
        Loss name, e.g. ``"categorical-cross-entropy"``.
    class_names : list or None
        Original label of each output class, in output order.
    mean, scale : numpy.ndarray or None
        Standardisation ``(x - mean) / scale`` applied to raw inputs.
    feature_names : list of str
    config : dict
        Training configuration (``TrainConfig.to_dict()``).
    schema : dict or None
        CSV encoding (``CsvSchema.to_dict()``) when trained from a CSV file.
    data : dict or None
        Where the training data came from, e.g. ``{"dataset": "iris"}``, so
        that ``glassnet evaluate`` can rebuild the same test split.
    """

    network: object
    task: str
    loss: str
    class_names: list = None
    mean: np.ndarray = None
    scale: np.ndarray = None
    feature_names: list = field(default_factory=list)
    config: dict = field(default_factory=dict)
    schema: dict = None
    history: object = None
    optimizer: object = None
    data: dict = None

    def transform(self, X):
        """Check raw inputs and apply the stored standardisation."""
        X = check_array(X, "X", dtype=np.float64, finite=True)
        if X.shape[1] != self.network.in_features:
            raise InvalidInputError(
                f"X has {X.shape[1]} features (shape {X.shape}); this model was trained on "
                f"{self.network.in_features}. Give the same columns as the training data"
            )
        if self.mean is not None:
            X = (X - self.mean) / self.scale
        return X.astype(self.network.dtype, copy=False)

    def output(self, X):
        """Return the network output for raw inputs (probabilities for classifiers)."""
        return self.network.predict(self.transform(X))

    def predict_proba(self, X):
        """Return class probabilities of shape (n, n_classes)."""
        self._require_classifier("predict_proba")
        y = self.output(X).astype(np.float64)
        if y.shape[1] == 1:
            return np.hstack([1.0 - y, y])
        return y

    def predict_indices(self, X):
        """Return predicted class numbers 0..K-1."""
        return np.argmax(self.predict_proba(X), axis=1)

    def predict(self, X):
        """Return predicted labels (classification) or values (regression)."""
        if self.task == "regression":
            y = self.output(X)
            return y[:, 0] if y.shape[1] == 1 else y
        indices = self.predict_indices(X)
        return np.asarray(self.class_names, dtype=object)[indices] if len(indices) else np.empty(0, dtype=object)

    def evaluate(self, X, y):
        """Return every metric of the task on (X, y) as JSON-ready builtins.

        ``y`` is class numbers 0..K-1 for classification, values for regression.
        """
        if self.task == "classification":
            probabilities = self.predict_proba(X)
            predicted = np.argmax(probabilities, axis=1)
            return classification_report(np.asarray(y), predicted, probabilities, self.class_names)
        return regression_report(np.asarray(y).reshape(len(y), -1), self.output(X))

    def _require_classifier(self, method):
        if self.task != "classification":
            raise InvalidInputError(f"{method} needs a classification model; this model does regression")


def output_layer(task, n_outputs):
    """Return (output activation, loss, output width) for a task."""
    if task == "regression":
        return "identity", "mean-squared-error", n_outputs
    if n_outputs == 2:
        return "sigmoid", "binary-cross-entropy", 1
    return "softmax", "categorical-cross-entropy", n_outputs


def train_model(X_train, y_train, *, task, class_names=None, config=None, validation=None,
                feature_names=None, callbacks=(), resume=None):
    """Standardise, build an MLP and train it; return the :class:`Model`.

    Parameters
    ----------
    X_train : array of shape (n, features), raw (unscaled) inputs
    y_train : class numbers 0..K-1 (classification) or values (regression)
    task : ``"classification"`` or ``"regression"``
    class_names : list, for classification
    config : TrainConfig
    validation : tuple (X_val, y_val), raw, optional
    resume : glassnet.checkpoint.Checkpoint, optional
        Continue the run saved in this checkpoint; with the same data and
        config the result matches an uninterrupted run bitwise.
    """
    if task not in TASKS:
        raise InvalidInputError(f"task={task!r} is not known; use 'classification' or 'regression'")
    config = config or TrainConfig()
    X_train = check_array(X_train, "X_train", dtype=np.float64, allow_empty=False)
    mean = X_train.mean(axis=0)
    scale = X_train.std(axis=0)
    scale[scale == 0] = 1.0
    y_train = np.asarray(y_train)
    if task == "classification":
        n_outputs = len(class_names)
    else:
        n_outputs = 1 if y_train.ndim == 1 else y_train.shape[1]
    activation, loss_name, width = output_layer(task, n_outputs)
    network = mlp([X_train.shape[1], *config.hidden, width], activation=config.activation, output=activation,
                  seed=config.seed, dtype=config.dtype, dropout=config.dropout)
    options = {"learning_rate": config.learning_rate, "weight_decay": config.weight_decay}
    if config.optimizer == "sgd":
        options["momentum"] = config.momentum
    optimizer = get_optimizer(config.optimizer, **options)
    resume_point = None
    if resume is not None:
        resume_point = resume.restore(network, optimizer)
    model = Model(network=network, task=task, loss=loss_name, class_names=class_names, mean=mean, scale=scale,
                  feature_names=list(feature_names or []), config=config.to_dict(), optimizer=optimizer)

    metrics = {"accuracy": accuracy_metric} if task == "classification" else None
    validation_data = None
    if validation is not None and len(validation[0]):
        validation_data = (model.transform(validation[0]), validation[1])
    model.history = fit(network, model.transform(X_train), y_train, loss=get_loss(loss_name), optimizer=optimizer,
                        epochs=config.epochs, batch_size=config.batch_size, seed=config.seed,
                        validation_data=validation_data, metrics=metrics, callbacks=callbacks,
                        resume=resume_point)
    return model
