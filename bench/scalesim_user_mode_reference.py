"""SCALE-Sim v3 reference numbers for USER bandwidth mode (small layers, stalls included).

``bench/scalesim_reference.py`` records real network layers in CALC mode (the stall-free
bandwidth estimate). This script covers the other mode, ``InterfaceBandwidth: USER``, where
the read buffers prefetch from the operands' prefetch matrices at a given bandwidth, the
OFMAP buffer drains at a given bandwidth and the array stalls when they cannot keep up. It
runs the real SCALE-Sim 3.0.0 (the ``.venv-scalesim`` of ``scalesim_reference.py``, same
worker-in-a-subprocess approach and the same configuration apart from the fields below) on
small layers, so that the whole run takes a few minutes, and writes one row per case to
``bench/scalesim_ref/scalesim_v3_user_mode.csv``:

- geometry, array and dataflow as in ``scalesim_reference.py``;
- SRAM sizes per operand [KiB] (1 to 64: small ones make the buffers turn over and stall);
- bandwidths [words/cycle]: SCALE-Sim takes the IFMAP and FILTER DRAM bandwidth from
  ``[layout] IfmapSRAMBankBandwidth`` / ``FilterSRAMBankBandwidth`` and the OFMAP one from
  ``[architecture_presets] Bandwidth`` (``ifmap_bw``, ``filter_bw``, ``ofmap_bw``);
- the three reports' columns, as in ``scalesim_reference.py``.

The case list is fixed (hand-picked cases plus seeded random ones); the run is resumable
(cases already in the CSV are skipped).

    python bench/scalesim_user_mode_reference.py [--jobs 1] [--limit N]
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import random
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from scalesim_reference import BW_COLS, COMPUTE_COLS, DETAIL_COLS, ensure_venv

ROOT = Path(__file__).resolve().parents[1]
OUT_CSV = ROOT / "bench" / "scalesim_ref" / "scalesim_v3_user_mode.csv"

CASE_COLS = ["case", "array", "dataflow", "ifmap_h", "ifmap_w", "filter_h", "filter_w",
             "channels", "num_filter", "stride", "ifmap_sram_kb", "filter_sram_kb",
             "ofmap_sram_kb", "ifmap_bw", "filter_bw", "ofmap_bw"]
ALL_COLS = CASE_COLS + COMPUTE_COLS + BW_COLS + DETAIL_COLS + ["wall_s"]

# scalesim_reference.py's configuration with USER bandwidths and per-case SRAM sizes
CFG = """[general]
run_name = ref

[architecture_presets]
ArrayHeight: {rows}
ArrayWidth: {cols}
IfmapSramSzkB: {ifmap_sram_kb}
FilterSramSzkB: {filter_sram_kb}
OfmapSramSzkB: {ofmap_sram_kb}
IfmapOffset: 0
FilterOffset: 10000000
OfmapOffset: 20000000
Bandwidth : {ofmap_bw}
Dataflow : {dataflow}
MemoryBanks: 1
ReadRequestBuffer: 512
WriteRequestBuffer: 512

[layout]
IfmapCustomLayout: False
FilterCustomLayout: False
IfmapSRAMBankBandwidth: {ifmap_bw}
IfmapSRAMBankNum: 1
IfmapSRAMBankPort: 2
FilterSRAMBankBandwidth: {filter_bw}
FilterSRAMBankNum: 1
FilterSRAMBankPort: 2

[sparsity]
SparsitySupport: false
SparseRep: ellpack_block
OptimizedMapping: false
BlockSize: 8
RandomNumberGeneratorSeed: 40

[run_presets]
InterfaceBandwidth: USER
UseRamulatorTrace: False
"""


def cases() -> list[dict]:
    """The fixed case list: hand-picked ones first, then seeded random small layers."""
    out = []

    def add(array, df, h, w, fh, fw, c, k, s, isz, fsz, osz, ibw, fbw, obw):
        out.append(dict(array=array, dataflow=df, ifmap_h=h, ifmap_w=w, filter_h=fh,
                        filter_w=fw, channels=c, num_filter=k, stride=s, ifmap_sram_kb=isz,
                        filter_sram_kb=fsz, ofmap_sram_kb=osz, ifmap_bw=ibw, filter_bw=fbw,
                        ofmap_bw=obw))

    for df in ("os", "ws", "is"):
        # SCALE-Sim's defaults (64 KiB, 10 words/cycle) on a small ResNet-like layer
        add("8x8", df, 16, 16, 3, 3, 16, 16, 1, 64, 64, 64, 10, 10, 10)
        # a strided layer whose windows overrun the input (ceil output size)
        add("4x4", df, 12, 11, 3, 3, 4, 6, 2, 1, 1, 1, 4, 4, 4)
        # OFMAP drain slower than the array writes: stalls on every drain
        add("8x8", df, 10, 10, 3, 3, 8, 16, 1, 64, 64, 1, 10, 10, 1)
        # IFMAP / FILTER prefetches slower than the demand
        add("8x4", df, 12, 12, 3, 3, 8, 12, 1, 1, 1, 4, 1, 2, 8)
        # 1x1 convolution, one word per cycle everywhere
        add("4x8", df, 9, 9, 1, 1, 16, 20, 1, 2, 2, 2, 1, 1, 1)
        # larger layers: SCALE-Sim's defaults, then narrow DRAM and small SRAMs
        add("16x16", df, 30, 30, 3, 3, 32, 32, 1, 64, 64, 64, 10, 10, 10)
        add("32x32", df, 16, 16, 3, 3, 64, 64, 1, 16, 16, 8, 8, 8, 4)
        add("8x16", df, 23, 23, 7, 7, 3, 16, 2, 8, 4, 2, 4, 4, 2)
    rng = random.Random(20250807)
    while len(out) < 260:
        s = rng.choice([1, 1, 1, 2, 3])
        fh = rng.choice([1, 2, 3, 3, 5])
        fw = rng.choice([fh, fh, 1, 2, 3])
        h, w = rng.randint(fh, 14), rng.randint(fw, 14)
        c = rng.choice([1, 2, 3, 4, 5, 8, 16])
        k = rng.choice([1, 2, 3, 5, 8, 16, 20])
        rows = rng.choice([1, 2, 3, 4, 5, 8, 16])
        cols = rng.choice([1, 2, 3, 4, 5, 8, 16])
        eh, ew = math.ceil((h - fh + s) / s), math.ceil((w - fw + s) / s)
        if eh * ew * fh * fw * c * k / (rows * cols) > 15000:
            continue
        add(f"{rows}x{cols}", rng.choice(["os", "ws", "is"]), h, w, fh, fw, c, k, s,
            rng.choice([1, 1, 2, 4, 64]), rng.choice([1, 1, 2, 4, 64]),
            rng.choice([1, 1, 2, 4, 64]), rng.choice([1, 2, 3, 4, 8, 10, 16]),
            rng.choice([1, 2, 4, 10, 16]), rng.choice([1, 2, 3, 4, 8, 10, 16]))
    for i, c in enumerate(out):
        c["case"] = i
    return out


# -- worker: runs inside the SCALE-Sim venv, stdlib + scalesim only -------------------------
def worker(case: dict) -> dict:
    import contextlib
    import io

    from scalesim.scale_sim import scalesim

    rows, cols = (int(v) for v in case["array"].split("x"))
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        (tmp / "scale.cfg").write_text(CFG.format(rows=rows, cols=cols, **case))
        (tmp / "topo.csv").write_text(
            "Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
            "Num Filter, Strides,\n"
            f"layer, {case['ifmap_h']}, {case['ifmap_w']}, {case['filter_h']}, "
            f"{case['filter_w']}, {case['channels']}, {case['num_filter']}, "
            f"{case['stride']},\n")
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
def main() -> None:
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="run only the first N cases")
    args = ap.parse_args()
    py = ensure_venv()
    done = set()
    if OUT_CSV.exists():
        with OUT_CSV.open() as f:
            done = {int(r["case"]) for r in csv.DictReader(f)}
    todo = [c for c in cases()[:args.limit] if c["case"] not in done]
    OUT_CSV.parent.mkdir(parents=True, exist_ok=True)
    new_file = not OUT_CSV.exists()
    print(f"{len(todo)} cases to run", flush=True)

    def run(case):
        payload = {k: case[k] for k in CASE_COLS}
        p = subprocess.run([str(py), __file__, "--worker", json.dumps(payload)],
                           capture_output=True, text=True)
        if p.returncode:
            raise RuntimeError(f"SCALE-Sim failed on {payload}: {p.stderr[-2000:]}")
        return case, json.loads(p.stdout.strip().splitlines()[-1])

    t0 = time.perf_counter()
    with OUT_CSV.open("a", newline="") as f, ThreadPoolExecutor(args.jobs) as pool:
        w = csv.DictWriter(f, fieldnames=ALL_COLS, extrasaction="ignore")
        if new_file:
            w.writeheader()
        futs = [pool.submit(run, c) for c in todo]
        for n, fut in enumerate(as_completed(futs), 1):
            case, res = fut.result()
            w.writerow({**case, **res})
            f.flush()
            print(f"[{n}/{len(todo)}] case {case['case']} {case['array']} {case['dataflow']}: "
                  f"{res['total_cycles']} cycles, {res['stall_cycles']} stalls "
                  f"({res['wall_s']} s)", flush=True)
    print(f"done in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
