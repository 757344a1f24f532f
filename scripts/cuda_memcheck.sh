#!/usr/bin/env bash
# compute-sanitizer memcheck (plus racecheck on one case) over a small subset of the CUDA tests.
#
#   scripts/cuda_memcheck.sh [python]      (default: python on PATH)
#
# Exits 0 with "skipped: ..." where there is no GPU, no fastrnn.backends._cuda or no compute-sanitizer;
# otherwise exits with compute-sanitizer's status (non-zero on any memory error or leak).
set -euo pipefail
PY="${1:-python}"
cd "$(dirname "$0")/.."

if ! "$PY" -c "import fastrnn.backends._cuda" 2>/dev/null; then
  echo "skipped: fastrnn.backends._cuda is not built in this environment"; exit 0
fi
if ! "$PY" -c "import sys, fastrnn.backends._cuda as c; sys.exit(0 if c.device_count() > 0 else 1)"; then
  echo "skipped: no GPU ($("$PY" -c "import fastrnn.backends._cuda as c; print(c.why_unavailable())"))"; exit 0
fi
SAN="$(command -v compute-sanitizer || true)"
for d in /usr/local/cuda/bin /usr/local/cuda-13.0/bin; do
  [[ -z "$SAN" && -x "$d/compute-sanitizer" ]] && SAN="$d/compute-sanitizer"
done
if [[ -z "$SAN" ]]; then
  echo "skipped: compute-sanitizer not found (it ships with the CUDA toolkit)"; exit 0
fi

# Small shapes cover every kernel (both shared-memory modes, both GRU variants, T=1, B=1);
# the large-H test exercises the global-memory path. PyTorch's own CUDA allocations are not
# under test, so the subset avoids the torch/cupy interop tests.
MC=("$SAN" --tool memcheck --leak-check full --error-exitcode 1 --target-processes all)
echo "== memcheck: the reference suite on the cuda backend, float32"
"${MC[@]}" "$PY" -m pytest -q -x -p no:cacheprovider -k "cuda and float32" \
  "tests/kernels/test_ops.py::test_against_reference"
echo "== memcheck: large H (global-memory path) and the NumPy path's cache"
"${MC[@]}" "$PY" -m pytest -q -x -p no:cacheprovider \
  "tests/kernels/test_cuda.py::test_large_hidden_size" \
  "tests/kernels/test_cuda.py::test_numpy_path_returns_numpy_and_keeps_cache_on_gpu"
echo "== racecheck (shared memory) on one case"
"$SAN" --tool racecheck --error-exitcode 1 \
  "$PY" -m pytest -q -x -p no:cacheprovider "tests/kernels/test_cuda.py::test_numpy_path_returns_numpy_and_keeps_cache_on_gpu"
echo "memcheck: clean"
