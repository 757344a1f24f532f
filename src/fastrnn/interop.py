"""Converters between fastrnn's (Keras's) weight layout and PyTorch's nn.RNN/LSTM/GRU state dicts.

Keras keeps W (I, G*H), U (H, G*H) and one bias (two rows for a reset_after GRU); PyTorch keeps
weight_ih_l0 (G*H, I), weight_hh_l0 (G*H, H), bias_ih_l0 and bias_hh_l0, and orders the GRU
blocks r, z, n where Keras orders them z, r, h. The LSTM block order (i, f, c/g, o) is the same.
PyTorch has no GRU with reset_after=False, and its Elman cell knows only tanh and relu.

The functions work on NumPy arrays; ``to_torch`` returns arrays too (wrap them with
``torch.from_numpy`` and ``module.load_state_dict``), and ``from_torch`` accepts tensors or
arrays, so this module does not import torch. ``cell`` is a name ``fastrnn.cells.get`` knows (a
canonical name, an alias or the Keras class); anything else is a ValueError.
"""

from __future__ import annotations

import numpy as np

from fastrnn import cells as _cells


def _gru_swap_zr(a, H, axis):
    """Swap the first two gate blocks (z, r <-> r, z) along `axis`; the third stays."""
    blocks = np.split(np.asarray(a), [H, 2 * H], axis=axis)
    return np.concatenate([blocks[1], blocks[0], blocks[2]], axis=axis)


def to_torch(cell, W, U, b, *, reset_after=True):
    """Keras-layout (W, U, b) -> dict with PyTorch's keys for a one-layer nn.RNN/LSTM/GRU."""
    cell = _cells.get(cell)
    W, U, b = np.asarray(W), np.asarray(U), np.asarray(b)
    H = U.shape[0]
    if cell is _cells.GRU:
        if not reset_after:
            raise ValueError("PyTorch's GRU is the reset_after=True variant; "
                             "a reset_after=False GRU has no PyTorch equivalent")
        W, U, b = (_gru_swap_zr(W, H, 1), _gru_swap_zr(U, H, 1), _gru_swap_zr(b, H, 1))
        b_ih, b_hh = b[0], b[1]
    else:
        b_ih, b_hh = b, np.zeros_like(b)
    return {"weight_ih_l0": np.ascontiguousarray(W.T), "weight_hh_l0": np.ascontiguousarray(U.T),
            "bias_ih_l0": np.ascontiguousarray(b_ih), "bias_hh_l0": np.ascontiguousarray(b_hh)}


def from_torch(cell, state_dict):
    """PyTorch one-layer state dict (tensors or arrays) -> Keras-layout (W, U, b).

    The two PyTorch biases are summed for Elman and LSTM (they enter the same sum) and kept as
    the two rows of b for the GRU (reset_after=True)."""
    cell = _cells.get(cell)

    def arr(key):
        if key not in state_dict:
            raise KeyError(f"state_dict has no {key!r}; keys: {sorted(state_dict)}")
        v = state_dict[key]
        return np.asarray(v.detach().cpu().numpy() if hasattr(v, "detach") else v)

    W, U = arr("weight_ih_l0").T.copy(), arr("weight_hh_l0").T.copy()
    b_ih, b_hh = arr("bias_ih_l0"), arr("bias_hh_l0")
    H = U.shape[0]
    if cell is _cells.GRU:
        return (_gru_swap_zr(W, H, 1), _gru_swap_zr(U, H, 1),
                _gru_swap_zr(np.stack([b_ih, b_hh]), H, 1))
    return W, U, b_ih + b_hh
