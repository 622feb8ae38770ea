"""``accelscope run / compare --strategy`` (issue 9) run as a user runs them."""

from __future__ import annotations

import os
import subprocess
import sys

import pandas as pd

from accelscope.results import NetworkResult


def run(*args: str, columns: int = 160) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accelscope.cli", *args], capture_output=True,
                          text=True, timeout=600,
                          env={**os.environ, "COLUMNS": str(columns)})


def test_compare_strategies_side_by_side(tmp_path):
    r = run("compare", "tiny", "--arch", "spots,ideal", "--strategy",
            "gconv,host-fallback,matrix", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "vs host-fallback of the same arch" in " ".join(r.stdout.split())
    rows = [ln.split() for ln in r.stdout.splitlines()
            if ln.strip().startswith(("spots", "ideal")) and "GConvs on" not in ln]
    assert [(x[0], x[1]) for x in rows] == [
        (a, s) for a in ("spots", "ideal") for s in ("gconv", "host-fallback", "matrix")]
    for x in rows:  # the reference row of each arch is 1x against itself
        if x[1] == "host-fallback":
            assert x[-2:] == ["1x", "1x"]
    flat = " ".join(r.stdout.split())
    assert "boundary transfers" in flat and "fusion kept" in flat
    df = pd.read_csv(tmp_path / "compare.csv")
    assert len(df) == 6 and set(df["strategy"]) == {"gconv", "host-fallback", "matrix"}
    assert df["nonconv_time_share"].between(0, 1).all()
    res = NetworkResult.from_json((tmp_path / "spots-host-fallback" / "results.json")
                                  .read_text())
    assert res.details["strategy"] == "host-fallback" and res.details["transfers"] > 0
    assert {x.model for x in res.layers} == {"spots", "host", "transfer"}
    assert (tmp_path / "compare.png").read_bytes()[:4] == b"\x89PNG"


def test_compare_strategies_narrow_terminal_keeps_every_row(tmp_path):
    r = run("compare", "tiny", "--arch", "spots,eyeriss", "--strategy",
            "gconv,host-fallback", "--out", str(tmp_path), columns=80)
    assert r.returncode == 0, r.stdout + r.stderr
    for name in ("spots", "eyeriss"):
        assert name in r.stdout
    assert r.stdout.count("host-fallback") >= 2 and "host-fall\n" not in r.stdout


def test_run_strategy_writes_one_result_per_strategy(tmp_path):
    r = run("run", "tiny", "--arch", "eyeriss", "--strategy", "gconv,matrix",
            "--no-fuse-chain", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "strategy gconv" in r.stdout and "strategy matrix" in r.stdout
    for s in ("gconv", "matrix"):
        res = NetworkResult.from_json((tmp_path / s / "results.json").read_text())
        assert res.details["strategy"] == s and "fusion" not in res.details


def test_bad_strategy_input_is_a_clear_error():
    r = run("compare", "tiny", "--arch", "spots", "--strategy", "gconv,fallback")
    assert r.returncode == 2
    assert "'fallback' is not a strategy" in r.stderr and "host-fallback" in r.stderr
    r = run("run", "tiny", "--arch", "spots", "--strategy", "gconv", "--compress", "dct")
    assert r.returncode == 2 and "cannot be combined" in r.stderr
    r = run("run", "tiny", "--arch", "cpu", "--strategy", "gconv")
    assert r.returncode == 2 and "measured baseline" in r.stderr
