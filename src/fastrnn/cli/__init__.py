"""The `fastrnn` command.

    fastrnn forecast [CSV]  model selection and forecast for one series: the ADF test and the
                            differencing chosen, RNN candidates and baselines (naive, seasonal
                            naive, AR(p)) ranked by AIC, BIC and one-step MSE, the chosen model
                            and its forecast (default series: yearly sunspots, shipped)
    fastrnn info            version, backends built and available, threads, CPU features
    fastrnn bench           quick timing of the backends against the NumPy reference (and
                            PyTorch when installed) on the standard shapes
    fastrnn demo            the compiled backend against the reference, with an agreement check
"""

from __future__ import annotations

import argparse
import csv
import math
import os
import platform
import sys
import time

import numpy as np

import fastrnn
from fastrnn import backends


class CLIError(Exception):
    """An error reported as one line, without a traceback."""


def _cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in ("avx2", "fma", "avx512f") if f in flags]
    except OSError:
        pass
    return []


def _set_threads(n, torch_too=False):
    """OMP_NUM_THREADS for the compiled core (read when it is first loaded: the commands call
    this before touching a backend), and PyTorch's thread count when asked."""
    if n is None:
        return
    if n < 1:
        raise CLIError(f"--threads must be >= 1, got {n}")
    os.environ["OMP_NUM_THREADS"] = str(n)
    if torch_too:
        try:
            import torch
        except ImportError:
            return
        torch.set_num_threads(n)


# -- info ----------------------------------------------------------------------------------
def cmd_info(args):
    print(f"fastrnn {fastrnn.__version__} (Python {platform.python_version()}, NumPy {np.__version__})")
    print(f"backends built:     {', '.join(backends.built())}")
    print(f"backends available: {', '.join(backends.available())}")
    print(f"default backend:    {backends.default()}")
    threads = "?"
    if "cpp" in backends.built():
        from fastrnn.backends import _core
        threads = _core.max_threads()
    print(f"threads:            {threads} (OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')})")
    print(f"CPU:                {platform.processor() or platform.machine()}; "
          f"features: {', '.join(_cpu_flags()) or 'baseline'}")
    extras = []
    for mod in ("pandas", "joblib", "dask", "matplotlib", "torch", "numba"):
        try:
            m = __import__(mod)
            extras.append(f"{mod} {getattr(m, '__version__', '?')}")
        except ImportError:
            pass
    print(f"optional packages:  {', '.join(extras) or 'none'}")
    return 0


# -- demo and bench ------------------------------------------------------------------------
def cmd_demo(args):
    from fastrnn.benchmarking import CELLS, STANDARD_SHAPES, make_problem, median_time, runner

    backend = args.backend or backends.default()
    print(f"fastrnn {fastrnn.__version__}: backend {backend!r} vs the NumPy reference, float32")
    print(f"{'shape':<13} {'cell':<6} {'work':<8} {backend + ' ms':>10} {'numpy ms':>10} "
          f"{'speed-up':>9} {'max rel diff':>13}")
    worst = 0.0
    for shape in args.shapes:
        B, T, I, H, work = STANDARD_SHAPES[shape]
        for cell in CELLS:
            problem = make_problem(cell, B, T, I, H)
            fast, slow = runner(cell, backend, *problem, work), runner(cell, "numpy", *problem, work)
            a, r = fast(), slow()
            pairs = [(a, r)] if work == "forward" else list(zip(a, r))
            diff = max(float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1.0)) for x, y in pairs)
            worst = max(worst, diff)
            t_fast = median_time(fast, min_seconds=0.1)
            t_slow = median_time(slow, min_repeats=2, min_seconds=0.1, max_repeats=5)
            print(f"{shape:<13} {cell:<6} {work:<8} {t_fast * 1e3:>10.3f} {t_slow * 1e3:>10.3f} "
                  f"{t_slow / t_fast:>8.1f}x {diff:>13.1e}", flush=True)
    ok = worst < 1e-4
    print(f"agreement with the reference: {'OK' if ok else 'FAILED'} (worst {worst:.1e}, float32 tolerance 1e-4)")
    return 0 if ok else 1


def cmd_bench(args):
    _set_threads(args.threads, torch_too=True)
    from fastrnn.benchmarking import CELLS, STANDARD_SHAPES, make_problem, median_time, runner
    from fastrnn.benchmarking import torch_runner

    avail = backends.available()
    names = args.backends or [b for b in avail if b != "numpy"]
    for b in names:
        if b not in avail:
            raise CLIError(f"backend {b!r} is not available here; available: {', '.join(avail)}")
    torch = None
    if not args.no_torch:
        try:
            import torch
        except ImportError:
            torch = None
    threads = os.environ.get("OMP_NUM_THREADS", "all")
    print(f"fastrnn {fastrnn.__version__} bench: float32, median wall time in ms "
          f"(threads: {threads}); ratio = reference time / backend time"
          + ("" if torch is not None else "; PyTorch not installed"))
    cols = ["numpy"] + names + (["torch"] if torch is not None else [])
    head = f"{'shape':<13} {'cell':<6} {'work':<8}" + "".join(f"{c + ' ms':>11}" for c in cols)
    head += "".join(f"{'np/' + b:>10}" for b in names)
    if torch is not None:
        head += "".join(f"{'torch/' + b:>12}" for b in names)
    head += f"{'max diff':>10}"
    print(head)
    worst = 0.0
    cells = args.cells or list(CELLS)
    for shape in args.shapes:
        B, T, I, H, work = STANDARD_SHAPES[shape]
        for cell in cells:
            problem = make_problem(cell, B, T, I, H)
            ref = runner(cell, "numpy", *problem, work)
            r = ref()
            times = {"numpy": median_time(ref, min_repeats=2, min_seconds=0.05, max_repeats=5)}
            row = 0.0
            for b in names:
                fn = runner(cell, b, *problem, work)
                a = fn()
                pairs = [(a, r)] if work == "forward" else list(zip(a, r))
                row = max(row, max(float(np.max(np.abs(x - y)) / max(np.max(np.abs(y)), 1.0))
                                   for x, y in pairs))
                times[b] = median_time(fn, min_seconds=0.1)
            worst = max(worst, row)
            if torch is not None:
                times["torch"] = median_time(torch_runner(cell, *problem, work), min_seconds=0.1)
            line = f"{shape:<13} {cell:<6} {work:<8}" + "".join(f"{times[c] * 1e3:>11.3f}" for c in cols)
            line += "".join(f"{times['numpy'] / times[b]:>9.1f}x" for b in names)
            if torch is not None:
                line += "".join(f"{times['torch'] / times[b]:>11.1f}x" for b in names)
            print(line + f"{row:>10.1e}", flush=True)
    ok = worst < 1e-4
    print(f"agreement with the reference: {'OK' if ok else 'FAILED'} (worst {worst:.1e}, "
          f"float32 tolerance 1e-4)")
    return 0 if ok else 1


# -- CSV input -----------------------------------------------------------------------------
_TIME_NAMES = {"date", "time", "year", "month", "day", "week", "quarter", "period",
               "timestamp", "datetime", "ds", "index", "t"}
_MISSING = {"", "na", "nan", "n/a", "null", "none", "-", "?"}


def _is_number(s):
    try:
        float(s)
        return True
    except ValueError:
        return False


def read_series_csv(path, column=None, time_column=None):
    """(values float64, time labels (list of str) or None, column name, time column name or
    None) of one column of a CSV file. Raises CLIError with a one-line message naming the
    file, line and column for anything wrong."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            text = f.read()
    except FileNotFoundError:
        raise CLIError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise CLIError(f"{path}: is a directory, not a CSV file") from None
    except UnicodeDecodeError:
        raise CLIError(f"{path}: not a text (UTF-8) CSV file") from None
    except OSError as exc:
        raise CLIError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
        delim = dialect.delimiter
    except csv.Error:
        delim = ","
    try:
        rows = [(i, r) for i, r in enumerate(csv.reader(text.splitlines(), delimiter=delim), 1)
                if r and any(c.strip() for c in r)]
    except csv.Error as exc:
        raise CLIError(f"{path}: not a readable CSV file ({exc})") from None
    if not rows:
        raise CLIError(f"{path}: the file is empty")
    first = [c.strip() for c in rows[0][1]]
    if all(_is_number(c) for c in first):
        header = [f"column {j + 1}" for j in range(len(first))]
        body = rows
    else:
        header = first
        body = rows[1:]
    lower = [h.lower() for h in header]

    def find(name, what):
        if name in header:
            return header.index(name)
        if name.lower() in lower:
            return lower.index(name.lower())
        if name.isdigit() and 1 <= int(name) <= len(header):
            return int(name) - 1
        raise CLIError(f"{path}: no {what} {name!r}; columns: {', '.join(header)}")

    tcol = None
    if time_column is not None:
        tcol = find(time_column, "time column")
    elif len(header) > 1 and (lower[0] in _TIME_NAMES or
                              (body and len(body[0][1]) > 0 and not _is_number(body[0][1][0]))):
        tcol = 0
    if column is not None:
        vcol = find(column, "column")
    else:
        others = [j for j in range(len(header)) if j != tcol]
        if not others:
            raise CLIError(f"{path}: no value column (only the time column {header[tcol]!r})")
        vcol = others[0]
    name = header[vcol]
    if not body:
        raise CLIError(f"{path}: column {name!r} has no values (only a header line)")
    values, labels = [], []
    need = max(vcol, tcol if tcol is not None else 0) + 1
    for line, r in body:
        if len(r) < need:
            raise CLIError(f"{path}, line {line}: {len(r)} field(s), expected at least {need} "
                           f"(column {name!r} is field {vcol + 1})")
        cell = r[vcol].strip()
        if cell.lower() in _MISSING:
            raise CLIError(f"{path}, line {line}, column {name!r}: missing value "
                           f"({cell!r}); fill or drop missing values first")
        try:
            v = float(cell)
        except ValueError:
            raise CLIError(f"{path}, line {line}, column {name!r}: {cell!r} is not a number") from None
        if not math.isfinite(v):
            raise CLIError(f"{path}, line {line}, column {name!r}: {cell!r} is not a finite "
                           f"number (NaN or inf); fill or drop missing values first")
        values.append(v)
        if tcol is not None:
            labels.append(r[tcol].strip())
    return (np.array(values, np.float64), labels if tcol is not None else None, name,
            header[tcol] if tcol is not None else None)


def _parse_time(labels):
    """A NumPy array of the time labels (int64 or datetime64) or None."""
    if labels is None:
        return None
    try:
        if all(l.lstrip("-").isdigit() for l in labels):
            return np.array([int(l) for l in labels], np.int64)
    except ValueError:
        pass
    try:
        return np.array([np.datetime64(l) for l in labels])
    except (ValueError, TypeError):
        return None


def _label(t):
    if isinstance(t, np.datetime64):
        return str(t)
    return str(t)


# -- forecast ------------------------------------------------------------------------------
def _fmt(v, width, digits=1):
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return f"{'-':>{width}}"
    if isinstance(v, (int, np.integer)):
        return f"{v:>{width}d}"
    av = abs(v)
    if av != 0 and (av >= 1e7 or av < 10 ** -(digits + 1)):
        return f"{v:>{width}.3g}"
    return f"{v:>{width}.{digits}f}"


def _fmt_s(v):
    return f"{'-':>7}" if not math.isfinite(v) else f"{v:>7.2f}"


def format_table(sel, width=30):
    """The ranked table of a Selection as text."""
    h = (f"{'rank':>4}  {'model':<{width}} {'params':>7} {'log L':>10} {'AIC':>10} {'BIC':>10} "
         f"{'MSE':>11} {'fit s':>7}")
    lines = [h, "-" * len(h)]
    for r in sel.records:
        name = r["model"] if len(r["model"]) <= width else r["model"][:width - 1] + "~"
        lines.append(f"{r['rank']:>4}  {name:<{width}} "
                     f"{_fmt(r['params'], 7) if r['params'] is not None else _fmt(None, 7)} "
                     f"{_fmt(r['loglik'], 10)} {_fmt(r['aic'], 10)} {_fmt(r['bic'], 10)} "
                     f"{_fmt(r['mse'], 11, 2)} {_fmt_s(r['fit_s'])}"
                     + (f"  ({r['error']})" if r["error"] else ""))
    return "\n".join(lines)


def _print_adf(sel, auto, alpha):
    print("ADF test on the training part (constant, lags by AIC):")
    for t in sel.adf:
        crit = t["critical_values"]["5%"]
        verdict = "stationary" if t["pvalue"] <= alpha else "unit root not rejected"
        print(f"  d={t['d']}: statistic {t['statistic']:.3f}, p-value {t['pvalue']:.4f} "
              f"(5% critical value {crit:.3f}), {t['lags']} lags, {t['nobs']} obs -> {verdict}"
              + (f" at {alpha:g}" if auto else ""))
    d = sel.diff
    how = f"by the ADF test at level {alpha:g}" if auto else "as given (--diff)"
    what = {0: "none (the levels are modelled)", 1: "first differences",
            2: "second differences"}.get(d, f"order {d}")
    print(f"differencing: {what}, {how}")


def _plot(path, sel, x, tvals, fc, fc_t, name, best):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    n, m = len(x), sel.n_train
    t = tvals if tvals is not None else np.arange(n)
    ft = fc_t if fc_t is not None else np.arange(n, n + len(fc))
    fig, ax = plt.subplots(figsize=(10, 4.5), dpi=100)
    ax.plot(t, x, color="0.25", lw=1.0, label="history")
    ax.axvline(t[m], color="0.6", ls=":", lw=1)
    ax.plot(t[m:], sel.test_predictions[best], color="tab:blue", lw=1.3,
            label=f"{best}: one-step predictions (test)")
    base = next((r["model"] for r in sel.records if r["kind"] == "baseline"
                 and r["model"] in sel.test_predictions and r["model"] != best), None)
    if base is not None:
        ax.plot(t[m:], sel.test_predictions[base], color="tab:green", lw=1, ls="--",
                label=f"{base} (best baseline)")
    ax.plot(np.concatenate([t[-1:], ft]), np.concatenate([x[-1:], fc]), color="tab:red",
            lw=1.8, label=f"forecast, {len(fc)} steps")
    ax.set_title(f"{name}: {best} chosen by {sel.criterion.upper()}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def cmd_forecast(args):
    t_start = time.perf_counter()
    err = sys.stderr
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            raise CLIError("--plot needs matplotlib, which is not installed: pip install "
                           "'fastrnn[plot]' (or matplotlib)") from None
        if not args.plot.lower().endswith(".png"):
            raise CLIError(f"--plot: expected a .png file name, got {args.plot!r}")
    if args.horizon < 1:
        raise CLIError(f"--horizon must be >= 1, got {args.horizon}")
    if args.jobs is not None and args.jobs == 0:
        raise CLIError("--jobs must not be 0 (use 1, N, or -1 for all cores)")
    threads = args.threads
    if threads is None and "OMP_NUM_THREADS" not in os.environ:
        threads = 1   # forecasting sizes: one thread per fit is fastest (and parallel jobs)
    _set_threads(threads)
    if args.backend is not None and args.backend not in backends.available():
        raise CLIError(f"backend {args.backend!r} is not available here; available: "
                       f"{', '.join(backends.available())}")
    from fastrnn.forecasting import selection
    from fastrnn.data import NAMES as DATA
    from fastrnn.data import path as data_path
    from fastrnn.forecasting.calendar import future_index

    if args.csv is None:
        path = data_path("sunspots")
        source = f"shipped series 'sunspots' ({DATA['sunspots'][1]})"
    else:
        path = args.csv
        source = path
    x, labels, col, tcol = read_series_csv(path, args.column, args.time_column)
    tvals = _parse_time(labels)
    n = len(x)
    if n < 3:
        raise CLIError(f"{path}: column {col!r} has {n} value(s); too few for a forecast")
    if np.ptp(x) == 0:
        raise CLIError(f"{path}: column {col!r} is constant ({x[0]:g}); nothing to forecast")
    test = args.test if args.test < 1 else int(args.test)
    n_test = max(int(round(test * n)) if isinstance(test, float) else int(test), 1)
    m = n - n_test
    diff = None if args.diff == "auto" else int(args.diff)
    max_lag = max(args.lags)
    need_train = max(max_lag + (diff if diff is not None else 2)
                     + (args.horizon if args.direct else 1) + 7,
                     max_lag + 12, 20)
    if m < need_train:
        raise CLIError(f"{path}: column {col!r} has {n} values, {m} for training after a test "
                       f"part of {n_test}: too few for lags up to {max_lag} (need at least "
                       f"{need_train + n_test} values; try smaller --lags)")

    def lab(i):
        return labels[i] if labels is not None else str(i)

    print(f"fastrnn {fastrnn.__version__} forecast: {source}")
    print(f"series: column {col!r}" + (f" (time: {tcol!r})" if tcol else "") +
          f", {n} values, {lab(0)} .. {lab(n - 1)}")
    print(f"split:  training {lab(0)} .. {lab(m - 1)} ({m} values), test {lab(m)} .. "
          f"{lab(n - 1)} ({n_test} values)")
    cands = selection.grid(cells=args.cells, units=args.units, lags=args.lags,
                           layers=args.layers, epochs=args.epochs,
                           learning_rate=args.learning_rate, batch_size=args.batch_size,
                           horizon=args.horizon if args.direct else 1, patience=args.patience)
    backend = args.backend or backends.default()
    jobs = args.jobs
    if jobs not in (None, 1):
        try:
            import joblib  # noqa: F401
        except ImportError:
            print("fastrnn: note: joblib is not installed (pip install joblib): --jobs ignored, "
                  "the candidates run one after another", file=err)
            jobs = None
    print(f"fitting {len(cands)} RNN candidates (cells {' '.join(args.cells)}; units "
          f"{' '.join(map(str, args.units))}; lags {' '.join(map(str, args.lags))}; layers "
          f"{' '.join(map(str, args.layers))}; {' '.join(map(str, args.epochs))} epochs, Adam lr "
          f"{' '.join(f'{v:g}' for v in args.learning_rate)}, batch "
          f"{' '.join(map(str, args.batch_size))}"
          + (f", direct {args.horizon}-step outputs" if args.direct else "")
          + f"; backend {backend}) and the baselines on {jobs or 1} job(s), seed {args.seed}",
          flush=True)

    def progress(done, total, rec):
        if not args.quiet:
            what = f"MSE {rec['mse']:.4g}" if math.isfinite(rec["mse"]) else (rec["error"] or "failed")
            fit = rec["fit_s"] if math.isfinite(rec["fit_s"]) else 0.0
            print(f"  [{done:>{len(str(total))}}/{total}] {rec['model']:<30} {what:<16} "
                  f"fit {fit:.2f} s  ({time.perf_counter() - t_start:.0f} s)", file=err,
                  flush=True)

    try:
        sel = selection.select(x, cands, criterion=args.criterion, test=n_test, diff=diff,
                               alpha=args.alpha, season=args.season,
                               refit_every=args.refit_every, n_jobs=jobs, seed=args.seed,
                               backend=args.backend, progress=progress)
    except (ValueError, RuntimeError) as exc:
        raise CLIError(f"{path}: column {col!r}: {exc}") from None
    print()
    _print_adf(sel, diff is None, args.alpha)
    if sel.period:
        how = "given" if args.season else "detected from the autocorrelation"
        print(f"season: period {sel.period} ({how}) for the seasonal naive baseline")
    else:
        print("season: none detected (no seasonal naive baseline; --season N sets one)")
    crit = {"mse": "one-step MSE on the test part", "aic": "AIC", "bic": "BIC"}[args.criterion]
    print()
    how = ""
    if args.criterion == "mse":
        how = (" (forecasts from the true past" + (f", refitted every {args.refit_every} steps"
                                                   if args.refit_every else "") + ")")
    print(f"{len(sel.records)} models ranked by {crit}{how}.")
    print(f"AIC = -2 ln L + 2k, BIC = -2 ln L + k ln n: Gaussian ln L of the in-sample one-step "
          f"residuals\n(n = {sel.n_train - sel.t0}, from {lab(sel.t0)}), k = parameters. "
          f"MSE on the {n_test} test values. All in the series' units.")
    print(format_table(sel))
    best = sel.best_record
    bases = [r for r in sel.records if r["kind"] == "baseline" and math.isfinite(r[args.criterion])]
    print()
    line = f"chosen: {best['model']} ({crit} {best[args.criterion]:.4g}"
    if bases and bases[0]["model"] != best["model"]:
        b = bases[0]
        line += f"; best baseline {b['model']}: {b[args.criterion]:.4g}"
        if args.criterion == "mse" and b["mse"] > 0:
            line += f", {100 * (1 - best['mse'] / b['mse']):.0f}% lower MSE" if best["mse"] < b["mse"] else ""
    print(line + ")")
    for c in ("mse", "aic", "bic"):
        if c != args.criterion:
            ok = [r for r in sel.records if math.isfinite(r[c])]
            if ok:
                r = min(ok, key=lambda r: r[c])
                print(f"  lowest {c.upper()}: {r['model']} ({r[c]:.4g})")

    fc = sel.forecast(args.horizon, refit=not args.no_refit)
    fc = np.asarray(fc, np.float64)
    fut = future_index(tvals, args.horizon) if tvals is not None else None
    if fut is not None:
        flabels = [_label(v) for v in fut]
    elif labels is not None:
        flabels = [f"+{h}" for h in range(1, args.horizon + 1)]
    else:
        flabels = [str(n + h) for h in range(args.horizon)]
    model = sel.models[best["model"]]
    kind = ("direct" if getattr(model, "horizon", 1) > 1 else "recursive")
    refit = "refitted on all " + str(n) + " values" if not args.no_refit else "fitted on the training part"
    print(f"forecast: {args.horizon} steps ({kind}), {refit}")
    w = max(len(tcol or "step"), max(len(s) for s in flabels))
    print(f"  {(tcol or 'step'):>{w}}  {col:>12}")
    for lbl, v in zip(flabels, fc):
        print(f"  {lbl:>{w}}  {_fmt(float(v), 12, 2)}")
    if args.plot:
        _plot(args.plot, sel, x, tvals if fut is not None else None, fc,
              fut if fut is not None else None, col, best["model"])
        print(f"plot: {args.plot}")
    print(f"done in {time.perf_counter() - t_start:.1f} s")
    return 0


def _positive_ints(s):
    v = int(s)
    if v < 1:
        raise argparse.ArgumentTypeError(f"expected a positive int, got {s}")
    return v


def _test_size(s):
    v = float(s)
    if not (0 < v < 1 or (v >= 1 and v == int(v))):
        raise argparse.ArgumentTypeError(f"expected a fraction in (0, 1) or a count, got {s}")
    return v


def build_parser():
    parser = argparse.ArgumentParser(prog="fastrnn", description=__doc__.split("\n\n")[0])
    parser.add_argument("--version", action="version", version=f"fastrnn {fastrnn.__version__}")
    sub = parser.add_subparsers(dest="command", required=True)

    fc = sub.add_parser("forecast", help="model selection and forecast for one series",
                        description="Choose among RNN candidates and baselines by AIC, BIC or "
                        "one-step MSE, and forecast. Without CSV: the shipped yearly sunspot "
                        "numbers 1700-2008 (NGDC/NOAA, public domain).")
    fc.add_argument("csv", nargs="?", help="a CSV file with a header (default: the shipped "
                    "sunspots series)")
    fc.add_argument("--column", help="the value column (default: the first that is not the "
                    "time column)")
    fc.add_argument("--time-column", help="the time column (default: the first column when it "
                    "is named like date/year/time or holds non-numbers)")
    fc.add_argument("--horizon", type=int, default=10, help="steps to forecast (default 10)")
    fc.add_argument("--direct", action="store_true", help="train the RNNs with --horizon "
                    "outputs (direct multi-step) instead of recursive one-step models")
    fc.add_argument("--cells", nargs="+", default=["elman", "lstm", "gru"],
                    choices=["elman", "lstm", "gru"])
    fc.add_argument("--units", nargs="+", type=_positive_ints, default=[8, 16])
    fc.add_argument("--lags", nargs="+", type=_positive_ints, default=[6, 12, 24])
    fc.add_argument("--layers", nargs="+", type=_positive_ints, default=[1])
    fc.add_argument("--epochs", nargs="+", type=_positive_ints, default=[100])
    fc.add_argument("--learning-rate", nargs="+", type=float, default=[0.01])
    fc.add_argument("--batch-size", nargs="+", type=_positive_ints, default=[32])
    fc.add_argument("--patience", type=_positive_ints, default=None,
                    help="early stopping on the last 15%% of the training windows")
    fc.add_argument("--criterion", choices=["mse", "aic", "bic"], default="mse")
    fc.add_argument("--test", type=_test_size, default=0.2,
                    help="test part: a fraction or a count of the last values (default 0.2)")
    fc.add_argument("--diff", choices=["auto", "0", "1", "2"], default="auto",
                    help="order of differencing (default: by the ADF test)")
    fc.add_argument("--alpha", type=float, default=0.05, help="ADF test level (default 0.05)")
    fc.add_argument("--season", type=_positive_ints, default=None,
                    help="seasonal-naive period (default: detected)")
    fc.add_argument("--refit-every", type=_positive_ints, default=None,
                    help="rolling-origin refit every R test steps for the MSE")
    fc.add_argument("--no-refit", action="store_true", help="forecast from the model fitted "
                    "on the training part (default: refit it on the whole series)")
    fc.add_argument("--backend", choices=backends.NAMES, default=None)
    fc.add_argument("--jobs", type=int, default=None, help="parallel jobs (joblib; -1: all "
                    "cores)")
    fc.add_argument("--threads", type=int, default=None, help="threads per fit (default 1 "
                    "unless OMP_NUM_THREADS is set)")
    fc.add_argument("--seed", type=int, default=0)
    fc.add_argument("--plot", metavar="FILE.png", help="write a PNG of history, test-period "
                    "predictions and forecast (needs matplotlib)")
    fc.add_argument("--quiet", action="store_true", help="no progress lines")
    fc.set_defaults(func=cmd_forecast)

    sub.add_parser("info", help="version, backends, threads, CPU features").set_defaults(func=cmd_info)

    from fastrnn.benchmarking import CELLS, STANDARD_SHAPES
    bench = sub.add_parser("bench", help="time the backends against the reference and PyTorch")
    bench.add_argument("--backends", nargs="+", choices=backends.NAMES, default=None,
                       help="default: every available backend but numpy")
    bench.add_argument("--shapes", nargs="+", default=["infer-b1", "train-small"],
                       choices=list(STANDARD_SHAPES))
    bench.add_argument("--cells", nargs="+", choices=list(CELLS), default=None)
    bench.add_argument("--threads", type=int, default=None, help="OMP_NUM_THREADS and torch "
                       "threads (default: as set)")
    bench.add_argument("--no-torch", action="store_true", help="skip PyTorch")
    bench.set_defaults(func=cmd_bench)

    demo = sub.add_parser("demo", help="time the compiled backend against the reference")
    demo.add_argument("--backend", choices=backends.NAMES, default=None)
    demo.add_argument("--shapes", nargs="+", default=["infer-b1", "train-small", "train-medium"],
                      choices=["infer-b1", "train-small", "train-medium", "train-large"])
    demo.set_defaults(func=cmd_demo)
    return parser


def main(argv=None):
    args = build_parser().parse_args(argv)
    try:
        return args.func(args)
    except CLIError as exc:
        print(f"fastrnn: error: {exc}", file=sys.stderr)
        return 2
    except (ValueError, RuntimeError) as exc:
        print(f"fastrnn: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("fastrnn: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
