"""Forecasting: forecasters (baselines and RNNs), their metrics and model selection."""

from fastrnn.forecasting.selection import *  # noqa: F401,F403
from fastrnn.forecasting.selection import __all__
