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

Fused native training: when every layer, the loss, the optimiser and the callbacks are
supported (see ``Sequential.native_training_plan``), ``fit`` runs each epoch as one call into
the compiled core (``fastrnn.backends._core.Trainer``, csrc/cpu/train.cpp): batching in the drawn order,
forward, BPTT, loss, penalties, clipping and the optimiser update all in C++. The shuffling
permutation and the dropout masks are still drawn in Python from the same generators, in the
same order, so a seeded fit gives the same weights on either path (to rounding). Python keeps
the per-epoch work: callbacks, validation, progress, metrics. ``fit(native=False)`` forces the
Python path (the reference); ``fit(native=True)`` raises if the model cannot train natively;
after a fit, ``model.native_fit_info`` says which path ran and why.

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

from fastrnn.nn import activations as _activations
from fastrnn.nn import callbacks as _callbacks
from fastrnn.nn import layers as _layers
from fastrnn.nn import losses as _losses
from fastrnn.nn import metrics as _metrics
from fastrnn.nn import optimizers as _optimizers
from fastrnn.nn import seeding as _seeding

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


_NATIVE_LOSSES = (_losses.MeanSquaredError, _losses.MeanAbsoluteError,
                  _losses.BinaryCrossentropy, _losses.CategoricalCrossentropy,
                  _losses.SparseCategoricalCrossentropy)
_NATIVE_DENSE_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu")


def _optimizer_spec(opt):
    """The optimiser's hyperparameters for the core (read every epoch: callbacks may change
    the learning rate)."""
    spec = {"kind": opt.name, "learning_rate": opt.learning_rate,
            "clipnorm": opt.clipnorm, "clipvalue": opt.clipvalue,
            "global_clipnorm": opt.global_clipnorm}
    for k in ("beta_1", "beta_2", "epsilon", "momentum", "nesterov", "rho", "centered"):
        if hasattr(opt, k):
            spec[k] = getattr(opt, k)
    return spec


class _NativePlan:
    """A model's fused-training plan for one fit: the core's Trainer and what it needs each
    epoch from Python (the dropout masks, drawn exactly as the Python path draws them)."""

    def __init__(self, trainer, n_layers, dropouts, y, batch_size, out_shape):
        self.trainer, self.n_layers, self.dropouts = trainer, n_layers, dropouts
        self.y, self.batch_size, self.out_shape = y, batch_size, out_shape

    def masks(self, n, dtype):
        """One inverted-dropout mask row per drawn sample for each layer with dropout.

        The Python path draws, batch after batch and layer after layer, ``rng.random((B, k))``
        from each layer's generator (its own if it has a seed, else the global one). Drawing
        all of a generator's numbers for the epoch in one call gives the same stream; the
        reshapes below hand each layer its share, batch by batch."""
        if not self.dropouts:
            return None
        out = [None] * self.n_layers
        groups = {}
        for li, layer, k, rate in self.dropouts:
            gen = layer._rng or _seeding.generator()
            groups.setdefault(id(gen), (gen, []))[1].append((li, k, rate))
        bs = self.batch_size
        full, rem = divmod(n, bs)
        for gen, members in groups.values():
            tot = sum(k for _, k, _ in members)
            u = gen.random(n * tot)
            head = u[:full * bs * tot].reshape(full, bs * tot)
            tail = u[full * bs * tot:]
            c = 0
            for li, k, rate in members:
                rows = [head[:, c * bs:(c + k) * bs].reshape(full * bs, k),
                        tail[c * rem:(c + k) * rem].reshape(rem, k)]
                c += k
                keep = np.concatenate(rows) >= rate
                out[li] = (keep / (1.0 - rate)).astype(dtype)
        return out

    def run_epoch(self, flat, opt, x, order, pred):
        n = x.shape[0]
        res = self.trainer.epoch(flat, opt.state(), x, self.y, order,
                                 self.masks(n, flat.dtype), _optimizer_spec(opt),
                                 opt.iterations, self.batch_size, pred)
        opt.iterations = res["iterations"]
        return res


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
        self.native_fit_info = None
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

    # -- native training -------------------------------------------------------------------
    def native_training_plan(self, x, y, batch_size=32):
        """(True, "") if ``fit`` on (x, y) would run its epochs in the compiled core, else
        (False, the reason). Natively supported: SimpleRNN / LSTM / GRU layers (any
        activation, stacked with return_sequences, ``dropout=``, use_bias either way),
        Dense (activations linear, relu, sigmoid, tanh, softmax, leaky_relu, elu; on 2-D or
        3-D input), Dropout (without noise_shape); the losses mse, mae, binary, categorical
        and sparse categorical cross-entropy (from_logits either way); SGD (momentum,
        nesterov), Adam and RMSprop (momentum, centered), with clipnorm / clipvalue /
        global_clipnorm; L1 / L2 / L1L2 penalties; metrics; callbacks without per-batch
        hooks. The Python path runs everything else: recurrent_dropout, go_backwards,
        non-trainable layers, layers on another backend, custom layers, losses, optimisers
        or regularisers, and callbacks with on_train_batch_begin / on_train_batch_end."""
        self._require_compiled()
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, x.shape[0], "y", "x")
        plan, reason = self._native_plan(x, y, _pos_int(batch_size, "batch_size"), [])
        return plan is not None, reason

    def _native_plan(self, x, y, batch_size, cbs):
        """A _NativePlan for fit on the prepared (x, y), or (None, why not)."""
        try:
            from fastrnn.backends import _core
        except ImportError:
            return None, "the compiled core fastrnn.backends._core is not installed"
        if not hasattr(_core, "Trainer"):
            return None, "this build of fastrnn.backends._core has no fused training (Trainer)"
        for cb in cbs:
            for hook in ("on_train_batch_begin", "on_train_batch_end"):
                if getattr(getattr(cb, hook), "__func__", None) is not getattr(
                        _callbacks.Callback, hook):
                    return None, (f"callback {type(cb).__name__} has {hook} (the core runs "
                                  "whole epochs, with no per-batch hooks)")
        loss_cls = type(self.loss)
        if loss_cls not in _NATIVE_LOSSES:
            return None, f"loss {loss_cls.__name__} has no native implementation"
        opt = self.optimizer
        if type(opt) not in (_optimizers.SGD, _optimizers.Adam, _optimizers.RMSprop):
            return None, f"optimizer {type(opt).__name__} has no native implementation"
        if x.ndim not in (2, 3) or x.shape[1] == 0 or (x.ndim == 3 and x.shape[2] == 0):
            return None, f"inputs of shape {_shape_str(x.shape)} (only (samples, time, " \
                         "features) or (samples, features))"
        if not self._flat_ok():
            return None, "the weights are not in the model's flat buffer"
        from fastrnn import backends as _backends
        from fastrnn.nn import regularizers as _regs

        specs, arrays, dropouts = [], [], []
        shape = (None,) + x.shape[1:]
        slices = iter(self._slices)
        for li, layer in enumerate(self._layers):
            name = f"layer {layer.name!r} ({type(layer).__name__})"
            if type(layer) not in (_layers.SimpleRNN, _layers.LSTM, _layers.GRU,
                                   _layers.Dense, _layers.Dropout):
                return None, f"{name} has no native implementation"
            if not layer.trainable:
                return None, f"{name} is not trainable"
            if len(shape) not in (2, 3):
                return None, f"{name} gets inputs of rank {len(shape)}"
            steps, feat = (shape[1] if len(shape) == 3 else 1), shape[-1]
            spec = {"steps": int(steps), "in": int(feat), "units": int(feat)}
            offs = {}
            for wname, w, reg in layer._weights:
                lo, hi = next(slices)
                offs[wname] = lo
                l1 = l2 = 0.0
                if reg is not None:
                    if type(reg) not in (_regs.L1, _regs.L2, _regs.L1L2):
                        return None, f"{name}: regularizer {type(reg).__name__} has no " \
                                     "native implementation"
                    l1, l2 = reg.l1, reg.l2
                arrays.append((lo, hi - lo, l1, l2))
            if isinstance(layer, _layers._RNN):
                backend = layer.backend or _backends.default()
                if backend != "cpp":
                    return None, f"{name} runs on the {backend!r} backend"
                if layer.recurrent_dropout > 0:
                    return None, f"{name} has recurrent_dropout"
                if layer.go_backwards:
                    return None, f"{name} has go_backwards=True"
                if len(shape) != 3:
                    return None, f"{name} needs 3-D input"
                spec.update(kind=layer._cell, units=layer.units, activation=layer.activation,
                            return_sequences=layer.return_sequences,
                            reset_after=getattr(layer, "reset_after", True),
                            w=offs["kernel"], u=offs["recurrent_kernel"],
                            b=offs.get("bias", -1), dropout=layer.dropout > 0)
                if layer.dropout > 0:
                    dropouts.append((li, layer, int(feat), layer.dropout))
            elif isinstance(layer, _layers.Dense):
                act = layer.activation
                if act.name not in _NATIVE_DENSE_ACTIVATIONS or _activations.get(act.name) is not act:
                    return None, f"{name} has activation {act.name!r} (no native implementation)"
                spec.update(kind="dense", units=layer.units, dense_activation=act.name,
                            w=offs["kernel"], b=offs.get("bias", -1))
            else:
                if layer.noise_shape is not None:
                    return None, f"{name} has a noise_shape"
                spec.update(kind="dropout", dropout=layer.rate > 0)
                if layer.rate > 0:
                    dropouts.append((li, layer, int(steps * feat), layer.rate))
            specs.append(spec)
            shape = layer.compute_output_shape(shape)
        out_shape = tuple(int(s) for s in shape[1:])
        n = x.shape[0]
        if self.loss.sparse:
            labels = _losses._match_target(y, np.empty((n,) + out_shape, self.dtype), True)
            y_native = np.ascontiguousarray(labels, dtype=np.int64)
        else:
            y_native = np.ascontiguousarray(y, dtype=self.dtype)
        bs = min(batch_size, n)
        try:
            trainer = _core.Trainer(self.dtype.name, specs, arrays, int(self._flat.size),
                                    self.loss.name, bool(getattr(self.loss, "from_logits", False)),
                                    bs)
        except (ValueError, TypeError) as exc:  # a plan the core does not take: Python path
            return None, f"the compiled core rejected the training plan: {exc}"
        return _NativePlan(trainer, len(specs), dropouts, y_native, bs, out_shape), \
            "every layer, the loss and the optimizer are supported"

    # -- fit -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, initial_epoch=0,
            native=None):
        """Train for `epochs` passes over (x, y); returns a ``History``.

        `native` (a fastrnn extension): None runs each epoch in the compiled core when the
        model allows it (see ``native_training_plan``) and on the Python path otherwise;
        False always uses the Python path; True raises ValueError if the model cannot train
        natively. ``model.native_fit_info`` records the path taken and the reason."""
        if native not in (None, True, False):
            raise ValueError(f"native must be None, True or False, got {native!r}")
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
        if native is False:
            plan, reason = None, "fit(native=False) was passed"
        else:
            plan, reason = self._native_plan(x, y, batch_size, cbs)
            if plan is None and native:
                raise ValueError(f"fit(native=True): model {self.name!r} cannot train in the "
                                 f"compiled core: {reason}")
        self.native_fit_info = {"native": plan is not None, "reason": reason}
        pred_all = None
        if plan is not None and metrics:
            pred_all = np.empty((n,) + plan.out_shape, self.dtype)

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
                if plan is not None:  # the core gathers the batches itself
                    xs, ys = x, (y[order] if metrics else y)
                else:
                    xs, ys = x[order], y[order]
            else:
                xs, ys = x, y
            total, count = 0.0, 0
            for m in metrics:
                m.reset()
            if plan is not None:
                res = plan.run_epoch(flat, opt, x, order if shuffle else None, pred_all)
                if res["stop"]:
                    self._native_nonfinite(res, epoch)
                    history.nonfinite = (epoch, res["stop_batch"])
                    break
                total, count = res["loss_sum"], res["samples"]
                for m in metrics:
                    m.update(ys, pred_all)
            for b in range(steps if plan is None else 0):
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

    def _native_nonfinite(self, res, epoch):
        """The warning of ``_stop_nonfinite`` for an epoch the core stopped (it has already put
        back the last good weights and optimiser state)."""
        if res["stop"] == "gradient":
            msg = "a gradient contains NaN or inf"
            kept = ("its current weights (their loss was finite; the non-finite gradient was "
                    "not applied)")
        else:
            msg = f"the loss is {res['stop_loss']}"
            kept = ("the weights from before the last update (the last ones with a finite loss)"
                    if res["rolled_back"] else "the weights it had before fit (no update was "
                    "applied)")
        self.optimizer.iterations = res["iterations"]
        self.stop_training = True
        warnings.warn(f"fit stopped at epoch {epoch + 1}, batch {res['stop_batch'] + 1}: {msg}. "
                      f"The model keeps {kept}. Try a lower learning_rate, clipnorm=, or scaled "
                      "data.", RuntimeWarning, stacklevel=3)

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
        from fastrnn.nn import saving
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
    from fastrnn.nn import saving
    return saving.load_model(filepath, backend=backend, compile=compile)
