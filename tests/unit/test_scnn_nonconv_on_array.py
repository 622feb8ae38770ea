"""Non-conv GConvs on SCNN's Cartesian-product array in their GConv form (issue 9).

``scnn.nonconv_on: array`` runs pooling, element-wise, per-channel, point-wise and upsampling
GConvs as the multiply-and-sum GConvs of ``models.systolic.array_form`` through SCNN's own
PT-IS-CP counting (planar tiles, F x I steps, bank conflicts, barrier, halos); ``ppu`` (the
shipped presets) keeps them in the post-processing units.
"""

from __future__ import annotations

import pytest
import torch

from accelscope.arch import load_arch
from accelscope.models.array_form import array_form
from accelscope.models.conformance import check_model
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.models.scnn.model import _full_map_product, execute_schedule, route
from accelscope.passes.strategies import (
    StrategyError,
    evaluate_strategy,
    is_conv_fc,
    nonconv_on,
    with_nonconv_on,
)
from accelscope.workload.execute import gconv_fast
from accelscope.workload.gconv import GConv
from tests.unit.test_nonconv_on_array import _array, _net

EVAL = get_model("scnn").evaluate


@pytest.mark.parametrize("arch", ["scnn", "dcnn", "dcnn-opt"])
def test_every_nonconv_gconv_runs_on_the_array_and_passes_the_kit(arch):
    _, ws = _net()
    spec = _array(arch)
    assert nonconv_on(spec) == "array" and nonconv_on(load_arch(arch)) == "ppu"
    assert check_model("scnn", spec, ws) == []
    on_array = 0
    for w in ws:
        if is_conv_fc(w.gconv):  # unchanged by the switch (test_strategies_...)
            continue
        r = EVAL(w, spec)
        assert r.macs == w.gconv.macs and r.macs_issued >= r.macs_useful
        if _full_map_product(w):
            # two full maps multiplied: no weight to broadcast, the PPU does it, said so
            assert r.details["unit"] == "ppu (no array form)"
            assert any("no GConv form" in x for x in r.warnings)
            continue
        on_array += 1
        assert r.details["unit"] == "array", w.gconv.name
        assert r.details["path"] == "conv (PT-IS-CP)"
        assert r.details["multiplier_steps"] > 0
        if w.gconv.map_op != "mul":
            assert r.energy_pj["multiplier"] == 0.0  # a unit weight bypasses the multiplier
    assert on_array >= 10


@pytest.mark.parametrize("kind", ["eltwise-add", "eltwise-mul", "avgpool", "global-avgpool",
                                  "pointwise", "upsample", "channel-sum"])
@pytest.mark.parametrize("arch", ["scnn", "dcnn"])
def test_the_pt_is_cp_schedule_of_the_form_computes_the_layer(kind, arch):
    """The PT-IS-CP schedule, executed numerically on the array form (compressed streams,
    scatter into the accumulator regions, halos added), gives the original GConv's output
    wherever the accumulator sums; its step and conflict counts are the model's."""
    _, ws = _net()
    spec = load_arch(arch)
    spec = spec.model_copy(update={"scnn": spec.scnn.model_copy(
        update={"conflict_exact_max_steps": 10**7})})
    found = [w for w in ws if w.gconv.kind == kind and not _full_map_product(w)]
    assert found, f"tiny-allops has no {kind}"
    for w in found:
        g = w.gconv
        if g.reduce_op == "mean" and tuple(g.mean_pad) != tuple(g.padding):
            continue
        form, _ = array_form(w)
        assert route(form.gconv, per_channel=True) == "conv"
        y, stats = execute_schedule(form.gconv, form.input, form.operand, spec)
        plain = g.__class__(**{**g.__dict__, "post_ops": ()})
        ref = gconv_fast(plain, w.input, w.operand)
        assert torch.allclose(y.float().reshape(ref.shape), ref, atol=1e-4, rtol=1e-4), g.name
        r = EVAL(w, with_nonconv_on(spec, "array"))
        assert stats["steps"] == r.details["multiplier_steps"]
        if spec.scnn.scatter_crossbar:  # DCNN's fixed routing has no conflicts to count
            assert stats["stall"] == r.details["bank_conflict_cycles"]
        assert stats["products"] == r.macs_issued


def _maxpool(x: torch.Tensor, R=3, stride=2, pad=1) -> LayerWorkload:
    N, G, H, W = x.shape
    P = (H + 2 * pad - R) // stride + 1
    g = GConv(name="mp", N=N, G=G, K=1, C=1, H=H, W=W, P=P, Q=P, R=R, S=R, input="x",
              output="y", map_op="pass", reduce_op="max", stride=(stride, stride),
              padding=(pad,) * 4, pad_value=float("-inf"))
    return LayerWorkload(gconv=g, network="t", input=x)


def test_max_pool_skips_zeros_only_when_the_input_is_non_negative():
    torch.manual_seed(0)
    x = torch.relu(torch.randn(1, 8, 16, 16))        # about half zeros, none negative
    spec = _array("scnn")
    r = EVAL(_maxpool(x), spec)
    assert "non-negative input" in r.details["array_form"]["how"]
    dense = EVAL(_maxpool(x), _array("dcnn"))
    assert r.macs_issued < 0.7 * dense.macs_issued    # the zeros were skipped
    # one negative value: a skipped zero could be a window's maximum, so every element is an
    # entry and SCNN issues what the dense twin does
    xn = x.clone()
    xn[0, 0, 0, 0] = -1.0
    rn = EVAL(_maxpool(xn), spec)
    assert "zeros stored as entries" in rn.details["array_form"]["how"]
    assert rn.macs_issued == dense.macs_issued
    # statistical mode says what it assumed
    rs = EVAL(LayerWorkload(gconv=_maxpool(x).gconv, network="t", input_density=0.5), spec)
    assert "taken as non-negative" in rs.details["array_form"]["how"]


def test_strategies_set_array_and_ppu_on_scnn():
    chain, ws = _net()
    cache: dict = {}
    on = evaluate_strategy(ws, "scnn", "gconv", chain=chain, cache=cache)
    ded = evaluate_strategy(ws, "scnn", "dedicated", chain=chain, cache=cache)
    assert "array" in on.provenance["strategy.nonconv_on"]
    assert "ppu" in ded.provenance["strategy.nonconv_on"]
    assert not any("no dedicated-unit switch" in x for x in ded.warnings)
    assert on.macs == ded.macs == sum(w.gconv.macs for w in ws)
    for w, a, b in zip(ws, on.layers, ded.layers, strict=True):
        if is_conv_fc(w.gconv):
            assert a.to_dict() == b.to_dict()
        elif not _full_map_product(w):
            assert a.details["unit"] == "array" and "unit" not in b.details
    with pytest.raises(StrategyError, match="'array' or 'ppu'"):
        with_nonconv_on(load_arch("scnn"), "vector")
    assert nonconv_on(with_nonconv_on(load_arch("spots"), "dedicated")) == "vector"
