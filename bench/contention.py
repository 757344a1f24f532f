"""fastrnn sharing its cores: the time of one kernel call alone and under contention.

    python bench/contention.py                       # GRU train-small on cpp, 3 s per scenario
    python bench/contention.py --cell lstm --shape train-medium --backend numba --seconds 5

Scenarios (each a fresh process per participant, started together, timed for --seconds):

- alone: one process with the default threads; and one with 1 thread (the pool reference);
- two processes: two at once, default threads (each would take all the cores);
- joblib pool: the loop inside each worker of a 2-worker joblib (loky) pool, default settings;
- busy neighbour: one process alone while a pure-Python busy loop runs in another.

The work is fastrnn.benchmarking's standard shape ("train": forward + full BPTT). Printed: the
median time per call of each participant and the ratios bench/TARGETS.md's contention target is
stated in (two processes: each vs alone, <= 2.5; pool: each worker vs one thread alone, <= 1.2).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def time_calls(backend, cell, shape, seconds, start_at=None):
    """Median seconds per call of the standard shape, over `seconds` of calls."""
    import numpy as np

    from fastrnn.benchmarking import STANDARD_SHAPES, make_problem, runner

    B, T, I, H, work = STANDARD_SHAPES[shape]
    call = runner(cell, backend, *make_problem(cell, B, T, I, H), work)
    for _ in range(3):
        call()  # warm: pools, page faults, compilation
    if start_at is not None:
        time.sleep(max(0.0, start_at - time.time()))
    times, end = [], time.perf_counter() + seconds
    while time.perf_counter() < end or len(times) < 5:
        t0 = time.perf_counter()
        call()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def _participant(args, threads=None, start_at=None):
    call = (args.backend, args.cell, args.shape, args.seconds, start_at)
    code = (f"import json, sys; sys.path.insert(0, {HERE!r}); from contention import time_calls; "
            f"print(json.dumps(time_calls(*{call!r})))")
    env = dict(os.environ)
    if threads is not None:  # the environment, so that older fastrnn versions are timed alike
        env.update(FASTRNN_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                   NUMBA_NUM_THREADS=str(threads))
    return subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True,
                            env=env)


def _result(proc):
    out, _ = proc.communicate()
    if proc.returncode != 0:
        raise SystemExit(f"a participant failed (exit {proc.returncode})")
    return json.loads(out.strip().splitlines()[-1])


def _together(args, n, threads=None):
    start_at = time.time() + 3.0  # time to import and warm before the common start
    procs = [_participant(args, threads, start_at) for _ in range(n)]
    return [_result(p) for p in procs]


def _in_joblib_pool(args):
    from joblib import Parallel, delayed

    start_at = time.time() + 5.0
    return Parallel(n_jobs=2, backend="loky")(
        delayed(time_calls)(args.backend, args.cell, args.shape, args.seconds, start_at)
        for _ in range(2))


def _with_busy_neighbour(args):
    busy = subprocess.Popen([sys.executable, "-c", "while True: pass"])
    try:
        time.sleep(0.5)
        return _together(args, 1)[0]
    finally:
        busy.kill()
        busy.wait()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", default="cpp")
    parser.add_argument("--cell", default="gru")
    parser.add_argument("--shape", default="train-small")
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--json", default=None, help="also write the figures here")
    args = parser.parse_args(argv)
    if "bench" not in sys.path[0]:
        sys.path.insert(0, HERE)

    alone = _together(args, 1)[0]
    alone_1 = _together(args, 1, threads=1)[0]
    pair = _together(args, 2)
    pool = _in_joblib_pool(args) if _has_joblib() else []
    neighbour = _with_busy_neighbour(args)

    def ms(seconds):
        return f"{seconds * 1e3:8.3f} ms"

    print(f"{args.cell} {args.shape} on {args.backend}, {os.cpu_count()} CPUs, "
          f"median per call over {args.seconds:g} s")
    print(f"  alone (default threads)        {ms(alone)}")
    print(f"  alone (1 thread)               {ms(alone_1)}")
    for k, t in enumerate(pair):
        print(f"  two processes, #{k + 1}             {ms(t)}   {t / alone:5.2f}x alone  "
              "(target <= 2.5)")
    for k, t in enumerate(pool):
        print(f"  2-worker joblib pool, #{k + 1}      {ms(t)}   {t / alone_1:5.2f}x one thread "
              "(target <= 1.2)")
    print(f"  busy neighbour                 {ms(neighbour)}   {neighbour / alone:5.2f}x alone")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"alone": alone, "alone_1": alone_1, "pair": pair, "pool": pool,
                       "neighbour": neighbour, "args": vars(args)}, f, indent=1)


def _has_joblib():
    try:
        import joblib  # noqa: F401
    except ImportError:
        return False
    return True


if __name__ == "__main__":
    main()
