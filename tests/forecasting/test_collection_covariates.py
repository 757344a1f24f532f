"""Covariates through the many-series forecaster: ``forecast_collection``, ``cross_validate``
and ``forecast_panel`` hand past-observed, future-known and static columns to the global
model (local models ignore them), validation windows see nothing after origin + h, and the
future frame is checked (every series, exactly its next h times, no missing value), each bad
input with its one-line message."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

pd = pytest.importorskip("pandas")

from fastrnn.forecasting import cross_validate, forecast_panel, read_panel  # noqa: E402
from fastrnn.forecasting.accuracy import mase_scale  # noqa: E402
from fastrnn.forecasting.auto import forecast_collection  # noqa: E402
from fastrnn.forecasting.cv import window_cutoffs  # noqa: E402
from fastrnn.forecasting.global_rnn import GlobalRNN  # noqa: E402
from fastrnn.forecasting.local import standard_baselines  # noqa: E402

H = 6


def promo_collection(n_series=24, n=60, h=H, seed=0, effect=5.0):
    """y = level + effect * promo + noise, promo a known-ahead 0/1 column (about 30% on),
    visits a past-observed column (y plus noise) and size a static one; (the first n rows of
    every series, the h after them)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_series):
        level = rng.uniform(20, 40)
        promo = (rng.random(n + h) < 0.3).astype(float)
        y = level + effect * promo + rng.normal(0, 0.5, n + h)
        frames.append(pd.DataFrame({"unique_id": f"s{i}", "ds": np.arange(n + h),
                                    "y": y, "promo": promo,
                                    "visits": y + rng.normal(0, 1, n + h),
                                    "size": float(level // 10)}))
    df = pd.concat(frames, ignore_index=True)
    return df.groupby("unique_id").head(n), df.groupby("unique_id").tail(h)


def small_global(h=H, steps=800, units=16):
    return GlobalRNN(h, steps=steps, units=units)


def held_out_mase(fc, train, test):
    out = []
    for uid, g in fc.groupby("unique_id"):
        actual = test.loc[test.unique_id == uid, "y"].to_numpy()
        q = mase_scale(train.loc[train.unique_id == uid, "y"].to_numpy(), 1)
        out.append(np.mean(np.abs(actual - g["forecast"].to_numpy())) / q)
    return float(np.mean(out))


def test_a_known_ahead_covariate_makes_the_held_out_forecast_clearly_better():
    train, test = promo_collection()
    models = {**standard_baselines(), "global": small_global()}
    plain, rep_plain = forecast_collection(train, H, season=1, models=models)
    with_cov, rep_cov = forecast_collection(
        train, H, season=1, models=models, future_covariates=["promo"],
        future=test[["unique_id", "ds", "promo"]])
    m_plain = held_out_mase(plain, train, test)
    m_cov = held_out_mase(with_cov, train, test)
    # without the column the promo is noise to every model; with it, the network reads it
    assert m_cov < 0.6 * m_plain, (m_cov, m_plain)
    assert "global" in rep_cov.members
    # validation saw the gain too (the covariates reached the cross-validation windows)
    best = {r["name"]: r["mase"] for r in rep_cov.scores}
    assert best["global"] < 0.8 * {r["name"]: r["mase"] for r in rep_plain.scores}["global"]
    assert list(with_cov.columns) == ["unique_id", "ds", "forecast"]
    assert with_cov.groupby("unique_id")["ds"].min().eq(60).all()


def _window_forecasts(cv, name):
    return {(fc["uid"], fc["window"]): fc["models"][name].mean for fc in cv._forecasts
            if name in fc["models"]}


def test_a_validation_window_reads_nothing_after_its_origin_plus_h():
    train, _ = promo_collection(n_series=12, n=40)
    kw = dict(past_covariates=["visits"], future_covariates=["promo"], static=["size"])
    model = {"g": GlobalRNN(H, steps=60, units=8)}
    n, windows = 40, 2
    first = window_cutoffs(n, H, windows, H)[0]        # window 0 trains on the first `first`

    def run(df):
        return _window_forecasts(cross_validate(model, df, H, windows, **kw), "g")

    base = run(train)
    late = train.copy()
    t = late["ds"].to_numpy()
    late.loc[t >= first + H, "promo"] = 1.0 - late.loc[t >= first + H, "promo"]
    late.loc[t >= first, "visits"] += 100.0            # past covariates: unseen after origin
    changed = run(late)
    uids = sorted({u for u, _ in base})
    for u in uids:
        np.testing.assert_array_equal(base[(u, 0)], changed[(u, 0)])
    # the change did reach the later window, so the comparison above can fail
    assert any(not np.array_equal(base[(u, 1)], changed[(u, 1)]) for u in uids)
    # and window 0 does read the future-known values of its own horizon
    inside = train.copy()
    t = inside["ds"].to_numpy()
    sel = (t >= first) & (t < first + H)
    inside.loc[sel, "promo"] = 1.0 - inside.loc[sel, "promo"]
    moved = run(inside)
    assert any(not np.array_equal(base[(u, 0)], moved[(u, 0)]) for u in uids)


def test_local_models_ignore_covariates_and_a_warning_says_so():
    train, test = promo_collection(n_series=4, n=30)
    plain = forecast_panel(standard_baselines(), train, H)
    with pytest.warns(UserWarning, match="read by global models only"):
        cov = forecast_panel(standard_baselines(), train, H, future_covariates=["promo"],
                             future=test[["unique_id", "ds", "promo"]], static="size")
    pd.testing.assert_frame_equal(plain, cov)
    with pytest.warns(UserWarning, match=r"global rnn: the collection has 4 series"):
        forecast_collection(train, H, season=1, past_covariates="visits")


def test_forecast_panel_gives_the_global_model_the_future_values():
    train, test = promo_collection(n_series=8, n=40)
    fut = test[["unique_id", "ds", "promo"]]
    kw = dict(future_covariates=["promo"], past_covariates=["visits"], static=["size"])
    model = GlobalRNN(H, steps=60, units=8)
    a = forecast_panel(model, train, H, future=fut, **kw)
    flipped = fut.assign(promo=1.0 - fut["promo"])
    b = forecast_panel(model, train, H, future=flipped, **kw)
    assert a.shape == (8 * H, 3)
    assert not np.allclose(a["forecast"], b["forecast"])
    # a Panel read with the columns is used as it is
    panel = read_panel(train, covariates=["visits", "promo"], static=["size"])
    c = forecast_panel(model, panel, H, future=fut, **kw)
    np.testing.assert_array_equal(a["forecast"], c["forecast"])


def test_future_frame_on_a_monthly_calendar():
    dates = pd.date_range("2015-01-01", periods=30, freq="MS")
    rng = np.random.default_rng(1)
    df = pd.concat([pd.DataFrame({"unique_id": u, "ds": dates, "y": rng.normal(10, 1, 30),
                                  "promo": rng.integers(0, 2, 30).astype(float)})
                    for u in ("a", "b")])
    nxt = pd.date_range("2017-07-01", periods=3, freq="MS")
    fut = pd.concat([pd.DataFrame({"unique_id": u, "ds": nxt, "promo": [1.0, 0.0, 1.0]})
                     for u in ("b", "a")])                     # any order of rows
    kw = dict(future_covariates=["promo"], season=12)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)       # no global model among these
        fc, _ = forecast_collection(df, 3, future=fut.iloc[::-1], **kw)
        assert list(fc["ds"].iloc[:3]) == list(nxt)
        late = fut.assign(ds=fut["ds"] + pd.offsets.MonthBegin(1))
        with pytest.raises(ValueError, match=r"^future: series 'b': expected its 3 times after "
                           r"its end \(2017-07-01.* \.\. 2017-09-01.*\), got 3 row\(s\) "
                           r"\(2017-08-01"):
            forecast_collection(df, 3, future=late, **kw)


def _bad_inputs():
    train, test = promo_collection(n_series=3, n=20, h=4)
    fut = test[["unique_id", "ds", "promo"]]
    other = fut.copy()
    other.loc[other.index[0], "unique_id"] = "zz"
    nan = fut.copy()
    nan.loc[nan.index[5], "promo"] = np.nan
    text = fut.astype({"promo": object})
    text.loc[text.index[2], "promo"] = "x"
    dup = fut.copy()
    dup.loc[dup.index[1], "ds"] = dup.loc[dup.index[0], "ds"]
    changing = train.copy()
    changing.loc[changing.index[3], "size"] = 99.0
    word = train.assign(kind="food")
    gappy = train.copy()
    gappy.loc[gappy.index[4], "visits"] = np.nan
    panel = read_panel(train, covariates=["promo"])
    F = "future_covariates"
    return [
        (train, {F: ["promo"]}, ValueError,
         r"^future: future_covariates promo need their values over the horizon: pass "
         r"future= .*got None$"),
        (train, {"future": fut}, ValueError, r"^future: given, but no future_covariates"),
        (train, {F: ["promo"], "future": [1, 2]}, TypeError,
         r"^future must be a pandas or polars DataFrame"),
        (train, {F: ["promo"], "future": fut.drop(columns="promo")}, ValueError,
         r"^future: no column 'promo' \(future_covariates\); columns: unique_id, ds$"),
        (train, {F: ["promo"], "future": fut.drop(columns="ds")}, ValueError,
         r"^future: no column 'ds' \(time_col\)"),
        (train, {F: ["promo"], "future": fut.drop(columns="unique_id")}, ValueError,
         r"^future: no column 'unique_id' \(id_col\)"),
        (train, {F: ["promo"], "future": fut[fut.unique_id != "s2"]}, ValueError,
         r"^future: no rows for 1 of the 3 series, first 's2'; expected 4 rows per series"),
        (train, {F: ["promo"], "future": other}, ValueError,
         r"^future: 1 series not in the data, first 'zz'"),
        (train, {F: ["promo"], "future": fut.iloc[1:]}, ValueError,
         r"^future: series 's0': expected its 4 times after its end \(20 \.\. 23\), got "
         r"3 row\(s\) \(21 \.\. 23\)$"),
        (train, {F: ["promo"], "future": fut.assign(ds=fut["ds"] + 1)}, ValueError,
         r"^future: series 's0': expected its 4 times after its end \(20 \.\. 23\), got "
         r"4 row\(s\) \(21 \.\. 24\)$"),
        (train, {F: ["promo"], "future": dup}, ValueError,
         r"^future: series 's0': .* 20 appears more than once$"),
        (train, {F: ["promo"], "future": nan}, ValueError,
         r"^future: series 's1': column 'promo' has 1 missing value\(s\), first at 21; "),
        (train, {F: ["promo"], "future": text}, ValueError,
         r"^future: column 'promo' \(future_covariates\) must hold numbers, got 'x'$"),
        (train, {"past_covariates": ["price"]}, ValueError,
         r"^data: no column 'price' \(covariates\)"),
        (train, {"past_covariates": ["promo"], F: ["promo"], "future": fut}, ValueError,
         r"^future_covariates: 'promo' is also in past_covariates"),
        (train, {"past_covariates": ["visits", "visits"]}, ValueError,
         r"^past_covariates: 'visits' is named more than once$"),
        (train, {"past_covariates": 5}, TypeError,
         r"^past_covariates: expected a column name or a list of them, got int$"),
        (train, {"static": [3]}, TypeError, r"^static: expected column names \(str\), got 3$"),
        (word, {"static": ["kind"]}, ValueError,
         r"^static: column 'kind' must hold finite numbers .*got 'food' for series 's0'"),
        (changing, {"static": ["size"]}, ValueError,
         r"^series 's0': static column 'size' changes within the series"),
        (gappy, {"past_covariates": ["visits"]}, ValueError,
         r"^series 's0': column 'visits' has missing values"),
        (panel, {"past_covariates": ["visits"]}, ValueError,
         r"^past_covariates: the panel carries no column 'visits' \(read_panel\(covariates="
         r"\.\.\.\) carries: promo\)$"),
        (panel, {"static": ["size"]}, ValueError,
         r"^static: the panel carries no column 'size' \(read_panel\(static=\.\.\.\) "
         r"carries: none\)$"),
    ]


@pytest.mark.parametrize("case", range(len(_bad_inputs())))
def test_bad_covariate_input_is_a_one_line_error(case):
    data, kwargs, exc, message = _bad_inputs()[case]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        with pytest.raises(exc, match=message) as info:
            forecast_collection(data, 4, season=1, **kwargs)
    assert "\n" not in str(info.value)


def test_cross_validate_checks_the_columns_too():
    train, _ = promo_collection(n_series=3, n=20)
    with pytest.raises(ValueError, match=r"^data: no column 'price' \(covariates\)"):
        cross_validate(standard_baselines(), train, 4, future_covariates=["price"])
    with pytest.warns(UserWarning, match="no candidate is one"):
        cross_validate(standard_baselines(), train, 4, static=["size"])
