"""The area model (energy/area.py), every model's registered area, the area validate targets,
and the area every preset's result carries (docs/area.md)."""

from __future__ import annotations

import contextlib
import itertools
import json
import math
import pickle

import pytest

import accelscope
from accelscope.arch import load_arch
from accelscope.arch.loader import preset_names
from accelscope.energy import area as A
from accelscope.energy.area import AreaModel, AreaModelError, AreaReport, node_area_factor
from accelscope.models.registry import get_model, model_names

MEASURED = ("cpu", "gpu")
SIZES = [0.5, 1, 2, 3, 4, 6, 8, 12, 16, 24, 32, 48, 64, 96, 128, 200, 256, 448, 512, 700,
         1024, 1500, 2048, 3000, 4096, 10240, 65536, 1 << 20]


# -- building blocks ------------------------------------------------------------------------------
def test_storage_grows_with_capacity():
    am = AreaModel(65)
    areas = [am.storage_um2(s) for s in SIZES]
    assert all(b > a for a, b in itertools.pairwise(areas))
    assert am.storage_um2(0) == 0


def test_storage_at_the_framework_points_is_the_published_value():
    for size, per in A.STORAGE_65NM_UM2_PER_BYTE:
        assert A.storage_65nm_um2(size) == pytest.approx(size * per)
        assert A.isca16_storage_um2(size) == pytest.approx(size * per)
    assert A.storage_65nm_um2(1 << 20) == pytest.approx(12.70 * (1 << 20))
    # the framework's own linear rule is not monotone between 16 and 32 B; ours is
    assert A.isca16_storage_um2(24) > A.isca16_storage_um2(32)
    assert A.storage_65nm_um2(24) < A.storage_65nm_um2(32)


def test_sram_area_grows_with_banks_and_ports():
    am = AreaModel(45)
    for cap in (512, 4096, 65536, 524288):
        by_banks = [am.sram_um2(cap, banks=b) for b in (1, 2, 4, 8, 16, 64)]
        assert all(b >= a for a, b in itertools.pairwise(by_banks))
        by_ports = [am.sram_um2(cap, ports=p) for p in (1, 2, 3, 4)]
        assert all(b > a for a, b in itertools.pairwise(by_ports))
        assert by_ports[1] == pytest.approx(4 * by_ports[0])  # ports^2
    # small banks cost more per byte: strictly more area
    assert am.sram_um2(4096, banks=64) > am.sram_um2(4096, banks=1)
    with pytest.raises(AreaModelError):
        am.sram_um2(1024, banks=0)
    with pytest.raises(AreaModelError):
        am.sram_um2(1024, ports=0)


@pytest.mark.parametrize("number", ["int", "fp"])
def test_logic_grows_with_width(number):
    am = AreaModel(45)
    widths = [4, 8, 12, 16, 24, 32, 48]
    for fn in (am.multiplier_um2, am.adder_um2):
        areas = [fn(w, number) for w in widths]
        assert all(b > a for a, b in itertools.pairwise(areas))
    macs = [am.mac_um2(w, 2 * w, number) for w in widths]
    assert all(b > a for a, b in itertools.pairwise(macs))


def test_logic_at_published_widths_is_horowitz():
    am = AreaModel(45)
    for (number, op, bits), um2 in A.LOGIC_45NM_UM2.items():
        fn = am.multiplier_um2 if op == "mult" else am.adder_um2
        assert fn(bits, number) == um2  # type: ignore[arg-type]
    # 16 bits: the geometric mean of 8 and 32 (power law through them)
    assert am.multiplier_um2(16) == pytest.approx(math.sqrt(282 * 3495))


def test_node_scaling():
    assert node_area_factor(45, 45) == 1
    assert node_area_factor(65, 16) == pytest.approx((16 / 65) ** 2)
    assert node_area_factor(16, 65) * node_area_factor(65, 16) == pytest.approx(1)
    a45, a16, a65 = AreaModel(45), AreaModel(16), AreaModel(65)
    assert a16.multiplier_um2(16) == pytest.approx(a45.multiplier_um2(16) * (16 / 45) ** 2)
    assert a16.storage_um2(4096) == pytest.approx(a65.storage_um2(4096) * (16 / 65) ** 2)
    assert a16.crossbar_um2(16, 32, 24) == pytest.approx(0.026e6)  # SCNN's, at its node
    assert a45.crossbar_um2(16, 32, 24) == pytest.approx(0.026e6 * (45 / 16) ** 2)
    assert a45.crossbar_um2(16, 32, 12) == pytest.approx(a45.crossbar_um2(16, 32, 24) / 2)
    for bad in (0, -16):
        with pytest.raises(AreaModelError):
            AreaModel(bad)


def test_model_records_what_it_used():
    am = AreaModel(28)
    am.mac_um2(16, 24)
    am.sram_um2(8192, banks=2, ports=2)
    prov = am.provenance
    for key in ("area.int_mult_16b", "area.int_add_24b", "area.storage", "area.ports",
                "area.node_scaling"):
        assert key in prov, key
    assert "Horowitz" in prov["area.int_mult_16b"] and "interpolation" in prov["area.int_add_24b"]
    assert "get_storage_area_from_size" in prov["area.storage"]
    am2 = AreaModel(45)
    am2.multiplier_um2(64)
    assert "EXTRAPOLATION" in am2.provenance["area.int_mult_64b"]


def test_report_is_a_mapping_that_pickles():
    am = AreaModel(45)
    r = am.report({"a": 1e6, "b.c": 2.5e6}, method="test")
    assert dict(r) == {"a": 1.0, "b.c": 2.5, "total": 3.5}
    assert r["total"] == r.total_mm2 == 3.5 and len(r) == 3
    assert r.get("chip", r.get("total")) == 3.5  # what the sweep engine reads
    assert r.details() == {"a": 1.0, "b.c": 2.5, "total": 3.5}
    assert r.provenance["area"] == "test"
    back = pickle.loads(pickle.dumps(r))
    assert dict(back) == dict(r) and back.provenance == r.provenance and back.node_nm == 45
    for bad in ({"total": 1.0}, {"x": -1.0}, {"x": math.nan}):
        with pytest.raises(AreaModelError):
            AreaReport(bad, node_nm=45, method="", provenance={})


# -- every model -----------------------------------------------------------------------------
def _presets_with_area():
    out = []
    for p in preset_names():
        spec = load_arch(p)
        if get_model(spec.model).area is not None:
            out.append(p)
    return out


def test_every_model_registers_area_or_says_why():
    for name in model_names():
        info = get_model(name)
        assert (info.area is None) == bool(info.no_area), name
    assert get_model("host").area is None and "measured" in get_model("host").no_area
    assert {p for p in preset_names() if p not in _presets_with_area()} == set(MEASURED)


@pytest.mark.parametrize("preset", _presets_with_area())
def test_components_sum_to_the_total(preset):
    spec = load_arch(preset)
    info = get_model(spec.model)
    assert info.area is not None
    r = info.area(spec)
    assert isinstance(r, AreaReport) and r.node_nm == spec.technology_nm
    assert r.components and all(v >= 0 for v in r.components.values())
    assert r.total_mm2 == pytest.approx(math.fsum(r.components.values()))
    assert 0 < r.total_mm2 < 100, "an accelerator core of a few mm2"
    prov = r.provenance
    assert (prov["area"] == r.method and "not modelled" in r.method) or "not a chip" in r.method
    assert "area.node_scaling" in prov
    assert any(k.startswith("area.") and k != "area.node_scaling" for k in prov)
    for text in prov.values():
        assert text.strip()
    json.dumps(r.details())


def test_area_moves_with_the_spec():
    from accelscope.arch.override import override

    spec = load_arch("ideal")
    area = get_model("ideal").area
    assert area is not None
    base = area(spec).total_mm2
    bigger = override(spec, {"memory[0].size_bytes": 2 * 524288})
    assert area(bigger).total_mm2 > base
    node = override(spec, {"technology_nm": 28})
    assert area(node).total_mm2 == pytest.approx(base * (28 / 45) ** 2)
    wider = override(spec, {"compute.array": [64, 32], "compute.macs_per_cycle": 2048})
    assert area(wider)["mac_array"] == pytest.approx(2 * area(spec)["mac_array"])


def test_scnn_keeps_its_table4_numbers():
    from accelscope.models.scnn.spec import area_mm2

    spec = load_arch("scnn")
    legacy = area_mm2(spec)  # type: ignore[arg-type]
    assert legacy["pe"] == pytest.approx(0.122906, abs=1e-6)
    assert legacy["chip"] == pytest.approx(7.866, abs=1e-3)
    assert legacy["pe.scatter_crossbar"] == pytest.approx(0.026)
    assert legacy["pe.multipliers"] == pytest.approx(0.008)
    assert sum(v for k, v in legacy.items() if k.startswith("pe.")) == pytest.approx(
        legacy["pe"])
    r = get_model("scnn").area(spec)  # type: ignore[misc]
    assert r.total_mm2 == pytest.approx(legacy["chip"])
    assert "area.scnn.multiplier_16b" in r.provenance


def test_eyeriss_dataflows_use_the_shared_table():
    from accelscope.models.eyeriss import dataflows as edf

    assert edf.AREA_PER_BYTE_UM2 is A.STORAGE_65NM_UM2_PER_BYTE
    assert edf.storage_area_um2(98) == A.isca16_storage_um2(98)


# -- validate --------------------------------------------------------------------------------
def test_area_targets():
    from accelscope.validate import run, targets

    names = [t.name for t in targets("eyeriss.area")] + [t.name for t in
                                                         targets("scnn.area.generic")]
    assert "eyeriss.area.core_mm2" in names and "scnn.area.generic_pe_parts_mm2" in names
    results = run("eyeriss.area") + run("scnn.area")
    for r in results:
        assert r.error is None and r.ours is not None and math.isfinite(r.ours), r.target.name
        if r.target.level == "must_hold":
            assert r.passed, (r.target.name, r.ours, r.target.published)
        assert r.target.source and r.target.note


# -- results --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def tiny():
    return accelscope.prepare("tiny")


@pytest.mark.parametrize("preset", [p for p in preset_names() if p != "gpu"])
def test_every_preset_result_carries_area(preset, tiny):
    from accelscope.models.contract import UnsupportedLayerError

    spec = load_arch(preset)
    info = get_model(spec.model)
    try:
        layers = accelscope.evaluate(tiny, preset).layers
    except UnsupportedLayerError:  # the ISCA 2016 dataflows run conv / FC layers only
        layers = []
        for w in tiny.workloads:
            with contextlib.suppress(UnsupportedLayerError):
                layers.append(info.evaluate(w, spec))
    assert layers
    for layer in layers:
        if info.area is None:
            assert layer.provenance["area"].startswith("not modelled: ")
            assert "area_mm2" not in layer.details
            continue
        got = layer.details["area_mm2"]
        want = info.area(spec)
        assert got == pytest.approx(want.details())
        assert got["total"] == pytest.approx(math.fsum(v for k, v in got.items()
                                                       if k != "total"))
        assert layer.provenance["area"] == want.method
        assert "area.node_scaling" in layer.provenance
        back = accelscope.LayerResult.from_dict(json.loads(json.dumps(layer.to_dict())))
        assert back.details.get("area_mm2") == layer.details.get("area_mm2")
