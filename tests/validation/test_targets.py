"""The validation tier: every must-hold published number is reproduced within tolerance."""

from __future__ import annotations

import pytest

from accelscope import validate
from accelscope.errors import AccelscopeError

TARGETS = validate.targets()


@pytest.mark.parametrize("target", [t for t in TARGETS if t.level == "must_hold"],
                         ids=lambda t: t.name)
def test_must_hold_target(target):
    (r,) = [r for r in validate.run(target.name) if r.target.name == target.name]
    assert r.error is None, r.error
    assert r.passed, (f"{target.name}: ours {r.ours:.6g} vs published {target.published:.6g} "
                      f"{target.unit}, error {r.rel_error:.3%} > tolerance "
                      f"{target.tolerance:.3%} ({target.source})")


def test_targets_are_well_formed():
    names = [t.name for t in TARGETS]
    assert len(names) == len(set(names))
    for t in TARGETS:
        assert t.source and t.unit and t.tolerance >= 0
        assert t.level in ("must_hold", "informative")


def test_unknown_prefix_lists_groups():
    with pytest.raises(AccelscopeError, match=r"target groups: .*workload"):
        validate.targets("nonexistent-prefix")


def test_a_raising_target_is_a_failure_not_a_crash():
    t = validate.Target("x.broken", 1.0, "u", "test", 0.0, "must_hold",
                        lambda: 1 / 0)
    r = validate.TargetResult(t, None, 0.0, "ZeroDivisionError")
    assert not r.passed and r.failed_must_hold
