"""The result containers of the unit-root tests (``adfuller``, ``adfuller_many``), shaped as
statsmodels' so that code written against statsmodels reads them unchanged."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator

import numpy as np

__all__ = ["ResultsStore", "RegressionResult", "ADFullerResult", "ADFManyResult"]


class ResultsStore:
    """Plain attribute bag, as ``statsmodels.stats._results_store.ResultsStore``.

    Filled with ``resols``, ``maxlag``, ``usedlag``, ``adfstat``, ``critvalues``, ``nobs``,
    ``H0``, ``HA``, ``icbest`` (and ``autolag_results`` when ``regresults=True``).
    """

    def __str__(self) -> str:
        return getattr(self, "_str", self.__class__.__name__)


@dataclass(frozen=True, repr=False)
class RegressionResult:
    """An ordinary-least-squares fit (the subset of statsmodels' ``RegressionResults`` that the
    ADF test uses). Arrays have shape (k,), k = number of regressors, in the column order of
    the design: for ``resols`` ``[x_{t}, d_{t-1}, ..., d_{t-p}, const, trend, trend**2]``; for
    the ``autolag_results`` models ``[const, trend, trend**2, x_t, d_{t-1}, ...]`` (trend =
    1, 2, ..., nobs), exactly as statsmodels orders them."""

    params: np.ndarray
    bse: np.ndarray
    tvalues: np.ndarray
    ssr: float
    nobs: float
    df_model: float
    df_resid: float
    k_constant: int
    centered_tss: float

    @property
    def scale(self) -> float:
        return self.ssr / self.df_resid

    @property
    def llf(self) -> float:
        nobs2 = self.nobs / 2.0
        return float(-np.log(self.ssr) * nobs2 - (1 + np.log(np.pi / nobs2)) * nobs2)

    @property
    def aic(self) -> float:
        return -2 * self.llf + 2 * (self.df_model + self.k_constant)

    @property
    def bic(self) -> float:
        return -2 * self.llf + np.log(self.nobs) * (self.df_model + self.k_constant)

    @property
    def rsquared(self) -> float:
        return 1.0 - self.ssr / self.centered_tss

    def __repr__(self) -> str:
        return (f"RegressionResult(nobs={self.nobs:g}, k={len(self.params)}, "
                f"ssr={self.ssr:.6g}, aic={self.aic:.6g})")


@dataclass(frozen=True, repr=False)
class ADFullerResult:
    """Result object of :func:`adfuller` with ``result_object=True`` (as statsmodels'
    ``ADFullerResult``): unpacks as ``statistic, pvalue``."""

    statistic: float
    pvalue: float
    lags: int
    nobs: int
    critical_values: dict
    icbest: float | None
    resstore: ResultsStore | None

    def __iter__(self) -> Iterator[float]:
        return iter((self.statistic, self.pvalue))

    def __len__(self) -> int:
        return 2

    def __getitem__(self, i):
        return (self.statistic, self.pvalue)[i]

    def __repr__(self) -> str:
        return (f"ADFullerResult\nADF Statistic: {self.statistic:0.5f}\n"
                f"P-value: {self.pvalue:0.5f}\nUsed Lag: {self.lags}\nNobs: {self.nobs}\n"
                f"Critical Values: {self.critical_values}\n")


@dataclass(frozen=True, repr=False)
class ADFManyResult:
    """Result of :func:`adfuller_many` on S series.

    stat, pvalue, icbest: float64 (S,); usedlag, nobs: int64 (S,) (-1 for a failed row when
    ``on_error="nan"``); crit: float64 (S, 3) with the 1 %, 5 %, 10 % critical values, also
    available as ``critvalues = {"1%": (S,), "5%": (S,), "10%": (S,)}``; status: int64 (S,)
    (0 ok, 1 constant series, 2 collinear regressors, 3 NaN/inf in the row).
    """

    stat: np.ndarray
    pvalue: np.ndarray
    usedlag: np.ndarray
    nobs: np.ndarray
    crit: np.ndarray
    icbest: np.ndarray | None
    status: np.ndarray
    maxlag: int
    regression: str
    autolag: str | None

    @property
    def critvalues(self) -> dict:
        return {"1%": self.crit[:, 0], "5%": self.crit[:, 1], "10%": self.crit[:, 2]}

    def __len__(self) -> int:
        return len(self.stat)

    def __repr__(self) -> str:
        return (f"ADFManyResult(series={len(self.stat)}, regression={self.regression!r}, "
                f"autolag={self.autolag!r}, maxlag={self.maxlag})")
