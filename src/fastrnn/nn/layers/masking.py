"""``Masking`` (Keras's layer) and how a model carries its mask (the Python path).

``Masking(mask_value=0.0)`` marks the time steps whose features all equal `mask_value`: its
output is the input with those steps zeroed, and the (batch, time) mask goes to the following
layers as Keras propagates it: recurrent layers and Bidirectional take it (the state carries
over masked steps, inside the kernels: see ``recurrent``) and pass it on when they return
sequences; Dense and
Dropout pass it on unchanged; a layer returning one vector per sample ends it. When the model's
output still carries the mask, the loss averages over the valid steps only (Keras's
``apply_mask``: valid entries weigh total / valid, masked ones 0, per batch).

fastrnn takes a Masking layer as the first layer of a Sequential model. Such a model trains in
the compiled trainer (``fused_spec``) by the same rules: it computes each batch's mask from the
batch's inputs, and weighs the loss by it where the output carries it.
"""

from __future__ import annotations

import numpy as np

from fastrnn.nn import registry as _registry
from fastrnn.nn.layers.base import FusedSpec, Layer, NotFused, _shape_str

__all__ = ["Masking", "has_masking", "forward", "output_mask", "loss_weights"]


@_registry.register("layer")
class Masking(Layer):
    """Zero the time steps whose features all equal `mask_value`; the mask goes on to the
    following layers (see the module docstring)."""

    _sequence_input = True

    def __init__(self, mask_value=0.0, **kwargs):
        super().__init__(**kwargs)
        self.mask_value = float(mask_value)
        self._keep = None

    def _check_input_shape(self, input_shape):
        if len(input_shape) != 3:
            raise ValueError(f"layer {self.name!r} (Masking) needs 3-D input (batch, time, "
                             f"features), got shape {_shape_str(input_shape)}")

    def compute_mask(self, x):
        """(batch, time) bool: True where some feature differs from mask_value."""
        return np.any(np.asarray(x) != self.mask_value, axis=-1)

    def forward(self, x, training=False):
        self._keep = self.compute_mask(x)[..., None].astype(x.dtype)
        return x * self._keep

    def backward(self, dy):
        self.grads = []
        return dy * self._keep

    def fused_spec(self, input_shape, offsets, backend):
        # No weights, so `trainable` does not matter; the trainer itself checks that the layer
        # comes first.
        if type(self) is not Masking:
            raise NotFused(f"{self.describe()} has no fused implementation")
        if len(input_shape) != 3:
            raise NotFused(f"{self.describe()} needs 3-D input")
        steps, feat = int(input_shape[1]), int(input_shape[2])
        return FusedSpec({"kind": "masking", "steps": steps, "in": feat, "units": feat,
                          "mask_value": self.mask_value}, [])

    def _config(self):
        return {"mask_value": self.mask_value}


def has_masking(layers):
    if not any(isinstance(layer, Masking) for layer in layers):
        return False
    if not isinstance(layers[0], Masking) or any(isinstance(l, Masking) for l in layers[1:]):
        raise ValueError("fastrnn takes one Masking layer, as the first layer of the model")
    return True


def _takes_mask(layer):
    """Recurrent layers and Bidirectional take a mask (and end it unless they return
    sequences)."""
    return hasattr(layer, "zero_output_for_mask") or hasattr(layer, "forward_layer")


def forward(layers, x, training):
    """Run `layers` (the first a Masking) carrying the mask; returns the output."""
    mask = None
    for layer in layers:
        if isinstance(layer, Masking):   # the mask of its input (Keras's), not of its output
            mask = layer.compute_mask(x)
            x = layer.forward(x, training=training)
        elif mask is not None and _takes_mask(layer):
            x = layer.forward(x, training=training, mask=mask)
            if not layer.return_sequences:
                mask = None
        else:
            x = layer.forward(x, training=training)
            if mask is not None and (x.ndim != 3 or x.shape[:2] != mask.shape):
                mask = None
    return x


def output_mask(layers, x):
    """The mask the model's output carries for inputs `x`, or None."""
    mask = layers[0].compute_mask(x)
    for layer in layers[1:]:
        if _takes_mask(layer) and not layer.return_sequences:
            return None
    return mask


def loss_weights(mask, sample_weight):
    """Keras's apply_mask for the default reduction: valid entries weigh total / valid."""
    valid = float(mask.sum())
    w = np.where(mask, mask.size / valid if valid else 0.0, 0.0)
    if sample_weight is not None:
        sw = np.asarray(sample_weight, np.float64)
        w = w * (sw.reshape(sw.shape[0], -1) if sw.ndim == 1 else sw)
    return w
