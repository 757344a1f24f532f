"""Every cell x standard shape x backend, against PyTorch (and Keras when installed).

    python -m pytest bench/bench_cells.py --benchmark-enable --benchmark-group-by=param:shape \
        --benchmark-json=bench/results/cells.json
    python bench/report.py bench/results/cells.json      # Markdown table + PNG chart

Shapes and work are bench/TARGETS.md's (fastrnn.benchmarking.STANDARD_SHAPES), float32: "forward"
is the forward pass over the sequence; "train" is the forward pass plus the gradients of
sum(h_seq) with respect to x, W, U and b. FASTRNN_BENCH_SHAPES (comma-separated) limits the
shapes; train-large takes a few seconds per call on two cores.

Floors (FLOPs of the matrix products, fastrnn.benchmarking.flops): infer-b1 ~0.1 MFLOP (pure
overhead regime); train-small 0.02-0.08 GFLOP; train-medium 3.6-10.7 GFLOP; train-large
75-230 GFLOP, compute-bound (see bench/NOTES.md for this machine's measured sgemm rate).
"""

from __future__ import annotations

import os

import pytest

import fastrnn
from fastrnn import cells
from fastrnn.benchmarking import (CELLS, STANDARD_SHAPES, floor_runner, flops, make_problem,
                                  runner, torch_runner)

SHAPES = [s for s in os.environ.get("FASTRNN_BENCH_SHAPES", ",".join(STANDARD_SHAPES)).split(",") if s]
# numpy (the reference) only where it finishes in reasonable time
NUMPY_SHAPES = {"infer-b1", "train-small"}
PEERS = ["torch", "keras"]
# "floor": an empty binding call with the forward's arguments (infer-b1 only: the overhead bound)
BACKENDS = [b for b in fastrnn.backends.available()] + PEERS + ["floor"]


def _keras_runner(cell, x, W, U, b, work):
    keras = pytest.importorskip("keras")
    B, T, I = x.shape
    H = U.shape[0]
    cls = getattr(keras.layers, cells.get(cell).keras_class)
    layer = cls(H, return_sequences=True)
    layer.build((B, T, I))
    layer.set_weights([W, U, b])
    if work == "forward":
        return lambda: layer(x)
    pytest.skip("Keras training step is benchmarked as model.fit in bench_fit.py")


def _rounds(shape):
    return {"train-large": 2, "train-medium": 3}.get(shape, None)


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("shape", SHAPES)
def test_cell(benchmark, run_info, shape, cell, backend):
    B, T, I, H, work = STANDARD_SHAPES[shape]
    if backend == "numpy" and shape not in NUMPY_SHAPES:
        pytest.skip("the NumPy reference is too slow at this size")
    problem = make_problem(cell, B, T, I, H)
    if backend == "floor":
        if shape != "infer-b1":
            pytest.skip("the call floor is measured for infer-b1 only")
        fn = floor_runner(cell, *problem)
        if fn is None:
            pytest.skip("the compiled core is not built")
    elif backend == "torch":
        pytest.importorskip("torch")
        fn = torch_runner(cell, *problem, work)
    elif backend == "keras":
        fn = _keras_runner(cell, *problem, work)
    else:
        fn = runner(cell, backend, *problem, work)
    benchmark.group = shape
    benchmark.extra_info.update(run_info, backend=backend, cell=cell, shape=shape, work=work,
                                B=B, T=T, I=I, H=H, flops=flops(cell, B, T, I, H, work))
    rounds = _rounds(shape)
    if rounds:
        benchmark.pedantic(fn, rounds=rounds, warmup_rounds=1, iterations=1)
    else:
        benchmark(fn)
