"""The ADF test at extreme magnitudes (issue 17, defect 12) and its argument kinds (defect 16).

The statistic is invariant to the units of x: x * 1e-300 and x * 1e300 must give the
statistic of x (it used to be -inf, or a "collinear regressors" error, when the sums of
squares under- or overflowed). What does depend on the units (icbest, the constant's
coefficient, ssr) must be what statsmodels gives where statsmodels works.
"""

import math
import warnings

import numpy as np
import pytest

from fastrnn import timeseries as ts

sm_stattools = pytest.importorskip("statsmodels.tsa.stattools")

REGRESSIONS = ["n", "c", "ct", "ctt"]
BACKENDS = ["numpy"] + (["compiled"] if ts.compiled() else [])


def series(n=200, seed=0):
    rng = np.random.default_rng(seed)
    x = np.zeros(n)
    for t in range(1, n):
        x[t] = 0.8 * x[t - 1] + rng.standard_normal()
    return x + 3.0


def sm_adfuller(x, **kw):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return sm_stattools.adfuller(x, result_object=False, **kw)


@pytest.mark.parametrize("regression", REGRESSIONS)
@pytest.mark.parametrize("autolag", ["AIC", "BIC", "t-stat", None])
@pytest.mark.parametrize("scale", [1e-300, 1e-200, 1e200, 1e300])
def test_statistic_is_the_same_at_any_magnitude(scale, autolag, regression):
    x = series()
    ref = ts.adfuller(x, regression=regression, autolag=autolag)
    with warnings.catch_warnings():
        warnings.simplefilter("error")          # no overflow / divide-by-zero on the way
        got = ts.adfuller(x * scale, regression=regression, autolag=autolag)
    assert math.isfinite(got[0])
    assert got[0] == pytest.approx(ref[0], rel=1e-9)
    assert got[1] == pytest.approx(ref[1], abs=1e-9)
    assert got[2:4] == ref[2:4]                 # usedlag, nobs
    if autolag in ("AIC", "BIC"):               # the criteria shift by 2 m log(scale)
        m = x.shape[0] - 1 - ts.adfuller(x, regression=regression, store=True,
                                         autolag=autolag)[3].maxlag
        assert got[5] == pytest.approx(ref[5] + 2 * m * math.log(scale), rel=1e-9)


@pytest.mark.parametrize("regression", ["c", "ct"])
@pytest.mark.parametrize("scale", [1e-12, 1e-6, 1e6, 1e12])
def test_units_dependent_results_match_statsmodels(scale, regression):
    """Where statsmodels works it is the oracle for every field (beyond about 1e+-15 its
    pseudo-inverse drops the constant column, whose scale no longer matches the data's)."""
    x = series() * scale
    ref = sm_adfuller(x, regression=regression, autolag="AIC", store=True, regresults=True)
    got = ts.adfuller(x, regression=regression, autolag="AIC", store=True, regresults=True)
    assert got[0] == pytest.approx(ref[0], rel=1e-8)
    rs, rr = got[3], ref[3]
    assert rs.usedlag == rr.usedlag and rs.nobs == rr.nobs
    assert rs.icbest == pytest.approx(rr.icbest, rel=1e-8)
    np.testing.assert_allclose(rs.resols.params, rr.resols.params, rtol=1e-6)
    np.testing.assert_allclose(rs.resols.bse, rr.resols.bse, rtol=1e-6)
    assert rs.resols.ssr == pytest.approx(rr.resols.ssr, rel=1e-8)


@pytest.mark.parametrize("backend", BACKENDS)
def test_adfuller_many_rows_of_any_magnitude(backend):
    x = series()
    X = np.stack([x, x * 1e-300, x * 1e300, x * 1e-150])
    res = ts.adfuller_many(X, backend=backend)
    assert (res.status == 0).all()
    np.testing.assert_allclose(res.stat, res.stat[0], rtol=1e-9)
    assert (res.usedlag == res.usedlag[0]).all()
    ref = ts.adfuller(x)
    assert res.stat[0] == pytest.approx(ref[0], rel=1e-9)
    m = x.shape[0] - 1 - res.maxlag
    for k, s in enumerate([1.0, 1e-300, 1e300, 1e-150]):
        assert res.icbest[k] == pytest.approx(ref[5] + 2 * m * math.log(s), rel=1e-9)


@pytest.mark.parametrize("maxlag", [True, False, 2.0, "3"])
def test_maxlag_must_be_an_int_not_a_bool_or_float(maxlag):
    with pytest.raises(TypeError, match="maxlag must be an int"):
        ts.adfuller(series(), maxlag=maxlag)
    with pytest.raises(TypeError, match="maxlag must be an int"):
        ts.adfuller_many(series()[None, :], maxlag=maxlag)
