"""Every backend against PyTorch autograd and against the reference, for every cell and option.

PyTorch (float64, CPU) is the oracle where it has the cell: Elman tanh/relu, LSTM tanh, GRU
reset_after=True. The rest (Elman sigmoid/linear, LSTM relu/sigmoid/linear, GRU reset_after=False
and non-tanh GRUs) is checked against fastrnn.backends.reference in float64, which test_reference.py
checks against finite differences. Tolerances come from the one table in conftest.py.
"""

from __future__ import annotations

import numpy as np
import pytest

from conftest import BACKENDS, DTYPES, SHAPES, TOL, make_inputs, rel_err
from fastrnn import interop, ops
from fastrnn import cells

torch = pytest.importorskip("torch")

TORCH_CASES = [
    ("elman", {"activation": "tanh"}),
    ("elman", {"activation": "relu"}),
    ("lstm", {"activation": "tanh"}),
    ("gru", {"reset_after": True, "activation": "tanh"}),
]
REFERENCE_CASES = [
    ("elman", {"activation": "sigmoid"}),
    ("elman", {"activation": "linear"}),
    ("lstm", {"activation": "relu"}),
    ("lstm", {"activation": "sigmoid"}),
    ("lstm", {"activation": "linear"}),
    ("gru", {"reset_after": True, "activation": "relu"}),
    ("gru", {"reset_after": True, "activation": "linear"}),
    ("gru", {"reset_after": False, "activation": "tanh"}),
    ("gru", {"reset_after": False, "activation": "relu"}),
    ("gru", {"reset_after": False, "activation": "sigmoid"}),
]
# Which optional arguments are given: initial states, and which upstream gradients.
VARIANTS = {
    "all": dict(states=True, dh_seq=True, dh_last=True, dc_last=True),
    "zero-state-seq-grad": dict(states=False, dh_seq=True, dh_last=False, dc_last=False),
    "last-grads-only": dict(states=True, dh_seq=False, dh_last=True, dc_last=True),
}
OUTPUTS = ("h_seq", "h_last", "c_last", "dx", "dW", "dU", "db", "dh0", "dc0")


def run_fastrnn(cell, opts, inp, variant, backend):
    """Forward + backward through fastrnn.ops; returns {output name: array}."""
    v = VARIANTS[variant]
    h0 = inp["h0"] if v["states"] else None
    dh_seq = inp["dh_seq"] if v["dh_seq"] else None
    dh_last = inp["dh_last"] if v["dh_last"] else None
    if cell == "elman":
        r = ops.elman_forward(inp["x"], inp["W"], inp["U"], inp["b"], h0, backend=backend, **opts)
        g = ops.elman_backward(r.cache, dh_seq=dh_seq, dh_last=dh_last)
    elif cell == "lstm":
        c0 = inp["c0"] if v["states"] else None
        r = ops.lstm_forward(inp["x"], inp["W"], inp["U"], inp["b"], h0, c0, backend=backend, **opts)
        g = ops.lstm_backward(r.cache, dh_seq=dh_seq, dh_last=dh_last,
                              dc_last=inp["dc_last"] if v["dc_last"] else None)
    else:
        r = ops.gru_forward(inp["x"], inp["W"], inp["U"], inp["b"], h0, backend=backend, **opts)
        g = ops.gru_backward(r.cache, dh_seq=dh_seq, dh_last=dh_last)
    out = {"h_seq": r.h_seq, "h_last": r.h_last, "c_last": r.c_last, "dx": g.dx, "dW": g.dW,
           "dU": g.dU, "db": g.db, "dh0": g.dh0, "dc0": g.dc0}
    return {k: v for k, v in out.items() if v is not None}


def run_torch(cell, opts, inp, variant):
    """The same computation with torch.nn.RNN/LSTM/GRU and autograd, in float64."""
    v = VARIANTS[variant]
    B, T, I = inp["x"].shape
    H = inp["U"].shape[0]
    if cell == "elman":
        mod = torch.nn.RNN(I, H, nonlinearity=opts["activation"], batch_first=True)
    elif cell == "lstm":
        mod = torch.nn.LSTM(I, H, batch_first=True)
    else:
        mod = torch.nn.GRU(I, H, batch_first=True)
    mod = mod.double()
    sd = interop.to_torch(cell, inp["W"], inp["U"], inp["b"], reset_after=opts.get("reset_after", True))
    mod.load_state_dict({k: torch.from_numpy(np.asarray(a, np.float64)) for k, a in sd.items()})
    t = lambda a: torch.tensor(np.asarray(a, np.float64), requires_grad=True)  # noqa: E731
    x = t(inp["x"])
    h0 = t(inp["h0"] if v["states"] else np.zeros((B, H)))
    if cell == "lstm":
        c0 = t(inp["c0"] if v["states"] else np.zeros((B, H)))
        h_seq, (h_n, c_n) = mod(x, (h0[None], c0[None]))
    else:
        h_seq, h_n = mod(x, h0[None])
    loss = h_seq.sum() * 0
    if v["dh_seq"]:
        loss = loss + (h_seq * torch.from_numpy(np.asarray(inp["dh_seq"], np.float64))).sum()
    if v["dh_last"]:
        loss = loss + (h_n[0] * torch.from_numpy(np.asarray(inp["dh_last"], np.float64))).sum()
    if cell == "lstm" and v["dc_last"]:
        loss = loss + (c_n[0] * torch.from_numpy(np.asarray(inp["dc_last"], np.float64))).sum()
    loss.backward()
    grads = {k: p.grad.numpy() for k, p in mod.named_parameters()}
    if cell != "gru":  # fastrnn's single bias maps to bias_ih; bias_hh is held at zero
        grads["bias_hh_l0"] = np.zeros_like(grads["bias_hh_l0"])
    dW, dU, db = interop.from_torch(cell, grads)
    out = {"h_seq": h_seq.detach().numpy(), "h_last": h_n[0].detach().numpy(),
           "dx": x.grad.numpy(), "dW": dW, "dU": dU, "db": db, "dh0": h0.grad.numpy()}
    if cell == "lstm":
        out["c_last"] = c_n[0].detach().numpy()
        out["dc0"] = c0.grad.numpy()
    return out


def run_reference(cell, opts, inp, variant):
    inp64 = {k: np.asarray(v, np.float64) for k, v in inp.items()}
    return run_fastrnn(cell, opts, inp64, variant, "numpy")


def case_id(case):
    cell, opts = case
    return cell + "-" + "-".join(f"{k}={v}" for k, v in opts.items())


def assert_close(got, want, dtype, context):
    assert set(got) == set(want), (sorted(got), sorted(want))
    for name in want:
        assert got[name].dtype == dtype, f"{context}: {name} has dtype {got[name].dtype}"
        err = rel_err(got[name], want[name])
        assert err <= TOL[dtype], f"{context}: {name} relative error {err:.2e} > {TOL[dtype]:.0e}"


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B%dT%dI%dH%d" % s)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", TORCH_CASES, ids=case_id)
@pytest.mark.parametrize("backend", BACKENDS)
def test_against_torch(backend, case, dtype, shape, variant):
    cell, opts = case
    inp = make_inputs(cell, *shape, dtype, seed=hash((case_id(case), shape)) % 2**32,
                      reset_after=opts.get("reset_after", True))
    got = run_fastrnn(cell, opts, inp, variant, backend)
    want = run_torch(cell, opts, inp, variant)
    assert_close(got, want, dtype, f"{backend} {case_id(case)} {shape}")


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "B%dT%dI%dH%d" % s)
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", REFERENCE_CASES, ids=case_id)
@pytest.mark.parametrize("backend", [b for b in BACKENDS if b != "numpy"])
def test_against_reference(backend, case, dtype, shape, variant):
    cell, opts = case
    inp = make_inputs(cell, *shape, dtype, seed=hash((case_id(case), shape)) % 2**32,
                      reset_after=opts.get("reset_after", True))
    got = run_fastrnn(cell, opts, inp, variant, backend)
    want = run_reference(cell, opts, inp, variant)
    assert_close(got, want, dtype, f"{backend} {case_id(case)} {shape}")


@pytest.mark.parametrize("case", TORCH_CASES + REFERENCE_CASES, ids=case_id)
@pytest.mark.parametrize("backend", BACKENDS)
def test_strided_inputs_match_contiguous(backend, case):
    cell, opts = case
    inp = make_inputs(cell, 5, 7, 3, 6, np.float64, seed=3, reset_after=opts.get("reset_after", True))
    want = run_fastrnn(cell, opts, inp, "all", backend)
    strided = {}
    for k, a in inp.items():  # every array becomes a non-contiguous view with the same values
        big = np.zeros(a.shape + (2,), a.dtype)
        big[..., 1] = a
        strided[k] = big[..., 1]
        assert not strided[k].flags.c_contiguous
    got = run_fastrnn(cell, opts, strided, "all", backend)
    for name in want:
        np.testing.assert_array_equal(got[name], want[name], err_msg=name)


@pytest.mark.parametrize("cell", list(cells.NAMES))
@pytest.mark.parametrize("backend", BACKENDS)
def test_large_batch_matches_reference(backend, cell):
    """Enough work for the compiled backends to split the batch across threads."""
    inp = make_inputs(cell, 37, 20, 3, 24, np.float64, seed=11)
    got = run_fastrnn(cell, {}, inp, "all", backend)
    want = run_reference(cell, {}, inp, "all")
    assert_close(got, want, np.float64, f"{backend} {cell}")


@pytest.mark.parametrize("variant", list(VARIANTS))
@pytest.mark.parametrize("dtype", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("case", [("lstm", {}), ("gru", {}), ("gru", {"reset_after": False})],
                         ids=case_id)
def test_row_blocks_of_the_time_loop_match_reference(case, dtype, variant):
    """Wide layers run a slice's rows through the time loop in blocks (time_block_rows in
    csrc/cpu/common.hpp: at most 256 KiB of gates per block, e.g. 48-80 rows here), so 200 rows
    make several blocks and a partial one, on one thread or two."""
    if "cpp" not in BACKENDS:
        pytest.skip("the compiled core is not built")
    cell, opts = case
    H = 256 if dtype == np.float32 else 160
    inp = make_inputs(cell, 200, 3, 2, H, dtype, seed=5,
                      reset_after=opts.get("reset_after", True))
    got = run_fastrnn(cell, opts, inp, variant, "cpp")
    want = run_reference(cell, opts, inp, variant)
    assert_close(got, want, dtype, f"cpp {case_id(case)} B200 H{H} {variant}")


@pytest.mark.parametrize("case", [("elman", {}), ("lstm", {}), ("gru", {}),
                                  ("gru", {"reset_after": False})], ids=case_id)
def test_weight_gradient_chunks_match_reference(case):
    """The core sums the weight gradients over a slice's rows in chunks of about 2 MiB of gate
    gradients (gradient_chunk_rows in csrc/cpu/common.hpp: 2048 rows for Elman at H = 128, 1024
    for the LSTM and 1280 for the GRU at H = 64, float64); 96 x 48 rows make several chunks and a
    partial one per slice, on one thread or two."""
    if "cpp" not in BACKENDS:
        pytest.skip("the compiled core is not built")
    cell, opts = case
    H = 128 if cell == "elman" else 64
    inp = make_inputs(cell, 96, 48, 3, H, np.float64, seed=9,
                      reset_after=opts.get("reset_after", True))
    got = run_fastrnn(cell, opts, inp, "all", "cpp")
    want = run_reference(cell, opts, inp, "all")
    assert_close(got, want, np.float64, f"cpp {case_id(case)} B96 T48 H{H}")
