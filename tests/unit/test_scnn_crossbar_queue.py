"""SCNN's crossbar queues (``scnn.crossbar_queue_depth``): the queue recursion by hand, a
one-PE layer whose conflict cycles are known, and the queued model's exact and sampled
counts against each other."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from accelscope.models.scnn import core
from accelscope.workload.gconv import GConv
from tests.unit.test_scnn import EVAL, conv, random_layer, spec_with, workload


def _occ(*steps):
    """Bank occupancy rows from {bank: products} dicts (32 banks)."""
    out = np.zeros((len(steps), 32), dtype=np.int64)
    for i, st in enumerate(steps):
        for b, n in st.items():
            out[i, b] = n
    return out


def test_queue_recursion_by_hand():
    two_hot = _occ({0: 3}, {0: 3})
    run = np.zeros(2, dtype=np.int64)
    # depth 0 is DNNsim's rule: each step takes its busiest bank's products in cycles
    cyc, tail = core.queue_cycles(two_hot, run, 0)
    assert cyc.tolist() == [3, 3] and tail.tolist() == [0]
    # depth 2: the first step issues at once leaving 2 behind; the second waits until the
    # bank's backlog (2 + 3) is down to 2; 2 remain to drain: 6 cycles for 6 products
    cyc, tail = core.queue_cycles(two_hot, run, 2)
    assert cyc.tolist() == [1, 3] and tail.tolist() == [2]
    # a deep queue cannot beat the bank's one product per cycle
    cyc, tail = core.queue_cycles(two_hot, run, 8)
    assert cyc.tolist() == [1, 1] and tail.tolist() == [4]
    # products spread over 16 banks never wait
    spread = _occ(*[{b: 1 for b in range(16)}] * 5)
    cyc, tail = core.queue_cycles(spread, np.zeros(5, dtype=np.int64), 0)
    assert cyc.tolist() == [1] * 5 and tail.tolist() == [0]
    # runs are independent, whatever their interleaving in the arrays
    both = np.concatenate([two_hot, two_hot])[[0, 2, 1, 3]]
    cyc, tail = core.queue_cycles(both, np.array([0, 1, 0, 1]), 2)
    assert cyc.tolist() == [1, 1, 3, 3] and tail.tolist() == [2, 2]


def _one_pe_layer():
    """One PE, a 2x2 plane of which only pixel (0, 0) is non-zero, two input channels,
    32 output channels, 1x1 kernel. Channel 0 has weights for outputs 0, 8, 16, 24 (all in
    bank 0 of the hash: k mod 4 = 0 and (k div 4) even), channel 1 for 1, 9, 17, 25 (all in
    bank 1). Each channel is one step of 1 activation x 4 weights, all four products in one
    bank."""
    g = GConv(name="c", N=1, G=1, K=32, C=2, H=2, W=2, P=2, Q=2, R=1, S=1, input="x",
              output="y", operand="w", operand_kind="weight")
    x = torch.zeros(1, 2, 2, 2)
    x[0, :, 0, 0] = 1.0
    w = torch.zeros(32, 2, 1, 1)
    w[0::8, 0] = 1.0
    w[1::8, 1] = 1.0
    return g, x, w


def test_one_pe_layer_conflicts_by_hand():
    g, x, w = _one_pe_layer()
    stall = EVAL(workload(g, x, w), spec_with(pes=(1, 1)))
    assert stall.details["multiplier_steps"] == 2
    # DNNsim: each step 4 cycles, 3 of them extra
    assert stall.details["bank_conflict_cycles"] == 6
    queued = EVAL(workload(g, x, w), spec_with(pes=(1, 1), crossbar_queue_depth=3))
    # queue depth 3: step 1 issues leaving 3 in bank 0; step 2 issues the next cycle (bank
    # 1's 4 exceed the depth by 1, one cycle of wait), leaving 2 in bank 0 and 3 in bank 1;
    # the group drains 3 more: 2 step cycles + 3 = 5, i.e. 3 extra
    assert queued.details["bank_conflict_cycles"] == 3
    assert queued.details["bank_conflicts"]["queue_depth"] == 3
    assert stall.cycles - queued.cycles == 3
    assert queued.macs_issued == stall.macs_issued == 8


@pytest.mark.parametrize(("shape", "dx", "dw"), [
    (dict(H=28, W=28, C=16, K=32, R=3, pad=1), 0.3, 0.35),
    (dict(H=14, W=14, C=256, K=128, R=1), 0.2, 0.2),
])
def test_queued_sampled_matches_exact_and_queues_only_help(shape, dx, dw):
    g = conv(**shape)
    x, w = random_layer(g, dx, dw, seed=5)
    cyc = {}
    for depth in (0, 1, 4):
        exact = EVAL(workload(g, x, w), spec_with(crossbar_queue_depth=depth,
                                                  conflict_exact_max_steps=10**8))
        sampled = EVAL(workload(g, x, w), spec_with(crossbar_queue_depth=depth,
                                                    conflict_exact_max_steps=0))
        assert exact.details["bank_conflicts"]["mode"] == "exact"
        assert sampled.details["bank_conflicts"]["mode"] == "sampled"
        if depth:   # (depth 0's sampler: test_scnn.py::test_sampled_bank_conflicts_match_exact)
            assert abs(sampled.cycles - exact.cycles) / exact.cycles < 0.03, depth
        cyc[depth] = exact.cycles
        assert exact.macs_issued == sampled.macs_issued
    assert cyc[4] <= cyc[1] <= cyc[0]
    assert cyc[4] < 0.95 * cyc[0]          # these layers lose >5 % to stalls without queues


def test_queued_fc_layer():
    # 2,048 outputs: 32 per PE, whose sparse weight vectors can meet in a bank
    g = GConv(name="fc", N=1, G=1, K=2048, C=64, H=1, W=1, P=1, Q=1, R=1, S=1, input="x",
              output="y", operand="w", operand_kind="weight")
    x, w = random_layer(g, 1.0, 0.3, seed=3)
    base = EVAL(workload(g, x, w), spec_with())
    queued = EVAL(workload(g, x, w), spec_with(crossbar_queue_depth=4))
    assert base.details["path"].startswith("fc")
    assert 0 <= queued.details["bank_conflict_cycles"] < base.details["bank_conflict_cycles"]
    dense = torch.randn(2048, 64, 1, 1)
    d0 = EVAL(workload(g, x, dense), spec_with(crossbar_queue_depth=4))
    assert d0.details["bank_conflict_cycles"] == 0   # a dense vector's 4 outputs, 4 banks
