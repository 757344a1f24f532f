"""Shared test helpers: the backends under test, the one tolerance table, random cell inputs."""

from __future__ import annotations

import numpy as np
import pytest

import fastrnn
from fastrnn import cells

# Every backend usable here is tested; "numpy" is the reference itself, tested against PyTorch
# and finite differences. A backend that is built but cannot run here (cuda without a GPU) is
# listed with a skip mark that says why.
BACKENDS = [
    b if b in fastrnn.backends.available() else pytest.param(
        b, marks=pytest.mark.skip(reason=f"backend {b!r} is built but unavailable here"))
    for b in fastrnn.backends.built()
]
DTYPES = [np.float64, np.float32]

# The one table of tolerances: max |got - want| / max(|want|, 1), want computed in float64.
TOL = {np.float64: 1e-10, np.float32: 1e-4}

GATES = {c.name: c.gates for c in cells.CELLS}

# (B, T, I, H): B=1, T=1, I != H, H not a multiple of the vector width, a larger one, and a
# narrow layer (H below one vector) over many rows split across threads (the panel path).
SHAPES = [(1, 1, 1, 1), (1, 7, 3, 5), (4, 1, 2, 6), (3, 6, 5, 8), (2, 5, 1, 17), (6, 9, 4, 33),
          (40, 5, 4, 4)]


def rel_err(got, want):
    got, want = np.asarray(got, np.float64), np.asarray(want, np.float64)
    assert got.shape == want.shape, (got.shape, want.shape)
    if want.size == 0:
        return 0.0
    return float(np.max(np.abs(got - want)) / max(np.max(np.abs(want)), 1.0))


def make_inputs(cell, B, T, I, H, dtype, seed=0, reset_after=True, scale=0.5):
    """Random x, W, U, b, h0, c0 and upstream gradients for one cell, in float64 then cast."""
    rng = np.random.default_rng(seed)
    info = cells.get(cell)
    G = info.gates
    d = dict(
        x=rng.standard_normal((B, T, I)),
        W=rng.standard_normal((I, G * H)) * scale / np.sqrt(I),
        U=rng.standard_normal((H, G * H)) * scale / np.sqrt(H),
        b=rng.standard_normal(info.bias_shape(H, reset_after)) * 0.1,
        h0=rng.standard_normal((B, H)) * 0.5,
        c0=rng.standard_normal((B, H)) * 0.5,
        dh_seq=rng.standard_normal((B, T, H)),
        dh_last=rng.standard_normal((B, H)),
        dc_last=rng.standard_normal((B, H)),
    )
    return {k: v.astype(dtype) for k, v in d.items()}
