"""`fastrnn info`: version, backends, threads, CPU features, optional packages."""

from __future__ import annotations

import os
import platform

import numpy as np

from fastrnn import backends
from fastrnn._version import __version__

OPTIONAL = ("pandas", "joblib", "dask", "matplotlib", "torch", "numba")


def cpu_flags():
    """The vector extensions the kernels can use that this CPU reports (Linux only)."""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = set(line.split(":", 1)[1].split())
                    return [f for f in ("avx2", "fma", "avx512f") if f in flags]
    except OSError:
        pass
    return []


def threads():
    """The OpenMP threads of the compiled core, or '?' where it is not built."""
    if "cpp" not in backends.available():
        return "?"
    return backends.threads("cpp")


def optional_packages():
    found = []
    for mod in OPTIONAL:
        try:
            m = __import__(mod)
            found.append(f"{mod} {getattr(m, '__version__', '?')}")
        except ImportError:
            pass
    return found


def run_info(args):
    print(f"fastrnn {__version__} (Python {platform.python_version()}, NumPy {np.__version__})")
    print(f"backends built:     {', '.join(backends.built())}")
    print(f"backends available: {', '.join(backends.available())}")
    print(f"default backend:    {backends.default()}")
    print(f"threads:            {threads()} (OMP_NUM_THREADS="
          f"{os.environ.get('OMP_NUM_THREADS', 'unset')})")
    print(f"CPU:                {platform.processor() or platform.machine()}; "
          f"features: {', '.join(cpu_flags()) or 'baseline'}")
    print(f"optional packages:  {', '.join(optional_packages()) or 'none'}")
    return 0
