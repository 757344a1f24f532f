"""The numba backend's matrix product (register tiles + edge blocks) and how it is compiled."""

from __future__ import annotations

import importlib.util
import pathlib

import numpy as np
import pytest

pytest.importorskip("numba")
from fastrnn.backends.numba import blocks  # noqa: E402
from fastrnn.backends.numba import kernels  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _generator():
    spec = importlib.util.spec_from_file_location("gen_numba_tiles",
                                                  ROOT / "scripts" / "gen_numba_tiles.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_generated_tiles_are_current():
    gen = _generator()
    have = (ROOT / "src" / "fastrnn" / "backends" / "numba" / "tiles.py").read_text()
    assert have == gen.source(), "run: python scripts/gen_numba_tiles.py"


def test_cached_modules_name_the_sources_they_link():
    """blocks.py and kernels.py carry digests of the files they link in, so numba's cache (keyed
    on a function's own file) is rebuilt when those change."""
    gen = _generator()
    have = gen.BLOCKS.read_text(), gen.KERNELS.read_text()
    assert have == gen.stamped(gen.TARGET.read_text(), *have), (
        "run: python scripts/gen_numba_tiles.py")


def _madd(C, c0, cs, A, ar0, ari, arq, ac0, aci, acq, M, mr0, mrq, n_rows, n_q, j0, j1):
    i = np.intp
    blocks._madd(C, i(c0), i(cs), A, i(ar0), i(ari), i(arq), i(ac0), i(aci), i(acq), M, i(mr0),
            i(mrq), i(n_rows), i(n_q), i(j0), i(j1))


# rows: 4-row tiles, 1-row tiles after them; columns: 32- and 16-wide tiles and the edge blocks
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("n_rows,n_q,n_cols", [(1, 1, 1), (4, 3, 32), (5, 7, 16), (7, 32, 50),
                                               (9, 2, 15), (12, 33, 96), (3, 5, 81)])
def test_madd_matches_numpy(dtype, n_rows, n_q, n_cols):
    rng = np.random.default_rng(n_rows * 1000 + n_q * 10 + n_cols)
    A = rng.standard_normal((n_rows, n_q)).astype(dtype)
    M = rng.standard_normal((n_q, n_cols)).astype(dtype)
    C0 = rng.standard_normal((n_rows, n_cols)).astype(dtype)
    C = C0.copy()
    _madd(C, 0, 1, A, 0, 1, 0, 0, 0, 1, M, 0, 1, n_rows, n_q, 0, n_cols)
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, C0 + A.astype(np.float64) @ M, rtol=tol, atol=tol * n_q)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_madd_strided_transposed_and_partial_columns(dtype):
    """Every stride the kernels use: C rows 3 apart from row 2, A walked transposed from an
    offset (a(i, q) = A[5 + q, 1 + i]), M rows 2 apart, and columns [7, 60) of wider rows (the
    untouched columns must stay untouched)."""
    rng = np.random.default_rng(7)
    n_rows, n_q = 10, 9
    A = rng.standard_normal((5 + n_q, 1 + n_rows + 2)).astype(dtype)
    M = rng.standard_normal((1 + 2 * n_q, 64)).astype(dtype)
    C0 = rng.standard_normal((2 + 3 * n_rows, 64)).astype(dtype)
    C = C0.copy()
    _madd(C, 2, 3, A, 5, 0, 1, 1, 1, 0, M, 1, 2, n_rows, n_q, 7, 60)
    a = A[5:5 + n_q, 1:1 + n_rows].T.astype(np.float64)
    m = M[1:1 + 2 * n_q:2, 7:60]
    want = C0.copy().astype(np.float64)
    want[2:2 + 3 * n_rows:3, 7:60] += a @ m
    tol = 1e-5 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(C, want, rtol=tol, atol=tol * n_q)
    untouched = np.ones(C.shape, bool)
    untouched[2:2 + 3 * n_rows:3, 7:60] = False
    assert np.array_equal(C[untouched], C0[untouched])


def test_slp_is_on_only_inside_the_block():
    from numba.core import config
    before = config.SLP_VECTORIZE
    with blocks.slp_compiling():
        assert config.SLP_VECTORIZE == 1
    assert config.SLP_VECTORIZE == before
    with pytest.raises(RuntimeError):
        with blocks.slp_compiling():
            raise RuntimeError("compile failed")
    assert config.SLP_VECTORIZE == before


def test_kernels_compile_with_slp_and_leave_the_setting_alone():
    from numba.core import config
    from fastrnn import ops
    for name in ("elman_forward", "elman_backward", "lstm_forward", "lstm_backward",
                 "gru_forward", "gru_backward"):
        assert "_compile_for_args" in vars(getattr(kernels, name)), name
    assert "_compile_for_args" in vars(blocks._madd)
    assert "_compile_for_args" in vars(blocks.tiles._tile_4x32)
    before = config.SLP_VECTORIZE
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, 4, 2)).astype(np.float32)
    W = rng.standard_normal((2, 8)).astype(np.float32)
    U = rng.standard_normal((8, 8)).astype(np.float32)
    res = ops.elman_forward(x, W, U, np.zeros(8, np.float32), backend="numba")
    ops.elman_backward(res.cache, np.ones_like(res.h_seq))
    assert config.SLP_VECTORIZE == before
