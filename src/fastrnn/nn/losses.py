"""Losses with Keras 3's definitions, shape rules and reductions, each with its gradient with
respect to the prediction.

Every loss is first computed per entry (over the last axis), then reduced (Keras's default
reduction "sum_over_batch_size": the mean over the remaining entries):

    mean_squared_error (mse)        mean((y - p) ** 2, axis=-1)
    mean_absolute_error (mae)       mean(|y - p|, axis=-1)
    binary_crossentropy             p clipped to [eps, 1 - eps]:
                                    mean(-(y log p + (1 - y) log(1 - p)), axis=-1)
    categorical_crossentropy        p / sum(p) clipped to [eps, 1 - eps]: -sum(y log p, axis=-1)
    sparse_categorical_crossentropy as categorical, with integer labels y

eps = 1e-7 (Keras's epsilon). With ``from_logits=True`` the cross-entropies take raw scores
and use the stable log-sigmoid / log-softmax forms instead of clipping. The gradients are
exact for these formulas (zero where the clip is active, as automatic differentiation of the
clip gives). ``label_smoothing`` (binary / categorical) is Keras's.

Shapes, as in Keras 3 (``squeeze_or_expand_to_same_rank``, then the loss's own rule): when the
ranks of y_true and y_pred differ by one and the longer one ends in an axis of size 1, that
axis is dropped (or, when the shorter is 1-D, added to it); then

    mse, mae          y_true and y_pred broadcast (NumPy rules): a (batch, 1) prediction
                      against a (batch, 11) target is averaged over the 11 targets
    binary, categorical cross-entropy   the shapes must be equal
    sparse categorical                  labels shaped like y_pred without its last axis
                                        (a trailing axis of 1 is dropped)

``sample_weight`` (``loss(y_true, y_pred, sample_weight)``) multiplies the per-entry losses
after the same squeeze-or-expand step (shape (batch,), (batch, 1) or like the per-entry
losses, e.g. (batch, time)); the default reduction still divides by the number of entries,
not by the sum of the weights (Keras's rule; ``reduction="mean_with_sample_weight"`` divides
by the weights' sum). Reductions: "sum_over_batch_size" (= "mean"), "sum",
"mean_with_sample_weight", and None / "none" (the per-entry array; not for training).

Distributional heads (fastrnn's own; Keras has no built-in equivalents). The model's output
has P blocks of k values along its last axis for k targets: ``y_pred[..., :k]`` is the first
block, ``y_pred.reshape(..., P, k)`` all of them; y_true has k values (a 1-D y_true with
k = 1 is read as (batch, 1)):

    gaussian_nll (GaussianNLL(eps=1e-6))
        P = 2: the means mu, then raw scales r; sigma = softplus(r) + eps, softplus computed
        as max(r, 0) + log1p(exp(-|r|)) (no overflow for any r), and per entry
        mean_k 0.5 log(2 pi) + log sigma + (y - mu)^2 / (2 sigma^2)
    quantile_loss (QuantileLoss(quantiles=(0.1, 0.5, 0.9)))
        P = Q quantile levels tau_1 < ... < tau_Q; block 0 is the lowest quantile q_1 and
        block j > 0 the raw increment to the next: q_{j+1} = q_j + softplus(raw_j), so the
        quantiles never cross, whatever the network outputs (softplus >= 0, and adding a
        non-negative float never decreases a float). Per entry, the mean over the Q quantiles
        and k targets of the pinball loss max(tau u, (tau - 1) u), u = y - q (its gradient at
        u = 0 is taken as -tau)

``GaussianNLL.mean_and_sigma(y_pred)`` and ``QuantileLoss.quantiles_of(y_pred)`` turn outputs
into the distribution's parameters. Both train on the fused path too.

``loss(y_true, y_pred, sample_weight=None) -> float``;
``loss.value_and_grad(y_true, y_pred, sample_weight=None) -> (float, dL/dy_pred)``.
``get(name_or_object)`` resolves Keras's names.
"""

from __future__ import annotations

from itertools import pairwise

import numpy as np

__all__ = [
    "EPSILON",
    "REDUCTIONS",
    "BinaryCrossentropy",
    "CategoricalCrossentropy",
    "GaussianNLL",
    "Loss",
    "MeanAbsoluteError",
    "MeanSquaredError",
    "QuantileLoss",
    "SparseCategoricalCrossentropy",
    "get",
    "serialize",
]

EPSILON = 1e-7
REDUCTIONS = ("sum_over_batch_size", "sum", "mean", "mean_with_sample_weight", None, "none")


def _shape(s):
    return "(" + ", ".join(str(d) for d in s) + ("," if len(s) == 1 else "") + ")"


def squeeze_or_expand(a, b):
    """Keras's ``squeeze_or_expand_to_same_rank(a, b)`` on arrays: when the ranks differ by
    exactly one and the longer array's last axis has size 1, drop that axis, unless the shorter
    array is 1-D, which then gets a trailing axis of 1 instead."""
    ra, rb = a.ndim, b.ndim
    if ra == rb + 1 and a.shape[-1] == 1:
        if rb == 1:
            b = b[:, None]
        else:
            a = a[..., 0]
    elif rb == ra + 1 and b.shape[-1] == 1:
        if ra == 1:
            a = a[:, None]
        else:
            b = b[..., 0]
    return a, b


def _labels(y, C):
    if y.dtype.kind == "f":
        if not np.all(np.mod(y, 1) == 0):
            raise ValueError("y for sparse_categorical_crossentropy must hold integer class "
                             "labels, got non-integer values")
    elif y.dtype.kind not in "iub":
        raise TypeError(f"y must hold integer class labels, got dtype {y.dtype}")
    y = y.astype(np.int64)
    if y.size and (y.min() < 0 or y.max() >= C):
        raise ValueError(f"y class labels must be in [0, {C - 1}] for an output of {C} "
                         f"classes, got values in [{y.min()}, {y.max()}]")
    return y


def _unbroadcast(g, shape):
    """Sum the broadcast gradient `g` back to `shape` (the shape of the array broadcast)."""
    if g.shape == tuple(shape):
        return g
    lead = g.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(lead + i for i, s in enumerate(shape)
                                      if s == 1 and g.shape[lead + i] != 1)
    return g.sum(axis=axes).reshape(shape)


def _match_target(y_true, y_pred, sparse=False):
    """Kept for callers that only know whether the loss is sparse: y_true aligned with y_pred
    by the rules of the cross-entropies (equal shapes) or of the sparse loss."""
    loss = SparseCategoricalCrossentropy() if sparse else BinaryCrossentropy()
    return loss.align(y_true, np.asarray(y_pred))[0]


class Loss:
    """Base class. Subclasses implement ``_per_sample_and_grad(y, p, need_grad) ->
    (per_entry, d per_entry / d p)`` on aligned arrays (per_entry has the broadcast shape
    without its last axis; the gradient has the broadcast shape)."""

    name = "loss"        # the Keras function name: what metrics and the compiled core go by
    sparse = False
    broadcasts = False   # mse / mae: y_true and y_pred broadcast against each other
    reduction = "sum_over_batch_size"
    label_smoothing = 0.0
    display_name = None  # Keras's name= argument (config only)

    def __init__(self, reduction="sum_over_batch_size", name=None, dtype=None):
        if reduction not in REDUCTIONS:
            raise ValueError(f"reduction must be one of {', '.join(map(repr, REDUCTIONS))}, "
                             f"got {reduction!r}")
        self.reduction = reduction
        self.display_name = None if name is None else str(name)
        self.dtype = dtype

    def __call__(self, y_true, y_pred, sample_weight=None):
        return self._reduce(y_true, y_pred, sample_weight, need_grad=False)[0]

    # -- shapes ----------------------------------------------------------------------------
    def align(self, y_true, y_pred):
        """(y, q): y_true and y_pred as the formula sees them (Keras's shape rules; q may be
        y_pred without a trailing axis of 1). Raises ValueError when the shapes do not fit."""
        y = np.asarray(y_true)
        p = np.asarray(y_pred)
        y, q = squeeze_or_expand(y, p)
        if self.sparse:
            if y.ndim == q.ndim and y.ndim and y.shape[-1] == 1:
                y = y[..., 0]
            if y.shape != q.shape[:-1]:
                raise ValueError(f"y must have integer class labels of shape "
                                 f"{_shape(q.shape[:-1])} to match the model's output "
                                 f"{_shape(p.shape)}, got {_shape(np.shape(y_true))}")
            return _labels(y, q.shape[-1]), q
        if y.dtype.kind not in "fiub":
            raise TypeError(f"y must hold numbers, got dtype {y.dtype}")
        if self.broadcasts:
            try:
                np.broadcast_shapes(y.shape, q.shape)
            except ValueError:
                raise ValueError(f"y of shape {_shape(np.shape(y_true))} does not broadcast "
                                 f"against the model's output {_shape(p.shape)} (Keras's "
                                 f"rule for {self.name})") from None
        elif y.shape != q.shape:
            raise ValueError(f"y must have shape {_shape(p.shape)} to match the model's output "
                             f"{_shape(p.shape)}, got {_shape(np.shape(y_true))}")
        return y.astype(q.dtype, copy=False), q

    def check_target(self, y_true, y_pred):
        """Raise ValueError when y_true does not fit y_pred under this loss's shape rule."""
        self.align(y_true, y_pred)

    # -- value and gradient ----------------------------------------------------------------
    def value_and_grad(self, y_true, y_pred, need_grad=True, sample_weight=None):
        """(loss, dloss / dy_pred shaped like y_pred) under the loss's reduction."""
        if self.reduction in (None, "none"):
            raise ValueError(f"{type(self).__name__}(reduction={self.reduction!r}) gives one "
                             "loss per entry; training needs a scalar reduction")
        return self._reduce(y_true, y_pred, sample_weight, need_grad)

    def _reduce(self, y_true, y_pred, sample_weight, need_grad):
        p = np.asarray(y_pred)
        if p.dtype not in (np.float32, np.float64):
            p = p.astype(np.float64)
        y, q = self.align(y_true, p)
        if self.label_smoothing:
            y = self._smooth(y)
        per, dper = self._per_sample_and_grad(y, q, need_grad)
        dvalue = None                   # d value / d per, broadcastable to per
        if sample_weight is None:
            if self.reduction in (None, "none"):
                return per, None
            total = float(per.sum(dtype=np.float64))
            divisor = 1.0 if self.reduction == "sum" else float(per.size)
            dvalue = 1.0
        else:
            w = np.asarray(sample_weight, dtype=p.dtype)
            vals, w2 = squeeze_or_expand(per, w)
            if w2.ndim != vals.ndim or np.broadcast_shapes(vals.shape, w2.shape) != vals.shape:
                raise ValueError(f"sample_weight of shape {_shape(w.shape)} does not fit the "
                                 f"per-entry losses of shape {_shape(per.shape)}: give "
                                 f"{_shape(per.shape[:1])}, {_shape(per.shape[:1] + (1,))}"
                                 + (f" or {_shape(per.shape)}" if per.ndim > 1 else ""))
            weighted = vals * w2
            if self.reduction in (None, "none"):
                return weighted.reshape(per.shape), None
            total = float(weighted.sum(dtype=np.float64))
            if self.reduction == "sum":
                divisor = 1.0
            elif self.reduction == "mean_with_sample_weight":
                divisor = float(w2.sum(dtype=np.float64))
            else:
                divisor = float(weighted.size)
            dvalue = np.broadcast_to(w2, vals.shape).reshape(per.shape)
        value = total / divisor if divisor else 0.0
        if dper is None:
            return value, None
        scale = (1.0 / divisor) if divisor else 0.0
        d = dper * (np.asarray(dvalue, dtype=p.dtype)[..., None] * scale
                    if np.ndim(dvalue) else dvalue * scale)
        grad = _unbroadcast(d, q.shape).reshape(p.shape)
        return value, grad.astype(p.dtype, copy=False)

    def get_config(self):
        return {"name": self.display_name or self.name, "reduction": self.reduction}

    def __repr__(self):
        return f"{type(self).__name__}(" + ", ".join(
            f"{k}={v!r}" for k, v in self.get_config().items()) + ")"


class MeanSquaredError(Loss):
    name = "mean_squared_error"
    broadcasts = True

    def _per_sample_and_grad(self, y, p, need_grad):
        d = p - y
        k = d.shape[-1]
        return (d * d).mean(axis=-1), (d * (2.0 / k) if need_grad else None)


class MeanAbsoluteError(Loss):
    name = "mean_absolute_error"
    broadcasts = True

    def _per_sample_and_grad(self, y, p, need_grad):
        d = p - y
        k = d.shape[-1]
        return np.abs(d).mean(axis=-1), (np.sign(d) / k if need_grad else None)


class _FromLogits(Loss):
    def __init__(self, from_logits=False, label_smoothing=0.0, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        self.from_logits = bool(from_logits)
        ls = float(label_smoothing)
        if not 0.0 <= ls <= 1.0:
            raise ValueError(f"label_smoothing must be in [0, 1], got {label_smoothing!r}")
        self.label_smoothing = ls
        if axis != -1:
            raise ValueError(f"axis must be -1 (the last axis) in fastrnn, got {axis!r}")

    def get_config(self):
        cfg = super().get_config()
        cfg["from_logits"] = self.from_logits
        if not self.sparse:
            cfg["label_smoothing"] = self.label_smoothing
        return cfg


class BinaryCrossentropy(_FromLogits):
    name = "binary_crossentropy"

    def _smooth(self, y):
        return y * (1.0 - self.label_smoothing) + 0.5 * self.label_smoothing

    def _per_sample_and_grad(self, y, p, need_grad):
        k = p.shape[-1]
        if self.from_logits:
            per = np.maximum(p, 0) - p * y + np.log1p(np.exp(-np.abs(p)))
            grad = None
            if need_grad:
                e = np.exp(-np.abs(p))
                sig = np.where(p >= 0, 1 / (1 + e), e / (1 + e))
                grad = (sig - y) / k
            return per.mean(axis=-1), grad
        eps = EPSILON
        q = np.clip(p, eps, 1 - eps)
        per = -(y * np.log(q) + (1 - y) * np.log(1 - q))
        grad = None
        if need_grad:
            inside = (p >= eps) & (p <= 1 - eps)
            grad = np.where(inside, -(y / q) + (1 - y) / (1 - q), 0) / k
        return per.mean(axis=-1), grad


class CategoricalCrossentropy(_FromLogits):
    name = "categorical_crossentropy"

    def _smooth(self, y):
        return y * (1.0 - self.label_smoothing) + self.label_smoothing / y.shape[-1]

    def _per_sample_and_grad(self, y, p, need_grad):
        """y: one-hot (or any distribution) shaped like p; sparse subclass passes labels."""
        if self.from_logits:
            m = p.max(axis=-1, keepdims=True)
            logsum = np.log(np.exp(p - m).sum(axis=-1, keepdims=True)) + m
            logq = p - logsum
            per = -(y * logq).sum(axis=-1)
            grad = np.exp(logq) * y.sum(axis=-1, keepdims=True) - y if need_grad else None
            return per, grad
        eps = EPSILON
        s = p.sum(axis=-1, keepdims=True)
        pn = p / s
        q = np.clip(pn, eps, 1 - eps)
        per = -(y * np.log(q)).sum(axis=-1)
        grad = None
        if need_grad:
            inside = (pn >= eps) & (pn <= 1 - eps)
            g = np.where(inside, -y / q, 0)                   # dL/dpn
            grad = (g - (g * pn).sum(axis=-1, keepdims=True)) / s
        return per, grad


class SparseCategoricalCrossentropy(CategoricalCrossentropy):
    name = "sparse_categorical_crossentropy"
    sparse = True

    def __init__(self, from_logits=False, ignore_class=None, axis=-1,
                 reduction="sum_over_batch_size", name=None, dtype=None):
        if ignore_class is not None:
            raise NotImplementedError("SparseCategoricalCrossentropy(ignore_class=...) is not "
                                      "implemented in fastrnn")
        super().__init__(from_logits=from_logits, axis=axis, reduction=reduction, name=name,
                         dtype=dtype)

    def _per_sample_and_grad(self, y, p, need_grad):
        onehot = np.zeros_like(p)
        np.put_along_axis(onehot, y[..., None], 1, axis=-1)
        return super()._per_sample_and_grad(onehot, p, need_grad)


def _softplus_sigmoid(r):
    """(softplus(r), sigmoid(r)) from e = exp(-|r|): finite for every finite r."""
    e = np.exp(-np.abs(r))
    return np.maximum(r, 0) + np.log1p(e), np.where(r >= 0, 1 / (1 + e), e / (1 + e))


class _Distributional(Loss):
    """A head with `outputs_per_target` output blocks of k values for k targets."""

    outputs_per_target = 1

    def align(self, y_true, y_pred):
        y = np.asarray(y_true)
        p = np.asarray(y_pred)
        P = self.outputs_per_target
        if y.dtype.kind not in "fiub":
            raise TypeError(f"y must hold numbers, got dtype {y.dtype}")
        if y.ndim == p.ndim - 1:
            y = y[..., None]
        k = p.shape[-1] // P if p.ndim else 0
        if (p.ndim == 0 or p.shape[-1] % P or y.shape != p.shape[:-1] + (k,)):
            want = p.shape[:-1] + (max(k, 1),)
            raise ValueError(f"{self.name}: the model's output {_shape(p.shape)} must hold "
                             f"{P} values per target ({P} blocks of k along its last axis), "
                             f"and y must have shape {_shape(want)} for it, got "
                             f"{_shape(np.shape(y_true))}")
        return y.astype(p.dtype, copy=False), p

    def fused_options(self):
        """The settings the compiled trainer takes for this loss (its ``loss_options``)."""
        return {}


class GaussianNLL(_Distributional):
    """Gaussian negative log-likelihood of a head that outputs, per target, a mean and a raw
    scale (module docstring): sigma = softplus(raw) + eps. A fastrnn extension."""

    name = "gaussian_nll"
    outputs_per_target = 2

    def __init__(self, eps=1e-6, reduction="sum_over_batch_size", name=None, dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        eps = float(eps)
        if not (np.isfinite(eps) and eps > 0):
            raise ValueError(f"eps must be a finite number > 0, got {eps!r}")
        self.eps = eps

    def mean_and_sigma(self, y_pred):
        """(mu, sigma), each (..., k), of outputs (..., 2k)."""
        p = np.asarray(y_pred)
        k = p.shape[-1] // 2
        sp, _ = _softplus_sigmoid(p[..., k:])
        return p[..., :k], sp + p.dtype.type(self.eps)

    def _per_sample_and_grad(self, y, p, need_grad):
        k = p.shape[-1] // 2
        mu, r = p[..., :k], p[..., k:]
        sp, sig = _softplus_sigmoid(r)
        sigma = sp + p.dtype.type(self.eps)
        z = (y - mu) / sigma
        half_log_2pi = p.dtype.type(0.5 * np.log(2 * np.pi))
        per = (half_log_2pi + np.log(sigma) + p.dtype.type(0.5) * z * z).sum(axis=-1) / k
        if not need_grad:
            return per, None
        grad = np.concatenate([-z / sigma / k, (1 - z * z) / sigma * sig / k], axis=-1)
        return per, grad

    def fused_options(self):
        return {"eps": self.eps}

    def get_config(self):
        cfg = super().get_config()
        cfg["eps"] = self.eps
        return cfg


class QuantileLoss(_Distributional):
    """Pinball loss of a non-crossing quantile head (module docstring): the lowest quantile
    plus softplus increments. `quantiles`: increasing levels in (0, 1). A fastrnn
    extension."""

    name = "quantile_loss"

    def __init__(self, quantiles=(0.1, 0.5, 0.9), reduction="sum_over_batch_size", name=None,
                 dtype=None):
        super().__init__(reduction=reduction, name=name, dtype=dtype)
        try:
            qs = tuple(float(q) for q in np.atleast_1d(np.asarray(quantiles, np.float64)))
        except (TypeError, ValueError):
            raise TypeError(f"quantiles must be a sequence of numbers, got {quantiles!r}") from None
        if not qs or not all(0 < q < 1 for q in qs) or any(b <= a for a, b in pairwise(qs)):
            raise ValueError(f"quantiles must be one or more levels increasing strictly within "
                             f"(0, 1), got {quantiles!r}")
        self.quantiles = qs

    @property
    def outputs_per_target(self):
        return len(self.quantiles)

    def _blocks(self, p):
        Q = len(self.quantiles)
        b = p.reshape(p.shape[:-1] + (Q, p.shape[-1] // Q))
        sp, sig = _softplus_sigmoid(b[..., 1:, :])
        q = np.empty_like(b)
        q[..., 0, :] = b[..., 0, :]
        for j in range(1, Q):   # one addition after another, as the compiled trainer adds
            q[..., j, :] = q[..., j - 1, :] + sp[..., j - 1, :]
        return q, sig

    def quantiles_of(self, y_pred):
        """The quantiles (..., k, Q), non-decreasing along the last axis, of outputs (..., Q k)."""
        p = np.asarray(y_pred)
        q, _ = self._blocks(p)
        return np.swapaxes(q, -1, -2)

    def _per_sample_and_grad(self, y, p, need_grad):
        Q = len(self.quantiles)
        q, sig = self._blocks(p)
        k = q.shape[-1]
        tau = np.asarray(self.quantiles, p.dtype)[:, None]
        u = y[..., None, :] - q
        rho = np.maximum(tau * u, (tau - 1) * u)
        per = rho.sum(axis=(-2, -1)) / p.dtype.type(Q * k)
        if not need_grad:
            return per, None
        dq = np.where(u < 0, 1 - tau, -tau) / p.dtype.type(Q * k)
        suffix = np.flip(np.cumsum(np.flip(dq, -2), axis=-2), -2)   # sum over quantiles >= j
        g = np.empty_like(q)
        g[..., 0, :] = suffix[..., 0, :]
        g[..., 1:, :] = suffix[..., 1:, :] * sig
        return per, g.reshape(p.shape)

    def fused_options(self):
        return {"quantiles": list(self.quantiles)}

    def get_config(self):
        cfg = super().get_config()
        cfg["quantiles"] = list(self.quantiles)
        return cfg


_NAMES = {
    "mse": MeanSquaredError, "mean_squared_error": MeanSquaredError,
    "mae": MeanAbsoluteError, "mean_absolute_error": MeanAbsoluteError,
    "binary_crossentropy": BinaryCrossentropy,
    "categorical_crossentropy": CategoricalCrossentropy,
    "sparse_categorical_crossentropy": SparseCategoricalCrossentropy,
    "gaussian_nll": GaussianNLL,
    "quantile_loss": QuantileLoss, "pinball_loss": QuantileLoss,
}
_CLASSES = {c.__name__: c for c in set(_NAMES.values())}


def get(identifier):
    """A Loss from a Keras name, an instance or {'class_name', 'config'}."""
    if isinstance(identifier, Loss):
        return identifier
    if isinstance(identifier, str) and identifier in _NAMES:
        return _NAMES[identifier]()
    if isinstance(identifier, dict) and identifier.get("class_name") in _CLASSES:
        config = dict(identifier.get("config") or {})
        config.pop("fn", None)   # Keras 3 configs name the loss function too
        return _CLASSES[identifier["class_name"]](**config)
    raise ValueError(f"loss must be one of {', '.join(repr(n) for n in _NAMES)} or a "
                     f"fastrnn.losses.Loss; got {identifier!r}")


def serialize(loss):
    return {"class_name": type(loss).__name__, "config": loss.get_config()}


def fused_target(loss, y, out_shape, dtype):
    """What the compiled trainer needs for the targets `y` of a model with outputs of
    `out_shape` (batch first): (y_fused, loss_offset, "") with y_fused of exactly the output's
    shape (labels: without the class axis), or (None, 0.0, the reason) for the Python path.

    A target that broadcasts up to the output is tiled (exact). For mse, an output that
    broadcasts up to the target (a (batch, 1) prediction of a (batch, 11) target) trains on the
    mean target ybar: mean_j (p - y_j)^2 = (p - ybar)^2 + mean_j (y_j - ybar)^2, so gradients
    are the same and `loss_offset` (the epoch's sum of the second term, per sample) is added
    to the reported loss."""
    if getattr(loss, "reduction", "mean") not in ("sum_over_batch_size", "mean"):
        return None, 0.0, f"loss reduction {loss.reduction!r} has no fused implementation"
    if getattr(loss, "label_smoothing", 0.0):
        return None, 0.0, "label_smoothing has no fused implementation"
    probe = np.broadcast_to(np.zeros((), dtype), out_shape)   # no memory
    y_al, q = loss.align(y, probe)
    if q.shape != probe.shape and loss.sparse:   # the output's trailing axis of 1 was dropped
        return None, 0.0, f"sparse labels for an output of shape {_shape(out_shape)}"
    if loss.sparse:
        return np.ascontiguousarray(y_al, dtype=np.int64), 0.0, ""
    if isinstance(loss, _Distributional):   # align demands k targets of P outputs each
        return np.ascontiguousarray(y_al, dtype=dtype), 0.0, ""
    if y_al.ndim != q.ndim or y_al.shape[0] != q.shape[0]:
        return None, 0.0, (f"targets of shape {_shape(np.shape(y))} broadcast across the batch "
                           f"axis of the output {_shape(out_shape)}")
    full = np.broadcast_shapes(y_al.shape, q.shape)
    if full == q.shape:
        tiled = np.broadcast_to(y_al, q.shape).reshape(out_shape)
        return np.ascontiguousarray(tiled, dtype=dtype), 0.0, ""
    if not isinstance(loss, MeanSquaredError):
        return None, 0.0, (f"{loss.name} of targets {_shape(np.shape(y))} broadcast against "
                           f"outputs {_shape(out_shape)} has no fused implementation")
    yb = np.broadcast_to(y_al, full).astype(np.float64)
    axes = tuple(i for i, (s, f) in enumerate(zip(q.shape, full)) if s != f)
    ybar = yb.mean(axis=axes, keepdims=True)
    spread = float(((yb - ybar) ** 2).sum()) / float(np.prod(full[1:]))
    y_fused = np.ascontiguousarray(ybar.reshape(out_shape), dtype=dtype)
    return y_fused, spread, ""
