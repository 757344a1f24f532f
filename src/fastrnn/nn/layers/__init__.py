"""Keras-style layers: SimpleRNN, LSTM, GRU, Dense, Dropout, Bidirectional, Masking, and Input.

Arguments, defaults, weight shapes and get_weights() order are Keras's, so weights copied
from a Keras model give the same outputs:

    SimpleRNN  [kernel (I, H), recurrent_kernel (H, H), bias (H,)]
    LSTM       [kernel (I, 4H), recurrent_kernel (H, 4H), bias (4H,)]        gates i, f, c, o
    GRU        [kernel (I, 3H), recurrent_kernel (H, 3H), bias (2, 3H)]      gates z, r, h
               (bias (3H,) when reset_after=False)
    Dense      [kernel (in, units), bias (units,)]
    (no bias entry when use_bias=False: the cell then runs with a zero bias that is not trained)

Both kinds of recurrent dropout act only in training (``fit``, or ``layer(x, training=True)``);
see ``recurrent``. One file per family: ``base`` (the protocol a model relies on, Input,
(de)serialisation), ``core`` (Dense, Dropout), ``recurrent`` (the cells).
"""

from fastrnn.nn.layers.base import (
                                    FusedSpec,
                                    Input,
                                    InputLayer,
                                    Layer,
                                    NotFused,
                                    deserialize,
                                    serialize,
)
from fastrnn.nn.layers.core import Dense, Dropout
from fastrnn.nn.layers.masking import Masking
from fastrnn.nn.layers.recurrent import GRU, LSTM, RNN_ACTIVATIONS, Recurrent, SimpleRNN
from fastrnn.nn.layers.wrappers import Bidirectional

__all__ = ["Layer", "InputLayer", "Input", "Dense", "Dropout", "SimpleRNN", "LSTM", "GRU",
           "Bidirectional", "Masking",
           "RNN_ACTIVATIONS", "serialize", "deserialize",
           # for custom layers: the recurrent base and the fused-path protocol
           "Recurrent", "NotFused", "FusedSpec"]
