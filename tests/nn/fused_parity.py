"""What the fused-trainer parity tests share (test_fused_masking, test_fused_wrappers): a
seeded fit on the Python path (``fit(fused=False)``, the reference) and on the default path
from the same initial weights, and the check that the second ran fused and agrees."""

from __future__ import annotations

import numpy as np

TOL = {"float64": 1e-10, "float32": 1e-5}


def padded_x(dtype, n=37, mask_value=0.0):
    """(n, 6, 3) inputs with padded ends, padded starts, a hole and a sample with no valid
    step, all marked by `mask_value`."""
    x = np.random.default_rng(0).standard_normal((n, 6, 3)).astype(dtype)
    x[:5, 4:] = mask_value      # padded ends
    x[5:9, :2] = mask_value     # padded starts
    x[10, 2] = mask_value       # a hole
    x[11] = mask_value          # nothing valid
    return x


def fit_both(make, x, y, epochs=3, **fit_kw):
    """(info, history, weights) of the Python path and of the default (fused) path, both from
    the same initial weights and the same fit seed."""
    out, w0 = [], None
    for fused in (False, None):
        m = make()
        m.compile(optimizer="adam", loss="mse")
        m.predict(x[:1], verbose=0)
        if w0 is None:
            w0 = m.get_weights()
        else:
            m.set_weights(w0)
        h = m.fit(x, y, epochs=epochs, batch_size=8, verbose=0, fused=fused, rng=5, **fit_kw)
        out.append((m.fused_fit_info, h.history["loss"], m.get_weights()))
    return out


def check_same(ref, got, dtype):
    assert got[0]["fused"] is True, got[0]["reason"]
    assert ref[0]["fused"] is False
    tol = TOL[dtype]
    np.testing.assert_allclose(got[1], ref[1], rtol=tol, atol=tol)
    for a, b in zip(got[2], ref[2]):
        np.testing.assert_allclose(a, b, rtol=tol, atol=tol)
