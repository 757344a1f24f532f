"""The recurrent layers: SimpleRNN (the Elman cell), LSTM and GRU.

Each layer is a row of the cell table (``fastrnn.cells``) plus its options: the table gives the
gate blocks, the bias shape, the recurrent states, the allowed activations and the ``ops``
functions (``cell.forward_name`` / ``cell.backward_name``) the whole sequence runs through, in
one call forward and one backward, on the backend named by ``backend=`` (None:
``fastrnn.backends.default()``).

Dropout follows Keras: ``dropout`` multiplies the inputs by one inverted-dropout mask per
sequence (the same for every time step); ``recurrent_dropout`` multiplies h_{t-1} by one mask
per sequence in the recurrent product only (for the LSTM the carry c is not masked); the GRU
follows Keras 3 (one mask per gate block, see ``stepwise``). recurrent_dropout runs on a
per-step path (``stepwise``, training only).

Masks (``mask=`` in the call, or a Masking layer before) go to the kernels: the whole sequence
still runs in one ``ops`` call forward and one backward, with the mask, where the states carry
over masked steps; the layer then makes Keras's outputs from the states (a masked step repeats
the previous output, zeros before the first valid step, or zeros at every masked step with
``zero_output_for_mask=True``), a 0/1 factor per (sample, step) whose gradient is the same
factor. A masked call takes the per-step path only when it needs it anyway (recurrent dropout in
training) or when its backend takes no masks (the CUDA backend: the layer then runs the steps
through it one at a time).

Keras's other RNN arguments: ``stateful=True`` keeps the last states of a call as the initial
states of the next (batches of one size; ``reset_states()`` / ``reset_state()`` zero them);
``mask=`` in the call (a (batch, time) boolean array) with ``zero_output_for_mask``;
``implementation`` 1 or 2 is accepted (the maths is the same); ``unroll`` is accepted and has
no effect; ``activity_regularizer`` and the weight constraints (``keras_extras``).
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
from fastrnn.nn.layers import stepwise as _stepwise
from fastrnn.nn.layers.base import (
    FusedSpec,
    Layer,
    NotFused,
    _inverted_mask,
    _rate,
    _shape_str,
)
from fastrnn.nn.layers.keras_extras import KerasExtras

__all__ = ["Recurrent", "SimpleRNN", "LSTM", "GRU", "RNN_ACTIVATIONS"]

RNN_ACTIVATIONS = _cells.ACTIVATIONS


class Recurrent(KerasExtras, Layer):
    """Shared machinery of SimpleRNN, LSTM and GRU: a subclass names its row of the cell
    table (``cell``) and adds its options."""

    cell = None                # a fastrnn.cells.CellInfo
    _sequence_input = True

    def __init__(self, units, activation="tanh", use_bias=True,
                 kernel_initializer="glorot_uniform", recurrent_initializer="orthogonal",
                 bias_initializer="zeros", kernel_regularizer=None, recurrent_regularizer=None,
                 bias_regularizer=None, dropout=0.0, recurrent_dropout=0.0, seed=None,
                 return_sequences=False, return_state=False, go_backwards=False, stateful=False,
                 unroll=False, backend=None, activity_regularizer=None, kernel_constraint=None,
                 recurrent_constraint=None, bias_constraint=None, zero_output_for_mask=False,
                 **kwargs):
        implementation = kwargs.pop("implementation", 2)
        kwargs.pop("use_cudnn", None)        # Keras 3: a device choice, not a model property
        super().__init__(**kwargs)
        self.units = _params.positive_int(units, "units")
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
        self.stateful = bool(stateful)
        self.states = None           # the carried states of a stateful layer (list of arrays)
        self.zero_output_for_mask = bool(zero_output_for_mask)
        self.unroll = bool(unroll)  # accepted for Keras compatibility; has no effect
        # Keras's implementation 1 / 2 only changes how the products are grouped; 0 is its
        # legacy value, read as 2 (Keras does the same)
        self.implementation = _params.check(implementation, "implementation",
                                            _params.Options((0, 1, 2))) or 2
        self._init_extras(activity_regularizer, kernel_constraint=("kernel", kernel_constraint),
                          recurrent_constraint=("recurrent_kernel", recurrent_constraint),
                          bias_constraint=("bias", bias_constraint))
        if backend is not None:
            _backends._check_name(backend)
        self.backend = backend
        self._zero_bias = None
        self._cache = None

    @property
    def activation(self):
        return self._activation

    @activation.setter
    def activation(self, value):
        if value is not None and not isinstance(value, str) and hasattr(value, "name"):
            value = value.name          # a fastrnn.activations object
        value = _params.check(value, "activation",
                              _params.Options(self.cell.activations, none_ok=True))
        self._activation = "linear" if value is None else value

    def reset_states(self, states=None):
        """Zero the carried states of a stateful layer (or set them to `states`, a list of
        (batch, units) arrays); Keras's ``reset_state`` / ``reset_states``."""
        if not self.stateful:
            raise AttributeError(f"layer {self.name!r} is not stateful (stateful=False): it has "
                                 "no states to reset")
        if states is None:
            self.states = (None if self.states is None
                           else [np.zeros_like(s) for s in self.states])
        else:
            B = np.shape(states[0] if isinstance(states, (list, tuple)) else states)[0]
            h0, c0 = self._states(states, B)
            self.states = [h0] + ([c0] if c0 is not None else [])

    reset_state = reset_states

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

    def _cell_forward(self, x, h0, c0, mask=None):
        args = (x, self.kernel, self.recurrent_kernel, self._b(), h0)
        if self._n_states > 1:
            args += (c0,)
        kw = self._cell_options()
        if mask is not None:
            kw["mask"] = mask
        r = getattr(_ops, self.cell.forward_name)(*args, backend=self.backend, **kw)
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

    def _step_mask(self, mask, B, T):
        if mask is None:
            return None
        m = np.asarray(mask)
        if m.shape != (B, T):
            raise ValueError(f"mask for layer {self.name!r} must have shape ({B}, {T}) (batch, "
                             f"time), got {_shape_str(m.shape)}")
        return m.astype(bool)

    def _kernels_take_masks(self):
        return _backends.get(self.backend)[1].CAPABILITIES.get("masks", False)

    @staticmethod
    def _output_keep(step_mask, zero_output):
        """(B, T) bool: where Keras's output is the state h_t (elsewhere it is zeros). A masked
        step's state is h_{t-1}, which is the previous output once a valid step has been seen;
        before that the output is zeros, and with zero_output_for_mask it is zeros at every
        masked step."""
        return step_mask if zero_output else np.logical_or.accumulate(step_mask, axis=1)

    def forward(self, x, training=False, initial_state=None, mask=None):
        B, T, _ = x.shape
        if self.stateful and initial_state is None and self.states is not None:
            if self.states[0].shape[0] != B:
                raise ValueError(f"stateful layer {self.name!r} holds states for batches of "
                                 f"{self.states[0].shape[0]} samples, got {B}: feed batches of "
                                 "one size (Keras's rule) or call reset_states() first")
            initial_state = self.states
        h0, c0 = self._states(initial_state, B)
        step_mask = self._step_mask(mask, B, T)
        rng = self.noise_rng()
        in_mask = gate_masks = rec_mask = None
        keras3_gru = training and self.recurrent_dropout > 0 and self.cell is _cells.GRU
        if keras3_gru:   # one mask per gate block (Keras 3), for the inputs and for h_{t-1}
            def masks(shape, rate):
                return [(_inverted_mask(rng, shape, rate, x.dtype) if rate > 0 else None)
                        for _ in range(3)]
            gate_masks = (masks((B, x.shape[2]), self.dropout)
                          + masks((B, self.units), self.recurrent_dropout))
        elif training and self.dropout > 0:
            in_mask = _inverted_mask(rng, (B, x.shape[2]), self.dropout, x.dtype)
            x = x * in_mask[:, None, :]
        if self.go_backwards:
            x = x[:, ::-1]
            step_mask = None if step_mask is None else step_mask[:, ::-1]
        if not keras3_gru and training and self.recurrent_dropout > 0:
            rec_mask = _inverted_mask(rng, (B, self.units), self.recurrent_dropout, x.dtype)
        per_step = gate_masks is not None or rec_mask is not None
        if per_step or (step_mask is not None and not self._kernels_take_masks()):
            h_seq, out_last, h_last, c_last, cache = _stepwise.run(
                self, x, h0, c0, rec_mask, gate_masks, step_mask, self.zero_output_for_mask)
            self._cache = ("steps", cache, None, in_mask, T)
        elif step_mask is not None:
            h_seq, h_last, c_last, cache = self._cell_forward(x, h0, c0, step_mask)
            keep = self._output_keep(step_mask, self.zero_output_for_mask)
            if not self.return_sequences:
                keep = keep[:, -1:]                # only the last output is returned
            # (B, T or 1, 1) factors, None when every output is the state (T = 0 included)
            keep = None if keep.all() else keep[..., None].astype(x.dtype)
            if self.return_sequences:
                h_seq = h_seq if keep is None else h_seq * keep
                out_last = None
            else:
                out_last = (np.zeros_like(h_last) if T == 0
                            else h_last if keep is None else h_last * keep[:, 0])
            self._cache = ("masked", cache, keep, in_mask, T)
        else:
            h_seq, h_last, c_last, cache = self._cell_forward(x, h0, c0)
            out_last = h_last
            self._cache = ("whole", cache, None, in_mask, T)
        if self.stateful:
            self.states = [h_last.copy()] + ([c_last.copy()] if self._n_states > 1 else [])
        out = self._activity(h_seq if self.return_sequences else out_last)
        if self.return_state:
            return [out, h_last] + ([c_last] if self._n_states > 1 else [])
        return out

    def backward(self, dy):
        """dx for dL/d(output) = dy; sets self.grads (kernel, recurrent_kernel[, bias])."""
        if self._cache is None:
            raise RuntimeError(f"layer {self.name!r}: backward called before forward")
        dy = self._activity_grad(dy)
        kind, cache, keep, in_mask, T = self._cache
        dh_seq, dh_last = (dy, None) if self.return_sequences else (None, dy)
        if kind == "masked" and keep is not None:   # outputs = states * keep
            if self.return_sequences:
                dh_seq = dy * keep
            else:
                dh_last = dy * keep[:, 0]
        if kind in ("whole", "masked"):
            g = self._cell_backward(cache, dh_seq, dh_last, None)
            dx, dW, dU, db = g.dx, g.dW, g.dU, g.db
        else:
            dx, dW, dU, db = _stepwise.backward(self, cache, dh_seq, dh_last)
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
        self._extras_not_fused()
        mine = self.backend or _backends.default()
        if mine != backend:
            raise NotFused(f"{self.describe()} runs on the {mine!r} backend")
        if self.cell.name not in _backends.capabilities(backend)["cells"]:
            raise NotFused(f"{self.describe()}: the {backend!r} trainer has no "
                           f"{self.cell.title} cell")
        if self.recurrent_dropout > 0:
            raise NotFused(f"{self.describe()} has recurrent_dropout")
        if len(input_shape) != 3:
            raise NotFused(f"{self.describe()} needs 3-D input")
        spec.update(kind=self.cell.name, units=self.units, activation=self.activation,
                    return_sequences=self.return_sequences,
                    reset_after=getattr(self, "reset_after", True),
                    w=offs["kernel"], u=offs["recurrent_kernel"], b=offs.get("bias", -1),
                    dropout=self.dropout > 0, zero_output_for_mask=self.zero_output_for_mask,
                    go_backwards=self.go_backwards, stateful=self.stateful)
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
                "stateful": self.stateful, "unroll": self.unroll,
                "zero_output_for_mask": self.zero_output_for_mask,
                **self._extras_config()}


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
        self.reset_after = bool(reset_after)

    def fused_spec(self, input_shape, offsets, backend):
        return self._recurrent_fused_spec(GRU, input_shape, offsets, backend)

    def _config(self):
        return {**super()._config(), "recurrent_activation": self.recurrent_activation,
                "reset_after": self.reset_after}
