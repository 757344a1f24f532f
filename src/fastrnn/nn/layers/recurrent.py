"""The recurrent layers: SimpleRNN (the Elman cell), LSTM and GRU.

Each layer is a row of the cell table (``fastrnn.cells``) plus its options: the table gives the
gate blocks, the bias shape, the recurrent states, the allowed activations and the ``ops``
functions (``cell.forward_name`` / ``cell.backward_name``) the whole sequence runs through, in
one call forward and one backward, on the backend named by ``backend=`` (None:
``fastrnn.backends.default()``).

Dropout follows Keras: ``dropout`` multiplies the inputs by one inverted-dropout mask per
sequence (the same for every time step); ``recurrent_dropout`` multiplies h_{t-1} by one mask
per sequence in the recurrent product only (for the LSTM the carry c is not masked).
recurrent_dropout runs on a per-step path (one ops call per time step, training only); for the
GRU, Keras versions disagree on where the mask goes, so ``GRU(recurrent_dropout>0)`` raises
NotImplementedError.
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn import backends as _backends
from fastrnn import cells as _cells
from fastrnn import ops as _ops
from fastrnn.nn import initializers as _inits
from fastrnn.nn import registry as _registry
from fastrnn.nn import regularizers as _regs
from fastrnn.nn.layers.base import (FusedSpec, Layer, NotFused, _inverted_mask, _rate,
                                    _shape_str)

__all__ = ["Recurrent", "SimpleRNN", "LSTM", "GRU", "RNN_ACTIVATIONS"]

RNN_ACTIVATIONS = _cells.ACTIVATIONS


class Recurrent(Layer):
    """Shared machinery of SimpleRNN, LSTM and GRU: a subclass names its row of the cell
    table (``cell``) and adds its options."""

    cell = None                # a fastrnn.cells.CellInfo
    _sequence_input = True

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, backend=None, **kwargs):
        super().__init__(**kwargs)
        self.units = _params.positive_int(units, "units")
        activation = _params.check(activation, "activation",
                                   _params.Options(self.cell.activations, none_ok=True))
        self.activation = "linear" if activation is None else activation
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
            _backends._check_name(backend)
        self.backend = backend
        self._zero_bias = None
        self._cache = None

    def _recurrent_activation(self, value):
        return _params.check(value, "recurrent_activation",
                             _params.Options(self.cell.recurrent_activations))

    @property
    def _n_states(self):
        return len(self.cell.states)

    # -- weights ---------------------------------------------------------------------------
    def _bias_shape(self):
        return self.cell.bias_shape(self.units, getattr(self, "reset_after", True))

    def _init_bias(self, rng):
        return self.bias_initializer(self._bias_shape(), self.dtype, rng)

    def _make_weights(self, input_shape, rng):
        rng = self._rng or rng
        I, H, G = input_shape[-1], self.units, self.cell.gates
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
    def _cell_options(self):
        kw = {"activation": self.activation}
        if self.cell.recurrent_activations:
            kw["recurrent_activation"] = self.recurrent_activation
        if self.cell.has_reset_after:
            kw["reset_after"] = self.reset_after
        return kw

    def _cell_forward(self, x, h0, c0):
        args = (x, self.kernel, self.recurrent_kernel, self._b(), h0)
        if self._n_states > 1:
            args += (c0,)
        r = getattr(_ops, self.cell.forward_name)(*args, backend=self.backend,
                                                  **self._cell_options())
        return r.h_seq, r.h_last, r.c_last, r.cache

    def _cell_backward(self, cache, dh_seq, dh_last, dc_last):
        kw = {"dc_last": dc_last} if self._n_states > 1 else {}
        return getattr(_ops, self.cell.backward_name)(cache, dh_seq=dh_seq, dh_last=dh_last,
                                                      **kw)

    def _b(self):
        return self.bias if self.use_bias else self._zero_bias

    def _states(self, initial_state, B):
        if initial_state is None:
            return None, None
        states = list(initial_state) if isinstance(initial_state, (list, tuple)) else [initial_state]
        n = self._n_states
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
        rng = self.noise_rng()
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
            return [out, h_last] + ([c_last] if self._n_states > 1 else [])
        return out

    def _forward_per_step(self, x, h0, c0, m):
        """recurrent_dropout (Keras's rule): h_{t-1} * m enters the recurrent product only."""
        B, T, _ = x.shape
        H = self.units
        h = np.zeros((B, H), x.dtype) if h0 is None else h0
        c = None
        if self._n_states > 1:
            c = np.zeros((B, H), x.dtype) if c0 is None else c0
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

    # -- fused training --------------------------------------------------------------------
    def _recurrent_fused_spec(self, cls, input_shape, offsets, backend):
        spec, arrays, offs = self._fused_base(cls, input_shape, offsets)
        mine = self.backend or _backends.default()
        if mine != backend:
            raise NotFused(f"{self.describe()} runs on the {mine!r} backend")
        if self.cell.name not in _backends.capabilities(backend)["cells"]:
            raise NotFused(f"{self.describe()}: the {backend!r} trainer has no "
                           f"{self.cell.title} cell")
        if self.recurrent_dropout > 0:
            raise NotFused(f"{self.describe()} has recurrent_dropout")
        if self.go_backwards:
            raise NotFused(f"{self.describe()} has go_backwards=True")
        if len(input_shape) != 3:
            raise NotFused(f"{self.describe()} needs 3-D input")
        spec.update(kind=self.cell.name, units=self.units, activation=self.activation,
                    return_sequences=self.return_sequences,
                    reset_after=getattr(self, "reset_after", True),
                    w=offs["kernel"], u=offs["recurrent_kernel"], b=offs.get("bias", -1),
                    dropout=self.dropout > 0)
        noise = (spec["in"], self.dropout) if self.dropout > 0 else None
        return FusedSpec(spec, arrays, noise)

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


@_registry.register("layer")
class SimpleRNN(Recurrent):
    """Elman cell: h_t = activation(x_t kernel + h_{t-1} recurrent_kernel + bias).
    ``activation`` in tanh (default), relu, sigmoid, linear/None."""

    cell = _cells.ELMAN

    def fused_spec(self, input_shape, offsets, backend):
        return self._recurrent_fused_spec(SimpleRNN, input_shape, offsets, backend)


@_registry.register("layer")
class LSTM(Recurrent):
    """LSTM with Keras's gate order i, f, c, o. ``unit_forget_bias=True`` (default) starts the
    f block of the bias at 1. ``recurrent_activation`` must be 'sigmoid' (the kernels')."""

    cell = _cells.LSTM

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 unit_forget_bias=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = self._recurrent_activation(recurrent_activation)
        self.unit_forget_bias = bool(unit_forget_bias)

    def _init_bias(self, rng):
        if not self.unit_forget_bias:
            return super()._init_bias(rng)
        H = self.units
        return np.concatenate([self.bias_initializer((H,), self.dtype, rng), np.ones(H, self.dtype),
                               self.bias_initializer((2 * H,), self.dtype, rng)])

    def fused_spec(self, input_shape, offsets, backend):
        return self._recurrent_fused_spec(LSTM, input_shape, offsets, backend)

    def _config(self):
        return {**super()._config(), "recurrent_activation": self.recurrent_activation,
                "unit_forget_bias": self.unit_forget_bias}


@_registry.register("layer")
class GRU(Recurrent):
    """GRU with Keras's gate order z, r, h and h_t = z h_{t-1} + (1 - z) hh.
    ``reset_after=True`` (default; PyTorch's and cuDNN's variant) has a (2, 3H) bias (input
    row, recurrent row); False is Cho et al.'s original with a (3H,) bias. Texts that write
    h_t = (1 - z) h_{t-1} + z hh describe the same model with z relabelled."""

    cell = _cells.GRU

    def __init__(self, units, activation="tanh", recurrent_activation="sigmoid",
                 reset_after=True, **kwargs):
        super().__init__(units, activation=activation, **kwargs)
        self.recurrent_activation = self._recurrent_activation(recurrent_activation)
        if self.recurrent_dropout > 0:
            raise NotImplementedError(
                "GRU(recurrent_dropout>0) is not implemented in fastrnn: Keras versions apply "
                "the mask differently for the GRU. Use dropout= (on the inputs), a Dropout "
                "layer, or an LSTM/SimpleRNN with recurrent_dropout")
        self.reset_after = bool(reset_after)

    def fused_spec(self, input_shape, offsets, backend):
        return self._recurrent_fused_spec(GRU, input_shape, offsets, backend)

    def _config(self):
        return {**super()._config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}
