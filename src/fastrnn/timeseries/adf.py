"""Dickey-Fuller and augmented Dickey-Fuller unit-root tests.

``adfuller`` takes exactly the arguments of ``statsmodels.tsa.stattools.adfuller`` (same
defaults, same return tuple, same autolag semantics) and returns the same numbers, but fits the
whole autolag search with one QR factorisation instead of one least-squares fit per candidate
lag. ``adfuller_many`` runs the test on every row of a panel in compiled code.

The regression (for a series x of length n, d_t = x_{t+1} - x_t, p lags):

    d_t = [deterministic terms] + rho * x_t + sum_{j=1..p} phi_j d_{t-j} + e_t,
          t = p, ..., n-2  (nobs = n - 1 - p rows)

and the statistic is the t-value of rho. Deterministic terms by ``regression``: "n" none,
"c" constant, "ct" constant + linear trend, "ctt" constant + linear + quadratic trend.

Autolag (as statsmodels): every candidate p = 0..maxlag is fitted on the same maxlag-trimmed
sample (n - 1 - maxlag rows) so that the information criteria are comparable; the chosen p is
then refitted on its own, longer sample (n - 1 - p rows), which gives the reported statistic
and nobs. With the columns ordered [deterministic, x_t, d_{t-1}, ..., d_{t-maxlag}, d_t] the
R factor of one QR of that matrix contains every nested regression: RSS(first k columns)
= sum_{i>=k} R[i, -1]^2, and the t-value of column k-1 is R[k-1, -1] / sqrt(RSS_k/(nobs-k))
(up to sign).

Magnitudes: the statistic, the p-value and the lag choice do not depend on the units of x
(multiplying x by s scales every column but the deterministic ones by s). The regressions
run on x divided by a power of two near max|x| (exact, so nothing is lost), which keeps
their sums of squares away from overflow (x ~ 1e300) and underflow (x ~ 1e-300); what
depends on the units (icbest, the stored regressions' constant and trend coefficients,
their standard errors, ssr) is put back into the units of x.
"""

from __future__ import annotations

import math

import numpy as np

from fastrnn import _params
from fastrnn.timeseries._mackinnon import mackinnoncrit, mackinnonp, mackinnonp_array
from fastrnn.timeseries.adf_results import (ADFManyResult, ADFullerResult, RegressionResult,
                                            ResultsStore)

try:  # compiled kernels (absent in a pure-Python install)
    from fastrnn.timeseries import _kernels
except ImportError:  # pragma: no cover - exercised in pure-Python installs
    _kernels = None

__all__ = [
    "adfuller",
    "dickey_fuller",
    "adfuller_many",
    "ADFullerResult",
    "ADFManyResult",
    "ResultsStore",
    "RegressionResult",
]

_MAXLAG = _params.Int(0, none_ok=True)

_REGRESSIONS = ("c", "ct", "ctt", "n")
_AUTOLAGS = {"aic": 1, "bic": 2, "t-stat": 3}
_TSTAT_STOP = 1.6448536269514722  # scipy.stats.norm.ppf(0.95), as statsmodels


# ----------------------------------------------------------------------------------------------
# argument checking
# ----------------------------------------------------------------------------------------------
def _as_float_array(x, name: str) -> np.ndarray:
    if hasattr(x, "to_numpy"):  # pandas without importing it
        x = x.to_numpy()
    arr = np.asarray(x)
    if arr.dtype == object or not (np.issubdtype(arr.dtype, np.number)
                                   or arr.dtype == np.bool_):
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    if np.iscomplexobj(arr):
        raise TypeError(f"{name}: expected a real numeric array, got dtype {arr.dtype}")
    return np.asarray(arr, dtype=np.float64)


def _check_regression(regression) -> str:
    if not isinstance(regression, str) or regression.lower() not in _REGRESSIONS:
        raise ValueError(f"regression: expected one of {_REGRESSIONS}, got {regression!r}")
    return regression.lower()


def _check_autolag(autolag):
    if autolag is None:
        return None
    if not isinstance(autolag, str) or autolag.lower() not in _AUTOLAGS:
        raise ValueError(f"autolag: expected one of 'AIC', 'BIC', 't-stat' or None, "
                         f"got {autolag!r}")
    return autolag.lower()


def _check_maxlag(maxlag, nobs: int, ntrend: int) -> int:
    """statsmodels' default 12*(nobs/100)^(1/4) and cap nobs//2 - ntrend - 1."""
    cap = nobs // 2 - ntrend - 1
    if maxlag is None:
        maxlag = int(np.ceil(12.0 * np.power(nobs / 100.0, 1 / 4.0)))
        maxlag = min(cap, maxlag)
        if maxlag < 0:
            raise ValueError(
                f"x: sample size is too short to use selected regression component "
                f"(got {nobs} observations; need at least {2 * (ntrend + 1)})")
        return maxlag
    maxlag = _params.check(maxlag, "maxlag", _MAXLAG)
    if maxlag > cap:
        raise ValueError(
            f"maxlag must be less than (nobs/2 - 1 - ntrend) where n trend is the number of "
            f"included deterministic regressors: got maxlag={maxlag}, the cap for "
            f"nobs={nobs} and regression with ntrend={ntrend} is {cap}")
    return maxlag


def _check_dof(maxlag: int, nobs: int, ntrend: int) -> None:
    """The largest regression has nobs-1-maxlag rows and ntrend+1+maxlag columns. With
    regression="n", an even nobs and maxlag at the cap that leaves no residual degree of
    freedom: the fit is exact, its t-values and information criteria are rounding noise
    (statsmodels returns them anyway); refuse with the reason instead."""
    if nobs - 2 - 2 * maxlag - ntrend <= 0:
        raise ValueError(
            f"maxlag: with maxlag={maxlag} and {nobs} observations the largest ADF regression "
            f"({nobs - 1 - maxlag} rows, {ntrend + 1 + maxlag} regressors) has no residual "
            f"degree of freedom, so its statistic is undefined; pass maxlag <= "
            f"{(nobs - 3 - ntrend) // 2}")


def _check_series(x) -> np.ndarray:
    x = _as_float_array(x, "x")
    if x.ndim != 1:
        raise ValueError(f"x: expected a 1-D series, got an array of shape {x.shape}"
                         + ("; use adfuller_many for a panel (one series per row)"
                            if x.ndim == 2 else ""))
    if x.shape[0] == 0:
        raise ValueError("x: expected a non-empty series, got length 0")
    if not np.all(np.isfinite(x)):
        bad = int(np.flatnonzero(~np.isfinite(x))[0])
        raise ValueError(f"x: expected finite values, got {x[bad]} at index {bad}")
    if x.max() == x.min():
        raise ValueError(f"Invalid input, x is constant (every value equals {x[0]!r})")
    return x


# ----------------------------------------------------------------------------------------------
# the regressions (NumPy + LAPACK QR)
# ----------------------------------------------------------------------------------------------
def _exponent(x: np.ndarray) -> int:
    """e with max|x| = f 2^e, 0.5 <= f < 1: x * 2^-e has magnitudes below 1, exactly."""
    top = float(np.max(np.abs(x))) if x.size else 0.0
    return math.frexp(top)[1] if math.isfinite(top) and top > 0 else 0


def _in_units(v, e: int):
    """v * 2^e (overflowing to inf where the value in the units of x is not a float64)."""
    with np.errstate(over="ignore", under="ignore"):
        return np.ldexp(v, e)


def _det_columns(m: int, ntrend: int) -> tuple[list[np.ndarray], list[float]]:
    """const, trend/m, (trend/m)^2 with trend = 1..m; and the factors that map a coefficient
    on the scaled column back to statsmodels' raw trend columns."""
    cols: list[np.ndarray] = []
    scale: list[float] = []
    if ntrend >= 1:
        cols.append(np.ones(m))
        scale.append(1.0)
    if ntrend >= 2:
        t = np.arange(1, m + 1, dtype=np.float64) / m
        cols.append(t)
        scale.append(1.0 / m)
    if ntrend >= 3:
        cols.append(t * t)
        scale.append(1.0 / m ** 2)
    return cols, scale


def _design(x: np.ndarray, d: np.ndarray, lags: int, ntrend: int, level_last: bool):
    """Augmented design [Z | y] (Fortran order) over rows t = lags .. n-2.

    level_last=False: [det, x_t, d_{t-1}..d_{t-lags}, y]  (the autolag ordering)
    level_last=True:  [det, d_{t-1}..d_{t-lags}, x_t, y]  (level last: its t-value is direct)
    """
    n = x.shape[0]
    m = n - 1 - lags
    det, scale = _det_columns(m, ntrend)
    p = ntrend + lags + 2
    A = np.empty((m, p), order="F")
    for k, c in enumerate(det):
        A[:, k] = c
    lag0 = ntrend + (0 if level_last else 1)
    for j in range(1, lags + 1):
        A[:, lag0 + j - 1] = d[lags - j: n - 1 - j]
    A[:, ntrend + lags if level_last else ntrend] = x[lags: n - 1]
    A[:, p - 1] = d[lags: n - 1]
    return A, scale


def _r_factor(A: np.ndarray) -> np.ndarray:
    R = np.linalg.qr(A, mode="r")
    p = A.shape[1]
    diag = np.abs(np.diag(R)[: p - 1])
    norms = np.sqrt(np.einsum("ij,ij->j", A[:, : p - 1], A[:, : p - 1]))
    if np.any(diag <= 1e-12 * np.maximum(norms, np.finfo(float).tiny)):
        raise ValueError("x: the ADF regressors are collinear for this series (a regressor is "
                         "a linear combination of the others); statsmodels would report an "
                         "unreliable statistic here")
    return R


def _rss_nested(R: np.ndarray) -> np.ndarray:
    """rss[k] = residual sum of squares of the regression on the first k columns."""
    r = R[:, -1]
    sq = r * r
    # rss[k] = sum_{i >= k} r_i^2 (i runs to p-1, the last entry being the full-model RSS)
    return np.cumsum(sq[::-1])[::-1]


def _ols_from_r(R: np.ndarray, k: int, nobs: int, ssr: float) -> tuple[np.ndarray, np.ndarray]:
    """params and standard errors of the regression on the first k columns, from the R factor
    of the augmented design [Z | y]: params = R_k^{-1} (Q^T y)_k, cov = s^2 R_k^{-1} R_k^{-T}."""
    Rk = R[:k, :k]
    params = np.linalg.solve(Rk, R[:k, -1])
    Rinv = np.linalg.solve(Rk, np.eye(k))
    bse = np.sqrt(ssr / (nobs - k) * np.einsum("ij,ij->i", Rinv, Rinv))
    return params, bse


def _make_result(params, bse, ssr, nobs, k, k_constant, centered_tss) -> RegressionResult:
    return RegressionResult(params=params, bse=bse, tvalues=params / bse, ssr=float(ssr),
                            nobs=float(nobs), df_model=float(k - k_constant),
                            df_resid=float(nobs - k), k_constant=k_constant,
                            centered_tss=float(centered_tss))


def _tss(y: np.ndarray, k_constant: int) -> float:
    if k_constant:
        yc = y - y.mean()
        return float(yc @ yc)
    return float(y @ y)


def _ic(rss: np.ndarray, m: int, ks: np.ndarray, method: str) -> np.ndarray:
    nobs2 = m / 2.0
    llf = -np.log(rss) * nobs2 - (1 + np.log(np.pi / nobs2)) * nobs2
    if method == "aic":
        return -2 * llf + 2 * ks
    return -2 * llf + np.log(m) * ks


def _adf_single(x: np.ndarray, maxlag: int, regression: str, autolag, store: bool,
                regresults: bool):
    """The test on x, computed on x * 2^-e (see the module's notes on magnitudes); what
    depends on the units is returned in the units of x."""
    e = _exponent(x)
    x = np.ldexp(x, -e)
    ntrend = 0 if regression == "n" else len(regression)
    kconst = 1 if ntrend else 0
    d = np.diff(x)
    icbest = None
    alres = None
    if autolag:
        A, scale = _design(x, d, maxlag, ntrend, level_last=False)
        m = A.shape[0]
        R = _r_factor(A)
        rss_all = _rss_nested(R)
        startlag = ntrend + 1
        ks = np.arange(startlag, startlag + maxlag + 1)
        rss = rss_all[ks]
        if autolag in ("aic", "bic"):
            ic = _ic(rss, m, ks.astype(np.float64), autolag)
            best = int(np.argmin(ic))  # first minimum = smallest lag, as min() over tuples
            # rss in the units of x is rss * 4^e: the criteria shift by 2 m e log 2
            icbest = float(ic[best]) + 2.0 * m * e * math.log(2.0)
            bestlag = best
        else:
            bestlag = maxlag
            icbest = 0.0
            for lag in range(maxlag, -1, -1):
                k = startlag + lag
                icbest = float(abs(R[k - 1, -1]) / math.sqrt(rss_all[k] / (m - k)))
                bestlag = lag
                if icbest >= _TSTAT_STOP:
                    break
        if regresults:
            alres = {}
            y = A[:, -1]
            tss = _tss(y, kconst)
            for lag in range(maxlag + 1):
                k = startlag + lag
                params, bse = _ols_from_r(R, k, m, rss_all[k])
                for c, f in enumerate(scale):  # back to statsmodels' raw trend columns
                    params[c] = _in_units(params[c] * f, e)
                    bse[c] = _in_units(bse[c] * f, e)
                alres[k] = _make_result(params, bse, _in_units(rss_all[k], 2 * e), m, k,
                                        kconst, _in_units(tss, 2 * e))
        usedlag = bestlag
    else:
        usedlag = maxlag

    A, scale = _design(x, d, usedlag, ntrend, level_last=True)
    m = A.shape[0]
    R = _r_factor(A)
    k = ntrend + usedlag + 1
    ssr = float(R[k, k] ** 2) if R.shape[0] > k else 0.0
    adfstat = float(R[k - 1, k] / math.sqrt(ssr / (m - k)))
    if R[k - 1, k - 1] < 0:
        adfstat = -adfstat
    resols = None
    if store:
        y = A[:, -1]
        tss = _tss(y, kconst)
        params, bse = _ols_from_r(R, k, m, ssr)
        for c, f in enumerate(scale):
            params[c] = _in_units(params[c] * f, e)
            bse[c] = _in_units(bse[c] * f, e)
        # ours: [det, lags, level] -> statsmodels: [level, lags, det]
        order = [k - 1] + list(range(ntrend, k - 1)) + list(range(ntrend))
        resols = _make_result(params[order], bse[order], _in_units(ssr, 2 * e), m, k, kconst,
                              _in_units(tss, 2 * e))
    return adfstat, usedlag, m, icbest, resols, alres


# ----------------------------------------------------------------------------------------------
# public API
# ----------------------------------------------------------------------------------------------
def adfuller(x, maxlag=None, regression="c", autolag="AIC", store=False, regresults=False, *,
             result_object=None):
    """Augmented Dickey-Fuller unit-root test (drop-in for statsmodels' ``adfuller``).

    Parameters
    ----------
    x : array_like, shape (n,)
        The series (finite, not constant).
    maxlag : int, optional
        Largest augmentation lag considered. Default ``ceil(12 * (n/100)**(1/4))``, capped at
        ``n//2 - ntrend - 1``; an explicit value above that cap raises ValueError.
    regression : {"c", "ct", "ctt", "n"}
        Deterministic terms: constant; constant + trend; constant + linear + quadratic trend;
        none.
    autolag : {"AIC", "BIC", "t-stat", None}
        Lag selection among 0..maxlag on the common maxlag-trimmed sample ("t-stat": drop lags
        from maxlag until the last one is significant at 5 %); None uses maxlag lags.
    store : bool
        Also return a :class:`ResultsStore` with the final regression.
    regresults : bool
        Implies ``store``; the store also holds ``autolag_results`` (one regression per
        candidate, keyed by its number of regressors, as statsmodels).
    result_object : bool, optional (keyword)
        True returns an :class:`ADFullerResult`; None/False the tuple below.

    Returns
    -------
    The same tuple as statsmodels:
    ``(adfstat, pvalue, usedlag, nobs, critvalues, icbest)`` with autolag,
    ``(adfstat, pvalue, usedlag, nobs, critvalues)`` with ``autolag=None``,
    ``(adfstat, pvalue, critvalues, resstore)`` with ``store=True``.
    ``critvalues`` is ``{"1%": float, "5%": float, "10%": float}`` (MacKinnon 2010 for
    ``nobs``); ``pvalue`` is MacKinnon's (1994) approximation.

    Raises
    ------
    ValueError
        x not 1-D, empty, with NaN/inf, or constant; maxlag negative or above the cap; the
        sample too short for the regression; unknown regression/autolag.
    TypeError
        x not numeric, maxlag not an int.
    """
    x = _check_series(x)
    regression = _check_regression(regression)
    autolag = _check_autolag(autolag)
    store = bool(store)
    regresults = bool(regresults)
    if regresults:
        store = True
    ntrend = 0 if regression == "n" else len(regression)
    maxlag = _check_maxlag(maxlag, x.shape[0], ntrend)
    _check_dof(maxlag, x.shape[0], ntrend)

    adfstat, usedlag, nobs, icbest, resols, alres = _adf_single(
        x, maxlag, regression, autolag, store, regresults)
    pvalue = mackinnonp(adfstat, regression)
    cv = mackinnoncrit(regression, nobs)
    critvalues = {"1%": float(cv[0]), "5%": float(cv[1]), "10%": float(cv[2])}

    resstore = None
    if store:
        resstore = ResultsStore()
        if regresults and autolag:
            resstore.autolag_results = alres
        resstore.resols = resols
        resstore.maxlag = maxlag
        resstore.usedlag = usedlag
        resstore.adfstat = adfstat
        resstore.critvalues = critvalues
        resstore.nobs = nobs
        resstore.H0 = "The coefficient on the lagged level equals 1 - unit root"
        resstore.HA = "The coefficient on the lagged level < 1 - stationary"
        resstore.icbest = icbest
        resstore._str = "Augmented Dickey-Fuller Test Results"
    if result_object:
        return ADFullerResult(adfstat, pvalue, usedlag, nobs, critvalues, icbest, resstore)
    if store:
        return adfstat, pvalue, critvalues, resstore
    if not autolag:
        return adfstat, pvalue, usedlag, nobs, critvalues
    return adfstat, pvalue, usedlag, nobs, critvalues, icbest


def dickey_fuller(x, regression="c", store=False, regresults=False):
    """Plain Dickey-Fuller test: the ADF regression with no augmentation lags.

    Same as ``adfuller(x, maxlag=0, regression=regression, autolag=None, ...)``; returns
    ``(stat, pvalue, usedlag=0, nobs=n-1, critvalues)`` (or ``(stat, pvalue, critvalues,
    resstore)`` with ``store=True``). x: shape (n,).
    """
    return adfuller(x, maxlag=0, regression=regression, autolag=None, store=store,
                    regresults=regresults)


def adfuller_many(X, maxlag=None, regression="c", autolag="AIC", *, on_error="raise",
                  backend=None) -> ADFManyResult:
    """Augmented Dickey-Fuller test on every row of a panel.

    Parameters
    ----------
    X : array_like, shape (S, n)
        S series of n observations each (one per row).
    maxlag, regression, autolag
        As in :func:`adfuller` (maxlag's default and cap use n); the same for every row.
    on_error : {"raise", "nan"}
        What a constant row, a row with NaN/inf, or a row with collinear regressors does:
        raise ValueError naming the first such row, or give NaN/-1 in that row (see
        ``ADFManyResult.status``).
    backend : {None, "compiled", "numpy"}
        None uses the compiled kernel when it is built, else the NumPy path (one QR per row).

    Returns
    -------
    ADFManyResult with ``.stat .pvalue .icbest`` (S,), ``.usedlag .nobs`` (S,) int64,
    ``.crit`` (S, 3) and ``.critvalues`` (dict of (S,) arrays).
    """
    X = _as_float_array(X, "X")
    if X.ndim != 2:
        raise ValueError(f"X: expected a 2-D array (series, time), got shape {X.shape}"
                         + ("; use adfuller for one series" if X.ndim == 1 else ""))
    regression = _check_regression(regression)
    autolag = _check_autolag(autolag)
    if on_error not in ("raise", "nan"):
        raise ValueError(f"on_error: expected 'raise' or 'nan', got {on_error!r}")
    if backend not in (None, "compiled", "numpy"):
        raise ValueError(f"backend: expected None, 'compiled' or 'numpy', got {backend!r}")
    if backend == "compiled" and _kernels is None:
        raise ValueError("backend: 'compiled' requested but fastrnn.timeseries._kernels is not "
                         "built (pure-Python install)")
    S, n = X.shape
    ntrend = 0 if regression == "n" else len(regression)
    maxlag = _check_maxlag(maxlag, n, ntrend)
    _check_dof(maxlag, n, ntrend)
    method = 0 if autolag is None else _AUTOLAGS[autolag]

    stat = np.full(S, np.nan)
    usedlag = np.full(S, -1, dtype=np.int64)
    nobs = np.full(S, -1, dtype=np.int64)
    icbest = np.full(S, np.nan)
    status = np.zeros(S, dtype=np.int64)
    if S:
        use_compiled = _kernels is not None and backend != "numpy"
        if use_compiled:
            # each row in its own units (see the module's notes on magnitudes): exact scaling
            with np.errstate(invalid="ignore"):
                top = np.where(np.isfinite(X).all(axis=1), np.abs(X).max(axis=1), 0.0)
            e = np.frexp(top)[1].astype(np.int64)
            X = np.ascontiguousarray(np.ldexp(X, -e[:, None]))
            p = ntrend + maxlag + 2
            work = np.empty(4 * n + p * p + p + 8)
            _kernels.adf_many(X, ntrend, maxlag, method, stat, usedlag, nobs, icbest, status,
                              work)
            if method in (1, 2):   # aic, bic: back to the units of each row
                icbest += 2.0 * (n - 1 - maxlag) * e * math.log(2.0)
        else:
            for r in range(S):
                row = X[r]
                if not np.all(np.isfinite(row)):
                    status[r] = 3
                    continue
                if row.max() == row.min():
                    status[r] = 1
                    continue
                try:
                    st, ul, nb, ic, _, _ = _adf_single(row, maxlag, regression, autolag,
                                                       False, False)
                except ValueError:
                    status[r] = 2
                    continue
                stat[r], usedlag[r], nobs[r] = st, ul, nb
                icbest[r] = np.nan if ic is None else ic
    bad = np.flatnonzero(status)
    if bad.size and on_error == "raise":
        r = int(bad[0])
        why = {1: "the series is constant", 2: "the ADF regressors are collinear",
               3: "the series contains NaN or inf"}[int(status[r])]
        raise ValueError(f"X: row {r} cannot be tested: {why} ({bad.size} bad row(s) in "
                         f"total; pass on_error='nan' to get NaN for them)")
    pvalue = mackinnonp_array(stat, regression)
    crit = np.full((S, 3), np.nan)
    ok = nobs > 0
    if np.any(ok):
        crit[ok] = mackinnoncrit(regression, nobs[ok].astype(np.float64))
    return ADFManyResult(stat=stat, pvalue=pvalue, usedlag=usedlag, nobs=nobs, crit=crit,
                         icbest=None if autolag is None else icbest, status=status,
                         maxlag=maxlag, regression=regression, autolag=autolag)
