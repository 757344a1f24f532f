"""The package's layout rules (ARCHITECTURE in the README's terms): wings import only downwards,
no import cycles, the cell names live in one table, no oversized files, and the functional API
imports without the upper wings.

The import graph is read from the source with ``ast`` (every ``import`` statement, also those
inside functions), so the rules hold for deferred imports too.
"""

from __future__ import annotations

import ast
import functools
import re
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PKG = ROOT / "src" / "fastrnn"
CSRC = ROOT / "csrc"

# Wings from the bottom up; a module may import its own rank or lower ones.
RANKS = [
    (0, ("fastrnn._version", "fastrnn.cells", "fastrnn._params")),
    (1, ("fastrnn.backends",)),
    (2, ("fastrnn.ops", "fastrnn.interop", "fastrnn.timeseries", "fastrnn.data")),
    (3, ("fastrnn.nn", "fastrnn.benchmarking")),
    (4, ("fastrnn.forecasting",)),
    (4, ("fastrnn.sklearn",)),  # adapters for optional libraries, beside forecasting: no wing
    (4, ("fastrnn.torch",)),    # at or below nn may import them, so the core needs neither
    (5, ("fastrnn.cli", "fastrnn.__main__")),
]
# The face and the Keras-place aliases sit above everything: nothing inside may import them.
FACE_RANK = 6
KERAS_ALIASES = ("layers", "optimizers", "losses", "regularizers", "callbacks", "initializers",
                 "activations", "constraints")
MAX_LINES = 600


def module_name(path: Path) -> str:
    rel = path.relative_to(PKG.parent).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@functools.lru_cache(maxsize=None)
def python_files():
    return tuple(sorted(PKG.rglob("*.py")))


@functools.lru_cache(maxsize=None)
def known_modules():
    return frozenset(module_name(p) for p in python_files())


def rank(name: str) -> int:
    if name == "fastrnn" or name in {f"fastrnn.{a}" for a in KERAS_ALIASES}:
        return FACE_RANK
    for r, prefixes in RANKS:
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return r
    raise AssertionError(f"module {name} belongs to no wing: add it to RANKS in {__file__}")


def resolve(importer: str, is_package: bool, node) -> list[str]:
    """The fastrnn modules an import statement loads (for 'from X import a', X.a when that is a
    module of the package, else X)."""
    known = known_modules()
    out = []
    if isinstance(node, ast.Import):
        out = [a.name for a in node.names if a.name.split(".")[0] == "fastrnn"]
    else:
        if node.level:
            base = importer.split(".")
            base = base if is_package else base[:-1]
            base = base[:len(base) - node.level + 1]
            mod = ".".join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ""
        if mod.split(".")[0] != "fastrnn":
            return []
        for a in node.names:
            out.append(f"{mod}.{a.name}" if f"{mod}.{a.name}" in known else mod)
    return out


def import_graph():
    graph = {}
    for path in python_files():
        name = module_name(path)
        tree = ast.parse(path.read_text(), str(path))
        targets = set()
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                targets.update(resolve(name, path.name == "__init__.py", node))
        targets.discard(name)
        graph[name] = targets
    return graph


def is_alias_module(name):
    return name in {f"fastrnn.{a}" for a in KERAS_ALIASES} or name == "fastrnn"


def test_wings_import_only_downwards():
    graph = import_graph()
    upward = []
    for importer, targets in graph.items():
        if is_alias_module(importer):
            continue
        for target in targets:
            if target == "fastrnn._version" and importer == "fastrnn":
                continue
            if rank(target) > rank(importer):
                upward.append(f"{importer} -> {target}")
    # the face and its aliases are never imported from inside
    assert not [u for u in upward if is_alias_module(u.split(" -> ")[1])], upward
    assert len(upward) <= 1, "imports running back up the wings:\n" + "\n".join(sorted(upward))


def test_no_import_cycles():
    nodes = import_graph_nodes()
    graph = {k: v & nodes for k, v in import_graph().items() if not is_alias_module(k)}
    # Each package's __init__ importing its own submodules is how packages work: collapse a
    # package and its own submodules' edges into the package only when the edge goes down
    # into it (parent -> child), which is not a cycle in the layering sense.
    state, stack, cycles = {}, [], []

    def visit(node):
        state[node] = 1
        stack.append(node)
        for nxt in graph.get(node, ()):
            if nxt.startswith(node + "."):
                continue  # a package importing its own submodule
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    assert not cycles, "import cycles:\n" + "\n".join(" -> ".join(c) for c in cycles)


def import_graph_nodes():
    return {m for m in known_modules() if not is_alias_module(m)}


def generated(path: Path) -> bool:
    return "GENERATED by" in path.read_text()[:2000]


def test_no_python_file_over_the_limit():
    long = [f"{p.relative_to(ROOT)}: {n}" for p in python_files()
            if (n := len(p.read_text().splitlines())) > MAX_LINES and not generated(p)]
    assert not long, f"files over {MAX_LINES} lines:\n" + "\n".join(long)


CELL_LITERAL = re.compile(r"""["'](elman|lstm|gru)["']""")


def test_cell_names_live_in_one_table():
    python_hits = [f"{p.relative_to(ROOT)}:{i}" for p in python_files() if p.name != "cells.py"
                   for i, line in enumerate(p.read_text().splitlines(), 1)
                   if CELL_LITERAL.search(line)]
    assert not python_hits, "cell names spelled outside fastrnn/cells.py:\n" + "\n".join(python_hits)
    cpp_table = CSRC / "include" / "fastrnn" / "cells.hpp"
    cpp_hits = [f"{p.relative_to(ROOT)}:{i}" for p in sorted(CSRC.rglob("*"))
                if p.is_file() and p.suffix in (".cpp", ".hpp", ".cu", ".cuh", ".h")
                and p != cpp_table
                for i, line in enumerate(p.read_text().splitlines(), 1)
                if re.search(r'"(elman|lstm|gru)"', line)]
    assert not cpp_hits, ("cell names spelled outside csrc/include/fastrnn/cells.hpp:\n"
                          + "\n".join(cpp_hits))


def test_the_version_is_written_once():
    hits = [p for p in list(python_files()) + [ROOT / "pyproject.toml", ROOT / "CMakeLists.txt"]
            if re.search(r"""(__version__|^version)\s*=\s*["']\d""", p.read_text(), re.M)]
    assert [p.name for p in hits] == ["_version.py"], hits


def test_nothing_points_outside_the_repository():
    pattern = re.compile(r"\.\./shared|shared/[A-Z]+\.md|\b(PERFORMANCE|FORECASTING|ARCHITECTURE|"
                         r"DESIGN)\.md")
    files = [p for d in ("src", "csrc", "bench", "scripts", "tests", "docs", "cmake")
             for p in (ROOT / d).rglob("*") if p.is_file() and p.suffix in
             (".py", ".md", ".cpp", ".hpp", ".cu", ".cuh", ".sh", ".cmake", ".pyi", ".txt")]
    files += [ROOT / "README.md", ROOT / "CMakeLists.txt", ROOT / "pyproject.toml"]
    hits = [f"{p.relative_to(ROOT)}:{i}" for p in files if p != Path(__file__)
            for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
            if pattern.search(line)]
    assert not hits, "references to files outside the repository:\n" + "\n".join(hits)


def run_python(code):
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, cwd=ROOT)


def test_importing_ops_loads_no_upper_wing():
    out = run_python("import sys, fastrnn.ops; print(' '.join(sorted(m for m in sys.modules "
                     "if m.startswith('fastrnn'))))").stdout.split()
    upper = [m for m in out if rank(m) >= 3 and not is_alias_module(m)]
    assert not upper, f"import fastrnn.ops loaded {upper}"
    assert "fastrnn.backends._core" not in out  # the compiled core loads on the first call


def import_time_ms():
    """fastrnn.ops's cumulative import time (microseconds -> ms) with NumPy already loaded, by
    python -X importtime."""
    res = subprocess.run([sys.executable, "-X", "importtime", "-c", "import numpy; import fastrnn.ops"],
                         capture_output=True, text=True, check=True, cwd=ROOT)
    for line in res.stderr.splitlines():
        fields = [f.strip() for f in line.split("|")]
        if len(fields) == 3 and fields[2] == "fastrnn.ops":
            return int(fields[1]) / 1000
    raise AssertionError(res.stderr[-2000:])


def test_import_of_the_functional_api_is_fast():
    times = [import_time_ms() for _ in range(5)]
    assert statistics.median(times) < 30, f"import fastrnn.ops: {times} ms"


@pytest.mark.parametrize("name", ["Sequential", "Input", "load_model", "set_random_seed", "layers",
                                  "optimizers", "losses", "callbacks", "regularizers", "timeseries",
                                  "interop", "data", "backends", "ops", "forecasting", "nn", "cells"])
def test_public_names_of_the_face(name):
    import fastrnn
    assert getattr(fastrnn, name) is not None
    assert name in dir(fastrnn)


def test_keras_places_are_the_nn_modules():
    import fastrnn
    import fastrnn.layers
    import fastrnn.nn
    for alias in KERAS_ALIASES:
        __import__(f"fastrnn.{alias}")
        assert sys.modules[f"fastrnn.{alias}"] is sys.modules[f"fastrnn.nn.{alias}"]
        assert getattr(fastrnn, alias) is sys.modules[f"fastrnn.nn.{alias}"]
    with pytest.raises(AttributeError, match="no attribute 'selection'"):
        fastrnn.selection  # noqa: B018
