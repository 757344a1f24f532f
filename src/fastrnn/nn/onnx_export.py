"""ONNX export of a ``Sequential`` model: ``model.export_onnx(path)``.

The graph is built with the ``onnx`` package (``pip install 'fastrnn[onnx]'``), imported only
here and only when exporting. One input ``input`` (batch, time, features) (or (batch, features)
for a model without recurrent layers) and one output ``output``. The batch dimension is
symbolic, and so is the time dimension of a model built for any length (``Input((None, F))``,
as usual): the file then serves any batch size and sequence length. A model built for one
length (``Input((T, F))``) declares that length, as its ``predict`` requires it.

How each layer becomes ONNX (opset 13 or newer; 17 by default):

    SimpleRNN / LSTM / GRU   one ONNX ``RNN`` / ``LSTM`` / ``GRU`` node (forward direction)
    Dense                    MatMul (+ Add) and its activation's node
    Dropout                  nothing (the identity at inference)

Weights. ONNX stores W as (1, gates*H, I) and R as (1, gates*H, H), the transposes of Keras's
kernel and recurrent_kernel, and one bias row B = [Wb, Rb] of 2*gates*H. The gate blocks are
reordered: Keras's LSTM i, f, c, o becomes ONNX's i, o, f, c; the GRU's z, r, h is ONNX's order
already. A reset_after GRU is ONNX's ``linear_before_reset=1`` with Wb, Rb the two rows of the
(2, 3H) bias; reset_after=False is ``linear_before_reset=0`` with Rb = 0 (ONNX then adds both
biases outside the reset product, as Keras adds its one bias). ONNX's GRU update
h = (1 - z) * hh + z * h_{t-1} is Keras's.

Layout. ONNX's recurrent nodes take time-major (time, batch, features) input (onnxruntime has
no batch-first ``layout=1`` kernels on CPU), so the graph transposes once before the first
recurrent layer and once at the end; stacked recurrent layers and the Dense layers between
them stay time-major (Dense acts on the last axis either way). ``go_backwards=True`` reverses
the time axis of the layer's input (a Slice with step -1): its output sequence is then in
processing order, as in Keras and fastrnn.

Unsupported (ValueError naming the layer): layers of other classes, subclasses of the supported
ones (they may compute something else) and Dense activations other than linear, relu,
sigmoid, tanh, softmax, leaky_relu (0.2) and elu (1.0).
"""

from __future__ import annotations

import numpy as np

from fastrnn import _params
from fastrnn import cells as _cells
from fastrnn.nn import activations as _activations
from fastrnn.nn.layers import base as _base
from fastrnn.nn.layers import core as _core
from fastrnn.nn.layers import recurrent as _recurrent

__all__ = ["DEFAULT_OPSET", "MIN_OPSET", "build_model", "export_onnx"]

DEFAULT_OPSET = 17
# Squeeze's axes became an input and Softmax a one-axis op in opset 13.
MIN_OPSET = 13

# cell -> (ONNX op, ONNX's gate blocks as indices into Keras's, the layer attributes that give
# ONNX's activation list: (f) for the RNN, (f, g) for the GRU, (f, g, h) for the LSTM, where f
# is the gates' function and g, h those of the candidate and of the output)
_CELL_OPS = {
    _cells.ELMAN: ("RNN", (0,), ("activation",)),
    _cells.LSTM: ("LSTM", (0, 3, 1, 2),                   # i f c o -> i o f c
                  ("recurrent_activation", "activation", "activation")),
    _cells.GRU: ("GRU", (0, 1, 2), ("recurrent_activation", "activation")),   # z r h as is
}
# recurrent activation -> (ONNX activation name, its alpha, beta attributes)
_CELL_ACTIVATIONS = {"tanh": ("Tanh", (), ()), "relu": ("Relu", (), ()),
                     "sigmoid": ("Sigmoid", (), ()), "linear": ("Affine", (1.0,), (0.0,))}
# Dense activation -> (ONNX op, its attributes); linear adds no node
_DENSE_ACTIVATIONS = {
    "linear": None,
    "relu": ("Relu", {}),
    "sigmoid": ("Sigmoid", {}),
    "tanh": ("Tanh", {}),
    "softmax": ("Softmax", {"axis": -1}),
    "leaky_relu": ("LeakyRelu", {"alpha": 0.2}),
    "elu": ("Elu", {"alpha": 1.0}),
}
_SUPPORTED = (_recurrent.SimpleRNN, _recurrent.LSTM, _recurrent.GRU, _core.Dense, _core.Dropout)


def _import_onnx():
    try:
        import onnx
    except ImportError as e:
        raise ImportError("export_onnx needs the onnx package: pip install 'fastrnn[onnx]' "
                          "(or pip install onnx)") from e
    return onnx


class _Graph:
    """The nodes and initializers under construction, and the running tensor: its name and
    whether its first two axes are (time, batch) rather than (batch, time)."""

    def __init__(self, onnx, dtype):
        self.onnx, self.dtype = onnx, np.dtype(dtype)
        self.nodes, self.initializers = [], []
        self.name, self.time_major = "input", False
        self._count = 0

    def fresh(self, stem):
        self._count += 1
        return f"{stem}_{self._count}"

    def constant(self, stem, array):
        name = self.fresh(stem)
        self.initializers.append(self.onnx.numpy_helper.from_array(np.asarray(array), name))
        return name

    def weight(self, stem, array):
        return self.constant(stem, np.ascontiguousarray(array, dtype=self.dtype))

    def node(self, op, inputs, stem, outputs=None, **attrs):
        outputs = outputs or [self.fresh(stem)]
        self.nodes.append(self.onnx.helper.make_node(op, inputs, outputs, name=self.fresh(op),
                                                     **attrs))
        return outputs

    def apply(self, op, stem, *extra_inputs, **attrs):
        self.name = self.node(op, [self.name, *extra_inputs], stem, **attrs)[0]

    def swap_batch_and_time(self):
        self.apply("Transpose", "transposed", perm=[1, 0, 2])
        self.time_major = not self.time_major


def _unsupported(layer, why):
    return ValueError(f"cannot export layer {layer.name!r} ({type(layer).__name__}) to ONNX: "
                      f"{why}")


def _check_layer(layer):
    if type(layer) not in _SUPPORTED:
        if isinstance(layer, _SUPPORTED):
            base = next(c for c in _SUPPORTED if isinstance(layer, c))
            why = f"it is a subclass of {base.__name__}, which may compute something else"
        else:
            why = "no ONNX conversion for this layer class"
        raise _unsupported(layer, why + "; supported: "
                           + ", ".join(c.__name__ for c in _SUPPORTED))
    if isinstance(layer, _core.Dense) and (layer.activation.name not in _DENSE_ACTIVATIONS or
                                           _activations.get(layer.activation.name)
                                           is not layer.activation):
        raise _unsupported(layer, f"Dense activation {layer.activation.name!r} has no ONNX "
                           f"conversion; supported: {', '.join(_DENSE_ACTIVATIONS)}")


def _gate_blocks(a, order, axis):
    """`a` with its gate blocks along `axis` put in ONNX's order."""
    blocks = np.split(np.asarray(a), len(order), axis=axis)
    return np.concatenate([blocks[i] for i in order], axis=axis)


def _recurrent_node(g, layer):
    """Append the ONNX node of one SimpleRNN / LSTM / GRU layer (time-major in and out)."""
    cell = layer.cell
    op, order, activation_slots = _CELL_OPS[cell]
    kernel, recurrent_kernel = layer.kernel, layer.recurrent_kernel
    bias = layer.bias if layer.use_bias else np.zeros(layer._bias_shape(), layer.dtype)
    reset_after = cell.has_reset_after and layer.reset_after
    if reset_after:
        w_bias, r_bias = bias[0], bias[1]
    else:
        w_bias, r_bias = bias, np.zeros_like(bias)
    W = _gate_blocks(kernel, order, axis=1).T[None]                # (1, G*H, I)
    R = _gate_blocks(recurrent_kernel, order, axis=1).T[None]      # (1, G*H, H)
    B = np.concatenate([_gate_blocks(w_bias, order, 0), _gate_blocks(r_bias, order, 0)])[None]

    if not g.time_major:
        g.swap_batch_and_time()
    if layer.go_backwards:
        g.apply("Slice", "reversed", g.constant("starts", np.array([-1], np.int64)),
                g.constant("ends", np.array([np.iinfo(np.int64).min], np.int64)),
                g.constant("axes", np.array([0], np.int64)),
                g.constant("steps", np.array([-1], np.int64)))

    acts, alphas, betas = [], [], []
    for slot in activation_slots:
        onnx_name, alpha, beta = _CELL_ACTIVATIONS[getattr(layer, slot)]
        acts.append(onnx_name)
        alphas += alpha
        betas += beta
    attrs = {"hidden_size": layer.units, "activations": acts}
    if alphas:
        attrs.update(activation_alpha=alphas, activation_beta=betas)
    if cell.has_reset_after:
        attrs["linear_before_reset"] = int(reset_after)

    inputs = [g.name, g.weight(f"{layer.name}_W", W), g.weight(f"{layer.name}_R", R),
              g.weight(f"{layer.name}_B", B)]
    if layer.return_sequences:
        y = g.node(op, inputs, f"{layer.name}_Y", **attrs)[0]      # (T, 1, B, H)
        g.name = g.node("Squeeze", [y, g.constant("axes", np.array([1], np.int64))],
                        f"{layer.name}_seq")[0]
    else:
        y_h = g.fresh(f"{layer.name}_Y_h")
        g.node(op, inputs, None, outputs=["", y_h], **attrs)        # Y_h (1, B, H)
        g.name = g.node("Squeeze", [y_h, g.constant("axes", np.array([0], np.int64))],
                        f"{layer.name}_last")[0]
        g.time_major = False  # rank 2 now: (B, H)


def _dense_nodes(g, layer):
    g.apply("MatMul", f"{layer.name}_matmul", g.weight(f"{layer.name}_kernel", layer.kernel))
    if layer.use_bias:
        g.apply("Add", f"{layer.name}_add", g.weight(f"{layer.name}_bias", layer.bias))
    act = _DENSE_ACTIVATIONS[layer.activation.name]
    if act is not None:
        op, attrs = act
        g.apply(op, f"{layer.name}_{layer.activation.name}", **attrs)


def _value_info(onnx, name, dtype, shape):
    """A tensor type of the model's `shape`: the batch dimension symbolic, and so is every size
    the model leaves open (None; the time axis of (batch, time, features) is called "time")."""
    dims = []
    for axis, size in enumerate(shape):
        if axis == 0:
            dims.append("batch")
        elif size is None:
            dims.append("time" if axis == 1 and len(shape) == 3 else f"dim_{axis}")
        else:
            dims.append(int(size))
    elem = onnx.helper.np_dtype_to_tensor_dtype(np.dtype(dtype))
    return onnx.helper.make_tensor_value_info(name, elem, dims)


def build_model(model, *, dtype=None, opset=None):
    """The ``onnx.ModelProto`` of a built Sequential `model` (see the module docstring).

    dtype   the graph's float type: None (the model's), 'float32' or 'float64' (weights are
            cast; onnxruntime's CPU RNN node runs float32 only)
    opset   the ONNX opset to target, an int >= 13 (None: DEFAULT_OPSET, 17)
    """
    onnx = _import_onnx()
    opset = (DEFAULT_OPSET if opset is None
             else _params.check(opset, "opset", _params.Int(MIN_OPSET)))
    model._require_built()
    dtype = model.dtype if dtype is None else _base._dtype(dtype, "dtype")
    layers = model.layers  # a built model has at least one
    for layer in layers:
        _check_layer(layer)

    g = _Graph(onnx, dtype)
    for layer in layers:
        if isinstance(layer, _recurrent.Recurrent):
            _recurrent_node(g, layer)
        elif isinstance(layer, _core.Dense):
            _dense_nodes(g, layer)
        # Dropout: the identity at inference, no node
    if g.time_major:
        g.swap_batch_and_time()
    if g.name == "input":  # only Dropout layers: ONNX needs at least one node
        g.apply("Identity", "identity")
    g.nodes[-1].output[0] = "output"  # the last node's only output is the graph's

    in_shape, out_shape = model.input_shape, model.output_shape
    graph = onnx.helper.make_graph(
        g.nodes, model.name, [_value_info(onnx, "input", dtype, in_shape)],
        [_value_info(onnx, "output", dtype, out_shape)], g.initializers)
    opsets = [onnx.helper.make_opsetid("", opset)]
    proto = onnx.helper.make_model(graph, producer_name="fastrnn", opset_imports=opsets)
    # make_model stamps the newest IR version this onnx package knows, which older runtimes
    # refuse to read; the opset needs only its own.
    proto.ir_version = onnx.helper.find_min_ir_version_for(opsets)
    onnx.checker.check_model(proto, full_check=True)
    return proto


def export_onnx(model, path, *, dtype=None, opset=None):
    """Write `model` as an ONNX file at `path` and return the path (see ``build_model``)."""
    onnx = _import_onnx()
    proto = build_model(model, dtype=dtype, opset=opset)
    onnx.save_model(proto, str(path))
    return path
