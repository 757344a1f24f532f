"""Coverage on simulated data: for a Gaussian AR(1) with known parameters, the 80% and 95%
intervals of a fitted AR(1), analytic and conformal, cover about 80% and 95% of the values
that follow each series (fixed seed; a few hundred series)."""

from __future__ import annotations

import numpy as np
import pytest

from fastrnn.forecasting import AR
from fastrnn.forecasting.accuracy import coverage
from fastrnn.forecasting.intervals import ConformalIntervals

N_SERIES, N_TRAIN, H = 400, 120, 4
C, PHI, SIGMA = 1.0, 0.6, 1.0


def simulate(seed=0):
    """(N_SERIES, N_TRAIN + H) draws of y_t = C + PHI y_{t-1} + e_t, e_t ~ N(0, SIGMA^2),
    started from the stationary distribution."""
    rng = np.random.default_rng(seed)
    n = N_TRAIN + H
    y = np.empty((N_SERIES, n))
    y[:, 0] = C / (1 - PHI) + rng.normal(size=N_SERIES) * SIGMA / np.sqrt(1 - PHI ** 2)
    e = rng.normal(size=(N_SERIES, n)) * SIGMA
    for t in range(1, n):
        y[:, t] = C + PHI * y[:, t - 1] + e[:, t]
    return y


def _coverage(method):
    y = simulate()
    hits = {80: [], 95: []}
    for row in y:
        model = AR(p=1)
        if method is not None:
            model.set_intervals(method)
        p = model.fit(row[:N_TRAIN]).predict(H, level=[80, 95])
        for lv, got in hits.items():
            got.append(coverage(row[N_TRAIN:], p.lo[lv], p.hi[lv]))
    return {lv: float(np.mean(v)) for lv, v in hits.items()}


def test_analytic_ar1_intervals_cover_their_levels():
    cov = _coverage(None)
    # standard error of a share near 0.8 over 400 series: about 0.02 (less, pooled over H)
    assert cov[80] == pytest.approx(0.80, abs=0.03)
    assert cov[95] == pytest.approx(0.95, abs=0.02)


def test_conformal_ar1_intervals_cover_their_levels():
    cov = _coverage(ConformalIntervals(n_windows=20, step=1))
    # the finite-sample rank guarantees at least L on average (20 windows: 81.0%, 95.2%)
    assert cov[80] == pytest.approx(0.81, abs=0.04)
    assert cov[95] == pytest.approx(0.952, abs=0.025)


def test_the_true_model_covers_exactly_when_the_parameters_are_known():
    """The reference for the two tests above: the true AR(1) bounds on the same draws."""
    from statistics import NormalDist

    y = simulate()
    last = y[:, N_TRAIN - 1]
    j = np.arange(1, H + 1)
    mean = C * (1 - PHI ** j) / (1 - PHI) + PHI ** j * last[:, None]
    sd = SIGMA * np.sqrt((1 - PHI ** (2 * j)) / (1 - PHI ** 2))
    for lv, tol in ((80, 0.03), (95, 0.02)):
        z = NormalDist().inv_cdf(0.5 + lv / 200)
        inside = np.abs(y[:, N_TRAIN:] - mean) <= z * sd
        assert inside.mean() == pytest.approx(lv / 100, abs=tol)
