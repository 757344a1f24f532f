"""Prediction intervals: the levels, Gaussian bounds from a standard deviation per step, and
model-agnostic conformal intervals from rolling-origin windows.

    from fastrnn.forecasting import AR, RNNForecaster, ConformalIntervals
    AR(p=2).fit(y).predict(12, level=[80, 95])          # analytic (psi-weights)
    RNNForecaster(lags=12).fit(y).predict(12, level=[80, 95])   # conformal, the default
    AR(p=2).set_intervals(ConformalIntervals(n_windows=30)).fit(y).predict(12, level=95)

Levels are percentages in (0, 100): ``level=80`` or ``level=[80, 95]``; the bounds are
``Prediction.lo[L]`` / ``.hi[L]`` (``lo-80``, ``hi-80`` in the long format), in the series'
own units.

Gaussian (analytic) bounds: mean_j +- z sd_j, z the (1/2 + L/200) standard normal quantile,
sd_j the standard deviation of the j-step forecast error of the model
(``Forecaster.forecast_sd``; the baselines' formulas are in ``baselines``).

Conformal bounds (split conformal per horizon step, as statsforecast's
``ConformalIntervals(h, n_windows)``): the model is refitted (a clone, same settings and
seed) on W rolling-origin training parts of the series, window k = 1..W training on the
first n - h - step (W - k) values (the last window ends at the end of the series, as the
windows of ``fastrnn.forecasting.cv``); each forecasts h steps, and the absolute errors
s_{k,j} = |y_{c_k + j} - f_{k,j}| are the scores of step j. The radius of step j at level L
is the ceil((W + 1)(1 - alpha))-th smallest of s_{1..W,j} (alpha = 1 - L/100: the quantile at
ceil((W+1)(1-alpha))/W, the finite-sample correction that guarantees coverage >= L for
exchangeable errors), and the interval is mean_j +- radius_j. The errors are of forecasts of
the levels (the models undo their scaling and differencing), so the bounds are in the
series' units: bounds on differences are never added up. A level needs
W >= L / (100 - L) windows (4 for 80%, 19 for 95%): fewer raise ValueError.

``refit=False`` fits one clone on the training part of the first window and forecasts from
every window's origin with it (one fit instead of W: the default for the RNN forecasters);
its errors come from a model older than the final one by up to ``step (W - 1)`` values,
which errs on the wide side.
"""

from __future__ import annotations

from math import ceil, floor
from statistics import NormalDist

import numpy as np

from fastrnn import _params

__all__ = ["ConformalIntervals", "check_levels", "conformal_offsets", "conformal_radius",
           "conformal_scores", "gaussian_bounds", "normal_quantile", "window_cutoffs"]

_LEVEL = _params.Real(0, 100, closed="neither")


def check_levels(level):
    """The levels asked for as a sorted tuple of floats without repeats: () for None (or an
    empty list), one number, or a list of numbers, each in (0, 100) (percentages: 80, not
    0.8)."""
    if level is None:
        return ()
    values = [level] if not isinstance(level, (list, tuple, np.ndarray)) else list(level)
    return tuple(sorted({_params.check(v, "level", _LEVEL) for v in values}))


def normal_quantile(p):
    """The standard normal quantile at p in (0, 1)."""
    return NormalDist().inv_cdf(p)


def gaussian_bounds(mean, sd, levels):
    """({L: lo}, {L: hi}) of mean +- z_L sd, z_L the (1/2 + L/200) normal quantile; mean and
    sd (h,)."""
    mean = np.asarray(mean, np.float64)
    sd = np.asarray(sd, np.float64)
    lo, hi = {}, {}
    for lv in levels:
        z = normal_quantile(0.5 + lv / 200.0)
        lo[lv], hi[lv] = mean - z * sd, mean + z * sd
    return lo, hi


def window_cutoffs(n, h, n_windows, step):
    """The training lengths of the windows of a series of n values, oldest first (window k
    trains on the first n - h - step (n_windows - k) values); some may be < 1. The same
    windows as ``fastrnn.forecasting.cv.window_cutoffs`` without a holdout (not imported
    from there: cv sits above the forecasters, which import this module)."""
    return [n - h - step * (n_windows - 1 - k) for k in range(n_windows)]


def conformal_radius(scores, level):
    """(h,) radii at `level` from the scores (W, h): per column the ceil((W + 1)(1 - alpha))-th
    smallest value, alpha = 1 - level/100. ValueError when W is too small for the level."""
    s = np.asarray(scores, np.float64)
    if s.ndim != 2 or s.shape[0] == 0:
        raise ValueError(f"scores must be (windows, h) with at least one window, got shape "
                         f"{s.shape}")
    lv = _params.check(level, "level", _LEVEL)
    w = s.shape[0]
    # rank ceil((W + 1) L / 100); the small tolerance keeps 80% of 19 + 1 at 16, not 17
    k = ceil((w + 1) * lv / 100.0 - 1e-9)
    if k > w:
        need = ceil(lv / (100.0 - lv) - 1e-9)
        raise ValueError(f"conformal intervals at level {lv:g} need at least {need} "
                         f"calibration windows, got {w}: raise n_windows (or lower the level)")
    return np.sort(s, axis=0)[k - 1]


def conformal_offsets(errors, level):
    """((h,) lower, (h,) upper) offsets at `level` from signed errors (N, h) = actual -
    forecast: per column the floor((N + 1) alpha / 2)-th and the ceil((N + 1)(1 - alpha/2))-th
    smallest error, alpha = 1 - level/100, so that each tail misses at most alpha/2 of
    exchangeable errors (the split-conformal rank of each one-sided bound). The interval is
    forecast + lower .. forecast + upper; lower <= 0 <= upper is enforced (an interval that
    leaves out its own forecast helps no one; at usual levels the ranks already straddle 0).
    Unlike ``conformal_radius`` it follows a bias of the errors (forecasts that run low get
    more room above). ValueError when N is too small for the level (N + 1 >= 2 / alpha)."""
    e = np.asarray(errors, np.float64)
    if e.ndim != 2 or e.shape[0] == 0:
        raise ValueError(f"errors must be (N, h) with at least one row, got shape {e.shape}")
    lv = _params.check(level, "level", _LEVEL)
    n = e.shape[0]
    half = (1.0 - lv / 100.0) / 2.0
    k_lo = floor((n + 1) * half + 1e-9)          # the tolerance as in conformal_radius
    k_hi = ceil((n + 1) * (1.0 - half) - 1e-9)
    if k_lo < 1 or k_hi > n:
        need = ceil(1.0 / half - 1e-9) - 1
        raise ValueError(f"two-sided conformal bounds at level {lv:g} need at least {need} "
                         f"errors per step, got {n}: raise n_windows (or lower the level)")
    srt = np.sort(e, axis=0)
    return np.minimum(srt[k_lo - 1], 0.0), np.maximum(srt[k_hi - 1], 0.0)


def _min_train(model):
    """The fewest training values a clone of `model` can be fitted on, as far as it says."""
    need = max(int(getattr(model, "max_history", 1) or 1), 2)
    if hasattr(model, "min_length"):
        need = max(need, int(model.min_length()))
    return need


def _fit_clone(model, train):
    try:
        return model.clone().fit(train)
    except ValueError as exc:
        raise ValueError(f"conformal intervals: the window training on {train.shape[0]} "
                         f"values: {exc}") from None


def conformal_scores(model, y, h, n_windows=20, step=1, refit=True):
    """(W, h) absolute errors |actual - forecast| of `model` (any object with ``clone()``,
    ``fit(y)`` and ``forecast(x, steps)``) on the rolling-origin windows of the 1-D series y
    (module docstring). Windows whose training part is shorter than the model needs are left
    out; ValueError when none is left."""
    y = np.asarray(y, np.float64)
    n = y.shape[0]
    h = _params.positive_int(h, "h")
    need = _min_train(model)
    cuts = [c for c in window_cutoffs(n, h, n_windows, step) if c >= need]
    if not cuts:
        raise ValueError(f"conformal intervals: {n} values leave no room for a window of "
                         f"{need} training values and {h} to score (n_windows={n_windows}, "
                         f"step={step}); the series is too short")
    scores = np.empty((len(cuts), h))
    fitted = None if refit else _fit_clone(model, y[:cuts[0]])
    for i, c in enumerate(cuts):
        m = _fit_clone(model, y[:c]) if refit else fitted
        f = np.asarray(m.forecast(y[:c], h), np.float64)
        scores[i] = np.abs(y[c:c + h] - f)
    if not np.all(np.isfinite(scores)):
        raise FloatingPointError("conformal intervals: a window's forecast is not finite")
    return scores


class ConformalIntervals:
    """How conformal intervals are calibrated (module docstring): ``n_windows`` rolling-origin
    windows (default 20, enough for 95%), origins ``step`` values apart (default 1), the model
    refitted on every window (``refit=True``) or fitted once (``refit=False``).

    Give it to a forecaster with ``model.set_intervals(ConformalIntervals(...))``; it is the
    default for forecasters without analytic intervals."""

    def __init__(self, n_windows=20, step=1, refit=True):
        self.n_windows = _params.positive_int(n_windows, "n_windows")
        self.step = _params.positive_int(step, "step")
        if not isinstance(refit, (bool, np.bool_)):
            raise _params.ParameterError(f"refit must be True or False, got {refit!r}")
        self.refit = bool(refit)

    def key(self):
        return (self.n_windows, self.step, self.refit)

    def scores(self, model, y, h):
        """(W, h) scores of `model` on y (``conformal_scores``)."""
        return conformal_scores(model, y, h, self.n_windows, self.step, self.refit)

    def bounds(self, mean, scores, levels):
        """({L: lo}, {L: hi}): mean +- the radius of each level."""
        mean = np.asarray(mean, np.float64)
        lo, hi = {}, {}
        for lv in levels:
            r = conformal_radius(scores, lv)[:mean.shape[0]]
            lo[lv], hi[lv] = mean - r, mean + r
        return lo, hi

    def __eq__(self, other):
        return isinstance(other, ConformalIntervals) and self.key() == other.key()

    def __hash__(self):
        return hash(self.key())

    def __repr__(self):
        return (f"ConformalIntervals(n_windows={self.n_windows}, step={self.step}, "
                f"refit={self.refit})")
