"""``Sequential``: a Keras-style stack of layers with compile / fit / evaluate / predict.

    model = Sequential([layers.LSTM(4, input_shape=(None, 4)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, y, epochs=10, batch_size=32, validation_split=0.2)
    model.predict(X_test)

Behaviour follows Keras 3 where it is observable: default batch size 32; ``validation_split``
takes the *last* fraction of the samples, before shuffling; the reported ``loss`` is the
sample-weighted mean of the batch losses of the epoch (each computed before that batch's
update) and includes the regularisation penalties, as does ``val_loss``; metrics are
averaged the same way; ``verbose=1`` prints "Epoch e/E" and a progress line with the loss.

The training step is: forward (one ``fastrnn.ops`` call per recurrent layer), loss and its
gradient, backward (one ops backward call per recurrent layer), penalties' gradients,
gradient clipping, optimiser update in place. No Python loop over time steps (except for
recurrent_dropout, see ``fastrnn.layers``).

Non-finite losses: if a batch's loss (or a gradient) is NaN or inf, fit stops at once,
issues a ``RuntimeWarning`` that says where, puts back the weights (and optimiser state)
from before the last update (the last weights whose loss was finite) and returns the
History so far; ``model.stop_training`` is True and ``history.nonfinite`` holds
(epoch, batch).

Data: x is (samples, time, features) for a recurrent first layer (or (samples, features) for
Dense); float64 or integer data is cast to the model's dtype (float32 unless a layer or
``Input`` says ``dtype="float64"``). Shapes are checked before any training, and errors name
the argument, what was expected and what came.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from fastrnn import callbacks as _callbacks
from fastrnn import layers as _layers
from fastrnn import losses as _losses
from fastrnn import metrics as _metrics
from fastrnn import optimizers as _optimizers
from fastrnn import seeding as _seeding

__all__ = ["Sequential", "load_model", "set_random_seed"]

set_random_seed = _seeding.set_random_seed


def _shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _pos_int(value, name):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}")
    return int(value)


def _fmt_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _progress(steps, seconds, logs, verbose):
    per_step = seconds / max(steps, 1)
    per = f"{per_step * 1e3:.0f}ms/step" if per_step >= 1e-3 else f"{per_step * 1e6:.0f}us/step"
    vals = "".join(f" - {k}: {_fmt_value(v)}" for k, v in logs.items())
    if verbose == 2:
        return f"{steps}/{steps} - {seconds:.0f}s - {per}{vals}"
    return f"{steps}/{steps} " + "\u2501" * 20 + f" {seconds:.0f}s {per}{vals}"


def _readable_size(nbytes):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024


class _NonFinite(Exception):
    pass


class Sequential:
    """A linear stack of layers (Keras's ``keras.Sequential``).

    ``Sequential(layers=None, name=None, backend=None)``: `backend` is given to every
    recurrent layer that does not name its own (None: ``fastrnn.backends.default()``).
    """

    def __init__(self, layers=None, name=None, backend=None):
        self.name = name if name is not None else _layers._auto_name("Sequential")
        self.backend = backend
        self._input = None
        self._layers = []
        self.built = False
        self.dtype = None
        self.input_shape = None
        self.optimizer = None
        self.loss = None
        self.compiled_metrics = []
        self._metric_names = []
        self.stop_training = False
        self.history = None
        for layer in layers or []:
            self.add(layer)

    # -- structure -------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (an ``Input(...)`` only as the first element)."""
        if isinstance(layer, _layers.InputLayer):
            if self._layers or self._input is not None:
                raise ValueError("Input(...) can only be the first element of a Sequential model")
            self._input = layer
            self._try_build()
            return
        if not isinstance(layer, _layers.Layer):
            raise TypeError(f"Sequential.add needs a fastrnn layer, got {type(layer).__name__}")
        if getattr(layer, "return_state", False):
            raise ValueError(f"layer {layer.name!r} has return_state=True: its output is a list "
                             "[output, states...], which a Sequential model cannot pass on; "
                             "call the layer directly instead")
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"a layer named {layer.name!r} is already in the model; layer "
                             "names must be unique")
        if self.backend is not None and isinstance(layer, _layers._RNN) and layer.backend is None:
            layer.backend = self.backend
        self._layers.append(layer)
        self.built = False
        self._try_build()

    def pop(self):
        if not self._layers:
            raise ValueError("there is no layer to remove")
        layer = self._layers.pop()
        self.built = False
        self._try_build()
        return layer

    @property
    def layers(self):
        """The layers (Input excluded, as in Keras)."""
        return list(self._layers)

    def get_layer(self, name=None, index=None):
        if index is not None:
            return self._layers[index]
        for layer in self._layers:
            if layer.name == name:
                return layer
        raise ValueError(f"no layer named {name!r}; layers: {[l.name for l in self._layers]}")

    def _declared_input_shape(self):
        if self._input is not None:
            return (None,) + tuple(self._input.input_shape_arg)
        if self._layers and self._layers[0].input_shape_arg is not None:
            return (None,) + tuple(self._layers[0].input_shape_arg)
        return None

    def _model_dtype(self):
        explicit = [l._dtype_arg for l in ([self._input] if self._input else []) + self._layers
                    if l._dtype_arg is not None]
        if any(d != explicit[0] for d in explicit):
            raise ValueError(f"the layers of one model must share one dtype; got "
                             f"{sorted({d.name for d in explicit})}")
        return explicit[0] if explicit else np.dtype(np.float32)

    def _try_build(self):
        shape = self._declared_input_shape()
        if shape is not None and self._layers:
            self.build(shape)

    def build(self, input_shape):
        """Create every layer's weights for inputs of shape `input_shape` (batch first, None
        for unknown sizes), e.g. ``model.build((None, None, 1))``."""
        shape = tuple(input_shape)
        self.dtype = self._model_dtype()
        for layer in self._layers:
            layer.build(shape, self.dtype)
            shape = layer.compute_output_shape(shape)
        self.input_shape = tuple(input_shape)
        self.built = bool(self._layers)
        self._flatten()

    def _flatten(self):
        """Put every trainable weight array into one contiguous vector (the layers keep views
        of it), so that the optimiser, the finite check and the backup of a training step are
        a few vector operations whatever the number of arrays."""
        ws = self.trainable_weights
        n = sum(w.size for w in ws)
        flat = np.empty(n, self.dtype)
        self._slices = []
        off = 0
        for layer in self._layers:
            if not layer.trainable:
                continue
            for i, (wname, w, reg) in enumerate(layer._weights):
                view = flat[off:off + w.size].reshape(w.shape)
                view[...] = w
                layer._weights[i] = (wname, view, reg)
                self._slices.append((off, off + w.size))
                off += w.size
        self._flat = flat
        self._flat_grad = np.empty_like(flat)

    def _flat_ok(self):
        ws = self.trainable_weights
        return (getattr(self, "_flat", None) is not None and len(ws) == len(self._slices)
                and all(w.base is self._flat for w in ws)
                and sum(w.size for w in ws) == self._flat.size)

    @property
    def output_shape(self):
        self._require_built()
        shape = self.input_shape
        for layer in self._layers:
            shape = layer.compute_output_shape(shape)
        return shape

    def _require_built(self):
        if not self.built:
            raise ValueError(f"model {self.name!r} is not built yet: give the first layer "
                             "input_shape=, start with fastrnn.Input(shape), call "
                             "model.build(input_shape), or fit/predict on data first")

    # -- weights ---------------------------------------------------------------------------
    @property
    def weights(self):
        return [w for layer in self._layers for w in layer.weights]

    @property
    def trainable_weights(self):
        return [w for layer in self._layers for w in layer.trainable_weights]

    @property
    def non_trainable_weights(self):
        return [w for layer in self._layers for w in layer.non_trainable_weights]

    def get_weights(self):
        """Copies of all weight arrays, layer by layer, in Keras's order."""
        return [w for layer in self._layers for w in layer.get_weights()]

    def set_weights(self, weights):
        """Set all weights from a list in Keras's order (as ``get_weights`` returns, or a Keras
        model's ``get_weights()``); counts and shapes are checked before anything changes."""
        self._require_built()
        weights = list(weights)
        n = sum(len(layer.weights) for layer in self._layers)
        if len(weights) != n:
            raise ValueError(f"model {self.name!r} has {n} weight arrays, got {len(weights)}")
        for w, v in zip(self.weights, weights):
            if np.shape(v) != w.shape:
                raise ValueError(f"weight array of shape {_shape_str(w.shape)} cannot be set "
                                 f"from an array of shape {_shape_str(np.shape(v))}")
        i = 0
        for layer in self._layers:
            k = len(layer.weights)
            layer.set_weights(weights[i:i + k])
            i += k

    def count_params(self):
        self._require_built()
        return sum(layer.count_params() for layer in self._layers)

    # -- summary ---------------------------------------------------------------------------
    def summary(self, line_length=None, print_fn=None):
        """Print Keras 3's summary table: layer (type), output shape, parameter count, and the
        total / trainable / non-trainable parameter counts with their size in memory."""
        widths = [31, 22, 13]
        if line_length is not None and line_length > 40:
            extra = line_length - (sum(widths) + 4)
            widths[0] += extra // 2
            widths[1] += extra - extra // 2
        rows = []
        shape = self.input_shape if self.built else None
        for layer in self._layers:
            if shape is not None:
                shape = layer.compute_output_shape(shape)
                out, params = _shape_str(shape), f"{layer.count_params():,}"
            else:
                out, params = "?", "0 (unbuilt)"
            rows.append((f"{layer.name} ({type(layer).__name__})", out, params))
        lines = [f'Model: "{self.name}"', _table(("Layer (type)", "Output Shape", "Param #"),
                                                rows, widths)]
        if self.built:
            itemsize = self.dtype.itemsize
            tr = sum(w.size for w in self.trainable_weights)
            nt = sum(w.size for w in self.non_trainable_weights)
            for label, n in (("Total", tr + nt), ("Trainable", tr), ("Non-trainable", nt)):
                lines.append(f" {label} params: {n:,} ({_readable_size(n * itemsize)})")
        text = "\n".join(lines)
        if print_fn is not None:
            print_fn(text)
            return
        try:
            print(text)
        except UnicodeEncodeError:
            print(text.translate(_ASCII))

    # -- compile ---------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Set the optimiser ('sgd', 'adam', 'rmsprop' or an object), the loss (a Keras name or
        a fastrnn.losses object) and metrics (names; see ``fastrnn.metrics``)."""
        unknown = set(kwargs) - {"run_eagerly", "jit_compile", "steps_per_execution",
                                 "auto_scale_loss"}
        if unknown:
            raise TypeError(f"compile() got unexpected arguments: {sorted(unknown)}")
        if loss is None:
            raise ValueError("compile needs loss=, e.g. loss='mse'")
        self.optimizer = _optimizers.get(optimizer)
        self.loss = _losses.get(loss)
        if metrics is None:
            metrics = []
        if isinstance(metrics, str):
            metrics = [metrics]
        for m in metrics:
            _metrics.get(m, self.loss.name)
        self._metric_names = list(metrics)

    def _require_compiled(self):
        if self.loss is None or self.optimizer is None:
            raise RuntimeError(f"model {self.name!r} must be compiled first: "
                               "model.compile(optimizer='adam', loss='mse')")

    # -- data checks -----------------------------------------------------------------------
    def _prepare_x(self, x, name="x"):
        if x is None:
            raise ValueError(f"{name} is required")
        try:
            arr = np.asarray(x)
        except Exception as exc:
            raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
        if not self.built:
            if not self._layers:
                raise ValueError(f"model {self.name!r} has no layers")
            self.build((None,) + arr.shape[1:])
        want = self.input_shape
        if arr.ndim != len(want) or any(w is not None and w != g
                                        for w, g in zip(want[1:], arr.shape[1:])):
            hint = ""
            if arr.ndim == len(want) - 1 and len(want) == 3 and want[2] == 1:
                hint = f"; add the feature axis with {name}[..., None]"
            exp = _shape_str(("samples",) + tuple("any" if s is None else s for s in want[1:]))
            raise ValueError(f"{name} must have shape {exp} for this model, got "
                             f"{_shape_str(arr.shape)}{hint}")
        if arr.shape[0] == 0:
            raise ValueError(f"{name} has no samples (shape {_shape_str(arr.shape)})")
        out = np.ascontiguousarray(arr, dtype=self.dtype)
        if not np.isfinite(out).all():
            raise ValueError(f"{name} contains NaN or inf (or values too large for "
                             f"{self.dtype.name})")
        return out

    def _prepare_y(self, y, n, name="y", x_name="x"):
        if y is None:
            raise ValueError(f"{name} is required for training and evaluation")
        arr = np.asarray(y)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
        if arr.ndim == 0 or arr.shape[0] != n:
            raise ValueError(f"{name} has {arr.shape[0] if arr.ndim else 0} samples but "
                             f"{x_name} has {n}: they must have the same length")
        out = self.output_shape
        dims = [(arr.shape[i + 1] if arr.ndim > i + 1 else 1) if s is None else s
                for i, s in enumerate(out[1:])]
        probe = np.zeros((1,) + tuple(dims), self.dtype)
        sub = arr[:1]
        try:
            _losses._match_target(sub, probe, self.loss.sparse if self.loss else False)
        except ValueError as exc:
            want = _shape_str(("samples",) + tuple("any" if s is None else s for s in out[1:]))
            raise ValueError(f"{name} must match the model's output shape {want}"
                             f"{' (integer labels without the class axis)' if self.loss is not None and self.loss.sparse else ''}, "
                             f"got {_shape_str(arr.shape)}") from exc
        if self.loss is not None and self.loss.sparse:
            return arr
        arr = np.ascontiguousarray(arr, dtype=self.dtype)
        if not np.isfinite(arr).all():
            raise ValueError(f"{name} contains NaN or inf")
        return arr

    # -- the training step -----------------------------------------------------------------
    def _forward(self, x, training):
        for layer in self._layers:
            x = layer.forward(x, training=training)
        return x

    def _backward(self, dy):
        for layer in reversed(self._layers):
            dy = layer.backward(dy)
        return dy

    def _penalty(self):
        return sum(layer.penalty() for layer in self._layers)

    def _grads(self):
        return [g for layer in self._layers if layer.trainable for g in (layer.grads or [])]

    def _step(self, x, y, training=True):
        """Loss (data + penalties), gradients aligned with trainable_weights, prediction."""
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are caught below
            try:
                pred = self._forward(x, training)
            except ValueError as exc:
                if "NaN or inf" in str(exc):
                    raise _NonFinite(str(exc)) from exc
                raise
            value, dpred = self.loss.value_and_grad(y, pred)
            value += self._penalty()
            if not np.isfinite(value):
                raise _NonFinite(f"the loss is {value}")
            self._backward(dpred)
        return value, self._grads(), pred

    def loss_and_gradients(self, x, y, training=False):
        """(loss, gradients) on (x, y) without updating anything: the training loss
        (including regularisation penalties) and its gradient for each array of
        ``trainable_weights``. A fastrnn extension, used to check gradients."""
        self._require_compiled()
        x = self._prepare_x(x)
        y = self._prepare_y(y, x.shape[0])
        pred = self._forward(x, training)
        value, dpred = self.loss.value_and_grad(y, pred)
        self._backward(dpred)
        return value + self._penalty(), [g.copy() for g in self._grads()]

    # -- fit -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0):
        """Train for `epochs` passes over (x, y); returns a ``History``."""
        self._require_compiled()
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, x.shape[0], "y", "x")
        batch_size = 32 if batch_size is None else _pos_int(batch_size, "batch_size")
        if isinstance(epochs, bool) or not isinstance(epochs, (int, np.integer)) or epochs < 0:
            raise ValueError(f"epochs must be an int >= 0, got {epochs!r}")
        verbose = 1 if verbose == "auto" else int(verbose)
        xv = yv = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) != 2:
                raise ValueError("validation_data must be a tuple (x_val, y_val)")
            xv = self._prepare_x(validation_data[0], "validation_data[0]")
            yv = self._prepare_y(validation_data[1], xv.shape[0], "validation_data[1]",
                                 "validation_data[0]")
        elif validation_split:
            vs = float(validation_split)
            if not 0 < vs < 1:
                raise ValueError(f"validation_split must be in (0, 1), got {validation_split!r}")
            split_at = int(np.floor(x.shape[0] * (1.0 - vs)))
            if split_at == 0 or split_at == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} leaves "
                                 f"{split_at} training and {x.shape[0] - split_at} validation "
                                 f"samples out of {x.shape[0]}; both must be non-empty")
            x, xv, y, yv = x[:split_at], x[split_at:], y[:split_at], y[split_at:]

        history = _callbacks.History()
        history.nonfinite = None
        cbs = list(callbacks or []) + [history]
        for cb in cbs:
            if not isinstance(cb, _callbacks.Callback):
                raise TypeError(f"callbacks must be fastrnn.callbacks.Callback objects, got "
                                f"{type(cb).__name__}")
            cb.set_model(self)
            cb.set_params({"epochs": epochs, "verbose": verbose,
                           "steps": -(-x.shape[0] // batch_size)})
        self.history = history
        self.stop_training = False
        n = x.shape[0]
        steps = -(-n // batch_size)
        if not self._flat_ok():
            self._flatten()
        flat, flat_grad, slices = self._flat, self._flat_grad, self._slices
        params = [flat]
        metrics = [_metrics.get(m, self.loss.name) for m in self._metric_names]
        opt = self.optimizer
        if opt._slots is None or len(opt._slots) != 1 or (opt._slots[0] and opt._slots[0][0].shape != flat.shape):
            opt.build(params)
        backup_w = [np.empty_like(flat)]
        backup_s = [np.empty_like(s) for s in opt.state()]
        have_backup = False
        rng = _seeding.generator()

        for cb in cbs:
            cb.on_train_begin({})
        for epoch in range(initial_epoch, epochs):
            for cb in cbs:
                cb.on_epoch_begin(epoch, {})
            if verbose:
                print(f"Epoch {epoch + 1}/{epochs}")
            t0 = time.perf_counter()
            if shuffle:
                order = rng.permutation(n)
                xs, ys = x[order], y[order]
            else:
                xs, ys = x, y
            total, count = 0.0, 0
            for m in metrics:
                m.reset()
            for b in range(steps):
                for cb in cbs:
                    cb.on_train_batch_begin(b, {})
                xb, yb = xs[b * batch_size:(b + 1) * batch_size], ys[b * batch_size:(b + 1) * batch_size]
                try:
                    value, grads, pred = self._step(xb, yb, training=True)
                except _NonFinite as exc:
                    self._stop_nonfinite(exc, epoch, b, params, backup_w, backup_s, have_backup)
                    history.nonfinite = (epoch, b)
                    break
                if opt.clipnorm is not None or opt.clipvalue is not None or opt.global_clipnorm is not None:
                    grads = opt._clip(grads)
                for g, (lo, hi) in zip(grads, slices):
                    flat_grad[lo:hi] = g.ravel()
                if not np.isfinite(flat_grad).all():
                    self._stop_nonfinite(_NonFinite("a gradient contains NaN or inf"), epoch, b,
                                         params, backup_w, backup_s, None)
                    history.nonfinite = (epoch, b)
                    break
                np.copyto(backup_w[0], flat)
                for dst, src in zip(backup_s, opt.state()):
                    np.copyto(dst, src)
                have_backup = True
                opt.step(params, [flat_grad])
                k = xb.shape[0]
                total += value * k
                count += k
                for m in metrics:
                    m.update(yb, pred)
                for cb in cbs:
                    cb.on_train_batch_end(b, {"loss": total / count})
            if history.nonfinite is not None:
                break
            logs = {"loss": total / count}
            for m in metrics:
                logs[m.name] = m.result()
            if xv is not None:
                val = self._evaluate_arrays(xv, yv, batch_size)
                logs.update({f"val_{k}": v for k, v in val.items()})
            if verbose:
                print(_progress(steps, time.perf_counter() - t0, logs, verbose))
                sys.stdout.flush()
            for cb in cbs:
                cb.on_epoch_end(epoch, logs)
            if self.stop_training:
                break
        for cb in cbs:
            cb.on_train_end({})
        return history

    def _stop_nonfinite(self, exc, epoch, batch, params, backup_w, backup_s, have_backup):
        if have_backup is None:
            kept = ("its current weights (their loss was finite; the non-finite gradient was "
                    "not applied)")
        elif have_backup:
            for dst, src in zip(params, backup_w):
                np.copyto(dst, src)
            for dst, src in zip(self.optimizer.state(), backup_s):
                np.copyto(dst, src)
            self.optimizer.iterations -= 1
            kept = "the weights from before the last update (the last ones with a finite loss)"
        else:
            kept = "the weights it had before fit (no update was applied)"
        self.stop_training = True
        warnings.warn(f"fit stopped at epoch {epoch + 1}, batch {batch + 1}: {exc}. The model "
                      f"keeps {kept}. Try a lower learning_rate, clipnorm=, or scaled data.",
                      RuntimeWarning, stacklevel=3)

    # -- evaluate / predict ----------------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size):
        metrics = [_metrics.get(m, self.loss.name) for m in self._metric_names]
        total, n = 0.0, x.shape[0]
        for start in range(0, n, batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            pred = self._forward(xb, False)
            total += self.loss(yb, pred) * xb.shape[0]
            for m in metrics:
                m.update(yb, pred)
        out = {"loss": total / n + self._penalty()}
        for m in metrics:
            out[m.name] = m.result()
        return out

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", return_dict=False):
        """The loss (plus metrics: a list [loss, m1, ...], or a dict with return_dict=True)."""
        self._require_compiled()
        x = self._prepare_x(x)
        y = self._prepare_y(y, x.shape[0])
        batch_size = 32 if batch_size is None else _pos_int(batch_size, "batch_size")
        t0 = time.perf_counter()
        res = self._evaluate_arrays(x, y, batch_size)
        verbose = 1 if verbose == "auto" else int(verbose)
        if verbose:
            print(_progress(-(-x.shape[0] // batch_size), time.perf_counter() - t0, res, verbose))
        if return_dict:
            return res
        return res["loss"] if len(res) == 1 else list(res.values())

    def predict(self, x, batch_size=None, verbose="auto"):
        """Outputs for x, computed in batches of `batch_size` (default 32), inference mode."""
        x = self._prepare_x(x)
        batch_size = 32 if batch_size is None else _pos_int(batch_size, "batch_size")
        n = x.shape[0]
        t0 = time.perf_counter()
        out = None
        for start in range(0, n, batch_size):
            pred = self._forward(x[start:start + batch_size], False)
            if out is None:
                out = np.empty((n,) + pred.shape[1:], pred.dtype)
            out[start:start + pred.shape[0]] = pred
        verbose = 1 if verbose == "auto" else int(verbose)
        if verbose:
            print(_progress(-(-n // batch_size), time.perf_counter() - t0, {}, verbose))
        return out

    def __call__(self, x, training=False):
        """Apply the model to an array (no batching), as Keras's ``model(x)``."""
        return self._forward(self._prepare_x(x), training)

    # -- config and saving -----------------------------------------------------------------
    def get_config(self):
        return {"name": self.name,
                "input": None if self._input is None else self._input.get_config(),
                "build_input_shape": None if not self.built else list(self.input_shape),
                "layers": [_layers.serialize(l) for l in self._layers]}

    @classmethod
    def from_config(cls, config, backend=None):
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError("a Sequential config must be a dict with a 'layers' list")
        model = cls(name=config.get("name"), backend=backend)
        if config.get("input") is not None:
            model.add(_layers.InputLayer(**config["input"]))
        for spec in config["layers"]:
            model.add(_layers.deserialize(spec))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model

    def save(self, filepath):
        """Write the architecture, weights, compile settings and optimiser state to one file at
        `filepath`, whatever its name (see ``fastrnn.saving``)."""
        from fastrnn import saving
        saving.save_model(self, filepath)

    def __repr__(self):
        return f"<Sequential name={self.name!r}, layers={[l.name for l in self._layers]}>"


_ASCII = str.maketrans("\u250f\u2533\u2513\u2503\u2521\u2547\u2529\u2502\u251c\u253c\u2524\u2514\u2534\u2518\u2501\u2500",
                       "+++|+++|++++++=-")


def _table(header, rows, widths):
    def line(left, mid, right, fill):
        return left + mid.join(fill * (w + 2) for w in widths) + right

    def row(cells, sep):
        parts = []
        for i, (c, w) in enumerate(zip(cells, widths)):
            c = c if len(c) <= w else c[:w - 1] + "~"
            parts.append(" " + (c.rjust(w) if i == 2 else c.ljust(w)) + " ")
        return sep + sep.join(parts) + sep

    out = [line("\u250f", "\u2533", "\u2513", "\u2501"), row(header, "\u2503"),
           line("\u2521", "\u2547", "\u2529", "\u2501")]
    for i, r in enumerate(rows):
        out.append(row(r, "\u2502"))
        if i < len(rows) - 1:
            out.append(line("\u251c", "\u253c", "\u2524", "\u2500"))
    out.append(line("\u2514", "\u2534", "\u2518", "\u2500"))
    return "\n".join(out)


def load_model(filepath, backend=None, compile=True):
    """Restore a model written by ``model.save`` (see ``fastrnn.saving.load_model``)."""
    from fastrnn import saving
    return saving.load_model(filepath, backend=backend, compile=compile)
