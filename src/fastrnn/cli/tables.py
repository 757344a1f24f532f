"""The text of the forecast report: numbers, the ranked table, the ADF lines, the forecast."""

from __future__ import annotations

import math

import numpy as np

CRITERION_TEXT = {"mse": "one-step MSE on the test part", "aic": "AIC", "bic": "BIC"}


def fmt(v, width, digits=1):
    """A number right-aligned in `width`: '-' for None or non-finite, %g for extreme sizes."""
    if v is None or (isinstance(v, float) and not math.isfinite(v)):
        return f"{'-':>{width}}"
    if isinstance(v, (int, np.integer)):
        return f"{v:>{width}d}"
    av = abs(v)
    if av != 0 and (av >= 1e7 or av < 10 ** -(digits + 1)):
        return f"{v:>{width}.3g}"
    return f"{v:>{width}.{digits}f}"


def _fmt_seconds(v):
    return f"{'-':>7}" if not math.isfinite(v) else f"{v:>7.2f}"


def format_table(sel, width=30):
    """The ranked table of a Selection as text."""
    h = (f"{'rank':>4}  {'model':<{width}} {'params':>7} {'log L':>10} {'AIC':>10} {'BIC':>10} "
         f"{'MSE':>11} {'fit s':>7}")
    lines = [h, "-" * len(h)]
    for r in sel.records:
        name = r["model"] if len(r["model"]) <= width else r["model"][:width - 1] + "~"
        lines.append(f"{r['rank']:>4}  {name:<{width}} {fmt(r['params'], 7)} "
                     f"{fmt(r['loglik'], 10)} {fmt(r['aic'], 10)} {fmt(r['bic'], 10)} "
                     f"{fmt(r['mse'], 11, 2)} {_fmt_seconds(r['fit_s'])}"
                     + (f"  ({r['error']})" if r["error"] else ""))
    return "\n".join(lines)


def adf_lines(sel, auto, alpha):
    """The ADF results per differencing order tried, and the differencing chosen."""
    lines = ["ADF test on the training part (constant, lags by AIC):"]
    for t in sel.adf:
        crit = t["critical_values"]["5%"]
        verdict = "stationary" if t["pvalue"] <= alpha else "unit root not rejected"
        lines.append(f"  d={t['d']}: statistic {t['statistic']:.3f}, p-value {t['pvalue']:.4f} "
                     f"(5% critical value {crit:.3f}), {t['lags']} lags, {t['nobs']} obs -> "
                     f"{verdict}" + (f" at {alpha:g}" if auto else ""))
    how = f"by the ADF test at level {alpha:g}" if auto else "as given (--diff)"
    what = {0: "none (the levels are modelled)", 1: "first differences",
            2: "second differences"}.get(sel.diff, f"order {sel.diff}")
    lines.append(f"differencing: {what}, {how}")
    return lines


def choice_lines(sel, criterion):
    """The chosen model against the best baseline, and the best by the other criteria."""
    best = sel.best_record
    bases = [r for r in sel.records if r["kind"] == "baseline" and math.isfinite(r[criterion])]
    line = f"chosen: {best['model']} ({CRITERION_TEXT[criterion]} {best[criterion]:.4g}"
    if bases and bases[0]["model"] != best["model"]:
        b = bases[0]
        line += f"; best baseline {b['model']}: {b[criterion]:.4g}"
        if criterion == "mse" and b["mse"] > 0 and best["mse"] < b["mse"]:
            line += f", {100 * (1 - best['mse'] / b['mse']):.0f}% lower MSE"
    lines = [line + ")"]
    for c in CRITERION_TEXT:
        if c != criterion:
            ok = [r for r in sel.records if math.isfinite(r[c])]
            if ok:
                r = min(ok, key=lambda r: r[c])
                lines.append(f"  lowest {c.upper()}: {r['model']} ({r[c]:.4g})")
    return lines


def interval_text(method, levels):
    """One line saying how the intervals at `levels` were made (`method`: "analytic" or a
    ``ConformalIntervals``)."""
    what = ", ".join(f"{lv:g}%" for lv in levels)
    if method == "analytic":
        return (f"intervals: {what}, analytic (Gaussian, the model's h-step error sd from its "
                f"fitted residuals)")
    fits = "refitted on each window" if method.refit else "fitted once before the first window"
    return (f"intervals: {what}, conformal (absolute errors per step on {method.n_windows} "
            f"rolling origins {method.step} apart, model {fits})")


def forecast_lines(labels, values, time_name, value_name, bounds=None):
    """The forecast as a table: time label, value, then the columns of `bounds` ({"lo-80":
    (h,), "hi-80": (h,), ...}, in their order)."""
    head = time_name or "step"
    bounds = bounds or {}
    w = max(len(head), max(len(s) for s in labels))
    extra = "".join(f"  {k:>10}" for k in bounds)
    lines = [f"  {head:>{w}}  {value_name:>12}" + extra]
    for i, (lbl, v) in enumerate(zip(labels, values)):
        lines.append(f"  {lbl:>{w}}  {fmt(float(v), 12, 2)}"
                     + "".join(f"  {fmt(float(b[i]), 10, 2)}" for b in bounds.values()))
    return lines


def write_forecast_csv(path, time_name, labels, columns):
    """Write the forecast as CSV: `time_name` (the labels), then `columns` ({"forecast": (h,),
    "lo-80": (h,), ...}) at full precision."""
    import csv

    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow([time_name, *columns])
        for i, lbl in enumerate(labels):
            out.writerow([lbl, *(repr(float(v[i])) for v in columns.values())])


def _cell(v):
    """A value of the long format as CSV text: numbers at full precision, labels as they are."""
    if isinstance(v, (float, np.floating)):
        return repr(float(v))
    return str(v)


def write_long_csv(path, columns):
    """Write the long format {column: values (equal lengths)} as CSV, columns in order."""
    import csv

    names = list(columns)
    with open(path, "w", newline="") as fh:
        out = csv.writer(fh)
        out.writerow(names)
        for row in zip(*(columns[c] for c in names)):
            out.writerow([_cell(v) for v in row])


def long_lines(columns, rows):
    """The first `rows` rows of the long format {column: values} as an aligned table."""
    names = list(columns)
    cells = [[v if isinstance(v, str) else
              (fmt(float(v), 0, 2).strip() if isinstance(v, (float, np.floating)) else str(v))
              for v in columns[c][:rows]] for c in names]
    widths = [max([len(c)] + [len(v) for v in col]) for c, col in zip(names, cells)]
    lines = ["  " + "  ".join(f"{c:>{w}}" for c, w in zip(names, widths))]
    for i in range(len(cells[0]) if cells else 0):
        lines.append("  " + "  ".join(f"{col[i]:>{w}}" for col, w in zip(cells, widths)))
    return lines
