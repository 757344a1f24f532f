"""The Keras-style engine: layers, the Sequential model, its training, saving and the pieces a
model is compiled with (optimizers, losses, regularizers, callbacks, initializers, activations).

Keras users find the public modules at Keras's places too: ``fastrnn.layers`` is
``fastrnn.nn.layers``, and so on.
"""

from fastrnn.nn.layers import Input
from fastrnn.nn.models import Sequential, load_model
from fastrnn.nn.seeding import set_random_seed

__all__ = ["Sequential", "Input", "load_model", "set_random_seed"]
