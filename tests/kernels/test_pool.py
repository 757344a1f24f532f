"""The buffer pool of the pure-Python backends (fastrnn/backends/_pool.py)."""

import gc
import threading

import numpy as np
import pytest

from fastrnn.backends import _pool

BIG = (256, 1024)  # 1 MiB of float32: the smallest pooled size


@pytest.fixture(autouse=True)
def _empty_pool():
    gc.collect()
    with _pool._lock:
        _pool._returned.clear()
        _pool._idle.clear()
        _pool._idle_bytes = 0
    yield


def test_small_arrays_are_plain_numpy():
    a = _pool.empty((10, 10), np.float32)
    assert a.base is None and a.shape == (10, 10) and a.dtype == np.float32
    del a
    assert _pool.idle_bytes() == 0


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_big_array_is_writable_c_contiguous_and_returns_to_the_pool(dtype):
    a = _pool.empty(BIG, dtype)
    assert a.shape == BIG and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    a[...] = 7
    nbytes = a.nbytes
    del a
    assert _pool.idle_bytes() == nbytes


def test_a_view_keeps_the_buffer_out_of_the_pool():
    a = _pool.empty(BIG, np.float32)
    view = a[3:5]
    ptr = a.ctypes.data
    del a
    assert _pool.idle_bytes() == 0  # the view still uses it
    b = _pool.empty(BIG, np.float32)
    assert b.ctypes.data != ptr  # not handed out twice
    view[...] = 1
    b[...] = 2
    assert (view == 1).all()
    del view
    assert _pool.idle_bytes() == b.nbytes


def test_a_freed_buffer_is_reused_for_the_same_size_only():
    a = _pool.empty(BIG, np.float32)
    ptr = a.ctypes.data
    del a
    c = _pool.empty((2 * BIG[0], BIG[1]), np.float32)  # another size: a new buffer
    assert c.ctypes.data != ptr
    b = _pool.empty(BIG, np.float32)
    assert b.ctypes.data == ptr and _pool.idle_bytes() == 0


def test_the_pool_holds_at_most_pool_bytes(monkeypatch):
    monkeypatch.setattr(_pool, "POOL_BYTES", 3 << 20)
    arrays = [_pool.empty(BIG, np.float32) for _ in range(5)]
    del arrays
    assert _pool.idle_bytes() == 3 << 20


def test_a_buffer_freed_by_the_cyclic_gc_inside_take_is_not_lost_or_shared():
    class Cycle:
        pass

    c = Cycle()
    c.self, c.array = c, _pool.empty(BIG, np.float32)  # freed only by the cyclic collector
    ptr = c.array.ctypes.data
    del c
    gc.collect()  # __del__ runs here: it only queues the buffer
    a = _pool.empty(BIG, np.float32)
    assert a.ctypes.data == ptr
    b = _pool.empty(BIG, np.float32)
    assert b.ctypes.data != ptr


def test_threads_never_share_a_buffer():
    errors = []

    def work(k):
        for _ in range(200):
            a = _pool.empty(BIG, np.float32)
            a.fill(k)
            if not (a == k).all():
                errors.append(k)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors


def test_numba_results_stay_intact_while_later_calls_reuse_memory():
    pytest.importorskip("numba")
    from fastrnn import ops
    rng = np.random.default_rng(0)
    B, T, I, H = 64, 64, 2, 64  # h_seq: 1 MiB, gates 4 MiB: pooled
    W = rng.standard_normal((I, 4 * H)).astype(np.float32) * 0.3
    U = rng.standard_normal((H, 4 * H)).astype(np.float32) * 0.1
    b = np.zeros(4 * H, np.float32)
    x1, x2 = (rng.standard_normal((B, T, I)).astype(np.float32) for _ in range(2))
    r1 = ops.lstm_forward(x1, W, U, b, backend="numba")
    h1 = r1.h_seq.copy()
    g1 = ops.lstm_backward(r1.cache, dh_seq=np.ones_like(h1))
    dx1 = g1.dx.copy()
    for _ in range(3):  # later calls recycle whatever was freed meanwhile
        r2 = ops.lstm_forward(x2, W, U, b, backend="numba")
        ops.lstm_backward(r2.cache, dh_seq=np.ones_like(h1))
        del r2
    np.testing.assert_array_equal(r1.h_seq, h1)
    np.testing.assert_array_equal(g1.dx, dx1)
    again = ops.lstm_backward(r1.cache, dh_seq=np.ones_like(h1))
    np.testing.assert_array_equal(again.dx, dx1)
