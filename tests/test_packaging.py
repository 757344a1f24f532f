"""What a wheel ships: the typed stubs and py.typed, never the CUDA module in the CPU wheel
(scripts/check_wheel.sh, which the wheel builds run), and the settings that make it so.

``FASTRNN_WHEEL=path/to/fastrnn-*.whl pytest tests/test_packaging.py`` also checks a built
wheel; without it that test is skipped. scripts/build_wheel.sh builds, repairs and tests one.
"""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CHECK = ROOT / "scripts" / "check_wheel.sh"
SO = "cpython-311-x86_64-linux-gnu.so"
GOOD = ["fastrnn/__init__.py", "fastrnn/py.typed", "fastrnn/backends/_core.pyi",
        "fastrnn/backends/_cuda.pyi", f"fastrnn/backends/_core.{SO}",
        "fastrnn-0.1.0.dist-info/WHEEL"]


def tomllib():
    if sys.version_info >= (3, 11):
        import tomllib as lib
    else:
        lib = pytest.importorskip("tomli")
    return lib


def fake_wheel(path, names):
    with zipfile.ZipFile(path, "w") as z:
        for name in names:
            z.writestr(name, "Tag: cp311-cp311-linux_x86_64\n" if name.endswith("WHEEL") else "")
    return path


def check(*args):
    return subprocess.run(["bash", str(CHECK), *map(str, args)], capture_output=True, text=True,
                          check=False)


def test_the_check_passes_a_cpu_wheel(tmp_path):
    res = check(fake_wheel(tmp_path / "good.whl", GOOD))
    assert res.returncode == 0, res.stdout + res.stderr
    assert "check_wheel: ok" in res.stdout


def test_the_check_names_a_cuda_module_and_what_is_missing(tmp_path):
    bad = [n for n in GOOD if not n.endswith(("py.typed", "_core.pyi"))]
    bad.append(f"fastrnn/backends/_cuda.{SO}")
    res = check(fake_wheel(tmp_path / "bad.whl", bad))
    assert res.returncode == 1
    assert f"contains the CUDA module: ['fastrnn/backends/_cuda.{SO}']" in res.stdout
    assert "lacks fastrnn/py.typed" in res.stdout and "lacks fastrnn/backends/_core.pyi" in res.stdout
    no_core = [n for n in GOOD if "_core." not in n or n.endswith(".pyi")]
    res = check(fake_wheel(tmp_path / "pure.whl", no_core))
    assert res.returncode == 1 and "has no compiled CPU core" in res.stdout


@pytest.mark.skipif(not os.environ.get("FASTRNN_WHEEL"), reason="set FASTRNN_WHEEL to a wheel")
def test_a_built_wheel():
    res = check(os.environ["FASTRNN_WHEEL"])
    assert res.returncode == 0, res.stdout + res.stderr


def test_stubs_and_py_typed_are_package_files_git_does_not_ignore():
    # scikit-build-core's wheel.packages copies the files of src/fastrnn that git does not
    # ignore: a marker or stub matched by .gitignore would silently drop out of the wheel.
    files = ["src/fastrnn/py.typed", "src/fastrnn/backends/_core.pyi",
             "src/fastrnn/backends/_cuda.pyi"]
    for f in files:
        assert (ROOT / f).is_file(), f
    if (ROOT / ".git").exists():
        ignored = subprocess.run(["git", "check-ignore", *files], cwd=ROOT, capture_output=True,
                                 text=True, check=False).stdout.split()
        assert not ignored, ignored


def test_wheel_builds_leave_the_cuda_module_out():
    config = tomllib().loads((ROOT / "pyproject.toml").read_text())["tool"]
    assert config["scikit-build"]["cmake"]["define"]["FASTRNN_CUDA"]["env"] == "FASTRNN_CUDA"
    assert config["cibuildwheel"]["environment"]["FASTRNN_CUDA"] == "OFF"
    assert "check_wheel.sh --installed" in config["cibuildwheel"]["test-command"]
    # the -march levels of the AVX2 / AVX-512 variants need the newer images' GCC
    assert config["cibuildwheel"]["manylinux-x86_64-image"] == "manylinux_2_28"


def test_the_cython_kernels_stub_matches_the_module():
    # tests/kernels/test_stubs.py checks the pybind11 modules; Cython functions carry real
    # signatures, so inspect reads them directly.
    import ast
    import inspect

    kernels = pytest.importorskip("fastrnn.timeseries._kernels")
    tree = ast.parse((ROOT / "src/fastrnn/timeseries/_kernels.pyi").read_text())
    stub = {n.name: [a.arg for a in n.args.args] for n in tree.body
            if isinstance(n, ast.FunctionDef)}
    public = {n for n in dir(kernels) if not n.startswith("_")}
    assert public == set(stub)
    for name, args in stub.items():
        assert list(inspect.signature(getattr(kernels, name)).parameters) == args, name
