"""An ordinary PyTorch training loop with ``fastrnn.torch``'s modules against the same loop with
``torch.nn``'s: the recurrent module is the only difference.

    python -m pytest bench/bench_torch_modules.py --benchmark-enable \
        --benchmark-group-by=param:shape --benchmark-json=bench/results/torch_modules.json
    python bench/bench_torch_modules.py              # LSTM, ratios from one interleaved run
    python bench/bench_torch_modules.py --cells lstm,gru,elman --repeats 15

The loop (both sides): ``cell(I, H, batch_first=True)`` + ``nn.Linear(H, 1)`` on the last step,
``nn.MSELoss``, ``torch.optim.Adam``; one benchmark call is one optimiser step
(zero_grad, forward, loss, backward, step) on a fixed batch of the standard shape
(``fastrnn.benchmarking.STANDARD_SHAPES``: train-small B=64 T=48 I=1 H=32, train-medium B=256
T=100 I=8 H=128), or, for "real-loop", one epoch of a ``DataLoader`` loop (batch 32, shuffled) over
the sunspot series shipped with fastrnn (standardised, windows of 24 years -> the next year),
with a 32-unit cell. Both sides start from the same weights (fastrnn.torch initialises as
torch.nn does under the same seed); ``main`` checks that their first losses agree.

Threads: FASTRNN_BENCH_THREADS (bench/conftest.py; default all cores) for OpenMP and torch.
``main`` takes turns between the sides step by step and reports medians, because the machine
may be shared: say what else ran when quoting a ratio.
"""

from __future__ import annotations

import os
import time

import numpy as np
import pytest

from fastrnn import benchmarking, cells

SHAPES = ("train-small", "train-medium", "real-loop")
SIDES = ("fastrnn", "torch")
REAL_LAGS, REAL_UNITS, REAL_BATCH = 24, 32, 32


def _module(side, cell):
    import torch.nn

    import fastrnn.torch
    return getattr(fastrnn.torch if side == "fastrnn" else torch.nn, cells.get(cell).torch_class)


def _net(side, cell, I, H, seed):
    import torch
    from torch import nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = _module(side, cell)(I, H, batch_first=True)
            self.head = nn.Linear(H, 1)

        def forward(self, x):
            out, _ = self.rnn(x)
            return self.head(out[:, -1])

    torch.manual_seed(seed)
    return Net()


def _step_fn(net, opt, loss_fn):
    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(net(xb), yb)
        loss.backward()
        opt.step()
        return loss
    return step


def train_step(side, cell, shape, seed=0):
    """A zero-argument callable: one optimiser step of the loop on a fixed batch of `shape`;
    it returns the loss (a tensor)."""
    import torch

    B, T, I, H, _ = benchmarking.STANDARD_SHAPES[shape]
    net = _net(side, cell, I, H, seed)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    step = _step_fn(net, opt, torch.nn.MSELoss())
    g = torch.Generator().manual_seed(seed + 1)
    x, y = torch.randn(B, T, I, generator=g), torch.randn(B, 1, generator=g)
    return lambda: step(x, y)


def sunspot_windows():
    """(X (n, 24, 1), y (n, 1)) float32 tensors: standardised yearly sunspot numbers."""
    import torch

    from fastrnn.data import load_sunspots
    from fastrnn.timeseries import make_windows

    z = np.asarray(load_sunspots().values, np.float64)
    z = (z - z.mean()) / z.std()
    X, y = make_windows(z.astype(np.float32), REAL_LAGS, 1, copy=True)
    return torch.from_numpy(np.ascontiguousarray(X)), torch.from_numpy(np.ascontiguousarray(y))


def real_epoch(side, cell, seed=0):
    """A zero-argument callable: one epoch of an idiomatic DataLoader loop on the sunspots; it
    returns the last batch's loss."""
    import torch
    from torch.utils.data import DataLoader, TensorDataset

    X, y = sunspot_windows()
    net = _net(side, cell, 1, REAL_UNITS, seed)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    step = _step_fn(net, opt, torch.nn.MSELoss())
    loader = DataLoader(TensorDataset(X, y), batch_size=REAL_BATCH, shuffle=True,
                        generator=torch.Generator().manual_seed(seed))

    def epoch():
        net.train()
        loss = None
        for xb, yb in loader:
            loss = step(xb, yb)
        return loss
    return epoch


def make(side, cell, shape, seed=0):
    if shape == "real-loop":
        return real_epoch(side, cell, seed)
    return train_step(side, cell, shape, seed)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("cell", cells.NAMES)
@pytest.mark.parametrize("shape", SHAPES)
def test_torch_loop(benchmark, run_info, shape, cell, side):
    pytest.importorskip("torch")
    fn = make(side, cell, shape)
    fn()  # warm-up
    B, T, I, H, _ = benchmarking.STANDARD_SHAPES.get(
        shape, (REAL_BATCH, REAL_LAGS, 1, REAL_UNITS, "train"))
    benchmark.group = f"torch-loop {shape} {cell}"
    benchmark.extra_info.update(run_info, backend=side, cell=cell, shape=shape,
                                work="epoch" if shape == "real-loop" else "step",
                                B=B, T=T, I=I, H=H)
    benchmark.pedantic(fn, rounds=5 if shape == "train-medium" else 15, warmup_rounds=1,
                       iterations=1)


def main(cell_names=(cells.LSTM.name,), repeats=11):
    """Medians of `repeats` interleaved runs per side, and torch.nn time / fastrnn.torch time."""
    threads = int(os.environ.get("FASTRNN_BENCH_THREADS", os.cpu_count() or 1))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    import torch
    torch.set_num_threads(threads)
    from fastrnn import backends

    print(f"torch training loop: fastrnn.torch vs torch.nn, float32, {threads} thread(s), "
          f"backend {backends.default()}, torch {torch.__version__}, median of {repeats}, "
          "sides interleaved")
    print(f"{'shape':13} {'cell':6} {'torch.nn ms':>12} {'fastrnn ms':>11} {'ratio':>7}")
    for cell in cell_names:
        for shape in SHAPES:
            fns = {side: make(side, cell, shape) for side in SIDES}
            first = {side: float(fn().detach()) for side, fn in fns.items()}  # also the warm-up
            assert abs(first["fastrnn"] - first["torch"]) <= 1e-4 * max(1.0, abs(first["torch"])), first
            times = {side: [] for side in SIDES}
            for _ in range(repeats):
                for side in SIDES:
                    t0 = time.perf_counter()
                    fns[side]()
                    times[side].append(time.perf_counter() - t0)
            med = {side: float(np.median(ts)) for side, ts in times.items()}
            print(f"{shape:13} {cell:6} {med['torch'] * 1e3:12.2f} {med['fastrnn'] * 1e3:11.2f} "
                  f"{med['torch'] / med['fastrnn']:6.2f}x")


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default=cells.LSTM.name,
                        help="comma-separated cell names (default: the LSTM)")
    parser.add_argument("--repeats", type=int, default=11)
    args = parser.parse_args()
    main(tuple(cells.get(c).name for c in args.cells.split(",")), args.repeats)
