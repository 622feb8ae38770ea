"""LayerResult / NetworkResult: totals, immutability, JSON and CSV round trips."""

from __future__ import annotations

import dataclasses

import pytest

from accelscope.results import Access, LayerResult, NetworkResult, ResultFormatError


def _layer(name: str, cycles: int, scale: float = 1.0) -> LayerResult:
    return LayerResult(
        layer=name, kind="conv", model="m", arch="a", clock_hz=1e9, peak_macs_per_cycle=16,
        cycles=cycles, macs=1000, macs_issued=900, macs_useful=600, macs_skipped=100,
        macs_gated=50,
        accesses=(Access("dram", "input", reads=10, read_bits=160),
                  Access("dram", "output", writes=5, write_bits=80),
                  Access("glb", "weight", reads=7, writes=3, read_bits=112, write_bits=48)),
        energy_pj={"compute": 10.0 * scale, "dram": 99.5 * scale},
        stall_cycles={"dram_bandwidth": cycles // 4},
        details={"bound_by": "dram", "tile": [1, 2]},
        provenance={"energy.table": "horowitz-45nm"}, warnings=("an estimate",))


@pytest.fixture
def net() -> NetworkResult:
    return NetworkResult("tiny", "m", "a", 1e9, (_layer("c1", 100), _layer("c2", 300, 2.0)),
                         provenance={"arch": "a (test)"}, details={"mode": "actual"})


def test_totals_sum_over_layers(net):
    assert net.cycles == 400
    assert net.seconds == pytest.approx(400e-9)
    assert net.macs_issued == 1800 and net.macs_useful == 1200 and net.macs_gated == 100
    assert net.energy_pj == {"compute": 30.0, "dram": 298.5}
    assert net.total_energy_pj == pytest.approx(328.5)
    assert net.stall_cycles == {"dram_bandwidth": 100}
    assert net.level_bits("dram") == 2 * 240
    assert net.access_totals()[("glb", "weight")].reads == 14
    assert net.utilization == pytest.approx(1800 / (400 * 16))
    assert net.layers[0].utilization == pytest.approx(900 / (100 * 16))


def test_results_are_frozen(net):
    with pytest.raises(dataclasses.FrozenInstanceError):
        net.layers[0].cycles = 5
    with pytest.raises(TypeError):
        net.layers[0].energy_pj["compute"] = 0.0


def test_json_round_trip(net):
    again = NetworkResult.from_json(net.to_json())
    assert again.to_dict() == net.to_dict()


def test_csv_round_trip(net):
    again = NetworkResult.from_csv(net.to_csv(), provenance=net.provenance)
    assert [r.to_dict() for r in again.layers] == [r.to_dict() for r in net.layers]


def test_dataframe_has_one_flat_row_per_layer(net):
    df = net.to_dataframe()
    assert list(df["layer"]) == ["c1", "c2"]
    assert df["energy_pj.dram"].tolist() == [99.5, 199.0]
    assert df["access.glb.weight.write_bits"].tolist() == [48, 48]


def test_bad_files_give_clear_errors():
    with pytest.raises(ResultFormatError, match="not a results JSON"):
        NetworkResult.from_json("{not json")
    with pytest.raises(ResultFormatError, match="missing the field"):
        NetworkResult.from_json('{"network": "x"}')
    with pytest.raises(ResultFormatError, match="not an accelscope results CSV"):
        NetworkResult.from_csv("a,b\n1,2\n")
    with pytest.raises(ResultFormatError, match="unknown fields"):
        LayerResult.from_dict({"layer": "x", "bogus": 1})
