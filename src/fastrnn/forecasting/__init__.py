"""Forecasting: forecasters (baselines and RNNs), their metrics and model selection.

    from fastrnn.forecasting import select, grid, RNNForecaster, future_index

Rooms: ``base`` (the forecaster protocol, ``Prediction``, ``as_series``), ``baselines``,
``rnn`` (the RNN forecaster), ``metrics`` (log-likelihood, AIC, BIC, MSE), ``selection``
(grid, differencing by ADF, the parallel runner and the ranking) and ``calendar`` (the time
labels of a forecast); for collections: ``panel`` (the long format in and out, hygiene per
series), ``theta`` (Theta and drift), ``accuracy`` (MASE, sMAPE, ..., coverage, MSIS),
``local`` (model specs, the runner over series, global models, ``forecast_panel``), ``cv``
(rolling-origin cross-validation), ``auto`` (``forecast_collection``: the default forecaster
for a collection) and ``intervals`` (levels, Gaussian and conformal prediction intervals). Differencing, scaling, windowing and the seasonal period are
``fastrnn.timeseries``'s; ``level_offset``, ``undifference`` and ``detect_period`` are
re-exported here because forecasts are where they are used.
"""

from fastrnn.forecasting.auto import CollectionReport, forecast_collection
from fastrnn.forecasting.base import Forecaster, Prediction, as_series
from fastrnn.forecasting.baselines import AR, Naive, SeasonalNaive
from fastrnn.forecasting.calendar import forecast, future_index
from fastrnn.forecasting.cv import CrossValidation, cross_validate
from fastrnn.forecasting.global_rnn import GlobalRNN
from fastrnn.forecasting.intervals import ConformalIntervals, check_levels
from fastrnn.forecasting.local import forecast_panel, standard_baselines
from fastrnn.forecasting.metrics import aic, bic, gaussian_loglik, information_criteria, one_step_mse
from fastrnn.forecasting.panel import Panel, read_panel
from fastrnn.forecasting.rnn import CELLS, RNNForecaster
from fastrnn.forecasting.selection import (Selection, choose_diff, grid, out_of_sample_mse,
                                           select)
from fastrnn.forecasting.theta import Drift, Theta
from fastrnn.timeseries import detect_period, level_offset, undifference

__all__ = [
    # metrics
    "gaussian_loglik", "aic", "bic", "information_criteria", "one_step_mse",
    # selection
    "out_of_sample_mse", "detect_period", "choose_diff", "grid", "select", "Selection",
    # forecasters
    "Forecaster", "Prediction", "Naive", "SeasonalNaive", "AR", "RNNForecaster", "CELLS",
    "Drift", "Theta", "GlobalRNN",
    # many series: the long format, cross-validation
    "read_panel", "Panel", "forecast_panel", "standard_baselines", "cross_validate",
    "CrossValidation",
    # series in, forecasts out
    "as_series", "level_offset", "undifference", "future_index", "forecast",
    # prediction intervals
    "ConformalIntervals", "check_levels",
    # the default forecaster for a collection
    "forecast_collection", "CollectionReport",
]
