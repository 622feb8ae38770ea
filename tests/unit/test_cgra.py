"""OpenEdgeCGRA simulator: instruction semantics, the memory-contention rule, kernel checks,
pricing, the CLI table and the GConv model."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from accelscope.arch import load_arch
from accelscope.models.cgra.cost import naive_conv_cycles, price_cpu
from accelscope.models.cgra.isa import CgraProgramError, KernelBuilder, assemble
from accelscope.models.cgra.layout import ConvShape
from accelscope.models.cgra.sim import Cgra, CgraRunError, CgraTiming, op_counts


def run_rows(rows, labels=None, timing=None, mem=None, in_ptrs=(), out_ptrs=()):
    k = assemble("t", rows, labels)
    c = Cgra(timing or CgraTiming())
    for addr, vals in (mem or {}).items():
        c.write_words(addr, vals)
    st = c.run(k, list(in_ptrs), list(out_ptrs))
    return c, st, k


def cell(r, c):
    return r * 4 + c


def test_alu_semantics_and_int32_wrap():
    rows = [{(0, 0): "LWD R0", (0, 1): "SSUB R1, ZERO, 5",
             (0, 2): "SMUL R2, 4095, 4095", (0, 3): "SLL ROUT, -1, 31",
             (1, 0): "SRL R0, -8, 1", (1, 1): "SRA R0, -8, 1", (1, 2): "LXOR R0, 6, 3",
             (1, 3): "LAND R0, 6, 3"},
            {(2, 0): "SMUL R0, R0, R0", (0, 0): "SADD R0, R0, 1"},
            {(0, 0): "EXIT"}]
    c, st, _ = run_rows(rows, mem={0: [2147483647]}, in_ptrs=[0])
    R, ro = c.regs, c.rout
    assert R[4 * cell(0, 0)] == -2147483648  # wraps like a 32-bit register
    assert R[4 * cell(0, 1) + 1] == -5
    assert R[4 * cell(0, 2) + 2] == 4095 * 4095
    assert ro[cell(0, 3)] == -2147483648
    assert R[4 * cell(1, 0)] == (0xFFFFFFF8 >> 1)  # logical shift of -8
    assert R[4 * cell(1, 1)] == -4
    assert R[4 * cell(1, 2)] == 5 and R[4 * cell(1, 3)] == 2
    # SMUL takes smul_cycles: instructions 0 and 1 have one (3), the load costs 1 + 1
    assert st.cycles == 3 + 3 + 1 and st.instructions == 3


def test_sources_read_before_writes_make_a_torus_shift():
    # every cell copies its left neighbour's ROUT: a rotation of row 0 by one place
    rows = [{(0, c): f"SADD ROUT, {v}, ZERO" for c, v in enumerate((10, 11, 12, 13))},
            {(0, c): "SADD ROUT, RCL, ZERO" for c in range(4)},
            {(1, 0): "SADD R0, RCT, RCB", (0, 0): "EXIT"}]
    c, _, _ = run_rows(rows)
    assert [c.rout[cell(0, i)] for i in range(4)] == [13, 10, 11, 12]
    # RCT of (1,0) is (0,0); RCB is (2,0) whose ROUT is still 0
    assert c.regs[4 * cell(1, 0)] == 13


def test_rct_wraps_around_the_torus():
    rows = [{(3, 2): "SADD ROUT, 7, ZERO"}, {(0, 2): "SADD R1, RCT, ZERO",
                                              (0, 0): "EXIT"}]
    c, _, _ = run_rows(rows)
    assert c.regs[4 * cell(0, 2) + 1] == 7


def test_memory_ops_pointers_and_post_increment():
    rows = [{(0, 0): "LWD R0", (0, 1): "LWD R1, 8", (1, 0): "LWI R2, 100"},
            {(0, 0): "LWD R0", (0, 1): "LWD R1, 8"},
            {(0, 0): "SWD R0", (2, 2): "SWI 77, 200"},
            {(0, 0): "SWD R0, -4", (0, 1): "EXIT"}]
    mem = {0: [1, 2, 3, 4, 5, 6], 100: [42]}
    c, st, _ = run_rows(rows, mem=mem, in_ptrs=[0, 8], out_ptrs=[300])
    R = c.regs
    assert R[4 * cell(0, 0)] == 2  # second LWD through column 0's pointer (0 -> 4)
    assert R[4 * cell(0, 1) + 1] == 5  # column 1: 8, then 16 (increment 8)
    assert R[4 * cell(1, 0) + 2] == 42
    assert c.read_words(300, 2) == [2, 2] and c.read_words(200, 1) == [77]
    # ONE-TO-M: n accesses cost 1 + n: 3, 2, 2 and 1 accesses
    assert st.row_cycles == [4, 3, 3, 2]
    assert st.mem_stall_cycles == 3 + 2 + 2 + 1


@pytest.mark.parametrize("bus,addrs,want", [
    ("one_to_m", (0, 4, 32768, 65536), 1 + 4),  # one port: every access waits
    ("n_to_m", (0, 4, 32768, 65536), 1 + 2),  # two accesses in bank 0
    ("n_to_m", (0, 32768, 65536, 98304), 1 + 1),  # one per bank: no contention
    ("interleaved", (0, 4, 8, 12), 1 + 1),  # consecutive words in different banks
    ("interleaved", (0, 16, 32, 48), 1 + 4),  # stride of n_banks words: one bank
])
def test_contention_rule(bus, addrs, want):
    rows = [{(0, c): "LWI R0, R1" for c in range(4)}, {(0, 0): "EXIT"}]
    k = assemble("t", rows)
    c = Cgra(CgraTiming(bus=bus))
    for i, a in enumerate(addrs):
        c.regs[4 * cell(0, i) + 1] = a
    st = c.run(k, [])
    assert st.row_cycles[0] == want


def test_loads_and_stores_add_under_the_readme_rule():
    rows = [{(0, 0): "LWI R0, 0", (0, 1): "LWI R0, 4", (0, 2): "SWI 1, 8"},
            {(0, 0): "EXIT"}]
    _, st, _ = run_rows(rows, timing=CgraTiming(mem_overhead_cycles=2, loads_stores_add=True))
    assert st.row_cycles[0] == (2 + 2) + (2 + 1)
    _, st, _ = run_rows(rows, timing=CgraTiming(mem_overhead_cycles=1))
    assert st.row_cycles[0] == 1 + 3


def test_branches_loop_and_event_counts():
    k = KernelBuilder("count")
    k.row({(0, 0): "SADD R0, ZERO, 5"})
    k.row({(0, 0): "SSUB R0, R0, 1"}, label="top")
    k.row({(0, 0): "BNE R0, ZERO, top"})
    k.row({(0, 0): "EXIT"})
    kern = k.build()
    c = Cgra(CgraTiming())
    st = c.run(kern, [])
    assert c.regs[0] == 0
    assert st.row_count == [1, 5, 5, 1]
    ops = op_counts(kern, st)
    assert ops["SSUB"] == 5 and ops["BNE"] == 5 and ops["NOP"] == 15 * 12
    for op, cmp_true in (("BEQ", "BEQ 3, 3, end"), ("BLT", "BLT -1, 0, end"),
                         ("BGE", "BGE 0, 0, end")):
        rows = [{(1, 1): cmp_true}, {(0, 0): "SADD R0, ZERO, 9"}, {(0, 0): "EXIT"}]
        c, _, _ = run_rows(rows, labels={"end": 2})
        assert c.regs[0] == 0, op


def test_program_checks_name_the_place():
    with pytest.raises(CgraProgramError, match=r"instruction 0 cell \(0,1\).*FOO"):
        assemble("k", [{(0, 1): "FOO R0, R1, R2"}])
    with pytest.raises(CgraProgramError, match="13-bit"):
        assemble("k", [{(0, 0): "SADD R0, R0, 5000"}])
    with pytest.raises(CgraProgramError, match="second LWD in column 2"):
        assemble("k", [{(0, 2): "LWD R0", (3, 2): "LWD R1"}])
    with pytest.raises(CgraProgramError, match="at most 32"):
        assemble("k", [{}] * 33)
    with pytest.raises(CgraProgramError, match="unknown label"):
        assemble("k", [{(0, 0): "JUMP nowhere"}])
    with pytest.raises(CgraProgramError, match="not a destination"):
        assemble("k", [{(0, 0): "SADD RCL, R0, R1"}])
    with pytest.raises(CgraProgramError, match=r"no such cell"):
        assemble("k", [{(4, 0): "NOP"}])


def test_run_errors():
    with pytest.raises(CgraRunError, match="not word aligned"):
        run_rows([{(0, 0): "LWI R0, 2"}, {(0, 0): "EXIT"}])
    with pytest.raises(CgraRunError, match="without EXIT"):
        run_rows([{(0, 0): "NOP"}])
    with pytest.raises(CgraRunError, match="beyond"):
        run_rows([{(0, 0): "LWD R0"}, {(0, 0): "EXIT"}], in_ptrs=[1 << 20])
    with pytest.raises(CgraRunError, match="different targets"):
        run_rows([{(0, 0): "JUMP a", (0, 1): "JUMP b"}, {(0, 0): "EXIT"},
                  {(0, 0): "EXIT"}], labels={"a": 1, "b": 2})
    k = assemble("loop", [{(0, 0): "JUMP top"}], {"top": 0})
    with pytest.raises(CgraRunError, match="never ends"):
        Cgra(CgraTiming()).run(k, [], max_instructions=100)


def test_naive_cpu_model_counts_by_hand():
    spec = load_arch("openedgecgra")
    h = spec.cgra.host
    s = ConvShape(3, 3, 1, 1)  # one output, 9 MACs
    # per MAC: 2 loads (2) + mul (3) + add and 3 index ALU (4) = 11 -> 99
    # innermost S loop: 3 entries x (2 taken x 3 + 1 not taken) = 21
    # R loop: 3 iterations x 3 overhead ALU + 2 taken x 3 + 1 = 16; the C, Wo, Ho, K and N
    # loops, one iteration each: 3 overhead ALU + 1 not-taken branch = 4 each
    # per output: init 1 + store 2 = 3
    want = 99 + 21 + 16 + 5 * 4 + 3
    assert naive_conv_cycles(s, h) == want
    p = price_cpu(s, spec)
    assert p.cycles == want and p.sram_accesses == 2 * 9 + 1


def test_spec_errors_name_the_field(tmp_path):
    import yaml

    from accelscope.arch.loader import ArchError

    base = yaml.safe_load(Path(_preset_path()).read_text())
    base["cgra"]["energy"]["op_power_w"].pop("SMUL")
    p = tmp_path / "bad.yaml"
    p.write_text(yaml.safe_dump(base))
    with pytest.raises(ArchError, match=r"op_power_w: missing required field 'SMUL'"):
        load_arch(str(p))
    base = yaml.safe_load(Path(_preset_path()).read_text())
    base["cgra"]["array"]["bus"] = "crossbar"
    p.write_text(yaml.safe_dump(base))
    with pytest.raises(ArchError, match=r"cgra\.array\.bus"):
        load_arch(str(p))


def _preset_path():
    from importlib import resources

    return str(resources.files("accelscope.arch") / "presets" / "openedgecgra.yaml")


def test_wp_exact_and_counts_on_a_small_layer():
    from accelscope.models.cgra.mappings import reference_conv, run_wp
    from accelscope.models.cgra.study import random_operands

    s = ConvShape(6, 7, 2, 3)
    x, w = random_operands(s, seed=3)
    run = run_wp(s, x, w, Cgra(CgraTiming()))
    assert np.array_equal(run.output, reference_conv(x, w))
    assert run.launches == 6
    assert op_counts(run.kernel, run.stats)["SMUL"] == s.macs  # one SMUL per MAC


# -- the GConv model ---------------------------------------------------------------------------
def _with(spec, **cgra):
    return spec.model_copy(update={"cgra": spec.cgra.model_copy(update=cgra)})


def test_gconv_model_conforms_and_runs_what_no_mapping_expresses_on_the_general_path(
        allops_workloads):
    from accelscope.models.conformance import check_model
    from accelscope.models.contract import UnsupportedLayerError
    from accelscope.models.registry import get_model

    spec = load_arch("openedgecgra")
    assert check_model("cgra", spec, allops_workloads) == []
    info = get_model("cgra")
    ran = []
    for w in allops_workloads:
        try:
            r = info.evaluate(w, spec)
        except UnsupportedLayerError as exc:
            assert exc.gconv.name == w.gconv.name and "run it on another" in str(exc)
            continue
        ran.append(r)
        assert r.details["mapping"] in r.details["cycles_by_mapping"]
        assert r.cycles >= min(r.details["cycles_by_mapping"].values())
    # the one 3x3, stride-1, one-group conv runs on a CF '24 mapping; every other GConv on the
    # general im2col path (tests/unit/test_cgra_general.py)
    assert [r.layer for r in ran if r.details["mapping"] != "im2col-general"] == ["conv"]
    assert len(ran) == len(allops_workloads)


def test_sampled_launches_scale_exactly(allops_workloads):
    from accelscope.models.registry import get_model

    spec = load_arch("openedgecgra")
    conv = next(w for w in allops_workloads if w.gconv.name == "conv")
    info = get_model("cgra")
    sampled = info.evaluate(conv, _with(spec, sample_launches=3))
    full = info.evaluate(conv, _with(spec, sample_launches=0))
    assert sampled.warnings and not full.warnings
    assert sampled.cycles == full.cycles
    assert sampled.details["simulated_launches"] < full.details["simulated_launches"]
    assert sampled.energy_pj == pytest.approx(full.energy_pj, rel=1e-12)


def test_layers_larger_than_the_banks_are_tiled_to_fit():
    from accelscope.models.cgra.model import _fits, choose_tile

    spec = load_arch("openedgecgra")
    budget = spec.cgra.array.bank_bytes * spec.cgra.array.n_banks
    C, K, H, W = 64, 64, 34, 34
    for m in ("wp", "oc", "im2col-ic", "im2col-oc"):
        assert not _fits(m, ConvShape(H, W, C, K), spec)
        t = choose_tile(m, C, K, H, W, spec)
        assert _fits(m, ConvShape(t.rows + 2, W, t.C, t.K), spec)
        assert 4 * (t.C * (t.rows + 2) * W + t.K * t.C * 9) < budget
        assert t.C == C or m == "wp"  # only wp may split the input channels


def test_sampling_refuses_launches_that_differ():
    from accelscope.models.cgra.cost import CgraRunError, price_run
    from accelscope.models.cgra.mappings import run_wp
    from accelscope.models.cgra.study import random_operands

    spec = load_arch("openedgecgra")
    s = ConvShape(6, 6, 2, 2)
    x, w = random_operands(s)
    run = run_wp(s, x, w, Cgra(CgraTiming()), max_launches=2)
    assert not run.complete and run.sampled_launches == 2
    run.launch_cycles[1] += 1  # as if the second launch had waited on a bank
    with pytest.raises(CgraRunError, match="sample_launches: 0"):
        price_run(run, spec)


def test_cli_prints_the_four_mappings_side_by_side():
    from typer.testing import CliRunner

    from accelscope.cli import app

    res = CliRunner().invoke(app, ["cgra", "--layer", "8x8x4x4", "--mapping", "wp,oc"])
    assert res.exit_code == 0, res.output
    assert "wp" in res.output and "oc" in res.output and "cpu" in res.output
    assert "yes" in res.output and "NO" not in res.output
    res = CliRunner().invoke(app, ["cgra", "--mapping", "magic"])
    assert res.exit_code != 0 and "unknown CGRA mapping" in str(res.exception or res.output)


@pytest.mark.parametrize("shape", [ConvShape(16, 16, 16, 16), ConvShape(5, 9, 2, 1)])
def test_wp_cycles_by_hand(shape):
    """The wp kernel on the one_to_m bus (n accesses: n + 1 cycles, SMUL 3): set-up rows
    5+5+5+2+3+2+2+1 = 25; per output row a 10-cycle window prologue, 13 cycles per output
    (loads 6, SMUL 3, four adds) and the row branch 1; the drain store 2 and EXIT 1."""
    from accelscope.models.cgra.mappings import run_wp
    from accelscope.models.cgra.study import random_operands

    x, w = random_operands(shape)
    run = run_wp(shape, x, w, Cgra(CgraTiming()))
    per_launch = 25 + shape.Ho * (10 + 13 * shape.Wo + 1) + 3
    assert set(run.launch_cycles) == {per_launch}
    assert run.stats.cycles == per_launch * shape.C * shape.K
    if shape.H == 16:
        assert per_launch == 2730
