"""Energy tables, node scaling and the SRAM model."""

from __future__ import annotations

import dataclasses
import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from accelscope.energy import (
    NORMALIZED,
    PJ,
    SRAM_FIT,
    SRAM_FIT_MAX_REL_ERROR,
    SRAM_FIT_POINTS,
    EnergyTable,
    EnergyTableError,
    SramModelError,
    describe_tables,
    fit_sram_model,
    get_table,
    node_energy_factor,
    provenance,
    scale_table,
    sram_access_pj,
    table_names,
)
from accelscope.errors import AccelscopeError

LOGIC = (
    "int_add_8b",
    "int_add_32b",
    "int_mult_8b",
    "int_mult_32b",
    "fp_add_16b",
    "fp_mult_32b",
    "sram_8kb_64b",
    "sram_1mb_64b",
)
NODES = {"derived-16nm": 16, "derived-28nm": 28, "horowitz-45nm": 45, "derived-65nm": 65}


def test_builtin_names():
    assert set(table_names()) == {
        "horowitz-45nm",
        "eyeriss-normalized",
        "eyeriss-65nm",
        "derived-65nm",
        "derived-28nm",
        "derived-16nm",
    }
    for name, nm in NODES.items():
        assert get_table(name).node_nm == nm


@pytest.mark.parametrize(
    ("action", "pj"),
    [
        ("int_add_8b", 0.03),
        ("int_add_32b", 0.1),
        ("int_mult_8b", 0.2),
        ("int_mult_32b", 3.1),
        ("fp_add_16b", 0.4),
        ("fp_mult_16b", 1.1),
        ("fp_add_32b", 0.9),
        ("fp_mult_32b", 3.7),
        ("sram_8kb_64b", 10.0),
        ("sram_32kb_64b", 20.0),
        ("sram_1mb_64b", 100.0),
        ("dram_64b", 1300.0),
        ("dram_64b_high", 2600.0),
    ],
)
def test_horowitz_published_values(action, pj):
    e = get_table("horowitz-45nm").lookup(action)
    assert e.value == pytest.approx(pj)
    assert e.unit == PJ and "Horowitz" in e.citation and not e.derived


def test_horowitz_interpolated_16b_is_marked_derived():
    t = get_table("horowitz-45nm")
    for action, lo, hi in (("int_add_16b", 0.03, 0.1), ("int_mult_16b", 0.2, 3.1)):
        e = t.lookup(action)
        assert e.derived and "interpolation" in e.note
        assert e.value == pytest.approx(math.sqrt(lo * hi))
        assert lo < e.value < hi


def test_every_entry_has_a_citation():
    for name in table_names():
        t = get_table(name)
        assert t.source
        for e in t.entries.values():
            assert e.citation and e.unit == t.unit


def test_unknown_table_lists_available():
    with pytest.raises(EnergyTableError, match=r"available tables: .*horowitz-45nm") as info:
        get_table("horowitz-7nm")
    assert isinstance(info.value, AccelscopeError)


def test_unknown_action_lists_actions():
    with pytest.raises(EnergyTableError, match=r"no action 'int_div_32b'.*int_add_8b"):
        get_table("horowitz-45nm").lookup("int_div_32b")


def test_eyeriss_normalized_ratios_exact():
    t = get_table("eyeriss-normalized")
    assert t.unit == NORMALIZED
    got = [t.lookup(a).value for a in ("mac_16b", "rf_16b", "array_16b", "glb_16b", "dram_16b")]
    assert got == [1.0, 1.0, 2.0, 6.0, 200.0]
    assert t.mac_pj(16) == 1.0 and t.mac_pj(8, fp=True) == 1.0


def test_eyeriss_65nm_keeps_ratios_and_anchor():
    norm, absolute = get_table("eyeriss-normalized"), get_table("eyeriss-65nm")
    mac = absolute.lookup("mac_16b").value
    h = get_table("horowitz-45nm")
    anchor = (h.lookup("int_mult_16b").value + h.lookup("int_add_16b").value) * node_energy_factor(
        45, 65
    )
    assert mac == pytest.approx(anchor)
    for action, e in norm.entries.items():
        assert absolute.lookup(action).value == pytest.approx(e.value * mac)
        assert absolute.lookup(action).derived
    assert absolute.mac_pj(16) == pytest.approx(mac)
    assert absolute.dram_pj_per_bit == pytest.approx(200 * mac / 16)
    assert "anchor" in absolute.derived_from


def test_normalized_table_refuses_absolute_queries():
    t = get_table("eyeriss-normalized")
    with pytest.raises(EnergyTableError, match="normalized"):
        _ = t.dram_pj_per_bit
    with pytest.raises(EnergyTableError, match="normalized"):
        t.sram_pj_per_bit(1024, 16)
    with pytest.raises(EnergyTableError, match="normalized"):
        scale_table(t, 16)


def test_mac_convention():
    t = get_table("horowitz-45nm")
    v = {a: t.lookup(a).value for a in t.actions()}
    assert t.mac_pj(8) == pytest.approx(v["int_mult_8b"] + v["int_add_16b"])
    assert t.mac_pj(16) == pytest.approx(v["int_mult_16b"] + v["int_add_32b"])
    assert t.mac_pj(32) == pytest.approx(v["int_mult_32b"] + v["int_add_32b"])
    assert t.mac_pj(8, acc_bits=32) == pytest.approx(v["int_mult_8b"] + v["int_add_32b"])
    assert t.mac_pj(16, fp=True) == pytest.approx(1.5)
    assert t.mac_pj(16, fp=True, acc_bits=32) == pytest.approx(1.1 + 0.9)
    assert t.mac_pj(32, fp=True) == pytest.approx(4.6)
    with pytest.raises(EnergyTableError, match=r"int_mult_4b.*int 8, 16, 24, 32"):
        t.mac_pj(4)
    with pytest.raises(EnergyTableError, match="fp_mult_8b"):
        t.mac_pj(8, fp=True)


def test_dram_per_bit_and_not_scaled():
    base = get_table("horowitz-45nm").dram_pj_per_bit
    assert base == pytest.approx(1300 / 64)
    for name in NODES:
        t = get_table(name)
        assert t.dram_pj_per_bit == pytest.approx(base)
        assert t.lookup("dram_64b_high").value == 2600.0
    assert "not scaled" in get_table("derived-16nm").lookup("dram_64b").note


def test_logic_scaling_monotone_in_node():
    for action in LOGIC:
        values = [get_table(n).lookup(action).value for n in NODES]  # 16, 28, 45, 65 nm
        assert values == sorted(values) and len(set(values)) == 4, action


def test_scaling_factors_and_roundtrip():
    assert node_energy_factor(45, 45) == 1.0
    assert node_energy_factor(45, 16) == pytest.approx((16 / 45) * (0.8 / 0.9) ** 2)
    t = get_table("horowitz-45nm")
    back = scale_table(scale_table(t, 16), 45)
    for action, e in t.entries.items():
        assert back.lookup(action).value == pytest.approx(e.value)
    assert scale_table(t, 28).lookup("int_add_8b").value == pytest.approx(
        get_table("derived-28nm").lookup("int_add_8b").value
    )
    assert "Vdd" in get_table("derived-28nm").derived_from
    with pytest.raises(EnergyTableError, match="supported nodes: 16, 28, 45, 65"):
        scale_table(t, 7)


def test_tables_are_frozen():
    t = get_table("horowitz-45nm")
    with pytest.raises(dataclasses.FrozenInstanceError):
        t.node_nm = 7  # type: ignore[misc]
    with pytest.raises(TypeError):
        t.entries["int_add_8b"] = t.entries["int_add_32b"]  # type: ignore[index]
    hash(t)


def test_mixed_units_rejected():
    e = get_table("eyeriss-normalized").lookup("mac_16b")
    with pytest.raises(EnergyTableError, match="unit"):
        EnergyTable("bad", 45, PJ, "x", {"mac_16b": e})


def test_sram_refit_reproduces_stored_coefficients():
    fit = fit_sram_model(SRAM_FIT_POINTS)
    assert fit.a_pj_per_bit == pytest.approx(SRAM_FIT.a_pj_per_bit, rel=1e-9)
    assert fit.b_exponent == pytest.approx(SRAM_FIT.b_exponent, rel=1e-9)


def test_sram_within_documented_error_of_fit_points():
    for p in SRAM_FIT_POINTS:
        got = sram_access_pj(p.capacity_bytes, p.width_bits, 45)
        assert abs(got / p.energy_pj - 1) <= SRAM_FIT_MAX_REL_ERROR, p
        assert p.citation
    assert max(abs(e) for e in SRAM_FIT.relative_errors(SRAM_FIT_POINTS)) > 0.05


def test_sram_bad_input():
    with pytest.raises(SramModelError, match="positive"):
        sram_access_pj(0, 64)
    with pytest.raises(SramModelError, match="two or more capacities"):
        fit_sram_model(SRAM_FIT_POINTS[:1])


def test_table_sram_per_bit_uses_its_node():
    h, d16 = get_table("horowitz-45nm"), get_table("derived-16nm")
    assert h.sram_pj_per_bit(8192, 64) == pytest.approx(sram_access_pj(8192, 64) / 64)
    assert d16.sram_pj_per_bit(8192, 64) == pytest.approx(
        h.sram_pj_per_bit(8192, 64) * node_energy_factor(45, 16)
    )


capacities = st.floats(min_value=16, max_value=64 * 2**20)
widths = st.integers(min_value=1, max_value=1024)


@given(capacities, capacities, widths)
def test_sram_monotone_in_capacity(c1, c2, w):
    lo, hi = sorted((c1, c2))
    assert sram_access_pj(lo, w) <= sram_access_pj(hi, w)


@given(capacities, widths, widths, st.sampled_from([16, 28, 45, 65]))
def test_sram_monotone_in_width(c, w1, w2, nm):
    lo, hi = sorted((w1, w2))
    assert sram_access_pj(c, lo, nm) <= sram_access_pj(c, hi, nm)


@given(capacities, widths)
def test_sram_monotone_in_node(c, w):
    values = [sram_access_pj(c, w, nm) for nm in (16, 28, 45, 65)]
    assert values == sorted(values)


def test_describe_and_provenance():
    rows = describe_tables()
    assert [r["name"] for r in rows] == list(table_names())
    for r in rows:
        assert set(r) >= {"name", "node", "unit", "source"}
    prov = provenance(get_table("derived-16nm"))
    assert prov["energy.table"] == "derived-16nm"
    assert prov["energy.node_nm"] == "16"
    assert "Horowitz" in prov["energy.source"]
    assert "not scaled" in prov["energy.derived_from"]
    assert all(isinstance(v, str) and v for v in prov.values())
    assert provenance(get_table("horowitz-45nm"))["energy.derived_from"].startswith("published")
