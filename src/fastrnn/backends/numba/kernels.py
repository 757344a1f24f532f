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
here compiles with LLVM's SLP vectoriser on (``slp_compiling``, at the end). Cold first-call
compile of all six float32 kernels: ~75 s (``bench/bench_numba.py --compile-time``); from the
on-disk cache 0.7 s.

All arrays inside are 2-D and C-contiguous: a (B, T, X) argument is used as its (B T, X)
reshape, row ``b T + t``. Every matrix product is ``_madd`` (register tiles of 4 rows x 32
columns whose sums stay in registers over the whole reduction, ``tiles``; see there).
Nothing allocates: every buffer (scratch included) is passed in.
Constants are ``U.dtype.type(...)`` so that float32 kernels stay in float32 (a bare literal would
promote to float64). ``error_model="numpy"``: no zero-division checks (they would block
vectorisation; IEEE results are what is wanted). Loops over a part of a row run over a 1-D row
view from index 0 (``Z[r, H:2 * H]``): an index numba cannot prove non-negative gets a
wraparound test per element, which keeps LLVM from vectorising the loop.

Activation codes: 0 tanh, 1 relu, 2 sigmoid, 3 linear (the C++ enum's order). Array arguments
must be C-contiguous, all of one dtype; absent initial states are passed as zeros and an absent
dh_seq as a (1, 1, 1) dummy with ``has_dhs=False``, so each kernel has one specialisation per
dtype.
"""

from __future__ import annotations

import contextlib

import numpy as np
from numba import njit, prange, types
from numba.core.dispatcher import Dispatcher
from numba.extending import overload

from fastrnn.backends.numba import tiles
from fastrnn.backends.numba.tiles import _tile_1x16, _tile_1x32, _tile_4x16, _tile_4x32

# contract: allow FMA (GCC does the same by default for the C++ core). No nnan/ninf: the
# sigmoid relies on exp overflowing to inf.
_FASTMATH = {"contract"}
_HELPER = dict(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy")
_KERNEL = dict(cache=True, nogil=True, fastmath=_FASTMATH, error_model="numpy", parallel=True)
# dot products (dx = dZ W^T): reassoc lets LLVM vectorise the sum; the order is fixed at compile
# time, so results stay deterministic and independent of the thread count.
_REDUCE = dict(cache=True, nogil=True, fastmath=_FASTMATH | {"reassoc"}, error_model="numpy")
_SLOT = dict(_HELPER, inline="always")  # the per-slot bodies: inlined into their prange loop
# thin wrappers around _madd: inlined at numba-IR level, so that _madd's code is not linked into
# (and re-optimised by LLVM in) one more compiled function per wrapper
_WRAPPER = dict(_HELPER, inline="always")
_RT = 64  # rows (samples) per tile of the weight-gradient products
# The integer arguments of _madd go through _int: numba compiles a callee once per distinct
# argument *types*, and a bare constant such as 0 is typed as Literal[int](0), so each call site
# would compile its own copy of _madd (cold compile of the six kernels: 102 s instead of ~30 s).
_int = np.intp


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


@njit(**_WRAPPER)
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


@overload(_tanh, jit_options=dict(fastmath=_FASTMATH, error_model="numpy"), inline="always")
def _tanh_typed(v):
    if v == types.float32:
        return lambda v: _tanh_f32(v)
    return lambda v: np.tanh(v)


@overload(_sigmoid, jit_options=dict(fastmath=_FASTMATH, error_model="numpy"), inline="always")
def _sigmoid_typed(v):
    if v == types.float32:
        half = np.float32(0.5)
        return lambda v: half + half * _tanh_f32(half * v)
    # exp(-v) overflows to inf for very negative v, and 1 / (1 + inf) = 0: no NaN either way.
    return lambda v: 1.0 / (1.0 + np.exp(-v))


@njit(**_WRAPPER)
def _act(code, v, one):
    if code == 0:
        return _tanh(v)
    if code == 1:
        return v if v > 0 else v - v
    if code == 2:
        return _sigmoid(v)
    return v


@njit(**_HELPER)
def _act_rows(code, Z, r0, rs, n, lo, hi):
    """Z[r, lo:hi] = act(Z[r, lo:hi]) in place for the n rows r = r0 + i rs: one plain loop per
    activation (a switch inside the loop would keep LLVM from vectorising it)."""
    if code == 0:
        for i in range(n):
            z = Z[r0 + i * rs, lo:hi]
            for j in range(hi - lo):
                z[j] = _tanh(z[j])
    elif code == 1:
        zero = Z.dtype.type(0)
        for i in range(n):
            z = Z[r0 + i * rs, lo:hi]
            for j in range(hi - lo):
                z[j] = max(z[j], zero)
    elif code == 2:
        for i in range(n):
            z = Z[r0 + i * rs, lo:hi]
            for j in range(hi - lo):
                z[j] = _sigmoid(z[j])


@njit(**_WRAPPER)
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
# shared pieces: every array below is 2-D and C-contiguous; a (B, T, X) array is passed as its
# (B T, X) reshape, so "row b T + t" is sample b at step t.
# ----------------------------------------------------------------------------------------------

@njit(**_HELPER)
def _madd(C, c0, cs, A, ar0, ari, arq, ac0, aci, acq, M, mr0, mrq, n_rows, n_q, j0, j1):
    """C[c0 + i cs, j0:j1] += sum over q < n_q of a(i, q) M[mr0 + q mrq, j0:j1] for i < n_rows,
    where a(i, q) = A[ar0 + i ari + q arq, ac0 + i aci + q acq].

    Every matrix product of the kernels is this function, told by the strides which rows of C,
    A and M it walks (A may be walked transposed). Register tiles of 4 (or 1) rows x 32 (or 16)
    columns (``tiles``: the sums stay in registers over the whole reduction, no stores and
    so no run-time alias checks inside it); what is left over at the right edge goes to
    ``_madd_blocks``."""
    Cf = C.reshape(C.size)
    Af = A.reshape(A.size)
    Mf = M.reshape(M.size)
    ldc = C.shape[1]
    lda = A.shape[1]
    ldm = M.shape[1]
    # column tiles outside, rows inside: a tile's panel of M (n_q x 32) stays in L1 for all rows
    j = j0
    while j + 16 <= j1:
        wide = j + 32 <= j1
        i = 0
        while i < n_rows:
            ci = c0 + i * cs
            ai = ar0 + i * ari
            aj = ac0 + i * aci
            if i + 4 <= n_rows:
                if wide:
                    _tile_4x32(Cf, ldc, ci, cs, Af, lda, ai, ari, arq, aj, aci, acq, Mf, ldm, mr0,
                               mrq, n_q, j)
                else:
                    _tile_4x16(Cf, ldc, ci, cs, Af, lda, ai, ari, arq, aj, aci, acq, Mf, ldm, mr0,
                               mrq, n_q, j)
                i += 4
            else:
                if wide:
                    _tile_1x32(Cf, ldc, ci, cs, Af, lda, ai, ari, arq, aj, aci, acq, Mf, ldm, mr0,
                               mrq, n_q, j)
                else:
                    _tile_1x16(Cf, ldc, ci, cs, Af, lda, ai, ari, arq, aj, aci, acq, Mf, ldm, mr0,
                               mrq, n_q, j)
                i += 1
        j += 32 if wide else 16
    if j < j1:
        _madd_blocks(C, c0, cs, A, ar0, ari, arq, ac0, aci, acq, M, mr0, mrq, n_rows, n_q, j, j1)


@njit(**_HELPER)
def _madd_blocks(C, c0, cs, A, ar0, ari, arq, ac0, aci, acq, M, mr0, mrq, n_rows, n_q, j0, j1):
    """_madd without tiles: what is left of a product at the right edge (< 16 columns). Blocks
    of 4 rows of C x 4 values of q: the 16 scalars a(i, q) are loaded once, then one contiguous
    j loop does 4 loads of M, 4 loads and 4 stores of C and 16 FMAs per element. All three
    arrays are walked through flat views with offsets clamped to >= 0 (every offset and stride
    here is >= 0): numba tests every index it cannot prove non-negative for wraparound, and
    LLVM does not vectorise a loop with that test. The exact form of the clamps matters:
    written differently, LLVM lost the proof and left the j loop scalar (check with inspect_asm
    after changing them)."""
    n = j1 - j0
    Cf = C.reshape(C.size)
    Mf = M.reshape(M.size)
    Af = A.reshape(A.size)
    ldc = C.shape[1]
    ldm = M.shape[1]
    lda = A.shape[1]
    si = max(ari * lda + aci, 0)  # flat stride of a(i, q) along i
    sq = max(arq * lda + acq, 0)  # ... along q
    i = 0
    while i + 4 <= n_rows:
        ca = max((c0 + i * cs) * ldc + j0, 0)
        cb = max(ca + cs * ldc, 0)
        cc = max(cb + cs * ldc, 0)
        cd = max(cc + cs * ldc, 0)
        pa = max((ar0 + i * ari) * lda + ac0 + i * aci, 0)
        q = 0
        while q + 4 <= n_q:
            p0 = pa + q * sq
            p1 = p0 + si
            p2 = p1 + si
            p3 = p2 + si
            a00 = Af[p0]
            a01 = Af[p0 + sq]
            a02 = Af[p0 + 2 * sq]
            a03 = Af[p0 + 3 * sq]
            a10 = Af[p1]
            a11 = Af[p1 + sq]
            a12 = Af[p1 + 2 * sq]
            a13 = Af[p1 + 3 * sq]
            a20 = Af[p2]
            a21 = Af[p2 + sq]
            a22 = Af[p2 + 2 * sq]
            a23 = Af[p2 + 3 * sq]
            a30 = Af[p3]
            a31 = Af[p3 + sq]
            a32 = Af[p3 + 2 * sq]
            a33 = Af[p3 + 3 * sq]
            m0 = max((mr0 + q * mrq) * ldm + j0, 0)
            m1 = max(m0 + mrq * ldm, 0)
            m2 = max(m1 + mrq * ldm, 0)
            m3 = max(m2 + mrq * ldm, 0)
            for j in range(n):
                u0 = Mf[m0 + j]
                u1 = Mf[m1 + j]
                u2 = Mf[m2 + j]
                u3 = Mf[m3 + j]
                Cf[ca + j] += a00 * u0 + a01 * u1 + a02 * u2 + a03 * u3
                Cf[cb + j] += a10 * u0 + a11 * u1 + a12 * u2 + a13 * u3
                Cf[cc + j] += a20 * u0 + a21 * u1 + a22 * u2 + a23 * u3
                Cf[cd + j] += a30 * u0 + a31 * u1 + a32 * u2 + a33 * u3
            q += 4
        while q < n_q:
            p0 = pa + q * sq
            a0 = Af[p0]
            a1 = Af[p0 + si]
            a2 = Af[p0 + 2 * si]
            a3 = Af[p0 + 3 * si]
            m0 = max((mr0 + q * mrq) * ldm + j0, 0)
            for j in range(n):
                u = Mf[m0 + j]
                Cf[ca + j] += a0 * u
                Cf[cb + j] += a1 * u
                Cf[cc + j] += a2 * u
                Cf[cd + j] += a3 * u
            q += 1
        i += 4
    while i < n_rows:
        ca = max((c0 + i * cs) * ldc + j0, 0)
        pa = max((ar0 + i * ari) * lda + ac0 + i * aci, 0)
        q = 0
        while q + 4 <= n_q:
            p0 = pa + q * sq
            a0 = Af[p0]
            a1 = Af[p0 + sq]
            a2 = Af[p0 + 2 * sq]
            a3 = Af[p0 + 3 * sq]
            m0 = max((mr0 + q * mrq) * ldm + j0, 0)
            m1 = max(m0 + mrq * ldm, 0)
            m2 = max(m1 + mrq * ldm, 0)
            m3 = max(m2 + mrq * ldm, 0)
            for j in range(n):
                Cf[ca + j] += a0 * Mf[m0 + j] + a1 * Mf[m1 + j] + a2 * Mf[m2 + j] + a3 * Mf[m3 + j]
            q += 4
        while q < n_q:
            a0 = Af[pa + q * sq]
            m0 = max((mr0 + q * mrq) * ldm + j0, 0)
            for j in range(n):
                Cf[ca + j] += a0 * Mf[m0 + j]
            q += 1
        i += 1


@njit(**_WRAPPER)
def _project(x, W, bias, Z, r0, r1):
    """Z[r, :] = bias + x[r] W for rows r in [r0, r1): the input projection of every step of a
    slot in one product (x (B T, I), W (I, G), Z (B T, G))."""
    G = Z.shape[1]
    for r in range(r0, r1):
        for j in range(G):
            Z[r, j] = bias[j]
    _madd(Z, _int(r0), _int(1), x, _int(r0), _int(1), _int(0), _int(0), _int(0), _int(1), W,
          _int(0), _int(1), _int(r1 - r0), _int(W.shape[0]), _int(0), _int(G))


@njit(**_WRAPPER)
def _recur(C, c0, cs, hs, h0, T, t, U, b0, b1, j0, j1):
    """C[c0 + (b - b0) cs, j0:j1] += h_{t-1}[b] U[:, j0:j1] for rows b in [b0, b1); h_{t-1}[b] is
    hs[b T + t - 1] (h0[b] at t = 0)."""
    if t > 0:
        _madd(C, _int(c0), _int(cs), hs, _int(b0 * T + t - 1), _int(T), _int(0), _int(0), _int(0),
              _int(1), U, _int(0), _int(1), _int(b1 - b0), _int(U.shape[0]), _int(j0), _int(j1))
    else:
        _madd(C, _int(c0), _int(cs), h0, _int(b0), _int(1), _int(0), _int(0), _int(0), _int(1), U,
              _int(0), _int(1), _int(b1 - b0), _int(U.shape[0]), _int(j0), _int(j1))


@njit(**_WRAPPER)
def _back(D, T, t, UT, dh, b0, b1, j0, j1):
    """dh[b, :] += D[b T + t, j0:j1] U[:, j0:j1]^T for rows b in [b0, b1), with UT = U^T (G, H)
    C-contiguous: the gradient through h U, as a product whose reduction runs over G."""
    _madd(dh, _int(b0), _int(1), D, _int(b0 * T + t), _int(T), _int(0), _int(j0), _int(0),
          _int(1), UT, _int(j0), _int(1), _int(b1 - b0), _int(j1 - j0), _int(0), _int(UT.shape[1]))


@njit(**_REDUCE)
def _dx_rows(D, W, dx, r0, r1):
    """dx[r, :] = D[r] W^T for rows r in [r0, r1): a dot product along G per element (I is
    small, often 1, so the product is not worth a transposed copy of W)."""
    G = D.shape[1]
    I = W.shape[0]
    zero = W.dtype.type(0)
    for r in range(r0, r1):
        for i in range(I):
            acc = zero
            for j in range(G):
                acc += D[r, j] * W[i, j]
            dx[r, i] = acc


@njit(**_WRAPPER)
def _outer(L, L0, shifted, D, T, j0, j1, out, r0, r1):
    """out[k, j] += sum over samples b in [r0, r1) and steps t of L~[b T + t, k] D[b T + t, j],
    j in [j0, j1), where L~ is L, or with `shifted` the state before each step (L[b T + t - 1],
    L0[b] at t = 0). Tiles of _RT rows, so that the tile of D stays in L1 while out is updated."""
    K = L.shape[1]
    if not shifted:
        for q0 in range(r0 * T, r1 * T, _RT):
            n = min(_RT, r1 * T - q0)
            _madd(out, _int(0), _int(1), L, _int(q0), _int(0), _int(1), _int(0), _int(1), _int(0),
                  D, _int(q0), _int(1), _int(K), _int(n), _int(j0), _int(j1))
        return
    for b in range(r0, r1):
        _madd(out, _int(0), _int(1), L0, _int(b), _int(0), _int(0), _int(0), _int(1), _int(0), D,
              _int(b * T), _int(1), _int(K), _int(1), _int(j0), _int(j1))
        for t0 in range(1, T, _RT):
            n = min(_RT, T - t0)
            _madd(out, _int(0), _int(1), L, _int(b * T + t0 - 1), _int(0), _int(1), _int(0),
                  _int(1), _int(0), D, _int(b * T + t0), _int(1), _int(K), _int(n), _int(j0),
                  _int(j1))


@njit(**_HELPER)
def _colsum(D, out, r0, r1):
    """out[:] += sum over rows r in [r0, r1) of D[r, :]."""
    G = D.shape[1]
    for r in range(r0, r1):
        for j in range(G):
            out[j] += D[r, j]


# ----------------------------------------------------------------------------------------------
# Elman
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _elman_forward_slot(x, W, bias, U, h0, hs, T, act, r0, r1, rb):
    """Rows [r0, r1) of elman_forward."""
    H = U.shape[0]
    _project(x, W, bias, hs, r0 * T, r1 * T)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T):
            _recur(hs, b0 * T + t, T, hs, h0, T, t, U, b0, b1, 0, H)
            _act_rows(act, hs, b0 * T + t, T, b1 - b0, 0, H)


@njit(**_KERNEL)
def elman_forward(x, W, bias, U, h0, hs, act, nslots, rb):
    """x (B, T, I), hs (B, T, H) out: h_seq."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _elman_forward_slot(x2, W, bias, U, h0, hs2, T, act, r0, r1, rb)


@njit(**_HELPER)
def _elman_back_point(code, hs, dhs, has_dhs, dA, dh, T, t, b0, b1):
    """Step t of rows [b0, b1): dA = (dh + dh_seq) act'(a); dh = 0 (the recurrent product adds
    into it next).

    The *_back_point functions are called twice in their kernel: with the constant code 0, so
    that LLVM inlines the call, folds the activation switch away and vectorises the loop for
    tanh (the default), and with the run-time code for the other activations, where the switch
    stays inside the loop and keeps it scalar (10x slower on the LSTM's loop, still correct).
    A copy per activation would compile two more copies per kernel (cold compile of the six
    float32 kernels: 69 s instead of 49 s)."""
    H = dh.shape[1]
    one = dA.dtype.type(1)
    zero = one - one
    for b in range(b0, b1):
        r = b * T + t
        if has_dhs:
            for j in range(H):
                dA[r, j] = (dh[b, j] + dhs[r, j]) * _dact(code, hs[r, j], one)
                dh[b, j] = zero
        else:
            for j in range(H):
                dA[r, j] = dh[b, j] * _dact(code, hs[r, j], one)
                dh[b, j] = zero


@njit(**_SLOT)
def _elman_backward_slot(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dW, dU, db, T, act,
                         r0, r1, rb):
    """Rows [r0, r1) of elman_backward; dW, dU, db: this slot's sums."""
    H = UT.shape[1]
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            if act == 0:  # tanh: a copy of the loop for it (see _elman_back_point)
                _elman_back_point(0, hs, dhs, has_dhs, dA, dh, T, t, b0, b1)
            else:
                _elman_back_point(act, hs, dhs, has_dhs, dA, dh, T, t, b0, b1)
            _back(dA, T, t, UT, dh, b0, b1, 0, H)
    _dx_rows(dA, W, dx, r0 * T, r1 * T)
    _outer(x, h0, False, dA, T, 0, H, dW, r0, r1)
    _outer(hs, h0, True, dA, T, 0, H, dU, r0, r1)
    _colsum(dA, db, r0 * T, r1 * T)


@njit(**_KERNEL)
def elman_backward(x, W, UT, h0, hs, dhs, has_dhs, dA, dx, dh, dWs, dUs, dbs, act, nslots, rb):
    """UT = U^T (H, H). dhs (B, T, H) or a (1, 1, 1) dummy (has_dhs False). dA (B, T, H) scratch:
    dL/d(pre-activation). dx (B, T, I) out. dh (B, H): dh_last on entry, dh0 on exit.
    dWs (S, I, H), dUs (S, H, H), dbs (S, H): zeroed per-slot sums, out."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    dhs2 = dhs.reshape(dhs.shape[0] * dhs.shape[1], dhs.shape[2])
    dA2 = dA.reshape(B * T, H)
    dx2 = dx.reshape(B * T, dx.shape[2])
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _elman_backward_slot(x2, W, UT, h0, hs2, dhs2, has_dhs, dA2, dx2, dh, dWs[s], dUs[s],
                             dbs[s], T, act, r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _lstm_forward_slot(x, W, bias, U, h0, c0, hs, cs, Z, T, act, r0, r1, rb):
    """Rows [r0, r1) of lstm_forward."""
    H = U.shape[0]
    G = 4 * H
    _project(x, W, bias, Z, r0 * T, r1 * T)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        n = b1 - b0
        for t in range(T):
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


@njit(**_KERNEL)
def lstm_forward(x, W, bias, U, h0, c0, hs, cs, Z, act, nslots, rb):
    """x (B, T, I). hs, cs (B, T, H) out: h_seq, c_seq. Z (B, T, 4H) out: activated gates i, f,
    g, o."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    cs2 = cs.reshape(B * T, H)
    Z2 = Z.reshape(B * T, 4 * H)
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _lstm_forward_slot(x2, W, bias, U, h0, c0, hs2, cs2, Z2, T, act, r0, r1, rb)


@njit(**_HELPER)
def _lstm_back_point(code, Z, cs, c0, dhs, has_dhs, dZ, dh, dc, T, t, b0, b1):
    """Step t of rows [b0, b1): (dh + dh_seq, dc) -> the gate pre-activation gradients dZ and
    dc_{t-1}; dh = 0. Specialised for tanh by a constant `code` (see _elman_back_point)."""
    H = dh.shape[1]
    one = dZ.dtype.type(1)
    zero = one - one
    for b in range(b0, b1):
        r = b * T + t
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
                        T, act, r0, r1, rb):
    """Rows [r0, r1) of lstm_backward; dW, dU, db: this slot's sums."""
    G = 4 * UT.shape[1]
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            if act == 0:  # tanh: a copy of the loop for it (see _elman_back_point)
                _lstm_back_point(0, Z, cs, c0, dhs, has_dhs, dZ, dh, dc, T, t, b0, b1)
            else:
                _lstm_back_point(act, Z, cs, c0, dhs, has_dhs, dZ, dh, dc, T, t, b0, b1)
            _back(dZ, T, t, UT, dh, b0, b1, 0, G)
    _dx_rows(dZ, W, dx, r0 * T, r1 * T)
    _outer(x, h0, False, dZ, T, 0, G, dW, r0, r1)
    _outer(hs, h0, True, dZ, T, 0, G, dU, r0, r1)
    _colsum(dZ, db, r0 * T, r1 * T)


@njit(**_KERNEL)
def lstm_backward(x, W, UT, h0, c0, hs, cs, Z, dhs, has_dhs, dZ, dx, dh, dc, dWs, dUs, dbs,
                  act, nslots, rb):
    """UT = U^T (4H, H). dZ (B, T, 4H) scratch. dx (B, T, I) out. dh, dc (B, H): dh_last,
    dc_last on entry, dh0, dc0 on exit. dWs (S, I, 4H), dUs (S, H, 4H), dbs (S, 4H): zeroed
    per-slot sums, out."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    cs2 = cs.reshape(B * T, H)
    Z2 = Z.reshape(B * T, 4 * H)
    dhs2 = dhs.reshape(dhs.shape[0] * dhs.shape[1], dhs.shape[2])
    dZ2 = dZ.reshape(B * T, 4 * H)
    dx2 = dx.reshape(B * T, dx.shape[2])
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _lstm_backward_slot(x2, W, UT, h0, c0, hs2, cs2, Z2, dhs2, has_dhs, dZ2, dx2, dh, dc,
                            dWs[s], dUs[s], dbs[s], T, act, r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

@njit(**_SLOT)
def _gru_forward_slot(x, W, b_in, b_rec, U, h0, hs, X, rh, R, reset_after, T, act, r0, r1, rb):
    """Rows [r0, r1) of gru_forward."""
    H = U.shape[0]
    G = 3 * H
    n_rec = G if reset_after else 2 * H  # columns of U multiplied by h_{t-1}
    one = U.dtype.type(1)
    _project(x, W, b_in, X, r0 * T, r1 * T)
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        n = b1 - b0
        for t in range(T):
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


@njit(**_KERNEL)
def gru_forward(x, W, b_in, b_rec, U, h0, hs, X, rh, R, reset_after, act, nslots, rb):
    """x (B, T, I). hs (B, T, H) out: h_seq. X (B, T, 3H) out: gates z, r, hh. rh (B, T, H)
    out: h U_h + b_rec_h (reset_after) or r * h_{t-1}. R (B, 3H) scratch: a step's recurrent
    product. b_in: b[0] (reset_after) or b; b_rec: b[1] (reset_after, else zeros)."""
    B, T, H = hs.shape
    x2 = x.reshape(B * T, x.shape[2])
    hs2 = hs.reshape(B * T, H)
    X2 = X.reshape(B * T, 3 * H)
    rh2 = rh.reshape(B * T, H)
    for s in prange(nslots):
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _gru_forward_slot(x2, W, b_in, b_rec, U, h0, hs2, X2, rh2, R, reset_after, T, act,
                          r0, r1, rb)


@njit(**_HELPER)
def _gru_back_point(code, X, hs, h0, rh, dhs, has_dhs, dX, dR, dh, reset_after, T, t, b0, b1):
    """Step t of rows [b0, b1): dh + dh_seq -> dz, dhh (and dr, dR with reset_after) into dX,
    dh_{t-1}'s direct part d z into dh. Specialised for tanh by a constant `code` (see
    _elman_back_point); the reset_after test stays outside the element loops."""
    H = dh.shape[1]
    one = dX.dtype.type(1)
    for b in range(b0, b1):
        r = b * T + t
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
                       db_in, db_rec, reset_after, T, act, r0, r1, rb):
    """Rows [r0, r1) of gru_backward; dW, dU, db_in, db_rec: this slot's sums."""
    H = UT.shape[1]
    G = 3 * H
    one = UT.dtype.type(1)
    zero = one - one
    for b0 in range(r0, r1, rb):
        b1 = min(b0 + rb, r1)
        for t in range(T - 1, -1, -1):
            if act == 0:  # tanh: a copy of the loop for it (see _elman_back_point)
                _gru_back_point(0, X, hs, h0, rh, dhs, has_dhs, dX, dR, dh, reset_after, T, t,
                                b0, b1)
            else:
                _gru_back_point(act, X, hs, h0, rh, dhs, has_dhs, dX, dR, dh, reset_after, T, t,
                                b0, b1)
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
    _dx_rows(dX, W, dx, r0 * T, r1 * T)
    _outer(x, h0, False, dX, T, 0, G, dW, r0, r1)
    _colsum(dX, db_in, r0 * T, r1 * T)
    if reset_after:
        _outer(hs, h0, True, dR, T, 0, G, dU, r0, r1)
        _colsum(dR, db_rec, r0 * T, r1 * T)
    else:
        _outer(hs, h0, True, dX, T, 0, 2 * H, dU, r0, r1)
        _outer(rh, h0, False, dX, T, 2 * H, G, dU, r0, r1)


@njit(**_KERNEL)
def gru_backward(x, W, UT, h0, hs, X, rh, dhs, has_dhs, dX, dR, drh, dx, dh, dWs, dUs, dbs_in,
                 dbs_rec, reset_after, act, nslots, rb):
    """UT = U^T (3H, H). dX (B, T, 3H) scratch: dL/d(x W + b_in). dR (B, T, 3H) scratch when
    reset_after: dL/d(h U + b_rec) (else a (1, 1, 1) dummy). drh (B, H) scratch: dL/d(r *
    h_{t-1}) of one step (not reset_after). dx (B, T, I) out. dh (B, H): dh_last on entry, dh0 on
    exit. dWs (S, I, 3H), dUs (S, H, 3H), dbs_in, dbs_rec (S, 3H): zeroed per-slot sums, out
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
        r0 = B * s // nslots
        r1 = B * (s + 1) // nslots
        _gru_backward_slot(x2, W, UT, h0, hs2, X2, rh2, dhs2, has_dhs, dX2, dR2, drh, dx2, dh,
                           dWs[s], dUs[s], dbs_in[s], dbs_rec[s], reset_after, T, act,
                           r0, r1, rb)


# ----------------------------------------------------------------------------------------------
# compiling with LLVM's SLP vectoriser
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def slp_compiling():
    """Turns numba's NUMBA_SLP_VECTORIZE setting on for what compiles inside the block.

    The register tiles of _madd (``tiles``) are vectorised by LLVM's SLP vectoriser, which
    numba leaves off by default (3.3x on a 4 x 32 tile: bench/NOTES.md). The setting is read when
    a pass pipeline is built, so it is switched on only while a kernel compiles, under numba's
    compiler lock: no other thread's compile sees it, and other numba code keeps numba's default.
    The scalar helpers that loops call (_tanh_f32, _act, ...) are inlined at numba-IR level:
    compiled on their own with SLP on, their polynomials were packed into 4-wide vectors, and the
    loops calling them no longer vectorised 16-wide (7x slower gate loops)."""
    from numba.core import config
    from numba.core.compiler_lock import global_compiler_lock
    with global_compiler_lock:
        before = getattr(config, "SLP_VECTORIZE", 0)
        config.SLP_VECTORIZE = 1
        try:
            yield
        finally:
            config.SLP_VECTORIZE = before


def _compile_with_slp(dispatcher):
    """Makes `dispatcher` compile each new specialisation inside slp_compiling(): numba calls a
    dispatcher's _compile_for_args when a call from Python finds no compiled (or cached) version
    for its argument types; the call itself runs after the block, outside the compiler lock.
    (Callees compile as part of their caller's compile, inside the caller's block.)"""
    compile_for_args = dispatcher._compile_for_args

    def compile_with_slp(*args, **kws):
        with slp_compiling():
            return compile_for_args(*args, **kws)

    dispatcher._compile_for_args = compile_with_slp
    return dispatcher


# every jitted function here, not only the six kernels: one compiled from Python without SLP
# (a test calling _madd) would be cached on disk that way and then linked into the kernels
for _obj in list(globals().values()) + list(vars(tiles).values()):
    if isinstance(_obj, Dispatcher):
        _compile_with_slp(_obj)
