"""How SCNN's published comparison numbers move with the unknowns of our model.

The paper's text of its crossbar (does a bank conflict stall the PE, or do queues absorb
it?) and its DCNN microarchitecture were not available (docs/scnn.md). This script re-runs
the validation's density sweep (GoogLeNet's convolutions re-drawn at densities 0.1 ... 1.0,
activations on chip, as ``accelscope validate --only scnn``) with SCNN's crossbar queue depth
set to each value of ``--depths`` (0 = DNNsim's stall rule, the preset) and prints the
sweep targets beside the paper's, plus the energy at 0.1 / 1.0 split into on-chip and DRAM
parts. With ``--networks`` it also prints the pruned-network speed-ups (slower: three
networks per depth). Prints numbers; asserts nothing.

Usage: python bench/scnn_sensitivity.py [--depths 0,1,4] [--networks]
"""

from __future__ import annotations

import argparse
import time

PAPER = {"perf@1.0": 0.79, "energy@1.0": 1.33, "perf break-even": 0.85,
         "energy break-even": 0.83, "vs dcnn-opt break-even": 0.6, "speed-up@0.1": 24.0,
         "energy@0.1": 0.06, "speed-up alexnet": 2.37, "speed-up googlenet": 2.19,
         "speed-up vggnet": 3.52, "64x16 over 4x256": 1.11, "utilization 64x16": 0.59,
         "utilization 4x256": 0.35}


def sweep_targets(depth: int) -> tuple[dict[str, float], dict[str, float]]:
    from accelscope.report.density_sweep import density_sweep
    from accelscope.validate.scnn_targets import SWEEP_DENSITIES, crossing, paper_spec

    specs = [paper_spec("scnn", crossbar_queue_depth=depth), paper_spec("dcnn"),
             paper_spec("dcnn-opt")]
    df = density_sweep("googlenet", specs, SWEEP_DENSITIES, None)

    def at(d: float, col: str, arch: str = "scnn") -> float:
        row = df[(df["arch"] == arch) & ((df["density"] - d).abs() < 1e-9)]
        return float(row[col].iloc[0])

    out = {"perf@1.0": at(1.0, "speedup"), "energy@1.0": at(1.0, "energy_rel"),
           "perf break-even": crossing(df, "speedup"),
           "energy break-even": crossing(df, "energy_rel"),
           "vs dcnn-opt break-even": crossing(df, "energy_rel", "dcnn-opt"),
           "speed-up@0.1": at(0.1, "speedup"), "energy@0.1": at(0.1, "energy_rel")}
    split = {}
    for d in (0.1, 1.0):   # SCNN / DCNN energy without DRAM, and DRAM's share of SCNN's
        e, dram = ({a: at(d, col, a) for a in ("scnn", "dcnn")}
                   for col in ("energy_pj", "dram_energy_pj"))
        split[f"on-chip energy@{d}"] = (e["scnn"] - dram["scnn"]) / (e["dcnn"] - dram["dcnn"])
        split[f"SCNN DRAM share@{d}"] = dram["scnn"] / e["scnn"]
    return out, split


def network_speedups(depth: int) -> dict[str, float]:
    """Pruned-network speed-ups over DCNN, and the PE-granularity comparison on GoogLeNet
    (64 PEs x 16 multipliers against 4 x 256, both with this queue depth)."""
    from accelscope.arch import load_arch
    from accelscope.models.registry import get_model
    from accelscope.validate.scnn_targets import NETWORKS, _granular_spec, _workloads, paper_spec

    coarse = _granular_spec().model_dump()
    coarse["scnn"]["crossbar_queue_depth"] = depth
    specs = {"scnn": paper_spec("scnn", crossbar_queue_depth=depth), "dcnn": paper_spec("dcnn"),
             "scnn-4x256": load_arch(coarse)}
    out = {}
    for net in NETWORKS:
        archs = specs if net == "googlenet" else {a: specs[a] for a in ("scnn", "dcnn")}
        tot = {}
        for a, s in archs.items():
            rs = [get_model("scnn").evaluate(w, s) for w in _workloads(net)]
            tot[a] = (sum(r.seconds for r in rs), sum(r.macs_useful for r in rs)
                      / (sum(r.cycles for r in rs) * s.compute.macs_per_cycle))
        out[f"speed-up {net}"] = tot["dcnn"][0] / tot["scnn"][0]
        if net == "googlenet":
            out["64x16 over 4x256"] = tot["scnn-4x256"][0] / tot["scnn"][0]
            out["utilization 64x16"] = tot["scnn"][1]
            out["utilization 4x256"] = tot["scnn-4x256"][1]
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--depths", default="0,1,4")
    ap.add_argument("--networks", action="store_true")
    args = ap.parse_args()
    depths = [int(x) for x in args.depths.split(",")]
    rows: dict[str, dict[int, float]] = {}
    for dq in depths:
        t0 = time.perf_counter()
        sweep, split = sweep_targets(dq)
        nets = network_speedups(dq) if args.networks else {}
        for k, v in {**sweep, **split, **nets}.items():
            rows.setdefault(k, {})[dq] = v
        print(f"queue depth {dq}: {time.perf_counter() - t0:.0f} s")
    head = "".join(f"{'depth ' + str(d):>10}" for d in depths)
    print(f"{'target':<26}{'paper':>8}{head}")
    for k, vals in rows.items():
        pub = PAPER.get(k)
        print(f"{k:<26}{'' if pub is None else f'{pub:g}':>8}"
              + "".join(f"{vals[d]:>10.3f}" for d in depths))


if __name__ == "__main__":
    main()
