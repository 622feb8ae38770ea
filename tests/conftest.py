"""Shared helpers for the test suite."""

from __future__ import annotations

import pytest
import torch
from hypothesis import HealthCheck, settings

from accelscope.api import lower
from accelscope.workload.execute import execute, relative_error


def assert_lowers_exactly(module: torch.nn.Module, x: torch.Tensor, tol: float = 1e-5):
    """Lower ``module`` on ``x`` (fused and unfused), check both chains, execute them by the
    fast path and by the im2col reference path, and compare with the PyTorch forward."""
    module = module.eval()
    with torch.no_grad():
        want = module(x)
    chains = []
    for fuse in (True, False):
        chain = lower(module, x, fuse=fuse)
        assert chain.problems() == []
        for reference in (False, True):
            got = execute(chain, x, reference=reference)
            assert got.shape == want.shape
            err = relative_error(got, want)
            assert err <= tol, f"fuse={fuse} reference={reference}: relative error {err:.3e}"
        chains.append(chain)
    return chains[0]


@pytest.fixture(scope="session")
def allops_workloads():
    """The workloads (real data) of the zoo net ``tiny-allops``, every GConv family."""
    import accelscope
    from accelscope.pipeline import build_workloads

    zm = accelscope.zoo.get("tiny-allops")
    return build_workloads(accelscope.lower(zm), zm.example_input())


# ``make fuzz`` (pytest --hypothesis-profile=fuzz): the long budget of tests/fuzz; other
# hypothesis tests keep their own settings
settings.register_profile("fuzz", max_examples=40_000, deadline=None,
                          suppress_health_check=[HealthCheck.too_slow,
                                                 HealthCheck.function_scoped_fixture])
