"""fastrnn.timeseries.adfuller / dickey_fuller / adfuller_many against statsmodels (the oracle)."""

import warnings
import zlib

import numpy as np
import pytest

sm_stattools = pytest.importorskip("statsmodels.tsa.stattools")
sm_datasets = pytest.importorskip("statsmodels.datasets")
sm_adfvalues = pytest.importorskip("statsmodels.tsa.adfvalues")

from fastrnn import timeseries as ts  # noqa: E402
from fastrnn.timeseries import _mackinnon  # noqa: E402

REL_STAT = 1e-8   # statistic, critical values, icbest: relative
ABS_P = 1e-8      # p-value: absolute
REGRESSIONS = ["n", "c", "ct", "ctt"]
AUTOLAGS = ["AIC", "BIC", "t-stat", None]
BACKENDS = ["numpy"] + (["compiled"] if ts.compiled() else [])


def sm_adfuller(x, *args, **kwargs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return sm_stattools.adfuller(x, *args, result_object=False, **kwargs)
        except TypeError:  # statsmodels < 0.15 has no result_object
            return sm_stattools.adfuller(x, *args, **kwargs)


def _load(name):
    if name == "realgdp":
        return sm_datasets.macrodata.load_pandas().data["realgdp"].to_numpy()
    if name == "infl":
        return sm_datasets.macrodata.load_pandas().data["infl"].to_numpy()
    if name == "m1":
        return np.log(sm_datasets.macrodata.load_pandas().data["m1"].to_numpy())
    if name == "sunspots":
        return sm_datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    if name == "nile":
        return sm_datasets.nile.load_pandas().data["volume"].to_numpy()
    if name == "co2":
        s = sm_datasets.co2.load_pandas().data["co2"]
        return s.interpolate().bfill().to_numpy()[:800]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    e = rng.standard_normal(400)
    if name == "random_walk":
        return np.cumsum(e)
    if name == "ar1_0.5":
        x = np.zeros(400)
        for t in range(1, 400):
            x[t] = 0.5 * x[t - 1] + e[t]
        return x
    if name == "trend_arma":
        x = np.zeros(400)
        for t in range(2, 400):
            x[t] = 0.6 * x[t - 1] - 0.2 * x[t - 2] + e[t] + 0.4 * e[t - 1]
        return 5.0 + 0.05 * np.arange(400) + x
    raise KeyError(name)


DATASETS = ["realgdp", "infl", "m1", "sunspots", "nile", "co2", "random_walk", "ar1_0.5",
            "trend_arma"]


def assert_same(ours, ref, autolag=True):
    stat, p, lag, nobs, cv = ref[:5]
    assert ours[2] == lag, f"usedlag {ours[2]} != {lag}"
    assert ours[3] == nobs, f"nobs {ours[3]} != {nobs}"
    assert abs(ours[0] - stat) <= REL_STAT * abs(stat), (ours[0], stat)
    assert abs(ours[1] - p) <= ABS_P, (ours[1], p)
    assert set(ours[4]) == set(cv)
    for k in cv:
        assert abs(ours[4][k] - cv[k]) <= REL_STAT * abs(cv[k]), (k, ours[4][k], cv[k])
    if autolag:
        assert len(ours) == 6 and len(ref) == 6
        assert abs(ours[5] - ref[5]) <= REL_STAT * abs(ref[5]), (ours[5], ref[5])
    else:
        assert len(ours) == 5 and len(ref) == 5


@pytest.mark.parametrize("autolag", AUTOLAGS)
@pytest.mark.parametrize("regression", REGRESSIONS)
@pytest.mark.parametrize("name", DATASETS)
def test_adfuller_matches_statsmodels(name, regression, autolag):
    x = _load(name)
    ref = sm_adfuller(x, regression=regression, autolag=autolag)
    ours = ts.adfuller(x, regression=regression, autolag=autolag)
    assert_same(ours, ref, autolag is not None)


@pytest.mark.parametrize("maxlag", [0, 1, 3, 7])
@pytest.mark.parametrize("autolag", ["AIC", None])
@pytest.mark.parametrize("regression", ["c", "ct"])
def test_explicit_maxlag(maxlag, autolag, regression):
    x = _load("realgdp")
    ref = sm_adfuller(x, maxlag=maxlag, regression=regression, autolag=autolag)
    ours = ts.adfuller(x, maxlag=maxlag, regression=regression, autolag=autolag)
    assert_same(ours, ref, autolag is not None)


@pytest.mark.parametrize("n", [12, 25, 2000])
def test_lengths(n):
    x = np.cumsum(np.random.default_rng(n).standard_normal(n))
    for regression in REGRESSIONS:
        for autolag in ["AIC", "t-stat"]:
            if regression == "n" and n == 12:
                # default maxlag 5 leaves the largest regression 6 rows, 6 regressors: an exact
                # fit; statsmodels returns rounding noise (stat -0.0), we refuse with the reason
                with pytest.raises(ValueError, match="no residual degree of freedom"):
                    ts.adfuller(x, regression=regression, autolag=autolag)
                assert_same(ts.adfuller(x, maxlag=4, regression=regression, autolag=autolag),
                            sm_adfuller(x, maxlag=4, regression=regression, autolag=autolag))
                continue
            ref = sm_adfuller(x, regression=regression, autolag=autolag)
            assert_same(ts.adfuller(x, regression=regression, autolag=autolag), ref)


def test_dickey_fuller_is_adf_without_lags():
    x = _load("nile")
    for regression in REGRESSIONS:
        ref = sm_adfuller(x, maxlag=0, regression=regression, autolag=None)
        ours = ts.dickey_fuller(x, regression=regression)
        assert_same(ours, ref, autolag=False)
        assert ours[2] == 0 and ours[3] == len(x) - 1


def test_pandas_and_list_input():
    pd = pytest.importorskip("pandas")
    x = _load("sunspots")
    ref = sm_adfuller(x)
    assert_same(ts.adfuller(pd.Series(x)), ref)
    assert_same(ts.adfuller(list(x)), ref)


@pytest.mark.parametrize("regression", ["c", "ctt", "n"])
@pytest.mark.parametrize("autolag", ["AIC", "t-stat", None])
def test_store_and_regresults(regression, autolag):
    x = _load("realgdp")
    ref = sm_adfuller(x, regression=regression, autolag=autolag, store=True, regresults=True)
    ours = ts.adfuller(x, regression=regression, autolag=autolag, store=True, regresults=True)
    assert len(ours) == 4 and len(ref) == 4
    assert abs(ours[0] - ref[0]) <= REL_STAT * abs(ref[0])
    assert abs(ours[1] - ref[1]) <= ABS_P
    rs, rr = ours[3], ref[3]
    assert str(rs) == str(rr) == "Augmented Dickey-Fuller Test Results"
    for attr in ["maxlag", "usedlag", "nobs", "H0", "HA"]:
        assert getattr(rs, attr) == getattr(rr, attr), attr
    if autolag is None:
        assert rs.icbest is None and rr.icbest is None
    else:
        assert rs.icbest == pytest.approx(rr.icbest, rel=REL_STAT)
    # the final regression: same columns in the same order
    np.testing.assert_allclose(rs.resols.params, rr.resols.params, rtol=1e-7, atol=1e-12)
    np.testing.assert_allclose(rs.resols.bse, rr.resols.bse, rtol=1e-7)
    np.testing.assert_allclose(rs.resols.tvalues, rr.resols.tvalues, rtol=1e-7)
    assert rs.resols.ssr == pytest.approx(rr.resols.ssr, rel=1e-9)
    assert rs.resols.aic == pytest.approx(rr.resols.aic, rel=1e-9)
    assert rs.resols.bic == pytest.approx(rr.resols.bic, rel=1e-9)
    assert rs.resols.nobs == rr.resols.nobs
    assert rs.resols.df_resid == rr.resols.df_resid
    if regression != "n":
        assert rs.resols.rsquared == pytest.approx(rr.resols.rsquared, rel=1e-7)
    if autolag is not None:
        assert sorted(rs.autolag_results) == sorted(rr.autolag_results)
        for k, res in rr.autolag_results.items():
            mine = rs.autolag_results[k]
            assert mine.aic == pytest.approx(res.aic, rel=1e-9)
            assert mine.bic == pytest.approx(res.bic, rel=1e-9)
            np.testing.assert_allclose(mine.params, res.params, rtol=1e-7, atol=1e-12)
            np.testing.assert_allclose(mine.tvalues, res.tvalues, rtol=1e-7)
    else:
        assert not hasattr(rs, "autolag_results")


def test_store_without_regresults():
    x = _load("infl")
    ours = ts.adfuller(x, store=True)
    ref = sm_adfuller(x, store=True)
    assert len(ours) == 4
    assert not hasattr(ours[3], "autolag_results") and not hasattr(ref[3], "autolag_results")
    assert ours[3].usedlag == ref[3].usedlag


def test_result_object():
    x = _load("nile")
    r = ts.adfuller(x, result_object=True)
    ref = sm_adfuller(x)
    stat, p = r
    assert stat == pytest.approx(ref[0], rel=REL_STAT) and p == pytest.approx(ref[1], abs=ABS_P)
    assert r.lags == ref[2] and r.nobs == ref[3] and r.icbest == pytest.approx(ref[5])
    assert "ADF Statistic" in repr(r)


# --------------------------------------------------------------------------- MacKinnon tables
def test_mackinnon_pvalues_and_crit_match_statsmodels():
    grid = np.concatenate([np.linspace(-30, 5, 701), [-1.04, -1.61, -2.89, -3.21, 0.54, 2.74]])
    for reg in REGRESSIONS:
        for t in grid:
            assert _mackinnon.mackinnonp(t, reg) == pytest.approx(
                sm_adfvalues.mackinnonp(t, regression=reg), abs=1e-12), (reg, t)
        np.testing.assert_allclose(
            _mackinnon.mackinnonp_array(grid, reg),
            [sm_adfvalues.mackinnonp(t, regression=reg) for t in grid], atol=1e-12)
        for nobs in [10, 25, 99, 500, 10_000, np.inf]:
            np.testing.assert_allclose(_mackinnon.mackinnoncrit(reg, nobs),
                                       sm_adfvalues.mackinnoncrit(1, reg, nobs), rtol=1e-14)


# --------------------------------------------------------------------------- panels
@pytest.fixture(scope="module")
def panel():
    rng = np.random.default_rng(7)
    e = rng.standard_normal((12, 300))
    X = np.cumsum(e, axis=1)
    for r in range(6, 12):  # stationary AR(1) rows
        for t in range(1, 300):
            X[r, t] = 0.5 * X[r, t - 1] + e[r, t]
    X[3] += 0.1 * np.arange(300) + 1000.0  # drift and a large level
    return X


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("autolag", AUTOLAGS)
@pytest.mark.parametrize("regression", REGRESSIONS)
def test_adfuller_many_matches_statsmodels(panel, backend, regression, autolag):
    res = ts.adfuller_many(panel, regression=regression, autolag=autolag, backend=backend)
    assert res.stat.shape == res.pvalue.shape == res.usedlag.shape == res.nobs.shape == (12,)
    assert res.crit.shape == (12, 3)
    for r in range(0, 12, 2 if autolag != "AIC" else 1):
        ref = sm_adfuller(panel[r], regression=regression, autolag=autolag)
        assert res.usedlag[r] == ref[2] and res.nobs[r] == ref[3], r
        assert abs(res.stat[r] - ref[0]) <= REL_STAT * abs(ref[0]), (r, res.stat[r], ref[0])
        assert abs(res.pvalue[r] - ref[1]) <= ABS_P
        np.testing.assert_allclose(res.crit[r], [ref[4]["1%"], ref[4]["5%"], ref[4]["10%"]],
                                   rtol=REL_STAT)
        assert res.critvalues["5%"][r] == res.crit[r, 1]
        if autolag is not None:
            assert abs(res.icbest[r] - ref[5]) <= REL_STAT * abs(ref[5])
        else:
            assert res.icbest is None


@pytest.mark.skipif(not ts.compiled(), reason="compiled kernels not built")
def test_adfuller_many_compiled_equals_numpy_on_real_data():
    X = np.stack([_load("co2")[:600], np.log(_load("co2")[:600]), _load("sunspots")[:300].repeat(2)])
    for reg in REGRESSIONS:
        a = ts.adfuller_many(X, regression=reg, backend="compiled")
        b = ts.adfuller_many(X, regression=reg, backend="numpy")
        np.testing.assert_array_equal(a.usedlag, b.usedlag)
        np.testing.assert_allclose(a.stat, b.stat, rtol=1e-9)
        np.testing.assert_allclose(a.icbest, b.icbest, rtol=1e-10)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adfuller_many_bad_rows(backend):
    rng = np.random.default_rng(3)
    X = np.cumsum(rng.standard_normal((4, 60)), axis=1)
    X[1] = 2.0
    X[2, 10] = np.nan
    with pytest.raises(ValueError, match="row 1 .*constant"):
        ts.adfuller_many(X, backend=backend)
    res = ts.adfuller_many(X, on_error="nan", backend=backend)
    assert list(res.status) == [0, 1, 3, 0]
    assert np.isnan(res.stat[1]) and np.isnan(res.pvalue[2]) and res.usedlag[1] == -1
    assert np.isfinite(res.stat[[0, 3]]).all()
    assert res.stat[3] == pytest.approx(ts.adfuller(X[3])[0], rel=1e-10)


def test_adfuller_many_input_errors():
    with pytest.raises(ValueError, match="X: expected a 2-D"):
        ts.adfuller_many(np.arange(50.0))
    with pytest.raises(ValueError, match="on_error"):
        ts.adfuller_many(np.ones((2, 50)), on_error="skip")
    with pytest.raises(ValueError, match="maxlag"):
        ts.adfuller_many(np.random.default_rng(0).standard_normal((2, 50)), maxlag=30)
    empty = ts.adfuller_many(np.zeros((0, 50)))
    assert empty.stat.shape == (0,)


# --------------------------------------------------------------------------- size and power
def test_size_under_unit_root():
    rng = np.random.default_rng(2024)
    X = np.cumsum(rng.standard_normal((2000, 200)), axis=1)
    res = ts.adfuller_many(X, regression="c", autolag="AIC")
    rate = np.mean(res.stat < res.crit[:, 1])
    assert 0.03 <= rate <= 0.08, rate
    assert np.mean(res.pvalue < 0.05) == pytest.approx(rate, abs=0.02)


def test_power_against_stationary_ar1():
    rng = np.random.default_rng(99)
    e = rng.standard_normal((200, 500))
    X = np.empty_like(e)
    X[:, 0] = e[:, 0] / np.sqrt(0.75)
    for t in range(1, 500):
        X[:, t] = 0.5 * X[:, t - 1] + e[:, t]
    res = ts.adfuller_many(X, regression="c", autolag="AIC")
    assert np.mean(res.pvalue < 0.05) >= 0.99


# --------------------------------------------------------------------------- bad input
def test_errors():
    x = np.cumsum(np.random.default_rng(0).standard_normal(100))
    with pytest.raises(ValueError, match="constant"):
        ts.adfuller(np.full(50, 3.0))
    with pytest.raises(ValueError, match="finite.*nan.*index 5"):
        ts.adfuller(np.where(np.arange(100) == 5, np.nan, x))
    with pytest.raises(ValueError, match="finite.*inf"):
        ts.adfuller(np.where(np.arange(100) == 7, np.inf, x))
    with pytest.raises(ValueError, match=r"x: expected a 1-D series.*\(50, 2\).*adfuller_many"):
        ts.adfuller(x.reshape(50, 2))
    with pytest.raises(ValueError, match="maxlag must be less than.*maxlag=49.*cap.*is 48"):
        ts.adfuller(x, maxlag=49, regression="c")
    with pytest.raises(ValueError, match="maxlag must be an int >= 0 or None, got -1"):
        ts.adfuller(x, maxlag=-1)
    with pytest.raises(TypeError, match="maxlag"):
        ts.adfuller(x, maxlag=2.5)
    with pytest.raises(ValueError, match="too short"):
        ts.adfuller(np.array([1.0, 2.0, 4.0]), regression="ct")
    with pytest.raises(ValueError, match="regression"):
        ts.adfuller(x, regression="t")
    with pytest.raises(ValueError, match="autolag"):
        ts.adfuller(x, autolag="hqic")
    with pytest.raises(TypeError, match="x: expected a real numeric"):
        ts.adfuller(np.array(["a", "b", "c"]))
    # statsmodels refuses the same maxlag
    with pytest.raises(ValueError):
        sm_adfuller(x, maxlag=49)
    # the cap itself is allowed, as in statsmodels
    assert_same(ts.adfuller(x, maxlag=48, autolag=None), sm_adfuller(x, maxlag=48, autolag=None),
                autolag=False)
