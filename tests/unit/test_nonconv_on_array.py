"""Non-conv GConvs on the systolic array in their GConv form (``nonconv_on: array``, issue 9).

The systolic engine (gemmini, scalesim-32x32) and SPOTS (spots, systolic-dense) run pooling,
element-wise, per-channel and point-wise GConvs either on the vector unit beside the array
(``vector``, the shipped presets) or on the array itself as multiply-and-sum GConvs
(``array``, ``models.systolic.array_form``), timed by the same engine.
"""

from __future__ import annotations

import functools

import pytest
import torch

from accelscope import lower, zoo
from accelscope.arch import load_arch
from accelscope.models.array_form import array_form
from accelscope.models.conformance import check_model
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.models.systolic.core import Gemm, systolic_timing
from accelscope.models.systolic.model import gemm_of
from accelscope.passes.strategies import (
    STRATEGIES,
    evaluate_strategy,
    is_conv_fc,
    nonconv_on,
    parse_strategies,
    with_nonconv_on,
)
from accelscope.pipeline import build_workloads
from accelscope.workload.execute import gconv_fast
from accelscope.workload.gconv import GConv

ARCHS = ("systolic-dense", "spots", "gemmini", "scalesim-32x32")


@functools.cache
def _net(name: str = "tiny-allops"):
    zm = zoo.get(name)
    chain = lower(zm)
    return chain, build_workloads(chain, zm.example_input())


def _array(name: str):
    return with_nonconv_on(load_arch(name), "array")


@pytest.mark.parametrize("arch", [  # systolic-dense is SPOTS without skipping: slow tier
    pytest.param(a, marks=pytest.mark.slow) if a == "systolic-dense" else a for a in ARCHS])
def test_every_gconv_runs_on_the_array_and_passes_the_kit(arch):
    _, ws = _net()
    spec = _array(arch)
    assert nonconv_on(spec) == "array" and nonconv_on(load_arch(arch)) == "vector"
    assert check_model(spec.model, spec, ws) == []
    info = get_model(spec.model)
    total = 0
    nonconv = 0
    for w in ws:
        r = info.evaluate(w, spec)
        total += r.macs
        assert r.macs == w.gconv.macs
        if not is_conv_fc(w.gconv):
            nonconv += 1
            assert r.details["unit"] == "array", w.gconv.name
            assert "array_form" in r.details
            # no vector unit anywhere in the result
            assert "vector_ops_per_cycle" not in r.details
            assert "vector unit" not in r.provenance.get("energy.op", "")
            assert r.macs_issued >= r.macs_useful
    assert nonconv >= 10  # tiny-allops has pooling, element-wise, point-wise, upsampling
    assert total == sum(w.gconv.macs for w in ws)


def _maxpool(G=4, H=8, R=2, stride=2) -> GConv:
    P = (H - R) // stride + 1
    return GConv(name="mp", N=1, G=G, K=1, C=1, H=H, W=H, P=P, Q=P, R=R, S=R, input="x",
                 output="y", map_op="pass", reduce_op="max", stride=(stride, stride))


def test_maxpool_cycles_follow_the_fold_formula():
    # scalesim-32x32 (os) with compulsory memory, calc bandwidth: cycles = compute cycles
    spec = _array("scalesim-32x32")
    spec = spec.model_copy(update={"systolic": spec.systolic.model_copy(
        update={"memory_model": "compulsory"})})
    g = _maxpool()
    layer = LayerWorkload(gconv=g, network="t", input=torch.rand(1, 4, 8, 8))
    r = get_model("systolic").evaluate(layer, spec)
    # os: Sr = pixels 16 <= 32 rows, Sc = 1 filter, T = R*S*C = 4 taps: one fold per group of
    # T + rows + cols - 2 = 4 + 62 cycles, 4 groups back to back (the depthwise rule)
    assert r.cycles == 4 * (4 + 32 + 32 - 2) == 264
    assert r.details["row_folds"] == r.details["col_folds"] == 1
    assert r.details["repeats"] == 4
    # 16 pixels x 1 column of 32 x 32 PEs: the low utilisation is the point
    assert r.details["mapping_efficiency"] == pytest.approx(16 / 1024)
    # the vector unit would have taken 256 compares / 32 lanes = 8 cycles
    v = get_model("systolic").evaluate(layer, load_arch("scalesim-32x32").model_copy(
        update={"systolic": spec.systolic.model_copy(update={"nonconv_on": "vector"})}))
    assert v.cycles == 8 and v.details["unit"] == "vector"
    # energy: one compare (priced as an add) per tap, not a MAC
    assert "add" in r.provenance["energy.op"]


def test_maxpool_ws_matches_the_engine():
    spec = _array("gemmini")  # ws, 16x16
    g = _maxpool(G=3, H=12, R=3, stride=1)  # 10x10 outputs, 9 taps
    layer = LayerWorkload(gconv=g, network="t", input=torch.rand(1, 3, 12, 12))
    r = get_model("systolic").evaluate(layer, spec)
    t = systolic_timing(Gemm(pixels=100, window=9, filters=1, repeats=3), 16, 16, "ws")
    # ws: Sr = 9 taps, Sc = 1, T = 100 pixels: 100 + 2*16 + 16 - 2 = 146 per group
    assert t.compute_cycles == 3 * 146
    assert r.cycles >= t.compute_cycles  # user bandwidth mode may stretch it (reported stall)
    assert r.cycles - r.stall_cycles.get("dram_bandwidth", 0) == t.compute_cycles


@pytest.mark.parametrize("kind", ["eltwise-add", "eltwise-mul", "avgpool", "global-avgpool",
                                  "pointwise", "channel-affine", "upsample"])
def test_array_form_is_exact_where_the_pe_sums(kind):
    """Add, mul, affine, point-wise, average pooling without padding exclusion and
    upsampling: the multiply-and-sum form reproduces the output (max pooling only costs
    the same: its PE reduce is max)."""
    _, ws = _net()
    found = [w for w in ws if w.gconv.kind == kind]
    if not found:
        pytest.skip(f"no {kind} in tiny-allops")
    for w in found:
        g = w.gconv
        if g.reduce_op == "mean" and tuple(g.mean_pad) != tuple(g.padding):
            continue
        form, _ = array_form(w)
        assert gemm_of(form.gconv, per_channel=True) is not None
        if form.operand is None:  # a static weight kept as is
            continue
        y = gconv_fast(form.gconv, form.input, form.operand)
        ref = gconv_fast(g, w.input, w.operand)
        assert torch.allclose(y.reshape(ref.shape), ref, atol=1e-5, rtol=1e-4), g.name


def test_strategies_gconv_on_array_dedicated_on_vector():
    assert "dedicated" in STRATEGIES and parse_strategies("gconv,dedicated") == (
        "gconv", "dedicated")
    chain, ws = _net()
    for arch in ("gemmini", "spots"):
        spec = load_arch(arch)
        cache: dict = {}
        on = evaluate_strategy(ws, spec, "gconv", chain=chain, cache=cache)
        ded = evaluate_strategy(ws, spec, "dedicated", chain=chain, cache=cache)
        plain = evaluate_strategy(ws, spec, "dedicated", chain=chain)
        assert on.macs == ded.macs == sum(w.gconv.macs for w in ws)
        assert [r.to_dict() for r in ded.layers] == [r.to_dict() for r in plain.layers]
        for w, a, b in zip(ws, on.layers, ded.layers, strict=True):
            if is_conv_fc(w.gconv):
                assert a.to_dict() == b.to_dict()
            else:
                assert a.details["unit"] == "array" and b.details["unit"] == "vector"
        assert "array" in on.provenance["strategy.nonconv_on"]
        assert on.cycles > ded.cycles  # a wide array runs pooling / element-wise slowly


def test_dedicated_on_a_model_without_the_switch_warns():
    chain, ws = _net()
    r = evaluate_strategy(ws, "eyeriss", "dedicated", chain=chain)
    g = evaluate_strategy(ws, "eyeriss", "gconv", chain=chain)
    assert any("no dedicated-unit switch" in x for x in r.warnings)
    assert r.cycles == g.cycles


@pytest.mark.parametrize("arch", ARCHS)
def test_default_presets_unchanged(arch):
    """The shipped presets keep the vector unit: plain evaluation equals dedicated."""
    chain, ws = _net()
    spec = load_arch(arch)
    assert nonconv_on(spec) == "vector"
    info = get_model(spec.model)
    ded = evaluate_strategy(ws, spec, "dedicated", chain=chain)
    for w, r in zip(ws, ded.layers, strict=True):
        plain = info.evaluate(w, spec)
        d = {k: v for k, v in r.details.items() if k not in ("on", "shape")}
        assert plain.cycles == r.cycles and plain.energy_pj == r.energy_pj
        assert plain.details == d
        if not is_conv_fc(w.gconv):
            assert plain.details["unit"] == "vector"


@pytest.mark.parametrize("arch", ["gemmini", "spots"])
def test_constant_add_runs_on_the_array(arch):
    """A per-channel constant added (map 'add' with a weight operand) is a depthwise 1x1
    GConv with unit weights whose output function adds the constant."""
    g = GConv(name="cadd", N=1, G=4, K=1, C=1, H=6, W=6, P=6, Q=6, R=1, S=1, input="x",
              output="y", map_op="add", operand="b", operand_kind="weight")
    layer = LayerWorkload(gconv=g, network="t", input=torch.rand(1, 4, 6, 6),
                          operand=torch.rand(4, 1, 1, 1))
    spec = _array(arch)
    r = get_model(spec.model).evaluate(layer, spec)
    assert r.details["unit"] == "array" and r.macs == g.macs
    assert "unit weights" in r.details["array_form"]["how"]
    vec = get_model(spec.model).evaluate(layer, load_arch(arch))
    assert vec.details["unit"] == "vector"
