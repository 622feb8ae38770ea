"""The command line, run as a user runs it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest


def run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "accelscope.cli", *args], capture_output=True,
                          text=True, timeout=300)


def test_models_lists_the_zoo():
    r = run("models")
    assert r.returncode == 0, r.stderr
    for name in ("resnet50", "alexnet-caffe", "mobilenet_v2", "tiny"):
        assert name in r.stdout


def test_lower_verify_and_json(tmp_path):
    r = run("lower", "tiny-allops", "--verify", "--out", str(tmp_path))
    assert r.returncode == 0, r.stdout + r.stderr
    assert "PASS" in r.stdout and "conv/FC MACs" in r.stdout
    data = json.loads((tmp_path / "chain.json").read_text())
    piped = run("lower", "tiny-allops", "--json")  # the chain on stdout, the table on stderr
    assert piped.returncode == 0 and json.loads(piped.stdout) == data
    assert "conv/FC MACs" in piped.stderr
    assert data["totals"]["gconvs"] == len([n for n in data["nodes"] if "map_op" in n])
    assert data["totals"]["conv_fc_macs"] > 0


def test_lower_float64_verify():
    r = run("lower", "tiny", "--float64", "--verify")
    assert r.returncode == 0, r.stdout + r.stderr
    assert "tolerance 1e-09" in r.stdout and "PASS" in r.stdout


def test_verify_fails_with_impossible_tolerance():
    r = run("lower", "tiny", "--verify", "--tolerance", "0")
    # tiny has batch-norm folded into convolutions: float32 rounding differs from eager.
    assert r.returncode == 1
    assert "FAIL" in r.stdout


@pytest.mark.parametrize("args,needle", [
    (("lower", "resnet51"), "resnet50"),
    (("lower", "tiny", "--input-shape", "1,3,x"), "--input-shape"),
    (("lower", "tiny", "--weights", "/nonexistent/w.pt"), "/nonexistent/w.pt"),
    (("lower", "/nonexistent/model.onnx"), "/nonexistent/model.onnx"),
])
def test_bad_input_gives_a_clear_error(args, needle):
    r = run(*args)
    assert r.returncode == 2
    assert "error:" in r.stderr and needle in r.stderr
    assert "Traceback" not in r.stderr
