"""GPU benchmark: fastrnn's CUDA backend against PyTorch/cuDNN, in one run, same shapes.

    python bench/bench_cuda.py [--repeats 50] [--json out.json]
    pytest bench/bench_cuda.py          (a smoke run of the same code; skipped without a GPU)

Needs a CUDA build of PyTorch (the pinned CPU wheel has no GPU support) and a GPU. Inputs are
CUDA tensors on both sides, so no host-device copies are timed: fastrnn uses them in place.
Each timing is the median over `repeats` runs after warm-up, with torch.cuda.synchronize()
around every run (wall time of the whole call, launch overhead included, as a user sees it).
Work per shape: "fwd" = forward only; "fwd+bwd" = forward, then the gradients of sum(h_seq)
w.r.t. x, W, U, b. cuDNN runs with PyTorch's defaults (TF32 allowed for cuDNN convolutions
and RNNs only where torch.backends.cudnn.allow_tf32 says so: it is printed in the header).

Shapes: the standard ones (fastrnn.benchmarking.STANDARD_SHAPES) and a sweep of H in
{32, 64, 128, 160, 256} at B in {1, 16, 64} (T = 100, I = 8, forward and forward + backward).
The targets are bench/TARGETS.md's CUDA section (numbers in bench/targets.py, printed in the
header): forward <= 1 us per time step at H <= 128, B <= 64; >= 2x cuDNN where its persistent
small-hidden path does not apply (backward at H 129-256); >= 1.0x at train-large.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time

import numpy as np

import targets
from fastrnn import cells
from fastrnn.benchmarking import STANDARD_SHAPES

_WORK = {"forward": "fwd", "train": "fwd+bwd"}
STANDARD = [(name, B, T, I, H, _WORK[work]) for name, (B, T, I, H, work) in STANDARD_SHAPES.items()]
SWEEP = [(f"sweep-B{B}-H{H}", B, 100, 8, H, work)
         for work in ("fwd", "fwd+bwd") for B in (1, 16, 64) for H in (32, 64, 128, 160, 256)]
CELLS = cells.NAMES


def gpu_or_reason():
    try:
        import torch
    except ImportError:
        return None, "PyTorch is not installed"
    if not torch.cuda.is_available():
        return None, "PyTorch has no usable CUDA device (CPU-only wheel or no GPU)"
    from fastrnn import backends
    try:
        backends.get("cuda")
    except RuntimeError as exc:
        return None, f"fastrnn's cuda backend is not available: {exc}"
    return torch, ""


def median_time(fn, torch, repeats, warmup=5):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    ts = []
    for _ in range(repeats):
        torch.cuda.synchronize()
        t0 = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def fastrnn_fn(torch, cell, B, T, I, H, work):
    from fastrnn import ops
    info = cells.get(cell)
    g = torch.Generator(device="cuda").manual_seed(0)
    G = info.gates
    x = torch.randn(B, T, I, device="cuda", generator=g)
    W = torch.randn(I, G * H, device="cuda", generator=g) * (0.5 / I ** 0.5)
    U = torch.randn(H, G * H, device="cuda", generator=g) * (0.5 / H ** 0.5)
    b = torch.zeros(info.bias_shape(H, reset_after=True), device="cuda")
    ones = torch.ones(B, T, H, device="cuda")
    fwd = getattr(ops, info.forward_name)
    bwd = getattr(ops, info.backward_name)

    def run():
        r = fwd(x, W, U, b, backend="cuda")
        if work == "fwd+bwd":
            bwd(r.cache, dh_seq=ones)
    return run


def torch_fn(torch, cell, B, T, I, H, work):
    mod = getattr(torch.nn, cells.get(cell).torch_class)
    net = mod(I, H, batch_first=True).cuda()
    x = torch.randn(B, T, I, device="cuda", requires_grad=work == "fwd+bwd")

    def run():
        if work == "fwd":
            with torch.no_grad():
                net(x)
        else:
            out, _ = net(x)
            out.sum().backward()
    return run


def bench(shapes, repeats, torch):
    rows = []
    for name, B, T, I, H, work in shapes:
        for cell in CELLS:
            tf = median_time(fastrnn_fn(torch, cell, B, T, I, H, work), torch, repeats)
            tt = median_time(torch_fn(torch, cell, B, T, I, H, work), torch, repeats)
            rows.append(dict(shape=name, cell=cell, B=B, T=T, I=I, H=H, work=work,
                             fastrnn_s=tf, cudnn_s=tt, speedup=tt / tf, us_per_step=tf / T * 1e6))
            print(f"| {name:16s} | {cell:5s} | {work:7s} | {tf * 1e3:9.3f} | {tt * 1e3:9.3f} | "
                  f"{tt / tf:6.2f}x | {tf / T * 1e6:8.2f} |", flush=True)
    return rows


def header(torch):
    p = torch.cuda.get_device_properties(0)
    print(f"GPU: {p.name} ({p.multi_processor_count} SMs), torch {torch.__version__}, "
          f"cuDNN {torch.backends.cudnn.version()}, cudnn.allow_tf32={torch.backends.cudnn.allow_tf32}")
    print(f"targets (bench/TARGETS.md): forward <= {targets.CUDA_US_PER_STEP:g} us/step at "
          f"H <= 128, B <= 64; >= {targets.CUDA_BACKWARD_RATIO:g}x cuDNN backward at H 129-256; "
          f">= {targets.CUDA_LARGE_RATIO:g}x at train-large")
    print("| shape            | cell  | work    | fastrnn ms | cuDNN ms | cuDNN/fastrnn | us/step |")
    print("|------------------|-------|---------|-----------|-----------|--------|----------|")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=50)
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--standard-only", action="store_true")
    args = ap.parse_args(argv)
    torch, why = gpu_or_reason()
    if torch is None:
        print(f"skipped: {why}")
        return 0
    header(torch)
    rows = bench(STANDARD + ([] if args.standard_only else SWEEP), args.repeats, torch)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(gpu=torch.cuda.get_device_name(0), torch=torch.__version__,
                           command=" ".join(sys.argv), rows=rows), f, indent=1)
    return 0


def test_bench_cuda_smoke():
    import pytest
    torch, why = gpu_or_reason()
    if torch is None:
        pytest.skip(why)
    rows = bench([("smoke", 4, 10, 3, 32, "fwd+bwd")], 2, torch)
    assert all(np.isfinite(r["fastrnn_s"]) for r in rows)


if __name__ == "__main__":
    sys.exit(main())
