"""The standard benchmark shapes of PERFORMANCE.md and a backend-neutral way to run one.

Used by the `fastrnn demo` / `fastrnn bench` commands and by bench/; kept in the package so that
both time exactly the same work.
"""

from __future__ import annotations

import time

import numpy as np

from fastrnn import ops

# name -> (B, T, I, H, work); work is "forward" or "train" (forward + full BPTT of sum(h_seq)).
STANDARD_SHAPES = {
    "infer-b1": (1, 24, 1, 16, "forward"),
    "train-small": (64, 48, 1, 32, "train"),
    "train-medium": (256, 100, 8, 128, "train"),
    "train-large": (512, 256, 32, 256, "train"),
}
CELLS = ("elman", "lstm", "gru")
GATES = {"elman": 1, "lstm": 4, "gru": 3}


def make_problem(cell, B, T, I, H, dtype=np.float32, seed=0):
    """Random x, W, U, b for a cell (GRU with reset_after=True, as in PyTorch)."""
    rng = np.random.default_rng(seed)
    G = GATES[cell]
    x = rng.standard_normal((B, T, I)).astype(dtype)
    W = (rng.standard_normal((I, G * H)) / np.sqrt(I)).astype(dtype)
    U = (rng.standard_normal((H, G * H)) / np.sqrt(H)).astype(dtype)
    b = np.zeros((2, G * H) if cell == "gru" else (G * H,), dtype)
    return x, W, U, b


def flops(cell, B, T, I, H, work):
    """Multiply-adds x 2 of the matrix products (the pointwise work is O(BTH) and left out)."""
    G = GATES[cell]
    fwd = 2.0 * B * T * G * H * (I + H)
    # backward: dh_prev (H x GH), dx (GH x I), dW, dU: twice the forward's products
    return fwd if work == "forward" else 3.0 * fwd


def runner(cell, backend, x, W, U, b, work):
    """A zero-argument callable doing the work once with fastrnn on `backend`."""
    fwd = {"elman": ops.elman_forward, "lstm": ops.lstm_forward, "gru": ops.gru_forward}[cell]
    bwd = {"elman": ops.elman_backward, "lstm": ops.lstm_backward, "gru": ops.gru_backward}[cell]
    ones = np.ones(x.shape[:2] + (U.shape[0],), x.dtype)
    if work == "forward":
        return lambda: fwd(x, W, U, b, backend=backend).h_seq
    return lambda: bwd(fwd(x, W, U, b, backend=backend).cache, dh_seq=ones)


def torch_runner(cell, x, W, U, b, work):
    """The same work with torch.nn.RNN/LSTM/GRU (weights converted from Keras layout)."""
    import torch

    from fastrnn import interop

    B, T, I = x.shape
    H = U.shape[0]
    cls = {"elman": torch.nn.RNN, "lstm": torch.nn.LSTM, "gru": torch.nn.GRU}[cell]
    mod = cls(I, H, batch_first=True)
    sd = interop.to_torch(cell, W, U, b)
    mod.load_state_dict({k: torch.from_numpy(np.ascontiguousarray(v)) for k, v in sd.items()})
    xt = torch.from_numpy(x)
    if work == "forward":
        def fwd():
            with torch.no_grad():
                return mod(xt)[0]
        return fwd
    xt = xt.clone().requires_grad_(True)

    def train():
        mod.zero_grad(set_to_none=True)
        xt.grad = None
        mod(xt)[0].sum().backward()
    return train


def median_time(fn, min_repeats=5, min_seconds=0.2, max_repeats=1000):
    """Median wall time of fn() after one warm-up call."""
    fn()
    times = []
    start = time.perf_counter()
    while len(times) < max_repeats and (len(times) < min_repeats or time.perf_counter() - start < min_seconds):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))
