"""Keras's layer arguments the base protocol does not carry: ``activity_regularizer`` and the
weight constraints (``kernel_constraint``, ``recurrent_constraint``, ``bias_constraint``).

A layer mixes ``KerasExtras`` in before ``Layer`` and calls ``_init_extras`` from its
``__init__``:

    activity_regularizer   Keras's rule: the penalty reg(output) / batch_size is added to the
                           loss of the batch the output belongs to (training and evaluation);
                           its gradient enters ``backward`` through ``_activity_grad``
    *_constraint           applied to the named weight after every optimiser update
                           (``apply_constraints``, called by fit / train_on_batch)

Either makes the layer train on the Python path (``_extras_not_fused``).
"""

from __future__ import annotations

import numpy as np

from fastrnn.nn import constraints as _constraints
from fastrnn.nn import regularizers as _regs
from fastrnn.nn.layers.base import NotFused

__all__ = ["KerasExtras"]


class KerasExtras:
    """activity_regularizer and weight constraints for a Layer subclass."""

    activity_regularizer = None
    _constraint_args = ()          # the weight names that take a constraint, in config order
    _activity_value = 0.0
    _activity_dy = None

    def _init_extras(self, activity_regularizer=None, **constraints):
        """`constraints`: Keras's argument name -> (the weight it applies to, its value)."""
        self.activity_regularizer = _regs.get(activity_regularizer, "activity_regularizer")
        self._constraint_args = tuple((arg, wname) for arg, (wname, _) in constraints.items())
        for arg, (_, value) in constraints.items():
            setattr(self, arg, _constraints.get(value, arg))

    # -- activity regularisation -----------------------------------------------------------
    def _activity(self, y):
        """Record the penalty of output `y` (and its gradient); returns `y`."""
        reg = self.activity_regularizer
        if reg is None:
            self._activity_value, self._activity_dy = 0.0, None
            return y
        batch = y.shape[0] if y.ndim else 1
        self._activity_value = float(reg(y)) / batch if batch else 0.0
        self._activity_dy = (np.asarray(reg.gradient(y)) / batch).astype(y.dtype, copy=False)
        return y

    def _activity_grad(self, dy):
        """dL/d(output) plus the activity penalty's share."""
        return dy if self._activity_dy is None else dy + self._activity_dy

    def penalty(self):
        """The weights' penalties plus the activity penalty of the last forward pass."""
        return super().penalty() + self._activity_value

    # -- constraints -----------------------------------------------------------------------
    def _constraints(self):
        """(argument name, weight name, constraint or None) for each constraint argument."""
        return [(arg, wname, getattr(self, arg, None)) for arg, wname in self._constraint_args]

    def apply_constraints(self):
        """Project each constrained weight in place (after an optimiser update)."""
        if not self.trainable or not self.built:
            return
        names = self.weight_names()
        for _, wname, c in self._constraints():
            if c is not None and wname in names:
                w = self.weights[names.index(wname)]
                w[...] = c(w)

    def _extras_not_fused(self):
        if self.activity_regularizer is not None:
            raise NotFused(f"{self.describe()} has an activity_regularizer")
        if any(c is not None for _, _, c in self._constraints()):
            raise NotFused(f"{self.describe()} has a weight constraint")

    def _extras_config(self):
        cfg = {"activity_regularizer": _regs.serialize(self.activity_regularizer)}
        for arg, _, c in self._constraints():
            cfg[arg] = _constraints.serialize(c)
        return cfg
