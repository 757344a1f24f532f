"""Callbacks for ``fit``, with Keras 3's names, arguments and rules: ``History``,
``EarlyStopping``, ``ModelCheckpoint``, ``ReduceLROnPlateau``, ``LearningRateScheduler``,
``TerminateOnNaN``, ``CSVLogger``, ``LambdaCallback`` and the ``Callback`` base class.

Hooks (each gets ``logs``, a dict of the current values): ``on_train_begin``,
``on_train_end``, ``on_epoch_begin(epoch)``, ``on_epoch_end(epoch)`` (logs hold loss, metrics,
val_loss, val_metrics of that epoch), ``on_train_batch_begin(batch)``,
``on_train_batch_end(batch)`` (logs hold the running loss; by default they call Keras's older
``on_batch_begin`` / ``on_batch_end``). Set ``self.model.stop_training = True`` to stop after
the current epoch. A callback with per-batch hooks makes ``fit`` train on the Python path (the
compiled core runs whole epochs); ``batch_hook(cb)`` names the hook.

fit always stops at a non-finite loss (see ``fastrnn.nn.training``), so ``TerminateOnNaN``
needs no per-batch hook here; ``TerminateOnNaN(raise_error=True)`` raises RuntimeError at the
end of such a fit, as Keras raises at the batch.
"""

from __future__ import annotations

import collections.abc
import csv
import os
import warnings

import numpy as np

from fastrnn import _params

__all__ = ["Callback", "History", "EarlyStopping", "ModelCheckpoint", "ReduceLROnPlateau",
           "LearningRateScheduler", "TerminateOnNaN", "CSVLogger", "LambdaCallback",
           "batch_hook"]

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
    def on_batch_begin(self, batch, logs=None): pass
    def on_batch_end(self, batch, logs=None): pass
    def on_test_begin(self, logs=None): pass
    def on_test_end(self, logs=None): pass
    def on_predict_begin(self, logs=None): pass
    def on_predict_end(self, logs=None): pass

    def on_train_batch_begin(self, batch, logs=None):
        self.on_batch_begin(batch, logs=logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs=logs)


_BATCH_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")


def batch_hook(cb):
    """The per-batch hook `cb` defines (a method of its class or a function set on the
    instance), named by the fit hook that calls it ('on_train_batch_begin' also for an
    overridden ``on_batch_begin``), or None."""
    for hook in _BATCH_HOOKS:
        if getattr(getattr(cb, hook), "__func__", None) is not getattr(Callback, hook):
            return hook.replace("on_batch", "on_train_batch")
    return None


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


class ModelCheckpoint(Callback):
    """Save the model (``model.save``) or its weights (``model.save_weights``) after each epoch,
    or every `save_freq` batches (an int: the per-batch hook then keeps ``fit`` on the Python
    path). `filepath` may hold ``str.format`` fields: ``epoch`` (1-based), ``batch`` and the
    logged values, e.g. ``"ckpt-{epoch:02d}-{val_loss:.2f}.keras"``. Keras's rules for
    `monitor`, `mode`, `save_best_only` and `initial_value_threshold`. Unlike Keras, any file
    name is accepted: ``.keras`` / ``.weights.h5`` give Keras's formats (h5py needed), other
    names fastrnn's own (see ``Sequential.save`` / ``save_weights``)."""

    def __init__(self, filepath, monitor="val_loss", verbose=0, save_best_only=False,
                 save_weights_only=False, mode="auto", save_freq="epoch",
                 initial_value_threshold=None):
        super().__init__()
        self.filepath = os.fspath(filepath)
        self.monitor, self.verbose = monitor, verbose
        self.save_best_only, self.save_weights_only = bool(save_best_only), bool(save_weights_only)
        self.mode = _mode(mode, self)
        if save_freq != "epoch" and (not isinstance(save_freq, int) or isinstance(save_freq, bool)
                                     or save_freq < 1):
            raise ValueError(f"save_freq must be 'epoch' or a positive int, got {save_freq!r}")
        self.save_freq = save_freq
        self.best = initial_value_threshold
        self._seen = 0
        self._epoch = 0
        if save_freq != "epoch":
            self.on_train_batch_end = self._batch_end

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch

    def _batch_end(self, batch, logs=None):
        self._seen += 1
        if self._seen >= self.save_freq:
            self._seen = 0
            self._save(self._epoch, batch, logs or {})

    def on_epoch_end(self, epoch, logs=None):
        if self.save_freq == "epoch":
            self._save(epoch, None, logs or {})

    def _save(self, epoch, batch, logs):
        fields = dict(logs, epoch=epoch + 1)
        if batch is not None:
            fields.setdefault("batch", batch + 1)
        try:
            path = self.filepath.format(**fields)
        except KeyError as exc:
            raise KeyError(f"Failed to format this callback filepath: {self.filepath!r}. "
                           f"Reason: {exc}") from None
        if self.save_best_only:
            current = logs.get(self.monitor)
            if current is None:
                warnings.warn(f"Can save best model only with {self.monitor} available.",
                              RuntimeWarning, stacklevel=3)
            elif _improved(self.mode, current, self.best, 0.0):
                if self.verbose > 0:
                    best = "None" if self.best is None else f"{self.best:.5f}"
                    print(f"\nEpoch {epoch + 1}: {self.monitor} improved from {best} to "
                          f"{current:.5f}, saving model to {path}")
                self.best = current
            else:
                if self.verbose > 0:
                    print(f"\nEpoch {epoch + 1}: {self.monitor} did not improve from "
                          f"{self.best:.5f}")
                return
        elif self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: saving model to {path}")
        directory = os.path.dirname(path)
        if directory:
            os.makedirs(directory, exist_ok=True)
        if os.path.isdir(path):
            raise OSError("Please specify a non-directory filepath for ModelCheckpoint. "
                          f"Filepath used is an existing directory: {path}")
        if self.save_weights_only:
            self.model.save_weights(path, overwrite=True)
        else:
            self.model.save(path, overwrite=True)


class ReduceLROnPlateau(Callback):
    """Multiply the learning rate by `factor` (< 1) when `monitor` has not improved by more
    than `min_delta` for `patience` epochs; wait `cooldown` epochs after a reduction; never go
    below `min_lr`. Logs ``learning_rate`` each epoch. (Keras's arguments and rules.)"""

    def __init__(self, monitor="val_loss", factor=0.1, patience=10, verbose=0, mode="auto",
                 min_delta=1e-4, cooldown=0, min_lr=0.0, **kwargs):
        super().__init__()
        if factor >= 1.0:
            raise ValueError(f"ReduceLROnPlateau does not support a factor >= 1.0. "
                             f"Received factor={factor}")
        self.monitor, self.factor, self.patience, self.verbose = monitor, factor, patience, verbose
        self.mode = _mode(mode, self)
        self.min_delta, self.cooldown, self.min_lr = abs(min_delta), cooldown, min_lr
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def on_train_begin(self, logs=None):
        self.best, self.wait, self.cooldown_counter = None, 0, 0

    def in_cooldown(self):
        return self.cooldown_counter > 0

    def on_epoch_end(self, epoch, logs=None):
        logs = logs if logs is not None else {}
        opt = self.model.optimizer
        logs["learning_rate"] = float(opt.learning_rate)
        current = logs.get(self.monitor)
        if current is None:
            warnings.warn(f"Learning rate reduction is conditioned on metric `{self.monitor}` "
                          f"which is not available. Available metrics are: "
                          f"{','.join(logs)}.", RuntimeWarning, stacklevel=2)
            return
        if self.in_cooldown():
            self.cooldown_counter -= 1
            self.wait = 0
        if _improved(self.mode, current, self.best, self.min_delta):
            self.best, self.wait = current, 0
        elif not self.in_cooldown():
            self.wait += 1
            if self.wait >= self.patience:
                old = float(opt.learning_rate)
                if old > np.float32(self.min_lr):
                    new = max(old * self.factor, self.min_lr)
                    opt.learning_rate = new
                    if self.verbose > 0:
                        print(f"\nEpoch {epoch + 1}: ReduceLROnPlateau reducing learning "
                              f"rate to {new}.")
                    self.cooldown_counter, self.wait = self.cooldown, 0


class LearningRateScheduler(Callback):
    """Set the learning rate at the start of each epoch to ``schedule(epoch, lr)`` (or
    ``schedule(epoch)``, Keras's old form); logs ``learning_rate``."""

    def __init__(self, schedule, verbose=0):
        super().__init__()
        self.schedule, self.verbose = schedule, verbose

    def on_epoch_begin(self, epoch, logs=None):
        opt = self.model.optimizer
        try:
            lr = self.schedule(epoch, float(opt.learning_rate))
        except TypeError:   # the old one-argument form
            lr = self.schedule(epoch)
        if not isinstance(lr, (float, np.float32, np.float64)):   # Keras raises ValueError
            raise ValueError(  # noqa: TRY004
                f"The output of the `schedule` function should be a float. Got: {lr}")
        opt.learning_rate = _params.check(float(lr), "the scheduled learning rate",
                                          _params.Real(0, closed="neither"))
        if self.verbose > 0:
            print(f"\nEpoch {epoch + 1}: LearningRateScheduler setting learning rate to {lr}.")

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["learning_rate"] = float(self.model.optimizer.learning_rate)


class TerminateOnNaN(Callback):
    """Keras's TerminateOnNaN: fit already stops at a non-finite loss (and keeps the last
    finite weights); with ``raise_error=True`` such a fit then raises RuntimeError."""

    def __init__(self, raise_error=False):
        super().__init__()
        self.raise_error = bool(raise_error)

    def on_train_end(self, logs=None):
        where = getattr(getattr(self.model, "history", None), "nonfinite", None)
        if self.raise_error and where is not None:
            raise RuntimeError(f"NaN or Inf loss encountered at epoch {where[0] + 1}, batch "
                               f"{where[1]}. Terminating training immediately.")


class CSVLogger(Callback):
    """Write each epoch's logs as a CSV row to `filename` (Keras's format: an ``epoch``
    column, then the sorted keys, val_ columns added when there is no validation; `append`
    continues an existing file)."""

    def __init__(self, filename, separator=",", append=False):
        super().__init__()
        self.filename, self.sep, self.append = os.fspath(filename), separator, bool(append)
        self.keys, self.writer, self.csv_file = None, None, None

    def on_train_begin(self, logs=None):
        header = True
        if self.append and os.path.exists(self.filename):
            with open(self.filename) as f:
                header = not bool(len(f.readline()))
        self._header = header
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        # open for the whole fit, closed in on_train_end (Keras's CSVLogger does the same)
        self.csv_file = open(self.filename, "a" if self.append else "w", newline="")  # noqa: SIM115
        self.keys, self.writer = None, None

    def on_epoch_end(self, epoch, logs=None):
        logs = logs or {}

        def value(v):
            if isinstance(v, str):
                return v
            if isinstance(v, collections.abc.Iterable) and not (
                    isinstance(v, np.ndarray) and v.ndim == 0):
                return f'"[{", ".join(map(str, v))}]"'
            return v

        if self.keys is None:
            self.keys = sorted(logs)
            if self.keys and not any(k.startswith("val_") for k in self.keys):
                self.keys.extend([f"val_{k}" for k in self.keys])
        if self.writer is None:
            class Dialect(csv.excel):
                delimiter = self.sep
            self.writer = csv.DictWriter(self.csv_file, fieldnames=["epoch"] + self.keys,
                                         dialect=Dialect)
            if self._header:
                self.writer.writeheader()
        row = {"epoch": epoch}
        row.update((k, value(logs.get(k, "NA"))) for k in self.keys)
        self.writer.writerow(row)
        self.csv_file.flush()

    def on_train_end(self, logs=None):
        if self.csv_file is not None and not self.csv_file.closed:
            self.csv_file.close()
        self.writer = None


class LambdaCallback(Callback):
    """A callback from plain functions (Keras 3's arguments): on_epoch_begin(epoch, logs),
    on_epoch_end(epoch, logs), on_train_begin(logs), on_train_end(logs),
    on_train_batch_begin(batch, logs), on_train_batch_end(batch, logs); other keyword
    arguments (e.g. Keras 2's ``on_batch_end=``) become attributes, as in Keras."""

    def __init__(self, on_epoch_begin=None, on_epoch_end=None, on_train_begin=None,
                 on_train_end=None, on_train_batch_begin=None, on_train_batch_end=None,
                 **kwargs):
        super().__init__()
        self.__dict__.update(kwargs)
        for name, fn in (("on_epoch_begin", on_epoch_begin), ("on_epoch_end", on_epoch_end),
                         ("on_train_begin", on_train_begin), ("on_train_end", on_train_end),
                         ("on_train_batch_begin", on_train_batch_begin),
                         ("on_train_batch_end", on_train_batch_end)):
            if fn is not None:
                setattr(self, name, fn)


def _mode(mode, cb):
    """Keras's monitor mode: unknown modes fall back to 'auto' with a warning; 'auto' minimises
    the loss and the error metrics and maximises accuracies."""
    if mode not in ("auto", "min", "max"):
        warnings.warn(f"{type(cb).__name__} mode {mode!r} is unknown, fallback to auto mode.",
                      RuntimeWarning, stacklevel=3)
        mode = "auto"
    if mode != "auto":
        return mode
    name = cb.monitor.removeprefix("val_")
    if name == "loss" or any(k in name for k in ("error", "mse", "mae", "mape", "rmse")):
        return "min"
    if "acc" in name:
        return "max"
    raise ValueError(f"{type(cb).__name__} callback received monitor={cb.monitor}, but fastrnn "
                     "isn't able to automatically determine whether that metric should be "
                     "maximized or minimized. Pass `mode='max'` in order to monitor based on "
                     "the highest metric value, or pass `mode='min'` in order to use the "
                     "lowest value.")


def _improved(mode, current, best, min_delta):
    if best is None:
        return True
    """Keras's ``monitor_op(current -/+ min_delta, best)``."""
    if mode == "min":
        return current + min_delta < best
    return current - min_delta > best
