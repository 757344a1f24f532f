"""``Bidirectional``: Keras's wrapper that runs a recurrent layer forwards and a copy of it
backwards over the sequence and merges the two outputs (the Python path).

    Bidirectional(layer, merge_mode="concat", backward_layer=None)

The backward layer is `backward_layer`, or a copy of `layer` (from its config, with fresh
weights) with ``go_backwards`` flipped. With ``return_sequences`` the backward outputs are
reversed back into time order before merging, as in Keras. merge_mode: "concat" (last axis;
units doubled), "sum", "mul", "ave", or None (a list [forward, backward]: not in a
Sequential). Weights, in Keras's order: the forward layer's, then the backward layer's; the
children are named ``forward_<name>`` / ``backward_<name>``.
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn.nn import registry as _registry
from fastrnn.nn.layers import base as _base
from fastrnn.nn.layers.recurrent import Recurrent

__all__ = ["Bidirectional"]

_MERGE = _params.Options(("concat", "sum", "mul", "ave"), none_ok=True)


@_registry.register("layer")
class Bidirectional(_base.Layer):
    """Bidirectional wrapper for SimpleRNN / LSTM / GRU layers (see the module docstring)."""

    _sequence_input = True

    def __init__(self, layer, merge_mode="concat", weights=None, backward_layer=None,
                 **kwargs):
        if isinstance(layer, dict):
            layer = _base.deserialize(layer)
        if isinstance(backward_layer, dict):
            backward_layer = _base.deserialize(backward_layer)
        if not isinstance(layer, Recurrent):
            raise TypeError(f"Bidirectional needs a recurrent layer (SimpleRNN, LSTM, GRU), got "
                            f"{type(layer).__name__}")
        if layer.return_state:
            raise ValueError("Bidirectional(return_state=True) is not supported by fastrnn")
        super().__init__(**kwargs)
        self.merge_mode = _params.check(merge_mode, "merge_mode", _MERGE)
        if backward_layer is None:
            cfg = layer.get_config()
            cfg.update(name=f"backward_{layer.name}", go_backwards=not layer.go_backwards)
            cfg.pop("input_shape", None)
            backward_layer = type(layer).from_config(cfg)
        elif not isinstance(backward_layer, Recurrent):
            raise TypeError(f"backward_layer must be a recurrent layer, got "
                            f"{type(backward_layer).__name__}")
        if backward_layer.return_sequences != layer.return_sequences:
            raise ValueError("the forward and backward layers of a Bidirectional must agree on "
                             "return_sequences")
        if layer.input_shape_arg is not None and self.input_shape_arg is None:
            self.input_shape_arg = layer.input_shape_arg
        layer.name = f"forward_{layer.name}" if not layer.name.startswith("forward_") else layer.name
        self.forward_layer, self.backward_layer = layer, backward_layer
        self.return_sequences = layer.return_sequences
        self._initial_weights = weights
        self._y = None

    @property
    def _children(self):
        return (self.forward_layer, self.backward_layer)

    # -- weights: the children's, forward first ----------------------------------------------
    @property
    def weights(self):
        return [w for c in self._children for w in c.weights]

    @property
    def trainable_weights(self):
        return [w for c in self._children for w in c.trainable_weights] if self.trainable else []

    @property
    def non_trainable_weights(self):
        if not self.trainable:
            return self.weights
        return [w for c in self._children for w in c.non_trainable_weights]

    def weight_names(self):
        return [f"{side}/{n}" for side, c in zip(("forward", "backward"), self._children)
                for n in c.weight_names()]

    def weight_regularizers(self):
        return [r for c in self._children for r in c.weight_regularizers()] if self.trainable else []

    def bind_weights(self, views):
        views = list(views)
        k = len(self.forward_layer.trainable_weights)
        self.forward_layer.bind_weights(views[:k])
        self.backward_layer.bind_weights(views[k:])

    def get_weights(self):
        return [w.copy() for w in self.weights]

    def set_weights(self, weights):
        weights = list(weights)
        k = len(self.forward_layer.weights)
        if len(weights) != len(self.weights):
            raise ValueError(f"layer {self.name!r} expects {len(self.weights)} weight arrays "
                             f"(forward, then backward), got {len(weights)}")
        self.forward_layer.set_weights(weights[:k])
        self.backward_layer.set_weights(weights[k:])

    def penalty(self):
        return sum(c.penalty() for c in self._children)

    def apply_constraints(self):
        for c in self._children:
            c.apply_constraints()

    @property
    def stateful(self):
        return self.forward_layer.stateful

    def reset_states(self):
        for c in self._children:
            c.reset_states()

    def set_fit_rng(self, rng):
        super().set_fit_rng(rng)
        for c in self._children:
            c.set_fit_rng(rng)

    # -- building and calling ----------------------------------------------------------------
    def build(self, input_shape, dtype=None, rng=None):
        input_shape = tuple(input_shape)
        for c in self._children:
            c.build(input_shape, self._dtype_arg or dtype, rng)
        self.dtype = self.forward_layer.dtype
        self.input_shape = input_shape
        self.built = True
        if self._initial_weights is not None:
            self.set_weights(self._initial_weights)
            self._initial_weights = None

    def _make_weights(self, input_shape, rng):
        # only reached through base.planned_weight_shapes (load_model's check of a file's
        # arrays before building): the children's planned weights, forward first
        for child in self._children:
            for shape in _base.planned_weight_shapes(child, input_shape, self.dtype):
                self._add_weight(child.name, np.broadcast_to(np.zeros((), self.dtype), shape))

    def _check_input_shape(self, input_shape):
        self.forward_layer._check_input_shape(input_shape)

    def compute_output_shape(self, input_shape):
        f = self.forward_layer.compute_output_shape(input_shape)
        b = self.backward_layer.compute_output_shape(input_shape)
        if self.merge_mode == "concat":
            return tuple(f[:-1]) + (f[-1] + b[-1],)
        return tuple(f)

    def forward(self, x, training=False, initial_state=None, mask=None):
        fs = bs = None
        if initial_state is not None:   # Keras: the first half for the forward layer
            states = list(initial_state)
            half = len(states) // 2
            fs, bs = states[:half], states[half:]
        yf = self.forward_layer.forward(x, training=training, initial_state=fs, mask=mask)
        yb = self.backward_layer.forward(x, training=training, initial_state=bs, mask=mask)
        if self.return_sequences:
            yb = yb[:, ::-1]
        self._y = (yf, yb)
        m = self.merge_mode
        if m == "concat":
            return np.concatenate([yf, yb], axis=-1)
        if m == "sum":
            return yf + yb
        if m == "ave":
            return (yf + yb) / 2
        if m == "mul":
            return yf * yb
        return [yf, yb]

    def backward(self, dy):
        yf, yb = self._y
        m = self.merge_mode
        if m == "concat":
            h = yf.shape[-1]
            df, db = dy[..., :h], dy[..., h:]
        elif m == "sum":
            df = db = dy
        elif m == "ave":
            df = db = dy / 2
        elif m == "mul":
            df, db = dy * yb, dy * yf
        else:
            df, db = dy
        if self.return_sequences:
            db = db[:, ::-1]
        dx = self.forward_layer.backward(np.ascontiguousarray(df))
        dx = dx + self.backward_layer.backward(np.ascontiguousarray(db))
        self.grads = (list(self.forward_layer.grads or [])
                      + list(self.backward_layer.grads or [])) if self.trainable else []
        return dx

    # -- fused training --------------------------------------------------------------------
    def fused_spec(self, input_shape, offsets, backend):
        """The trainer's "bidirectional" entry: the two halves' recurrent specs (forward, then
        backward) and the merge. Its noise is one (layer, mask entries, rate) per half with
        dropout, in the order the Python path draws them (forward, then backward)."""
        if type(self) is not Bidirectional:
            raise _base.NotFused(f"{self.describe()} has no fused implementation")
        if not self.trainable:
            raise _base.NotFused(f"{self.describe()} is not trainable")
        if self.merge_mode is None:
            raise _base.NotFused(f"{self.describe()} has merge_mode=None (a list of two outputs)")
        k = len(self.forward_layer.trainable_weights)
        halves, arrays, noise = [], [], []
        for child, offs in ((self.forward_layer, offsets[:k]),
                            (self.backward_layer, offsets[k:])):
            fs = child.fused_spec(input_shape, offs, backend)
            halves.append(fs.spec)
            arrays.extend(fs.arrays)
            if fs.noise is not None:
                noise.append((child,) + tuple(fs.noise))
        units = self.compute_output_shape(input_shape)[-1]
        spec = {"kind": "bidirectional", "steps": int(input_shape[1]),
                "in": int(input_shape[2]), "units": int(units), "merge_mode": self.merge_mode,
                "return_sequences": self.return_sequences, "dropout": bool(noise),
                "halves": halves}
        return _base.FusedSpec(spec, arrays, noise or None)

    # -- config ----------------------------------------------------------------------------
    def get_config(self):
        cfg = {"name": self.name, "trainable": self.trainable,
               "dtype": None if self._dtype_arg is None else self._dtype_arg.name,
               "layer": _base.serialize(self.forward_layer), "merge_mode": self.merge_mode,
               "backward_layer": _base.serialize(self.backward_layer)}
        if self.input_shape_arg is not None:
            cfg["input_shape"] = list(self.input_shape_arg)
        return cfg
