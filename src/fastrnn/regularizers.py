"""Keras's place for the regularizers: ``fastrnn.regularizers`` is ``fastrnn.nn.regularizers`` (one module, two names)."""

import sys

from fastrnn.nn import regularizers as _home

sys.modules[__name__] = _home
