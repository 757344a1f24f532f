"""Keras-style layers: SimpleRNN, LSTM, GRU, Dense, Dropout, and Input.

Arguments, defaults, weight shapes and get_weights() order are Keras's, so weights copied
from a Keras model give the same outputs:

    SimpleRNN  [kernel (I, H), recurrent_kernel (H, H), bias (H,)]
    LSTM       [kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,)]        gates i, f, c, o
    GRU        [kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H)]      gates z, r, h
               (bias (3H,) when reset_after=False)
    Dense      [kernel (in, units), bias (units,)]
    (no bias entry when use_bias=False: the cell then runs with a zero bias that is not trained)

The recurrent layers run the whole sequence in one ``fastrnn.ops`` call (forward) and one
backward call, on the backend named by ``backend=`` (None: ``fastrnn.backends.default()``).

Dropout in the recurrent layers follows Keras: ``dropout`` multiplies the inputs by one
inverted-dropout mask per sequence (the same for every time step); ``recurrent_dropout``
multiplies h_{t-1} by one mask per sequence in the recurrent product only (for the LSTM the
carry c is not masked). recurrent_dropout is implemented for SimpleRNN and LSTM exactly as
Keras does, on a per-step path (one ops call per time step, training only); for the GRU,
Keras versions disagree on where the mask goes, so ``GRU(recurrent_dropout>0)`` raises
NotImplementedError. Both kinds of dropout act only in training (``fit``, or
``layer(x, training=True)``).

Layer protocol used by ``fastrnn.models.Sequential`` (and by a future fused training loop):
``build(input_shape)``, ``forward(x, training) -> y`` (keeps what backward needs),
``backward(dy) -> dx`` (sets ``layer.grads``, aligned with ``layer.trainable_weights``),
``penalty()`` (the regularisation term) and ``compute_output_shape(input_shape)``.
"""

from __future__ import annotations

import re

import numpy as np

from fastrnn.nn import activations as _activations
from fastrnn.nn import initializers as _inits
from fastrnn import ops as _ops
from fastrnn.nn import regularizers as _regs
from fastrnn.nn import seeding as _seeding

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Dropout", "SimpleRNN", "LSTM", "GRU",
           "RNN_ACTIVATIONS", "serialize", "deserialize"]

RNN_ACTIVATIONS = ("tanh", "relu", "sigmoid", "linear")
_counters: dict = {}


def _auto_name(cls_name):
    base = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", cls_name).lower()
    n = _counters.get(base, 0)
    _counters[base] = n + 1
    return base if n == 0 else f"{base}_{n}"


def _shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _dtype(dtype, arg="dtype"):
    if dtype is None:
        return None
    try:
        dt = np.dtype(dtype)
    except TypeError:
        raise TypeError(f"{arg} must be 'float32' or 'float64', got {dtype!r}") from None
    if dt not in (np.float32, np.float64):
        raise TypeError(f"{arg} must be 'float32' or 'float64', got {dtype!r}")
    return dt


def _rate(value, name):
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a number in [0, 1), got {value!r}") from None
    if not 0 <= v < 1:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")
    return v


def _units(units):
    if isinstance(units, bool) or not isinstance(units, (int, np.integer)) or units < 1:
        raise ValueError(f"units must be a positive int, got {units!r}")
    return int(units)


def _shape_arg(shape, name):
    if shape is None:
        return None
    if isinstance(shape, (int, np.integer)):
        shape = (shape,)
    try:
        shape = tuple(None if s is None else int(s) for s in shape)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be a tuple of ints or None, got {shape!r}") from None
    if any(s is not None and s < 1 for s in shape):
        raise ValueError(f"{name} entries must be positive or None, got {shape!r}")
    return shape


def _inverted_mask(rng, shape, rate, dtype):
    keep = rng.random(shape) >= rate
    return (keep / (1.0 - rate)).astype(dtype)


class Layer:
    """Base class. Subclasses define ``_make_weights(input_shape)``, ``forward``, ``backward``,
    ``compute_output_shape`` and ``_config``."""

    def __init__(self, *, name=None, dtype=None, input_shape=None, batch_input_shape=None,
                 input_dim=None, trainable=True):
        self.name = name if name is not None else _auto_name(type(self).__name__)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {self.name!r}")
        self._dtype_arg = _dtype(dtype)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_shape is None and input_dim is not None:
            input_shape = (None, int(input_dim)) if isinstance(self, _RNN) else (int(input_dim),)
        self.input_shape_arg = _shape_arg(input_shape, "input_shape")
        self.trainable = bool(trainable)
        self.built = False
        self.dtype = None
        self.input_shape = None
        self._weights = []       # list of (name, array, regularizer)
        self.grads = None

    # -- weights -------------------------------------------------------------------------
    def _add_weight(self, wname, array, regularizer=None):
        self._weights.append((wname, np.ascontiguousarray(array, dtype=self.dtype), regularizer))

    @property
    def weights(self):
        return [w for _, w, _ in self._weights]

    @property
    def trainable_weights(self):
        return self.weights if self.trainable else []

    @property
    def non_trainable_weights(self):
        return [] if self.trainable else self.weights

    def get_weights(self):
        """Copies of the weight arrays, in Keras's order."""
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        """Set the weights from a list of arrays in Keras's order and shapes (values are copied
        in place; dtype is converted to the layer's)."""
        if not self.built:
            raise ValueError(f"layer {self.name!r} has no weights yet: build it first (give "
                             "input_shape=, call it on data, or build the model)")
        weights = list(weights)
        expect = ", ".join(f"{n} {_shape_str(w.shape)}" for n, w, _ in self._weights)
        if len(weights) != len(self._weights):
            raise ValueError(f"layer {self.name!r} expects {len(self._weights)} weight arrays "
                             f"[{expect}], got {len(weights)}")
        new = []
        for (wname, w, _), v in zip(self._weights, weights):
            v = np.asarray(v)
            if v.shape != w.shape:
                raise ValueError(f"layer {self.name!r}: weight {wname!r} must have shape "
                                 f"{_shape_str(w.shape)}, got {_shape_str(v.shape)}")
            if v.dtype.kind not in "fiu" or not np.isfinite(v).all():
                raise ValueError(f"layer {self.name!r}: weight {wname!r} must be finite numbers")
            new.append(v)
        for (_, w, _), v in zip(self._weights, new):
            w[...] = v

    def count_params(self):
        return int(sum(w.size for w in self.weights))

    def penalty(self):
        """Sum of the regularisation penalties of this layer's trainable weights."""
        if not self.trainable:
            return 0.0
        return sum(reg(w) for _, w, reg in self._weights if reg is not None)

    def _add_penalty_grads(self):
        if self.grads is None or not self.trainable:
            return
        for i, (_, w, reg) in enumerate(self._weights):
            if reg is not None:
                self.grads[i] = self.grads[i] + reg.gradient(w)

    # -- building and calling --------------------------------------------------------------
    def build(self, input_shape, dtype=None):
        """Create the weights for inputs of shape (batch, *input_shape[1:]); `dtype` is the
        model's dtype (the layer's own ``dtype=`` wins)."""
        input_shape = tuple(input_shape)
        self.dtype = self._dtype_arg or _dtype(dtype) or np.dtype(np.float32)
        self._check_input_shape(input_shape)
        if not self.built:
            self._weights = []
            self._make_weights(input_shape)
        self.input_shape = input_shape
        self.built = True

    def _check_input_shape(self, input_shape):
        pass

    def _make_weights(self, input_shape):
        pass

    def compute_output_shape(self, input_shape):
        return tuple(input_shape)

    @property
    def output_shape(self):
        if self.input_shape is None:
            raise AttributeError(f"layer {self.name!r} is not built yet")
        return self.compute_output_shape(self.input_shape)

    def __call__(self, x, training=False, **kwargs):
        """Apply the layer to a NumPy array (building it on first use), as in Keras eager mode."""
        arr = np.asarray(x)
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"x must be a numeric array, got dtype {arr.dtype}")
        if not self.built:
            self.build((None,) + arr.shape[1:])
        else:
            self._check_input_shape((None,) + arr.shape[1:])
        return self.forward(arr.astype(self.dtype, copy=False), training=training, **kwargs)

    def forward(self, x, training=False):
        raise NotImplementedError

    def backward(self, dy):
        raise NotImplementedError

    # -- config ----------------------------------------------------------------------------
    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable,
               "dtype": None if self._dtype_arg is None else self._dtype_arg.name}
        if self.input_shape_arg is not None:
            cfg["input_shape"] = list(self.input_shape_arg)
        cfg.update(self._config())
        return cfg

    def _config(self):
        return {}

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def __repr__(self):
        return f"<{type(self).__name__} name={self.name!r}, built={self.built}>"


class InputLayer(Layer):
    """The model's input: ``shape`` excludes the batch dimension; None marks any length."""

    def __init__(self, shape=None, batch_size=None, dtype=None, name=None, input_shape=None):
        shape = shape if shape is not None else input_shape
        if shape is None:
            raise ValueError("Input needs shape=, e.g. Input(shape=(None, 1)) for sequences "
                             "of any length with one feature")
        super().__init__(name=name, dtype=dtype, input_shape=shape)
        self.batch_size = batch_size

    def forward(self, x, training=False):
        return x

    def backward(self, dy):
        self.grads = []
        return dy

    def get_config(self):
        return {"shape": list(self.input_shape_arg), "batch_size": self.batch_size,
                "dtype": None if self._dtype_arg is None else self._dtype_arg.name,
                "name": self.name}


def Input(shape=None, batch_size=None, dtype=None, name=None):
    """The input of a Sequential model (Keras's ``keras.Input``): ``Input(shape=(None, 1))``."""
    return InputLayer(shape=shape, batch_size=batch_size, dtype=dtype, name=name)


class Dense(Layer):
    """y = activation(x @ kernel + bias) over the last axis; on (B, T, F) input it acts on every
    time step, as Keras does. Activations: see ``fastrnn.activations``."""

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.units = _units(units)
        self.activation = _activations.get(activation)
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _inits.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = _inits.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = _regs.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = _regs.get(bias_regularizer, "bias_regularizer")
        self._cache = None

    def _check_input_shape(self, input_shape):
        if len(input_shape) < 2:
            raise ValueError(f"layer {self.name!r} (Dense) needs inputs of rank >= 2 "
                             f"(batch, ..., features), got shape {_shape_str(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"layer {self.name!r} (Dense) needs a known last dimension, got "
                             f"input shape {_shape_str(input_shape)}")
        if self.built and input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"layer {self.name!r} (Dense) expects {self.kernel.shape[0]} input "
                             f"features (last axis), got input shape {_shape_str(input_shape)}")

    def _make_weights(self, input_shape):
        rng = _seeding.generator()
        n_in = input_shape[-1]
        self._add_weight("kernel", self.kernel_initializer((n_in, self.units), self.dtype, rng),
                         self.kernel_regularizer)
        if self.use_bias:
            self._add_weight("bias", self.bias_initializer((self.units,), self.dtype, rng),
                             self.bias_regularizer)

    @property
    def kernel(self):
        return self._weights[0][1]

    @property
    def bias(self):
        return self._weights[1][1] if self.use_bias else None

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[:-1]) + (self.units,)

    def forward(self, x, training=False):
        a = x @ self.kernel
        if self.use_bias:
            a += self.bias
        y = self.activation.forward(a)
        self._cache = (x, a, y)
        return y

    def backward(self, dy):
        x, a, y = self._cache
        da = self.activation.backward(a, y, dy)
        n_in = x.shape[-1]
        x2, da2 = x.reshape(-1, n_in), da.reshape(-1, self.units)
        grads = [x2.T @ da2]
        if self.use_bias:
            grads.append(da2.sum(axis=0))
        self.grads = grads
        self._add_penalty_grads()
        return da @ self.kernel.T

    def _config(self):
        return {"units": self.units, "activation": self.activation.name,
                "use_bias": self.use_bias,
                "kernel_initializer": _inits.serialize(self.kernel_initializer),
                "bias_initializer": _inits.serialize(self.bias_initializer),
                "kernel_regularizer": _regs.serialize(self.kernel_regularizer),
                "bias_regularizer": _regs.serialize(self.bias_regularizer)}


class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction `rate` of the entries and scale the rest
    by 1 / (1 - rate); the identity at inference. ``noise_shape`` as in Keras (None entries
    take the input's size)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _rate(rate, "rate")
        self.noise_shape = None if noise_shape is None else tuple(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._mask = None

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        shape = x.shape if self.noise_shape is None else tuple(
            d if n is None else n for n, d in zip(self.noise_shape, x.shape))
        self._mask = _inverted_mask(self._rng or _seeding.generator(), shape, self.rate, x.dtype)
        return x * self._mask

    def backward(self, dy):
        self.grads = []
        return dy if self._mask is None else dy * self._mask

    def _config(self):
        return {"rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


class _RNN(Layer):
    """Shared machinery of SimpleRNN, LSTM and GRU."""

    _cell = None
    _gates = 1

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, backend=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _units(units)
        if activation is None:
            activation = "linear"
        if activation not in RNN_ACTIVATIONS:
            raise ValueError(f"activation must be one of "
                             f"{', '.join(repr(a) for a in RNN_ACTIVATIONS)} or None for "
                             f"{type(self).__name__}; got {activation!r}")
        self.activation = activation
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _inits.get(kernel_initializer, "kernel_initializer")
        self.recurrent_initializer = _inits.get(recurrent_initializer, "recurrent_initializer")
        self.bias_initializer = _inits.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = _regs.get(kernel_regularizer, "kernel_regularizer")
        self.recurrent_regularizer = _regs.get(recurrent_regularizer, "recurrent_regularizer")
        self.bias_regularizer = _regs.get(bias_regularizer, "bias_regularizer")
        self.dropout = _rate(dropout, "dropout")
        self.recurrent_dropout = _rate(recurrent_dropout, "recurrent_dropout")
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self.return_sequences = bool(return_sequences)
        self.return_state = bool(return_state)
        self.go_backwards = bool(go_backwards)
        if stateful:
            raise NotImplementedError(f"{type(self).__name__}(stateful=True) is not implemented "
                                      "in fastrnn; pass initial_state= to the layer call instead")
        self.unroll = bool(unroll)  # accepted for Keras compatibility; has no effect
        if backend is not None:
            from fastrnn import backends as _backends
            _backends._check_name(backend)
        self.backend = backend
        self._zero_bias = None
        self._cache = None

    # -- weights ---------------------------------------------------------------------------
    def _bias_shape(self):
        return (self._gates * self.units,)

    def _init_bias(self, rng):
        return self.bias_initializer(self._bias_shape(), self.dtype, rng)

    def _make_weights(self, input_shape):
        rng = self._rng or _seeding.generator()
        I, H, G = input_shape[-1], self.units, self._gates
        self._add_weight("kernel", self.kernel_initializer((I, G * H), self.dtype, rng),
                         self.kernel_regularizer)
        self._add_weight("recurrent_kernel",
                         self.recurrent_initializer((H, G * H), self.dtype, rng),
                         self.recurrent_regularizer)
        if self.use_bias:
            self._add_weight("bias", self._init_bias(rng), self.bias_regularizer)
            self._zero_bias = None
        else:
            self._zero_bias = np.zeros(self._bias_shape(), self.dtype)

    @property
    def kernel(self):
        return self._weights[0][1]

    @property
    def recurrent_kernel(self):
        return self._weights[1][1]

    @property
    def bias(self):
        return self._weights[2][1] if self.use_bias else None

    def _check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs 3-D input "
                             f"(batch, time, features), got shape {_shape_str(input_shape)}")
        if input_shape[-1] is None:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) needs a known number "
                             f"of features, got input shape {_shape_str(input_shape)}")
        if self.built and input_shape[-1] != self.kernel.shape[0]:
            raise ValueError(f"layer {self.name!r} ({type(self).__name__}) expects "
                             f"{self.kernel.shape[0]} features per time step, got input shape "
                             f"{_shape_str(input_shape)}")

    def compute_output_shape(self, input_shape):
        if self.return_sequences:
            return (input_shape[0], input_shape[1], self.units)
        return (input_shape[0], self.units)

    # -- the cell through fastrnn.ops ------------------------------------------------------
    def _cell_forward(self, x, h0, c0):
        raise NotImplementedError

    def _cell_backward(self, cache, dh_seq, dh_last, dc_last):
        raise NotImplementedError

    def _b(self):
        return self.bias if self.use_bias else self._zero_bias

    def _states(self, initial_state, B):
        if initial_state is None:
            return None, None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        n = 2 if self._cell == "lstm" else 1
        if len(states) != n:
            raise ValueError(f"initial_state for {type(self).__name__} must be {n} array(s) of "
                             f"shape (batch, units), got {len(states)}")
        out = []
        for s in states:
            s = np.asarray(s, dtype=self.dtype)
            if s.shape != (B, self.units):
                raise ValueError(f"initial_state arrays must have shape ({B}, {self.units}), "
                                 f"got {_shape_str(s.shape)}")
            out.append(np.ascontiguousarray(s))
        return out[0], (out[1] if n == 2 else None)

    def forward(self, x, training=False, initial_state=None):
        B, T, _ = x.shape
        h0, c0 = self._states(initial_state, B)
        rng = self._rng or _seeding.generator()
        in_mask = None
        if training and self.dropout > 0:
            in_mask = _inverted_mask(rng, (B, x.shape[2]), self.dropout, x.dtype)
            x = x * in_mask[:, None, :]
        if self.go_backwards:
            x = x[:, ::-1]
        if training and self.recurrent_dropout > 0:
            rec_mask = _inverted_mask(rng, (B, self.units), self.recurrent_dropout, x.dtype)
            h_seq, h_last, c_last, caches = self._forward_per_step(x, h0, c0, rec_mask)
            self._cache = ("steps", caches, rec_mask, in_mask, T)
        else:
            h_seq, h_last, c_last, cache = self._cell_forward(x, h0, c0)
            self._cache = ("whole", cache, None, in_mask, T)
        out = h_seq if self.return_sequences else h_last
        if self.return_state:
            return [out, h_last] + ([c_last] if self._cell == "lstm" else [])
        return out

    def _forward_per_step(self, x, h0, c0, m):
        """recurrent_dropout (Keras's rule): h_{t-1} * m enters the recurrent product only."""
        B, T, _ = x.shape
        H = self.units
        h = np.zeros((B, H), x.dtype) if h0 is None else h0
        c = (np.zeros((B, H), x.dtype) if c0 is None else c0) if self._cell == "lstm" else None
        h_seq = np.empty((B, T, H), x.dtype)
        caches = []
        for t in range(T):
            hs, h, c_new, cache = self._cell_forward(x[:, t:t + 1], h * m, c)
            c = c_new
            h_seq[:, t] = h
            caches.append(cache)
        return h_seq, h, c, caches

    def backward(self, dy):
        """dx for dL/d(output) = dy; sets self.grads (kernel, recurrent_kernel[, bias])."""
        if self._cache is None:
            raise RuntimeError(f"layer {self.name!r}: backward called before forward")
        kind, cache, rec_mask, in_mask, T = self._cache
        dh_seq, dh_last = (dy, None) if self.return_sequences else (None, dy)
        if kind == "whole":
            g = self._cell_backward(cache, dh_seq, dh_last, None)
            dx, dW, dU, db = g.dx, g.dW, g.dU, g.db
        else:
            dW = dU = db = 0
            dx = np.empty((dy.shape[0], T, self.kernel.shape[0]), dy.dtype)
            dh_next = dh_last
            dc_next = None
            for t in reversed(range(T)):
                g = self._cell_backward(cache[t], None if dh_seq is None else dh_seq[:, t:t + 1],
                                        dh_next, dc_next)
                dW, dU, db = dW + g.dW, dU + g.dU, db + g.db
                dx[:, t] = g.dx[:, 0]
                dh_next = g.dh0 * rec_mask
                dc_next = g.dc0
        if self.go_backwards:
            dx = dx[:, ::-1]
        if in_mask is not None:
            dx = dx * in_mask[:, None, :]
        self.grads = [dW, dU] + ([db] if self.use_bias else [])
        self._add_penalty_grads()
        return dx

    def _config(self):
        return {"units": self.units, "activation": self.activation, "use_bias": self.use_bias,
                "kernel_initializer": _inits.serialize(self.kernel_initializer),
                "recurrent_initializer": _inits.serialize(self.recurrent_initializer),
                "bias_initializer": _inits.serialize(self.bias_initializer),
                "kernel_regularizer": _regs.serialize(self.kernel_regularizer),
                "recurrent_regularizer": _regs.serialize(self.recurrent_regularizer),
                "bias_regularizer": _regs.serialize(self.bias_regularizer),
                "dropout": self.dropout, "recurrent_dropout": self.recurrent_dropout,
                "seed": self.seed, "return_sequences": self.return_sequences,
                "return_state": self.return_state, "go_backwards": self.go_backwards,
                "unroll": self.unroll}


class SimpleRNN(_RNN):
    """Elman cell: h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias).
    ``activation`` in tanh (default), relu, sigmoid, linear/None."""

    _cell = "elman"
    _gates = 1

    def _cell_forward(self, x, h0, c0):
        r = _ops.elman_forward(x, self.kernel, self.recurrent_kernel, self._b(), h0,
                               activation=self.activation, backend=self.backend)
        return r.h_seq, r.h_last, None, r.cache

    def _cell_backward(self, cache, dh_seq, dh_last, dc_last):
        return _ops.elman_backward(cache, dh_seq=dh_seq, dh_last=dh_last)


class LSTM(_RNN):
    """LSTM with Keras's gate order i, f, c, o. ``unit_forget_bias=True`` (default) starts the
    f block of the bias at 1. ``recurrent_activation`` must be 'sigmoid' (the kernels')."""

    _cell = "lstm"
    _gates = 4

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        if recurrent_activation != "sigmoid":
            raise ValueError(f"recurrent_activation must be 'sigmoid' (the only one the fastrnn "
                             f"kernels implement); got {recurrent_activation!r}")
        self.recurrent_activation = recurrent_activation
        self.unit_forget_bias = bool(unit_forget_bias)

    def _init_bias(self, rng):
        if not self.unit_forget_bias:
            return super()._init_bias(rng)
        H = self.units
        return np.concatenate([self.bias_initializer((H,), self.dtype, rng), np.ones(H, self.dtype),
                               self.bias_initializer((2 * H,), self.dtype, rng)])

    def _cell_forward(self, x, h0, c0):
        r = _ops.lstm_forward(x, self.kernel, self.recurrent_kernel, self._b(), h0, c0,
                              activation=self.activation,
                              recurrent_activation=self.recurrent_activation,
                              backend=self.backend)
        return r.h_seq, r.h_last, r.c_last, r.cache

    def _cell_backward(self, cache, dh_seq, dh_last, dc_last):
        return _ops.lstm_backward(cache, dh_seq=dh_seq, dh_last=dh_last, dc_last=dc_last)

    def _config(self):
        return {**super()._config(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}


class GRU(_RNN):
    """GRU with Keras's gate order z, r, h and h_t = z h_{t-1} + (1 - z) hh.
    ``reset_after=True`` (default; PyTorch's and cuDNN's variant) has a (2, 3H) bias (input
    row, recurrent row); False is Cho et al.'s original with a (3H,) bias. Texts that write
    h_t = (1 - z) h_{t-1} + z hh describe the same model with z relabelled."""

    _cell = "gru"
    _gates = 3

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        if recurrent_activation != "sigmoid":
            raise ValueError(f"recurrent_activation must be 'sigmoid' (the only one the fastrnn "
                             f"kernels implement); got {recurrent_activation!r}")
        if self.recurrent_dropout > 0:
            raise NotImplementedError(
                "GRU(recurrent_dropout>0) is not implemented in fastrnn: Keras versions apply "
                "the mask differently for the GRU. Use dropout= (on the inputs), a Dropout "
                "layer, or an LSTM/SimpleRNN with recurrent_dropout")
        self.recurrent_activation = recurrent_activation
        self.reset_after = bool(reset_after)

    def _bias_shape(self):
        return (2, 3 * self.units) if self.reset_after else (3 * self.units,)

    def _cell_forward(self, x, h0, c0):
        r = _ops.gru_forward(x, self.kernel, self.recurrent_kernel, self._b(), h0,
                             reset_after=self.reset_after, activation=self.activation,
                             recurrent_activation=self.recurrent_activation,
                             backend=self.backend)
        return r.h_seq, r.h_last, None, r.cache

    def _cell_backward(self, cache, dh_seq, dh_last, dc_last):
        return _ops.gru_backward(cache, dh_seq=dh_seq, dh_last=dh_last)

    def _config(self):
        return {**super()._config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}


_CLASSES = {c.__name__: c for c in (InputLayer, Dense, Dropout, SimpleRNN, LSTM, GRU)}


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec):
    """A layer from {'class_name', 'config'}; only fastrnn's own layer classes are accepted."""
    if not isinstance(spec, dict) or spec.get("class_name") not in _CLASSES:
        name = spec.get("class_name") if isinstance(spec, dict) else spec
        raise ValueError(f"unknown layer class {name!r}; known: {', '.join(_CLASSES)}")
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer config must be a dict, got {type(config).__name__}")
    return _CLASSES[spec["class_name"]](**config)
