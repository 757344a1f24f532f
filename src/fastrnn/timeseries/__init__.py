"""Time-series helpers: windowing for supervised learning, splits, scalers, differencing, the
seasonal period and the (augmented) Dickey-Fuller unit-root tests.

Hot loops (panel windowing, lag matrices, ADF on a panel, the error sums of simple exponential
smoothing in ``smoothing``) are compiled with Cython when the
package is built with its C++ core; otherwise NumPy fallbacks give the same results.
"""

from fastrnn.timeseries.adf import (
    ADFManyResult,
    ADFullerResult,
    RegressionResult,
    ResultsStore,
    adfuller,
    adfuller_many,
    dickey_fuller,
)
from fastrnn.timeseries.differencing import (
    difference,
    inverse_difference,
    level_offset,
    undifference,
)
from fastrnn.timeseries.scaling import MinMaxScaler, StandardScaler
from fastrnn.timeseries.seasonal import detect_period, period_from_frequency, seasonal_period
from fastrnn.timeseries.split import split_indices, train_val_test_split
from fastrnn.timeseries.windows import (
    PanelWindows,
    Windows,
    lag_matrix,
    make_panel_windows,
    make_windows,
    n_windows,
)

__all__ = [
    "ADFManyResult",
    "ADFullerResult",
    "RegressionResult",
    "ResultsStore",
    "adfuller",
    "adfuller_many",
    "dickey_fuller",
    "MinMaxScaler",
    "StandardScaler",
    "difference",
    "inverse_difference",
    "level_offset",
    "undifference",
    "detect_period",
    "period_from_frequency",
    "seasonal_period",
    "split_indices",
    "train_val_test_split",
    "PanelWindows",
    "Windows",
    "lag_matrix",
    "make_panel_windows",
    "make_windows",
    "n_windows",
    "compiled",
]


def compiled() -> bool:
    """True when the Cython kernels (fastrnn.timeseries._kernels) are built."""
    from fastrnn.timeseries import adf

    return adf._kernels is not None
