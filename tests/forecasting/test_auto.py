"""Global models in cross-validation and in forecast_panel (one fit per window, nothing after
a cutoff seen), and the default forecaster for a collection (fastrnn.forecasting.auto): the
choice and the combinations where the right answer is known, seeds, interval coverage,
scale through joblib and Dask."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.forecasting.auto import (
    GLOBAL_MIN_SERIES,
    ar_differences,
    default_models,
    forecast_collection,
)
from fastrnn.forecasting.base import Prediction
from fastrnn.forecasting.baselines import Naive
from fastrnn.forecasting.cv import cross_validate, window_cutoffs
from fastrnn.forecasting.local import forecast_panel, standard_baselines
from fastrnn.forecasting.panel import read_panel

pd = pytest.importorskip("pandas")


def quarters(n):
    return [f"{2000 + k // 4} Q{k % 4 + 1}" for k in range(n)]


def frame(ys):
    return pd.concat([pd.DataFrame({"unique_id": f"s{i}", "ds": quarters(len(y)), "y": y})
                      for i, y in enumerate(ys)], ignore_index=True)


class PooledMean:
    """A global model: the mean of the last season of every series, pooled into one seasonal
    profile (relative to each series' level) and put on each series' own level. It records
    what it was fitted on."""

    is_global = True
    name = "pooled season"

    def __init__(self, log=None):
        self.log = [] if log is None else log

    def clone(self):
        return PooledMean(self.log)

    def fit(self, series, season=None, covariates=None):
        self.series = [np.asarray(y, np.float64).copy() for y in series]
        self.log.append({"lengths": [len(y) for y in self.series],
                         "last": [float(y[-1]) for y in self.series], "season": season})
        s = 4
        rel = np.array([y[-s:] / y[-s:].mean() for y in self.series])
        self.profile = rel.mean(axis=0)
        return self

    def predict(self, h, level=None):
        out = []
        for y in self.series:
            base = y[-4:].mean()
            mean = base * np.resize(self.profile, h)
            lo = {lv: mean - 1.0 for lv in level or ()}
            hi = {lv: mean + 1.0 for lv in level or ()}
            out.append(Prediction(mean, lo, hi))
        return out


def seasonal(n_series=8, n=32, noise=0.5, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return [(20 + 5 * i) * (1 + 0.3 * np.sin(2 * np.pi * t / 4)) + rng.normal(0, noise, n)
            for i in range(n_series)]


# -- global models in cross-validation --------------------------------------------------
def test_a_global_model_is_fitted_once_per_window_on_the_past_only():
    ys = seasonal(5, 30)
    ys[2] = ys[2][:22]                       # a shorter series: its own cutoffs
    log = []
    cv = cross_validate({"g": PooledMean(log), "naive": Naive()}, frame(ys), h=4,
                        n_windows=3)
    assert len(log) == 3                     # one fit per window, not per series
    for k, fit in enumerate(log):
        want = [window_cutoffs(len(y), 4, 3, 4)[k] for y in ys]
        assert fit["lengths"] == want        # every series cut at its own window-k origin
        assert fit["last"] == [float(y[c - 1]) for y, c in zip(ys, want)]
        assert fit["season"] == [4] * 5
    recs = [r for r in cv.records if r["model"] == "g"]
    assert len(recs) == 15 and not any(r["error"] for r in recs)
    # the scores are those of the held-out values
    fc = cv.forecasts()
    assert {"g", "naive"} <= set(fc.columns)
    row = fc[(fc["unique_id"] == "s2")].iloc[0]
    assert row["ds"] == quarters(22)[22 - 12]
    s = cv.summary()
    assert s["model"].tolist() == ["g", "naive"]
    by = dict(zip(s["model"], s["mase"]))
    assert by["g"] < by["naive"]             # the pooled season beats the naive on seasonal data


def test_global_cv_cannot_see_the_held_out_values():
    """Poison every value after the last window's origin: the global model's validation
    forecasts of that window must not change."""
    ys = seasonal(4, 28)
    clean = cross_validate(PooledMean(), frame(ys), h=4, n_windows=2)
    poisoned = [y.copy() for y in ys]
    for y in poisoned:
        y[-4:] = 1e6                         # the last window's actuals only
    dirty = cross_validate(PooledMean(), frame(poisoned), h=4, n_windows=2)
    a, b = clean.forecasts(), dirty.forecasts()
    np.testing.assert_allclose(a["pooled season"], b["pooled season"])
    assert (b["y"] == 1e6).sum() == 16       # ... while the actuals did change


def test_global_failures_and_level():
    class Broken(PooledMean):
        name = "broken"

        def clone(self):
            return Broken()

        def fit(self, series, season=None, covariates=None):
            raise ValueError("cannot learn from this")

    cv = cross_validate([Broken(), PooledMean()], frame(seasonal(3)), h=4, n_windows=2,
                        level=[80])
    errs = cv.errors()
    assert len(errs) == 6 and all(e[1] == "broken" and "cannot learn" in e[3] for e in errs)
    s = cv.summary()
    assert "coverage-80" in s.columns and s["failed"].tolist() == [6, 0]


def test_forecast_panel_with_a_global_model():
    ys = seasonal(3, 24)
    log = []
    out = forecast_panel({"g": PooledMean(log), "naive": Naive()}, frame(ys), 4)
    assert len(log) == 1 and log[0]["lengths"] == [24, 24, 24]
    assert list(out.columns) == ["unique_id", "ds", "g", "naive"]
    assert out["ds"].tolist()[:4] == quarters(28)[24:]


# -- the choice ---------------------------------------------------------------------------
def test_the_seasonal_model_is_chosen_for_seasonal_data():
    fc, rep = forecast_collection(frame(seasonal(10, 40, noise=0.2)), 4, max_combine=1)
    assert rep.chosen in ("seasonal naive", "theta")
    assert rep.how == "model" and rep.members == (rep.chosen,)
    assert rep.scores[0]["name"] == rep.chosen
    by = {r["name"]: r["mase"] for r in rep.scores}
    assert by[rep.chosen] < by["naive"] / 2
    assert list(fc.columns) == ["unique_id", "ds", "forecast"]
    assert len(fc) == 40 and fc["ds"].tolist()[:4] == quarters(44)[40:]


def test_naive_is_chosen_for_random_walks():
    rng = np.random.default_rng(3)
    ys = [100 + np.cumsum(rng.normal(0, 1, 60)) for _ in range(30)]
    _, rep = forecast_collection(frame(ys), 4, max_combine=1)
    by = {r["name"]: r["mase"] for r in rep.scores}
    # no seasonality, no trend: nothing beats the naive by much, the seasonal naive loses
    assert by["seasonal naive"] > by["naive"]
    assert by[rep.chosen] <= by["naive"]


class Biased:
    """A local model: the truth of a known signal plus a fixed bias (to test combinations)."""

    def __init__(self, truth, bias, name):
        self.truth, self.bias, self.name = truth, bias, name

    def clone(self):
        return type(self)(self.truth, self.bias, self.name)

    def fit(self, y):
        self.n = len(y)
        return self

    def predict(self, h, level=None):
        return Prediction(self.truth[self.n:self.n + h] + self.bias)


def test_a_combination_is_kept_when_it_validates_better():
    rng = np.random.default_rng(0)
    n = 40
    truth = 50 + np.cumsum(rng.normal(0, 1, n + 4))      # known beyond the data too
    ys = [truth[:n] + rng.normal(0, 0.01, n) for _ in range(3)]
    models = {"high": Biased(truth, 1.0, "high"), "low": Biased(truth, -1.0, "low")}
    fc, rep = forecast_collection(frame(ys), 4, models=models)
    # the mean of two opposite biases is the truth: better than either alone
    assert rep.how == "mean" and set(rep.members) == {"high", "low"}
    assert rep.chosen == f"mean({', '.join(rep.members)})"
    by = {r["name"]: r["mase"] for r in rep.scores}
    assert by[rep.chosen] < min(by["high"], by["low"]) / 5
    np.testing.assert_allclose(fc["forecast"].to_numpy()[:4], truth[n:])
    # and with combinations off, one of the single models
    _, single = forecast_collection(frame(ys), 4, models=models, max_combine=1)
    assert single.how == "model" and single.chosen in ("high", "low")


def test_a_combination_that_does_not_help_is_not_kept():
    rng = np.random.default_rng(0)
    truth = 50 + np.cumsum(rng.normal(0, 1, 44))
    ys = [truth[:40].copy() for _ in range(3)]
    models = {"exact": Biased(truth, 0.0, "exact"), "off": Biased(truth, 5.0, "off")}
    _, rep = forecast_collection(frame(ys), 4, models=models)
    assert rep.chosen == "exact" and rep.how == "model"


def test_a_failing_model_gets_the_fallback_and_is_counted():
    ys = seasonal(4, 32)
    ys[1] = ys[1][:14]

    class LongOnly(Biased):
        def fit(self, y):
            if len(y) < 20:
                raise ValueError("needs 20 values")
            return super().fit(y)

    truth = np.concatenate([ys[0], ys[0][-4:]])
    _, rep = forecast_collection(frame(ys), 4, models={"long": LongOnly(truth, 0, "long")},
                                 max_combine=1)
    row = next(r for r in rep.scores if r["name"] == "long")
    assert row["stand_ins"] >= 2              # series 1 is too short in its windows
    assert rep.fallback == "seasonal naive" and "seasonal naive" in rep.models


def test_seeds_give_the_same_choice_and_forecasts():
    data = frame(seasonal(25, 36, noise=1.0, seed=4))
    a, ra = forecast_collection(data, 4, seed=7)
    b, rb = forecast_collection(data, 4, seed=7)
    assert ra.chosen == rb.chosen
    assert [r["mase"] for r in ra.scores] == [r["mase"] for r in rb.scores]
    pd.testing.assert_frame_equal(a, b)


def test_default_models():
    small, why = default_models(3, 4)
    assert list(small) == ["naive", "seasonal naive", "drift", "theta", "ar"]
    assert "fewer than" in why["global rnn"]
    big, why = default_models(GLOBAL_MIN_SERIES, 4, seed=3)
    assert len(big) == 6 and not why
    glob = list(big.values())[-1]
    assert glob.is_global and glob.name in big and glob.get_params()["seed"] == 3


# -- intervals ------------------------------------------------------------------------------
def test_interval_coverage_on_a_synthetic_collection():
    """Seasonal random walks with noise of very different sizes: calibrated on the validation
    windows, the 80% and 95% intervals cover about that share of a final test part never
    seen."""
    rng = np.random.default_rng(11)
    h, n = 4, 48
    ys, sds = [], []
    for i in range(150):
        sd = rng.uniform(0.5, 20)
        sds.append(sd)
        t = np.arange(n + h)
        ys.append(1000 + 50 * np.sin(2 * np.pi * t / 4) + np.cumsum(rng.normal(0, sd, n + h)))
    train = frame([y[:n] for y in ys])
    fc, rep = forecast_collection(train, h, level=[80, 95], n_windows=4)
    test = np.concatenate([y[n:] for y in ys])
    for lv in (80, 95):
        lo, hi = fc[f"lo-{lv}"].to_numpy(), fc[f"hi-{lv}"].to_numpy()
        assert np.all(lo <= fc["forecast"].to_numpy()) and np.all(hi >= lo)
        cover = np.mean((test >= lo) & (test <= hi))
        assert abs(cover - lv / 100) < 0.07, (lv, cover)
        assert abs(rep.coverage[lv] - lv / 100) < 0.06, (lv, rep.coverage[lv])
        # the validation MSIS of those intervals (checked by hand in the next test)
        assert np.isfinite(rep.msis[lv]) and rep.msis[lv] > 0
    assert list(fc.columns) == ["unique_id", "ds", "forecast", "lo-80", "hi-80", "lo-95",
                                "hi-95"]
    # the bands scale with each series: the noisiest series has wider intervals
    width = (fc["hi-80"] - fc["lo-80"]).to_numpy().reshape(150, h)[:, 0]
    assert np.corrcoef(width, sds)[0, 1] > 0.8


class Wobbly:
    """A local model: the known truth of each series (told apart by its level, 100 i) plus an
    offset that depends on the series and the training length, so that every window of every
    series has its own known signed error."""

    name = "w"
    off = np.array([0.0, 3.0, -1.0, 2.0, 0.5, -4.0, 1.0, 0.2, -0.3, 2.5])

    def __init__(self, truths):
        self.truths = truths

    def clone(self):
        return Wobbly(self.truths)

    def fit(self, y):
        self.i, self.n = int(round(y[0] / 100)), len(y)
        return self

    def predict(self, h, level=None):
        t = self.truths[self.i]
        return Prediction(t[self.n:self.n + h]
                          + self.off[(self.n + 3 * self.i) % 10] * (1 + self.i / 2))


def test_validation_msis_by_hand():
    """Five series, known errors: the bounds are the conformal ranks of the signed scaled
    errors of the calibration windows, and the cross-fitted coverage and MSIS of the report
    are the accuracy module's, each window's bounds calibrated on the other windows."""
    from fastrnn.forecasting import accuracy
    from fastrnn.forecasting.intervals import conformal_offsets

    truths = [100 * i + np.concatenate([np.arange(40.0), np.arange(40.0, 44.0)]) * (1 + i)
              for i in range(5)]
    ys = [t[:40] for t in truths]
    out, rep = forecast_collection(frame(ys), 4, models={"w": Wobbly(truths)}, n_windows=5,
                                   interval_windows=5, level=[80], max_combine=1)
    assert rep.chosen == "w" and rep.windows["interval_windows"] == 5
    got = {(fc["uid"], fc["window"]): fc for fc in rep.cv._forecasts}

    def signed(fc):
        return (fc["actual"] - fc["models"]["w"].mean) / fc["scale"]

    # the bounds: N = 25 errors per step, ranks floor(26 * 0.1) = 2 and ceil(26 * 0.9) = 24
    every = np.array([signed(fc) for fc in got.values()])
    srt = np.sort(every, axis=0)
    lo_off, hi_off = rep.offsets[80]
    np.testing.assert_allclose(lo_off, np.minimum(srt[1], 0.0))
    np.testing.assert_allclose(hi_off, np.maximum(srt[23], 0.0))
    assert np.any(lo_off != -hi_off)                      # not symmetric: signed errors
    f = out["forecast"].to_numpy().reshape(5, 4)
    for i, y in enumerate(ys):
        q = accuracy.mase_scale(y, 4)
        np.testing.assert_allclose(out["lo-80"].to_numpy()[4 * i:4 * i + 4], f[i] + lo_off * q)
        np.testing.assert_allclose(out["hi-80"].to_numpy()[4 * i:4 * i + 4], f[i] + hi_off * q)
    cov, scores = [], {i: [] for i in range(5)}
    for k in range(5):
        rest = np.array([signed(fc) for (u, w), fc in got.items() if w != k])
        lo_r, hi_r = conformal_offsets(rest, 80)     # N = 20: ranks 2 and 19
        np.testing.assert_allclose(hi_r, np.maximum(np.sort(rest, axis=0)[18], 0.0))
        for i in range(5):
            fc = got[(f"s{i}", k)]
            q = fc["scale"]
            fk = fc["models"]["w"].mean
            lo, hi = fk + lo_r * q, fk + hi_r * q
            cov.append(np.mean((fc["actual"] >= lo) & (fc["actual"] <= hi)))
            cut = window_cutoffs(40, 4, 5, 4)[k]
            assert q == accuracy.mase_scale(ys[i][:cut], 4)
            scores[i].append(accuracy.msis(fc["actual"], lo, hi, ys[i][:cut], 80, season=4))
    assert 0 < np.mean(cov) < 1
    assert rep.coverage[80] == pytest.approx(np.mean(cov))
    assert rep.msis[80] == pytest.approx(np.mean([np.mean(v) for v in scores.values()]))


def test_too_few_windows_for_a_level():
    with pytest.raises(ValueError, match="too few for a conformal interval"):
        forecast_collection(frame(seasonal(2, 24)), 4, level=[95], n_windows=2)


def test_bad_arguments():
    data = frame(seasonal(2, 24))
    with pytest.raises(ValueError, match="h must be"):
        forecast_collection(data, 0)
    with pytest.raises(ValueError, match="level"):
        forecast_collection(data, 4, level=[120])
    with pytest.raises(ValueError, match="no column 'sales'"):
        forecast_collection(data, 4, target_col="sales")
    with pytest.raises(ValueError, match="no validation window"):
        forecast_collection(frame(seasonal(2, 5)), 4)


def test_the_report_text():
    _, rep = forecast_collection(frame(seasonal(6, 32)), 4, level=[80])
    text = "\n".join(rep.lines())
    for part in ("models compared: naive, seasonal naive, drift, theta, ar",
                 "3 window(s) of 4 steps", "MASE", "sMAPE", "<- chosen", "chosen: ",
                 "validation coverage"):
        assert part in text, part
    assert len(rep.table()) == len(rep.scores)


# -- scale: joblib and Dask ----------------------------------------------------------------
def big(n_series, n=40, seed=0):
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    y = (100 + 10 * np.sin(2 * np.pi * t / 4))[None, :] + np.cumsum(
        rng.normal(0, 1, (n_series, n)), axis=1)
    return {"unique_id": np.repeat(np.arange(n_series), n), "ds": np.tile(t, n_series),
            "y": y.ravel()}


def same_columns(a, b):
    assert list(a) == list(b)
    for c in a:
        np.testing.assert_array_equal(np.asarray(a[c]), np.asarray(b[c]))


CLASSICAL = dict(standard_baselines(), ar=ar_differences)


def test_n_jobs_gives_the_same_result():
    data = read_panel(big(60), season=4)
    a, ra = forecast_collection(data, 4, n_jobs=1, level=[80], models=CLASSICAL)
    b, rb = forecast_collection(data, 4, n_jobs=2, level=[80], models=CLASSICAL)
    assert ra.chosen == rb.chosen and ra.scores == rb.scores
    assert isinstance(a, dict)                     # a mapping of columns in, one out
    same_columns(a, b)
    calls = []
    forecast_collection(data, 4, models=CLASSICAL, progress=lambda *a: calls.append(a))
    assert {c[0] for c in calls} == {"validation", "forecast"}
    assert calls[-1][1] == calls[-1][2]


def test_on_a_local_dask_cluster():
    distributed = pytest.importorskip("dask.distributed")
    joblib = pytest.importorskip("joblib")
    data = read_panel(big(200), season=4)
    ref, rref = forecast_collection(data, 4, n_jobs=1, models=standard_baselines())
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        with distributed.get_task_stream(client) as ts, joblib.parallel_backend("dask"):
            got, rgot = forecast_collection(data, 4, n_jobs=2, models=standard_baselines())
        assert len(ts.data) > 0                    # the chunks ran on the cluster
    assert rgot.chosen == rref.chosen and rgot.scores == rref.scores
    same_columns(got, ref)
