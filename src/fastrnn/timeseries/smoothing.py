"""Simple exponential smoothing: the sum of squared one-step errors at many smoothing
parameters at once (what Theta's least-squares fit searches over).

``ses_sse(z, alphas)`` -> (sse (K,), level0 (K,)) for z (n,) float64 and alphas (K,): at each
alpha the initial level l_0 is the least-squares one (the prediction is linear in it) and sse
the SSE of the one-step errors at that l_0. The compiled loop (``_kernels.ses_sse``, O(nK)
scalar work) is used where the package was built with its core; the NumPy fallback works in
blocks of 32 values, all alphas at once, and agrees to rounding.
"""

from __future__ import annotations

import numpy as np

try:
    from fastrnn.timeseries import _kernels
except ImportError:  # pragma: no cover - pure-Python install
    _kernels = None

__all__ = ["ses_sse"]


def ses_sse(z, alphas, backend="auto"):
    """(sse, level0), each (K,), of SES of z (1-D float64, n >= 1) at each of alphas (K,);
    `backend` "auto" (compiled where built), "compiled" or "numpy"."""
    z = np.ascontiguousarray(z, np.float64)
    alphas = np.ascontiguousarray(alphas, np.float64)
    if z.ndim != 1 or z.shape[0] == 0:
        raise ValueError(f"z: expected a non-empty 1-D array, got shape {z.shape}")
    if backend == "compiled" and _kernels is None:
        raise ValueError("backend: 'compiled' requested but fastrnn.timeseries._kernels is not "
                         "built")
    if backend not in ("auto", "compiled", "numpy"):
        raise ValueError(f"backend: expected 'auto', 'compiled' or 'numpy', got {backend!r}")
    if _kernels is not None and backend != "numpy":
        sse = np.empty(alphas.shape[0])
        level0 = np.empty(alphas.shape[0])
        _kernels.ses_sse(z, alphas, sse, level0)
        return sse, level0
    return _ses_sse_numpy(z, alphas)


_BLOCK = 32


def _ses_sse_numpy(z, alphas):
    """(SSE, l_0) at each alpha of the SES one-step errors of z, l_0 at its least-squares
    value: the prediction is c_t + d_t l_0, linear in l_0, with c_t the prediction from
    l_0 = 0 and d_t = (1 - alpha)^t.

    Block by block (32 values), all alphas at once: inside a block the predictions are the
    carried prediction times (1 - alpha)^k plus a lower-triangular matrix of weights
    alpha (1 - alpha)^(k-1-j) times the block's values (one matrix product instead of a
    Python step per value)."""
    alphas = np.asarray(alphas, np.float64)
    keep = (1.0 - alphas)[:, None]
    b = min(_BLOCK, z.shape[0])
    k = np.arange(b + 1)[:, None]
    j = np.arange(b)[None, :]
    expo = np.where(j < k, k - 1 - j, 0)
    weights = np.where(j < k, alphas[:, None, None] * keep[:, :, None] ** expo, 0.0)
    powers = keep ** np.arange(b + 1)                          # (K, b + 1)
    c = np.zeros(alphas.shape[0])
    d = np.ones(alphas.shape[0])
    srr = np.zeros_like(c)
    srd = np.zeros_like(c)
    sdd = np.zeros_like(c)
    for start in range(0, z.shape[0], b):
        block = z[start:start + b]
        m = block.shape[0]
        pred = powers[:, :m + 1] * c[:, None] + weights[:, :m + 1, :m] @ block
        dd = powers[:, :m] * d[:, None]
        r = block - pred[:, :m]
        srr += np.einsum("ij,ij->i", r, r)
        srd += np.einsum("ij,ij->i", r, dd)
        sdd += np.einsum("ij,ij->i", dd, dd)
        c, d = pred[:, m], powers[:, m] * d
    level0 = srd / sdd
    return srr - srd * level0, level0
