"""Fuzzing: every available backend against the float64 reference on random valid problems.

Hypothesis draws the cell and its options (activation, reset_after), the dtype, the shapes
(B = 1 and T = 0 included), the scale of the input weights (up to pre-activations of +-100, so
that gates saturate), whether initial states and which upstream gradients are given, and the
data. Each backend runs forward and backward in the drawn dtype; the reference runs in float64 on
the same (rounded) inputs, and every output must agree within the tolerance table of
conftest.py, or, in float32, within 10 times the error of the reference's own float32 run on
the problem (large saturated states make some problems worse conditioned than the table
assumes, for every backend alike). The number of examples is bounded and the draws
derandomised, so the run is deterministic and takes seconds (FASTRNN_FUZZ_EXAMPLES raises the
count for a longer search).
"""

from __future__ import annotations

import os

import numpy as np
import pytest

from conftest import TOL, rel_err
from fastrnn import backends, cells, ops

hypothesis = pytest.importorskip("hypothesis")
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

EXAMPLES = int(os.environ.get("FASTRNN_FUZZ_EXAMPLES", "200"))
RUNNABLE = backends.available()  # the reference ("numpy") runs in float32 too


@st.composite
def problems(draw):
    info = draw(st.sampled_from(cells.CELLS))
    opts = {"activation": draw(st.sampled_from(cells.ACTIVATIONS))}
    reset_after = True
    if info.has_reset_after:
        reset_after = draw(st.booleans())
        opts["reset_after"] = reset_after
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    B = draw(st.integers(1, 6))
    T = draw(st.sampled_from([0, 1, 2, 3, 5, 8]))
    I = draw(st.integers(1, 5))
    H = draw(st.sampled_from([1, 2, 3, 5, 8, 17]))
    w_scale = draw(st.sampled_from([0.1, 1.0, 5.0, 30.0, 100.0]))  # 30, 100: saturated gates
    seed = draw(st.integers(0, 2 ** 32 - 1))
    given_ = {k: draw(st.booleans()) for k in ("h0", "c0", "dh_seq", "dh_last", "dc_last")}
    rng = np.random.default_rng(seed)
    G = info.gates
    data = dict(
        x=rng.standard_normal((B, T, I)),
        W=rng.standard_normal((I, G * H)) * w_scale / np.sqrt(I),
        # recurrent weights that keep the states bounded: the float32 error of a chaotic
        # recurrence grows without limit whatever the backend
        U=rng.standard_normal((H, G * H)) * 0.4 / np.sqrt(H),
        b=rng.standard_normal(info.bias_shape(H, reset_after)) * draw(
            st.sampled_from([0.0, 0.5, 20.0])),
        h0=rng.standard_normal((B, H)),
        c0=rng.standard_normal((B, H)),
        dh_seq=rng.standard_normal((B, T, H)),
        dh_last=rng.standard_normal((B, H)),
        dc_last=rng.standard_normal((B, H)),
    )
    data = {k: v.astype(dtype) for k, v in data.items()}
    for k, on in given_.items():
        if not on:
            data[k] = None
    return info, opts, dtype, data


def run(info, opts, data, backend, dtype):
    """[outputs...] of forward + backward, in float64; inputs cast to `dtype`."""
    a = {k: None if v is None else v.astype(dtype) for k, v in data.items()}
    args = [a["x"], a["W"], a["U"], a["b"], a["h0"]]
    lstm = info.name == cells.LSTM.name
    if lstm:
        args.append(a["c0"])
    r = getattr(ops, info.forward_name)(*args, backend=backend, **opts)
    kw = dict(dh_seq=a["dh_seq"], dh_last=a["dh_last"])
    if lstm:
        kw["dc_last"] = a["dc_last"]
    g = getattr(ops, info.backward_name)(r.cache, **kw)
    out = [r.h_seq, r.h_last] + ([r.c_last] if lstm else []) + list(g)
    assert all(o.dtype == dtype for o in out), [o.dtype for o in out]
    return [np.asarray(o, np.float64) for o in out]


@pytest.mark.parametrize("backend", RUNNABLE)
@settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(problem=problems())
def test_backend_matches_the_reference(backend, problem):
    info, opts, dtype, data = problem
    want = run(info, opts, data, "numpy", np.float64)
    got = run(info, opts, data, backend, dtype)
    # how well float32 can do on this problem: the reference's own float32 run
    ref = run(info, opts, data, "numpy", dtype) if dtype == np.float32 else want
    names = ["h_seq", "h_last"] + (["c_last"] if info.name == cells.LSTM.name else []) + [
        "dx", "dW", "dU", "db", "dh0"] + (["dc0"] if info.name == cells.LSTM.name else [])
    for name, g, w, r in zip(names, got, want, ref):
        assert np.all(np.isfinite(g)), f"{name} is not finite"
        err, tol = rel_err(g, w), max(TOL[dtype], 10 * rel_err(r, w))
        assert err < tol, (f"{backend} {info.name} {opts} {np.dtype(dtype)}: {name} {err:.2e} "
                           f"(tolerance {tol:.1e})")
