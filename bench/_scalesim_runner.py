"""What the SCALE-Sim reference scripts share: SCALE-Sim 3.0.0 in its own venv, the
configuration and topology files they write, the worker that runs SCALE-Sim on one layer, and
the resumable driver that appends one CSV row per case.

The SCALE-Sim venv runs this file as the worker (``--worker CASE_JSON``: one layer, its report
values; ``--run DIR``: the files in DIR, wall time and peak RSS), so it imports only the
standard library at module level.
"""

from __future__ import annotations

import contextlib
import csv
import io
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor, as_completed
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENV = ROOT / ".venv-scalesim"

COMPUTE_COLS = ["total_cycles_incl_prefetch", "total_cycles", "stall_cycles",
                "overall_util_pct", "mapping_efficiency_pct", "compute_util_pct"]
BW_COLS = ["avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
           "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw"]
DETAIL_COLS = [f"{t}_{m}_{f}" for m in ("sram", "dram") for t in ("ifmap", "filter", "ofmap")
               for f in ("start_cycle", "stop_cycle", "reads" if t != "ofmap" else "writes")]
REPORTS = {"COMPUTE_REPORT": COMPUTE_COLS, "BANDWIDTH_REPORT": BW_COLS,
           "DETAILED_ACCESS_REPORT": DETAIL_COLS}
RESULT_COLS = COMPUTE_COLS + BW_COLS + DETAIL_COLS + ["wall_s"]

# a worker case: these keys, plus any of config_text's keyword arguments
LAYER_KEYS = ["array", "dataflow", "ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels",
              "num_filter", "stride"]
CONFIG_KEYS = ["mode", "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb", "ifmap_bw",
               "filter_bw", "ofmap_bw"]

# SCALE-Sim's own configs/scale.cfg with the [layout] and [sparsity] sections it requires
# (custom layouts and sparsity off). In USER mode SCALE-Sim takes the IFMAP and FILTER DRAM
# bandwidths from [layout] *SRAMBankBandwidth and the OFMAP one from Bandwidth.
_CFG = """[general]
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
InterfaceBandwidth: {mode}
UseRamulatorTrace: False
"""

TOPO_HEADER = ("Layer name, IFMAP Height, IFMAP Width, Filter Height, Filter Width, Channels, "
               "Num Filter, Strides,")


def config_text(array: str, dataflow: str, *, mode: str = "CALC", ifmap_sram_kb: int = 64,
                filter_sram_kb: int = 64, ofmap_sram_kb: int = 64, ifmap_bw: int = 10,
                filter_bw: int = 10, ofmap_bw: int = 10) -> str:
    rows, cols = (int(v) for v in array.split("x"))
    return _CFG.format(rows=rows, cols=cols, dataflow=dataflow, mode=mode,
                       ifmap_sram_kb=ifmap_sram_kb, filter_sram_kb=filter_sram_kb,
                       ofmap_sram_kb=ofmap_sram_kb, ifmap_bw=ifmap_bw, filter_bw=filter_bw,
                       ofmap_bw=ofmap_bw)


def write_inputs(d: Path, cfg: str, layers: list[tuple]) -> None:
    """``layers``: (name, ifmap_h, ifmap_w, filter_h, filter_w, channels, num_filter, stride)."""
    (d / "scale.cfg").write_text(cfg)
    topo = [TOPO_HEADER] + [", ".join(str(v) for v in x) + "," for x in layers]
    (d / "topo.csv").write_text("\n".join(topo) + "\n")
    (d / "layout.csv").write_text("Layer name,\n")


def read_report(path: Path) -> list[list[str]]:
    """A report's layer rows, without the blank fields SCALE-Sim's trailing commas leave."""
    with path.open(newline="") as f:
        rows = [[c.strip() for c in r if c.strip() != ""] for r in list(csv.reader(f))[1:]]
    return [r for r in rows if r]


def layer_values(reports: dict[str, list[list[str]]], i: int) -> dict[str, str]:
    """Layer ``i``'s values under the CSV column names (``reports`` as read_report gives them,
    by report name)."""
    out = {}
    for name, cols in REPORTS.items():
        vals = reports[name][i][1:]
        if len(vals) != len(cols):
            raise RuntimeError(f"{name} row {i}: {len(vals)} values for {len(cols)} columns")
        out.update(zip(cols, vals, strict=True))
    return out


# -- worker: runs inside the SCALE-Sim venv -------------------------------------------------
def _simulate(d: Path) -> float:
    from scalesim.scale_sim import scalesim

    t0 = time.perf_counter()
    with contextlib.redirect_stdout(io.StringIO()):
        s = scalesim(save_disk_space=True, verbose=False, config=str(d / "scale.cfg"),
                     topology=str(d / "topo.csv"), layout=str(d / "layout.csv"))
        s.run_scale(top_path=str(d))
    return time.perf_counter() - t0


def worker(case: dict) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        cfg = config_text(case["array"], case["dataflow"],
                          **{k: case[k] for k in CONFIG_KEYS if k in case})
        write_inputs(d, cfg, [("layer", *(case[k] for k in LAYER_KEYS if k not in
                                          ("array", "dataflow")))])
        wall = _simulate(d)
        reports = {n: read_report(d / "ref" / f"{n}.csv") for n in REPORTS}
        for name, rows in reports.items():
            if len(rows) != 1:
                raise RuntimeError(f"{name}: expected one layer row, got {len(rows)}")
        return {**layer_values(reports, 0), "wall_s": f"{wall:.2f}"}


def run_dir(d: Path) -> dict:
    import resource

    wall = _simulate(d)
    return {"wall_s": wall, "rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}


# -- driver side ----------------------------------------------------------------------------
def ensure_venv() -> Path:
    py = VENV / "bin" / "python"
    if not py.exists():
        print(f"creating {VENV} with scalesim 3.0.0 ...", flush=True)
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
        subprocess.run([str(py), "-m", "pip", "install", "-q", "--disable-pip-version-check",
                        "scalesim==3.0.0", "numpy<2.4"], check=True)
    return py


def in_venv(py: Path, *args: str) -> dict:
    """Runs this file in the SCALE-Sim venv, one process per SCALE-Sim run (its memory, GBs on
    large layers, goes back when the run ends); returns the JSON it prints."""
    p = subprocess.run([str(py), __file__, *args], capture_output=True, text=True)
    if p.returncode:
        raise RuntimeError(f"SCALE-Sim failed on {' '.join(args)}: {p.stderr[-2000:]}")
    return json.loads(p.stdout.strip().splitlines()[-1])


def read_rows(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


@contextlib.contextmanager
def appender(path: Path, columns: list[str]) -> Iterator[Callable[[dict], None]]:
    """A function appending one row to ``path`` (header first if the file is new), flushed so
    that an interrupted run keeps every finished row."""
    path.parent.mkdir(parents=True, exist_ok=True)
    new_file = not path.exists()
    with path.open("a", newline="") as f:
        w = csv.DictWriter(f, fieldnames=columns, extrasaction="ignore")
        if new_file:
            w.writeheader()

        def write(row: dict) -> None:
            w.writerow(row)
            f.flush()

        yield write


def run_groups(py: Path, out_csv: Path, columns: list[str], groups: list[list[dict]], *,
               payload: Callable[[dict], dict], progress: Callable[[dict, dict], str],
               jobs: int, cached: Callable[[list[dict]], dict | None] | None = None) -> None:
    """One SCALE-Sim run per group of cases (the worker gets ``payload(group[0])``; none where
    ``cached(group)`` gives the result), one CSV row per case, appended as runs finish."""

    def run(group: list[dict]) -> tuple[list[dict], dict]:
        res = cached(group) if cached else None
        if res is None:
            res = in_venv(py, "--worker", json.dumps(payload(group[0])))
        return group, res

    with appender(out_csv, columns) as write, ThreadPoolExecutor(jobs) as pool:
        futs = [pool.submit(run, g) for g in groups]
        for n, fut in enumerate(as_completed(futs), 1):
            group, res = fut.result()
            for c in group:
                write({**c, **res})
            print(f"[{n}/{len(groups)}] {progress(group[0], res)}", flush=True)


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--worker":
        print(json.dumps(worker(json.loads(sys.argv[2]))))
    elif len(sys.argv) == 3 and sys.argv[1] == "--run":
        print(json.dumps(run_dir(Path(sys.argv[2]))))
    else:
        raise SystemExit(f"usage: {sys.argv[0]} --worker CASE_JSON | --run DIR")
