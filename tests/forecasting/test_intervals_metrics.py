"""Interval scores (fastrnn.forecasting.accuracy.coverage and msis, the definitions of its
docstring: coverage, and M4's MSIS scaled by the seasonal naive error) against hand
calculations."""
from __future__ import annotations

import numpy as np
import pytest

from fastrnn.forecasting import Prediction
from fastrnn.forecasting.accuracy import coverage, evaluate, msis

ACTUAL = [1.0, 2.0, 3.0, 4.0]
LO = [0.0, 2.5, 2.0, 5.0]
HI = [2.0, 3.0, 4.0, 6.0]


def test_coverage_is_the_share_inside_bounds_included():
    assert coverage(ACTUAL, LO, HI) == 0.5           # 1 and 3 inside, 2 and 4 below
    assert coverage([2.0, 4.0], [2.0, 1.0], [3.0, 4.0]) == 1.0   # on a bound is inside


def test_msis_by_hand():
    # widths 2 + 0.5 + 2 + 1 = 5.5; alpha 0.2: 2/alpha = 10; below: 10 (2.5 - 2) + 10 (5 - 4)
    # mean 20.5 / 4 = 5.125; q (s = 1) of the training values 1, 3, 2, 5: mean(2, 1, 3) = 2
    assert msis(ACTUAL, LO, HI, [1.0, 3.0, 2.0, 5.0], 80) == pytest.approx(5.125 / 2)
    # above the upper bound counts the same way: one value 1 above at 95% (2/alpha = 40)
    assert msis([5.0], [0.0], [4.0], [0.0, 1.0], 95) == pytest.approx((4 + 40) / 1)


def test_msis_scale_is_the_seasonal_naive_error():
    train = [1.0, 2.0, 3.0, 4.0, 6.0, 8.0]        # s = 2: |3-1|, |4-2|, |6-3|, |8-4| -> 2.75
    assert msis(ACTUAL, LO, HI, train, 80, season=2) == pytest.approx(5.125 / 2.75)


def test_evaluate_scores_every_level_of_a_prediction():
    mean = np.array([1.0, 2.5, 3.0, 5.5])
    p = Prediction(mean, lo={80.0: np.array(LO)}, hi={80.0: np.array(HI)})
    out = evaluate(ACTUAL, p, [1.0, 3.0, 2.0, 5.0])
    assert out["coverage-80"] == 0.5
    assert out["msis-80"] == pytest.approx(5.125 / 2)
