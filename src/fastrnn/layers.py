"""Keras's place for the layers: ``fastrnn.layers`` is ``fastrnn.nn.layers`` (one module, two names)."""

import sys

from fastrnn.nn import layers as _home

sys.modules[__name__] = _home
