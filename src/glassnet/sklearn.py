"""scikit-learn estimators built on the glassnet engine.

:class:`GlassClassifier` and :class:`GlassRegressor` follow scikit-learn's
conventions, so they work in ``Pipeline``, ``GridSearchCV`` and
``cross_val_score``: every hyperparameter is a constructor argument stored
unchanged, all work happens in ``fit``, and learned attributes end in ``_``.

Beyond scikit-learn's ``MLPClassifier``/``MLPRegressor`` they offer dropout,
a choice of loss and optimizer, the per-epoch validation loss in
``validation_scores_``, and :meth:`trace`, which returns the glassnet
:class:`~glassnet.trace.Trace` of one training step on a batch: every layer's
activations, deltas, gradients and the update, each with its formula.

Differences from scikit-learn's MLP worth knowing:

* Without ``early_stopping`` every fit runs exactly ``max_iter`` epochs (no
  stopping on a training-loss plateau), so ``warm_start`` continuations add
  up: ``max_iter=3`` twice equals ``max_iter=6`` once.
* ``validation_scores_`` contains the validation *loss* per epoch (lower is
  better), not the accuracy or R² that scikit-learn records.
* With ``early_stopping=True`` the parameters of the epoch with the lowest
  validation loss are restored at the end of ``fit``.
* A binary classifier has one sigmoid output unit, the probability of
  ``classes_[1]``; more classes get a softmax output.
"""

from __future__ import annotations

import copy
import numbers
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from .errors import InvalidInputError, InvalidTypeError, require

require("sklearn", "sklearn", "glassnet.sklearn")

from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.utils import check_random_state  # noqa: E402
from sklearn.utils.multiclass import (  # noqa: E402
    _check_partial_fit_first_call,
    check_classification_targets,
    type_of_target,
)
from sklearn.utils.validation import check_is_fitted, column_or_1d, validate_data  # noqa: E402

from . import activations  # noqa: E402
from .build import mlp  # noqa: E402
from .losses import get_loss  # noqa: E402
from .network import Sequential  # noqa: E402
from .optimizers import Optimizer, get_optimizer  # noqa: E402
from .trace import Trace  # noqa: E402
from .callbacks import EarlyStopping  # noqa: E402
from .training import Callback, History, fit  # noqa: E402
from .validation import all_finite, check_dtype, check_finite, column_names_of  # noqa: E402

if TYPE_CHECKING:
    from ._typing import FloatArray
    from .layers import Activation

__all__ = ["GlassClassifier", "GlassRegressor"]

HIDDEN_ACTIVATIONS = ("relu", "leaky_relu", "tanh", "sigmoid", "logistic", "identity")
CLASSIFIER_LOSSES = ("cross-entropy", "mean-squared-error", "half-squared-error")
REGRESSOR_LOSSES = ("mean-squared-error", "half-squared-error")
OPTIMIZER_NAMES = ("sgd", "adam", "adamw", "rmsprop")



def _validate_data(estimator: Any, X: Any, y: Any = "no_validation", **options: Any) -> Any:
    """Run scikit-learn's ``validate_data`` after naming the first NaN or inf by row and column.

    scikit-learn's own message states only that the input contains NaN, so
    numeric inputs are checked here first, with glassnet's message.
    """
    for argument, values in (("X", X), ("y", y)):
        if argument == "y" and isinstance(values, str):
            continue
        array = values if isinstance(values, np.ndarray) else None
        if array is None:
            try:
                array = np.asarray(values)
            except (TypeError, ValueError):
                continue
        expected_ndim = (2,) if argument == "X" else (1, 2)
        if array.dtype.kind == "f" and array.ndim in expected_ndim and not all_finite(array):
            check_finite(array, argument, column_names_of(values))
    return validate_data(estimator, X, y, **options)

class _GlassEstimator(BaseEstimator):  # type: ignore[misc]
    """Shared parameters, fit loop and checks of both estimators."""

    _allowed_losses: tuple[str, ...] = ()
    _default_loss = ""

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        loss: str = "",
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        l2: float = 0.0,
        clip_norm: float | None = None,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        dropout: float = 0.0,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        verbose: bool = False,
    ) -> None:
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.loss = loss
        self.optimizer = optimizer
        self.learning_rate = learning_rate
        self.momentum = momentum
        self.nesterov = nesterov
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.weight_decay = weight_decay
        self.l2 = l2
        self.clip_norm = clip_norm
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.shuffle = shuffle
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.tol = tol
        self.dropout = dropout
        self.warm_start = warm_start
        self.random_state = random_state
        self.dtype = dtype
        self.verbose = verbose

    # ------------------------------------------------------------ hyperparameters

    def _loss_name(self) -> str:
        name = self.loss or self._default_loss
        key = str(name).lower().replace("_", "-")
        if key not in self._allowed_losses:
            raise InvalidInputError(
                f"loss={self.loss!r} is not supported by {type(self).__name__}; "
                f"use one of: {', '.join(self._allowed_losses)}"
            )
        return key

    def _hidden_sizes(self) -> list[int]:
        sizes = self.hidden_layer_sizes
        if isinstance(sizes, numbers.Integral) and not isinstance(sizes, bool):
            sizes = (int(sizes),)
        if isinstance(sizes, (str, bytes)) or not hasattr(sizes, "__iter__"):
            raise InvalidTypeError(
                f"hidden_layer_sizes={sizes!r} must be a tuple of layer widths, e.g. (100,) or (64, 32)"
            )
        widths = list(sizes)
        for width in widths:
            if isinstance(width, bool) or not isinstance(width, numbers.Integral) or width < 1:
                raise InvalidInputError(
                    f"hidden_layer_sizes={self.hidden_layer_sizes!r} must contain integers >= 1; got {width!r}"
                )
        return [int(width) for width in widths]

    def _hidden_activation(self) -> str:
        key = str(self.activation).lower().replace("-", "_")
        if key not in HIDDEN_ACTIVATIONS:
            raise InvalidInputError(
                f"activation={self.activation!r} is not known; use one of: {', '.join(HIDDEN_ACTIVATIONS)}"
            )
        return "sigmoid" if key == "logistic" else key

    def _check_scalars(self) -> None:
        for name in ("max_iter", "n_iter_no_change"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise InvalidInputError(f"{name}={value!r} must be an integer >= 1")
        batch_size = self.batch_size
        if batch_size != "auto" and (
            isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral) or batch_size < 1
        ):
            raise InvalidInputError(f"batch_size={batch_size!r} must be 'auto' or an integer >= 1")
        fraction = self.validation_fraction
        if fraction is not None and not (isinstance(fraction, numbers.Real) and 0.0 <= fraction < 1.0):
            raise InvalidInputError(
                f"validation_fraction={fraction!r} must be None or a number in [0, 1), e.g. 0.1"
            )
        if self.early_stopping and fraction is not None and fraction == 0.0:
            raise InvalidInputError(
                "early_stopping=True needs a validation split but validation_fraction=0.0; "
                "set validation_fraction (e.g. 0.1) or early_stopping=False"
            )
        if not isinstance(self.tol, numbers.Real) or self.tol < 0:
            raise InvalidInputError(f"tol={self.tol!r} must be a number >= 0")
        check_dtype(self.dtype)

    def _make_optimizer(self) -> Optimizer:
        name = str(self.optimizer).lower()
        if name not in OPTIMIZER_NAMES:
            raise InvalidInputError(
                f"optimizer={self.optimizer!r} is not known; use one of: {', '.join(OPTIMIZER_NAMES)}"
            )
        options: dict[str, Any] = {"learning_rate": self.learning_rate, "clip_norm": self.clip_norm,
                                   "weight_decay": self.weight_decay}
        if name == "sgd":
            options.update(momentum=self.momentum, nesterov=self.nesterov)
        elif name in ("adam", "adamw"):
            options.update(beta1=self.beta_1, beta2=self.beta_2, eps=self.epsilon)
        else:
            options.update(eps=self.epsilon)
        optimizer: Optimizer = get_optimizer(name, **options)
        return optimizer

    def _seed(self) -> int:
        """Return an integer seed from ``random_state`` without touching NumPy's global generator."""
        if self.random_state is None:
            return int(np.random.SeedSequence().generate_state(1)[0])
        if isinstance(self.random_state, numbers.Integral) and not isinstance(self.random_state, bool):
            if self.random_state < 0:
                raise InvalidInputError(f"random_state={self.random_state} must be >= 0, a RandomState or None")
            return int(self.random_state)
        random_state = check_random_state(self.random_state)
        return int(random_state.randint(np.iinfo(np.int32).max))

    def _engine_loss(self) -> Any:
        """Return the glassnet loss object for the fitted output layer."""
        name = self._loss_name()
        if name == "cross-entropy":
            name = "binary-cross-entropy" if self.network_.out_features == 1 else "categorical-cross-entropy"
        return get_loss(name)

    # ------------------------------------------------------------ targets (overridden)

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _output_layer(self) -> tuple[str, int]:
        raise NotImplementedError

    # ------------------------------------------------------------ fitting

    def _initialise(self, n_features: int) -> None:
        """Build a fresh network, optimizer and generator; reset the learned curves."""
        output_activation, n_outputs = self._output_layer()
        self._seed_value = self._seed()
        self._rng = np.random.default_rng(self._seed_value)
        sizes = [n_features, *self._hidden_sizes(), n_outputs]
        # The generator draws the initial weights, then the dropout masks and the shuffling,
        # so a warm-started fit continues the same random stream.
        self.network_: Sequential = mlp(sizes, activation=self._hidden_activation(), output=output_activation,
                                        seed=self._rng, dtype=self.dtype, dropout=self.dropout)
        self.optimizer_: Optimizer = self._make_optimizer()
        self.loss_curve_: list[float] = []
        self.validation_scores_: list[float] | None = None
        self.best_validation_loss_: float | None = None
        self.n_iter_ = 0
        self.t_ = 0

    def _batch_size(self, n_samples: int) -> int:
        if self.batch_size == "auto":
            return max(1, min(200, n_samples))
        return max(1, min(int(self.batch_size), n_samples))

    def _validation_split(
        self, X: np.ndarray, y: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, tuple[np.ndarray, np.ndarray] | None]:
        fraction = self.validation_fraction
        if fraction is None:
            fraction = 0.1 if self.early_stopping else 0.0
        if fraction == 0.0:
            return X, y, None
        stratify = y if isinstance(self, ClassifierMixin) else None
        try:
            X_train, X_val, y_train, y_val = train_test_split(
                X, y, test_size=fraction, random_state=self._seed_value, stratify=stratify
            )
        except ValueError as exc:
            raise InvalidInputError(
                f"could not hold out validation_fraction={fraction} of {X.shape[0]} samples for validation "
                f"({exc}); give more samples, a larger validation_fraction or early_stopping=False"
            ) from exc
        return X_train, y_train, (X_val, y_val)

    def _run_epochs(self, X: np.ndarray, t: np.ndarray, epochs: int,
                    validation: tuple[np.ndarray, np.ndarray] | None, early_stopping: bool) -> History:
        callbacks: list[Callback] = []
        if early_stopping and validation is not None:
            callbacks.append(EarlyStopping(monitor="val_loss", patience=int(self.n_iter_no_change),
                                           min_delta=float(self.tol), restore_best_weights=True))
        if self.verbose:
            from .progress import PlainProgress

            callbacks.append(PlainProgress())
        history: History = fit(self.network_, X, t, loss=self._engine_loss(), optimizer=self.optimizer_,
                      epochs=epochs, batch_size=self._batch_size(X.shape[0]), shuffle=bool(self.shuffle),
                      seed=self._rng, validation_data=validation, callbacks=callbacks, l2=float(self.l2))
        self.loss_curve_.extend(float(value) for value in history["train_loss"])
        if validation is not None:
            scores = [float(value) for value in history["val_loss"]]
            self.validation_scores_ = (self.validation_scores_ or []) + scores
            self.best_validation_loss_ = float(np.nanmin(self.validation_scores_))
        self.n_iter_ += len(history)
        self.t_ = self.optimizer_.iterations
        self.loss_ = self.loss_curve_[-1]
        self.history_: History = history
        return history

    def _fit(self, X: Any, y: Any) -> _GlassEstimator:
        self._check_scalars()
        self._loss_name()
        self._hidden_activation()
        self._make_optimizer()
        continuing = bool(self.warm_start) and hasattr(self, "network_")
        X, y = _validate_data(self, X, y, reset=not continuing, **self._validate_options())
        X = X.astype(check_dtype(self.dtype), copy=False)
        if continuing:
            self._check_continuation_targets(y)
        else:
            self._set_targets(y)
            self._initialise(X.shape[1])
        X_train, y_train, validation = self._validation_split(X, y)
        t_train = self._encode_targets(y_train)
        t_validation = None
        if validation is not None:
            t_validation = (validation[0], self._encode_targets(validation[1]))
        self._run_epochs(X_train, t_train, int(self.max_iter), t_validation, bool(self.early_stopping))
        return self

    def _partial_fit(self, X: Any, y: Any, first_call: bool) -> _GlassEstimator:
        """Train one pass over (X, y); ``early_stopping`` does not apply."""
        X, y = _validate_data(self, X, y, reset=first_call, **self._validate_options())
        X = X.astype(check_dtype(self.dtype), copy=False)
        if first_call:
            self._initialise(X.shape[1])
        self._run_epochs(X, self._encode_targets(y), 1, None, False)
        return self

    def _validate_options(self) -> dict[str, Any]:
        raise NotImplementedError

    def _set_targets(self, y: np.ndarray) -> None:
        raise NotImplementedError

    def _check_continuation_targets(self, y: np.ndarray) -> None:
        raise NotImplementedError

    # ------------------------------------------------------------ inference

    def _forward(self, X: Any) -> np.ndarray:
        check_is_fitted(self, "network_")
        X = _validate_data(self, X, reset=False, ensure_min_samples=0)
        output: np.ndarray = self.network_.predict(X.astype(self.network_.dtype, copy=False))
        return output.astype(np.float64)

    def trace(self, X: Any, y: Any) -> Trace:
        """Return the trace of one training step on the batch (X, y), leaving the model unchanged.

        The step runs on copies of the network and the optimizer, so the
        trace shows every layer's forward values, the loss, the deltas, the
        gradients and the update the optimizer would make, while this
        estimator keeps its parameters.

        Parameters
        ----------
        X : array-like of shape (batch, n_features)
        y : array-like of shape (batch,) or (batch, n_outputs)
            Labels from ``classes_`` for the classifier, values for the regressor.

        Returns
        -------
        glassnet.trace.Trace
        """
        check_is_fitted(self, "network_")
        X, y = _validate_data(self, X, y, reset=False, **self._validate_options())
        self._check_continuation_targets(y)
        network = copy.deepcopy(self.network_)
        optimizer = copy.deepcopy(self.optimizer_)
        record: Trace = network.step(X.astype(network.dtype, copy=False), self._encode_targets(y),
                                     self._engine_loss(), optimizer, trace=True)
        return record

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.non_deterministic = self.random_state is None
        return tags


class GlassClassifier(ClassifierMixin, _GlassEstimator):  # type: ignore[misc]
    """Multilayer-perceptron classifier trained by the glassnet engine.

    Parameters
    ----------
    hidden_layer_sizes : tuple of int, default=(100,)
        Width of each hidden layer.
    activation : {"relu", "leaky_relu", "tanh", "sigmoid", "logistic", "identity"}, default="relu"
        Hidden activation (``logistic`` is scikit-learn's name for sigmoid).
    loss : {"cross-entropy", "mean-squared-error", "half-squared-error"}, default="cross-entropy"
        ``cross-entropy`` is binary cross-entropy on one sigmoid output for two
        classes and categorical cross-entropy on a softmax output otherwise;
        both are fused with their activation (delta = y - t). The squared
        errors are computed on the same probabilities.
    optimizer : {"adam", "adamw", "sgd", "rmsprop"}, default="adam"
    learning_rate : float, default=0.001
        Step size of the optimizer.
    momentum : float, default=0.9
        SGD momentum (``optimizer="sgd"`` only).
    nesterov : bool, default=False
        Nesterov momentum (``optimizer="sgd"`` only).
    beta_1, beta_2, epsilon : float, default=0.9, 0.999, 1e-8
        Adam and AdamW moment decay rates, and the epsilon of Adam, AdamW and RMSprop.
    weight_decay : float, default=0.0
        Weight decay of the optimizer: ``weight_decay · p`` added to every
        gradient (decoupled from the gradient for AdamW).
    l2 : float, default=0.0
        L2 penalty ``½ · l2 · Σ ||W||²`` on the Dense weights, added to the
        training loss (scikit-learn's ``alpha``, up to its scaling).
    clip_norm : float or None, default=None
        Clip the global gradient norm to this value.
    batch_size : int or "auto", default="auto"
        Mini-batch size; ``"auto"`` is ``min(200, n_samples)``.
    max_iter : int, default=200
        Number of epochs (passes over the training data) per ``fit``.
    shuffle : bool, default=True
        Shuffle the training data every epoch.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the data (stratified) and stop when
        its loss has not improved by ``tol`` for ``n_iter_no_change`` epochs,
        then restore the best epoch's parameters.
    validation_fraction : float or None, default=None
        Fraction held out for validation; None means 0.1 with early stopping
        and no validation split otherwise. A fraction without early stopping
        only records ``validation_scores_``.
    n_iter_no_change : int, default=10
    tol : float, default=1e-4
    dropout : float, default=0.0
        Dropout rate after every hidden activation, in [0, 1).
    warm_start : bool, default=False
        Continue from the previous fit's parameters and optimizer state.
    random_state : int, RandomState or None, default=None
        Seed of the initial weights, dropout masks, shuffling and validation split.
    dtype : {"float32", "float64"}, default="float32"
        Floating-point type of the network.
    verbose : bool, default=False
        Print one line per epoch.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Sorted class labels; ``predict_proba`` columns follow this order.
    n_features_in_ : int
    feature_names_in_ : ndarray of str
        Column names, when X was a DataFrame with string column names.
    network_ : glassnet.Sequential
        The trained network (inputs as given, no scaling).
    optimizer_ : glassnet optimizer, with its state after training.
    loss_curve_ : list of float
        Mean training loss per epoch, across warm-started fits.
    validation_scores_ : list of float or None
        Validation loss per epoch (lower is better); None without a validation split.
    best_validation_loss_ : float or None
    loss_ : float
        Training loss of the last epoch.
    n_iter_ : int
        Epochs run, across warm-started fits.
    t_ : int
        Optimizer steps (mini-batches) run.
    history_ : glassnet.training.History
        Per-epoch records of the last fit.
    """

    _allowed_losses = CLASSIFIER_LOSSES
    _default_loss = "cross-entropy"

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        loss: str = "cross-entropy",
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        l2: float = 0.0,
        clip_norm: float | None = None,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        dropout: float = 0.0,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        verbose: bool = False,
    ) -> None:
        super().__init__(
            hidden_layer_sizes, activation, loss=loss, optimizer=optimizer, learning_rate=learning_rate,
            momentum=momentum, nesterov=nesterov, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            weight_decay=weight_decay, l2=l2, clip_norm=clip_norm, batch_size=batch_size, max_iter=max_iter,
            shuffle=shuffle, early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, dropout=dropout, warm_start=warm_start,
            random_state=random_state, dtype=dtype, verbose=verbose,
        )

    def _validate_options(self) -> dict[str, Any]:
        return {}

    def _check_targets(self, y: Any) -> np.ndarray:
        y = column_or_1d(y, warn=True)
        check_classification_targets(y)
        kind = type_of_target(y)
        if kind not in ("binary", "multiclass"):
            raise InvalidInputError(
                f"y has target type {kind!r}; GlassClassifier needs one label per sample (binary or multiclass)"
            )
        return np.asarray(y)

    def _set_targets(self, y: np.ndarray) -> None:
        y = self._check_targets(y)
        classes = np.unique(y)
        if classes.shape[0] < 2:
            raise InvalidInputError(
                f"y contains only one class ({classes[0]!r}); a classifier needs at least 2 classes to train"
            )
        self.classes_ = classes

    def _check_continuation_targets(self, y: np.ndarray) -> None:
        y = self._check_targets(y)
        unseen = np.setdiff1d(np.unique(y), self.classes_)
        if unseen.size:
            raise InvalidInputError(
                f"y contains labels {unseen.tolist()} that are not in classes_={self.classes_.tolist()}; "
                "the classes are fixed by the first fit (or partial_fit's classes). Refit with warm_start=False "
                "to learn new classes"
            )

    def _output_layer(self) -> tuple[str, int]:
        n_classes = len(self.classes_)
        if n_classes == 2:
            return "sigmoid", 1
        return "softmax", n_classes

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        y = self._check_targets(y)
        indices = np.searchsorted(self.classes_, y)
        n_classes = len(self.classes_)
        if n_classes == 2:
            return indices.reshape(-1, 1).astype(np.float64)
        return np.eye(n_classes)[indices]

    def fit(self, X: Any, y: Any) -> GlassClassifier:
        """Train on X of shape (n_samples, n_features) and labels y of shape (n_samples,).

        With ``warm_start=True`` and a previous fit, training continues from
        the current parameters and optimizer state for ``max_iter`` more epochs.
        """
        self._fit(X, y)
        return self

    def partial_fit(self, X: Any, y: Any, classes: Any = None) -> GlassClassifier:
        """Train exactly one pass over (X, y).

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
        y : array-like of shape (n_samples,)
        classes : array-like, required on the first call
            Every label that any later batch may contain.
        """
        first_call = _check_partial_fit_first_call(self, classes)
        if first_call:
            if len(self.classes_) < 2:
                raise InvalidInputError(
                    f"classes={list(self.classes_)!r} has fewer than 2 labels; a classifier needs at least 2"
                )
            self._check_scalars()
            self._loss_name()
            self._hidden_activation()
            self._make_optimizer()
        _, y_checked = _validate_data(self, X, y, reset=first_call, **self._validate_options())
        self._check_continuation_targets(y_checked)
        self._partial_fit(X, y, first_call)
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        """Return class probabilities of shape (n_samples, n_classes), columns in ``classes_`` order.

        The output activation is applied in float64 to the network's logits,
        so each row sums to 1 within float64 rounding even for a float32 network.
        """
        check_is_fitted(self, "network_")
        X = _validate_data(self, X, reset=False, ensure_min_samples=0)
        network = self.network_
        network.eval()
        try:
            network.forward(X.astype(network.dtype, copy=False))
            logits = np.asarray(cast("FloatArray", cast("Activation", network.layers[-1]).z), dtype=np.float64)
        finally:
            network.train()
        if logits.shape[1] == 1:
            positive = activations.sigmoid(logits)
            both: np.ndarray = np.hstack([1.0 - positive, positive])
            return both
        probabilities: np.ndarray = activations.softmax(logits)
        return probabilities

    def predict_log_proba(self, X: Any) -> np.ndarray:
        """Return the natural logarithm of :meth:`predict_proba`."""
        with np.errstate(divide="ignore"):
            logarithm: np.ndarray = np.log(self.predict_proba(X))
        return logarithm

    def predict(self, X: Any) -> np.ndarray:
        """Return the most probable label from ``classes_`` for each row of X."""
        probabilities = self.predict_proba(X)
        result: np.ndarray = self.classes_[np.argmax(probabilities, axis=1)]
        return result

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Return the accuracy on (X, y); labels outside ``classes_`` raise ``ValueError``."""
        check_is_fitted(self, "network_")
        self._check_continuation_targets(np.asarray(y))
        result: float = super().score(X, y, sample_weight=sample_weight)
        return result

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.classifier_tags.multi_class = True
        return tags


class GlassRegressor(RegressorMixin, _GlassEstimator):  # type: ignore[misc]
    """Multilayer-perceptron regressor trained by the glassnet engine.

    The output layer is linear (identity) with one unit per target column.
    Parameters and attributes are those of :class:`GlassClassifier`, except:

    loss : {"mean-squared-error", "half-squared-error"}, default="mean-squared-error"
        Mean over samples and outputs of (y - t)², or of ½(y - t)².

    There is no ``classes_``; ``predict`` returns shape (n_samples,) when y
    was 1-D at fit, else (n_samples, n_outputs).
    """

    _allowed_losses = REGRESSOR_LOSSES
    _default_loss = "mean-squared-error"

    def __init__(
        self,
        hidden_layer_sizes: tuple[int, ...] = (100,),
        activation: str = "relu",
        *,
        loss: str = "mean-squared-error",
        optimizer: str = "adam",
        learning_rate: float = 0.001,
        momentum: float = 0.9,
        nesterov: bool = False,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        weight_decay: float = 0.0,
        l2: float = 0.0,
        clip_norm: float | None = None,
        batch_size: int | str = "auto",
        max_iter: int = 200,
        shuffle: bool = True,
        early_stopping: bool = False,
        validation_fraction: float | None = None,
        n_iter_no_change: int = 10,
        tol: float = 1e-4,
        dropout: float = 0.0,
        warm_start: bool = False,
        random_state: int | np.random.RandomState | None = None,
        dtype: str = "float32",
        verbose: bool = False,
    ) -> None:
        super().__init__(
            hidden_layer_sizes, activation, loss=loss, optimizer=optimizer, learning_rate=learning_rate,
            momentum=momentum, nesterov=nesterov, beta_1=beta_1, beta_2=beta_2, epsilon=epsilon,
            weight_decay=weight_decay, l2=l2, clip_norm=clip_norm, batch_size=batch_size, max_iter=max_iter,
            shuffle=shuffle, early_stopping=early_stopping, validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change, tol=tol, dropout=dropout, warm_start=warm_start,
            random_state=random_state, dtype=dtype, verbose=verbose,
        )

    def _validate_options(self) -> dict[str, Any]:
        return {"multi_output": True, "y_numeric": True}

    def _set_targets(self, y: np.ndarray) -> None:
        self._y_is_1d = np.ndim(y) == 1
        self.n_outputs_ = 1 if np.ndim(y) == 1 else int(np.shape(y)[1])

    def _check_continuation_targets(self, y: np.ndarray) -> None:
        n_outputs = 1 if np.ndim(y) == 1 else int(np.shape(y)[1])
        if n_outputs != self.n_outputs_:
            raise InvalidInputError(
                f"y has {n_outputs} target columns but this regressor was fitted with {self.n_outputs_}; "
                "give the same targets or refit with warm_start=False"
            )

    def _output_layer(self) -> tuple[str, int]:
        return "identity", self.n_outputs_

    def _encode_targets(self, y: np.ndarray) -> np.ndarray:
        return np.asarray(y, dtype=np.float64).reshape(len(y), -1)

    def fit(self, X: Any, y: Any) -> GlassRegressor:
        """Train on X of shape (n_samples, n_features) and targets y of shape (n_samples,) or (n_samples, n_outputs).

        With ``warm_start=True`` and a previous fit, training continues from
        the current parameters and optimizer state for ``max_iter`` more epochs.
        """
        self._fit(X, y)
        return self

    def partial_fit(self, X: Any, y: Any) -> GlassRegressor:
        """Train exactly one pass over (X, y); the first call builds the network."""
        first_call = not hasattr(self, "network_")
        if first_call:
            self._check_scalars()
            self._loss_name()
            self._hidden_activation()
            self._make_optimizer()
            _, y_checked = _validate_data(self, X, y, reset=True, **self._validate_options())
            self._set_targets(y_checked)
        else:
            _, y_checked = _validate_data(self, X, y, reset=False, **self._validate_options())
            self._check_continuation_targets(y_checked)
        self._partial_fit(X, y, first_call)
        return self

    def predict(self, X: Any) -> np.ndarray:
        """Return predictions of shape (n_samples,) or (n_samples, n_outputs)."""
        output = self._forward(X)
        if self._y_is_1d:
            return output[:, 0]
        return output

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags
