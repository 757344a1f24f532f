"""The building blocks of the numba kernels (``kernels``): compile options, the gate functions,
the matrix product ``_madd`` over the register tiles of ``tiles`` and its thin wrappers, and the
switch that compiles all of them with LLVM's SLP vectoriser (``slp_compiling``).

Every array here is 2-D and C-contiguous; a (B, T, X) array is passed as its (B T, X) reshape,
so "row b T + t" is sample b at step t. Activation codes: 0 tanh, 1 relu, 2 sigmoid, 3 linear
(the C++ enum's order). See ``kernels`` for how the kernels use these pieces.
"""

from __future__ import annotations

import contextlib

import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core.dispatcher import Dispatcher
from numba.extending import intrinsic, overload

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
# would compile its own copy of _madd (and the cold compile of the kernels would take several
# times longer).
_int = np.intp


# numba keys its on-disk cache of a function on the source of the function's own file only; the
# functions here link the tiles in, so this line changes whenever tiles.py does (written by
# scripts/gen_numba_tiles.py, checked by tests/kernels/test_numba_tiles.py).
SOURCES_SHA256 = "tiles.py:9796272239e52438"

def _tanh(v):
    return np.tanh(v)


def _sigmoid(v):
    return 1.0 / (1.0 + np.exp(-v))


# float32 gate functions are plain arithmetic, so that LLVM vectorises the gate loops (a call to
# libm's scalar expf / tanhf per value keeps them scalar). They are the C++ core's
# (csrc/cpu/fastmath.hpp), so that the two backends agree: exp by Cody-Waite range reduction and
# the Cephes polynomial, with 2^n built in the exponent bits (clamped to the finite range of exp);
# tanh(v) = 1 - 2 / (e^{2|v|} + 1) for |v| >= 0.625 and the Cephes odd polynomial below;
# sigmoid(v) = 1 / (1 + e^{-v}). Both saturate as the exact functions do (tanh reaches +-1,
# sigmoid(-30) is ~1e-13, not a rounding residue): gradients at saturated gates, where a value
# near 0 or 1 multiplies large ones, depend on it. float64 keeps libm's tanh and exp.
_EXP_P = (1.9875691500e-4, 1.3981999507e-3, 8.3334519073e-3, 4.1665795894e-2, 1.6666665459e-1,
          5.0000001201e-1)
_TANH_SMALL = (-5.70498872745e-3, 2.06390887954e-2, -5.37397155531e-2, 1.33314422036e-1,
               -3.33332819422e-1)


@intrinsic
def _f32_from_bits(typingctx, bits):
    """The float32 whose bit pattern is the low 32 bits of the integer `bits`: an LLVM bitcast,
    which vectorises (a scalar call such as ldexp would not)."""
    if not isinstance(bits, types.Integer):
        return None

    def codegen(context, builder, signature, args):
        v = args[0]
        width = v.type.width
        if width > 32:
            v = builder.trunc(v, ir.IntType(32))
        elif width < 32:
            v = builder.sext(v, ir.IntType(32))
        return builder.bitcast(v, ir.FloatType())

    return types.float32(bits), codegen


@intrinsic
def _f32_bits(typingctx, value):
    """The bit pattern of the float32 `value` as an int32 (an LLVM bitcast). The exponent of 2^n
    is built from it as the C++ core does, in integer arithmetic that is defined for any input
    (a float-to-int conversion of a NaN would not be)."""
    if value != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(args[0], ir.IntType(32))

    return types.int32(value), codegen


@njit(**_WRAPPER)
def _exp_f32(v):
    x = min(max(v, np.float32(-87.0)), np.float32(88.0))
    magic = np.float32(12582912.0)  # 1.5 * 2^23: adding it rounds to an integer
    t = x * np.float32(1.44269504088896341) + magic
    n = t - magic
    r = (x - n * np.float32(0.693359375)) - n * np.float32(-2.12194440e-4)
    p = np.float32(_EXP_P[0])
    p = p * r + np.float32(_EXP_P[1])
    p = p * r + np.float32(_EXP_P[2])
    p = p * r + np.float32(_EXP_P[3])
    p = p * r + np.float32(_EXP_P[4])
    p = p * r + np.float32(_EXP_P[5])
    p = p * (r * r) + r + np.float32(1.0)
    n_bits = np.int64(_f32_bits(t)) - np.int64(_f32_bits(magic))  # n (any int for a NaN)
    return p * _f32_from_bits((n_bits + 127) << 23)


@njit(**_WRAPPER)
def _tanh_f32(v):
    one = np.float32(1.0)
    ax = abs(v)
    big = one - np.float32(2.0) / (_exp_f32(np.float32(2.0) * ax) + one)
    z = v * v
    small = np.float32(_TANH_SMALL[0])
    small = small * z + np.float32(_TANH_SMALL[1])
    small = small * z + np.float32(_TANH_SMALL[2])
    small = small * z + np.float32(_TANH_SMALL[3])
    small = small * z + np.float32(_TANH_SMALL[4])
    small = small * z * v + v
    signed = -big if v < np.float32(0.0) else big
    return small if ax < np.float32(0.625) else signed


@njit(**_WRAPPER)
def _sigmoid_f32(v):
    one = np.float32(1.0)
    return one / (one + _exp_f32(-v))


@overload(_tanh, jit_options=dict(fastmath=_FASTMATH, error_model="numpy"), inline="always")
def _tanh_typed(v):
    if v == types.float32:
        return lambda v: _tanh_f32(v)
    return lambda v: np.tanh(v)


@overload(_sigmoid, jit_options=dict(fastmath=_FASTMATH, error_model="numpy"), inline="always")
def _sigmoid_typed(v):
    if v == types.float32:
        return lambda v: _sigmoid_f32(v)
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
def _outer_rows(L, D, q0, q1, j0, j1, out):
    """out[k, j] += sum over rows q in [q0, q1) of L[q, k] D[q, j], j in [j0, j1). Tiles of _RT
    rows, so that the tile of D stays in L1 while out is updated."""
    K = L.shape[1]
    for s0 in range(q0, q1, _RT):
        n = min(_RT, q1 - s0)
        _madd(out, _int(0), _int(1), L, _int(s0), _int(0), _int(1), _int(0), _int(1), _int(0), D,
              _int(s0), _int(1), _int(K), _int(n), _int(j0), _int(j1))


@njit(**_WRAPPER)
def _outer(L, L0, shifted, D, T, t0, t1, j0, j1, out, r0, r1):
    """out[k, j] += sum over samples b in [r0, r1) and steps t in [t0, t1) of
    L~[b T + t, k] D[b T + t, j], j in [j0, j1), where L~ is L, or with `shifted` the state
    before each step (L[b T + t - 1], L0[b] at t = 0). A call over whole sequences (t0 = 0,
    t1 = T) walks the rows of all its samples as one run."""
    K = L.shape[1]
    if not shifted:
        if t0 == 0 and t1 == T:
            _outer_rows(L, D, r0 * T, r1 * T, j0, j1, out)
        else:
            for b in range(r0, r1):
                _outer_rows(L, D, b * T + t0, b * T + t1, j0, j1, out)
        return
    for b in range(r0, r1):
        if t0 == 0 and t1 > 0:  # no step (T = 0): no row of D to read
            _madd(out, _int(0), _int(1), L0, _int(b), _int(0), _int(0), _int(0), _int(1), _int(0),
                  D, _int(b * T), _int(1), _int(K), _int(1), _int(j0), _int(j1))
        for s0 in range(max(t0, 1), t1, _RT):
            n = min(_RT, t1 - s0)
            _madd(out, _int(0), _int(1), L, _int(b * T + s0 - 1), _int(0), _int(1), _int(0),
                  _int(1), _int(0), D, _int(b * T + s0), _int(1), _int(K), _int(n), _int(j0),
                  _int(j1))


@njit(**_HELPER)
def _colsum(D, out, r0, r1):
    """out[:] += sum over rows r in [r0, r1) of D[r, :]."""
    G = D.shape[1]
    for r in range(r0, r1):
        for j in range(G):
            out[j] += D[r, j]


# ----------------------------------------------------------------------------------------------
# compiling with LLVM's SLP vectoriser
# ----------------------------------------------------------------------------------------------

@contextlib.contextmanager
def slp_compiling():
    """Turns numba's NUMBA_SLP_VECTORIZE setting on for what compiles inside the block.

    The register tiles of _madd (``tiles``) are vectorised by LLVM's SLP vectoriser, which
    numba leaves off by default (bench/NOTES.md section 10). The setting is read when
    a pass pipeline is built, so it is switched on only while a kernel compiles, under numba's
    compiler lock: no other thread's compile sees it, and other numba code keeps numba's default.
    The scalar helpers that loops call (_tanh_f32, _act, ...) are inlined at numba-IR level:
    compiled on their own with SLP on, their polynomials are packed into 4-wide vectors, and the
    loops calling them no longer vectorise 16-wide."""
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


def compile_with_slp_all(namespace, module):
    """Wraps every jitted function that `module` defines (its globals are `namespace`): not
    only the kernels, since one compiled from Python without SLP (a test calling _madd) would
    be cached on disk that way and then linked into the kernels."""
    for obj in list(namespace.values()):
        if isinstance(obj, Dispatcher) and obj.py_func.__module__ == module:
            _compile_with_slp(obj)


compile_with_slp_all(globals(), __name__)
compile_with_slp_all(vars(tiles), tiles.__name__)
