"""Turn pytest-benchmark JSON from bench_cells.py into a Markdown table and a PNG chart.

    python bench/report.py bench/results/cells.json [--md bench/results/cells.md]
                                                     [--png bench/results/cells.png]

The table has one row per (shape, cell): the median time of every backend and peer, and the
ratios PyTorch / fastrnn-cpp (higher is better for fastrnn) and numba / cpp, the cpp backend's
FLOP rate and, where the run recorded it (bench/conftest.py), that rate as a share of the
machine's large-sgemm rate measured in the same run, each next to its target from
bench/TARGETS.md (the numbers: bench/targets.py). The chart shows the PyTorch / fastrnn ratio
per shape and cell, with the targets marked.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict

import targets
from fastrnn import cells
from fastrnn.benchmarking import STANDARD_SHAPES

SHAPE_ORDER = list(STANDARD_SHAPES)
CELL_ORDER = list(cells.NAMES)


def load(path):
    with open(path) as f:
        data = json.load(f)
    times = defaultdict(dict)  # (shape, cell) -> backend -> median seconds
    info = {}
    for bm in data["benchmarks"]:
        ex = bm.get("extra_info", {})
        if "shape" not in ex:
            continue
        times[(ex["shape"], ex["cell"])][ex["backend"]] = bm["stats"]["median"]
        times[(ex["shape"], ex["cell"])]["_flops"] = ex.get("flops")
        info = {k: ex.get(k) for k in ("threads", "cpu", "isa", "versions", "sgemm_gflops")}
    return times, info, data.get("machine_info", {})


def fmt_ms(t):
    return "—" if t is None else (f"{t * 1e3:.3f}" if t < 0.01 else f"{t * 1e3:.1f}")


def _mark(value, target):
    return "" if value is None or target is None else (" ✓" if value >= target else " ✗")


_ORDER = ["cpp", "numba", "cuda", "numpy", "torch", "keras", "floor"]


def table(times, info):
    backends = sorted({b for v in times.values() for b in v if not b.startswith("_")},
                      key=lambda b: _ORDER.index(b) if b in _ORDER else 99)
    head = ["shape", "cell"] + [f"{b} ms" for b in backends] + ["torch / cpp", "target"]
    if "numba" in backends:
        head.append("numba / cpp")
    if "floor" in backends:
        head.append(f"cpp / floor (<= {targets.INFER_FLOOR_RATIO:g}x)")
    head.append("cpp GFLOP/s")
    sgemm = info.get("sgemm_gflops")
    if sgemm:
        head += ["% of sgemm", "sgemm target"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    keys = sorted(times, key=lambda k: (SHAPE_ORDER.index(k[0]) if k[0] in SHAPE_ORDER else 9,
                                        CELL_ORDER.index(k[1])))
    for shape, cell in keys:
        row = times[(shape, cell)]
        cpp = row.get("cpp")
        cols = [shape, cell] + [fmt_ms(row.get(b)) for b in backends]
        ratio = row.get("torch") / cpp if cpp and row.get("torch") else None
        target = targets.torch_ratio(shape, cell)
        cols += ["—" if ratio is None else f"{ratio:.2f}x{_mark(ratio, target)}",
                 f">= {target:g}x" if target else ""]
        if "numba" in backends:
            cols.append(f"{row['numba'] / cpp:.2f}" if cpp and row.get("numba") else "—")
        if "floor" in backends:
            over = cpp / row["floor"] if cpp and row.get("floor") else None
            cols.append("—" if over is None else
                        f"{over:.1f}x" + (" ✓" if over <= targets.INFER_FLOOR_RATIO else " ✗"))
        fl = row.get("_flops")
        cols.append(f"{fl / cpp / 1e9:.1f}" if cpp and fl else "—")
        if sgemm:
            share = fl / cpp / 1e9 / sgemm if cpp and fl else None
            target = targets.sgemm_share(shape)
            cols += ["—" if share is None else f"{100 * share:.0f}%{_mark(share, target)}",
                     f">= {100 * target:.0f}%" if target else ""]
        lines.append("| " + " | ".join(cols) + " |")
    v = info.get("versions") or {}
    lines.append("")
    lines.append(f"{info.get('cpu', '?')}, {info.get('threads')} threads for every library, "
                 f"kernels for {info.get('isa', '?')}; float32, medians; "
                 + ", ".join(f"{k} {val}" for k, val in v.items()) + "."
                 + (f" Large-sgemm rate of this machine in the same run (NumPy's BLAS, 2048^3 "
                    f"float32, same threads): {sgemm:.1f} GFLOP/s." if sgemm else ""))
    return "\n".join(lines)


def chart(times, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    keys = [(s, c) for s in SHAPE_ORDER for c in CELL_ORDER
            if (s, c) in times and times[(s, c)].get("cpp") and times[(s, c)].get("torch")]
    ratios = [times[k]["torch"] / times[k]["cpp"] for k in keys]
    fig, ax = plt.subplots(figsize=(10, 4))
    palette = ["#4c72b0", "#dd8452", "#55a868", "#c44e52", "#8172b3", "#937860"]
    colors = {c: palette[i % len(palette)] for i, c in enumerate(CELL_ORDER)}
    xs = range(len(keys))
    ax.bar(xs, ratios, color=[colors[c] for _, c in keys])
    for x, k in zip(xs, keys):
        t = targets.torch_ratio(*k)
        if t:
            ax.plot([x - 0.4, x + 0.4], [t, t], color="black", lw=1)
    ax.axhline(1.0, color="grey", lw=0.8, ls="--")
    ax.set_yscale("log")
    ax.set_xticks(list(xs))
    ax.set_xticklabels([f"{s}\n{c}" for s, c in keys], fontsize=7)
    ax.set_ylabel("PyTorch time / fastrnn time")
    ax.set_title("fastrnn (cpp backend) vs PyTorch, float32; black lines: targets")
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("json")
    ap.add_argument("--md")
    ap.add_argument("--png")
    args = ap.parse_args(argv)
    times, info, _ = load(args.json)
    md = table(times, info)
    print(md)
    if args.md:
        with open(args.md, "w") as f:
            f.write(md + "\n")
    if args.png:
        chart(times, args.png)
        print(f"chart written to {args.png}", file=sys.stderr)


if __name__ == "__main__":
    main()
