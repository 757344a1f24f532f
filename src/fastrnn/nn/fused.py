"""The fused plan: a model's epochs run in the compiled trainer.

When every layer, the loss, the optimiser and the callbacks allow it, ``fit`` runs each epoch
as one call into the trainer that ``fastrnn.backends.fused_trainer()`` provides: batching in
the drawn order, forward, BPTT, loss, penalties, clipping and the optimiser update all in
compiled code. Each layer says for itself whether and how it runs there
(``Layer.fused_spec``); this module collects those specs, checks what is not a layer's to say
(loss, optimiser, callbacks, data) and drives the trainer. The shuffling permutation and the
dropout masks are still drawn in Python from the same generators, in the same order, as the
Python path draws them, so a seeded fit gives the same weights on either path (to rounding).

Sample weights (``fit(sample_weight=...)``, and ``class_weight=``, which fit turns into sample
weights) go to the trainer as one weight per entry of the per-entry losses, (samples, output
steps), in the samples' original order: Keras's rule, as the Python path applies it (each
entry's loss times its weight, the batch's sum divided by its number of entries, zero weights
included).

Bidirectional wrappers and ``go_backwards=True`` recurrent layers run there too (the trainer
reverses what a backward layer reads, as the Python path does).

Stateful recurrent layers (``stateful=True``): each epoch the trainer starts from the layers'
stored states (``layer.states``, zeros when None) and carries them batch to batch, row by row,
whatever the shuffle put in the rows; afterwards the layers hold the last batch's final states,
as the Python path leaves them. The Python path refuses batches of another size than the
states' (a last partial batch, or states left by a call with other batches): such fits take it,
so that its error is the one raised.

A Masking first layer: the trainer computes each batch's step mask from its inputs and applies
the Python path's rules (``fastrnn.nn.layers.masking``); where the mask reaches the output it
weighs each batch's loss there (Keras's apply_mask, times the sample weights).
"""

from __future__ import annotations

import numpy as np

from fastrnn import backends as _backends
from fastrnn.nn import callbacks as _callbacks
from fastrnn.nn import losses as _losses
from fastrnn.nn import optimizers as _optimizers
from fastrnn.nn.layers import masking as _masking
from fastrnn.nn.layers.base import NotFused, _shape_str
from fastrnn.nn.layers.recurrent import Recurrent as _Recurrent

__all__ = ["FusedPlan", "plan"]

_FUSED_LOSSES = (_losses.MeanSquaredError, _losses.MeanAbsoluteError,
                 _losses.BinaryCrossentropy, _losses.CategoricalCrossentropy,
                 _losses.SparseCategoricalCrossentropy, _losses.GaussianNLL,
                 _losses.QuantileLoss)
_FUSED_OPTIMIZERS = (_optimizers.SGD, _optimizers.Adam, _optimizers.RMSprop)


def _optimizer_spec(opt):
    """The optimiser's hyperparameters for the trainer (read every epoch: callbacks may change
    the learning rate)."""
    spec = {"kind": opt.name, "learning_rate": opt.learning_rate,
            "clipnorm": opt.clipnorm, "clipvalue": opt.clipvalue,
            "global_clipnorm": opt.global_clipnorm}
    for k in ("beta_1", "beta_2", "epsilon", "momentum", "nesterov", "rho", "centered"):
        if hasattr(opt, k):
            spec[k] = getattr(opt, k)
    return spec


class FusedPlan:
    """A model's fused-training plan for one fit: the compiled trainer and what it needs each
    epoch from Python (the dropout masks, drawn exactly as the Python path draws them)."""

    loss_offset = 0.0   # added to each epoch's loss sum (losses.fused_target)

    def __init__(self, trainer, n_layers, dropouts, y, batch_size, out_shape, weights=None,
                 stateful=()):
        self.trainer, self.n_layers, self.dropouts = trainer, n_layers, dropouts
        self.y, self.batch_size, self.out_shape = y, batch_size, out_shape
        self.weights = weights   # (n, output steps) loss weights, or None
        self.stateful = list(stateful)   # the stateful recurrent layers, in plan order

    def states(self, dtype):
        """The stateful layers' states for the trainer, (batch_size, units) each in plan order
        (h, then c): copies of what they hold, zeros where they hold none."""
        out = []
        for unit in self.stateful:
            held = unit.states or [None] * unit._n_states
            out.extend(np.zeros((self.batch_size, unit.units), dtype) if s is None
                       else np.array(s, dtype=dtype, order="C") for s in held)
        return out

    def keep_states(self, arrays):
        """Give each stateful layer its part of `arrays` (as ``states`` ordered them)."""
        it = iter(arrays)
        for unit in self.stateful:
            unit.states = [next(it) for _ in range(unit._n_states)]

    def masks(self, n, dtype):
        """One inverted-dropout mask row per drawn sample for each layer with dropout.

        The Python path draws, batch after batch and layer after layer, ``rng.random((B, k))``
        from each layer's ``noise_rng()``. Drawing all of a generator's numbers for the epoch
        in one call gives the same stream; the reshapes below hand each layer its share,
        batch by batch. A Bidirectional draws for its halves (forward, then backward): its
        mask row is theirs side by side."""
        if not self.dropouts:
            return None
        parts = [None] * len(self.dropouts)
        groups = {}
        for pi, (li, layer, k, rate) in enumerate(self.dropouts):
            gen = layer.noise_rng()
            groups.setdefault(id(gen), (gen, []))[1].append((pi, k, rate))
        bs = self.batch_size
        full, rem = divmod(n, bs)
        for gen, members in groups.values():
            tot = sum(k for _, k, _ in members)
            u = gen.random(n * tot)
            head = u[:full * bs * tot].reshape(full, bs * tot)
            tail = u[full * bs * tot:]
            c = 0
            for pi, k, rate in members:
                rows = [head[:, c * bs:(c + k) * bs].reshape(full * bs, k),
                        tail[c * rem:(c + k) * rem].reshape(rem, k)]
                c += k
                keep = np.concatenate(rows) >= rate
                parts[pi] = (keep / (1.0 - rate)).astype(dtype)
        out = [None] * self.n_layers
        for li in {li for li, _, _, _ in self.dropouts}:
            mine = [p for p, d in zip(parts, self.dropouts) if d[0] == li]
            out[li] = mine[0] if len(mine) == 1 else np.ascontiguousarray(np.hstack(mine))
        return out

    def run_epoch(self, flat, opt, x, order, pred):
        n = x.shape[0]
        states = self.states(flat.dtype) if self.stateful else None
        try:
            res = self.trainer.epoch(flat, opt.state(), x, self.y, order,
                                     self.masks(n, flat.dtype), _optimizer_spec(opt),
                                     opt.iterations, self.batch_size, pred, self.weights,
                                     states)
        except KeyboardInterrupt as exc:
            # The weights hold the updates of the batches completed before Ctrl-C; the
            # optimiser's step count must follow them (Adam's bias correction reads it).
            done = getattr(exc, "fastrnn_epoch", None)
            if done:
                opt.iterations = done["iterations"]
            raise
        finally:
            if states is not None:   # updated in place batch by batch, as far as it got
                self.keep_states(states)
        opt.iterations = res["iterations"]
        res["loss_sum"] += self.loss_offset   # see losses.fused_target
        return res


def _batch_hooks(cb):
    return _callbacks.batch_hook(cb)   # also Keras's older on_batch_begin / on_batch_end


def _entry_weights(sample_weight, per_shape, dtype):
    """`sample_weight` as one weight per entry of the per-entry losses (`per_shape`: samples,
    then the output's steps if any), by the Python path's rule (``Loss._reduce``), or None
    when it does not fit (the Python path then raises its error)."""
    w = np.asarray(sample_weight, dtype=dtype)
    probe = np.broadcast_to(np.zeros((), dtype), per_shape)   # no memory
    vals, w2 = _losses.squeeze_or_expand(probe, w)
    try:
        if w2.ndim != vals.ndim or np.broadcast_shapes(vals.shape, w2.shape) != vals.shape:
            return None
    except ValueError:
        return None
    full = np.broadcast_to(w2, vals.shape).reshape(per_shape)
    return np.ascontiguousarray(full.reshape(per_shape[0], -1))


def plan(model, x, y, batch_size, cbs, sample_weight=None):
    """A FusedPlan for fitting `model` on the prepared (x, y) with the per-sample loss weights
    `sample_weight` (None, or as ``fit`` checked them), or (None, why not)."""
    backend, trainer_cls = _backends.fused_trainer()
    if backend is None:
        return None, trainer_cls
    for cb in cbs:
        hook = _batch_hooks(cb)
        if hook is not None:
            return None, (f"callback {type(cb).__name__} has {hook} (the core runs whole "
                          "epochs, with no per-batch hooks)")
    loss_cls = type(model.loss)
    if loss_cls not in _FUSED_LOSSES:
        return None, f"loss {loss_cls.__name__} has no fused implementation"
    opt = model.optimizer
    if type(opt) not in _FUSED_OPTIMIZERS:
        return None, f"optimizer {type(opt).__name__} has no fused implementation"
    if x.ndim not in (2, 3) or x.shape[1] == 0 or (x.ndim == 3 and x.shape[2] == 0):
        return None, (f"inputs of shape {_shape_str(x.shape)} (only (samples, time, features) "
                      "or (samples, features))")
    if not model._flat_ok():
        return None, "the weights are not in the model's flat buffer"

    specs, arrays, dropouts = [], [], []
    shape = (None,) + x.shape[1:]
    slices = iter(model._slices)
    for li, layer in enumerate(model.layers):
        offsets = [lo for _, (lo, _) in zip(layer.trainable_weights, slices)]
        try:
            fs = layer.fused_spec(shape, offsets, backend)
        except NotFused as exc:
            return None, str(exc)
        specs.append(fs.spec)
        arrays.extend(fs.arrays)
        if isinstance(fs.noise, list):   # drawn by sub-layers (Bidirectional's halves)
            dropouts.extend((li, sub, int(k), rate) for sub, k, rate in fs.noise)
        elif fs.noise is not None:
            dropouts.append((li, layer, int(fs.noise[0]), fs.noise[1]))
        shape = layer.compute_output_shape(shape)
    out_shape = tuple(int(s) for s in shape[1:])
    n = x.shape[0]
    # the targets as the core reads them: exactly the output's shape (Keras's broadcasting of
    # mse / mae targets resolved in Python; see losses.fused_target)
    y_fused, loss_offset, why = _losses.fused_target(model.loss, y, (n,) + out_shape,
                                                     model.dtype)
    if y_fused is None:
        return None, why
    masked_out = (isinstance(model.layers[0], _masking.Masking)
                  and _masking.output_mask(model.layers, x[:1]) is not None)
    if loss_offset and masked_out:
        return None, ("a step mask on the output with mse targets that the output broadcasts "
                      "against (the compiled trainer trains on their mean)")
    weights = None
    if sample_weight is not None:
        if masked_out and np.ndim(sample_weight) == 1:   # as masking.loss_weights takes them
            sample_weight = np.reshape(sample_weight, (-1, 1))
        if loss_offset:
            return None, ("sample_weight with mse targets that the output broadcasts against "
                          "(the compiled trainer trains on their mean)")
        weights = _entry_weights(sample_weight, (n,) + out_shape[:-1], model.dtype)
        if weights is None:
            return None, (f"sample_weight of shape {_shape_str(np.shape(sample_weight))} does "
                          f"not fit the per-entry losses {_shape_str((n,) + out_shape[:-1])}")
    bs = min(batch_size, n)
    stateful = [unit for layer in model.layers for unit in getattr(layer, "_children", (layer,))
                if isinstance(unit, _Recurrent) and unit.stateful]
    if stateful:
        if masked_out or isinstance(model.layers[0], _masking.Masking):
            return None, "a stateful recurrent layer under a Masking layer's step mask"
        if n % bs:
            return None, (f"stateful layers with a last batch of {n % bs} samples, not {bs} "
                          "(the Python path's rule: batches of one size)")
        for unit in stateful:
            if unit.states is not None and unit.states[0].shape[0] != bs:
                return None, (f"stateful {unit.describe()} holds states for batches of "
                              f"{unit.states[0].shape[0]} samples, not {bs}")
    options = getattr(model.loss, "fused_options", None)
    try:
        trainer = trainer_cls(model.dtype.name, specs, arrays, int(model._flat.size),
                              model.loss.name, bool(getattr(model.loss, "from_logits", False)),
                              bs, options() if options else None)
    except (ValueError, TypeError) as exc:  # a plan the trainer does not take: Python path
        return None, f"the compiled core rejected the training plan: {exc}"
    fused_plan = FusedPlan(trainer, len(specs), dropouts, y_fused, bs, out_shape, weights,
                           stateful)
    fused_plan.loss_offset = loss_offset
    return fused_plan, "every layer, the loss and the optimizer are supported"
