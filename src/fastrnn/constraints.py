"""Keras's place for the constraints: ``fastrnn.constraints`` is ``fastrnn.nn.constraints`` (one module, two names)."""

import sys

from fastrnn.nn import constraints as _home

sys.modules[__name__] = _home
