"""Keras's place for the callbacks: ``fastrnn.callbacks`` is ``fastrnn.nn.callbacks`` (one module, two names)."""

import sys

from fastrnn.nn import callbacks as _home

sys.modules[__name__] = _home
