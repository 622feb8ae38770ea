"""Refactors keep numbers: network totals of every deterministic preset (and the passes after
evaluation) against the golden file written before the model-contract refactor
(``tests/golden/make_golden.py``). A changed value fails with its path, old and new value."""

import importlib.util
import json
from pathlib import Path

import pytest

HERE = Path(__file__).parents[1] / "golden"
_spec = importlib.util.spec_from_file_location("make_golden", HERE / "make_golden.py")
golden = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(golden)
WANT = json.loads(golden.GOLDEN.read_text())


def _check(only):
    got = golden.compute(only)
    assert got, "no golden case ran"
    diffs = golden.differences(WANT, got)
    missing = [k for k in got if k not in WANT]
    assert not diffs and not missing, "\n".join(diffs[:40] + missing[:10])


def test_golden_tiny_and_mobilenet_v2():
    _check({"tiny", "mobilenet_v2"})


@pytest.mark.slow
def test_golden_resnet18_and_alexnet():
    _check({"resnet18", "alexnet-caffe"})
