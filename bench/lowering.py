"""Lowering and executor speed against PyTorch eager, in one process.

Targets (issue: foundation): lowering under 2 s; executor at most 2x PyTorch eager.
Prints numbers and ratios; asserts nothing. Usage: python bench/lowering.py [MODEL ...]
"""

from __future__ import annotations

import statistics
import sys
import time

import torch

import accelscope
from accelscope.workload.execute import relative_error

LOWER_TARGET_S = 2.0
EXEC_TARGET_RATIO = 2.0


def median_time(fn, repeats: int, warmup: int = 2) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(names: list[str]) -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    header = (f"{'model':14s} {'lower s':>8s} {'target':>7s} {'exec s':>8s} {'eager s':>8s} "
              f"{'exec/eager':>10s} {'target':>7s} {'rel err':>9s}")
    print(header)
    print("-" * len(header))
    for name in names:
        zm = accelscope.zoo.get(name)
        x = zm.example_input()
        t_lower = median_time(lambda: accelscope.lower(zm.module, x), repeats=3, warmup=1)
        chain = accelscope.lower(zm.module, x, name=name)
        with torch.no_grad():
            t_eager = median_time(lambda: zm.module(x), repeats=7)
            ref = zm.module(x)
        t_exec = median_time(lambda: accelscope.execute(chain, x), repeats=7)
        err = relative_error(accelscope.execute(chain, x), ref)
        ratio = t_exec / t_eager
        print(f"{name:14s} {t_lower:8.3f} {'OK' if t_lower < LOWER_TARGET_S else 'MISS':>7s} "
              f"{t_exec:8.3f} {t_eager:8.3f} {ratio:10.2f} "
              f"{'OK' if ratio <= EXEC_TARGET_RATIO else 'MISS':>7s} {err:9.1e}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["resnet50", "mobilenet_v2"])
