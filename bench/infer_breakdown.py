"""Where an infer-b1 call's time goes: the empty binding call with the same arrays (the floor of
bench/TARGETS.md), the cell's binding call at T = 0, 1, 24 and 48 (fixed cost and the cost per
step), and the ops-level call (the Python dispatch on top). B = 1, I = 1, H = 16, float32, the
cpp backend; the best of 7 medians of 20,000 calls each, in microseconds.

    python bench/infer_breakdown.py
"""

from __future__ import annotations

import timeit

from fastrnn import backends, cells
from fastrnn.benchmarking import floor_runner, make_problem, runner


def best_us(fn, number=20000, repeat=7):
    return min(timeit.repeat(fn, number=number, repeat=repeat)) / number * 1e6


def main():
    _, cpp = backends.get("cpp")
    print("cell   floor   T=0    T=1    T=24   T=48   per step  ops T=24")
    for cell in cells.NAMES:
        info = cells.get(cell)
        kernel = getattr(cpp, info.forward_name)
        extra = (None,) * len(info.states) + ((True,) if info.has_reset_after else ()) + (
            "tanh", *info.recurrent_activations[:1])
        times = {}
        for T in (0, 1, 24, 48):
            x, W, U, b = make_problem(cell, 1, T, 1, 16)
            times[T] = best_us(lambda x=x, W=W, U=U, b=b: kernel(x, W, U, b, *extra))
        problem = make_problem(cell, 1, 24, 1, 16)
        floor = best_us(floor_runner(cell, *problem))
        ops = best_us(runner(cell, "cpp", *problem, "forward"))
        per_step = (times[48] - times[24]) / 24
        print(f"{cell:6s} {floor:5.2f}  {times[0]:5.2f}  {times[1]:5.2f}  {times[24]:5.2f}  "
              f"{times[48]:5.2f}  {per_step:8.3f}  {ops:7.2f}")


if __name__ == "__main__":
    main()
