"""SCALE-Sim v3 reference numbers for USER bandwidth mode (small layers, stalls included).

``bench/scalesim_reference.py`` records real network layers in CALC mode (the stall-free
bandwidth estimate). This script covers the other mode, ``InterfaceBandwidth: USER``, where
the read buffers prefetch from the operands' prefetch matrices at a given bandwidth, the
OFMAP buffer drains at a given bandwidth and the array stalls when they cannot keep up. It
runs the real SCALE-Sim 3.0.0 (``.venv-scalesim``, worker and driver shared with
``scalesim_reference.py`` in ``_scalesim_runner.py``, the same configuration apart from the
fields below) on small layers, so that the whole run takes a few minutes, and writes one row
per case to ``bench/scalesim_ref/scalesim_v3_user_mode.csv``:

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
import math
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from _scalesim_runner import RESULT_COLS, ensure_venv, read_rows, run_groups

ROOT = Path(__file__).resolve().parents[1]
OUT_CSV = ROOT / "bench" / "scalesim_ref" / "scalesim_v3_user_mode.csv"

CASE_COLS = ["case", "array", "dataflow", "ifmap_h", "ifmap_w", "filter_h", "filter_w",
             "channels", "num_filter", "stride", "ifmap_sram_kb", "filter_sram_kb",
             "ofmap_sram_kb", "ifmap_bw", "filter_bw", "ofmap_bw"]
ALL_COLS = CASE_COLS + RESULT_COLS


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


def _payload(case: dict) -> dict:
    return {**{k: case[k] for k in CASE_COLS if k != "case"}, "mode": "USER"}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--jobs", type=int, default=1)
    ap.add_argument("--limit", type=int, default=None, help="run only the first N cases")
    args = ap.parse_args()
    py = ensure_venv()
    done = {int(r["case"]) for r in read_rows(OUT_CSV)}
    todo = [c for c in cases()[:args.limit] if c["case"] not in done]
    print(f"{len(todo)} cases to run", flush=True)

    def progress(c: dict, res: dict) -> str:
        return (f"case {c['case']} {c['array']} {c['dataflow']}: {res['total_cycles']} cycles, "
                f"{res['stall_cycles']} stalls ({res['wall_s']} s)")

    t0 = time.perf_counter()
    run_groups(py, OUT_CSV, ALL_COLS, [[c] for c in todo], payload=_payload, progress=progress,
               jobs=args.jobs)
    print(f"done in {time.perf_counter() - t0:.0f} s", flush=True)


if __name__ == "__main__":
    main()
