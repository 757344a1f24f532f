"""The --plot charts of `fastrnn forecast` (matplotlib, written as a PNG): for one series,
history, the test-period predictions of the chosen model and of the best baseline, and the
forecast with a shaded band per interval level; for a collection (--id-column), a grid of a
few series, each with its history, forecast and bands."""

from __future__ import annotations

import numpy as np


def have_matplotlib():
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        return False
    return True


def plot_forecast(path, sel, x, tvals, fc, fc_t, name, best, bands=None):
    """Write the chart to `path`; `tvals` / `fc_t` are the time values of the history and of
    the forecast (None: positions); `bands` {level: (lo, hi)} are shaded, the widest
    lightest, each in the legend."""
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
    for i, (lv, (lo, hi)) in enumerate(sorted((bands or {}).items(), reverse=True)):
        ax.fill_between(ft, lo, hi, color="tab:red", alpha=0.12 + 0.12 * i, lw=0,
                        label=f"{lv:g}% prediction interval")
    ax.plot(np.concatenate([t[-1:], ft]), np.concatenate([x[-1:], fc]), color="tab:red",
            lw=1.8, label=f"forecast, {len(fc)} steps")
    ax.set_title(f"{name}: {best} chosen by {sel.criterion.upper()}")
    ax.legend(loc="upper left", fontsize=8)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


GRID_SERIES = 6       # series drawn by plot_collection
GRID_HISTORY = 60     # last values of each series' history drawn


def plot_collection(path, panel, columns, report, max_series=GRID_SERIES):
    """Write a grid of the first `max_series` series of `panel` to `path`: the last values of
    the history, the forecast of the long format `columns` ({column: values}: the panel's id
    and time columns, ``forecast``, ``lo-L``, ``hi-L``) and a band per level, on the time
    axis (ticks of the series' calendar, labelled as in the file) and in the value column's
    units."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = panel.series[:max_series]
    h = report.windows["h"]
    ncol = 2 if len(series) > 1 else 1
    nrow = -(-len(series) // ncol)
    fig, axes = plt.subplots(nrow, ncol, figsize=(6 * ncol, 2.8 * nrow), dpi=100,
                             squeeze=False)
    fcast = np.asarray(columns["forecast"], np.float64)
    for i, (ax, s) in enumerate(zip(axes.flat, series)):
        rows = slice(i * h, (i + 1) * h)          # to_long writes the series in panel order
        hist_t, hist_y = s.ticks[-GRID_HISTORY:], s.y[-GRID_HISTORY:]
        fut_t = panel.future_ticks(s, h)
        ax.plot(hist_t, hist_y, color="0.25", lw=1.0, label="history")
        for k, lv in enumerate(sorted(report.levels, reverse=True)):
            lo = np.asarray(columns[f"lo-{lv:g}"][rows], np.float64)
            hi = np.asarray(columns[f"hi-{lv:g}"][rows], np.float64)
            ax.fill_between(fut_t, lo, hi, color="tab:red", alpha=0.12 + 0.12 * k, lw=0,
                            label=f"{lv:g}% interval")
        ax.plot(np.concatenate([hist_t[-1:], fut_t]),
                np.concatenate([hist_y[-1:], fcast[rows]]), color="tab:red", lw=1.6,
                label="forecast")
        every = np.concatenate([hist_t, fut_t])
        ticks = every[np.linspace(0, every.shape[0] - 1, 4).round().astype(np.int64)]
        ax.set_xticks(ticks)
        ax.set_xticklabels([str(v) for v in panel.times.write(ticks)], fontsize=7)
        uid = s.uid if isinstance(s.uid, tuple) else (s.uid,)
        ax.set_title(" / ".join(map(str, uid)), fontsize=9)
        ax.set_xlabel(panel.time_col, fontsize=8)
        ax.set_ylabel(panel.target_col, fontsize=8)
        if i == 0:
            ax.legend(loc="upper left", fontsize=7)
    for ax in list(axes.flat)[len(series):]:
        ax.set_visible(False)
    fig.suptitle(f"{report.chosen}: first {len(series)} of {len(panel)} series", fontsize=10)
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)
