"""Saving and loading models: one file, architecture + weights + compile settings + optimiser
state.

The file is a NumPy ``.npz`` archive (an uncompressed zip) written at exactly the path given
(no extension is added) via a temporary file and an atomic rename. It holds:

    fastrnn_model.json   the JSON header (stored as uint8 bytes): format name and version,
                         the model config, dtype, the compile settings (optimizer, loss,
                         metrics) and the number of weight / optimiser-state arrays
    weight_00000 ...     the weights, in model.get_weights() order
    optstate_00000 ...   the optimiser's slot arrays (Adam's m and v, ...), if any

Loading never unpickles (``allow_pickle=False``) and never executes anything from the file:
model, layer, loss and optimiser classes are looked up by name among fastrnn's own (the model
and layer classes through ``fastrnn.nn.registry``, so this module imports no model module:
the model calls down into it). A missing,
corrupted, truncated or foreign file raises a ValueError (FileNotFoundError if absent) that
says which.
"""

from __future__ import annotations

import json
import os
import tempfile
import zipfile

import numpy as np

from fastrnn._version import __version__ as _VERSION
from fastrnn.nn import losses, optimizers
from fastrnn.nn import registry as _registry

__all__ = ["save_model", "load_model", "FORMAT", "FORMAT_VERSION"]

FORMAT = "fastrnn-model"
FORMAT_VERSION = 1
_HEADER = "fastrnn_model.json"


def save_model(model, filepath):
    if not isinstance(model, _registry.classes("model")):
        raise TypeError(f"model must be a fastrnn Sequential, got {type(model).__name__}")
    model._require_built()
    filepath = os.fspath(filepath)
    weights = model.get_weights()
    compiled = None
    opt_state = []
    if model.optimizer is not None and model.loss is not None:
        compiled = {"optimizer": optimizers.serialize(model.optimizer),
                    "loss": losses.serialize(model.loss), "metrics": list(model._metric_names),
                    "iterations": int(model.optimizer.iterations)}
        opt_state = model.optimizer.state()
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "fastrnn_version": _VERSION,
              "model": {"class_name": type(model).__name__, "config": model.get_config()},
              "dtype": model.dtype.name, "n_weights": len(weights), "compile": compiled,
              "n_optimizer_arrays": len(opt_state)}
    arrays = {_HEADER: np.frombuffer(json.dumps(header).encode("utf-8"), dtype=np.uint8)}
    arrays.update({f"weight_{i:05d}": w for i, w in enumerate(weights)})
    arrays.update({f"optstate_{i:05d}": s for i, s in enumerate(opt_state)})
    directory = os.path.dirname(os.path.abspath(filepath))
    fd, tmp = tempfile.mkstemp(prefix=".fastrnn-save-", dir=directory)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _bad(path, why):
    return ValueError(f"{path!r} is not a readable fastrnn model file: {why}")


def load_model(filepath, backend=None, compile=True):
    """The model saved at `filepath`, with its weights (identical predictions) and, when it
    was compiled and ``compile=True``, its optimizer, loss, metrics and optimiser state."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"no such model file: {filepath!r}")
    with open(filepath, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise _bad(filepath, "it is not a zip/npz archive (wrong magic bytes)")
    try:
        archive = np.load(filepath, allow_pickle=False)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _bad(filepath, f"the archive is corrupted or truncated ({exc})") from None
    with archive:
        names = set(archive.files)
        if _HEADER not in names:
            raise _bad(filepath, f"it has no {_HEADER!r} entry (a foreign .npz?)")
        try:
            raw = archive[_HEADER]
            header = json.loads(raw.tobytes().decode("utf-8"))
        except Exception as exc:
            raise _bad(filepath, f"its header cannot be read ({exc})") from None
        if not isinstance(header, dict) or header.get("format") != FORMAT:
            raise _bad(filepath, "its header does not name the fastrnn-model format")
        if header.get("format_version") != FORMAT_VERSION:
            raise _bad(filepath, f"format version {header.get('format_version')!r} is not "
                                 f"supported (this fastrnn reads version {FORMAT_VERSION})")
        try:
            n_w = int(header["n_weights"])
            n_s = int(header.get("n_optimizer_arrays", 0))
            weights = [archive[f"weight_{i:05d}"] for i in range(n_w)]
            states = [archive[f"optstate_{i:05d}"] for i in range(n_s)]
        except KeyError as exc:
            raise _bad(filepath, f"an array is missing ({exc})") from None
        except Exception as exc:
            raise _bad(filepath, f"an array cannot be read ({exc})") from None
    spec = header.get("model")
    model_cls = _registry.lookup("model", spec.get("class_name")) if isinstance(spec, dict) else None
    if model_cls is None:
        raise _bad(filepath, "its model is not a Sequential")
    for w in weights + states:
        if w.dtype.kind != "f":
            raise _bad(filepath, f"an array has dtype {w.dtype}, not a float dtype")
    try:
        model = model_cls.from_config(spec.get("config"), backend=backend)
        model.set_weights(weights)
    except (TypeError, ValueError) as exc:
        raise _bad(filepath, f"its architecture or weights are inconsistent ({exc})") from None
    compiled = header.get("compile")
    if compile and compiled:
        try:
            model.compile(optimizer=optimizers.get(compiled["optimizer"]),
                          loss=losses.get(compiled["loss"]), metrics=compiled.get("metrics"))
            if states or compiled.get("iterations"):
                model.optimizer.set_state(compiled.get("iterations", 0), states,
                                          [model._flat] if states else model.trainable_weights)
        except (TypeError, ValueError, KeyError) as exc:
            raise _bad(filepath, f"its compile settings are invalid ({exc})") from None
    return model
