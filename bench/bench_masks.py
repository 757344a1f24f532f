"""Masked recurrent layers: the kernels' masks against the per-step path they replace (issue 16).

One forward + backward of a recurrent layer at the train-small shape (B=64, T=48, I=1, H=32,
float32, cpp backend) with a Keras step mask (random leading padding per sample, as a Masking
layer gives for left-padded series), two ways in one run: the mask in the kernels (what a masked
layer does now) and the per-step Python loop (what it did before: forced here by telling the
layer its backend takes no masks). Prints the median time of each and their ratio per cell,
and the unmasked call's time for scale.

    PYTHONPATH=src python bench/bench_masks.py [--repeats 30]

Runs in well under 30 s. The ratio is the figure to read; absolute times vary with the machine
(and with anything else running on it).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from fastrnn import layers
from fastrnn.nn.layers import recurrent

B, T, I, H = 64, 48, 1, 32


def _inputs(seed=0):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((B, T, I)).astype(np.float32)
    start = rng.integers(0, T // 2, size=B)             # leading padding per sample
    mask = np.arange(T)[None, :] >= start[:, None]
    dy = rng.standard_normal((B, H)).astype(np.float32)
    return x, mask, dy


def _median_time(layer, x, mask, dy, repeats):
    layer(x, mask=mask)
    layer.backward(dy)                                  # warm-up (and build)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        layer(x, mask=mask)
        layer.backward(dy)
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=30)
    args = parser.parse_args(argv)
    x, mask, dy = _inputs()
    print(f"train-small B={B} T={T} I={I} H={H} float32, cpp backend, "
          f"{mask.mean():.0%} of steps valid; median of {args.repeats} forward+backward calls")
    print(f"{'cell':10s} {'no mask':>12s} {'kernel mask':>12s} {'per-step':>12s} {'speed-up':>9s}")
    per_step = recurrent.Recurrent._kernels_take_masks
    for name in ("SimpleRNN", "LSTM", "GRU"):
        layer = getattr(layers, name)(H, backend="cpp", seed=1)
        plain = _median_time(layer, x, None, dy, args.repeats)
        fast = _median_time(layer, x, mask, dy, args.repeats)
        recurrent.Recurrent._kernels_take_masks = lambda self: False
        try:
            slow = _median_time(layer, x, mask, dy, args.repeats)
        finally:
            recurrent.Recurrent._kernels_take_masks = per_step
        print(f"{name:10s} {plain * 1e3:10.3f}ms {fast * 1e3:10.3f}ms {slow * 1e3:10.3f}ms "
              f"{slow / fast:8.1f}x")


if __name__ == "__main__":
    main()
