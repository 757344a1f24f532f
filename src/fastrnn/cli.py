"""The `fastrnn` command.

    fastrnn info   version, backends built and available, threads, CPU features
    fastrnn demo   times the compiled backend against the NumPy reference on the standard
                   shapes and checks that they agree (the main job until `fastrnn forecast`)
"""

from __future__ import annotations

import argparse
import os
import platform
import sys

import numpy as np

import fastrnn
from fastrnn import backends


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in ("avx2", "fma", "avx512f") if f in flags]
    except OSError:
        pass
    return []


def cmd_info(args):
    print(f"fastrnn {fastrnn.__version__} (Python {platform.python_version()}, NumPy {np.__version__})")
    print(f"backends built:     {', '.join(backends.built())}")
    print(f"backends available: {', '.join(backends.available())}")
    print(f"default backend:    {backends.default()}")
    threads = "?"
    if "cpp" in backends.built():
        from fastrnn import _core
        threads = _core.max_threads()
    print(f"threads:            {threads} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    print(f"CPU:                {platform.processor() or platform.machine()}; "
          f"features: {', '.join(_cpu_flags()) or 'baseline'}")
    return 0


def cmd_demo(args):
    from fastrnn.benchmarking import CELLS, STANDARD_SHAPES, make_problem, median_time, runner

    backend = args.backend or backends.default()
    print(f"fastrnn {fastrnn.__version__}: backend {backend!r} vs the NumPy reference, float32")
    print(f"{'shape':<13} {'cell':<6} {'work':<8} {backend + ' ms':>10} {'numpy ms':>10} "
          f"{'speed-up':>9} {'max rel diff':>13}")
    worst = 0.0
    for shape in args.shapes:
        B, T, I, H, work = STANDARD_SHAPES[shape]
        for cell in CELLS:
            problem = make_problem(cell, B, T, I, H)
            fast, slow = runner(cell, backend, *problem, work), runner(cell, "numpy", *problem, work)
            a, r = fast(), slow()
            pairs = [(a, r)] if work == "forward" else list(zip(a, r))
            diff = max(float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1.0)) for x, y in pairs)
            worst = max(worst, diff)
            t_fast = median_time(fast, min_seconds=0.1)
            t_slow = median_time(slow, min_repeats=2, min_seconds=0.1, max_repeats=5)
            print(f"{shape:<13} {cell:<6} {work:<8} {t_fast * 1e3:>10.3f} {t_slow * 1e3:>10.3f} "
                  f"{t_slow / t_fast:>8.1f}x {diff:>13.1e}", flush=True)
    ok = worst < 1e-4
    print(f"agreement with the reference: {'OK' if ok else 'FAILED'} (worst {worst:.1e}, float32 tolerance 1e-4)")
    return 0 if ok else 1


def main(argv=None):
    parser = argparse.ArgumentParser(prog="fastrnn", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("info", help="version, backends, threads, CPU features").set_defaults(func=cmd_info)
    demo = sub.add_parser("demo", help="time the compiled backend against the reference")
    demo.add_argument("--backend", choices=backends.NAMES, default=None)
    demo.add_argument("--shapes", nargs="+", default=["infer-b1", "train-small", "train-medium"],
                      choices=["infer-b1", "train-small", "train-medium", "train-large"])
    demo.set_defaults(func=cmd_demo)
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (ValueError, RuntimeError) as exc:
        print(f"fastrnn: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
