"""The ISCA 2016 comparison dataflows on Eyeriss (WS, OS_A/B/C, NLR): hand-worked counts,
mapping legality, the equal-area presets, clear spec errors, the direction-target mechanism
and RS's advantage on AlexNet."""

from __future__ import annotations

import itertools
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import accelscope
from accelscope import validate
from accelscope.arch import load_arch
from accelscope.arch.loader import load_arch_text
from accelscope.energy import get_table
from accelscope.errors import AccelscopeError
from accelscope.models.contract import LayerWorkload, UnsupportedLayerError
from accelscope.models.eyeriss import dataflows as edf
from accelscope.models.registry import get_model
from accelscope.workload.gconv import GConv
from tests.unit.test_eyeriss import _conv as _eyeriss_conv

EV = get_model("eyeriss").evaluate
PRESETS = {"ws": "eyeriss-256-ws", "os_a": "eyeriss-256-os-a", "os_b": "eyeriss-256-os-b",
           "os_c": "eyeriss-256-os-c", "nlr": "eyeriss-256-nlr"}
RF_BYTES = {"ws": 2, "os_a": 98, "os_b": 10, "os_c": 2, "nlr": 0}  # the ISCA 2016 framework


@pytest.fixture(scope="module")
def specs():
    return {df: load_arch(name) for df, name in PRESETS.items()}


def _conv(**kw) -> GConv:
    """A convolution GConv (test_eyeriss's helper), 4 x 4 input unless told."""
    return _eyeriss_conv(**{"H": 4, "W": 4, **kw})


def _stat(g: GConv) -> LayerWorkload:
    return LayerWorkload(gconv=g, network="t", mode="statistical")


def _acc(r, level, tensor):
    a = [a for a in r.accesses if a.level == level and a.tensor == tensor]
    return (a[0].reads, a[0].writes) if a else (0, 0)


# -- hand-worked counts ---------------------------------------------------------------------------
# One image, one filter, one channel, a 4 x 4 input, a 3 x 3 filter: 2 x 2 outputs, 36 MACs.
# The GLB holds everything, so the block is the whole layer (one strip of 2 rows): DRAM reads
# the 16 inputs and 9 weights once and writes the 4 outputs once.
def _common(r):
    assert r.macs == 36 and _acc(r, "dram", "input") == (16, 0)
    assert _acc(r, "dram", "weight") == (9, 0) and _acc(r, "dram", "output") == (0, 4)
    m = r.details["mapping"]
    assert (m["nb"], m["es"], m["mb"], m["cb"]) == (1, 2, 1, 1)


def test_ws_by_hand(specs):
    r = EV(_stat(_conv()), specs["ws"])
    _common(r)
    m = r.details["mapping"]
    assert (m["t"], m["r"], m["k"], m["active_pes"]) == (1, 1, 1, 9)  # the 9 taps
    # each of the 9 weights is loaded into its PE once and read by its 4 MACs
    assert _acc(r, "spad", "weight") == (36, 9)
    assert _acc(r, "glb", "weight") == (9, 9)  # read to the array / written from DRAM
    # inputs: the strip's 16 values enter the array once and travel PE to PE: 36 deliveries
    assert _acc(r, "glb", "input") == (16, 16)
    # psums: 8 hops through the 9 tap PEs per output, then to the GLB (4 writes, no re-read)
    assert _acc(r, "glb", "output") == (0 + 4, 4)
    assert r.details["array_moves"] == {"input": 36, "weight": 9, "output": 4 * 8 + 4}
    assert r.details["processing_cycles"] == 4  # one position per cycle, 4 positions
    e = {k: v / r.energy_pj["compute"] * 36 for k, v in r.energy_pj.items()}  # MAC units
    assert e == pytest.approx({"compute": 36, "spad": 45, "array": 2 * 81,
                               "glb": 6 * (16 + 16 + 9 + 9 + 4 + 4), "dram": 200 * 29})


def test_os_c_by_hand(specs):
    r = EV(_stat(_conv()), specs["os_c"])
    _common(r)
    m = r.details["mapping"]
    assert (m["t"], m["pr"], m["pc"], m["input_reuse"]) == (1, 1, 1, "none")
    assert _acc(r, "spad", "output") == (36, 36)  # the psum read and written per MAC
    assert _acc(r, "spad", "input") == (0, 0) and _acc(r, "spad", "weight") == (0, 0)
    # one PE, one output at a time: every MAC's input and weight come from the GLB
    assert _acc(r, "glb", "input") == (36, 16) and _acc(r, "glb", "weight") == (36, 9)
    assert _acc(r, "glb", "output") == (4, 4)
    assert r.details["array_moves"] == {"input": 36, "weight": 36, "output": 4}
    assert r.details["processing_cycles"] == 36


def test_os_a_by_hand(specs):
    r = EV(_stat(_conv()), specs["os_a"])
    _common(r)
    m = r.details["mapping"]
    # a 2 x 2 block of output PEs; 48 FIFO words >= U + U*R = 4: full window reuse
    assert (m["t"], m["pr"], m["pc"], m["input_reuse"], m["active_pes"]) == (1, 2, 2,
                                                                             "window", 4)
    assert _acc(r, "glb", "input") == (16, 16)  # the 4 x 4 window read once
    assert _acc(r, "glb", "weight") == (9, 9)  # each weight broadcast to the 4 PEs
    # 36 input deliveries, 16 from the GLB, 20 passed on by a neighbour through its FIFO
    assert _acc(r, "spad", "input") == (20, 20)
    assert _acc(r, "spad", "output") == (36, 36)
    assert r.details["processing_cycles"] == 9


def test_os_b_row_reuse_by_hand(specs):
    # a 5 x 5 filter: os_b's 4 FIFO words reach U = 1 but not U + U*R = 6, so inputs are
    # reused along output rows only
    r = EV(_stat(_conv(H=6, W=6, R=5, S=5)), specs["os_b"])
    m = r.details["mapping"]
    assert m["input_reuse"] == "row" and (m["pr"], m["pc"]) == (2, 2)
    assert _acc(r, "glb", "input")[0] == 2 * 5 * 6  # per output row, 5 filter rows of 6


def test_nlr_by_hand(specs):
    r = EV(_stat(_conv()), specs["nlr"])
    _common(r)
    m = r.details["mapping"]
    assert (m["t"], m["r"], m["p"]) == (1, 9, 2)  # all 9 taps x both output columns
    assert not any(a.level == "spad" for a in r.accesses) and r.energy_pj["spad"] == 0
    assert _acc(r, "glb", "input") == (36, 16)  # no reuse: one read per MAC (t = 1)
    assert _acc(r, "glb", "weight") == (18, 9)  # each weight multicast to the 2 columns
    assert _acc(r, "glb", "output") == (4, 4)  # reduced in the array in one pass
    assert r.details["array_moves"] == {"input": 36, "weight": 36, "output": 4 * 8 + 4}
    assert r.details["processing_cycles"] == 2


def test_psums_spill_to_the_glb_between_channel_passes(specs):
    # 40 channels x 9 taps > 16 x 16 PEs: WS holds at most 28 channels' taps (t = 1), so
    # every output leaves the array once per channel pass and is read back for the next
    g = _conv(C=40, K=1, H=6, W=6)
    r = EV(_stat(g), specs["ws"])
    m = r.details["mapping"]
    assert m["r"] <= 28
    passes = math.ceil(40 / m["cb"]) * math.ceil(m["cb"] / m["r"])
    assert passes >= 2
    outs = 16
    assert _acc(r, "glb", "output") == (outs * (passes - 1) + outs, outs * passes)
    # the psums hop through the r*9 PEs of each pass: 40*9 - passes hops per output
    assert r.details["array_moves"]["output"] == outs * (360 - passes) + outs * (2 * passes
                                                                               - 1)


# -- legality, conservation, breakdown ------------------------------------------------------------
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=st.sampled_from(list(PRESETS)), N=st.integers(1, 4), C=st.integers(1, 48),
       K=st.integers(1, 64), HW=st.integers(3, 24), R=st.integers(1, 5),
       stride=st.integers(1, 3), pad=st.integers(0, 2), G=st.sampled_from([1, 2]))
def test_mapping_is_always_legal(df, N, C, K, HW, R, stride, pad, G):
    if HW + 2 * pad < R:
        return
    spec = load_arch(PRESETS[df])
    ep = spec.eyeriss
    g = _conv(N=N, G=G, K=K, C=C, H=HW, W=HW, R=R, S=R, stride=stride, pad=pad)
    r = EV(_stat(g), spec)
    m = r.details["mapping"]
    # the GLB block fits in whole banks
    bank_words = ep.glb_bank_bytes // 2
    h = (m["es"] - 1) * stride + R
    w_in = (g.Q - 1) * stride + R
    banks = (math.ceil(m["nb"] * m["cb"] * h * w_in / bank_words)
             + math.ceil(m["mb"] * m["cb"] * R * R / bank_words)
             + math.ceil(m["nb"] * m["mb"] * m["es"] * g.Q / bank_words))
    assert banks <= spec.memory[-1].size_bytes // ep.glb_bank_bytes
    assert m["nb"] <= N and m["es"] <= g.P and m["mb"] <= K and m["cb"] <= C
    # the spatial tiling fits the array and the RF
    assert 1 <= m["active_pes"] <= 256
    if df == "ws":
        assert m["t"] * m["r"] * R * R <= 256 and m["k"] <= ep.filter_spad_words
    elif df == "nlr":
        assert m["t"] * m["r"] * m["p"] <= 256
    else:
        assert m["t"] * m["pr"] * m["pc"] <= 256
        need = {"window": stride + stride * R, "row": stride, "none": 0}[m["input_reuse"]]
        assert need <= ep.ifmap_spad_words
        if df == "os_a":
            assert m["t"] == 1
        if df == "os_c":
            assert m["pr"] == m["pc"] == 1
    # MACs conserved, every MAC is one ALU operation and reads one weight where WS holds it
    en = get_table(spec.energy_table)
    assert r.macs == r.macs_issued == g.macs
    assert r.energy_pj["compute"] == pytest.approx(g.macs * en.lookup("mac_16b").value)
    if df == "ws":
        assert _acc(r, "spad", "weight")[0] == g.macs
    if df.startswith("os"):
        assert _acc(r, "spad", "output") == (g.macs, g.macs)
    # DRAM: each output written once; nothing read less than once
    assert _acc(r, "dram", "output")[1] == g.output_elems
    assert _acc(r, "dram", "weight")[0] >= g.weight_elems


@pytest.mark.parametrize("df", list(PRESETS))
def test_energy_breakdown_is_the_counts_priced(specs, df):
    spec = specs[df]
    g = _conv(N=2, C=24, K=40, H=15, W=15, pad=1)
    r = EV(_stat(g), spec)
    t = get_table(spec.energy_table)
    price = {k: t.lookup(f"{k}_16b").value for k in ("mac", "rf", "array", "glb", "dram")}
    words = {lv: sum(a.reads + a.writes for a in r.accesses if a.level == lv)
             for lv in ("spad", "glb", "dram")}
    assert set(r.energy_pj) == {"compute", "spad", "array", "glb", "dram"}
    assert r.energy_pj["spad"] == pytest.approx(words["spad"] * price["rf"], rel=1e-6, abs=1)
    assert r.energy_pj["glb"] == pytest.approx(words["glb"] * price["glb"], rel=1e-6)
    assert r.energy_pj["dram"] == pytest.approx(words["dram"] * price["dram"], rel=1e-6)
    assert r.energy_pj["array"] == pytest.approx(sum(r.details["array_moves"].values())
                                                 * price["array"], rel=1e-9)
    assert r.total_energy_pj == pytest.approx(sum(r.energy_pj.values()))
    assert r.details["mapping"]["cost"] == pytest.approx(r.total_energy_pj, rel=1e-6)


@pytest.mark.parametrize("df", list(PRESETS))
def test_skipping_idle_pe_tilings_loses_nothing(specs, df):
    # the search enumerates only tilings where no spatial factor can grow; the full
    # enumeration must never find a cheaper mapping
    spec = specs[df]
    from accelscope.models.eyeriss.common import word_energies

    en = word_energies(get_table(spec.energy_table), 16)
    for g in (_conv(N=2, C=5, K=7, H=9, W=9), _conv(C=3, K=12, H=11, W=11, R=5, S=5,
                                                      stride=2)):
        L = edf._layer(g)
        fast = edf.search(df, L, spec, en)
        full = edf.search(df, L, spec, en, maximal=False)
        assert fast[-1] == pytest.approx(full[-1], rel=1e-12)


def test_tuples_maximal():
    full = set(edf._tuples((4, 5), 8, maximal=False))
    assert (2, 4) in full and (1, 1) in full and all(a * b <= 8 for a, b in full)
    assert set(edf._tuples((4, 5), 8)) == {(1, 5), (2, 4), (4, 2)}


# -- presets and spec errors ----------------------------------------------------------------------
@pytest.mark.parametrize("df", list(PRESETS))
def test_presets_have_the_same_storage_area(specs, df):
    spec = specs[df]
    rf = edf.rf_words(spec) * 2
    assert rf == RF_BYTES[df]
    glb = spec.memory[-1].size_bytes
    assert glb == edf.equal_area_glb_bytes(rf)
    ref = 256 * edf.storage_area_um2(512) + edf.storage_area_um2(131072)
    area = 256 * edf.storage_area_um2(rf) + edf.storage_area_um2(glb)
    assert ref - edf.storage_area_um2(4096) < area <= ref  # whole banks: at most one short


def test_area_model_matches_its_data_points():
    for size, per in edf.AREA_PER_BYTE_UM2:
        assert edf.storage_area_um2(size) == pytest.approx(size * per)
    assert edf.storage_area_um2(0) == 0
    sizes = np.arange(1, 9000, 7)
    areas = [edf.storage_area_um2(s) for s in sizes]
    big = [a for s, a in zip(sizes, areas, strict=True) if s >= 4096]
    assert all(b > a for a, b in itertools.pairwise(big))  # inverted there only
    with pytest.raises(ValueError, match="less than a 4096 B buffer"):
        edf.equal_area_glb_bytes(100_000)
    assert edf.equal_area_glb_bytes(512) == 131072  # the reference allocation itself


_NLR = (Path(accelscope.__file__).parent / "arch" / "presets" / "eyeriss-256-nlr.yaml"
        ).read_text()
_WS = (Path(accelscope.__file__).parent / "arch" / "presets" / "eyeriss-256-ws.yaml"
       ).read_text()


@pytest.mark.parametrize("text,old,new,match", [
    (_NLR, "filter_spad_words: 0", "filter_spad_words: 1", "must all be 0 for dataflow 'nlr'"),
    (_NLR, "rlc: false", "rlc: true", r"eyeriss\.rlc must be false"),
    (_NLR, "glb_filter_bytes: 0 ", "glb_filter_bytes: 8192 ", r"eyeriss\.glb_filter_bytes"),
    (_NLR, "dataflow: nlr", "dataflow: xs", r"eyeriss\.dataflow: must be 'rs', 'ws'"),
    (_NLR, "strip_mining: search", "strip_mining: when_needed", r"eyeriss\.strip_mining"),
    (_NLR, "  objective: energy", "  objective: energy\n  bogus: 1",
     r"eyeriss\.bogus: unknown key"),
    (_WS, "filter_spad_words: 1", "filter_spad_words: 0", r"eyeriss\.filter_spad_words is 0"),
    (_WS, "psum_spad_words: 0", "psum_spad_words: 1", r"psum_spad_words must be 0"),
    (_WS, "size_bytes: 512 ", "size_bytes: 1024 ", r"memory\[0\]\.size_bytes \(spad\)"),
    (_NLR, "dataflow: nlr", "dataflow: ws", r"eyeriss\.filter_spad_words is 0"),
])
def test_bad_presets_say_what_and_where(text, old, new, match):
    assert old in text
    with pytest.raises(AccelscopeError, match=match):
        load_arch_text(text.replace(old, new))


def test_rs_spec_still_needs_its_spads():
    text = (Path(accelscope.__file__).parent / "arch" / "presets" / "eyeriss-256.yaml"
            ).read_text()
    with pytest.raises(AccelscopeError, match=r"eyeriss\.psum_spad_words is 0"):
        load_arch_text(text.replace("psum_spad_words: 16", "psum_spad_words: 0"))


def test_layers_other_dataflows_cannot_run(specs):
    pool = GConv(name="pool", N=1, G=4, K=1, C=1, H=8, W=8, P=4, Q=4, R=2, S=2, input="x",
                 output="y", operand=None, operand_kind="none", stride=(2, 2),
                 map_op="pass", reduce_op="max")
    with pytest.raises(UnsupportedLayerError, match=r"dataflow 'ws'.*use eyeriss\.dataflow: rs"):
        EV(_stat(pool), specs["ws"])
    tiny = load_arch_text(_WS.replace("array: [16, 16]", "array: [2, 2]")
                          .replace("macs_per_cycle: 256", "macs_per_cycle: 4")
                          .replace("size_bytes: 512 ", "size_bytes: 8 ")
                          .replace("banks: 256", "banks: 4"))  # one spad per PE of the 2x2
    with pytest.raises(UnsupportedLayerError, match="no mapping fits"):
        EV(_stat(_conv()), tiny)  # 9 taps on 4 PEs


def test_rs_path_is_unchanged():
    r = EV(_stat(_conv(C=4, K=8, H=12, W=12)), load_arch("eyeriss-256"))
    assert {"e", "p", "q", "segs"} <= set(r.details["mapping"])  # the row-stationary mapping


# -- the direction-target mechanism ---------------------------------------------------------------
def test_direction_targets():
    t = validate.Target("x.dir", 1.0, "x", "test", 0.0, "must_hold", lambda: 1.2,
                        criterion="above", bound=1.0)
    assert validate.TargetResult(t, 1.2, 0.0).passed
    assert not validate.TargetResult(t, 0.99, 0.0).passed
    assert not validate.TargetResult(t, 1.0, 0.0).passed  # strictly above
    assert not validate.TargetResult(t, None, 0.0, "boom").passed
    assert not validate.TargetResult(t, float("nan"), 0.0).passed
    below = validate.Target("x.below", 1.0, "x", "test", 0.0, "must_hold", lambda: 0.5,
                            criterion="below", bound=1.0)
    assert validate.TargetResult(below, 0.5, 0.0).passed
    with pytest.raises(ValueError, match="needs a bound"):
        validate.register(validate.Target("x.nobound", 1.0, "x", "t", 0.0, "must_hold",
                                          lambda: 1.0, criterion="above"))
    with pytest.raises(ValueError, match="takes no bound"):
        validate.register(validate.Target("x.bound", 1.0, "x", "t", 0.1, "must_hold",
                                          lambda: 1.0, bound=1.0))


def test_isca16_targets_are_registered():
    names = [t.name for t in validate.targets("eyeriss.isca16")]
    for df in PRESETS:
        assert f"eyeriss.isca16.rs_vs_{df}.direction" in names
        (t,) = [t for t in validate.targets(f"eyeriss.isca16.rs_vs_{df}.direction")]
        assert t.level == "must_hold" and t.criterion == "above" and t.bound == 1.0


# -- the AlexNet comparison -----------------------------------------------------------------------
def test_comparison_report_on_two_small_layers(tmp_path):
    from accelscope.report.eyeriss_dataflows import compare, plot, table_rows

    cmp = compare(batch=1, layers={"conv5": "features_12"}, dataflows=("rs", "ws", "nlr"))
    rows = table_rows(cmp)
    assert [r[1] for r in rows] == ["rs", "ws", "nlr"]
    for r in rows:  # the per-MAC components add up to the per-MAC total
        assert sum(float(v) for v in r[2:7]) == pytest.approx(float(r[7]), abs=0.03)
        assert float(r[2]) == pytest.approx(1.0)  # ALU: one MAC energy per MAC
    assert cmp.advantage("nlr") == pytest.approx(cmp.total("nlr") / cmp.total("rs"))
    assert cmp.advantage("nlr", ("conv5",)) == cmp.advantage("nlr", "conv5") \
        == cmp.advantage("nlr")
    fig = plot(cmp, tmp_path / "d.png")
    assert (tmp_path / "d.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(fig.axes) == 1 and fig.axes[0].get_title().startswith(cmp.network)


@pytest.mark.slow
def test_rs_beats_every_dataflow_on_alexnet_conv():
    from accelscope.report.eyeriss_dataflows import compare

    cmp = compare(batch=16)
    for df in PRESETS:
        assert cmp.advantage(df) > 1.0, df
