"""SCNN / DCNN / DCNN-opt: hand-checked counts on one PE, compressed sizes against the real
encoder, the executed PT-IS-CP schedule against the executor, exact vs sampled bank
conflicts, actual vs statistical mode, the FC mapping, the sweep and conformance."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import pytest
import torch

import accelscope
from accelscope.arch import ArchError, load_arch
from accelscope.models.conformance import check_model
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.models.scnn import core
from accelscope.models.scnn.model import area_mm2, execute_schedule, route
from accelscope.pipeline import build_workloads, evaluate_network
from accelscope.sparsity import expected_ceil_div, get_format
from accelscope.workload.execute import run_gconv
from accelscope.workload.gconv import GConv

EVAL = get_model("scnn").evaluate


def conv(H, W, C, K, R, stride=1, pad=0, G=1, dil=1, in_dil=1, N=1, P=None, Q=None):
    span = dil * (R - 1) + 1
    hh, ww = (H - 1) * in_dil + 1, (W - 1) * in_dil + 1
    P = P if P is not None else (hh + 2 * pad - span) // stride + 1
    Q = Q if Q is not None else (ww + 2 * pad - span) // stride + 1
    return GConv(name="c", N=N, G=G, K=K, C=C, H=H, W=W, P=P, Q=Q, R=R, S=R, input="x",
                 output="y", operand="w", operand_kind="weight", stride=(stride, stride),
                 padding=(pad,) * 4, dilation=(dil, dil), input_dilation=(in_dil, in_dil))


def spec_with(name="scnn", pes=(8, 8), **scnn):
    """A preset resized to ``pes`` PEs (per-PE resources unchanged) with scnn overrides."""
    d = load_arch(name).model_dump()
    n = pes[0] * pes[1]
    d["name"] = f"{name}-test"
    d["compute"].update(array=list(pes), macs_per_cycle=n * d["compute"]["macs_per_pe"])
    for m in d["memory"]:
        for k in ("size_bytes", "read_bw_bits_per_cycle", "write_bw_bits_per_cycle"):
            m[k] = m[k] // m["banks"] * n
        m["banks"] = n
    d["scnn"].update(scnn)
    return load_arch(d)


def workload(g, x, w, mode="actual"):
    y = run_gconv(g, x, {"w": w}).relu()
    dens = {"input_density": float((x != 0).float().mean()),
            "operand_density": float((w != 0).float().mean()),
            "output_density": float((y != 0).float().mean())}
    if mode == "statistical":
        return LayerWorkload(gconv=g, network="t", mode="statistical", params={"w": w}, **dens)
    return LayerWorkload(gconv=g, network="t", input=x, operand=w, output=y, params={"w": w},
                         **dens)


def random_layer(g, dx, dw, seed=0):
    gen = torch.Generator().manual_seed(seed)
    xs, ws = (g.N, g.G * g.C, g.H, g.W), (g.G * g.K, g.C, g.R, g.S)
    x = torch.rand(xs, generator=gen) * (torch.rand(xs, generator=gen) < dx)
    w = torch.randn(ws, generator=gen) * (torch.rand(ws, generator=gen) < dw)
    return x, w


# -- hand-checked: one PE, known non-zero patterns ------------------------------------------------
def test_one_pe_counts_by_hand():
    spec = spec_with(pes=(1, 1), inter_layer="on_chip")
    g = conv(3, 3, 2, 8, 1)                         # 1x1 conv, 3x3 plane, one output group
    x = torch.zeros(1, 2, 3, 3)
    for h, w in [(0, 0), (0, 1), (1, 1), (2, 0), (2, 2)]:
        x[0, 0, h, w] = 1.0 + h + w                 # channel 0: 5 non-zeros -> vectors 4 + 1
    for h, w in [(0, 0), (1, 0), (2, 2)]:
        x[0, 1, h, w] = 2.0                         # channel 1: 3 non-zeros -> one vector of 3
    wt = torch.zeros(8, 2, 1, 1)
    wt[0:6, 0] = 1.5                                # channel 0: k = 0..5 -> vectors 4 + 2
    wt[[0, 4], 1] = -1.0                            # channel 1: k = 0, 4 -> one vector of 2
    r = EVAL(workload(g, x, wt), spec)
    # steps: channel 0 ceil(5/4) * ceil(6/4) = 4, channel 1 ceil(3/4) * ceil(2/4) = 1
    assert r.details["multiplier_steps"] == 5
    assert r.macs_issued == 5 * 6 + 3 * 2 == 36
    assert r.details["idle_multiplier_slots"] == 5 * 16 - 36
    # bank = k%4 + 4(q&1) + 8(p&1) + 16((k>>2 ^ p>>1 ^ q>>1) & 1): channel 0's four steps
    # hit distinct banks; in channel 1, (0,0) and (2,2) share every bank (k = 0 -> bank 0,
    # k = 4 -> bank 16): that step takes 2 cycles
    assert r.details["bank_conflict_cycles"] == 1
    assert r.details["kc"] == 8 and r.details["output_groups"] == 1
    # cycles: 6 busy + 3 pipeline + PPU drain of 9 outputs x 8 channels at 4 per cycle
    assert r.cycles == 6 + 3 + 18
    assert r.macs_useful == int(((x != 0).float().sum((2, 3))[0] @ (wt[:, :, 0, 0] != 0).float().T)
                                .sum())
    y, stats = execute_schedule(g, x, wt, spec)
    assert stats == {"steps": 5, "stall": 1, "products": 36, "halo_psums": 0}
    assert torch.allclose(y.float(), torch.nn.functional.conv2d(x, wt), atol=1e-6)


def test_bank_hash_is_dnnsims_for_f4_a32():
    k, p, q = (torch.arange(64)[:, None, None], torch.arange(8)[None, :, None],
               torch.arange(8)[None, None, :])
    dnnsim = ((((k & 4) << 2) ^ ((p & 2) << 3) ^ ((q & 2) << 3)) + ((p & 1) << 3)
              + ((q & 1) << 2) + (k & 3)) % 32
    assert torch.equal(core.bank_of(k, p, q, 4, 32), dnnsim)


def test_dense_output_channel_fastest_steps_are_conflict_free():
    # 16 products of 4 consecutive output channels x 4 consecutive columns: 16 banks
    g = conv(8, 8, 3, 16, 3, pad=1)
    x, w = random_layer(g, 1.0, 1.0)
    r = EVAL(workload(g, x, w), spec_with(conflict_exact_max_steps=10**7))
    assert r.details["bank_conflicts"]["mode"] == "exact"
    assert r.details["bank_conflict_cycles"] == 0


# -- compressed sizes are the real encoder's -------------------------------------------------------
def test_compressed_sizes_equal_the_encoder():
    zrl = get_format("zrl")
    g = conv(19, 13, 3, 10, 3, pad=1)
    x, w = random_layer(g, 0.15, 0.3, seed=3)          # sparse: placeholders appear
    spec = spec_with()
    r = EVAL(workload(g, x, w), spec)
    t = core.plan(g, 8, 8, 1024)
    want_in = 0
    for tr in range(t.rows.tiles):
        for tc in range(t.cols.tiles):
            tile = x[0, :, t.rows.in_lo[tr]:t.rows.in_hi[tr], t.cols.in_lo[tc]:t.cols.in_hi[tc]]
            for c in range(g.C):
                want_in += zrl.encode(tile[c].reshape(-1).numpy()).size_bits
    assert r.details["compressed_bits"]["input"] == want_in
    want_w = 0
    for k0 in range(0, g.K, t.kc):
        for c in range(g.C):  # block Kc x R x S, taps slowest, output channel fastest
            block = w[k0:k0 + t.kc, c].permute(1, 2, 0).reshape(-1)
            want_w += zrl.encode(block.numpy()).size_bits
    assert r.details["compressed_bits"]["weight"] == want_w
    y = run_gconv(g, x, {"w": w}).relu()
    want_out = 0
    own_r, own_c = t.rows, t.cols
    for tr in range(own_r.tiles):
        for tc in range(own_c.tiles):
            o = y[0, :, own_r.own_lo[tr]:own_r.own_hi[tr], own_c.own_lo[tc]:own_c.own_hi[tc]]
            for k in range(g.K):
                want_out += zrl.encode(o[k].reshape(-1).numpy()).size_bits
    assert r.details["compressed_bits"]["output"] == want_out


def test_entry_positions_are_the_encoders():
    gen = torch.Generator().manual_seed(1)
    m = (torch.rand(40, 90, generator=gen) < 0.07).numpy()
    ptr, col, is_value = core.zrl_entries(m)
    zrl = get_format("zrl")
    assert np.array_equal(np.diff(ptr), zrl.row_sizes_bits(m) // 20)
    for i in range(m.shape[0]):
        enc = zrl.encode(m[i].astype(np.float32))
        pos = np.cumsum(enc.arrays["runs"] + 1) - 1
        assert np.array_equal(col[ptr[i]:ptr[i + 1]], pos)
        assert np.array_equal(is_value[ptr[i]:ptr[i + 1]], enc.arrays["values"] != 0)


# -- the schedule, executed ----------------------------------------------------------------------
@pytest.mark.parametrize("shape", [
    dict(H=12, W=12, C=3, K=8, R=3, pad=1),
    dict(H=16, W=16, C=4, K=20, R=3, stride=2, pad=1),         # stride phases
    dict(H=11, W=13, C=2, K=6, R=5, stride=2, pad=2),
    dict(H=9, W=9, C=2, K=3, R=3, pad=2, dil=2),               # dilation
    dict(H=10, W=10, C=2, K=3, R=3, pad=1, G=2),               # groups
    dict(H=6, W=6, C=3, K=4, R=2, pad=1, in_dil=2),            # transposed (zero insertion)
    dict(H=8, W=8, C=2, K=3, R=3, pad=1, N=2),                 # a batch of two
])
def test_executed_schedule_equals_the_executor_and_the_model(shape):
    g = conv(**shape)
    x, w = random_layer(g, 0.5, 0.4, seed=sum(shape.values()))
    spec = spec_with(conflict_exact_max_steps=10**7)
    y, stats = execute_schedule(g, x, w, spec)
    assert torch.allclose(y.float(), run_gconv(g, x, {"w": w}), atol=1e-5)
    r = EVAL(workload(g, x, w), spec)
    assert r.details["bank_conflicts"]["mode"] == "exact"
    assert stats["steps"] == r.details["multiplier_steps"]
    assert stats["stall"] == r.details["bank_conflict_cycles"]
    assert stats["products"] == r.macs_issued
    assert stats["halo_psums"] == r.details["halo_psums"]


def test_dense_schedule_multiplies_every_element():
    g = conv(10, 10, 3, 5, 3, pad=1)
    x, w = random_layer(g, 0.5, 0.5, seed=7)
    dcnn = spec_with("dcnn")
    y, stats = execute_schedule(g, x, w, dcnn)
    assert torch.allclose(y.float(), run_gconv(g, x, {"w": w}), atol=1e-5)
    r = EVAL(workload(g, x, w), dcnn)
    assert stats["products"] == r.macs_issued == 3 * 100 * 5 * 9  # every pixel x every tap
    assert r.details["bank_conflict_cycles"] == 0 and r.macs_gated == 0
    opt = EVAL(workload(g, x, w), spec_with("dcnn-opt"))
    assert opt.cycles == r.cycles and opt.macs_issued == r.macs_issued
    sparse = EVAL(workload(g, x, w), spec_with())
    assert opt.macs_gated == r.macs_issued - sparse.macs_issued  # zero x anything is gated
    assert opt.energy_pj["multiplier"] < r.energy_pj["multiplier"]


# -- approximations against their exact counterparts -----------------------------------------------
@pytest.mark.parametrize(("shape", "dx", "dw"), [
    (dict(H=28, W=28, C=16, K=32, R=3, pad=1), 0.5, 0.35),
    (dict(H=14, W=14, C=32, K=48, R=3, pad=1), 0.3, 0.3),
])
def test_sampled_bank_conflicts_match_exact(shape, dx, dw):
    g = conv(**shape)
    x, w = random_layer(g, dx, dw, seed=11)
    exact = EVAL(workload(g, x, w), spec_with(conflict_exact_max_steps=10**8))
    sampled = EVAL(workload(g, x, w), spec_with(conflict_exact_max_steps=0))
    assert exact.details["bank_conflicts"]["mode"] == "exact"
    assert sampled.details["bank_conflicts"]["mode"] == "sampled"
    e, s = exact.details["bank_conflict_cycles"], sampled.details["bank_conflict_cycles"]
    assert e > 0 and abs(s - e) / e < 0.06
    assert abs(sampled.cycles - exact.cycles) / exact.cycles < 0.03


def test_statistical_mode_agrees_with_actual_on_average():
    spec = spec_with()
    errs = []
    for i, (shape, dx, dw) in enumerate([
            (dict(H=28, W=28, C=16, K=32, R=3, pad=1), 0.5, 0.35),
            (dict(H=14, W=14, C=32, K=32, R=3, pad=1), 0.3, 0.4),
            (dict(H=28, W=28, C=16, K=16, R=5, pad=2), 0.5, 0.5),
            (dict(H=14, W=14, C=32, K=32, R=3, pad=1), 0.1, 0.1),
            (dict(H=20, W=20, C=16, K=24, R=1), 0.4, 0.3)]):
        g = conv(**shape)
        x, w = random_layer(g, dx, dw, seed=20 + i)
        act = EVAL(workload(g, x, w), spec)
        stat = EVAL(workload(g, x, w, "statistical"), spec)
        assert stat.warnings and "statistical" in stat.warnings[0]
        err = stat.cycles / act.cycles - 1
        assert abs(err) < 0.06, (shape, err)
        assert abs(stat.details["multiplier_steps"] / act.details["multiplier_steps"] - 1) < 0.02
        errs.append(err)
    assert abs(float(np.mean(errs))) < 0.03


def test_statistical_vector_counts_are_expected_ceil_div():
    n = np.array([0, 1, 7, 49, 100])
    fills = core.binomial_fill_classes(n, 0.3, 4)
    for ni, f in zip(n, fills, strict=True):
        assert f.sum() == pytest.approx(expected_ceil_div(int(ni), 0.3, 4), abs=1e-9)


# -- FC, PPU, routing ------------------------------------------------------------------------------
def test_fc_runs_at_a_quarter_of_peak_when_dense():
    g = GConv(name="fc", N=1, G=1, K=512, C=256, H=1, W=1, P=1, Q=1, R=1, S=1, input="x",
              output="y", operand="w", operand_kind="weight")
    assert route(g) == "fc"
    x, w = random_layer(g, 1.0, 1.0)
    r = EVAL(workload(g, x, w), spec_with(inter_layer="on_chip"))
    util = r.details["multiplier_utilization_compute"]  # without streaming the weights
    assert 0.22 < util <= 0.25
    assert r.stall_cycles["dram_bandwidth"] > 0            # batch 1: weight bandwidth bound
    assert r.details["idle_multiplier_slots"] == r.details["multiplier_steps"] * 16 - r.macs_issued
    g = GConv(name="fc", N=1, G=1, K=2048, C=64, H=1, W=1, P=1, Q=1, R=1, S=1, input="x",
              output="y", operand="w", operand_kind="weight")
    xs, ws = random_layer(g, 0.5, 0.3)
    sparse = EVAL(workload(g, xs, ws), spec_with(inter_layer="on_chip"))
    assert sparse.macs_issued >= sparse.macs_useful
    # brute force: PE p owns output channels 32p..32p+31; every non-zero activation c meets
    # the entries of the PE's column-c weight stream (non-zeros and, after 16 zeros, a
    # placeholder) four at a time; products go to bank(k, 0, 0)
    want_steps = want_stall = 0
    zrl = get_format("zrl")
    for pe in range(64):
        for c in range(64):
            if xs[0, c, 0, 0] == 0:
                continue
            enc = zrl.encode(ws[pe * 32:(pe + 1) * 32, c, 0, 0].numpy())
            ks = list(np.cumsum(enc.arrays["runs"] + 1) - 1)
            for v in range(0, len(ks), 4):
                kv = torch.tensor(ks[v:v + 4])
                banks = core.bank_of(kv, torch.zeros_like(kv), torch.zeros_like(kv), 4, 32)
                want_steps += 1
                want_stall += int(torch.bincount(banks).max()) - 1
    assert sparse.details["multiplier_steps"] == want_steps
    assert sparse.details["bank_conflicts"]["mode"] == "exact"
    assert sparse.details["bank_conflict_cycles"] == want_stall > 0
    sampled = EVAL(workload(g, xs, ws), spec_with(inter_layer="on_chip",
                                                  conflict_exact_max_steps=0))
    assert sampled.details["bank_conflicts"]["mode"] == "sampled"
    assert abs(sampled.details["bank_conflict_cycles"] / want_stall - 1) < 0.06


def test_routing_of_gconv_families():
    zm = accelscope.zoo.get("tiny-allops")
    kinds = {g.kind: route(g) for g in accelscope.lower(zm).gconvs}
    assert kinds["conv"] == kinds["grouped-conv"] == kinds["transposed-conv"] == "conv"
    assert kinds["fc"] == "fc"
    assert {kinds[k] for k in ("maxpool", "avgpool", "eltwise-add", "eltwise-mul",
                               "pointwise", "upsample", "global-avgpool")} == {"ppu"}


# -- conformance, spec rules, area, sweep ----------------------------------------------------------
@pytest.fixture(scope="module")
def allops():
    zm = accelscope.zoo.get("tiny-allops")
    chain = accelscope.lower(zm)
    return build_workloads(chain, zm.example_input()), build_workloads(chain,
                                                                       mode="statistical")


@pytest.mark.parametrize("preset", ["scnn", "dcnn", "dcnn-opt"])
def test_conformance(allops, preset):
    actual, statistical = allops
    spec = load_arch(preset)
    assert check_model("scnn", spec, actual) == []
    assert check_model("scnn", spec, statistical) == []


def test_reflect_padding_is_materialised(allops):
    """SCNN's tiles hold no implicit padding but zeros: a reflect-padded convolution runs on
    the padded map the producer writes out, and its PT-IS-CP schedule computes the layer."""
    actual, statistical = allops
    dw = next(w for w in actual if w.gconv.name == "dw")
    assert dw.gconv.pad_mode == "reflect"
    spec = load_arch("scnn")
    r = EVAL(dw, spec)
    assert any("reflect padding" in x and "materialised" in x for x in r.warnings)
    assert r.macs == dw.gconv.macs and "padding" in r.provenance
    from accelscope.models.scnn.model import _materialise_padding

    form = _materialise_padding(dw)
    assert form.gconv.padding == (0, 0, 0, 0) and form.gconv.P == dw.gconv.P
    y, stats = execute_schedule(form.gconv, form.input, dw.params[dw.gconv.operand], spec)
    ref = run_gconv(dataclasses.replace(dw.gconv, post_ops=()), dw.input, dw.params)
    assert torch.allclose(y.float(), ref, atol=1e-4)
    # the padded border is stored and read: more input traffic than the map itself
    plain = dataclasses.replace(dw, gconv=dataclasses.replace(dw.gconv, pad_mode="zeros"))
    rz = EVAL(plain, spec)
    assert r.level_bits("dram") > rz.level_bits("dram")
    s_dw = next(w for w in statistical if w.gconv.name == "dw")
    assert EVAL(s_dw, spec).macs == dw.gconv.macs


def test_spec_rules():
    d = load_arch("scnn").model_dump()
    d["scnn"]["weight_vector"] = 8
    with pytest.raises(ArchError, match="F x I"):
        load_arch(d)
    d = load_arch("scnn").model_dump()
    d["scnn"]["accumulator_banks"] = 24
    with pytest.raises(ArchError, match="powers of two"):
        load_arch(d)
    d = load_arch("scnn").model_dump()
    d["scnn"]["onchip_activation_format"] = "dense"
    with pytest.raises(ArchError, match="skip_zeros"):
        load_arch(d)


def test_area_model_reproduces_table_4():
    a = area_mm2(load_arch("scnn"))
    assert a["pe"] == pytest.approx(0.123, abs=5e-4)
    assert a["chip"] == pytest.approx(7.9, abs=0.05)
    assert a["pe.multipliers"] / a["pe"] == pytest.approx(0.065, abs=0.005)   # "6 %"
    mem = a["pe.activation_sram"] + a["pe.accumulators"] + a["pe.weight_fifo"]
    assert mem / a["pe"] == pytest.approx(0.57, abs=0.01)                    # "57 %"
    assert area_mm2(load_arch("dcnn"))["pe.scatter_crossbar"] == 0.0


def test_density_sweep_writes_a_table_and_a_plot(tmp_path):
    from accelscope.report.density_sweep import density_sweep

    df = density_sweep("tiny", ["scnn", "dcnn"], [0.2, 1.0], tmp_path)
    assert list(df["arch"]) == ["scnn", "dcnn", "scnn", "dcnn"]
    assert (df[df["arch"] == "dcnn"]["speedup"] == 1.0).all()
    fast = df[(df["arch"] == "scnn") & (df["density"] == 0.2)]["speedup"].iloc[0]
    dense = df[(df["arch"] == "scnn") & (df["density"] == 1.0)]["speedup"].iloc[0]
    assert fast > 2 * dense
    assert (tmp_path / "density_sweep.png").stat().st_size > 0
    assert (tmp_path / "density_sweep.csv").exists()


def test_scratchpad_is_the_tilings_accumulator_and_fifo_by_hand():
    # 8x8x2 input, three 3x3 filters, padding 1; dense DCNN on 2x2 PEs: 4x4 input tiles,
    # each reaching 5x5 outputs (region 25); Kc = min(1024 // 25, 3) = 3
    g = conv(8, 8, 2, 3, 3, pad=1)
    gen = torch.Generator().manual_seed(0)
    x = torch.rand(1, 2, 8, 8, generator=gen) + 0.1
    w = torch.rand(3, 2, 3, 3, generator=gen) + 0.1
    r = EVAL(workload(g, x, w), spec_with("dcnn", pes=(2, 2)))
    assert (r.details["accumulator_region"], r.details["kc"]) == (25, 3)
    # 4 PEs x 2 halves x 3 x 25 partial sums x 24 bits; FIFO: a block of Kc x 3 x 3 = 27
    # dense 16-bit weights (depth 200) in each of 4 PEs
    assert r.details["scratchpad"] == {"accumulator": 4 * 2 * 75 * 3,
                                       "weight_fifo": 4 * 27 * 2}
    assert r.scratchpad_bytes == 1800 + 216
    assert "IARAM / OARAM hold the feature maps" in r.provenance["scratchpad"]
    # 4x4 PEs: 2x2 tiles reaching at most 4 outputs per axis (region 16), 16 PEs
    r16 = EVAL(workload(g, x, w), spec_with("dcnn", pes=(4, 4)))
    assert r16.details["accumulator_region"] == 16
    assert r16.details["scratchpad"] == {"accumulator": 16 * 2 * 3 * 16 * 3,
                                         "weight_fifo": 16 * 27 * 2}
    # a FIFO shallower than the block holds its depth; single-buffered accumulators
    r = EVAL(workload(g, x, w), spec_with("dcnn", pes=(2, 2), weight_fifo_entries=5))
    assert r.details["scratchpad"]["weight_fifo"] == 4 * 20 * 2
    # SCNN's zero-run entries are 20 bits: dense weights make 27 entries per block
    r = EVAL(workload(g, x, w), spec_with("scnn", pes=(2, 2)))
    assert r.details["scratchpad"]["weight_fifo"] == math.ceil(4 * 27 * 20 / 8)


def test_scratchpad_of_fc_and_ppu_layers():
    g = GConv(name="fc", N=1, G=1, K=100, C=16, H=1, W=1, P=1, Q=1, R=1, S=1, input="x",
              output="y", operand="w", operand_kind="weight")
    x = torch.rand(1, 16, 1, 1) + 0.1
    w = torch.rand(100, 16, 1, 1) + 0.1
    r = EVAL(workload(g, x, w), spec_with("dcnn", pes=(2, 2)))
    # 25 outputs per PE in both accumulator halves; a stream of 25 weights per input channel
    assert r.details["scratchpad"] == {"accumulator": 4 * 2 * 25 * 3,
                                       "weight_fifo": 4 * 25 * 2}
    zm = accelscope.zoo.get("tiny")
    res = evaluate_network(accelscope.lower(zm), "scnn")
    assert {lr.details["path"] for lr in res.layers} >= {"ppu", "conv (PT-IS-CP)"}
    for lr in res.layers:
        if lr.details["path"] == "ppu":
            assert lr.scratchpad_bytes == 0
