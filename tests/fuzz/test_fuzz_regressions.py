"""The inputs coverage-guided fuzzing (``tests/fuzz/atheris_fuzz.py``) once broke, replayed
in every ``make test``: each file under ``regressions/TARGET/`` must now give a value or the
located error (``AccelscopeError``), nothing else."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).parent))
import atheris_fuzz

CASES = sorted(p for p in atheris_fuzz.REGRESSIONS.glob("*/*") if p.is_file())


def test_every_regression_names_a_target():
    assert CASES, "no regression inputs found"
    for p in CASES:
        assert p.parent.name in atheris_fuzz.TARGETS, p


@pytest.mark.parametrize("path", CASES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_fuzzing_finding_stays_fixed(path):
    atheris_fuzz.check(path.parent.name, path.read_bytes())


@pytest.mark.parametrize("target", sorted(atheris_fuzz.TARGETS))
def test_the_seed_corpus_is_accepted(target):
    """The seeds are valid inputs: every one gives a value, not even the located error."""
    for data in atheris_fuzz.seeds(target):
        atheris_fuzz.TARGETS[target](data)
