"""The one pricing path (``accelscope.energy.pricing``) and the models that use it.

The model tests at the end pin the drift the single path fixed: the SPOTS vector unit priced
integer operations on a floating-point spec, and SPOTS and SCNN priced SRAM writes at the read
energy when a level gave both (see docs/pricing_changes.md). No preset sets either, so the
golden network totals did not move; these specs do.
"""

from __future__ import annotations

import math

import pytest
import torch

from accelscope.arch import load_arch
from accelscope.energy import (
    EnergyTableError,
    NormalizedTableError,
    Pricing,
    dram_accesses,
    get_table,
    rescale_dram,
)
from accelscope.errors import AccelscopeError
from accelscope.models.contract import LayerWorkload, UnsupportedLayerError
from accelscope.models.registry import get_model
from accelscope.results import Access, LayerResult
from accelscope.workload.execute import run_gconv
from accelscope.workload.gconv import GConv


def spec_with(name: str, number: str | None = None, **level_pj):
    """Preset ``name`` (validated again) with ``compute.number`` and per-level energies
    ``level_pj = {level: (read, write)}``."""
    d = load_arch(name).model_dump()
    d["name"] = f"{name}-pricing-test"
    if number is not None:
        d["compute"]["number"] = number
    for m in d["memory"]:
        if m["name"] in level_pj:
            m["energy_pj_per_bit_read"], m["energy_pj_per_bit_write"] = level_pj[m["name"]]
    return load_arch(d)


def conv(H=8, C=4, K=8, R=3) -> GConv:
    P = H - R + 1
    return GConv(name="c", N=1, G=1, K=K, C=C, H=H, W=H, P=P, Q=P, R=R, S=R, input="x",
                 output="y", operand="w", operand_kind="weight")


def maxpool(G=4, H=8, R=2) -> GConv:
    P = (H - R) // R + 1
    return GConv(name="mp", N=1, G=G, K=1, C=1, H=H, W=H, P=P, Q=P, R=R, S=R, input="x",
                 output="y", map_op="pass", reduce_op="max", stride=(R, R))


def conv_layer(g: GConv, seed=0) -> LayerWorkload:
    gen = torch.Generator().manual_seed(seed)
    x = torch.rand(g.N, g.G * g.C, g.H, g.W, generator=gen)
    w = torch.randn(g.G * g.K, g.C, g.R, g.S, generator=gen)
    y = run_gconv(g, x, {"w": w})
    return LayerWorkload(gconv=g, network="t", input=x, operand=w, output=y, params={"w": w})


# -- Pricing -----------------------------------------------------------------------------------
def test_a_normalized_table_is_refused_with_a_clear_error():
    spec = load_arch("ideal").model_copy(update={"energy_table": "eyeriss-normalized"})
    with pytest.raises(NormalizedTableError, match="'eyeriss-normalized' is normalized"):
        Pricing.of(spec)
    assert issubclass(NormalizedTableError, EnergyTableError)
    assert issubclass(NormalizedTableError, AccelscopeError)


@pytest.mark.parametrize("model, preset", [("ideal", "ideal"), ("systolic", "gemmini"),
                                           ("spots", "spots"), ("scnn", "scnn")])
def test_every_pricing_model_turns_it_into_its_located_error(model, preset):
    spec = load_arch(preset).model_copy(update={"energy_table": "eyeriss-normalized"})
    layer = conv_layer(conv())
    with pytest.raises(UnsupportedLayerError, match=rf"'{model}'.*'c'.*normalized"):
        get_model(model).evaluate(layer, spec)


def test_operation_energy_integer():
    spec = load_arch("spots")  # 16-bit operands, 24-bit accumulator, horowitz-45nm
    t = get_table("horowitz-45nm")
    p = Pricing.of(spec)
    mac, how = p.op_pj(conv())
    assert mac == t.mac_pj(16, acc_bits=24) == t.entries["int_mult_16b"].value \
        + t.entries["int_add_24b"].value
    assert how == "mac_pj(16, fp=False, acc_bits=24)"
    assert p.op_pj(maxpool()) == (t.entries["int_add_24b"].value, "int_add_24b")
    assert p.mult_pj()[0] + p.add_pj()[0] == mac


def test_operation_energy_floating_point():
    spec = spec_with("spots", number="fp")
    t = get_table("horowitz-45nm")
    p = Pricing.of(spec)
    mac, how = p.op_pj(conv())
    # an fp MAC adds at the operand width (EnergyTable.mac_pj's convention)
    assert mac == t.entries["fp_mult_16b"].value + t.entries["fp_add_16b"].value
    assert "fp=True" in how
    assert p.op_pj(maxpool()) == (t.entries["fp_add_16b"].value, "fp_add_16b")
    assert p.mult_pj() == (t.entries["fp_mult_16b"].value, "fp_mult_16b")


def test_level_energy_given_per_direction_or_from_the_sram_model():
    spec = spec_with("spots", ofm_sram=(0.5, 2.0), weight_sram=(None, 3.0))
    p = Pricing.of(spec)
    levels = {m.name: m for m in spec.memory}
    assert p.level_pj_per_bit(levels["ofm_sram"], "read") == 0.5
    assert p.level_pj_per_bit(levels["ofm_sram"], "write") == 2.0
    model = get_table("horowitz-45nm").sram_pj_per_bit(524288, 128)
    assert p.level_pj_per_bit(levels["weight_sram"], "read") == model
    assert p.level_pj_per_bit(levels["weight_sram"], "write") == 3.0
    # the model's own sizing (e.g. one bank of one PE) is an explicit argument
    small = p.level_pj_per_bit(levels["ifm_sram"], "read", size_bytes=1024, word_bits=16,
                               scope="one bank")
    assert small == get_table("horowitz-45nm").sram_pj_per_bit(1024, 16)
    assert p.level_pj(levels["ofm_sram"], read_bits=10, write_bits=100) == 10 * 0.5 + 100 * 2.0
    prov = p.provenance
    assert prov["energy.table"] == "horowitz-45nm"
    assert prov["energy.ofm_sram"] == ("read: 0.5 pJ/bit (spec: ofm_sram.energy_pj_per_bit_read);"
                                       " write: 2 pJ/bit (spec: ofm_sram.energy_pj_per_bit_write)")
    assert prov["energy.weight_sram"].startswith("read: SRAM model:")
    assert prov["energy.ifm_sram"] == (f"SRAM model: {small:.4g} pJ/bit for 1024 B x 16-bit "
                                       "(one bank)")
    with pytest.raises(ValueError, match="direction"):
        p.level_pj_per_bit(levels["ofm_sram"], "readwrite")  # type: ignore[arg-type]


def test_dram_energy_given_or_from_the_table():
    spec = load_arch("spots")
    p = Pricing.of(spec)
    assert p.dram_pj_per_bit() == get_table("horowitz-45nm").dram_pj_per_bit
    assert "from horowitz-45nm" in p.provenance["energy.dram"]
    given = spec.model_copy(update={"dram": spec.dram.model_copy(
        update={"energy_pj_per_bit": 7.5})})
    q = Pricing.of(given)
    assert q.dram_pj_per_bit() == 7.5
    assert "spec: dram.energy_pj_per_bit" in q.provenance["energy.dram"]
    # nothing asked, nothing recorded beyond the table
    assert "energy.dram" not in Pricing.of(spec).provenance


# -- DRAM accesses -----------------------------------------------------------------------------
def test_dram_accesses_round_words_and_bits_up():
    acc = dram_accesses({"input": 130, "weight": 0}, {"output": 64.2}, word_bits=64)
    assert acc == [Access("dram", "input", reads=3, read_bits=130),
                   Access("dram", "weight"),
                   Access("dram", "output", writes=2, write_bits=65)]
    both = dram_accesses({"output": 10}, {"output": 70}, word_bits=64)
    assert both == [Access("dram", "output", reads=1, writes=2, read_bits=10, write_bits=70)]
    with pytest.raises(ValueError):
        dram_accesses({}, {}, word_bits=0)


def _result() -> LayerResult:
    return LayerResult(
        layer="l", kind="conv", model="m", arch="a", clock_hz=1.0, peak_macs_per_cycle=1,
        cycles=1, macs=1, macs_issued=1, macs_useful=1,
        accesses=(Access("sram", "input", reads=10, read_bits=640),
                  Access("dram", "input", reads=10, read_bits=640),
                  Access("dram", "weight", reads=5, read_bits=320),
                  Access("dram", "output", writes=4, write_bits=100)),
        energy_pj={"dram": 1060.0, "sram": 64.0})


def test_rescale_dram_removes_scales_and_prorates():
    r = _result()
    # factor 0 removes the access (maps kept on chip); other tensors and levels untouched
    gone = rescale_dram(r, {"output": 0.0})
    assert [(a.level, a.tensor) for a in gone.accesses] == [
        ("sram", "input"), ("dram", "input"), ("dram", "weight")]
    assert gone.energy_pj["dram"] == pytest.approx(960.0) and gone.energy_pj["sram"] == 64.0
    assert r.level_bits("dram") - gone.level_bits("dram") == 100
    # coded sizes (a codec): bits rounded up, words recomputed at the DRAM word
    coded = rescale_dram(r, {"input": 0.3, "output": 0.333}, word_bits=64)
    a_in = next(a for a in coded.accesses if a.level == "dram" and a.tensor == "input")
    a_out = next(a for a in coded.accesses if a.tensor == "output")
    assert (a_in.read_bits, a_in.reads) == (192, 3)
    assert (a_out.write_bits, a_out.writes) == (34, 1)
    assert coded.energy_pj["dram"] == pytest.approx(1060.0 * (192 + 320 + 34) / 1060)
    # a fraction removed (fusion): nearest rounding, the access's own words scaled
    half = rescale_dram(r, {"input": 1 - 0.45}, rounding="round")
    a_in = next(a for a in half.accesses if a.level == "dram" and a.tensor == "input")
    assert (a_in.read_bits, a_in.reads) == (352, 6)
    # the sram access of the same tensor is not DRAM: untouched
    assert half.accesses[0] == r.accesses[0]
    with pytest.raises(ValueError, match="rounding"):
        rescale_dram(r, {}, rounding="floor")  # type: ignore[arg-type]


# -- the fixed drift, on specs that show it (old code failed these) ----------------------------
def test_spots_vector_unit_prices_floating_point_ops_on_an_fp_spec():
    spec = spec_with("spots", number="fp")
    assert spec.spots.nonconv_on == "vector"
    g = maxpool()
    layer = LayerWorkload(gconv=g, network="t", input=torch.rand(1, 4, 8, 8))
    r = get_model("spots").evaluate(layer, spec)
    assert r.details["unit"] == "vector"
    fp_add = get_table("horowitz-45nm").entries["fp_add_16b"].value
    assert r.energy_pj["compute"] == pytest.approx(g.macs * fp_add)  # was int_add_24b
    assert "fp_add_16b" in r.provenance["energy.op"]


def test_spots_and_systolic_vector_units_agree_on_the_operation():
    g = maxpool()
    layer = LayerWorkload(gconv=g, network="t", input=torch.rand(1, 4, 8, 8))
    for number in ("int", "fp"):
        spots = get_model("spots").evaluate(layer, spec_with("spots", number=number))
        d = load_arch("gemmini").model_dump()  # the systolic engine, horowitz-45nm
        d["compute"].update(operand_bits=16, accumulator_bits=24, number=number)
        d["systolic"]["nonconv_on"] = "vector"
        syst = get_model("systolic").evaluate(layer, load_arch(d))
        assert syst.details["unit"] == "vector"
        assert spots.energy_pj["compute"] == syst.energy_pj["compute"]


def test_spots_prices_sram_writes_at_the_write_energy():
    spec = spec_with("spots", ofm_sram=(0.5, 2.0), ifm_sram=(0.25, 4.0))
    g = conv()
    r = get_model("spots").evaluate(conv_layer(g), spec)
    out = next(a for a in r.accesses if a.level == "ofm_sram")
    assert out.read_bits == 0 and out.write_bits == g.output_elems * 16
    assert r.energy_pj["ofm_sram"] == pytest.approx(out.write_bits * 2.0)  # was x 0.5
    ifm = next(a for a in r.accesses if a.level == "ifm_sram")
    assert r.energy_pj["ifm_sram"] == pytest.approx(ifm.read_bits * 0.25 + ifm.write_bits * 4.0)
    # the vector unit too: its output is written
    p = maxpool()
    v = get_model("spots").evaluate(
        LayerWorkload(gconv=p, network="t", input=torch.rand(1, 4, 8, 8)), spec)
    assert v.energy_pj["ofm_sram"] == pytest.approx(p.output_elems * 16 * 2.0)


def test_scnn_prices_writes_at_the_write_energy_per_level():
    spec = spec_with("scnn", iaram=(0.5, 1.5), oaram=(0.25, 3.0), accumulator=(0.1, 0.7),
                     weight_fifo=(0.2, 0.9))
    r = get_model("scnn").evaluate(conv_layer(conv(H=12, C=8, K=16)), spec)
    by = {(a.level, a.tensor): a for a in r.accesses}
    oa = by[("oaram", "output")]
    assert oa.write_bits > 0
    assert r.energy_pj["oaram"] == pytest.approx(oa.write_bits * 3.0)  # was x 0.25
    ia = by[("iaram", "input")]
    assert r.energy_pj["iaram"] == pytest.approx(ia.read_bits * 0.5 + ia.write_bits * 1.5)
    fifo = by[("weight_fifo", "weight")]
    assert r.energy_pj["weight_fifo"] == pytest.approx(fifo.read_bits * 0.2
                                                       + fifo.write_bits * 0.9)
    acc = by[("accumulator", "output")]
    assert r.energy_pj["accumulator"] == pytest.approx(acc.read_bits * 0.1
                                                       + acc.write_bits * 0.7)


def test_scnn_prices_floating_point_multiplies_and_adds_on_an_fp_spec():
    spec = spec_with("scnn", number="fp")
    g = conv(H=12, C=8, K=16)
    r = get_model("scnn").evaluate(conv_layer(g), spec)
    t = get_table("derived-16nm")
    mult, add = t.entries["fp_mult_16b"].value, t.entries["fp_add_16b"].value
    assert r.energy_pj["multiplier"] == pytest.approx((r.macs_issued - r.macs_gated) * mult)
    assert r.energy_pj["adder"] / add == pytest.approx(round(r.energy_pj["adder"] / add))
    assert "fp_mult_16b" in r.provenance["energy.ops"]


def test_models_record_where_dram_and_level_energies_came_from():
    layer = conv_layer(conv())
    for model, preset in (("ideal", "ideal"), ("systolic", "gemmini"), ("spots", "spots"),
                          ("scnn", "scnn")):
        r = get_model(model).evaluate(layer, load_arch(preset))
        assert "pJ/bit from" in r.provenance["energy.dram"], model
        levels = {a.level for a in r.accesses if a.level != "dram"}
        for level in levels:
            assert "SRAM model" in r.provenance[f"energy.{level}"], (model, level)
        assert math.isfinite(r.total_energy_pj)
