"""Keras 3 files: ``.keras`` models and ``.weights.h5`` weights, both ways (h5py needed).

A ``.keras`` file is a zip of ``config.json`` (the model's Keras config: class names, layer
configs, the build shape and the compile settings), ``metadata.json`` and
``model.weights.h5``, an HDF5 file with each layer's arrays at ``layers/<key>/vars/<i>``
(``layers/<key>/cell/vars/<i>`` for a recurrent layer, ``.../forward_layer/...`` and
``.../backward_layer/...`` for Bidirectional) and the optimiser's at ``optimizer/vars/<i>``
(iterations, learning rate, then the slot arrays in Keras's order). <key> is the snake_case
class name, numbered in order (``lstm``, ``lstm_1``, ...), as Keras names them.

``save_keras`` writes what Keras 3's ``keras.saving.load_model`` reads back (same predictions;
compiled models come back compiled, with the optimiser state). ``load_keras`` reads a Keras 3
``.keras`` file of a Sequential model made of InputLayer, SimpleRNN, LSTM, GRU, Dense, Dropout,
Bidirectional and Masking; anything else raises ValueError naming the unsupported layers. Legacy Keras
HDF5 models (``.h5``) are refused with a clear error. ``.weights.h5`` (``save_weights`` /
``load_weights``) is the same HDF5 layout on its own.

h5py is an optional dependency: without it, these functions raise ImportError saying so.
"""

from __future__ import annotations

import datetime
import inspect
import io
import json
import os
import re
import tempfile
import warnings
import zipfile

import numpy as np

from fastrnn import _version
from fastrnn.nn import archives as _archives
from fastrnn.nn import initializers as _inits
from fastrnn.nn import losses as _losses
from fastrnn.nn import optimizers as _optimizers
from fastrnn.nn import registry as _registry

__all__ = ["save_keras", "load_keras", "save_weights_h5", "read_weights_h5", "sniff",
           "SUPPORTED_LAYERS"]

SUPPORTED_LAYERS = ("InputLayer", "SimpleRNN", "LSTM", "GRU", "Dense", "Dropout",
                    "Bidirectional", "Masking")
_KERAS_FORMAT_VERSION = "3.15.1"   # the Keras release these files were checked against


def _h5py():
    try:
        import h5py
    except ImportError:
        raise ImportError("Keras 3 files ('.keras', '.weights.h5') need h5py: "
                          "pip install h5py") from None
    return h5py


def sniff(path):
    """'zip' (a .keras or fastrnn file), 'h5' (HDF5) or None, from the first bytes."""
    with open(path, "rb") as f:
        head = f.read(8)
    if head[:4] == b"PK\x03\x04":
        return "zip"
    if head == b"\x89HDF\r\n\x1a\n":
        return "h5"
    return None


def is_keras_archive(path):
    """True for a zip holding Keras's config.json (a .keras file)."""
    if sniff(path) != "zip":
        return False
    try:
        with zipfile.ZipFile(path) as z:
            return "config.json" in z.namelist()
    except zipfile.BadZipFile:
        return False


def _snake(name):
    # Keras's naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


def _keys(layers):
    used, out = {}, []
    for layer in layers:
        k = _snake(type(layer).__name__)
        if k in used:
            used[k] += 1
            k = f"{k}_{used[k]}"
        else:
            used[k] = 0
        out.append(k)
    return out


def _var_groups(layer, key):
    """[(HDF5 group of the arrays, the arrays' count)] of one layer, in weights order."""
    if type(layer).__name__ == "Bidirectional":
        return [(f"{key}/{side}/cell/vars", len(child.weights))
                for side, child in (("forward_layer", layer.forward_layer),
                                    ("backward_layer", layer.backward_layer))]
    if hasattr(layer, "cell"):
        return [(f"{key}/cell/vars", len(layer.weights))]
    return [(f"{key}/vars", len(layer.weights))]


# -- the optimiser's state in Keras's variable order ------------------------------------------
def _slot_order(opt):
    """fastrnn slot indices in Keras's order: 'interleaved' per weight (Adam) or grouped."""
    name = type(opt).__name__
    if name == "Adam":
        return "interleaved", [0, 1]
    return "grouped", list(range(opt.n_slots))


def _opt_arrays(model):
    opt = model.optimizer
    out = [np.asarray(opt.iterations, np.int64), np.asarray(opt.learning_rate, np.float32)]
    slots = opt._slots[0] if opt._slots else None
    if not slots or type(opt) not in (_optimizers.SGD, _optimizers.Adam, _optimizers.RMSprop):
        return out
    mode, order = _slot_order(opt)
    pieces = [[slots[s][lo:hi].reshape(w.shape) for (lo, hi), w in
               zip(model._slices, model.trainable_weights)] for s in order]
    if mode == "interleaved":
        out += [p for per_w in zip(*pieces) for p in per_w]
    else:
        out += [p for group in pieces for p in group]
    return out


def _set_opt_arrays(model, arrays):
    opt = model.optimizer
    if not arrays:
        return
    n_w = len(model.trainable_weights)
    mode, order = _slot_order(opt)
    if len(arrays) != 2 + n_w * len(order):
        warnings.warn(f"the file's optimizer state has {len(arrays)} arrays, "
                      f"{type(opt).__name__} here needs {2 + n_w * len(order)}: the optimizer "
                      "starts fresh", RuntimeWarning, stacklevel=3)
        return
    if not model._flat_ok():
        model._flatten()
    opt.build([model._flat])
    slots = opt._slots[0]
    body = arrays[2:]
    for k, s in enumerate(order):
        for j, (lo, hi) in enumerate(model._slices):
            a = body[j * len(order) + k] if mode == "interleaved" else body[k * n_w + j]
            slots[s][lo:hi] = np.asarray(a).ravel()
    opt.iterations = int(np.asarray(arrays[0]))


# -- writing ---------------------------------------------------------------------------------
def _write_h5(model, f, with_optimizer):
    f.create_group("vars").attrs["name"] = model.name
    layers_g = f.create_group("layers")
    for layer, key in zip(model._layers, _keys(model._layers)):
        layers_g.create_group(key).create_group("vars").attrs["name"] = layer.name
        arrays = iter(layer.get_weights())
        for group, count in _var_groups(layer, key):
            g = layers_g.require_group(group)
            g.attrs["name"] = layer.name
            for i in range(count):
                g.create_dataset(str(i), data=next(arrays))
    if with_optimizer:
        g = f.create_group("optimizer").create_group("vars")
        g.attrs["name"] = model.optimizer.name
        for i, a in enumerate(_opt_arrays(model)):
            g.create_dataset(str(i), data=a)


def save_weights_h5(model, path):
    """Keras 3's ``.weights.h5`` of `model` (the optimiser's state too, when compiled)."""
    h5py = _h5py()
    buf = io.BytesIO()
    with h5py.File(buf, "w") as f:
        _write_h5(model, f, model.optimizer is not None)
    _atomic_write(path, buf.getvalue())


def _atomic_write(path, data):
    fd, tmp = tempfile.mkstemp(prefix=".fastrnn-save-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _obj(module, spec):
    """fastrnn's {'class_name', 'config'} as a Keras serialised object."""
    if spec is None:
        return None
    return {"module": module, "class_name": spec["class_name"], "config": spec.get("config", {}),
            "registered_name": None}


def _policy(dtype):
    return {"module": "keras", "class_name": "DTypePolicy", "config": {"name": dtype},
            "registered_name": None}


_OBJECT_KEYS = {"initializer": "keras.initializers", "regularizer": "keras.regularizers",
                "constraint": "keras.constraints"}


def _layer_to_keras(layer, dtype, input_shape):
    cls = type(layer).__name__
    if cls not in SUPPORTED_LAYERS:
        raise ValueError(f"layer {layer.name!r} ({cls}) has no Keras 3 equivalent that fastrnn "
                         f"can write; supported: {', '.join(SUPPORTED_LAYERS[1:])}")
    cfg = layer.get_config()
    cfg.pop("input_shape", None)
    cfg["dtype"] = _policy(dtype)
    if cls == "Bidirectional":
        cfg["layer"] = _layer_to_keras(layer.forward_layer, dtype, None)
        cfg["backward_layer"] = _layer_to_keras(layer.backward_layer, dtype, None)
    for k, v in list(cfg.items()):
        for suffix, module in _OBJECT_KEYS.items():
            if k.endswith(suffix) and isinstance(v, dict):
                cfg[k] = _obj(module, v)
    out = {"module": "keras.layers", "class_name": cls, "config": cfg, "registered_name": None}
    if input_shape is not None and cls not in ("Dropout", "Masking"):
        out["build_config"] = {"input_shape": list(input_shape)}
    return out


def _loss_to_keras(loss):
    cfg = loss.get_config()
    plain = {k: v for k, v in cfg.items() if k not in ("name", "reduction")}
    if not any(plain.values()) and loss.reduction == "sum_over_batch_size":
        return loss.name
    return {"module": "keras.losses", "class_name": type(loss).__name__, "config": cfg,
            "registered_name": None}


def _compile_to_keras(model):
    opt = model.optimizer
    ocfg = {"name": opt.name, **opt.get_config()}
    return {"optimizer": {"module": "keras.optimizers", "class_name": type(opt).__name__,
                          "config": ocfg, "registered_name": None},
            "loss": _loss_to_keras(model.loss), "loss_weights": None,
            "metrics": list(model._metric_names) or None, "weighted_metrics": None,
            "run_eagerly": False, "steps_per_execution": 1, "jit_compile": False}


def save_keras(model, path):
    """Write `model` (a built Sequential) as a Keras 3 ``.keras`` file at `path`."""
    h5py = _h5py()
    model._require_built()
    dtype = model.dtype.name
    shape = list(model.input_shape)
    layers = [{"module": "keras.layers", "class_name": "InputLayer",
               "config": {"batch_shape": shape, "dtype": dtype, "sparse": False,
                          "ragged": False, "name": "input_layer", "optional": False},
               "registered_name": None}]
    s = tuple(model.input_shape)
    for layer in model._layers:
        layers.append(_layer_to_keras(layer, dtype, s))
        s = layer.compute_output_shape(s)
    config = {"module": "keras", "class_name": "Sequential",
              "config": {"name": model.name, "trainable": True, "dtype": _policy(dtype),
                         "layers": layers, "build_input_shape": shape},
              "registered_name": None, "build_config": {"input_shape": shape}}
    compiled = model.optimizer is not None and model.loss is not None
    if compiled:
        config["compile_config"] = _compile_to_keras(model)
    metadata = {"keras_version": _KERAS_FORMAT_VERSION,
                "date_saved": datetime.datetime.now().strftime("%Y-%m-%d@%H:%M:%S"),
                "saved_by": f"fastrnn {_version.__version__}"}
    h5 = io.BytesIO()
    with h5py.File(h5, "w") as f:
        _write_h5(model, f, compiled)
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        z.writestr("metadata.json", json.dumps(metadata))
        z.writestr("config.json", json.dumps(config))
        z.writestr("model.weights.h5", h5.getvalue())
    _atomic_write(path, out.getvalue())


# -- reading ---------------------------------------------------------------------------------
def _bad(path, why):
    return ValueError(f"{path!r} is not a readable Keras 3 model file: {why}")


def _plain(obj, kind):
    """A Keras serialised initializer / regularizer / constraint as fastrnn's {'class_name',
    'config'} with only the arguments fastrnn's class takes (None stays None)."""
    if obj is None or isinstance(obj, str):
        return obj
    if not isinstance(obj, dict):   # a malformed file: ValueError, as for the rest of it
        raise ValueError(f"cannot read a {kind} from {obj!r}")  # noqa: TRY004
    return {"class_name": obj.get("class_name"), "config": dict(obj.get("config") or {})}


def _fit_kwargs(cls, cfg):
    """The entries of a Keras config that fastrnn's `cls` (and Layer) accepts."""
    names = set()
    for klass in cls.__mro__:
        init = klass.__dict__.get("__init__")
        if init is not None:
            names |= set(inspect.signature(init).parameters)
    return {k: v for k, v in cfg.items() if k in names}


def _init_from_keras(obj):
    spec = _plain(obj, "initializer")
    if spec is None or isinstance(spec, str):
        return spec
    try:
        cls = _inits.get(spec["class_name"]).__class__
    except ValueError:
        warnings.warn(f"initializer {spec['class_name']!r} is not in fastrnn: the layer keeps "
                      "its default initializer (the file's weights are loaded anyway)",
                      RuntimeWarning, stacklevel=4)
        return None
    return {"class_name": spec["class_name"], "config": _fit_kwargs(cls, spec["config"])}


def _layer_from_keras(spec, dtype):
    cls_name = spec.get("class_name")
    cls = _registry.lookup("layer", cls_name)
    cfg = dict(spec.get("config") or {})
    cfg.pop("dtype", None)
    if cls_name == "Bidirectional":
        cfg["layer"] = _layer_from_keras(cfg["layer"], dtype)
        if cfg.get("backward_layer") is not None:
            cfg["backward_layer"] = _layer_from_keras(cfg["backward_layer"], dtype)
    for k in list(cfg):
        if k.endswith("initializer"):
            init = _init_from_keras(cfg[k])
            if init is None:
                del cfg[k]
            else:
                cfg[k] = init
        elif k.endswith("regularizer"):
            cfg[k] = _plain(cfg[k], "regularizer")
        elif k.endswith("constraint"):
            cfg[k] = _plain(cfg[k], "constraint")
    cfg = _fit_kwargs(cls, cfg)
    cfg["dtype"] = dtype
    try:
        return cls(**cfg)
    except (TypeError, ValueError, NotImplementedError) as exc:
        raise ValueError(f"layer {cfg.get('name')!r} ({cls_name}): {exc}") from None


def _dtype_of(spec):
    d = (spec.get("config") or {}).get("dtype")
    if isinstance(d, dict):
        d = (d.get("config") or {}).get("name")
    return d or "float32"


def read_weights_h5(path_or_file, layers):
    """[(layer name, arrays)] for `layers` (fastrnn layers, in model order) from a Keras 3
    weights HDF5 (a path or an open h5py File)."""
    h5py = _h5py()
    f = h5py.File(path_or_file, "r") if not isinstance(path_or_file, h5py.File) else path_or_file
    try:
        out = []
        for layer, key in zip(layers, _keys(layers)):
            arrays = []
            for group, _ in _var_groups(layer, f"layers/{key}"):
                g = f.get(group, {})
                got = [np.asarray(g[str(i)]) for i in range(len(g))]
                arrays += got
            out.append((key, arrays))
        return out
    finally:
        if f is not path_or_file:
            f.close()


class _Mismatch(Exception):
    pass


def _check_planned_shapes(path, layers, input_shape, dtype, f):
    """Compares the weight shapes each layer would build (planned without allocating:
    ``planned_weight_shapes``) with the shapes of the file's datasets (read from their headers),
    so that a small file declaring a huge layer is refused before anything is allocated. A layer
    whose weights cannot be planned is left to the check after building."""
    from fastrnn.nn.layers import base as _base

    shape = input_shape
    for layer, key in zip(layers, _keys(layers)):
        stored = []
        for group, _ in _var_groups(layer, f"layers/{key}"):
            g = f.get(group, {})
            stored += [tuple(g[str(i)].shape) for i in range(len(g))]
        pending = iter(stored)

        def check(wname, want, layer=layer, stored=stored, pending=pending):
            got = next(pending, None)
            if got is None:
                raise _Mismatch(f"layer {layer.name!r} needs more weight arrays than the "
                                f"{len(stored)} the file holds for it")
            if got != tuple(want):
                raise _Mismatch(f"layer {layer.name!r}: its {wname} must have shape "
                                f"{tuple(want)}, the file's has shape {got}")
        try:
            _base.planned_weight_shapes(layer, shape, dtype, check)
            shape = layer.compute_output_shape(shape)
        except _Mismatch as exc:
            raise _bad(path, str(exc)) from None
        except Exception:   # noqa: BLE001 - weights that cannot be planned: building checks
            return


def load_keras(path, backend=None, compile=True):
    """A fastrnn Sequential from a Keras 3 ``.keras`` file (see the module docstring)."""
    try:
        with zipfile.ZipFile(path) as z:
            _archives.check_directory(path, z, _bad)
            config = json.loads(z.read("config.json").decode("utf-8"))
            weights = z.read("model.weights.h5") if "model.weights.h5" in z.namelist() else None
    except (zipfile.BadZipFile, KeyError, json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _bad(path, f"its zip or config.json cannot be read ({exc})") from None
    if weights is None:
        raise _bad(path, "it has no model.weights.h5 (a sharded or custom-store file?)")
    if not isinstance(config, dict) or config.get("class_name") != "Sequential":
        raise _bad(path, f"fastrnn reads Keras Sequential models, this is a "
                         f"{config.get('class_name') if isinstance(config, dict) else '?'!r}")
    mcfg = config.get("config") or {}
    specs = list(mcfg.get("layers") or [])
    unsupported = [f"{(s.get('config') or {}).get('name', '?')!r} ({s.get('class_name')})"
                   for s in specs if s.get("class_name") not in SUPPORTED_LAYERS]
    for s in specs:
        if s.get("class_name") == "Bidirectional":
            inner = (s.get("config") or {}).get("layer") or {}
            if inner.get("class_name") not in ("SimpleRNN", "LSTM", "GRU"):
                unsupported.append(f"Bidirectional({inner.get('class_name')})")
    if unsupported:
        raise ValueError(f"{path!r}: fastrnn cannot load these Keras layers: "
                         f"{', '.join(unsupported)} (supported: "
                         f"{', '.join(SUPPORTED_LAYERS)})")
    dtype = _dtype_of(mcfg) if isinstance(mcfg.get("dtype"), (dict, str)) else "float32"
    if dtype not in ("float32", "float64"):
        raise _bad(path, f"dtype policy {dtype!r} (fastrnn models are float32 or float64)")
    h5py = _h5py()
    model_cls = _registry.lookup("model", "Sequential")
    model = model_cls(name=mcfg.get("name"), backend=backend)
    input_spec = None
    for s in specs:
        if s.get("class_name") == "InputLayer":
            input_spec = s.get("config") or {}
            continue
        model.add(_layer_from_keras(s, dtype))
    shape = None
    if input_spec is not None:
        shape = input_spec.get("batch_shape") or input_spec.get("batch_input_shape")
    shape = shape or mcfg.get("build_input_shape") or (config.get("build_config") or {}).get(
        "input_shape")
    if shape is None:
        raise _bad(path, "it does not say the model's input shape")
    with h5py.File(io.BytesIO(weights), "r") as f:
        if not model.built:
            _check_planned_shapes(path, model._layers, (None,) + tuple(shape[1:]), dtype, f)
            model.build((None,) + tuple(shape[1:]))
        for layer, (key, arrays) in zip(model._layers, read_weights_h5(f, model._layers)):
            if len(arrays) != len(layer.weights):
                raise _bad(path, f"layer {layer.name!r} has {len(layer.weights)} weight arrays, "
                                 f"the file's {key!r} {len(arrays)}")
            if arrays:
                try:
                    layer.set_weights(arrays)
                except ValueError as exc:
                    raise _bad(path, str(exc)) from None
        opt_arrays = []
        if "optimizer/vars" in f:
            g = f["optimizer/vars"]
            opt_arrays = [np.asarray(g[str(i)]) for i in range(len(g))]
    cc = config.get("compile_config")
    if compile and cc:
        _compile_from_keras(model, cc, path)
        _set_opt_arrays(model, opt_arrays)
    return model


def _compile_from_keras(model, cc, path):
    o = cc.get("optimizer")
    if isinstance(o, str):
        opt = _optimizers.get(o)
    else:
        cls = {"SGD": _optimizers.SGD, "Adam": _optimizers.Adam,
               "RMSprop": _optimizers.RMSprop}.get((o or {}).get("class_name"))
        if cls is None:
            raise _bad(path, f"optimizer {(o or {}).get('class_name')!r} is not in fastrnn "
                             "(SGD, Adam, RMSprop); load with compile=False")
        ocfg = dict(o.get("config") or {})
        for k, default in (("weight_decay", None), ("use_ema", False),
                           ("gradient_accumulation_steps", None), ("loss_scale_factor", None)):
            if ocfg.get(k, default) not in (default, 0, 0.0):
                raise _bad(path, f"optimizer option {k}={ocfg[k]!r} is not in fastrnn; load "
                                 "with compile=False")
        if isinstance(ocfg.get("learning_rate"), dict):
            raise _bad(path, "a learning-rate schedule is not in fastrnn; load with "
                             "compile=False")
        kw = _fit_kwargs(cls, ocfg)
        clip = {k: ocfg[k] for k in ("clipnorm", "clipvalue", "global_clipnorm")
                if ocfg.get(k) is not None}
        kw.update(clip)
        opt = cls(**{k: v for k, v in kw.items() if k not in ("name",)})
    loss = cc.get("loss")
    if isinstance(loss, dict):
        loss = {"class_name": loss.get("class_name"),
                "config": {k: v for k, v in (loss.get("config") or {}).items()
                           if k in ("from_logits", "label_smoothing", "reduction", "name")}}
    metrics = []
    for m in cc.get("metrics") or []:
        if isinstance(m, dict):
            m = (m.get("config") or {}).get("name") or m.get("class_name")
        metrics.append(m)
    try:
        model.compile(optimizer=opt, loss=_losses.get(loss), metrics=metrics)
    except (TypeError, ValueError) as exc:
        raise _bad(path, f"its compile settings are not supported ({exc}); load with "
                         "compile=False") from None
