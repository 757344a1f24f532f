"""`fastrnn demo` and `fastrnn bench`: the backends timed against the NumPy reference (and
PyTorch) on the standard shapes of fastrnn.benchmarking, with an agreement check."""

from __future__ import annotations

import os

from fastrnn import backends
from fastrnn._version import __version__
from fastrnn.benchmarking import (CELLS, STANDARD_SHAPES, make_problem, max_rel_diff,
                                  median_time, runner, torch_runner)
from fastrnn.cli._common import check_available, set_threads

TOLERANCE, TOLERANCE_TEXT = 1e-4, "1e-4"  # float32 agreement with the reference


def _verdict(worst):
    ok = worst < TOLERANCE
    print(f"agreement with the reference: {'OK' if ok else 'FAILED'} (worst {worst:.1e}, "
          f"float32 tolerance {TOLERANCE_TEXT})")
    return 0 if ok else 1


def run_demo(args):
    backend = args.backend or backends.default()
    print(f"fastrnn {__version__}: backend {backend!r} vs the NumPy reference, float32")
    print(f"{'shape':<13} {'cell':<6} {'work':<8} {backend + ' ms':>10} {'numpy ms':>10} "
          f"{'speed-up':>9} {'max rel diff':>13}")
    worst = 0.0
    for shape in args.shapes:
        B, T, I, H, work = STANDARD_SHAPES[shape]
        for cell in CELLS:
            problem = make_problem(cell, B, T, I, H)
            fast = runner(cell, backend, *problem, work)
            slow = runner(cell, "numpy", *problem, work)
            diff = max_rel_diff(fast(), slow(), work)
            worst = max(worst, diff)
            t_fast = median_time(fast, min_seconds=0.1)
            t_slow = median_time(slow, min_repeats=2, min_seconds=0.1, max_repeats=5)
            print(f"{shape:<13} {cell:<6} {work:<8} {t_fast * 1e3:>10.3f} {t_slow * 1e3:>10.3f} "
                  f"{t_slow / t_fast:>8.1f}x {diff:>13.1e}", flush=True)
    return _verdict(worst)


def _torch_or_none(skip):
    if skip:
        return None
    try:
        import torch
    except ImportError:
        return None
    return torch


def _header(names, with_torch):
    cols = ["numpy"] + names + (["torch"] if with_torch else [])
    head = f"{'shape':<13} {'cell':<6} {'work':<8}" + "".join(f"{c + ' ms':>11}" for c in cols)
    head += "".join(f"{'np/' + b:>10}" for b in names)
    if with_torch:
        head += "".join(f"{'torch/' + b:>12}" for b in names)
    return cols, head + f"{'max diff':>10}"


def _bench_row(shape, cell, names, with_torch):
    """(median seconds per column, worst difference from the reference) of one shape and cell."""
    B, T, I, H, work = STANDARD_SHAPES[shape]
    problem = make_problem(cell, B, T, I, H)
    ref = runner(cell, "numpy", *problem, work)
    want = ref()
    times = {"numpy": median_time(ref, min_repeats=2, min_seconds=0.05, max_repeats=5)}
    worst = 0.0
    for b in names:
        fn = runner(cell, b, *problem, work)
        worst = max(worst, max_rel_diff(fn(), want, work))
        times[b] = median_time(fn, min_seconds=0.1)
    if with_torch:
        times["torch"] = median_time(torch_runner(cell, *problem, work), min_seconds=0.1)
    return times, worst


def run_bench(args):
    set_threads(args.threads, torch_too=True)
    names = args.backends or [b for b in backends.available() if b != "numpy"]
    check_available(names)
    torch = _torch_or_none(args.no_torch)
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    print(f"fastrnn {__version__} bench: float32, median wall time in ms "
          f"(threads: {threads}); ratio = reference time / backend time"
          + ("" if torch is not None else "; PyTorch not installed"))
    cols, head = _header(names, torch is not None)
    print(head)
    worst = 0.0
    for shape in args.shapes:
        for cell in args.cells or CELLS:
            times, row = _bench_row(shape, cell, names, torch is not None)
            worst = max(worst, row)
            work = STANDARD_SHAPES[shape][4]
            line = f"{shape:<13} {cell:<6} {work:<8}"
            line += "".join(f"{times[c] * 1e3:>11.3f}" for c in cols)
            line += "".join(f"{times['numpy'] / times[b]:>9.1f}x" for b in names)
            if torch is not None:
                line += "".join(f"{times['torch'] / times[b]:>11.1f}x" for b in names)
            print(line + f"{row:>10.1e}", flush=True)
    return _verdict(worst)
