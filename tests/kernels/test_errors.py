"""Bad input gets a clear exception naming the argument; odd-but-valid input works; no crash.

Also: empty batches and sequences, the GIL being released, concurrent calls, and the compiled
bindings called directly with a damaged cache.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

from conftest import BACKENDS, make_inputs
from fastrnn import ops
from fastrnn import cells

CELLS = list(cells.NAMES)


def forward(cell, inp, backend, **kw):
    args = dict(inp)
    if cell == "elman":
        return ops.elman_forward(args["x"], args["W"], args["U"], args["b"], args.get("h0"),
                                 backend=backend, **kw)
    if cell == "lstm":
        return ops.lstm_forward(args["x"], args["W"], args["U"], args["b"], args.get("h0"),
                                args.get("c0"), backend=backend, **kw)
    return ops.gru_forward(args["x"], args["W"], args["U"], args["b"], args.get("h0"),
                           backend=backend, **kw)


def backward(cell, r, **kw):
    return {"elman": ops.elman_backward, "lstm": ops.lstm_backward, "gru": ops.gru_backward}[cell](r.cache, **kw)


def base(cell, dtype=np.float64, B=3, T=4, I=2, H=5):
    inp = make_inputs(cell, B, T, I, H, dtype, seed=1)
    return {k: inp[k] for k in ("x", "W", "U", "b")}


def raises(exc, *words):
    """pytest.raises whose message must contain every word."""
    class _Check:
        def __enter__(self):
            self.cm = pytest.raises(exc)
            self.info = self.cm.__enter__()
            return self.info

        def __exit__(self, *a):
            out = self.cm.__exit__(*a)
            msg = str(self.info.value)
            for w in words:
                assert w in msg, f"{w!r} not in message {msg!r}"
            return out
    return _Check()


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", BACKENDS)
class TestBadInput:
    def test_x_wrong_rank(self, backend, cell):
        inp = base(cell)
        inp["x"] = inp["x"][0]
        with raises(ValueError, "x", "(B, T, I)", "(4, 2)"):
            forward(cell, inp, backend)

    def test_W_wrong_shape(self, backend, cell):
        inp = base(cell)
        inp["W"] = inp["W"][:, 1:]
        with raises(ValueError, "W must have shape", "got (2, "):
            forward(cell, inp, backend)

    def test_W_rows_must_match_features(self, backend, cell):
        inp = base(cell)
        inp["W"] = np.concatenate([inp["W"], inp["W"]])
        with raises(ValueError, "W", "(4, "):
            forward(cell, inp, backend)

    def test_U_wrong_shape(self, backend, cell):
        inp = base(cell)
        inp["U"] = inp["U"][1:]
        with raises(ValueError, "U must have shape"):
            forward(cell, inp, backend)

    def test_b_wrong_shape(self, backend, cell):
        inp = base(cell)
        inp["b"] = inp["b"][..., 1:]
        with raises(ValueError, "b must have shape"):
            forward(cell, inp, backend)

    def test_h0_wrong_shape(self, backend, cell):
        inp = base(cell)
        inp["h0"] = np.zeros((2, 5))
        with raises(ValueError, "h0", "(3, 5)", "(2, 5)"):
            forward(cell, inp, backend)

    def test_weights_dtype_differs_from_x(self, backend, cell):
        inp = base(cell)
        inp["x"] = inp["x"].astype(np.float32)
        with raises(TypeError, "W", "float64", "x", "float32"):
            forward(cell, inp, backend)

    def test_state_dtype_differs_from_x(self, backend, cell):
        inp = base(cell)
        inp["h0"] = np.zeros((3, 5), np.float32)
        with raises(TypeError, "h0", "float32", "float64"):
            forward(cell, inp, backend)

    @pytest.mark.parametrize("dtype", [np.int64, np.int32, np.float16, np.complex128, bool])
    def test_non_float_x(self, backend, cell, dtype):
        inp = base(cell)
        inp["x"] = inp["x"].astype(dtype)
        with raises(TypeError, "x must be a float32 or float64 array"):
            forward(cell, inp, backend)

    def test_object_x(self, backend, cell):
        inp = base(cell)
        inp["x"] = "not an array"
        with pytest.raises(TypeError):
            forward(cell, inp, backend)

    @pytest.mark.parametrize("name", ["x", "W", "U", "b", "h0"])
    @pytest.mark.parametrize("bad", [np.nan, np.inf])
    def test_non_finite(self, backend, cell, name, bad):
        inp = base(cell)
        inp["h0"] = np.zeros((3, 5))
        inp[name] = inp[name].copy()
        inp[name].flat[1] = bad
        with raises(ValueError, name, "NaN or inf"):
            forward(cell, inp, backend)

    def test_unknown_activation(self, backend, cell):
        with raises(ValueError, "activation", "'tanh'", "'relu'", "'sigmoid'", "'linear'", "softsign"):
            forward(cell, base(cell), backend, activation="softsign")

    def test_backward_grad_wrong_shape(self, backend, cell):
        r = forward(cell, base(cell), backend)
        with raises(ValueError, "dh_seq", "(3, 4, 5)", "(3, 4, 4)"):
            backward(cell, r, dh_seq=np.zeros((3, 4, 4)))
        with raises(ValueError, "dh_last", "(3, 5)"):
            backward(cell, r, dh_last=np.zeros((5,)))

    def test_backward_grad_wrong_dtype(self, backend, cell):
        r = forward(cell, base(cell), backend)
        with raises(TypeError, "dh_seq", "float32"):
            backward(cell, r, dh_seq=np.zeros((3, 4, 5), np.float32))

    def test_backward_grad_non_finite(self, backend, cell):
        r = forward(cell, base(cell), backend)
        g = np.zeros((3, 4, 5))
        g[1, 2, 3] = np.nan
        with raises(ValueError, "dh_seq", "NaN"):
            backward(cell, r, dh_seq=g)

    def test_cache_of_another_cell(self, backend, cell):
        other = "lstm" if cell != "lstm" else "gru"
        r = forward(other, base(other), backend)
        with raises(ValueError, f"{other}_forward"):
            backward(cell, r)

    def test_not_a_cache(self, backend, cell):
        with raises(TypeError, "cache"):
            {"elman": ops.elman_backward, "lstm": ops.lstm_backward,
             "gru": ops.gru_backward}[cell]({"x": 1})


@pytest.mark.parametrize("backend", BACKENDS)
def test_recurrent_activation_other_than_sigmoid(backend):
    inp = base("lstm")
    with raises(ValueError, "recurrent_activation", "'sigmoid'", "hard_sigmoid"):
        forward("lstm", inp, backend, recurrent_activation="hard_sigmoid")


@pytest.mark.parametrize("backend", BACKENDS)
def test_gru_bias_shape_follows_reset_after(backend):
    inp = base("gru")  # b is (2, 3H), right for reset_after=True only
    with raises(ValueError, "b must have shape", "(15,)", "reset_after=False"):
        forward("gru", inp, backend, reset_after=False)


def test_unknown_backend_lists_valid_ones():
    with raises(ValueError, "backend", "'cpp'", "'numpy'", "'tpu'"):
        ops.elman_forward(*base("elman").values(), backend="tpu")


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("shape", [(0, 4, 2, 5), (3, 0, 2, 5), (0, 0, 2, 5)])
def test_empty_batch_or_sequence(backend, cell, shape):
    B, T, I, H = shape
    inp = make_inputs(cell, B, T, I, H, np.float64, seed=2)
    inp = {k: inp[k] for k in ("x", "W", "U", "b", "h0", "c0")}
    r = forward(cell, inp, backend)
    assert r.h_seq.shape == (B, T, H)
    assert r.h_last.shape == (B, H)
    if T == 0:  # no step taken: the last state is the initial one
        np.testing.assert_array_equal(r.h_last, inp["h0"])
    dh_last = np.ones((B, H))
    kw = dict(dh_last=dh_last, dc_last=dh_last) if cell == "lstm" else dict(dh_last=dh_last)
    g = backward(cell, r, **kw)
    assert g.dx.shape == (B, T, I)
    assert g.dW.shape == inp["W"].shape and g.dU.shape == inp["U"].shape
    assert g.db.shape == inp["b"].shape
    np.testing.assert_array_equal(g.dW, 0)
    np.testing.assert_array_equal(g.db, 0)
    if T == 0:
        np.testing.assert_array_equal(g.dh0, dh_last)


@pytest.mark.parametrize("cell", CELLS)
def test_core_rejects_damaged_cache(cell):
    """The compiled backward re-checks the saved arrays instead of reading out of bounds."""
    core = pytest.importorskip("fastrnn.backends._core")
    r = forward(cell, base(cell), "cpp")
    saved = list(r.cache.saved)
    saved[-1] = saved[-1][:, :2]  # a truncated saved array
    args = {"elman": ("tanh",), "lstm": (None, "tanh"), "gru": (True, "tanh")}[cell]
    fn = getattr(core, f"{cell}_backward")
    with pytest.raises(ValueError, match="cache"):
        fn(tuple(saved), None, None, *args)
    with pytest.raises(ValueError, match="cache"):
        fn(tuple(saved[:-1]), None, None, *args)


@pytest.mark.parametrize("backend", BACKENDS)
def test_lists_are_accepted_as_float64(backend):
    inp = base("elman")
    r1 = forward("elman", {k: v.tolist() for k, v in inp.items()}, backend)
    r2 = forward("elman", inp, backend)
    assert r1.h_seq.dtype == np.float64
    np.testing.assert_array_equal(r1.h_seq, r2.h_seq)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_concurrent_calls_equal_serial_calls(backend, cell):
    inputs = [make_inputs(cell, 16, 30, 3, 20, np.float32, seed=s) for s in range(6)]

    def job(inp):
        r = forward(cell, {k: inp[k] for k in ("x", "W", "U", "b", "h0")}, backend)
        g = backward(cell, r, dh_seq=inp["dh_seq"])
        return [r.h_seq, g.dx, g.dW, g.dU, g.db, g.dh0]

    serial = [job(inp) for inp in inputs]
    with ThreadPoolExecutor(4) as pool:
        concurrent = list(pool.map(job, inputs * 3))
    for i, got in enumerate(concurrent):
        for a, b in zip(got, serial[i % len(inputs)]):
            np.testing.assert_array_equal(a, b)


def test_cpp_releases_the_gil():
    """While one thread is inside a long kernel call, Python code in another thread runs."""
    pytest.importorskip("fastrnn.backends._core")
    inp = make_inputs("lstm", 256, 200, 8, 64, np.float32, seed=0)
    args = [inp[k] for k in ("x", "W", "U", "b")]
    t0 = time.perf_counter()
    ops.lstm_forward(*args, backend="cpp")
    one_call = time.perf_counter() - t0
    done = threading.Event()

    def work():
        for _ in range(3):
            ops.lstm_forward(*args, backend="cpp")
        done.set()

    ticks = 0
    th = threading.Thread(target=work)
    th.start()
    while not done.is_set():
        ticks += 1
        time.sleep(0)  # yield; only runs if the kernel thread does not hold the GIL
    th.join()
    # With the GIL held through ~3 kernel calls, the loop could only tick at call boundaries.
    assert one_call > 0.005, "kernel too fast to tell"
    assert ticks > 100, f"main thread ticked only {ticks} times during {3 * one_call:.3f}s of kernels"


def test_omp_num_threads_is_honoured():
    pytest.importorskip("fastrnn.backends._core")
    code = "import fastrnn.backends._core as c; print(c.max_threads())"
    for n in ("1", "3"):
        out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                             env={**{k: v for k, v in __import__("os").environ.items()
                                     if k != "FASTRNN_NUM_THREADS"}, "OMP_NUM_THREADS": n},
                             check=True)
        assert out.stdout.strip() == n
