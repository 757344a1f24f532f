"""The backend registry: which implementations of the cell kernels exist and which one runs.

Backends, fastest first:

    "cuda"   fastrnn.backends._cuda, NVIDIA GPUs (opt-in: chosen only by name)
    "cpp"    fastrnn.backends._core, compiled C++ with OpenMP
    "numba"  Numba kernels, the fallback where the compiled core is missing
    "numpy"  fastrnn.backends.reference, plain NumPy: the ground truth, slow

``built()`` lists what is installed, ``available()`` what can run now, ``default()`` what
``backend=None`` picks: ``set_default(name)`` if called, else the ``FASTRNN_BACKEND`` environment
variable if set, else the first available of cpp, numba, numpy. The environment variable is read
once, on first use (reading os.environ costs more than a small kernel call); change the default
later with ``set_default``.

Every backend module provides the same six functions with the signatures of the compiled core
(see ``fastrnn/backends/numpy.py``), plus ``CAPABILITIES`` (``capabilities``) and ``threads()``.
"""

from __future__ import annotations

import importlib
import os
import warnings

from fastrnn import _params
from fastrnn import cells as _cells

NAMES = ("cuda", "cpp", "numba", "numpy")
_DEFAULT_ORDER = ("cpp", "numba", "numpy")
_MODULES = {name: f"fastrnn.backends.{name}" for name in NAMES}
_loaded: dict = {}
_warned = False
_default = None  # the resolved default backend name, once known


def _load(name):
    """The backend module, or None when it cannot be imported here."""
    if name not in _loaded:
        try:
            module = importlib.import_module(_MODULES[name])
            _loaded[name] = module if module.is_built() else None
        except ImportError:
            _loaded[name] = None
    return _loaded[name]


def _check_name(name):
    if not isinstance(name, str) or name not in _MODULES:
        error = ValueError if isinstance(name, str) else _params.ParameterError
        raise error(f"backend must be one of {', '.join(repr(n) for n in NAMES)}; got {name!r}")


def built():
    """Backends compiled in or importable, e.g. ['cpp', 'numba', 'numpy']."""
    return [n for n in NAMES if _load(n) is not None]


def available():
    """Backends usable now ('cuda' only where a GPU and driver are present)."""
    return [n for n in NAMES if _load(n) is not None and _load(n).is_available()]


def set_default(name):
    """Make `name` what backend=None uses from now on (None: back to the automatic choice)."""
    global _default
    if name is not None:
        get(name)  # raises if unknown or unusable here
    _default = name


def _automatic():
    global _warned
    for name in _DEFAULT_ORDER:
        module = _load(name)
        if module is not None and module.is_available():
            if name != "cpp" and not _warned:
                _warned = True
                warnings.warn(
                    f"fastrnn's compiled core (fastrnn.backends._core) is not available; using the {name!r} "
                    "backend, which is slower. Reinstall fastrnn with a C++ compiler present "
                    "(pip install --force-reinstall fastrnn) to get the fast path"
                    + ("" if name == "numba" else ", or pip install 'fastrnn[numba]' for a faster fallback")
                    + ".", RuntimeWarning, stacklevel=4)
            return name
    raise RuntimeError("no fastrnn backend is available")  # numpy always is; kept for safety


def default():
    """The backend used when backend=None: set_default(), else $FASTRNN_BACKEND (read on first
    use), else the fastest available CPU backend."""
    global _default
    if _default is None:
        env = os.environ.get("FASTRNN_BACKEND")
        if env:
            _check_name(env)
            _default = env
        else:
            _default = _automatic()
    return _default


def capabilities(name):
    """What backend `name` can do: {"cells": names of the cells it runs forward and backward,
    "fused_training": bool, "device": "cpu" or "gpu"}; no cells for a backend not built here.

    A backend runs a cell when it defines the cell's two functions (``<cell>_forward``,
    ``<cell>_backward`` from the cell table), so a new cell is supported exactly where its
    kernels exist."""
    _check_name(name)
    module = _load(name)
    if module is None:
        return {"cells": (), "fused_training": False, "device": None}
    runs = tuple(c.name for c in _cells.CELLS
                 if hasattr(module, c.forward_name) and hasattr(module, c.backward_name))
    return {"cells": runs, **module.CAPABILITIES}


def fused_trainer():
    """(name, Trainer class) of the first available backend that trains whole epochs in
    compiled code, or (None, why not)."""
    for name in _DEFAULT_ORDER:
        module = _load(name)
        if module is not None and module.is_available() and module.CAPABILITIES["fused_training"]:
            return name, module.Trainer
    return None, ("no backend here trains whole epochs in compiled code (the compiled core "
                  "fastrnn.backends._core is not installed, or was built without Trainer)")


def threads(name=None):
    """Threads backend `name` (None: default()) computes with: the compiled core's OpenMP
    threads (OMP_NUM_THREADS, else the core count), numba's pool, 1 for numpy, 0 for cuda (its
    work runs on the GPU). RuntimeError if the backend is not usable here, as ``get``."""
    return get(name)[1].threads()


def _forget():
    """Forget the resolved default (tests that change the environment or the registry)."""
    global _default
    _default = None


def get(name=None):
    """(name, module) of the backend called `name` (None: default()); ValueError if unknown,
    RuntimeError if known but not usable here."""
    if name is None:
        name = _default or default()
    try:
        module = _loaded.get(name)
    except TypeError:  # unhashable, so not a name (a list, ...)
        _check_name(name)
    if module is not None and module.is_available():
        return name, module
    _check_name(name)
    module = _load(name)
    if module is None:
        raise RuntimeError(f"backend {name!r} is not built in this installation; built: {built()}")
    if not module.is_available():
        raise RuntimeError(f"backend {name!r} is built but cannot run here: {module.why_unavailable()}")
    return name, module
