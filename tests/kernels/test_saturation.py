"""float32 at saturated gates: pre-activations of 10-30 and beyond, where sigmoid is within 1e-5
of 0 or 1 and tanh rounds to +-1. Every backend in float32 must agree with the float64
reference there as everywhere (the tolerance table of conftest.py).

A gate function that does not saturate as the exact one does (a float32 tanh clamped below 1, a
sigmoid that bottoms out at a rounding residue of 1e-7 instead of e^v) changes nothing visible in
the forward pass, but its derivative y (1 - y) or 1 - y^2 is then ~1e-7 instead of ~0 and gets
multiplied by the large states and gradients of linear / relu cells: the numba backend's
gradients were off by a factor of order 1 there (issue 17, defect 1).
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import BACKENDS, TOL, rel_err
from fastrnn import cells, ops

CELLS = [(c.name, ra) for c in cells.CELLS
         for ra in ((True, False) if c.has_reset_after else (None,))]


def saturated_inputs(cell, scale, u_scale, reset_after=True, B=4, T=6, I=3, H=5, seed=3):
    """x W of standard deviation `scale` (so most gate pre-activations are beyond +-10 for
    scale 20), h U of up to the same size (large states: linear and relu cells), zero bias."""
    rng = np.random.default_rng(seed)
    info = cells.get(cell)
    G = info.gates
    return dict(
        x=rng.standard_normal((B, T, I)),
        W=rng.standard_normal((I, G * H)) * scale / np.sqrt(I),
        U=rng.standard_normal((H, G * H)) * u_scale / np.sqrt(H),
        b=np.zeros(info.bias_shape(H, reset_after if reset_after is not None else True)),
        h0=rng.standard_normal((B, H)) * 0.5,
        c0=rng.standard_normal((B, H)) * 0.5,
        dh_seq=rng.standard_normal((B, T, H)),
        dh_last=rng.standard_normal((B, H)),
        dc_last=rng.standard_normal((B, H)),
    )


def forward_backward(cell, inp, dtype, backend, activation, reset_after):
    """[h_seq, h_last, (c_last), dx, dW, dU, db, dh0, (dc0)] as float64 arrays."""
    a = {k: v.astype(dtype) for k, v in inp.items()}
    kw = dict(activation=activation, backend=backend)
    if cell == cells.LSTM.name:
        r = ops.lstm_forward(a["x"], a["W"], a["U"], a["b"], a["h0"], a["c0"], **kw)
        g = ops.lstm_backward(r.cache, dh_seq=a["dh_seq"], dh_last=a["dh_last"],
                              dc_last=a["dc_last"])
        out = [r.h_seq, r.h_last, r.c_last, *g]
    elif cell == cells.GRU.name:
        r = ops.gru_forward(a["x"], a["W"], a["U"], a["b"], a["h0"], reset_after=reset_after,
                            **kw)
        g = ops.gru_backward(r.cache, dh_seq=a["dh_seq"], dh_last=a["dh_last"])
        out = [r.h_seq, r.h_last, *g]
    else:
        r = ops.elman_forward(a["x"], a["W"], a["U"], a["b"], a["h0"], **kw)
        g = ops.elman_backward(r.cache, dh_seq=a["dh_seq"], dh_last=a["dh_last"])
        out = [r.h_seq, r.h_last, *g]
    return [np.asarray(o, np.float64) for o in out]


@pytest.mark.parametrize("scale,u_scale", [(20.0, 0.2), (20.0, 20.0), (60.0, 0.2), (60.0, 60.0),
                                           (200.0, 0.2)])
@pytest.mark.parametrize("activation", cells.ACTIVATIONS)
@pytest.mark.parametrize("cell,reset_after", CELLS)
@pytest.mark.parametrize("backend", BACKENDS)
def test_float32_gradients_at_saturated_gates(backend, cell, reset_after, activation, scale,
                                              u_scale):
    """Within the float32 tolerance of the table, or within 10 times the error of the
    reference's own float32 run where large states make the problem worse conditioned than
    that (the same limit for every backend)."""
    inp = saturated_inputs(cell, scale, u_scale, reset_after)
    pre = inp["x"].reshape(-1, inp["x"].shape[-1]) @ inp["W"]
    assert np.mean(np.abs(pre) > 10) > 0.3, "the inputs do not saturate the gates"
    want = forward_backward(cell, inp, np.float64, "numpy", activation, reset_after)
    ref = forward_backward(cell, inp, np.float32, "numpy", activation, reset_after)
    got = forward_backward(cell, inp, np.float32, backend, activation, reset_after)
    tol = max(TOL[np.float32], 10 * max(rel_err(r, w) for r, w in zip(ref, want)))
    worst = max(rel_err(g, w) for g, w in zip(got, want))
    assert worst < tol, f"float32 {backend} vs float64 reference: {worst:.2e} (limit {tol:.1e})"
