"""SCALE-Sim v3 and accelscope on the same network, same config, same run: wall time and cycles.

For each dataflow, writes one SCALE-Sim config and the topology of the network's
convolutions (padded sizes the windows use, as in bench/scalesim_reference.py), runs the
real SCALE-Sim 3.0.0 (its own venv, ``.venv-scalesim``, created on first use) and
``accelscope scalesim``'s engine on the same files, and prints both wall times, the ratio,
and how many layers agree on every COMPUTE_REPORT and DETAILED_ACCESS_REPORT column.

    python bench/vs_scalesim.py [--network resnet18] [--array 32x32] [--dataflows os,ws,is]
                                [--layers N]   # only the first N convolutions (quick check)
                                [--add-reference]

``--add-reference`` appends SCALE-Sim's per-layer rows of this run to
``bench/scalesim_ref/scalesim_v3_reference.csv`` for the layers it does not hold yet (the same
numbers ``bench/scalesim_reference.py`` would record: SCALE-Sim starts every layer of a
topology from an empty memory system; ``wall_s`` is left empty there, the run was not per
layer).

SCALE-Sim takes about 8-12 minutes and 4.5-7 GB per dataflow for ResNet-18 on 32x32.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scalesim_runner import (
    REPORTS,
    appender,
    config_text,
    ensure_venv,
    in_venv,
    layer_values,
    read_report,
    read_rows,
    write_inputs,
)
from scalesim_reference import ALL_COLS, KEY_COLS, OUT_CSV, conv_layers


def same(a: list[str], b: list[str]) -> bool:
    if len(a) != len(b):
        return False
    for x, y in zip(a, b, strict=True):
        fx, fy = float(x), float(y)
        if abs(fx - fy) > 1e-9 * max(1.0, abs(fx)):
            return False
    return True


def add_reference(layers: list[dict], array: str, df: str, ref_dir: Path) -> int:
    """Append this run's SCALE-Sim rows to the reference CSV where it has none; returns how
    many rows were added."""
    if any(x["dp_channels"] for x in layers):
        raise SystemExit("--add-reference: SCALE-Sim reports a DP layer per channel; record "
                         "depthwise networks with bench/scalesim_reference.py")
    reports = {n: read_report(ref_dir / f"{n}.csv") for n in REPORTS}
    if any(len(r) != len(layers) for r in reports.values()):
        raise SystemExit(f"--add-reference: SCALE-Sim reported {len(reports['COMPUTE_REPORT'])}"
                         f" rows for {len(layers)} layers")
    done = {tuple(r[k] for k in KEY_COLS) for r in read_rows(OUT_CSV)}
    added = 0
    with appender(OUT_CSV, ALL_COLS) as write:
        for i, layer in enumerate(layers):
            row = dict(layer, array=array, dataflow=df, wall_s="")
            if tuple(str(row[k]) for k in KEY_COLS) in done:
                continue
            write({**row, **layer_values(reports, i)})
            added += 1
    return added


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--network", default="resnet18")
    ap.add_argument("--array", default="32x32")
    ap.add_argument("--dataflows", default="os,ws,is")
    ap.add_argument("--layers", type=int, default=0)
    ap.add_argument("--add-reference", action="store_true",
                    help="append SCALE-Sim's per-layer rows to the reference CSV")
    args = ap.parse_args()
    py = ensure_venv()

    from accelscope.interop.scalesim import (
        read_config,
        read_topology,
        simulate,
        write_reports,
    )

    layers = conv_layers(args.network)
    if args.layers:
        layers = layers[: args.layers]
    print(f"{args.network}: {len(layers)} convolutions on {args.array}, SCALE-Sim 3.0.0 vs "
          f"accelscope, one process each, same files\n")
    print(f"{'dataflow':8} {'SCALE-Sim s':>12} {'RSS MB':>8} {'accelscope s':>13} "
          f"{'ratio':>10} {'cycles (SCALE-Sim)':>19} {'identical layers':>17}")
    for df in args.dataflows.split(","):
        with tempfile.TemporaryDirectory() as tmp:
            d = Path(tmp)
            # a DP row has all the layer's channels and one filter; SCALE-Sim expands it into
            # one single-channel layer per channel
            write_inputs(d, config_text(args.array, df),
                         [(f"DP{i}" if x["dp_channels"] else f"L{i}", x["ifmap_h"], x["ifmap_w"],
                           x["filter_h"], x["filter_w"], x["channels"],
                           1 if x["dp_channels"] else x["num_filter"], x["stride"])
                          for i, x in enumerate(layers)])
            ss = in_venv(py, "--run", str(d))
            ref = {n: read_report(d / "ref" / f"{n}.csv")
                   for n in ("COMPUTE_REPORT", "DETAILED_ACCESS_REPORT")}
            t0 = time.perf_counter()
            cfg = read_config(d / "scale.cfg")
            reports = simulate(cfg, read_topology(d / "topo.csv"))
            ours_dir = d / "ours"
            write_reports(reports, ours_dir)
            wall = time.perf_counter() - t0
            ours = {n: read_report(ours_dir / f"{n}.csv")
                    for n in ("COMPUTE_REPORT", "DETAILED_ACCESS_REPORT")}
            n_same = sum(all(same(ref[k][i], ours[k][i]) for k in ref)
                         for i in range(len(ref["COMPUTE_REPORT"])))
            cycles = sum(int(float(r[2])) for r in ref["COMPUTE_REPORT"])
            print(f"{df:8} {ss['wall_s']:12.1f} {ss['rss_mb']:8.0f} {wall:13.3f} "
                  f"{ss['wall_s'] / wall:9.0f}x {cycles:19,} "
                  f"{n_same:>8} / {len(ref['COMPUTE_REPORT'])}", flush=True)
            if args.add_reference:
                n = add_reference(layers, args.array, df, d / "ref")
                print(f"         ({n} new rows in {OUT_CSV.name})", flush=True)


if __name__ == "__main__":
    main()
