"""Speed of the evaluation pipeline: execute once for real activations, then evaluate every
GConv on the ideal model, for whole networks.

Target (design): a model evaluates a whole network in milliseconds to seconds, so that sweeps
of thousands of points are practical. Prints numbers; asserts nothing.
Usage: python bench/evaluate.py [MODEL ...]
"""

from __future__ import annotations

import sys
import time

import accelscope
from accelscope.arch import load_arch
from accelscope.pipeline import build_workloads, evaluate_workloads


def main(names: list[str]) -> None:
    spec = load_arch("ideal")
    print(f"{'model':<16}{'GConvs':>7}{'lower s':>9}{'execute s':>11}{'ideal s':>9}"
          f"{'statistical s':>15}{'layers/s':>10}")
    for name in names:
        zm = accelscope.zoo.get(name)
        t0 = time.perf_counter()
        chain = accelscope.lower(zm)
        t1 = time.perf_counter()
        ws = build_workloads(chain, zm.example_input())
        t2 = time.perf_counter()
        evaluate_workloads(ws, spec, network=name)
        t3 = time.perf_counter()
        stat = build_workloads(chain, mode="statistical",
                               densities={t: 0.5 for t in chain.tensors})
        t4 = time.perf_counter()
        evaluate_workloads(stat, spec, network=name)
        t5 = time.perf_counter()
        n = len(chain.gconvs)
        print(f"{name:<16}{n:>7}{t1 - t0:>9.2f}{t2 - t1:>11.2f}{t3 - t2:>9.3f}"
              f"{t5 - t4:>15.3f}{n / (t3 - t2):>10.0f}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["resnet18", "mobilenet_v2", "resnet50"])
