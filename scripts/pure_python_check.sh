#!/usr/bin/env bash
# The pure-Python install path: a fresh virtual environment, fastrnn installed from this
# repository with FASTRNN_PURE_PYTHON=1 (CMake compiles nothing, so there is no fastrnn.backends._core),
# plus numba, pytest (+ pytest-benchmark, which the pytest options in pyproject.toml name),
# hypothesis and
# torch; then checks that the compiled core is absent, that the default
# backend is numba, and runs the numba backend's part of the test suite (the parametrised suite
# with -k numba, the registry tests, tests/kernels/test_fallback.py).
#
#   bash scripts/pure_python_check.sh        # uses `python3` from PATH; PYTHON=... to change
#
# Exits non-zero on any failure; pytest prints its summary line last.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

echo "== fresh virtual environment in $work/venv"
"$py" -m venv "$work/venv"
vpy="$work/venv/bin/python"
"$vpy" -m pip install --quiet --upgrade pip

echo "== pure-Python install (FASTRNN_PURE_PYTHON=1) + numba, pytest, torch"
# torch is pinned exactly: that version has a CPU-only wheel here.
FASTRNN_PURE_PYTHON=1 "$vpy" -m pip install --quiet "$root[numba]" pytest pytest-benchmark hypothesis \
  "torch==2.13.0"

echo "== the installed package has no compiled core and picks numba"
cd "$work"  # not the repository root: import the installed package
"$vpy" - <<'PY'
import importlib.util
import pathlib
import warnings

import fastrnn

pkg = pathlib.Path(fastrnn.__file__).parent
compiled = sorted(p.name for p in pkg.rglob("*") if p.suffix in (".so", ".pyd", ".dylib"))
assert importlib.util.find_spec("fastrnn.backends._core") is None, "fastrnn.backends._core is installed"
assert not compiled, f"compiled files in a pure-Python install: {compiled}"
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    default = fastrnn.backends.default()
assert default == "numba", f"default backend is {default!r}, built: {fastrnn.backends.built()}"
assert any("fastrnn.backends._core" in str(w.message) for w in caught), "no fallback warning"
print("fastrnn", pkg, "| built:", fastrnn.backends.built(), "| default:", default)
print("warning:", caught[0].message)
PY

echo "== numba backend tests (first run compiles the kernels into the on-disk cache)"
cd "$root"
unset FASTRNN_BACKEND
tests=(tests/kernels/test_ops.py tests/kernels/test_errors.py tests/kernels/test_backends.py
       tests/kernels/test_fallback.py tests/kernels/test_pool.py tests/kernels/test_numba_tiles.py
       tests/kernels/test_saturation.py tests/kernels/test_backend_contract.py
       tests/kernels/test_interrupt.py tests/kernels/test_fuzz.py)
"$vpy" -m pytest -q -p no:cacheprovider "${tests[@]}" \
  -k "numba or test_backends or test_fallback or test_pool"
