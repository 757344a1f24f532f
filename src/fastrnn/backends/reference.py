"""Plain NumPy forward and backward passes of the Elman, LSTM and GRU cells: the ground truth.

Every other backend is tested against this module, and this module is tested against float64
finite differences. It is written to be read, not to be fast: one Python loop over time, one
line per equation, no fused buffers.

Shape glossary (batch-first, Keras weight layout and gate order):

    B batch, T time steps, I input features, H hidden units
    x (B, T, I)        h0, c0 (B, H)
    Elman  W (I, H)    U (H, H)    b (H,)
    LSTM   W (I, 4H)   U (H, 4H)   b (4H,)        gate blocks i, f, c, o
    GRU    W (I, 3H)   U (H, 3H)   b (2, 3H) if reset_after else (3H,)   gate blocks z, r, h

Equations (act = activation, rec = recurrent_activation):

    Elman  h_t = act(x_t W + h_{t-1} U + b)
    LSTM   [i f g o] = x_t W + h_{t-1} U + b;  i, f, o = rec(.), g = act(.)
           c_t = f * c_{t-1} + i * g;  h_t = o * act(c_t)
    GRU    z = rec(x W_z + h U_z + b_z);  r = rec(x W_r + h U_r + b_r)
           reset_after=True  (Keras default, PyTorch, cuDNN):
               hh = act(x W_h + b_in_h + r * (h U_h + b_rec_h))
           reset_after=False (Cho et al. 2014):
               hh = act(x W_h + (r * h) U_h + b_h)
           h_t = z * h_{t-1} + (1 - z) * hh

Course notes often write the GRU update as h_t = (1 - z) h_{t-1} + z hh: the same model with z
relabelled as 1 - z.

Masks (Keras's): ``mask`` (B, T) bool or None. With m = mask[:, t] the states blend per sample,
h_t = m h~_t + (1 - m) h_{t-1} (c_t likewise for the LSTM), where h~_t is the cell's step: at a
masked step the states carry over unchanged, and h_seq[:, t] holds the carried state. The
backward pass differentiates that blend: at a masked step dL/dh_{t-1} = dL/dh_t (and
dL/dc_{t-1} = dL/dc_t), and the step adds nothing to dx, dW, dU, db.

Every supported activation has a derivative that can be written in terms of its output y,
which is what the backward passes use.
"""

from __future__ import annotations

import numpy as np

from fastrnn.cells import ACTIVATIONS


def _sigmoid(a):
    # Split by sign so that exp never overflows.
    out = np.empty_like(a)
    pos = a >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-a[pos]))
    e = np.exp(a[~pos])
    out[~pos] = e / (1.0 + e)
    return out


def activate(name, a):
    """Apply the activation ``name`` elementwise."""
    if name == "tanh":
        return np.tanh(a)
    if name == "relu":
        return np.maximum(a, 0)
    if name == "sigmoid":
        return _sigmoid(a)
    if name == "linear":
        return a.copy()
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def activation_grad_from_output(name, y):
    """d act(a) / da expressed through y = act(a)."""
    if name == "tanh":
        return 1 - y * y
    if name == "relu":
        return (y > 0).astype(y.dtype)
    if name == "sigmoid":
        return y * (1 - y)
    if name == "linear":
        return np.ones_like(y)
    raise ValueError(f"activation must be one of {ACTIVATIONS}, got {name!r}")


def _initial(state, B, H, dtype):
    return np.zeros((B, H), dtype) if state is None else state


def _blend(mask, t, dtype):
    """m (B, 1): 1 where step t is valid (all ones without a mask)."""
    return None if mask is None else mask[:, t, None].astype(dtype)


def _keep(m, new, old):
    """m new + (1 - m) old: the state after a step, carried over where the step is masked."""
    return new if m is None else np.where(m > 0, new, old)


def _grad_seq(dh_seq, dh_last, B, T, H, dtype):
    """dh_seq with dh_last folded into its last step; None means zero."""
    g = np.zeros((B, T, H), dtype) if dh_seq is None else np.array(dh_seq, dtype=dtype)
    last = np.zeros((B, H), dtype) if dh_last is None else np.asarray(dh_last, dtype)
    return g, last


# ----------------------------------------------------------------------------------------------
# Elman
# ----------------------------------------------------------------------------------------------

def elman_forward(x, W, U, b, h0=None, activation="tanh", mask=None):
    """Returns (h_seq (B,T,H), saved) where saved holds what elman_backward needs."""
    B, T, _ = x.shape
    H = U.shape[0]
    h = _initial(h0, B, H, x.dtype)
    h_init = h
    h_seq = np.zeros((B, T, H), x.dtype)
    for t in range(T):
        h = _keep(_blend(mask, t, x.dtype), activate(activation, x[:, t] @ W + h @ U + b), h)
        h_seq[:, t] = h
    saved = dict(x=x, W=W, U=U, h0=h_init, h_seq=h_seq, activation=activation, mask=mask)
    return h_seq, saved


def elman_backward(saved, dh_seq=None, dh_last=None):
    """Gradients (dx, dW, dU, db, dh0) of sum(dh_seq * h_seq) + sum(dh_last * h_last)."""
    x, W, U, h_seq = saved["x"], saved["W"], saved["U"], saved["h_seq"]
    B, T, _ = x.shape
    H = U.shape[0]
    g, dh_next = _grad_seq(dh_seq, dh_last, B, T, H, x.dtype)
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db = np.zeros(H, x.dtype)
    mask = saved.get("mask")
    for t in reversed(range(T)):
        m = _blend(mask, t, x.dtype)
        h_prev = h_seq[:, t - 1] if t > 0 else saved["h0"]
        dh = g[:, t] + dh_next
        dh_step = dh if m is None else dh * m            # the part that reaches the cell's step
        da = dh_step * activation_grad_from_output(saved["activation"], h_seq[:, t])
        dx[:, t] = da @ W.T
        dW += x[:, t].T @ da
        dU += h_prev.T @ da
        db += da.sum(0)
        dh_next = da @ U.T if m is None else da @ U.T + (1 - m) * dh
    return dx, dW, dU, db, dh_next


# ----------------------------------------------------------------------------------------------
# LSTM
# ----------------------------------------------------------------------------------------------

def lstm_forward(x, W, U, b, h0=None, c0=None, activation="tanh", recurrent_activation="sigmoid",
                 mask=None):
    """Returns (h_seq (B,T,H), c_last (B,H), saved)."""
    B, T, _ = x.shape
    H = U.shape[0]
    h = _initial(h0, B, H, x.dtype)
    c = _initial(c0, B, H, x.dtype)
    saved = dict(x=x, W=W, U=U, h0=h, c0=c, activation=activation,
                 recurrent_activation=recurrent_activation, mask=mask,
                 gates=np.zeros((B, T, 4 * H), x.dtype), c_seq=np.zeros((B, T, H), x.dtype))
    h_seq = np.zeros((B, T, H), x.dtype)
    for t in range(T):
        a = x[:, t] @ W + h @ U + b
        i = activate(recurrent_activation, a[:, :H])
        f = activate(recurrent_activation, a[:, H:2 * H])
        g = activate(activation, a[:, 2 * H:3 * H])
        o = activate(recurrent_activation, a[:, 3 * H:])
        m = _blend(mask, t, x.dtype)
        c_new = f * c + i * g
        h, c = _keep(m, o * activate(activation, c_new), h), _keep(m, c_new, c)
        saved["gates"][:, t] = np.concatenate([i, f, g, o], axis=1)
        saved["c_seq"][:, t] = c
        h_seq[:, t] = h
    saved["h_seq"] = h_seq
    return h_seq, c, saved


def lstm_backward(saved, dh_seq=None, dh_last=None, dc_last=None):
    """Gradients (dx, dW, dU, db, dh0, dc0)."""
    x, W, U, h_seq = saved["x"], saved["W"], saved["U"], saved["h_seq"]
    act, rec = saved["activation"], saved["recurrent_activation"]
    B, T, _ = x.shape
    H = U.shape[0]
    g_seq, dh_next = _grad_seq(dh_seq, dh_last, B, T, H, x.dtype)
    dc_next = np.zeros((B, H), x.dtype) if dc_last is None else np.asarray(dc_last, x.dtype)
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db = np.zeros(4 * H, x.dtype)
    mask = saved.get("mask")
    for t in reversed(range(T)):
        m = _blend(mask, t, x.dtype)
        gates = saved["gates"][:, t]
        i, f, g, o = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:3 * H], gates[:, 3 * H:]
        c = saved["c_seq"][:, t]
        c_prev = saved["c_seq"][:, t - 1] if t > 0 else saved["c0"]
        h_prev = h_seq[:, t - 1] if t > 0 else saved["h0"]
        act_c = activate(act, c)
        dh_total = g_seq[:, t] + dh_next
        dh = dh_total if m is None else dh_total * m      # what reaches the step's h~
        dc = dc_next + dh * o * activation_grad_from_output(act, act_c)
        if m is not None:
            dc_carried, dc = (1 - m) * dc_next, dc * m
        da = np.concatenate([
            dc * g * activation_grad_from_output(rec, i),
            dc * c_prev * activation_grad_from_output(rec, f),
            dc * i * activation_grad_from_output(act, g),
            dh * act_c * activation_grad_from_output(rec, o),
        ], axis=1)
        dx[:, t] = da @ W.T
        dW += x[:, t].T @ da
        dU += h_prev.T @ da
        db += da.sum(0)
        dh_next = da @ U.T
        dc_next = dc * f
        if m is not None:
            dh_next = dh_next + (1 - m) * dh_total
            dc_next = dc_next + dc_carried
    return dx, dW, dU, db, dh_next, dc_next


# ----------------------------------------------------------------------------------------------
# GRU
# ----------------------------------------------------------------------------------------------

def gru_forward(x, W, U, b, h0=None, reset_after=True, activation="tanh",
                recurrent_activation="sigmoid", mask=None):
    """Returns (h_seq (B,T,H), saved)."""
    B, T, _ = x.shape
    H = U.shape[0]
    b_in, b_rec = (b[0], b[1]) if reset_after else (b, np.zeros_like(b))
    h = _initial(h0, B, H, x.dtype)
    saved = dict(x=x, W=W, U=U, h0=h, reset_after=reset_after, activation=activation,
                 recurrent_activation=recurrent_activation, mask=mask,
                 gates=np.zeros((B, T, 3 * H), x.dtype),   # z, r, hh after activation
                 rec_h=np.zeros((B, T, H), x.dtype))        # h U_h + b_rec_h, or r * h
    h_seq = np.zeros((B, T, H), x.dtype)
    for t in range(T):
        ax = x[:, t] @ W + b_in
        if reset_after:
            ah = h @ U + b_rec
            z = activate(recurrent_activation, ax[:, :H] + ah[:, :H])
            r = activate(recurrent_activation, ax[:, H:2 * H] + ah[:, H:2 * H])
            rec_h = ah[:, 2 * H:]
            hh = activate(activation, ax[:, 2 * H:] + r * rec_h)
        else:
            ah = h @ U[:, :2 * H]
            z = activate(recurrent_activation, ax[:, :H] + ah[:, :H])
            r = activate(recurrent_activation, ax[:, H:2 * H] + ah[:, H:])
            rec_h = r * h
            hh = activate(activation, ax[:, 2 * H:] + rec_h @ U[:, 2 * H:])
        h = _keep(_blend(mask, t, x.dtype), z * h + (1 - z) * hh, h)
        saved["gates"][:, t] = np.concatenate([z, r, hh], axis=1)
        saved["rec_h"][:, t] = rec_h
        h_seq[:, t] = h
    saved["h_seq"] = h_seq
    return h_seq, saved


def gru_backward(saved, dh_seq=None, dh_last=None):
    """Gradients (dx, dW, dU, db, dh0); db has the shape of b."""
    x, W, U, h_seq = saved["x"], saved["W"], saved["U"], saved["h_seq"]
    act, rec, reset_after = saved["activation"], saved["recurrent_activation"], saved["reset_after"]
    B, T, _ = x.shape
    H = U.shape[0]
    g_seq, dh_next = _grad_seq(dh_seq, dh_last, B, T, H, x.dtype)
    dx = np.zeros_like(x)
    dW, dU = np.zeros_like(W), np.zeros_like(U)
    db = np.zeros((2, 3 * H) if reset_after else (3 * H,), x.dtype)
    mask = saved.get("mask")
    for t in reversed(range(T)):
        m = _blend(mask, t, x.dtype)
        gates = saved["gates"][:, t]
        z, r, hh = gates[:, :H], gates[:, H:2 * H], gates[:, 2 * H:]
        rec_h = saved["rec_h"][:, t]
        h_prev = h_seq[:, t - 1] if t > 0 else saved["h0"]
        dh_total = g_seq[:, t] + dh_next
        dh = dh_total if m is None else dh_total * m      # what reaches the step's h~
        dz = dh * (h_prev - hh) * activation_grad_from_output(rec, z)
        dhh = dh * (1 - z) * activation_grad_from_output(act, hh)
        if reset_after:
            dr = dhh * rec_h * activation_grad_from_output(rec, r)
            dax = np.concatenate([dz, dr, dhh], axis=1)        # w.r.t. x W + b_in
            dah = np.concatenate([dz, dr, dhh * r], axis=1)    # w.r.t. h U + b_rec
            dU += h_prev.T @ dah
            db[0] += dax.sum(0)
            db[1] += dah.sum(0)
            dh_next = dh * z + dah @ U.T
        else:
            d_rec_h = dhh @ U[:, 2 * H:].T                      # w.r.t. r * h
            dr = d_rec_h * h_prev * activation_grad_from_output(rec, r)
            dax = np.concatenate([dz, dr, dhh], axis=1)
            dU[:, :2 * H] += h_prev.T @ dax[:, :2 * H]
            dU[:, 2 * H:] += rec_h.T @ dhh
            db += dax.sum(0)
            dh_next = dh * z + d_rec_h * r + dax[:, :2 * H] @ U[:, :2 * H].T
        dx[:, t] = dax @ W.T
        dW += x[:, t].T @ dax
        if m is not None:
            dh_next = dh_next + (1 - m) * dh_total
    return dx, dW, dU, db, dh_next
