"""bench/TARGETS.md (the performance contract) and bench/targets.py (the numbers the benchmark
scripts print against) say the same thing, and the standard shapes are fastrnn.benchmarking's."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from fastrnn import cells
from fastrnn.benchmarking import CELLS, STANDARD_SHAPES, flops, make_problem

BENCH = Path(__file__).resolve().parents[2] / "bench"


@pytest.fixture(scope="module")
def targets():
    spec = importlib.util.spec_from_file_location("bench_targets", BENCH / "targets.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def doc():
    return (BENCH / "TARGETS.md").read_text()


def section(doc, title):
    """The text of the '## <title>' section."""
    return doc.split(f"\n## {title}", 1)[1].split("\n## ", 1)[0]


def row(doc, name, title="Targets"):
    """The cells of the Markdown table row whose first cell is `name`, in section `title`."""
    for line in section(doc, title).splitlines():
        parts = [p.strip() for p in line.strip().strip("|").split("|")]
        if line.lstrip().startswith("|") and parts[0] == name:
            return parts
    raise AssertionError(f"no table row {name!r} in TARGETS.md")


def test_shapes_table_is_the_benchmarks_shapes(doc):
    for name, (B, T, I, H, work) in STANDARD_SHAPES.items():
        cols = row(doc, name, "The standard shapes")
        assert [int(c) for c in cols[1:5]] == [B, T, I, H], cols
        assert ("forward only" in cols[5]) == (work == "forward"), cols


def test_torch_ratio_targets(doc, targets):
    infer = row(doc, "infer-b1")[1]
    assert all(targets.torch_ratio("infer-b1", c) == 40 for c in cells.NAMES)
    assert ">= 40x PyTorch, every cell" in infer
    assert f"within {targets.INFER_FLOOR_RATIO:g}x of the floor (an empty binding call" in infer
    small = row(doc, "train-small")[1]
    want = " / ".join(f">= {targets.torch_ratio('train-small', c):g}x" for c in cells.NAMES)
    assert want + " PyTorch" in small
    assert "(" + " / ".join(c.title for c in cells.CELLS) + ")" in small
    assert {s for s, _ in targets.TORCH_RATIO} == {"infer-b1", "train-small"}


def test_sgemm_share_targets(doc, targets):
    for shape, share in targets.SGEMM_SHARE.items():
        assert f">= {100 * share:.0f}% of the sgemm rate" in row(doc, shape)[1], shape


def test_other_targets(doc, targets):
    flat = " ".join(doc.split())
    assert f"within {targets.NUMBA_WITHIN:g}x of cpp on " + " and ".join(
        targets.NUMBA_SHAPES) in flat
    fit = row(doc, "fit-seed")[1]
    assert (f">= {targets.FIT_SEED['torch']:g}x an idiomatic PyTorch loop and "
            f">= {targets.FIT_SEED['keras']:g}x Keras") in fit
    assert f">= {targets.ADF_RATIO:g}x faster than statsmodels" in flat
    assert f"in under {targets.ADF_PANEL_SECONDS:g} s" in flat
    assert f"Forward <= {targets.CUDA_US_PER_STEP:g} us per time step" in flat
    assert f">= {targets.CUDA_BACKWARD_RATIO:g}x cuDNN" in flat
    assert f">= {targets.CUDA_LARGE_RATIO:.1f}x at train-large" in flat


def test_no_reference_outside_the_repository(doc):
    assert not re.search(r"shared/|\.\./", doc)


def test_problems_follow_the_cell_table():
    assert CELLS == cells.NAMES
    for cell in cells.CELLS:
        x, W, U, b = make_problem(cell.name, 2, 3, 4, 5)
        assert x.shape == (2, 3, 4)
        assert W.shape == (4, cell.gates * 5) and U.shape == (5, cell.gates * 5)
        assert b.shape == cell.bias_shape(5, reset_after=True)
        assert flops(cell.name, 2, 3, 4, 5, "train") == 3 * flops(cell.name, 2, 3, 4, 5, "forward")
