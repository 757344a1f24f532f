"""Time-series helpers: windowing for supervised learning, splits, scalers, differencing and
the (augmented) Dickey-Fuller unit-root tests.

Hot loops (panel windowing, lag matrices, ADF on a panel) are compiled with Cython when the
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

__all__ = [
    "ADFManyResult",
    "ADFullerResult",
    "RegressionResult",
    "ResultsStore",
    "adfuller",
    "adfuller_many",
    "dickey_fuller",
]


def compiled() -> bool:
    """True when the Cython kernels (fastrnn.timeseries._kernels) are built."""
    from fastrnn.timeseries import adf

    return adf._kernels is not None
