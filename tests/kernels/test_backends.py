"""The backend registry: built(), available(), default(), FASTRNN_BACKEND, backend=."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

from conftest import make_inputs
from fastrnn import backends, ops


def test_numpy_is_always_there_and_cpp_when_compiled():
    assert "numpy" in backends.built()
    assert "numpy" in backends.available()
    assert set(backends.available()) <= set(backends.built()) <= set(backends.NAMES)
    try:
        import fastrnn.backends._core  # noqa: F401
    except ImportError:
        pytest.skip("compiled core not installed")
    assert "cpp" in backends.available()


@pytest.fixture
def fresh_default(monkeypatch):
    """The registry re-reads FASTRNN_BACKEND (it is read once per process otherwise)."""
    backends._forget()
    yield
    monkeypatch.undo()
    backends._forget()


def test_default_is_cpp_when_compiled(monkeypatch, fresh_default):
    monkeypatch.delenv("FASTRNN_BACKEND", raising=False)
    if "cpp" not in backends.available():
        pytest.skip("compiled core not installed")
    assert backends.default() == "cpp"


def test_environment_variable_overrides_default(monkeypatch, fresh_default):
    monkeypatch.setenv("FASTRNN_BACKEND", "numpy")
    assert backends.default() == "numpy"
    inp = make_inputs("elman", 2, 3, 1, 4, np.float64)
    r = ops.elman_forward(inp["x"], inp["W"], inp["U"], inp["b"])
    assert r.cache.backend == "numpy"


def test_environment_variable_in_a_fresh_process():
    code = "import fastrnn; print(fastrnn.backends.default())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={**os.environ, "FASTRNN_BACKEND": "numpy"})
    assert out.stdout.strip() == "numpy"


def test_environment_variable_must_name_a_backend(monkeypatch, fresh_default):
    monkeypatch.setenv("FASTRNN_BACKEND", "gpu")
    with pytest.raises(ValueError, match="'cpp'.*'numpy'.*'gpu'"):
        backends.default()


def test_set_default(fresh_default):
    backends.set_default("numpy")
    assert backends.default() == "numpy"
    inp = make_inputs("lstm", 2, 3, 1, 4, np.float64)
    assert ops.lstm_forward(inp["x"], inp["W"], inp["U"], inp["b"]).cache.backend == "numpy"
    with pytest.raises(ValueError, match="backend must be one of"):
        backends.set_default("gpu")
    backends.set_default(None)
    assert backends.default() in backends.available()


def test_backend_argument_selects_and_is_recorded():
    inp = make_inputs("gru", 2, 3, 1, 4, np.float64)
    for name in backends.available():
        if name == "cuda":
            continue
        r = ops.gru_forward(inp["x"], inp["W"], inp["U"], inp["b"], backend=name)
        assert r.cache.backend == name


def test_unbuilt_backend_is_a_clear_error():
    missing = [n for n in backends.NAMES if n not in backends.built()]
    if not missing:
        pytest.skip("every backend is built here")
    with pytest.raises(RuntimeError, match="not built"):
        backends.get(missing[0])


def test_import_does_not_need_optional_packages():
    """import fastrnn pulls in numpy and nothing heavy."""
    code = ("import sys, fastrnn; heavy = {'torch', 'numba', 'scipy', 'statsmodels', 'pandas'}"
            " & set(sys.modules); print(sorted(heavy))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True,
                         env={k: v for k, v in os.environ.items() if k != "FASTRNN_BACKEND"})
    assert out.stdout.strip() == "[]"


def test_capabilities_list_the_cells_a_backend_has_functions_for(monkeypatch):
    import types

    from fastrnn import backends, cells
    _, numpy_backend = backends.get("numpy")
    partial = types.SimpleNamespace(CAPABILITIES={"fused_training": False, "device": "cpu"},
                                    is_built=lambda: True, is_available=lambda: True)
    for name in ("forward_name", "backward_name"):
        setattr(partial, getattr(cells.LSTM, name), getattr(numpy_backend, getattr(cells.LSTM, name)))
    setattr(partial, cells.ELMAN.forward_name,  # a forward alone is not enough
            getattr(numpy_backend, cells.ELMAN.forward_name))
    monkeypatch.setitem(backends._loaded, "numba", partial)
    assert backends.capabilities("numba")["cells"] == (cells.LSTM.name,)
    assert backends.capabilities("numpy")["cells"] == cells.NAMES


def test_every_built_backend_keeps_the_protocol():
    import inspect

    from fastrnn import backends
    from fastrnn.backends._protocol import Backend, CellFunctions
    for name in backends.built():
        module = backends._load(name)
        assert isinstance(module, Backend), name
        for cell in backends.capabilities(name)["cells"]:
            for fn in (f"{cell}_forward", f"{cell}_backward"):
                want = list(inspect.signature(getattr(CellFunctions, fn)).parameters)[1:]
                try:
                    got = list(inspect.signature(getattr(module, fn)).parameters)
                except ValueError:  # a compiled function without a Python signature
                    continue
                assert got == want, (name, fn)
