"""Benchmarks of fastrnn.timeseries against statsmodels and NumPy.

pytest-benchmark suite (the project's pytest config disables benchmarks by default):

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python -m pytest bench/bench_timeseries.py \
        --benchmark-enable --benchmark-group-by=group

One-run ratios (what the README and the issue report quote), and the agreement with
statsmodels over the test matrix:

    OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 python bench/bench_timeseries.py [--agreement]

Floors (count before you code): the single-series ADF at n = 100,000 with autolag (maxlag 68)
must read the (n x 71) lag matrix once: a QR costs 2 n k^2 ~ 1e9 flop (about 0.1-0.3 s on one
core); statsmodels fits 69 least-squares problems by SVD, about 4 n sum k^2 ~ 5e10 flop. The
panel kernel forms each Gram matrix in O(n k) (sliding windows): 1,000 x 500 points with
maxlag 18 is ~3e7 flop, a few ms.
"""

from __future__ import annotations

import sys
import time
import warnings

import numpy as np
import pytest

import targets
from fastrnn import timeseries as ts

N_LONG = 100_000
PANEL = (1000, 500)


def _long_series():
    return np.cumsum(np.random.default_rng(0).standard_normal(N_LONG))


def _panel():
    return np.cumsum(np.random.default_rng(1).standard_normal(PANEL), axis=1)


def _ragged():
    rng = np.random.default_rng(2)
    return [rng.standard_normal((int(n), 2)) for n in rng.integers(50, 500, size=2000)]


def _sm_adfuller():
    st = pytest.importorskip("statsmodels.tsa.stattools")

    def run(x, **kw):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return st.adfuller(x, result_object=False, **kw)
            except TypeError:
                return st.adfuller(x, **kw)
    return run


def _info(benchmark, **kw):
    import numpy
    benchmark.extra_info.update(dict(numpy=numpy.__version__, compiled=ts.compiled(), **kw))


# ------------------------------------------------------------------ ADF, one long series
@pytest.mark.benchmark(group="adfuller n=100000 AIC")
def test_adfuller_long_fastrnn(benchmark):
    x = _long_series()
    _info(benchmark, impl="fastrnn")
    r = benchmark.pedantic(ts.adfuller, args=(x,), kwargs=dict(autolag="AIC"), rounds=5,
                           warmup_rounds=1)
    assert r[3] == N_LONG - 1 - r[2]


@pytest.mark.benchmark(group="adfuller n=100000 AIC")
def test_adfuller_long_statsmodels(benchmark):
    sm = _sm_adfuller()
    x = _long_series()
    _info(benchmark, impl="statsmodels")
    benchmark.pedantic(sm, args=(x,), kwargs=dict(autolag="AIC"), rounds=1, iterations=1)


# ------------------------------------------------------------------ ADF on a panel
@pytest.mark.benchmark(group="adfuller_many 1000x500 AIC")
@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_adfuller_many(benchmark, backend):
    if backend == "compiled" and not ts.compiled():
        pytest.skip("compiled kernels not built")
    X = _panel()
    _info(benchmark, impl=f"fastrnn-{backend}")
    rounds = 10 if backend == "compiled" else 2
    res = benchmark.pedantic(ts.adfuller_many, args=(X,), kwargs=dict(backend=backend),
                             rounds=rounds, warmup_rounds=1)
    assert res.stat.shape == (PANEL[0],)


@pytest.mark.benchmark(group="adfuller_many 1000x500 AIC")
def test_adfuller_panel_statsmodels_100rows(benchmark):
    """statsmodels loop over the first 100 of the 1,000 rows (x10 for the whole panel)."""
    sm = _sm_adfuller()
    X = _panel()[:100]
    _info(benchmark, impl="statsmodels (100 of 1000 rows)")
    benchmark.pedantic(lambda: [sm(row) for row in X], rounds=1, iterations=1)


# ------------------------------------------------------------------ windowing
@pytest.mark.benchmark(group="panel windows 2000 series, lags=24")
@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_panel_windows(benchmark, backend):
    if backend == "compiled" and not ts.compiled():
        pytest.skip("compiled kernels not built")
    series = _ragged()
    _info(benchmark, impl=f"fastrnn-{backend}")
    pw = benchmark(ts.make_panel_windows, series, 24, 1, backend=backend)
    assert pw.X.shape[1:] == (24, 2)


@pytest.mark.benchmark(group="panel windows 2000 series, lags=24")
def test_panel_windows_numpy_per_series(benchmark):
    """The idiomatic NumPy way: sliding_window_view per series, then concatenate."""
    from numpy.lib.stride_tricks import sliding_window_view as swv
    series = _ragged()
    _info(benchmark, impl="numpy sliding_window_view + concatenate")

    def run():
        X = np.concatenate([swv(s[:-1], 24, axis=0).transpose(0, 2, 1) for s in series])
        y = np.concatenate([s[24:] for s in series])
        return X, y
    X, y = benchmark(run)
    assert len(X) == len(y)


@pytest.mark.benchmark(group="lag matrix copy n=1e6, maxlag=20")
@pytest.mark.parametrize("backend", ["compiled", "numpy"])
def test_lag_matrix_copy(benchmark, backend):
    if backend == "compiled" and not ts.compiled():
        pytest.skip("compiled kernels not built")
    x = np.random.default_rng(3).standard_normal(1_000_000)
    _info(benchmark, impl=f"fastrnn-{backend}")
    L = benchmark(ts.lag_matrix, x, 20, copy=True, backend=backend)
    assert L.shape == (1_000_000 - 20, 21)


# ------------------------------------------------------------------ one-run ratios
def _best(f, repeat):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        f()
        best = min(best, time.perf_counter() - t0)
    return best


def measure():
    """Both ADF targets of bench/TARGETS.md in one run: the single-series ratio and the panel
    time."""
    import statsmodels
    from statsmodels.tsa.stattools import adfuller as sm_adf
    sm = lambda x: sm_adf(x, autolag="AIC", result_object=False)  # noqa: E731
    x = _long_series()
    ts.adfuller(x)  # warm-up
    t_ours = _best(lambda: ts.adfuller(x, autolag="AIC"), 5)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t0 = time.perf_counter()
        ref = sm(x)
        t_sm = time.perf_counter() - t0
    ours = ts.adfuller(x)
    print(f"statsmodels {statsmodels.__version__}, numpy {np.__version__}, "
          f"compiled kernels: {ts.compiled()}")
    print(f"adfuller n={N_LONG} autolag=AIC: fastrnn {t_ours * 1e3:.1f} ms (best of 5), "
          f"statsmodels {t_sm * 1e3:.0f} ms (1 run): ratio {t_sm / t_ours:.0f}x "
          f"(target >= {targets.ADF_RATIO:g}x) "
          f"(stat {ours[0]:.12g} vs {ref[0]:.12g}, usedlag {ours[2]} vs {ref[2]})")
    X = _panel()
    ts.adfuller_many(X)
    t_panel = _best(lambda: ts.adfuller_many(X), 10)
    t_np = _best(lambda: ts.adfuller_many(X, backend="numpy"), 1)
    print(f"adfuller_many {PANEL[0]}x{PANEL[1]} autolag=AIC: compiled {t_panel * 1e3:.1f} ms "
          f"(best of 10; target < {targets.ADF_PANEL_SECONDS * 1e3:g} ms), NumPy fallback "
          f"{t_np * 1e3:.0f} ms")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        t_sm_rows = _best(lambda: [sm(r) for r in X[:100]], 1)
    print(f"  statsmodels on 100 rows {t_sm_rows * 1e3:.0f} ms -> ~{t_sm_rows * 10:.1f} s for "
          f"the panel, ratio ~{t_sm_rows * 10 / t_panel:.0f}x")


def _tests_dir_of(name):
    """The folder under tests/ that holds test module `name` (tests mirror the source tree)."""
    from pathlib import Path
    tests = Path(__file__).resolve().parents[1] / "tests"
    return str(next(tests.rglob(name)).parent)


def agreement():
    """Worst differences from statsmodels over the datasets x regression x autolag matrix of
    tests/test_adf.py (adfuller, and adfuller_many with both backends)."""
    sys.path.insert(0, _tests_dir_of("test_adf.py"))
    import test_adf as T
    worst = {}

    def upd(key, val, where):
        if val > worst.get(key, (-1.0, None))[0]:
            worst[key] = (float(val), where)
    for name in T.DATASETS:
        x = T._load(name)
        for reg in T.REGRESSIONS:
            for al in T.AUTOLAGS:
                ref = T.sm_adfuller(x, regression=reg, autolag=al)
                ours = ts.adfuller(x, regression=reg, autolag=al)
                where = (name, reg, al)
                upd("adfuller stat (rel)", abs(ours[0] - ref[0]) / abs(ref[0]), where)
                upd("adfuller pvalue (abs)", abs(ours[1] - ref[1]), where)
                upd("crit (rel)", max(abs(ours[4][k] - ref[4][k]) / abs(ref[4][k])
                                      for k in ref[4]), where)
                if al:
                    upd("icbest (rel)", abs(ours[5] - ref[5]) / abs(ref[5]), where)
                upd("usedlag/nobs mismatches", float(ours[2:4] != ref[2:4]), where)
                for be in T.BACKENDS:
                    m = ts.adfuller_many(x[None, :], regression=reg, autolag=al, backend=be)
                    upd(f"adfuller_many[{be}] stat (rel)",
                        abs(m.stat[0] - ref[0]) / abs(ref[0]), where)
                    upd(f"adfuller_many[{be}] usedlag/nobs mismatches",
                        float((m.usedlag[0], m.nobs[0]) != ref[2:4]), where)
    for k, (v, where) in worst.items():
        print(f"{k:45s} {v:.3g}   at {where}")


if __name__ == "__main__":
    if "--agreement" in sys.argv:
        agreement()
    else:
        measure()
