#!/usr/bin/env bash
# Check what a CPU wheel of fastrnn holds: the compiled CPU core, the typed stubs and py.typed,
# and no CUDA module (that one ships separately; see the README's "Wheels and the CUDA module").
#
#   bash scripts/check_wheel.sh dist/fastrnn-*.whl ...   check wheel files (their file lists)
#   bash scripts/check_wheel.sh --installed [PYTHON]     check the fastrnn that PYTHON (default:
#                                                        python) imports, installed from a wheel
#
# Exit status 0 when every check passes; each failure is printed as FAIL.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: $0 WHEEL... | --installed [PYTHON]" >&2
  exit 2
fi
py=python3
args=("$@")
if [[ "$1" == "--installed" ]]; then
  py=${2:-python}
  args=(--installed)
  cd /  # so that a source checkout in the current directory cannot shadow the install
fi

exec "$py" - "${args[@]}" <<'EOF'
import os
import re
import sys
import zipfile

COMPILED = re.compile(r"\.(so|pyd)$")
NEEDED = ("fastrnn/py.typed", "fastrnn/backends/_core.pyi", "fastrnn/backends/_cuda.pyi")


def check(files):
    """Failures of the file list `files` (paths from the root of site-packages)."""
    failures = []
    cuda = [f for f in files if re.match(r"fastrnn/backends/_cuda\b.*\.(so|pyd)$", f)]
    if cuda:
        failures.append(f"contains the CUDA module: {cuda}")
    if not any(re.match(r"fastrnn/backends/_core\b.*\.(so|pyd)$", f) for f in files):
        failures.append("has no compiled CPU core fastrnn/backends/_core*.so")
    failures += [f"lacks {n}" for n in NEEDED if n not in files]
    modules = [f for f in files if COMPILED.search(f) and not f.startswith("fastrnn.libs/")]
    libs = [f for f in files if f.startswith("fastrnn.libs/")]
    print(f"  {len(files)} files; compiled modules {modules}; bundled libraries {libs}")
    return failures


def wheel(path):
    print(path)
    with zipfile.ZipFile(path) as z:
        files = [f for f in z.namelist() if not f.endswith("/")]
        meta = next(f for f in files if f.endswith(".dist-info/WHEEL"))
        tags = [line.split(":", 1)[1].strip() for line in z.read(meta).decode().splitlines()
                if line.startswith("Tag:")]
    print(f"  tags {tags}; size {os.path.getsize(path) / 1e6:.2f} MB")
    return check(files)


def installed():
    import fastrnn
    import fastrnn.backends

    root = os.path.dirname(os.path.abspath(fastrnn.__file__))
    print(f"installed fastrnn at {root}")
    base = os.path.dirname(root)
    files = sorted(os.path.relpath(os.path.join(d, f), base).replace(os.sep, "/")
                   for d, _, names in os.walk(base) for f in names
                   if os.path.relpath(d, base).split(os.sep)[0] in ("fastrnn", "fastrnn.libs"))
    failures = check(files)
    if os.path.basename(base) not in ("site-packages", "dist-packages"):
        failures.append(f"fastrnn is imported from {root}, not from an installed package")
    built = fastrnn.backends.built()
    print(f"  backends built: {built}")
    if "cuda" in built:
        failures.append(f"the CUDA backend is in this install: {built}")
    if "cpp" not in built:
        failures.append(f"the compiled CPU core does not load: {built}")
    return failures


failures = installed() if sys.argv[1:] == ["--installed"] else [
    f"{p}: {f}" for p in sys.argv[1:] for f in wheel(p)]
for f in failures:
    print(f"FAIL: {f}")
print("check_wheel:", "FAILED" if failures else "ok")
sys.exit(1 if failures else 0)
EOF
