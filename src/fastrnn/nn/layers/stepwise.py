"""The per-step path of the recurrent layers (the Python path only): one cell step at a time,
for what the whole-sequence kernels do not take.

    recurrent dropout   SimpleRNN / LSTM: h_{t-1} * m enters the recurrent product only (one
                        mask per sequence; the LSTM carry is not masked), each step through the
                        layer's ``ops`` cell. GRU: Keras 3's rule (its implementation 1): one
                        mask per gate block z, r, h for the inputs and for h_{t-1} in the
                        recurrent products, while the update z h_{t-1} + (1 - z) hh uses the
                        unmasked h_{t-1}; that step is written out here in NumPy.
    masks               a (batch, time) boolean mask (Keras's ``mask=``): where it is False the
                        states carry over unchanged and the output repeats the previous output
                        (zeros with ``zero_output_for_mask=True``; the output before the first
                        valid step is zeros, as in Keras). Only with recurrent dropout, or on a
                        backend whose kernels take no masks (CUDA): otherwise a masked layer runs
                        the kernels with the mask (``recurrent``).

``run(layer, x, h0, c0, ...)`` returns (h_seq, out_last, h_last, c_last, cache) and
``backward(layer, cache, dy)`` the gradients, both on inputs already reversed for
``go_backwards``.
"""

from __future__ import annotations

import numpy as np

__all__ = ["run", "backward"]


def _sig(a):
    e = np.exp(-np.abs(a))
    return np.where(a >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(a.dtype, copy=False)


_ACT = {"tanh": (np.tanh, lambda a, y: 1 - y * y),
        "sigmoid": (_sig, lambda a, y: y * (1 - y)),
        "relu": (lambda a: np.maximum(a, 0), lambda a, y: (a > 0).astype(a.dtype)),
        "linear": (lambda a: a, lambda a, y: np.ones_like(a))}


# -- one step through the layer's ops cell ---------------------------------------------------
def _ops_step(layer, xt, h, c, rec_mask):
    _, h_new, c_new, cache = layer._cell_forward(xt, h if rec_mask is None else h * rec_mask, c)
    return h_new, c_new, cache


def _ops_step_back(layer, cache, dh, dc, rec_mask):
    g = layer._cell_backward(cache, None, dh, dc)
    dh0 = g.dh0 if rec_mask is None else g.dh0 * rec_mask
    return g.dx[:, 0], dh0, g.dc0, (g.dW, g.dU, g.db)


# -- the GRU step with Keras 3's per-gate masks ----------------------------------------------
def _gru_step(layer, xt, h, masks):
    """xt (B, I), h (B, H); masks = (in_z, in_r, in_h, rec_z, rec_r, rec_h), each broadcastable
    to the input or the state (or None for no mask)."""
    W, U, b = layer.kernel, layer.recurrent_kernel, layer._b()
    H = layer.units
    act, _ = _ACT[layer.activation]
    ra = layer.reset_after
    bi, br = (b[0], b[1]) if ra else (b, None)
    mz, mr, mh, nz, nr, nh = masks
    xs = [xt if m is None else xt * m for m in (mz, mr, mh)]
    hs = [h if n is None else h * n for n in (nz, nr, nh)]
    x_z = xs[0] @ W[:, :H] + bi[:H]
    x_r = xs[1] @ W[:, H:2 * H] + bi[H:2 * H]
    x_h = xs[2] @ W[:, 2 * H:] + bi[2 * H:]
    r_z = hs[0] @ U[:, :H]
    r_r = hs[1] @ U[:, H:2 * H]
    if ra:
        r_z, r_r = r_z + br[:H], r_r + br[H:2 * H]
    z, r = _sig(x_z + r_z), _sig(x_r + r_r)
    if ra:
        lin = hs[2] @ U[:, 2 * H:] + br[2 * H:]
        a_h = x_h + r * lin
    else:
        lin = r * hs[2]
        a_h = x_h + lin @ U[:, 2 * H:]
    hh = act(a_h)
    h_new = z * h + (1 - z) * hh
    return h_new, (xs, hs, h, z, r, lin, a_h, hh, masks)


def _gru_step_back(layer, cache, dh_new):
    xs, hs, h, z, r, lin, a_h, hh, masks = cache
    W, U = layer.kernel, layer.recurrent_kernel
    H = layer.units
    _, dact = _ACT[layer.activation]
    ra = layer.reset_after
    mz, mr, mh, nz, nr, nh = masks
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db = np.zeros(layer._bias_shape(), W.dtype)
    dbi, dbr = (db[0], db[1]) if ra else (db, None)
    dz = dh_new * (h - hh)
    dh = dh_new * z
    da_h = dh_new * (1 - z) * dact(a_h, hh)
    dW[:, 2 * H:] = xs[2].T @ da_h
    dbi[2 * H:] = da_h.sum(0)
    dxs = [None, None, da_h @ W[:, 2 * H:].T]
    dhs = [None, None, None]
    if ra:
        dr = da_h * lin
        dlin = da_h * r
        dU[:, 2 * H:] = hs[2].T @ dlin
        dbr[2 * H:] = dlin.sum(0)
        dhs[2] = dlin @ U[:, 2 * H:].T
    else:
        dq = da_h @ U[:, 2 * H:].T
        dU[:, 2 * H:] = lin.T @ da_h
        dr = dq * hs[2]
        dhs[2] = dq * r
    for k, (d_pre, lo) in enumerate(((dz * z * (1 - z), 0), (dr * r * (1 - r), H))):
        dW[:, lo:lo + H] = xs[k].T @ d_pre
        dU[:, lo:lo + H] = hs[k].T @ d_pre
        dbi[lo:lo + H] = d_pre.sum(0)
        if ra:
            dbr[lo:lo + H] = d_pre.sum(0)
        dxs[k] = d_pre @ W[:, lo:lo + H].T
        dhs[k] = d_pre @ U[:, lo:lo + H].T
    dx = sum(d if m is None else d * m for d, m in zip(dxs, (mz, mr, mh)))
    dh = dh + sum(d if n is None else d * n for d, n in zip(dhs, (nz, nr, nh)))
    return dx, dh, None, (dW, dU, db)


# -- the loop --------------------------------------------------------------------------------
def run(layer, x, h0, c0, rec_mask=None, gate_masks=None, step_mask=None, zero_output=False):
    """x (B, T, I) already masked by the input dropout (except `gate_masks`, the GRU's six
    per-gate masks); `rec_mask` (B, H) the recurrent dropout mask of the ops-cell path;
    `step_mask` (B, T) bool or None. Returns (h_seq, out_last, h_last, c_last, cache)."""
    B, T, _ = x.shape
    H = layer.units
    h = np.zeros((B, H), x.dtype) if h0 is None else h0
    c = None
    if layer._n_states > 1:
        c = np.zeros((B, H), x.dtype) if c0 is None else c0
    out = np.zeros((B, H), x.dtype)
    seq = np.empty((B, T, H), x.dtype)
    caches = []
    for t in range(T):
        if gate_masks is not None:
            h_new, cache = _gru_step(layer, x[:, t], h, gate_masks)
            c_new = None
        else:
            h_new, c_new, cache = _ops_step(layer, x[:, t:t + 1], h, c, rec_mask)
        caches.append(cache)
        if step_mask is None:
            h, c, out = h_new, c_new, h_new
        else:
            m = step_mask[:, t:t + 1]
            h = np.where(m, h_new, h)
            if c is not None:
                c = np.where(m, c_new, c)
            out = np.where(m, h_new, 0 if zero_output else out)
        seq[:, t] = out
    return seq, out, h, c, (caches, rec_mask, gate_masks, step_mask, zero_output, x.shape)


def backward(layer, cache, dh_seq, dh_last):
    """(dx, dW, dU, db) for dL/d(output sequence) `dh_seq` (B, T, H) or dL/d(last output)
    `dh_last` (B, H) (one of them None)."""
    caches, rec_mask, gate_masks, step_mask, zero_output, shape = cache
    B, T, _ = shape
    dx = np.empty(shape, (dh_seq if dh_seq is not None else dh_last).dtype)
    dW = dU = db = 0
    d_out = np.zeros((B, layer.units), dx.dtype) if dh_last is None else dh_last
    d_h = np.zeros((B, layer.units), dx.dtype)
    d_c = None if layer._n_states == 1 else np.zeros((B, layer.units), dx.dtype)
    for t in reversed(range(T)):
        if dh_seq is not None:
            d_out = d_out + dh_seq[:, t]
        if step_mask is None:
            d_hnew, d_cnew, d_out = d_out + d_h, d_c, np.zeros_like(d_out)
            d_h_keep = d_c_keep = 0
        else:
            m = step_mask[:, t:t + 1]
            d_hnew = np.where(m, d_out + d_h, 0)
            d_h_keep = np.where(m, 0, d_h)
            d_out = np.where(m | zero_output, 0, d_out)
            d_cnew = None if d_c is None else np.where(m, d_c, 0)
            d_c_keep = 0 if d_c is None else np.where(m, 0, d_c)
        if gate_masks is not None:
            dxt, dh0, dc0, g = _gru_step_back(layer, caches[t], d_hnew)
        else:
            dxt, dh0, dc0, g = _ops_step_back(layer, caches[t], d_hnew, d_cnew, rec_mask)
        dx[:, t] = dxt
        d_h = dh0 + d_h_keep
        if d_c is not None:
            d_c = dc0 + d_c_keep
        dW, dU, db = dW + g[0], dU + g[1], db + g[2]
    return dx, dW, dU, db
