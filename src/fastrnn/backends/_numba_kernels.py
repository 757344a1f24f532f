"""Numba kernels of the Elman, LSTM and GRU cells (forward and backpropagation through time).

Imported only by ``fastrnn.backends._numba`` and only when numba is importable. The algorithm is
the C++ core's (csrc/cpu/*.cpp); everything, the matrix products included, runs in these kernels,
so a call uses numba's thread pool and nothing else (NumPy's BLAS has its own pool, and the two
pools spinning against each other on few cores cost more than BLAS gains).

* Forward: per step, the pre-activations ``b + x_t W + h_{t-1} U`` of a block of rows, then one
  fused pass that applies the gate functions and overwrites pre-activations with activated gates
  (all the backward pass needs: every derivative is a function of a gate's output).
* Backward: walking time backwards, one fused pass turns (dh, dc) into the step's pre-activation
  gradients (dA / dZ / dX, dR); then dh_{t-1} = dZ_t U^T and dx_t = dZ_t W^T. After the time
  loop dW, dU, db are summed over all of a slot's steps (tiled products into per-slot sums that
  the caller adds up), so nothing but dh (and dc) is carried through time.

Threading: each public kernel is ``for s in prange(nslots): _<kernel>_slot(..., s, r0, r1, ...)``
over ``nslots`` contiguous slices of the batch (one per thread); a slice runs the whole time loop
block by block (``rb`` rows per block), so there is no synchronisation per step and a row's
result never depends on the thread count. Weight gradients go to per-slot sums (no races) that
the caller adds up. The slot functions are inlined into the prange body at numba-IR level
(``inline="always"``) while the small helpers stay separate, cached functions: numba links a
callee's code into every caller and re-optimises it there, so this layout measured the cheapest
first-call compile (on an earlier version of these kernels: 21 s of CPU for all six float32
kernels, against 32 s with separate slot functions and 41 s with everything inlined; now about
30 s, 3-8 s per kernel, after the per-activation loops; ``bench/bench_numba.py --compile-time``).

Inside a block the products are written k-outer, rows-middle, j-inner: one row of U is read once
per block and reused from L1 by the block's rows, and the j loop is a contiguous
``acc[j] += a * U[k, j]`` that LLVM vectorises. Nothing allocates: every buffer (scratch
included) is passed in. Constants are ``U.dtype.type(...)`` so that float32 kernels stay in
float32 (a bare literal would promote to float64). ``error_model="numpy"``: no zero-division
checks (they would block vectorisation; IEEE results are what is wanted).

Activation codes: 0 tanh, 1 relu, 2 sigmoid, 3 linear (the C++ enum's order). Array arguments
must be C-contiguous, all of one dtype; absent initial states are passed as zeros and an absent
dh_seq as a (1, 1, 1) dummy with ``has_dhs=False``, so each kernel has one specialisation per
dtype.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

# contract: allow FMA (GCC does the same by default for the C++ core). No nnan/ninf: the
# sigmoid relies on exp overflowing to inf.
_FASTMATH = {"contract"}
_HELPER = dict(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
_KERNEL = dict(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy", parallel=True)
# dot products (dx = dZ W^T): reassoc lets LLVM vectorise the sum; the order is fixed at compile
# time, so results stay deterministic and independent of the thread count.
_REDUCE = dict(cache=True, nogil=True, fastmath=_FASTMATH | {"reassoc"}, error_model="numpy")
_SLOT = dict(_HELPER, inline="always")  # the per-slot bodies: inlined into their prange loop
_RT = 8  # steps per tile of the weight-gradient products


def _tanh(v):
    return np.tanh(v)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# float32 gate functions are plain arithmetic, so that LLVM vectorises the gate loops (libm's
# scalar tanhf costs ~40 ns here): tanh is the [13/6] rational approximation Eigen uses, clamped
# to |v| <= 7.9053 (max error 3.4e-7 relative, <= 6 ulp, checked on a dense grid), and
# sigmoid(v) = (1 + tanh(v / 2)) / 2 (absolute error <= 2e-7). float64 keeps libm's tanh and exp.
_TANH_CLAMP = 7.90531110763549805
_TANH_P = (-2.76076847742355e-16, 2.00018790482477e-13, -8.60467152213735e-11,
           5.12229709037114e-08, 1.48572235717979e-05, 6.37261928875436e-04,
           4.89352455891786e-03)
_TANH_Q = (1.19825839466702e-06, 1.18534705686654e-04, 2.26843463243900e-03,
           4.89352518554385e-03)


@njit(**_HELPER)
def _tanh_f32(v):
    c = np.float32(_TANH_CLAMP)
    x = min(max(v, -c), c)
    x2 = x * x
    p = np.float32(_TANH_P[0])
    p = p * x2 + np.float32(_TANH_P[1])
    p = p * x2 + np.float32(_TANH_P[2])
    p = p * x2 + np.float32(_TANH_P[3])
    p = p * x2 + np.float32(_TANH_P[4])
    p = p * x2 + np.float32(_TANH_P[5])
    p = p * x2 + np.float32(_TANH_P[6])
    q = np.float32(_TANH_Q[0])
    q = q * x2 + np.float32(_TANH_Q[1])
    q = q * x2 + np.float32(_TANH_Q[2])
    q = q * x2 + np.float32(_TANH_Q[3])
    return x * p / q


@overload(_tanh, jit_options=dict(fastmath=_FASTMATH, error_model="numpy"))
def _tanh_typed(v):
    if v == types.float32:
        return lambda v: _tanh_f32(v)
    return lambda v: np.tanh(v)


@overload(_sigmoid, jit_options=dict(fastmath=_FASTMATH, error_model="numpy"))
def _sigmoid_typed(v):
    if v == types.float32:
        half = np.float32(0.5)
        return lambda v: half + half * _tanh_f32(half * v)
    # exp(-v) overflows to inf for very negative v, and 1 / (1 + inf) = 0: no NaN either way.
    return lambda v: 1.0 / (1.0 + np.exp(-v))


@njit(**_HELPER)
def _act(code, v, one):
    if code == 0:
        return _tanh(v)
    if code == 1:
        return v if v > 0 else v - v
    if code == 2:
        return _sigmoid(v)
    return v


@njit(**_HELPER)
def _act_rows(code, Z, b0, b1, t, lo, hi):
    """Z[b, t, lo:hi] = act(Z[b, t, lo:hi]) in place for rows b in [b0, b1): one plain loop per
    activation (a switch inside the loop would keep LLVM from vectorising it)."""
    if code == 0:
        for b in range(b0, b1):
            for j in range(lo, hi):
                Z[b, t, j] = _tanh(Z[b, t, j])
    elif code == 1:
        zero = Z.dtype.type(0)
        for b in range(b0, b1):
            for j in range(lo, hi):
                Z[b, t, j] = max(Z[b, t, j], zero)
    elif code == 2:
        for b in range(b0, b1):
            for j in range(lo, hi):
                Z[b, t, j] = _sigmoid(Z[b, t, j])


@njit(**_HELPER)
def _dact(code, y, one):
    """d act / da written through the output y = act(a)."""
    if code == 0:
        return one - y * y
    if code == 1:
        return one if y > 0 else one - one
    if code == 2:
        return y * (one - y)
    return one


# ----------------------------------------------------------------------------------------------
# shared pieces
# ----------------------------------------------------------------------------------------------

@njit(**_HELPER)
def _pre_step(x, W, bias, U, h0, hs, Z, b0, b1, t):
    """Z[b, t, :] = bias + x[b, t] W + h_{t-1} U for rows b in [b0, b1); h_{t-1} is hs[b, t - 1]
    (h0[b] at t = 0). Z may be hs itself (Elman)."""
    G = Z.shape[2]
    I = x.shape[2]
    H = hs.shape[2]
    for b in range(b0, b1):
        for j in range(G):
            Z[b, t, j] = bias[j]
    for i in range(I):
        for b in range(b0, b1):
            a = x[b, t, i]
            for j in range(G):
                Z[b, t, j] += a * W[i, j]
    b = b0
    while b + 4 <= b1:  # four rows at once: each U[k, j] loaded once for four FMAs
        for k in range(H):
            if t > 0:
                a0, a1, a2, a3 = hs[b, t - 1, k], hs[b + 1, t - 1, k], hs[b + 2, t - 1, k], \
                    hs[b + 3, t - 1, k]
            else:
                a0, a1, a2, a3 = h0[b, k], h0[b + 1, k], h0[b + 2, k], h0[b + 3, k]
            for j in range(G):
                u = U[k, j]
                Z[b, t, j] += a0 * u
                Z[b + 1, t, j] += a1 * u
                Z[b + 2, t, j] += a2 * u
                Z[b + 3, t, j] += a3 * u
        b += 4
    for k in range(H):
        for r in range(b, b1):
            a = hs[r, t - 1, k] if t > 0 else h0[r, k]
            for j in range(G):
                Z[r, t, j] += a * U[k, j]


@njit(**_REDUCE)
def _back_step(D, U, dh, b0, b1, t, j0, j1):
    """dh[b, k] += sum over j in [j0, j1) of D[b, t, j] U[k, j], rows b in [b0, b1): the gradient
    through h U, as dot products along the rows of U (long, store-free inner loops), four rows
    at a time so that each U[k, j] is loaded once for four FMAs."""
    H = dh.shape[1]
    zero = U.dtype.type(0)
    b = b0
    while b + 4 <= b1:
        for k in range(H):
            s0 = zero
            s1 = zero
            s2 = zero
            s3 = zero
            for j in range(j0, j1):
                u = U[k, j]
                s0 += D[b, t, j] * u
                s1 += D[b + 1, t, j] * u
                s2 += D[b + 2, t, j] * u
                s3 += D[b + 3, t, j] * u
            dh[b, k] += s0
            dh[b + 1, k] += s1
            dh[b + 2, k] += s2
            dh[b + 3, k] += s3
        b += 4
    for r in range(b, b1):
        for k in range(H):
            s0 = zero
            for j in range(j0, j1):
                s0 += D[r, t, j] * U[k, j]
            dh[r, k] += s0


@njit(**_REDUCE)
def _dx_step(D, W, dx, b0, b1, t, zero):
    """dx[b, t, :] = D[b, t, :] W^T for rows b in [b0, b1) (a dot product per element)."""
    G = D.shape[2]
    I = W.shape[0]
    for b in range(b0, b1):
        for i in range(I):
            acc = zero
            for j in range(G):
                acc += D[b, t, j] * W[i, j]
            dx[b, t, i] = acc


@njit(**_HELPER)
def _outer(L, L0, shifted, D, j0, j1, out, s, r0, r1):
    """out[s, k, j] += sum over b in [r0, r1), t of L~[b, t, k] D[b, t, j], j in [j0, j1), where
    L~ is L, or with `shifted` the state before each step (L[b, t - 1], L0[b] at t = 0).
    Tiles of _RT steps: the tile of D stays in L1 while each row of out is updated."""
    T = D.shape[1]
    K = L.shape[2]
    for b in range(r0, r1):
        for t0 in range(0, T, _RT):
            t1 = min(t0 + _RT, T)
            for k in range(K):
                for t in range(t0, t1):
                    if shifted:
                        a = L[b, t - 1, k] if t > 0 else L0[b, k]
                    else:
                        a = L[b, t, k]
                    for j in range(j0, j1):
                        out[s, k, j] += a * D[b, t, j]


@njit(**_HELPER)
def _colsum(D, out, s, r0, r1):
    """out[s, :] += sum over b in [r0, r1), t of D[b, t, :]."""
    T = D.shape[1]
    G = D.shape[2]
    for b in range(r0, r1):
        for t in range(T):
            for j in range(G):
                out[s, j] += D[b, t, j]


# ----------------------------------------------------------------------------------------------
# Elman
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _elman_forward_slot(x, W, bias, U, h0, hs, act, s, r0, r1, rb):
    """Rows [r0, r1) of elman_forward (slot s)."""
    B, T, H = hs.shape
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T):
            _pre_step(x, W, bias, U, h0, hs, hs, b0, b1, t)
            _act_rows(act, hs, b0, b1, t, 0, H)


@njit(**_KERNEL)
def elman_forward(x, W, bias, U, h0, hs, act, nslots, rb):
    """hs (B, T, H) out: h_seq."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _elman_forward_slot(x, W, bias, U, h0, hs, act, s, r0, r1, rb)


@njit(**_SLOT)
def _elman_backward_slot(x, W, U, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, s,
                         r0, r1, rb):
    """Rows [r0, r1) of elman_backward (slot s)."""
    B, T, H = hs.shape
    one = U.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            for b in range(b0, b1):
                for j in range(H):
                    d = dh[b, j] + dhs[b, t, j] if has_dhs else dh[b, j]
                    dA[b, t, j] = d * _dact(act, hs[b, t, j], one)
                    dh[b, j] = zero
            _back_step(dA, U, dh, b0, b1, t, 0, H)
            _dx_step(dA, W, dx, b0, b1, t, zero)
    _outer(x, h0, False, dA, 0, H, dWs, s, r0, r1)
    _outer(hs, h0, True, dA, 0, H, dUs, s, r0, r1)
    _colsum(dA, dbs, s, r0, r1)


@njit(**_KERNEL)
def elman_backward(x, W, U, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, nslots, rb):
    """dA (B, T, H) scratch: dL/d(pre-activation). dx (B, T, I) out. dh (B, H): dh_last on
    entry, dh0 on exit. dWs (S, I, H), dUs (S, H, H), dbs (S, H): zeroed per-slot sums, out."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _elman_backward_slot(x, W, U, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, s,
                             r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _lstm_forward_slot(x, W, bias, U, h0, c0, hs, cs, Z, act, s, r0, r1, rb):
    """Rows [r0, r1) of lstm_forward (slot s)."""
    B, T, H = hs.shape
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T):
            _pre_step(x, W, bias, U, h0, hs, Z, b0, b1, t)
            # gate functions in place (i, f, o: sigmoid; g: act), then c and h: plain loops
            _act_rows(2, Z, b0, b1, t, 0, 2 * H)
            _act_rows(act, Z, b0, b1, t, 2 * H, 3 * H)
            _act_rows(2, Z, b0, b1, t, 3 * H, 4 * H)
            for b in range(b0, b1):
                if t > 0:
                    for j in range(H):
                        cs[b, t, j] = (Z[b, t, H + j] * cs[b, t - 1, j]
                                       + Z[b, t, j] * Z[b, t, 2 * H + j])
                else:
                    for j in range(H):
                        cs[b, t, j] = Z[b, t, H + j] * c0[b, j] + Z[b, t, j] * Z[b, t, 2 * H + j]
                for j in range(H):
                    hs[b, t, j] = cs[b, t, j]
            _act_rows(act, hs, b0, b1, t, 0, H)
            for b in range(b0, b1):
                for j in range(H):
                    hs[b, t, j] *= Z[b, t, 3 * H + j]


@njit(**_KERNEL)
def lstm_forward(x, W, bias, U, h0, c0, hs, cs, Z, act, nslots, rb):
    """hs, cs (B, T, H) out: h_seq, c_seq. Z (B, T, 4H) out: activated gates i, f, g, o."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _lstm_forward_slot(x, W, bias, U, h0, c0, hs, cs, Z, act, s, r0, r1, rb)


@njit(**_SLOT)
def _lstm_backward_slot(x, W, U, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs, dbs,
                        act, s, r0, r1, rb):
    """Rows [r0, r1) of lstm_backward (slot s)."""
    B, T, H = hs.shape
    G = 4 * H
    one = U.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            for b in range(b0, b1):
                for j in range(H):
                    i = Z[b, t, j]
                    f = Z[b, t, H + j]
                    g = Z[b, t, 2 * H + j]
                    o = Z[b, t, 3 * H + j]
                    act_c = _act(act, cs[b, t, j], one)
                    c_prev = cs[b, t - 1, j] if t > 0 else c0[b, j]
                    d = dh[b, j] + dhs[b, t, j] if has_dhs else dh[b, j]
                    dcv = dc[b, j] + d * o * _dact(act, act_c, one)
                    dZ[b, t, j] = dcv * g * i * (one - i)
                    dZ[b, t, H + j] = dcv * c_prev * f * (one - f)
                    dZ[b, t, 2 * H + j] = dcv * i * _dact(act, g, one)
                    dZ[b, t, 3 * H + j] = d * act_c * o * (one - o)
                    dc[b, j] = dcv * f
                    dh[b, j] = zero
            _back_step(dZ, U, dh, b0, b1, t, 0, G)
            _dx_step(dZ, W, dx, b0, b1, t, zero)
    _outer(x, h0, False, dZ, 0, G, dWs, s, r0, r1)
    _outer(hs, h0, True, dZ, 0, G, dUs, s, r0, r1)
    _colsum(dZ, dbs, s, r0, r1)


@njit(**_KERNEL)
def lstm_backward(x, W, U, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs, dbs,
                  act, nslots, rb):
    """dZ (B, T, 4H) scratch. dx (B, T, I) out. dh, dc (B, H): dh_last, dc_last on entry, dh0,
    dc0 on exit. dWs (S, I, 4H), dUs (S, H, 4H), dbs (S, 4H): zeroed per-slot sums, out."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _lstm_backward_slot(x, W, U, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs,
                            dbs, act, s, r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _gru_forward_slot(x, W, b_in, b_rec, U, h0, hs, X, rh, R, reset_after, act, s, r0, r1, rb):
    """Rows [r0, r1) of gru_forward (slot s)."""
    B, T, H = hs.shape
    G = 3 * H
    I = x.shape[2]
    n_rec = G if reset_after else 2 * H  # columns of U multiplied by h_{t-1}
    one = U.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T):
            for b in range(b0, b1):
                for j in range(G):
                    X[b, t, j] = b_in[j]
                    R[b, j] = b_rec[j]
            for i in range(I):
                for b in range(b0, b1):
                    a = x[b, t, i]
                    for j in range(G):
                        X[b, t, j] += a * W[i, j]
            for k in range(H):
                for b in range(b0, b1):
                    a = hs[b, t - 1, k] if t > 0 else h0[b, k]
                    for j in range(n_rec):
                        R[b, j] += a * U[k, j]
            for b in range(b0, b1):
                for j in range(2 * H):
                    X[b, t, j] += R[b, j]
            _act_rows(2, X, b0, b1, t, 0, 2 * H)  # z, r
            for b in range(b0, b1):
                if reset_after:
                    for j in range(H):
                        rh[b, t, j] = R[b, 2 * H + j]
                elif t > 0:
                    for j in range(H):
                        rh[b, t, j] = X[b, t, H + j] * hs[b, t - 1, j]
                else:
                    for j in range(H):
                        rh[b, t, j] = X[b, t, H + j] * h0[b, j]
            if not reset_after:  # (r * h_{t-1}) U_h
                for b in range(b0, b1):
                    for j in range(H):
                        R[b, 2 * H + j] = zero
                for k in range(H):
                    for b in range(b0, b1):
                        a = rh[b, t, k]
                        for j in range(2 * H, G):
                            R[b, j] += a * U[k, j]
            for b in range(b0, b1):
                if reset_after:
                    for j in range(H):
                        X[b, t, 2 * H + j] += X[b, t, H + j] * R[b, 2 * H + j]
                else:
                    for j in range(H):
                        X[b, t, 2 * H + j] += R[b, 2 * H + j]
            _act_rows(act, X, b0, b1, t, 2 * H, G)  # hh
            for b in range(b0, b1):
                if t > 0:
                    for j in range(H):
                        z = X[b, t, j]
                        hs[b, t, j] = z * hs[b, t - 1, j] + (one - z) * X[b, t, 2 * H + j]
                else:
                    for j in range(H):
                        z = X[b, t, j]
                        hs[b, t, j] = z * h0[b, j] + (one - z) * X[b, t, 2 * H + j]


@njit(**_KERNEL)
def gru_forward(x, W, b_in, b_rec, U, h0, hs, X, rh, R, reset_after, act, nslots, rb):
    """hs (B, T, H) out: h_seq. X (B, T, 3H) out: gates z, r, hh. rh (B, T, H) out:
    h U_h + b_rec_h (reset_after) or r * h_{t-1}. R (B, 3H) scratch: a step's recurrent product.
    b_in: b[0] (reset_after) or b; b_rec: b[1] or zeros."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _gru_forward_slot(x, W, b_in, b_rec, U, h0, hs, X, rh, R, reset_after, act, s, r0, r1, rb)


@njit(**_SLOT)
def _gru_backward_slot(x, W, U, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs,
                       dbs_in, dbs_rec, reset_after, act, s, r0, r1, rb):
    """Rows [r0, r1) of gru_backward (slot s)."""
    B, T, H = hs.shape
    G = 3 * H
    one = U.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            for b in range(b0, b1):
                for j in range(H):
                    z = X[b, t, j]
                    r = X[b, t, H + j]
                    hh = X[b, t, 2 * H + j]
                    h_prev = hs[b, t - 1, j] if t > 0 else h0[b, j]
                    d = dh[b, j] + dhs[b, t, j] if has_dhs else dh[b, j]
                    dhh = d * (one - z) * _dact(act, hh, one)
                    dz = d * (h_prev - hh) * z * (one - z)
                    dX[b, t, j] = dz
                    dX[b, t, 2 * H + j] = dhh
                    dh[b, j] = d * z
                    if reset_after:
                        dr = dhh * rh[b, t, j] * r * (one - r)
                        dX[b, t, H + j] = dr
                        dR[b, t, j] = dz
                        dR[b, t, H + j] = dr
                        dR[b, t, 2 * H + j] = dhh * r
            if reset_after:
                _back_step(dR, U, dh, b0, b1, t, 0, G)
            else:
                for b in range(b0, b1):
                    for k in range(H):
                        drh[b, k] = zero
                _back_step(dX, U, drh, b0, b1, t, 2 * H, G)
                for b in range(b0, b1):
                    for j in range(H):
                        r = X[b, t, H + j]
                        g = drh[b, j]
                        h_prev = hs[b, t - 1, j] if t > 0 else h0[b, j]
                        dX[b, t, H + j] = g * h_prev * r * (one - r)
                        dh[b, j] += g * r
                _back_step(dX, U, dh, b0, b1, t, 0, 2 * H)
            _dx_step(dX, W, dx, b0, b1, t, zero)
    _outer(x, h0, False, dX, 0, G, dWs, s, r0, r1)
    _colsum(dX, dbs_in, s, r0, r1)
    if reset_after:
        _outer(hs, h0, True, dR, 0, G, dUs, s, r0, r1)
        _colsum(dR, dbs_rec, s, r0, r1)
    else:
        _outer(hs, h0, True, dX, 0, 2 * H, dUs, s, r0, r1)
        _outer(rh, h0, False, dX, 2 * H, G, dUs, s, r0, r1)



@njit(**_KERNEL)
def gru_backward(x, W, U, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs, dbs_in,
                 dbs_rec, reset_after, act, nslots, rb):
    """dX (B, T, 3H) scratch: dL/d(x W + b_in). dR (B, T, 3H) scratch when reset_after:
    dL/d(h U + b_rec) (else a dummy). drh (B, H) scratch: dL/d(r * h_{t-1}) of one step (not
    reset_after). dx (B, T, I) out. dh (B, H): dh_last on entry, dh0 on exit. dWs (S, I, 3H),
    dUs (S, H, 3H), dbs_in, dbs_rec (S, 3H): zeroed per-slot sums, out (dbs_rec: reset_after)."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _gru_backward_slot(x, W, U, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs,
                           dbs_in, dbs_rec, reset_after, act, s, r0, r1, rb)