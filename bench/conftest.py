"""Benchmark-suite settings: one thread count for every library, recorded with every result.

FASTRNN_BENCH_THREADS (default: all cores) is applied to OpenMP (fastrnn's cpp backend), Numba
and PyTorch before any of them starts, so that ratios compare like with like.
"""

from __future__ import annotations

import os
import platform

THREADS = int(os.environ.get("FASTRNN_BENCH_THREADS", os.cpu_count() or 1))
for var in ("OMP_NUM_THREADS", "NUMBA_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, str(THREADS))

import numpy as np  # noqa: E402
import pytest  # noqa: E402


def _cpu_name():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _versions():
    from fastrnn._version import __version__
    out = {"fastrnn": __version__, "numpy": np.__version__, "python": platform.python_version()}
    for name in ("torch", "numba", "keras", "tensorflow"):
        try:
            out[name] = __import__(name).__version__
        except Exception:
            pass
    return out


def sgemm_gflops(n=2048, repeats=5):
    """This machine's large-sgemm rate (NumPy's BLAS, float32 n^3, THREADS threads: the
    variables above are set before NumPy loads its BLAS), the median of `repeats` products
    after one warm-up: the yardstick of the sgemm-share targets (bench/TARGETS.md)."""
    import time
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    a @ b
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        a @ b
        times.append(time.perf_counter() - t0)
    return 2.0 * n ** 3 / float(np.median(times)) / 1e9


def _kernel_isa():
    """The instruction set the cpp backend's kernels were picked for, or None."""
    from fastrnn import backends
    try:
        _, cpp = backends.get("cpp")
    except RuntimeError:
        return None
    return cpp.isa()


@pytest.fixture(scope="session")
def run_info():
    info = {"threads": THREADS, "cpu": _cpu_name(), "versions": _versions(),
            "sgemm_gflops": round(sgemm_gflops(), 1)}
    isa = _kernel_isa()
    if isa:
        info["isa"] = isa
    try:
        import torch
        torch.set_num_threads(THREADS)
    except ImportError:
        pass
    return info
