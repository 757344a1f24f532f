"""fastrnn.timeseries.smoothing.ses_sse: the SSE and least-squares initial level of simple
exponential smoothing, compiled and NumPy, against a direct step-by-step computation."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.timeseries import smoothing
from fastrnn.timeseries.smoothing import ses_sse

BACKENDS = ["numpy"] + (["compiled"] if smoothing._kernels is not None else [])


def direct(z, alpha):
    """SSE at the least-squares l_0, by fitting l_0 over the one-step errors directly."""
    n = z.shape[0]
    # the one-step prediction is linear in l_0: evaluate it at l_0 = 0 and l_0 = 1
    preds = []
    for l0 in (0.0, 1.0):
        level, p = l0, []
        for v in z:
            p.append(level)
            level += alpha * (v - level)
        preds.append(np.array(p))
    c, d = preds[0], preds[1] - preds[0]
    r = z - c
    l0 = (r @ d) / (d @ d)
    e = z - (c + l0 * d)
    assert e.shape == (n,)
    return e @ e, l0


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("n", [1, 2, 31, 32, 33, 100, 257])
def test_matches_the_direct_computation(backend, n):
    rng = np.random.default_rng(n)
    z = np.cumsum(rng.standard_normal(n)) * 10.0
    alphas = np.array([1e-4, 0.05, 0.3, 0.7, 0.9999])
    sse, level0 = ses_sse(z, alphas, backend=backend)
    for k, a in enumerate(alphas):
        want_sse, want_l0 = direct(z, a)
        np.testing.assert_allclose(sse[k], want_sse, rtol=1e-9, atol=1e-9 * (1 + z @ z))
        np.testing.assert_allclose(level0[k], want_l0, rtol=1e-9, atol=1e-9)


@pytest.mark.skipif(len(BACKENDS) < 2, reason="the compiled module is not built")
def test_compiled_and_numpy_agree():
    rng = np.random.default_rng(1)
    z = np.cumsum(rng.standard_normal(500))
    alphas = np.linspace(1e-4, 0.9999, 101)
    a = ses_sse(z, alphas, backend="compiled")
    b = ses_sse(z, alphas, backend="numpy")
    np.testing.assert_allclose(a[0], b[0], rtol=1e-11)
    np.testing.assert_allclose(a[1], b[1], rtol=1e-11, atol=1e-12)


def test_bad_input():
    with pytest.raises(ValueError, match=r"z: expected a non-empty 1-D array, got shape \(0,\)"):
        ses_sse(np.array([]), [0.5])
    with pytest.raises(ValueError, match="z: expected a non-empty 1-D array"):
        ses_sse(np.ones((2, 2)), [0.5])
    with pytest.raises(ValueError, match="backend: expected 'auto', 'compiled' or 'numpy'"):
        ses_sse(np.ones(3), [0.5], backend="fast")
