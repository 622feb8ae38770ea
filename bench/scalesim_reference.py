"""Produce the SCALE-Sim v3 reference numbers the systolic engine is tested against.

Runs the real SCALE-Sim 3.0.0 (installed into its own venv, ``.venv-scalesim``, created on
first use with ``pip install scalesim==3.0.0 'numpy<2.4'``) on every convolution of the
networks below, on each array shape and dataflow, one layer per SCALE-Sim run, and appends one
row per case to ``bench/scalesim_ref/scalesim_v3_reference.csv`` with the three reports'
columns (COMPUTE_REPORT, BANDWIDTH_REPORT, DETAILED_ACCESS_REPORT).

Conventions, the same as a SCALE-Sim user would write by hand:
- SCALE-Sim has no padding: the topology row gives the padded input rows and columns that
  the windows use, (P - 1) * stride + R (SCALE-Sim's ceil((H - R + s) / s) output size would
  count one output row too many for an unused trailing padded row);
- a depthwise convolution is a ``DP`` layer, which SCALE-Sim expands into one single-channel,
  single-filter layer per channel. All channels are identical and SCALE-Sim starts every
  layer from an empty memory system, so one channel is simulated and the CSV says how many
  channels the layer has (``dp_channels``); network totals multiply by it;
- identical layer geometries (ResNet's repeated blocks) are simulated once and reported for
  every layer that has them;
- SRAMs 64 KiB each, CALC (stall-free bandwidth estimate) mode, offsets 0 / 10M / 20M, request
  buffers 512: SCALE-Sim's own ``configs/scale.cfg`` with the mandatory ``[layout]`` and
  ``[sparsity]`` sections added (custom layouts and sparsity off).

The run is resumable (cases already in the CSV are skipped) and ordered cheapest first;
SCALE-Sim runs at about 5,000 simulated cycles per second, so the 8x8 arrays take hours.

    python bench/scalesim_reference.py [--jobs 2] [--arrays 32x32,8x8] [--dataflows os,ws,is]
                                       [--networks resnet18,mobilenet_v2] [--max-cycles N]
                                       [--min-cycles N] [--layers conv1,layer4_0_conv2]
"""

from __future__ import annotations

import argparse
import csv
import json
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT_CSV = ROOT / "bench" / "scalesim_ref" / "scalesim_v3_reference.csv"
VENV = ROOT / ".venv-scalesim"
ARRAYS = ["32x32", "8x8", "128x4", "16x64"]
DATAFLOWS = ["os", "ws", "is"]
NETWORKS = ["resnet18", "mobilenet_v2"]

COMPUTE_COLS = ["total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
                "overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"]
BW_COLS = ["avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
           "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw"]
DETAIL_COLS = [f"{t}_{m}_{f}" for m in ("sram", "dram") for t in ("ifmap", "filter", "ofmap")
               for f in ("start_cycle", "stop_cycle", "reads" if t != "ofmap" else "writes")]
KEY_COLS = ["network", "layer_index", "layer", "array", "dataflow"]
GEOM_COLS = ["ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filter", "stride",
             "dp_channels"]
ALL_COLS = KEY_COLS + GEOM_COLS + COMPUTE_COLS + BW_COLS + DETAIL_COLS + ["wall_s"]

CFG = """[general]
run_name = ref

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: 64
FilterSramSzkB: 64
OfmapSramSzkB: 64
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : 10
Dataflow : {df}
MemoryBanks: 1
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
FilterCustomLayout: False
IfmapSRAMBankBandwidth: 10
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterSRAMBankBandwidth: 10
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: CALC
UseRamulatorTrace: False
"""


# -- worker: runs inside the SCALE-Sim venv, stdlib + scalesim only -------------------------
def worker(case: dict) -> dict:
    import contextlib
    import io

    from scalesim.scale_sim import scalesim

    rows, cols = (int(v) for v in case["array"].split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "scale.cfg").write_text(CFG.format(rows=rows, cols=cols, df=case["dataflow"]))
        # a depthwise layer is simulated as the single-channel, single-filter layer SCALE-Sim
        # makes of each channel of a DP row
        ch = 1 if case["dp_channels"] else case["channels"]
        nf = 1 if case["dp_channels"] else case["num_filter"]
        (tmp / "topo.csv").write_text(
            "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
            "Num Filter, Strides,\n"
            f"layer, {case['ifmap_h']}, {case['ifmap_w']}, {case['filter_h']}, "
            f"{case['filter_w']}, {ch}, {nf}, {case['stride']},\n")
        (tmp / "layout.csv").write_text("Layer name,\n")
        t0 = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()):
            s = scalesim(save_disk_space=True, verbose=False, config=str(tmp / "scale.cfg"),
                         topology=str(tmp / "topo.csv"), layout=str(tmp / "layout.csv"))
            s.run_scale(top_path=str(tmp))
        wall = time.perf_counter() - t0
        out = {}
        for rep, names in (("COMPUTE_REPORT", COMPUTE_COLS), ("BANDWIDTH_REPORT", BW_COLS),
                           ("DETAILED_ACCESS_REPORT", DETAIL_COLS)):
            lines = (tmp / "ref" / f"{rep}.csv").read_text().strip().splitlines()
            if len(lines) != 2:
                raise RuntimeError(f"{rep}: expected one layer row, got {len(lines) - 1}")
            vals = [v.strip() for v in lines[1].split(",") if v.strip() != ""][1:]
            if len(vals) != len(names):
                raise RuntimeError(f"{rep}: {len(vals)} values for {len(names)} columns "
                                   f"({lines[0]})")
            out.update(zip(names, vals, strict=True))
        out["wall_s"] = f"{wall:.2f}"
        return out


# -- driver ---------------------------------------------------------------------------------
def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} with scalesim 3.0.0 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "scalesim==3.0.0", "numpy<2.4"], check=True)
    return py


def conv_layers(network: str) -> list[dict]:
    """The convolutions of a zoo network at 224x224, as SCALE-Sim topology rows."""
    from accelscope import lower, zoo

    chain = lower(zoo.get(network))
    rows = []
    for i, g in enumerate(chain.gconvs):
        if g.kind not in ("conv", "depthwise") or g.N != 1:
            continue
        if g.stride[0] != g.stride[1] or g.dilation != (1, 1):
            raise SystemExit(f"{network}/{g.name}: SCALE-Sim needs square stride, no dilation")
        dw = g.kind == "depthwise"
        # the rows and columns the windows use: with SCALE-Sim's output size
        # ceil((H - R + s) / s) this gives exactly P x Q (the padded size would give one more
        # output row whenever (H + pads - R) is not a multiple of the stride)
        ih, iw = (g.P - 1) * g.stride[0] + g.R, (g.Q - 1) * g.stride[1] + g.S
        rows.append({"network": network, "layer_index": i, "layer": g.name,
                     "ifmap_h": ih, "ifmap_w": iw, "filter_h": g.R,
                     "filter_w": g.S, "channels": g.C * g.G if dw else g.C,
                     "num_filter": g.G if dw else g.K, "stride": g.stride[0],
                     "dp_channels": g.G if dw else 0, "macs": g.macs})
    return rows


def _geom_key(case: dict) -> tuple:
    return tuple(case[k] for k in GEOM_COLS) + (case["array"], case["dataflow"])


def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--arrays", default=",".join(ARRAYS))
    ap.add_argument("--dataflows", default=",".join(DATAFLOWS))
    ap.add_argument("--networks", default=",".join(NETWORKS))
    ap.add_argument("--max-cycles", type=float, default=float("inf"),
                    help="skip cases whose ideal cycle count (MACs / PEs) is larger")
    ap.add_argument("--layers", default="",
                    help="only these layers (comma-separated names; default all)")
    ap.add_argument("--min-cycles", type=float, default=0.0,
                    help="skip cases whose ideal cycle count is smaller (a second process "
                         "can take the costliest cases)")
    args = ap.parse_args()
    py = ensure_venv()

    done: dict[tuple, dict] = {}
    if OUT_CSV.exists():
        with OUT_CSV.open() as f:
            for r in csv.DictReader(f):
                done[tuple(r[k] for k in KEY_COLS)] = r
    OUT_CSV.parent.mkdir(parents=True, exist_ok=True)
    new_file = not OUT_CSV.exists()

    cases = []
    for net in args.networks.split(","):
        for layer in conv_layers(net):
            if args.layers and layer["layer"] not in args.layers.split(","):
                continue
            for arr in args.arrays.split(","):
                for df in args.dataflows.split(","):
                    c = dict(layer, array=arr, dataflow=df)
                    if tuple(str(c[k]) for k in KEY_COLS) in done:
                        continue
                    rows, cols = (int(v) for v in arr.split("x"))
                    macs = c["macs"] / c["dp_channels"] if c["dp_channels"] else c["macs"]
                    c["cost"] = macs / (rows * cols)
                    if args.min_cycles <= c["cost"] <= args.max_cycles:
                        cases.append(c)
    # one SCALE-Sim run per distinct geometry; cheapest first
    groups: dict[tuple, list[dict]] = {}
    for c in cases:
        groups.setdefault(_geom_key(c), []).append(c)
    # a geometry already simulated (same numbers) is copied, not re-run
    known = {tuple(str(r[k]) for k in GEOM_COLS) + (r["array"], r["dataflow"]): r
             for r in done.values()}
    order = sorted(groups.values(), key=lambda g: g[0]["cost"])
    print(f"{len(cases)} cases in {len(order)} SCALE-Sim runs", flush=True)

    def run(group):
        key = tuple(str(v) for v in _geom_key(group[0]))
        if key in known:
            src = known[key]
            return group, {k: src[k] for k in COMPUTE_COLS + BW_COLS + DETAIL_COLS + ["wall_s"]}
        payload = {k: group[0][k] for k in GEOM_COLS + ["array", "dataflow"]}
        p = subprocess.run([str(py), __file__, "--worker", json.dumps(payload)],
                           capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"SCALE-Sim failed on {payload}: {p.stderr[-2000:]}")
        return group, json.loads(p.stdout.strip().splitlines()[-1])

    with OUT_CSV.open("a", newline="") as f, ThreadPoolExecutor(args.jobs) as pool:
        w = csv.DictWriter(f, fieldnames=ALL_COLS, extrasaction="ignore")
        if new_file:
            w.writeheader()
        futs = [pool.submit(run, g) for g in order]
        for n, fut in enumerate(as_completed(futs), 1):
            group, res = fut.result()
            for c in group:
                w.writerow({**c, **res})
            f.flush()
            c = group[0]
            print(f"[{n}/{len(order)}] {c['network']} {c['layer']} {c['array']} "
                  f"{c['dataflow']}: {res['total_cycles']} cycles ({res['wall_s']} s)",
                  flush=True)


if __name__ == "__main__":
    main()
