"""Keras's model methods beyond compile / fit / evaluate / predict, and the helpers fit uses for
Keras's per-sample weights (a mixin of ``Sequential``: ``KerasModelAPI``).

    predict_on_batch(x), train_on_batch(x, y, sample_weight, class_weight, return_dict),
    test_on_batch(x, y, sample_weight, return_dict), reset_states(),
    save_weights(filepath, overwrite=True), load_weights(filepath, skip_mismatch=False)

Weight files: a name ending in ``.weights.h5`` is Keras 3's weights format (needs h5py; a
Keras model's ``load_weights`` reads it, and fastrnn reads Keras's); any other name gets
fastrnn's own: an ``.npz`` archive (written at exactly that path) of the arrays in
``get_weights()`` order with a JSON header naming the layers and shapes.

Sample weights (``fit(sample_weight=..., class_weight=...)``), Keras's rules: `sample_weight`
is (samples,), (samples, 1) or shaped like the per-entry losses (e.g. (samples, time)); it
multiplies each sample's loss (see ``fastrnn.nn.losses``) and the metrics are weighted means.
`class_weight` {class: weight} turns into sample weights from y (integer labels, a trailing
axis of 1, or one-hot rows via argmax; classes not listed weigh 1); it cannot be combined with
`sample_weight` and is not applied to the validation data. Either trains on both paths.
"""

from __future__ import annotations

import json
import os
import tempfile

import numpy as np

from fastrnn.nn import metrics as _metrics
from fastrnn.nn import saving as _saving
from fastrnn.nn.layers import masking as _masking

__all__ = ["KerasModelAPI", "check_sample_weight", "with_class_weight", "save",
           "WEIGHTS_FORMAT"]

WEIGHTS_FORMAT = "fastrnn-weights"
_HEADER = "fastrnn_weights.json"


def _shape(s):
    return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def check_sample_weight(sample_weight, class_weight, n, name="sample_weight"):
    """`sample_weight` as a float64 array with `n` samples (or None); checks `class_weight`."""
    if class_weight is not None:
        if sample_weight is not None:
            raise ValueError("You cannot `class_weight` and `sample_weight` at the same time.")
        if not isinstance(class_weight, dict):
            raise TypeError(f"class_weight must be a dict {{class: weight}}, got "
                            f"{type(class_weight).__name__}")
        for k, v in class_weight.items():
            if not isinstance(k, (int, np.integer)) or isinstance(k, bool):
                raise TypeError(f"class_weight keys must be int class indices, got {k!r}")
            if not np.isfinite(float(v)):
                raise ValueError(f"class_weight[{k}] must be finite, got {v!r}")
    if sample_weight is None:
        return None
    w = np.asarray(sample_weight)
    if w.dtype.kind not in "fiub" or w.ndim == 0:
        raise TypeError(f"{name} must be an array of numbers with one entry per sample, got "
                        f"{type(sample_weight).__name__} of dtype {w.dtype}")
    if w.shape[0] != n:
        raise ValueError(f"{name} has {w.shape[0]} samples but x has {n}: they must have the "
                         "same length")
    w = w.astype(np.float64)
    if not np.isfinite(w).all():
        raise ValueError(f"{name} contains NaN or inf")
    return w


def with_class_weight(sample_weight, class_weight, y):
    """Keras's ``class_weight_to_sample_weights``: (samples,) weights from the targets."""
    if class_weight is None:
        return sample_weight
    y = np.asarray(y)
    if y.ndim > 1:
        y = np.argmax(y, axis=-1) if y.shape[-1] != 1 else y[..., 0]
    if y.ndim != 1:
        raise ValueError(f"class_weight needs one class per sample: targets of shape "
                         f"(samples,), (samples, 1) or one-hot (samples, classes), got a "
                         f"target array of {y.ndim + 1} dimensions")
    labels = np.round(y).astype(np.int64)
    return np.array([float(class_weight.get(int(c), 1.0)) for c in labels], np.float64)


def save(model, filepath, overwrite=True):
    """``model.save``: '.keras' writes Keras 3's format, '.h5' / '.hdf5' (Keras's legacy HDF5)
    are refused, any other name gets fastrnn's own file (see ``fastrnn.nn.saving``)."""
    path = os.fspath(filepath)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path!r} exists and overwrite=False")
    low = path.lower()
    if low.endswith(".keras"):
        from fastrnn.nn import keras_files
        keras_files.save_keras(model, path)
    elif low.endswith((".h5", ".hdf5")):
        raise ValueError(f"{path!r}: fastrnn does not write Keras's legacy HDF5 model format; "
                         "save to a '.keras' file (Keras 3's format) or to any other name for "
                         "fastrnn's own" + (" (save_weights writes '.weights.h5')"
                                            if low.endswith(".weights.h5") else ""))
    else:
        _saving.save_model(model, path)


class KerasModelAPI:
    """The Keras methods a ``Sequential`` gets on top of ``Training``."""

    # -- hooks used by fit -----------------------------------------------------------------
    def _apply_constraints(self):
        for layer in self._layers:
            apply = getattr(layer, "apply_constraints", None)
            if apply is not None:
                apply()

    def _record_diverged_epoch(self, epoch):
        """Give the epoch a fit stopped in (non-finite loss) its History entry, as Keras logs
        the epoch whose loss became NaN: every key gets NaN for it."""
        h = getattr(self, "history", None)
        if h is None or not hasattr(h, "epoch") or epoch in h.epoch:
            return
        logs = {"loss": float("nan")}
        for m in getattr(self, "_metric_names", []):
            logs[m] = float("nan")
        for k in h.history:
            logs.setdefault(k, float("nan"))
        h.on_epoch_end(epoch, logs)

    # -- masks (a Masking first layer; see fastrnn.nn.layers.masking) ------------------------
    def _forward(self, x, training):
        if not _masking.has_masking(self._layers):
            return super()._forward(x, training)
        return _masking.forward(self._layers, x, training)

    def _step(self, x, y, training=True, sample_weight=None):
        if _masking.has_masking(self._layers):
            mask = _masking.output_mask(self._layers, x)
            if mask is not None:
                sample_weight = _masking.loss_weights(mask, sample_weight)
        return super()._step(x, y, training=training, sample_weight=sample_weight)

    def loss_and_gradients(self, x, y, training=False):
        if not _masking.has_masking(self._layers):
            return super().loss_and_gradients(x, y, training)
        self._require_compiled()
        x = self._prepare_x(x)
        y = self._prepare_y(y, x.shape[0])
        pred = self._forward(x, training)
        mask = _masking.output_mask(self._layers, x)
        w = None if mask is None else _masking.loss_weights(mask, None)
        value, dpred = self.loss.value_and_grad(y, pred, sample_weight=w)
        self._backward(dpred)
        return value + self._penalty(), [g.copy() for g in self._grads()]

    def _loss_weights(self, x, sample_weight):
        mask = (_masking.output_mask(self._layers, x) if _masking.has_masking(self._layers)
                else None)
        return sample_weight if mask is None else _masking.loss_weights(mask, sample_weight)

    # -- Keras's batch methods -------------------------------------------------------------
    def predict_on_batch(self, x):
        """The outputs for one batch `x` (inference mode, no batching), as a NumPy array."""
        return self._forward(self._prepare_x(x), False)

    def _batch_logs(self, y, pred, value, sample_weight, return_dict):
        logs = {"loss": float(value)}
        for name in self._metric_names:
            m = _metrics.get(name, self.loss.name)
            m.update(y, pred, sample_weight)
            logs[m.name] = m.result()
        return logs if return_dict else (logs["loss"] if len(logs) == 1 else list(logs.values()))

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None, return_dict=False):
        """One optimiser update on the batch (x, y) (Python path); returns the batch's loss
        (computed before the update, with the penalties) or [loss, metrics...] / a dict."""
        self._require_compiled()
        x = self._prepare_x(x)
        y = self._prepare_y(y, x.shape[0])
        sw = with_class_weight(check_sample_weight(sample_weight, class_weight, x.shape[0]),
                               class_weight, y)
        if not self._flat_ok():
            self._flatten()
        value, grads, pred = self._step_or_raise(x, y, sw, "train_on_batch")
        opt = self.optimizer
        if opt.clipnorm is not None or opt.clipvalue is not None or opt.global_clipnorm is not None:
            grads = opt._clip(grads)
        for g, (lo, hi) in zip(grads, self._slices):
            self._flat_grad[lo:hi] = g.ravel()
        if not np.isfinite(self._flat_grad).all():
            raise FloatingPointError("train_on_batch: a gradient contains NaN or inf; no update "
                                     "was applied")
        opt.step([self._flat], [self._flat_grad])
        self._apply_constraints()
        return self._batch_logs(y, pred, value, sw, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        """The loss (with the penalties) and metrics of one batch, in inference mode."""
        self._require_compiled()
        x = self._prepare_x(x)
        y = self._prepare_y(y, x.shape[0])
        sw = check_sample_weight(sample_weight, None, x.shape[0])
        pred = self._forward(x, False)
        value = self.loss(y, pred, sw) + self._penalty()
        return self._batch_logs(y, pred, value, sw, return_dict)

    def reset_states(self):
        """Zero the states of every stateful layer (Keras's ``model.reset_states()``)."""
        for layer in self._layers:
            if getattr(layer, "stateful", False):
                layer.reset_states()

    reset_state = reset_states

    # -- weights files ---------------------------------------------------------------------
    def save_weights(self, filepath, overwrite=True):
        """Write the weights to `filepath`: Keras 3's format for '.weights.h5' (needs h5py),
        fastrnn's own ``.npz`` archive (at exactly that path) for any other name."""
        self._require_built()
        path = os.fspath(filepath)
        if not overwrite and os.path.exists(path):
            raise FileExistsError(f"{path!r} exists and overwrite=False")
        if path.lower().endswith(".weights.h5"):
            from fastrnn.nn import keras_files
            keras_files.save_weights_h5(self, path)
            return
        header = {"format": WEIGHTS_FORMAT, "format_version": 1,
                  "layers": [{"name": layer.name, "class_name": type(layer).__name__,
                              "shapes": [list(w.shape) for w in layer.weights]}
                             for layer in self._layers]}
        arrays = {_HEADER: np.frombuffer(json.dumps(header).encode("utf-8"), np.uint8)}
        arrays.update({f"weight_{i:05d}": w for i, w in enumerate(self.get_weights())})
        fd, tmp = tempfile.mkstemp(prefix=".fastrnn-weights-",
                                   dir=os.path.dirname(os.path.abspath(path)))
        try:
            with os.fdopen(fd, "wb") as f:
                np.savez(f, **arrays)
            os.replace(tmp, path)
        except BaseException:
            if os.path.exists(tmp):
                os.unlink(tmp)
            raise

    def load_weights(self, filepath, skip_mismatch=False):
        """Read weights written by ``save_weights`` (or a Keras 3 '.weights.h5' file of the
        same architecture). Layer by layer, in order; a layer whose arrays do not fit raises
        ValueError naming it, or is left as it is with ``skip_mismatch=True`` (a warning)."""
        self._require_built()
        path = os.fspath(filepath)
        if not os.path.isfile(path):
            raise FileNotFoundError(f"no such weights file: {path!r}")
        from fastrnn.nn import keras_files
        kind = keras_files.sniff(path)
        if kind == "h5":
            per_layer = keras_files.read_weights_h5(path, self._layers)
        elif kind == "zip":
            per_layer = self._read_npz_weights(path)
        else:
            raise ValueError(f"{path!r} is neither a fastrnn weights file nor a Keras 3 "
                             "'.weights.h5' file")
        _assign(self, per_layer, path, skip_mismatch)

    def _read_npz_weights(self, path):
        try:
            with np.load(path, allow_pickle=False) as a:
                if _HEADER not in a.files:
                    raise ValueError(f"{path!r} is not a fastrnn weights file (no {_HEADER!r}; "
                                     "a model file? use fastrnn.load_model)")
                header = json.loads(a[_HEADER].tobytes().decode("utf-8"))
                flat = [a[f"weight_{i:05d}"] for i in range(
                    sum(len(spec["shapes"]) for spec in header["layers"]))]
        except (OSError, KeyError, json.JSONDecodeError) as exc:
            raise ValueError(f"{path!r} is not a readable fastrnn weights file ({exc})") from None
        if header.get("format") != WEIGHTS_FORMAT:
            raise ValueError(f"{path!r} is not a fastrnn weights file")
        out, i = [], 0
        for spec in header["layers"]:
            k = len(spec["shapes"])
            out.append((spec["name"], flat[i:i + k]))
            i += k
        return out


def _assign(model, per_layer, path, skip_mismatch):
    import warnings
    layers = model._layers
    if len(per_layer) != len(layers):
        msg = (f"{path!r} holds weights for {len(per_layer)} layers, model {model.name!r} has "
               f"{len(layers)}")
        if not skip_mismatch:
            raise ValueError(msg)
        warnings.warn(msg + "; loading the layers that match", RuntimeWarning, stacklevel=3)
    for layer, (fname, arrays) in zip(layers, per_layer):
        shapes = [w.shape for w in layer.weights]
        got = [np.shape(a) for a in arrays]
        if shapes != got:
            msg = (f"layer {layer.name!r} ({type(layer).__name__}) expects weights of shapes "
                   f"{', '.join(map(_shape, shapes)) or 'none'}, the file's layer {fname!r} has "
                   f"{', '.join(map(_shape, got)) or 'none'}")
            if not skip_mismatch:
                raise ValueError(msg)
            warnings.warn(f"skipping {msg}", RuntimeWarning, stacklevel=3)
            continue
        if arrays:
            layer.set_weights(arrays)
