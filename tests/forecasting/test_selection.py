"""fastrnn.forecasting: criteria (against statsmodels), baselines, period detection, differencing
by ADF, and select() (ranking, reproducibility, joblib, optional pandas/joblib)."""

from __future__ import annotations

import pickle
import sys
import warnings
from math import log, pi

import numpy as np
import pytest

from fastrnn import forecasting
from fastrnn.data import load_nile, load_sunspots
from fastrnn.forecasting import AR, Naive, RNNForecaster, SeasonalNaive

SUN = load_sunspots().values
M = 247  # the training part of sunspots with test=0.2


def tiny(**kw):
    kw.setdefault("epochs", 3)
    return forecasting.grid(cells=("gru", "elman"), units=(4,), lags=(4,), **kw)


def strip(records):
    return [{k: v for k, v in r.items() if k != "fit_s"} for r in records]


# -- criteria ------------------------------------------------------------------------------
def test_loglik_aic_bic_standard_forms():
    e = np.array([0.5, -1.0, 2.0, 0.25, -0.75])
    n, s2 = e.size, np.mean(e ** 2)
    ll = -n / 2 * (log(2 * pi * s2) + 1)
    assert forecasting.gaussian_loglik(e) == pytest.approx(ll, rel=1e-14)
    assert forecasting.aic(e, 3) == pytest.approx(-2 * ll + 6, rel=1e-14)
    assert forecasting.bic(e, 3) == pytest.approx(-2 * ll + 3 * log(n), rel=1e-14)
    ic = forecasting.information_criteria(e, 3)
    assert ic["n"] == 5 and ic["sigma2"] == pytest.approx(s2)
    assert ic["aic"] == pytest.approx(forecasting.aic(e, 3))


def test_criteria_match_statsmodels_ols():
    sm = pytest.importorskip("statsmodels.api")
    rng = np.random.default_rng(1)
    X = sm.add_constant(rng.standard_normal((80, 3)))
    y = X @ np.array([1.0, 0.5, -2.0, 0.0]) + rng.standard_normal(80)
    res = sm.OLS(y, X).fit()
    k = X.shape[1]
    assert forecasting.gaussian_loglik(res.resid) == pytest.approx(res.llf, rel=1e-12)
    assert forecasting.aic(res.resid, k) == pytest.approx(res.aic, rel=1e-12)
    assert forecasting.bic(res.resid, k) == pytest.approx(res.bic, rel=1e-12)


def test_criteria_edge_cases():
    with pytest.raises(ValueError, match="residuals"):
        forecasting.gaussian_loglik([])
    assert np.isnan(forecasting.gaussian_loglik([1.0, np.nan]))
    assert np.isfinite(forecasting.gaussian_loglik([0.0, 0.0]))       # perfect fit: finite
    assert forecasting.one_step_mse([1, 2, 3], [1, 2, 5]) == pytest.approx(4 / 3)
    with pytest.raises(ValueError, match="same shape"):
        forecasting.one_step_mse([1, 2], [1, 2, 3])


# -- baselines -----------------------------------------------------------------------------
def test_naive_and_seasonal_naive():
    x = np.arange(20.0) ** 1.5
    nv = Naive().fit(x[:15])
    np.testing.assert_array_equal(nv.predict_one_step(x, 15), x[14:19])
    np.testing.assert_array_equal(nv.forecast(x, 3), [x[-1]] * 3)
    sn = SeasonalNaive(4).fit(x[:15])
    np.testing.assert_array_equal(sn.predict_one_step(x, 15), x[11:16])
    np.testing.assert_array_equal(sn.forecast(x, 6), x[[16, 17, 18, 19, 16, 17]])
    assert nv.n_params == sn.n_params == 0
    with pytest.raises(ValueError, match="past values"):
        sn.predict_one_step(x, 2)
    with pytest.raises(ValueError, match="period"):
        SeasonalNaive(0)


def test_ar_matches_statsmodels_autoreg_and_order_selection():
    ar_model = pytest.importorskip("statsmodels.tsa.ar_model")
    for ic in ("aic", "bic"):
        a = AR(max_lag=12, ic=ic).fit(SUN[:M])
        sel = ar_model.ar_select_order(SUN[:M], 12, ic=ic, trend="c")
        assert a.p_ == max(sel.ar_lags)
        res = ar_model.AutoReg(SUN[:M], a.p_, trend="c").fit()
        np.testing.assert_allclose(a.coef_, res.params, rtol=1e-9)
        # one-step predictions from the true past = statsmodels' in-sample predictions
        pred = a.predict_one_step(SUN[:M], a.p_)
        np.testing.assert_allclose(pred, res.fittedvalues, rtol=1e-9)
        assert a.n_params == a.p_ + 1 and a.name == f"AR({a.p_})"
    assert AR(max_lag=12).fit(SUN[:M]).p_ == 9          # Yule's sunspots: AR(9) by AIC


def test_ar_forecast_recursion_and_differencing():
    a = AR(p=1).fit(np.r_[1.0, 2.0, 3.5, 2.0, 2.5, 3.0, 1.0, 2.0])
    c, phi = a.coef_
    x = np.array([1.0, 2.0, 3.0])
    f = a.forecast(x, 3)
    want = [c + phi * 3.0]
    want += [c + phi * want[-1]]
    want += [c + phi * want[-1]]
    np.testing.assert_allclose(f, want)
    # ARIMA(1,1,0): the differences follow AR(1), levels are integrated back
    rng = np.random.default_rng(0)
    dz = np.zeros(300)
    for t in range(1, 300):
        dz[t] = 0.2 + 0.6 * dz[t - 1] + rng.standard_normal() * 0.1
    x = 50 + np.cumsum(dz)
    a = AR(p=1, diff=1).fit(x)
    np.testing.assert_allclose(a.coef_, [0.2, 0.6], atol=0.05)
    assert a.name == "ARIMA(1,1,0)" and a.min_history == 2
    f = a.forecast(x, 4)
    d = [a.coef_[0] + a.coef_[1] * (x[-1] - x[-2])]
    for _ in range(3):
        d.append(a.coef_[0] + a.coef_[1] * d[-1])
    np.testing.assert_allclose(f, x[-1] + np.cumsum(d))
    p = a.predict_one_step(x, 250)
    np.testing.assert_allclose(p, x[249:299] + a.coef_[0] + a.coef_[1] * (x[249:299] - x[248:298]))


def test_out_of_sample_mse_and_rolling_origin():
    mse, p = forecasting.out_of_sample_mse(Naive(), SUN, M)
    assert mse == pytest.approx(np.mean((SUN[M:] - SUN[M - 1:-1]) ** 2))
    mse1, p1 = forecasting.out_of_sample_mse(AR(p=2), SUN, M, refit_every=1)
    want = [AR(p=2).fit(SUN[:i]).predict_one_step(SUN[:i + 1], i)[0] for i in range(M, len(SUN))]
    np.testing.assert_allclose(p1, want, rtol=1e-10)
    mse5, p5 = forecasting.out_of_sample_mse(AR(p=2), SUN, M, refit_every=5)
    np.testing.assert_allclose(p5[0], p1[0], rtol=1e-10)
    np.testing.assert_allclose(p5[:5], AR(p=2).fit(SUN[:M]).predict_one_step(SUN[:M + 5], M))
    np.testing.assert_allclose(p5[5], p1[5], rtol=1e-10)    # refitted at the same origin
    with pytest.raises(ValueError, match="train_size"):
        forecasting.out_of_sample_mse(Naive(), SUN, 0)


def test_detect_period_and_choose_diff():
    t = np.arange(240)
    rng = np.random.default_rng(0)
    seasonal = 10 * np.sin(2 * np.pi * t / 12) + rng.standard_normal(240)
    assert forecasting.detect_period(seasonal) == 12
    assert forecasting.detect_period(rng.standard_normal(240)) is None
    assert forecasting.detect_period(SUN[:M]) in (10, 11)
    walk = np.cumsum(rng.standard_normal(300))
    d, tests = forecasting.choose_diff(walk)
    assert d == 1 and [t["d"] for t in tests] == [0, 1]
    assert tests[0]["pvalue"] > 0.05 and tests[1]["pvalue"] < 0.05
    d, tests = forecasting.choose_diff(SUN[:M])
    assert d == 0 and len(tests) == 1
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)      # statsmodels 0.15's result_object
        want = stattools.adfuller(SUN[:M])[1]
    assert tests[0]["pvalue"] == pytest.approx(want, rel=1e-8)


# -- RNN forecaster ------------------------------------------------------------------------
def test_rnn_forecaster_params_names_and_pickle():
    f = RNNForecaster("lstm", 5, lags=6, layers=2, epochs=2, seed=3).fit(SUN[:100])
    assert f.n_params == f.model_.count_params()
    assert f.name == "LSTM(5,5) lags=6 epochs=2"
    for cell in ("elman", "gru"):
        g = RNNForecaster(cell, 7, lags=3, horizon=2, epochs=1, seed=0).fit(SUN[:60])
        assert g.n_params == g.model_.count_params()
    g = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal(g.predict_one_step(SUN[:120], 100),
                                  f.predict_one_step(SUN[:120], 100))
    np.testing.assert_array_equal(g.forecast(SUN[:100], 5), f.forecast(SUN[:100], 5))
    with pytest.raises(ValueError, match="cell"):
        RNNForecaster("transformer")
    with pytest.raises(ValueError, match="too few"):
        RNNForecaster(lags=24).fit(SUN[:20])
    with pytest.raises(RuntimeError, match="not fitted"):
        RNNForecaster().forecast(SUN, 3)


def test_rnn_seeded_and_leaves_global_seed_alone():
    import fastrnn
    from fastrnn.nn import seeding

    fastrnn.set_random_seed(123)
    before = seeding.generator().bit_generator.state
    a = RNNForecaster("gru", 4, lags=4, epochs=3, seed=1).fit(SUN[:M])
    b = RNNForecaster("gru", 4, lags=4, epochs=3, seed=1).fit(SUN[:M])
    c = RNNForecaster("gru", 4, lags=4, epochs=3, seed=2).fit(SUN[:M])
    assert seeding.generator().bit_generator.state == before
    pa, pb, pc = (m.predict_one_step(SUN, M) for m in (a, b, c))
    np.testing.assert_array_equal(pa, pb)
    assert not np.allclose(pa, pc)


def test_rnn_early_stopping_restores_best():
    f = RNNForecaster("elman", 4, lags=4, epochs=200, patience=3, seed=0).fit(SUN[:M])
    assert 1 <= f.epochs_run_ < 200


# -- select --------------------------------------------------------------------------------
def test_select_ranks_every_model_with_all_criteria():
    sel = forecasting.select(SUN, tiny(), criterion="mse", seed=0)
    names = [r["model"] for r in sel.records]
    assert {"naive", "AR(9)", "GRU(4) lags=4 epochs=3", "Elman(4) lags=4 epochs=3"} <= set(names)
    assert any(n.startswith("seasonal naive") for n in names)
    assert len(names) == 5
    mses = [r["mse"] for r in sel.records]
    assert mses == sorted(mses)
    assert [r["rank"] for r in sel.records] == [1, 2, 3, 4, 5]
    for r in sel.records:
        for k in ("loglik", "aic", "bic", "mse", "fit_s"):
            assert np.isfinite(r[k]), (r["model"], k)
        assert r["params"] >= 0 and r["error"] == ""
        assert r["aic"] == pytest.approx(-2 * r["loglik"] + 2 * r["params"])
        assert r["bic"] == pytest.approx(-2 * r["loglik"] + r["params"] * log(M - sel.t0))
    naive = next(r for r in sel.records if r["model"] == "naive")
    assert naive["mse"] == pytest.approx(np.mean((SUN[M:] - SUN[M - 1:-1]) ** 2))
    assert sel.diff == 0 and sel.n_train == M and sel.n_test == 62 and sel.period in (10, 11)
    assert sel.t0 == 15      # AR max lag round(12 (247/100)^(1/4)): the common sample
    assert sel.best.name == sel.records[0]["model"]
    assert set(sel.test_predictions) == set(names)
    assert "Selection" in repr(sel)


@pytest.mark.parametrize("criterion", ["aic", "bic"])
def test_select_by_information_criterion(criterion):
    sel = forecasting.select(SUN, tiny(), criterion=criterion)
    vals = [r[criterion] for r in sel.records]
    assert vals == sorted(vals)
    ar = next(r for r in sel.records if r["kind"] == "baseline" and r["model"].startswith("AR"))
    assert ar["model"] == ("AR(9)" if criterion == "aic" else "AR(2)")


def test_select_reproducible_and_seed_matters():
    a = forecasting.select(SUN, tiny(), seed=5)
    b = forecasting.select(SUN, tiny(), seed=5)
    c = forecasting.select(SUN, tiny(), seed=6)
    assert strip(a.records) == strip(b.records)
    ra = {r["model"]: r["mse"] for r in a.records}
    rc = {r["model"]: r["mse"] for r in c.records}
    assert ra["naive"] == rc["naive"] and ra["GRU(4) lags=4 epochs=3"] != rc["GRU(4) lags=4 epochs=3"]
    np.testing.assert_array_equal(a.forecast(4), b.forecast(4))


def test_select_parallel_joblib_same_result():
    joblib = pytest.importorskip("joblib")
    ref = forecasting.select(SUN, tiny(), seed=0)
    with joblib.parallel_backend("threading", n_jobs=2):
        thr = forecasting.select(SUN, tiny(), seed=0)
    assert strip(thr.records) == strip(ref.records)
    proc = forecasting.select(SUN, tiny(), seed=0, n_jobs=2)      # loky worker processes
    assert strip(proc.records) == strip(ref.records)
    np.testing.assert_array_equal(proc.forecast(3), ref.forecast(3))


def test_select_without_joblib_and_pandas(monkeypatch):
    ref = forecasting.select(SUN, tiny(), seed=0)
    monkeypatch.setitem(sys.modules, "joblib", None)
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.warns(RuntimeWarning, match="joblib is not installed"):
        sel = forecasting.select(SUN, tiny(), seed=0, n_jobs=2)
    assert strip(sel.records) == strip(ref.records)
    assert isinstance(sel.table, list) and sel.table[0]["rank"] == 1
    with pytest.raises(ImportError):
        sel.to_frame()


def test_select_table_is_a_dataframe_with_pandas():
    pd = pytest.importorskip("pandas")
    sel = forecasting.select(SUN, tiny())
    df = sel.table
    assert isinstance(df, pd.DataFrame) and list(df.index) == [1, 2, 3, 4, 5]
    assert {"model", "aic", "bic", "mse", "params", "fit_s"} <= set(df.columns)


def test_select_differencing_auto_and_given():
    rng = np.random.default_rng(3)
    walk = 100 + np.cumsum(0.5 + rng.standard_normal(200))
    sel = forecasting.select(walk, tiny(), seed=0)
    assert sel.diff == 1 and [t["d"] for t in sel.adf] == [0, 1]
    assert any(r["model"] == "ARIMA(p,1,0)" or r["model"].startswith("ARIMA(") for r in sel.records)
    assert all(m.diff == 1 for m in sel.models.values() if isinstance(m, RNNForecaster))
    sel0 = forecasting.select(walk, tiny(), diff=0, baselines=False)
    assert sel0.diff == 0 and len(sel0.records) == 2 and sel0.adf[0]["d"] == 0
    # forecasts of the differenced models continue the level of the walk
    assert abs(sel.forecast(5)[0] - walk[-1]) < 10


def test_select_rolling_origin_and_season():
    sel = forecasting.select(SUN, tiny(epochs=2), refit_every=31, season=11, seed=0)
    assert sel.period == 11
    naive = next(r for r in sel.records if r["model"] == "naive")
    assert naive["mse"] == pytest.approx(np.mean((SUN[M:] - SUN[M - 1:-1]) ** 2))
    assert all(np.isfinite(r["mse"]) for r in sel.records)


def test_select_pandas_index_and_progress():
    pd = pytest.importorskip("pandas")
    s = load_sunspots(as_frame=True)
    seen = []
    sel = forecasting.select(s, tiny(), progress=lambda d, n, r: seen.append((d, n, r["model"])))
    assert [d for d, _, _ in seen] == [1, 2, 3, 4, 5] and all(n == 5 for _, n, _ in seen)
    assert list(sel.test_index()[:2]) == [1947, 1948]
    fc = sel.forecast(3)
    assert isinstance(fc, pd.Series) and list(fc.index) == [2009, 2010, 2011]
    fc2 = sel.forecast(2, refit=False, model="naive")
    assert list(fc2) == [s.iloc[-1]] * 2


def test_select_errors():
    with pytest.raises(ValueError, match="criterion"):
        forecasting.select(SUN, tiny(), criterion="r2")
    with pytest.raises(ValueError, match="test"):
        forecasting.select(SUN, tiny(), test=1.5)
    with pytest.raises(ValueError, match="too few"):
        forecasting.select(SUN[:40], forecasting.grid(cells="gru", units=4, lags=24, epochs=1))
    with pytest.raises(ValueError, match="at least 20"):
        forecasting.select(SUN[:15], tiny())
    with pytest.raises(ValueError, match="NaN"):
        forecasting.select(np.r_[SUN[:100], np.nan], tiny())
    with pytest.raises(TypeError, match="candidates"):
        forecasting.select(SUN, ["gru"])
    with pytest.raises(ValueError, match="duplicate"):
        forecasting.select(SUN, tiny() + tiny())


def test_select_on_nile_short_series():
    nile = load_nile().values
    sel = forecasting.select(nile, tiny(), seed=0)
    assert len(sel.records) >= 4 and np.isfinite(sel.records[0]["mse"])
