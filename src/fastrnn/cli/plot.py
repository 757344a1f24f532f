"""The --plot chart of `fastrnn forecast`: history, the test-period predictions of the chosen
model and of the best baseline, and the forecast with a shaded band per interval level
(matplotlib, written as a PNG)."""

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
