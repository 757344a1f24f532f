"""fastrnn: fast recurrent neural networks (Elman, LSTM, GRU) for time series.

The compiled C++ core runs the forward passes and backpropagation through time; see
``fastrnn.ops`` for the functional API and ``fastrnn.backends`` for the backend registry.
"""

from fastrnn import backends, ops, timeseries

__version__ = "0.1.0"
__all__ = ["backends", "ops", "timeseries", "__version__"]
