"""The numba backend against the cpp backend: forward + full BPTT of sum(h_seq), float32.

Target (bench/TARGETS.md; the number in bench/targets.py): numba within 3x of cpp on
train-small and train-medium.
Run both backends in one session with the same thread count, e.g.

    OMP_NUM_THREADS=2 NUMBA_NUM_THREADS=2 python -m pytest bench/bench_numba.py \\
        --benchmark-enable --benchmark-group-by=param:shape --benchmark-columns=median,iqr,rounds

and read the ratio numba/cpp of the medians within each group (printed at the end of the run by
the session fixture below as well). Each case is warmed up first, so numba's one-time compile
(or cache load) is not timed. Run as a script, the same cases with the two backends' rounds
interleaved (steadier on a shared machine), or numba's first-call compile time:

    OMP_NUM_THREADS=2 NUMBA_NUM_THREADS=2 python bench/bench_numba.py [--rounds 15]
    python bench/bench_numba.py --compile-time [--dtype float64]
"""

from __future__ import annotations

import os

import numpy as np
import pytest

import targets
from fastrnn import backends, cells, ops
from fastrnn._version import __version__
from fastrnn.benchmarking import STANDARD_SHAPES

SHAPES = {name: STANDARD_SHAPES[name][:4] for name in targets.NUMBA_SHAPES}  # (B, T, I, H)
CELLS = cells.NAMES
BACKENDS = [b for b in ("cpp", "numba") if b in backends.available()]

_medians: dict = {}


def _threads(backend):
    threads = getattr(backends.get(backend)[1], "threads", None)
    return threads() if threads is not None else 1


def _versions():
    out = {"fastrnn": __version__, "numpy": np.__version__}
    try:
        import numba
        out["numba"] = numba.__version__
    except ImportError:
        pass
    return out


def _inputs(cell, B, T, I, H, seed=0):
    rng = np.random.default_rng(seed)
    info = cells.get(cell)
    G = info.gates
    f32 = lambda *s: rng.standard_normal(s).astype(np.float32)  # noqa: E731
    x = f32(B, T, I)
    W = f32(I, G * H) / np.float32(np.sqrt(I))
    U = f32(H, G * H) / np.float32(np.sqrt(H))
    b = f32(*info.bias_shape(H, reset_after=True)) * 0.1
    return x, W, U, b, np.ones((B, T, H), np.float32)


def _step(cell, backend, x, W, U, b, dh_seq):
    """Forward, then the gradients of sum(h_seq) (dh_seq = ones) w.r.t. x, W, U, b."""
    info = cells.get(cell)
    fwd = getattr(ops, info.forward_name)
    bwd = getattr(ops, info.backward_name)
    r = fwd(x, W, U, b, backend=backend)
    return bwd(r.cache, dh_seq=dh_seq)


@pytest.fixture(scope="session", autouse=True)
def _ratio_summary():
    yield
    lines = []
    for (shape, cell), by_backend in sorted(_medians.items()):
        if "cpp" in by_backend and "numba" in by_backend:
            cpp, nb = by_backend["cpp"], by_backend["numba"]
            lines.append(f"  {shape:13s} {cell:6s} numba/cpp = {nb / cpp:.2f}  "
                         f"(cpp {cpp * 1e3:.3f} ms, numba {nb * 1e3:.3f} ms)")
    if lines:
        print(f"\nnumba/cpp time ratios (medians, same run; target <= {targets.NUMBA_WITHIN:g}):\n"
              + "\n".join(lines))


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", list(SHAPES))
def test_train_step(benchmark, shape, cell, backend):
    B, T, I, H = SHAPES[shape]
    args = _inputs(cell, B, T, I, H)
    _step(cell, backend, *args)  # warm-up: compile / cache load, page-in
    benchmark.extra_info.update(backend=backend, threads=_threads(backend), shape=shape,
                                cell=cell, dtype="float32",
                                OMP_NUM_THREADS=os.environ.get("OMP_NUM_THREADS", ""),
                                NUMBA_NUM_THREADS=os.environ.get("NUMBA_NUM_THREADS", ""),
                                **_versions())
    benchmark.pedantic(_step, args=(cell, backend, *args), warmup_rounds=1,
                       rounds=7 if shape == "train-medium" else 30, iterations=1)
    if benchmark.stats is not None:
        _medians.setdefault((shape, cell), {})[backend] = benchmark.stats.stats.median


def _interleaved_ratios(shapes, cells, rounds):
    """numba/cpp median ratios with the two backends' rounds interleaved (robust to load drift on
    a shared machine): for each case, alternate one cpp step and one numba step `rounds` times."""
    import time
    rows = []
    for shape in shapes:
        for cell in cells:
            args = _inputs(cell, *SHAPES[shape])
            times = {b: [] for b in BACKENDS}
            for b in BACKENDS:
                _step(cell, b, *args)
            for _ in range(rounds):
                for b in BACKENDS:
                    t0 = time.perf_counter()
                    _step(cell, b, *args)
                    times[b].append(time.perf_counter() - t0)
            med = {b: float(np.median(t)) for b, t in times.items()}
            rows.append((shape, cell, med))
            cols = "  ".join(f"{b} {med[b] * 1e3:8.3f} ms" for b in BACKENDS)
            ratio = (f"   numba/cpp = {med['numba'] / med['cpp']:.2f} "
                     f"(target <= {targets.NUMBA_WITHIN:g})" if len(med) == 2 else "")
            print(f"{shape:13s} {cell:6s} {cols}{ratio}", flush=True)
    return rows


_FIRST_CALLS = r"""
import sys, time
t0 = time.perf_counter()
import numpy as np
from fastrnn import cells, ops
import fastrnn.backends.numba  # noqa: F401  (imports numba)
print(f"  import fastrnn + numba            {time.perf_counter() - t0:6.2f} s")
dtype = np.dtype(sys.argv[1])
B, T, I, H = 4, 5, 2, 3
total, cpu0 = time.perf_counter(), time.process_time()
for cell in cells.CELLS:
    G = cell.gates
    x, W = np.ones((B, T, I), dtype), np.ones((I, G * H), dtype)
    U, b = np.ones((H, G * H), dtype), np.zeros(cell.bias_shape(H, reset_after=True), dtype)
    t = time.perf_counter()
    r = getattr(ops, cell.forward_name)(x, W, U, b, backend="numba")
    t1 = time.perf_counter()
    getattr(ops, cell.backward_name)(r.cache, dh_seq=np.ones((B, T, H), dtype))
    t2 = time.perf_counter()
    print(f"  {cell.name:5s} first forward {t1 - t:6.2f} s, first backward {t2 - t1:6.2f} s")
print(f"  all {2 * len(cells.CELLS)} kernels ({dtype.name})      "
      f"{time.perf_counter() - total:6.2f} s wall, "
      f"{time.process_time() - cpu0:6.2f} s cpu")
"""


def _compile_times(dtype):
    """First-call times in fresh processes: cold (empty cache directory), then warm (from it)."""
    import subprocess
    import sys
    import tempfile
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "NUMBA_CACHE_DIR": cache}
        for label in ("cold (empty NUMBA_CACHE_DIR)", "warm (from the on-disk cache)"):
            print(f"{label}, {dtype}:", flush=True)
            subprocess.run([sys.executable, "-c", _FIRST_CALLS, dtype], env=env, check=True)


if __name__ == "__main__":
    import argparse
    p = argparse.ArgumentParser(description="numba/cpp ratios, rounds interleaved")
    p.add_argument("--compile-time", action="store_true",
                   help="measure numba's first-call compile cost instead, cold and warm")
    p.add_argument("--dtype", default="float32", choices=["float32", "float64"])
    p.add_argument("--shapes", nargs="+", default=list(SHAPES), choices=list(SHAPES))
    p.add_argument("--cells", nargs="+", default=list(CELLS), choices=list(CELLS))
    p.add_argument("--rounds", type=int, default=15)
    a = p.parse_args()
    if a.compile_time:
        _compile_times(a.dtype)
        raise SystemExit(0)
    print("threads: " + ", ".join(f"{b} {_threads(b)}" for b in BACKENDS))
    _interleaved_ratios(a.shapes, a.cells, a.rounds)
