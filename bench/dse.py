"""Design-space sweep rates (issue 21): numbers and ratios, no assertions.

    .venv/bin/python bench/dse.py                    # everything, the full 1,000-point sweep
    .venv/bin/python bench/dse.py --points 100       # a shorter sweep (rates extrapolate)
    .venv/bin/python bench/dse.py --skip-models      # only the sweeps

1. points per hour per core on ResNet-50 (statistical mode, 70 % pruned), per built-in
   model: one design point evaluated in this process (workloads already built), the median
   of a few runs;
2. a SPOTS/systolic sweep on ResNet-50 (half SPOTS points, half Gemmini-like systolic
   points, a Latin hypercube over SRAM sizes and DRAM bandwidth) on the local process pool
   of --workers processes; the target is 1,000 points in 5 minutes on 2 cores;
3. the same kind of sweep, --dask-points points, on a Dask LocalCluster of 1 and of 2
   workers (started before the clock): the speed-up;
4. resume overhead: the finished sweep run again (every row already in the store).
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import torch

MODELS = ["ideal", "scalesim-32x32", "gemmini", "systolic-dense", "spots", "eyeriss", "scnn"]


def space(points: int, name: str) -> dict[str, Any]:
    half = max(1, points // 2)
    return {
        "name": name,
        "base": [
            {"arch": "spots", "axes": {
                "memory.ifm_sram.size_bytes": {"log": [65536, 1048576]},
                "memory.weight_sram.size_bytes": {"log": [65536, 1048576]},
                "memory.ofm_sram.size_bytes": {"log": [32768, 524288]}}},
            {"arch": "gemmini", "axes": {
                "memory.scratchpad_inputs.size_bytes": {"log": [32768, 1048576]},
                "memory.scratchpad_weights.size_bytes": {"log": [32768, 1048576]},
                "memory.accumulator.size_bytes": {"log": [16384, 262144]}}},
        ],
        "axes": {"dram.bandwidth_bits_per_cycle": {"log": [32.0, 512.0]}},
        "workload": {"networks": ["resnet50"], "prune": "0.7", "mode": "statistical"},
        "sampler": {"kind": "lhs", "n": half, "seed": 0},
    }


def per_model() -> None:
    from accelscope.dse.engine import Task, WorkloadOptions, evaluate_task, prepared

    torch.set_num_threads(1)
    opts = WorkloadOptions("resnet50", "0.7", None, "statistical", 0)
    t0 = time.perf_counter()
    prepared(opts, None)
    print(f"ResNet-50 workloads (70 % pruned, statistical): {time.perf_counter() - t0:.1f} s, "
          "built once per sweep")
    from accelscope.arch import load_arch

    print(f"{'model':<16} {'s/point':>9} {'points/h/core':>14}")
    for name in MODELS:
        spec = load_arch(name)
        task = Task("bench", spec, opts, None, None, {})
        times = []
        for _ in range(1 if name == "scnn" else 3):
            t = time.perf_counter()
            row = evaluate_task(task)
            times.append(time.perf_counter() - t)
        status = "" if row["status"] == "ok" else f"  ({row['status']}: {row['error'][:60]})"
        m = statistics.median(times)
        print(f"{name:<16} {m:9.3f} {3600 / m:14,.0f}{status}")


def sweep(points: int, workers: int, dask_points: int, store: Path) -> None:
    from accelscope.dse import run_sweep

    s = run_sweep(space(points, "bench"), out=store / "pool", workers=workers)
    rate = s.computed / s.wall_s * 3600
    print(f"\n{s.line()}")
    target = 1000 / 300 * 3600
    print(f"sweep rate: {rate:,.0f} points/h on {workers} workers (target 1,000 in 5 min = "
          f"{target:,.0f}/h): {rate / target:.2f}x the target; 1,000 points would take "
          f"{1000 / rate * 60:.1f} min")
    from accelscope.dse import open_store

    with open_store(store / "pool") as st:
        df = st.to_dataframe()
    for base, g in df.groupby("base"):
        print(f"  {base}: {len(g)} points, median eval {g['eval_s'].median():.3f} s/point "
              f"in a worker")
    t = time.perf_counter()
    again = run_sweep(space(points, "bench"), out=store / "pool", workers=workers)
    dt = time.perf_counter() - t
    print(f"resume: the finished sweep again: {again.computed} computed, {again.resumed} "
          f"skipped in {dt:.2f} s ({dt / max(again.resumed, 1) * 1e3:.2f} ms per stored "
          "row, space loading and sampling included)")
    from accelscope.dse.engine import DaskExecutor

    walls = {}
    for n in (1, 2):
        t = time.perf_counter()
        ex = DaskExecutor(None, n)
        start = time.perf_counter() - t
        try:
            d = run_sweep(space(dask_points, f"dask{n}"), out=store / f"dask{n}", executor=ex)
        finally:
            ex.close()
        walls[n] = d.wall_s
        print(f"dask LocalCluster, {n} worker(s): {d.computed} points in {d.wall_s:.1f} s "
              f"(workers loading the workloads included; the cluster's start, {start:.1f} s, "
              "not)")
    print(f"dask 2 vs 1 workers: {walls[1] / walls[2]:.2f}x (target >= 1.8x)")


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--points", type=int, default=1000, help="points of the sweep (1000)")
    ap.add_argument("--workers", type=int, default=2, help="local pool workers (2)")
    ap.add_argument("--dask-points", type=int, default=40,
                    help="points of the 1-vs-2 Dask comparison (40)")
    ap.add_argument("--skip-models", action="store_true", help="skip the per-model rates")
    ap.add_argument("--skip-sweeps", action="store_true", help="skip the sweeps")
    args = ap.parse_args(argv)
    import os

    print(f"{os.cpu_count()} CPU(s); load average {os.getloadavg()[0]:.1f} at the start")
    if not args.skip_models:
        per_model()
    if not args.skip_sweeps:
        with tempfile.TemporaryDirectory(prefix="accelscope-bench-dse-") as d:
            sweep(args.points, args.workers, args.dask_points, Path(d))
    print(f"load average {os.getloadavg()[0]:.1f} at the end (other processes share the "
          "cores: rates are lower bounds)")


if __name__ == "__main__":
    sys.exit(main())
