"""Keras's place for the initializers: ``fastrnn.initializers`` is ``fastrnn.nn.initializers`` (one module, two names)."""

import sys

from fastrnn.nn import initializers as _home

sys.modules[__name__] = _home
