"""The reference (fastrnn.backends.reference) against float64 central finite differences.

For a scalar loss L = sum(dh_seq * h_seq) + sum(dh_last * h_last) (+ sum(dc_last * c_last)),
every analytic gradient the reference returns (x, W, U, b, h0, c0) must equal the numerical
derivative of L. This is what makes the reference the ground truth for every other backend.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import make_inputs
from fastrnn.backends import reference as ref

CASES = [("elman", dict(activation=a)) for a in ("tanh", "relu", "sigmoid", "linear")] + \
        [("lstm", dict(activation=a)) for a in ("tanh", "relu", "sigmoid", "linear")] + \
        [("gru", dict(reset_after=ra, activation=a)) for ra in (True, False)
         for a in ("tanh", "relu", "sigmoid", "linear")]


def loss_and_grads(cell, opts, p):
    if cell == "elman":
        h_seq, saved = ref.elman_forward(p["x"], p["W"], p["U"], p["b"], p["h0"], **opts)
        L = np.sum(p["dh_seq"] * h_seq) + np.sum(p["dh_last"] * h_seq[:, -1])
        grads = ref.elman_backward(saved, p["dh_seq"], p["dh_last"])
        return L, dict(zip(["x", "W", "U", "b", "h0"], grads))
    if cell == "lstm":
        h_seq, c_last, saved = ref.lstm_forward(p["x"], p["W"], p["U"], p["b"], p["h0"], p["c0"], **opts)
        L = (np.sum(p["dh_seq"] * h_seq) + np.sum(p["dh_last"] * h_seq[:, -1])
             + np.sum(p["dc_last"] * c_last))
        grads = ref.lstm_backward(saved, p["dh_seq"], p["dh_last"], p["dc_last"])
        return L, dict(zip(["x", "W", "U", "b", "h0", "c0"], grads))
    h_seq, saved = ref.gru_forward(p["x"], p["W"], p["U"], p["b"], p["h0"], **opts)
    L = np.sum(p["dh_seq"] * h_seq) + np.sum(p["dh_last"] * h_seq[:, -1])
    grads = ref.gru_backward(saved, p["dh_seq"], p["dh_last"])
    return L, dict(zip(["x", "W", "U", "b", "h0"], grads))


@pytest.mark.parametrize("case", CASES, ids=lambda c: c[0] + "-" + "-".join(f"{k}={v}" for k, v in c[1].items()))
def test_reference_gradients_match_finite_differences(case):
    cell, opts = case
    p = make_inputs(cell, 2, 3, 2, 3, np.float64, seed=5, reset_after=opts.get("reset_after", True))
    _, grads = loss_and_grads(cell, opts, p)
    eps = 1e-6
    for name, g in grads.items():
        assert g.shape == p[name].shape, name
        numeric = np.zeros_like(g)
        for idx in np.ndindex(*g.shape):
            orig = p[name][idx]
            p[name][idx] = orig + eps
            up, _ = loss_and_grads(cell, opts, p)
            p[name][idx] = orig - eps
            down, _ = loss_and_grads(cell, opts, p)
            p[name][idx] = orig
            numeric[idx] = (up - down) / (2 * eps)
        err = np.max(np.abs(numeric - g)) / max(np.max(np.abs(numeric)), 1.0)
        assert err < 1e-7, f"{cell} {opts} d{name}: relative error {err:.2e}"

