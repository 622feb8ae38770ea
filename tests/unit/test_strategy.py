"""Execution strategies (gconv, host-fallback, matrix) and chain fusion (issue 9)."""

from __future__ import annotations

import functools
import math

import pytest
import torch
from torch import nn

from accelscope import lower, zoo
from accelscope.arch import load_arch
from accelscope.models.contract import UnsupportedLayerError
from accelscope.models.scnn.model import route as scnn_route
from accelscope.models.systolic.model import gemm_of
from accelscope.models.systolic.spots import is_gemm as spots_is_gemm
from accelscope.passes.fusion import fusion_capacity, fusion_plan
from accelscope.passes.strategies import (
    STRATEGIES,
    StrategyError,
    evaluate_strategies,
    evaluate_strategy,
    host_transfers,
    im2col_tensor,
    is_conv_fc,
    matrix_form,
    matrix_gconv,
    parse_strategies,
    placement,
)
from accelscope.pipeline import build_workloads
from accelscope.workload.execute import run_gconv
from accelscope.workload.gconv import GConv

ACCELERATORS = ("spots", "systolic-dense", "eyeriss", "scnn", "dcnn", "gemmini", "ideal",
                "scalesim-32x32", "openedgecgra")
# (arch model, GConv name in tiny-allops): refusals the models document; a new one fails
KNOWN_REFUSALS: dict[tuple[str, str], str] = {}


@functools.cache
def _net(name: str, size: int | None = None):
    zm = zoo.get(name, input_shape=None if size is None else (1, 3, size, size))
    chain = lower(zm)
    return chain, build_workloads(chain, zm.example_input())


# -- parsing and classification ---------------------------------------------------------------
def test_parse_strategies():
    assert parse_strategies("gconv, host-fallback,gconv") == ("gconv", "host-fallback")
    assert parse_strategies(["matrix"]) == ("matrix",)
    with pytest.raises(StrategyError, match="gconv, host-fallback, matrix"):
        parse_strategies("gconv,hostfallback")
    with pytest.raises(StrategyError, match="empty"):
        parse_strategies(" , ")


def test_conv_fc_rule_matches_the_models_array_routing():
    chain, _ = _net("tiny-allops")
    gconvs = list(chain.gconvs) + list(_net("squeezenet1_0", 32)[0].gconvs)
    kinds = {}
    for g in gconvs:
        assert is_conv_fc(g) == (gemm_of(g) is not None) == spots_is_gemm(g) \
            == (scnn_route(g) != "ppu"), g.name
        kinds.setdefault(g.kind, set()).add(is_conv_fc(g))
    for k in ("conv", "depthwise", "grouped-conv", "fc", "transposed-conv"):
        assert kinds[k] == {True}, k
    for k in ("maxpool", "avgpool", "global-avgpool", "eltwise-add", "eltwise-mul",
              "upsample", "pointwise", "channel-affine"):
        if k in kinds:
            assert kinds[k] == {False}, k


# -- every network, every strategy, every accelerator ------------------------------------------
def _check_runs(name: str, size: int | None, archs) -> None:
    chain, ws = _net(name, size)
    for arch in archs:
        spec = load_arch(arch)
        try:
            res = evaluate_strategies(ws, spec, STRATEGIES, chain=chain, fuse=True, cache={})
        except UnsupportedLayerError as exc:
            known = KNOWN_REFUSALS.get((spec.model, exc.gconv.name))
            assert known is not None and known in exc.reason, f"{arch}: {exc}"
            continue
        macs = {s: r.macs for s, r in res.items()}
        assert set(macs.values()) == {chain.total_macs}, (arch, macs)  # MACs conserved
        for s, r in res.items():
            assert r.details["strategy"] == s
            assert r.seconds > 0 and r.total_energy_pj > 0, (arch, s)
            assert 0.0 <= r.details["nonconv_time_share"] <= 1.0
            gconv_rows = [x for x in r.layers if x.model != "transfer"]
            assert len(gconv_rows) == len(ws)


@pytest.mark.parametrize("arch", ACCELERATORS)
def test_every_gconv_family_under_every_strategy(arch):
    _check_runs("tiny-allops", None, [arch])


@pytest.mark.slow
def test_a_small_zoo_network_under_every_strategy():
    _check_runs("squeezenet1_0", 32, ("spots", "eyeriss", "scnn"))


@pytest.mark.slow
@pytest.mark.parametrize("name", ["alexnet", "vgg16", "resnet50", "mobilenet_v2", "googlenet",
                                  "squeezenet1_0", "densenet121"])
def test_seven_networks_on_every_accelerator(name):
    size = None if name in ("alexnet", "vgg16") else 32  # adaptive pooling needs 224
    _check_runs(name, size, ACCELERATORS)


# -- host-fallback ----------------------------------------------------------------------------
class _Boundary(nn.Module):
    """conv+relu -> maxpool -> conv -> (+ skip from the pool) -> concat with a conv branch ->
    global avgpool -> flatten -> FC."""

    def __init__(self):
        super().__init__()
        self.c1 = nn.Conv2d(3, 8, 3, padding=1)
        self.pool = nn.MaxPool2d(2)
        self.c2 = nn.Conv2d(8, 8, 3, padding=1)
        self.c3 = nn.Conv2d(8, 4, 1)
        self.gap = nn.AdaptiveAvgPool2d(1)
        self.fc = nn.Linear(12, 5)

    def forward(self, x):
        p = self.pool(torch.relu(self.c1(x)))
        s = self.c2(p) + p
        y = torch.cat([s, self.c3(p)], 1)
        return self.fc(torch.flatten(self.gap(y), 1))


def test_host_fallback_transfers_are_the_boundary_tensors():
    torch.manual_seed(0)
    chain = lower(_Boundary().eval(), torch.randn(1, 3, 16, 16))
    ws = build_workloads(chain)
    where = placement(ws, "host-fallback")
    on = {w.gconv.kind: p for w, p in zip(ws, where, strict=True)}
    assert on["conv"] == "accelerator" and on["fc"] == "accelerator"
    assert on["maxpool"] == on["eltwise-add"] == on["global-avgpool"] == "host"
    by_kind = {}
    for w in ws:
        by_kind.setdefault(w.gconv.kind, []).append(w.gconv)
    c1, c2, c3 = by_kind["conv"]
    pool, add, gap = by_kind["maxpool"][0], by_kind["eltwise-add"][0], \
        by_kind["global-avgpool"][0]
    # by hand: c1 out -> pool (to host); pool out -> c2, c3 (from host, once); c2 out -> add
    # (to host); the concat of add (host) and c3 (accelerator) -> gap (host): c3 out to
    # host; gap out -> flatten -> fc (from host). The skip (pool -> add) stays on the host.
    want = {(c1.output, "to-host", 8 * 16 * 16), (pool.output, "from-host", 8 * 8 * 8),
            (c2.output, "to-host", 8 * 8 * 8), (c3.output, "to-host", 4 * 8 * 8),
            (gap.output, "from-host", 12)}
    got = {(t.tensor, t.direction, t.elems) for t in host_transfers(ws, where, chain)}
    assert got == want
    assert add.output not in {t for t, _, _ in got}
    spec = load_arch("spots")
    r = evaluate_strategy(ws, spec, "host-fallback", chain=chain)
    rows = [x for x in r.layers if x.model == "transfer"]
    bits = spec.compute.operand_bits
    assert sorted(x.details["bits"] for x in rows) == sorted(e * bits for _, _, e in want)
    assert r.details["transfer_bits"] == sum(e for _, _, e in want) * bits
    for x in rows:  # each transfer is DRAM traffic at the accelerator's bandwidth
        assert x.level_bits("dram") == x.details["bits"]
        assert x.cycles == math.ceil(x.details["bits"] / spec.dram.bandwidth_bits_per_cycle)
    host_rows = [x for x in r.layers if x.model == "host"]
    assert len(host_rows) == 3
    for x in host_rows:  # re-clocked, the measured seconds kept
        assert x.clock_hz == spec.clock_hz
        assert abs(x.seconds - x.details["seconds_median"]) <= 1 / spec.clock_hz


def test_host_fallback_time_share_counts_host_and_transfers():
    chain, ws = _net("squeezenet1_0", 32)
    r = evaluate_strategy(ws, "ideal", "host-fallback", chain=chain)
    other = sum(x.seconds for x in r.layers if x.model in ("host", "transfer"))
    assert r.details["nonconv_time_share"] == pytest.approx(other / r.seconds)


def test_bad_specs_are_named():
    chain, ws = _net("tiny")
    with pytest.raises(StrategyError, match="measured baseline"):
        evaluate_strategy(ws, "cpu", "gconv", chain=chain)
    with pytest.raises(StrategyError, match="--host-threads must be at least 1"):
        evaluate_strategy(ws, "spots", "host-fallback", chain=chain, host_threads=-1)
    with pytest.raises(StrategyError, match="not a measured host preset"):
        evaluate_strategy(ws, "spots", "host-fallback", chain=chain, host_spec="ideal")
    with pytest.raises(StrategyError, match="not a strategy"):
        evaluate_strategy(ws, "spots", "fallback", chain=chain)


# -- matrix form --------------------------------------------------------------------------------
def _pool(reduce_op: str, k: int, stride: int, pad: int, H: int = 9) -> GConv:
    P = (H + 2 * pad - k) // stride + 1
    return GConv(name="p", N=2, G=3, K=1, C=1, H=H, W=H, P=P, Q=P, R=k, S=k, input="x",
                 output="y", map_op="pass", reduce_op=reduce_op, stride=(stride, stride),
                 padding=(pad,) * 4, pad_value=float("-inf") if reduce_op == "max" else 0.0,
                 mean_pad=(pad,) * 4 if reduce_op == "mean" else (0,) * 4)


@pytest.mark.parametrize("g", [_pool("max", 3, 2, 1), _pool("sum", 3, 1, 0),
                               _pool("mean", 3, 2, 1), _pool("max", 2, 2, 0, H=8)])
def test_matrix_form_reduces_the_im2col_tensor_to_the_same_output(g):
    x = torch.randn(g.N, g.G * g.C, g.H, g.W)
    m = matrix_gconv(g)
    assert (m.R, m.S, m.C) == (1, 1, g.C * g.R * g.S) and m.macs == g.macs
    e = im2col_tensor(g, x)
    assert e.shape == (g.N, g.G * g.C * g.R * g.S, g.P, g.Q)
    torch.testing.assert_close(run_gconv(m, e, {}), run_gconv(g, x, {}))


def test_matrix_strategy_pays_the_lost_window_reuse():
    torch.manual_seed(0)
    stem = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU(),
                         nn.MaxPool2d(3, 2, 1), nn.Conv2d(8, 8, 1))  # ResNet's stem pool
    chain = lower(stem.eval(), torch.randn(1, 3, 32, 32))
    ws = build_workloads(chain)
    spec = load_arch("spots")
    gc = evaluate_strategy(ws, spec, "dedicated", chain=chain)  # the vector unit, as matrix
    mx = evaluate_strategy(ws, spec, "matrix", chain=chain)
    pool = next(w for w in ws if w.gconv.kind == "maxpool")
    form = matrix_form(pool)
    g = pool.gconv
    assert form.materialised and form.expanded_elems == g.N * g.G * g.P * g.Q * g.R * g.S
    assert form.expanded_elems > g.input_elems
    exp = next(x for x in mx.layers if x.kind == "im2col-expand")
    bits = spec.compute.operand_bits
    assert exp.level_bits("dram") == (g.input_elems + form.expanded_elems) * bits
    row = next(x for x in mx.layers if x.layer == g.name and x.model == "spots")
    assert row.details["matrix_form"]["taps"] == 9
    assert mx.level_bits("dram") - gc.level_bits("dram") == \
        exp.level_bits("dram") + (form.expanded_elems - g.input_elems) * bits
    assert mx.seconds > gc.seconds and mx.total_energy_pj > gc.total_energy_pj


def test_vector_ops_keep_their_form_in_matrix():
    chain, ws = _net("tiny-allops")
    for w in ws:
        g = w.gconv
        if g.operand_kind == "tensor" or g.kind in ("pointwise", "channel-affine"):
            assert matrix_form(w).workload is w


# -- fusion --------------------------------------------------------------------------------------
def _live_bytes(res, ws, spec) -> list[int]:
    bits = spec.compute.operand_bits
    load = [0] * len(ws)
    kept = set(res.details["fusion"]["tensors"])
    idx = {w.gconv.output: i for i, w in enumerate(ws)}
    for t in kept:
        i = idx[t]
        size = math.ceil(ws[i].gconv.output_elems * bits / 8)
        load[i] += size
        load[i + 1] += size
    return load


@pytest.mark.parametrize("arch", ["spots", "eyeriss", "scnn", "gemmini"])
def test_fused_chains_never_exceed_the_fusion_buffer(arch):
    chain, ws = _net("tiny")
    spec = load_arch(arch)
    cap, _ = fusion_capacity(spec)
    cache: dict = {}
    for strategy in STRATEGIES[::2]:  # gconv, matrix (no host measurement needed)
        plain = evaluate_strategy(ws, spec, strategy, chain=chain, cache=cache)
        fused = evaluate_strategy(ws, spec, strategy, chain=chain, fuse=True, cache=cache)
        f = fused.details["fusion"]
        assert f["capacity_bytes"] == cap and f["fused"] > 0
        assert max(_live_bytes(fused, ws, spec)) <= cap
        assert f["peak_bytes"] == max(_live_bytes(fused, ws, spec))
        saved = plain.level_bits("dram") - fused.level_bits("dram")
        assert saved == f["dram_bits_saved"] > 0
        assert fused.seconds == plain.seconds and fused.macs == plain.macs
        assert fused.total_energy_pj < plain.total_energy_pj


def test_fusion_respects_a_small_buffer():
    chain, ws = _net("squeezenet1_0", 32)
    spec = load_arch("spots")
    bits = spec.compute.operand_bits
    sizes = sorted({math.ceil(w.gconv.output_elems * bits / 8) for w in ws})
    cap = sizes[len(sizes) // 2]
    where = ["accelerator"] * len(ws)
    plan = fusion_plan(ws, where, cap, bits, chain)
    assert plan and all(f.bytes <= cap for f in plan)
    load = [0] * len(ws)
    for f in plan:
        load[f.producer] += f.bytes
        load[f.consumer] += f.bytes
        assert f.consumer == f.producer + 1
    assert max(load) <= cap
    assert fusion_plan(ws, where, sizes[0] - 1, bits, chain) == []


def test_fusion_capacity_rule_per_preset():
    assert fusion_capacity(load_arch("spots"))[0] == 256 * 1024 // 2  # ofm_sram, double-buf
    assert fusion_capacity(load_arch("eyeriss"))[0] == 110592 // 2  # glb shared with inputs
    assert fusion_capacity(load_arch("scnn"))[0] == 655360  # oaram
    spec = load_arch("ideal")
    small = spec.model_copy(update={"memory": tuple(
        m.model_copy(update={"size_bytes": 64})
        for m in spec.memory)})
    assert fusion_capacity(small)[0] == 32


def test_host_fallback_only_fuses_between_accelerator_layers():
    chain, ws = _net("squeezenet1_0", 32)
    where = placement(ws, "host-fallback")
    plan = fusion_plan(ws, where, 1 << 40, 16, chain)
    for f in plan:
        assert where[f.producer] == where[f.consumer] == "accelerator"
