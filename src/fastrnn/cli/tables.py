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


def forecast_lines(labels, values, time_name, value_name):
    """The forecast as a two-column table: time label, value."""
    head = time_name or "step"
    w = max(len(head), max(len(s) for s in labels))
    return [f"  {head:>{w}}  {value_name:>12}"] + [f"  {lbl:>{w}}  {fmt(float(v), 12, 2)}"
                                                   for lbl, v in zip(labels, values)]
