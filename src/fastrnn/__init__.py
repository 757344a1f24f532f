"""fastrnn: fast recurrent neural networks (Elman, LSTM, GRU) for time series.

The compiled C++ core runs the forward passes and backpropagation through time; see
``fastrnn.ops`` for the functional API and ``fastrnn.backends`` for the backend registry.
"""

__version__ = "0.1.0"

from fastrnn import (backends, callbacks, data, forecast, initializers, layers, losses, ops,  # noqa: E402
                     optimizers, regularizers, selection, timeseries)
from fastrnn.layers import Input  # noqa: E402
from fastrnn.models import Sequential, load_model  # noqa: E402
from fastrnn.seeding import set_random_seed  # noqa: E402

__all__ = ["backends", "ops", "layers", "optimizers", "losses", "regularizers", "callbacks",
           "initializers", "timeseries", "selection", "forecast", "data", "Sequential", "Input",
           "load_model", "set_random_seed", "__version__"]
