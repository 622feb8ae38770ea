"""Speed of the SCNN model: actual-data evaluation of a whole pruned network on one core,
with the DCNN (same model, dense flags) beside it.

Target (issue 5): ResNet-50 at 224x224, weights pruned to 30 % density per layer
(``--prune 0.7``), every GConv evaluated on its real tensors, in under 10 s on one core.
Lowering, pruning and the executor run (real activations) are timed separately: they are
shared by every model. Prints numbers; asserts nothing.

Usage: python bench/scnn.py [MODEL] [--prune SPEC]
"""

from __future__ import annotations

import argparse
import time

import torch

import accelscope
from accelscope.arch import load_arch
from accelscope.pipeline import build_workloads, evaluate_workloads
from accelscope.sparsity import prune_chain


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("model", nargs="?", default="resnet50")
    ap.add_argument("--prune", default="0.7")
    args = ap.parse_args()
    torch.set_num_threads(1)
    t0 = time.perf_counter()
    zm = accelscope.zoo.get(args.model)
    chain = prune_chain(accelscope.lower(zm), args.prune)
    workloads = build_workloads(chain, zm.example_input())
    t1 = time.perf_counter()
    print(f"{args.model}: {len(workloads)} GConvs, prune {args.prune!r}; lower + prune + "
          f"execute {t1 - t0:.2f} s (shared by every model)")
    print(f"{'arch':<10}{'eval s':>8}{'cycles':>12}{'ms @1GHz':>10}{'energy mJ':>11}"
          f"{'bank-conflict cyc':>19}")
    results = {}
    for arch in ("scnn", "dcnn", "dcnn-opt"):
        spec = load_arch(arch)
        t = time.perf_counter()
        r = evaluate_workloads(workloads, spec, network=args.model)
        dt = time.perf_counter() - t
        results[arch] = r
        conflicts = r.stall_cycles.get("bank_conflict", 0)
        print(f"{arch:<10}{dt:>8.2f}{r.cycles:>12,}{r.seconds * 1e3:>10.3f}"
              f"{r.total_energy_pj * 1e-9:>11.3f}{conflicts:>19,}")
    s, d = results["scnn"], results["dcnn"]
    print(f"SCNN over DCNN: {d.seconds / s.seconds:.2f}x faster, "
          f"{d.total_energy_pj / s.total_energy_pj:.2f}x less energy")


if __name__ == "__main__":
    main()
