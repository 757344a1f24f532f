"""The typed stubs of the compiled modules (fastrnn/backends/_core.pyi, _cuda.pyi) name what the
modules define, with the argument names pybind11 reports."""

from __future__ import annotations

import ast
import pathlib
import re

import pytest

STUBS = pathlib.Path(__file__).resolve().parents[2] / "src" / "fastrnn" / "backends"


def _stub(name):
    tree = ast.parse((STUBS / f"{name}.pyi").read_text())
    functions, classes, attributes = {}, {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = {n.name: [a.arg for a in n.args.args] for n in node.body
                                  if isinstance(n, ast.FunctionDef)}
        elif isinstance(node, ast.AnnAssign) and not node.target.id.startswith("_"):
            attributes.add(node.target.id)
    return functions, {k: v for k, v in classes.items() if not k.startswith("_")}, attributes


def _runtime_args(obj):
    """Argument names from pybind11's signature line, 'name(a: T, b: U) -> R'."""
    head = obj.__doc__.splitlines()[0]
    inside = head[head.index("(") + 1:head.rindex(") ->")]
    return [m.group(1) for m in re.finditer(r"(?:^|, )(\w+):", inside)]


@pytest.mark.parametrize("name", ["_core", "_cuda"])
def test_stub_matches_module(name):
    module = pytest.importorskip(f"fastrnn.backends.{name}")
    functions, classes, attributes = _stub(name)
    public = {n for n in dir(module) if not n.startswith("_")}
    assert public == set(functions) | set(classes) | attributes
    for fname, args in functions.items():
        assert _runtime_args(getattr(module, fname)) == args, fname
    for cname, methods in classes.items():
        for mname, args in methods.items():
            member = getattr(getattr(module, cname), mname)
            if isinstance(member, property):
                continue
            assert _runtime_args(member) == args, f"{cname}.{mname}"

