"""The CPU kernels are built for several instruction sets; every variant gives the same answers,
and only the AVX variants contain AVX instructions (so the baseline runs on any x86-64 CPU)."""

from __future__ import annotations

import os
import platform
import re
import shutil
import subprocess
import sys

import pytest

core = pytest.importorskip("fastrnn.backends._core")

ORDER = ["baseline", "avx2", "avx512"]

CHECK = r"""
import numpy as np, fastrnn.backends._core as core
from fastrnn import ops
rng = np.random.default_rng(0)
worst = 0.0
for cell, G in (("elman", 1), ("lstm", 4), ("gru", 3)):
    for ra in ((True, False) if cell == "gru" else (True,)):
        for act in ("tanh", "relu", "sigmoid", "linear"):
            B, T, I, H = 5, 7, 3, 21
            x = rng.standard_normal((B, T, I))
            W = rng.standard_normal((I, G * H)) * 0.4
            U = rng.standard_normal((H, G * H)) * 0.2
            b = rng.standard_normal((2, G * H) if (cell == "gru" and ra) else G * H) * 0.1
            h0 = rng.standard_normal((B, H)) * 0.3
            dh = rng.standard_normal((B, T, H))
            out = {}
            for be in ("cpp", "numpy"):
                kw = dict(activation=act, backend=be)
                if cell == "gru":
                    r = ops.gru_forward(x, W, U, b, h0, reset_after=ra, **kw)
                    g = ops.gru_backward(r.cache, dh_seq=dh)
                else:
                    r = getattr(ops, cell + "_forward")(x, W, U, b, h0, **kw)
                    g = getattr(ops, cell + "_backward")(r.cache, dh_seq=dh)
                out[be] = [r.h_seq, *g]
            for a, c in zip(out["cpp"], out["numpy"]):
                worst = max(worst, float(np.max(np.abs(a - c)) / max(np.max(np.abs(c)), 1.0)))
print(core.isa(), worst)
"""


def _run(isa):
    env = {**os.environ, "FASTRNN_ISA": isa, "FASTRNN_BACKEND": ""}
    out = subprocess.run([sys.executable, "-c", CHECK], capture_output=True, text=True, env=env)
    assert out.returncode == 0, out.stderr
    got_isa, worst = out.stdout.split()
    return got_isa, float(worst)


@pytest.mark.parametrize("isa", ORDER)
def test_every_instruction_set_variant_matches_the_reference(isa):
    best = core.isa() if "FASTRNN_ISA" not in os.environ else None
    got_isa, worst = _run(isa)
    # FASTRNN_ISA can only lower the choice; on a CPU without the asked-for set we get less.
    assert ORDER.index(got_isa) <= ORDER.index(isa)
    if best is not None:
        assert got_isa == min(isa, best, key=ORDER.index)
    assert worst < 1e-10, f"{got_isa}: relative error {worst:.2e}"


@pytest.mark.skipif(platform.machine() not in ("x86_64", "AMD64") or not shutil.which("objdump"),
                    reason="needs x86-64 and objdump")
def test_only_the_avx_variants_use_avx_registers():
    dis = subprocess.run(["objdump", "-d", "-C", "--no-show-raw-insn", core.__file__],
                         capture_output=True, text=True, check=True).stdout
    offenders, avx512_users = set(), set()
    function = None
    for line in dis.splitlines():
        m = re.match(r"^[0-9a-f]+ <(.*)>:$", line)
        if m:
            function = m.group(1)
        elif function and re.search(r"%[yz]mm\d", line):
            if "isa_avx512::" in function and "%zmm" in line:
                avx512_users.add(function)
            if "isa_avx2::" not in function and "isa_avx512::" not in function:
                offenders.add(function)
    assert avx512_users, "the scan found no AVX-512 code at all: is the disassembly parsed?"
    assert not offenders, f"AVX registers outside the AVX variants: {sorted(offenders)[:5]}"
