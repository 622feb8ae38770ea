"""Speed of the OpenEdgeCGRA instruction-level simulator.

Target (issue 8): the paper's base layer (16x16 input, C = K = 16, 3x3) through the
weight-parallel mapping simulates in under 5 s. Prints, per mapping, the wall time, the
simulated CGRA cycles and instruction rows, and the simulated cycles per wall-clock second;
then a whole network on the ``cgra`` GConv model (sampled launches). Asserts nothing.

Usage: python bench/cgra.py [--layer HxWxCxK] [--network NAME]
"""

from __future__ import annotations

import argparse
import time

from accelscope.arch import load_arch
from accelscope.models.cgra.layout import ConvShape
from accelscope.models.cgra.mappings import RUNNERS
from accelscope.models.cgra.sim import Cgra
from accelscope.models.cgra.study import random_operands


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--layer", default="16x16x16x16")
    ap.add_argument("--network", default="resnet18",
                    help="zoo network for the GConv-model timing ('' to skip)")
    ap.add_argument("--input-size", type=int, default=64,
                    help="input height = width of the network run")
    args = ap.parse_args()
    spec = load_arch("openedgecgra")
    shape = ConvShape.parse(args.layer)
    print(f"layer {shape}: {shape.macs:,} MACs")
    print(f"{'mapping':<11}{'wall s':>8}{'CGRA cycles':>13}{'rows run':>11}"
          f"{'cycles/s':>12}{'rows/s':>11}")
    for m, runner in RUNNERS.items():
        x, w = random_operands(shape)
        cgra = Cgra(spec.cgra.array.timing())
        t0 = time.perf_counter()
        run = runner(shape, x, w, cgra)
        dt = time.perf_counter() - t0
        st = run.stats
        print(f"{m:<11}{dt:>8.2f}{st.cycles:>13,}{st.instructions:>11,}"
              f"{st.cycles / dt:>12,.0f}{st.instructions / dt:>11,.0f}")
    if args.network:
        import accelscope
        from accelscope.models.contract import UnsupportedLayerError
        from accelscope.models.registry import get_model
        from accelscope.pipeline import build_workloads

        s = args.input_size
        zm = accelscope.zoo.get(args.network, input_shape=(1, 3, s, s))
        workloads = build_workloads(accelscope.lower(zm), zm.example_input())
        info = get_model("cgra")
        t0 = time.perf_counter()
        done = cyc = 0
        for wl in workloads:
            try:
                r = info.evaluate(wl, spec)
            except UnsupportedLayerError:
                continue
            done += 1
            cyc += r.cycles
        dt = time.perf_counter() - t0
        print(f"{args.network} at {s}x{s}: {done} of {len(workloads)} GConvs run on the cgra "
              f"model (the 3x3 stride-1 convolutions) in {dt:.2f} s: {cyc:,} cycles, "
              f"{cyc / spec.clock_hz * 1e3:.1f} ms at {spec.clock_hz / 1e6:.0f} MHz")

if __name__ == "__main__":
    main()
