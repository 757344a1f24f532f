"""Worst relative error of each backend against PyTorch autograd, per cell and dtype.

    python bench/accuracy.py

Runs the cases of test_against_torch in the test suite's test_ops.py (every shape and variant:
initial states given or not, which upstream gradients are given) and prints, per backend, cell and
dtype, the largest max|got - want| / max(|want|, 1) over all outputs and gradients, with the
test tolerance next to it. PyTorch computes in float64.
"""

from __future__ import annotations

import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

# tests/conftest.py and the folder of test_ops.py (tests mirror the source tree)
_TESTS = Path(__file__).resolve().parents[1] / "tests"
sys.path[:0] = [str(_TESTS), str(next(_TESTS.rglob("test_ops.py")).parent)]

from conftest import DTYPES, SHAPES, TOL, make_inputs, rel_err  # noqa: E402
from test_ops import TORCH_CASES, VARIANTS, case_id, run_fastrnn, run_torch  # noqa: E402

from fastrnn import backends as registry  # noqa: E402


def main():
    worst = defaultdict(float)
    backends = registry.available()
    for case in TORCH_CASES:
        cell, opts = case
        for shape in SHAPES:
            for dtype in DTYPES:
                inp = make_inputs(cell, *shape, dtype, seed=hash((case_id(case), shape)) % 2**32,
                                  reset_after=opts.get("reset_after", True))
                for variant in VARIANTS:
                    want = run_torch(cell, opts, inp, variant)
                    for be in backends:
                        got = run_fastrnn(cell, opts, inp, variant, be)
                        err = max(rel_err(got[k], want[k]) for k in want)
                        key = (be, case_id(case), np.dtype(dtype).name)
                        worst[key] = max(worst[key], err)
    print("| backend | cell | dtype | worst relative error | tolerance |")
    print("|---|---|---|---|---|")
    for (be, cid, dt), err in sorted(worst.items()):
        print(f"| {be} | {cid} | {dt} | {err:.1e} | {TOL[np.dtype(dt).type]:.0e} |")


if __name__ == "__main__":
    main()
