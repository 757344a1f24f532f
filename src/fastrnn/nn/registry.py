"""Classes by registered name: how configs and model files name fastrnn's layers and models.

The layer and model modules register their classes here (``@register("layer")``); saving and
``deserialize`` look them up by name. Only registered classes are ever built from a file, so
a config cannot name an arbitrary callable. The registry sits below the model and the layers
and imports neither: ``saving`` can find ``Sequential`` without importing it.
"""

from __future__ import annotations

__all__ = ["register", "lookup", "names", "classes"]

_TABLE: dict = {}   # kind -> {name: class}, in registration order


def register(kind, name=None):
    """Class decorator: make the class findable as `name` (default: its ``__name__``) among
    the `kind` ("layer", "model")."""
    def deco(cls):
        _TABLE.setdefault(kind, {})[name or cls.__name__] = cls
        return cls
    return deco


def lookup(kind, name):
    """The `kind` class registered as `name`, or None."""
    return _TABLE.get(kind, {}).get(name) if isinstance(name, str) else None


def names(kind):
    return list(_TABLE.get(kind, {}))


def classes(kind):
    return tuple(_TABLE.get(kind, {}).values())
