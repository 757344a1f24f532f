"""The standard benchmark shapes and a backend-neutral way to run one.

Used by the ``fastrnn demo`` / ``fastrnn bench`` commands and by bench/, so that both time
exactly the same work. The shapes are the project's performance contract (bench/TARGETS.md,
which also holds the targets); the cells come from the cell table, so a new cell is
benchmarked as soon as it has its row and its kernels.
"""

from __future__ import annotations

import time

import numpy as np

from fastrnn import cells, ops

__all__ = ["STANDARD_SHAPES", "CELLS", "make_problem", "flops", "runner", "floor_runner",
           "torch_runner", "median_time", "max_rel_diff"]

# name -> (B, T, I, H, work); work is "forward" or "train" (forward + full BPTT of sum(h_seq)).
STANDARD_SHAPES = {
    "infer-b1": (1, 24, 1, 16, "forward"),
    "train-small": (64, 48, 1, 32, "train"),
    "train-medium": (256, 100, 8, 128, "train"),
    "train-large": (512, 256, 32, 256, "train"),
}
CELLS = cells.NAMES


def make_problem(cell, B, T, I, H, dtype=np.float32, seed=0):
    """Random x, W, U, b for a cell (a GRU with reset_after=True, as in PyTorch)."""
    info = cells.get(cell)
    rng = np.random.default_rng(seed)
    G = info.gates
    x = rng.standard_normal((B, T, I)).astype(dtype)
    W = (rng.standard_normal((I, G * H)) / np.sqrt(I)).astype(dtype)
    U = (rng.standard_normal((H, G * H)) / np.sqrt(H)).astype(dtype)
    b = np.zeros(info.bias_shape(H, reset_after=True), dtype)
    return x, W, U, b


def flops(cell, B, T, I, H, work):
    """Multiply-adds x 2 of the matrix products (the pointwise work is O(BTH) and left out)."""
    fwd = 2.0 * B * T * cells.get(cell).gates * H * (I + H)
    # backward: dh_prev (H x GH), dx (GH x I), dW, dU: twice the forward's products
    return fwd if work == "forward" else 3.0 * fwd


def runner(cell, backend, x, W, U, b, work):
    """A zero-argument callable doing the work once with fastrnn on `backend`."""
    info = cells.get(cell)
    fwd = getattr(ops, info.forward_name)
    bwd = getattr(ops, info.backward_name)
    ones = np.ones(x.shape[:2] + (U.shape[0],), x.dtype)
    if work == "forward":
        return lambda: fwd(x, W, U, b, backend=backend).h_seq
    return lambda: bwd(fwd(x, W, U, b, backend=backend).cache, dh_seq=ones)


def floor_runner(cell, x, W, U, b):
    """A zero-argument callable making an empty call into the compiled core with the arguments
    of the cell's forward function: the floor of any binding call (bench/TARGETS.md: infer-b1
    within 2x of it). None where the core is not built."""
    from fastrnn import backends

    try:
        _, cpp = backends.get("cpp")
    except RuntimeError:
        return None
    info = cells.get(cell)
    states = (None,) * len(info.states)
    reset_after = (True,) if info.has_reset_after else ()
    acts = ("tanh", *info.recurrent_activations[:1])
    args = (x, W, U, b, *states, *reset_after, *acts)
    empty = cpp.empty_call
    return lambda: empty(*args)


def torch_runner(cell, x, W, U, b, work):
    """The same work with the cell's torch.nn module (weights converted from Keras layout)."""
    import torch

    from fastrnn import interop

    B, T, I = x.shape
    H = U.shape[0]
    info = cells.get(cell)
    mod = getattr(torch.nn, info.torch_class)(I, H, batch_first=True)
    sd = interop.to_torch(info.name, W, U, b)
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


def max_rel_diff(got, want, work):
    """Largest max|got - want| / max(max|want|, 1) over the outputs of `work` (one array for
    "forward", the tuple of gradients for "train")."""
    pairs = [(got, want)] if work == "forward" else list(zip(got, want))
    return max(float(np.max(np.abs(a - r)) / max(np.max(np.abs(r)), 1.0)) for a, r in pairs)


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
