# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""Compiled hot loops of fastrnn.timeseries (Cython, built by cmake/timeseries.cmake).

Everything here takes typed memoryviews allocated by the Python layer (no NumPy C API, no
allocation of Python objects inside loops) and releases the GIL. The Python modules validate
arguments; these functions trust their inputs.

* ``panel_windows``: copy the windows of many series (one concatenated, C-contiguous value array
  plus row offsets) into one (W, lags, F) input block, one (W, horizon, Fy) target block and a
  (W,) series-id vector. Each window of a row-major (time, features) array is one contiguous
  block, so a window costs one memcpy.
* ``lag_matrix``: the contiguous (n - maxlag, maxlag + 1) matrix [x_t, x_{t-1}, ..., x_{t-maxlag}].
* ``adf_many``: the (augmented) Dickey-Fuller regression on every row of a panel.
* ``ses_sse``: the SSE and least-squares initial level of simple exponential smoothing at many
  smoothing parameters (Theta's fit).

What is clever in ``adf_many`` (all sums are exact algebra, no approximation):
  The ADF regression of d_t = x_{t+1} - x_t on [deterministic terms, x_t, d_{t-1}, ..., d_{t-K}]
  over rows t = s .. n-2 is solved through its Gram matrix G = [Z y]^T [Z y]. The lag block of G
  is a sliding-window autocovariance: entry (i, i+h) = sum_t d_{t-i} d_{t-i-h}, and moving i to
  i+1 shifts the window by one, so each diagonal of the block costs one dot product plus O(1)
  updates per entry (O(n K) for the whole block instead of O(n K^2)). One Cholesky factor L of
  the augmented G (y last) then gives every nested regression at once: with r = L[y, :],
  RSS(first k columns) = L[y,y]^2 + sum_{i>=k} r_i^2, and the t-value of column k-1 in that
  regression is r_{k-1} / sqrt(RSS_k / (m - k)). That is the whole autolag search (statsmodels
  refits maxlag+1 OLS models); the chosen lag is then refitted on its own (longer) sample with
  the level column placed last, so its t-value is again r_level / s. Deterministic columns are
  1, tau, tau^2 with tau the time index mapped to [-1, 1] (same column space as 1, t, t^2), and
  the level is centred when a constant is present (the t-value is invariant to both), which
  keeps the Gram matrix well conditioned.
"""

from libc.math cimport sqrt, log, fabs, erfc, M_PI, NAN
from libc.string cimport memcpy
from libc.stdint cimport int64_t

ctypedef fused real:
    float
    double


def panel_windows(const real[:, ::1] xin, const real[:, ::1] yin, const int64_t[::1] offsets,
                  const int64_t[::1] counts, Py_ssize_t lags, Py_ssize_t horizon,
                  Py_ssize_t stride, real[:, :, ::1] X, real[:, :, ::1] y, int64_t[::1] ids):
    """Fill X (W, lags, Fx), y (W, horizon, Fy), ids (W,) from S series.

    Series s occupies rows offsets[s] .. offsets[s+1]-1 of xin (Ntot, Fx) and yin (Ntot, Fy)
    and contributes counts[s] windows; window j of series s reads input rows
    offsets[s] + j*stride + [0, lags) and target rows offsets[s] + j*stride + lags + [0, horizon).
    """
    cdef Py_ssize_t S = counts.shape[0], s, j, w = 0, r
    cdef Py_ssize_t fx = xin.shape[1], fy = yin.shape[1]
    cdef size_t xbytes = lags * fx * sizeof(real), ybytes = horizon * fy * sizeof(real)
    with nogil:
        for s in range(S):
            for j in range(counts[s]):
                r = offsets[s] + j * stride
                if xbytes:
                    memcpy(&X[w, 0, 0], &xin[r, 0], xbytes)
                if ybytes:
                    memcpy(&y[w, 0, 0], &yin[r + lags, 0], ybytes)
                ids[w] = s
                w += 1
    return w


def lag_matrix(const real[::1] x, Py_ssize_t maxlag, real[:, ::1] out):
    """out[t, j] = x[t + maxlag - j] for t < n - maxlag, j <= maxlag."""
    cdef Py_ssize_t m = out.shape[0], t, j
    with nogil:
        for t in range(m):
            for j in range(maxlag + 1):
                out[t, j] = x[t + maxlag - j]


def ses_sse(const double[::1] z, const double[::1] alphas, double[::1] sse,
            double[::1] level0):
    """sse[k], level0[k]: the least-squares l_0 and the SSE of the one-step errors of simple
    exponential smoothing of z at alphas[k]. The prediction is c_t + d_t l_0 (c from l_0 = 0,
    d_t = (1 - alpha)^t), so the sums of r^2, r d and d^2 (r = z - c) give both."""
    cdef Py_ssize_t n = z.shape[0], K = alphas.shape[0], k, t
    cdef double a, keep, c, d, r, srr, srd, sdd
    with nogil:
        for k in range(K):
            a = alphas[k]
            keep = 1.0 - a
            c = 0.0
            d = 1.0
            srr = 0.0
            srd = 0.0
            sdd = 0.0
            for t in range(n):
                r = z[t] - c
                srr += r * r
                srd += r * d
                sdd += d * d
                c += a * r
                d *= keep
            level0[k] = srd / sdd
            sse[k] = srr - srd * level0[k]


# ----------------------------------------------------------------------------------------------
# ADF on a panel
# ----------------------------------------------------------------------------------------------

cdef inline double _dot(const double* a, const double* b, Py_ssize_t n) noexcept nogil:
    # four partial sums: breaks the add latency chain (and is slightly more accurate)
    cdef double s0 = 0.0, s1 = 0.0, s2 = 0.0, s3 = 0.0
    cdef Py_ssize_t i = 0
    while i + 4 <= n:
        s0 += a[i] * b[i]
        s1 += a[i + 1] * b[i + 1]
        s2 += a[i + 2] * b[i + 2]
        s3 += a[i + 3] * b[i + 3]
        i += 4
    while i < n:
        s0 += a[i] * b[i]
        i += 1
    return (s0 + s1) + (s2 + s3)


cdef inline void _set(double* G, Py_ssize_t p, Py_ssize_t i, Py_ssize_t j, double v) noexcept nogil:
    # lower triangle only
    if i >= j:
        G[i * p + j] = v
    else:
        G[j * p + i] = v


cdef void _gram(const double* d, const double* xc, Py_ssize_t n, Py_ssize_t s, int ntrend, int K,
                const int* idx_d, int c_level, double* G, Py_ssize_t p, double* tau) noexcept nogil:
    """Lower triangle of the Gram matrix of the ADF regression over rows t = s .. n-2.

    Columns: det k -> k (k < ntrend), level -> c_level, lag j -> idx_d[j] (idx_d[0] is y = d_t).
    tau: scratch of length 2*m.
    """
    cdef Py_ssize_t e = n - 1, m = e - s, h, i, j, k, t
    cdef double acc, mid, half
    cdef const double* det[3]
    # lag block (y is lag 0): sliding windows along each diagonal
    for h in range(K + 1):
        acc = _dot(d + s, d + s - h, m)
        _set(G, p, idx_d[0], idx_d[h], acc)
        for i in range(1, K - h + 1):
            acc += d[s - i] * d[s - i - h] - d[e - i] * d[e - i - h]
            _set(G, p, idx_d[i], idx_d[i + h], acc)
    # level column
    for j in range(K + 1):
        _set(G, p, c_level, idx_d[j], _dot(xc + s, d + s - j, m))
    _set(G, p, c_level, c_level, _dot(xc + s, xc + s, m))
    if ntrend == 0:
        return
    # deterministic columns: 1, tau, tau^2 with tau in [-1, 1]
    mid = 0.5 * (s + e - 1)
    half = 0.5 * (e - 1 - s)
    if half <= 0.0:
        half = 1.0
    if ntrend >= 2:
        for t in range(m):
            tau[t] = (s + t - mid) / half
    if ntrend >= 3:
        for t in range(m):
            tau[m + t] = tau[t] * tau[t]
    for k in range(ntrend):
        if k == 0:
            acc = 0.0
            for t in range(m):
                acc += xc[s + t]
            _set(G, p, k, c_level, acc)
            for j in range(K + 1):
                acc = 0.0
                for t in range(m):
                    acc += d[s - j + t]
                _set(G, p, k, idx_d[j], acc)
            _set(G, p, 0, 0, <double>m)
        else:
            det[k] = tau + (k - 1) * m
            _set(G, p, k, c_level, _dot(det[k], xc + s, m))
            for j in range(K + 1):
                _set(G, p, k, idx_d[j], _dot(det[k], d + s - j, m))
            acc = 0.0
            for t in range(m):
                acc += det[k][t]
            _set(G, p, k, 0, acc)
            for i in range(1, k + 1):
                _set(G, p, k, i, _dot(det[k], det[i], m))


cdef int _chol(double* G, Py_ssize_t p) noexcept nogil:
    """In-place lower Cholesky of the row-major p x p lower triangle. The last column is y:
    its pivot is the full-model RSS and may be 0. Returns 0, or 2 when a regressor column is
    (numerically) a linear combination of the previous ones."""
    cdef Py_ssize_t i, j, k
    cdef double v, dj
    for j in range(p):
        dj = G[j * p + j]
        v = dj
        for k in range(j):
            v -= G[j * p + k] * G[j * p + k]
        if j < p - 1:
            if not (v > 1e-13 * dj) or dj <= 0.0:
                return 2
        else:
            if not (v > 0.0):
                v = 0.0
        G[j * p + j] = sqrt(v)
        if j == p - 1:
            break
        for i in range(j + 1, p):
            v = G[i * p + j]
            for k in range(j):
                v -= G[i * p + k] * G[j * p + k]
            G[i * p + j] = v / G[j * p + j]
    return 0


cdef inline double _llf(double rss, double m) noexcept nogil:
    cdef double nobs2 = m / 2.0
    return -log(rss) * nobs2 - (1.0 + log(M_PI / nobs2)) * nobs2


cdef int _adf_one(const double* x, Py_ssize_t n, int ntrend, int K, int method,
                  double* d, double* xc, double* G, double* tau, int* idx,
                  double* stat, int64_t* usedlag, int64_t* nobs, double* icbest) noexcept nogil:
    """One series. method: 0 none (use K lags), 1 AIC, 2 BIC, 3 t-stat. Returns 0 or an error
    code: 1 constant series, 2 collinear regressors, 3 non-finite value."""
    cdef Py_ssize_t i, j, k, p, m, s
    cdef double mean = 0.0, xmin = x[0], xmax = x[0], v, rss, ic, best, tv, df
    cdef int lag, bestlag, c_y
    for i in range(n):
        v = x[i]
        if not (fabs(v) <= 1.79e308):
            return 3
        if v < xmin:
            xmin = v
        if v > xmax:
            xmax = v
    if xmax == xmin:
        return 1
    for i in range(n - 1):
        d[i] = x[i + 1] - x[i]
    if ntrend > 0:
        for i in range(n - 1):
            mean += x[i]
        mean /= (n - 1)
    for i in range(n - 1):
        xc[i] = x[i] - mean
    bestlag = K
    icbest[0] = NAN
    if method != 0:
        # all candidates on the maxlag-trimmed sample: [det, level, lag 1..K, y]
        s = K
        m = n - 1 - K
        p = ntrend + K + 2
        c_y = p - 1
        idx[0] = c_y
        for j in range(1, K + 1):
            idx[j] = ntrend + j
        _gram(d, xc, n, s, ntrend, K, idx, ntrend, G, p, tau)
        if _chol(G, p) != 0:
            return 2
        # G[c_y * p + i] = r_i ; reuse tau[] for RSS_k, k = ntrend+1 .. ntrend+1+K
        rss = G[c_y * p + c_y] * G[c_y * p + c_y]
        for k in range(p - 1, ntrend, -1):
            # rss = RSS of the model with the first k columns
            tau[k] = rss
            rss += G[c_y * p + k - 1] * G[c_y * p + k - 1]
        if method == 1 or method == 2:
            best = 0.0
            for lag in range(K + 1):
                k = ntrend + 1 + lag
                ic = -2.0 * _llf(tau[k], <double>m)
                if method == 1:
                    ic += 2.0 * k
                else:
                    ic += log(<double>m) * k
                if lag == 0 or ic < best:
                    best = ic
                    bestlag = lag
            icbest[0] = best
        else:
            bestlag = K
            tv = 0.0
            for lag in range(K, -1, -1):
                k = ntrend + 1 + lag
                df = <double>(m - k)
                tv = fabs(G[c_y * p + k - 1]) / sqrt(tau[k] / df)
                bestlag = lag
                if tv >= 1.6448536269514722:
                    break
            icbest[0] = tv
    # final regression on its own sample: [det, lag 1..L, level, y]
    lag = bestlag
    s = lag
    m = n - 1 - lag
    p = ntrend + lag + 2
    c_y = p - 1
    idx[0] = c_y
    for j in range(1, lag + 1):
        idx[j] = ntrend + j - 1
    _gram(d, xc, n, s, ntrend, lag, idx, ntrend + lag, G, p, tau)
    if _chol(G, p) != 0:
        return 2
    rss = G[c_y * p + c_y] * G[c_y * p + c_y]
    stat[0] = G[c_y * p + c_y - 1] / sqrt(rss / <double>(m - (p - 1)))
    usedlag[0] = lag
    nobs[0] = m
    return 0


def adf_many(const double[:, ::1] X, int ntrend, int maxlag, int method, double[::1] stat,
             int64_t[::1] usedlag, int64_t[::1] nobs, double[::1] icbest, int64_t[::1] status,
             double[::1] work):
    """Run the ADF regression on every row of X (S, n). work: scratch of length
    2*n + (ntrend+maxlag+2)**2 + 2*n + (maxlag+1) (see fastrnn.timeseries.adf)."""
    cdef Py_ssize_t S = X.shape[0], n = X.shape[1], r
    cdef Py_ssize_t p = ntrend + maxlag + 2
    cdef double* d = &work[0]
    cdef double* xc = d + n
    cdef double* G = xc + n
    cdef double* tau = G + p * p
    cdef int idx[4096]
    if maxlag + 1 > 4096:
        raise ValueError(f"maxlag={maxlag} is too large for the compiled kernel (at most 4095)")
    with nogil:
        for r in range(S):
            status[r] = _adf_one(&X[r, 0], n, ntrend, maxlag, method, d, xc, G, tau, idx,
                                 &stat[r], &usedlag[r], &nobs[r], &icbest[r])
            if status[r] != 0:
                stat[r] = NAN
                icbest[r] = NAN
                usedlag[r] = -1
                nobs[r] = -1
