"""Eyeriss: row-stationary mapping, counts on hand-worked layers, legality, RLC, gating,
conformance."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelscope
from accelscope.arch import load_arch
from accelscope.errors import AccelscopeError
from accelscope.models.conformance import check_model
from accelscope.models.contract import LayerWorkload, UnsupportedLayerError
from accelscope.models.registry import get_model
from accelscope.pipeline import build_workloads
from accelscope.sparsity.formats import EyerissRLC
from accelscope.workload.gconv import GConv

EV = get_model("eyeriss").evaluate


@pytest.fixture(scope="module")
def spec():
    return load_arch("eyeriss")


def _conv(N=1, G=1, K=1, C=1, H=6, W=6, R=3, S=3, stride=1, pad=0, name="c") -> GConv:
    P = (H + 2 * pad - R) // stride + 1
    Q = (W + 2 * pad - S) // stride + 1
    return GConv(name=name, N=N, G=G, K=K, C=C, H=H, W=W, P=P, Q=Q, R=R, S=S, input="x",
                 output="y", operand="w", operand_kind="weight", stride=(stride, stride),
                 padding=(pad, pad, pad, pad))


def _stat(g: GConv, density=1.0) -> LayerWorkload:
    return LayerWorkload(gconv=g, network="t", mode="statistical", input_density=density,
                         output_density=density)


@pytest.fixture(scope="module")
def alexnet():
    zm = accelscope.zoo.get("alexnet-caffe", batch=4)
    return accelscope.lower(zm)


@pytest.mark.parametrize("layer,pes,shape", [
    ("features_0", 154, dict(e=7, t=2, r=1, segs=1)),   # 11 x 7, two sets side by side
    ("features_4", 135, dict(e=27, t=1, r=1, segs=2)),  # 5 x 27 as 5 x 14 + 5 x 13
    ("features_8", 156, dict(e=13, segs=1)),            # 3 x 13, four sets
    ("features_10", 156, dict(e=13, segs=1)),
    ("features_12", 156, dict(e=13, segs=1)),
])
def test_alexnet_active_pes_and_passes(alexnet, spec, layer, pes, shape):
    g = alexnet.node(layer)
    r = EV(_stat(g, 0.5), spec)
    m = r.details["mapping"]
    assert r.details["active_pes"] == pes == m["r"] * m["t"] * m["gs"] * g.R * m["e"]
    for k, v in shape.items():
        assert m[k] == v, (k, m)
    if layer in ("features_8", "features_10", "features_12"):
        assert m["r"] * m["t"] == 4
    # passes: strips x filter groups x channel groups x image chunks x group chunks
    want = (math.ceil(g.P / m["e"]) * math.ceil(g.K / (m["p"] * m["t"]))
            * math.ceil(g.C / (m["q"] * m["r"])) * math.ceil(g.N / m["n"])
            * math.ceil(g.G / m["gs"]))
    assert m["passes"] == want
    assert r.details["processing_cycles"] == m["passes"] * m["pass_cycles"]


def test_single_pass_by_hand(spec):
    # 3x3 filter on a 6x6 map, one channel, one filter, one image: the only mapping is one
    # 3 x 4 PE set, p = q = 1, one pass.
    r = EV(_stat(_conv()), spec)
    m = r.details["mapping"]
    assert (m["e"], m["p"], m["q"], m["r"], m["t"], m["n"], m["passes"]) == (4, 1, 1, 1, 1,
                                                                           1, 1)
    compute = 1 * 1 * 1 * 3 * 4  # n p q S F: each PE slides a 3-tap row over 4 outputs
    ifmap_bus = 6 * 6  # the 6 input rows of 6 pixels, one word per cycle on the 16-b bus
    psum_bus = math.ceil(1 * 1 * 4 * 4 / 4)  # 16 outputs at 4 words/cycle
    ramp = (math.ceil(9 / 4)  # the 9 weights over the 64-bit filter bus
            + 6 * 3  # first 3-wide window of each of the 6 input rows
            + 3  # pipeline depth
            + 3)  # R-deep vertical accumulation
    assert m["compute_cycles_per_pass"] == compute
    assert m["bound"] == "ifmap_bus"
    assert m["pass_cycles"] == max(compute, ifmap_bus, psum_bus) + ramp == 63
    assert r.details["processing_cycles"] == 63
    assert r.macs == 144 and r.details["active_pes"] == 12


def test_strip_mining_only_when_needed(spec):
    # R x E = 3 x 10 fits: the set spans all 10 output rows
    r = EV(_stat(_conv(H=12, W=12)), spec)
    assert r.details["mapping"]["e"] == 10 and r.details["mapping"]["strips"] == 1
    # 11 x 55 does not (four segments of 11 rows): strips of fewer rows
    big = _conv(C=3, K=8, H=227, W=227, R=11, S=11, stride=4)
    m = EV(_stat(big), spec).details["mapping"]
    assert m["e"] < 55 and m["strips"] == math.ceil(55 / m["e"]) and m["segs"] == 1
    searched = spec.model_copy(update={"eyeriss": spec.eyeriss.model_copy(
        update={"strip_mining": "search"})})
    r2 = EV(_stat(_conv(H=12, W=12)), searched)
    assert r2.details["mapping"]["cost"] <= r.details["mapping"]["cost"]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(N=st.integers(1, 4), C=st.integers(1, 64), K=st.integers(1, 96),
       HW=st.integers(3, 40), R=st.integers(1, 7), stride=st.integers(1, 3),
       pad=st.integers(0, 2), G=st.sampled_from([1, 2]))
def test_mapping_is_always_legal(N, C, K, HW, R, stride, pad, G):
    spec = load_arch("eyeriss")
    if HW + 2 * pad < R:
        return
    g = _conv(N=N, G=G, K=K, C=C, H=HW, W=HW, R=R, S=R, stride=stride, pad=pad)
    ep = spec.eyeriss
    m = EV(_stat(g, 0.6), spec).details["mapping"]
    rows, cols = spec.compute.array
    assert m["q"] * g.S <= ep.ifmap_spad_words
    assert m["p"] * m["q"] * g.S <= ep.filter_spad_words
    assert m["p"] <= ep.psum_spad_words
    assert m["p"] * m["t"] * m["q"] * m["r"] * m["gs"] * g.R * g.S * 2 <= ep.glb_filter_bytes
    assert m["glb_ifmap_banks"] + m["glb_psum_banks"] <= spec.fmap_banks
    assert g.R * m["segs"] <= rows and math.ceil(m["e"] / m["segs"]) <= cols
    assert m["active_pes"] <= rows * cols
    assert m["m"] % (m["p"] * m["t"]) == 0


def test_rlc_sizes_are_the_encoders(spec):
    torch.manual_seed(0)
    g = _conv(N=2, C=4, K=6, H=10, W=10, pad=1)
    x = torch.relu(torch.randn(2, 4, 10, 10))
    w = torch.randn(6, 4, 3, 3)
    y = torch.relu(torch.nn.functional.conv2d(x, w, padding=1))
    lw = LayerWorkload(gconv=g, network="t", input=x, operand=w, output=y,
                       params={"w": w}, input_density=float((x != 0).float().mean()),
                       operand_density=1.0, output_density=float((y != 0).float().mean()))
    r = EV(lw, spec)
    rlc = EyerissRLC()
    out_bits = sum(rlc.encode(y[i].reshape(-1).numpy()).size_bits for i in range(2))
    dram_out = next(a for a in r.accesses if a.level == "dram" and a.tensor == "output")
    assert dram_out.write_bits == out_bits
    in_bits = sum(rlc.encode(x[i].reshape(-1).numpy()).size_bits for i in range(2))
    assert r.details["rlc_ratio_input"] == pytest.approx(in_bits / (x.numel() * 16))
    # the network input is sent uncoded
    first = dataclasses.replace(lw, input_is_network_input=True)
    assert EV(first, spec).details["rlc_ratio_input"] == 1.0


def test_zero_gating_saves_energy_not_cycles(spec):
    torch.manual_seed(1)
    g = _conv(C=8, K=8, H=12, W=12, pad=1)
    x = torch.relu(torch.randn(1, 8, 12, 12))
    w = torch.randn(8, 8, 3, 3)
    lw = LayerWorkload(gconv=g, network="t", input=x, operand=w, params={"w": w},
                       output=torch.nn.functional.conv2d(x, w, padding=1))
    on = EV(lw, spec)
    off_spec = spec.model_copy(update={"eyeriss": spec.eyeriss.model_copy(
        update={"zero_gating": False})})
    off = EV(lw, off_spec)
    # MACs whose input is zero (padding included), counted directly
    xp = torch.nn.functional.pad(x, (1, 1, 1, 1))
    cols = torch.nn.functional.unfold(xp, 3)  # (1, C*9, P*Q)
    zero_macs = int((cols == 0).sum()) * 8
    assert on.macs_gated == zero_macs and off.macs_gated == 0
    assert on.cycles == off.cycles
    assert on.energy_pj["compute"] < off.energy_pj["compute"]
    assert on.energy_pj["compute"] == pytest.approx(
        off.energy_pj["compute"] * (1 - zero_macs / g.macs))


def test_conformance_on_the_allops_net(spec):
    zm = accelscope.zoo.get("tiny-allops")
    chain = accelscope.lower(zm)
    works = build_workloads(chain, zm.example_input())
    assert check_model("eyeriss", spec, works) == []
    stat = build_workloads(chain, zm.example_input(), mode="statistical")
    assert check_model("eyeriss", spec, stat) == []


def test_a_foreign_spec_is_refused(spec):
    with pytest.raises(UnsupportedLayerError, match="not an Eyeriss spec"):
        EV(_stat(_conv()), load_arch("ideal"))


def test_transposed_convolution_reads_only_real_inputs(spec):
    # 2x zero insertion on a 6x6 map (11x11), padded by 1 (13x13), 3x3 window: 11x11 out
    torch.manual_seed(3)
    g = dataclasses.replace(_conv(C=2, K=3, H=6, W=6, pad=1), input_dilation=(2, 2), P=11,
                            Q=11)
    x = torch.relu(torch.randn(1, 2, 6, 6)) + 0.1  # no real zero
    w = torch.randn(3, 2, 3, 3)
    lw = LayerWorkload(gconv=g, network="t", input=x, operand=w, params={"w": w},
                       output=torch.zeros(1, 3, 11, 11))
    r = EV(lw, spec)
    dram_in = next(a for a in r.accesses if a.level == "dram" and a.tensor == "input")
    # one strip, read once: the 72 real values, RLC coded (no inserted zero, no padding)
    assert dram_in.read_bits == EyerissRLC().encode(x.reshape(-1).numpy()).size_bits
    z = torch.zeros(1, 2, 11, 11)
    z[:, :, ::2, ::2] = x
    cols = torch.nn.functional.unfold(torch.nn.functional.pad(z, (1, 1, 1, 1)), 3)
    assert r.macs_gated == int((cols == 0).sum()) * 3  # inserted zeros and padding gated


def test_dilated_windows_use_the_span(spec):
    # a 3x3 filter dilated by 2 spans 5x5: the ifmap spad holds q windows of 5, the strip
    # reads 5 input rows per output row
    g = dataclasses.replace(_conv(C=4, K=8, H=20, W=20), dilation=(2, 2), P=16, Q=16)
    r = EV(_stat(g), spec)
    m = r.details["mapping"]
    assert m["q"] * 5 <= spec.eyeriss.ifmap_spad_words and r.macs == g.macs
    plain = EV(_stat(_conv(C=4, K=8, H=18, W=18)), spec)  # same P, Q, undilated
    assert r.details["processing_cycles"] >= plain.details["processing_cycles"]
    # dilation 6 on a 3-tap row spans 13 > 12 words: split into column chunks
    wide = dataclasses.replace(_conv(C=2, K=2, H=20, W=20), dilation=(1, 6), P=18, Q=8)
    assert EV(_stat(wide), spec).details["filter_row_chunks"] == 2


def test_tall_filters_run_in_row_chunks(spec):
    r = EV(_stat(_conv(C=2, K=2, H=15, W=15, R=13, S=3)), spec)  # 13 rows > 12
    assert r.details["filter_row_chunks"] == 2
    assert any("row/column chunks" in w for w in r.warnings)
    r = EV(_stat(_conv(C=2, K=2, H=15, W=15, R=13, S=13)), spec)  # and 13 columns > 12
    assert r.details["filter_row_chunks"] == 4 and r.macs == 2 * 2 * 3 * 3 * 13 * 13


def test_spec_rules_are_checked(tmp_path):
    from pathlib import Path

    text = (Path(accelscope.__file__).parent / "arch" / "presets" / "eyeriss.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("size_bytes: 87360", "size_bytes: 90000"))
    with pytest.raises(AccelscopeError, match="spads"):
        load_arch(str(bad))
    bad.write_text(text.replace("objective: energy", "objective: speed"))
    with pytest.raises(AccelscopeError, match="objective"):
        load_arch(str(bad))


def test_energy_components_and_static_power(spec):
    r = EV(_stat(_conv(C=16, K=16, H=28, W=28, pad=1), 0.5), spec)
    assert set(r.energy_pj) == {"compute", "spad", "array", "glb", "dram", "static"}
    assert r.energy_pj["static"] == pytest.approx(0.030 * r.seconds * 1e12)
    assert r.details["power_w"] == pytest.approx(r.total_energy_pj * 1e-12 / r.seconds)
    assert "energy.static" in r.provenance and "mapping" in r.provenance


def test_delay_objective_is_never_slower(spec, alexnet):
    fast = spec.model_copy(update={"eyeriss": spec.eyeriss.model_copy(
        update={"objective": "delay"})})
    for name in ("features_0", "features_4", "features_8"):
        w = _stat(alexnet.node(name), 0.5)
        a, b = EV(w, spec), EV(w, fast)
        assert b.details["processing_cycles"] <= a.details["processing_cycles"]
        assert b.details["mapping"]["cost"] <= a.details["processing_cycles"]


def test_candidates_cover_the_papers_mappings(spec, alexnet):
    """The search space holds the mappings of the paper's text (CONV1 11x7 sets, t = 2;
    CONV3 t = 4; CONV4/5 r = t = 2) with p <= 24, q*S <= 12."""
    from accelscope.models.eyeriss import model as ey

    for name, want in (("features_0", dict(e=7, t=2, r=1)), ("features_8", dict(t=4, r=1)),
                       ("features_10", dict(t=2, r=2)), ("features_12", dict(t=2, r=2))):
        g = alexnet.node(name)
        c = ey._candidates(g, spec, True, 1)
        sel = np.ones(len(c["e"]), bool)
        for k, v in want.items():
            sel &= c[k] == v
        assert sel.any(), name


@pytest.mark.parametrize("mode", ["reflect", "replicate"])
def test_padding_modes_are_generated_and_gated_by_value(spec, mode):
    torch.manual_seed(2)
    g = dataclasses.replace(_conv(C=3, K=4, H=10, W=10, pad=1), pad_mode=mode)
    x = torch.relu(torch.randn(1, 3, 10, 10))
    w = torch.randn(4, 3, 3, 3)
    lw = LayerWorkload(gconv=g, network="t", input=x, operand=w, params={"w": w},
                       output=torch.zeros(1, 4, 10, 10))
    r = EV(lw, spec)
    cols = torch.nn.functional.unfold(torch.nn.functional.pad(x, (1, 1, 1, 1), mode=mode), 3)
    assert r.macs_gated == int((cols == 0).sum()) * 4
    dram_in = next(a for a in r.accesses if a.level == "dram" and a.tensor == "input")
    zero = EV(dataclasses.replace(lw, gconv=dataclasses.replace(g, pad_mode="zeros")), spec)
    assert dram_in.read_bits == next(a for a in zero.accesses if a.level == "dram"
                                     and a.tensor == "input").read_bits
