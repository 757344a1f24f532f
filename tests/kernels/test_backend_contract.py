"""Issue 17's kernel and backend defects, one test (or a few) each: what every backend must do
with empty sequences, results edited in place, damaged caches, arguments of the wrong kind,
inputs in the other byte order or with odd flags, copies that do not fit in memory, and plans
whose sizes overflow. (Saturated gates: test_saturation.py; Ctrl-C: test_interrupt.py.)
"""

from __future__ import annotations

import pathlib
import re

import numpy as np
import pytest

from conftest import BACKENDS, make_inputs
from fastrnn import backends, cells, ops

CELLS = list(cells.NAMES)
ROOT = pathlib.Path(__file__).resolve().parents[2]
CPU_BACKENDS = [b for b in BACKENDS if b != "cuda"]


def forward(cell, inp, backend, **kw):
    a = [inp[k] for k in ("x", "W", "U", "b")]
    if cell == cells.LSTM.name:
        return ops.lstm_forward(*a, inp.get("h0"), inp.get("c0"), backend=backend, **kw)
    return getattr(ops, f"{cell}_forward")(*a, inp.get("h0"), backend=backend, **kw)


def backward(cell, cache, inp):
    kw = dict(dh_seq=inp["dh_seq"], dh_last=inp["dh_last"])
    if cell == cells.LSTM.name:
        kw["dc_last"] = inp["dc_last"]
    return list(getattr(ops, f"{cell}_backward")(cache, **kw))


def needs(backend):
    if backend not in backends.available():
        pytest.skip(f"backend {backend!r} is not available here")


# -- defect 2: T = 0 --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_backward_of_an_empty_sequence_is_zero(backend, cell, dtype):
    """No step taken: every weight gradient is zero and dh0 (dc0) is dh_last (dc_last); the
    numba backend used to read the row after an empty array (dU up to 3e38 or NaN)."""
    inp = make_inputs(cell, 5, 0, 3, 6, dtype, seed=4)
    r = forward(cell, inp, backend)
    g = backward(cell, r.cache, inp)
    for name, got in zip(("dx", "dW", "dU", "db"), g[:4]):
        assert np.all(got == 0), f"{name} of an empty sequence: {got}"
    np.testing.assert_array_equal(g[4], inp["dh_last"])
    if cell == cells.LSTM.name:
        np.testing.assert_array_equal(g[5], inp["dc_last"])


# -- defect 13: results do not alias the cache ------------------------------------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_editing_a_result_cannot_change_the_gradients(backend, cell):
    inp = make_inputs(cell, 3, 5, 2, 4, np.float64, seed=5)
    r = forward(cell, inp, backend)
    want = backward(cell, r.cache, inp)
    for arr in (r.h_seq, r.h_last, r.c_last):
        if arr is None:
            continue
        try:
            arr[...] = 123.0
        except ValueError:  # read-only: the cache's own array cannot be reached through it
            pass
    got = backward(cell, r.cache, inp)
    for g, w in zip(got, want):
        np.testing.assert_array_equal(g, w)


@pytest.mark.parametrize("backend", BACKENDS)
def test_results_are_read_only_views_and_copies_are_writeable(backend):
    inp = make_inputs("lstm", 2, 3, 2, 4, np.float32, seed=6)
    r = forward("lstm", inp, backend)
    assert not r.h_seq.flags.writeable
    h = r.h_seq.copy()
    h += 1  # what a caller that needs to write does
    assert r.h_last.flags.writeable and r.c_last.flags.writeable  # fresh arrays, not in the cache


# -- defect 14: clear errors ------------------------------------------------------------------

@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("arg,value", [("activation", 5), ("activation", None),
                                       ("recurrent_activation", ["sigmoid"])])
def test_option_of_the_wrong_kind_is_named(backend, arg, value):
    inp = make_inputs("lstm", 2, 3, 2, 4, np.float64)
    with pytest.raises((TypeError, ValueError)) as info:
        forward("lstm", inp, backend, **{arg: value})
    msg = str(info.value)
    assert f"{arg} must be one of" in msg and "incompatible function arguments" not in msg
    assert len(msg) < 300, msg


@pytest.mark.parametrize("value", [["cpp"], ("numpy",), 3, {"cpp": 1}])
def test_backend_of_the_wrong_kind_is_named(value):
    inp = make_inputs("elman", 2, 3, 2, 4, np.float64)
    with pytest.raises((TypeError, ValueError), match="backend must be one of") as info:
        forward("elman", inp, value)
    assert "unhashable" not in str(info.value)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_saved_arrays_that_are_not_the_forward_calls_are_a_cache_error(backend, cell):
    inp = make_inputs(cell, 2, 3, 2, 4, np.float64)
    r = forward(cell, inp, backend)
    saved = r.cache.saved
    r.cache.saved = list(saved.items()) if isinstance(saved, dict) else list(saved)
    with pytest.raises(ValueError, match="cache") as info:
        backward(cell, r.cache, inp)
    assert "incompatible function arguments" not in str(info.value)


def _damage(saved, key, fn):
    if isinstance(saved, dict):
        return {**saved, key: fn(saved[key])}
    return tuple(fn(a) if i == key else a for i, a in enumerate(saved))


# per backend: where x and U live in its saved record
_X_U = {"numpy": ("x", "U"), "numba": (0, 2), "cpp": (0, 2)}


@pytest.mark.parametrize("what", ["x rank", "x dtype", "U shape", "h_seq shape", "missing"])
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_damaged_cache_is_reported_as_coming_from_the_cache(backend, cell, what):
    """cpp and numba re-checked their caches already (the message did not always say so);
    the numpy backend did not (IndexError, KeyError or a silently wrong answer: defect 15)."""
    inp = make_inputs(cell, 2, 3, 2, 4, np.float64)
    r = forward(cell, inp, backend)
    saved = r.cache.saved
    xk, uk = _X_U[backend]
    if what == "x rank":
        saved = _damage(saved, xk, lambda a: a[0])
    elif what == "x dtype":
        saved = _damage(saved, xk, lambda a: a.astype(np.float32))
    elif what == "U shape":
        saved = _damage(saved, uk, lambda a: a[:, :-1])
    elif what == "h_seq shape":
        hk = "h_seq" if isinstance(saved, dict) else {"elman": 4, "lstm": 5, "gru": 4}[cell]
        saved = _damage(saved, hk, lambda a: a[:, :1])
    else:
        saved = ({k: v for k, v in saved.items() if k != "h_seq"} if isinstance(saved, dict)
                 else saved[:-1])
    r.cache.saved = saved
    with pytest.raises(ValueError, match="cache"):
        backward(cell, r.cache, inp)


# -- defect 17: byte order, flags, and the numba specialisations they cost ---------------------

@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_big_endian_inputs_give_the_native_results(backend, cell):
    inp = make_inputs(cell, 3, 4, 2, 5, np.float32, seed=7)
    swapped = {k: v.astype(v.dtype.newbyteorder(">" if np.little_endian else "<"))
               for k, v in inp.items()}
    r1, r2 = forward(cell, inp, backend), forward(cell, swapped, backend)
    np.testing.assert_array_equal(r2.h_seq, r1.h_seq)
    for g1, g2 in zip(backward(cell, r1.cache, inp), backward(cell, r2.cache, swapped)):
        np.testing.assert_array_equal(g2, g1)


def _odd_inputs(inp):
    """Read-only, strided and unaligned versions of every array (same values)."""
    out = []
    ro = {k: v.copy() for k, v in inp.items()}
    for v in ro.values():
        v.flags.writeable = False
    out.append(ro)
    out.append({k: np.repeat(v, 2, axis=-1)[..., ::2] for k, v in inp.items()})
    unaligned = {}
    for k, v in inp.items():
        buf = np.zeros(v.nbytes + 1, np.uint8)[1:]
        a = buf.view(v.dtype).reshape(v.shape)
        a[...] = v
        unaligned[k] = a
    out.append(unaligned)
    return out


@pytest.mark.parametrize("cell", CELLS)
def test_numba_compiles_one_specialisation_whatever_the_flags(cell):
    """Read-only, strided and unaligned inputs, and a forward result passed on as the next
    call's input, reuse the kernels' one specialisation per dtype (each new one costs 20-60 s)."""
    needs("numba")
    from fastrnn.backends.numba import kernels
    fwd, bwd = getattr(kernels, f"{cell}_forward"), getattr(kernels, f"{cell}_backward")
    inp = make_inputs(cell, 3, 4, 5, 5, np.float32, seed=8)
    want_r = forward(cell, inp, "numba")
    want_g = backward(cell, want_r.cache, inp)
    n_fwd, n_bwd = len(fwd.signatures), len(bwd.signatures)
    for odd in _odd_inputs(inp):
        r = forward(cell, odd, "numba")
        np.testing.assert_array_equal(r.h_seq, want_r.h_seq)
        for g, w in zip(backward(cell, r.cache, odd), want_g):
            np.testing.assert_array_equal(g, w)
    stacked = dict(inp, x=want_r.h_seq)  # a read-only result as the next layer's input (I = H)
    forward(cell, stacked, "numba")
    assert (len(fwd.signatures), len(bwd.signatures)) == (n_fwd, n_bwd), (
        fwd.signatures, bwd.signatures)


def test_sanitizer_script_runs_the_whole_suite_and_instruments_the_cython_kernels():
    script = (ROOT / "scripts" / "sanitize.sh").read_text()
    run = re.search(r'-m pytest[^\n]*(?:\\\n[^\n]*)*', script).group(0)
    for suite in ("tests/kernels", "tests/nn", "tests/timeseries"):
        assert re.search(rf"{suite}(\s|$)", run), f"{suite} is not run under the sanitizers"
    assert "-k" not in run.split(), "the sanitizer run selects only part of the suite"
    assert re.search(r"CMAKE_CXX_FLAGS=[^\n]*-fsanitize=address,undefined", script)
    assert "fastrnn.timeseries._kernels" in script  # and checks it loaded the instrumented one


# -- defect 11: MemoryError stays MemoryError ---------------------------------------------------

def _huge(dtype, shape):
    """A broadcast (zero-stride) array whose contiguous copy cannot be allocated."""
    return np.broadcast_to(np.zeros(1, dtype), shape)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", CPU_BACKENDS)
def test_a_copy_that_does_not_fit_is_a_memory_error(backend, cell):
    G = cells.get(cell).gates
    H, I = 4, 64
    x = _huge(np.float32, (2 ** 20, 2 ** 20, I))  # 256 TiB once contiguous
    W, U = np.zeros((I, G * H), np.float32), np.zeros((H, G * H), np.float32)
    b = np.zeros(cells.get(cell).bias_shape(H, True), np.float32)
    with pytest.raises(MemoryError):
        forward(cell, dict(x=x, W=W, U=U, b=b), backend)


# -- defects 9 and 11 in the fused trainer's binding -------------------------------------------

def _core():
    return pytest.importorskip("fastrnn.backends._core")


@pytest.mark.parametrize("layer", [
    dict(kind="dense", steps=1, units=4, w=0),                       # in * units wraps to 0
    dict(kind="lstm", steps=2 ** 61, units=4, w=0, u=4, b=-1),       # batch * steps wraps
    dict(kind="gru", steps=3, units=2 ** 31, w=0, u=0, b=-1),        # units^2 * 3 overflows
])
@pytest.mark.parametrize("big_in", [2 ** 62, 1])
def test_trainer_sizes_that_overflow_are_a_value_error(layer, big_in):
    core = _core()
    spec = dict(layer, **{"in": big_in})
    if spec["kind"] == "dense" and big_in == 1:
        spec["units"] = 2 ** 62
    with pytest.raises(ValueError, match="too large|outside the parameter vector"):
        core.Trainer("float32", [spec], [], 100, "mean_squared_error", False, 4)


def test_trainer_input_copy_that_does_not_fit_is_a_memory_error():
    core = _core()
    T, I = 4, 3
    spec = dict(kind="elman", steps=T, units=2, w=0, u=6, b=10, **{"in": I})
    dense = dict(kind="dense", steps=1, units=1, w=12, b=14, **{"in": 2})
    tr = core.Trainer("float64", [spec, dense], [(0, 15, 0.0, 0.0)], 15, "mean_squared_error",
                      False, 8)
    n = 2 ** 42  # x (n, T, I) as a broadcast view: 384 TiB once contiguous
    x, y = _huge(np.float64, (n, T, I)), _huge(np.float64, (n, 1))
    params = np.zeros(15)
    with pytest.raises(MemoryError):
        tr.epoch(params, [], x, y, None, None, {"kind": "sgd"}, 0, 8, None)
