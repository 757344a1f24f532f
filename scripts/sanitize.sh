#!/usr/bin/env bash
# Builds fastrnn's compiled modules with AddressSanitizer + UndefinedBehaviorSanitizer into a
# scratch directory and runs the kernel, training, saving and time-series tests against that
# build. Any ASan or UBSan report aborts the run and fails the script.
#
#   bash scripts/sanitize.sh            # uses `python3` from PATH (needs numpy, pytest, torch,
#                                       # statsmodels, hypothesis, scikit-build-core, pybind11
#                                       # and cython installed)
#   bash scripts/sanitize.sh -x         # extra arguments go to pytest
#
# What is instrumented: the C++ core fastrnn.backends._core (CMake option FASTRNN_SANITIZE=ON:
# -O1 -g -fsanitize=address,undefined) and the Cython kernels fastrnn.timeseries._kernels (their
# CMake target has its own flags, so the sanitizer flags come in through CMAKE_CXX_FLAGS and the
# module linker flags, which apply to every target). The script checks that both modules loaded
# are the instrumented ones. numba is hidden from the run (its JIT code is not instrumented, and
# compiling its kernels cold would take most of the time budget); the numba backend has its own
# CI job (scripts/pure_python_check.sh). About 4 minutes on 2 cores from a clean build directory
# (the build 2, the tests 1.5).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
target=$(mktemp -d)
# pytest captures the test process's stderr, where a sanitizer report would go (and an abort
# loses it): the reports go to files instead, printed when the run fails.
report() {
  status=$?
  if [ "$status" -ne 0 ]; then
    for f in "$target"/sanitizer.*; do [ -e "$f" ] && { echo "== $f"; cat "$f"; }; done
  fi
  rm -rf "$target"
  exit "$status"
}
trap report EXIT

echo "== building fastrnn with ASan + UBSan into $target/site"
"$py" -m pip install --quiet --no-build-isolation --no-deps --target "$target/site" "$root" \
  -Ccmake.define.FASTRNN_SANITIZE=ON -Ccmake.define.FASTRNN_CUDA=OFF \
  "-Ccmake.define.CMAKE_CXX_FLAGS=-fsanitize=address,undefined -fno-omit-frame-pointer" \
  "-Ccmake.define.CMAKE_MODULE_LINKER_FLAGS=-fsanitize=address,undefined" \
  "-Ccmake.define.CMAKE_SHARED_LINKER_FLAGS=-fsanitize=address,undefined" \
  -Cbuild-dir="$root/build/sanitize"

# numba out of the way: an import of it fails, so the numba backend counts as not installed.
mkdir -p "$target/hide/numba"
echo 'raise ModuleNotFoundError("numba is hidden from the sanitizer run (scripts/sanitize.sh)")' \
  > "$target/hide/numba/__init__.py"

# libstdc++ is preloaded with ASan: Python does not link it, and ASan's __cxa_throw interceptor
# must find the real one at start-up, or the first C++ exception aborts.
cxx=${CXX:-g++}
export LD_PRELOAD="$($cxx -print-file-name=libasan.so) $($cxx -print-file-name=libstdc++.so)"
# Python itself leaks by design; everything else is fatal. The tests that provoke MemoryError
# ask for impossible sizes, which ASan reports as allocation failures unless told to return null.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1:allocator_may_return_null=1:log_path=$target/sanitizer
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:log_path=$target/sanitizer
export PYTHONPATH="$target/hide:$target/site${PYTHONPATH:+:$PYTHONPATH}"
export FASTRNN_BACKEND=
cd "$root"
"$py" - <<PY
import subprocess
import fastrnn
import fastrnn.backends._core as core
import fastrnn.timeseries._kernels as ts
assert "numba" not in fastrnn.backends.built(), fastrnn.backends.built()
for mod in (core, ts):
    assert mod.__file__.startswith("$target/site"), f"not the sanitized build: {mod.__file__}"
    syms = subprocess.run(["nm", "-D", mod.__file__], capture_output=True, text=True).stdout
    assert "__asan_report" in syms and "__ubsan_handle" in syms, f"{mod.__file__} is not instrumented"
    print("sanitized:", mod.__file__)
PY
"$py" -m pytest -q -p no:cacheprovider tests/kernels tests/nn tests/timeseries "$@"
