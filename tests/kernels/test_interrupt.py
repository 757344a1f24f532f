"""Ctrl-C during native work: a long kernel call (cpp or numba, forward or backward) and a fused
training epoch react to SIGINT within about a second with KeyboardInterrupt, and the epoch
leaves the weights of its last completed update.

Each case runs in a child process that sizes one call to take several seconds (from a timed
short call), says when it starts, and reports when the KeyboardInterrupt arrived; the parent
sends SIGINT shortly after the start. Without the interruption points the exception would only
come when the call returns, seconds later.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from fastrnn import backends

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="SIGINT via os.kill is POSIX")

CALL_SECONDS = 6.0   # what the child sizes its one long call to
SIGNAL_AFTER = 0.7   # seconds after the call starts
MAX_DELAY = 1.0      # "within about a second"

KERNEL_CHILD = r"""
import json, sys, time
import numpy as np
from fastrnn import ops
backend, direction = sys.argv[1], sys.argv[2]
H, I = 512, 1
rng = np.random.default_rng(0)
W = (rng.standard_normal((I, H)) * 0.1).astype(np.float32)
U = (rng.standard_normal((H, H)) * 0.03).astype(np.float32)
b = np.zeros(H, np.float32)

def call(T):
    x = rng.standard_normal((1, T, I)).astype(np.float32)
    if direction == "forward":
        return lambda: ops.elman_forward(x, W, U, b, backend=backend)
    r = ops.elman_forward(x, W, U, b, backend=backend)
    dh = np.ones((1, H), np.float32)
    return lambda: ops.elman_backward(r.cache, dh_last=dh)

call(50)()  # compiles (numba) and warms up
T0 = 2000
run = call(T0)
t = time.perf_counter(); run(); per_step = (time.perf_counter() - t) / T0
T = int(min(2_000_000, max(T0, {seconds} / per_step)))
run = call(T)
print(json.dumps({{"start": time.perf_counter(), "expected": per_step * T}}), flush=True)
t0 = time.perf_counter()
try:
    run()
    print(json.dumps({{"finished": time.perf_counter()}}), flush=True)
except KeyboardInterrupt:
    print(json.dumps({{"interrupted": time.perf_counter(), "after": time.perf_counter() - t0}}),
          flush=True)
"""

TRAINER_CHILD = r"""
import json, sys, time
import numpy as np
from fastrnn.backends import _core as core
T, I, H, bs = 50, 4, 64, 32
G = 4 * H
nW, nU, nb = I * G, H * G, G
P = nW + nU + nb + H + 1
spec = dict(kind="lstm", steps=T, units=H, w=0, u=nW, b=nW + nU, **{{"in": I}})
dense = dict(kind="dense", steps=1, units=1, w=nW + nU + nb, b=nW + nU + nb + H, **{{"in": H}})

def trainer():
    return core.Trainer("float64", [spec, dense], [(0, P, 0.0, 0.0)], P, "mean_squared_error",
                        False, bs)

rng = np.random.default_rng(0)
params0 = rng.standard_normal(P) * 0.1
adam = {{"kind": "adam", "learning_rate": 1e-3}}

def epoch(tr, n, params, slots):
    x = rng_x[:n]
    return tr.epoch(params, slots, x, y[:n], None, None, adam, 0, bs, None)

n0 = 8 * bs
rng_x = rng.standard_normal((n0, T, I))
y = rng.standard_normal((n0, 1))
p, s = params0.copy(), [np.zeros(P), np.zeros(P)]
t = time.perf_counter(); epoch(trainer(), n0, p, s); per_batch = (time.perf_counter() - t) / 8
n = bs * int(max(8, {seconds} / per_batch))
rng_x = rng.standard_normal((n, T, I))
y = rng.standard_normal((n, 1))
params, slots = params0.copy(), [np.zeros(P), np.zeros(P)]
tr = trainer()
print(json.dumps({{"start": time.perf_counter(), "expected": per_batch * n / bs}}), flush=True)
t0 = time.perf_counter()
try:
    epoch(tr, n, params, slots)
    print(json.dumps({{"finished": time.perf_counter()}}), flush=True)
except KeyboardInterrupt as exc:
    at, after = time.perf_counter(), time.perf_counter() - t0
    done = getattr(exc, "fastrnn_epoch", {{"batches": 0, "iterations": -1}})
    # the weights are those of the completed batches: replaying them gives the same bits
    p2, s2 = params0.copy(), [np.zeros(P), np.zeros(P)]
    replay = epoch(trainer(), done["batches"] * bs, p2, s2) if done["batches"] else {{}}
    print(json.dumps({{"interrupted": at, "after": after, "batches": done["batches"],
                      "iterations": done["iterations"], "replayed": replay.get("batches", 0),
                      "finite": bool(np.isfinite(params).all()),
                      "same_params": bool(np.array_equal(params, p2)),
                      "same_slots": all(np.array_equal(a, b) for a, b in zip(slots, s2))}}),
          flush=True)
"""


def _interrupt(code, *args):
    """Runs the child, sends SIGINT SIGNAL_AFTER seconds after it starts its long call; returns
    (what the child reported at the end, the delay from the signal to its KeyboardInterrupt)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)}
    child = subprocess.Popen([sys.executable, "-c", code, *args], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = child.stdout.readline()  # first use may compile numba kernels: no time limit
        if not line:
            pytest.fail(f"the child failed before its call: {child.stderr.read()}")
        started = json.loads(line)
        time.sleep(max(0.0, started["start"] + SIGNAL_AFTER - time.perf_counter()))
        sent = time.perf_counter()
        os.kill(child.pid, signal.SIGINT)
        out, err = child.communicate(timeout=120)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == 0, err
    report = json.loads(out.strip().splitlines()[-1])
    assert "interrupted" in report, (
        f"the call ran to its end ({started['expected']:.1f} s) before KeyboardInterrupt")
    assert started["expected"] > 2 * SIGNAL_AFTER + MAX_DELAY, started  # the test can tell
    return report, report["interrupted"] - sent


@pytest.mark.parametrize("direction", ["forward", "backward"])
@pytest.mark.parametrize("backend", ["cpp", "numba"])
def test_ctrl_c_stops_a_long_kernel_call(backend, direction):
    if backend not in backends.available():
        pytest.skip(f"backend {backend!r} is not available here")
    report, delay = _interrupt(KERNEL_CHILD.format(seconds=CALL_SECONDS), backend, direction)
    assert delay < MAX_DELAY, f"KeyboardInterrupt {delay:.2f} s after SIGINT"


def test_ctrl_c_stops_a_fused_epoch_at_a_batch_boundary():
    pytest.importorskip("fastrnn.backends._core")
    report, delay = _interrupt(TRAINER_CHILD.format(seconds=CALL_SECONDS))
    assert delay < MAX_DELAY, f"KeyboardInterrupt {delay:.2f} s after SIGINT"
    assert report["finite"]
    assert report["batches"] > 0 and report["iterations"] == report["batches"]
    assert report["replayed"] == report["batches"]
    assert report["same_params"] and report["same_slots"], report


def test_an_uninterrupted_call_is_unchanged():
    """The interruption points cost nothing visible: a call with Ctrl-C armed (the main
    thread) and one without (another thread) give the same bits."""
    import threading

    from conftest import make_inputs
    from fastrnn import ops
    for backend in [b for b in ("cpp", "numba") if b in backends.available()]:
        inp = make_inputs("gru", 8, 40, 3, 16, np.float32, seed=3)
        args = [inp[k] for k in ("x", "W", "U", "b")]
        main = ops.gru_forward(*args, backend=backend)
        out = {}
        th = threading.Thread(target=lambda: out.setdefault(
            "r", ops.gru_forward(*args, backend=backend)))
        th.start()
        th.join()
        np.testing.assert_array_equal(main.h_seq, out["r"].h_seq)
