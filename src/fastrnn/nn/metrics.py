"""Metrics reported by ``fit`` and ``evaluate``, with Keras's names.

A metric is averaged over the samples of an epoch, weighted by batch size, as Keras does
(``root_mean_squared_error`` takes the root of the averaged squared error). The history key is
the name you passed: ``metrics=["mae"]`` gives ``history["mae"]`` and ``history["val_mae"]``.

    mse, mean_squared_error, mae, mean_absolute_error, mape, mean_absolute_percentage_error,
    rmse, root_mean_squared_error, accuracy / acc (binary, categorical or sparse categorical
    accuracy chosen from the loss, as Keras does), binary_accuracy (threshold 0.5),
    categorical_accuracy, sparse_categorical_accuracy
"""

from __future__ import annotations

import numpy as np

from fastrnn.nn import losses as _losses

__all__ = ["Metric", "get", "NAMES"]


def _se(y, p):
    return ((p - y) ** 2).mean(axis=-1)


def _ae(y, p):
    return np.abs(p - y).mean(axis=-1)


def _ape(y, p):
    return 100.0 * (np.abs((y - p) / np.maximum(np.abs(y), 1e-7))).mean(axis=-1)


def _bin_acc(y, p):
    return ((p > 0.5) == (y > 0.5)).mean(axis=-1)


def _cat_acc(y, p):
    return (np.argmax(p, axis=-1) == np.argmax(y, axis=-1)).astype(np.float64)


def _sparse_acc(y, p):
    y = np.asarray(y)
    if y.shape == p.shape[:-1] + (1,):
        y = y[..., 0]
    return (np.argmax(p, axis=-1) == y.astype(np.int64)).astype(np.float64)


_FUNCS = {
    "mse": _se, "mean_squared_error": _se, "rmse": _se, "root_mean_squared_error": _se,
    "mae": _ae, "mean_absolute_error": _ae,
    "mape": _ape, "mean_absolute_percentage_error": _ape,
    "binary_accuracy": _bin_acc, "categorical_accuracy": _cat_acc,
    "sparse_categorical_accuracy": _sparse_acc,
}
NAMES = tuple(_FUNCS) + ("accuracy", "acc")


class Metric:
    """A running, sample-weighted mean of a per-sample function."""

    def __init__(self, name, fn, root=False):
        self.name, self.fn, self.root = name, fn, root
        self.reset()

    def reset(self):
        self._total, self._count = 0.0, 0

    def update(self, y_true, y_pred, sample_weight=None):
        """Add a batch. Keras's rules: the arrays are squeezed or expanded to one rank (see
        ``losses.squeeze_or_expand``) and broadcast; a metric's per-entry values are averaged
        per sample; with `sample_weight` ((batch,), (batch, 1) or per entry) the mean is
        weighted and the count is the sum of the (per-sample averaged) weights."""
        y_pred = np.asarray(y_pred)
        y_true = np.asarray(y_true)
        if self.fn is not _sparse_acc:
            y_true, y_pred = _losses.squeeze_or_expand(y_true, y_pred)
        per = np.asarray(self.fn(y_true, y_pred), dtype=np.float64)
        if sample_weight is None:
            if per.ndim > 1:
                per = per.mean(axis=tuple(range(1, per.ndim)))
            self._total += float(per.sum())
            self._count += per.shape[0] if per.ndim else 1
            return
        w = np.asarray(sample_weight, dtype=np.float64)
        per, w = _losses.squeeze_or_expand(per, w)
        if per.ndim > w.ndim:
            per = per.mean(axis=tuple(range(w.ndim, per.ndim)))
        w = np.broadcast_to(w, per.shape)
        per = per * w
        if w.ndim > 1:
            w = w.mean(axis=tuple(range(1, w.ndim)))
        if per.ndim > 1:
            per = per.mean(axis=tuple(range(1, per.ndim)))
        self._total += float(per.sum())
        self._count += float(w.sum())

    def result(self):
        if not self._count:
            return 0.0
        v = self._total / self._count
        return float(np.sqrt(v)) if self.root else v


def get(name, loss_name=None):
    """A fresh Metric for `name`; 'accuracy' is resolved from the loss name as Keras does."""
    if not isinstance(name, str) or name not in NAMES:
        raise ValueError(f"metrics entries must be among {', '.join(repr(n) for n in NAMES)}; "
                         f"got {name!r}")
    fn_name = name
    if name in ("accuracy", "acc"):
        fn_name = {"binary_crossentropy": "binary_accuracy",
                   "sparse_categorical_crossentropy": "sparse_categorical_accuracy"}.get(
            loss_name, "categorical_accuracy")
    return Metric(name, _FUNCS[fn_name], root=fn_name in ("rmse", "root_mean_squared_error"))
