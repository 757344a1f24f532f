"""Training a ``Sequential`` model: compile, fit, evaluate and predict (the Python path).

Behaviour follows Keras 3 where it is observable: default batch size 32; ``validation_split``
takes the *last* fraction of the samples, before shuffling; the reported ``loss`` is the
sample-weighted mean of the batch losses of the epoch (each computed before that batch's
update) and includes the regularisation penalties, as does ``val_loss``; metrics are
averaged the same way; ``verbose=1`` prints "Epoch e/E" and a progress line with the loss.

The training step is: forward (one ``fastrnn.ops`` call per recurrent layer), loss and its
gradient, backward (one ops backward call per recurrent layer), penalties' gradients,
gradient clipping, optimiser update in place. No Python loop over time steps (except for
recurrent_dropout, see ``fastrnn.layers``).

Fused training: when the model allows it (``fused_training_plan``; see ``fastrnn.nn.fused``),
each epoch runs as one call into the compiled trainer and Python keeps the per-epoch work:
callbacks, validation, progress, metrics. ``fit(fused=False)`` forces the Python path (the
reference); ``fit(fused=True)`` raises if the model cannot train on the fused path; after a fit,
``model.fused_fit_info`` says which path ran and why.

Non-finite losses: if a batch's loss (or a gradient) is NaN or inf, fit stops at once,
issues a ``RuntimeWarning`` that says where, puts back the weights (and optimiser state)
from before the last update (the last weights whose loss was finite) and returns the
History so far (the epoch it stopped in is logged with NaN values, as Keras logs the epoch
whose loss became NaN); ``model.stop_training`` is True and ``history.nonfinite`` holds
(epoch, batch). The same when an update itself makes the weights or the optimiser state
non-finite (a huge learning rate): fit never returns NaN or inf weights. (On the fused path
the epoch's last update is checked after the epoch; the model then keeps the weights from the
start of that epoch.)

Data: x is (samples, time, features) for a recurrent first layer (or (samples, features) for
Dense); float64 or integer data is cast to the model's dtype (float32 unless a layer or
``Input`` says ``dtype="float64"``). Shapes are checked before any training, and errors name
the argument, what was expected and what came.

Randomness: ``fit(rng=...)`` draws the shuffling, the dropout masks of layers without a seed
of their own and (for an unbuilt model) the initial weights from the given generator instead
of the library's global one.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np

from fastrnn import _params
from fastrnn.nn import callbacks as _callbacks
from fastrnn.nn import fused as _fused
from fastrnn.nn import keras_api as _keras_api
from fastrnn.nn import losses as _losses
from fastrnn.nn import metrics as _metrics
from fastrnn.nn import optimizers as _optimizers
from fastrnn.nn import seeding as _seeding
from fastrnn.nn.layers.base import BUILD_LOCK as _BUILD_LOCK
from fastrnn.nn.layers.base import _shape_str

__all__ = ["Training"]

_BATCH = _params.Int(1)
_EPOCHS = _params.Int(0)
_SPLIT = _params.Real(0, 1, closed="neither")
_FUSED = _params.Options((True, False), none_ok=True)


def _batch_size(value):
    return 32 if value is None else _params.check(value, "batch_size", _BATCH)


def _fmt_value(v):
    return f"{v:.4f}" if abs(v) > 1e-3 else f"{v:.4e}"


def _progress(steps, seconds, logs, verbose):
    per_step = seconds / max(steps, 1)
    per = f"{per_step * 1e3:.0f}ms/step" if per_step >= 1e-3 else f"{per_step * 1e6:.0f}us/step"
    vals = "".join(f" - {k}: {_fmt_value(v)}" for k, v in logs.items())
    if verbose == 2:
        return f"{steps}/{steps} - {seconds:.0f}s - {per}{vals}"
    return f"{steps}/{steps} " + "\u2501" * 20 + f" {seconds:.0f}s {per}{vals}"


class _NonFinite(Exception):
    pass


_BAD_UPDATE = "the update made the weights or the optimizer state NaN or inf"


def _all_finite(flat, state):
    return bool(np.isfinite(flat).all()) and all(np.isfinite(s).all() for s in state)


class Training:
    """The training half of ``Sequential`` (a mixin): compile, fit, evaluate, predict and the
    training step. It relies on the model's structure: ``_layers``, ``build``, ``built``,
    ``dtype``, ``input_shape``, ``output_shape`` and the flat parameter vector (``_flat``,
    ``_flat_grad``, ``_slices``, ``_flat_ok``, ``_flatten``)."""

    # -- compile ---------------------------------------------------------------------------
    def compile(self, optimizer="rmsprop", loss=None, metrics=None, **kwargs):
        """Set the optimiser ('sgd', 'adam', 'rmsprop' or an object), the loss (a Keras name or
        a fastrnn.losses object) and metrics (names; see ``fastrnn.nn.metrics``)."""
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
    def _prepare_x(self, x, name="x", rng=None):
        if x is None:
            raise ValueError(f"{name} is required")
        try:
            arr = np.asarray(x)
        except Exception as exc:
            raise TypeError(f"{name} must be an array of numbers, got {type(x).__name__}") from exc
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{name} must hold numbers, got dtype {arr.dtype}")
        if 0 in arr.shape[1:]:
            what = "time steps" if arr.ndim == 3 and arr.shape[1] == 0 else "entries per sample"
            raise ValueError(f"{name} has no {what} (shape {_shape_str(arr.shape)}); every "
                             "sample needs at least one")
        if not self.built:
            if not self._layers:
                raise ValueError(f"model {self.name!r} has no layers")
            with _BUILD_LOCK:   # concurrent first calls: the others find it built
                if not self.built:
                    self.build((None,) + arr.shape[1:], rng=rng)
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
        probe = np.broadcast_to(np.zeros((), self.dtype), (n,) + tuple(dims))  # no memory
        sparse = self.loss is not None and self.loss.sparse
        try:
            # the shape, by the loss's own rule (Keras's: mse and mae broadcast), on all the
            # samples (a batch of one would broadcast against anything); zero-stride views
            shape_only = np.broadcast_to(np.zeros((), arr.dtype if sparse else self.dtype),
                                         arr.shape)
            _losses.get(self.loss or "mse").check_target(shape_only, probe)
        except ValueError as exc:
            want = _shape_str(("samples",) + tuple("any" if s is None else s for s in out[1:]))
            raise ValueError(f"{name} must match the model's output shape {want}"
                             f"{' (integer labels without the class axis)' if sparse else ''}, "
                             f"got {_shape_str(arr.shape)}") from exc
        if sparse:
            # the labels of all of y: a bad one at sample 50 fails here, before any update
            try:
                self.loss.check_target(arr, probe)
            except ValueError as exc:
                raise ValueError(str(exc) if name == "y" else f"{name}: {exc}") from None
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

    def _step(self, x, y, training=True, sample_weight=None):
        """Loss (data + penalties), gradients aligned with trainable_weights, prediction."""
        with np.errstate(over="ignore", invalid="ignore"):  # non-finite values are caught below
            try:
                pred = self._forward(x, training)
            except ValueError as exc:
                if "NaN or inf" in str(exc):
                    raise _NonFinite(str(exc)) from exc
                raise
            value, dpred = self.loss.value_and_grad(y, pred, sample_weight=sample_weight)
            value += self._penalty()
            if not np.isfinite(value):
                raise _NonFinite(f"the loss is {value}")
            self._backward(dpred)
        return value, self._grads(), pred

    def _step_or_raise(self, x, y, sample_weight, caller):
        """``_step`` for the batch methods: a non-finite loss or gradient raises
        FloatingPointError naming `caller` (fit stops and rolls back instead)."""
        try:
            return self._step(x, y, training=True, sample_weight=sample_weight)
        except _NonFinite as exc:
            raise FloatingPointError(f"{caller}: {exc}; no update was applied") from None

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

    # -- fused training --------------------------------------------------------------------
    def fused_training_plan(self, x, y, batch_size=32):
        """(True, "") if ``fit`` on (x, y) would run its epochs in the compiled core, else
        (False, the reason). Supported on the fused path: SimpleRNN / LSTM / GRU layers (any
        activation, stacked with return_sequences, ``dropout=``, use_bias either way),
        Dense (activations linear, relu, sigmoid, tanh, softmax, leaky_relu, elu; on 2-D or
        3-D input), Dropout (without noise_shape); the losses mse, mae, binary, categorical
        and sparse categorical cross-entropy (from_logits either way); SGD (momentum,
        nesterov), Adam and RMSprop (momentum, centered), with clipnorm / clipvalue /
        global_clipnorm; L1 / L2 / L1L2 penalties; metrics; callbacks without per-batch
        hooks; the distributional losses GaussianNLL and QuantileLoss; sample_weight and
        class_weight; a Masking first layer; go_backwards, Bidirectional (merge_mode concat,
        sum, mul, ave) and stateful layers (batches of one size). The Python path runs
        everything else: recurrent_dropout, non-trainable layers, layers on another backend,
        custom layers, losses, optimisers or regularisers, and callbacks with on_train_batch_begin / on_train_batch_end."""
        self._require_compiled()
        x = self._prepare_x(x, "x")
        y = self._prepare_y(y, x.shape[0], "y", "x")
        plan, reason = _fused.plan(self, x, y, _batch_size(batch_size), [])
        return plan is not None, reason

    # -- fit -------------------------------------------------------------------------------
    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, fused=None, rng=None):
        """Train for `epochs` passes over (x, y); returns a ``History``.

        `rng` (a fastrnn extension): None draws the shuffling, the dropout masks of layers
        without a ``seed`` of their own and, for an unbuilt model, the initial weights from
        the library's global generator (see ``set_random_seed``); an int seed or a
        ``numpy.random.Generator`` draws them from that generator instead, leaving the global
        one untouched (so concurrent fits of different models are reproducible).

        `fused` (a fastrnn extension): None runs each epoch in the compiled core when the
        model allows it (see ``fused_training_plan``) and on the Python path otherwise;
        False always uses the Python path; True raises ValueError if the model cannot train
        on the fused path. ``model.fused_fit_info`` records the path taken and the reason.

        `sample_weight` / `class_weight`: Keras's per-sample loss weights (see
        ``fastrnn.nn.keras_api``); on either path (the fused one takes them as one weight per
        entry of the per-entry losses)."""
        _params.check(fused, "fused", _FUSED)
        self._require_compiled()
        fit_rng = _seeding.as_generator(rng)
        x = self._prepare_x(x, "x", rng=fit_rng)
        y = self._prepare_y(y, x.shape[0], "y", "x")
        sample_weight = _keras_api.check_sample_weight(sample_weight, class_weight, x.shape[0])
        batch_size = _batch_size(batch_size)
        epochs = _params.check(epochs, "epochs", _EPOCHS)
        verbose = 1 if verbose == "auto" else int(verbose)
        xv = yv = swv = None
        if validation_data is not None:
            if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
                raise ValueError("validation_data must be a tuple (x_val, y_val) or (x_val, "
                                 "y_val, val_sample_weight)")
            xv = self._prepare_x(validation_data[0], "validation_data[0]")
            yv = self._prepare_y(validation_data[1], xv.shape[0], "validation_data[1]",
                                 "validation_data[0]")
            if len(validation_data) == 3:
                swv = _keras_api.check_sample_weight(validation_data[2], None, xv.shape[0],
                                                     "validation_data[2]")
        elif validation_split:
            vs = _params.check(float(validation_split), "validation_split", _SPLIT)
            split_at = int(np.floor(x.shape[0] * (1.0 - vs)))
            if split_at == 0 or split_at == x.shape[0]:
                raise ValueError(f"validation_split={validation_split} leaves "
                                 f"{split_at} training and {x.shape[0] - split_at} validation "
                                 f"samples out of {x.shape[0]}; both must be non-empty")
            x, xv, y, yv = x[:split_at], x[split_at:], y[:split_at], y[split_at:]
            if sample_weight is not None:
                sample_weight, swv = sample_weight[:split_at], sample_weight[split_at:]
        sw = _keras_api.with_class_weight(sample_weight, class_weight, y)

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
        rng = fit_rng if fit_rng is not None else _seeding.generator()
        for layer in self._layers:
            layer.set_fit_rng(fit_rng)
        try:
            if fused is False:
                plan, reason = None, "fit(fused=False) was passed"
            else:
                plan, reason = _fused.plan(self, x, y, batch_size, cbs, sw)
                if plan is None and fused:
                    raise ValueError(f"fit(fused=True): model {self.name!r} cannot train in the "
                                     f"compiled core: {reason}")
            self.fused_fit_info = {"fused": plan is not None, "reason": reason}
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
                sws = None if sw is None else (sw[order] if shuffle else sw)
                total, count = 0.0, 0
                for m in metrics:
                    m.reset()
                if plan is not None:
                    # the core checks each update by the next batch's loss, so not the epoch's
                    # last one: that is checked below, against this copy
                    iterations_before = opt.iterations
                    np.copyto(backup_w[0], flat)
                    for dst, src in zip(backup_s, opt.state()):
                        np.copyto(dst, src)
                    res = plan.run_epoch(flat, opt, x, order if shuffle else None, pred_all)
                    if res["stop"]:
                        self._fused_nonfinite(res, epoch)
                        history.nonfinite = (epoch, res["stop_batch"])
                        break
                    if not _all_finite(flat, opt.state()):
                        opt.iterations = iterations_before
                        self._stop_nonfinite(_NonFinite(_BAD_UPDATE), epoch, steps - 1, params,
                                             backup_w, backup_s, "epoch")
                        history.nonfinite = (epoch, steps - 1)
                        break
                    total, count = res["loss_sum"], res["samples"]
                    for m in metrics:
                        m.update(ys, pred_all, sws)
                for b in range(steps if plan is None else 0):
                    for cb in cbs:
                        cb.on_train_batch_begin(b, {})
                    xb, yb = xs[b * batch_size:(b + 1) * batch_size], ys[b * batch_size:(b + 1) * batch_size]
                    swb = None if sws is None else sws[b * batch_size:(b + 1) * batch_size]
                    try:
                        value, grads, pred = self._step(xb, yb, training=True, sample_weight=swb)
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
                    with np.errstate(over="ignore", invalid="ignore"):   # checked below
                        opt.step(params, [flat_grad])
                    self._apply_constraints()   # Keras's weight constraints, after the update
                    if not _all_finite(flat, opt.state()):   # e.g. a huge learning rate
                        self._stop_nonfinite(_NonFinite(_BAD_UPDATE), epoch, b, params, backup_w,
                                             backup_s, True)
                        history.nonfinite = (epoch, b)
                        break
                    k = xb.shape[0]
                    total += value * k
                    count += k
                    for m in metrics:
                        m.update(yb, pred, swb)
                    for cb in cbs:
                        cb.on_train_batch_end(b, {"loss": total / count})
                if history.nonfinite is not None:
                    break
                logs = {"loss": total / count}
                for m in metrics:
                    logs[m.name] = m.result()
                if xv is not None:
                    val = self._evaluate_arrays(xv, yv, batch_size, swv)
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
        finally:
            for layer in self._layers:
                layer.set_fit_rng(None)

    def _fused_nonfinite(self, res, epoch):
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
        self._record_diverged_epoch(epoch)
        warnings.warn(f"fit stopped at epoch {epoch + 1}, batch {res['stop_batch'] + 1}: {msg}. "
                      f"The model keeps {kept}. Try a lower learning_rate, clipnorm=, or scaled "
                      "data.", RuntimeWarning, stacklevel=3)

    def _stop_nonfinite(self, exc, epoch, batch, params, backup_w, backup_s, have_backup):
        if have_backup is None:
            kept = ("its current weights (their loss was finite; the non-finite gradient was "
                    "not applied)")
        elif have_backup == "epoch":   # the fused path's copy from the start of the epoch
            for dst, src in zip(params, backup_w):
                np.copyto(dst, src)
            for dst, src in zip(self.optimizer.state(), backup_s):
                np.copyto(dst, src)
            kept = "the weights from the start of this epoch (the last ones known to be finite)"
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
        self._record_diverged_epoch(epoch)
        warnings.warn(f"fit stopped at epoch {epoch + 1}, batch {batch + 1}: {exc}. The model "
                      f"keeps {kept}. Try a lower learning_rate, clipnorm=, or scaled data.",
                      RuntimeWarning, stacklevel=3)

    # -- evaluate / predict ----------------------------------------------------------------
    def _evaluate_arrays(self, x, y, batch_size, sample_weight=None):
        metrics = [_metrics.get(m, self.loss.name) for m in self._metric_names]
        total, n = 0.0, x.shape[0]
        for start in range(0, n, batch_size):
            xb, yb = x[start:start + batch_size], y[start:start + batch_size]
            swb = None if sample_weight is None else sample_weight[start:start + batch_size]
            pred = self._forward(xb, False)
            # each batch's penalties (weights and this batch's activity regularisation)
            total += (self.loss(yb, pred, self._loss_weights(xb, swb))
                      + self._penalty()) * xb.shape[0]
            for m in metrics:
                m.update(yb, pred, swb)
        out = {"loss": total / n}
        for m in metrics:
            out[m.name] = m.result()
        return out

    def _loss_weights(self, x, sample_weight):
        """The per-entry loss weights of a batch: its sample weights (a masking model also
        weighs out its masked steps, ``KerasModelAPI``)."""
        return sample_weight

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 return_dict=False):
        """The loss (plus metrics: a list [loss, m1, ...], or a dict with return_dict=True);
        `sample_weight` as in ``fit``."""
        self._require_compiled()
        x = self._prepare_x(x)
        y = self._prepare_y(y, x.shape[0])
        sw = _keras_api.check_sample_weight(sample_weight, None, x.shape[0])
        batch_size = _batch_size(batch_size)
        t0 = time.perf_counter()
        res = self._evaluate_arrays(x, y, batch_size, sw)
        verbose = 1 if verbose == "auto" else int(verbose)
        if verbose:
            print(_progress(-(-x.shape[0] // batch_size), time.perf_counter() - t0, res, verbose))
        if return_dict:
            return res
        return res["loss"] if len(res) == 1 else list(res.values())

    def predict(self, x, batch_size=None, verbose="auto"):
        """Outputs for x, computed in batches of `batch_size` (default 32), inference mode."""
        x = self._prepare_x(x)
        batch_size = _batch_size(batch_size)
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
