"""One fit epoch of fit-seed-sized models (1000 windows, T=11, I=4, LSTM(4) + Dense(1), Adam,
MSE, batch 32; the stateful model uses batches of 40, a divisor of 1000) on the path each
takes, against the fused epoch of the plain model: what a model pays when the compiled trainer
cannot run it (``model.fused_fit_info`` says which path ran). Medians of 7 epochs after one.

    python bench/fused_paths.py
"""

from __future__ import annotations

import time

import numpy as np

import fastrnn
from fastrnn import layers
from fastrnn.nn.sequential import Sequential

N, T, I, H = 1000, 11, 4, 4
KINDS = ("plain", "masked", "bidirectional", "stateful")


def data(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((N, T, I)).astype(np.float32)
    masked = x.copy()
    masked[:, :3][rng.random((N, 3)) < 0.5] = 0.0   # some leading steps are padding
    y = rng.standard_normal((N, 1)).astype(np.float32)
    return x, masked, y


def build(kind):
    fastrnn.set_random_seed(0)
    if kind == "stateful":
        stack = [layers.Input((T, I), batch_size=40), layers.LSTM(H, stateful=True)]
    elif kind == "bidirectional":
        stack = [layers.Input((T, I)), layers.Bidirectional(layers.LSTM(H))]
    elif kind == "masked":
        stack = [layers.Input((T, I)), layers.Masking(0.0), layers.LSTM(H)]
    else:
        stack = [layers.Input((T, I)), layers.LSTM(H)]
    model = Sequential(stack + [layers.Dense(1)])
    model.compile(optimizer="adam", loss="mse")
    return model


def epoch_seconds(kind, x, y, fused=None, repeats=7):
    """(median seconds per epoch, model.fused_fit_info)."""
    model = build(kind)
    kw = {"epochs": 1, "batch_size": 40 if kind == "stateful" else 32, "verbose": 0,
          "fused": fused}
    if kind == "stateful":
        kw["shuffle"] = False
    model.fit(x, y, **kw)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.fit(x, y, **kw)
        times.append(time.perf_counter() - t0)
    return float(np.median(times)), model.fused_fit_info


def main():
    x, masked, y = data()
    base, _ = epoch_seconds("plain", x, y, fused=True)
    print(f"plain, fused: {base * 1e3:.2f} ms per epoch")
    for kind in KINDS:
        t, info = epoch_seconds(kind, masked if kind == "masked" else x, y,
                                fused=False if kind == "plain" else None)
        path = "fused" if info["fused"] else "Python"
        print(f"{kind:14s} {path:6s} path: {t * 1e3:7.2f} ms per epoch = {t / base:5.1f}x")


if __name__ == "__main__":
    main()
