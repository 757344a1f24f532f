"""Where the compiled core is missing: backend selection falls back to numba, then numpy, and
warns once, saying how to get the fast path.

The missing core is simulated in a fresh interpreter by ``sys.modules['fastrnn.backends._core'] = None``
(an import of it then raises ImportError, exactly as when the extension was never built); a
missing numba likewise with ``sys.modules['numba'] = None``. An in-process test does the same by
editing the registry's table of loaded modules.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings

import numpy as np
import pytest

from fastrnn import backends, ops

_PROBE = r"""
import json, sys, warnings
for name in HIDE:
    sys.modules[name] = None          # import name -> ImportError, as if not installed
warnings.simplefilter("always")       # count every warning: only the registry may de-duplicate
with warnings.catch_warnings(record=True) as caught:
    import numpy as np
    import fastrnn
    from fastrnn import backends, ops
    picks = [backends.default() for _ in range(3)]
    x = np.zeros((2, 3, 1)); W = np.zeros((1, 4)); U = np.zeros((4, 4)); b = np.zeros(4)
    r = ops.elman_forward(x, W, U, b)
    g = ops.elman_backward(r.cache, dh_last=np.ones((2, 4)))
try:
    backends.get("cpp")
    cpp_error = None
except RuntimeError as exc:
    cpp_error = str(exc)
print(json.dumps({
    "built": backends.built(), "available": backends.available(), "picks": picks,
    "used": r.cache.backend, "dh0_ok": bool(np.all(np.isfinite(g.dh0))),
    "core_loaded": sys.modules.get("fastrnn.backends._core") is not None, "cpp_error": cpp_error,
    "warnings": [(w.category.__name__, str(w.message)) for w in caught
                 if "fastrnn" in str(w.message) or "backend" in str(w.message)],
}))
"""


def _probe(hide):
    env = {k: v for k, v in os.environ.items() if k != "FASTRNN_BACKEND"}
    out = subprocess.run([sys.executable, "-c", _PROBE.replace("HIDE", repr(tuple(hide)))],
                         capture_output=True, text=True, env=env, timeout=600)
    assert out.returncode == 0, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _numba_importable():
    try:
        import numba  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.mark.skipif(not _numba_importable(), reason="numba is not installed")
def test_missing_core_falls_back_to_numba_and_warns_once():
    res = _probe(["fastrnn.backends._core"])
    assert not res["core_loaded"]
    assert "cpp" not in res["built"] and "numba" in res["built"] and "numba" in res["available"]
    assert res["picks"] == ["numba"] * 3
    assert res["used"] == "numba" and res["dh0_ok"]
    assert "not built" in res["cpp_error"]
    assert len(res["warnings"]) == 1, res["warnings"]
    category, message = res["warnings"][0]
    assert category == "RuntimeWarning"
    assert "fastrnn.backends._core" in message and "'numba'" in message
    assert "pip install" in message and "compiler" in message  # how to get the fast path


def test_missing_core_and_numba_falls_back_to_numpy_and_warns_once():
    res = _probe(["fastrnn.backends._core", "numba"])
    assert "cpp" not in res["built"] and "numba" not in res["built"]
    assert res["picks"] == ["numpy"] * 3
    assert res["used"] == "numpy" and res["dh0_ok"]
    assert len(res["warnings"]) == 1, res["warnings"]
    category, message = res["warnings"][0]
    assert category == "RuntimeWarning"
    assert "'numpy'" in message and "compiler" in message
    assert "fastrnn[numba]" in message  # the faster fallback is named too


def test_core_present_means_no_warning():
    try:
        import fastrnn.backends._core  # noqa: F401
    except ImportError:
        pytest.skip("compiled core not installed")
    res = _probe([])
    assert res["picks"] == ["cpp"] * 3 and res["used"] == "cpp"
    assert res["warnings"] == []


def test_numba_backend_reports_why_when_numba_is_missing():
    code = ("import sys; sys.modules['numba'] = None\n"
            "from fastrnn.backends import numba as m\n"
            "print(m.is_built(), m.is_available(), m.why_unavailable())")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    built, available, why = out.stdout.strip().split(" ", 2)
    assert (built, available) == ("False", "False")
    assert "numba" in why and "fastrnn[numba]" in why


def test_registry_fallback_in_process(monkeypatch):
    """The same selection with the registry's table edited: cpp (and cuda) absent."""
    if "numba" not in backends.available():
        pytest.skip("numba is not installed")
    monkeypatch.delenv("FASTRNN_BACKEND", raising=False)
    monkeypatch.setitem(backends._loaded, "cpp", None)
    monkeypatch.setitem(backends._loaded, "cuda", None)
    monkeypatch.setattr(backends, "_warned", False)
    if hasattr(backends, "_default"):  # the registry caches its choice; forget it for this test
        monkeypatch.setattr(backends, "_default", None)
    with pytest.warns(RuntimeWarning, match="fastrnn.backends._core.*'numba'") as record:
        assert backends.default() == "numba"
    assert len([w for w in record if "fastrnn.backends._core" in str(w.message)]) == 1
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a second warning would raise here
        assert backends.default() == "numba"
        x = np.zeros((1, 2, 1))
        r = ops.elman_forward(x, np.zeros((1, 3)), np.zeros((3, 3)), np.zeros(3))
    assert r.cache.backend == "numba"
    assert "cpp" not in backends.built()
