"""The fit-seed shape of bench/TARGETS.md: one epoch of ``fit`` on 1000 windows (T=11, I=4) with
cell(4) + Dense(1), Adam, MSE, shuffled batches of 32 (32 batches, the last one of 8).
Targets: >= 50x the idiomatic PyTorch loop and >= 250x Keras ``fit`` (bench/targets.py).

    python -m pytest bench/bench_fit.py --benchmark-enable --benchmark-group-by=param:cell \
        --benchmark-json=bench/results/fit.json
    python bench/bench_fit.py            # the same, summarised as ratios from one run
    python bench/bench_fit.py --interleave   # sides taking turns epoch by epoch

Sides (extra_info "backend"):
    cpp          fastrnn ``model.fit``, fused fused epoch (the cpp backend's Trainer)
    cpp-python   fastrnn ``model.fit(fused=False)``, the Python training loop over the same kernels
    torch        the idiomatic PyTorch loop: nn.LSTM/GRU/RNN(batch_first) + nn.Linear, a
                 DataLoader(TensorDataset, batch_size=32, shuffle=True), zero_grad / MSE /
                 backward / Adam.step per batch
    torch-lean   the same model and optimiser with the DataLoader replaced by one randperm and
                 tensor slicing per batch (the fastest plain PyTorch loop we know)
    keras        ``keras.Model.fit(epochs=1, batch_size=32, verbose=0)``; skipped without Keras

All sides use FASTRNN_BENCH_THREADS threads (bench/conftest.py sets OpenMP and torch). Each
benchmark call runs one more epoch on the same model. Floor: the matrix products of one epoch
are ~3 x 2 x 1000 x 11 x G*4 x 8 FLOP = 0.5-2 MFLOP; at these sizes the cost is per-call
overhead, which is what fusing the epoch removes.
"""

from __future__ import annotations

import numpy as np
import pytest

import fastrnn
import targets
from fastrnn import cells, layers

N, T, I, H, BATCH = 1000, 11, 4, 4, 32
CELLS = cells.NAMES
SIDES = ("cpp", "cpp-python", "torch", "torch-lean", "keras")


def fit_seed_data(seed=0):
    """1000 windows of 11 steps of a 4-feature noisy series, the next value of feature 0 as y."""
    rng = np.random.default_rng(seed)
    t = np.arange(N + T + 1, dtype=np.float64)
    series = np.stack([np.sin(t / 7 + k) + 0.1 * rng.standard_normal(t.size) for k in range(I)], 1)
    idx = np.arange(N)[:, None] + np.arange(T)[None, :]
    x = series[idx].astype(np.float32)
    y = series[np.arange(N) + T, :1].astype(np.float32)
    return x, y


def fastrnn_epoch(cell, fused, x, y):
    fastrnn.set_random_seed(0)
    rnn = getattr(layers, cells.get(cell).keras_class)
    model = fastrnn.Sequential([rnn(H, input_shape=(T, I)), layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, fused=fused)  # warm-up
    assert model.fused_fit_info["fused"] == fused, model.fused_fit_info
    return lambda: model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0, fused=fused)


def torch_epoch(cell, x, y, lean=False):
    torch = pytest.importorskip("torch")
    from torch import nn
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    rnn_cls = getattr(nn, cells.get(cell).torch_class)

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = rnn_cls(I, H, batch_first=True)
            self.head = nn.Linear(H, 1)

        def forward(self, xb):
            out, _ = self.rnn(xb)
            return self.head(out[:, -1])

    model = Net()
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    loss_fn = nn.MSELoss()
    X, Y = torch.from_numpy(x), torch.from_numpy(y)
    loader = DataLoader(TensorDataset(X, Y), batch_size=BATCH, shuffle=True)

    def step(xb, yb):
        opt.zero_grad()
        loss = loss_fn(model(xb), yb)
        loss.backward()
        opt.step()

    def idiomatic():
        model.train()
        for xb, yb in loader:
            step(xb, yb)

    def slicing():
        model.train()
        perm = torch.randperm(N)
        for s in range(0, N, BATCH):
            sel = perm[s:s + BATCH]
            step(X[sel], Y[sel])

    fn = slicing if lean else idiomatic
    fn()  # warm-up
    return fn


def keras_epoch(cell, x, y):
    try:
        import keras
    except Exception as exc:  # ImportError, or a broken TensorFlow install
        pytest.skip(f"keras is not importable: {exc}")
    keras.utils.set_random_seed(0)
    rnn_cls = getattr(keras.layers, cells.get(cell).keras_class)
    model = keras.Sequential([keras.Input((T, I)), rnn_cls(H), keras.layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)
    return lambda: model.fit(x, y, epochs=1, batch_size=BATCH, verbose=0)


def make_side(side, cell, x, y):
    if side == "cpp":
        return fastrnn_epoch(cell, True, x, y)
    if side == "cpp-python":
        return fastrnn_epoch(cell, False, x, y)
    if side == "torch":
        return torch_epoch(cell, x, y)
    if side == "torch-lean":
        return torch_epoch(cell, x, y, lean=True)
    return keras_epoch(cell, x, y)


@pytest.mark.parametrize("side", SIDES)
@pytest.mark.parametrize("cell", CELLS)
def test_fit_seed(benchmark, run_info, cell, side):
    x, y = fit_seed_data()
    fn = make_side(side, cell, x, y)
    benchmark.group = f"fit-seed {cell}"
    benchmark.extra_info.update(run_info, backend=side, cell=cell, shape="fit-seed", work="fit",
                                B=BATCH, T=T, I=I, H=H, samples=N)
    benchmark.pedantic(fn, rounds=15 if side.startswith("cpp") else 5, warmup_rounds=1,
                       iterations=1)


def main(repeats=15, interleave=False):
    """Medians from one run and the peer / fastrnn-fused ratios.

    Each side runs its `repeats` epochs back to back after its warm-up epoch, as in the pytest
    suite. With interleave=True (``--interleave``) the sides take turns epoch by epoch instead,
    which times the neighbours' after-effects (their spinning worker threads, cold caches) more
    than fastrnn (bench/NOTES.md, section 11, has the measurement)."""
    import os
    import time

    threads = int(os.environ.get("FASTRNN_BENCH_THREADS", os.cpu_count() or 1))
    os.environ.setdefault("OMP_NUM_THREADS", str(threads))
    try:
        import torch
        torch.set_num_threads(threads)
    except ImportError:
        pass
    x, y = fit_seed_data()
    print(f"fit-seed: one epoch of fit, N={N} T={T} I={I} H={H} batch {BATCH}, float32, "
          f"{threads} thread(s), median of {repeats}, "
          + ("sides interleaved epoch by epoch" if interleave
             else "each side's epochs back to back"))
    print(f"{'cell':6} {'side':11} {'ms/epoch':>9} {'side/fused':>12} {'target':>8}")
    for cell in CELLS:
        fns = {}
        for side in SIDES:
            try:
                fns[side] = make_side(side, cell, x, y)
            except BaseException as exc:  # pytest.skip raises a BaseException subclass
                if type(exc).__name__ not in ("Skipped", "ImportError"):
                    raise
        times = {side: [] for side in fns}
        order = ([list(fns)] * repeats if interleave
                 else [[side] * repeats for side in fns])
        for sides in order:
            for side in sides:
                t0 = time.perf_counter()
                fns[side]()
                times[side].append(time.perf_counter() - t0)
        med = {side: float(np.median(ts)) for side, ts in times.items()}
        for side, t in med.items():
            target = targets.FIT_SEED.get(side)
            print(f"{cell:6} {side:11} {t * 1e3:9.2f} {t / med['cpp']:11.1f}x"
                  + (f" {'>= ' + format(target, 'g') + 'x':>8}" if target else ""))


if __name__ == "__main__":
    import sys
    main(interleave="--interleave" in sys.argv[1:])
