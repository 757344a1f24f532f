"""Keras's place for the losses: ``fastrnn.losses`` is ``fastrnn.nn.losses`` (one module, two names)."""

import sys

from fastrnn.nn import losses as _home

sys.modules[__name__] = _home
