"""MacKinnon's response-surface tables for the Dickey-Fuller tau statistic (N = 1 series).

Two published sources, transcribed by hand (and cross-checked against the values in
statsmodels' ``tsa/adfvalues.py``):

* MacKinnon, J.G. (1994), "Approximate asymptotic distribution functions for unit-root and
  cointegration tests", Journal of Business & Economic Statistics 12(2), 167-176, Table 3
  (the tau rows for N = 1): the approximate p-value is ``Phi(g0 + g1*t + g2*t**2 [+ g3*t**3])``
  with one polynomial for the lower tail (``t <= tau_star``) and one for the rest; outside
  ``[tau_min, tau_max]`` the p-value is 0 or 1. The paper prints g2 (small p) scaled by 100 and
  g1, g2 (large p) by 10 and g3 by 100; the scaling is undone below.
* MacKinnon, J.G. (2010), "Critical values for cointegration tests", Queen's University
  Economics Working Paper 1227, Table 2 (N = 1): ``crit(T) = b_inf + b1/T + b2/T**2 + b3/T**3``
  for the 1 %, 5 % and 10 % levels. The no-constant ("n") row is from MacKinnon (1996), as in
  statsmodels, because the 2010 paper does not update it.
"""

from __future__ import annotations

import math

import numpy as np

__all__ = ["mackinnonp", "mackinnoncrit", "TAU_STAR", "TAU_MIN", "TAU_MAX"]

_INF = float("inf")

# Cut-offs (1994, Table 3, N = 1).
TAU_STAR = {"n": -1.04, "c": -1.61, "ct": -2.89, "ctt": -3.21}
TAU_MIN = {"n": -19.04, "c": -18.83, "ct": -16.18, "ctt": -17.17}
TAU_MAX = {"n": _INF, "c": 2.74, "ct": 0.7, "ctt": 0.54}

# Lower tail: g0, g1, g2 (g2 printed x100 in the paper).
_SMALLP_PRINTED = {
    "n": (0.6344, 1.2378, 3.2496),
    "c": (2.1659, 1.4412, 3.8269),
    "ct": (3.2512, 1.6047, 4.9588),
    "ctt": (4.0003, 1.658, 4.8288),
}
_SMALLP_SCALE = (1.0, 1.0, 1e-2)
# Upper part: g0, g1, g2, g3 (g1, g2 printed x10, g3 x100).
_LARGEP_PRINTED = {
    "n": (0.4797, 9.3557, -0.6999, 3.3066),
    "c": (1.7339, 9.3202, -1.2745, -1.0368),
    "ct": (2.5261, 6.1654, -3.7956, -6.0285),
    "ctt": (3.0778, 4.9529, -4.1477, -5.9359),
}
_LARGEP_SCALE = (1.0, 1e-1, 1e-1, 1e-2)

SMALLP = {k: tuple(c * s for c, s in zip(v, _SMALLP_SCALE)) for k, v in _SMALLP_PRINTED.items()}
LARGEP = {k: tuple(c * s for c, s in zip(v, _LARGEP_SCALE)) for k, v in _LARGEP_PRINTED.items()}

# MacKinnon (2010) Table 2, N = 1: rows 1 %, 5 %, 10 %; columns b_inf, b1, b2, b3.
CRIT_2010 = {
    "n": ((-2.56574, -2.2358, -3.627, 0.0),
          (-1.94100, -0.2686, -3.365, 31.223),
          (-1.61682, 0.2656, -2.714, 25.364)),
    "c": ((-3.43035, -6.5393, -16.786, -79.433),
          (-2.86154, -2.8903, -4.234, -40.040),
          (-2.56677, -1.5384, -2.809, 0.0)),
    "ct": ((-3.95877, -9.0531, -28.428, -134.155),
           (-3.41049, -4.3904, -9.036, -45.374),
           (-3.12705, -2.5856, -3.925, -22.380)),
    "ctt": ((-4.37113, -11.5882, -35.819, -334.047),
            (-3.83239, -5.9057, -12.490, -118.284),
            (-3.55326, -3.6596, -5.293, -63.559)),
}


def _horner(coefs, x):
    """coefs[0] + coefs[1]*x + ... evaluated as numpy.polyval(coefs[::-1], x) does."""
    acc = 0.0 * x
    for c in coefs[::-1]:
        acc = acc * x + c
    return acc


def _norm_cdf(z: float) -> float:
    return 0.5 * math.erfc(-z / math.sqrt(2.0))


def mackinnonp(teststat: float, regression: str = "c") -> float:
    """MacKinnon (1994) approximate p-value of a Dickey-Fuller tau statistic (N = 1).

    ``teststat``: the t-statistic of the lagged level; ``regression``: "n", "c", "ct", "ctt".
    """
    t = float(teststat)
    if t > TAU_MAX[regression]:
        return 1.0
    if t < TAU_MIN[regression]:
        return 0.0
    coefs = SMALLP[regression] if t <= TAU_STAR[regression] else LARGEP[regression]
    return float(_norm_cdf(_horner(coefs, t)))


def mackinnonp_array(teststat: np.ndarray, regression: str = "c") -> np.ndarray:
    """Vectorised :func:`mackinnonp`; NaN in gives NaN out."""
    t = np.asarray(teststat, dtype=np.float64)
    z = np.where(t <= TAU_STAR[regression], _horner(SMALLP[regression], t),
                 _horner(LARGEP[regression], t))
    erfc = np.vectorize(math.erfc, otypes=[np.float64])
    p = 0.5 * erfc(-z / math.sqrt(2.0)) if z.size else z.copy()
    p = np.where(t > TAU_MAX[regression], 1.0, p)
    p = np.where(t < TAU_MIN[regression], 0.0, p)
    return np.where(np.isnan(t), np.nan, p)


def mackinnoncrit(regression: str = "c", nobs=_INF) -> np.ndarray:
    """MacKinnon (2010) critical values (1 %, 5 %, 10 %) for sample size ``nobs`` (N = 1).

    ``nobs`` may be a scalar (returns shape (3,)) or an array of shape (S,) (returns (S, 3)).
    ``nobs=inf`` gives the asymptotic values.
    """
    tab = CRIT_2010[regression]
    if np.isscalar(nobs) and nobs == _INF:
        return np.array([row[0] for row in tab])
    u = 1.0 / np.asarray(nobs, dtype=np.float64)
    out = np.stack([_horner(row, u) for row in tab], axis=-1)
    return out
