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
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scalesim_runner import LAYER_KEYS, RESULT_COLS, ensure_venv, read_rows, run_groups

ROOT = Path(__file__).resolve().parents[1]
OUT_CSV = ROOT / "bench" / "scalesim_ref" / "scalesim_v3_reference.csv"
ARRAYS = ["32x32", "8x8", "128x4", "16x64"]
DATAFLOWS = ["os", "ws", "is"]
NETWORKS = ["resnet18", "mobilenet_v2"]

KEY_COLS = ["network", "layer_index", "layer", "array", "dataflow"]
GEOM_COLS = ["ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filter", "stride",
             "dp_channels"]
ALL_COLS = KEY_COLS + GEOM_COLS + RESULT_COLS


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


def _payload(case: dict) -> dict:
    # a depthwise layer is simulated as the single-channel, single-filter layer SCALE-Sim
    # makes of each channel of a DP row
    dp = bool(case["dp_channels"])
    return {**{k: case[k] for k in LAYER_KEYS}, "channels": 1 if dp else case["channels"],
            "num_filter": 1 if dp else case["num_filter"]}


def main() -> None:
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
    done = {tuple(r[k] for k in KEY_COLS): r for r in read_rows(OUT_CSV)}

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

    def cached(group: list[dict]) -> dict | None:
        src = known.get(tuple(str(v) for v in _geom_key(group[0])))
        return None if src is None else {k: src[k] for k in RESULT_COLS}

    def progress(c: dict, res: dict) -> str:
        return (f"{c['network']} {c['layer']} {c['array']} {c['dataflow']}: "
                f"{res['total_cycles']} cycles ({res['wall_s']} s)")

    run_groups(py, OUT_CSV, ALL_COLS, order, payload=_payload, progress=progress,
               jobs=args.jobs, cached=cached)


if __name__ == "__main__":
    main()
