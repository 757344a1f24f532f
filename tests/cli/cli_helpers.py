"""What the command-line tests share: a quick set of forecast options, running ``fastrnn`` in
the test process, the check of a one-line error, and loading a bench/ script as a module."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from fastrnn import cli

BENCH = Path(__file__).resolve().parents[2] / "bench"

# the smallest single-series forecast run that still exercises every stage
FAST = ["--quiet", "--cells", "gru", "--units", "4", "--lags", "4", "--epochs", "3",
        "--horizon", "5"]


def run(capsys, *argv):
    """(exit status, stdout, stderr) of ``fastrnn ARGV`` (arguments as text: paths welcome)."""
    rc = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return rc, out, err


def one_line_error(rc, err, *parts):
    """The command failed with status 2 and one line ``fastrnn: error: ...`` holding `parts`."""
    assert rc == 2
    assert "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("fastrnn: error: ")
    for p in parts:
        assert p in lines[0], (p, lines[0])


def load_bench(name):
    """bench/NAME.py as a module (bench/ is not a package)."""
    spec = importlib.util.spec_from_file_location(name, BENCH / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module
