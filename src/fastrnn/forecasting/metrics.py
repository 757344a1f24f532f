"""Accuracy and information criteria: functions of residuals or of (actual, predicted) arrays.

The criteria (standard forms)
    * Gaussian log-likelihood of n residuals e_t at the maximum-likelihood variance
      s^2 = (1/n) sum e_t^2:  ln L = -(n/2) (ln(2 pi s^2) + 1).
    * AIC = -2 ln L + 2k,   BIC = -2 ln L + k ln n,   k = trainable parameters (weights and
      biases of a network; coefficients and constant of an AR model; 0 for the naive ones; the
      residual variance is not counted, as in statsmodels' OLS). Some course notes print
      these divided by n (AIC/n = ln s^2 + 2k/n + const), or with misprints such as "k ln k"
      or "ln k / n"; dividing by n does not change the ranking, the misprints do; fastrnn uses
      the forms above.
    * One-step MSE: (1/N) sum (actual - predicted)^2.

Point-forecast accuracy over a horizon (MAE, RMSE, sMAPE, MASE) and interval scores (coverage,
MSIS) belong here too, with the definitions the benchmarks and the README use.
"""

from __future__ import annotations

from math import log, pi

import numpy as np

__all__ = ["gaussian_loglik", "aic", "bic", "information_criteria", "one_step_mse"]


def _residuals(residuals):
    e = np.asarray(residuals, dtype=np.float64).ravel()
    if e.size == 0:
        raise ValueError("residuals: expected at least one residual, got none")
    return e


def gaussian_loglik(residuals):
    """ln L = -(n/2)(ln(2 pi s^2) + 1), s^2 = mean(e^2): the Gaussian log-likelihood of the
    residuals at the maximum-likelihood variance (NaN residuals give NaN)."""
    e = _residuals(residuals)
    n = e.size
    s2 = float(np.mean(e * e))
    if not np.isfinite(s2):
        return float("nan")
    s2 = max(s2, np.finfo(np.float64).tiny)
    return -0.5 * n * (log(2.0 * pi * s2) + 1.0)


def aic(residuals, k):
    """Akaike's criterion -2 ln L + 2k (not divided by n)."""
    return -2.0 * gaussian_loglik(residuals) + 2.0 * k


def bic(residuals, k):
    """Schwarz's criterion -2 ln L + k ln n (not divided by n)."""
    return -2.0 * gaussian_loglik(residuals) + k * log(_residuals(residuals).size)


def information_criteria(residuals, k):
    """dict(n, sigma2, loglik, aic, bic) of residuals from a model with k parameters."""
    e = _residuals(residuals)
    ll = gaussian_loglik(e)
    return {"n": int(e.size), "sigma2": float(np.mean(e * e)), "loglik": ll,
            "aic": -2.0 * ll + 2.0 * k, "bic": -2.0 * ll + k * log(e.size)}


def one_step_mse(actual, predicted):
    """(1/N) sum (actual - predicted)^2."""
    a, p = np.asarray(actual, np.float64), np.asarray(predicted, np.float64)
    if a.shape != p.shape:
        raise ValueError(f"actual and predicted must have the same shape, got {a.shape} and "
                         f"{p.shape}")
    return float(np.mean((a - p) ** 2))
