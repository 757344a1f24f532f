"""Saving and loading models: one file, architecture + weights + compile settings + optimiser
state.

The file is a NumPy ``.npz`` archive (an uncompressed zip) written at exactly the path given
(no extension is added) via a temporary file and an atomic rename. A new file gets the mode
the umask gives any new file; an overwritten file keeps its mode. It holds:

    fastrnn_model.json   the JSON header (stored as uint8 bytes): format name and version,
                         the model config, dtype, the compile settings (optimizer, loss,
                         metrics) and the number of weight / optimiser-state arrays
    weight_00000 ...     the weights, in model.get_weights() order
    optstate_00000 ...   the optimiser's slot arrays (Adam's m and v, ...), if any

Loading never unpickles (``allow_pickle=False``) and never executes anything from the file:
model, layer, loss and optimiser classes are looked up by name among fastrnn's own (the model
and layer classes through ``fastrnn.nn.registry``, so this module imports no model module:
the model calls down into it). A missing, corrupted, truncated or foreign file raises a
ValueError (FileNotFoundError if absent) that says which.

Loading costs what the file holds, whatever the file claims. Before anything is built,
allocated or initialised, the zip directory and the ``.npy`` header of every entry (shape,
dtype; read from the entry's first bytes) are checked: each entry's declared size must match
its header and, for stored entries, lie inside the file; compressed entries may inflate to
``MAX_INFLATED_BYTES`` in all (fastrnn writes none), so a deflate bomb is refused from the
directory. Then the weight shapes the architecture would create are planned without
allocating them (``planned_weight_shapes``) and compared with the entries' shapes, one weight
at a time, so that a 600-byte file naming ``LSTM(4000)`` fails at once. Only then is the
model built, without running its initialisers (every weight is set from the file right
after), and the arrays read. Weights and optimiser state must be finite.
"""

from __future__ import annotations

import json
import math
import os
import secrets
import stat
import zipfile
import zlib

import numpy as np

from fastrnn._version import __version__ as _VERSION
from fastrnn.nn import archives as _archives
from fastrnn.nn import losses, optimizers
from fastrnn.nn import registry as _registry
from fastrnn.nn.layers import base as _base

__all__ = ["save_model", "load_model", "FORMAT", "FORMAT_VERSION", "MAX_INFLATED_BYTES"]

FORMAT = "fastrnn-model"
FORMAT_VERSION = 1
_HEADER = "fastrnn_model.json"
MAX_INFLATED_BYTES = _archives.MAX_INFLATED_BYTES
_MAX_HEADER_BYTES = 16 << 20       # the JSON header entry
_NPY_HEADER_MAX = 10000            # numpy's own default bound on a .npy header


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
    fd, tmp = _new_file_beside(filepath)
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, filepath)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _new_file_beside(filepath):
    """(fd, path) of a new temporary file in `filepath`'s directory, to be renamed onto it.
    Created with mode 0o666, so that the umask applies as to any new file (mkstemp's 0o600
    would be carried onto `filepath` by the rename); an existing file's mode is kept."""
    directory = os.path.dirname(os.path.abspath(filepath))
    try:
        mode = stat.S_IMODE(os.stat(filepath).st_mode)
    except FileNotFoundError:
        mode = None
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    while True:
        tmp = os.path.join(directory, f".fastrnn-save-{secrets.token_hex(8)}")
        try:
            fd = os.open(tmp, flags, 0o666)
        except FileExistsError:
            continue
        if mode is not None:
            try:
                os.chmod(tmp, mode)
            except BaseException:
                os.close(fd)
                os.unlink(tmp)
                raise
        return fd, tmp


def _bad(path, why):
    return ValueError(f"{path!r} is not a readable fastrnn model file: {why}")


class _Entry:
    """A zip entry holding one .npy array: its info and the shape and dtype of its header."""

    def __init__(self, info, shape, dtype):
        self.info, self.shape, self.dtype = info, shape, dtype


def _check_directory(path, zf):
    """The entries by name (without '.npy'); ValueError for sizes the file cannot back."""
    members = _archives.check_directory(path, zf, _bad)
    return {name.removesuffix(".npy"): info for name, info in members.items()}


def _read_entry_header(path, zf, name, info):
    """An _Entry from the .npy header at the start of `info` (decompressing only that much)."""
    readers = {(1, 0): np.lib.format.read_array_header_1_0,
               (2, 0): np.lib.format.read_array_header_2_0}
    try:
        with zf.open(info) as f:
            version = np.lib.format.read_magic(f)
            if version not in readers:
                raise ValueError(f".npy format version {version} is not supported")
            shape, _, dtype = readers[version](f, _NPY_HEADER_MAX)
            offset = f.tell()
    except (ValueError, EOFError, zlib.error) as exc:
        raise _bad(path, f"entry {name!r} has no readable .npy header ({exc})") from None
    if dtype.hasobject:
        raise _bad(path, f"entry {name!r} holds Python objects (fastrnn never unpickles)")
    nbytes = math.prod(shape) * dtype.itemsize
    if offset + nbytes != info.file_size:
        raise _bad(path, f"entry {name!r} declares shape {shape} ({nbytes} bytes of data) but "
                         f"holds {info.file_size - offset} bytes")
    return _Entry(info, tuple(int(s) for s in shape), dtype)


def _read_array(path, zf, name, entry):
    try:
        with zf.open(entry.info) as f:
            return np.lib.format.read_array(f, allow_pickle=False,
                                            max_header_size=_NPY_HEADER_MAX)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError, zlib.error) as exc:
        raise _bad(path, f"array {name!r} cannot be read ({exc})") from None


def _read_header(path, zf, entries):
    if _HEADER not in entries:
        raise _bad(path, f"it has no {_HEADER!r} entry (a foreign .npz?)")
    info = entries[_HEADER]
    if info.file_size > _MAX_HEADER_BYTES:
        raise _bad(path, f"its header entry has {info.file_size} bytes (at most "
                         f"{_MAX_HEADER_BYTES >> 20} MiB)")
    entry = _read_entry_header(path, zf, _HEADER, info)
    if entry.dtype != np.uint8 or len(entry.shape) != 1:
        raise _bad(path, "its header entry is not a byte string")
    raw = _read_array(path, zf, _HEADER, entry)
    try:
        header = json.loads(raw.tobytes().decode("utf-8"))
    except Exception as exc:   # noqa: BLE001 - bad UTF-8, bad JSON, nesting too deep, ...
        raise _bad(path, f"its header cannot be read ({exc})") from None
    if not isinstance(header, dict) or header.get("format") != FORMAT:
        raise _bad(path, "its header does not name the fastrnn-model format")
    if header.get("format_version") != FORMAT_VERSION:
        raise _bad(path, f"format version {header.get('format_version')!r} is not "
                         f"supported (this fastrnn reads version {FORMAT_VERSION})")
    return header


def _count(header, key, path, default=None):
    value = header.get(key, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise _bad(path, f"its header's {key!r} is not a count: {value!r}")
    return value


def _array_entries(path, zf, entries, prefix, n):
    """The _Entry of prefix_00000 .. (n of them), from their headers alone; float dtypes."""
    out = []
    for i in range(n):
        name = f"{prefix}_{i:05d}"
        if name not in entries:
            raise _bad(path, f"an array is missing ({name!r}; the header names {n})")
        entry = _read_entry_header(path, zf, name, entries[name])
        if entry.dtype.kind != "f":
            raise _bad(path, f"an array has dtype {entry.dtype}, not a float dtype")
        out.append(entry)
    return out


class _Mismatch(ValueError):
    pass


def _planned_trainable_size(path, config, weights):
    """Compare the weight shapes `config` would build with the file's `weights` entries, one
    planned weight at a time, allocating nothing; the number of trainable values (the
    optimiser's slot size), or None when a layer's weights cannot be planned (building it
    will then check)."""
    if not isinstance(config, dict) or not isinstance(config.get("layers"), list):
        return None
    try:
        stack = [_base.deserialize(spec) for spec in config["layers"]]
        inp = (_base.InputLayer(**config["input"]) if isinstance(config.get("input"), dict)
               else None)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"its architecture or weights are inconsistent ({exc})") from None
    if inp is not None:
        shape = (None,) + tuple(inp.input_shape_arg)
    elif stack and stack[0].input_shape_arg is not None:
        shape = (None,) + tuple(stack[0].input_shape_arg)
    elif isinstance(config.get("build_input_shape"), list):
        shape = tuple(config["build_input_shape"])
    else:
        return None            # an unbuilt model: nothing will be allocated
    explicit = [l._dtype_arg for l in ([inp] if inp else []) + stack if l._dtype_arg is not None]
    dtype = explicit[0] if explicit else np.dtype(np.float32)
    pending = iter(enumerate(weights))
    trainable = 0
    for layer in stack:
        def check(wname, want, layer=layer):
            i, entry = next(pending, (None, None))
            if entry is None:
                raise _Mismatch(f"layer {layer.name!r} needs more weight arrays than the "
                                f"{len(weights)} in the file")
            if entry.shape != want:
                raise _Mismatch(f"layer {layer.name!r}: its {wname} must have shape {want}, "
                                f"the file's weight_{i:05d} has shape {entry.shape}")
        try:
            planned = _base.planned_weight_shapes(layer, shape, dtype, check)
            shape = layer.compute_output_shape(shape)
        except _Mismatch as exc:
            raise _bad(path, f"its architecture and weights do not match ({exc})") from None
        except Exception:   # noqa: BLE001 - weights that cannot be planned: building checks
            return None
        if layer.trainable:
            trainable += sum(math.prod(s) for s in planned)
    left = sum(1 for _ in pending)
    if left:
        raise _bad(path, f"its architecture and weights do not match (the file has {left} "
                         f"weight arrays more than the architecture's {len(weights) - left})")
    return trainable


def load_model(filepath, backend=None, compile=True):
    """The model saved at `filepath`, with its weights (identical predictions) and, when it
    was compiled and ``compile=True``, its optimizer, loss, metrics and optimiser state."""
    filepath = os.fspath(filepath)
    if not os.path.isfile(filepath):
        raise FileNotFoundError(f"no such model file: {filepath!r}")
    # Keras 3's .keras files are read there (and legacy HDF5 models refused)
    from fastrnn.nn import keras_files
    if keras_files.sniff(filepath) == "h5":
        raise _bad(filepath, "it is a legacy Keras HDF5 (.h5) model, which fastrnn does not "
                             "read; re-save it from Keras 3 as a '.keras' file")
    if keras_files.is_keras_archive(filepath):
        return keras_files.load_keras(filepath, backend=backend, compile=compile)
    with open(filepath, "rb") as f:
        magic = f.read(4)
    if magic != b"PK\x03\x04":
        raise _bad(filepath, "it is not a zip/npz archive (wrong magic bytes)")
    try:
        zf = zipfile.ZipFile(filepath)
    except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
        raise _bad(filepath, f"the archive is corrupted or truncated ({exc})") from None
    with zf:
        try:
            return _load(filepath, zf, backend, compile)
        except (zipfile.BadZipFile, OSError, EOFError, zlib.error) as exc:
            raise _bad(filepath, f"the archive is corrupted or truncated ({exc})") from None


def _load(filepath, zf, backend, compile):
    entries = _check_directory(filepath, zf)
    header = _read_header(filepath, zf, entries)
    compiled = header.get("compile") if compile else None
    if compiled is not None and not isinstance(compiled, dict):
        raise _bad(filepath, "its compile settings are invalid (not a dict)")
    weights = _array_entries(filepath, zf, entries, "weight", _count(header, "n_weights", filepath))
    n_states = _count(header, "n_optimizer_arrays", filepath, 0)
    states = _array_entries(filepath, zf, entries, "optstate", n_states if compiled else 0)
    spec = header.get("model")
    model_cls = _registry.lookup("model", spec.get("class_name")) if isinstance(spec, dict) else None
    if model_cls is None:
        raise _bad(filepath, "its model is not a Sequential")
    size = _planned_trainable_size(filepath, spec.get("config"), weights)
    if size is not None:
        for i, s in enumerate(states):
            if s.shape != (size,):
                raise _bad(filepath, f"its optimizer state does not match the weights "
                                     f"(optstate_{i:05d} has shape {s.shape}, the model "
                                     f"{size} trainable values)")
    try:
        with _base.uninitialised_builds():   # every weight is set from the file below
            model = model_cls.from_config(spec.get("config"), backend=backend)
        model.set_weights([_read_array(filepath, zf, f"weight_{i:05d}", e)
                           for i, e in enumerate(weights)])
    except (TypeError, ValueError) as exc:
        if str(exc).startswith(repr(filepath)):
            raise
        raise _bad(filepath, f"its architecture or weights are inconsistent ({exc})") from None
    if compiled:
        state_arrays = [_read_array(filepath, zf, f"optstate_{i:05d}", e)
                        for i, e in enumerate(states)]
        for i, s in enumerate(state_arrays):
            if not np.isfinite(s).all():
                raise _bad(filepath, f"its optimizer state contains NaN or inf (optstate_{i:05d})"
                                     "; training would make the weights NaN. Load it with "
                                     "compile=False and compile afresh")
        try:
            iterations = _count(compiled, "iterations", filepath, 0)
            model.compile(optimizer=optimizers.get(compiled["optimizer"]),
                          loss=losses.get(compiled["loss"]), metrics=compiled.get("metrics"))
            if state_arrays or iterations:
                params = [model._flat] if state_arrays else model.trainable_weights
                model.optimizer.set_state(iterations, state_arrays, params)
        except (TypeError, ValueError, KeyError) as exc:
            if str(exc).startswith(repr(filepath)):
                raise
            raise _bad(filepath, f"its compile settings are invalid ({exc})") from None
    return model
