"""PyTorch modules on fastrnn's kernels: ``LSTM``, ``GRU`` and ``RNN``, drop-in for
``torch.nn.LSTM`` / ``torch.nn.GRU`` / ``torch.nn.RNN``.

    from fastrnn.torch import LSTM
    lstm = LSTM(input_size=8, hidden_size=64, num_layers=2, batch_first=True)
    lstm.load_state_dict(torch_lstm.state_dict())        # same names and shapes as PyTorch's
    output, (h_n, c_n) = lstm(x, (h_0, c_0))             # PyTorch's shapes and semantics

Constructor arguments, parameter names (``weight_ih_l0``, ``weight_hh_l0``, ``bias_ih_l0``,
``bias_hh_l0``, ... per layer), their shapes, their initialisation (uniform in +-1/sqrt(H),
drawn in PyTorch's order from torch's generator, so ``torch.manual_seed`` gives the weights
``torch.nn.LSTM`` would get) and the forward signature are PyTorch's. Input (B batch, T steps):
(T, B, I), or (B, T, I) with ``batch_first``, or unbatched (T, I); states (num_layers, B, H),
or (num_layers, H) unbatched. Outputs: ``(output, h_n)``, for the LSTM ``(output, (h_n, c_n))``.
The GRU is PyTorch's (two biases, the reset gate applied after the recurrent product: fastrnn's
``reset_after=True``); ``RNN`` takes ``nonlinearity`` "tanh" or "relu". ``dropout`` acts on the
outputs of every layer but the last, in training mode, as in PyTorch.

Forward and backward of each layer are one ``fastrnn.ops`` call each (the whole sequence in
compiled code) inside a ``torch.autograd.Function``; between the layers autograd does the
rest, so the modules train with any PyTorch optimiser, loss or head. CPU tensors, float32 or
float64: a contiguous batch-first input is read where it lies and the outputs and gradients
are NumPy arrays shared with the returned tensors (no copies); time-major input costs one
transposed copy in and one out. The weights are converted to the kernels' layout on each call
(``fastrnn.interop``; O(parameters)). CUDA tensors run on fastrnn's CUDA backend where it is
available, else a RuntimeError says why. ``backend=`` (a fastrnn extension) picks a
``fastrnn.backends`` name; None uses ``fastrnn.backends.default()`` for CPU tensors.

Differences from PyTorch: no ``bidirectional``, ``proj_size`` or ``PackedSequence`` (each
raises, naming the argument); inputs with NaN or inf raise ValueError (fastrnn's kernels check
their inputs); no double backward.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import torch
from torch import nn
from torch.autograd.function import once_differentiable

from fastrnn import _params, backends, cells, interop, ops

__all__ = ["GRU", "LSTM", "RNN"]

_DTYPES = (torch.float32, torch.float64)
_NONLINEARITIES = _params.Options(("tanh", "relu"))
_DROPOUT = _params.Real(0, 1)
_SIZE = _params.Int(1)


def _host(a):
    """A NumPy view of a CPU tensor (or the array itself); device tensors pass through."""
    if a is None or isinstance(a, np.ndarray):
        return a
    a = a.detach()
    return a.numpy() if a.device.type == "cpu" else a


def _tensor(a, device):
    """A tensor for a kernel result: NumPy arrays are wrapped without a copy (moved to
    `device` when that is not the CPU); device arrays are taken as they are."""
    if a is None:
        return None
    if isinstance(a, np.ndarray):
        if not a.flags.writeable:
            # The kernels return h_seq as a read-only view, as their cache reads it in backward;
            # a tensor cannot be read-only, and autograd's version counter guards it instead
            # (_Layer saves the output for backward).
            try:
                a.flags.writeable = True
            except ValueError:  # its base is read-only too
                a = a.copy()
        t = torch.from_numpy(a)
        return t if device.type == "cpu" else t.to(device)
    return torch.as_tensor(a, device=device)


def _kernel_weights(cell, w_ih, w_hh, b_ih, b_hh):
    """PyTorch's (w_ih, w_hh, b_ih, b_hh) of one layer -> fastrnn's (W, U, b)."""
    if b_ih is None:  # bias=False: zero biases
        b_ih = b_hh = np.zeros(w_ih.shape[0], dtype=w_ih.detach().cpu().numpy().dtype)
    return interop.from_torch(cell.name, {"weight_ih_l0": w_ih, "weight_hh_l0": w_hh,
                                          "bias_ih_l0": b_ih, "bias_hh_l0": b_hh})


def _torch_grads(cell, dW, dU, db):
    """Gradients of (W, U, b) -> those of PyTorch's (w_ih, w_hh, b_ih, b_hh)."""
    grads = interop.to_torch(cell.name, _as_numpy(dW), _as_numpy(dU), _as_numpy(db))
    if np.ndim(db) == 1:
        # one kernel bias b = b_ih + b_hh (interop.from_torch): both receive db
        grads["bias_hh_l0"] = grads["bias_ih_l0"]
    return (grads["weight_ih_l0"], grads["weight_hh_l0"], grads["bias_ih_l0"],
            grads["bias_hh_l0"])


def _as_numpy(a):
    return a if isinstance(a, np.ndarray) else a.detach().cpu().numpy()


class _Slot:
    """Where a saved array sat in a backend's cache (``_pack``)."""

    __slots__ = ("index", "numpy")

    def __init__(self, index, numpy):
        self.index, self.numpy = index, numpy


def _pack(obj, tensors):
    """The cache's saved structure with every array replaced by a _Slot, the arrays appended
    to `tensors` (NumPy arrays wrapped without a copy), so autograd owns their lifetime."""
    if isinstance(obj, np.ndarray) and obj.flags.writeable and obj.dtype.kind in "fiub":
        tensors.append(torch.from_numpy(obj))
        return _Slot(len(tensors) - 1, True)
    if isinstance(obj, torch.Tensor):
        tensors.append(obj)
        return _Slot(len(tensors) - 1, False)
    if isinstance(obj, (tuple, list)):
        return type(obj)(_pack(o, tensors) for o in obj)
    if isinstance(obj, dict):
        return {k: _pack(v, tensors) for k, v in obj.items()}
    return obj


def _unpack(obj, tensors):
    """The inverse of _pack, on the tensors autograd kept: the same arrays (views)."""
    if isinstance(obj, _Slot):
        t = tensors[obj.index]
        return t.numpy() if obj.numpy else t
    if isinstance(obj, (tuple, list)):
        return type(obj)(_unpack(o, tensors) for o in obj)
    if isinstance(obj, dict):
        return {k: _unpack(v, tensors) for k, v in obj.items()}
    return obj


class _Layer(torch.autograd.Function):
    """One recurrent layer over the whole sequence: (x (B, T, I), h0, c0, w_ih, w_hh, b_ih,
    b_hh) -> (h_seq (B, T, H), h_last (B, H)[, c_last (B, H)]), by fastrnn.ops."""

    @staticmethod
    def forward(ctx, spec, x, h0, c0, w_ih, w_hh, b_ih, b_hh):
        cell, options, backend = spec
        with_c = len(cell.states) == 2
        W, U, b = _kernel_weights(cell, w_ih, w_hh, b_ih, b_hh)
        states = (_host(h0), _host(c0)) if with_c else (_host(h0),)
        r = getattr(ops, cell.forward_name)(_host(x), W, U, b, *states, backend=backend,
                                             **options)
        outs = [_tensor(r.h_seq, x.device), _tensor(r.h_last, x.device)]
        if with_c:
            outs.append(_tensor(r.c_last, x.device))
        # The kernels' cache goes to autograd as tensors (the same memory), so it is freed
        # after backward as torch.nn's saved tensors are, even while the graph lives on. x, the
        # states and the output are saved as themselves too: the cache reads them where they
        # lie, and autograd then refuses a backward after one of them was changed in place.
        tensors = [x, h0, c0, outs[0]]
        ctx.skeleton = _pack(r.cache.saved, tensors)
        ctx.spec, ctx.cache_info, ctx.device = spec, (r.cache.backend, r.cache.cell,
                                                      r.cache.options), x.device
        ctx.save_for_backward(*tensors)
        ctx.set_materialize_grads(False)  # an unused output's gradient stays None (zero)
        return tuple(outs)

    @staticmethod
    @once_differentiable
    def backward(ctx, d_seq, d_last, d_c=None):
        backend, cell_name, options = ctx.cache_info
        cache = ops.Cache(backend, cell_name, _unpack(ctx.skeleton, ctx.saved_tensors), options)
        cell = ctx.spec[0]
        grads = [_host(d_seq), _host(d_last)]
        if len(cell.states) == 2:
            grads.append(_host(d_c))
        g = getattr(ops, cell.backward_name)(cache, *grads)
        dev = ctx.device
        need = ctx.needs_input_grad
        dw = [_tensor(a, dev) if need[4 + i] else None
              for i, a in enumerate(_torch_grads(cell, g.dW, g.dU, g.db))]
        return (None, _tensor(g.dx, dev) if need[1] else None,
                _tensor(g.dh0, dev) if need[2] else None,
                _tensor(g.dc0, dev) if need[3] else None, *dw)


class _RNNBase(nn.Module):
    """What LSTM, GRU and RNN share; subclasses name their row of the cell table."""

    cell: cells.CellInfo

    def __init__(self, input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
                 dropout=0.0, bidirectional=False, proj_size=0, device=None, dtype=None, *,
                 backend=None):
        super().__init__()
        if bidirectional:
            raise NotImplementedError(f"fastrnn.torch.{type(self).__name__}(bidirectional=True) "
                                      "is not implemented; use torch.nn for bidirectional layers")
        if proj_size:
            raise NotImplementedError(f"fastrnn.torch.{type(self).__name__}(proj_size="
                                      f"{proj_size!r}) is not implemented")
        self.input_size = _params.check(input_size, "input_size", _SIZE)
        self.hidden_size = _params.check(hidden_size, "hidden_size", _SIZE)
        self.num_layers = _params.check(num_layers, "num_layers", _SIZE)
        self.dropout = _params.check(dropout, "dropout", _DROPOUT)
        if self.dropout > 0 and self.num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so "
                          f"non-zero dropout expects num_layers greater than 1, but got "
                          f"dropout={dropout} and num_layers={num_layers}", stacklevel=2)
        self.bias = bool(bias)
        self.batch_first = bool(batch_first)
        self.bidirectional = False
        self.proj_size = 0
        if backend is not None:
            backends._check_name(backend)
        self.backend = backend
        factory = {"device": device, "dtype": dtype}
        rows = self.cell.gates * self.hidden_size
        self._flat_weights_names = []
        for k in range(self.num_layers):
            inputs = self.input_size if k == 0 else self.hidden_size
            shapes = [("weight_ih", (rows, inputs)), ("weight_hh", (rows, self.hidden_size))]
            if self.bias:
                shapes += [("bias_ih", (rows,)), ("bias_hh", (rows,))]
            for name, shape in shapes:
                self.register_parameter(f"{name}_l{k}",
                                        nn.Parameter(torch.empty(shape, **factory)))
                self._flat_weights_names.append(f"{name}_l{k}")
        self.reset_parameters()

    def reset_parameters(self):
        """PyTorch's initialisation: every parameter uniform in [-1/sqrt(H), 1/sqrt(H)]."""
        bound = 1.0 / math.sqrt(self.hidden_size)
        for p in self.parameters():
            nn.init.uniform_(p, -bound, bound)

    def flatten_parameters(self):
        """Accepted for compatibility with torch.nn's RNNs (cuDNN's weight packing); nothing to
        do here."""

    @property
    def all_weights(self):
        return [[getattr(self, n) for n in self._flat_weights_names if n.endswith(f"_l{k}")]
                for k in range(self.num_layers)]

    def _kernel_options(self):
        return {}

    def extra_repr(self):
        s = f"{self.input_size}, {self.hidden_size}"
        if self.num_layers != 1:
            s += f", num_layers={self.num_layers}"
        if not self.bias:
            s += ", bias=False"
        if self.batch_first:
            s += ", batch_first=True"
        if self.dropout:
            s += f", dropout={self.dropout}"
        return s

    # -- forward ---------------------------------------------------------------------------
    def _backend_for(self, x):
        if x.device.type == "cpu":
            return self.backend if self.backend is not None else backends.default()
        if x.device.type != "cuda":
            raise RuntimeError(f"fastrnn.torch.{type(self).__name__} runs CPU and CUDA tensors, "
                               f"got a tensor on {x.device}")
        if self.backend not in (None, "cuda"):
            raise RuntimeError(f"CUDA tensors need backend 'cuda' (or None), but this module "
                               f"has backend={self.backend!r}")
        if "cuda" not in backends.available():
            why = ("it is not built in this installation" if "cuda" not in backends.built()
                   else backends._load("cuda").why_unavailable())
            raise RuntimeError(f"fastrnn.torch.{type(self).__name__} got CUDA tensors, but "
                               f"fastrnn's CUDA backend cannot run: {why}. Move the module and "
                               "its inputs to the CPU (module.cpu()), or install fastrnn with "
                               "its CUDA module")
        return "cuda"

    def _check_input(self, x):
        if isinstance(x, nn.utils.rnn.PackedSequence):
            raise TypeError(f"fastrnn.torch.{type(self).__name__} does not take a "
                            "PackedSequence; pad the sequences to one length instead")
        if not isinstance(x, torch.Tensor):
            raise TypeError(f"input must be a torch.Tensor, got {type(x).__name__}")
        if x.dim() not in (2, 3):
            raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got "
                             f"{x.dim()}D tensor")
        if x.dtype not in _DTYPES:
            raise TypeError(f"fastrnn.torch.{type(self).__name__} runs float32 and float64 "
                            f"tensors, got input of dtype {x.dtype}")
        w = self.weight_ih_l0
        if x.dtype != w.dtype or x.device != w.device:
            raise TypeError(f"input is {x.dtype} on {x.device} but the parameters are "
                            f"{w.dtype} on {w.device}; convert one of them (module.to(...))")
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected "
                               f"{self.input_size}, got {x.shape[-1]}")

    def _check_state(self, h, name, batch, x):
        if h is None:
            return None
        want = (self.num_layers, batch, self.hidden_size) if batch is not None else (
            self.num_layers, self.hidden_size)
        if not isinstance(h, torch.Tensor) or tuple(h.shape) != want:
            got = tuple(h.shape) if isinstance(h, torch.Tensor) else type(h).__name__
            raise RuntimeError(f"Expected hidden size {want} for {name}, got {got}")
        if h.dtype != x.dtype or h.device != x.device:
            raise TypeError(f"{name} is {h.dtype} on {h.device} but the input is {x.dtype} on "
                            f"{x.device}")
        return h if batch is not None else h.unsqueeze(1)

    def _run(self, x, h0, c0):
        """x (B, T, I) batch-first, h0/c0 (L, B, H) or None -> (h_seq (B, T, H),
        h_n (L, B, H), c_n (L, B, H) or None)."""
        spec = (self.cell, self._kernel_options(), self._backend_for(x))
        with_c = len(self.cell.states) == 2
        h_last, c_last = [], []
        for k in range(self.num_layers):
            if k > 0 and self.dropout and self.training:
                x = nn.functional.dropout(x, self.dropout, training=True)
            weights = [getattr(self, f"{n}_l{k}") for n in ("weight_ih", "weight_hh")]
            weights += ([getattr(self, f"bias_ih_l{k}"), getattr(self, f"bias_hh_l{k}")]
                        if self.bias else [None, None])
            outs = _Layer.apply(spec, x, None if h0 is None else h0[k],
                                None if c0 is None else c0[k], *weights)
            x = outs[0]
            h_last.append(outs[1])
            if with_c:
                c_last.append(outs[2])
        return x, torch.stack(h_last), (torch.stack(c_last) if with_c else None)

    def _forward(self, x, h0, c0):
        self._check_input(x)
        batched = x.dim() == 3
        batch = (x.shape[0] if self.batch_first else x.shape[1]) if batched else None
        h0 = self._check_state(h0, "h_0", batch, x)
        c0 = self._check_state(c0, "c_0", batch, x)
        if not batched:
            x = x.unsqueeze(0)
        elif not self.batch_first:
            x = x.transpose(0, 1)  # the kernels are batch-first; a strided view is copied once
        out, h_n, c_n = self._run(x, h0, c0)
        if not batched:
            out, h_n = out.squeeze(0), h_n.squeeze(1)
            c_n = None if c_n is None else c_n.squeeze(1)
        elif not self.batch_first:
            out = out.transpose(0, 1).contiguous()  # contiguous, as torch.nn returns it
        return out, h_n, c_n


class LSTM(_RNNBase):
    """``torch.nn.LSTM`` on fastrnn's kernels: ``LSTM(input_size, hidden_size, num_layers=1,
    bias=True, batch_first=False, dropout=0.0)``; ``forward(input, (h_0, c_0)=None)`` ->
    ``(output, (h_n, c_n))``. Gate blocks i, f, g, o as in PyTorch."""

    cell = cells.LSTM

    def forward(self, input, hx=None):
        h0 = c0 = None
        if hx is not None:
            if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                raise TypeError("LSTM: hx must be a tuple (h_0, c_0)")
            h0, c0 = hx
            if h0 is None or c0 is None:
                raise TypeError("LSTM: hx must hold both h_0 and c_0")
        out, h_n, c_n = self._forward(input, h0, c0)
        return out, (h_n, c_n)


class GRU(_RNNBase):
    """``torch.nn.GRU`` on fastrnn's kernels (fastrnn's reset_after GRU; PyTorch's gate blocks
    r, z, n): ``GRU(input_size, hidden_size, num_layers=1, bias=True, batch_first=False,
    dropout=0.0)``; ``forward(input, h_0=None)`` -> ``(output, h_n)``."""

    cell = cells.GRU

    def _kernel_options(self):
        return {"reset_after": True}

    def forward(self, input, hx=None):
        out, h_n, _ = self._forward(input, hx, None)
        return out, h_n


class RNN(_RNNBase):
    """``torch.nn.RNN`` (Elman) on fastrnn's kernels: ``RNN(input_size, hidden_size,
    num_layers=1, nonlinearity='tanh', bias=True, batch_first=False, dropout=0.0)``;
    ``forward(input, h_0=None)`` -> ``(output, h_n)``."""

    cell = cells.ELMAN

    def __init__(self, input_size, hidden_size, num_layers=1, nonlinearity="tanh", bias=True,
                 batch_first=False, dropout=0.0, bidirectional=False, device=None, dtype=None,
                 *, backend=None):
        nonlinearity = _params.check(nonlinearity, "nonlinearity", _NONLINEARITIES)
        super().__init__(input_size, hidden_size, num_layers, bias, batch_first, dropout,
                         bidirectional, 0, device, dtype, backend=backend)
        self.nonlinearity = nonlinearity

    def _kernel_options(self):
        return {"activation": self.nonlinearity}

    def extra_repr(self):
        s = super().extra_repr()
        return s + (f", nonlinearity={self.nonlinearity!r}" if self.nonlinearity != "tanh" else "")

    def forward(self, input, hx=None):
        out, h_n, _ = self._forward(input, hx, None)
        return out, h_n
