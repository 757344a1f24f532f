"""Keras's place for the activations: ``fastrnn.activations`` is ``fastrnn.nn.activations`` (one module, two names)."""

import sys

from fastrnn.nn import activations as _home

sys.modules[__name__] = _home
