"""The layer protocol, ``InputLayer`` / ``Input``, layer naming and (de)serialisation.

A layer of a ``Sequential`` model provides:

    build(input_shape, dtype=None, rng=None)   create the weights (``rng``: what the
                                               initialisers draw from; a ``seed=`` wins)
    forward(x, training) -> y                  keeps what backward needs
    backward(dy) -> dx                         sets ``grads``, aligned with trainable_weights
    penalty()                                  the regularisation term
    compute_output_shape(input_shape)
    weight_shapes() / bind_weights(views)      explicit weight binding (below)
    fused_spec(input_shape, offsets, backend)  its entry in the compiled trainer (below)

Weight binding: the model keeps every trainable array in one flat vector. It asks each layer
for ``weight_shapes()`` (the shapes of ``trainable_weights``, in order), cuts views of those
shapes out of the vector and hands them over with ``bind_weights(views)``; the layer copies its
values into them and uses them as its weights from then on. A layer that holds others (a
wrapper) forwards the views to its children, so their arrays are the model's memory too.

Fused training: ``fused_spec`` returns a ``FusedSpec`` (what the compiled trainer needs to run
the layer) or raises ``NotFused`` with the reason. The base class raises: a layer runs in the
compiled trainer only if its own class says how. A subclass of a fused layer that does not
define ``fused_spec`` itself is not fused either (it may compute something else).
"""

from __future__ import annotations

import contextlib
import copy
import numbers
import re
import threading
from typing import NamedTuple

import numpy as np

from fastrnn import _params
from fastrnn.nn import initializers as _inits
from fastrnn.nn import registry as _registry
from fastrnn.nn import regularizers as _regs
from fastrnn.nn import seeding as _seeding

__all__ = ["Layer", "InputLayer", "Input", "NotFused", "FusedSpec", "serialize", "deserialize"]

_counters: dict = {}
_RATE = _params.Real(0, 1, closed="left")

# Building creates a layer's weight list; two threads building the same layer (or model) at
# once, e.g. the first predict of an unbuilt model from a thread pool, would interleave their
# appends. Builds are rare and short, so one re-entrant lock for all of them (a model's build
# holds it while its layers build) is enough; it is module-level so that layers stay picklable.
BUILD_LOCK = threading.RLock()
_SKIP_INIT = threading.local()


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
    """A dropout rate in [0, 1): TypeError for what is not a number, ValueError outside."""
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise TypeError(f"{name} must be {_RATE.describe()}, got {value!r}") from None
    return _params.check(value, name, _RATE)


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


class _Uninitialised(_inits.Initializer):
    """Zeros without a draw (calloc'd pages cost nothing until written): for a build whose
    weights are all overwritten at once."""

    def __call__(self, shape, dtype, rng):
        return np.zeros(tuple(int(s) for s in shape), dtype)


class _ShapeOnly(_inits.Initializer):
    """A read-only zero-stride view of one zero: the shape of a weight without its memory."""

    def __call__(self, shape, dtype, rng):
        return np.broadcast_to(np.zeros((), dtype), tuple(int(s) for s in shape))


_UNINITIALISED, _SHAPE_ONLY = _Uninitialised(), _ShapeOnly()


@contextlib.contextmanager
def _initialisers_replaced(layer, init):
    """Every initialiser attribute of `layer` replaced by `init` for the duration (None: kept)."""
    saved = {} if init is None else {k: v for k, v in vars(layer).items()
                                     if isinstance(v, _inits.Initializer)}
    for k in saved:
        setattr(layer, k, init)
    try:
        yield
    finally:
        for k, v in saved.items():
            setattr(layer, k, v)


@contextlib.contextmanager
def uninitialised_builds():
    """Within the block, builds in this thread skip the weight initialisers (the weights start
    as zeros; the generators are not drawn from): for ``load_model``, which sets every weight
    right after building, so that loading costs what the file holds, not an orthogonal
    initialisation of it."""
    before = getattr(_SKIP_INIT, "on", False)
    _SKIP_INIT.on = True
    try:
        yield
    finally:
        _SKIP_INIT.on = before


def planned_weight_shapes(layer, input_shape, dtype=None, check=None):
    """The shapes, in order, that ``layer.build(input_shape, dtype)`` would give
    ``layer.weights``, found without allocating or initialising any weight: a shallow copy
    of `layer` runs its ``_make_weights`` with initialisers that return zero-stride views and
    an ``_add_weight`` that only records. ``check(name, shape)``, if given, sees each weight
    as it is planned and may raise to stop before the next one (``load_model`` compares with
    the file's arrays there). `layer` itself is not changed. A layer that does more with its
    weights than ``_add_weight`` them may raise here; the caller then has to build it."""
    probe = copy.copy(layer)
    probe.dtype = layer._dtype_arg or _dtype(dtype) or np.dtype(np.float32)
    probe.built = False
    probe._weights = []
    shapes = []

    def record(wname, array, regularizer=None):
        shape = tuple(int(s) for s in np.shape(array))
        if check is not None:
            check(wname, shape)
        shapes.append(shape)

    probe._add_weight = record
    for k, v in list(vars(probe).items()):
        if isinstance(v, _inits.Initializer):
            setattr(probe, k, _SHAPE_ONLY)
    input_shape = tuple(input_shape)
    probe._check_input_shape(input_shape)
    probe._make_weights(input_shape, None)
    return shapes


class NotFused(Exception):
    """Raised by ``fused_spec``: the layer cannot run in the compiled trainer; str() says why
    (naming the layer)."""


class FusedSpec(NamedTuple):
    """A layer's entry in the compiled trainer's plan.

    spec     the core's layer dict: kind, steps, in, units, the weights' offsets in the flat
             vector (w, u, b; -1 when absent) and the kind's options
    arrays   (offset, size, l1, l2) for each trainable array: its place and its penalty
    noise    (mask entries per sample, rate) when training draws an inverted-dropout mask per
             sample from ``noise_rng()``, a list of (sub-layer, entries, rate) when sub-layers
             draw them (Bidirectional's halves, in drawing order), else None
    """
    spec: dict
    arrays: list
    noise: tuple = None


class Layer:
    """Base class. Subclasses define ``_make_weights(input_shape, rng)``, ``forward``,
    ``backward``, ``compute_output_shape`` and ``_config``."""

    _rng = None        # the layer's own generator (from its seed=), if any
    _fit_rng = None    # the generator of the fit(rng=...) running now, if any

    def __init__(self, *, name=None, dtype=None, input_shape=None, batch_input_shape=None,
                 input_dim=None, trainable=True):
        self.name = name if name is not None else _auto_name(type(self).__name__)
        if not isinstance(self.name, str):
            raise TypeError(f"name must be a str, got {self.name!r}")
        self._dtype_arg = _dtype(dtype)
        if batch_input_shape is not None:
            input_shape = tuple(batch_input_shape)[1:]
        if input_shape is None and input_dim is not None:
            input_shape = ((None, int(input_dim)) if self._sequence_input
                           else (int(input_dim),))
        self.input_shape_arg = _shape_arg(input_shape, "input_shape")
        self.trainable = bool(trainable)
        self.built = False
        self.dtype = None
        self.input_shape = None
        self._weights = []       # list of (name, array, regularizer)
        self.grads = None

    _sequence_input = False      # input_dim= means (None, input_dim): a recurrent layer

    # -- weights ---------------------------------------------------------------------------
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

    def weight_names(self):
        """The names of ``weights``, in order ('kernel', 'recurrent_kernel', 'bias')."""
        return [n for n, _, _ in self._weights]

    def weight_shapes(self):
        """The shapes of ``trainable_weights``, in order: what ``bind_weights`` takes."""
        return [w.shape for w in self.trainable_weights]

    def bind_weights(self, views):
        """Use the arrays `views` (one per ``trainable_weights`` entry, same shapes and order;
        typically views of the model's flat vector) as this layer's trainable weights, after
        copying the current values into them."""
        views = list(views)
        ws = self.trainable_weights
        if len(views) != len(ws):
            raise ValueError(f"layer {self.name!r} has {len(ws)} trainable weight arrays, "
                             f"got {len(views)} views")
        for v, w in zip(views, ws):
            if v.shape != w.shape:
                raise ValueError(f"layer {self.name!r}: a view of shape {_shape_str(v.shape)} "
                                 f"cannot hold a weight of shape {_shape_str(w.shape)}")
        if not ws:
            return
        for i, (v, (wname, w, reg)) in enumerate(zip(views, self._weights)):
            v[...] = w
            self._weights[i] = (wname, v, reg)

    def weight_regularizers(self):
        """The regularizer (or None) of each ``trainable_weights`` entry."""
        return [reg for _, _, reg in self._weights] if self.trainable else []

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
            if v.dtype.kind not in "fiu":
                raise ValueError(f"layer {self.name!r}: weight {wname!r} must be finite numbers")
            # checked after the cast: 1e39 is finite in float64 but inf in float32
            with np.errstate(over="ignore", invalid="ignore"):
                cast = v.astype(w.dtype, copy=False)
            if not np.isfinite(cast).all():
                why = ("must be finite numbers" if v.dtype.kind != "f" or not np.isfinite(v).all()
                       else f"has values too large for {w.dtype.name} (they would become inf)")
                raise ValueError(f"layer {self.name!r}: weight {wname!r} {why}")
            new.append(cast)
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
    def build(self, input_shape, dtype=None, rng=None):
        """Create the weights for inputs of shape (batch, *input_shape[1:]); `dtype` is the
        model's dtype (the layer's own ``dtype=`` wins); `rng` the Generator the initialisers
        draw from (None: the library's global one; a layer's own ``seed=`` wins)."""
        input_shape = tuple(input_shape)
        with BUILD_LOCK:   # a second thread waits, then finds the layer built
            self.dtype = self._dtype_arg or _dtype(dtype) or np.dtype(np.float32)
            self._check_input_shape(input_shape)
            if not self.built:
                self._weights = []
                with _initialisers_replaced(self, _UNINITIALISED if getattr(_SKIP_INIT, "on", False)
                                            else None):
                    self._make_weights(input_shape,
                                       rng if rng is not None else _seeding.generator())
            self.input_shape = input_shape
            self.built = True

    def _check_input_shape(self, input_shape):
        pass

    def _make_weights(self, input_shape, rng):
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

    # -- noise -----------------------------------------------------------------------------
    def set_fit_rng(self, rng):
        """Make the noise of a layer without a seed of its own (dropout masks) draw from the
        Generator `rng` (None: from the library's global one again). ``fit(rng=...)`` sets it
        for the duration of the fit."""
        self._fit_rng = rng

    def noise_rng(self):
        """The Generator this layer's dropout masks draw from now."""
        if self._rng is not None:
            return self._rng
        return self._fit_rng if self._fit_rng is not None else _seeding.generator()

    # -- fused training --------------------------------------------------------------------
    def describe(self):
        """How messages name the layer, e.g. "layer 'dense' (Dense)"."""
        return f"layer {self.name!r} ({type(self).__name__})"

    def fused_spec(self, input_shape, offsets, backend):
        """This layer's ``FusedSpec`` for inputs of `input_shape` (batch first), its trainable
        arrays at the flat-vector `offsets` (aligned with ``trainable_weights``), in a trainer
        of the backend named `backend`; raises ``NotFused`` when it cannot run there."""
        raise NotFused(f"{self.describe()} has no fused implementation")

    def _fused_base(self, cls, input_shape, offsets):
        """The checks and fields every fused layer shares: its class is `cls` itself (not a
        subclass), it is trainable, its input is (batch, time, features) or (batch, features)
        and its penalties are L1 / L2. Returns (spec with steps / in / units, arrays, offsets
        by weight name)."""
        if type(self) is not cls:
            raise NotFused(f"{self.describe()} has no fused implementation")
        if not self.trainable:
            raise NotFused(f"{self.describe()} is not trainable")
        if len(input_shape) not in (2, 3):
            raise NotFused(f"{self.describe()} gets inputs of rank {len(input_shape)}")
        steps = input_shape[1] if len(input_shape) == 3 else 1
        feat = input_shape[-1]
        spec = {"steps": int(steps), "in": int(feat), "units": int(feat)}
        arrays = []
        for off, w, reg in zip(offsets, self.trainable_weights, self.weight_regularizers()):
            l1 = l2 = 0.0
            if reg is not None:
                if type(reg) not in (_regs.L1, _regs.L2, _regs.L1L2):
                    raise NotFused(f"{self.describe()}: regularizer {type(reg).__name__} has "
                                   "no fused implementation")
                l1, l2 = reg.l1, reg.l2
            arrays.append((off, w.size, l1, l2))
        return spec, arrays, dict(zip(self.weight_names(), offsets))

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


@_registry.register("layer")
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


def serialize(layer):
    return {"class_name": type(layer).__name__, "config": layer.get_config()}


def deserialize(spec):
    """A layer from {'class_name', 'config'}; only registered (fastrnn's own) layer classes are
    accepted."""
    cls = _registry.lookup("layer", spec.get("class_name")) if isinstance(spec, dict) else None
    if cls is None:
        name = spec.get("class_name") if isinstance(spec, dict) else spec
        raise ValueError(f"unknown layer class {name!r}; known: "
                         f"{', '.join(_registry.names('layer'))}")
    config = spec.get("config", {})
    if not isinstance(config, dict):
        raise ValueError(f"layer config must be a dict, got {type(config).__name__}")
    return cls(**config)
