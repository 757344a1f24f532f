"""Dense and Dropout."""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn.nn import activations as _activations
from fastrnn.nn import initializers as _inits
from fastrnn.nn import registry as _registry
from fastrnn.nn import regularizers as _regs
from fastrnn.nn.layers.base import (
    FusedSpec,
    Layer,
    NotFused,
    _inverted_mask,
    _rate,
    _shape_str,
)
from fastrnn.nn.layers.keras_extras import KerasExtras

__all__ = ["Dense", "Dropout"]


@_registry.register("layer")
class Dense(KerasExtras, Layer):
    """y = activation(x @ kernel + bias) over the last axis; on (B, T, F) input it acts on every
    time step, as Keras does. Activations: see ``fastrnn.activations`` (None, also assigned
    later as ``layer.activation = None``, means linear). ``activity_regularizer``,
    ``kernel_constraint`` and ``bias_constraint`` as in Keras (see ``keras_extras``)."""

    # the activations the compiled trainer's dense head implements
    FUSED_ACTIVATIONS = ("linear", "relu", "sigmoid", "tanh", "softmax", "leaky_relu", "elu")

    def __init__(self, units, activation=None, use_bias=True, kernel_initializer="glorot_uniform",
                 bias_initializer="zeros", kernel_regularizer=None, bias_regularizer=None,
                 activity_regularizer=None, kernel_constraint=None, bias_constraint=None,
                 **kwargs):
        kwargs.pop("quantization_config", None)   # Keras 3 configs carry it (always None here)
        super().__init__(**kwargs)
        self.units = _params.positive_int(units, "units")
        self.activation = activation
        self._init_extras(activity_regularizer, kernel_constraint=("kernel", kernel_constraint),
                          bias_constraint=("bias", bias_constraint))
        self.use_bias = bool(use_bias)
        self.kernel_initializer = _inits.get(kernel_initializer, "kernel_initializer")
        self.bias_initializer = _inits.get(bias_initializer, "bias_initializer")
        self.kernel_regularizer = _regs.get(kernel_regularizer, "kernel_regularizer")
        self.bias_regularizer = _regs.get(bias_regularizer, "bias_regularizer")
        self._cache = None

    @property
    def activation(self):
        return self._activation

    @activation.setter
    def activation(self, value):
        self._activation = _activations.get(value)

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

    def _make_weights(self, input_shape, rng):
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
        return self._activity(y)

    def backward(self, dy):
        dy = self._activity_grad(dy)
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

    def fused_spec(self, input_shape, offsets, backend):
        spec, arrays, offs = self._fused_base(Dense, input_shape, offsets)
        self._extras_not_fused()
        act = self.activation
        if act.name not in self.FUSED_ACTIVATIONS or _activations.get(act.name) is not act:
            raise NotFused(f"{self.describe()} has activation {act.name!r} (no fused "
                           "implementation)")
        spec.update(kind="dense", units=self.units, dense_activation=act.name,
                    w=offs["kernel"], b=offs.get("bias", -1))
        return FusedSpec(spec, arrays)

    def _config(self):
        return {"units": self.units, "activation": self.activation.name,
                "use_bias": self.use_bias,
                "kernel_initializer": _inits.serialize(self.kernel_initializer),
                "bias_initializer": _inits.serialize(self.bias_initializer),
                "kernel_regularizer": _regs.serialize(self.kernel_regularizer),
                "bias_regularizer": _regs.serialize(self.bias_regularizer),
                **self._extras_config()}


@_registry.register("layer")
class Dropout(Layer):
    """Inverted dropout: in training, zero a fraction `rate` of the entries and scale the rest
    by 1 / (1 - rate); the identity at inference. ``noise_shape`` as in Keras (None entries
    take the input's size)."""

    def __init__(self, rate, noise_shape=None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.rate = _rate(rate, "rate")
        self.noise_shape = _noise_shape(noise_shape)
        self.seed = seed
        self._rng = None if seed is None else np.random.default_rng(seed)
        self._mask = None

    def _check_input_shape(self, input_shape):
        ns = self.noise_shape
        if ns is None:
            return
        if len(ns) != len(input_shape):
            raise ValueError(f"layer {self.name!r} (Dropout): noise_shape {ns} has {len(ns)} "
                             f"entries but its input {_shape_str(input_shape)} has rank "
                             f"{len(input_shape)}")
        for n, d in zip(ns, input_shape):
            if n is not None and n != 1 and d is not None and n != d:
                raise ValueError(f"layer {self.name!r} (Dropout): noise_shape {ns} does not "
                                 f"broadcast against its input {_shape_str(input_shape)} (each "
                                 "entry must be None, 1 or the input's size)")

    def forward(self, x, training=False):
        if not training or self.rate == 0:
            self._mask = None
            return x
        self._check_input_shape(x.shape)
        shape = x.shape if self.noise_shape is None else tuple(
            d if n is None else n for n, d in zip(self.noise_shape, x.shape))
        self._mask = _inverted_mask(self.noise_rng(), shape, self.rate, x.dtype)
        return x * self._mask

    def backward(self, dy):
        self.grads = []
        return dy if self._mask is None else dy * self._mask

    def fused_spec(self, input_shape, offsets, backend):
        spec, arrays, _ = self._fused_base(Dropout, input_shape, offsets)
        if self.noise_shape is not None:
            raise NotFused(f"{self.describe()} has a noise_shape")
        spec.update(kind="dropout", dropout=self.rate > 0)
        noise = (spec["steps"] * spec["in"], self.rate) if self.rate > 0 else None
        return FusedSpec(spec, arrays, noise)

    def _config(self):
        return {"rate": self.rate, "seed": self.seed,
                "noise_shape": None if self.noise_shape is None else list(self.noise_shape)}


def _noise_shape(value):
    """Keras's noise_shape: None, or a tuple of positive ints / None (checked against the
    input's rank and sizes when the layer is built or called)."""
    if value is None:
        return None
    try:
        entries = tuple(value)
    except TypeError:
        raise TypeError(f"noise_shape must be None or a tuple of positive ints / None, got "
                        f"{value!r}") from None
    for e in entries:
        if e is not None and (not isinstance(e, (int, np.integer)) or isinstance(e, bool)):
            raise TypeError(f"noise_shape must be None or a tuple of positive ints / None, "
                            f"got {value!r}")
        if e is not None and e < 1:
            raise ValueError(f"noise_shape entries must be positive or None, got {value!r}")
    return tuple(None if e is None else int(e) for e in entries)
