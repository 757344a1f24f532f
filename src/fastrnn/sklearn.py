"""scikit-learn estimators on fastrnn's networks: ``RNNRegressor`` and ``RNNClassifier``.

    from fastrnn.sklearn import RNNRegressor
    reg = RNNRegressor(cell="LSTM", units=32, epochs=100, random_state=0).fit(X, y)
    reg.predict(X_new); reg.score(X_test, y_test)

Both are ordinary scikit-learn estimators (``get_params``/``set_params``, ``clone``, pipelines,
grid search, pickling) that pass ``sklearn.utils.estimator_checks.check_estimator``, so the
frameworks that take a scikit-learn regressor can train a recurrent network: skforecast's
``ForecasterRecursive(RNNRegressor(step_order="newest_first"), lags=12)`` and sktime's
``make_reduction(RNNRegressor(), window_length=12)``.

Input (n samples):

    X (n, p)      tabular lag features, read as p time steps of one feature; ``step_order``
                  says which column is the oldest: "oldest_first" (sktime's reduction,
                  ``fastrnn.timeseries.make_windows``) or "newest_first" (skforecast's
                  lag_1, lag_2, ...)
    X (n, T, F)   sequences of T steps of F features (``step_order`` applies to axis 1)
    y             (n,) or (n, k) targets (regressor), (n,) labels (classifier)

The network is ``layers`` stacked recurrent layers of ``units`` each (``cell``: any name of
``fastrnn.cells``, e.g. "LSTM", "GRU", "SimpleRNN"), optional ``dropout`` after each, then a
Dense head (linear outputs for the regressor, softmax over the classes for the classifier).
With ``scale=True`` (default) each input feature is standardised over samples and steps, and
the regressor's targets per column, with statistics from the training data. Training: MSE or
sparse categorical cross-entropy, ``optimizer`` "adam", "rmsprop" or "sgd" at
``learning_rate``, ``epochs`` passes of shuffled mini-batches of ``batch_size``, on fastrnn's
fused C++ path where the build has it (``fit_info_`` says which path ran). ``patience`` (an
int) holds out the last ``validation_fraction`` of the samples and stops when their loss has
not improved for that many epochs, restoring the best weights. ``random_state`` fixes the
initial weights, the shuffling and the dropout masks (an int: the same fit every time).
``dtype`` "float64" (default: scikit-learn's precision, and a row's prediction does not depend
on which rows share its batch) or "float32" (faster kernels; the float32 Dense head's BLAS
product can round a row differently in batches of different sizes, by about 1e-7 relative).

Fitted attributes: ``model_`` (a ``fastrnn.Sequential``), ``n_features_in_`` (p, or T for 3-D
X), ``input_shape_`` (steps, features), ``n_iter_`` (epochs run), ``loss_curve_``,
``fit_info_``; the classifier adds ``classes_``. Predictions are float64.

Needs scikit-learn >= 1.6 (``pip install 'fastrnn[sklearn]'``).
"""

from __future__ import annotations

import warnings

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.preprocessing import LabelEncoder
from sklearn.utils import check_random_state
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

from fastrnn import _params, cells
from fastrnn.nn import Sequential, callbacks, layers, optimizers

__all__ = ["RNNClassifier", "RNNRegressor"]

_STEP_ORDERS = ("oldest_first", "newest_first")
_DTYPES = ("float32", "float64")
_OPTIMIZERS = ("adam", "rmsprop", "sgd")
_CHECKS = {
    "units": _params.Int(1), "layers": _params.Int(1), "epochs": _params.Int(0),
    "batch_size": _params.Int(1), "learning_rate": _params.Real(0, closed="neither"),
    "optimizer": _params.Options(_OPTIMIZERS), "dropout": _params.Real(0, 1, closed="left"),
    "step_order": _params.Options(_STEP_ORDERS), "scale": _params.Options((True, False)),
    "patience": _params.Int(1, none_ok=True),
    "validation_fraction": _params.Real(0, 1, closed="neither"),
    "dtype": _params.Options(_DTYPES), "verbose": _params.Int(0),
}
_PREDICT_BATCH = 1024  # rows per forward call in predict: large batches, bounded memory


class _RNNEstimator(BaseEstimator):
    """What the regressor and the classifier share: arguments, input handling, the network,
    training and pickling. Subclasses give the head, the loss and the target handling."""

    def __init__(self, cell=cells.GRU.name, units=32, layers=1, *, epochs=100, batch_size=32,
                 learning_rate=0.005, optimizer="adam", dropout=0.0, step_order="oldest_first",
                 scale=True, patience=None, validation_fraction=0.1, dtype="float64",
                 backend=None, random_state=None, verbose=0):
        # scikit-learn's contract: store the arguments as given; fit validates them
        self.cell = cell
        self.units = units
        self.layers = layers
        self.epochs = epochs
        self.batch_size = batch_size
        self.learning_rate = learning_rate
        self.optimizer = optimizer
        self.dropout = dropout
        self.step_order = step_order
        self.scale = scale
        self.patience = patience
        self.validation_fraction = validation_fraction
        self.dtype = dtype
        self.backend = backend
        self.random_state = random_state
        self.verbose = verbose

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.three_d_array = True
        return tags

    # -- arguments and input ---------------------------------------------------------------
    def _checked_params(self):
        """The arguments, validated (fastrnn's error format; wrong kinds are ParameterError,
        which is also a ValueError as scikit-learn's InvalidParameterError)."""
        p = {name: _params.check(getattr(self, name), name, spec) for name, spec in _CHECKS.items()}
        p["cell"] = cells.get(self.cell)
        if self.backend is not None:
            from fastrnn import backends
            backends.get(self.backend)  # unknown or unusable here: a clear error now
        return p

    def _validate_X(self, X, y=None, fit=False):
        """(X as (n, T, F) sequences, y: None unless `fit`), after scikit-learn's validation
        (feature count and names, dtype, finiteness, sparse input refused); fit=True records
        the shapes and requires y, fit=False checks X against them."""
        kw = {"allow_nd": True, "dtype": [np.float64, np.float32], "reset": fit}
        if fit:
            X, y = validate_data(self, X, y, **kw, **self._y_validation())
        else:
            X = validate_data(self, X, **kw)
        if X.ndim > 3:
            raise ValueError(f"X must have 2 dimensions (n, p) or 3 (n, T, F), got shape "
                             f"{X.shape}")
        seq = X[:, :, None] if X.ndim == 2 else X
        if fit:
            self.input_shape_ = seq.shape[1:]
        elif seq.shape[1:] != self.input_shape_:
            raise ValueError(f"X has sequences of shape {seq.shape[1:]} (steps, features), but "
                             f"{type(self).__name__} was fitted on {self.input_shape_}")
        if self.step_order == "newest_first":
            seq = seq[:, ::-1]
        return seq, y

    def _scaled_inputs(self, seq, fit):
        if fit:
            if self.scale:
                self.x_mean_ = seq.mean(axis=(0, 1))
                sd = seq.std(axis=(0, 1))
                self.x_scale_ = np.where(sd > 0, sd, 1.0)
            else:
                self.x_mean_ = np.zeros(seq.shape[2])
                self.x_scale_ = np.ones(seq.shape[2])
        return np.ascontiguousarray((seq - self.x_mean_) / self.x_scale_, dtype=self.model_dtype_)

    # -- the network -----------------------------------------------------------------------
    def _network(self, p, n_outputs, head_activation, rng):
        Cell = getattr(layers, p["cell"].keras_class)
        stack = []
        for i in range(p["layers"]):
            stack.append(Cell(p["units"], return_sequences=i < p["layers"] - 1,
                              dtype=p["dtype"], name=f"{p['cell'].name}_{i}"))
            if p["dropout"]:
                stack.append(layers.Dropout(p["dropout"], name=f"dropout_{i}"))
        stack.append(layers.Dense(n_outputs, activation=head_activation, name="head"))
        model = Sequential(stack, name=type(self).__name__, backend=self.backend)
        model.build((None,) + self.input_shape_, rng=rng)
        opt = type(optimizers.get(p["optimizer"]))(learning_rate=p["learning_rate"])
        model.compile(optimizer=opt, loss=self._loss)
        return model

    def _train(self, X, y, n_outputs, head_activation):
        """Build and fit ``model_`` on validated sequences X and encoded targets y."""
        p = self._checked_params()
        self.model_dtype_ = np.dtype(p["dtype"])
        X = self._scaled_inputs(X, fit=True)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        model = self._network(p, n_outputs, head_activation, np.random.default_rng([seed, 0]))
        validation, stops = None, []
        if p["patience"] is not None:
            nv = round(p["validation_fraction"] * len(X))
            if nv < 1 or len(X) - nv < 1:
                raise ValueError(f"validation_fraction={p['validation_fraction']} of {len(X)} "
                                 "samples leaves no validation or no training samples; "
                                 "use more data or patience=None")
            X, Xv, y, yv = X[:-nv], X[-nv:], y[:-nv], y[-nv:]
            validation = (Xv, yv)
            stops = [callbacks.EarlyStopping(monitor="val_loss", patience=p["patience"],
                                             restore_best_weights=True)]
        history = model.fit(X, y, epochs=p["epochs"], batch_size=p["batch_size"],
                            verbose=p["verbose"], validation_data=validation, callbacks=stops,
                            rng=np.random.default_rng([seed, 1]))
        self.model_ = model
        self.loss_curve_ = list(history.history.get("loss", []))
        self.n_iter_ = len(self.loss_curve_)
        self.fit_info_ = dict(model.fused_fit_info or {})
        return self

    def _outputs(self, X):
        check_is_fitted(self, "model_")
        seq, _ = self._validate_X(X)
        out = self.model_.predict(self._scaled_inputs(seq, fit=False),
                                  batch_size=_PREDICT_BATCH, verbose=0)
        return np.asarray(out, np.float64)

    # -- pickling: the network as its config and weights (the model object holds functions) --
    def __getstate__(self):
        state = dict(super().__getstate__())  # object.__getstate__ returns __dict__ itself
        model = state.pop("model_", None)
        if model is not None:
            state["_model_state"] = {"config": model.get_config(), "weights": model.get_weights(),
                                     "loss": self._loss}
        return state

    def __setstate__(self, state):
        saved = state.pop("_model_state", None)
        super().__setstate__(state)
        if saved is not None:
            model = Sequential.from_config(saved["config"], backend=self.backend)
            model.set_weights(saved["weights"])
            model.compile(optimizer="adam", loss=saved["loss"])
            self.model_ = model


class RNNRegressor(RegressorMixin, _RNNEstimator):
    """A recurrent network regressor (see the module's docstring for the arguments and the
    input shapes). ``y`` (n,) or (n, k); ``predict`` returns (n,) or (n, k), float64."""

    _loss = "mse"

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    def _y_validation(self):
        return {"y_numeric": True, "multi_output": True}

    def fit(self, X, y):
        """Train on X (n, p) or (n, T, F) and y (n,) or (n, k); returns self."""
        X, y = self._validate_X(X, y, fit=True)
        y = np.asarray(y, np.float64)
        self._y_1d = y.ndim == 1
        Y = y.reshape(len(y), -1)
        if self.scale:
            self.y_mean_ = Y.mean(axis=0)
            sd = Y.std(axis=0)
            self.y_scale_ = np.where(sd > 0, sd, 1.0)
        else:
            self.y_mean_, self.y_scale_ = np.zeros(Y.shape[1]), np.ones(Y.shape[1])
        dtype = _params.check(self.dtype, "dtype", _CHECKS["dtype"])
        Y = ((Y - self.y_mean_) / self.y_scale_).astype(dtype)
        return self._train(X, Y, Y.shape[1], None)

    def predict(self, X):
        """Predictions for X (the training layout): (n,) or (n, k) float64."""
        out = self._outputs(X) * self.y_scale_ + self.y_mean_
        return out[:, 0] if self._y_1d else out


class RNNClassifier(ClassifierMixin, _RNNEstimator):
    """A recurrent network classifier with a softmax head over ``classes_`` (see the module's
    docstring for the arguments and the input shapes). ``predict_proba`` (n, n_classes)."""

    _loss = "sparse_categorical_crossentropy"

    def _y_validation(self):
        return {}

    def fit(self, X, y):
        """Train on X (n, p) or (n, T, F) and labels y (n,); returns self."""
        X, y = self._validate_X(X, y, fit=True)
        check_classification_targets(y)
        encoder = LabelEncoder().fit(y)
        if len(encoder.classes_) < 2:
            raise ValueError(f"{type(self).__name__} needs at least 2 classes in y, got 1 "
                             f"class: {encoder.classes_[0]!r}")
        self.classes_ = encoder.classes_
        return self._train(X, encoder.transform(y), len(self.classes_), "softmax")

    def predict_proba(self, X):
        """Class probabilities (n, n_classes), columns in the order of ``classes_``."""
        proba = self._outputs(X)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            proba /= proba.sum(axis=1, keepdims=True)  # float32 softmax rows, summed in float64
        return proba

    def predict(self, X):
        """The most probable class of each row of X."""
        best = np.argmax(self.predict_proba(X), axis=1)  # raises NotFittedError first
        return self.classes_[best]
