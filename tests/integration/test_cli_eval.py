"""``accelscope run / compare / archs / validate`` run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from accelscope.results import NetworkResult


def run(*args: str, cwd=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accelscope.cli", *args], capture_output=True,
                          text=True, timeout=600, cwd=cwd,
                          env={**os.environ, "COLUMNS": "160"})


def test_run_prints_layers_and_writes_results(tmp_path):
    r = run("run", "tiny", "--arch", "ideal", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tiny on ideal" in r.stdout and "total" in r.stdout and "cycles" in r.stdout
    res = NetworkResult.from_json((tmp_path / "results.json").read_text())
    assert res.arch == "ideal" and len(res.layers) == 8
    table = pd.read_csv(tmp_path / "results.csv")  # tidy: one scalar per cell
    assert table["layer"].tolist() == [x.layer for x in res.layers]
    assert table["cycles"].sum() == res.cycles
    assert NetworkResult.from_csv((tmp_path / "results.csv").read_text()).cycles == res.cycles
    assert len(pd.read_parquet(tmp_path / "accesses.parquet")) == sum(
        len(x.accesses) for x in res.layers)
    assert (tmp_path / "layers.png").read_bytes()[:4] == b"\x89PNG"
    assert res.details["mode"] == "actual"


def test_run_with_pruning_and_statistical_mode(tmp_path):
    r = run("run", "tiny", "--arch", "ideal", "--prune", "magnitude:0.3", "--mode",
            "statistical", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    res = NetworkResult.from_json((tmp_path / "results.json").read_text())
    assert res.details["prune"] == "magnitude:0.3" and res.details["mode"] == "statistical"
    conv = next(x for x in res.layers if x.kind == "conv")
    assert conv.macs_useful < 0.5 * conv.macs


def test_compare_side_by_side(tmp_path):
    r = run("compare", "tiny", "--arch", "ideal,cpu", "--baseline", "cpu", "--out",
            str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "ratios vs cpu" in r.stdout
    lines = [ln for ln in r.stdout.splitlines() if ln.strip().startswith(("ideal", "cpu"))]
    assert len(lines) == 2 and lines[1].rstrip().endswith("1x")
    assert (tmp_path / "compare.png").exists()
    assert (tmp_path / "ideal" / "results.json").exists()
    csv = (tmp_path / "compare.csv").read_text().splitlines()
    assert csv[0].startswith("arch,model,cycles") and len(csv) == 3


def test_archs_list_and_show():
    r = run("archs")
    assert r.returncode == 0, r.stderr
    for name in ("ideal", "cpu", "gpu"):
        assert name in r.stdout
    r = run("archs", "show", "ideal")
    assert r.returncode == 0, r.stderr
    assert "macs_per_cycle: 1024" in r.stdout and "[MACs/cycle]" in r.stdout


def test_validate_prints_ours_next_to_theirs():
    r = run("validate", "--only", "workload.alexnet-caffe", "--sources")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "workload.alexnet-caffe.conv1.macs_batch4" in r.stdout
    assert "JSSC" in r.stdout and "must-hold failed" in r.stdout


def test_bad_arch_inputs_give_clear_errors(tmp_path):
    r = run("run", "tiny", "--arch", "idael")
    assert r.returncode == 2 and "ideal" in r.stderr and "Traceback" not in r.stderr
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: x\nmodel: ideal\nname: y\n")
    r = run("run", "tiny", "--arch", str(bad))
    assert r.returncode == 2 and "bad.yaml:3" in r.stderr and "duplicate" in r.stderr
    r = run("compare", "tiny", "--arch", "ideal,cpu", "--baseline", "gpu")
    assert r.returncode == 2 and "--baseline" in r.stderr
    r = run("run", "tiny", "--arch", "ideal", "--prune", "magnitude:lots")
    assert r.returncode == 2 and "magnitude:lots" in r.stderr
    r = run("validate", "--only", "nonexistent")
    assert r.returncode == 2 and "target groups" in r.stderr


def test_sweep_density_prints_table_and_writes_plot(tmp_path):
    r = run("sweep-density", "tiny", "--arch", "scnn,dcnn", "--densities", "0.2,1.0",
            "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "speed-up over dcnn" in r.stdout
    rows = [ln.split() for ln in r.stdout.splitlines() if ln.strip().startswith(("0.2", "1 "))]
    assert len(rows) == 2
    # at density 0.2 SCNN skips zeros and beats DCNN; the baseline column is exactly 1x
    assert float(rows[0][1].rstrip("x")) > 1.0 and rows[0][2] == "1x"
    assert (tmp_path / "density_sweep.png").read_bytes()[:4] == b"\x89PNG"
    assert len((tmp_path / "density_sweep.csv").read_text().splitlines()) == 5


def test_sweep_density_rejects_bad_densities(tmp_path):
    r = run("sweep-density", "tiny", "--arch", "scnn", "--densities", "0.5,abc")
    assert r.returncode == 2 and "--densities" in r.stderr
    r = run("sweep-density", "tiny", "--arch", "scnn", "--densities", "1.5")
    assert r.returncode == 2 and "outside (0, 1]" in r.stderr
