"""Keras's place for the optimizers: ``fastrnn.optimizers`` is ``fastrnn.nn.optimizers`` (one module, two names)."""

import sys

from fastrnn.nn import optimizers as _home

sys.modules[__name__] = _home
