"""Worst relative error of each backend against PyTorch autograd, per cell and dtype.

    python bench/accuracy.py

Runs the cases of tests/test_ops.py::test_against_torch (every shape and variant: initial
states given or not, which upstream gradients are given) and prints, per backend, cell and
dtype, the largest max|got - want| / max(|want|, 1) over all outputs and gradients, with the
test tolerance next to it. PyTorch computes in float64.
"""

from __future__ import annotations

import os
import sys
from collections import defaultdict

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "tests"))

from conftest import DTYPES, SHAPES, TOL, make_inputs, rel_err  # noqa: E402
from test_ops import TORCH_CASES, VARIANTS, case_id, run_fastrnn, run_torch  # noqa: E402

import fastrnn  # noqa: E402


def main():
    worst = defaultdict(float)
    backends = [b for b in fastrnn.backends.available()]
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
