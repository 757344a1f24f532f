"""The thread setting (fastrnn.set_num_threads and the environment) and the core's thread pool:
results independent of which thread runs a slice, concurrent callers, forked children."""

import multiprocessing
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

import fastrnn
from fastrnn import ops
from fastrnn.backends import _threading

core = pytest.importorskip("fastrnn.backends._core")

B, T, I, H = 64, 20, 3, 24  # ~1.6 MFLOP of recurrent work: above the one-thread threshold


@pytest.fixture(autouse=True)
def _restore_setting():
    yield
    fastrnn.set_num_threads(None)


def _problem(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I))
    W = rng.standard_normal((I, 4 * H)) * 0.3
    U = rng.standard_normal((H, 4 * H)) * 0.3
    b = rng.standard_normal(4 * H) * 0.1
    dh = rng.standard_normal((B, T, H))
    return x, W, U, b, dh


def _lstm(x, W, U, b, dh):
    r = ops.lstm_forward(x, W, U, b, backend="cpp")
    g = ops.lstm_backward(r.cache, dh_seq=dh)
    return r.h_seq, g.dx, g.dW, g.dU, g.db


@pytest.mark.parametrize("bad", [0, -1, 2.5, True, "2"])
def test_set_num_threads_rejects(bad):
    with pytest.raises((TypeError, ValueError), match="threads must be"):
        fastrnn.set_num_threads(bad)


def test_set_num_threads_reaches_the_core():
    fastrnn.set_num_threads(3)
    assert fastrnn.get_num_threads() == 3 and core.max_threads() == 3
    fastrnn.set_num_threads(1)
    assert core.max_threads() == 1


def test_binding_rejects_nonpositive():
    with pytest.raises(ValueError, match="threads must be a positive integer"):
        core.set_max_threads(0)


@pytest.mark.parametrize("threads", [1, 2, 3, 8])
def test_forward_is_the_same_on_any_thread_count(threads):
    problem = _problem()
    fastrnn.set_num_threads(1)
    want = _lstm(*problem)
    fastrnn.set_num_threads(threads)
    got = _lstm(*problem)
    np.testing.assert_array_equal(got[0], want[0])  # rows are independent: bit for bit
    np.testing.assert_array_equal(got[1], want[1])
    for g, w in zip(got[2:], want[2:]):  # weight gradients: summed per slice, in slice order
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-12)


def test_concurrent_callers_get_the_serial_answer():
    """Python threads calling at once (the GIL is released): one gets the pool, the others run
    their slices themselves; every answer equals the one-caller answer bit for bit."""
    fastrnn.set_num_threads(2)
    problems = [_problem(seed) for seed in range(4)]
    want = [_lstm(*p) for p in problems]
    errors = []

    def work(k):
        for _ in range(10):
            got = _lstm(*problems[k])
            if not all(np.array_equal(a, b) for a, b in zip(got, want[k])):
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors


def _child_result(queue):
    queue.put(_lstm(*_problem())[2].sum())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_runs_parallel_calls():
    """A child forked after the parent's pool started has no workers; it must make new ones
    (a pool that waited for the parent's threads would hang here)."""
    fastrnn.set_num_threads(2)
    want = _lstm(*_problem())[2].sum()
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    child = ctx.Process(target=_child_result, args=(queue,))
    child.start()
    got = queue.get(timeout=60)
    child.join(timeout=60)
    assert child.exitcode == 0
    assert np.isclose(got, want, rtol=1e-12)


def _worker_threads(queue):
    queue.put(_threading.get_num_threads())


def test_one_thread_inside_a_worker_process():
    env = {k: v for k, v in os.environ.items() if k not in _threading.ENVIRONMENT}
    code = ("import multiprocessing as mp\n"
            "from tests.kernels.test_threads import _worker_threads\n"
            "if __name__ == '__main__':\n"
            "    q = mp.get_context('spawn').Queue()\n"
            "    p = mp.get_context('spawn').Process(target=_worker_threads, args=(q,))\n"
            "    p.start(); print(q.get(timeout=60)); p.join()\n"
            "    from fastrnn.backends import _threading as t; print(t.get_num_threads())\n")
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=root,
                         env={**env, "PYTHONPATH": os.pathsep.join(sys.path)}, timeout=120,
                         check=False)
    assert out.returncode == 0, out.stderr
    inside, outside = out.stdout.split()
    assert inside == "1"
    assert outside == str(_threading.cpu_count())


@pytest.mark.parametrize("name", _threading.ENVIRONMENT)
def test_environment_is_honoured(name):
    env = {k: v for k, v in os.environ.items() if k not in _threading.ENVIRONMENT}
    env[name] = "3"
    code = ("import fastrnn, fastrnn.backends._core as c\n"
            "print(fastrnn.get_num_threads(), c.max_threads())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         check=True, timeout=60)
    assert out.stdout.split() == ["3", "3"]
