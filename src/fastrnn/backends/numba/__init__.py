"""The Numba backend: the fallback that still runs fast where fastrnn.backends._core is missing.

Same six functions and signatures as the compiled core (see ``fastrnn/backends/numpy.py`` for
the protocol) and the same algorithm; the kernels are in ``kernels.py``, parallel over the
batch with ``prange``, built from the gate functions and matrix product of ``blocks.py``. This
module validates (``fastrnn._params``: the same messages as the C++ binding), allocates the outputs
and scratch buffers (those of 1 MiB or more from reused memory, ``_pool.py``), and adds up the
per-thread weight-gradient sums. The backward functions re-check the shapes and dtypes of the
saved arrays, so a damaged cache raises a ValueError instead of reading out of bounds.

Compile cost: each kernel is compiled on its first call for the dtype used (float32 and float64
separately) and cached on disk (``cache=True``: in ``__pycache__`` beside the module or, where
that is read-only, numba's user cache directory; ``NUMBA_CACHE_DIR`` overrides), so only the
first call on a machine pays it.

Threads: fastrnn's one setting (``fastrnn.set_num_threads``, ``FASTRNN_NUM_THREADS``,
``OMP_NUM_THREADS``, one inside worker processes: ``backends/_threading.py``), capped at numba's
pool size (``NUMBA_NUM_THREADS``, fixed when numba starts); calls with less than about 0.2 MFLOP
of recurrent work run on one thread, as the C++ core does.

Ctrl-C: a long call runs as several kernel calls, each a fraction of a second (``_parts``: the
kernels take a range of samples and of steps), and Python raises the KeyboardInterrupt between
two of them; the incomplete outputs are dropped.

Inputs are normalised before the kernels see them (C-contiguous, writeable, aligned, native byte
order), since numba compiles a new specialisation, ~20-60 s, for every other layout or flag: a
read-only view of a writeable array (the h_seq of a forward call, passed on to the next layer)
is replaced by that array, anything else is copied. The h_seq a forward call returns is a
read-only view of the one its cache holds.

Masks (Keras's step mask, ``mask=`` of the forward functions: ``fastrnn._params.step_mask``)
go to the kernels as a (B, T) uint8 array (a (1, 1) dummy without one, so each kernel keeps one
specialisation per dtype); a masked call's cache holds the mask as one extra, last entry.
"""

from __future__ import annotations

import math
import os
import threading

import numpy as np

from fastrnn import cells as _cells
from fastrnn import _params as v
from fastrnn.backends import _inputs, _pool, _threading

# numba's OpenMP threading layer (GNU libgomp) lets idle threads spin for about 300,000
# iterations after every parallel launch, which starves a neighbour on shared cores: two
# processes' GRU train-small calls took 2.8x their time alone, 1.6-2.2x with a bounded spin and
# no loss alone (bench/NOTES.md, "shared cores"). libgomp reads this when numba first loads it;
# a value the user set wins.
if "OMP_WAIT_POLICY" not in os.environ:
    os.environ.setdefault("GOMP_SPINCOUNT", "10000")

try:
    import numba
    from fastrnn.backends.numba import kernels as _k
    _IMPORT_ERROR = None
    # numba re-reads its pool size at every compilation and raises when it differs from the
    # size it launched with; unset, that size follows the process's CPU affinity, which a host
    # program may change in between (seen once in the full test suite: launched with 1, later
    # read as 2). Fixing the size read at import keeps later compilations working.
    os.environ.setdefault("NUMBA_NUM_THREADS", str(numba.config.NUMBA_NUM_THREADS))
except ImportError as exc:  # numba is an optional extra: pip install 'fastrnn[numba]'
    numba = None
    _k = None
    _IMPORT_ERROR = exc

# The kernels' activation codes (csrc's Activation enum; kernels.py specialises on 0, tanh).
_ACT_CODES = {"tanh": 0, "relu": 1, "sigmoid": 2, "linear": 3}
assert tuple(_ACT_CODES) == _cells.ACTIVATIONS
_ROWS_PER_BLOCK = 16


CAPABILITIES = {"fused_training": False, "device": "cpu", "masks": True}


def is_built():
    return numba is not None


def is_available():
    return numba is not None


def why_unavailable():
    if numba is None:
        return f"numba is not importable ({_IMPORT_ERROR}); pip install 'fastrnn[numba]'"
    return ""


def threads():
    """The threads a large call uses: fastrnn's setting, capped at numba's pool size."""
    return _threading.numba_threads(numba.config.NUMBA_NUM_THREADS) if numba is not None else 0


# ----------------------------------------------------------------------------------------------
# helpers
# ----------------------------------------------------------------------------------------------

# numba's "workqueue" threading layer (used when neither OpenMP nor TBB can be loaded) aborts the
# process when two threads launch parallel kernels at once; calls are serialised there.
_launch_lock = threading.Lock()
_layer_is_threadsafe = None
_SERIAL_FLOPS = 2e5  # below this a call runs on one thread (as the C++ core's plan_threads)
# A part of a call should take at most ~0.25 s (Ctrl-C is acted on between parts), estimated
# pessimistically: 250 ns per (sample, step) and 2 GFLOP/s per thread (the kernels measured at
# 0.1-30 GFLOP/s, 200-300 ns per step at the smallest sizes).
_PART_NS = 2.5e8
_NS_PER_STEP = 250.0
_FLOPS_PER_NS = 2.0


def _launch(kernel, flops, parts, *args):
    """kernel(*args, b_lo, b_hi, t0, t1) for each part of `parts` (``_parts``), on one thread
    when the whole call is too small to repay waking the pool. Python acts on Ctrl-C between
    two parts."""
    global _layer_is_threadsafe
    pool = numba.get_num_threads()
    want = _threads_for(flops)
    if want != pool:
        numba.set_num_threads(want)  # per calling thread; restored below
    try:
        for part in parts:
            if _layer_is_threadsafe:
                kernel(*args, *part)
                continue
            with _launch_lock:
                kernel(*args, *part)
                if _layer_is_threadsafe is None:
                    _layer_is_threadsafe = numba.threading_layer() != "workqueue"
    finally:
        if want != pool:
            numba.set_num_threads(pool)


def _threads_for(flops):
    """One thread for a call too small to repay waking the pool, else fastrnn's setting."""
    return 1 if flops < _SERIAL_FLOPS else threads()


def _parts(B, T, step_flops, slots, backward=False):
    """The (b_lo, b_hi, t0, t1) parts (samples, steps) of a call of B sequences of T steps with
    `step_flops` of work per sample and step, on `slots` threads: the whole call unless it is
    estimated to take more than _PART_NS, then parts of whole sequences (the kernels' shape, as
    efficient as one call) as long as each still gives every thread a block of 16 rows, else
    parts of at least 64 steps (in decreasing order for a backward pass). None when B or T is 0.
    The split depends on the sizes only, so results are reproducible."""
    if B == 0 or T == 0:
        return []
    ns = B * T * (_NS_PER_STEP + step_flops / _FLOPS_PER_NS) / slots
    n = math.ceil(ns / _PART_NS)
    if n <= 1:
        return [(0, B, 0, T)]
    if B // n >= 16 * slots or T <= 64:
        size = -(-B // n)
        return [(b, min(B, b + size), 0, T) for b in range(0, B, size)]
    steps = max(64, -(-T // n))
    parts = [(0, B, t, min(T, t + steps)) for t in range(0, T, steps)]
    return parts[::-1] if backward else parts


def _kernel_array(a):
    """`a` as the kernels are compiled for it: writeable and aligned (a is C-contiguous already).
    A read-only view that covers a whole writeable array (a forward result) gives that array
    (the kernels only read an input); anything else not writeable or aligned is copied."""
    if a.flags.behaved:
        return a
    base = a.base
    if (isinstance(base, np.ndarray) and base.flags.behaved and a.flags.aligned
            and base.dtype == a.dtype and base.shape == a.shape and base.strides == a.strides
            and base.ctypes.data == a.ctypes.data):
        return base
    return np.array(a, order="C")


def _kernel_arrays(*arrays):
    return tuple(None if a is None else _kernel_array(a) for a in arrays)


def _flops(B, T, H, gates):
    """Work of a kernel call: the recurrent product, 2 B T H (gates H) flops."""
    return 2.0 * B * T * H * gates * H


def _step_flops(I, H, gates):
    """Work of a forward step of one sample, the input projection included."""
    return 2.0 * gates * H * (I + H)


def _act_code(name):
    v.activation(name)
    return _ACT_CODES[name]


def _plan(B, flops):
    """(slots, rows per block): one batch slice per thread (one thread for a small call), and
    blocks of up to 16 rows that run through the time loop together (the product's register
    tiles take 4 rows at a time and set up once per block: bench/NOTES.md section 10)."""
    slots = max(1, min(_threads_for(flops), B))
    return slots, _ROWS_PER_BLOCK


def _state(s, B, H, dtype):
    return np.zeros((B, H), dtype) if s is None else s


def _last(seq, init, B, H, dtype):
    if seq.shape[1] > 0:
        return seq[:, -1].copy()
    return np.zeros((B, H), dtype) if init is None else init.copy()


_NO_MASK = np.zeros((1, 1), np.uint8)


def _mask_arg(mask, B, T):
    """(mk, has_mask) for the kernels from a forward call's `mask` (None: the dummy)."""
    m = v.step_mask(mask, B, T)
    return (_NO_MASK, False) if m is None else (m.view(np.uint8), True)


def _with_mask(saved, mk, has_mask):
    return saved + (mk,) if has_mask else saved


def _saved_mask(saved, n, B, T, cell):
    """(mk, has_mask) from a cache of n arrays (n + 1: the last is the mask)."""
    if len(saved) == n:
        return _NO_MASK, False
    mk = saved[n]
    if not (isinstance(mk, np.ndarray) and mk.dtype == np.uint8 and mk.shape == (B, T)
            and mk.flags.c_contiguous and mk.flags.behaved):
        what = f"{type(mk).__name__} {getattr(mk, 'dtype', '')} {getattr(mk, 'shape', '')}"
        raise ValueError(f"cache mask of {cell}_forward is damaged: expected a C-contiguous uint8 "
                         f"array of shape {(B, T)}, got {what}; pass the cache of a forward call "
                         "unchanged")
    return mk, True


def _dhs_arg(dh_seq, dtype):
    """(array, flag) for the kernels: a (1, 1, 1) dummy when dh_seq is None."""
    if dh_seq is None:
        return np.zeros((1, 1, 1), dtype), False
    return _kernel_array(dh_seq), True


def _carry(a, B, H, dtype):
    """A writable (B, H) buffer holding a (or zeros): the kernels carry a gradient in it."""
    return np.zeros((B, H), dtype) if a is None else np.array(a, dtype=dtype, order="C")


def _transposed(U):
    """U^T (G, H), C-contiguous: the backward kernels reduce dh = dZ U^T along its rows."""
    return np.ascontiguousarray(U.T)


def _total(slots):
    """The sum of the per-slot weight-gradient sums."""
    return slots[0].copy() if slots.shape[0] == 1 else slots.sum(axis=0)


def _check_saved(saved, n, cell, specs):
    """Re-checks a cache: n arrays; specs[i] is (name, shape, may_be_none)."""
    if not isinstance(saved, tuple) or len(saved) != n:
        got = len(saved) if isinstance(saved, tuple) else type(saved).__name__
        raise ValueError(f"cache does not come from {cell}_forward of the numba backend: "
                         f"expected {n} saved arrays, got {got}")
    dtype = saved[0].dtype if isinstance(saved[0], np.ndarray) else None
    for arr, (name, shape, may_be_none) in zip(saved, specs):
        if arr is None and may_be_none:
            continue
        if (not isinstance(arr, np.ndarray) or arr.dtype != dtype or arr.shape != shape
                or not (arr.flags.c_contiguous and arr.flags.behaved)
                or dtype not in (np.float32, np.float64)):
            what = "None" if arr is None else (
                f"{type(arr).__name__} {getattr(arr, 'dtype', '')} {getattr(arr, 'shape', '')}")
            raise ValueError(f"cache {name} is damaged: expected a C-contiguous {dtype} array of "
                             f"shape {shape}, got {what}; pass the cache of a forward call "
                             "unchanged")


def _unpack(saved, n, info, extra):
    """Checks the cache of the cell `info` (a fastrnn.cells row): n arrays, n + 1 with a mask;
    returns (B, T, I, H, mk, has_mask)."""
    cell, gates = info.name, info.gates
    if not isinstance(saved, tuple) or len(saved) not in (n, n + 1):
        _check_saved(saved, n, cell, [])
    x, W, U = saved[0], saved[1], saved[2]
    if not (all(isinstance(a, np.ndarray) for a in (x, W, U)) and x.ndim == 3 and U.ndim == 2):
        raise ValueError(f"cache of {cell}_forward is damaged: x, W, U are not (B, T, I), "
                         "(I, G), (H, G) arrays; pass the cache of a forward call unchanged")
    B, T, I = x.shape
    H = U.shape[0]
    G = gates * H
    shapes = {"BH": (B, H), "BTH": (B, T, H), "BTG": (B, T, G)}
    specs = [("x", (B, T, I), False), ("W", (I, G), False), ("U", (H, G), False)]
    specs += [(name, shapes[kind], opt) for name, kind, opt in extra]
    _check_saved(saved[:n], n, cell, specs)
    return (B, T, I, H, *_saved_mask(saved, n, B, T, cell))


# ----------------------------------------------------------------------------------------------
# Elman
# ----------------------------------------------------------------------------------------------

def elman_forward(x, W, U, b, h0, activation, mask=None):
    act = _act_code(activation)
    x, W, U, b, h0 = map(_inputs.native, (x, W, U, b, h0))
    x, W, U, b, B, T, I, H = v.forward_inputs(x, W, U, b, 1)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    mk, has_mask = _mask_arg(mask, B, T)
    x, W, U, b, h0 = _kernel_arrays(x, W, U, b, h0)
    f = _flops(B, T, H, 1)
    hs = _pool.empty((B, T, H), x.dtype)
    S, rb = _plan(B, f)
    _launch(_k.elman_forward, f, _parts(B, T, _step_flops(I, H, 1), S), x, W, b, U,
            _state(h0, B, H, x.dtype), hs, mk, has_mask, act, S, rb)
    return (_inputs.read_only(hs), _last(hs, h0, B, H, x.dtype),
            _with_mask((x, W, U, h0, hs), mk, has_mask))


def elman_backward(saved, dh_seq, dh_last, activation):
    act = _act_code(activation)
    B, T, I, H, mk, has_mask = _unpack(saved, 5, _cells.ELMAN,
                                       [("h0", "BH", True), ("h_seq", "BTH", False)])
    x, W, U, h0, hs = saved[:5]
    dh_seq, dh_last = v.backward_grads(_inputs.native(dh_seq), _inputs.native(dh_last), x, H)
    dhs, has_dhs = _dhs_arg(dh_seq, x.dtype)
    f = _flops(B, T, H, 1)
    S, rb = _plan(B, f)
    dt = x.dtype
    dh = _carry(dh_last, B, H, dt)
    dx = _pool.empty((B, T, I), dt)
    dWs, dUs, dbs = np.zeros((S, I, H), dt), np.zeros((S, H, H), dt), np.zeros((S, H), dt)
    _launch(_k.elman_backward, f, _parts(B, T, 2 * _step_flops(I, H, 1), S, True), x, W,
            _transposed(U), _state(h0, B, H, dt), hs, dhs, has_dhs, _pool.empty((B, T, H), dt),
            dx, dh, dWs, dUs, dbs, mk, has_mask, act, S, rb)
    return dx, _total(dWs), _total(dUs), _total(dbs), dh


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

def lstm_forward(x, W, U, b, h0, c0, activation, recurrent_activation, mask=None):
    act = _act_code(activation)
    v.recurrent_activation(recurrent_activation)
    x, W, U, b, h0, c0 = map(_inputs.native, (x, W, U, b, h0, c0))
    x, W, U, b, B, T, I, H = v.forward_inputs(x, W, U, b, 4)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    c0 = v.optional(c0, "c0", x.dtype, (B, H), "(B, H)")
    mk, has_mask = _mask_arg(mask, B, T)
    x, W, U, b, h0, c0 = _kernel_arrays(x, W, U, b, h0, c0)
    f = _flops(B, T, H, 4)
    dt = x.dtype
    hs, cs = _pool.empty((B, T, H), dt), _pool.empty((B, T, H), dt)
    Z = _pool.empty((B, T, 4 * H), dt)
    S, rb = _plan(B, f)
    _launch(_k.lstm_forward, f, _parts(B, T, _step_flops(I, H, 4), S), x, W, b, U,
            _state(h0, B, H, dt), _state(c0, B, H, dt), hs, cs, Z, mk, has_mask, act, S, rb)
    return (_inputs.read_only(hs), _last(hs, h0, B, H, dt), _last(cs, c0, B, H, dt),
            _with_mask((x, W, U, h0, c0, hs, cs, Z), mk, has_mask))


def lstm_backward(saved, dh_seq, dh_last, dc_last, activation):
    act = _act_code(activation)
    B, T, I, H, mk, has_mask = _unpack(saved, 8, _cells.LSTM,
                                       [("h0", "BH", True), ("c0", "BH", True),
                                        ("h_seq", "BTH", False), ("c_seq", "BTH", False),
                                        ("gates", "BTG", False)])
    x, W, U, h0, c0, hs, cs, Z = saved[:8]
    dh_seq, dh_last, dc_last = v.backward_grads(_inputs.native(dh_seq), _inputs.native(dh_last),
                                                x, H, _inputs.native(dc_last), lstm=True)
    dhs, has_dhs = _dhs_arg(dh_seq, x.dtype)
    f = _flops(B, T, H, 4)
    S, rb = _plan(B, f)
    dt, G = x.dtype, 4 * H
    dh, dc = _carry(dh_last, B, H, dt), _carry(dc_last, B, H, dt)
    dx = _pool.empty((B, T, I), dt)
    dWs, dUs, dbs = np.zeros((S, I, G), dt), np.zeros((S, H, G), dt), np.zeros((S, G), dt)
    _launch(_k.lstm_backward, f, _parts(B, T, 2 * _step_flops(I, H, 4), S, True), x, W,
            _transposed(U), _state(h0, B, H, dt), _state(c0, B, H, dt), hs, cs, Z, dhs, has_dhs,
            _pool.empty((B, T, G), dt), dx, dh, dc, dWs, dUs, dbs, mk, has_mask, act, S, rb)
    return dx, _total(dWs), _total(dUs), _total(dbs), dh, dc


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

def gru_forward(x, W, U, b, h0, reset_after, activation, recurrent_activation, mask=None):
    act = _act_code(activation)
    v.recurrent_activation(recurrent_activation)
    reset_after = bool(reset_after)
    x, W, U, b, h0 = map(_inputs.native, (x, W, U, b, h0))
    Ua = v.float_array(U, "U")
    H = Ua.shape[0] if Ua.ndim == 2 else 0
    b_shape, b_sym = (((2, 3 * H), "(2, 3H) (reset_after=True)") if reset_after
                      else ((3 * H,), "(3H,) (reset_after=False)"))
    x, W, U, b, B, T, I, H = v.forward_inputs(x, W, U, b, 3, b_shape=b_shape, b_symbol=b_sym)
    h0 = v.optional(h0, "h0", x.dtype, (B, H), "(B, H)")
    mk, has_mask = _mask_arg(mask, B, T)
    x, W, U, b, h0 = _kernel_arrays(x, W, U, b, h0)
    dt, G = x.dtype, 3 * H
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros(G, dt))
    f = _flops(B, T, H, 3)
    hs, X, rh = _pool.empty((B, T, H), dt), _pool.empty((B, T, G), dt), _pool.empty((B, T, H), dt)
    S, rb = _plan(B, f)
    _launch(_k.gru_forward, f, _parts(B, T, _step_flops(I, H, 3), S), x, W, b_in, b_rec, U,
            _state(h0, B, H, dt), hs, X, rh, _pool.empty((B, G), dt), mk, has_mask, reset_after,
            act, S, rb)
    return (_inputs.read_only(hs), _last(hs, h0, B, H, dt),
            _with_mask((x, W, U, h0, hs, X, rh), mk, has_mask))


def gru_backward(saved, dh_seq, dh_last, reset_after, activation):
    act = _act_code(activation)
    reset_after = bool(reset_after)
    B, T, I, H, mk, has_mask = _unpack(saved, 7, _cells.GRU,
                                       [("h0", "BH", True), ("h_seq", "BTH", False),
                                        ("gates", "BTG", False), ("rec_h", "BTH", False)])
    x, W, U, h0, hs, X, rh = saved[:7]
    dh_seq, dh_last = v.backward_grads(_inputs.native(dh_seq), _inputs.native(dh_last), x, H)
    dhs, has_dhs = _dhs_arg(dh_seq, x.dtype)
    f = _flops(B, T, H, 3)
    S, rb = _plan(B, f)
    dt, G = x.dtype, 3 * H
    dh = _carry(dh_last, B, H, dt)
    dx = _pool.empty((B, T, I), dt)
    dX = _pool.empty((B, T, G), dt)
    dR = _pool.empty((B, T, G) if reset_after else (1, 1, 1), dt)
    drh = _pool.empty((1, 1) if reset_after else (B, H), dt)
    dWs, dUs = np.zeros((S, I, G), dt), np.zeros((S, H, G), dt)
    dbs_in, dbs_rec = np.zeros((S, G), dt), np.zeros((S, G) if reset_after else (S, 1), dt)
    _launch(_k.gru_backward, f, _parts(B, T, 2 * _step_flops(I, H, 3), S, True), x, W,
            _transposed(U), _state(h0, B, H, dt), hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh,
            dWs, dUs, dbs_in, dbs_rec, mk, has_mask, reset_after, act, S, rb)
    db = np.stack([_total(dbs_in), _total(dbs_rec)]) if reset_after else _total(dbs_in)
    return dx, _total(dWs), _total(dUs), db, dh
