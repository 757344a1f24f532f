"""The nn wing's numeric option check: ``_params``'s one message format, with the wing's
long-standing split of errors (a value that is not a number at all raises TypeError, a number
outside its range ValueError)."""

from __future__ import annotations

from fastrnn import _params

__all__ = ["number"]


def number(value, name, spec):
    """float(value) checked against the ``_params.Real`` `spec`."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        raise TypeError(f"{name} must be {spec.describe()}, got {value!r}") from None
    return _params.check(v, name, spec)
