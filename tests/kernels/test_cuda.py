"""What is specific to the CUDA backend (the numerical suite in test_ops.py runs "cuda" as one
more backend wherever fastrnn.backends.available() lists it).

Runs everywhere: the import-without-GPU contract (built, not available, a reason, clean errors)
and argument checking, which happens before any CUDA call. Needs a GPU: device arrays in
(PyTorch CUDA tensors, CuPy) used in place and results returned as the same kind, a large
hidden size (the global-memory path of the persistent kernel), several launches (batch larger
than one cooperative grid).
"""

from __future__ import annotations

import numpy as np
import pytest

import fastrnn
from fastrnn import backends, ops

from conftest import GATES, TOL, make_inputs, rel_err
from fastrnn import cells

try:
    from fastrnn.backends import _cuda
except ImportError:  # built without nvcc: nothing here applies
    _cuda = None

pytestmark = pytest.mark.skipif(_cuda is None, reason="fastrnn.backends._cuda not built (no CUDA compiler at build time)")

HAVE_GPU = _cuda is not None and _cuda.device_count() > 0
needs_gpu = pytest.mark.skipif(not HAVE_GPU, reason="no CUDA GPU/driver here: "
                               + ("" if _cuda is None else _cuda.why_unavailable()))
no_gpu_only = pytest.mark.skipif(HAVE_GPU, reason="checks behaviour without a GPU")


def _torch_cuda():
    try:
        import torch
    except ImportError:
        return None
    return torch if torch.cuda.is_available() else None


def _cupy():
    try:
        import cupy
        cupy.cuda.runtime.getDeviceCount()
        return cupy
    except Exception:  # noqa: BLE001 - missing, or present without a usable GPU
        return None


# --- everywhere -------------------------------------------------------------------------------

def test_cuda_is_built():
    assert "cuda" in backends.built()


@no_gpu_only
def test_not_available_without_gpu():
    assert "cuda" not in backends.available()
    assert backends.default() != "cuda"
    reason = backends._load("cuda").why_unavailable()
    assert isinstance(reason, str) and reason


@no_gpu_only
def test_get_refuses_unavailable_cuda():
    backends.built()  # loads the module
    with pytest.raises(RuntimeError, match="cannot run here"):
        backends.get("cuda")


@no_gpu_only
def test_ops_with_cuda_raise_runtime_error_without_gpu():
    inp = make_inputs("elman", 2, 3, 2, 4, np.float32)
    with pytest.raises(RuntimeError):
        ops.elman_forward(inp["x"], inp["W"], inp["U"], inp["b"], backend="cuda")


@no_gpu_only
def test_module_calls_fail_cleanly_without_gpu():
    """Valid arguments reach CUDA, which fails: a RuntimeError naming the CUDA error, no crash."""
    inp = make_inputs("lstm", 2, 3, 2, 4, np.float32)
    with pytest.raises(RuntimeError, match="CUDA error"):
        _cuda.lstm_forward(inp["x"], inp["W"], inp["U"], inp["b"], None, None, "tanh", "sigmoid")
    with pytest.raises(RuntimeError, match="CUDA error"):
        _cuda.DeviceArray((2, 3), "float32")
    assert _cuda.device_count() == 0


def test_argument_errors_come_before_any_cuda_call():
    """Shape, dtype, NaN and name errors are raised the same with or without a GPU."""
    inp = make_inputs("gru", 2, 3, 2, 4, np.float32)
    x, W, U, b = inp["x"], inp["W"], inp["U"], inp["b"]
    with pytest.raises(ValueError, match=r"W must have shape \(I, 3H\) = \(2, 12\), got \(3, 12\)"):
        _cuda.gru_forward(x, np.zeros((3, 12), np.float32), U, b, None, True, "tanh", "sigmoid")
    with pytest.raises(ValueError, match=r"b must have shape \(3H,\)"):
        _cuda.gru_forward(x, W, U, b, None, False, "tanh", "sigmoid")
    with pytest.raises(TypeError, match="U has dtype float64 but x has dtype float32"):
        _cuda.gru_forward(x, W, U.astype(np.float64), b, None, True, "tanh", "sigmoid")
    with pytest.raises(TypeError, match="float32 or float64"):
        _cuda.gru_forward(x.astype(np.int32), W, U, b, None, True, "tanh", "sigmoid")
    bad = x.copy()
    bad[1, 2, 0] = np.nan
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        _cuda.gru_forward(bad, W, U, b, None, True, "tanh", "sigmoid")
    with pytest.raises(ValueError, match="activation must be one of"):
        _cuda.gru_forward(x, W, U, b, None, True, "softplus", "sigmoid")
    with pytest.raises(ValueError, match="recurrent_activation"):
        _cuda.gru_forward(x, W, U, b, None, True, "tanh", "hard_sigmoid")
    with pytest.raises(ValueError, match=r"x must have shape \(B, T, I\)"):
        _cuda.gru_forward(x[0], W, U, b, None, True, "tanh", "sigmoid")
    with pytest.raises(ValueError, match="cache does not come from lstm_forward: expected 8"):
        _cuda.lstm_backward((x, W), None, None, None, "tanh")
    with pytest.raises(ValueError, match="cache does not come from elman_forward: expected 5"):
        _cuda.elman_backward((x, W), None, None, "tanh")
    with pytest.raises(ValueError, match="cache does not come from gru_forward: expected 7"):
        _cuda.gru_backward((x, W), None, None, True, "tanh")


# --- with a GPU -------------------------------------------------------------------------------

def _run(cell, inp, backend, to=None, reset_after=True):
    """Forward + backward with every optional input; `to` converts arrays (e.g. to the GPU)."""
    cv = to or (lambda a: a)
    args = [cv(inp[k]) for k in ("x", "W", "U", "b")]
    if cell == "elman":
        r = ops.elman_forward(*args, cv(inp["h0"]), backend=backend)
        g = ops.elman_backward(r.cache, cv(inp["dh_seq"]), cv(inp["dh_last"]))
    elif cell == "lstm":
        r = ops.lstm_forward(*args, cv(inp["h0"]), cv(inp["c0"]), backend=backend)
        g = ops.lstm_backward(r.cache, cv(inp["dh_seq"]), cv(inp["dh_last"]), cv(inp["dc_last"]))
    else:
        r = ops.gru_forward(*args, cv(inp["h0"]), reset_after=reset_after, backend=backend)
        g = ops.gru_backward(r.cache, cv(inp["dh_seq"]), cv(inp["dh_last"]))
    out = [r.h_seq, r.h_last] + ([r.c_last] if cell == "lstm" else []) + list(g)
    return out


def _check(got, want, dtype, what):
    for k, (a, b) in enumerate(zip(got, want)):
        err = rel_err(a, b)
        assert err <= TOL[dtype], f"{what}: output {k} off by {err:.3g}"


@needs_gpu
@pytest.mark.parametrize("cell", list(cells.NAMES))
def test_torch_cuda_tensors_in_and_out(cell):
    torch = _torch_cuda()
    if torch is None:
        pytest.skip("PyTorch with CUDA is not installed here")
    inp = make_inputs(cell, 5, 7, 3, 20, np.float32)
    want = _run(cell, inp, "cpp")
    got = _run(cell, inp, "cuda", to=lambda a: torch.from_numpy(a).cuda())
    for a in got:
        assert isinstance(a, torch.Tensor) and a.is_cuda
    _check([a.cpu().numpy() for a in got], want, np.float32, f"torch {cell}")


@needs_gpu
def test_torch_strided_cuda_tensor_is_accepted():
    torch = _torch_cuda()
    if torch is None:
        pytest.skip("PyTorch with CUDA is not installed here")
    inp = make_inputs("lstm", 4, 6, 3, 8, np.float64)
    want = _run("lstm", inp, "cpp")
    # A transposed view: not C-contiguous on the device.
    x_t = torch.from_numpy(np.ascontiguousarray(inp["x"].transpose(1, 0, 2))).cuda().transpose(0, 1)
    assert not x_t.is_contiguous()
    r = ops.lstm_forward(x_t, *(torch.from_numpy(inp[k]).cuda() for k in ("W", "U", "b", "h0", "c0")),
                         backend="cuda")
    assert rel_err(r.h_seq.cpu().numpy(), want[0]) <= TOL[np.float64]


@needs_gpu
@pytest.mark.parametrize("cell", list(cells.NAMES))
def test_cupy_arrays_in_and_out(cell):
    cupy = _cupy()
    if cupy is None:
        pytest.skip("CuPy is not installed here")
    inp = make_inputs(cell, 5, 7, 3, 20, np.float64)
    want = _run(cell, inp, "cpp")
    got = _run(cell, inp, "cuda", to=cupy.asarray)
    for a in got:
        assert isinstance(a, cupy.ndarray)
    _check([cupy.asnumpy(a) for a in got], want, np.float64, f"cupy {cell}")


@needs_gpu
@pytest.mark.parametrize("cell,H", [("lstm", 300), ("gru", 300), ("elman", 600)])
def test_large_hidden_size(cell, H):
    """U too large for shared memory in float64: the kernel reads it through the caches."""
    inp = make_inputs(cell, 3, 4, 2, H, np.float64)
    _check(_run(cell, inp, "cuda"), _run(cell, inp, "cpp"), np.float64, f"{cell} H={H}")


@needs_gpu
@pytest.mark.parametrize("reset_after", [True, False])
def test_batch_larger_than_one_launch(reset_after):
    """Enough rows that the batch is cut into several cooperative launches."""
    inp = make_inputs("gru", 4096, 3, 2, 256, np.float32, reset_after=reset_after)
    got = _run("gru", inp, "cuda", reset_after=reset_after)
    want = _run("gru", inp, "cpp", reset_after=reset_after)
    _check(got, want, np.float32, "gru B=4096")


@needs_gpu
def test_nan_in_device_array_is_rejected():
    torch = _torch_cuda()
    if torch is None:
        pytest.skip("PyTorch with CUDA is not installed here")
    inp = make_inputs("elman", 2, 3, 2, 4, np.float32)
    x = torch.from_numpy(inp["x"]).cuda()
    x[1, 1, 1] = float("inf")
    with pytest.raises(ValueError, match=r"x contains NaN or inf \(first at flat index 9\)"):
        ops.elman_forward(x, inp["W"], inp["U"], inp["b"], backend="cuda")


@needs_gpu
def test_numpy_path_returns_numpy_and_keeps_cache_on_gpu():
    inp = make_inputs("gru", 2, 3, 2, 4, np.float32)
    r = ops.gru_forward(inp["x"], inp["W"], inp["U"], inp["b"], backend="cuda")
    assert isinstance(r.h_seq, np.ndarray) and r.h_seq.dtype == np.float32
    alloc, saved = r.cache.saved
    assert alloc is None and all(s is None or hasattr(s, "__cuda_array_interface__") for s in saved)
    g = ops.gru_backward(r.cache, dh_last=inp["dh_last"])
    assert isinstance(g.dW, np.ndarray) and g.dW.shape == inp["W"].shape


@needs_gpu
def test_fastrnn_reports_cuda_available():
    assert "cuda" in fastrnn.backends.available()
    assert GATES["lstm"] == 4
