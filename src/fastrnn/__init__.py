"""fastrnn: fast recurrent neural networks (Elman, LSTM, GRU) for time series.

The package face is lazy (PEP 562): ``import fastrnn`` or ``import fastrnn.ops`` loads only what
is asked for, so the functional API does not pay for the model, forecasting or CLI wings.

Wings, in the direction the data flows (each imports only the ones after it)::

    cli -> forecasting -> nn -> ops -> backends -> compiled core

``fastrnn.ops`` is the functional API, ``fastrnn.backends`` the backend registry,
``fastrnn.nn`` the Keras-style engine (its public modules are also at Keras's places:
``fastrnn.layers``, ``fastrnn.optimizers``, ...), ``fastrnn.timeseries`` windows, scaling and
the ADF test, ``fastrnn.forecasting`` forecasters, metrics and model selection.
"""

from __future__ import annotations

import importlib

from fastrnn._version import __version__

# name -> (module, attribute or None for the module itself)
_LAZY = {
    "backends": ("fastrnn.backends", None),
    "ops": ("fastrnn.ops", None),
    "cells": ("fastrnn.cells", None),
    "interop": ("fastrnn.interop", None),
    "nn": ("fastrnn.nn", None),
    "layers": ("fastrnn.nn.layers", None),
    "optimizers": ("fastrnn.nn.optimizers", None),
    "losses": ("fastrnn.nn.losses", None),
    "regularizers": ("fastrnn.nn.regularizers", None),
    "callbacks": ("fastrnn.nn.callbacks", None),
    "initializers": ("fastrnn.nn.initializers", None),
    "activations": ("fastrnn.nn.activations", None),
    "constraints": ("fastrnn.nn.constraints", None),
    "timeseries": ("fastrnn.timeseries", None),
    "forecasting": ("fastrnn.forecasting", None),
    "data": ("fastrnn.data", None),
    "Sequential": ("fastrnn.nn.sequential", "Sequential"),
    "Input": ("fastrnn.nn.layers", "Input"),
    "load_model": ("fastrnn.nn.saving", "load_model"),
    "set_random_seed": ("fastrnn.nn.seeding", "set_random_seed"),
    "set_num_threads": ("fastrnn.backends._threading", "set_num_threads"),
    "get_num_threads": ("fastrnn.backends._threading", "get_num_threads"),
}

__all__ = sorted(_LAZY) + ["__version__"]


def __getattr__(name):
    try:
        module_name, attr = _LAZY[name]
    except KeyError:
        raise AttributeError(f"module 'fastrnn' has no attribute {name!r}") from None
    module = importlib.import_module(module_name)
    value = module if attr is None else getattr(module, attr)
    globals()[name] = value  # later lookups skip __getattr__
    return value


def __dir__():
    return __all__
