"""The Keras-style engine: layers, the Sequential model, its training, saving and the pieces a
model is compiled with (optimizers, losses, regularizers, callbacks, initializers, activations).

Rooms, from the top down (each imports only the ones below it):

    sequential   the model's structure, build, the flat parameter vector, weights, config
    training     compile / fit / evaluate / predict on the Python path (a mixin of Sequential)
    fused        the fused plan: collects each layer's own spec, drives the compiled trainer
    layers/      base (the protocol, Input), core (Dense, Dropout), recurrent (the cells)
    saving       the file format; finds classes by name in ``registry``, imports no model
    registry, seeding, activations, initializers, regularizers, losses, metrics, optimizers,
    callbacks

Keras users find the public modules at Keras's places too: ``fastrnn.layers`` is
``fastrnn.nn.layers``, and so on.
"""

from fastrnn.nn.layers import Input
from fastrnn.nn.saving import load_model
from fastrnn.nn.seeding import set_random_seed
from fastrnn.nn.sequential import Sequential

__all__ = ["Sequential", "Input", "load_model", "set_random_seed"]
