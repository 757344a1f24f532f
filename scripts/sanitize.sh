#!/usr/bin/env bash
# Builds fastrnn.backends._core with AddressSanitizer + UndefinedBehaviorSanitizer (CMake option
# FASTRNN_SANITIZE=ON) into a scratch directory and runs the kernel tests against that build.
# Any ASan or UBSan report aborts the run and fails the script.
#
#   bash scripts/sanitize.sh            # uses `python3` from PATH (needs numpy, pytest, torch,
#                                       # scikit-build-core, pybind11 installed)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
py=${PYTHON:-python3}
target=$(mktemp -d)
trap 'rm -rf "$target"' EXIT

echo "== building fastrnn with ASan + UBSan into $target"
"$py" -m pip install --quiet --no-build-isolation --no-deps --target "$target" "$root" \
  -Ccmake.define.FASTRNN_SANITIZE=ON -Ccmake.define.FASTRNN_CUDA=OFF \
  -Cbuild-dir="$root/build/sanitize"

# libstdc++ is preloaded with ASan: Python does not link it, and ASan's __cxa_throw interceptor
# must find the real one at start-up, or the first C++ exception aborts.
cxx=${CXX:-g++}
export LD_PRELOAD="$($cxx -print-file-name=libasan.so) $($cxx -print-file-name=libstdc++.so)"
# Python itself leaks by design; everything else is fatal.
export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export PYTHONPATH="$target${PYTHONPATH:+:$PYTHONPATH}"
cd "$root"
"$py" - <<PY
import fastrnn.backends._core as c
assert c.__file__.startswith("$target"), f"not the sanitized build: {c.__file__}"
print("sanitized core:", c.__file__)
PY
"$py" -m pytest -q -p no:cacheprovider tests/kernels/test_ops.py tests/kernels/test_errors.py -k "cpp" "$@"
