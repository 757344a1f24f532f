"""The CUDA backend: fastrnn.backends._cuda, with the backend signatures of ``_numpy.py``.

Arrays: NumPy in, NumPy out (copied to and from the GPU for you). Device arrays in (anything
with ``__cuda_array_interface__``: PyTorch CUDA tensors, CuPy, Numba device arrays) are used
where they lie and the results come back on the same device as the same kind of array; objects
that only speak DLPack are taken through PyTorch (else CuPy) and come back as that library's
arrays. Strided device arrays are made contiguous first (one copy). The kind of a call's
results follows ``x`` (forward) or the forward's ``x`` (backward).

Masks: the CUDA kernels take no step masks (``CAPABILITIES["masks"]`` is False); a forward call
with ``mask`` other than None raises ValueError naming it, and the recurrent layers run a masked
call step by step through this backend instead (``fastrnn.nn.layers.stepwise``).

Importing this module never needs a GPU: without one (or without a driver) ``is_available()``
is False and ``why_unavailable()`` says why.
"""

from __future__ import annotations

import numpy as np

from fastrnn.backends import _cuda  # ImportError when the CUDA backend was not built: the registry skips it


CAPABILITIES = {"fused_training": False, "device": "gpu", "masks": False}


def _no_mask(mask):
    if mask is not None:
        raise ValueError("mask must be None on the 'cuda' backend (its kernels take no step "
                         "masks); run a masked call on a CPU backend (backend='cpp', 'numba' "
                         "or 'numpy')")


def is_built():
    return True


def is_available():
    return _cuda.device_count() > 0


def why_unavailable():
    return _cuda.why_unavailable()


def threads():
    return 0  # the work runs on the GPU


_KDL_CUDA = 2  # DLPack device type of CUDA memory


def _library(a):
    return type(a).__module__.split(".")[0]


def _kind(x):
    """'numpy', or the library whose device arrays x is ('torch', 'cupy', 'numba', ...)."""
    if isinstance(x, np.ndarray) or x is None:
        return "numpy"
    if getattr(x, "is_cuda", False) and getattr(x, "requires_grad", False):
        x = x.detach()
    if hasattr(x, "__cuda_array_interface__"):
        return _library(x)
    if hasattr(x, "__dlpack__") and hasattr(x, "__dlpack_device__"):
        try:
            if x.__dlpack_device__()[0] == _KDL_CUDA:
                return "dlpack"
        except Exception:  # noqa: BLE001 - not a device array after all
            pass
    return "numpy"


def _from_dlpack(a):
    try:
        import torch
        return torch.from_dlpack(a)
    except ImportError:
        import cupy
        return cupy.from_dlpack(a)


def _prepare(a):
    """A C-contiguous device array for a device input; NumPy and None pass through."""
    if getattr(a, "is_cuda", False) and getattr(a, "requires_grad", False):
        a = a.detach()  # torch hides __cuda_array_interface__ on tensors that require grad
    kind = _kind(a)
    if kind == "numpy":
        return a
    if kind == "dlpack":
        a = _from_dlpack(a)
        kind = _library(a)
    if kind == "torch":
        return a if a.is_contiguous() else a.contiguous()
    if kind == "cupy":
        import cupy
        return cupy.ascontiguousarray(a)
    return a  # others: the binding raises a clear error if strided


def _allocator(x):
    """alloc(shape, dtype_name) making arrays of x's kind on x's device; None for NumPy."""
    kind = _library(x) if _kind(x) != "numpy" else "numpy"
    if kind == "torch":
        import torch
        dev = x.device
        return lambda shape, dt: torch.empty(tuple(shape), dtype=getattr(torch, dt), device=dev)
    if kind == "cupy":
        import cupy
        dev = x.device

        def alloc(shape, dt):
            with dev:
                return cupy.empty(tuple(shape), dtype=dt)
        return alloc
    if kind == "numba":
        from numba import cuda as ncuda
        return lambda shape, dt: ncuda.device_array(tuple(shape), dtype=dt)
    if kind == "numpy":
        return None
    raise TypeError(f"x is a device array of type {type(x).__name__}, which fastrnn's CUDA backend "
                    "cannot allocate results for; pass a PyTorch tensor, a CuPy array or a NumPy array")


def _forward_args(x, *arrays):
    x = _prepare(x)
    return x, [_prepare(a) for a in arrays], _allocator(x)


def elman_forward(x, W, U, b, h0, activation, mask=None):
    _no_mask(mask)
    x, (W, U, b, h0), alloc = _forward_args(x, W, U, b, h0)
    h_seq, h_last, saved = _cuda.elman_forward(x, W, U, b, h0, activation, alloc)
    return h_seq, h_last, (alloc, saved)


def elman_backward(saved, dh_seq, dh_last, activation):
    alloc, s = saved
    return _cuda.elman_backward(s, _prepare(dh_seq), _prepare(dh_last), activation, alloc)


def lstm_forward(x, W, U, b, h0, c0, activation, recurrent_activation, mask=None):
    _no_mask(mask)
    x, (W, U, b, h0, c0), alloc = _forward_args(x, W, U, b, h0, c0)
    h_seq, h_last, c_last, saved = _cuda.lstm_forward(x, W, U, b, h0, c0, activation,
                                                      recurrent_activation, alloc)
    return h_seq, h_last, c_last, (alloc, saved)


def lstm_backward(saved, dh_seq, dh_last, dc_last, activation):
    alloc, s = saved
    return _cuda.lstm_backward(s, _prepare(dh_seq), _prepare(dh_last), _prepare(dc_last),
                               activation, alloc)


def gru_forward(x, W, U, b, h0, reset_after, activation, recurrent_activation, mask=None):
    _no_mask(mask)
    x, (W, U, b, h0), alloc = _forward_args(x, W, U, b, h0)
    h_seq, h_last, saved = _cuda.gru_forward(x, W, U, b, h0, bool(reset_after), activation,
                                             recurrent_activation, alloc)
    return h_seq, h_last, (alloc, saved)


def gru_backward(saved, dh_seq, dh_last, reset_after, activation):
    alloc, s = saved
    return _cuda.gru_backward(s, _prepare(dh_seq), _prepare(dh_last), bool(reset_after),
                              activation, alloc)
