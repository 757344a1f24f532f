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
the caller adds up. Keeping the loop nests in plain (serial) functions and the parallel part a
one-liner also keeps numba's parfor passes cheap, which matters for the first-call compile time.

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
_RT = 8  # steps per tile of the weight-gradient products


def _tanh(v):
    return np.tanh(v)


@overload(_tanh, jit_options={"fastmath": _FASTMATH, "error_model": "numpy"})
def _tanh_typed(v):
    """float32: 1 - 2 / (exp(2|v|) + 1) in float64, rounded once (within 1 ulp of tanh, and
    about 3x faster than tanhf, whose libm version is slow); float64: libm's tanh."""
    if v == types.float32:
        def tanh_f32(v):
            a = abs(np.float64(v))
            y = 1.0 - 2.0 / (np.exp(a + a) + 1.0)  # exp overflows to inf for large a: y = 1
            return np.float32(y if v >= 0 else -y)
        return tanh_f32
    return lambda v: np.tanh(v)


@njit(**_HELPER)
def _sigmoid(v, one):
    # exp(-v) overflows to inf for very negative v, and 1 / (1 + inf) = 0: no NaN either way.
    return one / (one + np.exp(-v))


@njit(**_HELPER)
def _act(code, v, one):
    if code == 0:
        return _tanh(v)
    if code == 1:
        return v if v > 0 else v - v
    if code == 2:
        return one / (one + np.exp(-v))
    return v


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
    for k in range(H):
        for b in range(b0, b1):
            a = hs[b, t - 1, k] if t > 0 else h0[b, k]
            for j in range(G):
                Z[b, t, j] += a * U[k, j]


@njit(**_HELPER)
def _back_step(D, UT, dh, b0, b1, t, j0, j1):
    """dh[b, :] += D[b, t, j0:j1] UT[j0:j1] for rows b in [b0, b1): the gradient through h U."""
    H = dh.shape[1]
    for j in range(j0, j1):
        for b in range(b0, b1):
            a = D[b, t, j]
            for k in range(H):
                dh[b, k] += a * UT[j, k]


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

@njit(**_HELPER)
def _elman_forward_slot(x, W, bias, U, h0, hs, act, s, r0, r1, rb):
    """Rows [r0, r1) of elman_forward (slot s)."""
    B, T, H = hs.shape
    one = U.dtype.type(1)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T):
            _pre_step(x, W, bias, U, h0, hs, hs, b0, b1, t)
            for b in range(b0, b1):
                for j in range(H):
                    hs[b, t, j] = _act(act, hs[b, t, j], one)


@njit(**_KERNEL)
def elman_forward(x, W, bias, U, h0, hs, act, nslots, rb):
    """hs (B, T, H) out: h_seq."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _elman_forward_slot(x, W, bias, U, h0, hs, act, s, r0, r1, rb)


@njit(**_HELPER)
def _elman_backward_slot(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, s,
                         r0, r1, rb):
    """Rows [r0, r1) of elman_backward (slot s)."""
    B, T, H = hs.shape
    one = UT.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            for b in range(b0, b1):
                for j in range(H):
                    d = dh[b, j] + dhs[b, t, j] if has_dhs else dh[b, j]
                    dA[b, t, j] = d * _dact(act, hs[b, t, j], one)
                    dh[b, j] = zero
            _back_step(dA, UT, dh, b0, b1, t, 0, H)
            _dx_step(dA, W, dx, b0, b1, t, zero)
    _outer(x, h0, False, dA, 0, H, dWs, s, r0, r1)
    _outer(hs, h0, True, dA, 0, H, dUs, s, r0, r1)
    _colsum(dA, dbs, s, r0, r1)


@njit(**_KERNEL)
def elman_backward(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, nslots, rb):
    """dA (B, T, H) scratch: dL/d(pre-activation). dx (B, T, I) out. dh (B, H): dh_last on
    entry, dh0 on exit. dWs (S, I, H), dUs (S, H, H), dbs (S, H): zeroed per-slot sums, out."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _elman_backward_slot(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, s,
                             r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

@njit(**_HELPER)
def _lstm_forward_slot(x, W, bias, U, h0, c0, hs, cs, Z, act, s, r0, r1, rb):
    """Rows [r0, r1) of lstm_forward (slot s)."""
    B, T, H = hs.shape
    one = U.dtype.type(1)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T):
            _pre_step(x, W, bias, U, h0, hs, Z, b0, b1, t)
            for b in range(b0, b1):
                for j in range(H):
                    i = _sigmoid(Z[b, t, j], one)
                    f = _sigmoid(Z[b, t, H + j], one)
                    g = _act(act, Z[b, t, 2 * H + j], one)
                    o = _sigmoid(Z[b, t, 3 * H + j], one)
                    c_prev = cs[b, t - 1, j] if t > 0 else c0[b, j]
                    c = f * c_prev + i * g
                    Z[b, t, j] = i
                    Z[b, t, H + j] = f
                    Z[b, t, 2 * H + j] = g
                    Z[b, t, 3 * H + j] = o
                    cs[b, t, j] = c
                    hs[b, t, j] = o * _act(act, c, one)


@njit(**_KERNEL)
def lstm_forward(x, W, bias, U, h0, c0, hs, cs, Z, act, nslots, rb):
    """hs, cs (B, T, H) out: h_seq, c_seq. Z (B, T, 4H) out: activated gates i, f, g, o."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _lstm_forward_slot(x, W, bias, U, h0, c0, hs, cs, Z, act, s, r0, r1, rb)


@njit(**_HELPER)
def _lstm_backward_slot(x, W, UT, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs, dbs,
                        act, s, r0, r1, rb):
    """Rows [r0, r1) of lstm_backward (slot s)."""
    B, T, H = hs.shape
    G = 4 * H
    one = UT.dtype.type(1)
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
            _back_step(dZ, UT, dh, b0, b1, t, 0, G)
            _dx_step(dZ, W, dx, b0, b1, t, zero)
    _outer(x, h0, False, dZ, 0, G, dWs, s, r0, r1)
    _outer(hs, h0, True, dZ, 0, G, dUs, s, r0, r1)
    _colsum(dZ, dbs, s, r0, r1)


@njit(**_KERNEL)
def lstm_backward(x, W, UT, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs, dbs,
                  act, nslots, rb):
    """dZ (B, T, 4H) scratch. dx (B, T, I) out. dh, dc (B, H): dh_last, dc_last on entry, dh0,
    dc0 on exit. dWs (S, I, 4H), dUs (S, H, 4H), dbs (S, 4H): zeroed per-slot sums, out."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _lstm_backward_slot(x, W, UT, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs,
                            dbs, act, s, r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

@njit(**_HELPER)
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
                for j in range(H):
                    z = _sigmoid(X[b, t, j] + R[b, j], one)
                    r = _sigmoid(X[b, t, H + j] + R[b, H + j], one)
                    X[b, t, j] = z
                    X[b, t, H + j] = r
                    if reset_after:
                        rh[b, t, j] = R[b, 2 * H + j]
                    else:
                        h_prev = hs[b, t - 1, j] if t > 0 else h0[b, j]
                        rh[b, t, j] = r * h_prev
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
                for j in range(H):
                    z = X[b, t, j]
                    if reset_after:
                        pre = X[b, t, 2 * H + j] + X[b, t, H + j] * R[b, 2 * H + j]
                    else:
                        pre = X[b, t, 2 * H + j] + R[b, 2 * H + j]
                    hh = _act(act, pre, one)
                    X[b, t, 2 * H + j] = hh
                    h_prev = hs[b, t - 1, j] if t > 0 else h0[b, j]
                    hs[b, t, j] = z * h_prev + (one - z) * hh


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


@njit(**_HELPER)
def _gru_backward_slot(x, W, UT, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs,
                       dbs_in, dbs_rec, reset_after, act, s, r0, r1, rb):
    """Rows [r0, r1) of gru_backward (slot s)."""
    B, T, H = hs.shape
    G = 3 * H
    one = UT.dtype.type(1)
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
                _back_step(dR, UT, dh, b0, b1, t, 0, G)
            else:
                for b in range(b0, b1):
                    for k in range(H):
                        drh[b, k] = zero
                _back_step(dX, UT, drh, b0, b1, t, 2 * H, G)
                for b in range(b0, b1):
                    for j in range(H):
                        r = X[b, t, H + j]
                        g = drh[b, j]
                        h_prev = hs[b, t - 1, j] if t > 0 else h0[b, j]
                        dX[b, t, H + j] = g * h_prev * r * (one - r)
                        dh[b, j] += g * r
                _back_step(dX, UT, dh, b0, b1, t, 0, 2 * H)
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
def gru_backward(x, W, UT, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs, dbs_in,
                 dbs_rec, reset_after, act, nslots, rb):
    """dX (B, T, 3H) scratch: dL/d(x W + b_in). dR (B, T, 3H) scratch when reset_after:
    dL/d(h U + b_rec) (else a dummy). drh (B, H) scratch: dL/d(r * h_{t-1}) of one step (not
    reset_after). dx (B, T, I) out. dh (B, H): dh_last on entry, dh0 on exit. dWs (S, I, 3H),
    dUs (S, H, 3H), dbs_in, dbs_rec (S, 3H): zeroed per-slot sums, out (dbs_rec: reset_after)."""
    B = hs.shape[0]
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _gru_backward_slot(x, W, UT, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs,
                           dbs_in, dbs_rec, reset_after, act, s, r0, r1, rb)