"""Numba kernels of the Elman, LSTM and GRU cells (forward and backpropagation through time).

Imported only by ``fastrnn.backends.numba`` and only when numba is importable. The algorithm is
the C++ core's (csrc/cpu/*.cpp); everything, the matrix products included, runs in these kernels,
so a call uses numba's thread pool and nothing else (NumPy's BLAS has its own pool, and the two
pools spinning against each other on few cores cost more than BLAS gains).

* Forward: the input projection ``b + x W`` of every step of a slot in one product, then per
  step ``+ h_{t-1} U`` for a block of rows and one fused pass that applies the gate functions and
  overwrites pre-activations with activated gates (all the backward pass needs: every derivative
  is a function of a gate's output).
* Backward: walking time backwards, one fused pass turns (dh, dc) into the step's pre-activation
  gradients (dA / dZ / dX, dR); then dh_{t-1} = dZ_t U^T (a product with U^T, which the
  caller transposes once per call). After the time loop dx = dZ W^T and dW, dU, db are summed
  over all of a slot's rows (products into per-slot sums that the caller adds up), so nothing
  but dh (and dc) is carried through time.

Threading: each public kernel is ``for s in prange(nslots): _<kernel>_slot(..., r0, r1, ...)``
over ``nslots`` contiguous slices of the batch (one per thread); a slice runs the whole time loop
block by block (``rb`` rows per block), so there is no synchronisation per step and a row's
result never depends on the thread count. Weight gradients go to per-slot sums (no races). The
slot functions, the thin wrappers around the product and the scalar gate functions are inlined at
numba-IR level (``inline="always"``) while _madd and the pointwise loops stay separate, cached
functions (numba links a callee's code into every caller and re-optimises it there). Everything
here compiles with LLVM's SLP vectoriser on (``blocks.slp_compiling``). The first call of each
kernel compiles it, which takes a while (``bench/bench_numba.py --compile-time``); later
processes load it from numba's on-disk cache.

All arrays inside are 2-D and C-contiguous: a (B, T, X) argument is used as its (B T, X)
reshape, row ``b T + t``. Every matrix product is ``blocks._madd`` (register tiles of 4 rows x
32 columns whose sums stay in registers over the whole reduction, ``tiles``; see there); the
gate functions and the products' wrappers are in ``blocks`` too.
Nothing allocates: every buffer (scratch included) is passed in.
Constants are ``U.dtype.type(...)`` so that float32 kernels stay in float32 (a bare literal would
promote to float64). ``error_model="numpy"``: no zero-division checks (they would block
vectorisation; IEEE results are what is wanted). Loops over a part of a row run over a 1-D row
view from index 0 (``Z[r, H:2 * H]``): an index numba cannot prove non-negative gets a
wraparound test per element, which keeps LLVM from vectorising the loop.

Activation codes: 0 tanh, 1 relu, 2 sigmoid, 3 linear (the C++ enum's order). Array arguments
must be C-contiguous, writeable and aligned, all of one dtype (the caller normalises them: numba
would compile a specialisation for each other layout or flag); absent initial states are passed
as zeros and an absent dh_seq as a (1, 1, 1) dummy with ``has_dhs=False``, so each kernel has one
specialisation per dtype.

Masks (Keras's): every kernel takes ``mk`` (B, T) uint8 and ``has_mask``; where has_mask and
mk[b, t] == 0, step t of sample b keeps the states of step t - 1 (``_carry_masked`` copies them
over the computed step), and the backward pass gives it zero pre-activation gradients and passes
dh (and dc) on unchanged. Without a mask a (1, 1) dummy comes with ``has_mask=False``.

Parts of a call: every kernel runs the samples [b_lo, b_hi) (split into its nslots slots) over
the steps [t0, t1) (forward in increasing, backward in decreasing order), so that the caller can
run a long call as several shorter ones, between which Python can act on Ctrl-C: a forward call
reads the states before t0 from hs (and cs), a backward call takes dh (and dc) at step t1 on
entry and adds its part's weight gradients into the per-slot sums. A call over whole sequences
(t0 = 0, t1 = T) walks each slot's rows as one run, as the unsplit kernel did; the caller splits
by samples where it can, so that every part keeps that shape.
"""

from __future__ import annotations

from numba import njit, prange

from fastrnn.backends.numba.blocks import (_HELPER, _KERNEL, _SLOT, _WRAPPER, _act, _act_rows,
                                           _back, _colsum, _dact, _dx_rows, _int, _madd, _outer,
                                           _project, _recur, compile_with_slp_all)

# numba keys its on-disk cache of a function on the source of the function's own file only; the
# kernels link blocks.py and the tiles in, so this line changes whenever either does (written by
# scripts/gen_numba_tiles.py, checked by tests/kernels/test_numba_tiles.py).
SOURCES_SHA256 = "blocks.py+tiles.py:7f19ffade963fd27"

# ----------------------------------------------------------------------------------------------
# steps [t0, t1) of samples [r0, r1): the rows b T + t of the (B T, X) arrays
# ----------------------------------------------------------------------------------------------

@njit(**_WRAPPER)
def _project_steps(x, W, bias, Z, T, t0, t1, r0, r1):
    """The input projection (``_project``) of steps [t0, t1) of samples [r0, r1): one product
    over all their rows when the steps are whole sequences, else one per sample."""
    if t0 == 0 and t1 == T:
        _project(x, W, bias, Z, r0 * T, r1 * T)
    else:
        for b in range(r0, r1):
            _project(x, W, bias, Z, b * T + t0, b * T + t1)


@njit(**_WRAPPER)
def _dx_and_colsum(D, W, dx, db, T, t0, t1, r0, r1):
    """dx rows = D rows W^T (``_dx_rows``) and db += column sums of D (``_colsum``) over the rows
    of steps [t0, t1) of samples [r0, r1)."""
    if t0 == 0 and t1 == T:
        _dx_rows(D, W, dx, r0 * T, r1 * T)
        _colsum(D, db, r0 * T, r1 * T)
    else:
        for b in range(r0, r1):
            _dx_rows(D, W, dx, b * T + t0, b * T + t1)
            _colsum(D, db, b * T + t0, b * T + t1)


@njit(**_HELPER)
def _carry_masked(mk, hs, h0, T, t, b0, b1):
    """Rows [b0, b1) whose step t is masked (mk[b, t] == 0) keep the state before it: hs row
    b T + t = hs row b T + t - 1 (h0[b] at t = 0). hs, h0 may also be the cell states."""
    H = hs.shape[1]
    for b in range(b0, b1):
        if mk[b, t] == 0:
            r = b * T + t
            prev, h = hs[r - 1] if t > 0 else h0[b], hs[r]
            for j in range(H):
                h[j] = prev[j]


# ----------------------------------------------------------------------------------------------
# Elman
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _elman_forward_slot(x, W, bias, U, h0, hs, mk, has_mask, T, act, r0, r1, rb, t0, t1):
    """Rows [r0, r1), steps [t0, t1) of elman_forward."""
    H = U.shape[0]
    _project_steps(x, W, bias, hs, T, t0, t1, r0, r1)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(t0, t1):
            _recur(hs, b0 * T + t, T, hs, h0, T, t, U, b0, b1, 0, H)
            _act_rows(act, hs, b0 * T + t, T, b1 - b0, 0, H)
            if has_mask:
                _carry_masked(mk, hs, h0, T, t, b0, b1)


@njit(**_KERNEL)
def elman_forward(x, W, bias, U, h0, hs, mk, has_mask, act, nslots, rb, b_lo, b_hi, t0, t1):
    """x (B, T, I), hs (B, T, H) out: h_seq (steps [t0, t1); the earlier ones in). mk (B, T)
    uint8: the step mask (has_mask), else a (1, 1) dummy."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    for s in prange(nslots):
        r0 = b_lo + (b_hi - b_lo) * s // nslots
        r1 = b_lo + (b_hi - b_lo) * (s + 1) // nslots
        _elman_forward_slot(x2, W, bias, U, h0, hs2, mk, has_mask, T, act, r0, r1, rb, t0, t1)


@njit(**_HELPER)
def _elman_back_point(code, hs, dhs, has_dhs, dA, dh, mk, has_mask, T, t, b0, b1):
    """Step t of rows [b0, b1): dA = (dh + dh_seq) act'(a); dh = 0 (the recurrent product adds
    into it next). A masked row: dA = 0, dh += dh_seq (the state was carried over).

    The *_back_point functions are called twice in their kernel: with the constant code 0, so
    that LLVM inlines the call, folds the activation switch away and vectorises the loop for
    tanh (the default), and with the run-time code for the other activations, where the switch
    stays inside the loop and keeps it scalar (slower, still correct). A copy per activation
    would compile two more copies per kernel, lengthening the cold compile (bench/NOTES.md)."""
    H = dh.shape[1]
    one = dA.dtype.type(1)
    zero = one - one
    for b in range(b0, b1):
        r = b * T + t
        if has_mask and mk[b, t] == 0:
            for j in range(H):
                dA[r, j] = zero
                if has_dhs:
                    dh[b, j] += dhs[r, j]
        elif has_dhs:
            for j in range(H):
                dA[r, j] = (dh[b, j] + dhs[r, j]) * _dact(code, hs[r, j], one)
                dh[b, j] = zero
        else:
            for j in range(H):
                dA[r, j] = dh[b, j] * _dact(code, hs[r, j], one)
                dh[b, j] = zero


@njit(**_SLOT)
def _elman_backward_slot(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dW, dU, db, mk, has_mask,
                         T, act, r0, r1, rb, t0, t1):
    """Rows [r0, r1), steps [t0, t1) of elman_backward; dW, dU, db: this slot's sums."""
    H = UT.shape[1]
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(t1 - 1, t0 - 1, -1):
            if act == 0:  # tanh: a copy of the loop for it (see _elman_back_point)
                _elman_back_point(0, hs, dhs, has_dhs, dA, dh, mk, has_mask, T, t, b0, b1)
            else:
                _elman_back_point(act, hs, dhs, has_dhs, dA, dh, mk, has_mask, T, t, b0, b1)
            _back(dA, T, t, UT, dh, b0, b1, 0, H)
    _dx_and_colsum(dA, W, dx, db, T, t0, t1, r0, r1)
    _outer(x, h0, False, dA, T, t0, t1, 0, H, dW, r0, r1)
    _outer(hs, h0, True, dA, T, t0, t1, 0, H, dU, r0, r1)


@njit(**_KERNEL)
def elman_backward(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, mk, has_mask, act,
                   nslots, rb, b_lo, b_hi, t0, t1):
    """UT = U^T (H, H). dhs (B, T, H) or a (1, 1, 1) dummy (has_dhs False). dA (B, T, H) scratch:
    dL/d(pre-activation). dx (B, T, I) out. dh (B, H): dh_last on entry, dh0 on exit.
    dWs (S, I, H), dUs (S, H, H), dbs (S, H): per-slot sums (zeroed before the first call),
    added into."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    dhs2 = dhs.reshape(dhs.shape[0] * dhs.shape[1], dhs.shape[2])
    dA2 = dA.reshape(B * T, H)
    dx2 = dx.reshape(B * T, dx.shape[2])
    for s in prange(nslots):
        r0 = b_lo + (b_hi - b_lo) * s // nslots
        r1 = b_lo + (b_hi - b_lo) * (s + 1) // nslots
        _elman_backward_slot(x2, W, UT, h0, hs2, dhs2, has_dhs, dA2, dx2, dh, dWs[s], dUs[s],
                             dbs[s], mk, has_mask, T, act, r0, r1, rb, t0, t1)


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _lstm_forward_slot(x, W, bias, U, h0, c0, hs, cs, Z, mk, has_mask, T, act, r0, r1, rb, t0,
                       t1):
    """Rows [r0, r1), steps [t0, t1) of lstm_forward."""
    H = U.shape[0]
    G = 4 * H
    _project_steps(x, W, bias, Z, T, t0, t1, r0, r1)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        n = b1 - b0
        for t in range(t0, t1):
            _recur(Z, b0 * T + t, T, hs, h0, T, t, U, b0, b1, 0, G)
            # gate functions in place (i, f, o: sigmoid; g: act), then c and h: plain loops
            _act_rows(2, Z, b0 * T + t, T, n, 0, 2 * H)
            _act_rows(act, Z, b0 * T + t, T, n, 2 * H, 3 * H)
            _act_rows(2, Z, b0 * T + t, T, n, 3 * H, G)
            for b in range(b0, b1):
                r = b * T + t
                zi, zf, zg = Z[r, :H], Z[r, H:2 * H], Z[r, 2 * H:3 * H]
                c_prev = cs[r - 1] if t > 0 else c0[b]
                c, h = cs[r], hs[r]
                for j in range(H):
                    c[j] = zf[j] * c_prev[j] + zi[j] * zg[j]
                    h[j] = c[j]
            _act_rows(act, hs, b0 * T + t, T, n, 0, H)
            for b in range(b0, b1):
                r = b * T + t
                zo, h = Z[r, 3 * H:], hs[r]
                for j in range(H):
                    h[j] *= zo[j]
            if has_mask:
                _carry_masked(mk, cs, c0, T, t, b0, b1)
                _carry_masked(mk, hs, h0, T, t, b0, b1)


@njit(**_KERNEL)
def lstm_forward(x, W, bias, U, h0, c0, hs, cs, Z, mk, has_mask, act, nslots, rb, b_lo, b_hi,
                 t0, t1):
    """x (B, T, I). hs, cs (B, T, H) out: h_seq, c_seq. Z (B, T, 4H) out: activated gates i, f,
    g, o. mk, has_mask: the step mask (elman_forward)."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    cs2 = cs.reshape(B * T, H)
    Z2 = Z.reshape(B * T, 4 * H)
    for s in prange(nslots):
        r0 = b_lo + (b_hi - b_lo) * s // nslots
        r1 = b_lo + (b_hi - b_lo) * (s + 1) // nslots
        _lstm_forward_slot(x2, W, bias, U, h0, c0, hs2, cs2, Z2, mk, has_mask, T, act, r0, r1, rb,
                           t0, t1)


@njit(**_HELPER)
def _lstm_back_point(code, Z, cs, c0, dhs, has_dhs, dZ, dh, dc, mk, has_mask, T, t, b0, b1):
    """Step t of rows [b0, b1): (dh + dh_seq, dc) -> the gate pre-activation gradients dZ and
    dc_{t-1}; dh = 0. A masked row: dZ = 0, dh += dh_seq, dc unchanged (the states were carried
    over). Specialised for tanh by a constant `code` (see _elman_back_point)."""
    H = dh.shape[1]
    one = dZ.dtype.type(1)
    zero = one - one
    for b in range(b0, b1):
        r = b * T + t
        if has_mask and mk[b, t] == 0:
            dz_r, dh_b = dZ[r], dh[b]
            for k in range(4 * H):
                dz_r[k] = zero
            if has_dhs:
                dh_seq = dhs[r]
                for j in range(H):
                    dh_b[j] += dh_seq[j]
            continue
        zi, zf, zg, zo = Z[r, :H], Z[r, H:2 * H], Z[r, 2 * H:3 * H], Z[r, 3 * H:]
        di, df, dg, do = dZ[r, :H], dZ[r, H:2 * H], dZ[r, 2 * H:3 * H], dZ[r, 3 * H:]
        c, c_prev = cs[r], cs[r - 1] if t > 0 else c0[b]
        dh_b, dc_b = dh[b], dc[b]
        dh_seq = dhs[r] if has_dhs else dh_b  # unused when not has_dhs
        for j in range(H):
            i = zi[j]
            f = zf[j]
            g = zg[j]
            o = zo[j]
            act_c = _act(code, c[j], one)
            d = dh_b[j] + dh_seq[j] if has_dhs else dh_b[j]
            dcv = dc_b[j] + d * o * _dact(code, act_c, one)
            di[j] = dcv * g * i * (one - i)
            df[j] = dcv * c_prev[j] * f * (one - f)
            dg[j] = dcv * i * _dact(code, g, one)
            do[j] = d * act_c * o * (one - o)
            dc_b[j] = dcv * f
            dh_b[j] = zero


@njit(**_SLOT)
def _lstm_backward_slot(x, W, UT, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dW, dU, db,
                        mk, has_mask, T, act, r0, r1, rb, t0, t1):
    """Rows [r0, r1), steps [t0, t1) of lstm_backward; dW, dU, db: this slot's sums."""
    G = 4 * UT.shape[1]
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(t1 - 1, t0 - 1, -1):
            if act == 0:  # tanh: a copy of the loop for it (see _elman_back_point)
                _lstm_back_point(0, Z, cs, c0, dhs, has_dhs, dZ, dh, dc, mk, has_mask, T, t, b0,
                                 b1)
            else:
                _lstm_back_point(act, Z, cs, c0, dhs, has_dhs, dZ, dh, dc, mk, has_mask, T, t, b0,
                                 b1)
            _back(dZ, T, t, UT, dh, b0, b1, 0, G)
    _dx_and_colsum(dZ, W, dx, db, T, t0, t1, r0, r1)
    _outer(x, h0, False, dZ, T, t0, t1, 0, G, dW, r0, r1)
    _outer(hs, h0, True, dZ, T, t0, t1, 0, G, dU, r0, r1)


@njit(**_KERNEL)
def lstm_backward(x, W, UT, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs, dbs,
                  mk, has_mask, act, nslots, rb, b_lo, b_hi, t0, t1):
    """UT = U^T (4H, H). dZ (B, T, 4H) scratch. dx (B, T, I) out. dh, dc (B, H): dh_last,
    dc_last on entry, dh0, dc0 on exit. dWs (S, I, 4H), dUs (S, H, 4H), dbs (S, 4H): per-slot
    sums, added into."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    cs2 = cs.reshape(B * T, H)
    Z2 = Z.reshape(B * T, 4 * H)
    dhs2 = dhs.reshape(dhs.shape[0] * dhs.shape[1], dhs.shape[2])
    dZ2 = dZ.reshape(B * T, 4 * H)
    dx2 = dx.reshape(B * T, dx.shape[2])
    for s in prange(nslots):
        r0 = b_lo + (b_hi - b_lo) * s // nslots
        r1 = b_lo + (b_hi - b_lo) * (s + 1) // nslots
        _lstm_backward_slot(x2, W, UT, h0, c0, hs2, cs2, Z2, dhs2, has_dhs, dZ2, dx2, dh, dc,
                            dWs[s], dUs[s], dbs[s], mk, has_mask, T, act, r0, r1, rb, t0, t1)


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _gru_forward_slot(x, W, b_in, b_rec, U, h0, hs, X, rh, R, mk, has_mask, reset_after, T, act,
                      r0, r1, rb, t0, t1):
    """Rows [r0, r1), steps [t0, t1) of gru_forward."""
    H = U.shape[0]
    G = 3 * H
    n_rec = G if reset_after else 2 * H  # columns of U multiplied by h_{t-1}
    one = U.dtype.type(1)
    _project_steps(x, W, b_in, X, T, t0, t1, r0, r1)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        n = b1 - b0
        for t in range(t0, t1):
            for b in range(b0, b1):
                for j in range(G):
                    R[b, j] = b_rec[j]
            _recur(R, b0, 1, hs, h0, T, t, U, b0, b1, 0, n_rec)
            for b in range(b0, b1):
                x_r, r_b = X[b * T + t], R[b]
                for j in range(2 * H):
                    x_r[j] += r_b[j]
            _act_rows(2, X, b0 * T + t, T, n, 0, 2 * H)  # z, r
            for b in range(b0, b1):
                r = b * T + t
                rh_r = rh[r]
                if reset_after:
                    r_h = R[b, 2 * H:]
                    for j in range(H):
                        rh_r[j] = r_h[j]
                else:
                    x_r, h_prev = X[r, H:2 * H], hs[r - 1] if t > 0 else h0[b]
                    for j in range(H):
                        rh_r[j] = x_r[j] * h_prev[j]
            if not reset_after:  # (r * h_{t-1}) U_h
                _madd(R, _int(b0), _int(1), rh, _int(b0 * T + t), _int(T), _int(0), _int(0),
                      _int(0), _int(1), U, _int(0), _int(1), _int(n), _int(H), _int(2 * H), _int(G))
            for b in range(b0, b1):
                r = b * T + t
                x_h, x_r, r_h = X[r, 2 * H:], X[r, H:2 * H], R[b, 2 * H:]
                if reset_after:
                    for j in range(H):
                        x_h[j] += x_r[j] * r_h[j]
                else:
                    for j in range(H):
                        x_h[j] += r_h[j]
            _act_rows(act, X, b0 * T + t, T, n, 2 * H, G)  # hh
            for b in range(b0, b1):
                r = b * T + t
                x_z, x_h, h, h_prev = X[r, :H], X[r, 2 * H:], hs[r], hs[r - 1] if t > 0 else h0[b]
                for j in range(H):
                    z = x_z[j]
                    h[j] = z * h_prev[j] + (one - z) * x_h[j]
            if has_mask:
                _carry_masked(mk, hs, h0, T, t, b0, b1)


@njit(**_KERNEL)
def gru_forward(x, W, b_in, b_rec, U, h0, hs, X, rh, R, mk, has_mask, reset_after, act, nslots, rb,
                b_lo, b_hi, t0, t1):
    """x (B, T, I). hs (B, T, H) out: h_seq. X (B, T, 3H) out: gates z, r, hh. rh (B, T, H)
    out: h U_h + b_rec_h (reset_after) or r * h_{t-1}. R (B, 3H) scratch: a step's recurrent
    product. b_in: b[0] (reset_after) or b; b_rec: b[1] (reset_after, else zeros). mk,
    has_mask: the step mask (elman_forward)."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    X2 = X.reshape(B * T, 3 * H)
    rh2 = rh.reshape(B * T, H)
    for s in prange(nslots):
        r0 = b_lo + (b_hi - b_lo) * s // nslots
        r1 = b_lo + (b_hi - b_lo) * (s + 1) // nslots
        _gru_forward_slot(x2, W, b_in, b_rec, U, h0, hs2, X2, rh2, R, mk, has_mask, reset_after,
                          T, act, r0, r1, rb, t0, t1)


@njit(**_HELPER)
def _gru_back_point(code, X, hs, h0, rh, dhs, has_dhs, dX, dR, dh, mk, has_mask, reset_after, T,
                    t, b0, b1):
    """Step t of rows [b0, b1): dh + dh_seq -> dz, dhh (and dr, dR with reset_after) into dX,
    dh_{t-1}'s direct part d z into dh. A masked row: dX = dR = 0, dh += dh_seq (the state was
    carried over). Specialised for tanh by a constant `code` (see _elman_back_point); the
    reset_after test stays outside the element loops."""
    H = dh.shape[1]
    one = dX.dtype.type(1)
    zero = one - one
    for b in range(b0, b1):
        r = b * T + t
        if has_mask and mk[b, t] == 0:
            dx_row, dh_b = dX[r], dh[b]
            for k in range(3 * H):
                dx_row[k] = zero
            if reset_after:
                dr_row = dR[r]
                for k in range(3 * H):
                    dr_row[k] = zero
            if has_dhs:
                dh_seq = dhs[r]
                for j in range(H):
                    dh_b[j] += dh_seq[j]
            continue
        x_z, x_r, x_h = X[r, :H], X[r, H:2 * H], X[r, 2 * H:]
        dx_z, dx_r, dx_h = dX[r, :H], dX[r, H:2 * H], dX[r, 2 * H:]
        h_prev, dh_b = hs[r - 1] if t > 0 else h0[b], dh[b]
        dh_seq = dhs[r] if has_dhs else dh_b  # unused when not has_dhs
        for j in range(H):
            z = x_z[j]
            hh = x_h[j]
            d = dh_b[j] + dh_seq[j] if has_dhs else dh_b[j]
            dx_z[j] = d * (h_prev[j] - hh) * z * (one - z)
            dx_h[j] = d * (one - z) * _dact(code, hh, one)
            dh_b[j] = d * z
        if reset_after:
            rh_r, dr_z, dr_r, dr_h = rh[r], dR[r, :H], dR[r, H:2 * H], dR[r, 2 * H:]
            for j in range(H):
                rg = x_r[j]
                dhh = dx_h[j]
                dr = dhh * rh_r[j] * rg * (one - rg)
                dx_r[j] = dr
                dr_z[j] = dx_z[j]
                dr_r[j] = dr
                dr_h[j] = dhh * rg


@njit(**_SLOT)
def _gru_backward_slot(x, W, UT, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dW, dU,
                       db_in, db_rec, mk, has_mask, reset_after, T, act, r0, r1, rb, t0, t1):
    """Rows [r0, r1), steps [t0, t1) of gru_backward; dW, dU, db_in, db_rec: this slot's
    sums."""
    H = UT.shape[1]
    G = 3 * H
    one = UT.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(t1 - 1, t0 - 1, -1):
            if act == 0:  # tanh: a copy of the loop for it (see _elman_back_point)
                _gru_back_point(0, X, hs, h0, rh, dhs, has_dhs, dX, dR, dh, mk, has_mask,
                                reset_after, T, t, b0, b1)
            else:
                _gru_back_point(act, X, hs, h0, rh, dhs, has_dhs, dX, dR, dh, mk, has_mask,
                                reset_after, T, t, b0, b1)
            if reset_after:
                _back(dR, T, t, UT, dh, b0, b1, 0, G)
            else:
                for b in range(b0, b1):
                    for k in range(H):
                        drh[b, k] = zero
                _back(dX, T, t, UT, drh, b0, b1, 2 * H, G)
                for b in range(b0, b1):
                    r = b * T + t
                    x_r, dx_r, g_b, dh_b = X[r, H:2 * H], dX[r, H:2 * H], drh[b], dh[b]
                    h_prev = hs[r - 1] if t > 0 else h0[b]
                    for j in range(H):
                        rg = x_r[j]
                        g = g_b[j]
                        dx_r[j] = g * h_prev[j] * rg * (one - rg)
                        dh_b[j] += g * rg
                _back(dX, T, t, UT, dh, b0, b1, 0, 2 * H)
    _dx_and_colsum(dX, W, dx, db_in, T, t0, t1, r0, r1)
    _outer(x, h0, False, dX, T, t0, t1, 0, G, dW, r0, r1)
    if reset_after:
        _outer(hs, h0, True, dR, T, t0, t1, 0, G, dU, r0, r1)
        if t0 == 0 and t1 == T:
            _colsum(dR, db_rec, r0 * T, r1 * T)
        else:
            for b in range(r0, r1):
                _colsum(dR, db_rec, b * T + t0, b * T + t1)
    else:
        _outer(hs, h0, True, dX, T, t0, t1, 0, 2 * H, dU, r0, r1)
        _outer(rh, h0, False, dX, T, t0, t1, 2 * H, G, dU, r0, r1)


@njit(**_KERNEL)
def gru_backward(x, W, UT, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs, dbs_in,
                 dbs_rec, mk, has_mask, reset_after, act, nslots, rb, b_lo, b_hi, t0, t1):
    """UT = U^T (3H, H). dX (B, T, 3H) scratch: dL/d(x W + b_in). dR (B, T, 3H) scratch when
    reset_after: dL/d(h U + b_rec) (else a (1, 1, 1) dummy). drh (B, H) scratch: dL/d(r *
    h_{t-1}) of one step (not reset_after). dx (B, T, I) out. dh (B, H): dh_last on entry, dh0 on
    exit. dWs (S, I, 3H), dUs (S, H, 3H), dbs_in, dbs_rec (S, 3H): per-slot sums, added into
    (dbs_rec: reset_after)."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    X2 = X.reshape(B * T, 3 * H)
    rh2 = rh.reshape(B * T, H)
    dhs2 = dhs.reshape(dhs.shape[0] * dhs.shape[1], dhs.shape[2])
    dX2 = dX.reshape(B * T, 3 * H)
    dR2 = dR.reshape(dR.shape[0] * dR.shape[1], dR.shape[2])
    dx2 = dx.reshape(B * T, dx.shape[2])
    for s in prange(nslots):
        r0 = b_lo + (b_hi - b_lo) * s // nslots
        r1 = b_lo + (b_hi - b_lo) * (s + 1) // nslots
        _gru_backward_slot(x2, W, UT, h0, hs2, X2, rh2, dhs2, has_dhs, dX2, dR2, drh, dx2, dh,
                           dWs[s], dUs[s], dbs_in[s], dbs_rec[s], mk, has_mask, reset_after, T,
                           act, r0, r1, rb, t0, t1)


compile_with_slp_all(globals(), __name__)
