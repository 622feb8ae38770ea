"""``accelscope sweep`` / ``accelscope pareto`` as a user runs them: a sweep killed with
SIGKILL and rerun, a real Dask cluster (scheduler and two workers as subprocesses), the
local process pool, the shipped example space."""

from __future__ import annotations

import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
import yaml

from accelscope.dse import load_space, open_store, run_sweep

BIN = Path(sys.executable).parent
ACCELSCOPE = str(BIN / "accelscope")
ROOT = Path(__file__).resolve().parents[2]

SPACE = {
    "name": "killme",
    "base": ["ideal"],
    "axes": {"dram.bandwidth_bits_per_cycle": {"range": [8, 1024], "num": 30},
             "compute.cycles_per_op": {"range": [1, 30], "step": 1}},
    "workload": {"networks": ["tiny"], "mode": "statistical"},
    "objectives": ["latency", "energy"],
}


def _rows(db: Path) -> int:
    if not db.is_file():
        return 0
    try:
        with sqlite3.connect(db, timeout=5) as c:
            return int(c.execute("SELECT COUNT(*) FROM results").fetchone()[0])
    except sqlite3.OperationalError:  # the table is not there yet
        return 0


def _stable(df):  # type: ignore[no-untyped-def]
    cols = sorted(c for c in df.columns if c not in ("eval_s", "worker"))
    return df[cols].sort_values("row_key").reset_index(drop=True)


def test_sigkill_then_rerun_gives_exactly_the_rows_without_recomputing(tmp_path: Path) -> None:
    space = tmp_path / "killme.yaml"
    space.write_text(yaml.safe_dump(SPACE))
    out = tmp_path / "store"
    total = 30 * 30
    p = subprocess.Popen([ACCELSCOPE, "sweep", str(space), "--out", str(out), "--workers",
                          "1", "--quiet"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while _rows(out / "store.sqlite") < 40 and p.poll() is None and \
            time.monotonic() < deadline:
        time.sleep(0.01)
    assert p.poll() is None, "the sweep finished before it could be killed"
    os.kill(p.pid, signal.SIGKILL)
    p.wait()
    with open_store(out) as st:
        before = st.to_dataframe()
    assert 40 <= len(before) < total
    r = subprocess.run([ACCELSCOPE, "sweep", str(space), "--out", str(out), "--workers", "1",
                        "--quiet"], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    m = re.search(r"(\d+) computed, (\d+) already in the store", r.stdout)
    assert m is not None, r.stdout
    assert (int(m.group(1)), int(m.group(2))) == (total - len(before), len(before))
    with open_store(out) as st:
        after = st.to_dataframe()
    assert len(after) == total and after["row_key"].is_unique
    assert set(after["status"]) == {"ok"}
    kept = after.set_index("row_key").loc[before["row_key"]]
    # the rows finished before the kill were not evaluated again
    assert kept["eval_s"].tolist() == before["eval_s"].tolist()
    assert kept["worker"].tolist() == before["worker"].tolist()
    with sqlite3.connect(out / "store.sqlite") as c:
        assert c.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


SMALL = {
    "name": "small",
    "base": ["ideal", "spots", "gemmini"],
    "axes": {"dram.bandwidth_bits_per_cycle": [32, 128, 512]},
    "workload": {"networks": ["tiny"], "prune": ["0.5", None], "mode": "statistical"},
}


def test_a_dask_cluster_gives_the_store_of_the_serial_run(tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = run_sweep(SMALL, out=tmp_path / "serial", workers=1)
    port = _free_port()
    addr = f"tcp://127.0.0.1:{port}"
    dask = str(BIN / "dask")
    procs = [subprocess.Popen([dask, "scheduler", "--host", "127.0.0.1", "--port", str(port),
                               "--no-dashboard"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)]
    try:
        for _ in range(2):
            procs.append(subprocess.Popen(
                [dask, "worker", addr, "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                 "--host", "127.0.0.1"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
        deadline = time.monotonic() + 60
        client = None
        while client is None:
            try:
                client = distributed.Client(addr, timeout="2s")
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        client.wait_for_workers(2, timeout=120)
        client.close()
        d = run_sweep(SMALL, out=tmp_path / "dask", scheduler=addr)
        assert d.executor == "dask" and d.workers == 2
        a = open_store(serial.store).to_dataframe()
        b = open_store(d.store).to_dataframe()
        assert len(a) == 18
        assert _stable(a).equals(_stable(b))
        assert b["worker"].nunique() == 2  # both workers evaluated points
    finally:
        for p in reversed(procs):
            p.terminate()
        for p in procs:
            try:
                p.wait(timeout=20)
            except subprocess.TimeoutExpired:
                p.kill()


def test_the_local_pool_gives_the_store_of_the_serial_run(tmp_path: Path) -> None:
    serial = run_sweep(SMALL, out=tmp_path / "serial", workers=1)
    pool = run_sweep(SMALL, out=tmp_path / "pool", workers=2)
    assert pool.executor == "local"
    a = open_store(serial.store).to_dataframe()
    b = open_store(pool.store).to_dataframe()
    assert _stable(a).equals(_stable(b))
    assert b["worker"].nunique() == 2
    # the workloads were cached once per distinct workload value (prune 0.5, none)
    assert len(list((tmp_path / "pool" / "workloads").glob("*.pkl"))) == 2


def test_cli_sweep_then_pareto(tmp_path: Path) -> None:
    space = tmp_path / "small.yaml"
    space.write_text(yaml.safe_dump(SMALL))
    out = tmp_path / "st"
    r = subprocess.run([ACCELSCOPE, "sweep", str(space), "--out", str(out), "--workers", "1",
                        "--export", str(tmp_path / "all.csv")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "18 computed" in r.stdout and (tmp_path / "all.csv").is_file()
    r = subprocess.run([ACCELSCOPE, "pareto", str(out), "--objectives", "latency,energy",
                        "--export", str(tmp_path / "front.csv")], capture_output=True,
                       text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "Pareto front over latency, energy" in r.stdout
    assert "which axis moves which objective" in r.stdout
    assert (out / "pareto.png").read_bytes()[:4] == b"\x89PNG"
    front = (tmp_path / "front.csv").read_text().splitlines()
    assert len(front) >= 2
    # bad input: a located error, exit status 2, no traceback
    bad = tmp_path / "bad.yaml"
    bad.write_text("base: ideal\naxes: {compute.arry: [1]}\nworkload: {networks: [tiny]}\n")
    r = subprocess.run([ACCELSCOPE, "sweep", str(bad), "--out", str(tmp_path / "x")],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "Traceback" not in r.stderr
    assert "axes.compute.arry: ideal has no field compute.arry; did you mean 'array'" \
        in r.stderr
    r = subprocess.run([ACCELSCOPE, "pareto", str(out), "--objectives", "speed"],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "'speed' is not an objective" in r.stderr


def test_the_shipped_example_space_loads() -> None:
    sp = load_space(ROOT / "examples" / "dse" / "spots_equal_resources.yaml")
    assert [b.label for b in sp.bases] == ["spots", "gemmini", "eyeriss_512"]
    for b in sp.bases:  # equal resources
        assert b.spec.compute.macs_per_cycle == 512
        assert b.spec.clock_hz == 5e8
        assert b.spec.on_chip_bytes == 1310720
    assert sp.grid_size() == 18
