"""The systolic engine: closed-form compute timing, SCALE-Sim parity, the systolic model."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import accelscope
from accelscope.arch import load_arch
from accelscope.models.conformance import check_model
from accelscope.models.contract import LayerWorkload
from accelscope.models.registry import get_model
from accelscope.models.systolic.core import Gemm, systolic_timing
from accelscope.models.systolic.model import gemm_of
from accelscope.pipeline import build_workloads, evaluate_network

REF = Path(__file__).resolve().parents[2] / "bench" / "scalesim_ref" / "scalesim_v3_reference.csv"


def _ref_rows():
    if not REF.exists():
        return []
    with REF.open() as f:
        return list(csv.DictReader(f))


def _gemm_of_row(r) -> Gemm:
    h, w, fh, fw, c, k, s = (int(r[x]) for x in ("ifmap_h", "ifmap_w", "filter_h",
                                                 "filter_w", "channels", "num_filter",
                                                 "stride"))
    if int(r["dp_channels"]):
        c = k = 1  # SCALE-Sim simulates one channel of a depthwise (DP) layer
    p, q = math.ceil((h - fh + s) / s), math.ceil((w - fw + s) / s)
    return Gemm(p * q, fh * fw * c, k)


def test_single_fold_closed_forms_by_hand():
    # 8x8 array, a GEMM that fits one fold: 5 pixels, window 7, 6 filters
    g = Gemm(pixels=5, window=7, filters=6)
    os_ = systolic_timing(g, 8, 8, "os")
    assert os_.folds == 1 and os_.compute_cycles == 7 + 8 + 8 - 2
    assert os_.scalesim_total_cycles == os_.compute_cycles - 1
    ws = systolic_timing(g, 8, 8, "ws")
    assert ws.compute_cycles == 5 + 2 * 8 + 8 - 2
    is_ = systolic_timing(g, 8, 8, "is")
    assert is_.compute_cycles == 6 + 2 * 8 + 8 - 2
    assert os_.mapping_efficiency == pytest.approx(5 * 6 / 64)
    assert ws.mapping_efficiency == pytest.approx(7 * 6 / 64)
    assert is_.mapping_efficiency == pytest.approx(7 * 5 / 64)
    # utilisation of one fold: used PEs x T / (PEs x fold cycles)
    assert os_.compute_utilization == pytest.approx(30 * 7 / (64 * (7 + 14)))
    assert ws.compute_utilization == pytest.approx(42 * 5 / (64 * (5 + 16 + 16 - 3)))
    # every operand element is read once per fold that needs it
    assert (os_.ifmap_sram_reads, os_.filter_sram_reads, os_.ofmap_sram_writes) == (35, 42, 30)
    assert os_.ofmap_sram_writes_scalesim == 30 + 16


def test_folds_and_timing_parameters():
    g = Gemm(pixels=100, window=20, filters=9, repeats=3)
    t = systolic_timing(g, 8, 4, "os")
    assert (t.row_folds, t.col_folds) == (13, 3)
    assert t.compute_cycles == 3 * 39 * (20 + 8 + 4 - 2)
    assert t.scalesim_total_cycles == t.compute_cycles - 3
    slow = systolic_timing(g, 8, 4, "os", cycles_per_mac=2, pipeline_depth=3)
    assert slow.compute_cycles == 3 * 39 * (40 + 8 + 4 - 2 + 3)
    with pytest.raises(ValueError, match="dataflow"):
        systolic_timing(g, 8, 4, "rs")


@settings(max_examples=200, deadline=None)
@given(p=st.integers(1, 300), w=st.integers(1, 300), f=st.integers(1, 300),
       rows=st.integers(1, 64), cols=st.integers(1, 64), df=st.sampled_from(["os", "ws", "is"]))
def test_invariants_over_random_shapes(p, w, f, rows, cols, df):
    t = systolic_timing(Gemm(p, w, f), rows, cols, df)
    assert t.compute_cycles >= math.ceil(t.macs / (rows * cols))
    assert 0 < t.mapping_efficiency <= 1 and 0 < t.compute_utilization <= 1
    assert t.compute_utilization <= t.mapping_efficiency
    assert t.overall_utilization <= 1
    # each operand element is read at least once
    assert t.ifmap_sram_reads >= p * w and t.filter_sram_reads >= w * f
    assert t.ofmap_sram_writes >= p * f


ROWS = _ref_rows()


@pytest.mark.skipif(not ROWS, reason="no SCALE-Sim reference CSV (bench/scalesim_reference.py)")
def test_compute_columns_identical_to_scalesim():
    """Every reference case: compute cycles (CALC mode, no stalls), mapping efficiency,
    compute utilisation, overall utilisation and SRAM operand accesses, exactly."""
    mismatches = []
    for r in ROWS:
        rows, cols = (int(v) for v in r["array"].split("x"))
        t = systolic_timing(_gemm_of_row(r), rows, cols, r["dataflow"])
        ours = {"total_cycles": t.scalesim_total_cycles, "stall_cycles": 0,
                "ifmap_sram_reads": t.ifmap_sram_reads,
                "filter_sram_reads": t.filter_sram_reads,
                "ofmap_sram_writes": t.ofmap_sram_writes_scalesim,
                "mapping_efficiency_pct": 100 * t.mapping_efficiency,
                "compute_util_pct": 100 * t.compute_utilization,
                "overall_util_pct": 100 * t.macs / (rows * cols * t.scalesim_total_cycles)}
        for k, v in ours.items():
            ref = float(r[k])
            if not math.isclose(v, ref, rel_tol=1e-12, abs_tol=1e-12):
                mismatches.append(f"{r['network']}/{r['layer']} {r['array']} {r['dataflow']} "
                                  f"{k}: SCALE-Sim {ref}, ours {v}")
    assert not mismatches, "\n".join(mismatches[:20])


@pytest.fixture(scope="module")
def allops():
    zm = accelscope.zoo.get("tiny-allops")
    chain = accelscope.lower(zm)
    return chain, build_workloads(chain, zm.example_input())


@pytest.mark.parametrize("df", ["os", "ws", "is"])
def test_systolic_model_conforms(allops, df):
    spec = load_arch("scalesim-32x32")
    spec = spec.model_copy(update={"systolic": spec.systolic.model_copy(
        update={"dataflow": df})})
    assert check_model("systolic", spec, allops[1]) == []


def test_every_gemm_layer_runs_on_the_array_and_the_rest_on_the_vector_unit(allops):
    chain, workloads = allops
    res = evaluate_network(chain, "scalesim-32x32")
    for g, r in zip(chain.gconvs, res.layers, strict=True):
        assert r.details["unit"] == ("array" if gemm_of(g) else "vector")
        if gemm_of(g):
            assert r.details["repeats"] == g.G
    assert {r.details["unit"] for r in res.layers} == {"array", "vector"}


def test_user_bandwidth_mode_stalls_on_dram():
    zm = accelscope.zoo.get("tiny")
    chain = accelscope.lower(zm)
    spec = load_arch("scalesim-32x32")
    slow = spec.model_copy(update={
        "systolic": spec.systolic.model_copy(update={"bandwidth_mode": "user"}),
        "dram": spec.dram.model_copy(update={"bandwidth_bits_per_cycle": 1.0})})
    fast = evaluate_network(chain, spec)
    stalled = evaluate_network(chain, slow)
    assert stalled.cycles > fast.cycles and stalled.stall_cycles.get("dram_bandwidth", 0) > 0


def test_systolic_spec_needs_one_sram_per_operand(tmp_path):
    text = (Path(accelscope.__file__).parent / "arch" / "presets" /
            "scalesim-32x32.yaml").read_text()
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace("holds: [weight]", "holds: [input, weight]"))
    with pytest.raises(accelscope.errors.AccelscopeError, match="exactly one SRAM holding"):
        load_arch(str(bad))


def _resized(name: str, rows: int, cols: int, **systolic):
    d = load_arch(name).model_dump()
    d["name"] = f"{name}-{rows}x{cols}"
    d["compute"].update(array=[rows, cols], macs_per_cycle=rows * cols)
    d["systolic"].update(systolic)
    return load_arch(d)


def _conv_layer():
    # 6x6x4 input, ten 3x3 filters, no padding: 16 output pixels, window 36
    g = accelscope.GConv(name="c", N=1, G=1, K=10, C=4, H=6, W=6, P=4, Q=4, R=3, S=3,
                         input="x", output="y", operand="w", operand_kind="weight")
    return LayerWorkload(gconv=g, network="t", mode="statistical")


def test_scratchpad_is_one_folds_operand_tiles_by_hand():
    ev = get_model("systolic").evaluate
    layer = _conv_layer()
    # os on 8x8 (8-bit, three double-buffered SRAMs): 8 pixel rows x 8 filter columns,
    # T = 36; input 8 x 36 = 288 IM2COL words, but a fold's 8 pixels are two output rows
    # whose windows cover 4 input rows x 6 columns x 4 channels = 96 distinct inputs
    r = ev(layer, _resized("scalesim-32x32", 8, 8))
    assert r.details["scratchpad"] == {"input": 96 * 2, "weight": 36 * 8 * 2,
                                       "output": 8 * 8 * 2}
    assert r.scratchpad_bytes == 896
    assert "one os fold" in r.provenance["scratchpad"]
    # ws: window on the rows, T = 16 pixels streamed; SCALE-Sim's OFMAP holds 8-bit words
    r = ev(layer, _resized("scalesim-32x32", 8, 8, dataflow="ws"))
    assert r.details["scratchpad"] == {"input": 16 * 8 * 2, "weight": 8 * 8 * 2,
                                       "output": 16 * 8 * 2}
    # the compulsory memory model keeps ws partial sums in an accumulator (32 bits)
    r = ev(layer, _resized("scalesim-32x32", 8, 8, dataflow="ws", memory_model="compulsory"))
    assert r.details["scratchpad"]["output"] == 16 * 8 * 4 * 2
    # is: window on the rows, pixels on the columns, T = 10 filters streamed
    r = ev(layer, _resized("scalesim-32x32", 8, 8, dataflow="is"))
    assert r.details["scratchpad"] == {"input": 8 * 8 * 2, "weight": 10 * 8 * 2,
                                       "output": 8 * 10 * 2}


def test_scratchpad_follows_the_array_and_the_srams():
    ev = get_model("systolic").evaluate
    layer = _conv_layer()
    small = ev(layer, _resized("scalesim-32x32", 8, 8)).scratchpad_bytes
    # 16x16: all 10 filters in one fold column, all 16 pixels: the whole 144-element input
    big = ev(layer, _resized("scalesim-32x32", 16, 16)).details["scratchpad"]
    assert big == {"input": 144 * 2, "weight": 36 * 10 * 2, "output": 16 * 10 * 2}
    assert sum(big.values()) != small
    # a tile larger than its SRAM takes the SRAM (the model's traffic assumes no more)
    d = _resized("scalesim-32x32", 8, 8).model_dump()
    d["memory"][1]["size_bytes"] = 100  # filter_sram
    r = ev(layer, load_arch(d))
    assert r.details["scratchpad"]["weight"] == 100
    assert "capped at filter_sram 100 B" in r.provenance["scratchpad"]
    # software IM2COL (gemmini): the input tile is the expanded matrix (8 x 36 words, more
    # than the 144 real inputs); gemmini's accumulator is single-buffered and holds ws
    # partial sums at 32 bits, os outputs at the 16-bit operand width
    r = ev(layer, _resized("gemmini", 8, 8, dataflow="os"))
    assert r.details["scratchpad"] == {"input": 8 * 36 * 2 * 2, "weight": 36 * 8 * 2 * 2,
                                       "output": 8 * 8 * 2}
    r = ev(layer, _resized("gemmini", 8, 8))
    assert r.details["scratchpad"] == {"input": 16 * 8 * 2 * 2, "weight": 8 * 8 * 2 * 2,
                                       "output": 16 * 8 * 4}


def test_vector_unit_layers_keep_no_tile(allops):
    chain, _ = allops
    res = evaluate_network(chain, "scalesim-32x32")
    for r in res.layers:
        assert (r.scratchpad_bytes == 0) == (r.details["unit"] == "vector")


def _distinct_by_brute_force(g, rows: int) -> int:
    """Distinct real inputs of the worst os fold, from an index map run through unfold."""
    import torch
    import torch.nn.functional as F

    from accelscope.workload.execute import prepare_input

    idx = torch.arange(1, g.H * g.W + 1, dtype=torch.float64).reshape(1, 1, g.H, g.W)
    cols = F.unfold(prepare_input(idx, g), (g.R, g.S), dilation=g.dilation,
                    stride=g.stride)[0]
    windows = [{int(v) for v in cols[:, i].tolist() if v > 0} for i in range(cols.shape[1])]
    pq = len(windows)
    best = 0
    for a in range(0, g.N * pq, rows):
        seen = set()
        for pix in range(a, min(a + rows, g.N * pq)):
            seen |= {(pix // pq, v) for v in windows[pix % pq]}
        best = max(best, len(seen))
    return best * g.C


@settings(max_examples=60, deadline=None)
@given(st.integers(1, 4), st.integers(1, 4), st.integers(1, 3), st.integers(1, 3),
       st.integers(1, 2), st.integers(1, 2), st.tuples(*[st.integers(-1, 2)] * 4),
       st.integers(0, 5), st.integers(0, 5), st.integers(1, 2), st.integers(1, 40))
def test_os_fold_inputs_equal_a_brute_force_count(r, s, sh, sw, dil, idl, pad, h, w, n, rows):
    from accelscope.models.systolic.model import os_fold_inputs
    from accelscope.workload.gconv import conv_out_size

    H, W = r + h, s + w
    P = conv_out_size(H, r, sh, dil, pad[0], pad[2], idl)
    Q = conv_out_size(W, s, sw, dil, pad[1], pad[3], idl)
    if P < 1 or Q < 1:
        return
    g = accelscope.GConv(name="c", N=n, G=1, K=2, C=3, H=H, W=W, P=P, Q=Q, R=r, S=s,
                         input="x", output="y", operand="w", operand_kind="weight",
                         stride=(sh, sw), padding=pad, dilation=(dil, dil),
                         input_dilation=(idl, idl))
    assert os_fold_inputs(g, rows) == _distinct_by_brute_force(g, rows)
