"""Losses with Keras's definitions, each with its gradient with respect to the prediction.

Every loss is first computed per sample (over the last axis), then averaged over all the
remaining entries (Keras's default reduction "sum_over_batch_size"):

    mean_squared_error (mse)        mean((y - p) ** 2, axis=-1)
    mean_absolute_error (mae)       mean(|y - p|, axis=-1)
    binary_crossentropy             p clipped to [eps, 1 - eps]:
                                    mean(-(y log p + (1 - y) log(1 - p)), axis=-1)
    categorical_crossentropy        p / sum(p) clipped to [eps, 1 - eps]: -sum(y log p, axis=-1)
    sparse_categorical_crossentropy as categorical, with integer labels y

eps = 1e-7 (Keras's epsilon). With ``from_logits=True`` the cross-entropies take raw scores
and use the stable log-sigmoid / log-softmax forms instead of clipping. The gradients are
exact for these formulas (zero where the clip is active, as automatic differentiation of the
clip gives). A target of shape (B,) is accepted for a prediction of shape (B, 1), as in Keras.

``loss(y_true, y_pred) -> float``; ``loss.value_and_grad(y_true, y_pred) -> (float, dL/dy_pred)``.
``get(name_or_object)`` resolves Keras's names.
"""

from __future__ import annotations

import numpy as np

__all__ = ["Loss", "MeanSquaredError", "MeanAbsoluteError", "BinaryCrossentropy",
           "CategoricalCrossentropy", "SparseCategoricalCrossentropy", "get", "serialize",
           "EPSILON"]

EPSILON = 1e-7


def _shape(s):
    return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def _match_target(y_true, y_pred, sparse=False):
    """y_true as an array shaped like y_pred (sparse: like y_pred without its last axis)."""
    y_true = np.asarray(y_true)
    want = y_pred.shape[:-1] if sparse else y_pred.shape
    if sparse and y_true.shape == want + (1,):
        y_true = y_true.reshape(want)
    if not sparse and y_true.shape == want[:-1] and want[-1] == 1:
        y_true = y_true.reshape(want)
    if y_true.shape != want:
        what = "integer class labels of shape" if sparse else "shape"
        raise ValueError(f"y must have {what} {_shape(want)} to match the model's output "
                         f"{_shape(y_pred.shape)}, got {_shape(y_true.shape)}")
    if sparse:
        if y_true.dtype.kind == "f":
            if not np.all(np.mod(y_true, 1) == 0):
                raise ValueError("y for sparse_categorical_crossentropy must hold integer class "
                                 "labels, got non-integer values")
        elif y_true.dtype.kind not in "iu":
            raise TypeError(f"y must hold integer class labels, got dtype {y_true.dtype}")
        y_true = y_true.astype(np.int64)
        C = y_pred.shape[-1]
        if y_true.size and (y_true.min() < 0 or y_true.max() >= C):
            raise ValueError(f"y class labels must be in [0, {C - 1}] for an output of {C} "
                             f"classes, got values in [{y_true.min()}, {y_true.max()}]")
        return y_true
    return y_true.astype(y_pred.dtype, copy=False)


class Loss:
    """Base class. Subclasses implement ``_per_sample_and_grad(y, p) -> (per_sample, dper/dp)``,
    where per_sample has shape p.shape[:-1]."""

    name = "loss"
    sparse = False

    def __call__(self, y_true, y_pred):
        return self.value_and_grad(y_true, y_pred, need_grad=False)[0]

    def value_and_grad(self, y_true, y_pred, need_grad=True):
        p = np.asarray(y_pred)
        if p.dtype not in (np.float32, np.float64):
            p = p.astype(np.float64)
        y = _match_target(y_true, p, self.sparse)
        per, dper = self._per_sample_and_grad(y, p, need_grad)
        n = max(per.size, 1)
        value = float(per.sum(dtype=np.float64)) / n
        grad = None if dper is None else (dper / n).astype(p.dtype, copy=False)
        return value, grad

    def get_config(self):
        return {}

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


class MeanSquaredError(Loss):
    name = "mean_squared_error"

    def _per_sample_and_grad(self, y, p, need_grad):
        d = p - y
        k = p.shape[-1]
        return (d * d).mean(axis=-1), (d * (2.0 / k) if need_grad else None)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"

    def _per_sample_and_grad(self, y, p, need_grad):
        d = p - y
        k = p.shape[-1]
        return np.abs(d).mean(axis=-1), (np.sign(d) / k if need_grad else None)


class _FromLogits(Loss):
    def __init__(self, from_logits=False):
        self.from_logits = bool(from_logits)

    def get_config(self):
        return {"from_logits": self.from_logits}


class BinaryCrossentropy(_FromLogits):
    name = "binary_crossentropy"

    def _per_sample_and_grad(self, y, p, need_grad):
        k = p.shape[-1]
        if self.from_logits:
            per = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
            grad = None
            if need_grad:
                e = np.exp(-np.abs(p))
                sig = np.where(p >= 0, 1 / (1 + e), e / (1 + e))
                grad = (sig - y) / k
            return per.mean(axis=-1), grad
        eps = EPSILON
        q = np.clip(p, eps, 1 - eps)
        per = -(y * np.log(q) + (1 - y) * np.log(1 - q))
        grad = None
        if need_grad:
            inside = (p >= eps) & (p <= 1 - eps)
            grad = np.where(inside, -(y / q) + (1 - y) / (1 - q), 0) / k
        return per.mean(axis=-1), grad


class CategoricalCrossentropy(_FromLogits):
    name = "categorical_crossentropy"

    def _per_sample_and_grad(self, y, p, need_grad):
        """y: one-hot (or any distribution) shaped like p; sparse subclass passes labels."""
        if self.from_logits:
            m = p.max(axis=-1, keepdims=True)
            logsum = np.log(np.exp(p - m).sum(axis=-1, keepdims=True)) + m
            logq = p - logsum
            per = -(y * logq).sum(axis=-1)
            grad = np.exp(logq) * y.sum(axis=-1, keepdims=True) - y if need_grad else None
            return per, grad
        eps = EPSILON
        s = p.sum(axis=-1, keepdims=True)
        pn = p / s
        q = np.clip(pn, eps, 1 - eps)
        per = -(y * np.log(q)).sum(axis=-1)
        grad = None
        if need_grad:
            inside = (pn >= eps) & (pn <= 1 - eps)
            g = np.where(inside, -y / q, 0)                   # dL/dpn
            grad = (g - (g * pn).sum(axis=-1, keepdims=True)) / s
        return per, grad


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    name = "sparse_categorical_crossentropy"
    sparse = True

    def _per_sample_and_grad(self, y, p, need_grad):
        onehot = np.zeros_like(p)
        np.put_along_axis(onehot, y[..., None], 1, axis=-1)
        return super()._per_sample_and_grad(onehot, p, need_grad)


_NAMES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
}
_CLASSES = {c.__name__: c for c in set(_NAMES.values())}


def get(identifier):
    """A Loss from a Keras name, an instance or {'class_name', 'config'}."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        return _CLASSES[identifier["class_name"]](**identifier.get("config", {}))
    raise ValueError(f"loss must be one of {', '.join(repr(n) for n in _NAMES)} or a "
                     f"fastrnn.losses.Loss; got {identifier!r}")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}
