"""SCALE-Sim v3 memory-system parity: every report value equal to SCALE-Sim's, both modes.

The references are real SCALE-Sim 3.0.0 runs stored as CSVs (``bench/scalesim_reference.py``:
ResNet-18 / MobileNetV2 layers, CALC mode; ``bench/scalesim_user_mode_reference.py``: small
layers in USER mode, with stalls). Each distinct case is one test; a missing CSV skips.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accelscope.models.systolic import memory as sm
from accelscope.models.systolic.memory import ScaleSimMemoryReport, scalesim_memory

REF_DIR = Path(__file__).resolve().parents[2] / "bench" / "scalesim_ref"
CALC_CSV = REF_DIR / "scalesim_v3_reference.csv"
USER_CSV = REF_DIR / "scalesim_v3_user_mode.csv"

INT_COLS = ["total_cycles_incl_prefetch", "total_cycles", "stall_cycles"] + [
    f"{t}_{m}_{f}" for m in ("sram", "dram") for t in ("ifmap", "filter", "ofmap")
    for f in ("start_cycle", "stop_cycle", "reads" if t != "ofmap" else "writes")]
BW_COLS = ["avg_ifmap_sram_bw", "avg_filter_sram_bw", "avg_ofmap_sram_bw",
           "avg_ifmap_dram_bw", "avg_filter_dram_bw", "avg_ofmap_dram_bw"]
GEOM = ["ifmap_h", "ifmap_w", "filter_h", "filter_w", "channels", "num_filter", "stride"]


def _read(path: Path) -> list[dict]:
    if not path.exists():
        return []
    with path.open() as f:
        return list(csv.DictReader(f))


def _calc_cases() -> list:
    """One case per distinct SCALE-Sim run (repeated ResNet blocks share one)."""
    seen, out = set(), []
    for r in _read(CALC_CSV):
        key = tuple(r[k] for k in [*GEOM, "dp_channels", "array", "dataflow"])
        if key not in seen:
            seen.add(key)
            out.append(pytest.param(r, id=f"{r['network']}-{r['layer']}-{r['array']}-"
                                          f"{r['dataflow']}"))
    return out


def _user_cases() -> list:
    return [pytest.param(r, id=f"case{r['case']}-{r['array']}-{r['dataflow']}")
            for r in _read(USER_CSV)]


def _check_row(rep: ScaleSimMemoryReport, row: dict) -> None:
    got = rep.as_scalesim_row()
    wrong = {k: (row[k], got[k]) for k in INT_COLS if float(row[k]) != got[k]}
    assert not wrong, f"(SCALE-Sim, ours) differ: {wrong}"
    for k in INT_COLS:
        assert isinstance(got[k], int), f"{k} should be an int, got {type(got[k])}"
    # the averages are the same float divisions SCALE-Sim does: bit-identical
    wrong = {k: (row[k], got[k]) for k in BW_COLS if float(row[k]) != got[k]}
    assert not wrong, f"(SCALE-Sim, ours) bandwidths differ: {wrong}"


@pytest.mark.skipif(not CALC_CSV.exists(), reason=f"{CALC_CSV.name} not generated yet")
@pytest.mark.parametrize("row", _calc_cases())
def test_calc_mode_matches_scalesim_reference(row):
    rows, cols = (int(v) for v in row["array"].split("x"))
    geom = {k: int(row[k]) for k in GEOM}
    if int(row["dp_channels"]):  # a depthwise layer: SCALE-Sim runs one channel per layer
        geom["channels"] = geom["num_filter"] = 1
    rep = scalesim_memory(dataflow=row["dataflow"], array_rows=rows, array_cols=cols,
                          ifmap_sram_kb=64, filter_sram_kb=64, ofmap_sram_kb=64,
                          bandwidth_mode="calc", **geom)
    _check_row(rep, row)


@pytest.mark.skipif(not USER_CSV.exists(), reason=f"{USER_CSV.name} not generated yet")
@pytest.mark.parametrize("row", _user_cases())
def test_user_mode_matches_scalesim_reference(row):
    rows, cols = (int(v) for v in row["array"].split("x"))
    g = {k: int(row[k]) for k in (*GEOM, "ifmap_sram_kb", "filter_sram_kb", "ofmap_sram_kb")}
    rep = scalesim_memory(dataflow=row["dataflow"], array_rows=rows, array_cols=cols,
                          bandwidth_mode="user", ifmap_dram_bw_words=int(row["ifmap_bw"]),
                          filter_dram_bw_words=int(row["filter_bw"]),
                          ofmap_dram_bw_words=int(row["ofmap_bw"]), **g)
    _check_row(rep, row)


def test_user_mode_reference_covers_stalls():
    rows = _read(USER_CSV)
    if not rows:
        pytest.skip(f"{USER_CSV.name} not generated yet")
    stalled = [r for r in rows if int(r["stall_cycles"]) > 0]
    assert len(stalled) >= 10, "the USER-mode reference should exercise stalls"
    assert {r["dataflow"] for r in stalled} == {"os", "ws", "is"}


# -- CALC mode on random small layers against a literal per-element read buffer -------------
def _literal_estimate_bw(rows: np.ndarray, addrs: np.ndarray, sram_kb: int):
    """read_buffer_estimate_bw, one address at a time: an address is fetched when it was not
    seen since the current epoch (50 sets of floor(words / 100) addresses) began."""
    items = sram_kb * 1024 // 100
    seen: set[int] = set()
    reads, ends = 0, []
    for r, a in zip(rows.tolist(), addrs.tolist(), strict=True):
        if a in seen:
            continue
        seen.add(a)
        reads += 1
        if len(seen) == 50 * items:
            ends.append(r)
            seen = set()
    if not ends:
        return -math.ceil(math.ceil(reads / items) * items / 10), -1, reads
    return int(rows[0]) - math.ceil(50 * items / 10), ends[-1] + 1, reads


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(df=st.sampled_from(["os", "ws", "is"]), rows=st.integers(1, 9),
       cols=st.integers(1, 9), fh=st.integers(1, 4), fw=st.integers(1, 4),
       extra_h=st.integers(0, 9), extra_w=st.integers(0, 9), ch=st.integers(1, 9),
       k=st.integers(1, 12), stride=st.integers(1, 3), kb=st.sampled_from([1, 2, 64]))
def test_calc_read_buffer_matches_literal_model(df, rows, cols, fh, fw, extra_h, extra_w, ch,
                                                k, stride, kb):
    L = sm._layer(df, rows, cols, fh + extra_h, fw + extra_w, fh, fw, ch, k, stride)
    for visits, engine in ((sm._ifmap_visits(L), sm._calc_read),
                           (sm._filter_visits(L), sm._calc_read_filter)):
        r, a = sm._elements(visits, L)
        assert engine(visits, L, kb, lambda x: x) == _literal_estimate_bw(r, a, kb)


# -- contract -------------------------------------------------------------------------------
def _small(**kw):
    args = dict(dataflow="os", array_rows=4, array_cols=4, ifmap_h=8, ifmap_w=8, filter_h=3,
                filter_w=3, channels=2, num_filter=5, stride=1, ifmap_sram_kb=64,
                filter_sram_kb=64, ofmap_sram_kb=64)
    args.update(kw)
    return scalesim_memory(**args)


def test_small_layer_by_hand():
    """8x8x2 input, 3x3 filters, 5 of them, 4x4 array, os (SCALE-Sim: 541 / 431 cycles)."""
    rep = _small()
    # 36 pixels in 9 row folds, 5 filters in 2 column folds; a fold is T + rows + cols - 2
    assert rep.total_cycles == 18 * (18 + 4 + 4 - 2) - 1
    assert rep.stall_cycles == 0
    # each operand fits in one set of 655 words: one prefetch of ceil(655 / 10) cycles
    assert (rep.ifmap_dram_start_cycle, rep.ifmap_dram_stop_cycle) == (-66, -1)
    assert rep.ifmap_dram_reads == 8 * 8 * 2 and rep.filter_dram_reads == 3 * 3 * 2 * 5
    assert rep.ofmap_dram_writes == 36 * 5
    assert rep.total_cycles_incl_prefetch == rep.ofmap_dram_stop_cycle + 66 == 541
    assert rep.avg_ofmap_dram_bw_words_per_cycle == 180 / (rep.ofmap_dram_stop_cycle -
                                                           rep.ofmap_dram_start_cycle + 1)


def test_request_buffers_change_nothing_without_ramulator():
    assert _small(read_request_buffer=8, write_request_buffer=8) == _small()


@pytest.mark.parametrize("kw, match", [
    (dict(dataflow="rs"), "dataflow must be one of"),
    (dict(bandwidth_mode="fast"), "bandwidth_mode must be"),
    (dict(array_rows=0), "array_rows must be an integer >= 1"),
    (dict(stride=1.5), "stride must be an integer"),
    (dict(ifmap_h=2), "larger than the 2x8 input"),
])
def test_bad_inputs_say_what_and_how(kw, match):
    with pytest.raises(ValueError, match=match):
        _small(**kw)


def test_report_is_frozen_and_maps_to_scalesim_columns():
    rep = _small()
    with pytest.raises(AttributeError):
        rep.total_cycles = 0  # type: ignore[misc]
    assert set(rep.as_scalesim_row()) == {"total_cycles_incl_prefetch", "total_cycles",
                                          "stall_cycles", *INT_COLS, *BW_COLS}


def test_systolic_model_reports_scalesim_dram_traffic():
    """The `systolic` model with memory_model: scalesim puts SCALE-Sim's DRAM counts in its
    result: ResNet-18 conv1 on scalesim-32x32 against the recorded SCALE-Sim run."""
    import torch

    import accelscope
    from accelscope.arch import load_arch
    from accelscope.pipeline import evaluate_network

    ref = next(r for r in _read(CALC_CSV) if r["network"] == "resnet18" and r["layer"] ==
               "conv1" and r["array"] == "32x32" and r["dataflow"] == "os")
    conv = torch.nn.Conv2d(3, 64, 7, stride=2, padding=3, bias=False)
    chain = accelscope.lower(conv, torch.zeros(1, 3, 224, 224))
    spec = load_arch("scalesim-32x32")
    res = evaluate_network(chain, spec)
    (layer,) = res.layers
    dram = {a.tensor: a for a in layer.accesses if a.level == "dram"}
    assert dram["input"].reads == int(float(ref["ifmap_dram_reads"]))
    assert dram["weight"].reads == int(float(ref["filter_dram_reads"]))
    assert dram["output"].writes == int(float(ref["ofmap_dram_writes"]))
    assert layer.cycles == max(int(float(ref["total_cycles_incl_prefetch"])),
                               int(float(ref["total_cycles"])) + 1)
    # the compulsory model moves each tensor once instead
    comp = spec.model_copy(update={"systolic": spec.systolic.model_copy(
        update={"memory_model": "compulsory"})})
    (c,) = evaluate_network(chain, comp).layers
    cd = {a.tensor: a for a in c.accesses if a.level == "dram"}
    assert cd["weight"].reads == 64 * 3 * 49 and cd["output"].writes == 64 * 112 * 112
    assert dram["output"].writes > cd["output"].writes  # SCALE-Sim drains padded lines
