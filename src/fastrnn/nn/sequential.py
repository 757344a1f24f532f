"""``Sequential``: a Keras-style stack of layers with compile / fit / evaluate / predict.

    model = Sequential([layers.LSTM(4, input_shape=(None, 4)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    history = model.fit(X, y, epochs=10, batch_size=32, validation_split=0.2)
    model.predict(X_test)

This module holds the model's structure: the layer list, building, the flat parameter vector
the layers' trainable weights live in, weights in Keras's order, the summary table and the
config. Training is in ``fastrnn.nn.training`` (a mixin), the fused plan in
``fastrnn.nn.fused``, the file format in ``fastrnn.nn.saving``.
"""

from __future__ import annotations

import numpy as np

from fastrnn.nn import keras_api as _keras_api
from fastrnn.nn import registry as _registry
from fastrnn.nn import seeding as _seeding
from fastrnn.nn.keras_api import KerasModelAPI
from fastrnn.nn.layers import base as _base
from fastrnn.nn.layers.recurrent import Recurrent as _Recurrent
from fastrnn.nn.training import Training

__all__ = ["Sequential"]

_shape_str = _base._shape_str


def _readable_size(nbytes):
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if nbytes < 1024 or unit == "TB":
            return f"{nbytes:.2f} {unit}"
        nbytes /= 1024


@_registry.register("model")
class Sequential(KerasModelAPI, Training):   # KerasModelAPI first: it wraps the forward pass
    """A linear stack of layers (Keras's ``keras.Sequential``).

    ``Sequential(layers=None, name=None, backend=None)``: `backend` is given to every
    recurrent layer that does not name its own (None: ``fastrnn.backends.default()``).
    """

    def __init__(self, layers=None, name=None, backend=None):
        self.name = name if name is not None else _base._auto_name("Sequential")
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
        self.fused_fit_info = None
        for layer in layers or []:
            self.add(layer)

    # -- structure -------------------------------------------------------------------------
    def add(self, layer):
        """Append a layer (an ``Input(...)`` only as the first element)."""
        if isinstance(layer, _base.InputLayer):
            if self._layers or self._input is not None:
                raise ValueError("Input(...) can only be the first element of a Sequential model")
            self._input = layer
            self._try_build()
            return
        if not isinstance(layer, _base.Layer):
            raise TypeError(f"Sequential.add needs a fastrnn layer, got {type(layer).__name__}")
        if getattr(layer, "return_state", False):
            raise ValueError(f"layer {layer.name!r} has return_state=True: its output is a list "
                             "[output, states...], which a Sequential model cannot pass on; "
                             "call the layer directly instead")
        if any(l.name == layer.name for l in self._layers):
            raise ValueError(f"a layer named {layer.name!r} is already in the model; layer "
                             "names must be unique")
        if self.backend is not None and isinstance(layer, _Recurrent) and layer.backend is None:
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

    def build(self, input_shape, rng=None):
        """Create every layer's weights for inputs of shape `input_shape` (batch first, None
        for unknown sizes), e.g. ``model.build((None, None, 1))``.

        `rng`: what the weight initialisers draw from: None (the library's global generator,
        see ``set_random_seed``), an int seed or a ``numpy.random.Generator``. A layer's own
        ``seed=`` wins. Layers that are built already keep their weights."""
        gen = _seeding.as_generator(rng)
        if gen is None:
            gen = _seeding.generator()
        shape = tuple(input_shape)
        with _base.BUILD_LOCK:   # concurrent first calls: one builds, the others wait
            self.dtype = self._model_dtype()
            for layer in self._layers:
                layer.build(shape, self.dtype, gen)
                shape = layer.compute_output_shape(shape)
            self.input_shape = tuple(input_shape)
            self._flatten()
            self.built = bool(self._layers)   # last: whoever sees built sees the flat vector

    def _flatten(self):
        """Put every trainable weight array into one contiguous vector, so that the optimiser,
        the finite check and the backup of a training step are a few vector operations
        whatever the number of arrays. Each layer gets views of its share through
        ``bind_weights`` (and passes them on to the layers it holds, if any)."""
        per_layer = [(layer, layer.weight_shapes()) for layer in self._layers if layer.trainable]
        n = sum(int(np.prod(s)) for _, shapes in per_layer for s in shapes)
        flat = np.empty(n, self.dtype)
        self._slices = []
        off = 0
        for layer, shapes in per_layer:
            views = []
            for shape in shapes:
                size = int(np.prod(shape))
                views.append(flat[off:off + size].reshape(shape))
                self._slices.append((off, off + size))
                off += size
            layer.bind_weights(views)
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

    # -- config and saving -----------------------------------------------------------------
    def get_config(self):
        return {"name": self.name,
                "input": None if self._input is None else self._input.get_config(),
                "build_input_shape": None if not self.built else list(self.input_shape),
                "layers": [_base.serialize(l) for l in self._layers]}

    @classmethod
    def from_config(cls, config, backend=None):
        if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
            raise ValueError("a Sequential config must be a dict with a 'layers' list")
        model = cls(name=config.get("name"), backend=backend)
        if config.get("input") is not None:
            model.add(_base.InputLayer(**config["input"]))
        for spec in config["layers"]:
            model.add(_base.deserialize(spec))
        shape = config.get("build_input_shape")
        if shape is not None and not model.built:
            model.build(tuple(shape))
        return model

    def save(self, filepath, overwrite=True, **kwargs):
        """Write the architecture, weights, compile settings and optimiser state to one file at
        `filepath`: a Keras 3 ``.keras`` file for that extension (needs h5py; see
        ``fastrnn.nn.keras_files``), fastrnn's own format for any other name (see
        ``fastrnn.nn.saving``); '.h5' (Keras's legacy format) is refused."""
        _keras_api.save(self, filepath, overwrite=overwrite)

    def export_onnx(self, path, *, dtype=None, opset=None):
        """Write the model as an ONNX graph at `path` and return `path` (needs the onnx
        package): input (batch, time, features), the batch size and any length the model leaves
        open symbolic. See ``fastrnn.nn.onnx_export`` for the supported layers, `dtype` and
        `opset` (None: 17)."""
        from fastrnn.nn import onnx_export
        return onnx_export.export_onnx(self, path, dtype=dtype, opset=opset)

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
