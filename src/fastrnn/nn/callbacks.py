"""Callbacks for ``fit``, with Keras's names and hooks: ``History``, ``EarlyStopping``,
``TerminateOnNaN``, ``LambdaCallback`` and the ``Callback`` base class.

Hooks (each gets ``logs``, a dict of the current values): ``on_train_begin``,
``on_train_end``, ``on_epoch_begin(epoch)``, ``on_epoch_end(epoch)`` (logs hold loss, metrics,
val_loss, val_metrics of that epoch), ``on_train_batch_begin(batch)``,
``on_train_batch_end(batch)`` (logs hold the running loss). Set ``self.model.stop_training =
True`` to stop after the current epoch.

(fit always stops at a non-finite loss, so TerminateOnNaN only exists for Keras code that
lists it.)
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params

__all__ = ["Callback", "History", "EarlyStopping", "TerminateOnNaN", "LambdaCallback"]

_MODES = _params.Options(("auto", "min", "max"))
_PATIENCE = _params.Int(0)


class Callback:
    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = params

    def on_train_begin(self, logs=None): pass
    def on_train_end(self, logs=None): pass
    def on_epoch_begin(self, epoch, logs=None): pass
    def on_epoch_end(self, epoch, logs=None): pass
    def on_train_batch_begin(self, batch, logs=None): pass
    def on_train_batch_end(self, batch, logs=None): pass


class History(Callback):
    """Records every epoch's logs: ``history.history["loss"]`` is a list, one value per epoch;
    ``history.epoch`` the epoch indices."""

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for k, v in (logs or {}).items():
            self.history.setdefault(k, []).append(v)

    def __repr__(self):
        return f"History(epochs={len(self.epoch)}, keys={list(self.history)})"


class EarlyStopping(Callback):
    """Stop when `monitor` has not improved by more than `min_delta` for `patience` epochs.

    Keras's arguments and rules: mode 'auto' minimises unless the name contains 'acc';
    ``restore_best_weights=True`` puts back the weights of the best epoch at the end of
    training; ``baseline`` (an improvement must also beat it); ``start_from_epoch``.
    ``stopped_epoch`` and ``best_epoch`` are set after training (0-based; 0 = not stopped)."""

    def __init__(self, monitor="val_loss", min_delta=0.0, patience=0, verbose=0, mode="auto",
                 baseline=None, restore_best_weights=False, start_from_epoch=0):
        super().__init__()
        _params.check(mode, "mode", _MODES)
        _params.check(int(patience), "patience", _PATIENCE)
        self.monitor, self.patience, self.verbose = monitor, int(patience), verbose
        self.min_delta = abs(float(min_delta))
        self.baseline, self.restore_best_weights = baseline, bool(restore_best_weights)
        self.start_from_epoch = int(start_from_epoch)
        if mode == "auto":
            mode = "max" if "acc" in monitor else "min"
        self.mode = mode

    def _better(self, value, reference):
        if reference is None:
            return True
        if self.mode == "min":
            return value + self.min_delta < reference
        return value - self.min_delta > reference

    def on_train_begin(self, logs=None):
        self.wait, self.stopped_epoch, self.best_epoch = 0, 0, 0
        self.best, self.best_weights = None, None

    def on_epoch_end(self, epoch, logs=None):
        current = (logs or {}).get(self.monitor)
        if current is None:
            import warnings
            warnings.warn(f"EarlyStopping monitors {self.monitor!r}, which is not among the "
                          f"logged values {sorted(logs or {})}", RuntimeWarning, stacklevel=2)
            return
        if epoch < self.start_from_epoch or not np.isfinite(current):
            return
        if self.restore_best_weights and self.best_weights is None:
            self.best_weights = self.model.get_weights()
        self.wait += 1
        if self._better(current, self.best):
            self.best, self.best_epoch = current, epoch
            if self.restore_best_weights:
                self.best_weights = self.model.get_weights()
            if self.baseline is None or self._better(current, self.baseline):
                self.wait = 0
            return
        if self.wait >= self.patience and epoch > 0:
            self.stopped_epoch = epoch
            self.model.stop_training = True

    def on_train_end(self, logs=None):
        if self.stopped_epoch > 0 and self.verbose > 0:
            print(f"Epoch {self.stopped_epoch + 1}: early stopping")
        if self.restore_best_weights and self.best_weights is not None:
            if self.verbose > 0:
                print("Restoring model weights from the end of the best epoch: "
                      f"{self.best_epoch + 1}.")
            self.model.set_weights(self.best_weights)


class TerminateOnNaN(Callback):
    """Kept for Keras compatibility: fit already stops at a non-finite loss."""


class LambdaCallback(Callback):
    """A callback from plain functions: on_epoch_begin(epoch, logs), on_epoch_end(epoch, logs),
    on_train_begin(logs), on_train_end(logs), on_batch_begin(batch, logs), on_batch_end(...)."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_batch_begin=None, on_batch_end=None):
        super().__init__()
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_train_batch_begin", on_batch_begin),
                         ("on_train_batch_end", on_batch_end)):
            if fn is not None:
                setattr(self, name, fn)
